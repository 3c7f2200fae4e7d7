//! `findings.json`: the machine-readable report, serialized from the finding types as they are.
//! `docs/findings-schema.md` documents every field; a change there is a change here.

use kubesnap_shared::manifest::Failure;
use kubesnap_shared::model::{ClusterModel, Gap};
use serde::Serialize;

use crate::engine::{Analysis, Skipped};
use crate::finding::{Finding, Severity};
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
        skipped: &analysis.skipped,
        gaps: &model.gaps,
        failures: &model.failures,
        read_problems: &model.read_problems,
    };
    let mut text = serde_json::to_string_pretty(&document)?;
    text.push('\n');
    Ok(text)
}
