//! Now or then for log errors: whether what a log shows is still happening at the capture, or
//! was written during a start-up, an install or an earlier run that has since recovered.
//!
//! A log's hits are history when their pod (or node) is healthy at the capture and the hits
//! end before it became so: in the previous run of a container that has run and been Ready
//! since, before the pod's (node's) Ready transition, during the cluster's install, more than
//! [`RECENT`] before the capture, or with no line of the log at ERROR level in that time (the
//! loader's per-window counts say). A log whose pod or node the bundle does not hold is history
//! only when it ends in the cluster's install: nothing shows it recovered. Anything else is ongoing: a pod that is not Ready, errors near the
//! capture, hits without a time (nothing shows they ended). Times are the bundle's
//! (`ClusterModel::captured_at`), never the machine's clock.
//!
//! (A shared helper of the logs diagnostics: it belongs with the other log facts.)

use jiff::{SignedDuration, Timestamp};
use kubesnap_shared::model::{ClusterModel, ERROR_LEVEL, Object};

use super::sources::Source;
use super::windows::WINDOW;
use crate::facts::containers;
use crate::facts::network::pod_health;

/// How long before the capture an error still counts as current when its pod is Ready.
pub(crate) const RECENT: SignedDuration = SignedDuration::from_secs(10 * 60);

/// Whether log hits are current at the capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Recency {
    Ongoing,
    /// Resolved before the capture; the reason, in a phrase (`written before the pod became
    /// Ready at ...`).
    History(String),
}

impl Recency {
    pub(crate) fn is_history(&self) -> bool {
        matches!(self, Recency::History(_))
    }
}

/// When the cluster finished installing: the first Completed entry of an OpenShift
/// ClusterVersion's history (the install itself), if the bundle holds one.
pub(crate) fn install_completed(model: &ClusterModel) -> Option<Timestamp> {
    model
        .of_kind("ClusterVersion")
        .flat_map(|version| version.array_at("/status/history").iter())
        .filter(|entry| entry.get("state").and_then(|state| state.as_str()) == Some("Completed"))
        .filter_map(|entry| entry.get("completionTime")?.as_str()?.parse::<Timestamp>().ok())
        .min()
}

/// The source's pod (or node) at the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Health {
    /// Ready (or completed), since the time given when the bundle says.
    Healthy(Option<Timestamp>),
    /// Running, and the bundle does not say whether it is Ready: no Ready condition and no
    /// container status (a `kubectl get pods` table, whose READY column the text gives for no
    /// container by name). Not failing as far as the bundle shows: its old errors are history,
    /// never a failure at the capture.
    Running,
    /// Not Ready, failed, or being deleted.
    Unhealthy,
    /// Not in the bundle (a deleted pod's log, a journal of a host the bundle lists no Node for).
    Unknown,
}

/// The health of the source's pod (or node) at the capture.
pub(crate) fn health(model: &ClusterModel, source: &Source<'_>) -> Health {
    let object: &Object = match source.pod {
        Some(pod) => pod,
        None if source.is_node() => match model.get("Node", None, &source.member.name) {
            Some(node) => node,
            None => return Health::Unknown,
        },
        None => return Health::Unknown,
    };
    let ready_at = || object.condition_since("Ready");
    if source.is_node() {
        return match object.condition("Ready") {
            Some(("True", _, _)) => Health::Healthy(ready_at()),
            _ => Health::Unhealthy,
        };
    }
    let phase = object.str_at("/status/phase");
    match phase {
        // A pod that completed: whatever its log says, it did its work.
        Some("Succeeded") => Health::Healthy(None),
        _ if pod_health::is_ready(object) && object.deleting_since().is_none() => Health::Healthy(ready_at()),
        Some("Running")
            if object.condition("Ready").is_none()
                && containers::statuses(object).is_empty()
                && object.deleting_since().is_none() =>
        {
            Health::Running
        }
        _ => Health::Unhealthy,
    }
}

/// Whether hits of `source` whose latest is `last` are ongoing at the capture.
pub(crate) fn of_hits(
    model: &ClusterModel,
    source: &Source<'_>,
    last: Option<Timestamp>,
    installed: Option<Timestamp>,
) -> Recency {
    let what = if source.is_node() { "the node" } else { "the pod" };
    let health = health(model, source);
    let since = match health {
        Health::Unhealthy => return Recency::Ongoing,
        Health::Healthy(since) => Some(since),
        Health::Running => Some(None),
        Health::Unknown => None,
    };
    let healthy = match health {
        Health::Running => format!("; {what} is Running now (the bundle does not say whether it is Ready)"),
        _ if since.is_some() => format!("; {what} is healthy now"),
        _ => String::new(),
    };
    if let Some(since) = since {
        if source.log.key.previous && health != Health::Running {
            return Recency::History(format!(
                "written by the container's previous run; {what} is healthy now{}",
                since.map(|at| format!(" (Ready since {at})")).unwrap_or_default()
            ));
        }
        if source.pod.is_some_and(|pod| pod.str_at("/status/phase") == Some("Succeeded")) {
            return Recency::History("written by a pod that has since completed".to_owned());
        }
    }
    let Some(last) = last else { return Recency::Ongoing };
    if let Some(since) = since.flatten().filter(|since| last < *since) {
        return Recency::History(format!("written before {what} became Ready at {since}, and none since"));
    }
    if let Some(installed) = installed.filter(|installed| last < *installed) {
        return Recency::History(format!(
            "written during the cluster's install, which completed at {installed}{healthy}"
        ));
    }
    // Without the pod (or node), nothing shows it recovered: only the install window is history.
    let (Some(captured), Some(_)) = (model.captured_at, since) else { return Recency::Ongoing };
    if captured.duration_since(last) > RECENT {
        return Recency::History(format!(
            "the last at {last}, {} before the capture{healthy}",
            crate::facts::nodes::age::human(captured.duration_since(last).as_secs())
        ));
    }
    // Recent hits of a healthy pod: current only if the log still writes errors, not just the
    // warnings of a client that reconnects (the loader counts ERROR and FATAL lines per window).
    if recent_errors(source, captured) == 0 {
        return Recency::History(format!(
            "no line of this log is at ERROR or FATAL level in the {} before the capture{healthy}",
            crate::facts::nodes::age::human(RECENT.as_secs())
        ));
    }
    Recency::Ongoing
}

/// ERROR and FATAL lines of the log in the windows that end within [`RECENT`] of the capture.
fn recent_errors(source: &Source<'_>, captured: Timestamp) -> u64 {
    let Some(hits) = source.log.families.get(ERROR_LEVEL) else { return 0 };
    let from = captured.checked_sub(RECENT).unwrap_or(captured);
    hits.windows
        .iter()
        .filter(|window| window.start().checked_add(WINDOW).is_ok_and(|end| end > from))
        .map(|window| window.count)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::logs::sources;
    use crate::testing::model_from_yaml;

    const PODS: &str = r#"
kind: Pod
apiVersion: v1
metadata: {name: ready, namespace: shop}
status: {phase: Running, conditions: [{type: Ready, status: "True", lastTransitionTime: "2025-06-01T11:20:00Z"}]}
---
kind: Pod
apiVersion: v1
metadata: {name: failing, namespace: shop}
status: {phase: Running, conditions: [{type: Ready, status: "False"}]}
---
kind: Pod
apiVersion: v1
metadata: {name: done, namespace: shop}
status: {phase: Succeeded}
---
kind: ClusterVersion
apiVersion: config.openshift.io/v1
metadata: {name: version}
status: {history: [{state: Completed, completionTime: "2025-06-01T11:30:00Z"}]}
"#;

    fn log(pod: &str, previous: bool, lines: &[&str]) -> String {
        let lines: Vec<String> = lines.iter().map(|line| format!("- \"{line}\"")).collect();
        format!(
            "\n---\nkind: ContainerLog\nnamespace: shop\npod: {pod}\ncontainer: app\nprevious: {previous}\nlines:\n{}\n",
            lines.join("\n")
        )
    }

    /// The recency of each log of the fixture (capture 12:00), judged on its last line's time.
    fn judge(fixture: &str, installed: bool) -> Vec<String> {
        let model = model_from_yaml(fixture);
        let installed = if installed { install_completed(&model) } else { None };
        sources::sources(&model)
            .iter()
            .map(|source| {
                let last = source.log.last_timestamp;
                let key = &source.log.key;
                format!(
                    "{}{}: {:?}",
                    key.pod,
                    if key.previous { " (previous)" } else { "" },
                    of_hits(&model, source, last, installed)
                )
            })
            .collect()
    }

    #[test]
    fn errors_of_a_pod_that_recovered_are_history() {
        let fixture = [
            PODS,
            &log("ready", true, &["2025-06-01T11:19:00Z ERROR dial tcp: i/o timeout"]),
            &log("ready", false, &["2025-06-01T11:15:00Z ERROR boot"]),
            &log("done", false, &["2025-06-01T11:58:00Z ERROR retrying"]),
        ]
        .concat();
        assert_eq!(
            judge(&fixture, false),
            [
                "done: History(\"written by a pod that has since completed\")",
                "ready: History(\"written before the pod became Ready at 2025-06-01T11:20:00Z, and none since\")",
                "ready (previous): History(\"written by the container's previous run; the pod is healthy now (Ready since 2025-06-01T11:20:00Z)\")",
            ]
        );
    }

    #[test]
    fn old_errors_of_a_ready_pod_and_install_window_errors_are_history() {
        let fixture =
            [PODS, &log("ready", false, &["2025-06-01T11:25:00Z ERROR lookup db: no such host"])].concat();
        assert_eq!(
            judge(&fixture, true),
            [
                "ready: History(\"written during the cluster's install, which completed at 2025-06-01T11:30:00Z; the pod is healthy now\")"
            ]
        );
        assert_eq!(
            judge(&fixture, false),
            [
                "ready: History(\"the last at 2025-06-01T11:25:00Z, 35m before the capture; the pod is healthy now\")"
            ]
        );
    }

    #[test]
    fn recent_errors_failing_pods_and_untimed_errors_are_ongoing() {
        let fixture = [
            PODS,
            &log("ready", false, &["2025-06-01T11:55:00Z ERROR lookup db: no such host"]),
            &log("failing", false, &["2025-06-01T10:00:00Z ERROR lookup db: no such host"]),
            &log("gone", false, &["2025-06-01T10:00:00Z ERROR lookup db: no such host"]),
        ]
        .concat();
        assert_eq!(
            judge(&fixture, true),
            [
                "failing: Ongoing",
                "gone: History(\"written during the cluster's install, which completed at 2025-06-01T11:30:00Z\")",
                "ready: Ongoing"
            ]
        );
        let untimed = [PODS, &log("ready", false, &["ERROR lookup db: no such host"])].concat();
        assert_eq!(judge(&untimed, true), ["ready: Ongoing"]);
        let gone_now =
            [PODS, &log("gone", false, &["2025-06-01T11:58:00Z WARN dial tcp: connection refused"])].concat();
        assert_eq!(judge(&gone_now, true), ["gone: Ongoing"], "no pod to say it recovered");
    }

    /// A pod read from a `kubectl get pods` table runs, and the bundle does not say whether it
    /// is Ready: errors long before the capture are history, recent ones ongoing; never
    /// "failing at the capture", so a week-old cascade of such pods is no current failure.
    #[test]
    fn a_running_pod_whose_readiness_the_bundle_lacks_is_not_failing() {
        let running = r#"
kind: Pod
apiVersion: v1
metadata: {name: table, namespace: shop}
status: {phase: Running}
"#;
        let model =
            model_from_yaml(&[running, &log("table", false, &["2025-06-01T11:55:00Z ERROR x"])].concat());
        let source = &sources::sources(&model)[0];
        assert_eq!(health(&model, source), Health::Running);
        let old =
            [running, &log("table", false, &["2025-05-29T08:00:00Z ERROR lookup db: no such host"])].concat();
        assert_eq!(
            judge(&old, false),
            [
                "table: History(\"the last at 2025-05-29T08:00:00Z, 3d4h before the capture; the pod is Running now (the bundle does not say whether it is Ready)\")"
            ]
        );
        let recent =
            [running, &log("table", false, &["2025-06-01T11:55:00Z ERROR lookup db: no such host"])].concat();
        assert_eq!(judge(&recent, false), ["table: Ongoing"]);
        // A table's pod that is not Running (a waiting reason in STATUS, no phase) is failing.
        let waiting = "\nkind: Pod\napiVersion: v1\nmetadata: {name: table, namespace: shop}\nstatus: {}\n";
        let model =
            model_from_yaml(&[waiting, &log("table", false, &["2025-06-01T11:55:00Z ERROR x"])].concat());
        assert_eq!(health(&model, &sources::sources(&model)[0]), Health::Unhealthy);
    }

    /// A Ready pod's client that keeps reconnecting logs warnings, not errors: not current.
    #[test]
    fn recent_warnings_of_a_ready_pod_are_history() {
        let fixture = [
            PODS,
            &log(
                "ready",
                false,
                &[
                    "2025-06-01T11:55:00Z W0601 11:55:00.1 1 conn.go:1] dial tcp 10.0.0.1:2379: connect: connection refused",
                    "2025-06-01T11:58:00Z W0601 11:58:00.1 1 conn.go:1] dial tcp 10.0.0.1:2379: connect: connection refused",
                ],
            ),
        ]
        .concat();
        assert_eq!(
            judge(&fixture, false),
            [
                "ready: History(\"no line of this log is at ERROR or FATAL level in the 10m before the capture; the pod is healthy now\")"
            ]
        );
    }
}
