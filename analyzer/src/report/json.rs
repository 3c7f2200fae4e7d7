//! `findings.json`: the machine-readable report, serialized from the finding types as they are.
//! `docs/findings-schema.md` documents every field; a change there is a change here.

use kubesnap_shared::manifest::Failure;
use kubesnap_shared::model::Gap;
use serde::Serialize;

use crate::diagnostics::Model;
use crate::diagnostics::performance::usage::{self, ContainerStats, TopConsumers};
use crate::engine::{Analysis, Skipped};
use crate::finding::{Finding, Severity};
use crate::incident::Incident;
use crate::report::model::{BundleView, Report};
use crate::report::performance::TOP_CONSUMERS;
use crate::report::rollup::{Policy, Rollup};

/// The version of the `findings.json` schema; bumped on any change a consumer could notice
/// (a field renamed or removed, a new variant of a tagged enum).
pub(crate) const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    bundle: &'a BundleView,
    summary: Summary,
    findings: &'a [Finding],
    /// How the reports group minor findings; `findings` still holds each of them.
    rollups: Rollups<'a>,
    /// The incident summary (see `docs/findings-schema.md`).
    incident: Incident,
    /// Every container's usage statistics and the top consumers.
    performance: Performance,
    skipped: &'a [Skipped],
    gaps: &'a [Gap],
    failures: &'a [Failure],
    read_problems: &'a [String],
}

#[derive(Debug, Serialize)]
struct Rollups<'a> {
    policy: Policy,
    groups: &'a [Rollup],
}

#[derive(Debug, Serialize)]
struct Performance {
    containers: Vec<ContainerStats>,
    top_consumers: TopConsumers,
}

#[derive(Debug, Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Debug, Serialize)]
struct Summary {
    /// The most severe finding's severity, `null` without findings.
    overall: Option<Severity>,
    /// Findings per severity, every severity present.
    counts: std::collections::BTreeMap<&'static str, usize>,
    findings: usize,
    diagnostics_run: usize,
    diagnostics_skipped: usize,
}

/// The JSON document, pretty-printed, ending with a newline.
pub(crate) fn render(
    model: &Model<'_>,
    analysis: &Analysis,
    incident: &Incident,
    report: &Report,
) -> Result<String, serde_json::Error> {
    let document = Document {
        schema_version: SCHEMA_VERSION,
        tool: Tool { name: "kubesnap-analyze", version: env!("CARGO_PKG_VERSION") },
        bundle: &report.bundle,
        summary: Summary {
            overall: analysis.findings.iter().map(|finding| finding.severity).min(),
            counts: Severity::ALL
                .iter()
                .map(|severity| {
                    (
                        severity.name(),
                        analysis.findings.iter().filter(|finding| finding.severity == *severity).count(),
                    )
                })
                .collect(),
            findings: analysis.findings.len(),
            diagnostics_run: analysis.ran.len(),
            diagnostics_skipped: analysis.skipped.len(),
        },
        findings: &analysis.findings,
        rollups: Rollups { policy: report.rollup_policy, groups: &report.rollups },
        incident: incident.clone(),
        performance: Performance {
            containers: usage::container_stats(model),
            top_consumers: usage::top_consumers(model, TOP_CONSUMERS),
        },
        skipped: &analysis.skipped,
        gaps: &model.gaps,
        failures: &model.failures,
        read_problems: &model.read_problems,
    };
    let mut text = serde_json::to_string_pretty(&document)?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use kubesnap_shared::model::ObjectRef;
    use serde_json::Value;

    use super::*;
    use crate::diagnostics::testing::model_from_yaml;
    use crate::finding::{Category, Evidence};

    fn schema_doc() -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/findings-schema.md"),
        )
        .unwrap()
    }

    /// Every top-level field is in the schema's table, and the rollups and statistics the
    /// reports show are in the document with every finding still listed.
    #[test]
    fn every_top_level_field_is_documented_and_rollups_keep_every_finding() {
        let cluster = model_from_yaml(
            r#"
kind: MetricSeries
namespace: shop
pod: web
container: web
samples:
- {at: "2025-06-01T11:50:00Z", cpu: 40m, memory: 90Mi}
- {at: "2025-06-01T11:52:00Z", cpu: 300m, memory: 110Mi}
"#,
        );
        let model = Model::new(&cluster);
        let pod =
            |name: &str| ObjectRef { kind: "Pod".into(), namespace: Some("shop".into()), name: name.into() };
        let findings = vec![
            Finding::new("crash-loop-backoff", Category::Pods, Severity::P0, "a down").object(pod("a")),
            Finding::new("crash-loop-backoff", Category::Pods, Severity::P0, "b down").object(pod("b")),
            Finding::new("no-limits", Category::Performance, Severity::P3, "c").object(pod("c")),
            Finding::new("no-limits", Category::Performance, Severity::P3, "d").object(pod("d")),
        ];
        let analysis =
            Analysis { findings, skipped: Vec::new(), ran: vec!["crash-loop-backoff", "no-limits"] };
        let incident = crate::incident::build(&model, &analysis.findings);
        let report = Report::build(&model, &analysis, &incident, "test", Policy::with_threshold(1));
        let json: Value =
            serde_json::from_str(&render(&model, &analysis, &incident, &report).unwrap()).unwrap();
        let doc = schema_doc();
        for key in json.as_object().unwrap().keys() {
            assert!(
                doc.contains(&format!("| `{key}` |")),
                "top-level `{key}` is not in docs/findings-schema.md"
            );
        }
        assert_eq!(json["findings"].as_array().map(Vec::len), Some(4), "rolled-up findings stay listed");
        assert_eq!(json["rollups"]["policy"], serde_json::json!({"per_namespace": 1, "per_code": 10}));
        let groups = json["rollups"]["groups"].as_array().unwrap();
        assert_eq!(groups.len(), 1, "the P0 pair is never rolled up: {groups:?}");
        assert_eq!(groups[0]["findings"], serde_json::json!([2, 3]));
        assert_eq!(groups[0]["counts"], serde_json::json!({"P3": 2}));
        let container = &json["performance"]["containers"][0];
        assert_eq!(container["container"], "web");
        assert_eq!(container["cpu_millicores"]["p95"], 287.0);
        assert_eq!(json["performance"]["top_consumers"]["memory"][0]["pod"], "web");
    }

    /// Every evidence type the code can write is documented in docs/findings-schema.md.
    #[test]
    fn every_evidence_type_is_documented() {
        let doc = schema_doc();
        let object = ObjectRef { kind: "Pod".into(), namespace: None, name: "p".into() };
        let samples = [
            Evidence::field(object.clone(), "/a", &kubesnap_shared::json::Value::Null),
            Evidence::Event {
                object,
                kind: "Warning".into(),
                reason: "r".into(),
                message: "m".into(),
                count: 1,
                first_seen: None,
                last_seen: None,
                source: "s".into(),
            },
            Evidence::LogLine { path: "p".into(), line: 1, text: "t".into(), timestamp: None },
            Evidence::Metric { series: "s".into(), statistic: "max".into(), value: 1.0, unit: "MiB".into() },
            Evidence::note("n"),
        ];
        for evidence in samples {
            let json = serde_json::to_value(&evidence).unwrap();
            let tag = json["type"].as_str().unwrap();
            assert!(
                doc.contains(&format!("| `{tag}` |")),
                "evidence type `{tag}` is not in docs/findings-schema.md"
            );
            for key in json.as_object().unwrap().keys().filter(|key| *key != "type") {
                assert!(
                    doc.contains(&format!("`{key}`")),
                    "evidence field `{key}` of `{tag}` is not documented"
                );
            }
        }
        assert!(doc.contains(&format!("`schema_version` is `{SCHEMA_VERSION}`")));
    }
}
