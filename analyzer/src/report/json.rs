//! `findings.json`: the machine-readable report, serialized from the finding types as they are.
//! `docs/findings-schema.md` documents every field; a change there is a change here.

use kubesnap_shared::manifest::Failure;
use kubesnap_shared::model::{ClusterModel, Gap};
use serde::{Serialize, Serializer};

use crate::engine::{Analysis, Skipped};
use crate::facts::Facts;
use crate::facts::logs::families::{ERRORS, EXTENSIONS, WARNINGS};
use crate::facts::performance::usage::{self, ContainerStats, TopConsumers};
use crate::finding::{Finding, Severity};
use crate::incident::Incident;
use crate::report::model::{BundleView, Report};
use crate::report::performance::TOP_CONSUMERS;
use crate::report::rollup::{Policy, Rollup};

/// The version of the `findings.json` schema; bumped on any change a consumer could notice
/// (a field renamed or removed, a new variant of a tagged enum).
pub(crate) const SCHEMA_VERSION: u32 = 2;

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
    /// The log scan's totals per pattern family, to compare with `K8sLogAnalyzer`'s own analysis.
    log_families: LogFamilies,
    skipped: &'a [Skipped],
    gaps: &'a [Gap],
    failures: &'a [Failure],
    read_problems: Vec<String>,
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

/// The hits of every pattern family summed over every scanned log. `K8sLogAnalyzer`'s families are
/// kept apart from kubesnap's extensions so that `core` compares one to one with `K8sLogAnalyzer`'s
/// `analyze_error_patterns` (`bench/reference_log_analyzer.py`).
#[derive(Debug, PartialEq, Serialize)]
struct LogFamilies {
    logs: usize,
    lines: u64,
    /// The ten core error families, then its five warning families, in `K8sLogAnalyzer`'s order.
    core: Counts,
    /// kubesnap's extension families (a line counts there only when the core family it completes
    /// misses it).
    extensions: Counts,
}

/// Counts per family code, serialized as a JSON object in the order given: `K8sLogAnalyzer`'s order
/// reads better than the alphabet, and a struct cannot name codes held in a table.
#[derive(Debug, PartialEq)]
struct Counts(Vec<(&'static str, u64)>);

impl Serialize for Counts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(code, count)| (code, count)))
    }
}

impl LogFamilies {
    fn of(model: &ClusterModel) -> LogFamilies {
        // The reserved `ERROR_LEVEL` key is no family: reading only the tables' codes leaves it out.
        let total = |code: &'static str| {
            let count =
                model.logs.iter().filter_map(|log| log.families.get(code)).map(|hits| hits.count).sum();
            (code, count)
        };
        LogFamilies {
            logs: model.logs.len(),
            lines: model.logs.iter().map(|log| log.lines).sum(),
            core: Counts(ERRORS.iter().chain(WARNINGS).map(|family| total(family.code)).collect()),
            extensions: Counts(EXTENSIONS.iter().map(|family| total(family.code)).collect()),
        }
    }
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
    facts: &Facts<'_>,
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
            containers: usage::container_stats(facts),
            top_consumers: usage::top_consumers(facts, TOP_CONSUMERS),
        },
        log_families: LogFamilies::of(facts.cluster()),
        skipped: &analysis.skipped,
        gaps: &facts.cluster().gaps,
        failures: &facts.cluster().failures,
        read_problems: facts.cluster().read_problems.iter().map(ToString::to_string).collect(),
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
    use crate::finding::{Category, Evidence};
    use crate::testing::model_from_yaml;

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
        let model = Facts::new(&cluster);
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

    /// `log_families` sums each family over every log, lists the fifteen core families in the
    /// `K8sLogAnalyzer`'s order apart from the extensions, and never counts the reserved error-level key.
    #[test]
    fn log_families_sum_every_log_in_prod_simulations_order() {
        use kubesnap_shared::model::{ERROR_LEVEL, FamilyHits};

        let mut cluster = model_from_yaml(
            r#"
kind: ContainerLog
namespace: shop
pod: api
container: api
lines: ["a", "b", "c"]
---
kind: ContainerLog
namespace: shop
pod: db
container: db
previous: true
lines: ["d", "e"]
"#,
        );
        let hits = |count| FamilyHits { count, ..FamilyHits::default() };
        for (log, counts) in cluster.logs.iter_mut().zip([
            [("timeout_error", 2), ("retry_attempt", 1), (ERROR_LEVEL, 7), ("database_client_error", 1)],
            [("timeout_error", 3), ("oom_killed", 1), (ERROR_LEVEL, 5), ("database_error", 4)],
        ]) {
            log.families = counts.iter().map(|(code, count)| ((*code).to_owned(), hits(*count))).collect();
        }
        let json = serde_json::to_value(LogFamilies::of(&cluster)).unwrap();
        assert_eq!(json["logs"], 2);
        assert_eq!(json["lines"], 5);
        let core = json["core"].as_object().unwrap();
        assert_eq!(core.len(), 15);
        let order: Vec<&str> = ERRORS.iter().chain(WARNINGS).map(|family| family.code).collect();
        // serde_json's map sorts its keys unless `preserve_order` is on: compare the text instead.
        let text = serde_json::to_string(&LogFamilies::of(&cluster).core).unwrap();
        let positions: Vec<usize> =
            order.iter().map(|code| text.find(&format!("\"{code}\"")).unwrap()).collect();
        assert!(positions.is_sorted(), "not in `K8sLogAnalyzer`'s order: {text}");
        assert_eq!(core["timeout_error"], 5);
        assert_eq!(core["oom_killed"], 1);
        assert_eq!(core["retry_attempt"], 1);
        assert_eq!(core["database_error"], 4, "the extension's hit stays apart");
        assert_eq!(core["high_cpu"], 0, "a family without hits is listed at 0");
        assert!(!text.contains(ERROR_LEVEL));
        assert_eq!(json["extensions"], serde_json::json!({"database_client_error": 1}));
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
