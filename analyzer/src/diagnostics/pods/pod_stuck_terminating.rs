//! Diagnostic `pod-stuck-terminating`: pods stuck terminating;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::Object;

use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::workload::{Origin, group_by_workload, origin};
use crate::finding::{Category, Evidence, Finding, Severity};

/// Minutes past the grace period before a terminating pod counts as stuck.
const MARGIN_MINUTES: i64 = 5;

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "pod-stuck-terminating",
    category: Category::Pods,
    title: "Pods stuck terminating",
    severities: &[Severity::P2, Severity::P3],
    what: "Pods whose deletion was requested but that still exist more than 5 minutes \
           after their grace period ended, measured from the capture time (`metadata.deletionTimestamp` is \
           already the end of the grace period), with their finalizers and node.",
    why: "A pod stuck terminating keeps its name, volumes and IP: a StatefulSet cannot replace it and a \
          ReadWriteOnce volume cannot attach elsewhere.",
    fix: "Find what holds it: a finalizer whose controller is gone, or a node that is down (its kubelet \
          cannot confirm). Remove the finalizer, recover the node, or force-delete once the node is \
          known dead.",
    example: "`Pod db/postgres-0 terminating for 47m past its grace period (finalizers: \
              example.com/backup)`.",
    needs: &[Need::CaptureTime],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let Some(now) = facts.cluster().captured_at else { return Vec::new() };
    let affected: Vec<(&Object, i64)> = facts
        .cluster()
        .of_kind("Pod")
        .filter_map(|pod| {
            let deadline = pod.deleting_since()?;
            let minutes = (now.as_second() - deadline.as_second()) / 60;
            (minutes > MARGIN_MINUTES).then_some((pod, minutes))
        })
        .collect();
    let mut findings = Vec::new();
    for group in group_by_workload(facts, affected) {
        let Some((pod, minutes)) = group.pods.first() else { continue };
        let pod_ref = pod.reference();
        let finalizers: Vec<&str> =
            pod.array_at("/metadata/finalizers").iter().filter_map(|finalizer| finalizer.as_str()).collect();
        let finalizer_text = if finalizers.is_empty() {
            "no finalizers".to_owned()
        } else {
            format!("finalizers: {}", finalizers.join(", "))
        };
        // A collection or test tool deletes its own pods when its run ends: a leftover of that
        // cleanup is a note about the tool, not a stuck workload of the cluster.
        let tool = match origin(facts, pod) {
            Origin::Tool(tool) => Some(tool),
            _ => None,
        };
        let severity = if tool.is_some() { Severity::P3 } else { Severity::P2 };
        let mut finding = DIAGNOSTIC.finding(
            severity,
            format!("{} terminating for {minutes}m past the grace period ({finalizer_text})", group.label()),
        );
        for object in group.objects() {
            finding = finding.object(object);
        }
        if let Some(deadline) = pod.str_at("/metadata/deletionTimestamp") {
            finding = finding.evidence(Evidence::field(
                pod_ref.clone(),
                "/metadata/deletionTimestamp",
                &deadline.into(),
            ));
        }
        if !finalizers.is_empty() {
            finding = finding.evidence(Evidence::field(
                pod_ref.clone(),
                "/metadata/finalizers",
                pod.at("/metadata/finalizers").unwrap_or(&kubesnap_shared::json::Value::Null),
            ));
        }
        let node = pod.str_at("/spec/nodeName");
        let node_ready = node
            .and_then(|node| facts.cluster().get("Node", None, node))
            .and_then(|node| node.condition("Ready"));
        if let (Some(node), Some((status, _, _))) = (node, node_ready) {
            finding = finding.evidence(Evidence::note(format!("node {node} Ready={status}")));
        }
        if group.pods.len() > 1 {
            finding = finding
                .evidence(Evidence::note(format!("also terminating: {}", group.other_pods().join(", "))));
        }
        let mut explanation = format!(
            "Pod {} was asked to stop and its grace period ended {minutes} minutes before the capture, \
             yet it still exists.",
            pod.name
        );
        if let Some(tool) = tool {
            explanation.push_str(&format!(
                " It belongs to {tool}, which deletes its own pods when its run ends: a leftover of that \
                 cleanup, not a workload of the cluster."
            ));
        }
        if !finalizers.is_empty() {
            explanation.push_str(
                " Its finalizers must be removed by their controllers before it can go; \
                                  a finalizer whose controller is gone holds it forever.",
            );
        }
        match node_ready {
            Some((status, _, _)) if status != "True" => explanation.push_str(&format!(
                " Its node {} is not Ready, so no kubelet confirms the containers stopped.",
                node.unwrap_or_default()
            )),
            _ => {}
        }
        finding = finding.explanation(explanation).remediation(kubectl::describe(&pod_ref));
        if !finalizers.is_empty() {
            finding = finding.remediation(
                Kubectl::new("patch pod")
                    .name(&pod.name)
                    .namespace_of(&pod_ref)
                    .arg(r#"--type=merge -p '{"metadata":{"finalizers":null}}'"#),
            );
        }
        findings.push(finding.remediation(
            Kubectl::new("delete pod").name(&pod.name).namespace_of(&pod_ref).arg("--grace-period=0 --force"),
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    fn pod(deletion: &str) -> String {
        format!(
            r#"
apiVersion: v1
kind: Pod
metadata:
  name: postgres-0
  namespace: db
  deletionTimestamp: "{deletion}"
  finalizers: [example.com/backup]
spec: {{nodeName: node-3, containers: [{{name: pg, image: postgres}}]}}
status: {{phase: Running}}
---
apiVersion: v1
kind: Node
metadata: {{name: node-3}}
status: {{conditions: [{{type: Ready, status: Unknown}}]}}
"#
        )
    }

    #[test]
    fn a_pod_long_past_its_grace_period() {
        // The fixture's capture time is 2025-06-01T12:00:00Z.
        check(
            &DIAGNOSTIC,
            &pod("2025-06-01T11:13:00Z"),
            expect![[r#"
            P2 pod-stuck-terminating Pod db/postgres-0 terminating for 47m past the grace period (finalizers: example.com/backup)
              objects: Pod/db/postgres-0
              field Pod/db/postgres-0 /metadata/deletionTimestamp = 2025-06-01T11:13:00Z
              field Pod/db/postgres-0 /metadata/finalizers = ["example.com/backup"]
              note: node node-3 Ready=Unknown
              why: Pod postgres-0 was asked to stop and its grace period ended 47 minutes before the capture, yet it still exists. Its finalizers must be removed by their controllers before it can go; a finalizer whose controller is gone holds it forever. Its node node-3 is not Ready, so no kubelet confirms the containers stopped.
              $ kubectl describe pod postgres-0 -n db
              $ kubectl patch pod postgres-0 -n db --type=merge -p '{"metadata":{"finalizers":null}}'
              $ kubectl delete pod postgres-0 -n db --grace-period=0 --force
        "#]],
        );
    }

    #[test]
    fn a_tool_pod_left_by_its_cleanup_is_a_note() {
        let fixture = pod("2025-06-01T11:13:00Z")
            .replace("namespace: db\n", "namespace: db\n  labels: {sonobuoy-component: plugin}\n");
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
                P3 pod-stuck-terminating Pod db/postgres-0 terminating for 47m past the grace period (finalizers: example.com/backup)
                  objects: Pod/db/postgres-0
                  field Pod/db/postgres-0 /metadata/deletionTimestamp = 2025-06-01T11:13:00Z
                  field Pod/db/postgres-0 /metadata/finalizers = ["example.com/backup"]
                  note: node node-3 Ready=Unknown
                  why: Pod postgres-0 was asked to stop and its grace period ended 47 minutes before the capture, yet it still exists. It belongs to sonobuoy, a conformance and diagnostics tool, which deletes its own pods when its run ends: a leftover of that cleanup, not a workload of the cluster. Its finalizers must be removed by their controllers before it can go; a finalizer whose controller is gone holds it forever. Its node node-3 is not Ready, so no kubelet confirms the containers stopped.
                  $ kubectl describe pod postgres-0 -n db
                  $ kubectl patch pod postgres-0 -n db --type=merge -p '{"metadata":{"finalizers":null}}'
                  $ kubectl delete pod postgres-0 -n db --grace-period=0 --force
            "#]],
        );
    }

    #[test]
    fn a_pod_within_the_margin_is_still_stopping() {
        check(
            &DIAGNOSTIC,
            &pod("2025-06-01T11:57:00Z"),
            expect![[r#"
            no findings
        "#]],
        );
    }
}
