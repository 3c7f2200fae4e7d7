//! The incident summary the report opens with, after the incident response playbook:
//! the overall severity with its meaning and response times, the impact (Services and
//! Ingresses without a healthy backend, workloads down, namespaces affected), the blast radius
//! of each failing workload, pod or node, a merged timeline, the three most likely root causes
//! with the evidence that links them, and the mitigation commands that fit them.
//!
//! [`build`] is a pure function of the model and the findings, like a diagnostic: no I/O, no
//! clock, and the same input always gives the same summary. It reads findings by their codes
//! and objects, so a diagnostic that is skipped or missing weakens a hypothesis instead of
//! breaking it.

mod blast;
mod causes;
mod impact;
pub(crate) mod links;
mod timeline;
pub(crate) mod view;

use kubesnap_shared::model::ObjectRef;
use serde::Serialize;

use crate::facts::Facts;
use crate::facts::logs::patterns::pods_with_most_errors;
use crate::finding::{Finding, Severity};

pub(crate) use blast::BlastRadius;
pub(crate) use causes::Hypothesis;
pub(crate) use impact::Impact;
pub(crate) use timeline::Timeline;

/// How many pods `K8sLogAnalyzer`'s "Pods with Most Errors" section lists.
const TOP_ERROR_PODS: usize = 5;
/// Commands in the summary's mitigation list, from the top hypotheses.
const MITIGATION_COMMANDS: usize = 8;

/// The incident summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Incident {
    /// The most severe finding's severity; `None` without findings.
    pub(crate) severity: Option<Severity>,
    /// The playbook's meaning and response times for that severity.
    pub(crate) response: Option<Response>,
    /// One sentence: severity, what is down, the most likely cause.
    pub(crate) headline: String,
    pub(crate) impact: Impact,
    pub(crate) blast_radius: BlastRadius,
    pub(crate) timeline: Timeline,
    /// The most likely root causes, most likely first (at most three).
    pub(crate) root_causes: Vec<Hypothesis>,
    /// The first commands of the top hypotheses, in their order, once each.
    pub(crate) mitigation: Vec<String>,
    /// `K8sLogAnalyzer`'s "Pods with Most Errors": error-family log lines per pod (or node), top five.
    pub(crate) pods_with_most_errors: Vec<PodErrors>,
}

/// The playbook's classification and response-time SLA of a severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Response {
    pub(crate) label: &'static str,
    pub(crate) meaning: &'static str,
    pub(crate) acknowledge: &'static str,
    pub(crate) initial_response: &'static str,
}

impl Response {
    /// The playbook's "Response Time SLAs".
    pub(crate) fn of(severity: Severity) -> Response {
        let (acknowledge, initial_response) = match severity {
            Severity::P0 => ("15 minutes", "1 hour"),
            Severity::P1 => ("30 minutes", "2 hours"),
            Severity::P2 => ("2 hours", "8 hours"),
            Severity::P3 => ("1 business day", "5 business days"),
        };
        Response { label: severity.label(), meaning: severity.meaning(), acknowledge, initial_response }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct PodErrors {
    pub(crate) object: ObjectRef,
    pub(crate) errors: u64,
}

/// The incident summary of a model and its findings (in report order).
pub(crate) fn build(facts: &Facts<'_>, findings: &[Finding]) -> Incident {
    let severity = findings.iter().map(|finding| finding.severity).min();
    let severities = links::severities(findings);
    // The steps read the facts and the findings, not each other: the root causes (the longest,
    // its rules side by side too) run beside the rest.
    let ((mut impact, blast_radius), (timeline, mut root_causes)) = rayon::join(
        || {
            rayon::join(
                || timed("impact", || impact::assess(facts, findings)),
                || timed("blast radius", || blast::trace(facts, findings)),
            )
        },
        || {
            rayon::join(
                || timed("timeline", || timeline::build(facts.cluster(), &severities)),
                || timed("root causes", || causes::rank(facts, findings)),
            )
        },
    );
    if !facts.cluster().text_fields.is_empty() {
        // Objects read from kubectl text have no labels, probes or conditions: which Service
        // has a ready backend, and what a pod's readiness says of a cause, cannot be known.
        impact.services.clear();
        impact.ingresses.clear();
        root_causes.clear();
    }
    let mut mitigation: Vec<String> = Vec::new();
    for command in root_causes.iter().flat_map(|hypothesis| hypothesis.mitigation.iter().take(3)) {
        if mitigation.len() < MITIGATION_COMMANDS && !mitigation.contains(command) {
            mitigation.push(command.clone());
        }
    }
    let pods_with_most_errors =
        timed("pods with most errors", || pods_with_most_errors(facts.cluster(), TOP_ERROR_PODS))
            .into_iter()
            .map(|(object, errors)| PodErrors { object, errors })
            .collect();
    let headline = match kubesnap_shared::import::shortfall(facts.cluster()) {
        Some(why) => not_analyzed(&why),
        None => headline(severity, findings, &impact, &blast_radius, &root_causes),
    };
    Incident {
        severity,
        response: severity.map(Response::of),
        headline,
        impact,
        blast_radius,
        timeline,
        root_causes,
        mitigation,
        pods_with_most_errors,
    }
}

/// Runs one step of the summary; `-vv` shows where its time goes.
pub(crate) fn timed<T>(step: &str, run: impl FnOnce() -> T) -> T {
    let started = std::time::Instant::now();
    let out = run();
    tracing::debug!(step, elapsed = ?started.elapsed(), "incident step");
    out
}

/// The headline of a bundle too empty to analyze: no finding must not read as healthy.
pub(crate) fn not_analyzed(why: &str) -> String {
    format!("Not analyzed: {why}. No finding here means nothing was seen, not a healthy cluster.")
}

/// One sentence: the severity of the worst finding, what is down (only what is: a count of
/// zero beside a P0 would contradict it; with nothing down, the worst finding itself), and the
/// most likely cause. When that cause is less severe than the headline, the most severe of the
/// kept causes is named too, so the severity always has its evidence in the sentence.
fn headline(
    severity: Option<Severity>,
    findings: &[Finding],
    impact: &Impact,
    blast: &BlastRadius,
    causes: &[Hypothesis],
) -> String {
    let Some(severity) = severity else {
        return "No incident: no diagnostic found a problem in this bundle.".to_owned();
    };
    let plural =
        |count: usize, one: &str, many: &str| format!("{count} {}", if count == 1 { one } else { many });
    let mut parts = Vec::new();
    if !impact.workloads_down.is_empty() {
        parts.push(plural(impact.workloads_down.len(), "workload down", "workloads down"));
    }
    let unserved = impact.services.len() + impact.ingresses.len();
    if unserved > 0 {
        parts.push(format!(
            "{} without a healthy backend",
            plural(unserved, "Service or Ingress", "Services and Ingresses")
        ));
    }
    if !blast.entry_points.is_empty() {
        parts.push(plural(
            blast.entry_points.len(),
            "user-facing entry point affected",
            "user-facing entry points affected",
        ));
    }
    if parts.is_empty() {
        // Nothing down: what the severity stands for is the worst finding itself, a failure
        // before a risk of the same severity.
        let worst = findings
            .iter()
            .filter(|finding| finding.severity == severity)
            .min_by_key(|finding| (finding.is_latent_risk(), finding.sort_key()));
        match worst {
            Some(worst) if severity <= Severity::P2 => parts.push(worst.title.clone()),
            _ => parts.push("nothing down, advisories only".to_owned()),
        }
    }
    if !impact.namespaces.is_empty() {
        parts.push(plural(impact.namespaces.len(), "namespace affected", "namespaces affected"));
    }
    let mut text = format!("{severity} ({}): {}.", severity.label(), parts.join(", "));
    if let Some(first) = causes.first() {
        if parts.first() == Some(&first.title) {
            // The worst finding is the most likely cause: said once.
            text.push_str(" It is the most likely cause.");
        } else {
            text.push_str(&format!(" Most likely cause: {}.", first.title));
        }
        let most_severe = causes.iter().min_by_key(|cause| (cause.severity, cause.rank));
        if let Some(most_severe) = most_severe.filter(|cause| cause.severity < first.severity) {
            text.push_str(&format!(" Most severe ({}): {}.", most_severe.severity, most_severe.title));
        }
    }
    text
}

#[cfg(test)]
mod tests;
