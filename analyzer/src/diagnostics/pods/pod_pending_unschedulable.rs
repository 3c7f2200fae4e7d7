//! Diagnostic: pod-pending-unschedulable.
//!
//! **What it checks.** Pending pods the scheduler could not place (`PodScheduled=False`,
//! reason `Unschedulable`, or `FailedScheduling` events), with the scheduler's message sorted
//! into reasons: insufficient CPU/memory/pods, untolerated taints, node selector or affinity
//! that no node matches, unbound PersistentVolumeClaims, volume node affinity, host ports,
//! cordoned nodes.
//!
//! **Why it matters.** The pod never runs; all replicas pending is an outage.
//!
//! **Example.** `Deployment shop/api: 2 of 3 pods unschedulable: insufficient cpu, untolerated
//! taint`, quoting `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint`.

use kubesnap_shared::model::{Event, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::pod_events::PodEvents;
use crate::facts::workload::group_by_workload;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "pod-pending-unschedulable",
    category: Category::Pods,
    title: "Pods the scheduler cannot place",
    severities: &[Severity::P0, Severity::P1],
    what: "Pending pods with PodScheduled=False or FailedScheduling events, with the scheduler's reason: \
           insufficient resources, taints, node selector or affinity, unbound PVCs, ports, cordoned nodes.",
    why: "An unschedulable pod never runs; when no replica of a workload can be placed, the service is down.",
    fix: "Free or add capacity (or lower the requests), add the toleration or fix the selector/affinity, bind \
          the PVC (StorageClass, provisioner), or uncordon nodes, as the reason says.",
    needs: &[],
    run,
};

/// Patterns of the scheduler's message and the reason each names.
const REASONS: &[(&str, &str)] = &[
    ("insufficient cpu", "insufficient cpu"),
    ("insufficient memory", "insufficient memory"),
    ("insufficient ephemeral-storage", "insufficient ephemeral storage"),
    ("insufficient pods", "nodes are full (pod count)"),
    ("insufficient nvidia.com/gpu", "insufficient GPUs"),
    ("untolerated taint", "untolerated taint"),
    ("had taint", "untolerated taint"),
    ("didn't match pod's node affinity/selector", "node selector/affinity matches no node"),
    ("didn't match node selector", "node selector/affinity matches no node"),
    ("unbound immediate persistentvolumeclaims", "unbound PersistentVolumeClaim"),
    ("persistentvolumeclaim", "PersistentVolumeClaim problem"),
    ("volume node affinity conflict", "volume node affinity conflict"),
    ("didn't have free ports", "host port in use"),
    ("didn't match pod anti-affinity", "pod anti-affinity"),
    ("didn't match pod affinity", "pod affinity"),
    ("node(s) were unschedulable", "nodes cordoned"),
    ("no nodes available", "no nodes"),
];

/// The reasons a scheduler message gives, in table order, without repeats.
fn reasons(message: &str) -> Vec<&'static str> {
    let message = message.to_lowercase();
    let mut out: Vec<&'static str> = Vec::new();
    for (pattern, reason) in REASONS {
        if message.contains(pattern) && !out.contains(reason) {
            // "persistentvolumeclaim" also matches the unbound case; keep the precise one.
            if *reason == "PersistentVolumeClaim problem" && out.contains(&"unbound PersistentVolumeClaim") {
                continue;
            }
            out.push(reason);
        }
    }
    out
}

struct Pending<'a> {
    message: String,
    pointer: Option<&'static str>,
    event: Option<&'a Event>,
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let events = PodEvents::new(facts.cluster(), &["FailedScheduling"]);
    let affected: Vec<(&Object, Pending<'_>)> = facts
        .cluster()
        .of_kind("Pod")
        .filter(|pod| pod.str_at("/status/phase") == Some("Pending") && pod.deleting_since().is_none())
        .filter_map(|pod| {
            let event = events.last(pod);
            let condition = pod.condition("PodScheduled").filter(|(status, _, _)| *status == "False");
            match (condition, event) {
                (Some((_, _, message)), event) if !message.is_empty() => Some((
                    pod,
                    Pending { message: message.to_owned(), pointer: Some("/status/conditions"), event },
                )),
                (_, Some(event)) => {
                    Some((pod, Pending { message: event.message.clone(), pointer: None, event: Some(event) }))
                }
                (Some(_), None) => Some((
                    pod,
                    Pending { message: String::new(), pointer: Some("/status/conditions"), event: None },
                )),
                (None, None) => None,
            }
        })
        .collect();
    let mut findings = Vec::new();
    for group in group_by_workload(facts, affected) {
        let Some((pod, pending)) = group.pods.first() else { continue };
        let pod_ref = pod.reference();
        let reasons = reasons(&pending.message);
        let summary = if reasons.is_empty() { "no reason given".to_owned() } else { reasons.join(", ") };
        let severity = if group.is_outage() { Severity::P0 } else { Severity::P1 };
        let mut finding = DIAGNOSTIC.finding(severity, format!("{} unschedulable: {summary}", group.label()));
        for object in group.objects() {
            finding = finding.object(object);
        }
        if let (Some(pointer), false) = (pending.pointer, pending.message.is_empty()) {
            let index = pod
                .array_at(pointer)
                .iter()
                .position(|condition| condition.get("type").and_then(|v| v.as_str()) == Some("PodScheduled"))
                .unwrap_or(0);
            finding = finding.evidence(Evidence::field(
                pod_ref.clone(),
                format!("{pointer}/{index}/message"),
                &pending.message.as_str().into(),
            ));
        }
        if let Some(event) = pending.event {
            finding = finding.evidence(Evidence::event(event));
        }
        for (index, container) in pod.array_at("/spec/containers").iter().enumerate() {
            if let Some(requests) = container.pointer("/resources/requests") {
                finding = finding.evidence(Evidence::field(
                    pod_ref.clone(),
                    format!("/spec/containers/{index}/resources/requests"),
                    requests,
                ));
            }
        }
        if let Some(selector) = pod.at("/spec/nodeSelector") {
            finding = finding.evidence(Evidence::field(pod_ref.clone(), "/spec/nodeSelector", selector));
        }
        if group.pods.len() > 1 {
            finding =
                finding.evidence(Evidence::note(format!("also pending: {}", group.other_pods().join(", "))));
        }
        let quoted = if pending.message.is_empty() {
            String::new()
        } else {
            format!(" The scheduler says: \"{}\".", pending.message.trim().trim_end_matches('.'))
        };
        finding = finding.explanation(format!(
            "Pod {} is Pending because no node can take it ({summary}).{quoted} It will stay Pending until the \
             cause is removed; the scheduler retries on its own.",
            pod.name
        ));
        finding = finding.remediation(kubectl::describe(&pod_ref));
        for reason in &reasons {
            let command = match *reason {
                "insufficient cpu"
                | "insufficient memory"
                | "insufficient ephemeral storage"
                | "nodes are full (pod count)" => {
                    "kubectl describe nodes | grep -A 8 'Allocated resources'".to_owned()
                }
                "untolerated taint" => {
                    "kubectl get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints".to_owned()
                }
                "node selector/affinity matches no node" => "kubectl get nodes --show-labels".to_owned(),
                "unbound PersistentVolumeClaim"
                | "PersistentVolumeClaim problem"
                | "volume node affinity conflict" => {
                    format!("kubectl get pvc{}", kubectl::namespace_flag(&pod_ref))
                }
                "nodes cordoned" => "kubectl get nodes".to_owned(),
                _ => continue,
            };
            finding = finding.remediation(command);
        }
        findings.push(finding);
    }
    findings
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::diagnostics::testing::check;

    #[test]
    fn sorts_the_scheduler_message_into_reasons() {
        let message = "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint \
                       {node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available";
        assert_eq!(reasons(message), ["insufficient cpu", "untolerated taint"]);
        assert_eq!(
            reasons("0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims."),
            ["unbound PersistentVolumeClaim"]
        );
    }

    const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: big, namespace: ml}
spec:
  nodeSelector: {gpu: "true"}
  containers: [{name: train, image: t, resources: {requests: {cpu: "64", memory: 256Gi}}}]
status:
  phase: Pending
  conditions:
  - {type: PodScheduled, status: "False", reason: Unschedulable, message: "0/3 nodes are available: 3 Insufficient cpu, 3 node(s) didn't match Pod's node affinity/selector."}
"#;

    #[test]
    fn a_pending_pod_names_the_scheduler_reasons() {
        check(
            &DIAGNOSTIC,
            POD,
            expect![[r#"
            P1 pod-pending-unschedulable Pod ml/big unschedulable: insufficient cpu, node selector/affinity matches no node
              objects: Pod/ml/big
              field Pod/ml/big /status/conditions/0/message = 0/3 nodes are available: 3 Insufficient cpu, 3 node(s) didn't match Pod's node affinity/selector.
              field Pod/ml/big /spec/containers/0/resources/requests = {"cpu":"64","memory":"256Gi"}
              field Pod/ml/big /spec/nodeSelector = {"gpu":"true"}
              why: Pod big is Pending because no node can take it (insufficient cpu, node selector/affinity matches no node). The scheduler says: "0/3 nodes are available: 3 Insufficient cpu, 3 node(s) didn't match Pod's node affinity/selector". It will stay Pending until the cause is removed; the scheduler retries on its own.
              $ kubectl describe pod big -n ml
              $ kubectl describe nodes | grep -A 8 'Allocated resources'
              $ kubectl get nodes --show-labels
        "#]],
        );
    }

    #[test]
    fn scheduled_and_running_pods_are_fine() {
        let fixture =
            POD.replace("phase: Pending", "phase: Running").replace("status: \"False\"", "status: \"True\"");
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
