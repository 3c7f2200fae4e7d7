//! Rows of kubectl tables turned into the objects they show, with only the fields the columns
//! give: a `get pods` row knows the pod's name, namespace, phase, node and IP, and nothing of
//! its containers. Each object's fields are recorded ([`TextObjects::fields`]) so that a
//! diagnostic needing more is skipped rather than fed a pod without containers.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::table::Table;
use crate::model::Object;

/// Objects read from text, and per kind the fields (JSON pointers) text gave.
#[derive(Debug, Default)]
pub struct TextObjects {
    pub objects: Vec<Object>,
    pub fields: BTreeMap<String, BTreeSet<&'static str>>,
    /// Tables no kind was recognized for, by their first columns.
    pub unread: Vec<String>,
}

/// Which kind a table lists, from its columns (`hint`: what the file name says, used only
/// where two kinds print the same columns).
fn kind_of(table: &Table, hint: Option<&str>) -> Option<&'static str> {
    let kind = if table.has(&["LAST SEEN", "REASON"]) {
        "Event"
    } else if table.has(&["READY", "STATUS", "RESTARTS"]) {
        "Pod"
    } else if table.has(&["STATUS", "ROLES", "VERSION"]) {
        "Node"
    } else if table.has(&["TYPE", "CLUSTER-IP", "PORT(S)"]) {
        "Service"
    } else if table.has(&["DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE"]) {
        "DaemonSet"
    } else if table.has(&["DESIRED", "CURRENT", "READY"]) {
        "ReplicaSet"
    } else if table.has(&["READY", "UP-TO-DATE", "AVAILABLE"]) {
        "Deployment"
    } else if table.has(&["STATUS", "VOLUME", "CAPACITY", "ACCESS MODES"]) {
        "PersistentVolumeClaim"
    } else if table.columns == ["NAME", "STATUS", "AGE"] && hint.is_none_or(|hint| hint == "Namespace") {
        "Namespace"
    } else if table.has(&["NAME", "READY", "AGE"])
        && !table.has(&["STATUS"])
        && hint.is_none_or(|hint| hint == "StatefulSet")
    {
        "StatefulSet"
    } else {
        return None;
    };
    Some(kind)
}

/// Reads every table of `text`; `now` (the capture time, when known) turns kubectl's relative
/// ages into times; `source` names the file.
pub(super) fn from_tables(
    tables: &[Table],
    hint: Option<&str>,
    namespace: Option<&str>,
    now: Option<jiff::Timestamp>,
    source: &str,
) -> TextObjects {
    let mut read = TextObjects::default();
    for table in tables {
        let Some(kind) = kind_of(table, hint) else {
            read.unread.push(table.columns.iter().take(4).cloned().collect::<Vec<_>>().join(" "));
            continue;
        };
        for row in &table.rows {
            let mut object = Builder::new(table, row, namespace);
            match kind {
                "Event" => object.event(now),
                "Pod" => object.pod(),
                "Node" => object.node(),
                "Service" => object.service(),
                "Deployment" => object.deployment(),
                "ReplicaSet" => object.replica_set(),
                "DaemonSet" => object.daemon_set(),
                "StatefulSet" => object.stateful_set(),
                "PersistentVolumeClaim" => object.claim(),
                _ => {}
            }
            if table.has(&["LABELS"]) {
                // `--show-labels`: every label, the whole set (a node's ROLES are among them).
                let labels = object.cell("LABELS").map(labels).unwrap_or_default();
                object.set("/metadata/labels", Value::Object(labels));
            }
            let Builder { mut value, fields, .. } = object;
            value.insert("kind".into(), json!(kind));
            value.insert("apiVersion".into(), json!(api_version(kind)));
            if let Some(object) = Object::from_value(Value::Object(value), None, None, source) {
                read.fields.entry(kind.to_owned()).or_default().extend(fields);
                read.objects.push(object);
            }
        }
    }
    read
}

pub(super) fn api_version(kind: &str) -> &'static str {
    match kind {
        "Deployment" | "ReplicaSet" | "DaemonSet" | "StatefulSet" => "apps/v1",
        _ => "v1",
    }
}

/// One row's object, field by field.
struct Builder<'a> {
    table: &'a Table,
    row: &'a [String],
    value: Map<String, Value>,
    fields: BTreeSet<&'static str>,
    /// The row's namespace, or the command's.
    namespace: Option<String>,
}

impl<'a> Builder<'a> {
    /// `namespace`: what the command's `-n` said, for a table without a NAMESPACE column.
    fn new(table: &'a Table, row: &'a [String], namespace: Option<&str>) -> Builder<'a> {
        let mut builder = Builder { table, row, value: Map::new(), fields: BTreeSet::new(), namespace: None };
        if let Some(name) = builder.cell("NAME") {
            builder.set("/metadata/name", json!(name));
        }
        if let Some(namespace) = builder.cell("NAMESPACE").or(namespace) {
            builder.set("/metadata/namespace", json!(namespace));
            builder.namespace = Some(namespace.to_owned());
        }
        builder
    }

    fn cell(&self, column: &str) -> Option<&'a str> {
        self.table.cell(self.row, column)
    }

    /// Sets `pointer` (static: it is also the field's name in [`TextObjects::fields`]).
    fn set(&mut self, pointer: &'static str, value: Value) {
        let mut target = &mut self.value;
        let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
        let Some((last, folders)) = parts.split_last() else { return };
        for folder in folders {
            let entry = target.entry((*folder).to_owned()).or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(next) = entry else { return };
            target = next;
        }
        target.insert((*last).to_owned(), value);
        self.fields.insert(pointer);
    }

    fn pod(&mut self) {
        if let Some(status) = self.cell("STATUS") {
            // kubectl shows a container's waiting or terminated reason when there is one, the
            // phase otherwise: only a phase name is a phase.
            if matches!(status, "Running" | "Pending" | "Succeeded" | "Failed" | "Unknown") {
                self.set("/status/phase", json!(status));
            }
        }
        if let Some(node) = self.cell("NODE") {
            self.set("/spec/nodeName", json!(node));
        }
        if let Some(ip) = self.cell("IP") {
            self.set("/status/podIP", json!(ip));
        }
    }

    fn node(&mut self) {
        if let Some(status) = self.cell("STATUS") {
            // `Ready`, `NotReady`, `Unknown`, each maybe with `,SchedulingDisabled`.
            let mut words = status.split(',');
            let ready = match words.next() {
                Some("Ready") => "True",
                Some("NotReady") => "False",
                _ => "Unknown",
            };
            self.value.insert("status".into(), json!({"conditions": [{"type": "Ready", "status": ready}]}));
            // The Ready condition alone: other conditions are not shown.
            self.fields.insert("/status/conditions[Ready]");
            self.set("/spec/unschedulable", json!(words.any(|word| word == "SchedulingDisabled")));
        }
        if let Some(roles) = self.cell("ROLES") {
            // The role labels' keys; their values are not shown (kubeadm's are empty, others
            // `true`), so the field is recorded as the role labels alone.
            let labels: Map<String, Value> = roles
                .split(',')
                .map(|role| (format!("node-role.kubernetes.io/{role}"), json!("true")))
                .collect();
            if let Some(Value::Object(metadata)) = self.value.get_mut("metadata") {
                metadata.insert("labels".into(), Value::Object(labels));
            }
            self.fields.insert("/metadata/labels[node-role]");
        }
        for (column, pointer) in [
            ("VERSION", "/status/nodeInfo/kubeletVersion"),
            ("OS-IMAGE", "/status/nodeInfo/osImage"),
            ("KERNEL-VERSION", "/status/nodeInfo/kernelVersion"),
            ("CONTAINER-RUNTIME", "/status/nodeInfo/containerRuntimeVersion"),
        ] {
            if let Some(value) = self.cell(column) {
                self.set(pointer, json!(value));
            }
        }
        let addresses: Vec<Value> = [("INTERNAL-IP", "InternalIP"), ("EXTERNAL-IP", "ExternalIP")]
            .iter()
            .filter_map(|(column, kind)| Some(json!({"type": kind, "address": self.cell(column)?})))
            .collect();
        if self.table.has(&["INTERNAL-IP"]) {
            self.set("/status/addresses", Value::Array(addresses));
        }
    }

    fn service(&mut self) {
        if let Some(kind) = self.cell("TYPE") {
            self.set("/spec/type", json!(kind));
        }
        if let Some(ip) = self.cell("CLUSTER-IP") {
            self.set("/spec/clusterIP", json!(ip));
        }
        if let Some(ports) = self.cell("PORT(S)") {
            // `80/TCP`, `80:30080/TCP`, comma-separated.
            let ports: Vec<Value> = ports
                .split(',')
                .filter_map(|port| {
                    let (numbers, protocol) = port.split_once('/')?;
                    let (port, node_port) = match numbers.split_once(':') {
                        Some((port, node_port)) => (port, node_port.parse::<u64>().ok()),
                        None => (numbers, None),
                    };
                    let mut value = json!({"port": port.parse::<u64>().ok()?, "protocol": protocol});
                    if let (Some(node_port), Value::Object(map)) = (node_port, &mut value) {
                        map.insert("nodePort".into(), json!(node_port));
                    }
                    Some(value)
                })
                .collect();
            self.set("/spec/ports", Value::Array(ports));
        }
        if self.table.has(&["SELECTOR"]) {
            let selector = self.cell("SELECTOR").map(labels).unwrap_or_default();
            self.set("/spec/selector", Value::Object(selector));
        }
    }

    fn deployment(&mut self) {
        if let Some((ready, desired)) = self.cell("READY").and_then(fraction) {
            self.set("/status/readyReplicas", json!(ready));
            self.set("/spec/replicas", json!(desired));
        }
        self.count("UP-TO-DATE", "/status/updatedReplicas");
        self.count("AVAILABLE", "/status/availableReplicas");
        self.template();
    }

    fn replica_set(&mut self) {
        self.count("DESIRED", "/spec/replicas");
        self.count("CURRENT", "/status/replicas");
        self.count("READY", "/status/readyReplicas");
        self.template();
    }

    fn daemon_set(&mut self) {
        self.count("DESIRED", "/status/desiredNumberScheduled");
        self.count("CURRENT", "/status/currentNumberScheduled");
        self.count("READY", "/status/numberReady");
        self.count("UP-TO-DATE", "/status/updatedNumberScheduled");
        self.count("AVAILABLE", "/status/numberAvailable");
        self.template();
    }

    fn stateful_set(&mut self) {
        if let Some((ready, desired)) = self.cell("READY").and_then(fraction) {
            self.set("/status/readyReplicas", json!(ready));
            self.set("/spec/replicas", json!(desired));
        }
        self.template();
    }

    fn claim(&mut self) {
        if let Some(phase) = self.cell("STATUS") {
            self.set("/status/phase", json!(phase));
        }
        if let Some(volume) = self.cell("VOLUME") {
            self.set("/spec/volumeName", json!(volume));
        }
        if let Some(class) = self.cell("STORAGECLASS") {
            self.set("/spec/storageClassName", json!(class));
        }
    }

    /// `-o wide`'s CONTAINERS, IMAGES and SELECTOR of a workload.
    fn template(&mut self) {
        if let (Some(names), Some(images)) = (self.cell("CONTAINERS"), self.cell("IMAGES")) {
            let containers: Vec<Value> = names
                .split(',')
                .zip(images.split(','))
                .map(|(name, image)| json!({"name": name, "image": image}))
                .collect();
            self.set("/spec/template/spec/containers", Value::Array(containers));
        }
        if let Some(selector) = self.cell("SELECTOR") {
            self.set("/spec/selector/matchLabels", Value::Object(labels(selector)));
        }
    }

    fn count(&mut self, column: &str, pointer: &'static str) {
        if let Some(count) = self.cell(column).and_then(|cell| cell.parse::<u64>().ok()) {
            self.set(pointer, json!(count));
        }
    }

    fn event(&mut self, now: Option<jiff::Timestamp>) {
        for (column, pointer) in [("TYPE", "/type"), ("REASON", "/reason"), ("MESSAGE", "/message")] {
            if let Some(value) = self.cell(column) {
                self.set(pointer, json!(value));
            }
        }
        if let Some(object) = self.cell("OBJECT") {
            // `pod/web-1`: the resource's singular name, then the object's.
            let (resource, name) = object.split_once('/').unwrap_or(("", object));
            self.set("/involvedObject/kind", json!(kind_of_resource(resource)));
            self.set("/involvedObject/name", json!(name));
            // Cluster-scoped objects' events are listed in `default`.
            if let Some(namespace) = self
                .namespace
                .clone()
                .filter(|_| !matches!(resource, "node" | "namespace" | "persistentvolume"))
            {
                self.set("/involvedObject/namespace", json!(namespace));
            }
        }
        if let Some(source) = self.cell("SOURCE") {
            // `kubelet, node-1`: the component, then the host.
            self.set("/source/component", json!(source.split(',').next().unwrap_or(source).trim()));
        }
        if let Some(count) = self.cell("COUNT").and_then(|cell| cell.parse::<u64>().ok()) {
            self.set("/count", json!(count));
        }
        if let Some(now) = now {
            for (column, pointer) in [("LAST SEEN", "/lastTimestamp"), ("FIRST SEEN", "/firstTimestamp")] {
                if let Some(time) = self.cell(column).and_then(age).and_then(|ago| now.checked_sub(ago).ok())
                {
                    self.set(pointer, json!(time.to_string()));
                }
            }
        }
        if !self.fields.contains("/metadata/name") {
            // Without `-o wide`, an event's own name is not shown: one per object and reason.
            let name = format!(
                "{}.{}",
                self.cell("OBJECT").unwrap_or_default().replace('/', "."),
                self.cell("REASON").unwrap_or_default()
            );
            self.value.insert("metadata".into(), json!({"name": name}));
            if let Some(namespace) = self.namespace.clone() {
                self.set("/metadata/namespace", json!(namespace));
            }
        }
    }
}

/// `a=b,c=d` as a map.
fn labels(text: &str) -> Map<String, Value> {
    text.split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key.to_owned(), json!(value)))
        .collect()
}

/// `2/3` as (2, 3).
fn fraction(text: &str) -> Option<(u64, u64)> {
    let (done, of) = text.split_once('/')?;
    Some((done.trim().parse().ok()?, of.trim().parse().ok()?))
}

/// kubectl's short ages: `4m2s`, `7d3h`, `26h`, `2y`, `90s`. An age too large for the time
/// type (`999999999999999999y`) is no age.
pub fn age(text: &str) -> Option<jiff::SignedDuration> {
    let mut seconds: i64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let value: i64 = number.parse().ok()?;
        number.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'y' => 365 * 86_400,
            _ => return None,
        };
        seconds = seconds.checked_add(value.checked_mul(unit)?)?;
    }
    number.is_empty().then(|| jiff::SignedDuration::from_secs(seconds))
}

/// The kind of an event's `OBJECT` prefix (`pod`, `replicaset`, `secret`): kubectl prints the
/// kind in lower case. A kind that is not built in keeps that spelling (the text does not say
/// how its CRD writes it).
fn kind_of_resource(resource: &str) -> String {
    let base = resource.split('.').next().unwrap_or(resource);
    crate::import::kinds::by_lowercase_kind(base).map_or_else(|| base.to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::super::table::tables;
    use super::*;

    /// Found by the `kubectl_text` fuzz target: a huge number of years overflowed (a panic in
    /// debug builds, a wrong age in release).
    #[test]
    fn an_age_too_large_is_no_age() {
        assert_eq!(age("999999999999999999y"), None);
        assert_eq!(age("9223372036854775807s1s"), None);
        assert_eq!(age("7d3h"), Some(jiff::SignedDuration::from_secs(7 * 86_400 + 3 * 3600)));
    }

    /// Every built-in kind an event can be about is named as the API names it, not only the
    /// workload kinds (found on the real control plane: an event about a Secret).
    #[test]
    fn an_event_object_names_its_built_in_kind() {
        assert_eq!(kind_of_resource("secret"), "Secret");
        assert_eq!(kind_of_resource("persistentvolumeclaim"), "PersistentVolumeClaim");
        assert_eq!(kind_of_resource("horizontalpodautoscaler"), "HorizontalPodAutoscaler");
        assert_eq!(kind_of_resource("kustomization.kustomize.toolkit.fluxcd.io"), "kustomization");
    }

    #[test]
    fn a_wide_pod_row_gives_phase_node_and_ip_only() {
        let text = "\
NAMESPACE   NAME    READY   STATUS             RESTARTS      AGE   IP          NODE     NOMINATED NODE   READINESS GATES
default     web-1   1/1     Running            0             7d    10.0.0.4    node-1   <none>           <none>
default     web-2   0/1     CrashLoopBackOff   5 (2m ago)    7d    10.0.0.5    node-1   <none>           <none>
";
        let read = from_tables(&tables(text), None, None, None, "pods");
        assert_eq!(read.objects.len(), 2);
        assert_eq!(read.objects[0].raw.pointer("/status/phase").and_then(|v| v.as_str()), Some("Running"));
        assert_eq!(read.objects[1].raw.pointer("/status/phase"), None, "a reason is no phase");
        assert_eq!(read.objects[1].raw.pointer("/spec/nodeName").and_then(|v| v.as_str()), Some("node-1"));
        let fields = &read.fields["Pod"];
        assert!(fields.contains("/status/podIP") && !fields.contains("/spec/containers"));
    }

    #[test]
    fn node_status_becomes_its_ready_condition() {
        let text = "\
NAME     STATUS                        ROLES                       AGE   VERSION
cp-1     Ready                         control-plane,etcd,master   7d    v1.32.7+rke2r1
w-1      NotReady,SchedulingDisabled   worker                      7d    v1.32.7+rke2r1
";
        let read = from_tables(&tables(text), None, None, None, "nodes");
        let w1 = &read.objects[1].raw;
        assert_eq!(w1.pointer("/status/conditions/0/status").and_then(|v| v.as_str()), Some("False"));
        assert_eq!(w1.pointer("/spec/unschedulable").and_then(|v| v.as_bool()), Some(true));
        assert!(read.objects[0].raw.pointer("/metadata/labels/node-role.kubernetes.io~1etcd").is_some());
    }

    #[test]
    fn events_take_their_times_from_the_capture() {
        let text = "\
NAMESPACE   LAST SEEN   TYPE      REASON    OBJECT      MESSAGE
default     4m          Warning   BackOff   pod/web-2   Back-off restarting failed container
";
        let now: jiff::Timestamp = "2025-11-27T04:19:09Z".parse().unwrap();
        let read = from_tables(&tables(text), None, None, Some(now), "events");
        let event = crate::model::Event::from_object(&read.objects[0]).unwrap();
        assert_eq!(event.involved.kind, "Pod");
        assert_eq!(event.last_seen, Some("2025-11-27T04:15:09Z".parse().unwrap()));
        assert!(event.is_warning());
        assert_eq!(age("7d3h"), Some(jiff::SignedDuration::from_secs(7 * 86_400 + 3 * 3600)));
        assert_eq!(age("<invalid>"), None);
    }
}
