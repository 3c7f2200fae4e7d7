//! Diagnostic `pod-evicted`: pods evicted by the kubelet;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::Object;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::workload::group_by_workload;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "pod-evicted",
    category: Category::Pods,
    title: "Pods evicted by the kubelet",
    severities: &[Severity::P2],
    what: "Pods the kubelet evicted (`status.phase=Failed`, `status.reason=Evicted`), with the eviction \
           message that names the resource the node ran short of.",
    why: "Evictions mean a node was under memory or disk pressure; pods without requests (BestEffort) go \
          first and their replacements can be evicted again.",
    fix: "Set memory and ephemeral-storage requests close to real use, relieve the node (disk, image garbage \
          collection), and delete the Failed pods.",
    example: "`Deployment shop/api: 4 of 7 pods evicted: The node was low on resource: memory`.",
    needs: &[],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let affected: Vec<(&Object, ())> = facts
        .cluster()
        .of_kind("Pod")
        .filter(|pod| {
            pod.str_at("/status/phase") == Some("Failed") && pod.str_at("/status/reason") == Some("Evicted")
        })
        .map(|pod| (pod, ()))
        .collect();
    let mut findings = Vec::new();
    for group in group_by_workload(facts, affected) {
        let Some((pod, ())) = group.pods.first() else { continue };
        let pod_ref = pod.reference();
        let message = pod.str_at("/status/message").unwrap_or_default();
        let short = message.split(". ").next().unwrap_or_default().trim_end_matches('.');
        let title = if short.is_empty() {
            format!("{} evicted", group.label())
        } else {
            format!("{} evicted: {short}", group.label())
        };
        let mut finding = DIAGNOSTIC.finding(Severity::P2, title);
        for object in group.objects() {
            finding = finding.object(object);
        }
        finding = finding.evidence(Evidence::field(pod_ref.clone(), "/status/reason", &"Evicted".into()));
        if !message.is_empty() {
            finding = finding.evidence(Evidence::field(pod_ref.clone(), "/status/message", &message.into()));
        }
        let node = pod.str_at("/spec/nodeName");
        if let Some(node) = node {
            finding = finding.evidence(Evidence::field(pod_ref.clone(), "/spec/nodeName", &node.into()));
        }
        if group.pods.len() > 1 {
            finding =
                finding.evidence(Evidence::note(format!("also evicted: {}", group.other_pods().join(", "))));
        }
        let qos = pod.str_at("/status/qosClass").unwrap_or("unknown");
        finding = finding.explanation(format!(
            "The kubelet of {} evicted pod {} (QoS class {qos}) to reclaim a resource the node ran short \
             of. The Failed pod stays listed until deleted; its controller, if any, created a replacement.",
            node.map(|node| format!("node {node}")).unwrap_or_else(|| "its node".to_owned()),
            pod.name
        ));
        finding = finding.remediation(kubectl::describe(&pod_ref));
        if let Some(node) = node {
            finding = finding.remediation(Kubectl::new("describe node").name(node));
        }
        findings.push(finding.remediation(
            Kubectl::new("delete pods").namespace_of(&pod_ref).arg("--field-selector=status.phase=Failed"),
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: cache, namespace: shop}
spec: {nodeName: node-2, containers: [{name: redis, image: redis}]}
status:
  phase: Failed
  reason: Evicted
  qosClass: BestEffort
  message: "The node was low on resource: memory. Threshold quantity: 100Mi, available: 52Mi. Container redis was using 1.2Gi, request is 0, has larger consumption of memory."
"#;

    #[test]
    fn an_evicted_pod_names_the_node_and_resource() {
        check(
            &DIAGNOSTIC,
            POD,
            expect![[r#"
            P2 pod-evicted Pod shop/cache evicted: The node was low on resource: memory
              objects: Pod/shop/cache
              field Pod/shop/cache /status/reason = Evicted
              field Pod/shop/cache /status/message = The node was low on resource: memory. Threshold quantity: 100Mi, available: 52Mi. Container redis was using 1.2Gi, request is 0, has larger consumption of memory.
              field Pod/shop/cache /spec/nodeName = node-2
              why: The kubelet of node node-2 evicted pod cache (QoS class BestEffort) to reclaim a resource the node ran short of. The Failed pod stays listed until deleted; its controller, if any, created a replacement.
              $ kubectl describe pod cache -n shop
              $ kubectl describe node node-2
              $ kubectl delete pods -n shop --field-selector=status.phase=Failed
        "#]],
        );
    }

    #[test]
    fn other_failed_pods_are_not_evictions() {
        check(
            &DIAGNOSTIC,
            &POD.replace("reason: Evicted", "reason: DeadlineExceeded"),
            expect![[r#"
            no findings
        "#]],
        );
    }
}
