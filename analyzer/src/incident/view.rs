//! The incident summary as the report templates show it: plain strings and lists, finding
//! links as the report's anchors (`f-3`).

use jiff::Timestamp;
use serde::Serialize;

use super::Incident;
use super::links::{label, short};
use crate::finding::Finding;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct IncidentView {
    /// `P0`, or `none`.
    pub(crate) severity: String,
    pub(crate) label: String,
    pub(crate) meaning: String,
    /// `acknowledge within 15 minutes, first response within 1 hour`; empty without findings.
    pub(crate) response: String,
    pub(crate) headline: String,
    /// One line per Service, Ingress or workload down.
    pub(crate) impact: Vec<String>,
    /// `shop (P0, 3 findings)`.
    pub(crate) namespaces: Vec<String>,
    pub(crate) blast_radius: Vec<BlastView>,
    pub(crate) entry_points: Vec<String>,
    pub(crate) timeline: Vec<Row>,
    /// Set when entries were left out.
    pub(crate) timeline_note: Option<String>,
    pub(crate) root_causes: Vec<CauseView>,
    pub(crate) mitigation: Vec<String>,
    /// `shop/api-1: 435 error-pattern hits` (a line counts once per family it matches, as in
    /// `K8sLogAnalyzer`).
    pub(crate) pods_with_most_errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct BlastView {
    pub(crate) source: String,
    pub(crate) severity: &'static str,
    pub(crate) cause: String,
    /// `2 pods → Services shop/api (down), shop/api-internal; Ingresses shop/web`.
    pub(crate) reach: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    /// Seconds precision, UTC; `-` when unknown.
    pub(crate) at: String,
    pub(crate) kind: &'static str,
    pub(crate) object: String,
    pub(crate) text: String,
    /// `P0`.. or empty.
    pub(crate) severity: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct CauseView {
    pub(crate) rank: usize,
    pub(crate) title: String,
    pub(crate) score: u32,
    pub(crate) severity: &'static str,
    pub(crate) rule: &'static str,
    pub(crate) chain: Vec<Row>,
    pub(crate) findings: Vec<FindingLink>,
    pub(crate) evidence: Vec<String>,
    /// What would make it wrong: the facts to check before acting on it.
    pub(crate) disproved_by: Vec<String>,
    pub(crate) mitigation: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct FindingLink {
    pub(crate) id: String,
    pub(crate) severity: &'static str,
    pub(crate) title: String,
}

/// `2025-06-01T11:50:00Z`, whatever the precision of the source.
pub(crate) fn time(at: Option<Timestamp>) -> String {
    at.map(|at| at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_else(|| "-".to_owned())
}

/// The view of the incident summary of `model` and `findings` (in report order: finding `i` is
/// anchor `f-{i+1}`).
pub(crate) fn view(incident: &Incident, findings: &[Finding]) -> IncidentView {
    from_incident(incident, findings)
}

fn from_incident(incident: &Incident, findings: &[Finding]) -> IncidentView {
    let impact = &incident.impact;
    let mut lines: Vec<String> = Vec::new();
    for service in &impact.services {
        let entry = if service.entry_point { ", reachable from outside the cluster" } else { "" };
        lines.push(format!(
            "Service {} ({}{entry}) has no healthy backend: {}",
            short(&service.service),
            service.service_type,
            service.why
        ));
    }
    for ingress in &impact.ingresses {
        let how = if ingress.all_down { "no healthy backend" } else { "failing routes" };
        lines.push(format!("Ingress {} has {how}: {}", short(&ingress.ingress), ingress.routes.join("; ")));
    }
    for workload in &impact.workloads_down {
        lines.push(format!(
            "{} is down: {} of {} replicas available ({})",
            label(&workload.workload),
            workload.available,
            workload.desired,
            workload.why
        ));
    }
    let row = |at: Option<Timestamp>,
               kind: &'static str,
               object: &kubesnap_shared::model::ObjectRef,
               text: &str,
               severity: &'static str| Row {
        at: time(at),
        kind,
        object: label(object),
        text: text.to_owned(),
        severity,
    };
    let timeline = incident
        .timeline
        .entries
        .iter()
        .map(|entry| {
            row(
                Some(entry.at),
                entry.kind.name(),
                &entry.object,
                &entry.text,
                entry.severity.map_or("", |s| s.name()),
            )
        })
        .collect();
    IncidentView {
        severity: incident.severity.map_or("none", |s| s.name()).to_owned(),
        label: incident.response.map_or("no findings", |r| r.label).to_owned(),
        meaning: incident.response.map_or("", |r| r.meaning).to_owned(),
        response: incident
            .response
            .map(|r| {
                format!("acknowledge within {}, first response within {}", r.acknowledge, r.initial_response)
            })
            .unwrap_or_default(),
        headline: incident.headline.clone(),
        impact: lines,
        namespaces: impact
            .namespaces
            .iter()
            .map(|ns| match ns.findings {
                0 => format!("{} ({})", ns.namespace, ns.worst),
                1 => format!("{} ({}, 1 finding)", ns.namespace, ns.worst),
                count => format!("{} ({}, {count} findings)", ns.namespace, ns.worst),
            })
            .collect(),
        blast_radius: incident
            .blast_radius
            .sources
            .iter()
            .map(|blast| {
                let services: Vec<String> = blast
                    .services
                    .iter()
                    .map(|s| format!("{}{}", short(&s.service), if s.still_serving { "" } else { " (down)" }))
                    .collect();
                let ingresses: Vec<String> = blast.ingresses.iter().map(short).collect();
                let noun = if blast.pods == 1 { "pod" } else { "pods" };
                let mut reach = format!("{} {noun}", blast.pods);
                reach.push_str(&match services.len() {
                    0 => " → no Service selects them".to_owned(),
                    _ => format!(" → Services {}", services.join(", ")),
                });
                if !ingresses.is_empty() {
                    reach.push_str(&format!(" → Ingresses {}", ingresses.join(", ")));
                }
                if blast.entry_points > 0 {
                    reach.push_str(&format!(" ({} user-facing)", blast.entry_points));
                }
                BlastView {
                    source: label(&blast.source),
                    severity: blast.severity.name(),
                    cause: blast.cause.clone(),
                    reach,
                }
            })
            .collect(),
        entry_points: incident.blast_radius.entry_points.iter().map(label).collect(),
        timeline,
        timeline_note: (incident.timeline.omitted > 0).then(|| {
            format!(
                "{} more entries are left out: the most relevant {} are shown, and the earliest of each kind",
                incident.timeline.omitted,
                incident.timeline.entries.len()
            )
        }),
        root_causes: incident
            .root_causes
            .iter()
            .map(|cause| CauseView {
                rank: cause.rank,
                title: cause.title.clone(),
                score: cause.score,
                severity: cause.severity.name(),
                rule: cause.rule,
                chain: cause
                    .chain
                    .iter()
                    .map(|step| row(step.at, "", &step.object, &step.text, ""))
                    .collect(),
                findings: cause
                    .findings
                    .iter()
                    .filter_map(|index| {
                        let finding = findings.get(*index)?;
                        Some(FindingLink {
                            id: format!("f-{}", index + 1),
                            severity: finding.severity.name(),
                            title: finding.title.clone(),
                        })
                    })
                    .collect(),
                evidence: cause.evidence.clone(),
                disproved_by: cause.disproved_by.clone(),
                mitigation: cause.mitigation.clone(),
            })
            .collect(),
        mitigation: incident.mitigation.clone(),
        pods_with_most_errors: incident
            .pods_with_most_errors
            .iter()
            .map(|pod| format!("{}: {} error-pattern hits", short(&pod.object), pod.errors))
            .collect(),
    }
}
