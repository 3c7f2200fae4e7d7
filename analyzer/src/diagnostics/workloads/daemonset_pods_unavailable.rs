//! Diagnostic `daemonset-pods-unavailable`: daemonSets missing pods on nodes;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::workload::tool_of_labels;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "daemonset-pods-unavailable",
    category: Category::Workloads,
    title: "DaemonSets missing pods on nodes",
    severities: &[Severity::P1, Severity::P2, Severity::P3],
    what: "DaemonSets with fewer available pods than nodes that should run one (`numberAvailable < \
           desiredNumberScheduled`), and pods scheduled where they should not be (`numberMisscheduled`).",
    why: "DaemonSets run node agents: a node without its CNI, kube-proxy, CSI or log agent loses networking, \
          storage or observability.",
    fix: "Find the nodes whose pod is missing or failing (`kubectl get pods -o wide`), then fix the pod (the \
          pod findings say why) or the node's taints.",
    example: "`DaemonSet kube-system/calico-node: 4 of 6 pods available`.",
    needs: &[],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for set in facts.cluster().of_kind("DaemonSet") {
        let desired = set.i64_at("/status/desiredNumberScheduled").unwrap_or(0);
        let available = set.i64_at("/status/numberAvailable").unwrap_or(0);
        let misscheduled = set.i64_at("/status/numberMisscheduled").unwrap_or(0);
        if available >= desired && misscheduled == 0 {
            continue;
        }
        let object = set.reference();
        let namespace = set.namespace.as_deref().unwrap_or_default();
        // A collection or test tool's DaemonSet (its template's labels say so) describes that run.
        let template_labels: BTreeMap<String, String> = set
            .at("/spec/template/metadata/labels")
            .and_then(Value::as_object)
            .map(|map| map.iter().filter_map(|(k, v)| Some((k.to_owned(), v.as_str()?.to_owned()))).collect())
            .unwrap_or_default();
        let tool = tool_of_labels(&template_labels);
        let severity = if tool.is_some() {
            Severity::P3
        } else if desired > 0 && available == 0 {
            Severity::P1
        } else {
            Severity::P2
        };
        let mut title =
            format!("DaemonSet {namespace}/{}: {available} of {desired} pods available", set.name);
        if misscheduled > 0 {
            title.push_str(&format!(", {misscheduled} misscheduled"));
        }
        let mut finding = DIAGNOSTIC
            .finding(severity, title)
            .object(object.clone())
            .evidence(Evidence::field(object.clone(), "/status/desiredNumberScheduled", &desired.into()))
            .evidence(Evidence::field(object.clone(), "/status/numberAvailable", &available.into()));
        if misscheduled > 0 {
            finding = finding.evidence(Evidence::field(
                object.clone(),
                "/status/numberMisscheduled",
                &misscheduled.into(),
            ));
        }
        findings.push(
            finding
                .explanation(
                    format!(
                        "DaemonSet {} should run a pod on {desired} nodes and {available} are available: {} \
                     nodes run without this agent.{}",
                        set.name,
                        (desired - available).max(0),
                        if misscheduled > 0 {
                            " Some pods run on nodes the DaemonSet no longer \
                                           selects."
                        } else {
                            ""
                        }
                    ) + &tool
                        .map(|tool| {
                            format!(
                                " It belongs to {tool}: it describes that run, not an agent of \
                                         the cluster."
                            )
                        })
                        .unwrap_or_default(),
                )
                .remediation(kubectl::describe(&object))
                .remediation(Kubectl::new("get pods").namespace_of(&object).arg("-o wide"))
                .remediation(kubectl::rollout("status", &object)),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    fn fixture(available: u32) -> String {
        format!(
            r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: calico-node, namespace: kube-system}}
status: {{desiredNumberScheduled: 6, numberAvailable: {available}, numberReady: {available}, numberMisscheduled: 0}}
"#
        )
    }

    #[test]
    fn missing_agents_are_reported() {
        check(
            &DIAGNOSTIC,
            &fixture(4),
            expect![[r#"
            P2 daemonset-pods-unavailable DaemonSet kube-system/calico-node: 4 of 6 pods available
              objects: DaemonSet/kube-system/calico-node
              field DaemonSet/kube-system/calico-node /status/desiredNumberScheduled = 6
              field DaemonSet/kube-system/calico-node /status/numberAvailable = 4
              why: DaemonSet calico-node should run a pod on 6 nodes and 4 are available: 2 nodes run without this agent.
              $ kubectl describe daemonset calico-node -n kube-system
              $ kubectl get pods -n kube-system -o wide
              $ kubectl rollout status daemonset/calico-node -n kube-system
        "#]],
        );
        check(
            &DIAGNOSTIC,
            &fixture(0),
            expect![[r#"
            P1 daemonset-pods-unavailable DaemonSet kube-system/calico-node: 0 of 6 pods available
              objects: DaemonSet/kube-system/calico-node
              field DaemonSet/kube-system/calico-node /status/desiredNumberScheduled = 6
              field DaemonSet/kube-system/calico-node /status/numberAvailable = 0
              why: DaemonSet calico-node should run a pod on 6 nodes and 0 are available: 6 nodes run without this agent.
              $ kubectl describe daemonset calico-node -n kube-system
              $ kubectl get pods -n kube-system -o wide
              $ kubectl rollout status daemonset/calico-node -n kube-system
        "#]],
        );
    }

    #[test]
    fn a_collection_tools_daemonset_is_a_note() {
        let tool = fixture(0).replace(
            "status:",
            "spec: {template: {metadata: {labels: {sonobuoy-component: plugin}}}}\nstatus:",
        );
        check(
            &DIAGNOSTIC,
            &tool,
            expect![[r#"
                P3 daemonset-pods-unavailable DaemonSet kube-system/calico-node: 0 of 6 pods available
                  objects: DaemonSet/kube-system/calico-node
                  field DaemonSet/kube-system/calico-node /status/desiredNumberScheduled = 6
                  field DaemonSet/kube-system/calico-node /status/numberAvailable = 0
                  why: DaemonSet calico-node should run a pod on 6 nodes and 0 are available: 6 nodes run without this agent. It belongs to sonobuoy, a conformance and diagnostics tool: it describes that run, not an agent of the cluster.
                  $ kubectl describe daemonset calico-node -n kube-system
                  $ kubectl get pods -n kube-system -o wide
                  $ kubectl rollout status daemonset/calico-node -n kube-system
            "#]],
        );
    }

    #[test]
    fn every_node_covered_is_fine() {
        check(
            &DIAGNOSTIC,
            &fixture(6),
            expect![[r#"
            no findings
        "#]],
        );
    }
}
