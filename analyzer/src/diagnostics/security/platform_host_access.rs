//! Diagnostic `platform-host-access`: platform components with host access by design;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::collections::BTreeSet;

use kubesnap_shared::json::Value;

use crate::diagnostics::Diagnostic;
use crate::diagnostics::security::host_namespaces;
use crate::facts::pod_spec;
use crate::facts::workload::Template;
use crate::facts::{Facts, platform};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "platform-host-access",
    category: Category::Security,
    title: "Platform components with host access by design",
    severities: &[Severity::P3],
    what: "Platform components (the control plane, network and storage plugins, node \
           agents, a distribution's add-ons, diagnostic tools) that run privileged containers or share the \
           node's network, PID or IPC namespace. They need it by design, so this is one P3 advisory for the \
           whole cluster that lists them with the evidence that made each a platform component: what the \
           privileged and host-namespace checks left out, and why.",
    why: "These components need host access to do their job; listing them shows what the \
          privileged-container and host-namespaces checks left out, and why.",
    fix: "Nothing to change for components the distribution ships; check that each one is what its \
          evidence says (image and namespace).",
    example: "`` Platform components with host access by design: 4 workloads in `kube-system`, \
              `longhorn-system` ``.",
    needs: &[],
    run,
};

/// What host access a workload has: `` privileged (`weave`, `weave-npc`), host network, PID ``.
fn host_access(template: &Template<'_>) -> Option<String> {
    let privileged = pod_spec::flagged(template, |_, container| {
        (container.pointer("/securityContext/privileged").and_then(Value::as_bool) == Some(true))
            .then(|| ("securityContext/privileged".to_owned(), Value::Bool(true)))
    });
    let shared: Vec<&str> = host_namespaces::shared(template.spec).iter().map(|(_, name)| *name).collect();
    let mut parts = Vec::new();
    if !privileged.is_empty() {
        parts.push(format!("privileged ({})", pod_spec::container_names(&privileged)));
    }
    if !shared.is_empty() {
        parts.push(format!("host {}", shared.join(", ")));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut listed = Vec::new();
    for template in facts.templates() {
        let Some(access) = host_access(template) else { continue };
        let Some(evidence) = platform::of_template(facts, template) else { continue };
        listed.push((template, access, evidence));
    }
    if listed.is_empty() {
        return Vec::new();
    }
    let namespaces: BTreeSet<&str> =
        listed.iter().filter_map(|(template, _, _)| template.owner.namespace.as_deref()).collect();
    let noun = if listed.len() == 1 { "workload" } else { "workloads" };
    let namespaces: Vec<&str> = namespaces.into_iter().collect();
    let place = match namespaces.len() {
        0 => String::new(),
        1..=3 => {
            let quoted: Vec<String> = namespaces.iter().map(|namespace| format!("`{namespace}`")).collect();
            format!(" in {}", quoted.join(", "))
        }
        n => format!(" in {n} namespaces"),
    };
    let mut finding = DIAGNOSTIC
        .finding(
            Severity::P3,
            format!("Platform components with host access by design: {} {noun}{place}", listed.len()),
        )
        .explanation(format!(
            "{} {noun} of the platform (control plane, network and storage plugins, node agents, the \
             distribution's add-ons, diagnostic tools) run privileged or share the node's namespaces. \
             That is how they work, so the privileged-container and host-namespaces checks leave them \
             out; each entry says what marks it as a platform component. Confirm that the images come \
             from the registry you expect.",
            listed.len()
        ));
    for (template, access, evidence) in &listed {
        finding = finding
            .object(template.owner.reference())
            .evidence(Evidence::note(format!("{}: {access}; it {evidence}", pod_spec::name(template))));
    }
    vec![finding]
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    #[test]
    fn one_advisory_lists_platform_components_with_their_evidence() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: kube-proxy, namespace: kube-system}
spec:
  template:
    spec:
      hostNetwork: true
      containers: [{name: kube-proxy, image: "registry.k8s.io/kube-proxy:v1.30.0", securityContext: {privileged: true}}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: sonobuoy-systemd-logs, namespace: sonobuoy}
spec:
  template:
    metadata: {labels: {sonobuoy-component: plugin}}
    spec:
      hostPID: true
      containers: [{name: systemd-logs, image: "sonobuoy/systemd-logs:v0.3", securityContext: {privileged: true}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: debug, namespace: shop}
spec: {template: {spec: {containers: [{name: shell, image: alpine, securityContext: {privileged: true}}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system}
spec: {template: {spec: {containers: [{name: coredns, image: "registry.k8s.io/coredns/coredns:v1.11.1"}]}}}
"#,
            expect![[r#"
                P3 platform-host-access Platform components with host access by design: 2 workloads in `kube-system`, `sonobuoy`
                  objects: DaemonSet/kube-system/kube-proxy, DaemonSet/sonobuoy/sonobuoy-systemd-logs
                  note: DaemonSet kube-system/kube-proxy: privileged (`kube-proxy`), host network; it runs in the platform namespace kube-system
                  note: DaemonSet sonobuoy/sonobuoy-systemd-logs: privileged (`systemd-logs`), host PID; it is labelled sonobuoy-component=plugin
                  why: 2 workloads of the platform (control plane, network and storage plugins, node agents, the distribution's add-ons, diagnostic tools) run privileged or share the node's namespaces. That is how they work, so the privileged-container and host-namespaces checks leave them out; each entry says what marks it as a platform component. Confirm that the images come from the registry you expect.
            "#]],
        );
    }

    #[test]
    fn applications_alone_give_nothing() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: debug, namespace: shop}
spec: {template: {spec: {hostNetwork: true, containers: [{name: shell, image: alpine, securityContext: {privileged: true}}]}}}
"#,
            expect![[r#"
                no findings
            "#]],
        );
    }
}
