//! The merged timeline: events, container terminations, rollouts (ReplicaSets, and the release
//! history of Helm, Flux and Argo CD), log error bursts and metric threshold crossings, in time
//! order, bounded to the most relevant entries.
//!
//! When there are more entries than [`MAX_ENTRIES`], the earliest entry of each kind is always
//! kept (the start of each story), then the most relevant: entries about objects of the most
//! severe findings first, earlier first among equals. Ties are broken by kind, object and text,
//! so the timeline never depends on input order.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Event, Object, ObjectRef};
use kubesnap_shared::quantity;
use serde::Serialize;

use crate::facts::containers;
use crate::facts::logs::windows;
use crate::facts::performance::units;
use crate::facts::releases;
use crate::facts::workload::workload_of;
use crate::finding::Severity;

/// How many entries the timeline keeps.
pub(crate) const MAX_ENTRIES: usize = 100;
/// A container's memory at this share of its limit is a crossing (the HighMemoryUsage alert rule).
const MEMORY_SHARE: f64 = 0.9;
/// How long an event message may be in the timeline.
const MESSAGE_CHARS: usize = 200;

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Kind {
    Rollout,
    Event,
    Termination,
    LogErrors,
    Metric,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Rollout => "rollout",
            Kind::Event => "event",
            Kind::Termination => "termination",
            Kind::LogErrors => "log errors",
            Kind::Metric => "metric",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Entry {
    pub(crate) at: Timestamp,
    pub(crate) kind: Kind,
    pub(crate) object: ObjectRef,
    pub(crate) text: String,
    /// The most severe finding about the object (or its workload).
    pub(crate) severity: Option<Severity>,
    /// A warning, a failure or a crossing rather than routine.
    #[serde(skip)]
    pub(crate) alarming: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Timeline {
    pub(crate) entries: Vec<Entry>,
    /// Entries left out by the bound.
    pub(crate) omitted: usize,
}

/// The merged, bounded timeline.
pub(crate) fn build(model: &ClusterModel, severities: &BTreeMap<ObjectRef, Severity>) -> Timeline {
    let mut entries = Vec::new();
    events(model, &mut entries);
    terminations(model, &mut entries);
    rollouts(model, &mut entries);
    release_history(model, &mut entries);
    log_bursts(model, &mut entries);
    node_problems(model, &mut entries);
    metrics(model, &mut entries);
    let mut workloads: BTreeMap<ObjectRef, Option<ObjectRef>> = BTreeMap::new();
    for entry in &mut entries {
        let workload = workloads
            .entry(entry.object.clone())
            .or_insert_with(|| {
                let pod = (entry.object.kind == "Pod")
                    .then(|| model.get("Pod", entry.object.namespace.as_deref(), &entry.object.name))
                    .flatten();
                pod.and_then(|pod| workload_of(model, pod))
            })
            .clone();
        let own = severities.get(&entry.object).copied();
        let inherited = workload.and_then(|workload| severities.get(&workload).copied());
        entry.severity = match (own, inherited) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    bound(entries)
}

fn order(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    (a.at, a.kind, &a.object, &a.text).cmp(&(b.at, b.kind, &b.object, &b.text))
}

fn bound(mut entries: Vec<Entry>) -> Timeline {
    entries.sort_by(order);
    entries.dedup();
    let total = entries.len();
    if total <= MAX_ENTRIES {
        return Timeline { entries, omitted: 0 };
    }
    let mut keep: BTreeSet<usize> = BTreeSet::new();
    let mut kinds = BTreeSet::new();
    for (index, entry) in entries.iter().enumerate() {
        if kinds.insert(entry.kind) {
            keep.insert(index);
        }
    }
    let relevance = |entry: &Entry| {
        let severity = match entry.severity {
            Some(Severity::P0) => 4,
            Some(Severity::P1) => 3,
            Some(Severity::P2) => 2,
            Some(Severity::P3) => 1,
            None => 0,
        };
        severity * 2 + u8::from(entry.alarming)
    };
    let mut ranked: Vec<usize> = (0..total).filter(|index| !keep.contains(index)).collect();
    // Stable: equal relevance keeps time order.
    ranked.sort_by_key(|index| std::cmp::Reverse(relevance(&entries[*index])));
    keep.extend(ranked.into_iter().take(MAX_ENTRIES.saturating_sub(keep.len())));
    let kept: Vec<Entry> =
        entries.into_iter().enumerate().filter(|(index, _)| keep.contains(index)).map(|(_, e)| e).collect();
    Timeline { omitted: total - kept.len(), entries: kept }
}

fn entry(at: Timestamp, kind: Kind, object: ObjectRef, text: String, alarming: bool) -> Entry {
    Entry { at, kind, object, text, severity: None, alarming }
}

/// Warning events, and the Normal ones that mark a change: Killing, ScalingReplicaSet, and
/// Pulled for a pod that has failed (a pull after failures is a restart).
fn events(model: &ClusterModel, out: &mut Vec<Entry>) {
    let failed = |event: &Event| {
        event.involved.kind == "Pod"
            && model
                .get("Pod", event.involved.namespace.as_deref(), &event.involved.name)
                .is_some_and(|pod| containers::statuses(pod).iter().any(|status| status.restart_count() > 0))
    };
    for event in &model.events {
        let key = event.is_warning() || matches!(event.reason.as_str(), "Killing" | "ScalingReplicaSet");
        let restart = event.reason == "Pulled" && failed(event);
        if !key && !restart {
            continue;
        }
        let Some(at) = event.first_seen.or(event.last_seen) else { continue };
        let mut message: String = event.message.trim().chars().take(MESSAGE_CHARS).collect();
        if event.message.trim().chars().count() > MESSAGE_CHARS {
            message.push('…');
        }
        let mut text = format!("{} {}", event.kind, event.reason);
        if event.count > 1 {
            text.push_str(&format!(" ×{}", event.count));
        }
        text.push_str(&format!(": {message}"));
        if let (true, Some(last)) = (event.count > 1, event.last_seen.filter(|last| *last != at)) {
            text.push_str(&format!(" (last at {last})"));
        }
        out.push(entry(at, Kind::Event, event.involved.clone(), text, event.is_warning()));
    }
}

/// How each container's last run (and current run, when terminated) ended.
fn terminations(model: &ClusterModel, out: &mut Vec<Entry>) {
    for pod in model.of_kind("Pod") {
        for status in containers::statuses(pod) {
            for termination in [status.last_termination(), status.current_termination()].into_iter().flatten()
            {
                let Some(at) = termination.finished_at.and_then(|at| at.parse::<Timestamp>().ok()) else {
                    continue;
                };
                let restarts = match status.restart_count() {
                    0 => String::new(),
                    count => format!(", {count} restarts"),
                };
                let failed = termination.exit_code.is_some_and(|code| code != 0);
                let text = format!(
                    "container {} terminated: {}{restarts}",
                    status.name,
                    containers::short_exit(&termination)
                );
                out.push(entry(at, Kind::Termination, pod.reference(), text, failed));
            }
        }
    }
}

/// ReplicaSet creations of Deployments, with the revision.
fn rollouts(model: &ClusterModel, out: &mut Vec<Entry>) {
    for replica_set in model.of_kind("ReplicaSet") {
        let Some(at) = replica_set.created_at() else { continue };
        let Some((_, deployment, _)) =
            replica_set.owners().into_iter().find(|(kind, _, _)| *kind == "Deployment")
        else {
            continue;
        };
        let revision = replica_set
            .annotations()
            .get("deployment.kubernetes.io/revision")
            .map(|revision| format!(" revision {revision}"))
            .unwrap_or_default();
        let replicas = replica_set.i64_at("/spec/replicas").unwrap_or(0);
        let ready = replica_set.i64_at("/status/readyReplicas").unwrap_or(0);
        let object = ObjectRef {
            kind: "Deployment".to_owned(),
            namespace: replica_set.namespace.clone(),
            name: deployment.to_owned(),
        };
        let text = format!(
            "rollout{revision}: ReplicaSet {} created (now {ready} of {replicas} replicas ready)",
            replica_set.name
        );
        out.push(entry(at, Kind::Rollout, object, text, false));
    }
}

/// Helm revisions, Flux `HelmRelease` history and conditions, Argo CD syncs and sync errors.
fn release_history(model: &ClusterModel, out: &mut Vec<Entry>) {
    for step in releases::history(model) {
        out.push(entry(step.at, Kind::Rollout, step.object, step.text, step.failed));
    }
}

/// How many bursts of one member and one set of families are listed one by one; more recur
/// (an agent retrying every few minutes for days) and are told as one entry.
const LISTED_BURSTS: usize = 3;

fn log_bursts(model: &ClusterModel, out: &mut Vec<Entry>) {
    // The bursts after each member's onset, by member and families, in window order.
    let mut recurring: BTreeMap<(ObjectRef, Vec<String>), Vec<windows::Burst>> = BTreeMap::new();
    for burst in windows::bursts(model) {
        if burst.onset {
            let text = format!(
                "first log errors: {} in the 5-minute window from {}",
                burst.families_phrase(),
                burst.window
            );
            out.push(entry(burst.first, Kind::LogErrors, burst.member.clone(), text, true));
        } else {
            let families = burst.families.keys().cloned().collect();
            recurring.entry((burst.member.clone(), families)).or_default().push(burst);
        }
    }
    for ((member, families), bursts) in recurring {
        if bursts.len() <= LISTED_BURSTS {
            for burst in bursts {
                let text = format!(
                    "{} log errors in the 5-minute window from {}: {}",
                    burst.count,
                    burst.window,
                    burst.families_phrase()
                );
                out.push(entry(burst.first, Kind::LogErrors, member.clone(), text, true));
            }
            continue;
        }
        // The first and the last window stay on the timeline: when it started and that it
        // was still going; the peak is named.
        let (first, last) = (&bursts[0], &bursts[bursts.len() - 1]);
        let total: u64 = bursts.iter().map(|burst| burst.count).sum();
        let peak = bursts.iter().max_by_key(|burst| (burst.count, std::cmp::Reverse(burst.window)));
        let peak = peak.map(|burst| format!("; at most {} from {}", burst.count, burst.window));
        out.push(entry(
            first.first,
            Kind::LogErrors,
            member.clone(),
            format!(
                "{} log errors in the 5-minute window from {}: {}; recurring: {} windows until {}",
                first.count,
                first.window,
                first.families_phrase(),
                bursts.len(),
                last.window
            ),
            true,
        ));
        out.push(entry(
            last.first,
            Kind::LogErrors,
            member,
            format!(
                "last of {} recurring windows of {} ({total} errors in all{}): {} in the window from {}",
                bursts.len(),
                families.join(", "),
                peak.unwrap_or_default(),
                last.count,
                last.window
            ),
            true,
        ));
    }
}

/// The first and last line of each problem a node's own log reports (OOM kills, read-only
/// file systems, runtime restarts).
fn node_problems(model: &ClusterModel, out: &mut Vec<Entry>) {
    for problem in &model.node_problems {
        let node = ObjectRef { kind: "Node".to_owned(), namespace: None, name: problem.node.clone() };
        let mut times = vec![(problem.first, "first")];
        if problem.count > 1 && problem.last != problem.first {
            times.push((problem.last, "last"));
        }
        for (at, which) in times {
            let Some(at) = at else { continue };
            let text =
                format!("{which} {} in the {} log ({} in all)", problem.reason, problem.unit, problem.count);
            // A restart of the kubelet or the runtime is a change, not an alarm.
            out.push(entry(at, Kind::LogErrors, node.clone(), text, !problem.reason.ends_with("Start")));
        }
    }
}

/// Upward crossings: memory over 90% of the container's limit, CPU over its limit.
fn metrics(model: &ClusterModel, out: &mut Vec<Entry>) {
    for series in &model.pod_metrics {
        let key = &series.key;
        let Some(pod) = model.get("Pod", Some(&key.namespace), &key.pod) else { continue };
        let Some(spec) = container_spec(pod, &key.container) else { continue };
        let limit =
            |resource: &str| spec.pointer(&format!("/resources/limits/{resource}")).and_then(Value::as_str);
        let memory_limit = limit("memory").and_then(quantity::bytes).filter(|limit| *limit > 0.0);
        let cpu_limit = limit("cpu").and_then(quantity::cpu_millicores).filter(|limit| *limit > 0.0);
        let mut samples: Vec<_> = series.samples.iter().collect();
        samples.sort_by_key(|sample| sample.at);
        let (mut memory_over, mut cpu_over) = (false, false);
        for sample in samples {
            if let Some(limit) = memory_limit {
                let over = sample.memory_bytes >= limit * MEMORY_SHARE;
                if over && !memory_over {
                    let text = format!(
                        "memory of container {} at {} of its {} limit ({})",
                        key.container,
                        units::percent(sample.memory_bytes / limit),
                        units::memory(limit),
                        units::memory(sample.memory_bytes)
                    );
                    out.push(entry(sample.at, Kind::Metric, pod.reference(), text, true));
                }
                memory_over = over;
            }
            if let Some(limit) = cpu_limit {
                let over = sample.cpu_millicores > limit;
                if over && !cpu_over {
                    let text = format!(
                        "CPU of container {} over its {} limit ({})",
                        key.container,
                        units::cpu(limit),
                        units::cpu(sample.cpu_millicores)
                    );
                    out.push(entry(sample.at, Kind::Metric, pod.reference(), text, true));
                }
                cpu_over = over;
            }
        }
    }
}

fn container_spec<'a>(pod: &'a Object, name: &str) -> Option<&'a Value> {
    pod.array_at("/spec/containers").iter().find(|c| c.get("name").and_then(Value::as_str) == Some(name))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use kubesnap_shared::helm::{HelmRelease, HelmStorage};

    use super::{Kind, build};
    use crate::testing::model_from_yaml;

    /// An agent that retries every half hour for four hours: its first burst and its last
    /// stay on the timeline, with how many windows recurred between and the peak; not eight
    /// entries saying the same.
    #[test]
    fn recurring_log_bursts_are_one_story_not_one_entry_each() {
        let fixture = r#"
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: ops}
spec: {containers: [{name: agent, image: agent:1}]}
status: {phase: Running}
---
kind: ContainerLog
namespace: ops
pod: agent
container: agent
lines:
FIXTURE
"#
        .replace("FIXTURE", LINES);
        let model = model_from_yaml(&fixture);
        let timeline = build(&model, &BTreeMap::new());
        let texts: Vec<&str> = timeline
            .entries
            .iter()
            .filter(|entry| entry.kind == Kind::LogErrors)
            .map(|entry| entry.text.as_str())
            .collect();
        assert_eq!(texts.len(), 3, "{texts:#?}");
        assert!(texts[0].starts_with("first log errors: connection_refused ×3"), "{texts:#?}");
        assert!(texts[1].contains("recurring: 7 windows until 2025-06-01T13:30:00Z"), "{texts:#?}");
        assert!(
            texts[2].starts_with("last of 7 recurring windows of connection_refused (21 errors in all"),
            "{texts:#?}"
        );
    }

    const LINES: &str = r#"- "2025-06-01T10:00:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T10:01:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T10:02:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T10:30:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T10:31:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T10:32:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T11:00:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T11:01:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T11:02:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T11:30:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T11:31:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T11:32:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T12:00:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T12:01:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T12:02:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T12:30:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T12:31:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T12:32:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T13:00:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T13:01:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T13:02:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T13:30:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T13:31:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused"
- "2025-06-01T13:32:00Z ERROR dial tcp 10.0.0.9:443: connect: connection refused""#;

    #[test]
    fn release_history_of_helm_flux_and_argo_is_on_the_timeline() {
        let mut model = model_from_yaml(crate::facts::releases::tests::FLUX_AND_ARGO);
        model.helm_releases = Some(vec![HelmRelease {
            name: "shop".to_owned(),
            namespace: "web".to_owned(),
            revision: 2,
            status: "failed".to_owned(),
            chart: Some("shop".to_owned()),
            chart_version: Some("0.2.0".to_owned()),
            app_version: Some("1.1.0".to_owned()),
            first_deployed: Some("2025-05-01T08:00:00Z".to_owned()),
            last_deployed: Some("2025-06-01T11:20:00.5Z".to_owned()),
            deleted: None,
            description: Some("Upgrade \"shop\" failed: timed out waiting for the condition".to_owned()),
            storage: HelmStorage::Secret,
            object: "sh.helm.release.v1.shop.v2".to_owned(),
        }]);
        let timeline = build(&model, &BTreeMap::new());
        let lines: Vec<String> = timeline
            .entries
            .iter()
            .filter(|entry| entry.kind == Kind::Rollout)
            .map(|entry| {
                format!(
                    "{} {} {}{}",
                    entry.at,
                    entry.object,
                    entry.text,
                    if entry.alarming { " !" } else { "" }
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                "2025-05-30T08:00:00Z Application/argocd/guestbook Argo CD sync 0 deployed 4e2a1bd of \
                 guestbook",
                "2025-05-30T09:00:00Z HelmRelease/apps/podinfo Flux Helm release revision 2 (chart podinfo \
                 6.5.3) superseded",
                "2025-06-01T11:20:00.5Z Secret/web/sh.helm.release.v1.shop.v2 Helm release web/shop \
                 revision 2 (chart shop 0.2.0, app 1.1.0) failed: Upgrade \"shop\" failed: timed out \
                 waiting for the condition !",
                "2025-06-01T11:30:00Z Application/argocd/guestbook Argo CD sync 1 deployed 53e28ff of \
                 guestbook",
                "2025-06-01T11:40:00Z HelmRelease/apps/podinfo Flux Helm release revision 3 (chart podinfo \
                 6.5.4) failed !",
                "2025-06-01T11:45:00Z HelmRelease/apps/podinfo Flux Ready=False UpgradeFailed: Helm \
                 upgrade failed for release apps/podinfo with chart podinfo@6.5.4: context deadline \
                 exceeded !",
                "2025-06-01T11:45:00Z HelmRelease/apps/podinfo Flux Released=False UpgradeFailed: Helm \
                 upgrade failed for release apps/podinfo with chart podinfo@6.5.4: context deadline \
                 exceeded !",
                "2025-06-01T11:50:05Z Application/argocd/guestbook Argo CD SyncError: Failed sync attempt \
                 to 53e28ff20cc530b9ada2173fbbd64d48338583ba: one or more objects failed to apply !",
                "2025-06-01T11:50:05Z Application/argocd/guestbook Argo CD sync operation Failed: one or \
                 more objects failed to apply, reason: Deployment.apps \"guestbook-ui\" is invalid: \
                 spec.template.spec.containers[0].image: Required value !",
            ]
        );
    }
}
