//! Release history: what the release managers recorded about the changes they made. Helm's own
//! revisions (`helm/releases.json`, [`ClusterModel::helm_releases`]), the status history and
//! conditions of Flux `HelmRelease`s (`helm.toolkit.fluxcd.io`), and the sync history,
//! operation state and error conditions of Argo CD `Application`s (`argoproj.io`), each as a
//! dated step about one object. The incident timeline shows them; the bad-rollout root cause
//! and the diff ask for the Helm release of a workload.

use jiff::Timestamp;
use kubesnap_shared::helm::HelmRelease;
use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object, ObjectRef};

/// How long a description or message may be in a step.
const MESSAGE_CHARS: usize = 200;

/// One dated step of a release's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReleaseStep {
    pub(crate) at: Timestamp,
    /// The Helm release record (its Secret or ConfigMap), the `HelmRelease` or the
    /// `Application`.
    pub(crate) object: ObjectRef,
    pub(crate) text: String,
    /// A failed, stuck or erroring step rather than routine.
    pub(crate) failed: bool,
}

/// Every step of every release the bundle records, in no particular order.
pub(crate) fn history(model: &ClusterModel) -> Vec<ReleaseStep> {
    let mut steps = Vec::new();
    for release in model.helm_releases.iter().flatten() {
        let Some(at) = deployed_at(release) else { continue };
        steps.push(ReleaseStep {
            at,
            object: record(release),
            text: helm_text(release),
            failed: release.is_failed_or_stuck(),
        });
    }
    for release in model.of_kind("HelmRelease").filter(|o| group(o) == "helm.toolkit.fluxcd.io") {
        flux(release, &mut steps);
    }
    for application in model.of_kind("Application").filter(|o| group(o) == "argoproj.io") {
        argo(application, &mut steps);
    }
    steps
}

/// When a Helm revision was deployed (its last deployment), as a timestamp.
pub(crate) fn deployed_at(release: &HelmRelease) -> Option<Timestamp> {
    release.last_deployed.as_deref().or(release.first_deployed.as_deref())?.parse().ok()
}

/// The object that holds a Helm revision.
pub(crate) fn record(release: &HelmRelease) -> ObjectRef {
    let kind = match release.storage {
        kubesnap_shared::helm::HelmStorage::Secret => "Secret",
        kubesnap_shared::helm::HelmStorage::Configmap => "ConfigMap",
    };
    ObjectRef {
        kind: kind.to_owned(),
        namespace: Some(release.namespace.clone()),
        name: release.object.clone(),
    }
}

/// `chart shop 0.1.0, app 1.0.0`, or empty when the revision names no chart.
pub(crate) fn chart_phrase(release: &HelmRelease) -> String {
    let Some(chart) = &release.chart else { return String::new() };
    let mut text = format!("chart {chart}");
    if let Some(version) = &release.chart_version {
        text.push_str(&format!(" {version}"));
    }
    if let Some(app) = &release.app_version {
        text.push_str(&format!(", app {app}"));
    }
    text
}

/// `Helm release web/shop revision 3 (chart shop 0.1.0, app 1.0.0) failed: Upgrade "shop" failed: …`.
pub(crate) fn helm_text(release: &HelmRelease) -> String {
    let chart = chart_phrase(release);
    let chart = if chart.is_empty() { String::new() } else { format!(" ({chart})") };
    let mut text = format!(
        "Helm release {}/{} revision {}{chart} {}",
        release.namespace, release.name, release.revision, release.status
    );
    if let Some(description) = release.description.as_deref().filter(|d| !d.is_empty()) {
        text.push_str(&format!(": {}", clip(description)));
    }
    text
}

/// The Helm release that manages `object`, from the annotations Helm 3 and 4 put on every
/// object they create: `(namespace, name)`.
pub(crate) fn helm_release_of(object: &Object) -> Option<(String, String)> {
    let annotations = object.annotations();
    let name = annotations.get("meta.helm.sh/release-name")?.clone();
    let namespace =
        annotations.get("meta.helm.sh/release-namespace").cloned().or_else(|| object.namespace.clone())?;
    Some((namespace, name))
}

/// The revisions of one Helm release, oldest first.
pub(crate) fn helm_revisions<'m>(
    model: &'m ClusterModel,
    namespace: &str,
    name: &str,
) -> Vec<&'m HelmRelease> {
    model
        .helm_releases
        .iter()
        .flatten()
        .filter(|release| release.namespace == namespace && release.name == name)
        .collect()
}

fn group(object: &Object) -> &str {
    object.api_version.split_once('/').map_or("", |(group, _)| group)
}

fn text_of<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str).filter(|text| !text.is_empty())
}

fn time_of(value: &Value, key: &str) -> Option<Timestamp> {
    text_of(value, key)?.parse().ok()
}

fn clip(text: &str) -> String {
    let text = text.trim();
    let mut clipped: String = text.chars().take(MESSAGE_CHARS).collect();
    if text.chars().count() > MESSAGE_CHARS {
        clipped.push('…');
    }
    clipped
}

/// Flux `HelmRelease` (v2): each `status.history` snapshot at its last deployment, and the
/// conditions that say something went wrong (`Ready`, `Released`, `TestSuccess` False;
/// `Remediated`, `Stalled` True) at their transition.
fn flux(release: &Object, out: &mut Vec<ReleaseStep>) {
    let object = release.reference();
    for snapshot in release.array_at("/status/history") {
        let Some(at) = time_of(snapshot, "lastDeployed").or_else(|| time_of(snapshot, "firstDeployed"))
        else {
            continue;
        };
        let status = text_of(snapshot, "status").unwrap_or("unknown");
        let revision = snapshot.get("version").and_then(Value::as_i64).map(|v| format!(" revision {v}"));
        let chart = match (text_of(snapshot, "chartName"), text_of(snapshot, "chartVersion")) {
            (Some(name), Some(version)) => format!(" (chart {name} {version})"),
            (Some(name), None) => format!(" (chart {name})"),
            _ => String::new(),
        };
        out.push(ReleaseStep {
            at,
            object: object.clone(),
            text: format!("Flux Helm release{}{chart} {status}", revision.unwrap_or_default()),
            failed: matches!(status, "failed" | "pending-install" | "pending-upgrade" | "pending-rollback"),
        });
    }
    conditions(
        release,
        &[
            ("Ready", "False"),
            ("Released", "False"),
            ("TestSuccess", "False"),
            ("Remediated", "True"),
            ("Stalled", "True"),
        ],
        "Flux",
        out,
    );
}

/// Argo CD `Application`: each `status.history` sync at its deployment, the last operation when
/// it failed or is still running, and the `...Error` conditions.
fn argo(application: &Object, out: &mut Vec<ReleaseStep>) {
    let object = application.reference();
    for sync in application.array_at("/status/history") {
        let Some(at) = time_of(sync, "deployedAt") else { continue };
        let revision = text_of(sync, "revision")
            .or_else(|| sync.get("revisions").and_then(Value::as_array).and_then(|r| r.first()?.as_str()))
            .map(short_revision)
            .unwrap_or_else(|| "an unknown revision".to_owned());
        let source = &sync["source"];
        let what = match (text_of(source, "chart"), text_of(source, "path")) {
            (Some(chart), _) => format!(" of chart {chart}"),
            (None, Some(path)) => format!(" of {path}"),
            _ => String::new(),
        };
        let id = sync.get("id").and_then(Value::as_i64).map(|id| format!(" {id}")).unwrap_or_default();
        out.push(ReleaseStep {
            at,
            object: object.clone(),
            text: format!("Argo CD sync{id} deployed {revision}{what}"),
            failed: false,
        });
    }
    if let Some(operation) = application.at("/status/operationState") {
        let phase = text_of(operation, "phase").unwrap_or("Unknown");
        let at = time_of(operation, "finishedAt").or_else(|| time_of(operation, "startedAt"));
        if let (Some(at), true) = (at, phase != "Succeeded") {
            let message = text_of(operation, "message").map(|m| format!(": {}", clip(m))).unwrap_or_default();
            out.push(ReleaseStep {
                at,
                object: object.clone(),
                text: format!("Argo CD sync operation {phase}{message}"),
                failed: matches!(phase, "Failed" | "Error"),
            });
        }
    }
    for condition in application.array_at("/status/conditions") {
        let Some(kind) = text_of(condition, "type").filter(|kind| kind.ends_with("Error")) else { continue };
        let Some(at) = time_of(condition, "lastTransitionTime") else { continue };
        let message = text_of(condition, "message").map(|m| format!(": {}", clip(m))).unwrap_or_default();
        out.push(ReleaseStep {
            at,
            object: object.clone(),
            text: format!("Argo CD {kind}{message}"),
            failed: true,
        });
    }
}

/// The conditions of `object` whose `(type, status)` is in `bad`, at their transition.
fn conditions(object: &Object, bad: &[(&str, &str)], manager: &str, out: &mut Vec<ReleaseStep>) {
    for condition in object.array_at("/status/conditions") {
        let (Some(kind), Some(status)) = (text_of(condition, "type"), text_of(condition, "status")) else {
            continue;
        };
        if !bad.contains(&(kind, status)) {
            continue;
        }
        let Some(at) = time_of(condition, "lastTransitionTime") else { continue };
        let reason = text_of(condition, "reason").map(|r| format!(" {r}")).unwrap_or_default();
        let message = text_of(condition, "message").map(|m| format!(": {}", clip(m))).unwrap_or_default();
        out.push(ReleaseStep {
            at,
            object: object.reference(),
            text: format!("{manager} {kind}={status}{reason}{message}"),
            failed: true,
        });
    }
}

/// A Git commit shortened to 7 characters; anything else (a chart version, a tag) as it is.
fn short_revision(revision: &str) -> String {
    if revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit()) {
        return revision[..7].to_owned();
    }
    revision.to_owned()
}

#[cfg(test)]
pub(crate) mod tests;
