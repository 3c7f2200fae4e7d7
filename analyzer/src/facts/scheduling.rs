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

use std::collections::{BTreeMap, HashMap};

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object};
use kubesnap_shared::quantity;

use crate::facts::network::selector;
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

    /// Whether it is the node's NotReady state: its condition or the `not-ready`/`unreachable`
    /// taint the node controller puts on it.
    pub(crate) fn is_not_ready(&self) -> bool {
        match self {
            Blocker::NotReady => true,
            Blocker::Taint(taint) => {
                taint.starts_with("node.kubernetes.io/not-ready")
                    || taint.starts_with("node.kubernetes.io/unreachable")
            }
            _ => false,
        }
    }

    /// Whether it comes from the node's current state or load (cordoned, full, a port or an
    /// anti-affinity peer already there), not from the pod's own choice of nodes (selector,
    /// affinity, a taint it does not tolerate): such a node could take the pod tomorrow.
    fn is_circumstantial(&self) -> bool {
        matches!(
            self,
            Blocker::Cordoned | Blocker::Resources(_) | Blocker::HostPort(_) | Blocker::AntiAffinity(_)
        )
    }

    /// A short class name, to say what blocks most nodes.
    pub(crate) fn class(&self) -> &'static str {
        match self {
            Blocker::Cordoned => "cordoned",
            Blocker::NotReady => "not ready",
            Blocker::Taint(_) if self.is_not_ready() => "not ready",
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

    /// The NotReady nodes that alone keep the pod Pending: the pod's only blockers there are the
    /// node's NotReady state, its claims are bound, no node fits, and no Ready node is kept from
    /// it only by its current state or load (cordoned, full, an anti-affinity peer): then the
    /// pod waits for one of these nodes. Empty when something else would also have to change.
    pub(crate) fn kept_off_by_not_ready(&self) -> Vec<&str> {
        if !self.volumes.is_empty() || !self.fitting().is_empty() {
            return Vec::new();
        }
        let only_not_ready =
            |blockers: &Vec<Blocker>| !blockers.is_empty() && blockers.iter().all(Blocker::is_not_ready);
        let other_near_fit = self.nodes.values().any(|blockers| {
            !only_not_ready(blockers)
                && blockers.iter().all(|blocker| blocker.is_not_ready() || blocker.is_circumstantial())
        });
        if other_near_fit {
            return Vec::new();
        }
        self.nodes
            .iter()
            .filter(|(_, blockers)| only_not_ready(blockers))
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// Nodes the pod's own node choice admits: no `nodeSelector` or required node affinity
    /// excludes them.
    pub(crate) fn selectable(&self) -> Vec<&str> {
        self.nodes
            .iter()
            .filter(|(_, blockers)| !blockers.iter().any(|blocker| matches!(blocker, Blocker::Selector(_))))
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

/// The pod's own choice of nodes in words: `nodeSelector disktype=nvme` and/or its required
/// node affinity; `None` when it has neither.
pub(crate) fn node_choice(pod: &Object) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(selector) = pod.at("/spec/nodeSelector").and_then(Value::as_object)
        && !selector.is_empty()
    {
        let pairs: Vec<String> = selector
            .iter()
            .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default()))
            .collect();
        parts.push(format!("nodeSelector {}", pairs.join(",")));
    }
    let terms = pod
        .at("/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")
        .and_then(Value::as_array)
        .unwrap_or_default();
    if !terms.is_empty() {
        let described: Vec<String> = terms.iter().map(describe_term).collect();
        parts.push(format!("required node affinity {}", described.join(" or ")));
    }
    (!parts.is_empty()).then(|| parts.join(" and "))
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

/// A request larger than any node's allocatable: the pod fits nowhere even on an empty node.
/// `needs 9.5 cores CPU, more than any node's allocatable (the largest has 8 cores)`.
pub(crate) fn beyond_every_node(model: &ClusterModel, pod: &Object) -> Option<String> {
    let (cpu, memory) = requests(pod);
    let allocatable = |node: &Object, resource: &str, parse: fn(&str) -> Option<f64>| {
        node.str_at(&format!("/status/allocatable/{resource}"))
            .map(str::to_owned)
            .or_else(|| node.i64_at(&format!("/status/allocatable/{resource}")).map(|n| n.to_string()))
            .as_deref()
            .and_then(parse)
    };
    let largest = |resource: &str, parse: fn(&str) -> Option<f64>| {
        model.of_kind("Node").filter_map(|node| allocatable(node, resource, parse)).reduce(f64::max)
    };
    let mut out = Vec::new();
    if let Some(most) = largest("cpu", quantity::cpu_millicores)
        && cpu > most
    {
        out.push(format!(
            "needs {} CPU, more than any node's allocatable (the largest has {})",
            units::cpu(cpu),
            units::cpu(most)
        ));
    }
    if let Some(most) = largest("memory", quantity::bytes)
        && memory > most
    {
        out.push(format!(
            "needs {} memory, more than any node's allocatable (the largest has {})",
            units::memory(memory),
            units::memory(most)
        ));
    }
    (!out.is_empty()).then(|| out.join("; "))
}

/// A pod that holds resources on its node: scheduled and not finished.
fn holds_resources(pod: &Object) -> bool {
    pod.str_at("/spec/nodeName").is_some_and(|node| !node.is_empty())
        && !matches!(pod.str_at("/status/phase"), Some("Succeeded" | "Failed"))
}

/// What the pods holding resources on each node request, summed once per run
/// ([`crate::facts::Facts::fit`]): the fit of every pending pod on every node reads it, where
/// summing per pod and node cost seconds on 10,000 pods.
#[derive(Debug, Default)]
pub(crate) struct NodeLoads {
    by_node: HashMap<String, Load>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Load {
    cpu: f64,
    memory: f64,
    pods: usize,
}

impl Load {
    /// What `pods` request together, summed in their order.
    fn of<'a>(pods: impl Iterator<Item = &'a Object>) -> Load {
        pods.fold(Load::default(), |load, pod| {
            let (cpu, memory) = requests(pod);
            Load { cpu: load.cpu + cpu, memory: load.memory + memory, pods: load.pods + 1 }
        })
    }
}

impl NodeLoads {
    pub(crate) fn of(model: &ClusterModel) -> NodeLoads {
        let mut by_node = HashMap::new();
        for node in model.of_kind("Node") {
            // Summed in the order `resources` used to sum them, so the figures are the same.
            let load = Load::of(model.pods_on_node(&node.name).filter(|pod| holds_resources(pod)));
            by_node.insert(node.name.clone(), load);
        }
        NodeLoads { by_node }
    }
}

/// The fit of `pod` on every node.
pub(crate) fn of_pod(model: &ClusterModel, loads: &NodeLoads, pod: &Object) -> Fit {
    let mut fit = Fit { volumes: volume_blockers(model, pod), ..Fit::default() };
    for node in model.of_kind("Node") {
        fit.nodes.insert(node.name.clone(), on_node(model, loads, pod, node));
    }
    fit
}

/// What blocks `pod` on `node`.
fn on_node(model: &ClusterModel, loads: &NodeLoads, pod: &Object, node: &Object) -> Vec<Blocker> {
    let mut out = Vec::new();
    let tolerations = pod.array_at("/spec/tolerations");
    let cordoned = node.at("/spec/unschedulable").and_then(Value::as_bool) == Some(true);
    if cordoned && !tolerates(tolerations, "node.kubernetes.io/unschedulable", "", "NoSchedule") {
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
        // A cordoned node's taint is its cordon, said once.
        if !matches!(effect, "NoSchedule" | "NoExecute")
            || tolerates(tolerations, key, value, effect)
            || (cordoned && key == "node.kubernetes.io/unschedulable")
        {
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
    if let Some(blocker) = resources(model, loads, pod, node) {
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
    let values = expression_values(expression);
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

/// The `values` of a node-selector or label-selector expression.
fn expression_values(expression: &Value) -> Vec<&str> {
    expression
        .get("values")
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

fn describe_term(term: &Value) -> String {
    describe_expressions(term.get("matchExpressions").and_then(Value::as_array).unwrap_or_default())
}

fn describe_expressions(expressions: &[Value]) -> String {
    let parts: Vec<String> = expressions
        .iter()
        .map(|expression| {
            let key = expression.get("key").and_then(Value::as_str).unwrap_or_default();
            let operator = expression.get("operator").and_then(Value::as_str).unwrap_or_default();
            let values = expression_values(expression);
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
fn resources(model: &ClusterModel, loads: &NodeLoads, pod: &Object, node: &Object) -> Option<Blocker> {
    let (cpu, memory) = requests(pod);
    let Load { cpu: used_cpu, memory: used_memory, pods: others } =
        if pod.str_at("/spec/nodeName") == Some(node.name.as_str()) {
            // The pod is on this node already: what the others request, without it.
            Load::of(
                model
                    .pods_on_node(&node.name)
                    .filter(|other| holds_resources(other) && other.reference() != pod.reference()),
            )
        } else {
            loads.by_node.get(&node.name).copied().unwrap_or_default()
        };
    let allocatable = |resource: &str| {
        node.str_at(&format!("/status/allocatable/{resource}"))
            .map(str::to_owned)
            .or_else(|| node.i64_at(&format!("/status/allocatable/{resource}")).map(|n| n.to_string()))
    };
    let mut short = Vec::new();
    // CPU and memory: the request against what the node has left of its allocatable.
    type Parse = fn(&str) -> Option<f64>;
    type Show = fn(f64) -> String;
    let resources: [(&str, &str, f64, f64, Parse, Show); 2] = [
        ("cpu", "CPU", cpu, used_cpu, quantity::cpu_millicores, units::cpu),
        ("memory", "memory", memory, used_memory, quantity::bytes, units::memory),
    ];
    for (key, name, need, used, parse, show) in resources {
        if let Some(total) = allocatable(key).as_deref().and_then(parse)
            && need > 0.0
            && need > total - used
        {
            short.push(format!(
                "needs {} {name}, the node has {} left of {} ({} requested by {} pods)",
                show(need),
                show((total - used).max(0.0)),
                show(total),
                show(used),
                others
            ));
        }
    }
    if let Some(total) = allocatable("pods").as_deref().and_then(quantity::parse)
        && (others as f64) >= total
    {
        short.push(format!("the node already runs {others} pods, its maximum is {total}"));
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

/// Required pod anti-affinity: a pod the term selects already runs in the node's topology domain
/// (the node itself for `kubernetes.io/hostname`, its zone for `topology.kubernetes.io/zone`...).
/// A node without the term's topology label is not in any domain, so the term does not block it.
fn anti_affinity(model: &ClusterModel, pod: &Object, node: &Object) -> Vec<Blocker> {
    let terms = pod
        .at("/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution")
        .and_then(Value::as_array)
        .unwrap_or_default();
    let node_labels = node.labels();
    let mut out = Vec::new();
    for term in terms {
        let Some(key) = term.get("topologyKey").and_then(Value::as_str) else { continue };
        let Some(domain) = node_labels.get(key) else { continue };
        let Some(selector) = term.get("labelSelector") else { continue };
        let namespaces: Vec<&str> = term
            .get("namespaces")
            .and_then(Value::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let in_scope = |other: &Object| {
            if namespaces.is_empty() {
                other.namespace == pod.namespace
            } else {
                other.namespace.as_deref().is_some_and(|namespace| namespaces.contains(&namespace))
            }
        };
        let same_domain = |other: &Object| {
            let Some(name) = other.str_at("/spec/nodeName") else { return false };
            if name == node.name {
                return true;
            }
            key != "kubernetes.io/hostname"
                && model.get("Node", None, name).is_some_and(|n| n.labels().get(key) == Some(domain))
        };
        let clash = model.of_kind("Pod").find(|other| {
            holds_resources(other)
                && other.reference() != pod.reference()
                && in_scope(other)
                && selector::matches(Some(selector), &other.labels())
                && same_domain(other)
        });
        if let Some(other) = clash {
            let place = if key == "kubernetes.io/hostname" {
                "at most one per node (kubernetes.io/hostname)".to_owned()
            } else {
                format!("at most one per {key} ({key}={domain} here)")
            };
            out.push(Blocker::AntiAffinity(format!(
                "pod anti-affinity ({}, {place}): Pod {}/{} already runs {}",
                describe_selector(selector),
                other.namespace.as_deref().unwrap_or_default(),
                other.name,
                if other.str_at("/spec/nodeName") == Some(node.name.as_str()) {
                    "there".to_owned()
                } else {
                    format!("on {}", other.str_at("/spec/nodeName").unwrap_or_default())
                }
            )));
        }
    }
    out
}

/// A label selector in words: `app=cache`.
fn describe_selector(selector: &Value) -> String {
    let mut parts: Vec<String> = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|wanted| {
            wanted
                .iter()
                .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    if let Some(expressions) = selector.get("matchExpressions").and_then(Value::as_array)
        && !expressions.is_empty()
    {
        parts.push(describe_expressions(expressions));
    }
    parts.join(",")
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
