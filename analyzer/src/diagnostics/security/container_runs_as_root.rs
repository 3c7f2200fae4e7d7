//! Diagnostic: container-runs-as-root.
//!
//! **What it checks.** Workloads with containers that run as root or may: `runAsUser: 0`, or
//! neither `runAsNonRoot: true` nor a non-zero `runAsUser` (container or pod level), so the
//! image's own user decides, and most images default to root. One finding per workload.
//!
//! **Why it matters.** The seed's security context check: a process running as root in a
//! container is root on the node if it escapes the container.
//!
//! **Example.** `Deployment shop/api: containers api, metrics may run as root`, with the
//! `kubectl patch` that sets `runAsNonRoot: true`.

use kubesnap_shared::json::Value;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::containers::security_field;
use crate::facts::kubectl;
use crate::facts::pod_spec::{self, per_workload};
use crate::finding::{Category, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "container-runs-as-root",
    category: Category::Security,
    title: "Containers that may run as root",
    severities: &[Severity::P3],
    what: "Workloads with containers whose securityContext (container or pod) sets runAsUser 0, or sets neither \
           runAsNonRoot: true nor a non-zero runAsUser, leaving the image's user (usually root).",
    why: "A process running as root in a container is root on the node if it escapes the container.",
    fix: "Set securityContext.runAsNonRoot: true and a non-zero runAsUser, and build the image with a \
          non-root USER.",
    needs: &[],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    per_workload(
        facts,
        |pod_spec, container| {
            let user = security_field(pod_spec, container, "runAsUser").and_then(Value::as_i64);
            let non_root = security_field(pod_spec, container, "runAsNonRoot").and_then(Value::as_bool);
            match (user, non_root) {
                (Some(0), _) => Some(("securityContext/runAsUser".to_owned(), Value::from(0))),
                (Some(_), _) | (None, Some(true)) => None,
                (None, _) => Some((
                    "securityContext/runAsNonRoot".to_owned(),
                    non_root.map(Value::from).unwrap_or(Value::Null),
                )),
            }
        },
        |template, flagged| {
            let explicit = flagged.iter().filter(|item| item.value == 0).count();
            let verb = if explicit == flagged.len() { "runs as root" } else { "may run as root" };
            let mut finding = DIAGNOSTIC
                .finding(Severity::P3, format!("{}: {verb} ({})", pod_spec::name(template), pod_spec::container_names(flagged)))
                .explanation(format!(
                    "{} does not make {} run as a non-root user{}; a process that escapes a container running as \
                     root is root on the node.",
                    pod_spec::name(template),
                    pod_spec::container_phrase(flagged),
                    if explicit > 0 {
                        " (runAsUser is 0 for some)"
                    } else {
                        " (no runAsNonRoot: true, no runAsUser), so the image's user decides"
                    }
                ));
            // runAsNonRoot with an explicit runAsUser 0 would stop the container from starting:
            // only offer the patch when no container asks for root by number.
            if explicit == 0
                && let Some(patch) = pod_spec::security_patch(template, flagged, "runAsNonRoot", true)
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
    fn one_finding_per_workload_naming_its_containers() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: shop}
spec:
  template:
    spec:
      containers:
      - {name: postgres, image: postgres}
      - {name: exporter, image: exporter, securityContext: {runAsUser: 0}}
"#,
            expect![[r#"
                P3 container-runs-as-root Deployment shop/db: may run as root (postgres, exporter)
                  objects: Deployment/shop/db
                  field Deployment/shop/db /spec/template/spec/containers/0/securityContext/runAsNonRoot = null
                  field Deployment/shop/db /spec/template/spec/containers/1/securityContext/runAsUser = 0
                  why: Deployment shop/db does not make containers postgres, exporter run as a non-root user (runAsUser is 0 for some); a process that escapes a container running as root is root on the node.
                  $ kubectl get deployment db -n shop -o yaml
            "#]],
        );
    }

    #[test]
    fn non_root_at_pod_or_container_level_is_fine() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
      - {name: api, image: api}
      - {name: side, image: side, securityContext: {runAsUser: 1000}}
"#,
            expect![[r#"
                no findings
            "#]],
        );
    }
}
