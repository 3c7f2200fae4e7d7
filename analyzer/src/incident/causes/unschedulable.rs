//! Rule `unschedulable` (scheduling): pods stay Pending because no node can take them, with
//! the scheduler's own message and the blocker recomputed per node with its numbers.
//!
//! Fires per workload (or lone pod) with Pending pods that have no node and a `PodScheduled=False`
//! condition or a `FailedScheduling` event. The scheduler's message is quoted; [`super::fit`]
//! recomputes each node's blockers (cordoned, taints, nodeSelector/affinity, requests against
//! what is left, host ports held by another pod, anti-affinity) and the pod's unbound claims.
//! When the recomputed blockers account for every node the hypothesis is established (85); when
//! only the message says why, 75. Pods kept off only by the `not-ready` taint of a NotReady node
//! are left to `node-not-ready`. Severity from the impact (P1 when a Service or a Deployment's
//! replicas depend on the pods and none serves, P2 otherwise).
//!
//! Disproved by: a node where the pod fits (then the scheduler has not retried, or the bundle's
//! requests are stale), or the pod scheduled in a newer capture.

use std::collections::BTreeMap;

use kubesnap_shared::model::{Object, ObjectRef};

use super::node_not_ready::kept_off_by_not_ready;
use super::{Context, Hypothesis, Step, clip, impact, subject_of};
use crate::facts::kubectl;
use crate::facts::network::pod_health;
use crate::facts::scheduling::{self as fit, Blocker};
use crate::finding::Severity;

/// The scheduler's latest word on a pending pod: the PodScheduled condition's message, else the
/// newest FailedScheduling event.
fn scheduler_message(context: &Context<'_, '_>, pod: &Object) -> Option<String> {
    let from_condition = pod
        .condition("PodScheduled")
        .filter(|(status, _, message)| *status == "False" && !message.is_empty())
        .map(|(_, _, message)| message.to_owned());
    from_condition.or_else(|| {
        super::warnings(context.facts.cluster(), pod, &["FailedScheduling"])
            .last()
            .map(|event| event.message.clone())
    })
}

fn is_pending_unscheduled(pod: &Object) -> bool {
    pod.str_at("/status/phase") == Some("Pending")
        && pod.str_at("/spec/nodeName").is_none_or(str::is_empty)
        && !pod_health::is_gone(pod)
}

pub(super) fn rule(context: &Context<'_, '_>) -> Vec<Hypothesis> {
    let facts = context.facts;
    let model = facts.cluster();
    let any_not_ready = model
        .of_kind("Node")
        .any(|node| node.condition("Ready").is_some_and(|(status, _, _)| status != "True"));
    let mut groups: BTreeMap<ObjectRef, Vec<(&Object, String)>> = BTreeMap::new();
    for pod in model.of_kind("Pod").filter(|pod| is_pending_unscheduled(pod)) {
        let Some(message) = scheduler_message(context, pod) else { continue };
        if any_not_ready && kept_off_by_not_ready(pod).is_some() {
            continue;
        }
        groups.entry(subject_of(facts, pod)).or_default().push((pod, message));
    }
    groups.into_iter().map(|(subject, pods)| hypothesis(context, &subject, &pods)).collect()
}

fn hypothesis(context: &Context<'_, '_>, subject: &ObjectRef, pods: &[(&Object, String)]) -> Hypothesis {
    let facts = context.facts;
    let model = facts.cluster();
    let (pod, message) = &pods[0];
    let fit = fit::of_pod(model, pod);
    let name = crate::incident::links::label(subject);
    // The blocker classes, with the nodes each blocks, most nodes first.
    let mut by_class: BTreeMap<&'static str, Vec<(String, Blocker)>> = BTreeMap::new();
    for (node, blockers) in &fit.nodes {
        for blocker in blockers {
            by_class.entry(blocker.class()).or_default().push((node.clone(), blocker.clone()));
        }
    }
    let fitting = fit.fitting();
    let established = (!fit.nodes.is_empty() && fitting.is_empty()) || !fit.volumes.is_empty();
    let mut classes: Vec<(&&str, &Vec<(String, Blocker)>)> = by_class.iter().collect();
    classes.sort_by_key(|(class, nodes)| (std::cmp::Reverse(nodes.len()), **class));
    let headline_blocker = if let Some(volume) = fit.volumes.first() {
        volume.clone()
    } else if let Some((_, nodes)) = classes.first() {
        let (node, blocker) = &nodes[0];
        if fit.nodes.len() == 1 {
            format!("{} on node {node}", blocker.text())
        } else {
            format!("{} on {} of {} nodes (e.g. {node})", blocker.text(), nodes.len(), fit.nodes.len())
        }
    } else {
        String::new()
    };
    let count = pods.len();
    let pods_word = if count == 1 { "pod".to_owned() } else { format!("{count} pods") };
    let title = if established && !headline_blocker.is_empty() {
        format!("{name} cannot be scheduled ({pods_word} Pending): {headline_blocker}")
    } else {
        format!("{name} cannot be scheduled ({pods_word} Pending): `{}`", clip(message))
    };
    let score = if established { 85 } else { 75 };
    let mut hypothesis = context.hypothesis("unschedulable", title, score, Severity::P1);
    let failing: Vec<&Object> = pods.iter().map(|(pod, _)| *pod).collect();
    hypothesis.own_severity = Some(impact(facts, &failing));
    hypothesis.evidence.push(format!("the scheduler says: `{}`", clip(message)));
    for (node, blockers) in fit.nodes.iter().take(6) {
        let text = match blockers.as_slice() {
            [] => "nothing blocks it there".to_owned(),
            blockers => blockers.iter().map(Blocker::text).collect::<Vec<_>>().join("; "),
        };
        hypothesis.evidence.push(format!("node {node}: {text}"));
    }
    for volume in &fit.volumes {
        hypothesis.evidence.push(volume.clone());
    }
    let (cpu, memory) = fit::requests(pod);
    let mut asked = Vec::new();
    if cpu > 0.0 {
        asked.push(format!("{} CPU", crate::facts::performance::units::cpu(cpu)));
    }
    if memory > 0.0 {
        asked.push(format!("{} memory", crate::facts::performance::units::memory(memory)));
    }
    if !asked.is_empty() {
        hypothesis.evidence.push(format!("pod {} requests {}", pod.name, asked.join(" and ")));
    }
    let mut objects = vec![subject.clone()];
    for (pod, message) in pods {
        objects.push(pod.reference());
        let since = pod
            .array_at("/status/conditions")
            .iter()
            .find(|c| c.get("type").and_then(kubesnap_shared::json::Value::as_str) == Some("PodScheduled"))
            .and_then(|c| c.get("lastTransitionTime").and_then(kubesnap_shared::json::Value::as_str))
            .and_then(|t| t.parse().ok())
            .or_else(|| pod.created_at());
        hypothesis.chain.push(Step::new(
            since,
            pod.reference(),
            format!("pod {} Pending: `{}`", pod.name, clip(message)),
        ));
    }
    for (node, blocker) in classes.iter().flat_map(|(_, nodes)| nodes.iter()).take(3) {
        if let Blocker::HostPort(text) | Blocker::AntiAffinity(text) = blocker {
            hypothesis.chain.push(Step::new(
                None,
                ObjectRef { kind: "Node".to_owned(), namespace: None, name: node.clone() },
                text.clone(),
            ));
        }
    }
    if !fitting.is_empty() {
        hypothesis.disproved_by.push(format!(
            "the pod fits on {} by the bundle's numbers: the scheduler may not have retried since, or requests changed",
            fitting.join(", ")
        ));
    }
    hypothesis.disproved_by.push(format!("the pods of {name} scheduled in a newer capture"));
    hypothesis.findings = context.linked(
        &[
            "pod-pending-unschedulable",
            "application-down",
            "deployment-replicas-unavailable",
            "statefulset-replicas-unavailable",
            "daemonset-pods-unavailable",
            "pvc-pending",
            "node-overcommitted",
            "loadbalancer-pending",
        ],
        &objects,
    );
    hypothesis.objects = objects;
    hypothesis.mitigation.push(kubectl::describe(&pod.reference()));
    let class = classes.first().map(|(class, _)| **class).unwrap_or_default();
    match class {
        "resources" => {
            hypothesis.mitigation.push("kubectl describe nodes | grep -A8 'Allocated resources'".to_owned())
        }
        "cordoned" => {
            for node in fit.nodes.keys().take(2) {
                hypothesis.mitigation.push(format!("kubectl uncordon {}", kubectl::word(node)));
            }
        }
        "host port" => hypothesis.mitigation.push(
            "kubectl get pods -A -o wide --field-selector status.phase=Running | grep -i svclb".to_owned(),
        ),
        _ => hypothesis.mitigation.push("kubectl get nodes --show-labels".to_owned()),
    }
    hypothesis.mitigation.push(kubectl::events(&pod.reference()));
    hypothesis
}

#[cfg(test)]
mod tests {
    use crate::incident::causes::tests::{of_rule, ranked};

    const NODE: &str = r#"
kind: Node
apiVersion: v1
metadata: {name: n1, labels: {kubernetes.io/hostname: n1}}
status:
  allocatable: {cpu: "2", memory: 4Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
---
kind: Pod
apiVersion: v1
metadata: {name: lb-traefik-1, namespace: kube-system}
spec:
  nodeName: n1
  containers: [{name: lb, image: klipper, ports: [{containerPort: 80, hostPort: 80}], resources: {requests: {cpu: 1300m}}}]
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
"#;

    fn pending(ports: &str, cpu: &str) -> String {
        format!(
            r#"
---
kind: Pod
apiVersion: v1
metadata: {{name: lb-web-1, namespace: test}}
spec:
  containers: [{{name: lb, image: klipper, ports: [{ports}], resources: {{requests: {{cpu: {cpu}}}}}}}]
status:
  phase: Pending
  conditions:
  - {{type: PodScheduled, status: "False", reason: Unschedulable, lastTransitionTime: "2025-06-01T10:00:00Z",
     message: "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."}}
"#
        )
    }

    #[test]
    fn a_host_port_held_by_another_pod_is_named_with_its_holder() {
        let out =
            of_rule(&[NODE, &pending("{containerPort: 80, hostPort: 80}", "100m")].concat(), "unschedulable");
        assert!(
            out.contains("Pod test/lb-web-1 cannot be scheduled (pod Pending): host port 80/TCP is held by Pod kube-system/lb-traefik-1 on node n1"),
            "{out}"
        );
        assert!(
            out.contains("the scheduler says: `0/1 nodes are available: 1 node(s) didn't have free ports"),
            "{out}"
        );
    }

    #[test]
    fn requests_beyond_what_is_left_are_named_with_numbers() {
        let out = of_rule(&[NODE, &pending("{containerPort: 8080}", "800m")].concat(), "unschedulable");
        assert!(
            out.contains("needs 800m CPU, the node has 700m left of 2 cores (1.3 cores requested by 1 pods)"),
            "{out}"
        );
    }

    #[test]
    fn a_pod_that_fits_is_only_the_scheduler_s_word_and_says_what_disproves_it() {
        let out = ranked(&[NODE, &pending("{containerPort: 8080}", "100m")].concat());
        assert!(out.contains("[unschedulable 80 P2]"), "{out}");
        assert!(out.contains("disproved by: the pod fits on n1 by the bundle's numbers"), "{out}");
    }
}
