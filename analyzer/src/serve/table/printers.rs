//! The API server's printers for built-in kinds (Kubernetes 1.33 `pkg/printers/internalversion`):
//! the same columns, and the same cells computed the same way, every wide column included (the
//! server always sends them; kubectl shows priority-1 columns only with `-o wide`).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::Column;
use super::columns::{
    age, array, containers_and_images, format_labels, format_selector, human_duration, int, or_none, since,
    text,
};

type Print = fn(&Value, Timestamp) -> Vec<Value>;

const fn c(name: &'static str, kind: &'static str, priority: u8) -> Column {
    let format = if matches!(name.as_bytes(), b"Name") { "name" } else { "" };
    Column { name, kind, format, priority }
}

const NAME: Column = c("Name", "string", 0);
const AGE: Column = c("Age", "string", 0);

const POD: &[Column] = &[
    NAME,
    c("Ready", "string", 0),
    c("Status", "string", 0),
    c("Restarts", "string", 0),
    AGE,
    c("IP", "string", 1),
    c("Node", "string", 1),
    c("Nominated Node", "string", 1),
    c("Readiness Gates", "string", 1),
];
const DEPLOYMENT: &[Column] = &[
    NAME,
    c("Ready", "string", 0),
    c("Up-to-date", "integer", 0),
    c("Available", "integer", 0),
    AGE,
    c("Containers", "string", 1),
    c("Images", "string", 1),
    c("Selector", "string", 1),
];
const REPLICASET: &[Column] = &[
    NAME,
    c("Desired", "integer", 0),
    c("Current", "integer", 0),
    c("Ready", "integer", 0),
    AGE,
    c("Containers", "string", 1),
    c("Images", "string", 1),
    c("Selector", "string", 1),
];
const STATEFULSET: &[Column] =
    &[NAME, c("Ready", "string", 0), AGE, c("Containers", "string", 1), c("Images", "string", 1)];
const DAEMONSET: &[Column] = &[
    NAME,
    c("Desired", "integer", 0),
    c("Current", "integer", 0),
    c("Ready", "integer", 0),
    c("Up-to-date", "integer", 0),
    c("Available", "integer", 0),
    c("Node Selector", "string", 0),
    AGE,
    c("Containers", "string", 1),
    c("Images", "string", 1),
    c("Selector", "string", 1),
];
const JOB: &[Column] = &[
    NAME,
    c("Status", "string", 0),
    c("Completions", "string", 0),
    c("Duration", "string", 0),
    AGE,
    c("Containers", "string", 1),
    c("Images", "string", 1),
    c("Selector", "string", 1),
];
const CRONJOB: &[Column] = &[
    NAME,
    c("Schedule", "string", 0),
    c("Timezone", "string", 0),
    c("Suspend", "boolean", 0),
    c("Active", "integer", 0),
    c("Last Schedule", "string", 0),
    AGE,
    c("Containers", "string", 1),
    c("Images", "string", 1),
    c("Selector", "string", 1),
];
const SERVICE: &[Column] = &[
    NAME,
    c("Type", "string", 0),
    c("Cluster-IP", "string", 0),
    c("External-IP", "string", 0),
    c("Port(s)", "string", 0),
    AGE,
    c("Selector", "string", 1),
];
const ENDPOINTS: &[Column] = &[NAME, c("Endpoints", "string", 0), AGE];
const NODE: &[Column] = &[
    NAME,
    c("Status", "string", 0),
    c("Roles", "string", 0),
    AGE,
    c("Version", "string", 0),
    c("Internal-IP", "string", 1),
    c("External-IP", "string", 1),
    c("OS-Image", "string", 1),
    c("Kernel-Version", "string", 1),
    c("Container-Runtime", "string", 1),
];
const NAMESPACE: &[Column] = &[NAME, c("Status", "string", 0), AGE];
const EVENT: &[Column] = &[
    c("Last Seen", "string", 0),
    c("Type", "string", 0),
    c("Reason", "string", 0),
    c("Object", "string", 0),
    c("Subobject", "string", 1),
    c("Source", "string", 1),
    c("Message", "string", 0),
    c("First Seen", "string", 1),
    c("Count", "string", 1),
    Column { name: "Name", kind: "string", format: "name", priority: 1 },
];
const CONFIGMAP: &[Column] = &[NAME, c("Data", "integer", 0), AGE];
const SECRET: &[Column] = &[NAME, c("Type", "string", 0), c("Data", "integer", 0), AGE];
const SERVICEACCOUNT: &[Column] = &[NAME, c("Secrets", "integer", 0), AGE];
const PVC: &[Column] = &[
    NAME,
    c("Status", "string", 0),
    c("Volume", "string", 0),
    c("Capacity", "string", 0),
    c("Access Modes", "string", 0),
    c("StorageClass", "string", 0),
    c("VolumeAttributesClass", "string", 0),
    AGE,
    c("VolumeMode", "string", 1),
];
const PV: &[Column] = &[
    NAME,
    c("Capacity", "string", 0),
    c("Access Modes", "string", 0),
    c("Reclaim Policy", "string", 0),
    c("Status", "string", 0),
    c("Claim", "string", 0),
    c("StorageClass", "string", 0),
    c("VolumeAttributesClass", "string", 0),
    c("Reason", "string", 0),
    AGE,
    c("VolumeMode", "string", 1),
];
const INGRESS: &[Column] = &[
    NAME,
    c("Class", "string", 0),
    c("Hosts", "string", 0),
    c("Address", "string", 0),
    c("Ports", "string", 0),
    AGE,
];
const STORAGECLASS: &[Column] = &[
    NAME,
    c("Provisioner", "string", 0),
    c("ReclaimPolicy", "string", 0),
    c("VolumeBindingMode", "string", 0),
    c("AllowVolumeExpansion", "string", 0),
    AGE,
];
const REPLICATIONCONTROLLER: &[Column] = &[
    NAME,
    c("Desired", "integer", 0),
    c("Current", "integer", 0),
    c("Ready", "integer", 0),
    AGE,
    c("Containers", "string", 1),
    c("Images", "string", 1),
    c("Selector", "string", 1),
];
const PDB: &[Column] = &[
    NAME,
    c("Min Available", "string", 0),
    c("Max Unavailable", "string", 0),
    c("Allowed Disruptions", "integer", 0),
    AGE,
];
const NETWORKPOLICY: &[Column] = &[NAME, c("Pod-Selector", "string", 0), AGE];
const CREATED_AT: &[Column] = &[NAME, c("Created At", "date", 0)];
const BINDING: &[Column] = &[
    NAME,
    c("Role", "string", 0),
    AGE,
    c("Users", "string", 1),
    c("Groups", "string", 1),
    c("ServiceAccounts", "string", 1),
];
const HPA: &[Column] = &[
    NAME,
    c("Reference", "string", 0),
    c("Targets", "string", 0),
    c("MinPods", "string", 0),
    c("MaxPods", "integer", 0),
    c("Replicas", "integer", 0),
    AGE,
];
const ENDPOINTSLICE: &[Column] =
    &[NAME, c("AddressType", "string", 0), c("Ports", "string", 0), c("Endpoints", "string", 0), AGE];
const LEASE: &[Column] = &[NAME, c("Holder", "string", 0), AGE];
const PRIORITYCLASS: &[Column] = &[
    NAME,
    c("Value", "integer", 0),
    c("Global-Default", "boolean", 0),
    AGE,
    c("PreemptionPolicy", "string", 0),
];
const RESOURCEQUOTA: &[Column] = &[NAME, AGE, c("Request", "string", 0), c("Limit", "string", 0)];
const CONTROLLERREVISION: &[Column] = &[NAME, c("Controller", "string", 0), c("Revision", "integer", 0), AGE];

/// The printer of a built-in kind: its columns and how a row is computed.
pub(super) fn printer(kind: &str) -> Option<(&'static [Column], Print)> {
    Some(match kind {
        "Pod" => (POD, pod),
        "Deployment" => (DEPLOYMENT, deployment),
        "ReplicaSet" => (REPLICASET, replica_set),
        "StatefulSet" => (STATEFULSET, stateful_set),
        "DaemonSet" => (DAEMONSET, daemon_set),
        "Job" => (JOB, job),
        "CronJob" => (CRONJOB, cron_job),
        "Service" => (SERVICE, service),
        "Endpoints" => (ENDPOINTS, endpoints),
        "Node" => (NODE, node),
        "Namespace" => {
            (NAMESPACE, |o, now| vec![name(o), text(o, "/status/phase").into(), age(o, now).into()])
        }
        "Event" => (EVENT, event),
        "ConfigMap" => (CONFIGMAP, |o, now| {
            let n = object_len(o, "/data") + object_len(o, "/binaryData");
            vec![name(o), n.into(), age(o, now).into()]
        }),
        "Secret" => (SECRET, |o, now| {
            vec![name(o), text(o, "/type").into(), object_len(o, "/data").into(), age(o, now).into()]
        }),
        "ServiceAccount" => {
            (SERVICEACCOUNT, |o, now| vec![name(o), array(o, "/secrets").len().into(), age(o, now).into()])
        }
        "PersistentVolumeClaim" => (PVC, pvc),
        "PersistentVolume" => (PV, pv),
        "Ingress" => (INGRESS, ingress),
        "StorageClass" => (STORAGECLASS, storage_class),
        "ReplicationController" => (REPLICATIONCONTROLLER, replication_controller),
        "PodDisruptionBudget" => (PDB, pdb),
        "NetworkPolicy" => (NETWORKPOLICY, |o, now| {
            vec![name(o), format_selector(o.pointer("/spec/podSelector")).into(), age(o, now).into()]
        }),
        "Role" | "ClusterRole" | "CustomResourceDefinition" | "LimitRange" | "APIService" | "PodTemplate" => {
            (CREATED_AT, |o, _| {
                vec![name(o), o.pointer("/metadata/creationTimestamp").cloned().unwrap_or(Value::Null)]
            })
        }
        "RoleBinding" | "ClusterRoleBinding" => (BINDING, binding),
        "HorizontalPodAutoscaler" => (HPA, hpa),
        "EndpointSlice" => (ENDPOINTSLICE, endpoint_slice),
        "Lease" => (LEASE, |o, now| {
            vec![name(o), or_none(text(o, "/spec/holderIdentity")).into(), age(o, now).into()]
        }),
        "PriorityClass" => (PRIORITYCLASS, |o, now| {
            let preemption =
                o.pointer("/preemptionPolicy").and_then(Value::as_str).unwrap_or("PreemptLowerPriority");
            vec![
                name(o),
                int(o, "/value").into(),
                o.pointer("/globalDefault").and_then(Value::as_bool).unwrap_or(false).into(),
                age(o, now).into(),
                preemption.into(),
            ]
        }),
        "ResourceQuota" => (RESOURCEQUOTA, resource_quota),
        "ControllerRevision" => (CONTROLLERREVISION, |o, now| {
            let controller = o
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .and_then(|owners| owners.iter().find(|owner| owner.get("controller") == Some(&json!(true))))
                .map(|owner| {
                    let group = text(owner, "/apiVersion").split('/').next().unwrap_or_default().to_owned();
                    let group = if text(owner, "/apiVersion").contains('/') {
                        format!(".{group}")
                    } else {
                        String::new()
                    };
                    format!("{}{group}/{}", text(owner, "/kind").to_lowercase(), text(owner, "/name"))
                })
                .unwrap_or_else(|| "<none>".to_owned());
            vec![name(o), controller.into(), int(o, "/revision").into(), age(o, now).into()]
        }),
        _ => return None,
    })
}

/// Row conditions: a pod that ran to completion is marked `Completed` (kubectl's
/// `--show-all` era filter reads it).
pub(super) fn row_conditions(kind: &str, object: &Value) -> Option<Value> {
    let phase = object.pointer("/status/phase").and_then(Value::as_str);
    (kind == "Pod" && matches!(phase, Some("Succeeded" | "Failed")))
        .then(|| json!([{"type": "Completed", "status": "True", "reason": phase, "message": "The pod has completed successfully."}]))
}

fn name(object: &Value) -> Value {
    text(object, "/metadata/name").into()
}

fn object_len(object: &Value, pointer: &str) -> usize {
    object.pointer(pointer).and_then(Value::as_object).map_or(0, serde_json::Map::len)
}

fn is_true(condition: &Value) -> bool {
    condition.get("status").and_then(Value::as_str) == Some("True")
}

fn pod(o: &Value, now: Timestamp) -> Vec<Value> {
    let containers = array(o, "/spec/containers");
    let init_specs = array(o, "/spec/initContainers");
    let restartable = |name: &str| {
        init_specs.iter().any(|c| text(c, "/name") == name && text(c, "/restartPolicy") == "Always")
    };
    let total =
        containers.len() + init_specs.iter().filter(|c| text(c, "/restartPolicy") == "Always").count();
    let mut ready = 0usize;
    let mut restarts = 0i64;
    let mut restartable_restarts = 0i64;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_restartable_restart: Option<Timestamp> = None;
    let finished = |status: &Value| -> Option<Timestamp> {
        status
            .pointer("/lastState/terminated/finishedAt")
            .and_then(Value::as_str)
            .and_then(|t| t.parse().ok())
    };
    let mut reason = text(o, "/status/phase");
    let status_reason = text(o, "/status/reason");
    if !status_reason.is_empty() {
        reason = status_reason.clone();
    }
    for condition in array(o, "/status/conditions") {
        if text(condition, "/type") == "PodScheduled" && text(condition, "/reason") == "SchedulingGated" {
            reason = "SchedulingGated".to_owned();
        }
    }
    let mut initializing = false;
    let init_statuses = array(o, "/status/initContainerStatuses");
    for (i, status) in init_statuses.iter().enumerate() {
        let container = text(status, "/name");
        restarts += int(status, "/restartCount");
        if let Some(at) = finished(status) {
            last_restart = last_restart.max(Some(at));
        }
        let sidecar = restartable(&container);
        if sidecar {
            restartable_restarts += int(status, "/restartCount");
            if let Some(at) = finished(status) {
                last_restartable_restart = last_restartable_restart.max(Some(at));
            }
        }
        let terminated = status.pointer("/state/terminated");
        let waiting_reason = text(status, "/state/waiting/reason");
        if terminated.is_some_and(|t| int(t, "/exitCode") == 0) {
            continue;
        }
        if sidecar && status.get("started").and_then(Value::as_bool) == Some(true) {
            if status.get("ready").and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        if let Some(terminated) = terminated {
            let why = text(terminated, "/reason");
            reason = if !why.is_empty() {
                format!("Init:{why}")
            } else if int(terminated, "/signal") != 0 {
                format!("Init:Signal:{}", int(terminated, "/signal"))
            } else {
                format!("Init:ExitCode:{}", int(terminated, "/exitCode"))
            };
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }
    let initialized =
        array(o, "/status/conditions").iter().any(|c| text(c, "/type") == "Initialized" && is_true(c));
    if !initializing || initialized {
        restarts = restartable_restarts;
        last_restart = last_restartable_restart;
        let mut has_running = false;
        for status in array(o, "/status/containerStatuses").iter().rev() {
            restarts += int(status, "/restartCount");
            if let Some(at) = finished(status) {
                last_restart = last_restart.max(Some(at));
            }
            let waiting = text(status, "/state/waiting/reason");
            let terminated = status.pointer("/state/terminated");
            if !waiting.is_empty() {
                reason = waiting;
            } else if let Some(terminated) = terminated {
                let why = text(terminated, "/reason");
                reason = if !why.is_empty() {
                    why
                } else if int(terminated, "/signal") != 0 {
                    format!("Signal:{}", int(terminated, "/signal"))
                } else {
                    format!("ExitCode:{}", int(terminated, "/exitCode"))
                };
            } else if status.get("ready").and_then(Value::as_bool) == Some(true)
                && status.pointer("/state/running").is_some()
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let has_ready =
                array(o, "/status/conditions").iter().any(|c| text(c, "/type") == "Ready" && is_true(c));
            reason = if has_ready { "Running".to_owned() } else { "NotReady".to_owned() };
        }
    }
    let phase = text(o, "/status/phase");
    let deleting = o.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null());
    if deleting && status_reason == "NodeLost" {
        reason = "Unknown".to_owned();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".to_owned();
    }
    let restarts_text = match last_restart {
        Some(at) if restarts != 0 => {
            format!("{restarts} ({} ago)", human_duration(now.as_second() - at.as_second()))
        }
        _ => restarts.to_string(),
    };
    let ip = array(o, "/status/podIPs").first().map(|ip| text(ip, "/ip")).unwrap_or_default();
    let gates = array(o, "/spec/readinessGates");
    let gates_text = if gates.is_empty() {
        "<none>".to_owned()
    } else {
        let conditions = array(o, "/status/conditions");
        let true_gates = gates
            .iter()
            .filter(|gate| {
                let wanted = text(gate, "/conditionType");
                conditions.iter().find(|c| text(c, "/type") == wanted).is_some_and(is_true)
            })
            .count();
        format!("{true_gates}/{}", gates.len())
    };
    vec![
        name(o),
        format!("{ready}/{total}").into(),
        reason.into(),
        restarts_text.into(),
        age(o, now).into(),
        or_none(ip).into(),
        or_none(text(o, "/spec/nodeName")).into(),
        or_none(text(o, "/status/nominatedNodeName")).into(),
        gates_text.into(),
    ]
}

fn template_wide(o: &Value, selector: &str) -> [Value; 3] {
    let (names, images) = containers_and_images(o.pointer("/spec/template/spec"));
    [names.into(), images.into(), format_selector(o.pointer(selector)).into()]
}

fn deployment(o: &Value, now: Timestamp) -> Vec<Value> {
    let desired = int(o, "/spec/replicas");
    let mut row = vec![
        name(o),
        format!("{}/{desired}", int(o, "/status/readyReplicas")).into(),
        int(o, "/status/updatedReplicas").into(),
        int(o, "/status/availableReplicas").into(),
        age(o, now).into(),
    ];
    row.extend(template_wide(o, "/spec/selector"));
    row
}

fn replica_set(o: &Value, now: Timestamp) -> Vec<Value> {
    let mut row = vec![
        name(o),
        int(o, "/spec/replicas").into(),
        int(o, "/status/replicas").into(),
        int(o, "/status/readyReplicas").into(),
        age(o, now).into(),
    ];
    row.extend(template_wide(o, "/spec/selector"));
    row
}

fn replication_controller(o: &Value, now: Timestamp) -> Vec<Value> {
    let mut row = vec![
        name(o),
        int(o, "/spec/replicas").into(),
        int(o, "/status/replicas").into(),
        int(o, "/status/readyReplicas").into(),
        age(o, now).into(),
    ];
    let (names, images) = containers_and_images(o.pointer("/spec/template/spec"));
    row.extend([names.into(), images.into(), format_labels(o.pointer("/spec/selector")).into()]);
    row
}

fn stateful_set(o: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = containers_and_images(o.pointer("/spec/template/spec"));
    vec![
        name(o),
        format!("{}/{}", int(o, "/status/readyReplicas"), int(o, "/spec/replicas")).into(),
        age(o, now).into(),
        names.into(),
        images.into(),
    ]
}

fn daemon_set(o: &Value, now: Timestamp) -> Vec<Value> {
    let mut row = vec![
        name(o),
        int(o, "/status/desiredNumberScheduled").into(),
        int(o, "/status/currentNumberScheduled").into(),
        int(o, "/status/numberReady").into(),
        int(o, "/status/updatedNumberScheduled").into(),
        int(o, "/status/numberAvailable").into(),
        format_labels(o.pointer("/spec/template/spec/nodeSelector")).into(),
        age(o, now).into(),
    ];
    row.extend(template_wide(o, "/spec/selector"));
    row
}

fn job(o: &Value, now: Timestamp) -> Vec<Value> {
    let conditions = array(o, "/status/conditions");
    let has = |kind: &str| conditions.iter().any(|c| text(c, "/type") == kind && is_true(c));
    let status = if has("Complete") {
        "Complete"
    } else if has("Failed") {
        "Failed"
    } else if o.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null()) {
        "Terminating"
    } else if has("Suspended") {
        "Suspended"
    } else if has("FailureTarget") {
        "FailureTarget"
    } else if has("SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    };
    let succeeded = int(o, "/status/succeeded");
    let completions = match o.pointer("/spec/completions").and_then(Value::as_i64) {
        Some(wanted) => format!("{succeeded}/{wanted}"),
        None => match o.pointer("/spec/parallelism").and_then(Value::as_i64) {
            Some(parallelism) if parallelism > 1 => format!("{succeeded}/1 of {parallelism}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let time =
        |pointer: &str| o.pointer(pointer).and_then(Value::as_str).and_then(|t| t.parse::<Timestamp>().ok());
    let duration = match (time("/status/startTime"), time("/status/completionTime")) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(now.as_second() - start.as_second()),
        (Some(start), Some(end)) => human_duration(end.as_second() - start.as_second()),
    };
    let mut row = vec![name(o), status.into(), completions.into(), duration.into(), age(o, now).into()];
    row.extend(template_wide(o, "/spec/selector"));
    row
}

fn cron_job(o: &Value, now: Timestamp) -> Vec<Value> {
    let last = match o.pointer("/status/lastScheduleTime").and_then(Value::as_str) {
        Some(at) => since(Some(at), now),
        None => "<none>".to_owned(),
    };
    let suspend = o
        .pointer("/spec/suspend")
        .and_then(Value::as_bool)
        .map_or(Value::from("<unset>"), |s| Value::from(if s { "True" } else { "False" }));
    let (names, images) = containers_and_images(o.pointer("/spec/jobTemplate/spec/template/spec"));
    vec![
        name(o),
        text(o, "/spec/schedule").into(),
        or_none(text(o, "/spec/timeZone")).into(),
        suspend,
        array(o, "/status/active").len().into(),
        last.into(),
        age(o, now).into(),
        names.into(),
        images.into(),
        format_selector(o.pointer("/spec/jobTemplate/spec/selector")).into(),
    ]
}

fn load_balancer(o: &Value, pointer: &str) -> String {
    let mut addresses: Vec<String> = array(o, pointer)
        .iter()
        .filter_map(|ingress| {
            let ip = text(ingress, "/ip");
            let host = text(ingress, "/hostname");
            if !ip.is_empty() {
                Some(ip)
            } else if !host.is_empty() {
                Some(host)
            } else {
                None
            }
        })
        .collect();
    addresses.sort();
    addresses.dedup();
    addresses.join(",")
}

fn service(o: &Value, now: Timestamp) -> Vec<Value> {
    let kind = text(o, "/spec/type");
    let cluster_ip = array(o, "/spec/clusterIPs")
        .first()
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| or_none(text(o, "/spec/clusterIP")));
    let external: Vec<String> =
        array(o, "/spec/externalIPs").iter().filter_map(Value::as_str).map(str::to_owned).collect();
    let external_ip = match kind.as_str() {
        "ClusterIP" | "NodePort" => or_none(external.join(",")),
        "LoadBalancer" => {
            let balancer = load_balancer(o, "/status/loadBalancer/ingress");
            if !external.is_empty() {
                let mut all: Vec<String> =
                    balancer.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect();
                all.extend(external);
                all.join(",")
            } else if !balancer.is_empty() {
                balancer
            } else {
                "<pending>".to_owned()
            }
        }
        "ExternalName" => text(o, "/spec/externalName"),
        _ => "<unknown>".to_owned(),
    };
    let ports: Vec<String> = array(o, "/spec/ports")
        .iter()
        .map(|port| {
            let protocol = text(port, "/protocol");
            match int(port, "/nodePort") {
                0 => format!("{}/{protocol}", int(port, "/port")),
                node_port => format!("{}:{node_port}/{protocol}", int(port, "/port")),
            }
        })
        .collect();
    vec![
        name(o),
        kind.into(),
        cluster_ip.into(),
        external_ip.into(),
        or_none(ports.join(",")).into(),
        age(o, now).into(),
        format_labels(o.pointer("/spec/selector")).into(),
    ]
}

fn endpoints(o: &Value, now: Timestamp) -> Vec<Value> {
    let subsets = array(o, "/subsets");
    let formatted = if subsets.is_empty() {
        "<none>".to_owned()
    } else {
        const MAX: usize = 3;
        let (mut list, mut more, mut count) = (Vec::new(), false, 0usize);
        for subset in subsets {
            let addresses = array(subset, "/addresses");
            let ports = array(subset, "/ports");
            if ports.is_empty() {
                count += addresses.len();
                for address in addresses {
                    if list.len() == MAX {
                        more = true;
                        break;
                    }
                    list.push(text(address, "/ip"));
                }
                continue;
            }
            for port in ports {
                count += addresses.len();
                for address in addresses {
                    if list.len() == MAX {
                        more = true;
                        break;
                    }
                    let ip = text(address, "/ip");
                    let host = if ip.contains(':') { format!("[{ip}]") } else { ip };
                    list.push(format!("{host}:{}", int(port, "/port")));
                }
            }
        }
        let joined = list.join(",");
        if more { format!("{joined} + {} more...", count - MAX) } else { joined }
    };
    vec![name(o), formatted.into(), age(o, now).into()]
}

fn node(o: &Value, now: Timestamp) -> Vec<Value> {
    let mut status: Vec<String> = Vec::new();
    if let Some(ready) = array(o, "/status/conditions").iter().rev().find(|c| text(c, "/type") == "Ready") {
        status.push(if is_true(ready) { "Ready".to_owned() } else { "NotReady".to_owned() });
    }
    if status.is_empty() {
        status.push("Unknown".to_owned());
    }
    if o.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled".to_owned());
    }
    let mut roles: Vec<String> = o
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(key, value)| {
                    if let Some(role) = key.strip_prefix("node-role.kubernetes.io/") {
                        (!role.is_empty()).then(|| role.to_owned())
                    } else if key == "kubernetes.io/role" {
                        value.as_str().filter(|v| !v.is_empty()).map(str::to_owned)
                    } else {
                        None
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    roles.sort();
    roles.dedup();
    let address = |kind: &str| {
        array(o, "/status/addresses")
            .iter()
            .find(|a| text(a, "/type") == kind)
            .map(|a| text(a, "/address"))
            .unwrap_or_else(|| "<none>".to_owned())
    };
    let unknown = |pointer: &str| {
        let value = text(o, pointer);
        if value.is_empty() { "<unknown>".to_owned() } else { value }
    };
    vec![
        name(o),
        status.join(",").into(),
        or_none(roles.join(",")).into(),
        age(o, now).into(),
        text(o, "/status/nodeInfo/kubeletVersion").into(),
        address("InternalIP").into(),
        address("ExternalIP").into(),
        unknown("/status/nodeInfo/osImage").into(),
        unknown("/status/nodeInfo/kernelVersion").into(),
        unknown("/status/nodeInfo/containerRuntimeVersion").into(),
    ]
}

fn event(o: &Value, now: Timestamp) -> Vec<Value> {
    let stamp = |pointer: &str| o.pointer(pointer).and_then(Value::as_str).filter(|t| !t.is_empty());
    let first = match stamp("/firstTimestamp") {
        Some(at) => since(Some(at), now),
        None => since(stamp("/eventTime"), now),
    };
    let mut last = match stamp("/lastTimestamp") {
        Some(at) => since(Some(at), now),
        None => first.clone(),
    };
    let mut count = int(o, "/count");
    if o.pointer("/series").is_some_and(|s| !s.is_null()) {
        last = since(stamp("/series/lastObservedTime"), now);
        count = int(o, "/series/count");
    } else if count == 0 {
        count = 1;
    }
    let kind = text(o, "/involvedObject/kind").to_lowercase();
    let involved = text(o, "/involvedObject/name");
    let target = if involved.is_empty() { kind } else { format!("{kind}/{involved}") };
    let component = text(o, "/source/component");
    let host = text(o, "/source/host");
    let source = if !component.is_empty() {
        if host.is_empty() { component } else { format!("{component}, {host}") }
    } else {
        let controller = text(o, "/reportingController");
        let instance = text(o, "/reportingInstance");
        if instance.is_empty() { controller } else { format!("{controller}, {instance}") }
    };
    vec![
        last.into(),
        text(o, "/type").into(),
        text(o, "/reason").into(),
        target.into(),
        text(o, "/involvedObject/fieldPath").into(),
        source.into(),
        text(o, "/message").trim().into(),
        first.into(),
        count.into(),
        name(o),
    ]
}

/// `GetAccessModesAsString`: RWO, ROX, RWX, RWOP in that order.
fn access_modes(modes: &[Value]) -> String {
    let has = |mode: &str| modes.iter().any(|m| m.as_str() == Some(mode));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| has(mode))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

fn storage_class_of(o: &Value) -> String {
    let class = text(o, "/spec/storageClassName");
    if class.is_empty() {
        text(o, "/metadata/annotations/volume.beta.kubernetes.io~1storage-class")
    } else {
        class
    }
}

fn attributes_class(o: &Value) -> String {
    let class = text(o, "/spec/volumeAttributesClassName");
    if class.is_empty() { "<unset>".to_owned() } else { class }
}

fn volume_mode(o: &Value) -> String {
    let mode = text(o, "/spec/volumeMode");
    if mode.is_empty() { "<unset>".to_owned() } else { mode }
}

fn deleting(o: &Value) -> bool {
    o.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null())
}

fn pvc(o: &Value, now: Timestamp) -> Vec<Value> {
    let phase = if deleting(o) { "Terminating".to_owned() } else { text(o, "/status/phase") };
    let volume = text(o, "/spec/volumeName");
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (text(o, "/status/capacity/storage"), access_modes(array(o, "/status/accessModes")))
    };
    vec![
        name(o),
        phase.into(),
        volume.into(),
        capacity.into(),
        modes.into(),
        storage_class_of(o).into(),
        attributes_class(o).into(),
        age(o, now).into(),
        volume_mode(o).into(),
    ]
}

fn pv(o: &Value, now: Timestamp) -> Vec<Value> {
    let claim = match (text(o, "/spec/claimRef/namespace"), text(o, "/spec/claimRef/name")) {
        (_, name) if name.is_empty() => String::new(),
        (namespace, name) => format!("{namespace}/{name}"),
    };
    let phase = if deleting(o) { "Terminating".to_owned() } else { text(o, "/status/phase") };
    vec![
        name(o),
        text(o, "/spec/capacity/storage").into(),
        access_modes(array(o, "/spec/accessModes")).into(),
        text(o, "/spec/persistentVolumeReclaimPolicy").into(),
        phase.into(),
        claim.into(),
        storage_class_of(o).into(),
        attributes_class(o).into(),
        text(o, "/status/reason").into(),
        age(o, now).into(),
        volume_mode(o).into(),
    ]
}

fn ingress(o: &Value, now: Timestamp) -> Vec<Value> {
    let class = or_none(text(o, "/spec/ingressClassName"));
    let rules = array(o, "/spec/rules");
    let hosts: Vec<String> = rules.iter().map(|rule| text(rule, "/host")).filter(|h| !h.is_empty()).collect();
    let hosts_text = if hosts.is_empty() {
        "*".to_owned()
    } else if hosts.len() > 3 {
        format!("{} + {} more...", hosts[..3].join(","), hosts.len() - 3)
    } else {
        hosts.join(",")
    };
    let ports = if array(o, "/spec/tls").is_empty() { "80" } else { "80, 443" };
    vec![
        name(o),
        class.into(),
        hosts_text.into(),
        load_balancer(o, "/status/loadBalancer/ingress").into(),
        ports.into(),
        age(o, now).into(),
    ]
}

fn storage_class(o: &Value, now: Timestamp) -> Vec<Value> {
    let annotation = |key: &str| text(o, &format!("/metadata/annotations/{}", key.replace('/', "~1")));
    let default = annotation("storageclass.kubernetes.io/is-default-class") == "true"
        || annotation("storageclass.beta.kubernetes.io/is-default-class") == "true";
    let mut shown = text(o, "/metadata/name");
    if default {
        shown.push_str(" (default)");
    }
    let reclaim = text(o, "/reclaimPolicy");
    let binding = text(o, "/volumeBindingMode");
    vec![
        shown.into(),
        text(o, "/provisioner").into(),
        (if reclaim.is_empty() { "Delete".to_owned() } else { reclaim }).into(),
        (if binding.is_empty() { "Immediate".to_owned() } else { binding }).into(),
        o.pointer("/allowVolumeExpansion").and_then(Value::as_bool).unwrap_or(false).into(),
        age(o, now).into(),
    ]
}

fn pdb(o: &Value, now: Timestamp) -> Vec<Value> {
    let shown = |pointer: &str| match o.pointer(pointer) {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => "N/A".to_owned(),
    };
    vec![
        name(o),
        shown("/spec/minAvailable").into(),
        shown("/spec/maxUnavailable").into(),
        int(o, "/status/disruptionsAllowed").into(),
        age(o, now).into(),
    ]
}

fn binding(o: &Value, now: Timestamp) -> Vec<Value> {
    let subjects = array(o, "/subjects");
    let of_kind = |kind: &str| -> String {
        subjects
            .iter()
            .filter(|s| text(s, "/kind") == kind)
            .map(|s| {
                let namespace = text(s, "/namespace");
                if kind == "ServiceAccount" {
                    format!("{namespace}/{}", text(s, "/name"))
                } else {
                    text(s, "/name")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    vec![
        name(o),
        format!("{}/{}", text(o, "/roleRef/kind"), text(o, "/roleRef/name")).into(),
        age(o, now).into(),
        of_kind("User").into(),
        of_kind("Group").into(),
        of_kind("ServiceAccount").into(),
    ]
}

fn hpa(o: &Value, now: Timestamp) -> Vec<Value> {
    let reference =
        format!("{}/{}", text(o, "/spec/scaleTargetRef/kind"), text(o, "/spec/scaleTargetRef/name"));
    let current = array(o, "/status/currentMetrics");
    let mut targets: Vec<String> = Vec::new();
    for (i, metric) in array(o, "/spec/metrics").iter().enumerate() {
        let status = current.get(i);
        let kind = text(metric, "/type");
        let shown = match kind.as_str() {
            "Resource" | "ContainerResource" => {
                let key = if kind == "Resource" { "resource" } else { "containerResource" };
                let name = text(metric, &format!("/{key}/name"));
                match metric.pointer(&format!("/{key}/target/averageUtilization")).and_then(Value::as_i64) {
                    Some(target) => {
                        let now_value = status
                            .and_then(|s| s.pointer(&format!("/{key}/current/averageUtilization")))
                            .and_then(Value::as_i64)
                            .map_or("<unknown>".to_owned(), |v| format!("{v}%"));
                        format!("{name}: {now_value}/{target}%")
                    }
                    None => {
                        let target = text(metric, &format!("/{key}/target/averageValue"));
                        let now_value = status
                            .and_then(|s| s.pointer(&format!("/{key}/current/averageValue")))
                            .and_then(Value::as_str)
                            .unwrap_or("<unknown>")
                            .to_owned();
                        format!("{name}: {now_value}/{target}")
                    }
                }
            }
            _ => "<unknown>/<unknown>".to_owned(),
        };
        targets.push(shown);
    }
    let targets = if targets.is_empty() {
        "<none>".to_owned()
    } else if targets.len() > 2 {
        format!("{} + {} more...", targets[..2].join(", "), targets.len() - 2)
    } else {
        targets.join(", ")
    };
    let min = o
        .pointer("/spec/minReplicas")
        .and_then(Value::as_i64)
        .map_or("<unset>".to_owned(), |n| n.to_string());
    vec![
        name(o),
        reference.into(),
        targets.into(),
        min.into(),
        int(o, "/spec/maxReplicas").into(),
        int(o, "/status/currentReplicas").into(),
        age(o, now).into(),
    ]
}

fn endpoint_slice(o: &Value, now: Timestamp) -> Vec<Value> {
    let ports: Vec<String> = array(o, "/ports")
        .iter()
        .map(|p| p.get("port").and_then(Value::as_i64).map_or("<unset>".to_owned(), |n| n.to_string()))
        .collect();
    let addresses: Vec<String> = array(o, "/endpoints")
        .iter()
        .flat_map(|e| array(e, "/addresses").iter().filter_map(Value::as_str).map(str::to_owned))
        .collect();
    let shown = |items: &[String]| {
        if items.is_empty() {
            "<unset>".to_owned()
        } else if items.len() > 3 {
            format!("{} + {} more...", items[..3].join(","), items.len() - 3)
        } else {
            items.join(",")
        }
    };
    vec![
        name(o),
        text(o, "/addressType").into(),
        shown(&ports).into(),
        shown(&addresses).into(),
        age(o, now).into(),
    ]
}

fn resource_quota(o: &Value, now: Timestamp) -> Vec<Value> {
    let (mut requests, mut limits) = (Vec::new(), Vec::new());
    if let Some(hard) = o.pointer("/status/hard").and_then(Value::as_object) {
        let mut keys: Vec<&String> = hard.keys().collect();
        keys.sort();
        for key in keys {
            let used = o
                .pointer(&format!("/status/used/{}", key.replace('/', "~1")))
                .and_then(Value::as_str)
                .unwrap_or("0");
            let pair = format!("{key}: {used}/{}", hard.get(key).and_then(Value::as_str).unwrap_or_default());
            if key.starts_with("limits.") { limits.push(pair) } else { requests.push(pair) }
        }
    }
    vec![name(o), age(o, now).into(), requests.join(", ").into(), limits.join(", ").into()]
}
