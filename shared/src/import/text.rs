//! kubectl's text output read back into objects: `get` tables (default, `-o wide`, `-A`,
//! `--show-labels`), `describe` blocks with their `Events:`, `get events`, `top`, and, in a
//! terminal transcript (`$ kubectl …` lines followed by their output), `logs`.
//!
//! What a piece of text is comes from its content, never from the file's name (which only
//! settles two kinds that print the same columns): table headers, `Name:` blocks, prompts.
//! Each object carries only what its text shows, and the fields shown are recorded per kind
//! (`ClusterModel::text_fields`), so the analyzer can tell a diagnostic that reads a pod's
//! containers that the bundle does not show them.

mod describe;
mod objects;
mod table;
mod transcript;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::Syntax;
use super::parse::{self, ParseError, document_syntax};
use crate::model::{ContainerKey, MetricSample, Object};
pub use describe::time;
pub use objects::{TextObjects, age};
pub use table::{Table, tables};
pub use transcript::{Command, Section, sections};

/// What kubectl text is recognized by: the refusal of a file that is none lists these.
pub const LOOKED_FOR: &[&str] = &[
    "a `kubectl get` table (a header such as `NAME READY STATUS RESTARTS AGE`, `NAMESPACE NAME ...`, `LAST SEEN TYPE REASON OBJECT MESSAGE`)",
    "a `kubectl describe` block (`Name:` at the start of a line, then `Namespace:`, `Labels:`, ...)",
    "a terminal transcript: `$ kubectl ...` (or `+ kubectl ...` from `bash -x`) lines followed by their output",
    "objects printed whole, as `kubectl get -o yaml` or `-o json` print them: YAML whose first key \
     is `apiVersion:` or `kind:`, or JSON naming `metadata` and `apiVersion`",
];

/// Everything one text file gave.
#[derive(Debug, Default)]
pub struct TextRead {
    pub objects: TextObjects,
    /// Kinds whose list the file holds, even an empty one (`No resources found` under a file
    /// named for its kind).
    pub listed_kinds: BTreeSet<String>,
    /// `kubectl top pods --containers` rows, at the capture time.
    pub container_metrics: Vec<(ContainerKey, MetricSample)>,
    /// `kubectl top nodes` rows, at the capture time.
    pub node_metrics: Vec<(String, MetricSample)>,
    /// The time relative ages counted back from: the capture time when known, else the newest
    /// time the text itself prints.
    pub now: Option<jiff::Timestamp>,
    /// Objects printed whole (`kubectl get -o yaml|json`, as a file or as a transcript's
    /// output): every field the server returned, so `objects.fields` does not limit them.
    pub documents: Vec<Object>,
    /// The kinds the documents' lists hold, even empty ones.
    pub document_kinds: BTreeSet<String>,
    /// Output that looked like objects printed whole but did not parse.
    pub unparsable: Vec<ParseError>,
    /// Objects printed whole that no API server returned (no `uid`, no `creationTimestamp`):
    /// manifests (`helm template`, a repository's YAML, `--dry-run -o yaml`), not read.
    pub manifests: usize,
    /// Whether anything of kubectl's was found.
    pub recognized: bool,
}

/// Whether `bytes` look like kubectl's output: a table header, a describe block or a kubectl
/// prompt in their first lines, or objects printed whole.
pub fn looks_like(bytes: &[u8]) -> bool {
    if bytes.contains(&0) {
        return false;
    }
    if document_syntax(bytes).is_some() {
        return true;
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(256 << 10)]);
    let text = text.as_ref();
    text.lines().any(|line| matches!(transcript::prompt(line), Some(transcript::Prompt::Kubectl(_))))
        || !tables(text).is_empty()
        || describe::blocks(text).iter().any(|block| describe::object(block, None).is_some())
}

/// Reads one text file. `hint` is the kind the file's name says, `now` the capture time that
/// relative ages count back from (when known; else the newest time the text prints).
pub fn read(
    bytes: &[u8],
    hint: Option<&'static str>,
    now: Option<jiff::Timestamp>,
    source: &str,
) -> TextRead {
    let text = String::from_utf8_lossy(bytes);
    let now = now.or_else(|| describe::newest_time(&text));
    let mut read = TextRead { now, ..TextRead::default() };
    let mut merged: BTreeMap<(String, Option<String>, String), Map<String, Value>> = BTreeMap::new();
    // Described objects go over listed ones (a block shows all a row shows, and more).
    let mut described_objects = BTreeMap::new();
    let mut events: Vec<Map<String, Value>> = Vec::new();
    for section in sections(&text) {
        let command = section.command.as_ref();
        let verb = command.map(|command| command.verb.as_str());
        if matches!(verb, Some("logs")) {
            read.recognized = true;
            continue;
        }
        let hint = command.and_then(Command::kind).or(hint);
        let namespace = command.and_then(|command| command.namespace.as_deref());
        if let Some(syntax) = document_syntax(section.body.as_bytes()) {
            read.recognized = true;
            documents(section.body.as_bytes(), syntax, hint, source, &mut read);
            continue;
        }
        let found = tables(section.body);
        if command.is_some() {
            read.recognized = true;
        }
        if !found.is_empty() {
            read.recognized = true;
        }
        metrics(&found, namespace, now, &mut read);
        let table_objects = objects::from_tables(&found, hint, namespace, now, source);
        read.listed_kinds.extend(table_objects.fields.keys().cloned());
        if found.is_empty() && section.body.lines().any(|line| line.trim().starts_with("No resources found"))
        {
            read.listed_kinds.extend(hint.map(str::to_owned));
        }
        for object in table_objects.objects {
            let serde_json::Value::Object(map) = serde_json::Value::from(&object.raw) else { continue };
            merge_into(&mut merged, map);
        }
        for (kind, fields) in table_objects.fields {
            read.objects.fields.entry(kind).or_default().extend(fields);
        }
        read.objects.unread.extend(table_objects.unread);
        for block in describe::blocks(section.body) {
            let Some(described) = describe::object(&block, hint) else { continue };
            read.recognized = true;
            let mut value = described.value;
            value.insert("kind".into(), json!(described.kind));
            value.insert("apiVersion".into(), json!(objects::api_version(described.kind)));
            read.objects.fields.entry(described.kind.to_owned()).or_default().extend(described.fields);
            if !described.events.is_empty() {
                read.objects.fields.entry("Event".to_owned()).or_default().extend(EVENT_FIELDS);
            }
            events.extend(described.events);
            merge_into(&mut described_objects, value);
        }
    }
    for mut event in events {
        let age = event.remove("age").and_then(|age| age.as_str().map(str::to_owned)).unwrap_or_default();
        let (last, count, first) = describe::event_age(&age);
        event.insert("count".into(), json!(count));
        if let Some(now) = now {
            for (ago, field) in [(last, "lastTimestamp"), (first, "firstTimestamp")] {
                if let Some(at) = ago.and_then(|ago| now.checked_sub(ago).ok()) {
                    event.insert(field.into(), json!(at.to_string()));
                }
            }
        }
        let involved = event.get("involvedObject").cloned().unwrap_or_default();
        // Named as a `get events` row of the same event is (one per object and reason), so
        // the two are one event.
        let name = format!(
            "{}.{}.{}",
            involved.get("kind").and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase(),
            involved.get("name").and_then(Value::as_str).unwrap_or_default(),
            event.get("reason").and_then(Value::as_str).unwrap_or_default()
        );
        let mut metadata = json!({"name": name});
        if let (Some(namespace), Value::Object(map)) = (involved.get("namespace"), &mut metadata) {
            map.insert("namespace".into(), namespace.clone());
        }
        event.insert("metadata".into(), metadata);
        event.insert("kind".into(), json!("Event"));
        event.insert("apiVersion".into(), json!("v1"));
        read.objects.objects.extend(Object::from_value(Value::Object(event), None, None, source));
    }
    for (_, value) in described_objects {
        merge_into(&mut merged, value);
    }
    for (_, value) in merged {
        read.objects.objects.extend(Object::from_value(Value::Object(value), None, None, source));
    }
    if !read.objects.objects.is_empty() {
        read.recognized = true;
    }
    read
}

/// Reads objects printed whole into `read.documents`, or the reason they could not be.
fn documents(body: &[u8], syntax: Syntax, hint: Option<&str>, source: &str, read: &mut TextRead) {
    let parsed = match syntax {
        Syntax::Json => parse::objects_from_json(body, hint, None, source),
        Syntax::Yaml => parse::objects_from_yaml(body, hint, None, source),
    };
    match parsed {
        Ok(parsed) => {
            // What the server returned has a uid and a creation time; a manifest has neither, and
            // read as the cluster's state every Deployment in it would be "0 of N available".
            let (captured, manifests): (Vec<Object>, Vec<Object>) =
                parsed.objects.into_iter().partition(|object| {
                    object.uid().is_some() || object.at("/metadata/creationTimestamp").is_some()
                });
            read.manifests += manifests.len();
            if !captured.is_empty() || manifests.is_empty() {
                read.document_kinds.extend(parsed.listed_kinds);
            }
            read.documents.extend(captured);
        }
        Err(error) => read.unparsable.push(error),
    }
}

/// The fields a describe block's `Events:` row gives an event.
const EVENT_FIELDS: [&str; 8] = [
    "/type",
    "/reason",
    "/message",
    "/involvedObject/kind",
    "/involvedObject/name",
    "/source/component",
    "/count",
    "/lastTimestamp",
];

/// Adds `value` to the objects read so far, merged into an earlier one of the same kind,
/// namespace and name (a `get` row and a `describe` block of the same pod are one pod).
fn merge_into(
    merged: &mut BTreeMap<(String, Option<String>, String), Map<String, Value>>,
    value: Map<String, Value>,
) {
    let metadata = value.get("metadata");
    let field = |from: Option<&Value>, key: &str| from?.get(key)?.as_str().map(str::to_owned);
    let (Some(kind), Some(name)) =
        (value.get("kind").and_then(Value::as_str).map(str::to_owned), field(metadata, "name"))
    else {
        return;
    };
    let namespace = field(metadata, "namespace");
    if kind == "Event" {
        // Events of a table have names of their own; none is merged with another.
        let key = (kind, namespace, format!("{name}#{}", merged.len()));
        merged.insert(key, value);
        return;
    }
    let key = (kind, namespace, name);
    match merged.get_mut(&key) {
        Some(existing) => deep_merge(existing, value),
        None => {
            merged.insert(key, value);
        }
    }
}

fn deep_merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(value)) => deep_merge(existing, value),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// `kubectl top` tables: `top pods --containers` (a `POD` column) gives container usage,
/// `top nodes` (a `CPU(%)` column) node usage, both at `now`. `top pods` without
/// `--containers` gives a pod's total, which is no container's usage: not read.
fn metrics(found: &[Table], namespace: Option<&str>, now: Option<jiff::Timestamp>, read: &mut TextRead) {
    let Some(now) = now else { return };
    for table in found.iter().filter(|table| table.has(&["CPU(cores)", "MEMORY(bytes)"])) {
        for row in &table.rows {
            let sample = || {
                Some(MetricSample {
                    at: now,
                    cpu_millicores: crate::quantity::cpu_millicores(table.cell(row, "CPU(cores)")?)?,
                    memory_bytes: crate::quantity::bytes(table.cell(row, "MEMORY(bytes)")?)?,
                })
            };
            if table.has(&["POD"]) {
                let (Some(pod), Some(container), Some(sample)) =
                    (table.cell(row, "POD"), table.cell(row, "NAME"), sample())
                else {
                    continue;
                };
                let Some(namespace) = table.cell(row, "NAMESPACE").or(namespace) else { continue };
                let key = ContainerKey {
                    namespace: namespace.to_owned(),
                    pod: pod.to_owned(),
                    container: container.to_owned(),
                };
                read.container_metrics.push((key, sample));
            } else if let (true, Some(node), Some(sample)) =
                (table.has(&["CPU(%)"]), table.cell(row, "NAME"), sample())
            {
                read.node_metrics.push((node.to_owned(), sample));
            }
        }
    }
}

/// A `kubectl logs` section of a transcript: whose log it is, and where its text lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextLog {
    /// From `-n`; `None` when the command did not say (found from the pod's name later).
    pub namespace: Option<String>,
    pub pod: String,
    /// From `-c`; `None` for the pod's default container.
    pub container: Option<String>,
    pub previous: bool,
    /// Byte range of the log's lines in the text.
    pub range: std::ops::Range<usize>,
}

/// The `kubectl logs POD [-c C] [-p]` sections of a transcript whose output is a log (not
/// kubectl's error).
pub fn logs(text: &str) -> Vec<TextLog> {
    sections(text)
        .into_iter()
        .filter_map(|section| {
            let command = section.command?;
            if command.verb != "logs" {
                return None;
            }
            let first = section.body.lines().find(|line| !line.trim().is_empty())?;
            if first.starts_with("Error from server") || first.starts_with("error:") {
                return None;
            }
            let target = command.names.first()?;
            let pod = match target.split_once('/') {
                Some(("pod" | "pods" | "po", pod)) => pod,
                Some(_) => return None,
                None => target.as_str(),
            };
            let container = command.container.clone().or_else(|| command.names.get(1).cloned());
            Some(TextLog {
                namespace: command.namespace.clone(),
                pod: pod.to_owned(),
                container,
                previous: command.previous,
                range: section.start..section.start + section.body.len(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
