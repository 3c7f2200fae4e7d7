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
//!   their configuration names is missing or has no ready backend (or the database refuses them);
//! - `service_selector`: a Service whose selector misses the workload it was written for by
//!   case or separators only (`app=store-front` against pods labelled `app=storefront`).
//! - `service_port`: a Service whose numeric targetPort its pods do not serve while they
//!   declare the Service port's name under another number, named by a client's configuration.
//!
//! Findings at P0–P2 that no rule explains become single-finding hypotheses with a low score, so
//! the summary always names what is most wrong; a finding that names a risk (a credential in
//! plain text, a deprecated API version) scores below one that names a failure of the same
//! severity, whatever their titles. Hypotheses are ordered by score (the rule's
//! confidence plus a weight for the most severe linked finding), then severity, then title.

mod admission_refused;
mod bad_rollout;
mod config_missing;
mod container_exits;
mod dependency_down;
mod dns_down;
mod image_not_pullable;
mod memory_oom;
mod node_not_ready;
mod node_pressure;
mod probe_failing;
mod service_port;
mod service_selector;
mod unschedulable;
mod volume_mount_refused;

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;
use kubesnap_shared::model::{ClusterModel, Event, Object, ObjectRef};
use rayon::prelude::*;
use serde::Serialize;

use crate::facts::Facts;

use crate::facts::containers;
use crate::facts::network::pod_health;
pub(crate) use crate::finding::clip;
use crate::finding::{Category, Finding, Severity};

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
    /// What would disprove it: the facts to check that would make it wrong.
    pub(crate) disproved_by: Vec<String>,
    /// Objects it explains: findings about them get no hypothesis of their own, and a weaker
    /// hypothesis about nothing else is folded into it as a consequence.
    #[serde(skip)]
    pub(crate) objects: Vec<ObjectRef>,
    /// The severity the rule established from the impact (what depends on the failing objects);
    /// `None` takes the most severe linked finding's.
    #[serde(skip)]
    pub(crate) own_severity: Option<Severity>,
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
        Hypothesis::new(rule, title, score, fallback)
    }
}

impl Hypothesis {
    /// See [`Context::hypothesis`].
    fn new(rule: &'static str, title: String, score: u32, fallback: Severity) -> Hypothesis {
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
            disproved_by: Vec::new(),
            objects: Vec::new(),
            own_severity: None,
        }
    }
}

/// The score of a hypothesis made of one finding no rule explains, when the finding says
/// something is failing (a node logging disk errors, a condition not Ready).
const FAILURE_SCORE: u32 = 20;
/// ... and when it names a risk that fails nothing yet (a credential in plain text, an API
/// version about to be removed, an overcommitted node): such a finding is worth fixing, but it
/// is no cause of what is wrong now, so a failure of the same severity ranks above it.
const LATENT_SCORE: u32 = 10;

/// Most likely first. A P3 hypothesis explains nothing that hurts (history, an advisory, a call
/// outside the cluster the bundle cannot judge): it comes after every P0–P2 one, whatever its
/// confidence. Then by score and severity; ties go to the lower layer (a node's or a volume's
/// failure is upstream of what runs on it), then to the title.
fn order(all: &mut [Hypothesis], findings: &[Finding]) {
    let key = |hypothesis: &Hypothesis| {
        let lowest =
            hypothesis.findings.iter().map(|index| layer(findings[*index].category)).min().unwrap_or(u8::MAX);
        (
            hypothesis.severity == Severity::P3,
            std::cmp::Reverse(hypothesis.score),
            hypothesis.severity,
            lowest,
        )
    };
    all.sort_by(|a, b| (key(a), &a.title).cmp(&(key(b), &b.title)));
}

/// How far down the stack a category's problems sit: nodes first, then storage and the network,
/// then what runs on them. Breaks ties between hypotheses of one score and severity.
fn layer(category: Category) -> u8 {
    match category {
        Category::Nodes => 0,
        Category::Storage => 1,
        Category::Network => 2,
        Category::Cluster => 3,
        Category::Pods | Category::Workloads | Category::Performance | Category::Logs | Category::Alerts => 4,
        Category::Security => 5,
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

/// The workload that owns a pod, or the pod itself.
pub(crate) fn subject_of(facts: &Facts<'_>, pod: &Object) -> ObjectRef {
    facts.workload_of(pod).unwrap_or_else(|| pod.reference())
}

/// The severity of `failing` pods from what depends on them: P2 when another pod of the same
/// workload is Ready (it still serves) or when nothing depends on them (no Service selects them
/// and they are not a Deployment's or StatefulSet's replicas); P1 otherwise.
pub(crate) fn impact(facts: &Facts<'_>, failing: &[&Object]) -> Severity {
    let mut worst = Severity::P3;
    for pod in failing {
        let subject = subject_of(facts, pod);
        let serving = facts
            .pods_of_workload(&subject)
            .iter()
            .any(|other| other.reference() != pod.reference() && pod_health::is_ready(other));
        let depended_on = !crate::incident::links::services_selecting(facts.cluster(), pod).is_empty()
            || matches!(subject.kind.as_str(), "Deployment" | "StatefulSet");
        let severity = if serving || !depended_on { Severity::P2 } else { Severity::P1 };
        worst = worst.min(severity);
    }
    worst
}

/// Warning events about a pod, newest last.
pub(crate) fn warnings<'a>(model: &'a ClusterModel, pod: &Object, reasons: &[&str]) -> Vec<&'a Event> {
    model
        .events_for("Pod", pod.namespace.as_deref(), &pod.name)
        .filter(|event| {
            event.is_warning() && (reasons.is_empty() || reasons.contains(&event.reason.as_str()))
        })
        .collect()
}

/// A causal rule: the hypotheses it finds in the bundle.
type Rule = fn(&Context<'_, '_>) -> Vec<Hypothesis>;

/// Every rule, by name (what `-vv` shows), in the order their hypotheses are gathered.
const RULES: &[(&str, Rule)] = &[
    ("node-not-ready", node_not_ready::rule),
    ("node-pressure", node_pressure::rule),
    ("unschedulable", unschedulable::rule),
    ("admission-refused", admission_refused::rule),
    ("image-not-pullable", image_not_pullable::rule),
    ("volume-mount-refused", volume_mount_refused::rule),
    ("config-missing", config_missing::rule),
    ("dns-down", dns_down::rule),
    ("memory-oom", memory_oom::rule),
    ("bad-rollout", bad_rollout::rule),
    ("container-exits", container_exits::rule),
    ("probe-failing", probe_failing::rule),
    ("dependency-down", dependency_down::rule),
    ("service-selector", service_selector::rule),
    ("service-port", service_port::rule),
];

/// The ranked hypotheses, at most [`KEPT`].
pub(crate) fn rank(facts: &Facts<'_>, findings: &[Finding]) -> Vec<Hypothesis> {
    let context = Context::new(facts, findings);
    // The rules read the same facts and findings and nothing of each other's: they run side by
    // side, and their hypotheses are gathered in the table's order.
    let per_rule: Vec<Vec<Hypothesis>> =
        RULES.par_iter().map(|(name, rule)| super::timed(name, || rule(&context))).collect();
    let mut all: Vec<Hypothesis> = per_rule.into_iter().flatten().collect();
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
        let score = if finding.is_latent_risk() { LATENT_SCORE } else { FAILURE_SCORE };
        let mut hypothesis = context.hypothesis("finding", finding.title.clone(), score, finding.severity);
        hypothesis.findings.push(index);
        hypothesis.evidence.push(finding.explanation.clone());
        hypothesis.mitigation.extend(finding.remediation.iter().take(3).cloned());
        hypothesis.objects = finding.objects.clone();
        all.push(hypothesis);
    }
    for hypothesis in &mut all {
        hypothesis.findings.sort_unstable();
        hypothesis.findings.dedup();
        let worst = hypothesis.findings.iter().map(|index| findings[*index].severity).min();
        if let Some(severity) = hypothesis.own_severity.or(worst) {
            hypothesis.severity = severity;
        }
        hypothesis.score = (hypothesis.score + weight(hypothesis.severity)).min(100);
    }
    order(&mut all, findings);
    all.dedup_by(|b, a| a.title == b.title);
    let mut all = fold_consequences(all);
    for hypothesis in &mut all {
        hypothesis.findings.sort_unstable();
        hypothesis.findings.dedup();
        hypothesis.chain.sort_by(|a, b| {
            (a.at.is_none(), a.at, &a.object, &a.text).cmp(&(b.at.is_none(), b.at, &b.object, &b.text))
        });
        hypothesis.chain.dedup();
        hypothesis.chain.truncate(MAX_STEPS);
        let mut seen = BTreeSet::new();
        hypothesis.mitigation.retain(|command| seen.insert(command.clone()));
        let mut seen = BTreeSet::new();
        hypothesis.evidence.retain(|line| seen.insert(line.clone()));
    }
    all.truncate(KEPT);
    for (index, hypothesis) in all.iter_mut().enumerate() {
        hypothesis.rank = index + 1;
    }
    all
}

/// Folds each hypothesis whose objects a stronger one already explains into that one, as a
/// consequence: CoreDNS pods that cannot be scheduled because their node is NotReady are the
/// node's problem, not a second root cause. `all` is sorted strongest first.
fn fold_consequences(all: Vec<Hypothesis>) -> Vec<Hypothesis> {
    let mut kept: Vec<Hypothesis> = Vec::new();
    for hypothesis in all {
        let own: Vec<&ObjectRef> =
            hypothesis.objects.iter().filter(|object| object.kind != "Service").collect();
        let host = kept
            .iter_mut()
            .find(|stronger| !own.is_empty() && own.iter().all(|object| stronger.objects.contains(object)));
        match host {
            Some(stronger) => {
                stronger.evidence.push(format!("consequence: {}", hypothesis.title));
                stronger.findings.extend(hypothesis.findings.iter().copied());
            }
            None => kept.push(hypothesis),
        }
    }
    kept
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testing::model_from_yaml;

    /// The model of a fixture (logs scanned) and its findings, as the report would have them.
    pub(crate) fn analyzed(fixture: &str) -> (ClusterModel, Vec<Finding>) {
        let model = model_from_yaml(fixture);
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
            for fact in &hypothesis.disproved_by {
                out.push_str(&format!("   disproved by: {fact}\n"));
            }
        }
        out
    }

    /// Every ranked hypothesis of a fixture, rendered.
    pub(crate) fn ranked(fixture: &str) -> String {
        let (model, findings) = analyzed(fixture);
        hostile_names_stay_inert(fixture);
        render(&rank(&Facts::new(&model), &findings), &findings)
    }

    /// A Deployment OOMKilled again and again and down now (the kubelet's own verdict, an
    /// outage), beside a Ready client whose configuration names a Service that does not exist
    /// and whose log holds refused connections (an inference from config and log words, nothing
    /// down): the headline is the cause with the stronger evidence, and it explains the outage.
    #[test]
    fn a_repeated_oom_kill_that_keeps_a_workload_down_outranks_a_missing_service_of_a_ready_client() {
        let fixture = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: cache, namespace: shop, uid: d1}
spec: {replicas: 1}
status: {replicas: 1, availableReplicas: 0}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: cache-5c
  namespace: shop
  uid: r1
  ownerReferences: [{kind: Deployment, name: cache, uid: d1, controller: true}]
---
apiVersion: v1
kind: Pod
metadata:
  name: cache-5c-a
  namespace: shop
  ownerReferences: [{kind: ReplicaSet, name: cache-5c, uid: r1, controller: true}]
spec: {containers: [{name: cache, image: cache:1, resources: {limits: {memory: 50Mi}}}]}
status:
  phase: Running
  containerStatuses:
  - name: cache
    ready: false
    restartCount: 22
    state: {waiting: {reason: CrashLoopBackOff}}
    lastState: {terminated: {exitCode: 137, reason: OOMKilled, finishedAt: "2025-06-01T11:58:00Z"}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: web, uid: d2}
spec: {replicas: 1}
status: {replicas: 1, availableReplicas: 1}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-7d
  namespace: web
  uid: r2
  ownerReferences: [{kind: Deployment, name: api, uid: d2, controller: true}]
---
apiVersion: v1
kind: Pod
metadata:
  name: api-7d-a
  namespace: web
  ownerReferences: [{kind: ReplicaSet, name: api-7d, uid: r2, controller: true}]
spec:
  containers:
  - name: api
    image: api:1
    env: [{name: DB_HOST, value: "pg.data.svc.cluster.local"}]
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
---
kind: ContainerLog
namespace: web
pod: api-7d-a
container: api
lines:
- "2025-06-01T11:50:00Z ERROR database connection failed: dial tcp 10.0.0.9:5432: connect: connection refused"
- "2025-06-01T11:59:50Z ERROR database connection failed: dial tcp 10.0.0.9:5432: connect: connection refused"
"#;
        let (model, findings) = analyzed(fixture);
        let ranked = rank(&Facts::new(&model), &findings);
        let order: Vec<(&str, Severity)> = ranked.iter().map(|h| (h.rule, h.severity)).collect();
        assert_eq!(
            order[..2],
            [("memory-oom", Severity::P0), ("dependency-down", Severity::P1)],
            "{order:?}"
        );
        assert!(ranked[1].title.contains("Service data/pg, which does not exist"), "{}", ranked[1].title);
    }

    /// Every finding's remediation and every hypothesis's mitigation stay safe to paste when
    /// the fixture's names are crafted (`testing::HOSTILE_PREFIXES`).
    fn hostile_names_stay_inert(fixture: &str) {
        use crate::testing::{HOSTILE_PREFIXES, assert_commands_safe, renamed_fixture};
        for prefix in HOSTILE_PREFIXES {
            let (model, findings) = analyzed(&renamed_fixture(fixture, prefix));
            let hypotheses = rank(&Facts::new(&model), &findings);
            let commands: Vec<&str> = findings
                .iter()
                .flat_map(|finding| finding.remediation.iter())
                .chain(hypotheses.iter().flat_map(|hypothesis| hypothesis.mitigation.iter()))
                .map(String::as_str)
                .collect();
            assert_commands_safe(&commands, prefix);
        }
    }

    /// Two findings no rule explains, both P2: an API version about to be removed (a risk) and
    /// a condition not Ready (a failure). The failure is the most likely cause although its
    /// title sorts after the risk's.
    #[test]
    fn a_failure_outranks_a_risk_of_the_same_severity() {
        use crate::finding::Status;
        let model = crate::testing::model_from_yaml("");
        let findings = vec![
            Finding::new(
                "deprecated-api-versions",
                Category::Cluster,
                Severity::P2,
                "A: 11 FlowSchema objects use v1beta1",
            ),
            Finding::new(
                "resource-condition-not-ready",
                Category::Cluster,
                Severity::P2,
                "Z: Volume data/pvc-1 Ready=False",
            )
            .object(ObjectRef {
                kind: "Volume".into(),
                namespace: Some("data".into()),
                name: "pvc-1".into(),
            }),
            Finding::new(
                "credential-in-configmap",
                Category::Security,
                Severity::P2,
                "B: ConfigMap default/demo: credential",
            )
            .object(ObjectRef {
                kind: "ConfigMap".into(),
                namespace: Some("default".into()),
                name: "demo".into(),
            }),
        ];
        let findings: Vec<Finding> = findings
            .into_iter()
            .map(|finding| {
                assert_eq!(finding.status, Status::Ongoing);
                if finding.objects.is_empty() {
                    finding.object(ObjectRef { kind: "FlowSchema".into(), namespace: None, name: "x".into() })
                } else {
                    finding
                }
            })
            .collect();
        let ranked = rank(&Facts::new(&model), &findings);
        let titles: Vec<&str> = ranked.iter().map(|hypothesis| hypothesis.title.as_str()).collect();
        assert_eq!(titles[0], "Z: Volume data/pvc-1 Ready=False", "{titles:?}");
        assert_eq!(ranked[0].score, FAILURE_SCORE + weight(Severity::P2));
        assert!(ranked[1..].iter().all(|hypothesis| hypothesis.score == LATENT_SCORE + weight(Severity::P2)));
    }

    /// A confident P3 guess (a call to a host outside the cluster from a Ready pod) comes after
    /// a weak P2 failure; among equals, a node's finding comes before a workload's.
    #[test]
    fn a_p3_guess_never_outranks_a_failure_and_lower_layers_break_ties() {
        let findings = vec![
            Finding::new("node-log-problems", Category::Nodes, Severity::P2, "node"),
            Finding::new("resource-condition-not-ready", Category::Cluster, Severity::P2, "bundle"),
        ];
        let hypothesis = |title: &str, score: u32, severity: Severity, finding: Option<usize>| Hypothesis {
            score,
            findings: finding.into_iter().collect(),
            ..bare(0, severity, title)
        };
        let mut all = vec![
            hypothesis("a: outside the cluster", 65, Severity::P3, None),
            hypothesis("b: bundle not Ready", 25, Severity::P2, Some(1)),
            hypothesis("c: node disk errors", 25, Severity::P2, Some(0)),
        ];
        order(&mut all, &findings);
        let titles: Vec<&str> = all.iter().map(|hypothesis| hypothesis.title.as_str()).collect();
        assert_eq!(titles, ["c: node disk errors", "b: bundle not Ready", "a: outside the cluster"]);
    }

    /// A hypothesis of rule `finding` with a rank, a severity and a title, score 50, and
    /// nothing else: for tests of ranking and wording.
    pub(crate) fn bare(rank: usize, severity: Severity, title: &str) -> Hypothesis {
        Hypothesis { rank, ..Hypothesis::new("finding", title.to_owned(), 50, severity) }
    }

    /// The hypotheses of one rule on a fixture.
    pub(crate) fn of_rule(fixture: &str, rule: &str) -> String {
        let (model, findings) = analyzed(fixture);
        hostile_names_stay_inert(fixture);
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
