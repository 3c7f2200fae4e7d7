//! Diagnostic `host-namespaces`: pods sharing the node's namespaces;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::pod_spec::applications;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "host-namespaces",
    category: Category::Security,
    title: "Pods sharing the node's namespaces",
    severities: &[Severity::P2],
    what: "Application workloads whose pods share the node's network, PID or IPC namespace (`hostNetwork`, \
           `hostPID`, `hostIPC`). One finding per workload, P2. Platform components (network and storage \
           plugins, node agents) need it by design and are listed by `platform-host-access` instead.",
    why: "hostPID sees and signals every process of the node, hostNetwork binds the node's ports and escapes \
          NetworkPolicies, hostIPC shares the node's shared memory.",
    fix: "Remove hostNetwork/hostPID/hostIPC unless the pod is a node agent that needs them; expose ports \
          through a Service instead.",
    example: "`Deployment shop/agent: shares the node's network, PID namespaces`.",
    needs: &[],
    run,
};

pub(crate) const FIELDS: &[(&str, &str)] =
    &[("hostNetwork", "network"), ("hostPID", "PID"), ("hostIPC", "IPC")];

/// The host namespaces a pod spec shares: `(field, name)`.
pub(crate) fn shared(spec: &Value) -> Vec<(&'static str, &'static str)> {
    FIELDS
        .iter()
        .filter(|(field, _)| spec.get(field).and_then(Value::as_bool) == Some(true))
        .copied()
        .collect()
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for template in applications(facts) {
        let shared = shared(template.spec);
        if shared.is_empty() {
            continue;
        }
        let owner = template.owner.reference();
        let names: Vec<&str> = shared.iter().map(|(_, name)| *name).collect();
        let noun = if names.len() == 1 { "namespace" } else { "namespaces" };
        let subject = match &owner.namespace {
            Some(namespace) => format!("{} {namespace}/{}", owner.kind, owner.name),
            None => format!("{} {}", owner.kind, owner.name),
        };
        let mut finding = DIAGNOSTIC
            .finding(Severity::P2, format!("{subject}: shares the node's {} {noun}", names.join(" and ")))
            .object(owner.clone())
            .explanation(format!(
                "The pods of {subject} share the node's {} {noun}: they see the node's processes or network \
                 as the node does, and NetworkPolicies do not apply to host-network pods. Nothing in the \
                 bundle marks it as a platform component (a network, storage or monitoring agent) that \
                 would need this.",
                names.join(" and "),
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
    use crate::testing::check;

    #[test]
    fn applications_are_flagged_and_platform_components_are_not() {
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
                P2 host-namespaces DaemonSet monitoring/agent: shares the node's network and PID namespaces
                  objects: DaemonSet/monitoring/agent
                  field DaemonSet/monitoring/agent /spec/template/spec/hostNetwork = true
                  field DaemonSet/monitoring/agent /spec/template/spec/hostPID = true
                  why: The pods of DaemonSet monitoring/agent share the node's network and PID namespaces: they see the node's processes or network as the node does, and NetworkPolicies do not apply to host-network pods. Nothing in the bundle marks it as a platform component (a network, storage or monitoring agent) that would need this.
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
