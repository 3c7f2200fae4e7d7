//! The diff's outputs: `diff.html` (self-contained, the main report's style), `diff.md` and
//! `diff.json`. The two text outputs render one view-model with minijinja, strict and
//! autoescaped as the report is; the JSON is the [`BundleDiff`] itself.

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use super::BundleDiff;
use super::findings::FindingChange;
use super::identity::Verdict;
use super::objects::ChangedObject;

const HTML_TEMPLATE: &str = include_str!("../../../templates/diff.html.j2");
const MARKDOWN_TEMPLATE: &str = include_str!("../../../templates/diff.md.j2");

/// Events listed in the Markdown and HTML (warnings first); `diff.json` lists every one.
const EVENTS_SHOWN: usize = 40;
/// Objects named per derived group before "and N more".
const DERIVED_NAMED: usize = 5;

#[derive(Serialize)]
struct View {
    title: String,
    tool: String,
    style: minijinja::Value,
    old: SideView,
    new: SideView,
    different_clusters: bool,
    identity_unknown: bool,
    identity: Vec<String>,
    empty: bool,
    summary: Vec<SummaryView>,
    findings: FindingsView,
    objects: ObjectsView,
    between: BetweenView,
    blind_spots: Vec<String>,
}

#[derive(Serialize)]
struct SideView {
    name: String,
    format: String,
    captured: String,
    version: String,
}

#[derive(Serialize)]
struct SummaryView {
    object: String,
    changes: Vec<String>,
    findings: Vec<String>,
}

#[derive(Serialize)]
struct FindingRow {
    severity: String,
    /// `P2 → P0` when the severity changed, else empty.
    change: String,
    code: String,
    title: String,
    objects: String,
    status: String,
}

#[derive(Serialize)]
struct FindingsView {
    old_headline: String,
    new_headline: String,
    new: Vec<FindingRow>,
    resolved: Vec<FindingRow>,
    /// Persisting findings whose severity changed.
    changed: Vec<FindingRow>,
    persisting: usize,
    causes_appeared: Vec<String>,
    causes_gone: Vec<String>,
}

#[derive(Serialize)]
struct FieldRow {
    path: String,
    old: String,
    new: String,
}

#[derive(Serialize)]
struct ChangedView {
    object: String,
    recreated: bool,
    fields: Vec<FieldRow>,
    status: Vec<FieldRow>,
}

#[derive(Serialize)]
struct ObjectsView {
    added: Vec<String>,
    removed: Vec<String>,
    changed: Vec<ChangedView>,
    derived: Vec<String>,
}

#[derive(Serialize)]
struct EventRow {
    at: String,
    kind: String,
    object: String,
    reason: String,
    message: String,
    count: u64,
}

#[derive(Serialize)]
struct BetweenView {
    window: String,
    rollouts: Vec<String>,
    helm: Vec<String>,
    nodes: Vec<String>,
    events: Vec<EventRow>,
    events_total: usize,
    warnings_total: usize,
}

fn side(side: &super::Side) -> SideView {
    SideView {
        name: side.name.clone(),
        format: side.format.clone().unwrap_or_else(|| "unknown format".to_owned()),
        captured: side.captured_at.map(|at| at.to_string()).unwrap_or_else(|| "unknown".to_owned()),
        version: side.server_version.clone().unwrap_or_else(|| "unknown".to_owned()),
    }
}

fn finding_row(change: &FindingChange) -> FindingRow {
    let seen = change.shown();
    let severity = |side: &Option<super::findings::Seen>| side.as_ref().map(|seen| seen.severity.name());
    let status_change = match (&change.old, &change.new) {
        (Some(old), Some(new)) if old.status != new.status => {
            format!("{} → {}", old.status.name(), new.status.name())
        }
        _ => seen.map(|seen| seen.status.name().to_owned()).unwrap_or_default(),
    };
    FindingRow {
        severity: seen.map(|seen| seen.severity.name().to_owned()).unwrap_or_default(),
        change: match (severity(&change.old), severity(&change.new)) {
            (Some(old), Some(new)) if old != new => format!("{old} → {new}"),
            _ => String::new(),
        },
        code: change.code.clone(),
        title: seen.map(|seen| seen.title.clone()).unwrap_or_default(),
        objects: change.subjects.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        status: status_change,
    }
}

fn changed_view(changed: &ChangedObject) -> ChangedView {
    let row = |change: &super::fields::FieldChange| FieldRow {
        path: change.path.clone(),
        old: change.old.clone().unwrap_or_else(|| "(none)".to_owned()),
        new: change.new.clone().unwrap_or_else(|| "(none)".to_owned()),
    };
    ChangedView {
        object: changed.object.to_string(),
        recreated: changed.recreated,
        fields: changed.changes.iter().filter(|change| !change.is_status()).map(row).collect(),
        status: changed.changes.iter().filter(|change| change.is_status()).map(row).collect(),
    }
}

fn names(entries: &[super::objects::ObjectEntry]) -> String {
    let mut out: Vec<String> =
        entries.iter().take(DERIVED_NAMED).map(|entry| entry.object.to_string()).collect();
    if entries.len() > DERIVED_NAMED {
        out.push(format!("and {} more", entries.len() - DERIVED_NAMED));
    }
    out.join(", ")
}

fn view(diff: &BundleDiff) -> View {
    let findings = &diff.findings;
    let objects = &diff.objects;
    let between = &diff.between;
    let mut events: Vec<&super::between::EventSeen> = between.events.iter().collect();
    // Warnings first, then by time: what went wrong in between leads.
    events.sort_by_key(|event| (event.kind != "Warning", event.first_seen));
    View {
        title: format!("kubesnap diff: {} → {}", diff.old.name, diff.new.name),
        tool: format!("kubesnap-analyze {}", env!("CARGO_PKG_VERSION")),
        style: minijinja::Value::from_safe_string(crate::report::style().to_owned()),
        old: side(&diff.old),
        new: side(&diff.new),
        different_clusters: diff.identity.verdict == Verdict::Different,
        identity_unknown: diff.identity.verdict == Verdict::Unknown,
        identity: diff.identity.reasons.clone(),
        empty: diff.is_empty(),
        summary: diff
            .summary
            .iter()
            .map(|line| SummaryView {
                object: line
                    .object
                    .as_ref()
                    .map_or_else(|| "Not with a change the bundles show".to_owned(), ToString::to_string),
                changes: line.changes.clone(),
                findings: line.findings.clone(),
            })
            .collect(),
        findings: FindingsView {
            old_headline: findings.old_headline.clone(),
            new_headline: findings.new_headline.clone(),
            new: findings.new.iter().map(finding_row).collect(),
            resolved: findings.resolved.iter().map(finding_row).collect(),
            changed: findings
                .persisting
                .iter()
                .filter(|change| {
                    change.old.as_ref().map(|s| s.severity) != change.new.as_ref().map(|s| s.severity)
                })
                .map(finding_row)
                .collect(),
            persisting: findings.persisting.len(),
            causes_appeared: findings.root_causes.appeared.clone(),
            causes_gone: findings.root_causes.gone.clone(),
        },
        objects: ObjectsView {
            added: objects.added.iter().map(|entry| entry.object.to_string()).collect(),
            removed: objects.removed.iter().map(|entry| entry.object.to_string()).collect(),
            changed: objects.changed.iter().map(changed_view).collect(),
            derived: objects
                .derived
                .iter()
                .map(|derived| {
                    let mut parts = Vec::new();
                    if !derived.added.is_empty() {
                        parts.push(format!("{} added ({})", derived.added.len(), names(&derived.added)));
                    }
                    if !derived.removed.is_empty() {
                        parts.push(format!(
                            "{} removed ({})",
                            derived.removed.len(),
                            names(&derived.removed)
                        ));
                    }
                    if !derived.changed.is_empty() {
                        let changed: Vec<_> = derived
                            .changed
                            .iter()
                            .map(|changed| super::objects::ObjectEntry {
                                object: changed.object.clone(),
                                api_version: changed.api_version.clone(),
                            })
                            .collect();
                        parts.push(format!("{} changed ({})", changed.len(), names(&changed)));
                    }
                    format!("{}: {}", derived.owner, parts.join("; "))
                })
                .collect(),
        },
        between: BetweenView {
            window: between
                .window
                .map(|window| format!("{} → {}", window.from, window.to))
                .unwrap_or_else(|| "unknown: a bundle has no capture time".to_owned()),
            rollouts: between
                .rollouts
                .iter()
                .map(|rollout| {
                    let images: Vec<String> = rollout
                        .images
                        .iter()
                        .map(|image| {
                            format!(
                                "{} {} → {}",
                                image.container,
                                image.before.as_deref().unwrap_or("(none)"),
                                image.after.as_deref().unwrap_or("(removed)")
                            )
                        })
                        .collect();
                    format!(
                        "{} {}: {} {}{}{}",
                        rollout.at,
                        rollout.workload,
                        rollout.revision_object.kind,
                        rollout.revision_object.name,
                        rollout
                            .revision
                            .as_deref()
                            .map(|revision| format!(" (revision {revision})"))
                            .unwrap_or_default(),
                        if images.is_empty() {
                            String::new()
                        } else {
                            format!(", image {}", images.join(", "))
                        }
                    )
                })
                .collect(),
            helm: between
                .helm
                .iter()
                .map(|revision| {
                    let at = revision.at.map(|at| at.to_string()).unwrap_or_else(|| "(no time)".to_owned());
                    format!("{at} Helm release {}", revision.describe())
                })
                .collect(),
            nodes: between
                .nodes
                .iter()
                .map(|node| format!("Node {}: {}", node.node, node.describe()))
                .collect(),
            events: events
                .iter()
                .take(EVENTS_SHOWN)
                .map(|event| EventRow {
                    at: event.first_seen.to_string(),
                    kind: event.kind.clone(),
                    object: event.object.to_string(),
                    reason: event.reason.clone(),
                    message: event.message.clone(),
                    count: event.count,
                })
                .collect(),
            events_total: between.events.len(),
            warnings_total: between.events.iter().filter(|event| event.kind == "Warning").count(),
        },
        blind_spots: diff.blind_spots.clone(),
    }
}

fn environment() -> Result<Environment<'static>, minijinja::Error> {
    let mut environment = crate::report::environment()?;
    environment.set_undefined_behavior(UndefinedBehavior::Strict);
    environment.add_template("diff.html.j2", HTML_TEMPLATE)?;
    environment.add_template("diff.md.j2", MARKDOWN_TEMPLATE)?;
    Ok(environment)
}

/// `diff.html`: one self-contained page.
pub fn html(diff: &BundleDiff) -> Result<String, minijinja::Error> {
    environment()?.get_template("diff.html.j2")?.render(view(diff))
}

/// `diff.md`: Markdown for a ticket.
pub fn markdown(diff: &BundleDiff) -> Result<String, minijinja::Error> {
    let mut text = environment()?.get_template("diff.md.j2")?.render(view(diff))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// `diff.json`.
pub fn json(diff: &BundleDiff) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(diff)?;
    text.push('\n');
    Ok(text)
}
