//! Where a pending pod could run: the scheduler's fit recomputed per node from the bundle, so a
//! root cause can name the blocker with its numbers ("needs 800m CPU, node n1 has 700m left of
//! 2 cores") instead of only quoting "Insufficient cpu".
//!
//! Per node: cordoned, NotReady, taints against the pod's tolerations, `nodeSelector` and
//! required node affinity against the node's labels, CPU/memory/pod count requested against
//! allocatable minus what the node's other pods already request, host ports held by another
//! pod, and required pod anti-affinity on the node's hostname. Cluster-wide: the pod's
//! PersistentVolumeClaims (missing, or Pending with the reason the bundle shows).
//!
//! Read by the incident's `unschedulable` root cause.

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object};
use kubesnap_shared::quantity;

use crate::facts::performance::units;

/// One reason a node cannot take the pod.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Blocker {
    Cordoned,
    NotReady,
    /// `key=value:Effect` of an untolerated taint.
    Taint(String),
    /// A `nodeSelector` entry or an affinity term the node's labels do not satisfy.
    Selector(String),
    /// `needs 800m CPU, node has 700m left of 2 cores`.
    Resources(String),
    /// `host port 80/TCP is held by Pod kube-system/svclb-traefik-x`.
    HostPort(String),
    /// `pod anti-affinity: Pod shop/api-1 (app=api) runs there`.
    AntiAffinity(String),
}

impl Blocker {
    /// The blocker in a few words, for titles and evidence.
    pub(crate) fn text(&self) -> String {
        match self {
            Blocker::Cordoned => "cordoned (spec.unschedulable)".to_owned(),
            Blocker::NotReady => "NotReady".to_owned(),
            Blocker::Taint(taint) => format!("taint {taint} not tolerated"),
            Blocker::Selector(text) | Blocker::Resources(text) => text.clone(),
            Blocker::HostPort(text) | Blocker::AntiAffinity(text) => text.clone(),
        }
    }

    /// A short class name, to say what blocks most nodes.
    pub(crate) fn class(&self) -> &'static str {
        match self {
            Blocker::Cordoned => "cordoned",
            Blocker::NotReady => "not ready",
            Blocker::Taint(_) => "taint",
            Blocker::Selector(_) => "node selector/affinity",
            Blocker::Resources(_) => "resources",
            Blocker::HostPort(_) => "host port",
            Blocker::AntiAffinity(_) => "anti-affinity",
        }
    }
}

/// The fit of one pod on every node of the bundle, and what blocks it cluster-wide.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fit {
    /// Node name → what blocks the pod there (empty: it fits).
    pub(crate) nodes: BTreeMap<String, Vec<Blocker>>,
    /// Blockers on every node: claims that are missing or not bound.
    pub(crate) volumes: Vec<String>,
}

impl Fit {
    /// Nodes where nothing blocks the pod.
    pub(crate) fn fitting(&self) -> Vec<&str> {
        self.nodes.iter().filter(|(_, blockers)| blockers.is_empty()).map(|(name, _)| name.as_str()).collect()
    }
}

/// What the pod requests: CPU in millicores, memory in bytes (containers summed, each init
/// container's own request counting when it is larger, as the scheduler does).
pub(crate) fn requests(pod: &Object) -> (f64, f64) {
    let sum = |pointer: &str, parse: fn(&str) -> Option<f64>| -> f64 {
        pod.array_at("/spec/containers")
            .iter()
            .filter_map(|c| c.pointer(pointer).and_then(Value::as_str).and_then(parse))
            .sum()
    };
    let init_max = |pointer: &str, parse: fn(&str) -> Option<f64>| -> f64 {
        pod.array_at("/spec/initContainers")
            .iter()
            .filter_map(|c| c.pointer(pointer).and_then(Value::as_str).and_then(parse))
            .fold(0.0, f64::max)
    };
    let cpu = sum("/resources/requests/cpu", quantity::cpu_millicores)
        .max(init_max("/resources/requests/cpu", quantity::cpu_millicores));
    let memory = sum("/resources/requests/memory", quantity::bytes)
        .max(init_max("/resources/requests/memory", quantity::bytes));
    (cpu, memory)
}

/// A pod that holds resources on its node: scheduled and not finished.
fn holds_resources(pod: &Object) -> bool {
    pod.str_at("/spec/nodeName").is_some_and(|node| !node.is_empty())
        && !matches!(pod.str_at("/status/phase"), Some("Succeeded" | "Failed"))
}

/// The fit of `pod` on every node.
pub(crate) fn of_pod(model: &ClusterModel, pod: &Object) -> Fit {
    let mut fit = Fit { volumes: volume_blockers(model, pod), ..Fit::default() };
    for node in model.of_kind("Node") {
        fit.nodes.insert(node.name.clone(), on_node(model, pod, node));
    }
    fit
}

/// What blocks `pod` on `node`.
pub(crate) fn on_node(model: &ClusterModel, pod: &Object, node: &Object) -> Vec<Blocker> {
    let mut out = Vec::new();
    let tolerations = pod.array_at("/spec/tolerations");
    if node.at("/spec/unschedulable").and_then(Value::as_bool) == Some(true)
        && !tolerates(tolerations, "node.kubernetes.io/unschedulable", "", "NoSchedule")
    {
        out.push(Blocker::Cordoned);
    }
    let taints = node.array_at("/spec/taints");
    let listed_not_ready = taints.iter().any(|taint| {
        matches!(
            taint.get("key").and_then(Value::as_str),
            Some("node.kubernetes.io/not-ready" | "node.kubernetes.io/unreachable")
        )
    });
    let ready = node.condition("Ready").map(|(status, _, _)| status == "True");
    if ready == Some(false)
        && !listed_not_ready
        && !tolerates(tolerations, "node.kubernetes.io/not-ready", "", "NoSchedule")
    {
        out.push(Blocker::NotReady);
    }
    for taint in taints {
        let key = taint.get("key").and_then(Value::as_str).unwrap_or_default();
        let value = taint.get("value").and_then(Value::as_str).unwrap_or_default();
        let effect = taint.get("effect").and_then(Value::as_str).unwrap_or_default();
        if !matches!(effect, "NoSchedule" | "NoExecute") || tolerates(tolerations, key, value, effect) {
            continue;
        }
        let shown = if value.is_empty() { key.to_owned() } else { format!("{key}={value}") };
        out.push(Blocker::Taint(format!("{shown}:{effect}")));
    }
    let labels = node.labels();
    if let Some(selector) = pod.at("/spec/nodeSelector").and_then(Value::as_object) {
        for (key, value) in selector.iter() {
            let wanted = value.as_str().unwrap_or_default();
            match labels.get(key) {
                Some(have) if have == wanted => {}
                Some(have) => out.push(Blocker::Selector(format!(
                    "nodeSelector {key}={wanted}, the node has {key}={have}"
                ))),
                None => out.push(Blocker::Selector(format!(
                    "nodeSelector {key}={wanted}, the node has no label {key}"
                ))),
            }
        }
    }
    let terms = pod
        .at("/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")
        .and_then(Value::as_array)
        .unwrap_or_default();
    if !terms.is_empty() && !terms.iter().any(|term| term_matches(term, &labels)) {
        let first = terms.first().map(describe_term).unwrap_or_default();
        out.push(Blocker::Selector(format!("required node affinity {first} does not match its labels")));
    }
    if let Some(blocker) = resources(model, pod, node) {
        out.push(blocker);
    }
    out.extend(host_ports(model, pod, node));
    out.extend(anti_affinity(model, pod, node));
    out
}

/// Whether one of `tolerations` tolerates the taint `key=value:effect`.
pub(crate) fn tolerates(tolerations: &[Value], key: &str, value: &str, effect: &str) -> bool {
    tolerations.iter().any(|toleration| {
        let t_key = toleration.get("key").and_then(Value::as_str).unwrap_or_default();
        let operator = toleration.get("operator").and_then(Value::as_str).unwrap_or("Equal");
        let t_value = toleration.get("value").and_then(Value::as_str).unwrap_or_default();
        let t_effect = toleration.get("effect").and_then(Value::as_str).unwrap_or_default();
        let key_ok = (t_key.is_empty() && operator == "Exists") || t_key == key;
        let value_ok = operator == "Exists" || t_value == value;
        let effect_ok = t_effect.is_empty() || t_effect == effect;
        key_ok && value_ok && effect_ok
    })
}

fn term_matches(term: &Value, labels: &BTreeMap<String, String>) -> bool {
    let expressions = term.get("matchExpressions").and_then(Value::as_array).unwrap_or_default();
    expressions.iter().all(|expression| expression_matches(expression, labels))
}

fn expression_matches(expression: &Value, labels: &BTreeMap<String, String>) -> bool {
    let key = expression.get("key").and_then(Value::as_str).unwrap_or_default();
    let operator = expression.get("operator").and_then(Value::as_str).unwrap_or_default();
    let values: Vec<&str> = expression
        .get("values")
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let have = labels.get(key).map(String::as_str);
    let number = |text: &str| text.parse::<i64>().ok();
    match operator {
        "In" => have.is_some_and(|have| values.contains(&have)),
        "NotIn" => have.is_none_or(|have| !values.contains(&have)),
        "Exists" => have.is_some(),
        "DoesNotExist" => have.is_none(),
        "Gt" => {
            matches!((have.and_then(number), values.first().and_then(|v| number(v))), (Some(a), Some(b)) if a > b)
        }
        "Lt" => {
            matches!((have.and_then(number), values.first().and_then(|v| number(v))), (Some(a), Some(b)) if a < b)
        }
        _ => true,
    }
}

fn describe_term(term: &Value) -> String {
    let expressions = term.get("matchExpressions").and_then(Value::as_array).unwrap_or_default();
    let parts: Vec<String> = expressions
        .iter()
        .map(|expression| {
            let key = expression.get("key").and_then(Value::as_str).unwrap_or_default();
            let operator = expression.get("operator").and_then(Value::as_str).unwrap_or_default();
            let values: Vec<&str> = expression
                .get("values")
                .and_then(Value::as_array)
                .unwrap_or_default()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            if values.is_empty() {
                format!("{key} {operator}")
            } else {
                format!("{key} {operator} ({})", values.join(", "))
            }
        })
        .collect();
    format!("[{}]", parts.join("; "))
}

/// Requests against allocatable minus what the node's other pods request.
fn resources(model: &ClusterModel, pod: &Object, node: &Object) -> Option<Blocker> {
    let (cpu, memory) = requests(pod);
    let others: Vec<&Object> = model
        .pods_on_node(&node.name)
        .filter(|other| holds_resources(other) && other.reference() != pod.reference())
        .collect();
    let (used_cpu, used_memory) =
        others.iter().map(|other| requests(other)).fold((0.0, 0.0), |(c, m), (oc, om)| (c + oc, m + om));
    let allocatable = |resource: &str| {
        node.str_at(&format!("/status/allocatable/{resource}"))
            .map(str::to_owned)
            .or_else(|| node.i64_at(&format!("/status/allocatable/{resource}")).map(|n| n.to_string()))
    };
    let mut short = Vec::new();
    if let Some(total) = allocatable("cpu").as_deref().and_then(quantity::cpu_millicores)
        && cpu > 0.0
        && cpu > total - used_cpu
    {
        short.push(format!(
            "needs {} CPU, the node has {} left of {} ({} requested by {} pods)",
            units::cpu(cpu),
            units::cpu((total - used_cpu).max(0.0)),
            units::cpu(total),
            units::cpu(used_cpu),
            others.len()
        ));
    }
    if let Some(total) = allocatable("memory").as_deref().and_then(quantity::bytes)
        && memory > 0.0
        && memory > total - used_memory
    {
        short.push(format!(
            "needs {} memory, the node has {} left of {} ({} requested by {} pods)",
            units::memory(memory),
            units::memory((total - used_memory).max(0.0)),
            units::memory(total),
            units::memory(used_memory),
            others.len()
        ));
    }
    if let Some(total) = allocatable("pods").as_deref().and_then(quantity::parse)
        && (others.len() as f64) >= total
    {
        short.push(format!("the node already runs {} pods, its maximum is {total}", others.len()));
    }
    (!short.is_empty()).then(|| Blocker::Resources(short.join("; ")))
}

/// `(port, protocol)` of every host port a pod asks for.
fn host_ports_of(pod: &Object) -> Vec<(i64, String)> {
    pod.array_at("/spec/containers")
        .iter()
        .flat_map(|c| c.get("ports").and_then(Value::as_array).unwrap_or_default().iter())
        .filter_map(|port| {
            let host = port.get("hostPort").and_then(Value::as_i64).filter(|p| *p > 0)?;
            let protocol = port.get("protocol").and_then(Value::as_str).unwrap_or("TCP").to_owned();
            Some((host, protocol))
        })
        .collect()
}

fn host_ports(model: &ClusterModel, pod: &Object, node: &Object) -> Vec<Blocker> {
    let wanted = host_ports_of(pod);
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (port, protocol) in wanted {
        let holder = model.pods_on_node(&node.name).find(|other| {
            holds_resources(other)
                && other.reference() != pod.reference()
                && host_ports_of(other).iter().any(|(p, proto)| *p == port && *proto == protocol)
        });
        if let Some(holder) = holder {
            out.push(Blocker::HostPort(format!(
                "host port {port}/{protocol} is held by Pod {}/{}",
                holder.namespace.as_deref().unwrap_or_default(),
                holder.name
            )));
        }
    }
    out
}

fn anti_affinity(model: &ClusterModel, pod: &Object, node: &Object) -> Vec<Blocker> {
    let terms = pod
        .at("/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution")
        .and_then(Value::as_array)
        .unwrap_or_default();
    let mut out = Vec::new();
    for term in terms {
        if term.get("topologyKey").and_then(Value::as_str) != Some("kubernetes.io/hostname") {
            continue;
        }
        let Some(wanted) = term.pointer("/labelSelector/matchLabels").and_then(Value::as_object) else {
            continue;
        };
        let wanted: BTreeMap<String, String> =
            wanted.iter().map(|(k, v)| (k.to_string(), v.as_str().unwrap_or_default().to_owned())).collect();
        let clash = model.pods_on_node(&node.name).find(|other| {
            holds_resources(other)
                && other.namespace == pod.namespace
                && other.reference() != pod.reference()
                && kubesnap_shared::model::labels_match(&wanted, &other.labels())
        });
        if let Some(other) = clash {
            let shown: Vec<String> = wanted.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push(Blocker::AntiAffinity(format!(
                "pod anti-affinity ({}): Pod {}/{} already runs there",
                shown.join(","),
                other.namespace.as_deref().unwrap_or_default(),
                other.name
            )));
        }
    }
    out
}

/// Claims of the pod that keep it from any node.
fn volume_blockers(model: &ClusterModel, pod: &Object) -> Vec<String> {
    let namespace = pod.namespace.as_deref();
    let mut out = Vec::new();
    for volume in pod.array_at("/spec/volumes") {
        let Some(claim) = volume.pointer("/persistentVolumeClaim/claimName").and_then(Value::as_str) else {
            continue;
        };
        if !model.has_kind("PersistentVolumeClaim") {
            continue;
        }
        let Some(pvc) = model.get("PersistentVolumeClaim", namespace, claim) else {
            out.push(format!("PersistentVolumeClaim {claim} does not exist"));
            continue;
        };
        if pvc.str_at("/status/phase") == Some("Bound") {
            continue;
        }
        out.push(format!(
            "PersistentVolumeClaim {claim} is {}: {}",
            pvc.str_at("/status/phase").unwrap_or("not bound"),
            why_unbound(model, pvc)
        ));
    }
    out
}

/// Why a claim is not bound, from its class, the volumes and its events.
fn why_unbound(model: &ClusterModel, pvc: &Object) -> String {
    let class = pvc.str_at("/spec/storageClassName");
    let size = pvc.str_at("/spec/resources/requests/storage").unwrap_or("?");
    let modes: Vec<&str> = pvc.array_at("/spec/accessModes").iter().filter_map(Value::as_str).collect();
    if let Some(class) = class.filter(|class| !class.is_empty())
        && model.has_kind("StorageClass")
        && model.get("StorageClass", None, class).is_none()
    {
        return format!("StorageClass {class} does not exist");
    }
    let event = model
        .events_for("PersistentVolumeClaim", pvc.namespace.as_deref(), &pvc.name)
        .filter(|event| event.is_warning())
        .last();
    if let Some(event) = event {
        return format!("{} ({}): {}", event.reason, modes.join(","), event.message);
    }
    if class.is_none_or(str::is_empty) {
        let fits = model.of_kind("PersistentVolume").any(|pv| {
            pv.str_at("/status/phase") == Some("Available")
                && pv.str_at("/spec/capacity/storage").and_then(quantity::bytes) >= quantity::bytes(size)
        });
        if !fits {
            return format!("no storage class and no Available PersistentVolume of {size} or more");
        }
    }
    format!("wants {size} ({}) of class {}", modes.join(","), class.unwrap_or("(default)"))
}
