//! Diagnostic `node-pressure`: nodes under memory, disk or PID pressure, or without network;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "node-pressure",
    category: Category::Nodes,
    title: "Nodes under memory, disk or PID pressure, or without network",
    severities: &[Severity::P1, Severity::P2],
    what: "Nodes reporting `MemoryPressure`, `DiskPressure` or `PIDPressure` True, or `NetworkUnavailable` \
           True, with the conditions' messages, the taints the node got for them, the pods the kubelet \
           evicted there and its `EvictionThresholdMet` events.",
    why: "The kubelet evicts pods from a node under pressure and the scheduler avoids it; pods on a node \
          without network are unreachable.",
    fix: "Find what consumes the resource (top pods, images and logs on disk, process counts), set requests \
          and limits, clean up or grow the node; for NetworkUnavailable fix the CNI or cloud routes.",
    example: "`Node worker-2 under MemoryPressure, DiskPressure (3 pods evicted)`.",
    needs: &[],
    run,
};

const CONDITIONS: &[&str] = &["MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"];

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    facts.cluster().of_kind("Node").filter_map(|node| finding(facts.cluster(), node)).collect()
}

fn finding(model: &ClusterModel, node: &Object) -> Option<Finding> {
    let reference = node.reference();
    let active: Vec<(usize, &str, &str)> = node
        .array_at("/status/conditions")
        .iter()
        .enumerate()
        .filter_map(|(index, condition)| {
            let kind = condition.get("type").and_then(Value::as_str)?;
            let on = condition.get("status").and_then(Value::as_str) == Some("True");
            let message = condition.get("message").and_then(Value::as_str).unwrap_or_default();
            (on && CONDITIONS.contains(&kind)).then_some((index, kind, message))
        })
        .collect();
    if active.is_empty() {
        return None;
    }
    let kinds: Vec<&str> = active.iter().map(|(_, kind, _)| *kind).collect();
    let evicted: Vec<&Object> = model
        .pods_on_node(&node.name)
        .filter(|pod| pod.str_at("/status/reason") == Some("Evicted"))
        .collect();
    let only_pid = kinds == ["PIDPressure"];
    let severity = if only_pid && evicted.is_empty() { Severity::P2 } else { Severity::P1 };
    let evicted_text = match evicted.len() {
        0 => String::new(),
        1 => " (1 pod evicted)".to_owned(),
        count => format!(" ({count} pods evicted)"),
    };
    let verb = if kinds == ["NetworkUnavailable"] { "has" } else { "under" };
    let mut finding = DIAGNOSTIC
        .finding(severity, format!("Node {} {verb} {}{evicted_text}", node.name, kinds.join(", ")))
        .object(reference.clone());
    for (index, _, _) in &active {
        let pointer = format!("/status/conditions/{index}");
        finding = finding.evidence(Evidence::field(
            reference.clone(),
            pointer.clone(),
            node.at(&pointer).unwrap_or(&Value::Null),
        ));
    }
    if let Some(taints) = node.at("/spec/taints") {
        finding = finding.evidence(Evidence::field(reference.clone(), "/spec/taints", taints));
    }
    for event in model.events_for("Node", None, &node.name).filter(|event| {
        matches!(
            event.reason.as_str(),
            "EvictionThresholdMet" | "FreeDiskSpaceFailed" | "ImageGCFailed" | "SystemOOM"
        )
    }) {
        finding = finding.evidence(Evidence::event(event));
    }
    for pod in &evicted {
        finding = finding.object(pod.reference()).evidence(Evidence::field(
            pod.reference(),
            "/status/message",
            pod.at("/status/message").unwrap_or(&Value::Null),
        ));
    }
    let mut parts: Vec<&str> = Vec::new();
    for kind in &kinds {
        parts.push(match *kind {
            "MemoryPressure" => {
                "memory is short: the kubelet evicts pods, BestEffort and Burstable ones \
                                 above their requests first"
            }
            "DiskPressure" => {
                "the node's filesystem or image filesystem is nearly full: the kubelet \
                               deletes unused images and evicts pods"
            }
            "PIDPressure" => "the node is running out of process IDs: a pod is forking without bound",
            _ => "the node's network is not configured (CNI or cloud routes), so its pods are unreachable",
        });
    }
    let mut finding = finding
        .explanation(format!(
            "Node {}: {}. The scheduler avoids the node while the condition lasts.",
            node.name,
            parts.join("; ")
        ))
        .remediation(kubectl::describe(&reference))
        .remediation(
            Kubectl::new("get pods -A -o wide --field-selector").joined("spec.nodeName=", &node.name),
        );
    if kinds.contains(&"MemoryPressure") {
        finding = finding
            .remediation(Kubectl::new("top node").name(&node.name))
            .remediation(Kubectl::new("top pods -A --sort-by=memory"));
    }
    if kinds.contains(&"DiskPressure") {
        finding = finding.remediation(
            Kubectl::new("debug")
                .joined("node/", &node.name)
                .arg("-it --image=busybox -- df -h /host/var/lib"),
        );
    }
    Some(finding)
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    #[test]
    fn pressure_with_evicted_pods_is_p1_and_pid_alone_p2() {
        let fixture = r#"
apiVersion: v1
kind: Node
metadata: {name: worker-2}
spec: {taints: [{key: node.kubernetes.io/memory-pressure, effect: NoSchedule}]}
status:
  conditions:
  - {type: MemoryPressure, status: "True", reason: KubeletHasInsufficientMemory, message: kubelet has insufficient memory available}
  - {type: DiskPressure, status: "False"}
  - {type: Ready, status: "True"}
---
apiVersion: v1
kind: Pod
metadata: {name: cache-1, namespace: shop}
spec: {nodeName: worker-2}
status: {phase: Failed, reason: Evicted, message: "The node was low on resource: memory. Container cache was using 1.5Gi, request is 256Mi."}
---
apiVersion: v1
kind: Node
metadata: {name: worker-3}
status: {conditions: [{type: PIDPressure, status: "True", reason: KubeletHasInsufficientPID}]}
"#;
        check(
            &DIAGNOSTIC,
            fixture,
            expect![[r#"
            P1 node-pressure Node worker-2 under MemoryPressure (1 pod evicted)
              objects: Node/worker-2, Pod/shop/cache-1
              field Node/worker-2 /status/conditions/0 = {"message":"kubelet has insufficient memory available","reason":"KubeletHasInsufficientMemory","status":"True","type":"MemoryPressure"}
              field Node/worker-2 /spec/taints = [{"effect":"NoSchedule","key":"node.kubernetes.io/memory-pressure"}]
              field Pod/shop/cache-1 /status/message = The node was low on resource: memory. Container cache was using 1.5Gi, request is 256Mi.
              why: Node worker-2: memory is short: the kubelet evicts pods, BestEffort and Burstable ones above their requests first. The scheduler avoids the node while the condition lasts.
              $ kubectl describe node worker-2
              $ kubectl get pods -A -o wide --field-selector spec.nodeName=worker-2
              $ kubectl top node worker-2
              $ kubectl top pods -A --sort-by=memory
            P2 node-pressure Node worker-3 under PIDPressure
              objects: Node/worker-3
              field Node/worker-3 /status/conditions/0 = {"reason":"KubeletHasInsufficientPID","status":"True","type":"PIDPressure"}
              why: Node worker-3: the node is running out of process IDs: a pod is forking without bound. The scheduler avoids the node while the condition lasts.
              $ kubectl describe node worker-3
              $ kubectl get pods -A -o wide --field-selector spec.nodeName=worker-3
        "#]],
        );
    }

    #[test]
    fn healthy_conditions_are_fine() {
        let fixture = r#"
apiVersion: v1
kind: Node
metadata: {name: worker-1}
status:
  conditions:
  - {type: MemoryPressure, status: "False"}
  - {type: NetworkUnavailable, status: "False"}
  - {type: Ready, status: "True"}
"#;
        check(
            &DIAGNOSTIC,
            fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
