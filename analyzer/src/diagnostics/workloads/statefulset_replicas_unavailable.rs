//! Diagnostic `statefulset-replicas-unavailable`: statefulSets with replicas not ready;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "statefulset-replicas-unavailable",
    category: Category::Workloads,
    title: "StatefulSets with replicas not ready",
    severities: &[Severity::P0, Severity::P1],
    what: "StatefulSets with fewer ready replicas than desired (`status.readyReplicas < spec.replicas`), \
           naming the missing ordinals' pods when the bundle shows them.",
    why: "StatefulSets run stateful services: no ready replica is an outage (and maybe lost quorum); \
          pods start in order, so one stuck ordinal blocks the ones after it.",
    fix: "Fix the first ordinal that is not ready (the pod findings say why: often its PersistentVolumeClaim \
          or node), then let the controller continue.",
    example: "`StatefulSet data/postgres: 1 of 3 replicas ready`.",
    needs: &[],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for set in facts.cluster().of_kind("StatefulSet") {
        let desired = set.i64_at("/spec/replicas").unwrap_or(1);
        let ready = set.i64_at("/status/readyReplicas").unwrap_or(0);
        if desired <= 0 || ready >= desired {
            continue;
        }
        let object = set.reference();
        let namespace = set.namespace.as_deref();
        let not_ready: Vec<String> = (0..desired)
            .map(|ordinal| format!("{}-{ordinal}", set.name))
            .filter(|name| match facts.cluster().get("Pod", namespace, name) {
                Some(pod) => pod.condition("Ready").is_none_or(|(status, _, _)| status != "True"),
                None => true,
            })
            .collect();
        let severity = if ready == 0 { Severity::P0 } else { Severity::P1 };
        let mut finding = DIAGNOSTIC
            .finding(
                severity,
                format!(
                    "StatefulSet {}/{}: {ready} of {desired} replicas ready",
                    namespace.unwrap_or_default(),
                    set.name
                ),
            )
            .object(object.clone())
            .evidence(Evidence::field(object.clone(), "/spec/replicas", &desired.into()))
            .evidence(Evidence::field(object.clone(), "/status/readyReplicas", &ready.into()));
        if !not_ready.is_empty() {
            finding = finding
                .evidence(Evidence::note(format!("pods missing or not Ready: {}", not_ready.join(", "))));
        }
        let first = not_ready.first().cloned();
        finding = finding.explanation(format!(
            "StatefulSet {} wants {desired} replicas and {ready} are ready.{} Pods of a StatefulSet \
             start in order: the first one that is not ready blocks the ones after it.",
            set.name,
            first.as_ref().map(|pod| format!(" The first not ready is {pod}.")).unwrap_or_default()
        ));
        finding = finding.remediation(kubectl::describe(&object));
        if let Some(first) = first {
            let pod = kubesnap_shared::model::ObjectRef {
                kind: "Pod".to_owned(),
                namespace: set.namespace.clone(),
                name: first,
            };
            finding = finding.remediation(kubectl::describe(&pod));
        }
        findings.push(finding.remediation(Kubectl::new("get pvc").namespace_of(&object)));
    }
    findings
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    fn fixture(ready: u32) -> String {
        format!(
            r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: postgres, namespace: data}}
spec: {{replicas: 3}}
status: {{readyReplicas: {ready}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: postgres-0, namespace: data}}
status: {{conditions: [{{type: Ready, status: "True"}}]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: postgres-1, namespace: data}}
status: {{conditions: [{{type: Ready, status: "False"}}]}}
"#
        )
    }

    #[test]
    fn names_the_first_ordinal_not_ready() {
        check(
            &DIAGNOSTIC,
            &fixture(1),
            expect![[r#"
            P1 statefulset-replicas-unavailable StatefulSet data/postgres: 1 of 3 replicas ready
              objects: StatefulSet/data/postgres
              field StatefulSet/data/postgres /spec/replicas = 3
              field StatefulSet/data/postgres /status/readyReplicas = 1
              note: pods missing or not Ready: postgres-1, postgres-2
              why: StatefulSet postgres wants 3 replicas and 1 are ready. The first not ready is postgres-1. Pods of a StatefulSet start in order: the first one that is not ready blocks the ones after it.
              $ kubectl describe statefulset postgres -n data
              $ kubectl describe pod postgres-1 -n data
              $ kubectl get pvc -n data
        "#]],
        );
    }

    #[test]
    fn all_ready_is_fine() {
        check(
            &DIAGNOSTIC,
            &fixture(3),
            expect![[r#"
            no findings
        "#]],
        );
    }
}
