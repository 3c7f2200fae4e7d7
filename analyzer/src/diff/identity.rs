//! Whether two bundles are captures of one cluster: the uid of `kube-system` (created once with
//! the cluster, never recreated), the nodes they share, and the API server's version.
//!
//! A diff of two different clusters is all noise, so the verdict leads every output when the
//! bundles disagree; an upgrade (another server version) is said, not counted against.

use std::collections::BTreeSet;

use kubesnap_shared::model::ClusterModel;
use serde::Serialize;

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// What both show agrees (the kube-system uid, or shared nodes).
    Same,
    /// What both show disagrees: the diff compares two clusters.
    Different,
    /// Neither bundle shows enough to tell.
    Unknown,
}

/// The cluster-identity check and what it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub verdict: Verdict,
    /// One sentence per fact compared.
    pub reasons: Vec<String>,
}

impl Identity {
    pub(crate) fn mirror(&self) -> Identity {
        // Every reason names OLD and NEW symmetrically except the version line, which is rebuilt.
        self.clone()
    }
}

/// Compares the identity of the clusters two models show.
pub(crate) fn compare(old: &ClusterModel, new: &ClusterModel) -> Identity {
    let mut reasons = Vec::new();
    let mut same = false;
    let mut different = false;
    let uid = |model: &ClusterModel| {
        model.get("Namespace", None, "kube-system").and_then(|ns| ns.uid().map(str::to_owned))
    };
    match (uid(old), uid(new)) {
        (Some(a), Some(b)) if a == b => {
            same = true;
            reasons.push(format!("both have namespace kube-system with uid {a}"));
        }
        (Some(a), Some(b)) => {
            different = true;
            let (first, second) = if a < b { (a, b) } else { (b, a) };
            reasons.push(format!(
                "namespace kube-system has uid {first} in one bundle and {second} in the other"
            ));
        }
        _ => reasons.push("the kube-system namespace's uid is not in both bundles".to_owned()),
    }
    let nodes = |model: &ClusterModel| -> BTreeSet<String> {
        model.of_kind("Node").map(|node| node.name.clone()).collect()
    };
    let (before, after) = (nodes(old), nodes(new));
    if !before.is_empty() && !after.is_empty() {
        let shared = before.intersection(&after).count();
        if shared == 0 {
            different = true;
            reasons.push(format!(
                "no node in common ({} nodes in one bundle, {} in the other)",
                before.len().min(after.len()),
                before.len().max(after.len())
            ));
        } else {
            same = true;
            reasons.push(format!("{shared} node(s) in common"));
        }
    }
    match (&old.server_version, &new.server_version) {
        (Some(a), Some(b)) if a != b => {
            let (first, second) = if a < b { (a, b) } else { (b, a) };
            reasons.push(format!(
                "the API server's version differs ({first} and {second}): an upgrade, or another cluster"
            ));
        }
        (Some(a), Some(_)) => reasons.push(format!("both API servers are {a}")),
        _ => {}
    }
    let verdict = match (different, same) {
        (true, _) => Verdict::Different,
        (false, true) => Verdict::Same,
        (false, false) => Verdict::Unknown,
    };
    Identity { verdict, reasons }
}
