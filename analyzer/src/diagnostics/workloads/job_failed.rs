//! Diagnostic `job-failed`: jobs that failed; its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::collections::BTreeMap;

use kubesnap_shared::model::{ClusterModel, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::containers;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::workload::condition_note;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "job-failed",
    category: Category::Workloads,
    title: "Jobs that failed",
    severities: &[Severity::P2, Severity::P3],
    what: "Jobs whose `Failed` condition is True (`BackoffLimitExceeded`, `DeadlineExceeded`, a pod failure \
           policy), with the failed pod count and the last words of a failed pod's log. Jobs run by a \
           CronJob in the bundle are left to cronjob-failing. When the bundle holds no Jobs (a folder of \
           `kubectl get pods -o yaml`), pods of a Job that ended Failed are reported per Job at P3: \
           whether the Job retried to success or gave up cannot be known.",
    why: "The work the Job was for (a migration, a backup, a batch) did not happen, and nothing retries it.",
    fix: "Read the failed pods' logs, fix the cause, then delete the Job and create it again (a Job's pod \
          template cannot change).",
    example: "`Job data/migrate-42 failed: BackoffLimitExceeded (6 failed pods)`.",
    needs: &[],
    run,
};

/// Whether a CronJob in the bundle runs this Job.
pub(crate) fn run_by_cronjob(model: &ClusterModel, job: &Object) -> bool {
    job.owners().iter().any(|(kind, name, _)| {
        *kind == "CronJob" && model.get("CronJob", job.namespace.as_deref(), name).is_some()
    })
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for job in facts.cluster().of_kind("Job") {
        let Some((_, reason, message)) = job.condition("Failed").filter(|(status, _, _)| *status == "True")
        else {
            continue;
        };
        if run_by_cronjob(facts.cluster(), job) {
            continue;
        }
        findings.push(finding(facts.cluster(), job, reason, message));
    }
    if !facts.captured("Job").is_listed() {
        findings.extend(pods_of_missing_jobs(facts.cluster()));
    }
    findings
}

/// How many failed pods a finding about a missing Job quotes.
const QUOTED_PODS: usize = 5;

/// Pods that ended Failed, grouped by the Job that owns them when the bundle does not hold that
/// Job: one P3 finding per Job, since only the Job's status says whether it gave up.
fn pods_of_missing_jobs(model: &ClusterModel) -> Vec<Finding> {
    let mut by_job: BTreeMap<(&str, &str), Vec<&Object>> = BTreeMap::new();
    for pod in model.of_kind("Pod").filter(|pod| pod.str_at("/status/phase") == Some("Failed")) {
        let namespace = pod.namespace.as_deref().unwrap_or_default();
        for (kind, name, _) in pod.owners() {
            if kind == "Job" && model.get("Job", pod.namespace.as_deref(), name).is_none() {
                by_job.entry((namespace, name)).or_default().push(pod);
            }
        }
    }
    by_job
        .into_iter()
        .map(|((namespace, job), pods)| missing_job_finding(model, namespace, job, &pods))
        .collect()
}

/// The status of the first (non-init) container of `pod`: the one a Job's pod is quoted by.
fn first_container(pod: &Object) -> Option<containers::ContainerStatus<'_>> {
    containers::statuses(pod).into_iter().find(|status| !status.init)
}

fn missing_job_finding(model: &ClusterModel, namespace: &str, job: &str, pods: &[&Object]) -> Finding {
    let mut pods = pods.to_vec();
    pods.sort_by(|a, b| (b.created_at(), &b.name).cmp(&(a.created_at(), &a.name)));
    let mut exits: Vec<String> = pods
        .iter()
        .filter_map(|pod| first_container(pod)?.current_termination())
        .map(|termination| match termination.exit_code {
            Some(code) => format!("exit code {code}"),
            None => termination.reason.to_owned(),
        })
        .collect();
    exits.sort();
    exits.dedup();
    let how = if exits.is_empty() { String::new() } else { format!(" ({})", exits.join(", ")) };
    let count = match pods.len() {
        1 => "1 pod".to_owned(),
        n => format!("{n} pods"),
    };
    let mut finding = DIAGNOSTIC.finding(
        Severity::P3,
        format!("Job {namespace}/{job} (not in the bundle): {count} ended Failed{how}"),
    );
    for pod in pods.iter().take(QUOTED_PODS) {
        finding = finding.object(pod.reference()).evidence(Evidence::field(
            pod.reference(),
            "/status/phase",
            &"Failed".into(),
        ));
        if let Some(termination) = first_container(pod).and_then(|status| status.current_termination())
            && let Some(code) = termination.exit_code
        {
            let pointer = format!("{}/exitCode", termination.pointer);
            finding = finding.evidence(Evidence::field(pod.reference(), pointer, &code.into()));
        }
    }
    // The last words of the newest failed pod.
    if let Some(pod) = pods.first()
        && let Some(status) = first_container(pod)
        && let Some(words) = containers::last_words(model, namespace, &pod.name, status.name, false)
    {
        for line in &words.lines {
            finding = finding.evidence(Evidence::log_line(&words.log.path, line));
        }
    }
    let job_ref = kubesnap_shared::model::ObjectRef {
        kind: "Job".to_owned(),
        namespace: Some(namespace.to_owned()),
        name: job.to_owned(),
    };
    finding
        .explanation(format!(
            "{count} of Job {job} ended Failed, but the bundle holds no Jobs, so the Job's own status is \
             not here: whether it retried until a pod succeeded or gave up (BackoffLimitExceeded) cannot \
             be told. A Job's failed pods are also what its retries leave behind."
        ))
        .remediation(kubectl::describe(&job_ref))
        .remediation(Kubectl::new("logs").joined("job/", job).namespace_of(&job_ref).arg("--tail=50"))
}

/// The finding for one failed Job (shared with cronjob-failing's evidence).
pub(crate) fn finding(model: &ClusterModel, job: &Object, reason: &str, message: &str) -> Finding {
    let object = job.reference();
    let failed = job.i64_at("/status/failed").unwrap_or(0);
    let namespace = job.namespace.as_deref().unwrap_or_default();
    let reason = if reason.is_empty() { "Failed" } else { reason };
    let mut finding = DIAGNOSTIC
        .finding(
            Severity::P2,
            format!("Job {namespace}/{} failed: {reason} ({failed} failed pods)", job.name),
        )
        .object(object.clone())
        .evidence(Evidence::note(condition_note("Failed", ("True", reason, message))))
        .evidence(Evidence::field(object.clone(), "/status/failed", &failed.into()));
    if let Some(limit) = job.i64_at("/spec/backoffLimit") {
        finding = finding.evidence(Evidence::field(object.clone(), "/spec/backoffLimit", &limit.into()));
    }
    // The newest failed pod of the Job and the last words of its first container.
    let failed_pod = job.uid().and_then(|uid| {
        model
            .owned_by(uid)
            .filter(|pod| pod.kind == "Pod" && pod.str_at("/status/phase") == Some("Failed"))
            .max_by_key(|pod| pod.created_at())
    });
    if let Some(pod) = failed_pod {
        finding = finding.object(pod.reference());
        if let Some(status) = first_container(pod) {
            if let Some(termination) = status.current_termination() {
                finding = finding.evidence(Evidence::field(
                    pod.reference(),
                    format!("{}/exitCode", termination.pointer),
                    &termination.exit_code.into(),
                ));
            }
            if let Some(words) = containers::last_words(model, namespace, &pod.name, status.name, false) {
                for line in &words.lines {
                    finding = finding.evidence(Evidence::log_line(&words.log.path, line));
                }
            }
        }
    }
    let deadline = reason == "DeadlineExceeded";
    finding
        .explanation(format!(
            "Job {} stopped without succeeding: {}. {failed} of its pods failed. The work it was for did \
             not happen, and the Job will not retry.",
            job.name,
            if deadline {
                "it ran past activeDeadlineSeconds"
            } else {
                "its pods failed more often than \
                                                                        backoffLimit allows"
            }
        ))
        .remediation(Kubectl::new("logs").joined("job/", &job.name).namespace_of(&object).arg("--tail=50"))
        .remediation(kubectl::describe(&object))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    fn fixture(condition: &str, owner: &str) -> String {
        format!(
            r#"
apiVersion: batch/v1
kind: Job
metadata: {{name: migrate-42, namespace: data, uid: j1{owner}}}
spec: {{backoffLimit: 6}}
status:
  failed: 7
  conditions: [{condition}]
---
apiVersion: v1
kind: Pod
metadata:
  name: migrate-42-x7
  namespace: data
  creationTimestamp: "2025-06-01T11:00:00Z"
  ownerReferences: [{{kind: Job, name: migrate-42, uid: j1, controller: true}}]
status:
  phase: Failed
  containerStatuses: [{{name: migrate, state: {{terminated: {{exitCode: 3, reason: Error}}}}}}]
---
kind: ContainerLog
namespace: data
pod: migrate-42-x7
container: migrate
lines: ["applying 0042_add_index", "ERROR: relation \"orders\" does not exist"]
---
apiVersion: batch/v1
kind: CronJob
metadata: {{name: nightly, namespace: data}}
"#
        )
    }

    const FAILED: &str = r#"{type: Failed, status: "True", reason: BackoffLimitExceeded, message: Job has reached the specified backoff limit}"#;

    #[test]
    fn a_failed_job_with_its_last_pod_s_log() {
        check(
            &DIAGNOSTIC,
            &fixture(FAILED, ""),
            expect![[r#"
            P2 job-failed Job data/migrate-42 failed: BackoffLimitExceeded (7 failed pods)
              objects: Job/data/migrate-42, Pod/data/migrate-42-x7
              note: Failed=True BackoffLimitExceeded: Job has reached the specified backoff limit
              field Job/data/migrate-42 /status/failed = 7
              field Job/data/migrate-42 /spec/backoffLimit = 6
              field Pod/data/migrate-42-x7 /status/containerStatuses/0/state/terminated/exitCode = 3
              log logs/data/migrate-42-x7/migrate.log:1: applying 0042_add_index
              log logs/data/migrate-42-x7/migrate.log:2: ERROR: relation "orders" does not exist
              why: Job migrate-42 stopped without succeeding: its pods failed more often than backoffLimit allows. 7 of its pods failed. The work it was for did not happen, and the Job will not retry.
              $ kubectl logs job/migrate-42 -n data --tail=50
              $ kubectl describe job migrate-42 -n data
        "#]],
        );
    }

    #[test]
    fn complete_jobs_and_jobs_of_a_cronjob_are_not_reported_here() {
        check(
            &DIAGNOSTIC,
            &fixture(r#"{type: Complete, status: "True"}"#, ""),
            expect![[r#"
            no findings
        "#]],
        );
        let owned = ", ownerReferences: [{kind: CronJob, name: nightly, uid: c1}]";
        check(
            &DIAGNOSTIC,
            &fixture(FAILED, owned),
            expect![[r#"
            no findings
        "#]],
        );
    }

    const ORPHANS: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: e2e-failjob-28dqq
  namespace: scraper
  creationTimestamp: "2026-06-26T10:12:40Z"
  ownerReferences: [{kind: Job, name: e2e-failjob, uid: j9, controller: true}]
status:
  phase: Failed
  containerStatuses: [{name: fail, state: {terminated: {exitCode: 1, reason: Error}}}]
---
apiVersion: v1
kind: Pod
metadata:
  name: e2e-failjob-4kj9v
  namespace: scraper
  creationTimestamp: "2026-06-26T10:13:10Z"
  ownerReferences: [{kind: Job, name: e2e-failjob, uid: j9, controller: true}]
status:
  phase: Failed
  containerStatuses: [{name: fail, state: {terminated: {exitCode: 1, reason: Error}}}]
---
apiVersion: v1
kind: Pod
metadata:
  name: e2e-cronjob-29707813-dhlr2
  namespace: scraper
  ownerReferences: [{kind: Job, name: e2e-cronjob-29707813, uid: j8, controller: true}]
status: {phase: Succeeded}
"#;

    #[test]
    fn failed_pods_of_a_job_the_bundle_lacks_are_reported_without_a_verdict() {
        check(
            &DIAGNOSTIC,
            ORPHANS,
            expect![[r#"
            P3 job-failed Job scraper/e2e-failjob (not in the bundle): 2 pods ended Failed (exit code 1)
              objects: Pod/scraper/e2e-failjob-4kj9v, Pod/scraper/e2e-failjob-28dqq
              field Pod/scraper/e2e-failjob-4kj9v /status/phase = Failed
              field Pod/scraper/e2e-failjob-4kj9v /status/containerStatuses/0/state/terminated/exitCode = 1
              field Pod/scraper/e2e-failjob-28dqq /status/phase = Failed
              field Pod/scraper/e2e-failjob-28dqq /status/containerStatuses/0/state/terminated/exitCode = 1
              why: 2 pods of Job e2e-failjob ended Failed, but the bundle holds no Jobs, so the Job's own status is not here: whether it retried until a pod succeeded or gave up (BackoffLimitExceeded) cannot be told. A Job's failed pods are also what its retries leave behind.
              $ kubectl describe job e2e-failjob -n scraper
              $ kubectl logs job/e2e-failjob -n scraper --tail=50
        "#]],
        );
        // The bundle holds Jobs (another one): Jobs were captured, so one absent is gone, and its
        // pods are no such question.
        let listed = format!(
            "{ORPHANS}---\napiVersion: batch/v1\nkind: Job\nmetadata: {{name: backup, namespace: ops}}\n"
        );
        check(
            &DIAGNOSTIC,
            &listed,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
