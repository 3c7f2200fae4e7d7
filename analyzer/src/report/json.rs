//! `findings.json`: the machine-readable report, serialized from the finding types as they are.
//! `docs/findings-schema.md` documents every field; a change there is a change here.

use kubesnap_shared::manifest::Failure;
use kubesnap_shared::model::{ClusterModel, Gap};
use serde::Serialize;

use crate::engine::{Analysis, Skipped};
use crate::finding::{Finding, Severity};
use crate::incident::Incident;
use crate::report::model::BundleView;

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
    /// The incident summary (see `docs/findings-schema.md`).
    incident: Incident,
    skipped: &'a [Skipped],
    gaps: &'a [Gap],
    failures: &'a [Failure],
    read_problems: &'a [String],
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
    model: &ClusterModel,
    analysis: &Analysis,
    incident: &Incident,
    bundle: &BundleView,
) -> Result<String, serde_json::Error> {
    let document = Document {
        schema_version: SCHEMA_VERSION,
        tool: Tool { name: "kubesnap-analyze", version: env!("CARGO_PKG_VERSION") },
        bundle,
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
        incident: incident.clone(),
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

    use super::*;
    use crate::finding::Evidence;

    /// Every evidence type the code can write is documented in docs/findings-schema.md.
    #[test]
    fn every_evidence_type_is_documented() {
        let doc = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/findings-schema.md"),
        )
        .unwrap();
        let object = ObjectRef { kind: "Pod".into(), namespace: None, name: "p".into() };
        let samples = [
            Evidence::field(object.clone(), "/a", &serde_json::Value::Null),
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
