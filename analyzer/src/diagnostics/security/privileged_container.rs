//! Diagnostic `privileged-container`: privileged containers;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::pod_spec::{self, per_workload};
use crate::finding::{Category, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "privileged-container",
    category: Category::Security,
    title: "Privileged containers",
    severities: &[Severity::P2],
    what: "Application workloads with containers that run `privileged: true`. One finding per workload, P2. \
           Platform components (CNI and CSI agents, kube-proxy, node exporters, diagnostic tools) \
           need it by design and are listed by `platform-host-access` instead.",
    why: "A privileged container has all capabilities and the node's devices: anything running in it \
          controls the node.",
    fix: "Remove privileged: true; grant only the capabilities the process needs \
          (securityContext.capabilities.add).",
    example: "``Deployment shop/debug: privileged container (`shell`)``.",
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
            let noun = pod_spec::agree(flagged, "privileged container", "privileged containers");
            let mut finding = DIAGNOSTIC
                .finding(
                    Severity::P2,
                    format!("{}: {noun} ({})", pod_spec::name(template), pod_spec::container_names(flagged)),
                )
                .explanation(format!(
                    "The {} of {} {} privileged, with every capability and the node's devices: whatever runs \
                     there controls the node. Nothing in the bundle marks it as a platform component (a \
                     network, storage or monitoring agent) that would need this.",
                    pod_spec::container_phrase(flagged),
                    pod_spec::name(template),
                    pod_spec::agree(flagged, "runs", "run"),
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
    use crate::testing::check;

    #[test]
    fn applications_are_flagged_and_platform_components_are_not() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: debug, namespace: shop}
spec:
  template:
    spec:
      containers:
      - {name: shell, image: alpine, securityContext: {privileged: true}}
      - {name: tools, image: busybox, securityContext: {privileged: true}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: shop}
spec: {template: {spec: {containers: [{name: agent, image: shop/agent, securityContext: {privileged: true}}]}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: cni, namespace: kube-system}
spec: {template: {spec: {containers: [{name: agent, image: cni, securityContext: {privileged: true}}]}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: exporter, namespace: monitoring}
spec:
  template:
    spec:
      containers: [{name: exporter, image: "quay.io/prometheus/node-exporter:v1", securityContext: {privileged: true}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec: {template: {spec: {containers: [{name: api, image: api, securityContext: {privileged: false}}]}}}
"#,
            expect![[r#"
                P2 privileged-container DaemonSet shop/agent: privileged container (`agent`)
                  objects: DaemonSet/shop/agent
                  field DaemonSet/shop/agent /spec/template/spec/containers/0/securityContext/privileged = true
                  why: The container `agent` of DaemonSet shop/agent runs privileged, with every capability and the node's devices: whatever runs there controls the node. Nothing in the bundle marks it as a platform component (a network, storage or monitoring agent) that would need this.
                  $ kubectl patch daemonset/agent -n shop -p '{"spec":{"template":{"spec":{"containers":[{"name":"agent","securityContext":{"privileged":false}}]}}}}'
                  $ kubectl get daemonset agent -n shop -o yaml
                P2 privileged-container Deployment shop/debug: privileged containers (`shell`, `tools`)
                  objects: Deployment/shop/debug
                  field Deployment/shop/debug /spec/template/spec/containers/0/securityContext/privileged = true
                  field Deployment/shop/debug /spec/template/spec/containers/1/securityContext/privileged = true
                  why: The containers `shell`, `tools` of Deployment shop/debug run privileged, with every capability and the node's devices: whatever runs there controls the node. Nothing in the bundle marks it as a platform component (a network, storage or monitoring agent) that would need this.
                  $ kubectl patch deployment/debug -n shop -p '{"spec":{"template":{"spec":{"containers":[{"name":"shell","securityContext":{"privileged":false}},{"name":"tools","securityContext":{"privileged":false}}]}}}}'
                  $ kubectl get deployment debug -n shop -o yaml
            "#]],
        );
    }

    #[test]
    fn a_container_name_holding_a_comma_stays_one_quoted_name() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: debug, namespace: shop}
spec:
  template:
    spec:
      containers:
      - {name: "shell, tools) (x", image: alpine, securityContext: {privileged: true}}
"#,
            expect![[r#"
                P2 privileged-container Deployment shop/debug: privileged container (`shell, tools) (x`)
                  objects: Deployment/shop/debug
                  field Deployment/shop/debug /spec/template/spec/containers/0/securityContext/privileged = true
                  why: The container `shell, tools) (x` of Deployment shop/debug runs privileged, with every capability and the node's devices: whatever runs there controls the node. Nothing in the bundle marks it as a platform component (a network, storage or monitoring agent) that would need this.
                  $ kubectl patch deployment/debug -n shop -p '{"spec":{"template":{"spec":{"containers":[{"name":"shell, tools) (x","securityContext":{"privileged":false}}]}}}}'
                  $ kubectl get deployment debug -n shop -o yaml
            "#]],
        );
    }
}
