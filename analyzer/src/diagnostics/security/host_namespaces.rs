//! Diagnostic: host-namespaces.
//!
//! **What it checks.** Workloads whose pods share the node's network, PID or IPC namespace
//! (`hostNetwork`, `hostPID`, `hostIPC`). One finding per workload; P2 in application
//! namespaces, P3 in the cluster's own (`kube-*`, `*-system`).
//!
//! **Why it matters.** With `hostPID` a container sees and can signal every process of the
//! node; with `hostNetwork` it binds the node's ports and reaches services listening on
//! localhost; NetworkPolicies do not apply to it.
//!
//! **Example.** `Deployment shop/agent: shares the node's network, PID namespaces`.

use kubesnap_shared::json::Value;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::containers::is_system_namespace;
use crate::facts::kubectl;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "host-namespaces",
    category: Category::Security,
    title: "Pods sharing the node's namespaces",
    severities: &[Severity::P2, Severity::P3],
    what: "Workloads whose pod spec sets hostNetwork, hostPID or hostIPC (P3 in kube-* and *-system namespaces).",
    why: "hostPID sees and signals every process of the node, hostNetwork binds the node's ports and escapes \
          NetworkPolicies, hostIPC shares the node's shared memory.",
    fix: "Remove hostNetwork/hostPID/hostIPC unless the pod is a node agent that needs them; expose ports \
          through a Service instead.",
    needs: &[],
    run,
};

const FIELDS: &[(&str, &str)] = &[("hostNetwork", "network"), ("hostPID", "PID"), ("hostIPC", "IPC")];

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for template in facts.templates() {
        let shared: Vec<(&str, &str)> = FIELDS
            .iter()
            .filter(|(field, _)| template.spec.get(field).and_then(Value::as_bool) == Some(true))
            .copied()
            .collect();
        if shared.is_empty() {
            continue;
        }
        let owner = template.owner.reference();
        let system = is_system_namespace(owner.namespace.as_deref());
        let names: Vec<&str> = shared.iter().map(|(_, name)| *name).collect();
        let noun = if names.len() == 1 { "namespace" } else { "namespaces" };
        let subject = match &owner.namespace {
            Some(namespace) => format!("{} {namespace}/{}", owner.kind, owner.name),
            None => format!("{} {}", owner.kind, owner.name),
        };
        let mut finding = DIAGNOSTIC
            .finding(
                if system { Severity::P3 } else { Severity::P2 },
                format!("{subject}: shares the node's {} {noun}", names.join(", ")),
            )
            .object(owner.clone())
            .explanation(format!(
                "The pods of {subject} share the node's {} {noun}: they see the node's processes or network \
                 as the node does, and NetworkPolicies do not apply to host-network pods.{}",
                names.join(", "),
                if system {
                    " It runs in a system namespace, where node agents often need this."
                } else {
                    ""
                }
            ));
        for (field, _) in &shared {
            finding = finding.evidence(Evidence::field(
                owner.clone(),
                format!("{}/{field}", template.pointer),
                &Value::Bool(true),
            ));
        }
        findings.push(finding.remediation(kubectl::get_yaml(&owner)));
    }
    findings
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::diagnostics::testing::check;

    #[test]
    fn host_network_and_pid_in_an_application_namespace() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: monitoring}
spec: {template: {spec: {hostNetwork: true, hostPID: true, containers: [{name: a, image: a}]}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: kube-proxy, namespace: kube-system}
spec: {template: {spec: {hostNetwork: true, containers: [{name: p, image: p}]}}}
"#,
            expect![[r#"
                P3 host-namespaces DaemonSet kube-system/kube-proxy: shares the node's network namespace
                  objects: DaemonSet/kube-system/kube-proxy
                  field DaemonSet/kube-system/kube-proxy /spec/template/spec/hostNetwork = true
                  why: The pods of DaemonSet kube-system/kube-proxy share the node's network namespace: they see the node's processes or network as the node does, and NetworkPolicies do not apply to host-network pods. It runs in a system namespace, where node agents often need this.
                  $ kubectl get daemonset kube-proxy -n kube-system -o yaml
                P2 host-namespaces DaemonSet monitoring/agent: shares the node's network, PID namespaces
                  objects: DaemonSet/monitoring/agent
                  field DaemonSet/monitoring/agent /spec/template/spec/hostNetwork = true
                  field DaemonSet/monitoring/agent /spec/template/spec/hostPID = true
                  why: The pods of DaemonSet monitoring/agent share the node's network, PID namespaces: they see the node's processes or network as the node does, and NetworkPolicies do not apply to host-network pods.
                  $ kubectl get daemonset agent -n monitoring -o yaml
            "#]],
        );
    }

    #[test]
    fn pods_in_their_own_namespaces_are_fine() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec: {template: {spec: {hostNetwork: false, containers: [{name: a, image: a}]}}}
"#,
            expect![[r#"
                no findings
            "#]],
        );
    }
}
