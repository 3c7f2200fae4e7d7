//! A small native bundle written with the real `BundleWriter`: a Deployment whose pods
//! crash-loop (with a previous log holding markup), a healthy pod with metric samples, events,
//! and a credential written in a pod template. The CLI, report and browser tests run on it.

#![cfg(test)]

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use kubesnap_shared::BundleWriter;
use kubesnap_shared::layout;
use kubesnap_shared::manifest::{ClusterInfo, Tool};
use kubesnap_shared::writer::BundleHeader;
use serde_json::{Value, json};

/// A log line that must stay text in the HTML report.
pub(crate) const HOSTILE_LOG_LINE: &str = "<script>alert('pwned')</script> FATAL: config missing";

fn list(kind: &str, items: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"apiVersion": "v1", "kind": format!("{kind}List"), "items": items})).unwrap()
}

fn crash_looping_pod(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "uid": format!("uid-{name}"),
            "labels": {"app": "api", "pod-template-hash": "7d9f"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-7d9f", "uid": "rs1", "controller": true}]},
        "spec": {"nodeName": "node-1", "containers": [{"name": "api", "image": "shop/api:2.0"}]},
        "status": {"phase": "Running",
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [{"name": "api", "ready": false, "restartCount": 9, "image": "shop/api:2.0",
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2025-06-01T11:58:00Z"}}}]}
    })
}

/// Writes the bundle as `<dir>/shop-incident.tar.gz` and returns its path.
pub(crate) fn write_bundle(dir: &Path) -> PathBuf {
    let path = dir.join("shop-incident.tar.gz");
    let header = BundleHeader {
        root: "kubesnap-shop-incident".to_owned(),
        tool: Tool { name: "kubesnap-collect".to_owned(), version: "0.1.0".to_owned() },
        cluster: ClusterInfo {
            context: Some("test".to_owned()),
            version: Some("v1.31.0".to_owned()),
            ..ClusterInfo::default()
        },
        options: BTreeMap::new(),
        started_at: "2025-06-01T11:59:00Z".parse().unwrap(),
        compression: 6,
    };
    let mut writer = BundleWriter::new(File::create(&path).unwrap(), header).unwrap();
    writer.add(layout::CLUSTER_VERSION, br#"{"gitVersion": "v1.31.0"}"#).unwrap();

    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "api", "namespace": "shop", "uid": "d1"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}},
            "template": {"spec": {"securityContext": {"runAsNonRoot": true},
                "containers": [{"name": "api", "image": "shop/api:2.0",
                    "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true},
                    "env": [{"name": "DB_PASSWORD", "value": "<redacted: 9 bytes>"}]}]}}},
        "status": {"replicas": 2, "availableReplicas": 0, "unavailableReplicas": 2}
    });
    let replica_set = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "api-7d9f", "namespace": "shop", "uid": "rs1",
            "annotations": {"deployment.kubernetes.io/revision": "3"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "uid": "d1", "controller": true}]},
        "spec": {"replicas": 2}, "status": {"replicas": 2, "readyReplicas": 0}
    });
    let web = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "shop", "uid": "uid-web"},
        "spec": {"nodeName": "node-1", "securityContext": {"runAsNonRoot": true},
            "containers": [{"name": "web", "image": "nginx:1.27",
                "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true},
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "web", "ready": true, "restartCount": 0, "state": {"running": {}}}]}
    });
    writer
        .add(
            &layout::resource_list("apps", "v1", "deployments", Some("shop")),
            &list("Deployment", vec![deployment]),
        )
        .unwrap();
    writer
        .add(
            &layout::resource_list("apps", "v1", "replicasets", Some("shop")),
            &list("ReplicaSet", vec![replica_set]),
        )
        .unwrap();
    let pods = vec![crash_looping_pod("api-7d9f-a"), crash_looping_pod("api-7d9f-b"), web];
    writer.add(&layout::resource_list("", "v1", "pods", Some("shop")), &list("Pod", pods)).unwrap();
    let event = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "api-7d9f-a.17a", "namespace": "shop"},
        "involvedObject": {"kind": "Pod", "name": "api-7d9f-a", "namespace": "shop"},
        "type": "Warning", "reason": "BackOff", "message": "Back-off restarting failed container api",
        "count": 31, "source": {"component": "kubelet"},
        "firstTimestamp": "2025-06-01T11:20:00Z", "lastTimestamp": "2025-06-01T11:58:30Z"
    });
    writer
        .add(&layout::resource_list("", "v1", "events", Some("shop")), &list("Event", vec![event]))
        .unwrap();

    let previous =
        format!("2025-06-01T11:57:59Z INFO starting api 2.0\n2025-06-01T11:58:00Z {HOSTILE_LOG_LINE}\n");
    writer.add(&layout::container_log("shop", "api-7d9f-a", "api", true), previous.as_bytes()).unwrap();
    writer
        .add(&layout::container_log("shop", "web", "web", false), b"2025-06-01T11:50:00Z GET / 200\n")
        .unwrap();

    let mut samples = String::new();
    for (minute, cpu, memory) in
        [(50, "40m", "90Mi"), (52, "120m", "110Mi"), (54, "310m", "150Mi"), (56, "180m", "170Mi")]
    {
        let at = format!("2025-06-01T11:{minute}:00Z");
        let item = |pod: &str, container: &str| {
            json!({"metadata": {"name": pod, "namespace": "shop"}, "timestamp": at, "window": "30s",
                   "containers": [{"name": container, "usage": {"cpu": cpu, "memory": memory}}]})
        };
        samples.push_str(&json!({"timestamp": at, "items": [item("web", "web")]}).to_string());
        samples.push('\n');
    }
    writer.add(layout::POD_METRICS, samples.as_bytes()).unwrap();
    writer.finish().unwrap();
    path
}
