//! Diagnostic `cronjob-failing`: cronJobs whose last run failed;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::Object;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "cronjob-failing",
    category: Category::Workloads,
    title: "CronJobs whose last run failed",
    severities: &[Severity::P2],
    what: "CronJobs whose most recent Job in the bundle failed, with how many of their Jobs failed and when \
           one last succeeded (`status.lastSuccessfulTime`).",
    why: "A scheduled task that fails keeps failing on every schedule, and nobody notices until its work \
          (a backup, a report) is needed.",
    fix: "Read the failed Job's pod logs, fix the cause, and run it once by hand to confirm \
          (`kubectl create job --from=cronjob/<name>`).",
    example: "`CronJob ops/backup: last Job backup-2902 failed (3 of 3 Jobs failed; last success \
              2025-05-28T02:00:00Z)`.",
    needs: &[],
    run,
};

fn failed(job: &Object) -> bool {
    job.condition("Failed").is_some_and(|(status, _, _)| status == "True")
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for cronjob in facts.cluster().of_kind("CronJob") {
        let namespace = cronjob.namespace.as_deref();
        let mut jobs: Vec<&Object> = facts
            .cluster()
            .of_kind_in("Job", namespace.unwrap_or_default())
            .filter(|job| {
                job.owners().iter().any(|(kind, name, _)| *kind == "CronJob" && *name == cronjob.name)
            })
            .collect();
        jobs.sort_by(|a, b| (a.created_at(), &a.name).cmp(&(b.created_at(), &b.name)));
        let Some(last) = jobs.last().copied().filter(|job| failed(job)) else { continue };
        let n_failed = jobs.iter().filter(|job| failed(job)).count();
        let object = cronjob.reference();
        let last_success = cronjob.str_at("/status/lastSuccessfulTime");
        let success_text = last_success
            .map(|at| format!("last success {at}"))
            .unwrap_or_else(|| "no success recorded".to_owned());
        let reason = last.condition("Failed").map(|(_, reason, _)| reason).unwrap_or_default();
        let mut finding = DIAGNOSTIC
            .finding(
                Severity::P2,
                format!(
                    "CronJob {}/{}: last Job {} failed ({n_failed} of {} Jobs failed; {success_text})",
                    namespace.unwrap_or_default(),
                    cronjob.name,
                    last.name,
                    jobs.len()
                ),
            )
            .object(object.clone())
            .object(last.reference())
            .evidence(Evidence::note(format!("Job {} Failed=True {reason}", last.name)));
        if let Some(at) = last_success {
            finding =
                finding.evidence(Evidence::field(object.clone(), "/status/lastSuccessfulTime", &at.into()));
        }
        if let Some(schedule) = cronjob.str_at("/spec/schedule") {
            finding = finding.evidence(Evidence::field(object.clone(), "/spec/schedule", &schedule.into()));
        }
        findings.push(
            finding
                .explanation(format!(
                    "The most recent run of CronJob {} failed ({reason}), and {n_failed} of the {} Jobs \
                     the bundle holds failed; {success_text}. Its scheduled work is not getting done.",
                    cronjob.name,
                    jobs.len()
                ))
                .remediation(
                    Kubectl::new("logs").joined("job/", &last.name).namespace_of(&object).arg("--tail=50"),
                )
                .remediation(kubectl::describe(&last.reference()))
                .remediation(
                    Kubectl::new("create job")
                        .name(&format!("{}-manual", cronjob.name))
                        .namespace_of(&object)
                        .joined("--from=cronjob/", &cronjob.name),
                ),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    fn job(name: &str, created: &str, condition: &str) -> String {
        format!(
            r#"
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  namespace: ops
  creationTimestamp: "{created}"
  ownerReferences: [{{kind: CronJob, name: backup, uid: c1, controller: true}}]
status: {{conditions: [{condition}]}}
"#
        )
    }

    const CRONJOB: &str = r#"
apiVersion: batch/v1
kind: CronJob
metadata: {name: backup, namespace: ops, uid: c1}
spec: {schedule: "0 2 * * *"}
status: {lastSuccessfulTime: "2025-05-29T02:00:00Z"}
"#;
    const FAILED: &str = r#"{type: Failed, status: "True", reason: BackoffLimitExceeded}"#;
    const COMPLETE: &str = r#"{type: Complete, status: "True"}"#;

    #[test]
    fn the_last_run_failed() {
        let fixture = [
            CRONJOB.to_owned(),
            job("backup-1", "2025-05-30T02:00:00Z", FAILED),
            job("backup-2", "2025-05-31T02:00:00Z", FAILED),
        ]
        .concat();
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P2 cronjob-failing CronJob ops/backup: last Job backup-2 failed (2 of 2 Jobs failed; last success 2025-05-29T02:00:00Z)
              objects: CronJob/ops/backup, Job/ops/backup-2
              note: Job backup-2 Failed=True BackoffLimitExceeded
              field CronJob/ops/backup /status/lastSuccessfulTime = 2025-05-29T02:00:00Z
              field CronJob/ops/backup /spec/schedule = 0 2 * * *
              why: The most recent run of CronJob backup failed (BackoffLimitExceeded), and 2 of the 2 Jobs the bundle holds failed; last success 2025-05-29T02:00:00Z. Its scheduled work is not getting done.
              $ kubectl logs job/backup-2 -n ops --tail=50
              $ kubectl describe job backup-2 -n ops
              $ kubectl create job backup-manual -n ops --from=cronjob/backup
        "#]],
        );
    }

    #[test]
    fn a_recovered_cronjob_is_fine() {
        let fixture = [
            CRONJOB.to_owned(),
            job("backup-1", "2025-05-30T02:00:00Z", FAILED),
            job("backup-2", "2025-05-31T02:00:00Z", COMPLETE),
        ]
        .concat();
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
