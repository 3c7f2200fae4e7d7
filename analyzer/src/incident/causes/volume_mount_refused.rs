//! Rule `volume-mount-refused` (start-up): pods stay in `ContainerCreating` because a volume
//! cannot be attached or mounted, in the kubelet's words and what the bundle adds to them.
//!
//! Fires for pods that have not started (`Pending`, or containers waiting in
//! `ContainerCreating`) with `FailedMount`/`FailedAttachVolume`/`FailedMapVolume` warnings.
//! Pods whose most specific message refuses the same thing (a hostPath, a ConfigMap, a Secret, a
//! claim) are one root cause. Classes: `hostPath type check failed` → the path is missing on the
//! node; `configmap/secret "x" not found` → checked against the bundle; `Multi-Attach` → still
//! attached to another node; a CSI driver not registered; else the timeout the kubelet reports.
//! Score 75 when the message names what is refused, plus 5 when the bundle confirms it (the
//! ConfigMap or Secret is indeed absent); 60 for a bare timeout. Severity from the impact.
//!
//! Disproved by: the container running (the mount succeeded) in a newer capture, or the named
//! object present in the namespace.

use std::collections::BTreeMap;

use kubesnap_shared::model::{Event, Object, ObjectRef};

use super::{Context, Hypothesis, Step, clip, impact, subject_of};
use crate::facts::{containers, kubectl};
use crate::finding::Severity;

const REASONS: [&str; 3] = ["FailedMount", "FailedAttachVolume", "FailedMapVolume"];

/// What a mount failure message refuses: `(key, what it means)`; the key groups pods.
fn refused(
    model: &kubesnap_shared::model::ClusterModel,
    pod: &Object,
    message: &str,
) -> (String, String, u32) {
    let lower = message.to_lowercase();
    let volume = quoted_after(message, "volume \"").unwrap_or_default();
    if let Some(at) = lower.find("hostpath type check failed:") {
        let detail = message[at + "hostpath type check failed:".len()..].trim();
        let path = detail.split_whitespace().next().unwrap_or_default();
        return (
            format!("hostPath {path}"),
            format!(
                "hostPath {path} (volume \"{volume}\") does not exist on the node as the type it asks \
                 for: {detail}"
            ),
            75,
        );
    }
    for kind in ["configmap", "secret"] {
        if let Some(name) =
            quoted_after(&lower, &format!("{kind} \"")).filter(|_| lower.contains("not found"))
        {
            let (kind_name, object_kind) =
                if kind == "configmap" { ("ConfigMap", "ConfigMap") } else { ("Secret", "Secret") };
            let listed = model.has_kind(object_kind);
            let absent = listed && model.get(object_kind, pod.namespace.as_deref(), &name).is_none();
            let confirm = if absent { ", and the bundle holds no such object in the namespace" } else { "" };
            return (
                format!("{kind_name} {name}"),
                format!("{kind_name} {name} it mounts does not exist{confirm}"),
                75 + if absent { 5 } else { 0 },
            );
        }
    }
    if lower.contains("multi-attach") {
        return (
            format!("multi-attach {volume}"),
            format!("volume \"{volume}\" is still attached to another node (Multi-Attach)"),
            75,
        );
    }
    if lower.contains("not found in the list of registered csi drivers") {
        return ("csi driver".to_owned(), "the CSI driver is not registered on the node".to_owned(), 75);
    }
    if lower.contains("no such file or directory") {
        return (format!("path {volume}"), format!("a path volume \"{volume}\" needs does not exist"), 70);
    }
    let unmounted = quoted_after(message, "unmounted volumes=[").map(|v| v.trim_end_matches(']').to_owned());
    let what = unmounted.unwrap_or(volume);
    (format!("timeout {what}"), format!("volumes [{what}] time out attaching or mounting"), 60)
}

/// The text after `prefix` up to the next `"` or `]`.
fn quoted_after(text: &str, prefix: &str) -> Option<String> {
    let at = text.find(prefix)? + prefix.len();
    let rest = &text[at..];
    let end = rest.find(['"', ']']).unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

fn not_started(pod: &Object) -> bool {
    if crate::facts::network::pod_health::is_gone(pod) {
        return false;
    }
    let statuses = containers::statuses(pod);
    pod.str_at("/status/phase") == Some("Pending")
        && (statuses.is_empty()
            || statuses.iter().any(|status| {
                matches!(status.waiting_reason(), Some("ContainerCreating" | "PodInitializing"))
            }))
}

struct Refusal<'a> {
    pod: &'a Object,
    event: &'a Event,
    meaning: String,
    score: u32,
}

pub(super) fn rule(context: &Context<'_, '_>) -> Vec<Hypothesis> {
    let facts = context.facts;
    let model = facts.cluster();
    let mut groups: BTreeMap<(String, String), Vec<Refusal<'_>>> = BTreeMap::new();
    for pod in model.of_kind("Pod").filter(|pod| not_started(pod)) {
        let events = super::warnings(model, pod, &REASONS);
        // The most specific message of the pod: the one with the highest score, newest on ties.
        let best = events
            .iter()
            .map(|event| (refused(model, pod, &event.message), *event))
            .max_by_key(|((_, _, score), event)| (*score, event.last_seen));
        let Some(((key, meaning, score), event)) = best else { continue };
        let namespace = pod.namespace.clone().unwrap_or_default();
        groups.entry((namespace, key)).or_default().push(Refusal { pod, event, meaning, score });
    }
    groups.into_values().map(|refusals| hypothesis(context, &refusals)).collect()
}

fn hypothesis(context: &Context<'_, '_>, refusals: &[Refusal<'_>]) -> Hypothesis {
    let facts = context.facts;
    let first = &refusals[0];
    let mut subjects: Vec<ObjectRef> = refusals.iter().map(|r| subject_of(facts, r.pod)).collect();
    subjects.sort();
    subjects.dedup();
    let who: Vec<String> = subjects.iter().take(3).map(crate::incident::links::label).collect();
    let more = if subjects.len() > 3 { format!(" and {} more", subjects.len() - 3) } else { String::new() };
    let title = format!("{}{more} cannot start: volume mount refused: {}", who.join(", "), first.meaning);
    let mut hypothesis = context.hypothesis("volume-mount-refused", title, first.score, Severity::P1);
    let pods: Vec<&Object> = refusals.iter().map(|r| r.pod).collect();
    hypothesis.own_severity = Some(impact(facts, &pods));
    let mut objects = subjects.clone();
    for r in refusals {
        objects.push(r.pod.reference());
        let node = r.pod.str_at("/spec/nodeName").map(|node| format!(" on node {node}")).unwrap_or_default();
        hypothesis.chain.push(Step::new(
            r.event.first_seen,
            r.pod.reference(),
            format!("{} x{}{node}: `{}`", r.event.reason, r.event.count, clip(&r.event.message)),
        ));
        if let Some(last) = r.event.last_seen {
            hypothesis
                .evidence
                .push(format!("pod {}: {} x{}, last at {last}", r.pod.name, r.event.reason, r.event.count));
        }
    }
    hypothesis.evidence.push(format!("the kubelet says: `{}`", clip(&first.event.message)));
    hypothesis
        .disproved_by
        .push("the pods' containers running in a newer capture (the mount then succeeded)".to_owned());
    if first.meaning.starts_with("hostPath") {
        hypothesis
            .disproved_by
            .push("the path present on the node with the type the volume asks for".to_owned());
    }
    objects.sort();
    objects.dedup();
    hypothesis.findings = context.linked(
        &[
            "volume-mount-failures",
            "application-down",
            "daemonset-pods-unavailable",
            "deployment-replicas-unavailable",
            "statefulset-replicas-unavailable",
            "pod-not-ready",
        ],
        &objects,
    );
    hypothesis.objects = objects;
    hypothesis.mitigation.push(kubectl::describe(&first.pod.reference()).into());
    hypothesis.mitigation.push(kubectl::events(&first.pod.reference()).into());
    for subject in subjects.iter().filter(|s| s.kind != "Pod").take(2) {
        hypothesis.mitigation.push(kubectl::get_yaml(subject).into());
    }
    hypothesis
}

#[cfg(test)]
mod tests {
    use crate::incident::causes::tests::of_rule;

    fn pod(name: &str, phase: &str) -> String {
        format!(
            r#"
---
kind: Pod
apiVersion: v1
metadata: {{name: {name}, namespace: ops}}
spec:
  nodeName: n1
  containers: [{{name: agent, image: agent:1}}]
  volumes: [{{name: rrd, hostPath: {{path: /var/lib/agent, type: Directory}}}}]
status:
  phase: {phase}
  containerStatuses: [{{name: agent, ready: false, restartCount: 0, state: {{waiting: {{reason: ContainerCreating}}}}}}]
---
kind: Event
apiVersion: v1
metadata: {{name: {name}.1, namespace: ops}}
involvedObject: {{kind: Pod, name: {name}, namespace: ops}}
type: Warning
reason: FailedMount
count: 80
firstTimestamp: "2025-06-01T10:00:00Z"
lastTimestamp: "2025-06-01T11:59:00Z"
message: 'MountVolume.SetUp failed for volume "rrd" : hostPath type check failed: /var/lib/agent is not a directory'
"#
        )
    }

    #[test]
    fn pods_refused_the_same_host_path_are_one_cause() {
        let out =
            of_rule(&[pod("agent-a", "Pending"), pod("agent-b", "Pending")].concat(), "volume-mount-refused");
        assert_eq!(out.matches("[volume-mount-refused").count(), 1, "{out}");
        assert!(
            out.contains(
                "Pod ops/agent-a, Pod ops/agent-b cannot start: volume mount refused: \
                              hostPath /var/lib/agent (volume \"rrd\") does not exist"
            ),
            "{out}"
        );
    }

    #[test]
    fn a_pod_that_started_since_is_no_cause() {
        let started = pod("agent-a", "Running")
            .replace("state: {waiting: {reason: ContainerCreating}}", "state: {running: {}}");
        assert_eq!(of_rule(&started, "volume-mount-refused"), "");
    }
}
