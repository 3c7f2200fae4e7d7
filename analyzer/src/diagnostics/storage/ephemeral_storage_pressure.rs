//! Diagnostic `ephemeral-storage-pressure`: ephemeral storage near its limit, pods evicted for disk;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::storage::kubelet_stats::{self, human_bytes};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "ephemeral-storage-pressure",
    category: Category::Storage,
    title: "Ephemeral storage near its limit, pods evicted for disk",
    severities: &[Severity::P1, Severity::P2],
    what: "Two faces of local disk running out. Per pod, the ephemeral storage the kubelet's stats/summary \
           reports (writable layers, logs, emptyDirs) against the sum of its containers' \
           `ephemeral-storage` limits: above 85% the kubelet is about to evict it. Per node, the pods \
           evicted for ephemeral storage (`The node was low on resource: ephemeral-storage`, `exceeds ... \
           local ephemeral storage`), with the node's DiskPressure condition. It reads kubelet stats when \
           the bundle has them and pod statuses always, so it declares no need: a bundle without stats \
           still gets the eviction half.",
    why: "The kubelet evicts a pod that exceeds its ephemeral-storage limit, and evicts pod after pod when \
          the node's disk fills.",
    fix: "Raise the ephemeral-storage limit, write large data to a volume instead of the container's \
          filesystem or an emptyDir, rotate logs; free or grow the node's disk.",
    example: "`Pod shop/api-1 uses 1.8 GiB of its 2.0 GiB ephemeral-storage limit (92%)`; `Node worker-2: 4 \
              pods evicted for ephemeral storage (DiskPressure True)`.",
    needs: &[],
    run,
};

const WARNING_PERCENT: f64 = 85.0;

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = near_limit(facts.cluster());
    findings.extend(evictions(facts.cluster()));
    findings
}

/// The sum of the containers' ephemeral-storage limits, when at least one container has one.
fn limit_bytes(pod: &Object) -> Option<f64> {
    let limits: Vec<f64> = pod
        .array_at("/spec/containers")
        .iter()
        .filter_map(|container| container.pointer("/resources/limits/ephemeral-storage")?.as_str())
        .filter_map(kubesnap_shared::quantity::bytes)
        .collect();
    (!limits.is_empty()).then(|| limits.iter().sum())
}

fn near_limit(model: &ClusterModel) -> Vec<Finding> {
    let mut findings = Vec::new();
    for usage in kubelet_stats::ephemeral(model) {
        let Some(pod) = model.get("Pod", Some(usage.namespace), usage.pod) else { continue };
        let Some(limit) = limit_bytes(pod).filter(|limit| *limit > 0.0) else { continue };
        let percent = usage.used_bytes / limit * 100.0;
        if percent <= WARNING_PERCENT {
            continue;
        }
        let severity = if percent >= 100.0 { Severity::P1 } else { Severity::P2 };
        let pod_ref = pod.reference();
        let series =
            format!("kubelet ephemeral-storage {}/{} (node {})", usage.namespace, usage.pod, usage.node);
        findings.push(
            DIAGNOSTIC
                .finding(
                    severity,
                    format!(
                        "Pod {}/{} uses {} of its {} ephemeral-storage limit ({percent:.0}%)",
                        usage.namespace,
                        usage.pod,
                        human_bytes(usage.used_bytes),
                        human_bytes(limit)
                    ),
                )
                .object(pod_ref.clone())
                .evidence(Evidence::Metric {
                    series: series.clone(),
                    statistic: "used".into(),
                    value: usage.used_bytes,
                    unit: "bytes".into(),
                })
                .evidence(Evidence::Metric {
                    series,
                    statistic: "limit".into(),
                    value: limit,
                    unit: "bytes".into(),
                })
                .explanation(format!(
                    "Pod {} has written {percent:.0}% of the local disk space its limits allow (container \
                     writable layers, logs and emptyDir volumes count). When it passes 100% the kubelet \
                     evicts it, and the data on those is lost.",
                    usage.pod
                ))
                .remediation(Kubectl::new("exec").name(usage.pod).namespace(usage.namespace).arg("-- df -h"))
                .remediation(kubectl::get_yaml(&pod_ref)),
        );
    }
    findings
}

/// Whether an evicted pod's message blames ephemeral storage.
fn evicted_for_disk(pod: &Object) -> bool {
    pod.str_at("/status/reason") == Some("Evicted")
        && pod.str_at("/status/message").is_some_and(|message| {
            let message = message.to_ascii_lowercase();
            message.contains("ephemeral-storage")
                || message.contains("ephemeral local storage")
                || message.contains("nodefs")
        })
}

fn evictions(model: &ClusterModel) -> Vec<Finding> {
    let mut by_node: BTreeMap<&str, Vec<&Object>> = BTreeMap::new();
    for pod in model.of_kind("Pod").filter(|pod| evicted_for_disk(pod)) {
        by_node.entry(pod.str_at("/spec/nodeName").unwrap_or("unknown node")).or_default().push(pod);
    }
    let mut findings = Vec::new();
    for (node_name, pods) in by_node {
        let node = model.get("Node", None, node_name);
        let pressure =
            node.and_then(|node| node.condition("DiskPressure")).filter(|(status, _, _)| *status == "True");
        let severity = if pressure.is_some() { Severity::P1 } else { Severity::P2 };
        let state = if pressure.is_some() { " (DiskPressure True)" } else { "" };
        let count = pods.len();
        let noun = if count == 1 { "pod" } else { "pods" };
        let mut finding = DIAGNOSTIC.finding(
            severity,
            format!("Node {node_name}: {count} {noun} evicted for ephemeral storage{state}"),
        );
        if let Some(node) = node {
            finding = finding.object(node.reference());
            if let Some(index) = node
                .array_at("/status/conditions")
                .iter()
                .position(|c| c.get("type").and_then(Value::as_str) == Some("DiskPressure"))
            {
                let pointer = format!("/status/conditions/{index}");
                finding = finding.evidence(Evidence::field(
                    node.reference(),
                    pointer.clone(),
                    node.at(&pointer).unwrap_or(&Value::Null),
                ));
            }
        }
        for pod in &pods {
            finding = finding.object(pod.reference()).evidence(Evidence::field(
                pod.reference(),
                "/status/message",
                pod.at("/status/message").unwrap_or(&Value::Null),
            ));
        }
        let node_ref = kubesnap_shared::model::ObjectRef {
            kind: "Node".to_owned(),
            namespace: None,
            name: node_name.to_owned(),
        };
        findings.push(
            finding
                .explanation(format!(
                    "The kubelet on {node_name} evicted {count} {noun} because local disk ran short: \
                     either a pod passed its own ephemeral-storage limit, or the node's filesystem \
                     crossed its eviction threshold{}. Evicted pods are killed and rescheduled \
                     elsewhere, losing their emptyDir data.",
                    if pressure.is_some() {
                        " and the node still reports DiskPressure, so evictions \
                                             continue"
                    } else {
                        ""
                    }
                ))
                .remediation(kubectl::describe(&node_ref))
                .remediation(
                    Kubectl::new("get pods -A --field-selector")
                        .joined("spec.nodeName=", node_name)
                        .then(",status.phase=Failed"),
                )
                .remediation(
                    Kubectl::new(
                        "get \
                                  --raw",
                    )
                    .joined("/api/v1/nodes/", node_name)
                    .then("/proxy/stats/summary"),
                ),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use expect_test::expect;
    use serde_json::json;

    use super::DIAGNOSTIC;
    use crate::testing::{check, kubelet_stats};

    const OBJECTS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: shop}
spec:
  nodeName: worker-1
  containers:
  - {name: api, resources: {limits: {ephemeral-storage: 1Gi}}}
  - {name: sidecar, resources: {limits: {ephemeral-storage: 1Gi}}}
status: {phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: batch-1, namespace: shop}
spec: {nodeName: worker-2, containers: [{name: batch}]}
status: {phase: Failed, reason: Evicted, message: "The node was low on resource: ephemeral-storage. Threshold quantity: 1Gi, available: 512Mi. Container batch was using 3Gi, request is 0."}
---
apiVersion: v1
kind: Node
metadata: {name: worker-2}
status: {conditions: [{type: DiskPressure, status: "True", reason: KubeletHasDiskPressure, message: kubelet has disk pressure}]}
"#;

    fn summary(used: u64) -> serde_json::Value {
        json!({"pods": [{"podRef": {"name": "api-1", "namespace": "shop"}, "ephemeral-storage": {"usedBytes": used}}]})
    }

    #[test]
    fn near_the_limit_and_evicted_under_disk_pressure() {
        let fixture = format!("{OBJECTS}{}", kubelet_stats("worker-1", &summary(1_976_000_000)));
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P2 ephemeral-storage-pressure Pod shop/api-1 uses 1.8 GiB of its 2.0 GiB ephemeral-storage limit (92%)
              objects: Pod/shop/api-1
              metric kubelet ephemeral-storage shop/api-1 (node worker-1) used = 1976000000 bytes
              metric kubelet ephemeral-storage shop/api-1 (node worker-1) limit = 2147483648 bytes
              why: Pod api-1 has written 92% of the local disk space its limits allow (container writable layers, logs and emptyDir volumes count). When it passes 100% the kubelet evicts it, and the data on those is lost.
              $ kubectl exec api-1 -n shop -- df -h
              $ kubectl get pod api-1 -n shop -o yaml
            P1 ephemeral-storage-pressure Node worker-2: 1 pod evicted for ephemeral storage (DiskPressure True)
              objects: Node/worker-2, Pod/shop/batch-1
              field Node/worker-2 /status/conditions/0 = {"message":"kubelet has disk pressure","reason":"KubeletHasDiskPressure","status":"True","type":"DiskPressure"}
              field Pod/shop/batch-1 /status/message = The node was low on resource: ephemeral-storage. Threshold quantity: 1Gi, available: 512Mi. Container batch was using 3Gi, request is 0.
              why: The kubelet on worker-2 evicted 1 pod because local disk ran short: either a pod passed its own ephemeral-storage limit, or the node's filesystem crossed its eviction threshold and the node still reports DiskPressure, so evictions continue. Evicted pods are killed and rescheduled elsewhere, losing their emptyDir data.
              $ kubectl describe node worker-2
              $ kubectl get pods -A --field-selector spec.nodeName=worker-2,status.phase=Failed
              $ kubectl get --raw /api/v1/nodes/worker-2/proxy/stats/summary
        "#]],
        );
    }

    #[test]
    fn well_below_the_limit_and_other_evictions_are_fine() {
        let objects = OBJECTS.replace("low on resource: ephemeral-storage", "low on resource: memory");
        let fixture = format!("{objects}{}", kubelet_stats("worker-1", &summary(1_000_000_000)));
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
