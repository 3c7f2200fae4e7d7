//! Fixtures for the performance and alert tests: the shared `check` helper's YAML plus two
//! pseudo-kinds it does not know yet, node metric series and kubelet stats.
//!
//! ```yaml
//! kind: NodeSeries            # one node's samples
//! node: node-1
//! samples: [{at: "2025-06-01T11:55:00Z", cpu: 3500m, memory: 14Gi}]
//! ---
//! kind: KubeletStats          # one node's /stats/summary, as the kubelet returns it
//! node: node-1
//! summary: {pods: [...]}
//! ```

use expect_test::Expect;
use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, MetricSample, NodeSeries};
use kubesnap_shared::quantity;

use crate::diagnostics::Diagnostic;
use crate::diagnostics::testing::{model_from_yaml, render};

/// Builds a finished model from a fixture with the extra pseudo-kinds.
pub(crate) fn model(fixture: &str) -> ClusterModel {
    let mut rest = String::new();
    let mut nodes = Vec::new();
    let mut stats = Vec::new();
    for value in kubesnap_shared::yaml::documents::<Value>(fixture.as_bytes()).unwrap() {
        match value.get("kind").and_then(Value::as_str) {
            Some("NodeSeries") => nodes.push(node_series(&value)),
            Some("KubeletStats") => stats.push((
                value["node"].as_str().unwrap().to_owned(),
                value.get("summary").cloned().unwrap_or(Value::Null),
            )),
            _ if value.is_null() => {}
            _ => {
                // JSON is YAML: the other documents go on as they were read.
                rest.push_str("---\n");
                rest.push_str(&value.to_string());
                rest.push('\n');
            }
        }
    }
    let mut model = model_from_yaml(&rest);
    model.node_metrics = nodes;
    model.kubelet_stats.extend(stats);
    model.finish();
    model
}

fn node_series(value: &Value) -> NodeSeries {
    let samples = value["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sample| MetricSample {
            at: sample["at"].as_str().unwrap().parse().unwrap(),
            cpu_millicores: quantity::cpu_millicores(sample["cpu"].as_str().unwrap()).unwrap(),
            memory_bytes: quantity::bytes(sample["memory"].as_str().unwrap()).unwrap(),
        })
        .collect();
    NodeSeries { node: value["node"].as_str().unwrap().to_owned(), samples }
}

/// The shared helper's `check` over [`model`]: the same invariants, the same rendering.
pub(crate) fn check(diagnostic: &Diagnostic, fixture: &str, expect: Expect) {
    check_model(diagnostic, &model(fixture), expect);
}

/// [`check`] on a model built some other way (real data).
pub(crate) fn check_model(diagnostic: &Diagnostic, model: &ClusterModel, expect: Expect) {
    let findings = (diagnostic.run)(&crate::facts::Facts::new(model));
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
        assert!(!finding.explanation.is_empty(), "a finding explains nothing: {}", finding.title);
    }
    assert_eq!(findings, (diagnostic.run)(&crate::facts::Facts::new(model)), "two runs on one model differ");
    expect.assert_eq(&render(&findings));
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
