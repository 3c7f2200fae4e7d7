//! Diagnostic `node-restarted`: pods restarted with their node;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::collections::BTreeMap;

use jiff::Timestamp;
use kubesnap_shared::model::{Object, ObjectRef};

use crate::diagnostics::Diagnostic;
use crate::diagnostics::pods::pod_restarts::ended_by_node;
use crate::facts::Facts;
use crate::facts::containers::{self, ContainerStatus};
use crate::facts::kubectl;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "node-restarted",
    category: Category::Nodes,
    title: "Pods restarted with their node",
    severities: &[Severity::P3],
    what: "Containers whose last run was ended by their node rather than by the program: \
           `lastState.terminated.reason` `Unknown` (exit code 255), what the kubelet records when it finds \
           a container gone after the node or its container runtime restarted. They are grouped per node \
           into one note, with the time of the last such end and whether every one of them has run and been \
           ready for 10 minutes since (then it is history: resolved).",
    why: "A node restart shows as restarts of every pod on it; read one by one they look like crash loops, \
          but they are one event of the node. Resolved when every such container has run ready since.",
    fix: "Nothing to do when the restarts are history; if the node restarts often, read the node's system \
          log (why it rebooted or why the runtime restarted).",
    example: "`Node worker-1: 6 pods restarted with the node (last ended Unknown, exit code 255, at \
              2025-06-01T09:42:35Z)`.",
    needs: &[],
    run,
};

/// How many pods a finding names as objects besides the node.
const PODS_NAMED: usize = 10;

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut per_node: BTreeMap<&str, Vec<(&Object, ContainerStatus<'_>)>> = BTreeMap::new();
    for pod in facts.cluster().of_kind("Pod") {
        let Some(node) = pod.str_at("/spec/nodeName") else { continue };
        for status in containers::statuses(pod) {
            if status.restart_count() > 0 && status.running() && ended_by_node(&status) {
                per_node.entry(node).or_default().push((pod, status));
            }
        }
    }
    per_node.into_iter().map(|(node, containers)| finding(facts, node, &containers)).collect()
}

fn finding(facts: &Facts<'_>, node: &str, containers: &[(&Object, ContainerStatus<'_>)]) -> Finding {
    let node_ref = ObjectRef { kind: "Node".to_owned(), namespace: None, name: node.to_owned() };
    let mut pods: Vec<ObjectRef> = containers.iter().map(|(pod, _)| pod.reference()).collect();
    pods.dedup();
    let last_end = |status: &ContainerStatus<'_>| {
        status
            .last_termination()
            .and_then(|last| last.finished_at)
            .and_then(|at| at.parse::<Timestamp>().ok())
    };
    let latest = containers.iter().filter_map(|(_, status)| last_end(status)).max();
    let most = containers.iter().map(|(_, status)| status.restart_count()).max().unwrap_or(0);
    let resolved = facts
        .cluster()
        .captured_at
        .is_some_and(|now| containers.iter().all(|(_, status)| status.restarts_are_history(now)));
    let at = latest.map(|at| format!(", at {at}")).unwrap_or_default();
    let title = format!(
        "Node {node}: {} restarted with the node (last ended Unknown, exit code 255{at}){}",
        plural(pods.len(), "pod"),
        if resolved { "; running and ready since" } else { "" }
    );
    let mut finding = DIAGNOSTIC.finding(Severity::P3, title).resolved_if(resolved).object(node_ref.clone());
    for pod in pods.iter().take(PODS_NAMED) {
        finding = finding.object(pod.clone());
    }
    for (pod, status) in containers.iter().take(PODS_NAMED) {
        let Some(last) = status.last_termination() else { continue };
        if let Some(finished_at) = last.finished_at {
            finding = finding.evidence(Evidence::field(
                pod.reference(),
                format!("{}/finishedAt", last.pointer),
                &finished_at.into(),
            ));
        }
    }
    if pods.len() > PODS_NAMED {
        finding = finding.evidence(Evidence::note(format!("and {} more pods", pods.len() - PODS_NAMED)));
    }
    let explanation = format!(
        "{} on node {node} last ended with reason Unknown and exit code 255: the kubelet found them gone \
         after the node or its container runtime restarted, not because the programs failed. The highest \
         restart count among them is {most}, about how many times the node went down while they existed. {}",
        plural(containers.len(), "container"),
        if resolved {
            "Every one of them has run and been ready for at least 10 minutes before the capture: this is \
             history."
        } else {
            "Some have not run ready for 10 minutes yet: the node restarted shortly before the capture."
        }
    );
    finding.explanation(explanation).remediation(kubectl::describe(&node_ref))
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    fn pod(name: &str, reason: &str, started_at: &str) -> String {
        format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: kube-system}}
spec: {{nodeName: dev-0, containers: [{{name: app, image: app}}]}}
status:
  phase: Running
  containerStatuses:
  - name: app
    restartCount: 96
    ready: true
    state: {{running: {{startedAt: "{started_at}"}}}}
    lastState: {{terminated: {{exitCode: 255, reason: {reason}, finishedAt: "2025-06-01T05:00:00Z"}}}}
"#
        )
    }

    #[test]
    fn pods_ended_by_a_node_restart_are_one_resolved_note_about_the_node() {
        let fixture = format!(
            "{}---{}",
            pod("coredns-1", "Unknown", "2025-06-01T05:01:00Z"),
            pod("traefik-1", "Unknown", "2025-06-01T05:01:10Z")
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
                P3 resolved node-restarted Node dev-0: 2 pods restarted with the node (last ended Unknown, exit code 255, at 2025-06-01T05:00:00Z); running and ready since
                  objects: Node/dev-0, Pod/kube-system/coredns-1, Pod/kube-system/traefik-1
                  field Pod/kube-system/coredns-1 /status/containerStatuses/0/lastState/terminated/finishedAt = 2025-06-01T05:00:00Z
                  field Pod/kube-system/traefik-1 /status/containerStatuses/0/lastState/terminated/finishedAt = 2025-06-01T05:00:00Z
                  why: 2 containers on node dev-0 last ended with reason Unknown and exit code 255: the kubelet found them gone after the node or its container runtime restarted, not because the programs failed. The highest restart count among them is 96, about how many times the node went down while they existed. Every one of them has run and been ready for at least 10 minutes before the capture: this is history.
                  $ kubectl describe node dev-0
            "#]],
        );
    }

    #[test]
    fn a_recent_node_restart_is_not_history_and_program_errors_are_not_node_restarts() {
        check(
            &DIAGNOSTIC,
            &pod("coredns-1", "Unknown", "2025-06-01T11:58:00Z"),
            expect![[r#"
                P3 node-restarted Node dev-0: 1 pod restarted with the node (last ended Unknown, exit code 255, at 2025-06-01T05:00:00Z)
                  objects: Node/dev-0, Pod/kube-system/coredns-1
                  field Pod/kube-system/coredns-1 /status/containerStatuses/0/lastState/terminated/finishedAt = 2025-06-01T05:00:00Z
                  why: 1 container on node dev-0 last ended with reason Unknown and exit code 255: the kubelet found them gone after the node or its container runtime restarted, not because the programs failed. The highest restart count among them is 96, about how many times the node went down while they existed. Some have not run ready for 10 minutes yet: the node restarted shortly before the capture.
                  $ kubectl describe node dev-0
            "#]],
        );
        check(
            &DIAGNOSTIC,
            &pod("coredns-1", "Error", "2025-06-01T05:01:00Z"),
            expect![[r#"
            no findings
        "#]],
        );
    }
}
