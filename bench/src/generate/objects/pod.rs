//! Pods and pod templates as the API server returns them (managedFields dropped, as the
//! collector drops them): labels, owner, containers with env, probes, resources and mounts,
//! volumes, and a status that tells the pod's [`Fault`].

use serde_json::{Value, json};

use crate::prng::Prng;

use super::super::clock::{BASE, rfc3339};
use super::super::plan::{
    ContainerPlan, Fault, Kind, NAME_ALPHABET, NamespacePlan, NodePlan, PodPlan, WorkloadPlan,
};

/// The labels every pod of a workload carries (the selector is the first one).
pub(crate) fn pod_labels(namespace: &NamespacePlan, workload: &WorkloadPlan) -> Value {
    let mut labels = serde_json::Map::new();
    labels.insert("app.kubernetes.io/name".into(), json!(workload.name));
    labels.insert("app.kubernetes.io/part-of".into(), json!(namespace.name));
    match workload.kind {
        Kind::Deployment => {
            labels.insert("pod-template-hash".into(), json!(workload.hash));
        }
        Kind::StatefulSet | Kind::DaemonSet => {
            labels.insert(
                "controller-revision-hash".into(),
                json!(format!("{}-{}", workload.name, &workload.hash[..8])),
            );
        }
        Kind::Job => {
            labels.insert("batch.kubernetes.io/job-name".into(), json!(workload.name));
            labels.insert("batch.kubernetes.io/controller-uid".into(), json!(workload.uid));
            labels.insert("job-name".into(), json!(workload.name));
        }
    }
    Value::Object(labels)
}

pub(crate) fn selector(workload: &WorkloadPlan) -> Value {
    json!({ "app.kubernetes.io/name": workload.name })
}

fn quantity_mi(mi: u64) -> String {
    if mi.is_multiple_of(1024) { format!("{}Gi", mi / 1024) } else { format!("{mi}Mi") }
}

fn cpu(millicores: u64) -> String {
    if millicores.is_multiple_of(1000) { format!("{}", millicores / 1000) } else { format!("{millicores}m") }
}

fn container_spec(
    namespace: &NamespacePlan,
    workload: &WorkloadPlan,
    container: &ContainerPlan,
    fault: Fault,
) -> Value {
    let mut spec = serde_json::Map::new();
    spec.insert("name".into(), json!(container.name));
    spec.insert("image".into(), json!(container.image));
    spec.insert("imagePullPolicy".into(), json!("IfNotPresent"));
    spec.insert("terminationMessagePath".into(), json!("/dev/termination-log"));
    spec.insert("terminationMessagePolicy".into(), json!("File"));
    if let Some(resources) = container.resources {
        let mut limits = serde_json::Map::new();
        limits.insert("memory".into(), json!(quantity_mi(resources.memory_limit_mi)));
        if let Some(cpu_limit) = resources.cpu_limit_m {
            limits.insert("cpu".into(), json!(cpu(cpu_limit)));
        }
        spec.insert(
            "resources".into(),
            json!({
                "requests": { "cpu": cpu(resources.cpu_request_m), "memory": quantity_mi(resources.memory_request_mi) },
                "limits": limits,
            }),
        );
    } else {
        spec.insert("resources".into(), json!({}));
    }
    if container.init {
        spec.insert("command".into(), json!(["sh", "-c", format!("until nc -z postgres.{}.svc.cluster.local 5432; do echo waiting for postgres; sleep 2; done", namespace.name)]));
        spec.insert("volumeMounts".into(), json!([]));
        return Value::Object(spec);
    }
    spec.insert("ports".into(), json!([{ "containerPort": container.port, "name": if container.sidecar { "http-envoy-prom" } else { "http" }, "protocol": "TCP" }]));
    if container.sidecar {
        spec.insert(
            "args".into(),
            json!([
                "proxy",
                "sidecar",
                "--domain",
                format!("{}.svc.cluster.local", namespace.name),
                "--proxyLogLevel=warning",
                "--proxyComponentLogLevel=misc:error",
                "--log_output_level=default:info"
            ]),
        );
        spec.insert("readinessProbe".into(), json!({ "httpGet": { "path": "/healthz/ready", "port": 15021, "scheme": "HTTP" }, "failureThreshold": 4, "periodSeconds": 15, "successThreshold": 1, "timeoutSeconds": 3 }));
        spec.insert("securityContext".into(), json!({ "allowPrivilegeEscalation": false, "capabilities": { "drop": ["ALL"] }, "privileged": false, "readOnlyRootFilesystem": true, "runAsGroup": 1337, "runAsNonRoot": true, "runAsUser": 1337 }));
        spec.insert(
            "volumeMounts".into(),
            json!([{ "mountPath": "/etc/istio/proxy", "name": "istio-envoy" }]),
        );
        return Value::Object(spec);
    }
    let secret_key = if fault == Fault::ConfigError { "DB_PASSWORD" } else { "password" };
    let mut env = vec![
        json!({ "name": "LOG_LEVEL", "value": "info" }),
        json!({ "name": "PORT", "value": container.port.to_string() }),
        json!({ "name": "POD_NAME", "valueFrom": { "fieldRef": { "apiVersion": "v1", "fieldPath": "metadata.name" } } }),
        json!({ "name": "POD_NAMESPACE", "valueFrom": { "fieldRef": { "apiVersion": "v1", "fieldPath": "metadata.namespace" } } }),
        json!({ "name": "DATABASE_HOST", "value": format!("postgres.{}.svc.cluster.local", namespace.name) }),
        json!({ "name": "DATABASE_PASSWORD", "valueFrom": { "secretKeyRef": { "key": secret_key, "name": format!("{}-secrets", workload.name) } } }),
        json!({ "name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://otel-collector.observability.svc.cluster.local:4317" }),
    ];
    if workload.uid.as_bytes()[1] == b'0' {
        // About one workload in 16 keeps a password in plain env, as the prod-simulation scenario's database
        // manifest does; the collector's redaction replaced the value.
        env.push(json!({ "name": "ADMIN_PASSWORD", "value": "<redacted: 14 bytes>" }));
    }
    spec.insert("env".into(), Value::Array(env));
    if workload.kind == Kind::Deployment {
        spec.insert(
            "envFrom".into(),
            json!([{ "configMapRef": { "name": format!("{}-config", workload.name) } }]),
        );
    }
    if workload.kind != Kind::Job {
        spec.insert("livenessProbe".into(), json!({ "httpGet": { "path": "/healthz", "port": container.port, "scheme": "HTTP" }, "failureThreshold": 3, "initialDelaySeconds": 15, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1 }));
        spec.insert("readinessProbe".into(), json!({ "httpGet": { "path": "/ready", "port": container.port, "scheme": "HTTP" }, "failureThreshold": 3, "periodSeconds": 5, "successThreshold": 1, "timeoutSeconds": 1 }));
    }
    if workload.uid.as_bytes()[0] < b'8' {
        spec.insert("securityContext".into(), json!({ "allowPrivilegeEscalation": false, "capabilities": { "drop": ["ALL"] }, "readOnlyRootFilesystem": true, "runAsNonRoot": true, "runAsUser": 10001 }));
    }
    let mut mounts = vec![json!({ "mountPath": "/etc/app", "name": "config", "readOnly": true })];
    if workload.kind == Kind::StatefulSet {
        mounts.push(json!({ "mountPath": "/var/lib/data", "name": "data" }));
    }
    spec.insert("volumeMounts".into(), Value::Array(mounts));
    Value::Object(spec)
}

/// The pod spec; `node` and `api_access` are set on pods, not on templates.
pub(crate) fn pod_spec(
    namespace: &NamespacePlan,
    workload: &WorkloadPlan,
    pod: &PodPlan,
    node: Option<&str>,
    api_access: Option<&str>,
) -> Value {
    let containers: Vec<Value> = pod
        .containers
        .iter()
        .filter(|c| !c.init)
        .map(|c| container_spec(namespace, workload, c, pod.fault))
        .collect();
    let init: Vec<Value> = pod
        .containers
        .iter()
        .filter(|c| c.init)
        .map(|c| container_spec(namespace, workload, c, pod.fault))
        .collect();
    let mut volumes = vec![
        json!({ "name": "config", "configMap": { "defaultMode": 420, "name": format!("{}-config", workload.name) } }),
    ];
    if pod.containers.iter().any(|c| c.sidecar) {
        volumes.push(json!({ "name": "istio-envoy", "emptyDir": { "medium": "Memory" } }));
    }
    if workload.kind == Kind::StatefulSet && api_access.is_some() {
        let ordinal = pod.name.rsplit('-').next().unwrap_or("0");
        volumes.push(json!({ "name": "data", "persistentVolumeClaim": { "claimName": format!("data-{}-{ordinal}", workload.name) } }));
    }
    if let Some(api_access) = api_access {
        volumes.push(json!({
            "name": api_access,
            "projected": { "defaultMode": 420, "sources": [
                { "serviceAccountToken": { "expirationSeconds": 3607, "path": "token" } },
                { "configMap": { "items": [{ "key": "ca.crt", "path": "ca.crt" }], "name": "kube-root-ca.crt" } },
                { "downwardAPI": { "items": [{ "fieldRef": { "apiVersion": "v1", "fieldPath": "metadata.namespace" }, "path": "namespace" }] } }
            ] }
        }));
    }
    let mut spec = serde_json::Map::new();
    spec.insert("containers".into(), Value::Array(containers));
    if !init.is_empty() {
        spec.insert("initContainers".into(), Value::Array(init));
    }
    spec.insert("volumes".into(), Value::Array(volumes));
    spec.insert("dnsPolicy".into(), json!("ClusterFirst"));
    spec.insert("enableServiceLinks".into(), json!(true));
    spec.insert("preemptionPolicy".into(), json!("PreemptLowerPriority"));
    spec.insert("priority".into(), json!(if namespace.name == "kube-system" { 2_000_001_000 } else { 0 }));
    spec.insert("restartPolicy".into(), json!(if workload.kind == Kind::Job { "Never" } else { "Always" }));
    spec.insert("schedulerName".into(), json!("default-scheduler"));
    spec.insert(
        "securityContext".into(),
        json!({ "fsGroup": 10001, "seccompProfile": { "type": "RuntimeDefault" } }),
    );
    spec.insert("serviceAccount".into(), json!("default"));
    spec.insert("serviceAccountName".into(), json!("default"));
    spec.insert("terminationGracePeriodSeconds".into(), json!(30));
    spec.insert("tolerations".into(), json!([
        { "effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300 },
        { "effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300 }
    ]));
    if workload.kind == Kind::StatefulSet {
        spec.insert("hostname".into(), json!(pod.name));
        spec.insert("subdomain".into(), json!(workload.name));
    }
    if let Some(node) = node {
        spec.insert("nodeName".into(), json!(node));
    }
    Value::Object(spec)
}

fn condition(kind: &str, status: bool, at: i64, reason: Option<(&str, &str)>) -> Value {
    let mut condition = json!({
        "lastProbeTime": null,
        "lastTransitionTime": rfc3339(at),
        "status": if status { "True" } else { "False" },
        "type": kind,
    });
    if let (Some((reason, message)), Some(map)) = (reason, condition.as_object_mut()) {
        map.insert("reason".into(), json!(reason));
        if !message.is_empty() {
            map.insert("message".into(), json!(message));
        }
    }
    condition
}

fn image_id(prng: &mut Prng, image: &str) -> String {
    let repository = image.rsplit_once(':').map_or(image, |(repository, _)| repository);
    format!("{repository}@sha256:{}", prng.hex(64))
}

/// A full pod object.
pub(crate) fn pod(
    namespace: &NamespacePlan,
    workload: &WorkloadPlan,
    pod: &PodPlan,
    nodes: &[NodePlan],
) -> Value {
    let mut prng = Prng::derive(pod.seed, &[1]);
    let node = pod.node.map(|index| &nodes[index]);
    let mut api_access = String::from("kube-api-access-");
    prng.chars(NAME_ALPHABET, 5, &mut api_access);
    let owner = match workload.kind {
        Kind::Deployment => {
            json!({ "apiVersion": "apps/v1", "blockOwnerDeletion": true, "controller": true, "kind": "ReplicaSet", "name": format!("{}-{}", workload.name, workload.hash), "uid": workload.rs_uid })
        }
        Kind::StatefulSet => {
            json!({ "apiVersion": "apps/v1", "blockOwnerDeletion": true, "controller": true, "kind": "StatefulSet", "name": workload.name, "uid": workload.uid })
        }
        Kind::DaemonSet => {
            json!({ "apiVersion": "apps/v1", "blockOwnerDeletion": true, "controller": true, "kind": "DaemonSet", "name": workload.name, "uid": workload.uid })
        }
        Kind::Job => {
            json!({ "apiVersion": "batch/v1", "blockOwnerDeletion": true, "controller": true, "kind": "Job", "name": workload.name, "uid": workload.uid })
        }
    };
    let mut metadata = json!({
        "creationTimestamp": rfc3339(pod.created),
        "labels": pod_labels(namespace, workload),
        "annotations": { "prometheus.io/scrape": "true", "prometheus.io/port": pod.containers[0].port.to_string() },
        "name": pod.name,
        "namespace": namespace.name,
        "ownerReferences": [owner],
        "resourceVersion": (1_000_000 + prng.below(90_000_000)).to_string(),
        "uid": pod.uid,
    });
    if matches!(workload.kind, Kind::Deployment | Kind::DaemonSet | Kind::Job)
        && let Some(map) = metadata.as_object_mut()
    {
        let prefix = match workload.kind {
            Kind::Deployment => format!("{}-{}-", workload.name, workload.hash),
            _ => format!("{}-", workload.name),
        };
        map.insert("generateName".into(), json!(prefix));
    }
    let spec = pod_spec(namespace, workload, pod, node.map(|n| n.name.as_str()), Some(&api_access));
    let status = status(&mut prng, namespace, workload, pod, node, nodes.len());
    json!({ "apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status })
}

/// What a pod's containers are doing, by fault.
fn status(
    prng: &mut Prng,
    namespace: &NamespacePlan,
    workload: &WorkloadPlan,
    pod: &PodPlan,
    node: Option<&NodePlan>,
    n_nodes: usize,
) -> Value {
    let created = pod.created;
    let started = created + prng.between(2, 40) as i64;
    let fault = pod.fault;
    let node_down = node.is_some_and(|node| !node.ready);
    let pending = matches!(fault, Fault::ImagePull | Fault::ConfigError | Fault::Unschedulable);
    if fault == Fault::Unschedulable {
        let message = format!(
            "0/{n_nodes} nodes are available: {n_nodes} Insufficient cpu. preemption: 0/{n_nodes} nodes are available: {n_nodes} No preemption victims found for incoming pod."
        );
        return json!({
            "conditions": [condition("PodScheduled", false, created, Some(("Unschedulable", &message)))],
            "phase": "Pending",
            "qosClass": "Burstable",
        });
    }
    let mut statuses = Vec::new();
    let mut init_statuses = Vec::new();
    let mut all_ready = true;
    for container in &pod.containers {
        let mut status = serde_json::Map::new();
        status.insert("name".into(), json!(container.name));
        status.insert("image".into(), json!(container.image));
        status.insert("restartCount".into(), json!(container.restarts));
        let container_id = format!("containerd://{}", prng.hex(64));
        let main = !container.init && !container.sidecar;
        let (state, last_state, ready, running) = if container.init {
            (
                json!({ "terminated": { "containerID": container_id, "exitCode": 0, "finishedAt": rfc3339(started - 1), "reason": "Completed", "startedAt": rfc3339(started - 3) } }),
                json!({}),
                true,
                false,
            )
        } else if main && fault == Fault::ImagePull {
            (
                json!({ "waiting": { "message": format!("Back-off pulling image \"{}\"", container.image), "reason": "ImagePullBackOff" } }),
                json!({}),
                false,
                false,
            )
        } else if main && fault == Fault::ConfigError {
            (
                json!({ "waiting": { "message": format!("couldn't find key DB_PASSWORD in Secret {}/{}-secrets", namespace.name, workload.name), "reason": "CreateContainerConfigError" } }),
                json!({}),
                false,
                false,
            )
        } else if main && fault == Fault::CrashLoop {
            let finished = BASE - prng.between(30, 280) as i64;
            (
                json!({ "waiting": { "message": format!("back-off 5m0s restarting failed container={} pod={}_{}({})", container.name, pod.name, namespace.name, pod.uid), "reason": "CrashLoopBackOff" } }),
                json!({ "terminated": { "containerID": container_id, "exitCode": 1, "finishedAt": rfc3339(finished), "reason": "Error", "startedAt": rfc3339(finished - prng.between(1, 20) as i64) } }),
                false,
                false,
            )
        } else if main && fault == Fault::OomKilled {
            let restarted = BASE - prng.between(300, 3_000) as i64;
            (
                json!({ "running": { "startedAt": rfc3339(restarted) } }),
                json!({ "terminated": { "containerID": format!("containerd://{}", prng.hex(64)), "exitCode": 137, "finishedAt": rfc3339(restarted - 1), "reason": "OOMKilled", "startedAt": rfc3339(restarted - prng.between(600, 20_000) as i64) } }),
                true,
                true,
            )
        } else if fault == Fault::Evicted {
            (
                json!({ "terminated": { "exitCode": 137, "finishedAt": null, "message": "The container could not be located when the pod was terminated", "reason": "ContainerStatusUnknown", "startedAt": null } }),
                json!({}),
                false,
                false,
            )
        } else if workload.kind == Kind::Job {
            let exit = if fault == Fault::JobFailed { 1 } else { 0 };
            let reason = if exit == 0 { "Completed" } else { "Error" };
            (
                json!({ "terminated": { "containerID": container_id, "exitCode": exit, "finishedAt": rfc3339(started + prng.between(5, 600) as i64), "reason": reason, "startedAt": rfc3339(started) } }),
                json!({}),
                false,
                false,
            )
        } else {
            let last = if container.restarts > 0 {
                json!({ "terminated": { "containerID": format!("containerd://{}", prng.hex(64)), "exitCode": 2, "finishedAt": rfc3339(started + 100), "reason": "Error", "startedAt": rfc3339(started) } })
            } else {
                json!({})
            };
            (json!({ "running": { "startedAt": rfc3339(started + 1) } }), last, !node_down, true)
        };
        let waiting = state.get("waiting").is_some();
        if !waiting {
            status.insert(
                "containerID".into(),
                state.pointer("/terminated/containerID").cloned().unwrap_or_else(|| json!(container_id)),
            );
            status.insert("imageID".into(), json!(image_id(prng, &container.image)));
        } else {
            status.insert("imageID".into(), json!(""));
        }
        status.insert("lastState".into(), last_state);
        status.insert("ready".into(), json!(ready));
        status.insert("started".into(), json!(running));
        status.insert("state".into(), state);
        if container.init {
            init_statuses.push(Value::Object(status));
        } else {
            all_ready &= ready;
            statuses.push(Value::Object(status));
        }
    }
    let phase = match fault {
        Fault::Evicted | Fault::JobFailed => "Failed",
        _ if pending => "Pending",
        _ if workload.kind == Kind::Job => "Succeeded",
        _ => "Running",
    };
    let not_ready_at = if node_down { BASE - 1_200 } else { started + 5 };
    let ready_reason = match phase {
        "Succeeded" | "Failed" => Some(("PodCompleted", "")),
        _ if !all_ready => Some(("ContainersNotReady", "containers with unready status: [app]")),
        _ => None,
    };
    let ready = phase == "Running" && all_ready;
    let mut conditions = vec![
        condition("PodReadyToStartContainers", !pending && phase == "Running", started, None),
        condition("Initialized", true, started - 1, None),
        condition("Ready", ready, if ready { started + 12 } else { not_ready_at }, ready_reason),
        condition("ContainersReady", ready, if ready { started + 12 } else { not_ready_at }, ready_reason),
        condition("PodScheduled", true, created, None),
    ];
    if fault == Fault::Evicted {
        conditions.push(condition(
            "DisruptionTarget",
            true,
            BASE - 2_400,
            Some((
                "TerminationByKubelet",
                "The node was low on resource: memory. Threshold quantity: 100Mi, available: 87432Ki. ",
            )),
        ));
    }
    let qos = match pod.containers[0].resources {
        None => "BestEffort",
        Some(_) => "Burstable",
    };
    let mut status = json!({
        "conditions": conditions,
        "containerStatuses": statuses,
        "hostIP": node.map(|n| n.internal_ip.as_str()).unwrap_or_default(),
        "hostIPs": [{ "ip": node.map(|n| n.internal_ip.as_str()).unwrap_or_default() }],
        "phase": phase,
        "podIP": pod.ip,
        "podIPs": [{ "ip": pod.ip }],
        "qosClass": qos,
        "startTime": rfc3339(created + 1),
    });
    if let Some(map) = status.as_object_mut() {
        if !init_statuses.is_empty() {
            map.insert("initContainerStatuses".into(), Value::Array(init_statuses));
        }
        if fault == Fault::Evicted {
            map.insert("reason".into(), json!("Evicted"));
            map.insert("message".into(), json!(format!("The node was low on resource: memory. Threshold quantity: 100Mi, available: 87432Ki. Container {} was using 1893204Ki, request is 256Mi, has larger consumption of memory. ", pod.containers[0].name)));
        }
    }
    status
}
