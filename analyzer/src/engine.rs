//! Runs the selected diagnostics over one model, in parallel, and collects their findings in an
//! order that never depends on thread timing.
//!
//! A diagnostic whose needs the bundle does not meet is skipped with a reason; a diagnostic that
//! panics becomes a `diagnostic-panicked` finding and the others go on (rust-analyzer wraps each
//! request in `catch_unwind` for the same reason: one bug must not cost the whole report).

use std::panic::{AssertUnwindSafe, catch_unwind};

use kubesnap_shared::model::{Coverage, ObjectRef};
use rayon::prelude::*;
use serde::Serialize;

use crate::diagnostics::{Diagnostic, Need, registry};
use crate::facts::Facts;
use crate::finding::{Category, Evidence, Finding, Severity, Status};

/// The code of the finding a panicking diagnostic becomes.
pub(crate) const PANICKED: &str = "diagnostic-panicked";

/// A diagnostic that did not run, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub code: &'static str,
    /// `skipped: the bundle lacks pod metrics`.
    pub reason: String,
}

/// What one run of the engine produced.
#[derive(Debug, Default)]
pub(crate) struct Analysis {
    /// Sorted by (severity, code, objects, title).
    pub(crate) findings: Vec<Finding>,
    /// In registry order.
    pub(crate) skipped: Vec<Skipped>,
    /// Codes of the diagnostics that ran, in registry order.
    pub(crate) ran: Vec<&'static str>,
}

/// `--only` and `--skip`: diagnostic codes or category names.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    pub(crate) only: Vec<String>,
    pub(crate) skip: Vec<String>,
}

/// A `--only`/`--skip` word that names no diagnostic and no category.
#[derive(Debug, thiserror::Error)]
#[error("`{word}` is neither a diagnostic code nor a category (see --list-diagnostics)")]
pub(crate) struct UnknownSelection {
    word: String,
}

impl Selection {
    /// The registry's diagnostics this selection keeps, in registry order.
    pub(crate) fn apply(&self) -> Result<Vec<&'static Diagnostic>, UnknownSelection> {
        let current = |words: &[String]| -> Vec<String> {
            words.iter().map(|word| crate::diagnostics::current_code(word).to_owned()).collect()
        };
        let (only, skip) = (current(&self.only), current(&self.skip));
        for word in only.iter().chain(&skip) {
            if Category::parse(word).is_none() && !registry().any(|diagnostic| diagnostic.code == word) {
                return Err(UnknownSelection { word: word.clone() });
            }
        }
        let named = |words: &[String], diagnostic: &Diagnostic| {
            words
                .iter()
                .any(|word| word == diagnostic.code || Category::parse(word) == Some(diagnostic.category))
        };
        Ok(registry()
            .filter(|diagnostic| only.is_empty() || named(&only, diagnostic))
            .filter(|diagnostic| !named(&skip, diagnostic))
            .collect())
    }
}

/// Runs `diagnostics` on the current rayon pool.
pub(crate) fn run(facts: &Facts<'_>, diagnostics: &[&'static Diagnostic]) -> Analysis {
    let outcomes: Vec<Outcome> =
        diagnostics.par_iter().map(|diagnostic| run_one(facts, diagnostic)).collect();
    let mut analysis = Analysis::default();
    for (diagnostic, outcome) in diagnostics.iter().zip(outcomes) {
        match outcome {
            Outcome::Findings(findings) => {
                analysis.ran.push(diagnostic.code);
                analysis.findings.extend(findings);
            }
            Outcome::Skipped(reason) => analysis.skipped.push(Skipped { code: diagnostic.code, reason }),
        }
    }
    for finding in &mut analysis.findings {
        if let Some(jobs) = failed_attempts_of_completed_jobs(facts, finding) {
            let note = format!("history: {jobs}; the failed attempts before it are over");
            *finding = finding.clone().resolved().evidence(Evidence::note(note));
        }
    }
    demote_duplicate_alerts(&mut analysis.findings);
    // A workload down only because of what its pods' findings say is that problem, once.
    analysis.findings = crate::symptoms::fold(facts, std::mem::take(&mut analysis.findings));
    // A problem over before the capture is history: at most P3, whatever a diagnostic set.
    for finding in &mut analysis.findings {
        if finding.status == Status::Resolved {
            finding.severity = Severity::P3;
        }
    }
    analysis.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    // One advisory per theme: a diagnostic's P3 findings are one finding.
    analysis.findings = crate::advisories::fold(std::mem::take(&mut analysis.findings));
    analysis
}

/// An alert rule evaluated over the bundle (ApplicationDown, KubernetesPodCrashLooping) that
/// fires for the object another finding already reports at least as severely is that problem
/// under a second code: it stays, as a P3 note naming the finding, so the problem is counted
/// once at its severity.
fn demote_duplicate_alerts(findings: &mut [Finding]) {
    let reported: Vec<(ObjectRef, Severity, String)> = findings
        .iter()
        .filter(|finding| finding.category != Category::Alerts && finding.status == Status::Ongoing)
        .filter_map(|finding| {
            let subject = finding.objects.first()?.clone();
            Some((subject, finding.severity, format!("{} ({})", finding.title, finding.code)))
        })
        .collect();
    for alert in findings.iter_mut().filter(|finding| finding.category == Category::Alerts) {
        let Some(subject) = alert.objects.first() else { continue };
        let same = reported
            .iter()
            .filter(|(object, severity, _)| object == subject && *severity <= alert.severity)
            .min_by_key(|(_, severity, title)| (*severity, title.clone()));
        if let Some((_, severity, title)) = same {
            let note =
                format!("the same problem as the {severity} finding {title}, which carries its severity");
            *alert = alert.clone().evidence(Evidence::note(note));
            alert.severity = Severity::P3;
        }
    }
}

/// The categories whose findings are failures of a pod run (a crash, a failed pod, a mount or
/// pull that failed, errors in its log): for a Job that then completed they are history. A
/// credential or a missing limit in the Job's spec is not: it is still there.
const RUN_FAILURES: [Category; 5] =
    [Category::Pods, Category::Workloads, Category::Storage, Category::Logs, Category::Alerts];

/// `Job ns/a completed at 2021-03-19T10:00:00Z` when every pod and Job `finding` is about
/// belongs to a Job that completed (its CronJob may be named too), else `None`.
fn failed_attempts_of_completed_jobs(facts: &Facts<'_>, finding: &Finding) -> Option<String> {
    if finding.status != Status::Ongoing || !RUN_FAILURES.contains(&finding.category) {
        return None;
    }
    let mut jobs: Vec<String> = Vec::new();
    for object in &finding.objects {
        match object.kind.as_str() {
            "Pod" | "Job" => {
                let (job, at) = crate::facts::workload::completed_job(facts.cluster(), object)?;
                let text = format!("Job {job} completed at {at}");
                if !jobs.contains(&text) {
                    jobs.push(text);
                }
            }
            "CronJob" => {}
            _ => return None,
        }
    }
    (!jobs.is_empty()).then(|| jobs.join(", "))
}

/// Runs `diagnostics` on a pool of `threads` threads (`None`: rayon's default, one per core).
pub(crate) fn run_with_threads(
    facts: &Facts<'_>,
    diagnostics: &[&'static Diagnostic],
    threads: Option<usize>,
) -> Result<Analysis, rayon::ThreadPoolBuildError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .thread_name(|index| format!("kubesnap-diagnostic-{index}"))
        .build()?;
    Ok(pool.install(|| run(facts, diagnostics)))
}

enum Outcome {
    Findings(Vec<Finding>),
    Skipped(String),
}

fn run_one(facts: &Facts<'_>, diagnostic: &Diagnostic) -> Outcome {
    if let Some(missing) = diagnostic.needs.iter().find_map(|need| unmet(facts, *need)) {
        tracing::debug!(code = diagnostic.code, "skipped: the bundle lacks {missing}");
        return Outcome::Skipped(format!("skipped: the bundle lacks {missing}"));
    }
    if let Some(missing) = crate::text_fields::unmet(facts.cluster(), diagnostic.code) {
        tracing::debug!(code = diagnostic.code, "skipped: the bundle lacks {missing}");
        return Outcome::Skipped(format!("skipped: the bundle lacks {missing}"));
    }
    let _span = tracing::debug_span!("diagnostic", code = diagnostic.code).entered();
    // The model is only read, so a panic cannot leave it half-changed for the others.
    let started = std::time::Instant::now();
    // Every diagnostic shares `facts`, so a fact one of them derives is derived once per run.
    match catch_unwind(AssertUnwindSafe(|| (diagnostic.run)(facts))) {
        Ok(findings) => {
            // `-vv` shows where a run's time goes (a fact shared by several diagnostics is
            // counted in the first one that asked for it).
            tracing::debug!(code = diagnostic.code, findings = findings.len(), elapsed = ?started.elapsed(), "ran");
            Outcome::Findings(findings)
        }
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            tracing::error!(code = diagnostic.code, "diagnostic panicked: {message}");
            Outcome::Findings(vec![panicked(diagnostic, &message)])
        }
    }
}

fn panicked(diagnostic: &Diagnostic, message: &str) -> Finding {
    Finding::new(
        PANICKED,
        diagnostic.category,
        Severity::P2,
        format!("diagnostic {} failed and its checks were not made", diagnostic.code),
    )
    .object(ObjectRef { kind: "Diagnostic".to_owned(), namespace: None, name: diagnostic.code.to_owned() })
    .evidence(Evidence::note(format!("panic: {message}")))
    .explanation(format!(
        "The diagnostic `{}` hit a bug in kubesnap on this bundle; every other diagnostic ran. \
         What it checks ({}) was not checked, so this report may miss problems of that kind. \
         Please report it with the message above.",
        diagnostic.code,
        diagnostic.title.to_lowercase()
    ))
    .remediation(format!("kubesnap-analyze <bundle> --only {} -vv", diagnostic.code))
}

/// What the bundle lacks for `need`, or `None` when it has it.
pub(crate) fn unmet(facts: &Facts<'_>, need: Need) -> Option<String> {
    let model = facts.cluster();
    let met = match need {
        Need::Metrics => !model.pod_metrics.is_empty(),
        Need::NodeMetrics => !model.node_metrics.is_empty(),
        Need::Logs => !model.logs.is_empty(),
        Need::PreviousLogs => model.logs.iter().any(|log| log.key.previous),
        Need::KubeletStats => !model.kubelet_stats.is_empty(),
        Need::Events => !model.events.is_empty(),
        Need::CaptureTime => model.captured_at.is_some(),
        Need::ServerVersion => model.server_version.is_some(),
        // Zero objects of a listed kind is what the diagnostic must see: "no StorageClass at
        // all" is a finding, not a gap. Only a kind the bundle does not show is unmet, and
        // the reason says why it does not.
        Need::Kind(kind) => {
            let why = match facts.captured(kind) {
                Coverage::Listed => return None,
                Coverage::Failed(why) => why,
                Coverage::NotCaptured(why) => format!("not captured by this format: {why}"),
                Coverage::Unknown => {
                    "none are in it, and it does not say whether they were listed".to_owned()
                }
            };
            return Some(format!("{}: {why}", need_name(need)));
        }
    };
    (!met).then(|| need_name(need))
}

/// What a need is, in the words of "the bundle lacks ...".
pub(crate) fn need_name(need: Need) -> String {
    match need {
        Need::Metrics => "pod metrics (metrics.k8s.io samples)".to_owned(),
        Need::NodeMetrics => "node metrics (metrics.k8s.io samples)".to_owned(),
        Need::Logs => "container logs".to_owned(),
        Need::PreviousLogs => "previous container logs".to_owned(),
        Need::KubeletStats => "kubelet stats (/stats/summary)".to_owned(),
        Need::Events => "events".to_owned(),
        Need::CaptureTime => "a capture time".to_owned(),
        Need::ServerVersion => "the API server's version".to_owned(),
        Need::Kind(kind) => format!("{kind} objects"),
    }
}

#[cfg(test)]
mod tests {
    use kubesnap_shared::model::ClusterModel;

    use super::*;
    use crate::testing::model_from_yaml;

    fn explode(_: &Facts<'_>) -> Vec<Finding> {
        panic!("index out of bounds in a test diagnostic")
    }

    fn one_per_pod(facts: &Facts<'_>) -> Vec<Finding> {
        facts
            .cluster()
            .of_kind("Pod")
            .map(|pod| {
                // P2: the engine folds several P3 findings of one code into one advisory.
                Finding::new("fake-pods", Category::Pods, Severity::P2, format!("pod {}", pod.name))
                    .object(pod.reference())
            })
            .collect()
    }

    const fn fake(
        code: &'static str,
        needs: &'static [Need],
        run: fn(&Facts<'_>) -> Vec<Finding>,
    ) -> Diagnostic {
        Diagnostic {
            code,
            category: Category::Pods,
            title: "Fake",
            severities: &[Severity::P2],
            what: "w",
            why: "w",
            fix: "f",
            example: "e",
            needs,
            run,
        }
    }

    /// A diagnostic that marks a finding resolved and then raises its severity.
    fn resolved_then_raised(facts: &Facts<'_>) -> Vec<Finding> {
        let mut findings = one_per_pod(facts);
        for finding in &mut findings {
            *finding = finding.clone().resolved();
            finding.code = "raised";
            finding.severity = Severity::P0;
        }
        findings
    }

    static EXPLODES: Diagnostic = fake("explodes", &[], explode);
    static RAISED: Diagnostic = fake("raised", &[], resolved_then_raised);
    static PODS: Diagnostic = fake("fake-pods", &[], one_per_pod);
    static NEEDS_METRICS: Diagnostic = fake("needs-metrics", &[Need::Metrics], one_per_pod);

    const PODS_YAML: &str = "
kind: Pod
apiVersion: v1
metadata: {name: b, namespace: x}
---
kind: Pod
apiVersion: v1
metadata: {name: a, namespace: x}
";

    #[test]
    fn a_panicking_diagnostic_becomes_a_finding_and_the_others_run() {
        let model = model_from_yaml(PODS_YAML);
        let analysis = run_with_threads(&Facts::new(&model), &[&EXPLODES, &PODS], Some(2)).unwrap();
        let titles: Vec<(&str, &str)> =
            analysis.findings.iter().map(|f| (f.code, f.title.as_str())).collect();
        assert_eq!(
            titles,
            [
                (PANICKED, "diagnostic explodes failed and its checks were not made"),
                ("fake-pods", "pod a"),
                ("fake-pods", "pod b"),
            ]
        );
        assert_eq!(
            analysis.findings[0].evidence,
            [Evidence::note("panic: index out of bounds in a test diagnostic")]
        );
        assert_eq!(analysis.ran, ["explodes", "fake-pods"]);
    }

    const JOBS_YAML: &str = "
kind: Job
apiVersion: batch/v1
metadata: {name: migrate, namespace: x, uid: j1}
status:
  completionTime: '2025-06-01T10:00:00Z'
  conditions: [{type: Complete, status: 'True'}]
---
kind: Pod
apiVersion: v1
metadata:
  name: migrate-a
  namespace: x
  ownerReferences: [{kind: Job, name: migrate, uid: j1, controller: true}]
---
kind: Job
apiVersion: batch/v1
metadata: {name: backup, namespace: x, uid: j2}
status: {active: 1}
---
kind: Pod
apiVersion: v1
metadata:
  name: backup-a
  namespace: x
  ownerReferences: [{kind: Job, name: backup, uid: j2, controller: true}]
";

    #[test]
    fn failed_attempts_of_a_job_that_completed_are_history() {
        let model = model_from_yaml(JOBS_YAML);
        let analysis = run(&Facts::new(&model), &[&PODS]);
        let seen: Vec<(&str, Status, Severity)> =
            analysis.findings.iter().map(|f| (f.title.as_str(), f.status, f.severity)).collect();
        // The running Job's pod stays as its diagnostic said; the completed one's is history.
        assert_eq!(
            seen,
            [
                ("pod backup-a", Status::Ongoing, Severity::P2),
                ("pod migrate-a", Status::Resolved, Severity::P3)
            ]
        );
        assert_eq!(
            analysis.findings[1].evidence,
            [Evidence::note(
                "history: Job x/migrate completed at 2025-06-01T10:00:00Z; the failed attempts before it are over"
            )]
        );
    }

    #[test]
    fn an_alert_that_fires_for_a_problem_already_reported_is_a_note() {
        let pod =
            |name: &str| ObjectRef { kind: "Pod".into(), namespace: Some("x".into()), name: name.into() };
        let mut findings = vec![
            Finding::new("crash-loop-backoff", Category::Pods, Severity::P0, "a crash-loops")
                .object(pod("a")),
            Finding::new("application-down", Category::Alerts, Severity::P0, "a down").object(pod("a")),
            Finding::new("application-down", Category::Alerts, Severity::P0, "b down").object(pod("b")),
            Finding::new("pod-restarts", Category::Pods, Severity::P2, "c restarted").object(pod("c")),
            Finding::new("kubernetes-pod-crash-looping", Category::Alerts, Severity::P1, "c")
                .object(pod("c")),
        ];
        demote_duplicate_alerts(&mut findings);
        let seen: Vec<(&str, Severity)> = findings.iter().map(|f| (f.title.as_str(), f.severity)).collect();
        // Only an alert about an object already reported at least as severely steps down.
        assert_eq!(
            seen,
            [
                ("a crash-loops", Severity::P0),
                ("a down", Severity::P3),
                ("b down", Severity::P0),
                ("c restarted", Severity::P2),
                ("c", Severity::P1),
            ]
        );
        assert_eq!(
            findings[1].evidence,
            [Evidence::note(
                "the same problem as the P0 finding a crash-loops (crash-loop-backoff), which carries its severity"
            )]
        );
    }

    #[test]
    fn a_resolved_finding_is_held_to_p3() {
        let model = model_from_yaml(PODS_YAML);
        let analysis = run(&Facts::new(&model), &[&RAISED, &PODS]);
        // The two resolved findings are P3 whatever their diagnostic set, and fold into one
        // advisory that stays resolved; the ongoing P2 findings are left as they are.
        let found: Vec<(&str, Status, Severity)> = analysis
            .findings
            .iter()
            .map(|finding| (finding.code, finding.status, finding.severity))
            .collect();
        assert_eq!(
            found,
            [
                ("fake-pods", Status::Ongoing, Severity::P2),
                ("fake-pods", Status::Ongoing, Severity::P2),
                ("raised", Status::Resolved, Severity::P3)
            ]
        );
    }

    #[test]
    fn unmet_needs_skip_with_a_reason() {
        let model = model_from_yaml(PODS_YAML);
        let analysis = run(&Facts::new(&model), &[&NEEDS_METRICS, &PODS]);
        assert_eq!(
            analysis.skipped,
            [Skipped {
                code: "needs-metrics",
                reason: "skipped: the bundle lacks pod metrics (metrics.k8s.io samples)".to_owned()
            }]
        );
        assert_eq!(analysis.findings.len(), 2);
    }

    static NEEDS_CLASSES: Diagnostic = fake("needs-classes", &[Need::Kind("StorageClass")], one_per_pod);

    /// The pods of `PODS_YAML` in a native bundle whose manifest lists `paths` and `failures`
    /// (and the discovery file: the collector listed every resource it found).
    fn native(paths: &[&str], failures: serde_json::Value) -> ClusterModel {
        let mut files = vec![
            serde_json::json!({"path": "cluster/api-resources.json", "size": 2, "sha256": "", "truncated": false}),
        ];
        files.extend(
            paths
                .iter()
                .map(|path| serde_json::json!({"path": path, "size": 2, "sha256": "", "truncated": false})),
        );
        let manifest = serde_json::json!({
            "format_version": 1, "tool": {"name": "kubesnap-collect", "version": "0.1.0"}, "cluster": {},
            "options": {}, "started_at": "2025-06-01T11:55:00Z", "finished_at": "2025-06-01T12:00:00Z",
            "complete": true, "files": files, "failures": failures, "redactions": []
        });
        let mut model = model_from_yaml(PODS_YAML);
        model.format = Some(kubesnap_shared::model::SourceFormat::Native);
        model.manifest = Some(serde_json::from_value(manifest).unwrap());
        model
    }

    fn skip_reasons(model: &ClusterModel, diagnostic: &'static Diagnostic) -> Vec<String> {
        run(&Facts::new(model), &[diagnostic]).skipped.into_iter().map(|skipped| skipped.reason).collect()
    }

    #[test]
    fn a_listed_kind_without_objects_runs() {
        let model =
            native(&["resources/storage.k8s.io/v1/storageclasses/_cluster.json"], serde_json::json!([]));
        let analysis = run(&Facts::new(&model), &[&NEEDS_CLASSES]);
        assert_eq!(analysis.ran, ["needs-classes"]);
        assert!(analysis.skipped.is_empty());
        // A namespaced kind listed across all namespaces leaves no file when empty; nothing
        // failed, so it was listed too.
        let model = native(&[], serde_json::json!([]));
        assert_eq!(skip_reasons(&model, &NEEDS_CLASSES), Vec::<String>::new());
    }

    #[test]
    fn a_kind_the_bundle_does_not_show_skips_with_the_reason() {
        let denied = serde_json::json!([{"what": "list", "scope": "storage.k8s.io/v1/storageclasses",
            "kind": "forbidden", "status": 403, "message": "storageclasses.storage.k8s.io is forbidden"}]);
        assert_eq!(
            skip_reasons(&native(&[], denied), &NEEDS_CLASSES),
            [
                "skipped: the bundle lacks StorageClass objects: listing storageclasses failed with 403 forbidden"
            ]
        );
        let mut dump = model_from_yaml(PODS_YAML);
        dump.format = Some(kubesnap_shared::model::SourceFormat::ClusterInfoDump);
        assert_eq!(
            skip_reasons(&dump, &NEEDS_CLASSES),
            [
                "skipped: the bundle lacks StorageClass objects: not captured by this format: a kubectl cluster-info \
              dump holds only nodes, events, replication controllers, services, daemon sets, deployments, replica \
              sets and pods"
            ]
        );
        assert_eq!(
            skip_reasons(&model_from_yaml(PODS_YAML), &NEEDS_CLASSES),
            [
                "skipped: the bundle lacks StorageClass objects: none are in it, and it does not say whether they were listed"
            ]
        );
    }

    /// The case the coverage exists for: a cluster without any StorageClass is reported, a
    /// bundle denied the list is not.
    #[test]
    fn default_storage_class_reports_a_cluster_without_classes_only_when_they_were_listed() {
        use crate::diagnostics::storage::default_storage_class::DIAGNOSTIC as DEFAULT_CLASS;
        let mut model =
            native(&["resources/storage.k8s.io/v1/storageclasses/_cluster.json"], serde_json::json!([]));
        let claim = model_from_yaml(
            "kind: PersistentVolumeClaim\napiVersion: v1\nmetadata: {name: data, namespace: x}\nstatus: {phase: Pending}\n",
        );
        model.objects.extend(claim.objects);
        model.finish();
        let analysis = run(&Facts::new(&model), &[&DEFAULT_CLASS]);
        let titles: Vec<(Severity, &str)> =
            analysis.findings.iter().map(|finding| (finding.severity, finding.title.as_str())).collect();
        assert_eq!(titles, [(Severity::P2, "No StorageClass at all: 1 of 1 PVC Pending")]);

        let denied = serde_json::json!([{"what": "list", "scope": "storage.k8s.io/v1/storageclasses",
            "kind": "forbidden", "status": 403, "message": "forbidden"}]);
        let mut model = native(&[], denied);
        model.objects.extend(
            model_from_yaml(
                "kind: PersistentVolumeClaim\napiVersion: v1\nmetadata: {name: data, namespace: x}\n",
            )
            .objects,
        );
        model.finish();
        let analysis = run(&Facts::new(&model), &[&DEFAULT_CLASS]);
        assert!(analysis.findings.is_empty());
        assert_eq!(analysis.skipped.len(), 1);
    }

    #[test]
    fn one_and_many_threads_give_the_same_findings() {
        let model = model_from_yaml(PODS_YAML);
        let all: Vec<&'static Diagnostic> = registry().chain([&PODS, &EXPLODES]).collect();
        let one = run_with_threads(&Facts::new(&model), &all, Some(1)).unwrap();
        let many = run_with_threads(&Facts::new(&model), &all, Some(4)).unwrap();
        assert_eq!(one.findings, many.findings);
        assert_eq!(one.skipped, many.skipped);
    }

    #[test]
    fn selection_by_code_and_category() {
        let all = Selection::default().apply().unwrap();
        assert_eq!(all.len(), registry().count());
        let security = Selection { only: vec!["security".into()], skip: vec![] }.apply().unwrap();
        assert!(security.iter().all(|diagnostic| diagnostic.category == Category::Security));
        // A code merged into another still selects it.
        let merged = Selection { only: vec!["container-runs-as-root".into()], skip: vec![] }.apply().unwrap();
        assert_eq!(
            merged.iter().map(|diagnostic| diagnostic.code).collect::<Vec<_>>(),
            ["container-hardening"]
        );
        let skipped =
            Selection { only: vec![], skip: vec!["writable-root-filesystem".into()] }.apply().unwrap();
        assert!(skipped.iter().all(|diagnostic| diagnostic.code != "container-hardening"));
        let error = Selection { only: vec![], skip: vec!["no-such-thing".into()] }.apply().unwrap_err();
        assert_eq!(
            error.to_string(),
            "`no-such-thing` is neither a diagnostic code nor a category (see --list-diagnostics)"
        );
    }
}
