//! `kubesnap-analyze diff OLD NEW`: what changed between two bundles of one cluster.
//!
//! Both bundles are loaded by the loader (any format it reads) and analyzed as the main report
//! analyzes one; [`compare`] then puts side by side:
//! - whether they are captures of one cluster ([`identity`]);
//! - the objects added, removed and changed, with a semantic field diff ([`objects`], [`fields`]);
//! - the findings new, resolved and persisting ([`findings`]);
//! - what happened in between: rollouts, Helm revisions, node changes, events ([`between`]);
//! - a summary that puts each change next to the findings that came with it ([`summary`]).
//!
//! Like a diagnostic, [`compare`] is a pure function of the two models: no I/O, no clock. A
//! bundle diffed with itself gives an empty diff, and swapping OLD and NEW gives the mirror
//! ([`BundleDiff::mirror`]). The renderers are in [`render`].

pub mod between;
pub(crate) mod command;
pub mod fields;
pub mod findings;
pub mod identity;
pub mod objects;
pub mod render;
pub mod summary;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use jiff::Timestamp;
use kubesnap_shared::model::ClusterModel;
use serde::Serialize;

use crate::facts::Facts;

pub use between::Between;
pub use findings::FindingsDiff;
pub use identity::{Identity, Verdict};
pub use objects::ObjectsDiff;
pub use summary::SummaryLine;

/// The version of `diff.json`'s shape; bumped when a field is renamed or removed.
pub const SCHEMA_VERSION: u32 = 1;

/// One bundle of a diff, as the outputs name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    /// The bundle's file or folder name without its archive suffix.
    pub name: String,
    /// What kind of bundle it is (`kubesnap bundle`, `kubectl cluster-info dump`).
    pub format: Option<String>,
    pub captured_at: Option<Timestamp>,
    pub server_version: Option<String>,
}

impl Side {
    fn of(name: &str, model: &ClusterModel) -> Side {
        Side {
            name: name.to_owned(),
            format: model.format.map(|format| format.name().to_owned()),
            captured_at: model.captured_at,
            server_version: model.server_version.clone(),
        }
    }
}

/// Everything that differs between two bundles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleDiff {
    pub schema_version: u32,
    pub old: Side,
    pub new: Side,
    pub identity: Identity,
    pub summary: Vec<SummaryLine>,
    pub findings: FindingsDiff,
    pub objects: ObjectsDiff,
    pub between: Between,
    /// What one bundle holds and the other does not, so that the diff cannot tell (a format
    /// without Secrets, a bundle without events).
    pub blind_spots: Vec<String>,
    #[serde(skip)]
    consumers: summary::Consumers,
}

impl BundleDiff {
    /// Whether the two bundles show the same cluster state: nothing added, removed or changed,
    /// no finding new or resolved, nothing in between.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty() && self.findings.is_empty() && self.between.is_empty()
    }

    /// The diff of NEW against OLD: what [`compare`] gives with the bundles swapped.
    pub fn mirror(&self) -> BundleDiff {
        let objects = self.objects.mirror();
        let findings = self.findings.mirror();
        let between = self.between.mirror();
        BundleDiff {
            schema_version: self.schema_version,
            old: self.new.clone(),
            new: self.old.clone(),
            identity: self.identity.mirror(),
            summary: summary::build(&objects, &findings, &between, &self.consumers),
            findings,
            objects,
            between,
            blind_spots: self.blind_spots.clone(),
            consumers: self.consumers.clone(),
        }
    }
}

/// One analyzed bundle: its model with its findings and incident summary.
#[derive(Debug)]
pub struct Analyzed<'m> {
    name: String,
    model: &'m ClusterModel,
    findings: Vec<crate::finding::Finding>,
    incident: crate::incident::Incident,
}

impl<'m> Analyzed<'m> {
    /// Runs every diagnostic and the incident summary over `model` on the current rayon pool.
    pub fn new(name: &str, model: &'m ClusterModel) -> Analyzed<'m> {
        let facts = Facts::new(model);
        let diagnostics: Vec<_> = crate::diagnostics::registry().collect();
        let analysis = crate::engine::run(&facts, &diagnostics);
        let incident = crate::incident::build(&facts, &analysis.findings);
        Analyzed { name: name.to_owned(), model, findings: analysis.findings, incident }
    }
}

impl Analyzed<'_> {
    fn view(&self) -> findings::Analyzed<'_> {
        findings::Analyzed { model: self.model, findings: &self.findings, incident: &self.incident }
    }
}

/// Compares two analyzed bundles.
pub fn compare(old: &Analyzed<'_>, new: &Analyzed<'_>) -> BundleDiff {
    let (blind_spots, unseen) = blind_spots(old.model, new.model);
    let objects = objects::compare(old.model, new.model, &unseen);
    let findings = findings::compare(&old.view(), &new.view());
    let between = between::compare(old.model, new.model);
    let consumers = summary::consumers([old.model, new.model]);
    BundleDiff {
        schema_version: SCHEMA_VERSION,
        old: Side::of(&old.name, old.model),
        new: Side::of(&new.name, new.model),
        identity: identity::compare(old.model, new.model),
        summary: summary::build(&objects, &findings, &between, &consumers),
        findings,
        objects,
        between,
        blind_spots,
        consumers,
    }
}

/// Kinds one bundle captured and the other did not, and events held by only one: a difference
/// there is the formats', not the cluster's, so the diff says it cannot see it. Returns the
/// sentences and the kinds the object diff leaves out.
fn blind_spots(old: &ClusterModel, new: &ClusterModel) -> (Vec<String>, BTreeSet<String>) {
    let mut kinds: Vec<String> =
        old.objects.iter().chain(&new.objects).map(|object| object.index_kind().into_owned()).collect();
    kinds.sort();
    kinds.dedup();
    let mut out = Vec::new();
    let mut unseen = BTreeSet::new();
    for kind in kinds {
        let listed = |model: &ClusterModel| {
            model.has_kind(&kind) || model.captured(&kind) == kubesnap_shared::model::Coverage::Listed
        };
        if listed(old) != listed(new) {
            out.push(format!("{kind}: only one bundle shows them, so they are not compared"));
            unseen.insert(kind);
        }
    }
    if old.events.is_empty() != new.events.is_empty() {
        out.push("events: only one bundle holds them".to_owned());
    }
    (out, unseen)
}
