//! Findings new, resolved and persisting between two bundles, matched by a stable identity:
//! the diagnostic's code and the objects it names, with each pod replaced by its workload (a
//! crash-looping Deployment's pods get new names at every restart of a ReplicaSet, the problem
//! is the same one). Titles are never compared: they carry counts and ages that move.
//!
//! A finding ongoing in OLD and only history (resolved) in NEW is resolved; the reverse is new.

use std::collections::BTreeMap;

use kubesnap_shared::model::{ClusterModel, ObjectRef};
use serde::Serialize;

use super::objects::top_owner;
use crate::facts::workload::workload_of;
use crate::finding::{Finding, Severity, Status};
use crate::incident::Incident;

/// One side of a matched finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Seen {
    pub severity: Severity,
    pub status: Status,
    pub title: String,
    pub objects: Vec<ObjectRef>,
}

/// A finding in either bundle or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingChange {
    /// `code` then the objects it is about (pods as their workload): the match key.
    pub identity: String,
    pub code: String,
    /// The objects of the identity (pods as their workload).
    pub subjects: Vec<ObjectRef>,
    /// The objects at the top of the subjects' owner chains, in either bundle (what a
    /// DaemonSet an operator made belongs to), for the summary.
    pub owners: Vec<ObjectRef>,
    pub old: Option<Seen>,
    pub new: Option<Seen>,
}

impl FindingChange {
    /// The side to show: NEW when it has one.
    pub(crate) fn shown(&self) -> Option<&Seen> {
        self.new.as_ref().or(self.old.as_ref())
    }

    fn mirror(&self) -> FindingChange {
        FindingChange { old: self.new.clone(), new: self.old.clone(), ..self.clone() }
    }

    /// The most severe severity of either side, for ordering.
    fn severity(&self) -> Severity {
        [&self.old, &self.new].into_iter().flatten().map(|seen| seen.severity).min().unwrap_or(Severity::P3)
    }
}

/// The root causes the incident summaries rank, by title.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Causes {
    pub appeared: Vec<String>,
    pub gone: Vec<String>,
}

/// The findings part of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingsDiff {
    /// The incident headline of each bundle.
    pub old_headline: String,
    pub new_headline: String,
    pub old_severity: Option<Severity>,
    pub new_severity: Option<Severity>,
    /// Ongoing in NEW and not in OLD.
    pub new: Vec<FindingChange>,
    /// Ongoing in OLD and not in NEW.
    pub resolved: Vec<FindingChange>,
    /// In both, ongoing in both or history in both; the severity may have changed.
    pub persisting: Vec<FindingChange>,
    pub root_causes: Causes,
}

impl FindingsDiff {
    /// Whether nothing differs: no new or resolved finding, no severity change.
    pub fn is_empty(&self) -> bool {
        self.new.is_empty()
            && self.resolved.is_empty()
            && self.persisting.iter().all(|change| {
                change.old.as_ref().map(|s| s.severity) == change.new.as_ref().map(|s| s.severity)
            })
            && self.root_causes.appeared.is_empty()
            && self.root_causes.gone.is_empty()
    }

    pub(crate) fn mirror(&self) -> FindingsDiff {
        FindingsDiff {
            old_headline: self.new_headline.clone(),
            new_headline: self.old_headline.clone(),
            old_severity: self.new_severity,
            new_severity: self.old_severity,
            new: self.resolved.iter().map(FindingChange::mirror).collect(),
            resolved: self.new.iter().map(FindingChange::mirror).collect(),
            persisting: self.persisting.iter().map(FindingChange::mirror).collect(),
            root_causes: Causes {
                appeared: self.root_causes.gone.clone(),
                gone: self.root_causes.appeared.clone(),
            },
        }
    }
}

/// One bundle's analysis, as the findings diff reads it.
pub(crate) struct Analyzed<'a> {
    pub(crate) model: &'a ClusterModel,
    pub(crate) findings: &'a [Finding],
    pub(crate) incident: &'a Incident,
}

/// The identity of each finding of one bundle, with an occurrence number when one identity is
/// found twice (two findings of one code about one workload), in report order.
fn identities<'a>(analyzed: &Analyzed<'a>) -> BTreeMap<String, (Vec<ObjectRef>, &'a Finding)> {
    let mut out = BTreeMap::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    // A finding folded into another (a Deployment down because of its pods' crash loop) is
    // still that problem: it keeps its identity, so folding is never read as a resolution.
    let mut findings: Vec<&'a Finding> = analyzed
        .findings
        .iter()
        .flat_map(|finding| std::iter::once(finding).chain(&finding.folded))
        .collect();
    // Occurrence numbers follow an order that does not depend on severity or title.
    findings.sort_by(|a, b| (a.code, &a.objects).cmp(&(b.code, &b.objects)));
    for finding in findings {
        let subjects = subjects(analyzed.model, &finding.objects);
        // A P3 advisory folds every P3 finding of its code (crate::advisories): its object
        // list moves with any member, so the advisory itself is the identity.
        let base = if finding.severity == Severity::P3 && subjects.len() > 1 {
            format!("{}:(advisory)", finding.code)
        } else {
            format!(
                "{}:{}",
                finding.code,
                subjects.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
            )
        };
        let count = seen.entry(base.clone()).or_default();
        *count += 1;
        let identity = if *count == 1 { base } else { format!("{base}#{count}") };
        out.insert(identity, (subjects, finding));
    }
    out
}

/// The objects of a finding with pods replaced by their workload, in order, once each.
pub(crate) fn subjects(model: &ClusterModel, objects: &[ObjectRef]) -> Vec<ObjectRef> {
    let mut out: Vec<ObjectRef> = Vec::new();
    for object in objects {
        let mapped = match object.kind.as_str() {
            "Pod" => model
                .get("Pod", object.namespace.as_deref(), &object.name)
                .and_then(|pod| workload_of(model, pod))
                .unwrap_or_else(|| object.clone()),
            "ReplicaSet" => model
                .get("ReplicaSet", object.namespace.as_deref(), &object.name)
                .and_then(|replica_set| {
                    replica_set.owners().into_iter().find(|(kind, _, _)| *kind == "Deployment").map(
                        |(_, name, _)| ObjectRef {
                            kind: "Deployment".to_owned(),
                            namespace: object.namespace.clone(),
                            name: name.to_owned(),
                        },
                    )
                })
                .unwrap_or_else(|| object.clone()),
            _ => object.clone(),
        };
        if !out.contains(&mapped) {
            out.push(mapped);
        }
    }
    out
}

fn seen(finding: &Finding) -> Seen {
    Seen {
        severity: finding.severity,
        status: finding.status,
        title: finding.title.clone(),
        objects: finding.objects.clone(),
    }
}

/// Compares the findings and incident summaries of two bundles.
pub(crate) fn compare(old: &Analyzed<'_>, new: &Analyzed<'_>) -> FindingsDiff {
    let (before, after) = (identities(old), identities(new));
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut diff = FindingsDiff {
        old_headline: old.incident.headline.clone(),
        new_headline: new.incident.headline.clone(),
        old_severity: old.incident.severity,
        new_severity: new.incident.severity,
        new: Vec::new(),
        resolved: Vec::new(),
        persisting: Vec::new(),
        root_causes: Causes::default(),
    };
    for key in keys {
        let (a, b) = (before.get(key), after.get(key));
        let Some((_, finding)) = b.or(a) else { continue };
        // Both sides' subjects when they differ (an advisory's), in an order of their own, so
        // that the swapped diff names the same ones.
        let subjects = match (a, b) {
            (Some((old, _)), Some((new, _))) if old != new => {
                let mut union: Vec<ObjectRef> = old.iter().chain(new).cloned().collect();
                union.sort();
                union.dedup();
                union
            }
            _ => b.or(a).map(|(subjects, _)| subjects.clone()).unwrap_or_default(),
        };
        let code = finding.code.to_owned();
        let mut owners: Vec<ObjectRef> = subjects
            .iter()
            .flat_map(|subject| {
                [old.model, new.model].into_iter().filter_map(|model| {
                    let object = model.get(&subject.kind, subject.namespace.as_deref(), &subject.name)?;
                    top_owner(model, object)
                })
            })
            .collect();
        owners.sort();
        owners.dedup();
        let change = FindingChange {
            identity: key.clone(),
            code,
            subjects,
            owners,
            old: a.map(|(_, finding)| seen(finding)),
            new: b.map(|(_, finding)| seen(finding)),
        };
        let ongoing = |side: &Option<Seen>| side.as_ref().is_some_and(|seen| seen.status == Status::Ongoing);
        match (&change.old, &change.new) {
            (Some(_), Some(_)) if ongoing(&change.old) == ongoing(&change.new) => {
                diff.persisting.push(change)
            }
            (Some(_), Some(_)) if ongoing(&change.old) => diff.resolved.push(change),
            (Some(_), Some(_)) => diff.new.push(change),
            (None, _) => diff.new.push(change),
            (_, None) => diff.resolved.push(change),
        }
    }
    for list in [&mut diff.new, &mut diff.resolved, &mut diff.persisting] {
        list.sort_by(|a, b| (a.severity(), &a.identity).cmp(&(b.severity(), &b.identity)));
    }
    let titles = |incident: &Incident| -> Vec<String> {
        incident.root_causes.iter().map(|cause| cause.title.clone()).collect()
    };
    let (causes_before, causes_after) = (titles(old.incident), titles(new.incident));
    diff.root_causes.appeared =
        causes_after.iter().filter(|title| !causes_before.contains(title)).cloned().collect();
    diff.root_causes.gone =
        causes_before.iter().filter(|title| !causes_after.contains(title)).cloned().collect();
    diff
}
