//! Diagnostic `deprecated-api-versions`: objects using deprecated or removed API versions;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::nodes::version;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "deprecated-api-versions",
    category: Category::Cluster,
    title: "Objects using deprecated or removed API versions",
    severities: &[Severity::P2, Severity::P3],
    what: "Objects whose `apiVersion` is a deprecated or removed Kubernetes API (`extensions/v1beta1`, \
           `networking.k8s.io/v1beta1` Ingress, `policy/v1beta1` PodSecurityPolicy and PodDisruptionBudget, \
           `batch/v1beta1` CronJob, `autoscaling/v2beta1` and `v2beta2`, \
           `flowcontrol.apiserver.k8s.io/v1beta1..3`, the `v1beta1` of 1.22, ...), and custom resources \
           stored through a CRD version marked `deprecated: true`. One finding per API version and kind, \
           with the replacement and the release that removes it, judged against the API server's version \
           when the bundle has it. The model does not carry `cluster/api-resources.json`, so the judgement \
           rests on the objects' own `apiVersion` and the CRDs; an object the server also serves through \
           the replacement is reported as the lower-severity migration reminder it then is.",
    why: "Manifests, charts and tools using a removed version fail to apply after the upgrade that \
          removes it.",
    fix: "Rewrite the manifests and charts to the replacement version (`kubectl convert`), upgrade the tools \
          that create them, then upgrade the cluster.",
    example: "`3 CronJob objects use batch/v1beta1 (removed in 1.25; use batch/v1)`.",
    needs: &[],
    run,
};

/// One deprecated API: version, kind (`*`: every kind of the version), the minor release that
/// removes it, the replacement, and the minor release since which the replacement is served.
struct Deprecated {
    api_version: &'static str,
    kind: &'static str,
    removed_in: u64,
    replacement: &'static str,
    replacement_since: u64,
}

const fn api(
    api_version: &'static str,
    kind: &'static str,
    removed_in: u64,
    replacement: &'static str,
    replacement_since: u64,
) -> Deprecated {
    Deprecated { api_version, kind, removed_in, replacement, replacement_since }
}

/// From the Kubernetes deprecated API migration guide.
const DEPRECATED: &[Deprecated] = &[
    api("extensions/v1beta1", "Ingress", 22, "networking.k8s.io/v1", 19),
    api("extensions/v1beta1", "NetworkPolicy", 16, "networking.k8s.io/v1", 8),
    api(
        "extensions/v1beta1",
        "PodSecurityPolicy",
        16,
        "policy/v1beta1 (itself removed in 1.25: Pod Security Admission)",
        10,
    ),
    api("extensions/v1beta1", "*", 16, "apps/v1", 9),
    api("apps/v1beta1", "*", 16, "apps/v1", 9),
    api("apps/v1beta2", "*", 16, "apps/v1", 9),
    api("networking.k8s.io/v1beta1", "*", 22, "networking.k8s.io/v1", 19),
    api(
        "policy/v1beta1",
        "PodSecurityPolicy",
        25,
        "none: Pod Security Admission (pod-security.kubernetes.io labels)",
        23,
    ),
    api("policy/v1beta1", "PodDisruptionBudget", 25, "policy/v1", 21),
    api("batch/v1beta1", "CronJob", 25, "batch/v1", 21),
    api("autoscaling/v2beta1", "HorizontalPodAutoscaler", 25, "autoscaling/v2", 23),
    api("autoscaling/v2beta2", "HorizontalPodAutoscaler", 26, "autoscaling/v2", 23),
    api("discovery.k8s.io/v1beta1", "EndpointSlice", 25, "discovery.k8s.io/v1", 21),
    api("events.k8s.io/v1beta1", "Event", 25, "events.k8s.io/v1", 19),
    api("node.k8s.io/v1beta1", "RuntimeClass", 25, "node.k8s.io/v1", 20),
    api("storage.k8s.io/v1beta1", "CSIStorageCapacity", 27, "storage.k8s.io/v1", 24),
    api("storage.k8s.io/v1beta1", "*", 22, "storage.k8s.io/v1", 19),
    api("flowcontrol.apiserver.k8s.io/v1beta1", "*", 26, "flowcontrol.apiserver.k8s.io/v1", 29),
    api("flowcontrol.apiserver.k8s.io/v1beta2", "*", 29, "flowcontrol.apiserver.k8s.io/v1", 29),
    api("flowcontrol.apiserver.k8s.io/v1beta3", "*", 32, "flowcontrol.apiserver.k8s.io/v1", 29),
    api("admissionregistration.k8s.io/v1beta1", "*", 22, "admissionregistration.k8s.io/v1", 16),
    api("apiextensions.k8s.io/v1beta1", "*", 22, "apiextensions.k8s.io/v1", 16),
    api("apiregistration.k8s.io/v1beta1", "*", 22, "apiregistration.k8s.io/v1", 10),
    api("certificates.k8s.io/v1beta1", "*", 22, "certificates.k8s.io/v1", 19),
    api("coordination.k8s.io/v1beta1", "*", 22, "coordination.k8s.io/v1", 14),
    api("rbac.authorization.k8s.io/v1beta1", "*", 22, "rbac.authorization.k8s.io/v1", 8),
    api("scheduling.k8s.io/v1beta1", "*", 22, "scheduling.k8s.io/v1", 14),
];

/// How many objects of one group a finding names.
const LISTED: usize = 10;

fn lookup(object: &Object) -> Option<&'static Deprecated> {
    DEPRECATED.iter().find(|entry| {
        entry.api_version == object.api_version && (entry.kind == object.kind || entry.kind == "*")
    })
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let server = facts
        .cluster()
        .server_version
        .as_deref()
        .and_then(version::minor)
        .filter(|(major, _)| *major == 1)
        .map(|(_, minor)| minor);
    let mut builtin: BTreeMap<(&str, &str), Vec<&Object>> = BTreeMap::new();
    let mut custom: BTreeMap<(&str, &str), (Vec<&Object>, &Object)> = BTreeMap::new();
    let deprecated_crd_versions = crd_versions(facts.cluster());
    for object in &facts.cluster().objects {
        if object.kind == "Event" {
            continue;
        }
        if lookup(object).is_some() {
            builtin.entry((object.api_version.as_str(), object.kind.as_str())).or_default().push(object);
        } else if let Some(crd) =
            deprecated_crd_versions.get(&(object.api_version.as_str(), object.kind.as_str()))
        {
            custom
                .entry((object.api_version.as_str(), object.kind.as_str()))
                .or_insert_with(|| (Vec::new(), crd))
                .0
                .push(object);
        }
    }
    let mut findings = Vec::new();
    for ((api_version, kind), objects) in builtin {
        let Some(entry) =
            DEPRECATED.iter().find(|e| e.api_version == api_version && (e.kind == kind || e.kind == "*"))
        else {
            continue;
        };
        findings.push(builtin_finding(
            entry,
            kind,
            &objects,
            server,
            facts.cluster().server_version.as_deref(),
        ));
    }
    for ((api_version, kind), (objects, crd)) in custom {
        findings.push(custom_finding(api_version, kind, &objects, crd));
    }
    findings
}

/// `(group/version, kind)` → CRD, for every served version a CRD marks `deprecated: true`.
fn crd_versions(model: &ClusterModel) -> BTreeMap<(&str, &str), &Object> {
    let mut out: BTreeMap<(&str, &str), &Object> = BTreeMap::new();
    for crd in model.of_kind("CustomResourceDefinition") {
        let (Some(group), Some(kind)) = (crd.str_at("/spec/group"), crd.str_at("/spec/names/kind")) else {
            continue;
        };
        for version in crd.array_at("/spec/versions") {
            let deprecated = version.get("deprecated").and_then(Value::as_bool) == Some(true);
            if let (true, Some(name)) = (deprecated, version.get("name").and_then(Value::as_str)) {
                // The map borrows from the model, so the joined string must live there too:
                // find it among the objects that use it instead of allocating a key.
                if let Some(object) = model.of_kind(kind).find(|object| {
                    object.api_version.strip_prefix(group).and_then(|rest| rest.strip_prefix('/'))
                        == Some(name)
                }) {
                    out.insert((object.api_version.as_str(), kind), crd);
                }
            }
        }
    }
    out
}

fn listed(objects: &[&Object]) -> String {
    let mut names: Vec<String> = objects
        .iter()
        .take(LISTED)
        .map(|object| match &object.namespace {
            Some(namespace) => format!("{namespace}/{}", object.name),
            None => object.name.clone(),
        })
        .collect();
    if objects.len() > LISTED {
        names.push(format!("and {} more", objects.len() - LISTED));
    }
    names.join(", ")
}

fn builtin_finding(
    entry: &Deprecated,
    kind: &str,
    objects: &[&Object],
    server: Option<u64>,
    server_text: Option<&str>,
) -> Finding {
    let (severity, situation) = match server {
        Some(minor) if minor >= entry.removed_in => (
            Severity::P2,
            format!(
                "The API server ({}) no longer serves it: manifests using it fail to apply.",
                server_text.unwrap_or_default()
            ),
        ),
        Some(minor) if minor < entry.replacement_since => (
            Severity::P2,
            format!(
                "The API server ({}) does not serve the replacement yet, so these objects exist only \
                 through the deprecated version: upgrading to 1.{} removes it.",
                server_text.unwrap_or_default(),
                entry.removed_in
            ),
        ),
        Some(_) => (
            Severity::P3,
            format!(
                "The API server ({}) also serves the replacement: the objects are safe, but manifests, \
                 charts and tools that still write the old version will fail after upgrading to 1.{}.",
                server_text.unwrap_or_default(),
                entry.removed_in
            ),
        ),
        None => (
            Severity::P3,
            format!(
                "The bundle does not say the API server's version; the version is removed in 1.{}.",
                entry.removed_in
            ),
        ),
    };
    let count = objects.len();
    let mut finding = DIAGNOSTIC.finding(
        severity,
        format!(
            "{count} {kind} object{} use{} {} (removed in 1.{}; use {})",
            if count == 1 { "" } else { "s" },
            if count == 1 { "s" } else { "" },
            entry.api_version,
            entry.removed_in,
            entry.replacement
        ),
    );
    for object in objects.iter().take(LISTED) {
        finding = finding.object(object.reference());
    }
    if let Some(first) = objects.first() {
        finding =
            finding.evidence(Evidence::field(first.reference(), "/apiVersion", &entry.api_version.into()));
    }
    finding = finding.evidence(Evidence::note(format!("objects: {}", listed(objects))));
    let target = entry.replacement.split_whitespace().next().unwrap_or(entry.replacement);
    let mut finding = finding
        .explanation(format!(
            "{kind} objects are read through {}, deprecated and removed in 1.{}. {situation}",
            entry.api_version, entry.removed_in
        ))
        .remediation(Kubectl::new("get").resource(kind).arg("-A"));
    if target.contains('/') {
        finding =
            finding.remediation(Kubectl::new("convert -f <manifest.yaml> --output-version").name(target));
    }
    finding
}

fn custom_finding(api_version: &str, kind: &str, objects: &[&Object], crd: &Object) -> Finding {
    let served: Vec<String> = crd
        .array_at("/spec/versions")
        .iter()
        .filter(|version| version.get("deprecated").and_then(Value::as_bool) != Some(true))
        .filter(|version| version.get("served").and_then(Value::as_bool) != Some(false))
        .filter_map(|version| version.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let group = crd.str_at("/spec/group").unwrap_or_default();
    let replacement = served.first().map(|version| format!("{group}/{version}"));
    let count = objects.len();
    let mut finding = DIAGNOSTIC
        .finding(
            Severity::P3,
            format!(
                "{count} {kind} object{} use{} {api_version}, deprecated by CRD {}{}",
                if count == 1 { "" } else { "s" },
                if count == 1 { "s" } else { "" },
                crd.name,
                replacement.as_ref().map(|r| format!(" (use {r})")).unwrap_or_default()
            ),
        )
        .object(crd.reference());
    for object in objects.iter().take(LISTED) {
        finding = finding.object(object.reference());
    }
    let index = crd.array_at("/spec/versions").iter().position(|version| {
        Some(version.get("name").and_then(Value::as_str).unwrap_or_default())
            == api_version.rsplit('/').next()
    });
    if let Some(index) = index {
        let pointer = format!("/spec/versions/{index}/deprecationWarning");
        if let Some(warning) = crd.at(&pointer) {
            finding = finding.evidence(Evidence::field(crd.reference(), pointer, warning));
        } else {
            finding = finding.evidence(Evidence::field(
                crd.reference(),
                format!("/spec/versions/{index}/deprecated"),
                &true.into(),
            ));
        }
    }
    finding
        .evidence(Evidence::note(format!("objects: {}", listed(objects))))
        .explanation(format!(
            "CRD {} marks version {api_version} deprecated, and these objects are read through it. The \
             operator that owns the CRD will drop the version in a later release; manifests and tools \
             must move to {} first.",
            crd.name,
            replacement.unwrap_or_else(|| "a served version".to_owned())
        ))
        .remediation(kubectl::get_yaml(&crd.reference()))
        .remediation(Kubectl::new("get").name(&crd.name).arg("-A"))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::{model_from_yaml, render};

    const OBJECTS: &str = r#"
apiVersion: batch/v1beta1
kind: CronJob
metadata: {name: nightly, namespace: shop}
---
apiVersion: batch/v1beta1
kind: CronJob
metadata: {name: hourly, namespace: shop}
---
apiVersion: autoscaling/v2beta2
kind: HorizontalPodAutoscaler
metadata: {name: api, namespace: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget}
  versions:
  - {name: v1alpha1, served: true, storage: false, deprecated: true, deprecationWarning: "example.com/v1alpha1 Widget is deprecated; use example.com/v1"}
  - {name: v1, served: true, storage: true}
---
apiVersion: example.com/v1alpha1
kind: Widget
metadata: {name: w, namespace: shop}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: current, namespace: shop}
"#;

    fn run_with_server(fixture: &str, version: Option<&str>) -> String {
        let mut model = model_from_yaml(fixture);
        model.server_version = version.map(str::to_owned);
        render(&(DIAGNOSTIC.run)(&crate::facts::Facts::new(&model)))
    }

    #[test]
    fn builtin_and_crd_deprecations_judged_against_the_server() {
        expect![[r#"
            P3 deprecated-api-versions 1 HorizontalPodAutoscaler object uses autoscaling/v2beta2 (removed in 1.26; use autoscaling/v2)
              objects: HorizontalPodAutoscaler/shop/api
              field HorizontalPodAutoscaler/shop/api /apiVersion = autoscaling/v2beta2
              note: objects: shop/api
              why: HorizontalPodAutoscaler objects are read through autoscaling/v2beta2, deprecated and removed in 1.26. The API server (v1.24.9) also serves the replacement: the objects are safe, but manifests, charts and tools that still write the old version will fail after upgrading to 1.26.
              $ kubectl get horizontalpodautoscaler -A
              $ kubectl convert -f <manifest.yaml> --output-version autoscaling/v2
            P3 deprecated-api-versions 2 CronJob objects use batch/v1beta1 (removed in 1.25; use batch/v1)
              objects: CronJob/shop/hourly, CronJob/shop/nightly
              field CronJob/shop/hourly /apiVersion = batch/v1beta1
              note: objects: shop/hourly, shop/nightly
              why: CronJob objects are read through batch/v1beta1, deprecated and removed in 1.25. The API server (v1.24.9) also serves the replacement: the objects are safe, but manifests, charts and tools that still write the old version will fail after upgrading to 1.25.
              $ kubectl get cronjob -A
              $ kubectl convert -f <manifest.yaml> --output-version batch/v1
            P3 deprecated-api-versions 1 Widget object uses example.com/v1alpha1, deprecated by CRD widgets.example.com (use example.com/v1)
              objects: CustomResourceDefinition/widgets.example.com, Widget/shop/w
              field CustomResourceDefinition/widgets.example.com /spec/versions/0/deprecationWarning = example.com/v1alpha1 Widget is deprecated; use example.com/v1
              note: objects: shop/w
              why: CRD widgets.example.com marks version example.com/v1alpha1 deprecated, and these objects are read through it. The operator that owns the CRD will drop the version in a later release; manifests and tools must move to example.com/v1 first.
              $ kubectl get customresourcedefinition widgets.example.com -o yaml
              $ kubectl get widgets.example.com -A
        "#]].assert_eq(&run_with_server(OBJECTS, Some("v1.24.9")));
    }

    #[test]
    fn current_versions_are_fine() {
        let fixture = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly, namespace: shop}\n\
                       ---\napiVersion: networking.k8s.io/v1\nkind: Ingress\n\
                       metadata: {name: web, namespace: shop}\n";
        expect![[r#"
            no findings
        "#]]
        .assert_eq(&run_with_server(fixture, Some("v1.30.0")));
    }
}
