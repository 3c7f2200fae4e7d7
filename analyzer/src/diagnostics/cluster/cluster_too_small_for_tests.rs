//! Diagnostic `cluster-too-small-for-tests`: conformance tests that failed because the cluster is too small;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{Object, PluginResult, TestFailure};

use crate::diagnostics::Diagnostic;
use crate::diagnostics::Need;
use crate::facts::Facts;
use crate::facts::conformance::{SizeNeed, size_need};
use crate::facts::kubectl::Kubectl;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "cluster-too-small-for-tests",
    category: Category::Cluster,
    title: "Conformance tests that failed because the cluster is too small",
    severities: &[Severity::P3],
    what: "Failed tests of a conformance run (sonobuoy plugin results) whose message says the cluster is \
           too small for them: \"needs a cluster with at least 2 nodes\", \"all nodes are already heavily \
           utilized\", \"not enough nodes\". It is a finding when the cluster has fewer nodes than a test \
           asks for, or a test found no room; the evidence is each node's allocatable CPU, memory and pods \
           and whether it takes ordinary pods.",
    why: "Those failures are about the test environment, not a fault of the cluster; read as a broken \
          cluster they send the engineer after the wrong thing.",
    fix: "Run the suite on a cluster with as many schedulable nodes as the tests ask for, or skip those \
          tests on a small cluster (`sonobuoy run --e2e-skip ...`).",
    example: "`3 failed tests of plugin e2e need a bigger cluster (at least 2 nodes); the cluster has a \
              single node (kind-control-plane)`.",
    needs: &[Need::Kind("Node")],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let nodes: Vec<&Object> = facts.cluster().of_kind("Node").collect();
    facts.cluster().plugin_results.iter().filter_map(|result| finding(result, &nodes)).collect()
}

fn finding(result: &PluginResult, nodes: &[&Object]) -> Option<Finding> {
    let count = u32::try_from(nodes.len()).unwrap_or(u32::MAX);
    let too_small: Vec<(&TestFailure, SizeNeed)> = result
        .failures
        .iter()
        .filter_map(|failure| size_need(failure).map(|need| (failure, need)))
        .filter(|(_, need)| match need {
            SizeNeed::Nodes(wanted) => *wanted > count,
            SizeNeed::Room => true,
        })
        .collect();
    if too_small.is_empty() {
        return None;
    }
    let wanted = too_small
        .iter()
        .filter_map(|(_, need)| match need {
            SizeNeed::Nodes(wanted) => Some(*wanted),
            SizeNeed::Room => None,
        })
        .max();
    let names: Vec<&str> = nodes.iter().map(|node| node.name.as_str()).collect();
    let has = match nodes.len() {
        0 => "no node in the bundle".to_owned(),
        1 => format!("a single node ({})", names[0]),
        n if n <= 3 => format!("{n} nodes ({})", names.join(", ")),
        n => format!("{n} nodes"),
    };
    let tests = if too_small.len() == 1 { "test".to_owned() } else { "tests".to_owned() };
    let title = match wanted {
        Some(wanted) => format!(
            "{} failed {tests} of plugin {} need a bigger cluster (at least {wanted} nodes); the cluster \
             has {has}",
            too_small.len(),
            result.plugin
        ),
        None => format!(
            "{} failed {tests} of plugin {} found no room on the cluster's nodes; the cluster has {has}",
            too_small.len(),
            result.plugin
        ),
    };
    let mut finding = DIAGNOSTIC.finding(Severity::P3, title);
    for node in nodes {
        finding = finding.object(node.reference()).evidence(Evidence::note(node_capacity(node)));
    }
    for (failure, _) in &too_small {
        finding = finding.evidence(Evidence::note(format!("failed: {}: {}", failure.name, failure.message)));
    }
    Some(
        finding
            .evidence(Evidence::note(format!("results: {}", result.source)))
            .explanation(format!(
                "These tests of the {} plugin refuse to run on a cluster this size and say so in their \
                 failure: the failures are about the test environment, not a fault of the cluster. The \
                 cluster has {has}.",
                result.plugin
            ))
            .remediation(Kubectl::new("get nodes -o wide"))
            .remediation(Kubectl::new("describe nodes")),
    )
}

/// `Node a: allocatable cpu 8, memory 30823900Ki, pods 110; takes ordinary pods`.
fn node_capacity(node: &Object) -> String {
    let allocatable = |resource: &str| {
        node.at(&format!("/status/allocatable/{resource}")).and_then(Value::as_str).unwrap_or("?").to_owned()
    };
    let cordoned = node.at("/spec/unschedulable").and_then(Value::as_bool) == Some(true);
    let tainted: Vec<String> = node
        .at("/spec/taints")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|taint| {
            matches!(taint.get("effect").and_then(Value::as_str), Some("NoSchedule" | "NoExecute"))
        })
        .filter_map(|taint| taint.get("key").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let takes = if cordoned {
        "cordoned".to_owned()
    } else if tainted.is_empty() {
        "takes ordinary pods".to_owned()
    } else {
        format!("tainted {}", tainted.join(", "))
    };
    format!(
        "Node {}: allocatable cpu {}, memory {}, pods {}; {takes}",
        node.name,
        allocatable("cpu"),
        allocatable("memory"),
        allocatable("pods")
    )
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::testing::{model_from_yaml, render};

    const ONE_NODE: &str = r#"
apiVersion: v1
kind: Node
metadata: {name: kind-control-plane}
status: {allocatable: {cpu: "8", memory: 30823900Ki, pods: "110"}}
"#;

    fn result(messages: &[&str]) -> PluginResult {
        PluginResult {
            plugin: "e2e".into(),
            status: "failed".into(),
            passed: 21,
            failed: messages.len() as u64,
            skipped: 0,
            other: 0,
            failures: messages
                .iter()
                .enumerate()
                .map(|(i, message)| TestFailure { name: format!("test {i}"), message: (*message).into() })
                .collect(),
            source: "plugins/e2e/sonobuoy_results.yaml".into(),
        }
    }

    #[test]
    fn tests_that_need_two_nodes_on_a_single_node() {
        let mut model = model_from_yaml(ONE_NODE);
        model.plugin_results.push(result(&[
            "Conformance test suite needs a cluster with at least 2 nodes.",
            "We need at least two pods to be created but all nodes are already heavily utilized",
            "Timed out after 10m0s waiting for stable cluster",
        ]));
        expect![[r#"
            P3 cluster-too-small-for-tests 2 failed tests of plugin e2e need a bigger cluster (at least 2 nodes); the cluster has a single node (kind-control-plane)
              objects: Node/kind-control-plane
              note: Node kind-control-plane: allocatable cpu 8, memory 30823900Ki, pods 110; takes ordinary pods
              note: failed: test 0: Conformance test suite needs a cluster with at least 2 nodes.
              note: failed: test 1: We need at least two pods to be created but all nodes are already heavily utilized
              note: results: plugins/e2e/sonobuoy_results.yaml
              why: These tests of the e2e plugin refuse to run on a cluster this size and say so in their failure: the failures are about the test environment, not a fault of the cluster. The cluster has a single node (kind-control-plane).
              $ kubectl get nodes -o wide
              $ kubectl describe nodes
        "#]]
        .assert_eq(&render(&run(&Facts::new(&model))));
    }

    #[test]
    fn enough_nodes_or_other_failures_are_no_finding() {
        let mut model = model_from_yaml(ONE_NODE);
        model.plugin_results.push(result(&["Conformance test suite needs a cluster with at least 1 nodes."]));
        model.plugin_results.push(result(&["Timed out after 10m0s waiting for stable cluster"]));
        assert!(run(&Facts::new(&model)).is_empty());
    }
}
