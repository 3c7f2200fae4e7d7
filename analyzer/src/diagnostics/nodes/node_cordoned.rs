//! Diagnostic `node-cordoned`: nodes cordoned (unschedulable);
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::nodes::age;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "node-cordoned",
    category: Category::Nodes,
    title: "Nodes cordoned (unschedulable)",
    severities: &[Severity::P2, Severity::P3],
    what: "Nodes marked unschedulable (`spec.unschedulable`, what `kubectl cordon` and `kubectl drain` \
           set), with how long ago (the `node.kubernetes.io/unschedulable` taint's `timeAdded`) and how \
           many pods still run there.",
    why: "A cordon forgotten after maintenance removes capacity: pods go Pending while the node sits idle.",
    fix: "Uncordon the node when its maintenance is over (`kubectl uncordon`), or drain and remove it.",
    example: "`Node worker-3 cordoned for 12d (4 pods still running)`.",
    needs: &[],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let nodes: Vec<&Object> = facts.cluster().of_kind("Node").collect();
    let cordoned: Vec<&Object> = nodes
        .iter()
        .copied()
        .filter(|node| node.at("/spec/unschedulable").and_then(Value::as_bool) == Some(true))
        .collect();
    // Half the cluster cordoned leaves too little room for a rollout or a node failure.
    let severity =
        if cordoned.len() * 2 >= nodes.len() && nodes.len() > 1 { Severity::P2 } else { Severity::P3 };
    cordoned.into_iter().map(|node| finding(facts.cluster(), node, severity, nodes.len())).collect()
}

fn finding(model: &ClusterModel, node: &Object, severity: Severity, total: usize) -> Finding {
    let reference = node.reference();
    let taint = node.array_at("/spec/taints").iter().position(|taint| {
        taint.get("key").and_then(Value::as_str) == Some("node.kubernetes.io/unschedulable")
    });
    let since = taint
        .and_then(|index| node.str_at(&format!("/spec/taints/{index}/timeAdded")))
        .and_then(|text| text.parse::<jiff::Timestamp>().ok());
    let for_text = age::seconds_since(model, since)
        .map(|seconds| format!(" for {}", age::human(seconds)))
        .unwrap_or_default();
    let running = model
        .pods_on_node(&node.name)
        .filter(|pod| !matches!(pod.str_at("/status/phase"), Some("Succeeded" | "Failed")))
        .count();
    let mut finding = DIAGNOSTIC
        .finding(
            severity,
            format!(
                "Node {} cordoned{for_text} ({} still running)",
                node.name,
                super::node_not_ready::plural(running, "pod")
            ),
        )
        .object(reference.clone())
        .evidence(Evidence::field(reference.clone(), "/spec/unschedulable", &true.into()));
    if let Some(index) = taint {
        let pointer = format!("/spec/taints/{index}");
        finding = finding.evidence(Evidence::field(
            reference.clone(),
            pointer.clone(),
            node.at(&pointer).unwrap_or(&Value::Null),
        ));
    }
    let share = if severity == Severity::P2 {
        format!(
            " At least half of the cluster's {total} nodes are cordoned: little room is left for \
             rollouts or a node failure."
        )
    } else {
        String::new()
    };
    finding
        .explanation(format!(
            "Node {} accepts no new pod{for_text}; the pods already there ({running}) keep running. If its \
             maintenance is over, the cordon is only removing capacity.{share}",
            node.name
        ))
        .remediation(kubectl::describe(&reference))
        .remediation(Kubectl::new("uncordon").name(&node.name))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    #[test]
    fn a_cordoned_node_with_its_age() {
        let fixture = r#"
apiVersion: v1
kind: Node
metadata: {name: worker-3}
spec:
  unschedulable: true
  taints: [{key: node.kubernetes.io/unschedulable, effect: NoSchedule, timeAdded: "2025-05-20T12:00:00Z"}]
---
apiVersion: v1
kind: Node
metadata: {name: worker-1}
---
apiVersion: v1
kind: Node
metadata: {name: worker-2}
---
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: shop}
spec: {nodeName: worker-3}
status: {phase: Running}
"#;
        check(
            &DIAGNOSTIC,
            fixture,
            expect![[r#"
            P3 node-cordoned Node worker-3 cordoned for 12d (1 pod still running)
              objects: Node/worker-3
              field Node/worker-3 /spec/unschedulable = true
              field Node/worker-3 /spec/taints/0 = {"effect":"NoSchedule","key":"node.kubernetes.io/unschedulable","timeAdded":"2025-05-20T12:00:00Z"}
              why: Node worker-3 accepts no new pod for 12d; the pods already there (1) keep running. If its maintenance is over, the cordon is only removing capacity.
              $ kubectl describe node worker-3
              $ kubectl uncordon worker-3
        "#]],
        );
    }

    #[test]
    fn schedulable_nodes_are_fine() {
        let fixture =
            "apiVersion: v1\nkind: Node\nmetadata: {name: worker-1}\nspec: {unschedulable: false}\n";
        check(
            &DIAGNOSTIC,
            fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
