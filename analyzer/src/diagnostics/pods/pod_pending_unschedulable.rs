//! Diagnostic `pod-pending-unschedulable`: pods the scheduler cannot place;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::{Event, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::pod_events::PodEvents;
use crate::facts::workload::{Origin, group_by_workload, origin};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "pod-pending-unschedulable",
    category: Category::Pods,
    title: "Pods the scheduler cannot place",
    severities: &[Severity::P0, Severity::P1, Severity::P2, Severity::P3],
    what: "Pending pods the scheduler could not place (`PodScheduled=False`, reason `Unschedulable`, or \
           `FailedScheduling` events), with the scheduler's message sorted into reasons: insufficient \
           CPU/memory/pods, untolerated taints, node selector or affinity that no node matches, unbound \
           PersistentVolumeClaims, volume node affinity, host ports, cordoned nodes.",
    why: "An unschedulable pod never runs; when no replica of a workload can be placed, the service is down.",
    fix: "Free or add capacity (or lower the requests), add the toleration or fix the selector/affinity, \
          bind the PVC (StorageClass, provisioner), or uncordon nodes, as the reason says.",
    example: "`Deployment shop/api: 2 of 3 pods unschedulable: insufficient cpu, untolerated taint`, \
              quoting `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint`.",
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
        let (severity, note) = severity(facts, pod, group.is_outage(), &reasons);
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
            "Pod {} is Pending because no node can take it ({summary}).{quoted} It will stay Pending \
             until the cause is removed; the scheduler retries on its own.{note}",
            pod.name
        ));
        finding = finding.remediation(kubectl::describe(&pod_ref));
        for reason in &reasons {
            let command = match *reason {
                "insufficient cpu"
                | "insufficient memory"
                | "insufficient ephemeral storage"
                | "nodes are full (pod count)" => {
                    Kubectl::new("describe nodes | grep -A 8 'Allocated resources'")
                }
                "untolerated taint" => {
                    Kubectl::new("get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints")
                }
                "node selector/affinity matches no node" => Kubectl::new("get nodes --show-labels"),
                "unbound PersistentVolumeClaim"
                | "PersistentVolumeClaim problem"
                | "volume node affinity conflict" => Kubectl::new("get pvc").namespace_of(&pod_ref),
                "nodes cordoned" => Kubectl::new("get nodes"),
                _ => continue,
            };
            finding = finding.remediation(command);
        }
        findings.push(finding);
    }
    findings
}

/// How bad a pending pod is, by what runs it: every replica of a serving workload pending is an
/// outage (P0); a DaemonSet pod is one node's copy, and one blocked only by a host port another
/// pod holds on that node is a scheduling conflict (P2); a collection or test tool's pod
/// describes the collection, not the cluster (P3). The note says why, for the explanation.
fn severity(facts: &Facts<'_>, pod: &Object, outage: bool, reasons: &[&str]) -> (Severity, String) {
    match origin(facts, pod) {
        Origin::Tool(tool) => (
            Severity::P3,
            format!(" The pod belongs to {tool}: it describes that run, not a workload of the cluster."),
        ),
        Origin::LongRunning(owner) if owner.kind == "DaemonSet" => {
            if reasons == ["host port in use"] {
                (
                    Severity::P2,
                    " It is a DaemonSet's copy for one node, and another pod on that node already holds the \
                     host port it asks for: a port conflict on that node, not an outage of the workloads \
                     already running."
                        .to_owned(),
                )
            } else {
                (Severity::P1, String::new())
            }
        }
        _ if outage => (Severity::P0, String::new()),
        _ => (Severity::P1, String::new()),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::testing::check;

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
    fn a_daemonset_pod_blocked_by_a_host_port_is_a_p2_conflict_and_a_test_pod_a_p3_note() {
        let svclb = r#"
apiVersion: v1
kind: Pod
metadata:
  name: svclb-web-abcde
  namespace: shop
  ownerReferences: [{kind: DaemonSet, name: svclb-web, uid: d1, controller: true}]
spec: {containers: [{name: lb-port-80, ports: [{containerPort: 80, hostPort: 80}]}]}
status:
  phase: Pending
  conditions:
  - {type: PodScheduled, status: "False", reason: Unschedulable, message: "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."}
"#;
        check(
            &DIAGNOSTIC,
            svclb,
            expect![[r#"
                P2 pod-pending-unschedulable DaemonSet shop/svclb-web: 1 of 1 pod unschedulable: host port in use
                  objects: DaemonSet/shop/svclb-web, Pod/shop/svclb-web-abcde
                  field Pod/shop/svclb-web-abcde /status/conditions/0/message = 0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.
                  why: Pod svclb-web-abcde is Pending because no node can take it (host port in use). The scheduler says: "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports". It will stay Pending until the cause is removed; the scheduler retries on its own. It is a DaemonSet's copy for one node, and another pod on that node already holds the host port it asks for: a port conflict on that node, not an outage of the workloads already running.
                  $ kubectl describe pod svclb-web-abcde -n shop
            "#]],
        );
        let test_pod = format!(
            "{}---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: ml, labels: {{e2e-run: abc}}}}\n",
            POD
        );
        check(
            &DIAGNOSTIC,
            &test_pod,
            expect![[r#"
                P3 pod-pending-unschedulable Pod ml/big unschedulable: insufficient cpu, node selector/affinity matches no node
                  objects: Pod/ml/big
                  field Pod/ml/big /status/conditions/0/message = 0/3 nodes are available: 3 Insufficient cpu, 3 node(s) didn't match Pod's node affinity/selector.
                  field Pod/ml/big /spec/containers/0/resources/requests = {"cpu":"64","memory":"256Gi"}
                  field Pod/ml/big /spec/nodeSelector = {"gpu":"true"}
                  why: Pod big is Pending because no node can take it (insufficient cpu, node selector/affinity matches no node). The scheduler says: "0/3 nodes are available: 3 Insufficient cpu, 3 node(s) didn't match Pod's node affinity/selector". It will stay Pending until the cause is removed; the scheduler retries on its own. The pod belongs to a Kubernetes end-to-end (conformance) test run, which names its namespaces so: it describes that run, not a workload of the cluster.
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
