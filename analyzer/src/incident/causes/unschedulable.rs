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

use super::{Context, Hypothesis, Step, clip, impact, subject_of};
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
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
    let waits_for_node =
        |pod: &Object| any_not_ready && !super::node_not_ready::waits_for(facts, pod).is_empty();
    let mut groups: BTreeMap<ObjectRef, Vec<(&Object, String)>> = BTreeMap::new();
    for pod in model.of_kind("Pod").filter(|pod| is_pending_unscheduled(pod)) {
        let Some(message) = scheduler_message(context, pod) else { continue };
        if waits_for_node(pod) {
            continue;
        }
        groups.entry(subject_of(facts, pod)).or_default().push((pod, message));
    }
    groups.into_iter().map(|(subject, pods)| hypothesis(context, &subject, &pods)).collect()
}

/// The blocker that decides, in one phrase: an unbound claim; else the pod's own node choice when
/// it rules nodes out (matching none, or only nodes blocked for another reason, named); else a
/// request larger than any node; else the blocker of most nodes.
fn headline(
    model: &kubesnap_shared::model::ClusterModel,
    pod: &Object,
    fit: &fit::Fit,
    classes: &[(&&str, &Vec<(String, Blocker)>)],
) -> String {
    if let Some(volume) = fit.volumes.first() {
        return volume.clone();
    }
    let selectable = fit.selectable();
    if let Some(choice) = fit::node_choice(pod)
        && selectable.len() < fit.nodes.len()
    {
        return match selectable.as_slice() {
            [] => format!("its {choice} matches none of the {} nodes", fit.nodes.len()),
            nodes => {
                let why: Vec<String> = nodes
                    .iter()
                    .filter_map(|node| {
                        let blockers = fit.nodes.get(*node)?;
                        let text = blockers.iter().map(Blocker::text).collect::<Vec<_>>().join("; ");
                        Some(if text.is_empty() {
                            format!("{node} (fits)")
                        } else {
                            format!("{node}: {text}")
                        })
                    })
                    .collect();
                let only = if nodes.len() == 1 { "node" } else { "nodes" };
                format!("its {choice} matches only {only} {}", why.join("; "))
            }
        };
    }
    if let Some(beyond) = fit::beyond_every_node(model, pod) {
        return beyond;
    }
    let Some((_, nodes)) = classes.first() else { return String::new() };
    let (node, blocker) = &nodes[0];
    if fit.nodes.len() == 1 {
        format!("{} on node {node}", blocker.text())
    } else if nodes.len() == fit.nodes.len() {
        format!("{} on every node (e.g. {node})", blocker.text())
    } else {
        let rest: Vec<String> = classes
            .iter()
            .skip(1)
            .map(|(class, nodes)| {
                let names: Vec<&str> = nodes.iter().map(|(node, _)| node.as_str()).collect();
                format!("{class} on {}", names.join(", "))
            })
            .collect();
        let rest = if rest.is_empty() { String::new() } else { format!("; the others: {}", rest.join("; ")) };
        format!("{} on {} of {} nodes (e.g. {node}){rest}", blocker.text(), nodes.len(), fit.nodes.len())
    }
}

fn hypothesis(context: &Context<'_, '_>, subject: &ObjectRef, pods: &[(&Object, String)]) -> Hypothesis {
    let facts = context.facts;
    let model = facts.cluster();
    let (pod, message) = &pods[0];
    let fit = facts.fit(pod);
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
    let headline_blocker = headline(model, pod, &fit, &classes);
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
        let since = pod.condition_since("PodScheduled").or_else(|| pod.created_at());
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
            "the pod fits on {} by the bundle's numbers: the scheduler may not have retried since, or \
             requests changed",
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
    hypothesis.mitigation.push(kubectl::describe(&pod.reference()).into());
    let class = classes.first().map(|(class, _)| **class).unwrap_or_default();
    match class {
        "resources" => {
            hypothesis.mitigation.push(Kubectl::new("describe nodes | grep -A8 'Allocated resources'").into())
        }
        "cordoned" => {
            for node in fit.nodes.keys().take(2) {
                hypothesis.mitigation.push(Kubectl::new("uncordon").name(node).into());
            }
        }
        "host port" => hypothesis.mitigation.push(
            Kubectl::new("get pods -A -o wide --field-selector status.phase=Running | grep -i svclb").into(),
        ),
        _ => hypothesis.mitigation.push(Kubectl::new("get nodes --show-labels").into()),
    }
    hypothesis.mitigation.push(kubectl::events(&pod.reference()).into());
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
            out.contains(
                "Pod test/lb-web-1 cannot be scheduled (pod Pending): host port 80/TCP is held \
                          by Pod kube-system/lb-traefik-1 on node n1"
            ),
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

    /// Three nodes: two Ready in zones a and b, one NotReady (its taint) in zone c.
    const ZONES: &str = r#"
kind: Node
apiVersion: v1
metadata: {name: a1, labels: {kubernetes.io/hostname: a1, topology.kubernetes.io/zone: a}}
status:
  allocatable: {cpu: "4", memory: 8Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
---
kind: Node
apiVersion: v1
metadata: {name: b1, labels: {kubernetes.io/hostname: b1, topology.kubernetes.io/zone: b}}
status:
  allocatable: {cpu: "4", memory: 8Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
---
kind: Node
apiVersion: v1
metadata: {name: c1, labels: {kubernetes.io/hostname: c1, topology.kubernetes.io/zone: c}}
spec:
  taints: [{key: node.kubernetes.io/not-ready, effect: NoSchedule}]
status:
  allocatable: {cpu: "4", memory: 8Gi, pods: "110"}
  conditions: [{type: Ready, status: "False", reason: KubeletNotReady, message: "PLEG is not healthy"}]
"#;

    fn zone_pod(name: &str, node: Option<&str>, spec: &str) -> String {
        let (bound, status) = match node {
            Some(node) => (format!("nodeName: {node}"), "{phase: Running}".to_owned()),
            None => (
                String::new(),
                r#"
  phase: Pending
  conditions:
  - {type: PodScheduled, status: "False", reason: Unschedulable, message: "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 2 node(s) didn't match Pod's node affinity/selector."}"#
                    .to_owned(),
            ),
        };
        format!(
            r#"
---
kind: Pod
apiVersion: v1
metadata: {{name: {name}, namespace: shop, labels: {{app: cache}}}}
spec:
  {bound}
  {spec}
  containers: [{{name: redis, image: redis, resources: {{requests: {{cpu: 100m}}}}}}]
status: {status}
"#
        )
    }

    #[test]
    fn a_not_ready_node_does_not_claim_a_pod_its_selector_keeps_off_every_node() {
        let fixture = [ZONES, &zone_pod("ledger-1", None, "nodeSelector: {disktype: nvme}")].concat();
        let out = ranked(&fixture);
        let (node, rest) = out.split_once("\n2. ").unwrap_or_default();
        assert!(node.contains("[node-not-ready") && !node.contains("ledger-1"), "claims no such pod:\n{out}");
        assert!(rest.contains("[unschedulable"), "{out}");
        assert!(rest.contains("its nodeSelector disktype=nvme matches none of the 3 nodes"), "{out}");
    }

    #[test]
    fn a_pod_that_only_a_not_ready_node_would_take_is_that_node_s() {
        let fixture =
            [ZONES, &zone_pod("ledger-1", None, "nodeSelector: {topology.kubernetes.io/zone: c}")].concat();
        let out = ranked(&fixture);
        let first = out.lines().next().unwrap_or_default();
        assert!(first.contains("[node-not-ready") && first.contains("Node c1"), "{out}");
        assert!(out.contains("could run on node c1 but for its NotReady state"), "{out}");
        assert!(!out.contains("[unschedulable"), "{out}");
    }

    #[test]
    fn zone_anti_affinity_names_the_peer_in_the_zone() {
        let anti = "affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: \
                    [{labelSelector: {matchExpressions: [{key: app, operator: In, values: [cache]}]}, \
                    topologyKey: topology.kubernetes.io/zone}]}}";
        let fixture = [
            ZONES,
            &zone_pod("cache-a", Some("a1"), anti),
            &zone_pod("cache-b", Some("b1"), anti),
            &zone_pod("cache-c", None, anti),
        ]
        .concat();
        let out = of_rule(&fixture, "unschedulable");
        assert!(
            out.contains(
                "node a1: pod anti-affinity ([app In (cache)], at most one per \
                          topology.kubernetes.io/zone (topology.kubernetes.io/zone=a here)): Pod \
                          shop/cache-a already runs there"
            ),
            "{out}"
        );
        assert!(out.contains("Pod shop/cache-b already runs there"), "{out}");
    }
}
