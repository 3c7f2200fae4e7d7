//! `kubectl describe` read back: one block per object, from a `Name:` line at the first column
//! to the next. A block is a tree of `Key:  value` lines whose children are indented under
//! them (a pod's `Containers:`, each container, its `State:`), with continuation lines for
//! lists (`Labels:`) and small tables (`Conditions:`, `Events:`).
//!
//! The kind of a block is found from its keys (a pod has `Containers:` and `QoS Class:`, a node
//! `System Info:`), or from the command that printed it in a transcript. Each object records
//! the fields its block gave, as for tables.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::table::{row, split_columns};

/// One `Key: value` line and what is indented under it.
#[derive(Debug, Clone, Default)]
pub(super) struct Item {
    key: String,
    value: String,
    /// Lines under it: keyed items, or continuation lines (key empty).
    children: Vec<Item>,
    /// The lines under it as printed, dedented (for the tables).
    lines: Vec<String>,
}

impl Item {
    fn child(&self, key: &str) -> Option<&Item> {
        self.children.iter().find(|item| item.key == key)
    }

    /// The value of child `key`, unless empty or kubectl's `<none>`, `<unset>`, `<unknown>`.
    fn get(&self, key: &str) -> Option<&str> {
        self.child(key).and_then(|item| present(&item.value))
    }

    /// The value and every continuation line: `Labels:`, `Taints:`, `Tolerations:`.
    fn list(&self) -> Vec<&str> {
        std::iter::once(self.value.as_str())
            .chain(self.children.iter().filter(|item| item.key.is_empty()).map(|item| item.value.as_str()))
            .filter_map(present)
            .collect()
    }
}

fn present(value: &str) -> Option<&str> {
    let value = value.trim();
    (!value.is_empty() && !matches!(value, "<none>" | "<unset>" | "<unknown>" | "<nil>")).then_some(value)
}

/// Splits `Key:   value`: a key is words of letters, digits, spaces, `-`, `.`, `/`, `_` and
/// parentheses, followed by a colon and a space or the end of the line.
fn key_value(text: &str) -> Option<(&str, &str)> {
    let colon = text.find(':')?;
    let (key, rest) = text.split_at(colon);
    let rest = &rest[1..];
    if key.is_empty() || !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')) {
        return None;
    }
    let keyish = key.chars().all(|c| c.is_alphanumeric() || " -./_()".contains(c))
        && key.chars().next().is_some_and(char::is_alphanumeric);
    keyish.then(|| (key.trim(), rest.trim()))
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The tree of `lines` (all indented at least `base`).
fn tree(lines: &[&str]) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        let line = lines[at];
        let depth = indent(line);
        let text = line.trim();
        // Everything more indented than this line is under it.
        let mut end = at + 1;
        while end < lines.len() && (lines[end].trim().is_empty() || indent(lines[end]) > depth) {
            end += 1;
        }
        let under = &lines[at + 1..end];
        let mut item = match key_value(text) {
            Some((key, value)) => Item { key: key.to_owned(), value: value.to_owned(), ..Item::default() },
            None => Item { value: text.to_owned(), ..Item::default() },
        };
        let child_depth = under.iter().filter(|line| !line.trim().is_empty()).map(|line| indent(line)).min();
        item.lines = under
            .iter()
            .map(|line| line.get(child_depth.unwrap_or(0).min(indent(line))..).unwrap_or_default().to_owned())
            .collect();
        // A list continues at its value's column: those lines are values, not keys.
        let continuation = !item.key.is_empty()
            && !item.value.is_empty()
            && child_depth.is_some_and(|child| child >= depth + item.key.len() + 2);
        item.children = if continuation {
            under
                .iter()
                .filter(|line| !line.trim().is_empty())
                .map(|line| Item { value: line.trim().to_owned(), ..Item::default() })
                .collect()
        } else {
            tree(&under.iter().copied().filter(|line| !line.trim().is_empty()).collect::<Vec<_>>())
        };
        items.push(item);
        at = end;
    }
    items
}

/// A small table under an item (`Conditions:`, `Events:`): a header of names, a line of dashes
/// (sometimes), rows aligned under the header. Each row as (column, cell) pairs.
fn table(item: &Item) -> Vec<Vec<(String, String)>> {
    let mut lines = item.lines.iter().map(|line| line.trim_end()).filter(|line| !line.trim().is_empty());
    let Some(header) = lines.next() else { return Vec::new() };
    let columns = split_columns(header);
    if columns.len() < 2 {
        return Vec::new();
    }
    let starts: Vec<usize> = columns.iter().map(|(start, _)| *start).collect();
    lines
        .filter(|line| !line.trim_start().starts_with("---"))
        .filter_map(|line| row(line, &starts))
        .map(|cells| columns.iter().map(|(_, name)| name.clone()).zip(cells).collect())
        .collect()
}

fn cell<'a>(row: &'a [(String, String)], column: &str) -> Option<&'a str> {
    row.iter().find(|(name, _)| name == column).and_then(|(_, value)| present(value))
}

/// `Sat, 05 Dec 2026 03:07:51 +0000` (Go's RFC 1123 with a numeric zone), as kubectl prints
/// times in `describe`.
pub fn time(text: &str) -> Option<jiff::Timestamp> {
    let text = text.trim();
    jiff::fmt::rfc2822::parse(text).ok().map(|zoned| zoned.timestamp()).or_else(|| {
        // Go's RFC 1123 without the zone offset (`Sat, 05 Dec 2026 03:07:51 UTC`).
        jiff::fmt::strtime::parse("%a, %d %b %Y %H:%M:%S %Z", text).ok()?.to_timestamp().ok()
    })
}

/// The newest time a describe block prints (a heartbeat, a lease renewal, a start): no
/// capture can be older than it.
pub(super) fn newest_time(text: &str) -> Option<jiff::Timestamp> {
    text.lines()
        .flat_map(|line| line.split("   "))
        .filter_map(|part| {
            let part = part.trim();
            let part = key_value(part).map_or(part, |(_, value)| value);
            (part.len() >= 25 && part.len() <= 40).then(|| time(part)).flatten()
        })
        .max()
}

/// One object read from a describe block, its events, and the fields it gave.
#[derive(Debug)]
pub(super) struct Described {
    pub(super) kind: &'static str,
    pub(super) value: Map<String, Value>,
    pub(super) fields: BTreeSet<&'static str>,
    pub(super) events: Vec<Map<String, Value>>,
}

/// The describe blocks of `text`: every run of lines from a `Name:` at the first column.
pub(super) fn blocks(text: &str) -> Vec<Vec<&str>> {
    let mut found: Vec<Vec<&str>> = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in text.lines() {
        let line = line.trim_end();
        if line.starts_with("Name:") && key_value(line).is_some() {
            found.extend(current.take());
            current = Some(vec![line]);
            continue;
        }
        let Some(block) = &mut current else { continue };
        // A block ends at a line at the first column that is no key (a prompt, a message).
        if !line.is_empty() && indent(line) == 0 && key_value(line).is_none() {
            found.extend(current.take());
            continue;
        }
        block.push(line);
    }
    found.extend(current);
    found
}

/// The kind a block describes, from its keys; `hint` is what the command said.
fn kind_of(items: &[Item], hint: Option<&str>) -> Option<&'static str> {
    let has = |key: &str| items.iter().any(|item| item.key == key);
    let by_keys = if has("Containers") && (has("QoS Class") || has("Start Time") || has("Node")) {
        Some("Pod")
    } else if has("System Info") || (has("Roles") && has("Addresses")) {
        Some("Node")
    } else if has("StrategyType") && has("Replicas") {
        Some("Deployment")
    } else if has("Pods Status") && has("Replicas") && !has("Update Strategy") {
        Some("ReplicaSet")
    } else if has("Desired Number of Nodes Scheduled") {
        Some("DaemonSet")
    } else if has("Update Strategy") && has("Replicas") {
        Some("StatefulSet")
    } else if has("Completions") || has("Parallelism") {
        Some("Job")
    } else if has("Access Modes") && has("StorageClass") && has("Used By") {
        Some("PersistentVolumeClaim")
    } else if has("Reclaim Policy") && has("Claim") {
        Some("PersistentVolume")
    } else if has("Type")
        && has("Selector")
        && (has("IP") || has("IPs") || has("Port") || has("External Name"))
    {
        Some("Service")
    } else {
        None
    };
    by_keys.or_else(|| {
        let hint = hint?;
        ["Namespace", "ConfigMap", "Secret", "ServiceAccount", "Ingress", "CronJob"]
            .iter()
            .find(|kind| **kind == hint)
            .copied()
    })
}

/// Reads one block.
pub(super) fn object(lines: &[&str], hint: Option<&str>) -> Option<Described> {
    let items = tree(lines);
    let kind = kind_of(&items, hint)?;
    let top = Item { children: items, ..Item::default() };
    let mut out = Out { value: Map::new(), fields: BTreeSet::new() };
    out.set("/metadata/name", json!(top.get("Name")?));
    if let Some(namespace) = top.get("Namespace") {
        out.set("/metadata/namespace", json!(namespace));
    }
    if let Some(labels) = top.child("Labels") {
        out.set("/metadata/labels", Value::Object(pairs(&labels.list(), '=')));
    }
    if let Some(annotations) = top.child("Annotations") {
        let mut map = Map::new();
        let lines = annotations.list();
        let mut lines = lines.iter().peekable();
        while let Some(line) = lines.next() {
            let Some((key, value)) = line.split_once(": ").or_else(|| Some((line.strip_suffix(':')?, "")))
            else {
                continue;
            };
            // A long value goes on the next line, cut to 140 characters and `...` when longer:
            // such a value is not the annotation's.
            let value = match value {
                "" => lines.next().map_or("", |next| next.trim()),
                value => value.trim(),
            };
            if value.ends_with("...") && value.len() >= 140 {
                continue;
            }
            map.insert(key.trim().to_owned(), json!(value));
        }
        out.set("/metadata/annotations", Value::Object(map));
    }
    if let Some(created) = top.get("CreationTimestamp").and_then(time) {
        out.set("/metadata/creationTimestamp", json!(created.to_string()));
    }
    if let Some(owner) = top.get("Controlled By") {
        let (owner_kind, name) = owner.split_once('/').unwrap_or(("", owner));
        out.set(
            "/metadata/ownerReferences",
            json!([{"apiVersion": owner_api_version(owner_kind), "kind": owner_kind, "name": name, "controller": true}]),
        );
    }
    match kind {
        "Pod" => pod(&top, &mut out),
        "Node" => node(&top, &mut out),
        "Deployment" => deployment(&top, &mut out),
        "ReplicaSet" => replica_set(&top, &mut out),
        "Service" => service(&top, &mut out),
        "PersistentVolumeClaim" => claim(&top, &mut out),
        _ => {}
    }
    let events = top.child("Events").map(|events| self::events(events, kind, &top)).unwrap_or_default();
    Some(Described { kind, value: out.value, fields: out.fields, events })
}

fn owner_api_version(kind: &str) -> &'static str {
    match kind {
        "ReplicaSet" | "Deployment" | "DaemonSet" | "StatefulSet" => "apps/v1",
        "Job" | "CronJob" => "batch/v1",
        _ => "v1",
    }
}

struct Out {
    value: Map<String, Value>,
    fields: BTreeSet<&'static str>,
}

impl Out {
    /// Sets `pointer` (static: it is also the field's name in the recorded fields).
    fn set(&mut self, pointer: &'static str, value: Value) {
        let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
        let Some((last, folders)) = parts.split_last() else { return };
        let mut target = &mut self.value;
        for folder in folders {
            let entry = target.entry((*folder).to_owned()).or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(next) = entry else { return };
            target = next;
        }
        target.insert((*last).to_owned(), value);
        self.fields.insert(pointer);
    }
}

/// `a=b` (labels, selectors) or `a:b` pairs as a map.
fn pairs(list: &[&str], separator: char) -> Map<String, Value> {
    list.iter()
        .flat_map(|entry| entry.split(','))
        .filter_map(|pair| pair.split_once(separator))
        .map(|(key, value)| (key.trim().to_owned(), json!(value.trim())))
        .collect()
}

/// `Limits:` / `Requests:` / `Capacity:` children as a resource map.
fn resources(item: &Item) -> Map<String, Value> {
    item.children
        .iter()
        .filter(|child| !child.key.is_empty())
        .map(|child| (child.key.clone(), json!(child.value)))
        .collect()
}

/// A container's `State:` or `Last State:` as the API's state object.
fn state(item: &Item) -> Option<Value> {
    let mut fields = Map::new();
    let which = match item.value.as_str() {
        "Running" => "running",
        "Waiting" => "waiting",
        "Terminated" => "terminated",
        _ => return None,
    };
    for (key, name) in [("Reason", "reason"), ("Message", "message")] {
        if let Some(value) = item.get(key) {
            fields.insert(name.to_owned(), json!(value));
        }
    }
    for (key, name) in [("Exit Code", "exitCode"), ("Signal", "signal")] {
        if let Some(number) = item.get(key).and_then(|number| number.parse::<i64>().ok()) {
            fields.insert(name.to_owned(), json!(number));
        }
    }
    for (key, name) in [("Started", "startedAt"), ("Finished", "finishedAt")] {
        if let Some(at) = item.get(key).and_then(time) {
            fields.insert(name.to_owned(), json!(at.to_string()));
        }
    }
    Some(json!({ which: fields }))
}

/// The containers of a `Containers:` (or `Init Containers:`) item: their specs, and their
/// statuses when the block shows them (a pod's, not a template's).
fn containers(item: &Item) -> (Vec<Value>, Vec<Value>) {
    let mut specs = Vec::new();
    let mut statuses = Vec::new();
    for container in item.children.iter().filter(|child| !child.key.is_empty()) {
        let name = container.key.clone();
        let mut spec = Map::new();
        spec.insert("name".into(), json!(name));
        if let Some(image) = container.get("Image") {
            spec.insert("image".into(), json!(image));
        }
        let mut resources_value = Map::new();
        for (key, field) in [("Limits", "limits"), ("Requests", "requests")] {
            if let Some(list) = container.child(key) {
                resources_value.insert(field.into(), Value::Object(resources(list)));
            }
        }
        spec.insert("resources".into(), Value::Object(resources_value));
        if let Some(environment) = container.child("Environment") {
            spec.insert("env".into(), Value::Array(env(environment)));
        }
        for (key, field) in [("Command", "command"), ("Args", "args")] {
            if let Some(list) = container.child(key) {
                let words: Vec<Value> = list.list().into_iter().map(|word| json!(word)).collect();
                spec.insert(field.into(), Value::Array(words));
            }
        }
        specs.push(Value::Object(spec));
        if container.child("State").is_none() {
            continue;
        }
        let mut status = Map::new();
        status.insert("name".into(), json!(name));
        // `Image:` is the spec's image; the status's (what the runtime resolved) is not shown.
        if let Some(id) = container.get("Image ID") {
            status.insert("imageID".into(), json!(id));
        }
        if let Some(id) = container.get("Container ID") {
            status.insert("containerID".into(), json!(id));
        }
        if let Some(state) = container.child("State").and_then(state) {
            status.insert("state".into(), state);
        }
        if let Some(last) = container.child("Last State").and_then(state) {
            status.insert("lastState".into(), last);
        } else {
            status.insert("lastState".into(), json!({}));
        }
        if let Some(ready) = container.get("Ready") {
            status.insert("ready".into(), json!(ready == "True"));
        }
        if let Some(count) = container.get("Restart Count").and_then(|count| count.parse::<u64>().ok()) {
            status.insert("restartCount".into(), json!(count));
        }
        if let Some(started) = container.get("Started") {
            status.insert("started".into(), json!(started == "True"));
        }
        statuses.push(Value::Object(status));
    }
    (specs, statuses)
}

/// `Environment:` children: `NAME: value`, or `NAME: <set to the key 'K' of config map 'N'>`
/// (and `secret`) for a reference, whose value kubectl does not print.
fn env(item: &Item) -> Vec<Value> {
    item.children
        .iter()
        .filter(|child| !child.key.is_empty())
        .map(|child| {
            let value = child.value.as_str();
            let reference = value.strip_prefix("<set to the key '").and_then(|rest| {
                // `<set to the key 'K' of config map 'N'>`, `<set to the key 'K' in secret 'N'>`.
                let (key, rest) = rest.split_once("' ")?;
                let (source, rest) = if let Some(rest) = rest.strip_prefix("of config map '") {
                    ("configMapKeyRef", rest)
                } else {
                    ("secretKeyRef", rest.strip_prefix("in secret '")?)
                };
                let (name, rest) = rest.split_once('\'')?;
                // kubectl prints `Optional: false` for an unset one too: only `true` is known.
                let mut reference = json!({"key": key, "name": name});
                if let (true, Value::Object(map)) = (rest.contains("Optional: true"), &mut reference) {
                    map.insert("optional".into(), json!(true));
                }
                Some(json!({source: reference}))
            });
            match reference {
                Some(from) => json!({"name": child.key, "valueFrom": from}),
                // Other references (`<set to ...>`, field refs such as `(v1:metadata.name)`) are
                // shown without their value.
                None if value.starts_with('<') || (value.starts_with("(v1:") && value.ends_with(')')) => {
                    json!({"name": child.key})
                }
                None => json!({"name": child.key, "value": value}),
            }
        })
        .collect()
}

fn conditions(item: &Item) -> Vec<Value> {
    table(item)
        .iter()
        .filter_map(|row| {
            let mut condition = Map::new();
            condition.insert("type".into(), json!(cell(row, "Type")?));
            condition.insert("status".into(), json!(cell(row, "Status")?));
            for (column, field) in [("Reason", "reason"), ("Message", "message")] {
                if let Some(value) = cell(row, column) {
                    condition.insert(field.into(), json!(value));
                }
            }
            for (column, field) in
                [("LastHeartbeatTime", "lastHeartbeatTime"), ("LastTransitionTime", "lastTransitionTime")]
            {
                if let Some(at) = cell(row, column).and_then(time) {
                    condition.insert(field.into(), json!(at.to_string()));
                }
            }
            Some(Value::Object(condition))
        })
        .collect()
}

fn pod(top: &Item, out: &mut Out) {
    if let Some(node) = top.get("Node") {
        let (name, ip) = node.split_once('/').unwrap_or((node, ""));
        if let Some(name) = present(name) {
            out.set("/spec/nodeName", json!(name));
        }
        if let Some(ip) = present(ip) {
            out.set("/status/hostIP", json!(ip));
        }
    }
    if let Some(started) = top.get("Start Time").and_then(time) {
        out.set("/status/startTime", json!(started.to_string()));
    }
    if let Some(status) = top
        .get("Status")
        .filter(|status| matches!(*status, "Running" | "Pending" | "Succeeded" | "Failed" | "Unknown"))
    {
        out.set("/status/phase", json!(status));
    }
    if let Some(reason) = top.get("Reason") {
        out.set("/status/reason", json!(reason));
    }
    if let Some(message) = top.get("Message") {
        out.set("/status/message", json!(message));
    }
    if let Some(ip) = top.get("IP") {
        out.set("/status/podIP", json!(ip));
    }
    if let Some(qos) = top.get("QoS Class") {
        out.set("/status/qosClass", json!(qos));
    }
    if let Some(account) = top.get("Service Account") {
        out.set("/spec/serviceAccountName", json!(account));
    }
    if let Some(priority) = top.get("Priority").and_then(|value| value.parse::<i64>().ok()) {
        out.set("/spec/priority", json!(priority));
    }
    if let Some(selectors) = top.child("Node-Selectors") {
        out.set("/spec/nodeSelector", Value::Object(pairs(&selectors.list(), '=')));
    }
    for (key, spec_pointer, status_pointer) in [
        ("Containers", "/spec/containers", "/status/containerStatuses"),
        ("Init Containers", "/spec/initContainers", "/status/initContainerStatuses"),
    ] {
        if let Some(item) = top.child(key) {
            let (specs, statuses) = containers(item);
            out.set(spec_pointer, Value::Array(specs));
            out.set(status_pointer, Value::Array(statuses));
        }
    }
    if let Some(conditions_item) = top.child("Conditions") {
        out.set("/status/conditions", Value::Array(conditions(conditions_item)));
    }
    if let Some(volumes) = top.child("Volumes") {
        let list: Vec<Value> = volumes
            .children
            .iter()
            .filter(|volume| !volume.key.is_empty())
            .map(|volume| {
                let kind = volume.get("Type").unwrap_or_default();
                let source = if let Some(claim) = volume.get("ClaimName") {
                    json!({"persistentVolumeClaim": {"claimName": claim}})
                } else if kind.starts_with("ConfigMap") {
                    json!({"configMap": {"name": volume.get("Name").unwrap_or_default()}})
                } else if kind.starts_with("Secret") {
                    json!({"secret": {"secretName": volume.get("SecretName").unwrap_or_default()}})
                } else if kind.starts_with("EmptyDir") {
                    json!({"emptyDir": {}})
                } else {
                    json!({})
                };
                let mut volume_value = source;
                if let Value::Object(map) = &mut volume_value {
                    map.insert("name".into(), json!(volume.key));
                }
                volume_value
            })
            .collect();
        out.set("/spec/volumes", Value::Array(list));
    }
}

fn node(top: &Item, out: &mut Out) {
    if let Some(taints) = top.child("Taints") {
        // `key=value:Effect` or `key:Effect`.
        let list: Vec<Value> = taints
            .list()
            .iter()
            .filter_map(|taint| {
                let (key_value, effect) = taint.rsplit_once(':')?;
                let (key, value) = key_value.split_once('=').unwrap_or((key_value, ""));
                let mut taint = json!({"key": key, "effect": effect});
                if let (false, Value::Object(map)) = (value.is_empty(), &mut taint) {
                    map.insert("value".into(), json!(value));
                }
                Some(taint)
            })
            .collect();
        out.set("/spec/taints", Value::Array(list));
    }
    if let Some(unschedulable) = top.get("Unschedulable") {
        out.set("/spec/unschedulable", json!(unschedulable == "true"));
    }
    if let Some(conditions_item) = top.child("Conditions") {
        out.set("/status/conditions", Value::Array(conditions(conditions_item)));
    }
    if let Some(addresses) = top.child("Addresses") {
        let list: Vec<Value> = addresses
            .children
            .iter()
            .filter(|child| !child.key.is_empty())
            .map(|child| json!({"type": child.key, "address": child.value}))
            .collect();
        out.set("/status/addresses", Value::Array(list));
    }
    if let Some(capacity) = top.child("Capacity") {
        out.set("/status/capacity", Value::Object(resources(capacity)));
    }
    if let Some(allocatable) = top.child("Allocatable") {
        out.set("/status/allocatable", Value::Object(resources(allocatable)));
    }
    if let Some(info) = top.child("System Info") {
        let mut map = Map::new();
        for (key, field) in [
            ("Kernel Version", "kernelVersion"),
            ("OS Image", "osImage"),
            ("Operating System", "operatingSystem"),
            ("Architecture", "architecture"),
            ("Container Runtime Version", "containerRuntimeVersion"),
            ("Kubelet Version", "kubeletVersion"),
            ("Kube-Proxy Version", "kubeProxyVersion"),
            ("Machine ID", "machineID"),
            ("Boot ID", "bootID"),
            ("System UUID", "systemUUID"),
        ] {
            if let Some(value) = info.child(key) {
                map.insert(field.into(), json!(value.value));
            }
        }
        out.set("/status/nodeInfo", Value::Object(map));
    }
    if let Some(cidr) = top.get("PodCIDR") {
        out.set("/spec/podCIDR", json!(cidr));
    }
    if let Some(provider) = top.get("ProviderID") {
        out.set("/spec/providerID", json!(provider));
    }
}

/// `Pod Template:`'s containers, labels and node selector.
fn template(top: &Item, out: &mut Out) {
    let Some(template) = top.child("Pod Template") else { return };
    if let Some(labels) = template.child("Labels") {
        out.set("/spec/template/metadata/labels", Value::Object(pairs(&labels.list(), '=')));
    }
    if let Some(containers_item) = template.child("Containers") {
        out.set("/spec/template/spec/containers", Value::Array(containers(containers_item).0));
    }
    if let Some(containers_item) = template.child("Init Containers") {
        out.set("/spec/template/spec/initContainers", Value::Array(containers(containers_item).0));
    }
    if let Some(selectors) = template.child("Node-Selectors") {
        out.set("/spec/template/spec/nodeSelector", Value::Object(pairs(&selectors.list(), '=')));
    }
}

fn selector(top: &Item, out: &mut Out) {
    if let Some(selector) = top.child("Selector") {
        out.set("/spec/selector/matchLabels", Value::Object(pairs(&selector.list(), '=')));
    }
}

/// The numbers before each word of `1 desired | 1 updated | 1 total | 0 available`.
fn counts(text: &str) -> Vec<(&str, u64)> {
    text.split(['|', '/'])
        .filter_map(|part| {
            let mut words = part.split_whitespace();
            let number = words.next()?.parse().ok()?;
            Some((words.next()?, number))
        })
        .collect()
}

fn deployment(top: &Item, out: &mut Out) {
    selector(top, out);
    if let Some(replicas) = top.get("Replicas") {
        for (word, number) in counts(replicas) {
            let pointer = match word {
                "desired" => "/spec/replicas",
                "updated" => "/status/updatedReplicas",
                "total" => "/status/replicas",
                "available" => "/status/availableReplicas",
                "unavailable" => "/status/unavailableReplicas",
                _ => continue,
            };
            out.set(pointer, json!(number));
        }
    }
    if let Some(strategy) = top.get("StrategyType") {
        out.set("/spec/strategy/type", json!(strategy));
    }
    if let Some(conditions_item) = top.child("Conditions") {
        out.set("/status/conditions", Value::Array(conditions(conditions_item)));
    }
    template(top, out);
}

fn replica_set(top: &Item, out: &mut Out) {
    selector(top, out);
    if let Some(replicas) = top.get("Replicas") {
        for (word, number) in counts(replicas) {
            match word {
                "current" => out.set("/status/replicas", json!(number)),
                "desired" => out.set("/spec/replicas", json!(number)),
                _ => {}
            }
        }
    }
    template(top, out);
}

fn service(top: &Item, out: &mut Out) {
    if let Some(kind) = top.get("Type") {
        out.set("/spec/type", json!(kind));
    }
    let selector = top.child("Selector").map(|item| pairs(&item.list(), '=')).unwrap_or_default();
    out.set("/spec/selector", Value::Object(selector));
    if let Some(ip) = top.get("IP") {
        out.set("/spec/clusterIP", json!(ip));
    }
    if let Some(name) = top.get("External Name") {
        out.set("/spec/externalName", json!(name));
    }
    // One `Port:` / `TargetPort:` / `NodePort:` run per port, in order.
    let mut ports: Vec<Map<String, Value>> = Vec::new();
    for item in &top.children {
        let Some(value) = present(&item.value) else { continue };
        match item.key.as_str() {
            "Port" => {
                // `https  443/TCP`, or `<unset>  80/TCP` for an unnamed port.
                let mut words = value.split_whitespace().rev();
                let Some((number, protocol)) = words.next().and_then(|port| port.split_once('/')) else {
                    continue;
                };
                let mut port = Map::new();
                port.insert("port".into(), json!(number.parse::<u64>().unwrap_or(0)));
                port.insert("protocol".into(), json!(protocol));
                if let Some(name) = words.next().filter(|name| *name != "<unset>") {
                    port.insert("name".into(), json!(name));
                }
                ports.push(port);
            }
            "TargetPort" => {
                let target = value.split('/').next().unwrap_or(value);
                let target = target.parse::<u64>().map_or_else(|_| json!(target), |number| json!(number));
                if let Some(port) = ports.last_mut() {
                    port.insert("targetPort".into(), target);
                }
            }
            "NodePort" => {
                let number = value.split_whitespace().last().and_then(|port| port.split('/').next());
                if let (Some(port), Some(number)) =
                    (ports.last_mut(), number.and_then(|n| n.parse::<u64>().ok()))
                {
                    port.insert("nodePort".into(), json!(number));
                }
            }
            _ => {}
        }
    }
    out.set("/spec/ports", Value::Array(ports.into_iter().map(Value::Object).collect()));
}

fn claim(top: &Item, out: &mut Out) {
    if let Some(phase) = top.get("Status") {
        out.set("/status/phase", json!(phase));
    }
    if let Some(volume) = top.get("Volume") {
        out.set("/spec/volumeName", json!(volume));
    }
    if let Some(class) = top.get("StorageClass") {
        out.set("/spec/storageClassName", json!(class));
    }
    if let Some(capacity) = top.get("Capacity") {
        out.set("/status/capacity", json!({"storage": capacity}));
    }
    if let Some(modes) = top.get("Access Modes") {
        let modes: Vec<Value> = modes
            .split(',')
            .map(|mode| match mode.trim() {
                "RWO" => json!("ReadWriteOnce"),
                "ROX" => json!("ReadOnlyMany"),
                "RWX" => json!("ReadWriteMany"),
                "RWOP" => json!("ReadWriteOncePod"),
                other => json!(other),
            })
            .collect();
        out.set("/spec/accessModes", Value::Array(modes));
    }
    if let Some(mode) = top.get("VolumeMode") {
        out.set("/spec/volumeMode", json!(mode));
    }
}

/// The `Events:` table of a block: each row an event about the described object, its ages
/// kept as text (`17s (x2 over 57s)`) for the caller to turn into times.
fn events(item: &Item, kind: &str, top: &Item) -> Vec<Map<String, Value>> {
    let name = top.get("Name").unwrap_or_default();
    let namespace = top.get("Namespace");
    table(item)
        .iter()
        .filter_map(|row| {
            let reason = cell(row, "Reason")?;
            let mut event = Map::new();
            event.insert("type".into(), json!(cell(row, "Type").unwrap_or("Normal")));
            event.insert("reason".into(), json!(reason));
            event.insert("message".into(), json!(cell(row, "Message").unwrap_or_default()));
            let mut involved = json!({"kind": kind, "name": name});
            if let (Some(namespace), Value::Object(map)) = (namespace, &mut involved) {
                map.insert("namespace".into(), json!(namespace));
            }
            event.insert("involvedObject".into(), involved);
            if let Some(from) = cell(row, "From") {
                event.insert(
                    "source".into(),
                    json!({"component": from.split(',').next().unwrap_or(from).trim()}),
                );
            }
            event.insert("age".into(), json!(cell(row, "Age").unwrap_or_default()));
            Some(event)
        })
        .collect()
}

/// A describe event's `Age`: `17s`, `17s (x2 over 57s)`, `<invalid>`: (last, count, first).
pub(super) fn event_age(text: &str) -> (Option<jiff::SignedDuration>, u64, Option<jiff::SignedDuration>) {
    let (last, rest) = text.split_once(" (").unwrap_or((text, ""));
    let last = super::age(last.trim());
    let Some(rest) = rest.strip_prefix('x') else { return (last, 1, last) };
    let (count, first) = rest.split_once(" over ").unwrap_or((rest, ""));
    let count = count.trim().parse().unwrap_or(1);
    let first = super::age(first.trim_end_matches(')').trim());
    (last, count, first.or(last))
}
