//! The rollup of minor findings. On a large cluster one diagnostic can fire thousands of times at
//! P2 or P3 (a missing limit on every pod of a namespace): one card per finding buries the few
//! that matter and makes a page of tens of megabytes. P2 and P3 findings that share a code and a
//! namespace become one entry with the count, the worst severity, examples and the full list.
//!
//! P0 and P1 findings are never rolled up: each is something to act on and keeps its own entry
//! with its evidence and commands. `findings.json` keeps every finding; a rollup only names its
//! members by index, so the machine interface loses nothing.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::finding::{Category, Finding, Severity};

/// When minor findings are rolled up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Policy {
    /// A (code, namespace) group rolls up when it holds more than this many P2/P3 findings;
    /// `0` turns rollups off.
    pub(crate) per_namespace: usize,
    /// A group of two or more also rolls up when its code has more than this many P2/P3
    /// findings in the whole bundle: a code spread thinly over hundreds of namespaces.
    pub(crate) per_code: usize,
}

impl Policy {
    /// `--rollup-threshold`'s default.
    pub(crate) const DEFAULT_THRESHOLD: usize = 5;

    /// The policy of `--rollup-threshold N`: more than `N` of a code in one namespace, or more
    /// than `10 × N` of it in the bundle.
    pub(crate) fn with_threshold(threshold: usize) -> Policy {
        Policy { per_namespace: threshold, per_code: threshold.saturating_mul(10) }
    }
}

/// P2 and P3 findings of one code in one namespace, shown as one entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Rollup {
    pub(crate) code: &'static str,
    pub(crate) category: Category,
    /// `None` for cluster-scoped findings.
    pub(crate) namespace: Option<String>,
    /// The most severe member's.
    pub(crate) severity: Severity,
    pub(crate) count: usize,
    /// Members per severity, only the severities present (`{"P2": 3, "P3": 309}`).
    pub(crate) counts: BTreeMap<&'static str, usize>,
    /// Indices into the findings, ascending: the first is the most severe.
    pub(crate) findings: Vec<usize>,
}

/// Whether a finding of this severity may be rolled up.
fn rollable(severity: Severity) -> bool {
    severity > Severity::P1
}

/// The rollups of `findings` (sorted as the engine sorts them), in the order of their first
/// member, so each sits where its most severe finding would have.
pub(crate) fn roll_up(findings: &[Finding], policy: Policy) -> Vec<Rollup> {
    if policy.per_namespace == 0 {
        return Vec::new();
    }
    let mut groups: BTreeMap<(&str, Option<&str>), Vec<usize>> = BTreeMap::new();
    let mut per_code: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, finding) in findings.iter().enumerate().filter(|(_, f)| rollable(f.severity)) {
        groups.entry((finding.code, finding.namespace.as_deref())).or_default().push(index);
        *per_code.entry(finding.code).or_default() += 1;
    }
    let mut rollups: Vec<Rollup> = groups
        .into_iter()
        .filter(|((code, _), members)| {
            let in_bundle = per_code.get(code).copied().unwrap_or_default();
            members.len() > policy.per_namespace || (members.len() >= 2 && in_bundle > policy.per_code)
        })
        .filter_map(|((_, namespace), members)| {
            let first = &findings[*members.first()?];
            let mut counts = BTreeMap::new();
            for index in &members {
                *counts.entry(findings[*index].severity.name()).or_default() += 1;
            }
            Some(Rollup {
                code: first.code,
                category: first.category,
                namespace: namespace.map(str::to_owned),
                severity: members.iter().map(|index| findings[*index].severity).min()?,
                count: members.len(),
                counts,
                findings: members,
            })
        })
        .collect();
    rollups.sort_by_key(|rollup| rollup.findings.first().copied());
    rollups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(code: &'static str, severity: Severity, namespace: Option<&str>, name: &str) -> Finding {
        let mut finding = Finding::new(code, Category::Performance, severity, format!("{name} is off"));
        finding.namespace = namespace.map(str::to_owned);
        finding
    }

    /// `count` findings of `code` in `namespace`, named `<namespace>-<i>`.
    fn many(code: &'static str, severity: Severity, namespace: &str, count: usize) -> Vec<Finding> {
        (0..count).map(|i| finding(code, severity, Some(namespace), &format!("{namespace}-{i}"))).collect()
    }

    fn policy(per_namespace: usize, per_code: usize) -> Policy {
        Policy { per_namespace, per_code }
    }

    #[test]
    fn a_group_rolls_up_only_above_the_threshold() {
        let at = many("no-limits", Severity::P3, "a", 5);
        assert!(roll_up(&at, policy(5, 1000)).is_empty(), "5 is not more than 5");
        let above = many("no-limits", Severity::P3, "a", 6);
        let rollups = roll_up(&above, policy(5, 1000));
        assert_eq!(rollups.len(), 1);
        assert_eq!(rollups[0].count, 6);
        assert_eq!(rollups[0].findings, [0, 1, 2, 3, 4, 5]);
        assert_eq!(rollups[0].namespace.as_deref(), Some("a"));
        assert!(roll_up(&above, policy(0, 0)).is_empty(), "a threshold of 0 turns rollups off");
    }

    #[test]
    fn groups_are_per_code_and_namespace() {
        let mut findings = many("no-limits", Severity::P3, "a", 3);
        findings.extend(many("no-limits", Severity::P3, "b", 3));
        findings.extend(many("no-probes", Severity::P3, "a", 3));
        // Nine of one code's siblings, but no group of one code in one namespace is above 3.
        assert!(roll_up(&findings, policy(3, 100)).is_empty());
        let rollups = roll_up(&findings, policy(2, 100));
        let keys: Vec<(&str, Option<&str>, usize)> =
            rollups.iter().map(|r| (r.code, r.namespace.as_deref(), r.count)).collect();
        assert_eq!(
            keys,
            [("no-limits", Some("a"), 3), ("no-limits", Some("b"), 3), ("no-probes", Some("a"), 3)]
        );
    }

    #[test]
    fn a_code_spread_thin_rolls_up_groups_of_two_but_never_a_single_finding() {
        let mut findings = Vec::new();
        for namespace in ["a", "b", "c", "d"] {
            findings.extend(many("no-limits", Severity::P3, namespace, 2));
        }
        findings.push(finding("no-limits", Severity::P3, Some("e"), "lonely"));
        // 9 in the bundle: at most 8 keeps every group as it is.
        assert!(roll_up(&findings, policy(5, 9)).is_empty());
        let rollups = roll_up(&findings, policy(5, 8));
        let namespaces: Vec<Option<&str>> = rollups.iter().map(|r| r.namespace.as_deref()).collect();
        assert_eq!(namespaces, [Some("a"), Some("b"), Some("c"), Some("d")], "e's single finding stays");
    }

    #[test]
    fn p0_and_p1_findings_are_never_rolled_up() {
        let mut findings = many("crash-loop-backoff", Severity::P0, "a", 50);
        findings.extend(many("oom-killed", Severity::P1, "a", 50));
        assert!(roll_up(&findings, policy(1, 1)).is_empty());
        // A code with findings at several severities rolls up only its P2/P3 ones.
        let mut mixed = many("restarts", Severity::P1, "a", 4);
        mixed.extend(many("restarts", Severity::P2, "a", 2));
        mixed.extend(many("restarts", Severity::P3, "a", 3));
        let rollups = roll_up(&mixed, policy(1, 100));
        assert_eq!(rollups.len(), 1);
        assert_eq!(rollups[0].findings, [4, 5, 6, 7, 8]);
        assert_eq!(rollups[0].severity, Severity::P2, "the worst member's");
        assert_eq!(rollups[0].counts, BTreeMap::from([("P2", 2), ("P3", 3)]));
    }

    #[test]
    fn rollups_follow_their_first_member_and_cluster_scope_is_a_namespace_of_its_own() {
        let mut findings = many("b-code", Severity::P2, "z", 3);
        findings.extend((0..3).map(|i| finding("a-code", Severity::P3, None, &format!("node-{i}"))));
        findings.extend(many("a-code", Severity::P3, "y", 3));
        let rollups = roll_up(&findings, policy(2, 100));
        let keys: Vec<(&str, Option<&str>)> =
            rollups.iter().map(|r| (r.code, r.namespace.as_deref())).collect();
        // Not the (code, namespace) order of the grouping: the findings' own order.
        assert_eq!(keys, [("b-code", Some("z")), ("a-code", None), ("a-code", Some("y"))]);
        assert_eq!(roll_up(&findings, policy(2, 100)), rollups, "the same findings, the same rollups");
    }
}
