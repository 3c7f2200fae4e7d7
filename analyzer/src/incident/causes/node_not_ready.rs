//! Rule `node-not-ready` (infrastructure): a node is NotReady, in the kubelet's, the runtime's
//! or the network plugin's own words, and the pods it strands are its consequences.
//!
//! Fires per node whose `Ready` condition is not True. The condition's reason and message are
//! quoted and sorted into what failed: the network plugin (`NetworkPluginNotReady`, "cni config
//! uninitialized"), the container runtime (`PLEG`, "container runtime is down"), the kubelet
//! itself (`NodeStatusUnknown`: it stopped posting status). The pods it explains are the ones
//! bound to it that are not Ready, and the Pending pods that would fit on it but for its NotReady
//! state and fit on no other node (the fit recomputed per node from the bundle: a scheduler
//! message that lists the `not-ready` taint among other nodes' reasons is no proof). Score 80,
//! plus 5 when the message names the failing component and 5 when it strands pods; a ranked
//! node problem outranks what it causes (CoreDNS that cannot be scheduled folds into it as a
//! consequence). Severity P1, P0 when no node is Ready.
//!
//! Disproved by: the node Ready again (a newer condition), or the stranded pods' scheduler
//! message naming another reason.

use kubesnap_shared::model::{Object, ObjectRef};

use super::{Context, Hypothesis, Step, clip, subject_of};
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::network::pod_health;
use crate::finding::Severity;

/// What failed, from the Ready condition's reason and message.
fn component(reason: &str, message: &str) -> Option<&'static str> {
    let text = format!("{reason} {message}").to_lowercase();
    if text.contains("networkpluginnotready") || text.contains("cni") || text.contains("network plugin") {
        Some("its network plugin (CNI) is not ready")
    } else if text.contains("pleg") || text.contains("container runtime") || text.contains("runtime is down")
    {
        Some("its container runtime is not responding")
    } else if text.contains("stopped posting node status") || reason == "NodeStatusUnknown" {
        Some("its kubelet stopped posting status (node down or unreachable)")
    } else if text.contains("pressure") {
        Some("it is under resource pressure")
    } else {
        None
    }
}

/// The NotReady nodes a Pending pod waits for: on them only their NotReady state blocks it, and
/// nothing else would take it (see [`crate::facts::scheduling::Fit::kept_off_by_not_ready`]). A scheduler message that
/// lists a `not-ready` taint among other reasons proves nothing by itself: the scheduler names
/// every node it rejected.
pub(super) fn waits_for(facts: &Facts<'_>, pod: &Object) -> Vec<String> {
    if pod.str_at("/status/phase") != Some("Pending")
        || pod.str_at("/spec/nodeName").is_some_and(|n| !n.is_empty())
    {
        return Vec::new();
    }
    facts.fit(pod).kept_off_by_not_ready().into_iter().map(str::to_owned).collect()
}

/// The scheduler's message on a pod's PodScheduled condition, when it is False.
fn scheduler_message(pod: &Object) -> Option<String> {
    pod.condition("PodScheduled")
        .filter(|(status, _, message)| *status == "False" && !message.is_empty())
        .map(|(_, _, message)| message.to_owned())
}

pub(super) fn rule(context: &Context<'_, '_>) -> Vec<Hypothesis> {
    let facts = context.facts;
    let model = facts.cluster();
    let nodes: Vec<&Object> = model.of_kind("Node").collect();
    let not_ready: Vec<&&Object> = nodes
        .iter()
        .filter(|node| node.condition("Ready").is_some_and(|(status, _, _)| status != "True"))
        .collect();
    let pending: Vec<(&Object, Vec<String>)> = if not_ready.is_empty() {
        Vec::new()
    } else {
        model
            .of_kind("Pod")
            .filter(|pod| !pod_health::is_gone(pod))
            .map(|pod| (pod, waits_for(facts, pod)))
            .filter(|(_, nodes)| !nodes.is_empty())
            .collect()
    };
    let mut out = Vec::new();
    for node in &not_ready {
        let (status, reason, message) = node.condition("Ready").unwrap_or_default();
        let reference = node.reference();
        let since = node.condition_since("Ready");
        let what = component(reason, message);
        let stranded: Vec<&Object> = model
            .pods_on_node(&node.name)
            .filter(|pod| !pod_health::is_gone(pod) && pod_health::trouble(pod).is_some())
            .collect();
        let kept_off: Vec<(&Object, String)> = pending
            .iter()
            .filter(|(_, nodes)| nodes.contains(&node.name))
            .map(|(pod, _)| {
                (*pod, scheduler_message(pod).unwrap_or_else(|| "no scheduler message".to_owned()))
            })
            .collect();
        let all_down = not_ready.len() == nodes.len();
        let quoted = format!("{reason}: {}", clip(message)).trim_matches([' ', ':']).to_owned();
        let title = match what {
            Some(what) => format!("Node {} is NotReady: {what} (`{quoted}`)", node.name),
            None => format!("Node {} is NotReady (Ready={status}, `{quoted}`)", node.name),
        };
        let score = 80
            + if what.is_some() { 5 } else { 0 }
            + if stranded.is_empty() && kept_off.is_empty() { 0 } else { 5 };
        let mut hypothesis = context.hypothesis("node-not-ready", title, score, Severity::P1);
        hypothesis.own_severity = Some(if all_down { Severity::P0 } else { Severity::P1 });
        hypothesis.chain.push(Step::new(since, reference.clone(), format!("Ready={status} {quoted}")));
        hypothesis.evidence.push(format!(
            "node {} condition Ready={status}, reason {reason}: {}",
            node.name,
            clip(message)
        ));
        if let Some(heartbeat) = node
            .array_at("/status/conditions")
            .iter()
            .find(|c| c.get("type").and_then(kubesnap_shared::json::Value::as_str) == Some("Ready"))
            .and_then(|c| c.get("lastHeartbeatTime").and_then(kubesnap_shared::json::Value::as_str))
        {
            hypothesis.evidence.push(format!(
                "last heartbeat {heartbeat}: {}",
                match status {
                    "Unknown" => "the kubelet stopped reporting",
                    _ => "the kubelet still posts the node's status, and says it is not ready",
                }
            ));
        }
        let mut objects: Vec<ObjectRef> = vec![reference.clone()];
        for pod in &stranded {
            objects.push(pod.reference());
            objects.push(subject_of(facts, pod));
        }
        for (pod, message) in &kept_off {
            objects.push(pod.reference());
            objects.push(subject_of(facts, pod));
            hypothesis.chain.push(Step::new(
                pod.created_at(),
                pod.reference(),
                format!("pod {} cannot be scheduled: `{}`", pod.name, clip(message)),
            ));
        }
        let dns: Vec<&&Object> =
            facts.dns_pods().iter().filter(|pod| objects.contains(&pod.reference())).collect();
        if !dns.is_empty() {
            hypothesis.evidence.push(format!(
                "{} cluster DNS pods are stranded by it ({} Pending with the not-ready taint or on the \
                 node): cluster DNS is down as a consequence",
                dns.len(),
                dns.len()
            ));
            if let Some(deployment) = ["coredns", "kube-dns"]
                .iter()
                .find_map(|name| model.get("Deployment", Some("kube-system"), name))
            {
                objects.push(deployment.reference());
            }
        }
        if !stranded.is_empty() {
            let names: Vec<&str> = stranded.iter().take(5).map(|pod| pod.name.as_str()).collect();
            hypothesis.evidence.push(format!(
                "{} pods on the node are not Ready: {}",
                stranded.len(),
                names.join(", ")
            ));
        }
        if !kept_off.is_empty() {
            hypothesis.evidence.push(format!(
                "{} Pending pods could run on node {} but for its NotReady state, and on no other node",
                kept_off.len(),
                node.name
            ));
        }
        hypothesis.disproved_by.push(format!("node {} Ready=True in a newer capture", node.name));
        if !kept_off.is_empty() {
            hypothesis.disproved_by.push(
                "a Ready node the Pending pods fit on (their requests, selectors and tolerations against \
                 its labels, taints and free resources)"
                    .to_owned(),
            );
        }
        objects.sort();
        objects.dedup();
        hypothesis.findings = context.linked(
            &[
                "node-not-ready",
                "coredns-unhealthy",
                "pod-pending-unschedulable",
                "application-down",
                "cni-pods-unhealthy",
                "deployment-replicas-unavailable",
                "daemonset-pods-unavailable",
            ],
            &objects,
        );
        hypothesis.objects = objects;
        hypothesis.mitigation.push(kubectl::describe(&reference).into());
        hypothesis.mitigation.push(match what {
            Some(what) if what.contains("network") => Kubectl::new(
                "get pods -n kube-system -o wide | grep -Ei 'cni|calico|flannel|weave|cilium|kindnet'",
            )
            .into(),
            _ => Kubectl::new("get pods -A -o wide --field-selector")
                .joined("spec.nodeName=", &node.name)
                .into(),
        });
        hypothesis.mitigation.push("journalctl -u kubelet --since -1h   # on the node".to_owned());
        out.push(hypothesis);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::incident::causes::tests::ranked;

    const NODES: &str = r#"
kind: Node
apiVersion: v1
metadata: {name: worker}
status:
  conditions:
  - {type: Ready, status: "False", reason: KubeletNotReady, lastTransitionTime: "2025-06-01T11:00:00Z", lastHeartbeatTime: "2025-06-01T11:59:00Z",
     message: "runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:docker: network plugin is not ready: cni config uninitialized"}
---
kind: Node
apiVersion: v1
metadata: {name: control}
spec:
  taints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]
status:
  conditions: [{type: Ready, status: "True"}]
"#;

    fn dns_pod(name: &str) -> String {
        format!(
            r#"
---
kind: Pod
apiVersion: v1
metadata: {{name: {name}, namespace: kube-system, labels: {{k8s-app: kube-dns}}, creationTimestamp: "2025-06-01T11:00:20Z"}}
spec: {{containers: [{{name: coredns, image: "coredns/coredns:1.8"}}]}}
status:
  phase: Pending
  conditions:
  - {{type: PodScheduled, status: "False", reason: Unschedulable,
     message: "0/2 nodes are available: 1 node(s) had taint {{node.kubernetes.io/not-ready: }}, 1 node(s) had untolerated taint {{node-role.kubernetes.io/control-plane: }}."}}
"#
        )
    }

    #[test]
    fn a_node_without_cni_outranks_the_dns_it_strands() {
        let fixture = [NODES, &dns_pod("coredns-a"), &dns_pod("coredns-b")].concat();
        let out = ranked(&fixture);
        let first = out.lines().next().unwrap_or_default();
        assert!(first.contains("[node-not-ready"), "{out}");
        assert!(first.contains("network plugin (CNI) is not ready"), "{out}");
        assert!(first.contains("cni config uninitialized"), "{out}");
        assert!(!out.contains("[dns-down"), "DNS folds into the node as a consequence:\n{out}");
        assert!(out.contains("consequence: CoreDNS is degraded (0 of 2 pods Ready)"), "{out}");
        assert!(out.contains("coredns-a cannot be scheduled"), "{out}");
    }

    #[test]
    fn ready_nodes_are_no_cause() {
        let fixture = [
            &NODES.replace(
                r#"status: "False", reason: KubeletNotReady"#,
                r#"status: "True", reason: KubeletReady"#,
            ),
            dns_pod("coredns-a").replace("node.kubernetes.io/not-ready", "example.com/dedicated").as_str(),
        ]
        .concat();
        let out = ranked(&fixture);
        assert!(!out.contains("node-not-ready"), "{out}");
        assert!(!out.contains("Node worker"), "{out}");
    }
}
