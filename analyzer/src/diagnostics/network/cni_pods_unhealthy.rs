//! Diagnostic `cni-pods-unhealthy`: network plugin (CNI) pods unhealthy;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::collections::BTreeMap;

use kubesnap_shared::model::{ClusterModel, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::containers;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::network::pod_health;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "cni-pods-unhealthy",
    category: Category::Network,
    title: "Network plugin (CNI) pods unhealthy",
    severities: &[Severity::P0, Severity::P1],
    what: "The pods of the network plugin's DaemonSet (cilium, calico-node, flannel, weave-net, canal, \
           kindnet, antrea-agent, kube-router, aws-node, ovnkube-node, ...) that are not Ready or \
           crash-loop, and DaemonSets of those plugins short of ready pods; with the nodes they run on and \
           the `FailedCreatePodSandBox` network errors pods met there.",
    why: "Pods on a node whose CNI agent is down get no network: new pods stay in ContainerCreating and \
          existing ones may lose connectivity.",
    fix: "Read the agent's logs on the affected nodes; fix its configuration or the node (kernel modules, IP \
          pool exhausted, API access), then delete the failing agent pods so the DaemonSet recreates them.",
    example: "`DaemonSet kube-system/calico-node: 1 of 3 pods not Ready (node worker-2)`, with `Readiness \
              probe failed: calico/node is not ready: BIRD is not ready`.",
    needs: &[],
    run,
};

/// DaemonSet names (or name prefixes) of network plugins.
const CNI_DAEMONSETS: &[&str] = &[
    "cilium",
    "calico-node",
    "kube-flannel",
    "flannel",
    "weave-net",
    "canal",
    "kindnet",
    "antrea-agent",
    "kube-router",
    "aws-node",
    "ovnkube-node",
    "sdn",
    "multus",
    "azure-cns",
    "kube-ovn-cni",
];

fn is_cni(name: &str) -> bool {
    CNI_DAEMONSETS.iter().any(|prefix| name == *prefix || name.starts_with(&format!("{prefix}-")))
        && !name.contains("operator")
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    // DaemonSet (namespace, name) → its pods, from owner references so that bundles without
    // DaemonSet objects still show their pods.
    let mut groups: BTreeMap<(Option<String>, String), Vec<&Object>> = BTreeMap::new();
    for daemonset in facts.cluster().of_kind("DaemonSet").filter(|daemonset| is_cni(&daemonset.name)) {
        groups.entry((daemonset.namespace.clone(), daemonset.name.clone())).or_default();
    }
    for pod in facts.cluster().of_kind("Pod").filter(|pod| !pod_health::is_gone(pod)) {
        if let Some((_, name, _)) =
            pod.owners().into_iter().find(|(kind, name, _)| *kind == "DaemonSet" && is_cni(name))
        {
            groups.entry((pod.namespace.clone(), name.to_owned())).or_default().push(pod);
        }
    }
    let mut findings = Vec::new();
    for ((namespace, name), pods) in groups {
        let daemonset = facts.cluster().get("DaemonSet", namespace.as_deref(), &name);
        if let Some(finding) = finding(facts.cluster(), namespace.as_deref(), &name, daemonset, &pods) {
            findings.push(finding);
        }
    }
    findings
}

fn finding(
    model: &ClusterModel,
    namespace: Option<&str>,
    name: &str,
    daemonset: Option<&Object>,
    pods: &[&Object],
) -> Option<Finding> {
    let unhealthy: Vec<(&Object, String)> =
        pods.iter().filter_map(|pod| pod_health::trouble(pod).map(|why| (*pod, why))).collect();
    let status = |field: &str| daemonset.and_then(|d| d.i64_at(&format!("/status/{field}")));
    let (desired, ready) = match (status("desiredNumberScheduled"), status("numberReady")) {
        (Some(desired), Some(ready)) => (desired, ready),
        _ => (pods.len() as i64, (pods.len() - unhealthy.len()) as i64),
    };
    if unhealthy.is_empty() && ready >= desired {
        return None;
    }
    let severity = if ready == 0 && desired > 0 { Severity::P0 } else { Severity::P1 };
    let nodes: Vec<&str> = unhealthy.iter().filter_map(|(pod, _)| pod.str_at("/spec/nodeName")).collect();
    let on_nodes = if nodes.is_empty() { String::new() } else { format!(" (nodes {})", nodes.join(", ")) };
    let namespace_text = namespace.unwrap_or_default();
    let mut finding = DIAGNOSTIC.finding(
        severity,
        format!(
            "DaemonSet {namespace_text}/{name}: {} of {desired} CNI pods not Ready{on_nodes}",
            desired - ready
        ),
    );
    let daemonset_ref = kubesnap_shared::model::ObjectRef {
        kind: "DaemonSet".to_owned(),
        namespace: namespace.map(str::to_owned),
        name: name.to_owned(),
    };
    finding = finding.object(daemonset_ref.clone());
    if let Some(daemonset) = daemonset {
        for field in ["desiredNumberScheduled", "numberReady", "numberUnavailable"] {
            if let Some(value) = daemonset.at(&format!("/status/{field}")) {
                finding = finding.evidence(Evidence::field(
                    daemonset_ref.clone(),
                    format!("/status/{field}"),
                    value,
                ));
            }
        }
    }
    for (pod, why) in &unhealthy {
        let node = pod.str_at("/spec/nodeName").unwrap_or("no node");
        finding = finding
            .object(pod.reference())
            .evidence(Evidence::note(format!("pod {} on {node}: {why}", pod.name)));
    }
    if let Some((pod, _)) = unhealthy.first() {
        let statuses = containers::statuses(pod);
        if let Some(status) = statuses.iter().find(|status| !status.ready()) {
            let restarted = status.restart_count() > 0;
            let words = containers::last_words(model, namespace_text, &pod.name, status.name, restarted)
                .or_else(|| containers::last_words(model, namespace_text, &pod.name, status.name, false));
            if let Some(words) = words {
                for line in &words.lines {
                    finding = finding.evidence(Evidence::log_line(&words.log.path, line));
                }
            }
        }
        if let Some(event) = model
            .events_for("Pod", pod.namespace.as_deref(), &pod.name)
            .filter(|event| event.is_warning())
            .last()
        {
            finding = finding.evidence(Evidence::event(event));
        }
    }
    let sandbox: Vec<_> = model
        .events
        .iter()
        .filter(|event| event.reason == "FailedCreatePodSandBox" && is_network_error(&event.message))
        .collect();
    if let Some(event) = sandbox.last() {
        let total: u64 = sandbox.iter().map(|event| event.count).sum();
        finding = finding
            .evidence(Evidence::note(format!(
                "{total} FailedCreatePodSandBox network errors in the bundle's events"
            )))
            .evidence(Evidence::event(event));
    }
    let scope = if severity == Severity::P0 {
        "No node has a working network agent: no new pod anywhere can get a network, and pod-to-pod traffic \
         may be failing cluster-wide."
            .to_owned()
    } else if nodes.is_empty() {
        "Some nodes lack a Ready network agent: pods scheduled there cannot get a network.".to_owned()
    } else {
        format!(
            "Nodes {} lack a Ready network agent: new pods there stay in ContainerCreating and existing \
             ones may lose connectivity or policy enforcement.",
            nodes.join(", ")
        )
    };
    let mut finding =
        finding.explanation(format!("The {name} pods are the cluster's network plugin (CNI). {scope}"));
    if let Some((pod, _)) = unhealthy.first() {
        finding = finding.remediation(kubectl::describe(&pod.reference()));
        if let Some(status) = containers::statuses(pod).iter().find(|status| !status.ready()) {
            finding =
                finding.remediation(kubectl::logs(&pod.reference(), status.name, status.restart_count() > 0));
        }
    }
    Some(
        finding
            .remediation(
                Kubectl::new("get pods").namespace_of(&daemonset_ref).arg("-o wide | grep").name(name),
            )
            .remediation(kubectl::rollout("status", &daemonset_ref)),
    )
}

/// Sandbox failures caused by the network plugin rather than the runtime or the image.
fn is_network_error(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    ["cni", "network", "failed to setup network", "plugin type="].iter().any(|word| message.contains(word))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    const DAEMONSET: &str = r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: calico-node, namespace: kube-system, uid: ds1}
status: {desiredNumberScheduled: 3, numberReady: 2, numberUnavailable: 1}
"#;

    fn pod(name: &str, node: &str, status: &str) -> String {
        format!(
            r#"
---
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: kube-system
  ownerReferences: [{{kind: DaemonSet, name: calico-node, uid: ds1, controller: true}}]
spec: {{nodeName: {node}, containers: [{{name: calico-node}}]}}
status: {status}
"#
        )
    }

    const READY: &str = r#"{phase: Running, conditions: [{type: Ready, status: "True"}], containerStatuses: [{name: calico-node, ready: true}]}"#;

    #[test]
    fn one_agent_down_is_p1_with_its_node_and_probe_event() {
        let fixture = format!(
            "{DAEMONSET}{}{}{}{}",
            pod("calico-node-a", "worker-1", READY),
            pod(
                "calico-node-b",
                "worker-2",
                r#"{phase: Running, conditions: [{type: Ready, status: "False"}], containerStatuses: [{name: calico-node, ready: false, restartCount: 0, state: {running: {}}}]}"#
            ),
            pod("calico-node-c", "worker-3", READY),
            r#"
---
apiVersion: v1
kind: Event
metadata: {name: calico-node-b.1, namespace: kube-system}
involvedObject: {kind: Pod, name: calico-node-b, namespace: kube-system}
type: Warning
reason: Unhealthy
message: "Readiness probe failed: calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.3"
count: 120
source: {component: kubelet}
---
apiVersion: v1
kind: Event
metadata: {name: web.1, namespace: shop}
involvedObject: {kind: Pod, name: web-1, namespace: shop}
type: Warning
reason: FailedCreatePodSandBox
message: "Failed to create pod sandbox: plugin type=\"calico\" failed (add): stat /var/lib/calico/nodename: no such file or directory"
count: 6
source: {component: kubelet}
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 cni-pods-unhealthy DaemonSet kube-system/calico-node: 1 of 3 CNI pods not Ready (nodes worker-2)
              objects: DaemonSet/kube-system/calico-node, Pod/kube-system/calico-node-b
              field DaemonSet/kube-system/calico-node /status/desiredNumberScheduled = 3
              field DaemonSet/kube-system/calico-node /status/numberReady = 2
              field DaemonSet/kube-system/calico-node /status/numberUnavailable = 1
              note: pod calico-node-b on worker-2: not Ready: containers calico-node not ready
              event Unhealthy x120 (kubelet): Readiness probe failed: calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.3
              note: 6 FailedCreatePodSandBox network errors in the bundle's events
              event FailedCreatePodSandBox x6 (kubelet): Failed to create pod sandbox: plugin type="calico" failed (add): stat /var/lib/calico/nodename: no such file or directory
              why: The calico-node pods are the cluster's network plugin (CNI). Nodes worker-2 lack a Ready network agent: new pods there stay in ContainerCreating and existing ones may lose connectivity or policy enforcement.
              $ kubectl describe pod calico-node-b -n kube-system
              $ kubectl logs calico-node-b -n kube-system -c calico-node --tail=50
              $ kubectl get pods -n kube-system -o wide | grep calico-node
              $ kubectl rollout status daemonset/calico-node -n kube-system
        "#]],
        );
    }

    #[test]
    fn ready_agents_and_other_daemonsets_are_fine() {
        let fixture = format!(
            "{}{}{}",
            DAEMONSET.replace("numberReady: 2, numberUnavailable: 1", "numberReady: 3"),
            pod("calico-node-a", "worker-1", READY),
            r#"
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: cilium-operator-x, namespace: kube-system}
status: {desiredNumberScheduled: 1, numberReady: 0}
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
