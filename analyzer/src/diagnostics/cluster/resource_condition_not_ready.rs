//! Diagnostic `resource-condition-not-ready`: objects whose conditions say not Ready;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl::Kubectl;
use crate::facts::nodes::age;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "resource-condition-not-ready",
    category: Category::Cluster,
    title: "Objects whose conditions say not Ready",
    severities: &[Severity::P1, Severity::P2],
    what: "Any object whose `status.conditions` say `Ready`, `Available` or `Healthy` is `False` — Flux \
           Kustomizations and HelmReleases (what `flux get kustomizations | grep -v \"Ready True\"` lists), \
           cert-manager Certificates and Issuers, operator custom resources, APIServices — and Argo CD \
           Applications whose `status.health.status` is Degraded or Missing. Kinds other diagnostics \
           already judge (Pod, Node, workloads, Services, PVCs, HPAs, ...) are left to them.",
    why: "Controllers report their failures only in these conditions: deployments stop applying, releases \
          stay half-upgraded, aggregated APIs break discovery.",
    fix: "Read the condition's reason and message and the controller's logs; fix the source, values or \
          credentials it names, then trigger a reconcile.",
    example: "`Kustomization flux-system/apps not Ready: BuildFailed (kustomize build failed: accumulating \
              resources: ... no such file or directory) for 3h`.",
    needs: &[],
    run,
};

/// Kinds whose health other diagnostics judge with more context.
const COVERED: &[&str] = &[
    "Pod",
    "Node",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "ReplicationController",
    "Service",
    "Endpoints",
    "EndpointSlice",
    "PersistentVolumeClaim",
    "PersistentVolume",
    "HorizontalPodAutoscaler",
    "Namespace",
    "Event",
    "CustomResourceDefinition",
    "VolumeSnapshot",
];

const TYPES: &[&str] = &["Ready", "Available", "Healthy"];

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    facts
        .cluster()
        .objects
        .iter()
        .filter(|object| !COVERED.contains(&object.kind.as_str()))
        .filter_map(|object| condition_finding(facts.cluster(), object).or_else(|| argo_finding(object)))
        .collect()
}

/// `kind.group` as kubectl names a resource unambiguously (`kustomization.kustomize.toolkit.fluxcd.io`).
fn resource(object: &Object) -> String {
    match object.api_version.rsplit_once('/') {
        Some((group, _)) => format!("{}.{group}", object.kind.to_ascii_lowercase()),
        None => object.kind.to_ascii_lowercase(),
    }
}

/// `kubectl <verb> <kind.group> <name> -n <namespace>`.
fn command(verb: &'static str, object: &Object) -> Kubectl {
    let command = Kubectl::new(verb).name(&resource(object)).name(&object.name);
    match object.namespace.as_deref() {
        Some(namespace) => command.namespace(namespace),
        None => command,
    }
}

fn label(object: &Object) -> String {
    match &object.namespace {
        Some(namespace) => format!("{} {namespace}/{}", object.kind, object.name),
        None => format!("{} {}", object.kind, object.name),
    }
}

fn condition_finding(model: &ClusterModel, object: &Object) -> Option<Finding> {
    let (index, condition) =
        object.array_at("/status/conditions").iter().enumerate().find(|(_, condition)| {
            TYPES.contains(&condition.get("type").and_then(Value::as_str).unwrap_or_default())
                && condition.get("status").and_then(Value::as_str) == Some("False")
        })?;
    let text = |key: &str| condition.get(key).and_then(Value::as_str).unwrap_or_default().trim();
    let since = condition
        .get("lastTransitionTime")
        .and_then(Value::as_str)
        .and_then(|time| time.parse::<jiff::Timestamp>().ok());
    let for_text = age::seconds_since(model, since)
        .map(|seconds| format!(" for {}", age::human(seconds)))
        .unwrap_or_default();
    let because = match (text("reason"), text("message")) {
        ("", "") => String::new(),
        (reason, "") => format!(": {reason}"),
        ("", message) => format!(": {message}"),
        (reason, message) => format!(": {reason} ({message})"),
    };
    // An aggregated API that is down also breaks discovery for every client.
    let severity = if object.kind == "APIService" { Severity::P1 } else { Severity::P2 };
    let reference = object.reference();
    let pointer = format!("/status/conditions/{index}");
    let mut finding = DIAGNOSTIC
        .finding(severity, format!("{} not {}{because}{for_text}", label(object), text("type")))
        .object(reference.clone())
        .evidence(Evidence::field(reference.clone(), pointer, condition));
    for event in
        model.events_for(&object.kind, object.namespace.as_deref(), &object.name).filter(|e| e.is_warning())
    {
        finding = finding.evidence(Evidence::event(event));
    }
    let mut explanation = format!(
        "The controller of {} reports its {} condition False{because}{for_text}.",
        label(object),
        text("type")
    );
    if object.kind == "APIService" {
        explanation.push_str(
            " This aggregated API is unavailable: API discovery fails for every client (kubectl prints \
             errors), its resources cannot be read (metrics-server: `kubectl top` and HPAs fail), and \
             namespaces holding its resources cannot be deleted.",
        );
    } else {
        explanation.push_str(" What it manages is not in the state it declares until the cause is fixed.");
    }
    let mut finding = finding.explanation(explanation).remediation(command("describe", object));
    if object.api_version.contains("toolkit.fluxcd.io") {
        finding = finding.remediation(
            command("annotate --overwrite", object).arg("reconcile.fluxcd.io/requestedAt=\"$(date +%s)\""),
        );
    }
    if object.kind == "APIService"
        && let (Some(namespace), Some(name)) =
            (object.str_at("/spec/service/namespace"), object.str_at("/spec/service/name"))
    {
        finding = finding.remediation(Kubectl::new("get endpoints").name(name).namespace(namespace));
    }
    Some(finding)
}

fn argo_finding(object: &Object) -> Option<Finding> {
    if object.kind != "Application" || !object.api_version.starts_with("argoproj.io/") {
        return None;
    }
    let health = object.str_at("/status/health/status")?;
    if !matches!(health, "Degraded" | "Missing") {
        return None;
    }
    let reference = object.reference();
    let sync = object.str_at("/status/sync/status").unwrap_or("Unknown");
    let message =
        object.str_at("/status/health/message").map(|m| format!(" ({})", m.trim())).unwrap_or_default();
    let mut finding = DIAGNOSTIC
        .finding(Severity::P2, format!("{} {health}{message}, sync {sync}", label(object)))
        .object(reference.clone())
        .evidence(Evidence::field(
            reference.clone(),
            "/status/health",
            object.at("/status/health").unwrap_or(&Value::Null),
        ))
        .evidence(Evidence::field(reference.clone(), "/status/sync/status", &sync.into()));
    let unhealthy: Vec<String> = object
        .array_at("/status/resources")
        .iter()
        .filter(|resource| {
            matches!(resource.pointer("/health/status").and_then(Value::as_str), Some("Degraded" | "Missing"))
        })
        .filter_map(|resource| {
            let kind = resource.get("kind")?.as_str()?;
            let name = resource.get("name")?.as_str()?;
            let status = resource.pointer("/health/status")?.as_str()?;
            Some(format!("{kind}/{name} {status}"))
        })
        .collect();
    if !unhealthy.is_empty() {
        finding = finding.evidence(Evidence::note(format!("unhealthy resources: {}", unhealthy.join(", "))));
    }
    Some(
        finding
            .explanation(format!(
                "Argo CD reports Application {} {health}: resources it deployed are failing or \
                 missing{}. Their own findings (pods, workloads) say why.",
                object.name,
                if unhealthy.is_empty() { String::new() } else { format!(" ({})", unhealthy.join(", ")) }
            ))
            .remediation(command("describe", object)),
    )
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    #[test]
    fn flux_apiservice_and_argo_failures() {
        let fixture = r#"
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
status:
  conditions:
  - {type: Reconciling, status: "False"}
  - {type: Ready, status: "False", reason: BuildFailed, message: "kustomize build failed: accumulating resources: open /tmp/apps/prod: no such file or directory", lastTransitionTime: "2025-06-01T09:00:00Z"}
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io}
spec: {service: {namespace: kube-system, name: metrics-server}}
status: {conditions: [{type: Available, status: "False", reason: MissingEndpoints, message: "endpoints for service/metrics-server in \"kube-system\" have no addresses"}]}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: shop, namespace: argocd}
status:
  health: {status: Degraded}
  sync: {status: Synced}
  resources: [{kind: Deployment, name: api, health: {status: Degraded}}, {kind: Service, name: api, health: {status: Healthy}}]
"#;
        check(
            &DIAGNOSTIC,
            fixture,
            expect![[r#"
            P1 resource-condition-not-ready APIService v1beta1.metrics.k8s.io not Available: MissingEndpoints (endpoints for service/metrics-server in "kube-system" have no addresses)
              objects: APIService/v1beta1.metrics.k8s.io
              field APIService/v1beta1.metrics.k8s.io /status/conditions/0 = {"message":"endpoints for service/metrics-server in \"kube-system\" have no addresses","reason":"MissingEndpoints","status":"False","type":"Available"}
              why: The controller of APIService v1beta1.metrics.k8s.io reports its Available condition False: MissingEndpoints (endpoints for service/metrics-server in "kube-system" have no addresses). This aggregated API is unavailable: API discovery fails for every client (kubectl prints errors), its resources cannot be read (metrics-server: `kubectl top` and HPAs fail), and namespaces holding its resources cannot be deleted.
              $ kubectl describe apiservice.apiregistration.k8s.io v1beta1.metrics.k8s.io
              $ kubectl get endpoints metrics-server -n kube-system
            P2 resource-condition-not-ready Application argocd/shop Degraded, sync Synced
              objects: Application/argocd/shop
              field Application/argocd/shop /status/health = {"status":"Degraded"}
              field Application/argocd/shop /status/sync/status = Synced
              note: unhealthy resources: Deployment/api Degraded
              why: Argo CD reports Application shop Degraded: resources it deployed are failing or missing (Deployment/api Degraded). Their own findings (pods, workloads) say why.
              $ kubectl describe application.argoproj.io shop -n argocd
            P2 resource-condition-not-ready Kustomization flux-system/apps not Ready: BuildFailed (kustomize build failed: accumulating resources: open /tmp/apps/prod: no such file or directory) for 3h
              objects: Kustomization/flux-system/apps
              field Kustomization/flux-system/apps /status/conditions/1 = {"lastTransitionTime":"2025-06-01T09:00:00Z","message":"kustomize build failed: accumulating resources: open /tmp/apps/prod: no such file or directory","reason":"BuildFailed","status":"False","type":"Ready"}
              why: The controller of Kustomization flux-system/apps reports its Ready condition False: BuildFailed (kustomize build failed: accumulating resources: open /tmp/apps/prod: no such file or directory) for 3h. What it manages is not in the state it declares until the cause is fixed.
              $ kubectl describe kustomization.kustomize.toolkit.fluxcd.io apps -n flux-system
              $ kubectl annotate --overwrite kustomization.kustomize.toolkit.fluxcd.io apps -n flux-system reconcile.fluxcd.io/requestedAt="$(date +%s)"
        "#]],
        );
    }

    #[test]
    fn ready_objects_and_covered_kinds_are_left_alone() {
        let fixture = r#"
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: ingress, namespace: flux-system}
status: {conditions: [{type: Ready, status: "True"}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
status: {conditions: [{type: Available, status: "False", reason: MinimumReplicasUnavailable}]}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: c, namespace: shop}
status: {conditions: [{type: Ready, status: "Unknown"}]}
"#;
        check(
            &DIAGNOSTIC,
            fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
