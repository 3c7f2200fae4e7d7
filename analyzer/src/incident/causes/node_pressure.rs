//! Rule `node-pressure`: a node under memory, disk or PID pressure evicts its pods.
//!
//! Fires for each node whose `MemoryPressure`, `DiskPressure` or `PIDPressure` condition is
//! True. Evicted pods on it make it likely (70, plus 4 per evicted pod up to 5); failing pods on
//! it without evictions make it possible (45); pressure alone is a risk (30).

use jiff::Timestamp;
use kubesnap_shared::json::Value;
use kubesnap_shared::model::Object;

use super::{Context, Hypothesis, Step, first_failure};
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::network::pod_health;
use crate::finding::Severity;

const PRESSURES: [&str; 3] = ["MemoryPressure", "DiskPressure", "PIDPressure"];

pub(super) fn rule(context: &Context<'_, '_>) -> Vec<Hypothesis> {
    let facts = context.facts;
    let mut out = Vec::new();
    for node in facts.cluster().of_kind("Node") {
        let pressures: Vec<(&str, Option<Timestamp>, String)> = PRESSURES
            .iter()
            .filter_map(|kind| {
                let condition = node.array_at("/status/conditions").iter().find(|c| {
                    c.get("type").and_then(Value::as_str) == Some(kind)
                        && c.get("status").and_then(Value::as_str) == Some("True")
                })?;
                let since =
                    condition.get("lastTransitionTime").and_then(Value::as_str).and_then(|t| t.parse().ok());
                let message = condition.get("message").and_then(Value::as_str).unwrap_or_default().to_owned();
                Some((*kind, since, message))
            })
            .collect();
        if pressures.is_empty() {
            continue;
        }
        let reference = node.reference();
        let pods: Vec<&Object> = facts.cluster().pods_on_node(&node.name).collect();
        let evicted: Vec<&&Object> =
            pods.iter().filter(|pod| pod.str_at("/status/reason") == Some("Evicted")).collect();
        let failing: Vec<&&Object> = pods
            .iter()
            .filter(|pod| {
                pod.str_at("/status/reason") != Some("Evicted") && pod_health::trouble(pod).is_some()
            })
            .collect();
        let names: Vec<&str> = pressures.iter().map(|(kind, _, _)| *kind).collect();
        let (score, title) = match (evicted.len(), failing.len()) {
            (0, 0) => (30, format!("Node {} is under {}", node.name, names.join(" and "))),
            (0, count) => (
                45,
                format!("Node {} under {} while {count} of its pods fail", node.name, names.join(" and ")),
            ),
            (count, _) => (
                70 + 4 * count.min(5) as u32,
                format!("Node {} under {} evicted {count} pods", node.name, names.join(" and ")),
            ),
        };
        let mut hypothesis = context.hypothesis("node-pressure", title, score, Severity::P1);
        hypothesis.objects.push(reference.clone());
        for (kind, since, message) in &pressures {
            hypothesis.chain.push(Step::new(
                *since,
                reference.clone(),
                format!("{kind}=True {message}").trim().to_owned(),
            ));
        }
        let mut objects = vec![reference.clone()];
        for pod in evicted.iter().take(5) {
            let at = first_failure(facts.cluster(), pod)
                .or_else(|| pod.str_at("/status/startTime").and_then(|t| t.parse().ok()));
            let message = pod.str_at("/status/message").unwrap_or("evicted");
            hypothesis.chain.push(Step::new(
                at,
                pod.reference(),
                format!("pod {} evicted: {message}", pod.name),
            ));
            objects.push(pod.reference());
        }
        for pod in failing.iter().take(3) {
            if let Some(trouble) = pod_health::trouble(pod) {
                hypothesis.evidence.push(format!("pod {} on the node: {trouble}", pod.reference().name));
            }
            objects.push(pod.reference());
        }
        hypothesis.evidence.push(format!(
            "{} pods on node {}: {} evicted, {} failing otherwise",
            pods.len(),
            node.name,
            evicted.len(),
            failing.len()
        ));
        hypothesis.findings =
            context.linked(&["node-pressure", "pod-evicted", "ephemeral-storage-pressure"], &objects);
        hypothesis.objects.extend(objects.into_iter().skip(1));
        hypothesis.mitigation.push(kubectl::describe(&reference).into());
        hypothesis.mitigation.push(Kubectl::new("cordon").name(&node.name).into());
        hypothesis.mitigation.push(match names.contains(&"DiskPressure") {
            true => Kubectl::new("get pods -A -o wide --field-selector")
                .joined("spec.nodeName=", &node.name)
                .into(),
            false => Kubectl::new("top pods -A --sort-by=memory").into(),
        });
        if !evicted.is_empty() {
            hypothesis.mitigation.push(
                Kubectl::new("get pods -A --field-selector")
                    .name(&format!("spec.nodeName={},status.phase=Failed", node.name))
                    .into(),
            );
        }
        out.push(hypothesis);
    }
    out
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::incident::causes::tests::of_rule;

    const NODE: &str = r#"
kind: Node
apiVersion: v1
metadata: {name: node-1}
status:
  conditions:
  - {type: Ready, status: "True"}
  - {type: MemoryPressure, status: "True", reason: KubeletHasInsufficientMemory, message: "kubelet has insufficient memory available", lastTransitionTime: "2025-06-01T11:40:00Z"}
"#;

    #[test]
    fn a_node_under_pressure_evicting_pods_is_the_cause() {
        let fixture = format!(
            "{NODE}{}",
            r#"
---
kind: Pod
apiVersion: v1
metadata: {name: api-1, namespace: shop}
spec: {nodeName: node-1, containers: [{name: api, image: api:1}]}
status: {phase: Failed, reason: Evicted, message: "The node was low on resource: memory.", startTime: "2025-06-01T11:00:00Z"}
---
kind: Event
apiVersion: v1
metadata: {name: api-1.1, namespace: shop}
involvedObject: {kind: Pod, name: api-1, namespace: shop}
type: Warning
reason: Evicted
message: "The node was low on resource: memory."
firstTimestamp: "2025-06-01T11:42:00Z"
lastTimestamp: "2025-06-01T11:42:00Z"
"#
        );
        expect![[r#"
            1. [node-pressure 84 P1] Node node-1 under MemoryPressure evicted 1 pods
               2025-06-01T11:40:00Z Node/node-1: MemoryPressure=True kubelet has insufficient memory available
               2025-06-01T11:42:00Z Pod/shop/api-1: pod api-1 evicted: The node was low on resource: memory.
               finding node-pressure: Node node-1 under MemoryPressure (1 pod evicted)
               finding pod-evicted: Pod shop/api-1 evicted: The node was low on resource: memory
               evidence: 1 pods on node node-1: 1 evicted, 0 failing otherwise
               $ kubectl describe node node-1
               $ kubectl cordon node-1
               $ kubectl top pods -A --sort-by=memory
               $ kubectl get pods -A --field-selector spec.nodeName=node-1,status.phase=Failed
        "#]]
        .assert_eq(&of_rule(&fixture, "node-pressure"));
    }

    #[test]
    fn a_healthy_node_is_no_cause() {
        let fixture = NODE.replace("MemoryPressure, status: \"True\"", "MemoryPressure, status: \"False\"");
        expect![[r#""#]].assert_eq(&of_rule(&fixture, "node-pressure"));
    }
}
