//! Diagnostic `node-not-ready`: nodes NotReady; its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::nodes::age;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "node-not-ready",
    category: Category::Nodes,
    title: "Nodes NotReady",
    severities: &[Severity::P0, Severity::P1],
    what: "Nodes whose `Ready` condition is `False` or `Unknown`, with the reason and message, how long ago \
           the kubelet last reported (`lastHeartbeatTime` against the capture), and the pods scheduled \
           there.",
    why: "A NotReady node runs no new pod and its pods are evicted after the timeout; Services lose those \
          endpoints meanwhile. Every node NotReady is an outage.",
    fix: "Read the condition's reason: restart or repair the kubelet or container runtime, fix the CNI, free \
          the node's resources, or replace the node.",
    example: "`Node kind-worker NotReady (KubeletNotReady: container runtime network not ready: \
              NetworkReady=false reason:NetworkPluginNotReady), last heartbeat 2h ago, 5 pods`.",
    needs: &[],
    run,
};

/// How many pods on the node a finding names.
const LISTED_PODS: usize = 10;

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let nodes: Vec<&Object> = facts.cluster().of_kind("Node").collect();
    let not_ready: Vec<&Object> = nodes
        .iter()
        .copied()
        .filter(|node| node.condition("Ready").is_some_and(|(status, _, _)| status != "True"))
        .collect();
    let all_down = !nodes.is_empty() && not_ready.len() == nodes.len();
    not_ready.into_iter().map(|node| finding(facts.cluster(), node, all_down, nodes.len())).collect()
}

fn finding(model: &ClusterModel, node: &Object, all_down: bool, total: usize) -> Finding {
    let reference = node.reference();
    let (status, reason, message) = node.condition("Ready").unwrap_or(("Unknown", "", ""));
    let index = node
        .array_at("/status/conditions")
        .iter()
        .position(|condition| condition.get("type").and_then(Value::as_str) == Some("Ready"))
        .unwrap_or(0);
    let heartbeat = node
        .str_at(&format!("/status/conditions/{index}/lastHeartbeatTime"))
        .and_then(|text| text.parse::<jiff::Timestamp>().ok());
    let silent = age::seconds_since(model, heartbeat);
    let pods: Vec<&Object> = model
        .pods_on_node(&node.name)
        .filter(|pod| !matches!(pod.str_at("/status/phase"), Some("Succeeded" | "Failed")))
        .collect();
    let severity = if all_down { Severity::P0 } else { Severity::P1 };
    let why = match (reason, message) {
        ("", "") => String::new(),
        (reason, "") => format!(" ({reason})"),
        ("", message) => format!(" ({})", message.trim()),
        (reason, message) => format!(" ({reason}: {})", message.trim()),
    };
    let heartbeat_text =
        silent.map(|seconds| format!(", last heartbeat {} ago", age::human(seconds))).unwrap_or_default();
    let mut finding = DIAGNOSTIC
        .finding(
            severity,
            format!("Node {} NotReady{why}{heartbeat_text}, {}", node.name, plural(pods.len(), "pod")),
        )
        .object(reference.clone())
        .evidence(Evidence::field(
            reference.clone(),
            format!("/status/conditions/{index}"),
            node.at(&format!("/status/conditions/{index}")).unwrap_or(&Value::Null),
        ));
    if let Some(taints) = node.at("/spec/taints") {
        finding = finding.evidence(Evidence::field(reference.clone(), "/spec/taints", taints));
    }
    for event in model
        .events_for("Node", None, &node.name)
        .filter(|event| event.reason.contains("NotReady") || event.is_warning())
    {
        finding = finding.evidence(Evidence::event(event));
    }
    for pod in pods.iter().take(LISTED_PODS) {
        finding = finding.object(pod.reference());
    }
    if !pods.is_empty() {
        let names: Vec<&str> = pods.iter().map(|pod| pod.name.as_str()).collect();
        finding = finding.evidence(Evidence::note(format!("pods on the node: {}", names.join(", "))));
    }
    let mut explanation = if status == "Unknown" {
        format!(
            "The kubelet of node {} stopped reporting{heartbeat_text}: the node is down, unreachable, or its \
             kubelet died.",
            node.name
        )
    } else {
        format!("The kubelet of node {} reports it is not ready{why}.", node.name)
    };
    explanation.push_str(&format!(
        " No new pod is scheduled there, and after the eviction timeout (5 minutes by default) its pods \
         ({}) are deleted and recreated elsewhere; until then the Services they back lose those endpoints.",
        pods.len()
    ));
    if all_down {
        explanation
            .push_str(&format!(" All {total} nodes of the cluster are NotReady: nothing new can run."));
    }
    finding
        .explanation(explanation)
        .remediation(kubectl::describe(&reference))
        .remediation(
            Kubectl::new("get pods -A -o wide --field-selector").joined("spec.nodeName=", &node.name),
        )
        .remediation(
            Kubectl::new("debug")
                .joined("node/", &node.name)
                .arg("-it --image=busybox -- chroot /host journalctl -u kubelet -n 100"),
        )
}

/// `1 pod`, `3 pods`.
pub(crate) fn plural(count: usize, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    fn node(name: &str, ready: &str) -> String {
        format!(
            r#"
---
apiVersion: v1
kind: Node
metadata: {{name: {name}}}
status:
  conditions:
  - {{type: MemoryPressure, status: "False"}}
  - {{type: Ready, {ready}}}
"#
        )
    }

    #[test]
    fn unknown_and_false_with_heartbeat_age_and_pods() {
        let fixture = format!(
            "{}{}{}{}",
            node(
                "worker-1",
                r#"status: "Unknown", reason: NodeStatusUnknown, message: "Kubelet stopped posting node status.", lastHeartbeatTime: "2025-06-01T10:00:00Z""#
            ),
            node(
                "worker-2",
                r#"status: "False", reason: KubeletNotReady, message: "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady", lastHeartbeatTime: "2025-06-01T11:59:30Z""#
            ),
            node("worker-3", r#"status: "True""#),
            r#"
---
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: shop}
spec: {nodeName: worker-1}
status: {phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: job-1, namespace: shop}
spec: {nodeName: worker-1}
status: {phase: Succeeded}
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 node-not-ready Node worker-1 NotReady (NodeStatusUnknown: Kubelet stopped posting node status.), last heartbeat 2h ago, 1 pod
              objects: Node/worker-1, Pod/shop/api-1
              field Node/worker-1 /status/conditions/1 = {"lastHeartbeatTime":"2025-06-01T10:00:00Z","message":"Kubelet stopped posting node status.","reason":"NodeStatusUnknown","status":"Unknown","type":"Ready"}
              note: pods on the node: api-1
              why: The kubelet of node worker-1 stopped reporting, last heartbeat 2h ago: the node is down, unreachable, or its kubelet died. No new pod is scheduled there, and after the eviction timeout (5 minutes by default) its pods (1) are deleted and recreated elsewhere; until then the Services they back lose those endpoints.
              $ kubectl describe node worker-1
              $ kubectl get pods -A -o wide --field-selector spec.nodeName=worker-1
              $ kubectl debug node/worker-1 -it --image=busybox -- chroot /host journalctl -u kubelet -n 100
            P1 node-not-ready Node worker-2 NotReady (KubeletNotReady: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady), last heartbeat 30s ago, 0 pods
              objects: Node/worker-2
              field Node/worker-2 /status/conditions/1 = {"lastHeartbeatTime":"2025-06-01T11:59:30Z","message":"container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady","reason":"KubeletNotReady","status":"False","type":"Ready"}
              why: The kubelet of node worker-2 reports it is not ready (KubeletNotReady: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady). No new pod is scheduled there, and after the eviction timeout (5 minutes by default) its pods (0) are deleted and recreated elsewhere; until then the Services they back lose those endpoints.
              $ kubectl describe node worker-2
              $ kubectl get pods -A -o wide --field-selector spec.nodeName=worker-2
              $ kubectl debug node/worker-2 -it --image=busybox -- chroot /host journalctl -u kubelet -n 100
        "#]],
        );
    }

    #[test]
    fn every_node_down_is_p0_and_ready_nodes_are_fine() {
        check(
            &DIAGNOSTIC,
            &node("only", r#"status: "False", reason: KubeletNotReady"#),
            expect![[r#"
            P0 node-not-ready Node only NotReady (KubeletNotReady), 0 pods
              objects: Node/only
              field Node/only /status/conditions/1 = {"reason":"KubeletNotReady","status":"False","type":"Ready"}
              why: The kubelet of node only reports it is not ready (KubeletNotReady). No new pod is scheduled there, and after the eviction timeout (5 minutes by default) its pods (0) are deleted and recreated elsewhere; until then the Services they back lose those endpoints. All 1 nodes of the cluster are NotReady: nothing new can run.
              $ kubectl describe node only
              $ kubectl get pods -A -o wide --field-selector spec.nodeName=only
              $ kubectl debug node/only -it --image=busybox -- chroot /host journalctl -u kubelet -n 100
        "#]],
        );
        check(
            &DIAGNOSTIC,
            &node("only", r#"status: "True""#),
            expect![[r#"
            no findings
        "#]],
        );
    }
}
