//! The summary that leads a diff: each change people made (a spec edited, a rollout, an object
//! added or deleted, a node cordoned) on one line, next to the findings that appeared or went
//! away with it ("Deployment shop/cart: image app cart:1.4.2 → cart:1.5.0 (rollout at 09:12);
//! new P0 crash-loop-backoff ...").
//!
//! A finding goes with a change when it is about the changed object (pods count as their
//! workload), or about a workload that reads a changed ConfigMap or Secret. New findings that go
//! with no change are listed after, so nothing new is hidden.

use std::collections::{BTreeMap, BTreeSet};

use kubesnap_shared::model::{ClusterModel, ObjectRef};
use serde::Serialize;

use super::between::{Between, NodeChangeKind};
use super::fields::FieldChange;
use super::findings::{FindingChange, FindingsDiff};
use super::objects::ObjectsDiff;
use crate::facts::workload::containers;

/// How many field changes a line names before "and N more".
const NAMED_FIELDS: usize = 3;

/// One line of the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryLine {
    /// The object changed; `None` for the line of new findings no change goes with.
    pub object: Option<ObjectRef>,
    /// What changed, in short phrases.
    pub changes: Vec<String>,
    /// The findings that appeared or went away with it: `new P0 crash-loop-backoff: <title>`.
    pub findings: Vec<String>,
}

/// Workloads that read each ConfigMap and Secret (volumes, env, envFrom), in either bundle.
pub(crate) type Consumers = BTreeMap<ObjectRef, BTreeSet<ObjectRef>>;

/// The ConfigMaps and Secrets each workload template of the two models reads.
pub(crate) fn consumers(models: [&ClusterModel; 2]) -> Consumers {
    let mut out: Consumers = BTreeMap::new();
    for model in models {
        for kind in ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"] {
            for workload in model.of_kind(kind) {
                let pointer = if kind == "CronJob" {
                    "/spec/jobTemplate/spec/template/spec"
                } else {
                    "/spec/template/spec"
                };
                let Some(spec) = workload.at(pointer) else { continue };
                for (kind, name) in references(spec) {
                    let object = ObjectRef { kind, namespace: workload.namespace.clone(), name };
                    out.entry(object).or_default().insert(workload.reference());
                }
            }
        }
    }
    out
}

fn references(spec: &kubesnap_shared::json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut push = |kind: &str, name: Option<&str>| {
        if let Some(name) = name {
            out.push((kind.to_owned(), name.to_owned()));
        }
    };
    for volume in spec.get("volumes").and_then(|v| v.as_array()).unwrap_or_default() {
        push("ConfigMap", volume.pointer("/configMap/name").and_then(|v| v.as_str()));
        push("Secret", volume.pointer("/secret/secretName").and_then(|v| v.as_str()));
    }
    for (container, _) in containers(spec, "") {
        for source in container.get("envFrom").and_then(|v| v.as_array()).unwrap_or_default() {
            push("ConfigMap", source.pointer("/configMapRef/name").and_then(|v| v.as_str()));
            push("Secret", source.pointer("/secretRef/name").and_then(|v| v.as_str()));
        }
        for variable in container.get("env").and_then(|v| v.as_array()).unwrap_or_default() {
            push("ConfigMap", variable.pointer("/valueFrom/configMapKeyRef/name").and_then(|v| v.as_str()));
            push("Secret", variable.pointer("/valueFrom/secretKeyRef/name").and_then(|v| v.as_str()));
        }
    }
    out
}

/// The summary of a diff.
pub(crate) fn build(
    objects: &ObjectsDiff,
    findings: &FindingsDiff,
    between: &Between,
    consumers: &Consumers,
) -> Vec<SummaryLine> {
    let mut lines: BTreeMap<ObjectRef, Vec<String>> = BTreeMap::new();
    for entry in &objects.added {
        lines.entry(entry.object.clone()).or_default().push("created".to_owned());
    }
    for entry in &objects.removed {
        lines.entry(entry.object.clone()).or_default().push("deleted".to_owned());
    }
    for changed in &objects.changed {
        let wanted: Vec<&FieldChange> = changed.changes.iter().filter(|change| !change.is_status()).collect();
        if changed.recreated {
            lines.entry(changed.object.clone()).or_default().push("deleted and created again".to_owned());
        }
        if changed.object.kind == "Node" {
            continue; // Said by the node changes below.
        }
        if !wanted.is_empty() {
            lines.entry(changed.object.clone()).or_default().extend(describe(&wanted));
        }
    }
    for rollout in &between.rollouts {
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
        let revision =
            rollout.revision.as_deref().map(|revision| format!(" revision {revision}")).unwrap_or_default();
        let what = if images.is_empty() { String::new() } else { format!(": image {}", images.join(", ")) };
        lines
            .entry(rollout.workload.clone())
            .or_default()
            .push(format!("rolled out{revision} at {}{what}", rollout.at.strftime("%H:%M UTC")));
    }
    for revision in &between.helm {
        let at = revision.at.map(|at| format!(" at {}", at.strftime("%H:%M UTC"))).unwrap_or_default();
        let chart = if revision.chart.is_empty() { String::new() } else { format!(" ({})", revision.chart) };
        lines.entry(revision.record.clone()).or_default().push(format!(
            "Helm release {} revision {}{chart} {}{at}",
            revision.release, revision.revision, revision.status
        ));
    }
    for node in &between.nodes {
        let object = ObjectRef { kind: "Node".to_owned(), namespace: None, name: node.node.clone() };
        if !matches!(node.change, NodeChangeKind::Added | NodeChangeKind::Removed) {
            lines.entry(object).or_default().push(node.describe());
        }
    }
    let changed: BTreeSet<ObjectRef> = lines.keys().cloned().collect();
    let mut linked: BTreeSet<&str> = BTreeSet::new();
    let mut out: Vec<SummaryLine> = lines
        .into_iter()
        .map(|(object, changes)| {
            // A reader with a line of its own has its findings there; this line points to it.
            let readers: Vec<&ObjectRef> = consumers.get(&object).into_iter().flatten().collect();
            let (elsewhere, related): (Vec<&ObjectRef>, Vec<&ObjectRef>) =
                readers.into_iter().partition(|reader| changed.contains(reader));
            let mut found = Vec::new();
            for (word, list) in [("new", &findings.new), ("resolved", &findings.resolved)] {
                for change in list.iter().filter(|change| {
                    change
                        .subjects
                        .iter()
                        .chain(&change.owners)
                        .any(|subject| *subject == object || related.contains(&subject))
                }) {
                    linked.insert(&change.identity);
                    found.push(phrase(word, change));
                }
            }
            for reader in elsewhere {
                let with =
                    |list: &[FindingChange]| list.iter().any(|change| change.subjects.contains(reader));
                if with(&findings.new) || with(&findings.resolved) {
                    found.push(format!("read by {reader}: see its line"));
                }
            }
            SummaryLine { object: Some(object), changes, findings: found }
        })
        .collect();
    let unexplained: Vec<String> = findings
        .new
        .iter()
        .filter(|change| !linked.contains(change.identity.as_str()))
        .map(|change| phrase("new", change))
        .collect();
    if !unexplained.is_empty() {
        out.push(SummaryLine { object: None, changes: Vec::new(), findings: unexplained });
    }
    // Lines with findings first: they are what the reader came for.
    out.sort_by_key(|line| line.findings.is_empty());
    out
}

fn phrase(word: &str, change: &FindingChange) -> String {
    match change.shown() {
        Some(seen) => format!("{word} {} {}: {}", seen.severity, change.code, seen.title),
        None => format!("{word} {}", change.code),
    }
}

/// Short phrases for the fields someone changed: images and replicas by name, data keys, and
/// the rest by path.
fn describe(changes: &[&FieldChange]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest: Vec<&str> = Vec::new();
    for change in changes {
        let old = change.old.as_deref().unwrap_or("(none)");
        let new = change.new.as_deref().unwrap_or("(none)");
        if change.path.ends_with("/image") {
            let container = change
                .path
                .rsplit_once("[name=")
                .map_or("", |(_, rest)| rest.split(']').next().unwrap_or(""));
            out.push(format!("image {container} {old} → {new}"));
        } else if change.path == "/spec/replicas" {
            out.push(format!("replicas {old} → {new}"));
        } else if let Some(key) =
            ["/data/", "/stringData/", "/binaryData/"].iter().find_map(|p| change.path.strip_prefix(p))
        {
            let verb = match (&change.old, &change.new) {
                (None, _) => "added",
                (_, None) => "removed",
                _ => "changed",
            };
            out.push(format!("data key {key} {verb}"));
        } else {
            rest.push(&change.path);
        }
    }
    if !rest.is_empty() {
        let named: Vec<&str> = rest.iter().take(NAMED_FIELDS).copied().collect();
        let more = rest.len().saturating_sub(NAMED_FIELDS);
        let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
        out.push(format!("{} changed{tail}", named.join(", ")));
    }
    out
}
