//! Parsers for the content of bundle entries, shared by every format: lists of objects in
//! JSON or YAML, collector error files, `/version`, metrics samples, watched events.
//!
//! Each parser takes the bytes of one entry and the entry's path (for evidence and error
//! messages) and never panics; malformed input is an error naming the entry, which the loader
//! records as a read problem without stopping.

use std::collections::BTreeSet;

use crate::json::Value;

use crate::manifest::{Failure, FailureKind};
use crate::model::{ContainerKey, MetricSample, Object};

/// Why an entry could not be parsed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    #[error("`{entry}` is not valid JSON")]
    Json {
        entry: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("`{entry}` is not valid YAML")]
    Yaml {
        entry: String,
        #[source]
        source: crate::yaml::Error,
    },
    #[error("`{entry}` holds neither an object, a list nor an array of objects")]
    NotObjects { entry: String },
}

/// Objects parsed from one entry, how many items had to be skipped, and which kinds the entry
/// lists.
#[derive(Debug, Default)]
pub struct ParsedObjects {
    pub objects: Vec<Object>,
    /// Items without a name or a kind (neither their own, the list's, nor the hint).
    pub skipped: u64,
    /// The kinds the entry's lists (Lists, arrays, JSON `null`) hold, named as the model indexes
    /// them ([`Object::index_kind`]): the kind of each item, and for a list without items its
    /// own kind (the List's `kind` without `List`, else the importer's hint). An empty list is
    /// how a bundle says "there are none", which zero objects alone cannot say. A lone object
    /// is no list and adds nothing.
    pub listed_kinds: BTreeSet<String>,
}

impl ParsedObjects {
    /// Records that a list of `kind` (items of `api_version`) was read, maybe empty.
    fn listed(&mut self, kind: Option<&str>, api_version: Option<&str>) {
        if let Some(kind) = kind.filter(|kind| !kind.is_empty()) {
            self.listed_kinds.insert(index_kind(kind, api_version));
        }
    }

    /// Records the kinds of the objects parsed since the list began at `first`; a list without
    /// items records its own kind instead.
    fn listed_items(&mut self, first: usize, n_items: usize, kind: Option<&str>, api_version: Option<&str>) {
        if n_items == 0 {
            self.listed(kind, api_version);
            return;
        }
        self.listed_kinds.extend(self.objects[first..].iter().map(|object| object.index_kind().into_owned()));
    }
}

/// `kind` as the model indexes objects of it and `api_version`: the rule is
/// [`Object::index_kind`]'s, applied to a list that may have no item to apply it to.
fn index_kind(kind: &str, api_version: Option<&str>) -> String {
    let probe = Object {
        api_version: api_version.unwrap_or_default().to_owned(),
        kind: kind.to_owned(),
        namespace: None,
        name: String::new(),
        raw: Value::Null,
        source: String::new(),
    };
    probe.index_kind().into_owned()
}

/// How much of an entry [`document_syntax`] looks at.
const DOCUMENT_SNIFF: usize = 64 << 10;

/// Whether `bytes` are Kubernetes objects written out whole, as `kubectl get -o yaml|json` or a
/// kubelet's `/pods` print them (or a manifest, as `helm template` does: the caller tells them
/// apart), and in which syntax:
/// - JSON: the first value is an object or an array, and its first 64 KiB name `metadata` and
///   `apiVersion` or `kind` (an object has all three; a List has them around its items);
/// - YAML: the first key of the first document, past comments and `---`, is `apiVersion:` or
///   `kind:` (kubectl sorts keys, so `apiVersion` comes first), or a sequence item's is.
///
/// A file this says yes to can still fail to parse: the parser then says why.
pub fn document_syntax(bytes: &[u8]) -> Option<crate::import::Syntax> {
    use crate::import::Syntax;
    let head = &bytes[..bytes.len().min(DOCUMENT_SNIFF)];
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    match head.trim_ascii_start().first()? {
        b'{' | b'[' => (contains(head, "\"metadata\"")
            && (contains(head, "\"apiVersion\"") || contains(head, "\"kind\"")))
        .then_some(Syntax::Json),
        _ => {
            let text = String::from_utf8_lossy(head);
            let first = text.lines().map(str::trim_end).find(|line| {
                !(line.is_empty()
                    || line.starts_with('#')
                    || line.starts_with('%')
                    || line.starts_with("---"))
            })?;
            let key = first.strip_prefix("- ").unwrap_or(first);
            (key.starts_with("apiVersion:") || key.starts_with("kind:")).then_some(Syntax::Yaml)
        }
    }
}

/// Parses a JSON entry holding a List, a JSON array of objects, one object, or `null`.
pub fn objects_from_json(
    bytes: &[u8],
    kind_hint: Option<&str>,
    api_version_hint: Option<&str>,
    entry: &str,
) -> Result<ParsedObjects, ParseError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|source| ParseError::Json { entry: entry.to_owned(), source })?;
    let mut parsed = ParsedObjects::default();
    if value.is_null() {
        // Troubleshoot writes an empty list as `null` (a Go nil slice) in a file that names its
        // kind. An empty YAML document is no such statement, so only JSON counts.
        parsed.listed(kind_hint, api_version_hint);
        return Ok(parsed);
    }
    collect(value, kind_hint, api_version_hint, entry, &mut parsed)?;
    Ok(parsed)
}

/// Parses a YAML entry: one or more documents, each a List, a sequence of objects or one
/// object.
pub fn objects_from_yaml(
    bytes: &[u8],
    kind_hint: Option<&str>,
    api_version_hint: Option<&str>,
    entry: &str,
) -> Result<ParsedObjects, ParseError> {
    match yaml_documents(bytes, kind_hint, api_version_hint, entry) {
        Err(ParseError::Yaml { .. }) if contains(bytes, TROUBLESHOOT_REDACTED) => {
            // Troubleshoot's redactor writes its marker unquoted (`ip: ***HIDDEN***`), which
            // YAML reads as an alias: read the file again with a plain marker.
            let text = String::from_utf8_lossy(bytes).replace(TROUBLESHOOT_REDACTED, "HIDDEN");
            yaml_documents(text.as_bytes(), kind_hint, api_version_hint, entry)
        }
        parsed => parsed,
    }
}

/// The value troubleshoot's redactor leaves in place of a secret.
const TROUBLESHOOT_REDACTED: &str = "***HIDDEN***";

fn contains(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|window| window == needle.as_bytes())
}

fn yaml_documents(
    bytes: &[u8],
    kind_hint: Option<&str>,
    api_version_hint: Option<&str>,
    entry: &str,
) -> Result<ParsedObjects, ParseError> {
    let mut parsed = ParsedObjects::default();
    let documents: Vec<Value> = crate::yaml::documents(bytes)
        .map_err(|source| ParseError::Yaml { entry: entry.to_owned(), source })?;
    for value in documents {
        collect(value, kind_hint, api_version_hint, entry, &mut parsed)?;
    }
    Ok(parsed)
}

fn collect(
    value: Value,
    kind_hint: Option<&str>,
    api_version_hint: Option<&str>,
    entry: &str,
    parsed: &mut ParsedObjects,
) -> Result<(), ParseError> {
    match value {
        Value::Null => Ok(()),
        Value::Array(items) => {
            let (first, n_items) = (parsed.objects.len(), items.len());
            for item in items {
                push(item, kind_hint, api_version_hint, entry, parsed);
            }
            parsed.listed_items(first, n_items, kind_hint, api_version_hint);
            Ok(())
        }
        Value::Object(mut map) if map.contains_key("items") => {
            // A List: its kind (`PodList`) and apiVersion name what items lack, and win over
            // the hint, which only comes from a file or folder name.
            let list_kind = map.get("kind").and_then(Value::as_str).and_then(|k| k.strip_suffix("List"));
            let list_kind = list_kind.filter(|kind| !kind.is_empty()).map(str::to_owned);
            let list_api_version = map.get("apiVersion").and_then(Value::as_str).map(str::to_owned);
            let kind = list_kind.as_deref().or(kind_hint);
            let api_version = match (&list_kind, &list_api_version) {
                (Some(_), Some(version)) => Some(version.as_str()),
                _ => api_version_hint.or(list_api_version.as_deref()),
            };
            match map.remove("items") {
                Some(Value::Array(items)) => {
                    let (first, n_items) = (parsed.objects.len(), items.len());
                    for item in items {
                        push(item, kind, api_version, entry, parsed);
                    }
                    parsed.listed_items(first, n_items, kind, api_version);
                    Ok(())
                }
                // `"items": null` is an empty list too (troubleshoot's newer bundles).
                Some(Value::Null) | None => {
                    parsed.listed(kind, api_version);
                    Ok(())
                }
                Some(_) => Err(ParseError::NotObjects { entry: entry.to_owned() }),
            }
        }
        Value::Object(_) if value.get("metadata").is_some() => {
            push(value, kind_hint, api_version_hint, entry, parsed);
            Ok(())
        }
        _ => Err(ParseError::NotObjects { entry: entry.to_owned() }),
    }
}

fn push(
    mut item: Value,
    kind: Option<&str>,
    api_version: Option<&str>,
    entry: &str,
    parsed: &mut ParsedObjects,
) {
    // managedFields are large and say nothing a diagnostic needs; the native collector drops
    // them too.
    if let Some(metadata) =
        item.as_object_mut().and_then(|map| map.get_mut("metadata")).and_then(Value::as_object_mut)
    {
        metadata.remove("managedFields");
    }
    match Object::from_value(item, kind, api_version, entry) {
        Some(object) => parsed.objects.push(object),
        None => parsed.skipped += 1,
    }
}

/// Collector errors: troubleshoot's JSON array of strings, an object of strings (by
/// namespace), or `{"collector": ..., "error": ...}`.
///
/// `list` says the errors are about listing a kind (`what` = `list`), else a collector's own
/// work (`what` = `collect`).
pub fn collector_errors(
    bytes: &[u8],
    scope: &str,
    namespace: Option<&str>,
    list: bool,
    entry: &str,
) -> Result<Vec<Failure>, ParseError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|source| ParseError::Json { entry: entry.to_owned(), source })?;
    let failure = |namespace: Option<&str>, message: &str| Failure {
        what: if list { "list" } else { "collect" }.to_owned(),
        scope: scope.to_owned(),
        namespace: namespace.map(str::to_owned),
        kind: failure_kind(message),
        status: None,
        message: message.to_owned(),
    };
    let failures = match &value {
        Value::Array(items) => {
            items.iter().filter_map(Value::as_str).map(|m| failure(namespace, m)).collect()
        }
        Value::Object(map) if map.contains_key("error") => {
            map.get("error").and_then(Value::as_str).map(|m| failure(namespace, m)).into_iter().collect()
        }
        Value::Object(map) => {
            map.iter().filter_map(|(ns, message)| Some(failure(Some(ns), message.as_str()?))).collect()
        }
        Value::Null => Vec::new(),
        _ => return Err(ParseError::NotObjects { entry: entry.to_owned() }),
    };
    Ok(failures)
}

/// support-bundle-kit's `bundleGenerationError.log`: one `Failed to get <API path>: <message>`
/// per line. Resources that cannot be listed at all (`the server does not allow this method`,
/// a 405) are no failure of the collection and are left out.
pub fn failed_requests(bytes: &[u8]) -> Vec<Failure> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|line| {
            let (path, message) = line.trim().strip_prefix("Failed to get ")?.split_once(": ")?;
            if message.contains("does not allow this method") {
                return None;
            }
            let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
            let namespace = parts.iter().position(|part| *part == "namespaces").and_then(|at| {
                // `.../namespaces/<ns>/<plural>`; `/api/v1/namespaces` itself names no namespace.
                (at + 2 < parts.len()).then(|| parts[at + 1].to_owned())
            });
            Some(Failure {
                what: "list".to_owned(),
                scope: parts.last().copied().unwrap_or(path).to_owned(),
                namespace,
                kind: failure_kind(message),
                status: None,
                message: message.to_owned(),
            })
        })
        .collect()
}

/// An `etcdctl` answer a host collector saved: `endpointhealth` (`<url> is healthy: ...` per
/// endpoint), `alarmlist` (empty, or `memberID:... alarm:NOSPACE` per alarm), `endpointstatus`
/// (a table whose `ERRORS` column is empty when all is well) or `memberlist` (`unstarted`
/// members). `None` when the file says nothing (an empty health answer).
/// A test plugin's results (sonobuoy's `sonobuoy_results.yaml`): counts per status and the
/// failed tests with their messages.
pub fn plugin_results(
    plugin: &str,
    bytes: &[u8],
    entry: &str,
) -> Result<crate::model::PluginResult, ParseError> {
    super::sonobuoy::results(plugin, bytes, entry)
}

pub fn etcd_check(node: &str, check: &str, bytes: &[u8], entry: &str) -> Option<crate::model::HostCheck> {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
    let (what, healthy, said): (&str, bool, Vec<&str>) = match check {
        "endpointhealth" => {
            if lines.is_empty() {
                return None;
            }
            let bad: Vec<&str> = lines.iter().copied().filter(|line| !line.contains(" is healthy")).collect();
            ("etcd endpoint health", bad.is_empty(), if bad.is_empty() { lines } else { bad })
        }
        "alarmlist" => ("etcd alarms", lines.is_empty(), lines),
        "memberlist" => {
            let bad: Vec<&str> = lines.iter().copied().filter(|line| line.contains("unstarted")).collect();
            ("etcd members", bad.is_empty(), bad)
        }
        "endpointstatus" => {
            // `| ENDPOINT | ID | ... | ERRORS |` rows: the last cell holds the errors.
            let mut rows = lines
                .iter()
                .filter(|line| line.starts_with('|'))
                .map(|line| line.trim_matches('|').split('|').map(str::trim).collect::<Vec<_>>());
            let header = rows.next()?;
            let errors = header.iter().position(|cell| *cell == "ERRORS")?;
            let bad: Vec<&str> = lines
                .iter()
                .copied()
                .filter(|line| line.starts_with('|'))
                .skip(1)
                .filter(|line| {
                    let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
                    cells.get(errors).is_some_and(|cell| !cell.is_empty())
                })
                .collect();
            ("etcd endpoint status", bad.is_empty(), bad)
        }
        _ => return None,
    };
    Some(crate::model::HostCheck {
        node: node.to_owned(),
        what: what.to_owned(),
        healthy,
        said: said.into_iter().map(str::to_owned).collect(),
        source: entry.to_owned(),
    })
}

/// The failure kind a collector's message describes.
pub fn failure_kind(message: &str) -> FailureKind {
    let message = message.to_ascii_lowercase();
    if message.contains("forbidden") {
        FailureKind::Forbidden
    } else if message.contains("unauthorized") {
        FailureKind::Unauthorized
    } else if message.contains("not found") || message.contains("could not find") {
        FailureKind::NotFound
    } else if message.contains("timeout")
        || message.contains("timed out")
        || message.contains("deadline exceeded")
    {
        FailureKind::Timeout
    } else if message.contains("connection refused") || message.contains("no such host") {
        FailureKind::Connection
    } else {
        FailureKind::Other
    }
}

/// `gitVersion` of a `/version` answer, bare or wrapped as troubleshoot does (`{"info": ...}`).
pub fn server_version(bytes: &[u8], entry: &str) -> Result<Option<String>, ParseError> {
    let value: Value = if bytes.trim_ascii_start().starts_with(b"{") {
        serde_json::from_slice(bytes)
            .map_err(|source| ParseError::Json { entry: entry.to_owned(), source })?
    } else {
        // support-bundle-kit's `metadata.yaml`: `kubernetesversion: v1.21.7+rke2r1`.
        crate::yaml::from_slice(bytes)
            .map_err(|source| ParseError::Yaml { entry: entry.to_owned(), source })?
    };
    let version = value
        .get("gitVersion")
        .or_else(|| value.get("kubernetesversion"))
        // `kubectl version`'s text: `Server Version: v1.32.7+rke2r1`.
        .or_else(|| value.get("Server Version"))
        .or_else(|| value.pointer("/info/gitVersion"))
        .or_else(|| value.get("string"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(version)
}

/// One line of native `metrics/pods.jsonl` or `metrics/nodes.jsonl`.
#[derive(Debug, Default, PartialEq)]
pub struct MetricsLine {
    /// Per container (pods) samples.
    pub containers: Vec<(ContainerKey, MetricSample)>,
    /// Per node samples.
    pub nodes: Vec<(String, MetricSample)>,
    /// The error of a failed sample.
    pub error: Option<String>,
}

/// Parses one metrics sample line: `{"timestamp": ..., "items": [PodMetrics|NodeMetrics]}` or
/// `{"timestamp": ..., "error": ...}`. Items carry their own `timestamp`, which wins.
pub fn metrics_line(line: &[u8], entry: &str) -> Result<MetricsLine, ParseError> {
    let value: Value = serde_json::from_slice(line)
        .map_err(|source| ParseError::Json { entry: entry.to_owned(), source })?;
    let mut parsed = MetricsLine::default();
    if let Some(error) = value.get("error").and_then(Value::as_str) {
        parsed.error = Some(error.to_owned());
        return Ok(parsed);
    }
    let sample_time =
        value.get("timestamp").and_then(Value::as_str).and_then(|t| t.parse::<jiff::Timestamp>().ok());
    for item in value.get("items").and_then(Value::as_array).unwrap_or_default() {
        let at = item
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .or(sample_time);
        let Some(at) = at else { continue };
        let name = item.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
        if let Some(containers) = item.get("containers").and_then(Value::as_array) {
            let namespace = item.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default();
            for container in containers {
                let Some(sample) = usage(container.get("usage"), at) else { continue };
                let key = ContainerKey {
                    namespace: namespace.to_owned(),
                    pod: name.to_owned(),
                    container: container.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
                };
                parsed.containers.push((key, sample));
            }
        } else if let Some(sample) = usage(item.get("usage"), at) {
            parsed.nodes.push((name.to_owned(), sample));
        }
    }
    Ok(parsed)
}

fn usage(usage: Option<&Value>, at: jiff::Timestamp) -> Option<MetricSample> {
    let usage = usage?;
    let cpu = usage.get("cpu").and_then(Value::as_str).and_then(crate::quantity::cpu_millicores)?;
    let memory = usage.get("memory").and_then(Value::as_str).and_then(crate::quantity::bytes)?;
    Some(MetricSample { at, cpu_millicores: cpu, memory_bytes: memory })
}

/// The Event object of one line of native `events/watched.jsonl`.
pub fn watched_event(line: &[u8], entry: &str) -> Result<Option<Object>, ParseError> {
    let mut value: Value = serde_json::from_slice(line)
        .map_err(|source| ParseError::Json { entry: entry.to_owned(), source })?;
    let object = value.as_object_mut().and_then(|map| map.remove("object")).unwrap_or_default();
    Ok(Object::from_value(object, Some("Event"), Some("v1"), entry))
}

/// The newest times an object records about itself, apart by what they witness.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Times {
    /// `metadata.creationTimestamp`: when the object was made. An object added to a bundle
    /// after its capture (a test fixture's extra files) carries a creation time no clock of the
    /// captured cluster ever reached.
    pub created: Option<jiff::Timestamp>,
    /// What the cluster's clocks wrote while it ran: status condition transitions and
    /// heartbeats, container starts and ends, pod start, event times, lease renewals.
    pub observed: Option<jiff::Timestamp>,
}

impl Times {
    /// The newer of each time of `self` and `other`.
    #[must_use]
    pub fn max(self, other: Times) -> Times {
        Times { created: self.created.max(other.created), observed: self.observed.max(other.observed) }
    }

    /// The newest time of either kind.
    pub fn newest(self) -> Option<jiff::Timestamp> {
        self.created.max(self.observed)
    }
}

/// The newest time an object records about itself: creation, status conditions, container
/// state changes, event times. The reference "now" of a foreign bundle is drawn from these.
pub fn newest_timestamp(object: &Object) -> Option<jiff::Timestamp> {
    timestamps(object).newest()
}

/// The newest creation and observed times of an object (see [`Times`]).
pub fn timestamps(object: &Object) -> Times {
    const CONDITION_FIELDS: &[&str] =
        &["lastTransitionTime", "lastHeartbeatTime", "lastUpdateTime", "lastProbeTime"];
    let parse =
        |value: Option<&Value>| value.and_then(Value::as_str).and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let created = parse(object.at("/metadata/creationTimestamp"));
    let mut observed = None;
    let mut consider = |time: Option<jiff::Timestamp>| {
        if time > observed {
            observed = time;
        }
    };
    for pointer in [
        "/lastTimestamp",
        "/eventTime",
        "/series/lastObservedTime",
        "/firstTimestamp",
        "/status/startTime",
        "/spec/renewTime",
    ] {
        consider(parse(object.at(pointer)));
    }
    for condition in object.array_at("/status/conditions") {
        for field in CONDITION_FIELDS {
            consider(parse(condition.get(*field)));
        }
    }
    for statuses in ["/status/containerStatuses", "/status/initContainerStatuses"] {
        for status in object.array_at(statuses) {
            for state in ["state", "lastState"] {
                for (phase, field) in
                    [("running", "startedAt"), ("terminated", "finishedAt"), ("terminated", "startedAt")]
                {
                    consider(parse(status.get(state).and_then(|s| s.get(phase)).and_then(|p| p.get(field))));
                }
            }
        }
    }
    Times { created, observed }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_told_from_other_files() {
        use crate::import::Syntax;
        let yes: &[(&str, Syntax)] = &[
            // `kubectl get pods -A -o yaml`: a List, keys sorted.
            ("apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n", Syntax::Yaml),
            // `helm template`: a separator and a comment first.
            ("---\n# Source: chart/templates/svc.yaml\nkind: Service\n", Syntax::Yaml),
            ("\u{feff}\n\n- apiVersion: apps/v1\n  kind: Deployment\n", Syntax::Yaml),
            // `kubectl get pod web -o json`, and a kubelet's `/pods`.
            ("{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"Pod\",\n    \"metadata\": {", Syntax::Json),
            (r#"{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}"#, Syntax::Json),
        ];
        for (text, syntax) in yes {
            assert_eq!(document_syntax(text.as_bytes()), Some(*syntax), "{text:?}");
        }
        let no = [
            "NAME    READY   STATUS    RESTARTS   AGE\nweb-1   1/1     Running   0          5d\n",
            "Name:         web-1\nNamespace:    default\n",
            "$ kubectl get pods -o yaml\napiVersion: v1\n",
            // A kubelet's `/stats/summary` and a metrics sample: JSON, but no object.
            r#"{"node":{"nodeName":"n1","cpu":{}},"pods":[]}"#,
            "# HELP up whether the target is up\nup 1\n",
            "description: a values file\nkind_of: thing\n",
            "",
        ];
        for text in no {
            assert_eq!(document_syntax(text.as_bytes()), None, "{text:?}");
        }
    }

    #[test]
    fn list_kind_wins_over_the_folder() {
        let text = br#"{"kind": "ReplicaSetList", "apiVersion": "apps/v1", "items": [{"metadata": {"name": "a", "namespace": "n", "managedFields": [{}]}}]}"#;
        let parsed = objects_from_json(text, Some("StatefulSet"), Some("apps/v1"), "x.json").unwrap();
        assert_eq!(parsed.objects.len(), 1);
        assert_eq!(parsed.objects[0].kind, "ReplicaSet");
        assert_eq!(parsed.objects[0].api_version, "apps/v1");
        assert_eq!(parsed.objects[0].at("/metadata/managedFields"), None);
    }

    #[test]
    fn etcd_answers() {
        let healthy = etcd_check(
            "cp",
            "endpointhealth",
            b"https://10.0.0.1:2379 is healthy: successfully committed proposal: took = 8.5ms\n",
            "e",
        )
        .unwrap();
        assert!(healthy.healthy);
        let sick = etcd_check(
            "cp",
            "endpointhealth",
            b"https://10.0.0.1:2379 is unhealthy: failed to commit proposal: context deadline exceeded\n",
            "e",
        )
        .unwrap();
        assert!(!sick.healthy && sick.said[0].contains("deadline"));
        assert!(etcd_check("cp", "alarmlist", b"", "a").unwrap().healthy);
        assert!(!etcd_check("cp", "alarmlist", b"memberID:1234 alarm:NOSPACE\n", "a").unwrap().healthy);
        let status = b"+---+\n| ENDPOINT | ID | ERRORS |\n+---+\n| https://a:2379 | 15e9 |  |\n| https://b:2379 | 16e9 | etcdserver: mvcc: database space exceeded |\n";
        let status = etcd_check("cp", "endpointstatus", status, "s").unwrap();
        assert!(!status.healthy && status.said.len() == 1 && status.said[0].contains("space exceeded"));
        assert_eq!(etcd_check("cp", "endpointhealth", b"", "e"), None);
    }

    #[test]
    fn arrays_null_and_yaml() {
        let text = br#"[{"metadata": {"name": "a"}}, {"metadata": {}}]"#;
        let parsed = objects_from_json(text, Some("Pod"), Some("v1"), "x.json").unwrap();
        assert_eq!((parsed.objects.len(), parsed.skipped), (1, 1));
        assert_eq!(objects_from_json(b"null", None, None, "x").unwrap().objects.len(), 0);
        let yaml = b"---\n- apiVersion: longhorn.io/v1beta1\n  kind: Engine\n  metadata:\n    name: e1\n---\napiVersion: v1\nitems:\n- kind: Pod\n  metadata:\n    name: p\n";
        let parsed = objects_from_yaml(yaml, None, None, "x.yaml").unwrap();
        let kinds: Vec<&str> = parsed.objects.iter().map(|o| o.kind.as_str()).collect();
        assert_eq!(kinds, ["Engine", "Pod"]);
        assert!(objects_from_json(b"{\"items\": [", None, None, "broken.json").is_err());
        let redacted = b"- kind: Engine\n  metadata:\n    name: e\n  status:\n    ip: ***HIDDEN***:10000\n";
        assert_eq!(objects_from_yaml(redacted, None, None, "r.yaml").unwrap().objects.len(), 1);
        assert!(objects_from_yaml(b"a: *", None, None, "bad.yaml").is_err());
        assert!(objects_from_json(b"\"text\"", None, None, "text.json").is_err());
    }

    fn listed(parsed: &ParsedObjects) -> Vec<&str> {
        parsed.listed_kinds.iter().map(String::as_str).collect()
    }

    #[test]
    fn empty_lists_say_which_kind_they_list() {
        // The List's kind wins over the folder's hint, as it does for items.
        let list = br#"{"kind": "LimitRangeList", "apiVersion": "v1", "items": []}"#;
        let parsed = objects_from_json(list, Some("ResourceQuota"), Some("v1"), "x.json").unwrap();
        assert!(parsed.objects.is_empty());
        assert_eq!(listed(&parsed), ["LimitRange"]);
        let null_items =
            br#"{"kind": "NetworkPolicyList", "apiVersion": "networking.k8s.io/v1", "items": null}"#;
        assert_eq!(listed(&objects_from_json(null_items, None, None, "x.json").unwrap()), ["NetworkPolicy"]);
        // Bare arrays and `null` name their kind only through the importer's hint.
        assert_eq!(
            listed(&objects_from_json(b"[]", Some("LimitRange"), Some("v1"), "x.json").unwrap()),
            ["LimitRange"]
        );
        assert_eq!(
            listed(&objects_from_json(b"null", Some("Ingress"), None, "x.json").unwrap()),
            ["Ingress"]
        );
        assert!(objects_from_json(b"[]", None, None, "x.json").unwrap().listed_kinds.is_empty());
        let generic = br#"{"kind": "List", "apiVersion": "v1", "items": []}"#;
        assert!(objects_from_json(generic, None, None, "x.json").unwrap().listed_kinds.is_empty());
        let yaml = b"---\napiVersion: v1\nitems: []\nkind: ReplicationControllerList\nmetadata:\n  resourceVersion: \"29222\"\n";
        assert_eq!(
            listed(&objects_from_yaml(yaml, Some("Pod"), Some("v1"), "x.yaml").unwrap()),
            ["ReplicationController"]
        );
    }

    #[test]
    fn listed_kinds_are_named_as_the_model_indexes_them() {
        // Longhorn's empty NodeList lists no Kubernetes node.
        let custom = br#"{"kind": "NodeList", "apiVersion": "longhorn.io/v1beta1", "items": []}"#;
        assert_eq!(listed(&objects_from_json(custom, None, None, "x.json").unwrap()), ["Node.longhorn.io"]);
        let items = br#"{"apiVersion": "longhorn.io/v1beta1", "kind": "NodeList", "items": [{"metadata": {"name": "n1"}}]}"#;
        let parsed = objects_from_json(items, None, None, "x.json").unwrap();
        assert_eq!(listed(&parsed), [parsed.objects[0].index_kind().as_ref()]);
        assert_eq!(listed(&parsed), ["Node.longhorn.io"]);
    }

    #[test]
    fn lists_with_items_list_the_kinds_of_their_items_and_lone_objects_list_nothing() {
        // Troubleshoot once wrote ReplicaSets into a StatefulSet folder: they list ReplicaSets.
        let misnamed = br#"[{"kind": "ReplicaSet", "apiVersion": "apps/v1", "metadata": {"name": "a"}}]"#;
        assert_eq!(
            listed(&objects_from_json(misnamed, Some("StatefulSet"), Some("apps/v1"), "x.json").unwrap()),
            ["ReplicaSet"]
        );
        let events = br#"{"kind": "EventList", "apiVersion": "v1", "items": [{"metadata": {"name": "e"}, "reason": "BackOff"}]}"#;
        assert_eq!(listed(&objects_from_json(events, None, None, "x.json").unwrap()), ["Event"]);
        let lone = b"apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: etcd\n";
        let parsed = objects_from_yaml(lone, Some("DaemonSet"), Some("apps/v1"), "etcd.yaml").unwrap();
        assert_eq!(parsed.objects.len(), 1);
        assert!(parsed.listed_kinds.is_empty(), "one object file is not a list of its kind");
        // An empty YAML document is not an empty list.
        assert!(
            objects_from_yaml(b"---\n", Some("Pod"), Some("v1"), "x.yaml").unwrap().listed_kinds.is_empty()
        );
    }

    #[test]
    fn error_files() {
        let failures =
            collector_errors(br#"["secrets \"x\" not found"]"#, "secrets/x", None, false, "e.json").unwrap();
        assert_eq!(failures[0].kind, FailureKind::NotFound);
        let failures = collector_errors(
            br#"{"default": "forbidden: no", "b": "the server could not find the requested resource"}"#,
            "pdb",
            None,
            true,
            "e.json",
        )
        .unwrap();
        assert_eq!(failures.len(), 2);
        assert_eq!(failures[0].namespace.as_deref(), Some("b"));
        assert_eq!(failures[1].kind, FailureKind::Forbidden);
        let failures = collector_errors(
            br#"{"collector":"etcd","error":"no etcd","timestamp":"2025-12-10T17:27:09Z"}"#,
            "etcd",
            None,
            false,
            "e.json",
        )
        .unwrap();
        assert_eq!(failures[0].message, "no etcd");
    }

    #[test]
    fn versions_and_metrics() {
        assert_eq!(
            server_version(br#"{"info": {"gitVersion": "v1.20.2+k3s1"}}"#, "v").unwrap().as_deref(),
            Some("v1.20.2+k3s1")
        );
        assert_eq!(server_version(br#"{"gitVersion": "v1.33.1"}"#, "v").unwrap().as_deref(), Some("v1.33.1"));
        let line = br#"{"timestamp": "2025-01-01T00:00:00Z", "items": [{"metadata": {"name": "p", "namespace": "n"}, "timestamp": "2025-01-01T00:00:05Z", "containers": [{"name": "c", "usage": {"cpu": "250m", "memory": "64Mi"}}]}]}"#;
        let parsed = metrics_line(line, "m").unwrap();
        assert_eq!(parsed.containers.len(), 1);
        assert_eq!(parsed.containers[0].1.cpu_millicores, 250.0);
        assert_eq!(parsed.containers[0].1.memory_bytes, 64.0 * 1048576.0);
        assert_eq!(parsed.containers[0].1.at.to_string(), "2025-01-01T00:00:05Z");
        let node = br#"{"timestamp": "2025-01-01T00:00:00Z", "items": [{"metadata": {"name": "n1"}, "usage": {"cpu": "487558164n", "memory": "732212Ki"}}]}"#;
        assert_eq!(metrics_line(node, "m").unwrap().nodes[0].0, "n1");
        assert_eq!(
            metrics_line(br#"{"timestamp": "x", "error": "503"}"#, "m").unwrap().error.as_deref(),
            Some("503")
        );
    }

    #[test]
    fn newest_time_of_an_object() {
        let raw = serde_json::json!({"kind": "Pod", "metadata": {"name": "p", "creationTimestamp": "2025-01-01T00:00:00Z"},
            "status": {"conditions": [{"type": "Ready", "lastTransitionTime": "2025-01-02T00:00:00Z"}],
                "containerStatuses": [{"lastState": {"terminated": {"finishedAt": "2025-01-03T00:00:00Z"}}}]}});
        let object = Object::from_value(raw, None, None, "x").unwrap();
        assert_eq!(newest_timestamp(&object).map(|t| t.to_string()).as_deref(), Some("2025-01-03T00:00:00Z"));
        let times = timestamps(&object);
        assert_eq!(times.created.map(|t| t.to_string()).as_deref(), Some("2025-01-01T00:00:00Z"));
        assert_eq!(times.observed.map(|t| t.to_string()).as_deref(), Some("2025-01-03T00:00:00Z"));
        // A ConfigMap records only its creation.
        let raw = serde_json::json!({"kind": "ConfigMap", "metadata": {"name": "c", "creationTimestamp": "2026-01-01T00:00:00Z"}});
        let object = Object::from_value(raw, None, None, "x").unwrap();
        assert_eq!(timestamps(&object).observed, None);
    }
}
