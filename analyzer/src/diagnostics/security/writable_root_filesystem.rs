//! Diagnostic: writable-root-filesystem.
//!
//! **What it checks.** Workloads with containers whose `readOnlyRootFilesystem` is not `true`.
//! One finding per workload.
//!
//! **Why it matters.** The seed's security context check: an attacker in a container with a
//! writable root filesystem can drop tools and change binaries; a read-only root also stops
//! applications from filling the node's disk with stray writes.
//!
//! **Example.** `Deployment shop/web: containers web have a writable root filesystem`.

use kubesnap_shared::json::Value;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::pod_spec::{self, per_workload};
use crate::finding::{Category, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "writable-root-filesystem",
    category: Category::Security,
    title: "Containers with a writable root filesystem",
    severities: &[Severity::P3],
    what: "Workloads with containers whose securityContext.readOnlyRootFilesystem is not true.",
    why: "An intruder can write tools and change binaries in a writable root filesystem, and stray writes fill \
          the node's disk.",
    fix: "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the application must \
          write (/tmp, caches).",
    needs: &[],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    per_workload(
        facts,
        |_, container| {
            let value = container.pointer("/securityContext/readOnlyRootFilesystem");
            (value.and_then(Value::as_bool) != Some(true)).then(|| {
                ("securityContext/readOnlyRootFilesystem".to_owned(), value.cloned().unwrap_or(Value::Null))
            })
        },
        |template, flagged| {
            let mut finding = DIAGNOSTIC
                .finding(
                    Severity::P3,
                    format!(
                        "{}: writable root filesystem ({})",
                        pod_spec::name(template),
                        pod_spec::container_names(flagged)
                    ),
                )
                .explanation(format!(
                    "The {} of {} can write to their root filesystem: an intruder can drop tools and change \
                     binaries there. Mount an emptyDir where the application needs to write.",
                    pod_spec::container_phrase(flagged),
                    pod_spec::name(template)
                ));
            if let Some(patch) = pod_spec::security_patch(template, flagged, "readOnlyRootFilesystem", true) {
                finding = finding.remediation(patch);
            }
            finding.remediation(kubectl::get_yaml(&template.owner.reference()))
        },
    )
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::diagnostics::testing::check;

    #[test]
    fn unset_is_flagged_per_workload() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: ops}
spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: report, image: r}]}}}}}
"#,
            expect![[r#"
                P3 writable-root-filesystem CronJob ops/report: writable root filesystem (report)
                  objects: CronJob/ops/report
                  field CronJob/ops/report /spec/jobTemplate/spec/template/spec/containers/0/securityContext/readOnlyRootFilesystem = null
                  why: The container report of CronJob ops/report can write to their root filesystem: an intruder can drop tools and change binaries there. Mount an emptyDir where the application needs to write.
                  $ kubectl patch cronjob/report -n ops -p '{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"report","securityContext":{"readOnlyRootFilesystem":true}}]}}}}}}'
                  $ kubectl get cronjob report -n ops -o yaml
            "#]],
        );
    }

    #[test]
    fn read_only_is_fine() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {template: {spec: {containers: [{name: web, image: w, securityContext: {readOnlyRootFilesystem: true}}]}}}
"#,
            expect![[r#"
                no findings
            "#]],
        );
    }
}
