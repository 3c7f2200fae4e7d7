//! Services and what backs them: Endpoints and EndpointSlices listing ready and not-ready pod
//! addresses, exactly as the endpoints controllers would have written them.

use serde_json::{Value, json};

use super::super::clock::{BASE, rfc3339};
use super::super::plan::{Fault, NamespacePlan, NodePlan, PodPlan, ServicePlan, WorkloadPlan};

pub(crate) fn service(namespace: &str, service: &ServicePlan, selector: Value, created: i64) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "annotations": { "meta.helm.sh/release-name": service.name, "meta.helm.sh/release-namespace": namespace },
            "creationTimestamp": rfc3339(created),
            "labels": { "app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/name": service.name },
            "name": service.name,
            "namespace": namespace,
            "resourceVersion": "55211",
            "uid": service.uid,
        },
        "spec": {
            "clusterIP": service.cluster_ip,
            "clusterIPs": [service.cluster_ip],
            "internalTrafficPolicy": "Cluster",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "ports": [{ "name": "http", "port": service.port, "protocol": "TCP", "targetPort": service.target_port }],
            "selector": selector,
            "sessionAffinity": "None",
            "type": "ClusterIP",
        },
        "status": { "loadBalancer": {} }
    })
}

/// Whether a pod is a ready endpoint, a not-ready one, or none (no IP, or terminated).
fn endpoint_state(pod: &PodPlan, nodes: &[NodePlan]) -> Option<bool> {
    let node = pod.node?;
    match pod.fault {
        Fault::Evicted | Fault::Unschedulable | Fault::JobFailed => None,
        Fault::CrashLoop | Fault::ImagePull | Fault::ConfigError => Some(false),
        _ => Some(nodes[node].ready),
    }
}

pub(crate) fn endpoints(
    namespace: &NamespacePlan,
    service: &ServicePlan,
    workload: Option<&WorkloadPlan>,
    nodes: &[NodePlan],
) -> Value {
    let address = |pod: &PodPlan| {
        let node = pod.node.map(|n| nodes[n].name.as_str()).unwrap_or_default();
        json!({ "ip": pod.ip, "nodeName": node, "targetRef": { "kind": "Pod", "name": pod.name, "namespace": namespace.name, "uid": pod.uid } })
    };
    let pods: Vec<(&PodPlan, bool)> = workload
        .map(|w| {
            w.pods.iter().filter_map(|pod| endpoint_state(pod, nodes).map(|ready| (pod, ready))).collect()
        })
        .unwrap_or_default();
    let ready: Vec<Value> = pods.iter().filter(|(_, ready)| *ready).map(|(pod, _)| address(pod)).collect();
    let not_ready: Vec<Value> =
        pods.iter().filter(|(_, ready)| !*ready).map(|(pod, _)| address(pod)).collect();
    let mut object = json!({
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "annotations": { "endpoints.kubernetes.io/last-change-trigger-time": rfc3339(BASE - 1_800) },
            "creationTimestamp": rfc3339(namespace.created + 60),
            "labels": { "app.kubernetes.io/name": service.name, "app.kubernetes.io/managed-by": "Helm" },
            "name": service.name,
            "namespace": namespace.name,
            "resourceVersion": "55230",
            "uid": format!("{}{}", &service.uid[..24], "e0d1c2b3a495"),
        },
    });
    if !ready.is_empty() || !not_ready.is_empty() {
        let mut subset =
            json!({ "ports": [{ "name": "http", "port": service.target_port, "protocol": "TCP" }] });
        if !ready.is_empty() {
            subset["addresses"] = Value::Array(ready);
        }
        if !not_ready.is_empty() {
            subset["notReadyAddresses"] = Value::Array(not_ready);
        }
        object["subsets"] = json!([subset]);
    }
    object
}

pub(crate) fn endpoint_slice(
    namespace: &NamespacePlan,
    service: &ServicePlan,
    workload: Option<&WorkloadPlan>,
    nodes: &[NodePlan],
) -> Value {
    let endpoints: Vec<Value> = workload
        .map(|w| {
            w.pods
                .iter()
                .filter_map(|pod| {
                    let ready = endpoint_state(pod, nodes)?;
                    let node = pod.node.map(|n| &nodes[n])?;
                    Some(json!({
                        "addresses": [pod.ip],
                        "conditions": { "ready": ready, "serving": ready, "terminating": false },
                        "nodeName": node.name,
                        "targetRef": { "kind": "Pod", "name": pod.name, "namespace": namespace.name, "uid": pod.uid },
                        "zone": node.zone,
                    }))
                })
                .collect()
        })
        .unwrap_or_default();
    let suffix: String =
        service.uid.chars().filter(|c| c.is_ascii_lowercase()).chain("bcdfg".chars()).take(5).collect();
    json!({
        "addressType": "IPv4",
        "apiVersion": "discovery.k8s.io/v1",
        "endpoints": if endpoints.is_empty() { Value::Null } else { Value::Array(endpoints) },
        "kind": "EndpointSlice",
        "metadata": {
            "annotations": { "endpoints.kubernetes.io/last-change-trigger-time": rfc3339(BASE - 1_800) },
            "creationTimestamp": rfc3339(namespace.created + 60),
            "generateName": format!("{}-", service.name),
            "generation": 7,
            "labels": { "app.kubernetes.io/name": service.name, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io", "kubernetes.io/service-name": service.name },
            "name": format!("{}-{suffix}", service.name),
            "namespace": namespace.name,
            "ownerReferences": [{ "apiVersion": "v1", "blockOwnerDeletion": true, "controller": true, "kind": "Service", "name": service.name, "uid": service.uid }],
            "resourceVersion": "55231",
            "uid": format!("{}{}", &service.uid[..24], "5e1a2b3c4d5f"),
        },
        "ports": [{ "name": "http", "port": service.target_port, "protocol": "TCP" }],
    })
}
