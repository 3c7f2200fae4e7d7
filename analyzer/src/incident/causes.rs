//! Root-cause hypotheses (the playbook's step 6): a small set of causal rules, each linking
//! findings and facts of the bundle into a ranked hypothesis with its chain of events (earliest
//! failure first) and the mitigation commands that fit it.
//!
//! Rules (one per file under `causes/`):
//! - `node_pressure`: a node under memory, disk or PID pressure evicting its pods;
//! - `dns_down`: CoreDNS not Ready while pods log DNS resolution errors;
//! - `memory_oom`: a container OOMKilled, after a memory leak when the samples show one;
//! - `bad_rollout`: pods of a Deployment's newest ReplicaSet failing shortly after it was created;
//! - `dependency_down`: pods logging refused connections or database errors while the Service
//!   their configuration names is missing or has no ready backend (or the database refuses them).
//!
//! Findings at P0–P2 that no rule explains become single-finding hypotheses with a low score, so
//! the summary always names what is most wrong. Hypotheses are ordered by score (the rule's
//! confidence plus a weight for the most severe linked finding), then severity, then title.

mod bad_rollout;
mod dependency_down;
mod dns_down;
mod memory_oom;
mod node_pressure;

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;
use kubesnap_shared::model::{ClusterModel, Object, ObjectRef};
use serde::Serialize;

use crate::facts::Facts;

use crate::facts::containers;
use crate::finding::{Finding, Severity};

/// How many hypotheses the summary keeps.
pub(crate) const KEPT: usize = 3;
/// Steps of a chain.
const MAX_STEPS: usize = 8;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Hypothesis {
    /// 1 for the most likely.
    pub(crate) rank: usize,
    /// The rule that made it (`dns-down`), or `finding` for a single-finding hypothesis.
    pub(crate) rule: &'static str,
    pub(crate) title: String,
    /// Confidence of the rule plus the weight of the most severe linked finding (0–100).
    pub(crate) score: u32,
    pub(crate) severity: Severity,
    /// What happened, earliest first; steps without a time last.
    pub(crate) chain: Vec<Step>,
    /// Indices into the report's findings.
    pub(crate) findings: Vec<usize>,
    /// Facts that support it, in sentences.
    pub(crate) evidence: Vec<String>,
    /// Commands to mitigate, most useful first.
    pub(crate) mitigation: Vec<String>,
    /// Objects it explains: findings about them get no hypothesis of their own.
    #[serde(skip)]
    pub(crate) objects: Vec<ObjectRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Step {
    pub(crate) at: Option<Timestamp>,
    pub(crate) object: ObjectRef,
    pub(crate) text: String,
}

impl Step {
    pub(crate) fn new(at: Option<Timestamp>, object: ObjectRef, text: impl Into<String>) -> Step {
        Step { at, object, text: text.into() }
    }
}

/// What the rules read.
#[derive(Debug)]
pub(crate) struct Context<'a, 'm> {
    pub(crate) facts: &'a Facts<'m>,
    pub(crate) findings: &'a [Finding],
    /// The indices of the findings that name each object, ascending: a rule links the findings
    /// of its objects without scanning every finding (a hypothesis per workload at 10,000 pods
    /// times 25,000 findings was most of the summary's time).
    by_object: HashMap<&'a ObjectRef, Vec<usize>>,
}

impl<'a, 'm> Context<'a, 'm> {
    pub(crate) fn new(facts: &'a Facts<'m>, findings: &'a [Finding]) -> Context<'a, 'm> {
        let mut by_object: HashMap<&ObjectRef, Vec<usize>> = HashMap::new();
        for (index, finding) in findings.iter().enumerate() {
            for object in &finding.objects {
                let indices = by_object.entry(object).or_default();
                if indices.last() != Some(&index) {
                    indices.push(index);
                }
            }
        }
        Context { facts, findings, by_object }
    }

    /// Indices of the findings with one of `codes` that name one of `objects`, ascending.
    pub(crate) fn linked(&self, codes: &[&str], objects: &[ObjectRef]) -> Vec<usize> {
        let mut linked: Vec<usize> = objects
            .iter()
            .filter_map(|object| self.by_object.get(object))
            .flatten()
            .copied()
            .filter(|index| codes.contains(&self.findings[*index].code))
            .collect();
        linked.sort_unstable();
        linked.dedup();
        linked
    }

    /// A hypothesis with no steps, findings or evidence yet; its severity is set from its
    /// findings when ranked, `fallback` when it has none.
    pub(crate) fn hypothesis(
        &self,
        rule: &'static str,
        title: String,
        score: u32,
        fallback: Severity,
    ) -> Hypothesis {
        Hypothesis {
            rank: 0,
            rule,
            title,
            score,
            severity: fallback,
            chain: Vec::new(),
            findings: Vec::new(),
            evidence: Vec::new(),
            mitigation: Vec::new(),
            objects: Vec::new(),
        }
    }
}

/// The weight of a severity in the score.
fn weight(severity: Severity) -> u32 {
    match severity {
        Severity::P0 => 15,
        Severity::P1 => 10,
        Severity::P2 => 5,
        Severity::P3 => 0,
    }
}

/// When a pod first failed: its earliest failed container run or Warning event.
pub(crate) fn first_failure(model: &ClusterModel, pod: &Object) -> Option<Timestamp> {
    let terminations = containers::statuses(pod).into_iter().flat_map(|status| {
        [status.last_termination(), status.current_termination()]
            .into_iter()
            .flatten()
            .filter(|termination| termination.exit_code.is_some_and(|code| code != 0))
            .filter_map(|termination| termination.finished_at.and_then(|at| at.parse::<Timestamp>().ok()))
            .collect::<Vec<_>>()
    });
    let events = model
        .events_for("Pod", pod.namespace.as_deref(), &pod.name)
        .filter(|event| event.is_warning())
        .filter_map(|event| event.first_seen.or(event.last_seen));
    terminations.chain(events).min()
}

/// The ranked hypotheses, at most [`KEPT`].
pub(crate) fn rank(facts: &Facts<'_>, findings: &[Finding]) -> Vec<Hypothesis> {
    let context = Context::new(facts, findings);
    let mut all: Vec<Hypothesis> = Vec::new();
    all.extend(super::timed("node-pressure", || node_pressure::rule(&context)));
    all.extend(super::timed("dns-down", || dns_down::rule(&context)));
    all.extend(super::timed("memory-oom", || memory_oom::rule(&context)));
    all.extend(super::timed("bad-rollout", || bad_rollout::rule(&context)));
    all.extend(super::timed("dependency-down", || dependency_down::rule(&context)));
    let explained: BTreeSet<ObjectRef> = all.iter().flat_map(|h| h.objects.iter().cloned()).collect();
    let mut subjects = BTreeSet::new();
    for (index, finding) in findings.iter().enumerate() {
        let Some(subject) = finding.objects.first() else { continue };
        if finding.severity > Severity::P2
            || finding.objects.iter().any(|object| explained.contains(object))
            || !subjects.insert(subject.clone())
        {
            continue;
        }
        let mut hypothesis = context.hypothesis("finding", finding.title.clone(), 20, finding.severity);
        hypothesis.findings.push(index);
        hypothesis.evidence.push(finding.explanation.clone());
        hypothesis.mitigation.extend(finding.remediation.iter().take(3).cloned());
        all.push(hypothesis);
    }
    for hypothesis in &mut all {
        hypothesis.findings.sort_unstable();
        hypothesis.findings.dedup();
        if let Some(worst) = hypothesis.findings.iter().map(|index| findings[*index].severity).min() {
            hypothesis.severity = worst;
        }
        hypothesis.score = (hypothesis.score + weight(hypothesis.severity)).min(100);
        hypothesis.chain.sort_by(|a, b| {
            (a.at.is_none(), a.at, &a.object, &a.text).cmp(&(b.at.is_none(), b.at, &b.object, &b.text))
        });
        hypothesis.chain.dedup();
        hypothesis.chain.truncate(MAX_STEPS);
        let mut seen = BTreeSet::new();
        hypothesis.mitigation.retain(|command| seen.insert(command.clone()));
    }
    all.sort_by(|a, b| {
        (std::cmp::Reverse(a.score), a.severity, &a.title).cmp(&(
            std::cmp::Reverse(b.score),
            b.severity,
            &b.title,
        ))
    });
    all.dedup_by(|b, a| a.title == b.title);
    all.truncate(KEPT);
    for (index, hypothesis) in all.iter_mut().enumerate() {
        hypothesis.rank = index + 1;
    }
    all
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::diagnostics::logs::fixture::scanned_model;

    /// The model of a fixture (logs scanned) and its findings, as the report would have them.
    pub(crate) fn analyzed(fixture: &str) -> (ClusterModel, Vec<Finding>) {
        let model = scanned_model(fixture);
        let (findings, _) = crate::analyze(&model);
        (model, findings)
    }

    /// `rank. [rule score severity] title`, the chain and the mitigation, for expectations.
    pub(crate) fn render(hypotheses: &[Hypothesis], findings: &[Finding]) -> String {
        let mut out = String::new();
        for hypothesis in hypotheses {
            out.push_str(&format!(
                "{}. [{} {} {}] {}\n",
                hypothesis.rank, hypothesis.rule, hypothesis.score, hypothesis.severity, hypothesis.title
            ));
            for step in &hypothesis.chain {
                let at = step.at.map(|at| at.to_string()).unwrap_or_else(|| "-".to_owned());
                out.push_str(&format!("   {at} {}: {}\n", step.object, step.text));
            }
            for index in &hypothesis.findings {
                out.push_str(&format!("   finding {}: {}\n", findings[*index].code, findings[*index].title));
            }
            for evidence in &hypothesis.evidence {
                out.push_str(&format!("   evidence: {evidence}\n"));
            }
            for command in &hypothesis.mitigation {
                out.push_str(&format!("   $ {command}\n"));
            }
        }
        out
    }

    /// The hypotheses of one rule on a fixture.
    pub(crate) fn of_rule(fixture: &str, rule: &str) -> String {
        let (model, findings) = analyzed(fixture);
        let ranked: Vec<Hypothesis> =
            rank(&Facts::new(&model), &findings).into_iter().filter(|h| h.rule == rule).collect();
        assert_eq!(
            rank(&Facts::new(&model), &findings),
            rank(&Facts::new(&model), &findings),
            "ranking is deterministic"
        );
        render(&ranked, &findings)
    }
}
