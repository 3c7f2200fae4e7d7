//! Diagnostic `volume-mount-failures`: volumes that fail to attach or mount;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::collections::BTreeMap;

use kubesnap_shared::model::{Event, ObjectRef};

use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::containers;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::workload::{Origin, origin};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "volume-mount-failures",
    category: Category::Storage,
    title: "Volumes that fail to attach or mount",
    severities: &[Severity::P1, Severity::P2, Severity::P3],
    what: "`FailedMount`, `FailedAttachVolume` and `FailedMapVolume` events, grouped per pod, with their \
           counts, first and last seen, and the cause the message names: a missing ConfigMap or Secret, a \
           Multi-Attach conflict, a CSI driver not registered on the node, a hostPath that does not exist, \
           a timeout. **Now or then.** Failures of a pod that then ran (every container started after the \
           last failure), Succeeded, or is gone from a bundle that lists pods are history: resolved, P3. A \
           collection tool's leftover pod is a P3 cleanup note.",
    why: "A pod stays in ContainerCreating until every volume mounts, and its logs are empty: the event is \
          the only trace.",
    fix: "Fix what the message names: create the ConfigMap/Secret, delete the stale VolumeAttachment of a \
          Multi-Attach, fix the CSI node plugin, or the hostPath.",
    example: "`Pod shop/db-0: volume mounts failing (FailedAttachVolume x12): Multi-Attach error for volume \
              \"pvc-123\" Volume is already exclusively attached to one node`.",
    needs: &[Need::Events],
    run,
};

const REASONS: &[&str] = &["FailedMount", "FailedAttachVolume", "FailedMapVolume"];

/// Message fragments and the cause they name.
const CAUSES: &[(&str, &str)] = &[
    ("multi-attach error", "the volume is still attached to another node (Multi-Attach)"),
    ("not found in the list of registered csi drivers", "the CSI driver is not registered on the node"),
    (
        "failed to sync configmap cache",
        "the kubelet had not synced its ConfigMap cache yet (it was starting)",
    ),
    ("failed to sync secret cache", "the kubelet had not synced its Secret cache yet (it was starting)"),
    ("configmap", "a ConfigMap it mounts is missing"),
    ("secret", "a Secret it mounts is missing"),
    (
        "hostpath type check failed",
        "a hostPath it mounts does not exist on the node (or is not the expected type)",
    ),
    ("no such file or directory", "a path it mounts does not exist"),
    ("timed out waiting for the condition", "the attach or mount timed out"),
    ("permission denied", "permission denied on the volume"),
    ("unable to attach or mount volumes", "volumes could not be attached or mounted"),
];

fn cause(message: &str) -> Option<&'static str> {
    let message = message.to_ascii_lowercase();
    CAUSES.iter().find(|(fragment, _)| message.contains(fragment)).map(|(_, cause)| *cause)
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut by_object: BTreeMap<&ObjectRef, Vec<&Event>> = BTreeMap::new();
    for event in facts.cluster().events.iter().filter(|event| REASONS.contains(&event.reason.as_str())) {
        by_object.entry(&event.involved).or_default().push(event);
    }
    by_object.into_iter().map(|(object, events)| finding(facts, object, &events)).collect()
}

fn finding(facts: &Facts<'_>, object: &ObjectRef, events: &[&Event]) -> Finding {
    let pod = (object.kind == "Pod")
        .then(|| facts.cluster().get("Pod", object.namespace.as_deref(), &object.name))
        .flatten();
    let running = pod.is_some_and(|pod| pod.str_at("/status/phase") == Some("Running"));
    // A pod absent from a bundle that listed pods is gone; absent from one that did not, it
    // may still be waiting.
    let pods_listed = facts.captured("Pod").is_listed();
    let last_seen = events.iter().filter_map(|event| event.last_seen.or(event.first_seen)).max();
    let resolved = match pod {
        Some(pod) => mounted_since(pod, last_seen),
        None => pods_listed,
    };
    let tool = pod.and_then(|pod| match origin(facts, pod) {
        Origin::Tool(tool) => Some(tool),
        _ => None,
    });
    let severity = if resolved || tool.is_some() {
        Severity::P3
    } else if running || (pod.is_none() && pods_listed) {
        Severity::P2
    } else {
        Severity::P1
    };
    let total: u64 = events.iter().map(|event| event.count).sum();
    // The most repeated message is the one that keeps the pod waiting.
    let main = events.iter().max_by_key(|event| (event.count, event.last_seen)).copied();
    let reasons: Vec<&str> = {
        let mut reasons: Vec<&str> = events.iter().map(|event| event.reason.as_str()).collect();
        reasons.sort_unstable();
        reasons.dedup();
        reasons
    };
    let causes: Vec<&str> = {
        let mut causes: Vec<&str> = events.iter().filter_map(|event| cause(&event.message)).collect();
        causes.dedup();
        causes
    };
    let namespace = object.namespace.as_deref().unwrap_or_default();
    let summary =
        main.map(|event| event.message.lines().next().unwrap_or_default().trim()).unwrap_or_default();
    let mut finding = DIAGNOSTIC
        .finding(
            severity,
            format!(
                "{} {namespace}/{}: volume mounts failing ({} x{total}): {summary}",
                object.kind,
                object.name,
                reasons.join(", ")
            ),
        )
        .object(object.clone());
    let mut shown: Vec<(&str, &str)> = Vec::new();
    for event in events.iter().rev() {
        if shown.len() == 3 {
            break;
        }
        if !shown.contains(&(event.reason.as_str(), event.message.as_str())) {
            shown.push((event.reason.as_str(), event.message.as_str()));
            finding = finding.evidence(Evidence::event(event));
        }
    }
    if let Some(pod) = pod {
        finding = finding.evidence(Evidence::field(
            pod.reference(),
            "/status/phase",
            pod.at("/status/phase").unwrap_or(&"Unknown".into()),
        ));
    }
    let cause_text =
        if causes.is_empty() { "the events do not say why".to_owned() } else { causes.join("; ") };
    let mut state = match (pod, running, resolved) {
        (Some(_), _, true) => {
            " The pod's containers started after the last failure (or it completed): every volume mounted \
             then, so this is history."
                .to_owned()
        }
        (Some(_), true, false) => {
            " The pod runs, but failures went on after its containers started: a volume added or refreshed \
             later."
                .to_owned()
        }
        (Some(_), false, false) => " The pod cannot start until every volume mounts.".to_owned(),
        (None, _, _) if pods_listed => " The pod is no longer in the bundle: this is history.".to_owned(),
        (None, _, _) => {
            " The bundle does not show its pods, so whether it still waits is unknown.".to_owned()
        }
    };
    if let Some(tool) = tool {
        state.push_str(&format!(
            " The pod belongs to {tool}, left behind by a collection: delete it; it is no workload of the \
             cluster."
        ));
    }
    let mut finding = finding
        .resolved_if(resolved)
        .explanation(format!(
            "The kubelet or attach controller failed {total} times to attach or mount a volume of {} {}: \
             {cause_text}.{state}",
            object.kind.to_ascii_lowercase(),
            object.name
        ))
        .remediation(kubectl::describe(object))
        .remediation(kubectl::events(object));
    let message = main.map(|event| event.message.to_ascii_lowercase()).unwrap_or_default();
    if message.contains("multi-attach") {
        finding = finding.remediation(Kubectl::new("get volumeattachments"));
    } else if message.contains("csi drivers") {
        finding = finding.remediation(Kubectl::new("get csinodes -o yaml"));
    } else if let Some(name) = missing_object(main.map(|event| event.message.as_str()).unwrap_or_default()) {
        finding = finding.remediation(Kubectl::new("get").arg(name.0).name(name.1).namespace(namespace));
    }
    finding
}

/// Whether every volume of `pod` mounted after the last failure at `last_seen`: it Succeeded
/// (it ran to its end), or each container has started (the kubelet starts containers only once
/// every volume is mounted) no earlier than the last failure.
fn mounted_since(pod: &kubesnap_shared::model::Object, last_seen: Option<jiff::Timestamp>) -> bool {
    if pod.str_at("/status/phase") == Some("Succeeded") {
        return true;
    }
    if pod.str_at("/status/phase") != Some("Running") {
        return false;
    }
    let started: Vec<Option<jiff::Timestamp>> = containers::statuses(pod)
        .iter()
        .filter(|status| !status.init)
        .map(|status| {
            status.started_at().or_else(|| {
                status.current_termination().and_then(|end| end.finished_at).and_then(|at| at.parse().ok())
            })
        })
        .collect();
    let first_start =
        started.iter().copied().collect::<Option<Vec<_>>>().and_then(|all| all.into_iter().min());
    match (first_start, last_seen) {
        (Some(start), Some(last)) => start >= last,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// `configmap "app-config" not found` → ("configmap", "app-config").
fn missing_object(message: &str) -> Option<(&'static str, &str)> {
    for kind in ["configmap", "secret"] {
        let lower = message.to_ascii_lowercase();
        if let Some(at) = lower.find(&format!("{kind} \"")) {
            let rest = &message[at + kind.len() + 2..];
            let name = rest.split('"').next()?;
            if lower[at..].contains("not found") {
                return Some((kind, name));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::{check, model_from_yaml, render};

    fn event(name: &str, pod: &str, reason: &str, count: u64, message: &str) -> String {
        // A JSON string is a YAML scalar that survives the quotes real messages hold.
        let message = serde_json::to_string(message).unwrap();
        format!(
            r#"
---
apiVersion: v1
kind: Event
metadata: {{name: {name}, namespace: shop}}
involvedObject: {{kind: Pod, name: {pod}, namespace: shop}}
type: Warning
reason: {reason}
message: {message}
count: {count}
source: {{component: kubelet}}
firstTimestamp: "2025-06-01T11:00:00Z"
lastTimestamp: "2025-06-01T11:58:00Z"
"#
        )
    }

    #[test]
    fn groups_per_pod_and_names_the_missing_configmap() {
        let fixture = format!(
            "{}{}{}{}",
            r#"
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: shop}
status: {phase: Pending}
"#,
            event(
                "a.1",
                "api-1",
                "FailedMount",
                14,
                r#"MountVolume.SetUp failed for volume "config" : configmap "api-config" not found"#
            ),
            event(
                "a.2",
                "api-1",
                "FailedMount",
                3,
                "Unable to attach or mount volumes: unmounted volumes=[config], unattached volumes=[]: \
                 timed out waiting for the condition"
            ),
            event(
                "b.1",
                "gone-1",
                "FailedAttachVolume",
                2,
                r#"Multi-Attach error for volume "pvc-123" Volume is already exclusively attached to one node and can't be attached to another"#
            ),
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 volume-mount-failures Pod shop/api-1: volume mounts failing (FailedMount x17): MountVolume.SetUp failed for volume "config" : configmap "api-config" not found
              objects: Pod/shop/api-1
              event FailedMount x3 (kubelet): Unable to attach or mount volumes: unmounted volumes=[config], unattached volumes=[]: timed out waiting for the condition
              event FailedMount x14 (kubelet): MountVolume.SetUp failed for volume "config" : configmap "api-config" not found
              field Pod/shop/api-1 /status/phase = Pending
              why: The kubelet or attach controller failed 17 times to attach or mount a volume of pod api-1: a ConfigMap it mounts is missing; the attach or mount timed out. The pod cannot start until every volume mounts.
              $ kubectl describe pod api-1 -n shop
              $ kubectl get events -n shop --field-selector involvedObject.name=api-1 --sort-by=.lastTimestamp
              $ kubectl get configmap api-config -n shop
            P3 resolved volume-mount-failures Pod shop/gone-1: volume mounts failing (FailedAttachVolume x2): Multi-Attach error for volume "pvc-123" Volume is already exclusively attached to one node and can't be attached to another
              objects: Pod/shop/gone-1
              event FailedAttachVolume x2 (kubelet): Multi-Attach error for volume "pvc-123" Volume is already exclusively attached to one node and can't be attached to another
              why: The kubelet or attach controller failed 2 times to attach or mount a volume of pod gone-1: the volume is still attached to another node (Multi-Attach). The pod is no longer in the bundle: this is history.
              $ kubectl describe pod gone-1 -n shop
              $ kubectl get events -n shop --field-selector involvedObject.name=gone-1 --sort-by=.lastTimestamp
              $ kubectl get volumeattachments
        "#]],
        );
    }

    #[test]
    fn failures_before_the_containers_started_or_of_a_completed_pod_are_history() {
        let pod = |phase: &str, started: &str| {
            format!(
                r#"
apiVersion: v1
kind: Pod
metadata: {{name: api-1, namespace: shop}}
status:
  phase: {phase}
  containerStatuses: [{{name: api, ready: true, restartCount: 0, state: {{running: {{startedAt: "{started}"}}}}}}]
"#
            )
        };
        let failure = event(
            "a.1",
            "api-1",
            "FailedMount",
            2,
            r#"MountVolume.SetUp failed for volume "kube-api-access" : failed to sync configmap cache: timed out waiting for the condition"#,
        );
        // Started after the last failure (11:58): history.
        check(
            &DIAGNOSTIC,
            &format!("{}{failure}", pod("Running", "2025-06-01T11:58:30Z")),
            expect![[r#"
                P3 resolved volume-mount-failures Pod shop/api-1: volume mounts failing (FailedMount x2): MountVolume.SetUp failed for volume "kube-api-access" : failed to sync configmap cache: timed out waiting for the condition
                  objects: Pod/shop/api-1
                  event FailedMount x2 (kubelet): MountVolume.SetUp failed for volume "kube-api-access" : failed to sync configmap cache: timed out waiting for the condition
                  field Pod/shop/api-1 /status/phase = Running
                  why: The kubelet or attach controller failed 2 times to attach or mount a volume of pod api-1: the kubelet had not synced its ConfigMap cache yet (it was starting). The pod's containers started after the last failure (or it completed): every volume mounted then, so this is history.
                  $ kubectl describe pod api-1 -n shop
                  $ kubectl get events -n shop --field-selector involvedObject.name=api-1 --sort-by=.lastTimestamp
            "#]],
        );
        check(
            &DIAGNOSTIC,
            &format!("{}{failure}", pod("Succeeded", "2025-06-01T11:58:30Z")),
            expect![[r#"
                P3 resolved volume-mount-failures Pod shop/api-1: volume mounts failing (FailedMount x2): MountVolume.SetUp failed for volume "kube-api-access" : failed to sync configmap cache: timed out waiting for the condition
                  objects: Pod/shop/api-1
                  event FailedMount x2 (kubelet): MountVolume.SetUp failed for volume "kube-api-access" : failed to sync configmap cache: timed out waiting for the condition
                  field Pod/shop/api-1 /status/phase = Succeeded
                  why: The kubelet or attach controller failed 2 times to attach or mount a volume of pod api-1: the kubelet had not synced its ConfigMap cache yet (it was starting). The pod's containers started after the last failure (or it completed): every volume mounted then, so this is history.
                  $ kubectl describe pod api-1 -n shop
                  $ kubectl get events -n shop --field-selector involvedObject.name=api-1 --sort-by=.lastTimestamp
            "#]],
        );
        // Running, but the failures went on after the start: still current.
        check(
            &DIAGNOSTIC,
            &format!("{}{failure}", pod("Running", "2025-06-01T11:30:00Z")),
            expect![[r#"
                P2 volume-mount-failures Pod shop/api-1: volume mounts failing (FailedMount x2): MountVolume.SetUp failed for volume "kube-api-access" : failed to sync configmap cache: timed out waiting for the condition
                  objects: Pod/shop/api-1
                  event FailedMount x2 (kubelet): MountVolume.SetUp failed for volume "kube-api-access" : failed to sync configmap cache: timed out waiting for the condition
                  field Pod/shop/api-1 /status/phase = Running
                  why: The kubelet or attach controller failed 2 times to attach or mount a volume of pod api-1: the kubelet had not synced its ConfigMap cache yet (it was starting). The pod runs, but failures went on after its containers started: a volume added or refreshed later.
                  $ kubectl describe pod api-1 -n shop
                  $ kubectl get events -n shop --field-selector involvedObject.name=api-1 --sort-by=.lastTimestamp
            "#]],
        );
    }

    #[test]
    fn other_events_are_not_mount_failures() {
        let fixture = event("a.1", "api-1", "BackOff", 14, "Back-off restarting failed container");
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }

    #[test]
    fn a_pod_missing_from_listed_pods_is_gone_and_from_uncaptured_ones_unknown() {
        let fixture = event(
            "a.1",
            "db-0",
            "FailedMount",
            4,
            "MountVolume.SetUp failed: timed out waiting for the condition",
        );
        // No pod in the bundle, and nothing says pods were listed: it may still be waiting.
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
                P1 volume-mount-failures Pod shop/db-0: volume mounts failing (FailedMount x4): MountVolume.SetUp failed: timed out waiting for the condition
                  objects: Pod/shop/db-0
                  event FailedMount x4 (kubelet): MountVolume.SetUp failed: timed out waiting for the condition
                  why: The kubelet or attach controller failed 4 times to attach or mount a volume of pod db-0: the attach or mount timed out. The bundle does not show its pods, so whether it still waits is unknown.
                  $ kubectl describe pod db-0 -n shop
                  $ kubectl get events -n shop --field-selector involvedObject.name=db-0 --sort-by=.lastTimestamp
            "#]],
        );
        // The bundle listed pods and found none (an empty PodList): the pod is gone, history.
        let mut model = model_from_yaml(&fixture);
        model.listed_kinds.insert("Pod".to_owned());
        let findings = (DIAGNOSTIC.run)(&crate::facts::Facts::new(&model));
        expect![[r#"
            P3 resolved volume-mount-failures Pod shop/db-0: volume mounts failing (FailedMount x4): MountVolume.SetUp failed: timed out waiting for the condition
              objects: Pod/shop/db-0
              event FailedMount x4 (kubelet): MountVolume.SetUp failed: timed out waiting for the condition
              why: The kubelet or attach controller failed 4 times to attach or mount a volume of pod db-0: the attach or mount timed out. The pod is no longer in the bundle: this is history.
              $ kubectl describe pod db-0 -n shop
              $ kubectl get events -n shop --field-selector involvedObject.name=db-0 --sort-by=.lastTimestamp
        "#]]
        .assert_eq(&render(&findings));
    }
}
