//! The registry of diagnostics and the types every diagnostic shares.
//!
//! Each diagnostic lives in its own file, `diagnostics/<category>/<condition_name>.rs`, whose
//! stable code is the kebab-case file name. A category folder lists its diagnostics in one
//! `ALL` slice; the registry below is the concatenation of those slices, so adding a diagnostic
//! touches its own file and one line of its category's `mod.rs`, never this file.
//!
//! A diagnostic is a pure function of the cluster model, seen through [`Facts`] (the
//! [`ClusterModel`](kubesnap_shared::model::ClusterModel) plus facts derived from it once per
//! run, in `crate::facts`): no I/O, no wall clock (ages and expiries use the model's
//! `captured_at`), no `Err`. This module holds only the checks and the findings they build.
//! What it cannot see it declares in [`Diagnostic::needs`], and the engine skips it with a
//! reason when the bundle lacks it.

pub(crate) mod alerts;
pub(crate) mod cluster;
pub(crate) mod logs;
pub(crate) mod network;
pub(crate) mod nodes;
pub(crate) mod performance;
pub(crate) mod pods;
pub(crate) mod security;
pub(crate) mod storage;
pub(crate) mod workloads;

use crate::facts::Facts;
use crate::finding::{Category, Finding, Severity};

/// What a diagnostic needs from the bundle beyond its objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Pod metric samples (`metrics/pods.jsonl`).
    Metrics,
    /// Node metric samples (`metrics/nodes.jsonl`).
    NodeMetrics,
    /// Container logs.
    Logs,
    /// Logs of the previous run of restarted containers.
    PreviousLogs,
    /// Kubelet `/stats/summary` of the nodes.
    KubeletStats,
    /// Events (lists or the watch).
    Events,
    /// The time of the capture, the reference "now" of ages.
    CaptureTime,
    /// The API server's version (`model.server_version`).
    ServerVersion,
    /// Objects of this kind (`Ingress`, `Node`, ...) captured: some in the bundle, or their
    /// list, empty, so that the diagnostic sees that none exist. Not met when the list failed,
    /// the format never holds the kind, or nothing says it was listed.
    Kind(&'static str),
}

impl Need {
    /// One of each kind of need, for the catalog's legend.
    pub(crate) const LEGEND: &'static [Need] = &[
        Need::Metrics,
        Need::NodeMetrics,
        Need::Logs,
        Need::PreviousLogs,
        Need::KubeletStats,
        Need::Events,
        Need::CaptureTime,
        Need::ServerVersion,
        Need::Kind("<Kind>"),
    ];
}

/// One diagnostic: what it checks, why, how to fix it, an example, and the function that checks it.
/// This is the one place a diagnostic's prose is written: `docs/diagnostics.md` and
/// `--list-diagnostics -v` render it, reports quote `why` and `fix`, and the module doc of its file
/// only names it.
#[derive(Debug)]
pub(crate) struct Diagnostic {
    /// Stable kebab-case code: the file name, used in reports and `--only`/`--skip`.
    pub(crate) code: &'static str,
    pub(crate) category: Category,
    /// A short title for catalogs (`Containers in CrashLoopBackOff`).
    pub(crate) title: &'static str,
    /// The severities its findings may have, most severe first (checked by the tests).
    pub(crate) severities: &'static [Severity],
    /// What it checks: the condition, its thresholds and how it grades severity.
    pub(crate) what: &'static str,
    /// Why it matters.
    pub(crate) why: &'static str,
    /// How to fix it, in general (findings carry the exact commands).
    pub(crate) fix: &'static str,
    /// What a finding of it looks like on a typical cluster.
    pub(crate) example: &'static str,
    /// What the bundle must hold for it to run.
    pub(crate) needs: &'static [Need],
    pub(crate) run: fn(&Facts<'_>) -> Vec<Finding>,
}

impl Diagnostic {
    /// A finding of this diagnostic, with its code and category.
    pub(crate) fn finding(&self, severity: Severity, title: impl Into<String>) -> Finding {
        Finding::new(self.code, self.category, severity, title)
    }
}

/// Every category's diagnostics, in report order.
const CATEGORIES: &[&[&Diagnostic]] = &[
    pods::ALL,
    workloads::ALL,
    performance::ALL,
    network::ALL,
    storage::ALL,
    logs::ALL,
    nodes::ALL,
    cluster::ALL,
    alerts::ALL,
    security::ALL,
];

/// Every diagnostic, by category then in each category's order.
pub(crate) fn registry() -> impl Iterator<Item = &'static Diagnostic> {
    CATEGORIES.iter().flat_map(|diagnostics| diagnostics.iter().copied())
}

/// The current code of a diagnostic that was merged into another (`container-runs-as-root` is
/// now `container-hardening`); any other word comes back as it is. Codes stay usable in
/// `--only`/`--skip` after such a merge.
pub(crate) fn current_code(word: &str) -> &str {
    security::RENAMED.iter().find(|(old, _)| *old == word).map_or(word, |(_, new)| new)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn codes_are_unique_kebab_case_and_in_their_category() {
        let mut seen = BTreeSet::new();
        for diagnostic in registry() {
            assert!(seen.insert(diagnostic.code), "duplicate code {}", diagnostic.code);
            assert!(
                diagnostic.code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{} is not kebab-case",
                diagnostic.code
            );
            assert!(!diagnostic.severities.is_empty(), "{} declares no severity", diagnostic.code);
            assert!(
                diagnostic.severities.is_sorted(),
                "{} severities not most severe first",
                diagnostic.code
            );
            for text in
                [diagnostic.title, diagnostic.what, diagnostic.why, diagnostic.fix, diagnostic.example]
            {
                assert!(!text.trim().is_empty(), "{} has an empty description", diagnostic.code);
            }
        }
        for (category, diagnostics) in Category::ALL.iter().zip(CATEGORIES) {
            for diagnostic in *diagnostics {
                assert_eq!(diagnostic.category, *category, "{} is listed under {category}", diagnostic.code);
            }
        }
    }

    /// The code is the file name (`pods/crash_loop_backoff.rs` is `crash-loop-backoff`), and every
    /// file that defines a diagnostic is registered.
    #[test]
    fn every_diagnostic_lives_in_the_file_named_after_its_code() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/diagnostics");
        let mut defined = BTreeSet::new();
        for category in Category::ALL {
            for entry in std::fs::read_dir(root.join(category.name())).unwrap() {
                let path = entry.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if text.contains("const DIAGNOSTIC: Diagnostic") {
                    let stem = path.file_stem().unwrap().to_string_lossy().replace('_', "-");
                    defined.insert(format!("{}/{stem}", category.name()));
                }
            }
        }
        let registered: BTreeSet<String> =
            registry().map(|diagnostic| format!("{}/{}", diagnostic.category, diagnostic.code)).collect();
        assert_eq!(defined, registered, "diagnostic files and registered codes differ");
    }
}
