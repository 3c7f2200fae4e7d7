//! Diagnostic: privileged-container.
//!
//! **What it checks.** Workloads with containers that run `privileged: true`. One finding per
//! workload; P1 in application namespaces, P2 in the cluster's own (`kube-*`, `*-system`), where
//! CNI, CSI and kube-proxy pods legitimately need it.
//!
//! **Why it matters.** A privileged container has every capability and the node's devices: it
//! is root on the node.
//!
//! **Example.** `Deployment shop/debug: containers shell are privileged`.

use kubesnap_shared::json::Value;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::containers::is_system_namespace;
use crate::facts::kubectl;
use crate::facts::pod_spec::{self, per_workload};
use crate::finding::{Category, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "privileged-container",
    category: Category::Security,
    title: "Privileged containers",
    severities: &[Severity::P1, Severity::P2],
    what: "Workloads with containers whose securityContext.privileged is true (P2 in kube-* and *-system \
           namespaces, where node agents need it).",
    why: "A privileged container has all capabilities and the node's devices: anything running in it \
          controls the node.",
    fix: "Remove privileged: true; grant only the capabilities the process needs (securityContext.capabilities.add).",
    needs: &[],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    per_workload(
        facts,
        |_, container| {
            (container.pointer("/securityContext/privileged").and_then(Value::as_bool) == Some(true))
                .then(|| ("securityContext/privileged".to_owned(), Value::Bool(true)))
        },
        |template, flagged| {
            let system = is_system_namespace(template.owner.namespace.as_deref());
            let severity = if system { Severity::P2 } else { Severity::P1 };
            let mut finding = DIAGNOSTIC
                .finding(severity, format!("{}: privileged ({})", pod_spec::name(template), pod_spec::container_names(flagged)))
                .explanation(format!(
                    "The {} of {} run privileged, with every capability and the node's devices: whatever runs \
                     there controls the node.{}",
                    pod_spec::container_phrase(flagged),
                    pod_spec::name(template),
                    if system { " It runs in a system namespace, where node agents often need this: confirm it is one." } else { "" }
                ));
            if let Some(patch) = pod_spec::security_patch(template, flagged, "privileged", false) {
                finding = finding.remediation(patch);
            }
            finding.remediation(kubectl::get_yaml(&template.owner.reference()))
        },
    )
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::diagnostics::testing::check;

    const FIXTURE: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: debug, namespace: shop}
spec: {template: {spec: {containers: [{name: shell, image: alpine, securityContext: {privileged: true}}]}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: cni, namespace: kube-system}
spec: {template: {spec: {containers: [{name: agent, image: cni, securityContext: {privileged: true}}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec: {template: {spec: {containers: [{name: api, image: api, securityContext: {privileged: false}}]}}}
"#;

    #[test]
    fn application_namespaces_are_p1_and_system_ones_p2() {
        check(
            &DIAGNOSTIC,
            FIXTURE,
            expect![[r#"
            P2 privileged-container DaemonSet kube-system/cni: privileged (agent)
              objects: DaemonSet/kube-system/cni
              field DaemonSet/kube-system/cni /spec/template/spec/containers/0/securityContext/privileged = true
              why: The container agent of DaemonSet kube-system/cni run privileged, with every capability and the node's devices: whatever runs there controls the node. It runs in a system namespace, where node agents often need this: confirm it is one.
              $ kubectl patch daemonset/cni -n kube-system -p '{"spec":{"template":{"spec":{"containers":[{"name":"agent","securityContext":{"privileged":false}}]}}}}'
              $ kubectl get daemonset cni -n kube-system -o yaml
            P1 privileged-container Deployment shop/debug: privileged (shell)
              objects: Deployment/shop/debug
              field Deployment/shop/debug /spec/template/spec/containers/0/securityContext/privileged = true
              why: The container shell of Deployment shop/debug run privileged, with every capability and the node's devices: whatever runs there controls the node.
              $ kubectl patch deployment/debug -n shop -p '{"spec":{"template":{"spec":{"containers":[{"name":"shell","securityContext":{"privileged":false}}]}}}}'
              $ kubectl get deployment debug -n shop -o yaml
        "#]],
        );
    }
}
