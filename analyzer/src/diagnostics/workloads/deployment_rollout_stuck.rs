//! Diagnostic `deployment-rollout-stuck`: deployment rollouts that do not progress;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::{ClusterModel, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::workload::condition_note;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "deployment-rollout-stuck",
    category: Category::Workloads,
    title: "Deployment rollouts that do not progress",
    severities: &[Severity::P1],
    what: "Deployments whose rollout does not progress: `Progressing=False` with reason \
           `ProgressDeadlineExceeded`, or a newest ReplicaSet with no ready pod while an older one still \
           serves, for longer than `progressDeadlineSeconds` before the capture.",
    why: "A stuck rollout leaves the old version serving with reduced capacity, and the next change \
          piles onto it.",
    fix: "Find why the new pods do not become ready (the pod findings say), then fix the change or roll back \
          with `kubectl rollout undo`.",
    example: "`Deployment shop/api: rollout to api-7d9f stuck (ProgressDeadlineExceeded)`, with `kubectl \
              rollout undo deployment/api -n shop`.",
    needs: &[],
    run,
};

/// The Deployment's ReplicaSets by revision, newest first.
fn replica_sets<'a>(model: &'a ClusterModel, deployment: &Object) -> Vec<(i64, &'a Object)> {
    let Some(uid) = deployment.uid() else { return Vec::new() };
    let mut sets: Vec<(i64, &Object)> = model
        .owned_by(uid)
        .filter(|object| object.kind == "ReplicaSet")
        .map(|set| {
            let revision = set
                .annotations()
                .get("deployment.kubernetes.io/revision")
                .and_then(|revision| revision.parse().ok())
                .unwrap_or(0);
            (revision, set)
        })
        .collect();
    sets.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.name.cmp(&b.1.name)));
    sets
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for deployment in facts.cluster().of_kind("Deployment") {
        let sets = replica_sets(facts.cluster(), deployment);
        let newest = sets.first().map(|(_, set)| *set);
        let progressing = deployment.condition("Progressing");
        let deadline_exceeded = progressing
            .is_some_and(|(status, reason, _)| status == "False" && reason == "ProgressDeadlineExceeded");
        let stalled_new_set = newest.is_some_and(|newest| {
            let desired = newest.i64_at("/spec/replicas").unwrap_or(0);
            let ready = newest.i64_at("/status/readyReplicas").unwrap_or(0);
            let old_serving =
                sets.iter().skip(1).any(|(_, set)| set.i64_at("/status/readyReplicas").unwrap_or(0) > 0);
            desired > 0 && ready == 0 && old_serving && overdue(facts.cluster(), deployment, newest)
        });
        if !deadline_exceeded && !stalled_new_set {
            continue;
        }
        let object = deployment.reference();
        let namespace = deployment.namespace.as_deref().unwrap_or_default();
        let target = newest.map(|set| set.name.as_str()).unwrap_or("its new ReplicaSet");
        let why =
            if deadline_exceeded { "ProgressDeadlineExceeded" } else { "new ReplicaSet has no ready pod" };
        let mut finding = DIAGNOSTIC
            .finding(
                Severity::P1,
                format!("Deployment {namespace}/{}: rollout to {target} stuck ({why})", deployment.name),
            )
            .object(object.clone());
        if let Some(newest) = newest {
            finding = finding.object(newest.reference());
        }
        if let Some(condition) = progressing {
            finding = finding.evidence(Evidence::note(condition_note("Progressing", condition)));
        }
        for (revision, set) in sets.iter().take(3) {
            finding = finding.evidence(Evidence::note(format!(
                "ReplicaSet {} (revision {revision}): {} desired, {} ready",
                set.name,
                set.i64_at("/spec/replicas").unwrap_or(0),
                set.i64_at("/status/readyReplicas").unwrap_or(0)
            )));
        }
        findings.push(
            finding
                .explanation(format!(
                    "The rollout of Deployment {} to {target} does not progress: its new pods do not \
                     become ready, so the controller stopped replacing the old ones. The old version \
                     keeps serving with whatever capacity it has left. The pod findings of this report \
                     say why the new pods fail.",
                    deployment.name
                ))
                .remediation(kubectl::rollout("status", &object))
                .remediation(kubectl::rollout("history", &object))
                .remediation(kubectl::rollout("undo", &object)),
        );
    }
    findings
}

/// Whether the newest ReplicaSet is older than the Deployment's progress deadline at capture.
fn overdue(model: &ClusterModel, deployment: &Object, newest: &Object) -> bool {
    let deadline = deployment.i64_at("/spec/progressDeadlineSeconds").unwrap_or(600);
    match (model.captured_at, newest.created_at()) {
        (Some(now), Some(created)) => now.as_second() - created.as_second() > deadline,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    fn fixture(progressing: &str, new_created: &str) -> String {
        format!(
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api, namespace: shop, uid: d1}}
spec: {{replicas: 3, progressDeadlineSeconds: 600}}
status:
  conditions:
  - {{type: Progressing, {progressing}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-new
  namespace: shop
  creationTimestamp: "{new_created}"
  annotations: {{deployment.kubernetes.io/revision: "5"}}
  ownerReferences: [{{kind: Deployment, name: api, uid: d1, controller: true}}]
spec: {{replicas: 1}}
status: {{readyReplicas: 0}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-old
  namespace: shop
  annotations: {{deployment.kubernetes.io/revision: "4"}}
  ownerReferences: [{{kind: Deployment, name: api, uid: d1, controller: true}}]
spec: {{replicas: 3}}
status: {{readyReplicas: 3}}
"#
        )
    }

    #[test]
    fn deadline_exceeded_is_stuck() {
        let fixture = fixture(
            r#"status: "False", reason: ProgressDeadlineExceeded, message: 'ReplicaSet "api-new" has timed out progressing.'"#,
            "2025-06-01T11:58:00Z",
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 deployment-rollout-stuck Deployment shop/api: rollout to api-new stuck (ProgressDeadlineExceeded)
              objects: Deployment/shop/api, ReplicaSet/shop/api-new
              note: Progressing=False ProgressDeadlineExceeded: ReplicaSet "api-new" has timed out progressing.
              note: ReplicaSet api-new (revision 5): 1 desired, 0 ready
              note: ReplicaSet api-old (revision 4): 3 desired, 3 ready
              why: The rollout of Deployment api to api-new does not progress: its new pods do not become ready, so the controller stopped replacing the old ones. The old version keeps serving with whatever capacity it has left. The pod findings of this report say why the new pods fail.
              $ kubectl rollout status deployment/api -n shop
              $ kubectl rollout history deployment/api -n shop
              $ kubectl rollout undo deployment/api -n shop
        "#]],
        );
    }

    #[test]
    fn a_young_rollout_is_still_progressing_and_an_old_stalled_one_is_stuck() {
        let progressing = r#"status: "True", reason: ReplicaSetUpdated"#;
        check(
            &DIAGNOSTIC,
            &fixture(progressing, "2025-06-01T11:58:00Z"),
            expect![[r#"
            no findings
        "#]],
        );
        check(
            &DIAGNOSTIC,
            &fixture(progressing, "2025-06-01T10:00:00Z"),
            expect![[r#"
            P1 deployment-rollout-stuck Deployment shop/api: rollout to api-new stuck (new ReplicaSet has no ready pod)
              objects: Deployment/shop/api, ReplicaSet/shop/api-new
              note: Progressing=True ReplicaSetUpdated
              note: ReplicaSet api-new (revision 5): 1 desired, 0 ready
              note: ReplicaSet api-old (revision 4): 3 desired, 3 ready
              why: The rollout of Deployment api to api-new does not progress: its new pods do not become ready, so the controller stopped replacing the old ones. The old version keeps serving with whatever capacity it has left. The pod findings of this report say why the new pods fail.
              $ kubectl rollout status deployment/api -n shop
              $ kubectl rollout history deployment/api -n shop
              $ kubectl rollout undo deployment/api -n shop
        "#]],
        );
    }
}
