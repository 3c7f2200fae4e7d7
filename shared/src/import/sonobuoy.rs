//! Sonobuoy results (`sonobuoy retrieve`).
//!
//! `resources/cluster/<group>_<version>_<plural>.json` and `resources/ns/<ns>/...` are JSON
//! arrays of objects; results of v0.10 name files by kind plural (`Pods.json`). Pod logs are
//! `podlogs/<ns>/<pod>/logs/<container>.txt`; the systemd-logs plugin leaves each node's
//! journal as journald JSON export (`plugins/systemd-logs/results/<node>/systemd_logs`, or
//! `plugins/systemd_logs/results/<node>` in v0.10). Each plugin's processed results,
//! `plugins/<plugin>/sonobuoy_results.yaml` (a tree of items with a `status`, whatever the
//! plugin's own result format: junit, gojson, per-node files), become a
//! [`PluginResult`](crate::model::PluginResult): counts per status and the failed tests with
//! their messages.

use super::parse::ParseError;
use super::{EntryClass, LogLayout, Syntax, kinds, log_key};
use crate::model::{NODE_LOG_NAMESPACE, PluginResult, TestFailure};

/// The container name under which a node's journal is kept.
const JOURNAL_CONTAINER: &str = "systemd";

pub(super) fn classify(relative: &str) -> EntryClass {
    let parts: Vec<&str> = relative.split('/').collect();
    match parts.as_slice() {
        ["serverversion.json"] => EntryClass::ServerVersion,
        ["resources", "cluster", file] | ["resources", "ns", _, file] => match file.strip_suffix(".json") {
            Some(stem) => {
                let hint = hint(stem);
                EntryClass::Objects {
                    syntax: Syntax::Json,
                    kind: hint.map(|h| h.0),
                    api_version: hint.map(|h| h.1),
                }
            }
            None => EntryClass::Ignored,
        },
        ["podlogs", namespace, pod, "logs", file] => match file.strip_suffix(".txt") {
            Some(container) => EntryClass::Log {
                key: log_key(namespace, pod, container, false),
                layout: LogLayout::Plain,
                namespace_known: true,
            },
            None => EntryClass::Ignored,
        },
        ["plugins", plugin, "sonobuoy_results.yaml"] => {
            EntryClass::PluginResults { plugin: (*plugin).to_owned() }
        }
        ["plugins", "systemd-logs" | "systemd_logs", "results", node, "systemd_logs"]
        | ["plugins", "systemd_logs", "results", node] => EntryClass::Log {
            key: log_key(NODE_LOG_NAMESPACE, node, JOURNAL_CONTAINER, false),
            layout: LogLayout::Journal,
            namespace_known: true,
        },
        _ => EntryClass::Ignored,
    }
}

/// The longest failure message kept per test: the first lines say what failed.
const MESSAGE_CHARS: usize = 400;

/// One item of a `sonobuoy_results.yaml` tree: the plugin, a file, a node, a suite or a test.
/// Only what the model keeps is read (a test's `system-out` is skipped).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct Item {
    name: String,
    status: String,
    meta: Option<Meta>,
    items: Vec<Item>,
    details: Option<Details>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct Meta {
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// A test's details: junit's `failure`, other plugins' `error` or `message`; any shape.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct Details {
    failure: Option<crate::json::Value>,
    error: Option<crate::json::Value>,
    message: Option<crate::json::Value>,
}

/// Reads one plugin's `sonobuoy_results.yaml`: every leaf item is a test (or a result file
/// with no tests inside), counted by status; failed ones keep their name and message.
pub(super) fn results(plugin: &str, bytes: &[u8], entry: &str) -> Result<PluginResult, ParseError> {
    let root: Item = crate::yaml::from_slice(bytes)
        .map_err(|source| ParseError::Yaml { entry: entry.to_owned(), source })?;
    let mut result = PluginResult {
        plugin: if root.name.is_empty() { plugin.to_owned() } else { root.name.clone() },
        status: root.status.clone(),
        passed: 0,
        failed: 0,
        skipped: 0,
        other: 0,
        failures: Vec::new(),
        source: entry.to_owned(),
    };
    for item in &root.items {
        count(item, None, &mut result);
    }
    Ok(result)
}

/// Counts the leaves under `item`; `node` is the node a per-node plugin's item is under.
fn count(item: &Item, node: Option<&str>, result: &mut PluginResult) {
    let is_node = item.meta.as_ref().and_then(|meta| meta.kind.as_deref()) == Some("node");
    let node = if is_node { Some(item.name.as_str()) } else { node };
    if !item.items.is_empty() {
        for child in &item.items {
            count(child, node, result);
        }
        return;
    }
    match item.status.as_str() {
        "passed" => result.passed += 1,
        "skipped" => result.skipped += 1,
        "failed" => {
            result.failed += 1;
            let name = match node {
                Some(node) if node != item.name => format!("{node}: {}", item.name),
                _ => item.name.clone(),
            };
            let message = item.details.as_ref().map(message).unwrap_or_default();
            result.failures.push(TestFailure { name, message });
        }
        _ => result.other += 1,
    }
}

/// A failure's message without the stack's `file.go:123` lines, cut to [`MESSAGE_CHARS`].
fn message(details: &Details) -> String {
    let text = [&details.failure, &details.error, &details.message]
        .into_iter()
        .flatten()
        .find_map(crate::json::Value::as_str)
        .unwrap_or_default();
    let kept: Vec<&str> =
        text.lines().map(str::trim).filter(|line| !line.is_empty() && !is_source_line(line)).collect();
    let joined = kept.join(" ");
    match joined.char_indices().nth(MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &joined[..cut]),
        None => joined,
    }
}

/// `/workspace/src/.../framework.go:630`: where a test failed, not what.
fn is_source_line(line: &str) -> bool {
    !line.contains(' ')
        && line.rsplit_once(':').is_some_and(|(file, number)| {
            file.contains('.') && !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())
        })
}

/// `apps_v1_deployments` → Deployment; `Pods` → Pod.
fn hint(stem: &str) -> Option<(&'static str, &'static str)> {
    let plural = stem.rsplit('_').next().unwrap_or(stem);
    kinds::by_plural(plural)
}

/// Whether `path` has the shape only sonobuoy results have; returns the root.
pub(super) fn marker_root(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    let position = parts.iter().position(|part| {
        matches!(
            *part,
            "resources" | "podlogs" | "plugins" | "meta" | "serverversion.json" | "servergroups.json"
        )
    })?;
    if position > 2 {
        return None;
    }
    let strong = match &parts[position..] {
        ["resources", "cluster", file] => file.ends_with(".json"),
        ["resources", "ns", _, file] => file.ends_with(".json"),
        ["podlogs", _, _, "logs", file] => file.ends_with(".txt"),
        ["meta", "run.log" | "config.json" | "query-time.json"] => true,
        ["serverversion.json"] | ["servergroups.json"] => true,
        _ => false,
    };
    strong.then(|| parts[..position].join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_generations_of_names() {
        assert_eq!(
            classify("resources/ns/kube-system/core_v1_pods.json"),
            EntryClass::Objects { syntax: Syntax::Json, kind: Some("Pod"), api_version: Some("v1") }
        );
        assert_eq!(
            classify("resources/cluster/rbac.authorization.k8s.io_v1_clusterroles.json"),
            EntryClass::Objects {
                syntax: Syntax::Json,
                kind: Some("ClusterRole"),
                api_version: Some("rbac.authorization.k8s.io/v1")
            }
        );
        assert_eq!(
            classify("resources/ns/kube-system/Pods.json"),
            EntryClass::Objects { syntax: Syntax::Json, kind: Some("Pod"), api_version: Some("v1") }
        );
        assert_eq!(
            classify("podlogs/kube-system/etcd-0/logs/etcd.txt"),
            EntryClass::Log {
                key: log_key("kube-system", "etcd-0", "etcd", false),
                layout: LogLayout::Plain,
                namespace_known: true
            }
        );
        assert!(matches!(
            classify("plugins/systemd_logs/results/ip-10-0-9-16"),
            EntryClass::Log { layout: LogLayout::Journal, .. }
        ));
        assert!(matches!(
            classify("plugins/systemd-logs/results/kind/systemd_logs"),
            EntryClass::Log { layout: LogLayout::Journal, .. }
        ));
        assert_eq!(classify("plugins/e2e/results/global/junit_01.xml"), EntryClass::Ignored);
        assert_eq!(
            classify("plugins/e2e/sonobuoy_results.yaml"),
            EntryClass::PluginResults { plugin: "e2e".into() }
        );
    }

    #[test]
    fn results_count_leaves_and_keep_failures() {
        let yaml = br#"
name: e2e
status: failed
meta: {type: summary}
items:
- name: junit_01.xml
  status: failed
  meta: {file: results/global/junit_01.xml, type: file}
  items:
  - name: Kubernetes e2e suite
    status: failed
    items:
    - {name: a, status: passed}
    - {name: b, status: skipped}
    - name: '[sig-apps] Daemon set should rollback'
      status: failed
      details:
        failure: |-
          /workspace/src/k8s.io/kubernetes/test/e2e/framework/framework.go:630
          Aug 17 17:10:15.362: Conformance test suite needs a cluster with at least 2 nodes.
          Expected
        system-out: "long"
    - {name: d, status: unknown}
"#;
        let result = results("e2e", yaml, "plugins/e2e/sonobuoy_results.yaml").unwrap();
        assert_eq!((result.passed, result.failed, result.skipped, result.other), (1, 1, 1, 1));
        assert_eq!(result.status, "failed");
        assert_eq!(result.failures[0].name, "[sig-apps] Daemon set should rollback");
        assert_eq!(
            result.failures[0].message,
            "Aug 17 17:10:15.362: Conformance test suite needs a cluster with at least 2 nodes. Expected"
        );
    }

    #[test]
    fn per_node_results_name_the_node() {
        let yaml = br#"
name: systemd-logs
status: failed
items:
- name: node-1
  status: failed
  meta: {type: node}
  items:
  - {name: systemd_logs, status: failed, details: {error: "no journal"}}
"#;
        let result = results("systemd-logs", yaml, "x").unwrap();
        assert_eq!(result.failures[0].name, "node-1: systemd_logs");
        assert_eq!(result.failures[0].message, "no journal");
    }

    #[test]
    fn results_that_are_not_yaml_are_an_error() {
        assert!(results("e2e", b"name: [unclosed", "x").is_err());
        // A plugin that failed before writing results: its status, no tests.
        let result = results("e2e", b"name: e2e\nstatus: failed\n", "x").unwrap();
        assert_eq!((result.status.as_str(), result.failed, result.passed), ("failed", 0, 0));
    }

    #[test]
    fn marker() {
        assert_eq!(marker_root("results/resources/cluster/Nodes.json").as_deref(), Some("results"));
        assert_eq!(marker_root("resources/cluster/core_v1_nodes.json").as_deref(), Some(""));
        assert_eq!(marker_root("a/b/c/resources/cluster/x.json"), None);
        // A native bundle's resource lists are deeper: not a sonobuoy marker.
        assert_eq!(marker_root("root/resources/core/v1/pods/default.json"), None);
    }
}
