//! Diagnostic `container-hardening`: containers without securityContext hardening;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;

use crate::diagnostics::Diagnostic;
use crate::facts::containers::security_field;
use crate::facts::pod_spec::{self, Flagged, applications};
use crate::facts::workload::Template;
use crate::facts::{Facts, kubectl};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "container-hardening",
    category: Category::Security,
    title: "Containers without securityContext hardening",
    severities: &[Severity::P3],
    what: "Application containers without the usual hardening of their securityContext: they may run as \
           root (`runAsUser: 0`, or neither `runAsNonRoot: true` nor a non-zero `runAsUser` at container or \
           pod level, so the image's user decides), they allow privilege escalation \
           (`allowPrivilegeEscalation` not `false`), or their root filesystem is writable \
           (`readOnlyRootFilesystem` not `true`). One P3 advisory per namespace lists its workloads and \
           what each lacks: advice, never a fault. Platform components (network and storage plugins, \
           node agents) are the distribution's business and are left out. It replaces \
           `container-runs-as-root`, `privilege-escalation-allowed` and `writable-root-filesystem`, which \
           `--only`/`--skip` still accept as its names.",
    why: "A process running as root is root on the node if it escapes the container; a setuid binary gains \
          privileges its parent lacked; a writable root filesystem lets an intruder drop tools.",
    fix: "Set securityContext.runAsNonRoot: true (with an image that has a non-root USER), \
          allowPrivilegeEscalation: false and readOnlyRootFilesystem: true (mount an emptyDir where the \
          application writes).",
    example: "`Namespace shop: 2 workloads without container hardening (run as root, privilege escalation, \
              writable root filesystem)`.",
    needs: &[],
    run,
};

/// One hardening setting: the phrase for what is missing, and the check of one container.
struct Gap {
    /// `may run as root`, completed with the containers.
    missing: &'static str,
    /// The topic in a title.
    topic: &'static str,
    check: fn(&Value, &Value) -> Option<(String, Value)>,
}

const GAPS: &[Gap] = &[
    Gap { missing: "may run as root", topic: "run as root", check: runs_as_root },
    Gap { missing: "allows privilege escalation", topic: "privilege escalation", check: escalation },
    Gap {
        missing: "has a writable root filesystem",
        topic: "writable root filesystem",
        check: writable_root,
    },
];

fn runs_as_root(pod_spec: &Value, container: &Value) -> Option<(String, Value)> {
    let user = security_field(pod_spec, container, "runAsUser").and_then(Value::as_i64);
    let non_root = security_field(pod_spec, container, "runAsNonRoot").and_then(Value::as_bool);
    match (user, non_root) {
        (Some(0), _) => Some(("securityContext/runAsUser".to_owned(), Value::from(0))),
        (Some(_), _) | (None, Some(true)) => None,
        (None, _) => Some((
            "securityContext/runAsNonRoot".to_owned(),
            non_root.map(Value::from).unwrap_or(Value::Null),
        )),
    }
}

fn escalation(_: &Value, container: &Value) -> Option<(String, Value)> {
    let value = container.pointer("/securityContext/allowPrivilegeEscalation");
    (value.and_then(Value::as_bool) != Some(false)).then(|| {
        ("securityContext/allowPrivilegeEscalation".to_owned(), value.cloned().unwrap_or(Value::Null))
    })
}

fn writable_root(_: &Value, container: &Value) -> Option<(String, Value)> {
    let value = container.pointer("/securityContext/readOnlyRootFilesystem");
    (value.and_then(Value::as_bool) != Some(true))
        .then(|| ("securityContext/readOnlyRootFilesystem".to_owned(), value.cloned().unwrap_or(Value::Null)))
}

/// What one workload lacks: per gap (index into [`GAPS`]), its flagged containers.
struct Lacking<'a, 'm> {
    template: &'a Template<'m>,
    gaps: Vec<(usize, Vec<Flagged>)>,
}

impl Lacking<'_, '_> {
    /// `Deployment shop/db: may run as root (postgres); allows privilege escalation (postgres)`.
    fn describe(&self) -> String {
        let parts: Vec<String> = self
            .gaps
            .iter()
            .flat_map(|(gap, flagged)| {
                // runAsUser 0 says root outright; the others leave it to the image.
                let (explicit, implicit): (Vec<Flagged>, Vec<Flagged>) =
                    flagged.iter().cloned().partition(|item| *gap == 0 && item.value == 0);
                [("runs as root (runAsUser 0)", explicit), (GAPS[*gap].missing, implicit)]
                    .into_iter()
                    .filter(|(_, flagged)| !flagged.is_empty())
                    .map(|(missing, flagged)| format!("{missing} ({})", pod_spec::container_names(&flagged)))
            })
            .collect();
        format!("{}: {}", pod_spec::name(self.template), parts.join("; "))
    }
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut by_namespace: BTreeMap<String, Vec<Lacking<'_, '_>>> = BTreeMap::new();
    for template in applications(facts) {
        let gaps: Vec<(usize, Vec<Flagged>)> = GAPS
            .iter()
            .enumerate()
            .map(|(index, gap)| (index, pod_spec::flagged(template, gap.check)))
            .filter(|(_, flagged)| !flagged.is_empty())
            .collect();
        if !gaps.is_empty() {
            let namespace = template.owner.namespace.clone().unwrap_or_default();
            by_namespace.entry(namespace).or_default().push(Lacking { template, gaps });
        }
    }
    by_namespace.into_iter().map(|(namespace, workloads)| advisory(&namespace, &workloads)).collect()
}

/// How many workload patches a finding offers; the rest follow the same pattern.
const MAX_PATCHES: usize = 5;

fn advisory(namespace: &str, workloads: &[Lacking<'_, '_>]) -> Finding {
    let mut topics: Vec<usize> =
        workloads.iter().flat_map(|lacking| lacking.gaps.iter().map(|(gap, _)| *gap)).collect();
    topics.sort_unstable();
    topics.dedup();
    let topics: Vec<&str> = topics.iter().map(|gap| GAPS[*gap].topic).collect();
    let noun = if workloads.len() == 1 { "workload" } else { "workloads" };
    let place =
        if namespace.is_empty() { "Cluster scope".to_owned() } else { format!("Namespace {namespace}") };
    let mut finding = DIAGNOSTIC
        .finding(
            Severity::P3,
            format!(
                "{place}: {} {noun} without container hardening \
                     ({})",
                workloads.len(),
                topics.join(", ")
            ),
        )
        .explanation(format!(
            "Advice, not a fault: {} {noun} of {} {} securityContext settings at their permissive defaults. \
             A container that runs as root is root on the node if it escapes; allowPrivilegeEscalation \
             not false lets a setuid binary gain privileges; a writable root filesystem lets an intruder \
             drop tools. Set runAsNonRoot: true (the image needs a non-root USER first), \
             allowPrivilegeEscalation: false and readOnlyRootFilesystem: true (with an emptyDir where \
             the application writes).",
            workloads.len(),
            if namespace.is_empty() { "the cluster".to_owned() } else { format!("namespace {namespace}") },
            if workloads.len() == 1 { "leaves" } else { "leave" },
        ));
    for lacking in workloads {
        finding =
            finding.object(lacking.template.owner.reference()).evidence(Evidence::note(lacking.describe()));
    }
    // allowPrivilegeEscalation: false is the setting that rarely breaks an application.
    for lacking in workloads.iter().take(MAX_PATCHES) {
        let escalating = lacking.gaps.iter().find(|(gap, _)| *gap == 1);
        match escalating.and_then(|(_, flagged)| {
            pod_spec::security_patch(lacking.template, flagged, "allowPrivilegeEscalation", false)
        }) {
            Some(patch) => finding = finding.remediation(patch),
            None => finding = finding.remediation(kubectl::get_yaml(&lacking.template.owner.reference())),
        }
    }
    finding
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    #[test]
    fn one_advisory_per_namespace_listing_its_workloads() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: shop}
spec:
  template:
    spec:
      containers:
      - {name: postgres, image: postgres}
      - {name: exporter, image: exporter, securityContext: {runAsUser: 0, allowPrivilegeEscalation: false}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
      - {name: web, image: web, securityContext: {allowPrivilegeEscalation: false}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: billing}
spec:
  template:
    spec:
      containers:
      - {name: migrate, image: migrate, securityContext: {runAsUser: 1000, readOnlyRootFilesystem: true}}
"#,
            expect![[r#"
                P3 container-hardening Namespace billing: 1 workload without container hardening (privilege escalation)
                  objects: Job/billing/migrate
                  note: Job billing/migrate: allows privilege escalation (`migrate`)
                  why: Advice, not a fault: 1 workload of namespace billing leaves securityContext settings at their permissive defaults. A container that runs as root is root on the node if it escapes; allowPrivilegeEscalation not false lets a setuid binary gain privileges; a writable root filesystem lets an intruder drop tools. Set runAsNonRoot: true (the image needs a non-root USER first), allowPrivilegeEscalation: false and readOnlyRootFilesystem: true (with an emptyDir where the application writes).
                  $ kubectl get job migrate -n billing -o yaml
                P3 container-hardening Namespace shop: 2 workloads without container hardening (run as root, privilege escalation, writable root filesystem)
                  objects: Deployment/shop/db, Deployment/shop/web
                  note: Deployment shop/db: runs as root (runAsUser 0) (`exporter`); may run as root (`postgres`); allows privilege escalation (`postgres`); has a writable root filesystem (`postgres`, `exporter`)
                  note: Deployment shop/web: has a writable root filesystem (`web`)
                  why: Advice, not a fault: 2 workloads of namespace shop leave securityContext settings at their permissive defaults. A container that runs as root is root on the node if it escapes; allowPrivilegeEscalation not false lets a setuid binary gain privileges; a writable root filesystem lets an intruder drop tools. Set runAsNonRoot: true (the image needs a non-root USER first), allowPrivilegeEscalation: false and readOnlyRootFilesystem: true (with an emptyDir where the application writes).
                  $ kubectl patch deployment/db -n shop -p '{"spec":{"template":{"spec":{"containers":[{"name":"postgres","securityContext":{"allowPrivilegeEscalation":false}}]}}}}'
                  $ kubectl get deployment web -n shop -o yaml
            "#]],
        );
    }

    #[test]
    fn hardened_applications_and_platform_components_are_fine() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
      - {name: api, image: api, securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true}}
      - name: side
        image: side
        securityContext: {runAsUser: 1000, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: kube-proxy, namespace: kube-system}
spec: {template: {spec: {containers: [{name: kube-proxy, image: "registry.k8s.io/kube-proxy:v1.30.0"}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: local-path-provisioner, namespace: local-path-storage}
spec:
  template:
    spec:
      containers: [{name: provisioner, image: "docker.io/kindest/local-path-provisioner:v0.0.22"}]
"#,
            expect![[r#"
                no findings
            "#]],
        );
    }
}
