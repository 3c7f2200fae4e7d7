//! The one test harness: Kubernetes YAML in, a model out, and a diagnostic's findings rendered
//! as compact text and compared with an inline expectation (`UPDATE_EXPECT=1 cargo test`
//! rewrites it).
//!
//! A fixture is YAML documents separated by `---`. Ordinary documents are objects of the
//! bundle; `kind: Event` documents become events. Pseudo-kinds fill the rest of the model:
//!
//! ```yaml
//! kind: Fixture              # the capture time (default: FIXTURE_NOW)
//! capturedAt: "2025-06-01T12:00:00Z"
//! ---
//! kind: ContainerLog         # a log, scanned by the loader's scanner as a bundle's would be
//! namespace: shop
//! pod: api-1
//! container: api
//! previous: true
//! lines: ["2025-06-01T11:59:00Z starting", "panic: boom"]
//! ---
//! kind: MetricSeries         # one container's samples (CPU and memory quantities)
//! namespace: shop
//! pod: api-1
//! container: api
//! samples: [{at: "2025-06-01T11:55:00Z", cpu: 250m, memory: 100Mi}]
//! ---
//! kind: NodeSeries           # one node's samples
//! node: node-1
//! samples: [{at: "2025-06-01T11:55:00Z", cpu: 3500m, memory: 14Gi}]
//! ---
//! kind: KubeletStats         # one node's /stats/summary, as the kubelet returns it
//! node: node-1
//! summary: {pods: [...]}
//! ---
//! kind: HelmReleases         # the bundle's Helm history, as `helm/releases.json` holds it
//! releases: [{name: shop, namespace: web, revision: 1, status: deployed, storage: secret,
//!             object: sh.helm.release.v1.shop.v1}]
//! ```
//!
//! [`check`] runs a diagnostic on a fixture, [`check_model`] on a model built another way (real
//! data); [`series`], [`deployment`] and [`kubelet_stats`] write common documents. [`check`]
//! also runs the fixture again with hostile names ([`HOSTILE_PREFIXES`]) and proves every
//! remediation stays safe to paste.

use std::fmt::Write as _;

use expect_test::Expect;
use kubesnap_shared::json::Value;
use kubesnap_shared::layout;
use kubesnap_shared::model::{
    ClusterModel, ContainerKey, ContainerLog, Event, LogKey, MetricSample, MetricSeries, NodeSeries, Object,
};
use kubesnap_shared::quantity;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::finding::{Evidence, Finding, Severity, Status};

/// The capture time of fixtures that do not say: the reference "now" of their ages.
pub(crate) const FIXTURE_NOW: &str = "2025-06-01T12:00:00Z";

/// Builds a finished model from a YAML fixture.
pub(crate) fn model_from_yaml(fixture: &str) -> ClusterModel {
    let mut model = ClusterModel { captured_at: FIXTURE_NOW.parse().ok(), ..ClusterModel::default() };
    let documents: Vec<Value> = kubesnap_shared::yaml::documents(fixture.as_bytes())
        .unwrap_or_else(|error| panic!("fixture is not YAML: {error}"));
    // Logs wait for the capture time, which places their year-less times.
    let mut logs = Vec::new();
    for value in documents {
        match value.get("kind").and_then(Value::as_str) {
            Some("Fixture") => {
                model.captured_at =
                    value.get("capturedAt").and_then(Value::as_str).and_then(|t| t.parse().ok());
            }
            Some("ContainerLog") => logs.push(value),
            Some("MetricSeries") => model.pod_metrics.push(metric_series(&value)),
            // `helm/releases.json` as the collector writes it.
            Some("HelmReleases") => {
                let file: kubesnap_shared::helm::HelmReleases = serde_json::to_value(&value)
                    .and_then(serde_json::from_value)
                    .unwrap_or_else(|error| panic!("fixture HelmReleases: {error}"));
                model.helm_releases.get_or_insert_default().extend(file.releases);
            }
            Some("NodeSeries") => model.node_metrics.push(node_series(&value)),
            Some("KubeletStats") => {
                let summary = value.get("summary").cloned().unwrap_or(Value::Null);
                model.kubelet_stats.insert(text(&value, "node").to_owned(), summary);
            }
            _ if value.is_null() => {}
            _ => {
                let object = Object::from_value(value, None, None, "fixture.yaml")
                    .unwrap_or_else(|| panic!("fixture object without kind or name"));
                match Event::from_object(&object) {
                    Some(event) => model.events.push(event),
                    None => model.objects.push(object),
                }
            }
        }
    }
    model.logs = logs.iter().map(|value| container_log(value, model.captured_at)).collect();
    model.finish();
    model
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_else(|| panic!("fixture lacks `{key}`"))
}

/// A `ContainerLog` document's lines, scanned in-process by the loader's scanner.
fn container_log(value: &Value, captured_at: Option<jiff::Timestamp>) -> ContainerLog {
    let key = LogKey {
        namespace: text(value, "namespace").to_owned(),
        pod: text(value, "pod").to_owned(),
        container: text(value, "container").to_owned(),
        previous: value.get("previous").and_then(Value::as_bool).unwrap_or(false),
    };
    let lines = value.get("lines").and_then(Value::as_array).unwrap_or_default();
    let log_text: String =
        lines.iter().map(|line| format!("{}\n", line.as_str().unwrap_or_default())).collect();
    let path = layout::container_log(&key.namespace, &key.pod, &key.container, key.previous);
    let mut log = crate::load::scan_log(key, &path, &log_text, captured_at);
    log.truncated = value.get("truncated").and_then(Value::as_bool).unwrap_or(false);
    log
}

fn sample(value: &Value) -> MetricSample {
    MetricSample {
        at: text(value, "at").parse().unwrap_or_else(|error| panic!("bad sample time: {error}")),
        cpu_millicores: quantity::cpu_millicores(text(value, "cpu")).unwrap_or(0.0),
        memory_bytes: quantity::bytes(text(value, "memory")).unwrap_or(0.0),
    }
}

fn samples(value: &Value) -> Vec<MetricSample> {
    value.get("samples").and_then(Value::as_array).unwrap_or_default().iter().map(sample).collect()
}

fn metric_series(value: &Value) -> MetricSeries {
    MetricSeries {
        key: ContainerKey {
            namespace: text(value, "namespace").to_owned(),
            pod: text(value, "pod").to_owned(),
            container: text(value, "container").to_owned(),
        },
        samples: samples(value),
    }
}

fn node_series(value: &Value) -> NodeSeries {
    NodeSeries { node: text(value, "node").to_owned(), samples: samples(value) }
}

/// Runs one diagnostic on a fixture and compares the rendered findings with `expect`.
///
/// Also checks what every finding of a diagnostic must satisfy: its code and category, a
/// severity the diagnostic declares, at least one object, an explanation, P3 when resolved,
/// and a deterministic result.
pub(crate) fn check(diagnostic: &Diagnostic, fixture: &str, expect: Expect) {
    check_model(diagnostic, &model_from_yaml(fixture), expect);
    for prefix in HOSTILE_PREFIXES {
        let model = model_from_yaml(&renamed_fixture(fixture, prefix));
        let findings = (diagnostic.run)(&Facts::new(&model));
        let commands: Vec<&str> =
            findings.iter().flat_map(|finding| finding.remediation.iter().map(String::as_str)).collect();
        assert_commands_safe(&commands, prefix);
    }
}

/// What a crafted bundle could put before every name: a flag, a command substitution, quotes
/// that close the shell's and run a command, a newline, a look-alike letter. [`check`] runs
/// every diagnostic's fixture again with each before every name, and the incident tests do the
/// same for the root causes' mitigations.
pub(crate) const HOSTILE_PREFIXES: [&str; 6] =
    ["-x", "$(kubesnap_ran)", "`kubesnap_ran`", "q'\"; kubesnap_ran #", "n\nl", "\u{430}"];

/// The fixture with `prefix` before every name it holds (objects' names and namespaces,
/// containers', logs' and series' pods), wherever a value equals one: references, selectors,
/// owners and events keep pointing at what they pointed at. Written back as JSON documents,
/// which are YAML.
pub(crate) fn renamed_fixture(fixture: &str, prefix: &str) -> String {
    let documents: Vec<serde_json::Value> = kubesnap_shared::yaml::documents::<Value>(fixture.as_bytes())
        .unwrap_or_else(|error| panic!("fixture is not YAML: {error}"))
        .iter()
        .map(|document| serde_json::to_value(document).unwrap())
        .collect();
    let mut names = std::collections::BTreeSet::new();
    for document in &documents {
        for key in ["namespace", "pod", "container", "node"] {
            if matches!(
                document["kind"].as_str(),
                Some("ContainerLog" | "MetricSeries" | "NodeSeries" | "KubeletStats")
            ) && let Some(name) = document[key].as_str()
            {
                names.insert(name.to_owned());
            }
        }
        for key in ["name", "namespace"] {
            if let Some(name) = document["metadata"][key].as_str() {
                names.insert(name.to_owned());
            }
        }
        container_names(document, &mut names);
    }
    names.remove("");
    let renamed: Vec<String> = documents
        .into_iter()
        .map(|mut document| {
            rename(&mut document, &names, prefix);
            document.to_string()
        })
        .collect();
    renamed.join("\n---\n")
}

fn container_names(value: &serde_json::Value, names: &mut std::collections::BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                if matches!(key.as_str(), "containers" | "initContainers" | "ephemeralContainers")
                    && let Some(containers) = inner.as_array()
                {
                    names.extend(containers.iter().filter_map(|c| c["name"].as_str()).map(str::to_owned));
                }
                container_names(inner, names);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| container_names(item, names)),
        _ => {}
    }
}

fn rename(value: &mut serde_json::Value, names: &std::collections::BTreeSet<String>, prefix: &str) {
    match value {
        serde_json::Value::String(text) if names.contains(text.as_str()) => *text = format!("{prefix}{text}"),
        serde_json::Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if !matches!(key.as_str(), "kind" | "apiVersion") {
                    rename(inner, names, prefix);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|item| rename(item, names, prefix)),
        _ => {}
    }
}

/// Every command is safe to paste: run by a real bash (nothing on `PATH`, so nothing but
/// bash's own words really runs), no name's text runs, a name that starts with the hostile
/// `prefix` stays one argument and never reads as a flag, and a command a name refused runs
/// nothing (`facts::kubectl::tests::assert_safe_in_a_shell`).
pub(crate) fn assert_commands_safe(commands: &[&str], prefix: &str) {
    for command in commands {
        crate::facts::kubectl::tests::assert_safe_in_a_shell(command, &[prefix]);
    }
}

/// [`check`] on a model built some other way (real data).
pub(crate) fn check_model(diagnostic: &Diagnostic, model: &ClusterModel, expect: Expect) {
    let findings = (diagnostic.run)(&Facts::new(model));
    for finding in &findings {
        assert_eq!(finding.code, diagnostic.code, "finding of another code");
        assert_eq!(finding.category, diagnostic.category, "finding of another category");
        assert!(
            diagnostic.severities.contains(&finding.severity),
            "{} emitted {} but declares {:?}",
            diagnostic.code,
            finding.severity,
            diagnostic.severities
        );
        assert!(!finding.objects.is_empty(), "a finding names no object: {}", finding.title);
        assert!(
            finding.status == Status::Ongoing || finding.severity == Severity::P3,
            "a resolved finding above P3: {}",
            finding.title
        );
        assert!(!finding.explanation.is_empty(), "a finding explains nothing: {}", finding.title);
    }
    assert_eq!(findings, (diagnostic.run)(&Facts::new(model)), "two runs on one model differ");
    expect.assert_eq(&render(&findings));
}

/// A compact, stable text rendering of findings for expectations.
pub(crate) fn render(findings: &[Finding]) -> String {
    let mut out = String::new();
    for finding in findings {
        // Only a resolved finding says its status, so expectations of ongoing ones stay as they were.
        let status = match finding.status {
            Status::Ongoing => "",
            Status::Resolved => " resolved",
        };
        let _ = writeln!(out, "{}{status} {} {}", finding.severity, finding.code, finding.title);
        let objects: Vec<String> = finding.objects.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "  objects: {}", objects.join(", "));
        for evidence in &finding.evidence {
            let _ = writeln!(out, "  {}", render_evidence(evidence));
        }
        let _ = writeln!(out, "  why: {}", finding.explanation);
        for command in &finding.remediation {
            let _ = writeln!(out, "  $ {command}");
        }
    }
    if out.is_empty() { "no findings\n".to_owned() } else { out }
}

fn render_evidence(evidence: &Evidence) -> String {
    match evidence {
        Evidence::Field { object, path, value } => format!("field {object} {path} = {value}"),
        Evidence::Event { reason, message, count, source, .. } => {
            format!("event {reason} x{count} ({source}): {message}")
        }
        Evidence::LogLine { path, line, text, .. } => format!("log {path}:{line}: {text}"),
        Evidence::Metric { series, statistic, value, unit } => {
            format!("metric {series} {statistic} = {value} {unit}")
        }
        Evidence::Note { text } => format!("note: {text}"),
    }
}

/// A metric series document of `count` samples every 30 s from `start` (`HH:MM:SS` on the
/// fixture day), CPU and memory computed per sample index.
pub(crate) fn series(
    namespace: &str,
    pod: &str,
    container: &str,
    start: &str,
    count: usize,
    sample: impl Fn(usize) -> (String, String),
) -> String {
    let start: jiff::Timestamp = format!("2025-06-01T{start}Z").parse().unwrap();
    let mut out = format!(
        "---\nkind: MetricSeries\nnamespace: {namespace}\npod: {pod}\ncontainer: {container}\nsamples:\n"
    );
    for index in 0..count {
        let at = start + jiff::SignedDuration::from_secs(30 * index as i64);
        let (cpu, memory) = sample(index);
        out.push_str(&format!("- {{at: \"{at}\", cpu: \"{cpu}\", memory: \"{memory}\"}}\n"));
    }
    out
}

/// A Deployment with its ReplicaSet and running, ready pods, all with `containers` (a YAML
/// flow list such as `[{name: api, resources: {limits: {memory: 2Gi}}}]`).
pub(crate) fn deployment(namespace: &str, name: &str, pods: &[&str], containers: &str) -> String {
    let mut out = format!(
        r#"
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}, uid: {name}-uid}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: {containers}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: {name}-rs
  namespace: {namespace}
  uid: {name}-rs-uid
  ownerReferences: [{{kind: Deployment, name: {name}, uid: {name}-uid, controller: true}}]
spec: {{template: {{spec: {{containers: {containers}}}}}}}
"#,
        replicas = pods.len()
    );
    for pod in pods {
        out.push_str(&format!(
            r#"
---
apiVersion: v1
kind: Pod
metadata:
  name: {pod}
  namespace: {namespace}
  labels: {{app: {name}}}
  ownerReferences: [{{kind: ReplicaSet, name: {name}-rs, uid: {name}-rs-uid, controller: true}}]
spec: {{nodeName: node-1, containers: {containers}}}
status:
  phase: Running
  conditions: [{{type: Ready, status: "True", lastTransitionTime: "2025-06-01T10:00:00Z"}}]
"#
        ));
    }
    out
}

/// A `KubeletStats` document: `summary` as node `node`'s kubelet returned it (JSON is YAML).
pub(crate) fn kubelet_stats(node: &str, summary: &serde_json::Value) -> String {
    format!("\n---\nkind: KubeletStats\nnode: {node}\nsummary: {summary}\n")
}
