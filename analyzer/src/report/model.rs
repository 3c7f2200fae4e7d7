//! The report's view-model: everything the HTML and Markdown templates show, already in the
//! shape they show it, built from the cluster model and the engine's analysis.
//!
//! Templates never see bundle types: what reaches them is plain strings, numbers and lists, so
//! the templates stay declarative and a change of the model does not silently change a report.
//! Nothing here reads the clock: the same bundle gives the same view-model.

use std::collections::BTreeSet;

use kubesnap_shared::model::ClusterModel;
use serde::Serialize;

use crate::diagnostics;
use crate::engine::Analysis;
use crate::facts::Facts;
use crate::finding::{Evidence, Finding, Severity};
use crate::incident::Incident;
use crate::incident::view::IncidentView;
use crate::report::charts::{self, Chart};
use crate::report::performance::{self, PerformanceView};
use crate::report::rollup::{self, Policy, Rollup};

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    pub(crate) title: String,
    /// `kubesnap-analyze 0.1.0`.
    pub(crate) tool: String,
    pub(crate) bundle: BundleView,
    /// The most severe finding's severity (`P0`), or `none`.
    pub(crate) overall: String,
    /// `critical`, ..., or `no findings`.
    pub(crate) overall_label: String,
    pub(crate) counts: Vec<CountView>,
    pub(crate) total: usize,
    pub(crate) diagnostics_run: usize,
    /// The findings in order, each on its own or rolled up with its siblings.
    pub(crate) entries: Vec<Entry>,
    /// Set when findings are rolled up: how many, and the rule.
    pub(crate) rollup_note: Option<String>,
    /// Filter choices: the categories and namespaces findings have, sorted.
    pub(crate) categories: Vec<String>,
    pub(crate) namespaces: Vec<String>,
    /// "What this bundle does not show".
    pub(crate) not_shown: NotShown,
    pub(crate) charts: Vec<Chart>,
    /// Set when more series exist than the report draws.
    pub(crate) charts_note: Option<String>,
    /// The incident summary (impact, blast radius, timeline, root causes), built by
    /// `crate::incident`; `None` only for reports built without it.
    pub(crate) incident: Option<IncidentView>,
    /// The per-container statistics and top consumers; `None` without metric samples.
    pub(crate) performance: Option<PerformanceView>,
    /// The rollups as `findings.json` writes them (by finding index); the templates read `entries`.
    #[serde(skip)]
    pub(crate) rollups: Vec<Rollup>,
    #[serde(skip)]
    pub(crate) rollup_policy: Policy,
}

/// One entry of the findings list: a finding, or the rollup of several minor ones.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub(crate) enum Entry {
    Finding(FindingView),
    Rollup(RollupView),
}

/// P2/P3 findings of one code in one namespace (see `report::rollup`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RollupView {
    /// `r-1`, ...: an anchor.
    pub(crate) id: String,
    /// The worst member's.
    pub(crate) severity: &'static str,
    pub(crate) severity_label: &'static str,
    /// Members per severity, most severe first.
    pub(crate) counts: Vec<SeverityCount>,
    pub(crate) code: &'static str,
    pub(crate) category: &'static str,
    /// Empty for cluster-scoped findings.
    pub(crate) namespace: String,
    pub(crate) count: usize,
    /// The diagnostic's title and general fix, from the registry (empty for the engine's own).
    pub(crate) title: String,
    pub(crate) fix: String,
    /// The first few members (the Markdown lists only these).
    pub(crate) examples: Vec<MemberView>,
    /// Members beyond `examples`.
    pub(crate) more: usize,
    pub(crate) members: Vec<MemberView>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct SeverityCount {
    pub(crate) severity: &'static str,
    pub(crate) count: usize,
}

/// A rolled-up finding: its anchor (the one it would have had alone), severity and title.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct MemberView {
    pub(crate) id: String,
    pub(crate) severity: &'static str,
    pub(crate) title: String,
    /// The first object, when the title may not name it.
    pub(crate) object: String,
}

/// Members a rollup shows before "and N more".
const ROLLUP_EXAMPLES: usize = 3;

/// What the bundle is.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BundleView {
    pub(crate) name: String,
    /// `kubesnap bundle`, `OpenShift must-gather`, ...
    pub(crate) format: String,
    pub(crate) captured_at: Option<String>,
    pub(crate) cluster_version: Option<String>,
    pub(crate) context: Option<String>,
    pub(crate) collector: Option<String>,
    /// `None` for foreign bundles, which do not say.
    pub(crate) complete: Option<bool>,
    pub(crate) objects: usize,
    pub(crate) pods: usize,
    pub(crate) events: usize,
    pub(crate) logs: usize,
    pub(crate) metric_series: usize,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct CountView {
    pub(crate) severity: &'static str,
    pub(crate) label: &'static str,
    pub(crate) meaning: &'static str,
    pub(crate) count: usize,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct FindingView {
    /// `f-1`, ...: an anchor.
    pub(crate) id: String,
    pub(crate) severity: &'static str,
    pub(crate) severity_label: &'static str,
    pub(crate) code: &'static str,
    pub(crate) category: &'static str,
    pub(crate) title: String,
    /// `ongoing` or `resolved`: a resolved finding is shown as history.
    pub(crate) status: &'static str,
    /// Empty for cluster-scoped findings.
    pub(crate) namespace: String,
    pub(crate) objects: Vec<String>,
    pub(crate) evidence: Vec<EvidenceView>,
    pub(crate) explanation: String,
    pub(crate) remediation: Vec<String>,
}

/// One piece of evidence, flattened for display.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct EvidenceView {
    /// `field`, `event`, `log`, `metric`, `note`.
    pub(crate) kind: &'static str,
    /// Where it comes from (`Pod/shop/api-1 /status/...`, `logs/...:41`).
    pub(crate) label: String,
    /// What it says.
    pub(crate) text: String,
    /// Times and counts, when there are any.
    pub(crate) meta: String,
}

/// Everything the reader should know was not seen.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct NotShown {
    pub(crate) incomplete: Vec<String>,
    pub(crate) gaps: Vec<Line>,
    pub(crate) failures: Vec<Line>,
    pub(crate) read_problems: Vec<String>,
    pub(crate) truncated_logs: Vec<String>,
    pub(crate) skipped: Vec<Line>,
    /// Nothing at all is missing.
    pub(crate) empty: bool,
}

/// A two-part line: what, and why.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Line {
    pub(crate) what: String,
    pub(crate) why: String,
}

/// How many truncated logs the report names one by one.
const TRUNCATED_LOGS_LISTED: usize = 20;

impl Report {
    pub(crate) fn build(
        facts: &Facts<'_>,
        analysis: &Analysis,
        incident: &Incident,
        bundle_name: &str,
        policy: Policy,
    ) -> Report {
        let overall = analysis.findings.iter().map(|finding| finding.severity).min();
        let counts = Severity::ALL
            .iter()
            .map(|severity| CountView {
                severity: severity.name(),
                label: severity.label(),
                meaning: severity.meaning(),
                count: analysis.findings.iter().filter(|finding| finding.severity == *severity).count(),
            })
            .collect();
        let rollups = rollup::roll_up(&analysis.findings, policy);
        let categories: BTreeSet<String> =
            analysis.findings.iter().map(|finding| finding.category.name().to_owned()).collect();
        let namespaces: BTreeSet<String> =
            analysis.findings.iter().filter_map(|finding| finding.namespace.clone()).collect();
        let (charts, drawn_of) = charts::build(facts.cluster(), &analysis.findings);
        Report {
            title: format!("kubesnap report: {bundle_name}"),
            tool: format!("kubesnap-analyze {}", env!("CARGO_PKG_VERSION")),
            bundle: bundle_view(facts.cluster(), bundle_name),
            overall: overall.map(Severity::name).unwrap_or("none").to_owned(),
            overall_label: overall.map(Severity::label).unwrap_or("no findings").to_owned(),
            counts,
            total: analysis.findings.len(),
            diagnostics_run: analysis.ran.len(),
            entries: entries(&analysis.findings, &rollups),
            rollup_note: rollup_note(&rollups, policy),
            categories: categories.into_iter().collect(),
            namespaces: namespaces.into_iter().collect(),
            not_shown: not_shown(facts.cluster(), analysis),
            charts_note: (drawn_of > charts.len()).then(|| {
                format!(
                    "{} of {drawn_of} container series are drawn: those of findings first, then the busiest",
                    charts.len()
                )
            }),
            charts,
            incident: Some(crate::incident::view::view(incident, &analysis.findings)),
            performance: performance::build(facts),
            rollups,
            rollup_policy: policy,
        }
    }
}

/// The findings list: each finding in order, except that a rollup stands where its first
/// (most severe) member would, and its other members are not listed again.
fn entries(findings: &[Finding], rollups: &[Rollup]) -> Vec<Entry> {
    let mut rolled_into: Vec<Option<usize>> = vec![None; findings.len()];
    for (at, rollup) in rollups.iter().enumerate() {
        for index in &rollup.findings {
            if let Some(slot) = rolled_into.get_mut(*index) {
                *slot = Some(at);
            }
        }
    }
    let mut entries = Vec::with_capacity(findings.len());
    for (index, finding) in findings.iter().enumerate() {
        match rolled_into[index].and_then(|at| Some((at, rollups.get(at)?))) {
            None => entries.push(Entry::Finding(finding_view(index, finding))),
            Some((at, rollup)) if rollup.findings.first() == Some(&index) => {
                entries.push(Entry::Rollup(rollup_view(at, rollup, findings)));
            }
            Some(_) => {}
        }
    }
    entries
}

fn rollup_view(at: usize, rollup: &Rollup, findings: &[Finding]) -> RollupView {
    let diagnostic = diagnostics::registry().find(|diagnostic| diagnostic.code == rollup.code);
    let members: Vec<MemberView> = rollup
        .findings
        .iter()
        .filter_map(|index| {
            let finding = findings.get(*index)?;
            Some(MemberView {
                id: finding_id(*index),
                severity: finding.severity.name(),
                title: finding.title.clone(),
                object: finding.objects.first().map(ToString::to_string).unwrap_or_default(),
            })
        })
        .collect();
    RollupView {
        id: format!("r-{}", at + 1),
        severity: rollup.severity.name(),
        severity_label: rollup.severity.label(),
        counts: Severity::ALL
            .iter()
            .filter_map(|severity| {
                let count = rollup.counts.get(severity.name()).copied()?;
                Some(SeverityCount { severity: severity.name(), count })
            })
            .collect(),
        code: rollup.code,
        category: rollup.category.name(),
        namespace: rollup.namespace.clone().unwrap_or_default(),
        count: rollup.count,
        title: diagnostic.map(|diagnostic| diagnostic.title.to_owned()).unwrap_or_default(),
        fix: diagnostic.map(|diagnostic| diagnostic.fix.to_owned()).unwrap_or_default(),
        examples: members.iter().take(ROLLUP_EXAMPLES).cloned().collect(),
        more: members.len().saturating_sub(ROLLUP_EXAMPLES),
        members,
    }
}

/// `1,204 P2/P3 findings are rolled up into 37 entries (...)`, or `None` without rollups.
fn rollup_note(rollups: &[Rollup], policy: Policy) -> Option<String> {
    if rollups.is_empty() {
        return None;
    }
    let findings: usize = rollups.iter().map(|rollup| rollup.count).sum();
    Some(format!(
        "{findings} P2/P3 findings are rolled up into {} entries: more than {} of one diagnostic in one \
         namespace, or more than {} of it in the bundle. P0 and P1 findings are never rolled up; \
         findings.json lists every finding",
        rollups.len(),
        policy.per_namespace,
        policy.per_code
    ))
}

fn bundle_view(model: &ClusterModel, name: &str) -> BundleView {
    let manifest = model.manifest.as_ref();
    BundleView {
        name: name.to_owned(),
        format: model.format.map(|format| format.name()).unwrap_or("unknown format").to_owned(),
        captured_at: model.captured_at.map(|at| at.to_string()),
        cluster_version: model
            .server_version
            .clone()
            .or_else(|| manifest.and_then(|m| m.cluster.version.clone())),
        context: manifest.and_then(|m| m.cluster.context.clone()),
        collector: manifest.map(|m| format!("{} {}", m.tool.name, m.tool.version)),
        complete: manifest.map(|m| m.complete),
        objects: model.objects.len(),
        pods: model.of_kind("Pod").count(),
        events: model.events.len(),
        logs: model.logs.len(),
        metric_series: model.pod_metrics.len(),
    }
}

/// A finding's anchor, `f-{index + 1}`, as the incident summary links it.
fn finding_id(index: usize) -> String {
    format!("f-{}", index + 1)
}

fn finding_view(index: usize, finding: &Finding) -> FindingView {
    FindingView {
        id: finding_id(index),
        severity: finding.severity.name(),
        severity_label: finding.severity.label(),
        code: finding.code,
        category: finding.category.name(),
        title: finding.title.clone(),
        status: finding.status.name(),
        namespace: finding.namespace.clone().unwrap_or_default(),
        objects: finding.objects.iter().map(ToString::to_string).collect(),
        evidence: finding.evidence.iter().map(evidence_view).collect(),
        explanation: finding.explanation.clone(),
        remediation: finding.remediation.clone(),
    }
}

fn evidence_view(evidence: &Evidence) -> EvidenceView {
    match evidence {
        Evidence::Field { object, path, value } => EvidenceView {
            kind: "field",
            label: format!("{object} {path}"),
            text: value.clone(),
            meta: String::new(),
        },
        Evidence::Event { object, kind, reason, message, count, first_seen, last_seen, source } => {
            let mut meta = vec![format!("{count}×")];
            if let Some(first) = first_seen {
                meta.push(format!("first {first}"));
            }
            if let Some(last) = last_seen {
                meta.push(format!("last {last}"));
            }
            if !source.is_empty() {
                meta.push(format!("from {source}"));
            }
            EvidenceView {
                kind: "event",
                label: format!("{kind} {reason} on {object}"),
                text: message.clone(),
                meta: meta.join(", "),
            }
        }
        Evidence::LogLine { path, line, text, timestamp } => EvidenceView {
            kind: "log",
            label: format!("{path}:{line}"),
            text: text.clone(),
            meta: timestamp.map(|at| at.to_string()).unwrap_or_default(),
        },
        Evidence::Metric { series, statistic, value, unit } => EvidenceView {
            kind: "metric",
            label: series.clone(),
            text: format!("{statistic} = {value} {unit}"),
            meta: String::new(),
        },
        Evidence::Note { text } => {
            EvidenceView { kind: "note", label: String::new(), text: text.clone(), meta: String::new() }
        }
    }
}

fn not_shown(model: &ClusterModel, analysis: &Analysis) -> NotShown {
    let mut not_shown = NotShown {
        incomplete: model.manifest.as_ref().map(|m| m.incomplete_reasons.clone()).unwrap_or_default(),
        gaps: model.gaps.iter().map(|gap| Line { what: gap.what.clone(), why: gap.why.clone() }).collect(),
        failures: model
            .failures
            .iter()
            .map(|failure| {
                let namespace = failure.namespace.as_ref().map(|ns| format!(" in {ns}")).unwrap_or_default();
                let status = failure.status.map(|status| format!(" ({status})")).unwrap_or_default();
                Line {
                    what: format!("{} {}{namespace}", failure.what, failure.scope),
                    why: format!("{}{status}", failure.message),
                }
            })
            .collect(),
        read_problems: model.read_problems.iter().map(ToString::to_string).collect(),
        truncated_logs: Vec::new(),
        skipped: analysis
            .skipped
            .iter()
            .map(|skipped| Line { what: skipped.code.to_owned(), why: skipped.reason.clone() })
            .collect(),
        empty: false,
    };
    let truncated: Vec<&str> =
        model.logs.iter().filter(|log| log.truncated).map(|log| log.path.as_str()).collect();
    not_shown.truncated_logs =
        truncated.iter().take(TRUNCATED_LOGS_LISTED).map(|path| (*path).to_owned()).collect();
    if truncated.len() > TRUNCATED_LOGS_LISTED {
        not_shown.truncated_logs.push(format!("and {} more", truncated.len() - TRUNCATED_LOGS_LISTED));
    }
    not_shown.empty = not_shown.incomplete.is_empty()
        && not_shown.gaps.is_empty()
        && not_shown.failures.is_empty()
        && not_shown.read_problems.is_empty()
        && not_shown.truncated_logs.is_empty()
        && not_shown.skipped.is_empty();
    not_shown
}
