//! Cluster-scoped objects and discovery: Nodes, Namespaces, StorageClasses, PersistentVolumes,
//! the `/version` answer and the API resources the collector discovered.

use serde_json::{Value, json};

use crate::prng::Prng;

use super::super::clock::{BASE, rfc3339};
use super::super::plan::{ClaimPlan, NamespacePlan, NodePlan};

pub(crate) const SERVER_VERSION: &str = "v1.33.1";

pub(crate) fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": SERVER_VERSION,
        "gitCommit": "8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828",
        "gitTreeState": "clean",
        "buildDate": "2025-05-15T08:19:08Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// The resources the generated bundle holds, as discovery describes them.
pub(crate) const RESOURCES: [(&str, &str, &str, &str, bool); 19] = [
    ("", "v1", "namespaces", "Namespace", false),
    ("", "v1", "nodes", "Node", false),
    ("", "v1", "persistentvolumes", "PersistentVolume", false),
    ("", "v1", "pods", "Pod", true),
    ("", "v1", "services", "Service", true),
    ("", "v1", "endpoints", "Endpoints", true),
    ("", "v1", "configmaps", "ConfigMap", true),
    ("", "v1", "secrets", "Secret", true),
    ("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true),
    ("", "v1", "events", "Event", true),
    ("apps", "v1", "deployments", "Deployment", true),
    ("apps", "v1", "replicasets", "ReplicaSet", true),
    ("apps", "v1", "statefulsets", "StatefulSet", true),
    ("apps", "v1", "daemonsets", "DaemonSet", true),
    ("batch", "v1", "jobs", "Job", true),
    ("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true),
    ("storage.k8s.io", "v1", "storageclasses", "StorageClass", false),
    ("metrics.k8s.io", "v1beta1", "nodes", "NodeMetrics", false),
    ("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", true),
];

/// `cluster/api-resources.json` as the collector writes it: `GET /api`, `GET /apis`, and the
/// `APIResourceList` of each group version, each as the server returns it.
pub(crate) fn api_resources() -> Value {
    let mut group_versions: Vec<(&str, &str)> = Vec::new();
    for (group, version, ..) in RESOURCES {
        if !group_versions.contains(&(group, version)) {
            group_versions.push((group, version));
        }
    }
    let groups: Vec<Value> = group_versions
        .iter()
        .filter(|(group, _)| !group.is_empty())
        .map(|(group, version)| {
            let group_version = json!({ "groupVersion": format!("{group}/{version}"), "version": version });
            json!({ "name": group, "versions": [group_version.clone()], "preferredVersion": group_version })
        })
        .collect();
    let resource_lists: Vec<Value> = group_versions
        .iter()
        .map(|(group, version)| {
            let group_version = if group.is_empty() { (*version).to_owned() } else { format!("{group}/{version}") };
            let metrics = *group == "metrics.k8s.io";
            let resources: Vec<Value> = RESOURCES
                .iter()
                .filter(|(g, v, ..)| g == group && v == version)
                .map(|(_, _, name, kind, namespaced)| {
                    let verbs: &[&str] = if metrics {
                        &["get", "list"]
                    } else {
                        &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
                    };
                    json!({ "name": name, "singularName": kind.to_lowercase(), "namespaced": namespaced, "kind": kind, "verbs": verbs })
                })
                .collect();
            json!({ "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources })
        })
        .collect();
    json!({
        "apiVersions": { "kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{ "clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.1:6443" }] },
        "groups": { "kind": "APIGroupList", "apiVersion": "v1", "groups": groups },
        "resourceLists": resource_lists,
    })
}

pub(crate) fn node(node: &NodePlan, seed: u64, index: u64) -> Value {
    let mut prng = Prng::derive(seed, &[10, index]);
    let heartbeat = if node.ready { BASE - 12 } else { BASE - 1_260 };
    let pressure = |kind: &str, reason: &str, message: &str| {
        if node.ready {
            json!({ "lastHeartbeatTime": rfc3339(heartbeat), "lastTransitionTime": rfc3339(node.created + 30), "message": message, "reason": reason, "status": "False", "type": kind })
        } else {
            json!({ "lastHeartbeatTime": rfc3339(heartbeat), "lastTransitionTime": rfc3339(BASE - 1_200), "message": "Kubelet stopped posting node status.", "reason": "NodeStatusUnknown", "status": "Unknown", "type": kind })
        }
    };
    let ready = if node.ready {
        json!({ "lastHeartbeatTime": rfc3339(heartbeat), "lastTransitionTime": rfc3339(node.created + 60), "message": "kubelet is posting ready status", "reason": "KubeletReady", "status": "True", "type": "Ready" })
    } else {
        json!({ "lastHeartbeatTime": rfc3339(heartbeat), "lastTransitionTime": rfc3339(BASE - 1_200), "message": "Kubelet stopped posting node status.", "reason": "NodeStatusUnknown", "status": "Unknown", "type": "Ready" })
    };
    let mut spec = json!({
        "podCIDR": format!("10.{}.{}.0/24", node.cidr.0, node.cidr.1),
        "podCIDRs": [format!("10.{}.{}.0/24", node.cidr.0, node.cidr.1)],
        "providerID": format!("aws:///{}/i-0{}", node.zone, prng.hex(16)),
    });
    if !node.ready
        && let Some(map) = spec.as_object_mut()
    {
        map.insert("taints".into(), json!([
            { "effect": "NoSchedule", "key": "node.kubernetes.io/unreachable", "timeAdded": rfc3339(BASE - 1_200) },
            { "effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "timeAdded": rfc3339(BASE - 1_195) }
        ]));
    }
    let images: Vec<Value> = [
        ("docker.io/calico/node:v3.28.2", 145_310_422u64),
        ("registry.k8s.io/kube-proxy:v1.33.1", 30_892_110),
        ("docker.io/library/nginx:1.27.3", 72_995_834),
        ("docker.io/istio/proxyv2:1.24.2", 93_442_017),
        ("registry.k8s.io/pause:3.10", 320_368),
    ]
    .iter()
    .map(|(name, size)| {
        let repository = name.rsplit_once(':').map_or(*name, |(r, _)| r);
        json!({ "names": [format!("{repository}@sha256:{}", prng.hex(64)), name], "sizeBytes": size })
    })
    .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                "csi.volume.kubernetes.io/nodeid": format!("{{\"ebs.csi.aws.com\":\"i-0{}\"}}", prng.hex(16)),
            },
            "creationTimestamp": rfc3339(node.created),
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/instance-type": "m6i.2xlarge",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": node.name,
                "kubernetes.io/os": "linux",
                "node.kubernetes.io/instance-type": "m6i.2xlarge",
                "topology.kubernetes.io/region": "eu-west-1",
                "topology.kubernetes.io/zone": node.zone,
                "topology.ebs.csi.aws.com/zone": node.zone,
            },
            "name": node.name,
            "resourceVersion": (1_000_000 + prng.below(90_000_000)).to_string(),
            "uid": node.uid,
        },
        "spec": spec,
        "status": {
            "addresses": [
                { "address": node.internal_ip, "type": "InternalIP" },
                { "address": node.name, "type": "Hostname" },
                { "address": format!("ip-{}.eu-west-1.compute.internal", node.internal_ip.replace('.', "-")), "type": "InternalDNS" }
            ],
            "allocatable": { "cpu": "7910m", "ephemeral-storage": "95491281146", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": "31482076Ki", "pods": "110" },
            "capacity": { "cpu": "8", "ephemeral-storage": "104845292Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": "32386780Ki", "pods": "110" },
            "conditions": [
                pressure("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                pressure("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                pressure("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                ready
            ],
            "daemonEndpoints": { "kubeletEndpoint": { "Port": 10250 } },
            "images": images,
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": prng.uuid(),
                "containerRuntimeVersion": "containerd://1.7.27",
                "kernelVersion": "6.1.134-152.225.amzn2023.x86_64",
                "kubeProxyVersion": "",
                "kubeletVersion": SERVER_VERSION,
                "machineID": prng.hex(32),
                "operatingSystem": "linux",
                "osImage": "Amazon Linux 2023.7.20250512",
                "systemUUID": prng.uuid(),
            }
        }
    })
}

pub(crate) fn namespace(name: &str, uid: &str, created: i64) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "creationTimestamp": rfc3339(created),
            "labels": { "kubernetes.io/metadata.name": name },
            "name": name,
            "resourceVersion": "4521",
            "uid": uid,
        },
        "spec": { "finalizers": ["kubernetes"] },
        "status": { "phase": "Active" }
    })
}

/// All Namespaces: the system ones without pods, then the planned ones.
pub(crate) fn namespaces(seed: u64, planned: &[NamespacePlan]) -> Vec<Value> {
    let mut prng = Prng::derive(seed, &[11]);
    let mut items: Vec<Value> = ["default", "kube-node-lease", "kube-public"]
        .iter()
        .map(|name| namespace(name, &prng.uuid(), BASE - 86_400 * 120))
        .collect();
    items.extend(planned.iter().map(|ns| namespace(&ns.name, &ns.uid, ns.created)));
    items.sort_by(|a, b| a["metadata"]["name"].as_str().cmp(&b["metadata"]["name"].as_str()));
    items
}

pub(crate) fn storage_classes() -> Vec<Value> {
    let class = |name: &str, default: bool, kind: &str| {
        let mut annotations = serde_json::Map::new();
        if default {
            annotations.insert("storageclass.kubernetes.io/is-default-class".into(), json!("true"));
        }
        json!({
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": { "annotations": annotations, "creationTimestamp": rfc3339(BASE - 86_400 * 120), "name": name, "resourceVersion": "291", "uid": format!("5d1c7a6e-0c3b-4f4e-9a51-{:012x}", name.len()) },
            "parameters": { "type": kind, "fsType": "ext4" },
            "provisioner": "ebs.csi.aws.com",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
            "allowVolumeExpansion": true
        })
    };
    vec![class("gp3", false, "gp3"), class("standard", true, "gp2")]
}

pub(crate) fn persistent_volume(namespace: &str, claim: &ClaimPlan, node: Option<&NodePlan>) -> Value {
    let zone = node.map_or("eu-west-1a", |n| n.zone);
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "annotations": { "pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com", "volume.kubernetes.io/provisioner-deletion-secret-name": "", "volume.kubernetes.io/provisioner-deletion-secret-namespace": "" },
            "creationTimestamp": rfc3339(BASE - 86_400 * 10),
            "finalizers": ["external-provisioner.volume.kubernetes.io/finalizer", "kubernetes.io/pv-protection"],
            "name": format!("pvc-{}", claim.uid),
            "resourceVersion": "88121",
            "uid": format!("{}{}", &claim.uid[..30], "a0b1c2"),
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "capacity": { "storage": format!("{}Gi", claim.size_gi) },
            "claimRef": { "apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": claim.name, "namespace": namespace, "resourceVersion": "88100", "uid": claim.uid },
            "csi": { "driver": "ebs.csi.aws.com", "fsType": "ext4", "volumeAttributes": { "storage.kubernetes.io/csiProvisionerIdentity": "1741234567890-8081-ebs.csi.aws.com" }, "volumeHandle": format!("vol-0{}", &claim.uid.replace('-', "")[..16]) },
            "nodeAffinity": { "required": { "nodeSelectorTerms": [{ "matchExpressions": [{ "key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone] }] }] } },
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": claim.storage_class,
            "volumeMode": "Filesystem"
        },
        "status": { "lastPhaseTransitionTime": rfc3339(BASE - 86_400 * 10), "phase": "Bound" }
    })
}

pub(crate) fn persistent_volume_claim(namespace: &str, claim: &ClaimPlan, labels: Option<&Value>) -> Value {
    let mut object = json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "annotations": { "volume.beta.kubernetes.io/storage-provisioner": "ebs.csi.aws.com", "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com" },
            "creationTimestamp": rfc3339(BASE - 86_400 * 10),
            "finalizers": ["kubernetes.io/pvc-protection"],
            "labels": labels.cloned().unwrap_or_else(|| json!({})),
            "name": claim.name,
            "namespace": namespace,
            "resourceVersion": "88124",
            "uid": claim.uid,
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": { "requests": { "storage": format!("{}Gi", claim.size_gi) } },
            "storageClassName": claim.storage_class,
            "volumeMode": "Filesystem"
        },
        "status": { "phase": "Pending" }
    });
    if claim.bound {
        object["spec"]["volumeName"] = json!(format!("pvc-{}", claim.uid));
        object["status"] = json!({ "accessModes": ["ReadWriteOnce"], "capacity": { "storage": format!("{}Gi", claim.size_gi) }, "phase": "Bound" });
    } else {
        object["metadata"]["creationTimestamp"] = json!(rfc3339(BASE - 3_000));
    }
    object
}
