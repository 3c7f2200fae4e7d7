//! Diagnostic: privilege-escalation-allowed.
//!
//! **What it checks.** Workloads with containers whose `allowPrivilegeEscalation` is not
//! `false` (it defaults to true). One finding per workload.
//!
//! **Why it matters.** The seed's security context check: without it, a setuid binary in the
//! image lets a process gain more privileges than its parent.
//!
//! **Example.** `Deployment shop/api: containers api allow privilege escalation`.

use kubesnap_shared::json::Value;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::pod_spec::{self, per_workload};
use crate::finding::{Category, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "privilege-escalation-allowed",
    category: Category::Security,
    title: "Containers allowed to escalate privileges",
    severities: &[Severity::P3],
    what: "Workloads with containers whose securityContext.allowPrivilegeEscalation is not false (the default \
           is true).",
    why: "A setuid binary in the image lets a process gain more privileges than its parent (no_new_privs is \
          not set).",
    fix: "Set securityContext.allowPrivilegeEscalation: false on every container.",
    needs: &[],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    per_workload(
        facts,
        |_, container| {
            let value = container.pointer("/securityContext/allowPrivilegeEscalation");
            (value.and_then(Value::as_bool) != Some(false)).then(|| {
                ("securityContext/allowPrivilegeEscalation".to_owned(), value.cloned().unwrap_or(Value::Null))
            })
        },
        |template, flagged| {
            let mut finding = DIAGNOSTIC
                .finding(
                    Severity::P3,
                    format!("{}: privilege escalation allowed ({})", pod_spec::name(template), pod_spec::container_names(flagged)),
                )
                .explanation(format!(
                    "The {} of {} do not set allowPrivilegeEscalation: false, so a setuid binary in the image \
                     can give a process more privileges than its parent.",
                    pod_spec::container_phrase(flagged),
                    pod_spec::name(template)
                ));
            if let Some(patch) =
                pod_spec::security_patch(template, flagged, "allowPrivilegeEscalation", false)
            {
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
    fn unset_or_true_is_flagged() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: data}
spec:
  template:
    spec:
      initContainers: [{name: init, image: busybox, securityContext: {allowPrivilegeEscalation: true}}]
      containers: [{name: postgres, image: postgres}]
"#,
            expect![[r#"
                P3 privilege-escalation-allowed StatefulSet data/db: privilege escalation allowed (init, postgres)
                  objects: StatefulSet/data/db
                  field StatefulSet/data/db /spec/template/spec/initContainers/0/securityContext/allowPrivilegeEscalation = true
                  field StatefulSet/data/db /spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation = null
                  why: The containers init, postgres of StatefulSet data/db do not set allowPrivilegeEscalation: false, so a setuid binary in the image can give a process more privileges than its parent.
                  $ kubectl patch statefulset/db -n data -p '{"spec":{"template":{"spec":{"containers":[{"name":"postgres","securityContext":{"allowPrivilegeEscalation":false}}],"initContainers":[{"name":"init","securityContext":{"allowPrivilegeEscalation":false}}]}}}}'
                  $ kubectl get statefulset db -n data -o yaml
            "#]],
        );
    }

    #[test]
    fn false_is_fine() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: v1
kind: Pod
metadata: {name: tool, namespace: ops}
spec: {containers: [{name: tool, image: tool, securityContext: {allowPrivilegeEscalation: false}}]}
"#,
            expect![[r#"
                no findings
            "#]],
        );
    }
}
