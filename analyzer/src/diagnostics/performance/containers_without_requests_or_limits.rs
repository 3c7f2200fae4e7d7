//! Diagnostic `containers-without-requests-or-limits`: containers without requests or a memory limit;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;

use super::limit_ranges::{container_ranges, effective};
use super::rightsize::recommend;
use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::performance::units;
use crate::facts::performance::usage::ContainerUsage;
use crate::facts::workload::{Template, containers};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "containers-without-requests-or-limits",
    category: Category::Performance,
    title: "Containers without requests or a memory limit",
    severities: &[Severity::P3],
    what: "Containers (init containers too) of every workload's pod template with no CPU request, no memory \
           request or no memory limit, after the namespace's LimitRange defaults (what those impose is \
           `limit-range-defaults`). One finding per workload, always P3: it is hardening advice, not a \
           problem the bundle shows happening (an OOM kill, an eviction, a node under pressure are their \
           own findings), so the engine rolls the workloads up into one advisory instead of a P2 per \
           workload. With samples of the workload's pods, the fix carries the recommended values (CPU from \
           p95, memory from the peak plus 20%); without, `kubectl top` first.",
    why: "Without requests the scheduler places the pod as if it used nothing and evicts it first; without a \
          memory limit one leak can starve the whole node.",
    fix: "Set requests from observed use and a memory limit (`kubectl set resources ... --requests=... \
          --limits=memory=...`), or give the namespace a LimitRange with defaults.",
    example: "`Deployment shop/api: api has no cpu request, memory request, memory limit`, with `kubectl \
              set resources deployment/api -n shop -c api --requests=cpu=290m,memory=600Mi \
              --limits=memory=600Mi`.",
    needs: &[],
    run,
};

/// One container and what it lacks.
#[derive(Debug)]
struct Missing<'a> {
    name: &'a str,
    pointer: String,
    container: &'a Value,
    lacks: Vec<&'static str>,
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    facts.templates().iter().filter_map(|template| finding(facts, template)).collect()
}

fn finding(facts: &Facts<'_>, template: &Template<'_>) -> Option<Finding> {
    let owner = template.owner;
    let namespace = owner.namespace.as_deref().unwrap_or_default();
    let ranges = container_ranges(facts.cluster(), namespace);
    let missing: Vec<Missing<'_>> = containers(template.spec, template.pointer)
        .into_iter()
        .filter_map(|(container, pointer)| {
            let resources = effective(&ranges, container);
            let lacks: Vec<&'static str> = [
                (resources.cpu_request.is_none(), "cpu request"),
                (resources.memory_request.is_none(), "memory request"),
                (resources.memory_limit.is_none(), "memory limit"),
            ]
            .into_iter()
            .filter_map(|(absent, what)| absent.then_some(what))
            .collect();
            let name = container.get("name").and_then(Value::as_str).unwrap_or_default();
            (!lacks.is_empty()).then_some(Missing { name, pointer, container, lacks })
        })
        .collect();
    if missing.is_empty() {
        return None;
    }
    let severity = Severity::P3;
    let listed: Vec<String> =
        missing.iter().map(|m| format!("{} has no {}", m.name, m.lacks.join(", "))).collect();
    let reference = owner.reference();
    let mut finding = DIAGNOSTIC
        .finding(severity, format!("{} {namespace}/{}: {}", owner.kind, owner.name, listed.join("; ")))
        .object(reference.clone());
    for item in &missing {
        let resources = item.container.get("resources").cloned().unwrap_or(Value::Null);
        finding = finding.evidence(Evidence::field(
            reference.clone(),
            format!("{}/resources", item.pointer),
            &resources,
        ));
    }
    // The samples of this workload's pods, per container, for concrete values.
    let workload_usages = |container: &str| -> Vec<&ContainerUsage<'_>> {
        let usages: Vec<&ContainerUsage<'_>> = match owner.kind.as_str() {
            "Pod" => facts.usages_of_pod(namespace, &owner.name).iter().collect(),
            _ => facts.usages_of(&reference).collect(),
        };
        usages
            .into_iter()
            .filter(|usage| usage.key().container == container && usage.serving() && usage.pod.is_some())
            .collect()
    };
    let (mut sampled, mut unsampled) = (false, false);
    for item in &missing {
        if !units::has_template(&owner.kind) {
            continue;
        }
        // Only what is missing: a request the container has stays as it is.
        let (cpu, memory) = match recommend(workload_usages(item.name)) {
            Some(recommendation) => {
                sampled = true;
                (units::cpu_quantity(recommendation.cpu), units::memory_quantity(recommendation.memory))
            }
            None => {
                unsampled = true;
                ("<cpu>".to_owned(), "<memory>".to_owned())
            }
        };
        let lacks = |what: &str| item.lacks.contains(&what);
        let mut requests = Vec::new();
        if lacks("cpu request") {
            requests.push(("cpu", cpu));
        }
        if lacks("memory request") {
            requests.push(("memory", memory.clone()));
        }
        let limits = if lacks("memory limit") { vec![("memory", memory)] } else { Vec::new() };
        let command = units::set_resources(&reference, item.name, &requests, &limits);
        finding = finding.remediation(command);
    }
    let mut explanation = "Without requests the scheduler places a pod as if it used nothing, so nodes get \
        overcommitted, and a pod with no requests at all is BestEffort: the first the kubelet evicts. \
        Without a memory limit one leak can take the node's memory from every other pod."
        .to_owned();
    if !ranges.is_empty() {
        explanation.push_str(" The namespace's LimitRange sets no default for what is listed.");
    }
    if sampled {
        explanation.push_str(
            " Where the bundle has samples, the commands use them: CPU request at the p95 seen, memory \
             request and limit at the peak plus 20% (the capture's window may miss peaks).",
        );
    }
    if unsampled {
        explanation.push_str(
            " `<cpu>` and `<memory>` mark values the bundle has no samples for: measure \
                              them (`kubectl top`).",
        );
    }
    if !units::has_template(&owner.kind) {
        explanation.push_str(
            " A bare pod's resources cannot be changed in place: set them in the manifest that creates it.",
        );
    }
    finding = finding.explanation(explanation);
    if !sampled || unsampled {
        finding = finding.remediation(
            crate::facts::kubectl::Kubectl::new("top pod").namespace(namespace).arg("--containers"),
        );
    }
    Some(finding)
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::{check, deployment, series};

    #[test]
    fn missing_requests_are_grouped_per_workload_with_values_from_the_samples() {
        let mut fixture = deployment(
            "shop",
            "api",
            &["api-a"],
            "[{name: api}, {name: proxy, resources: {requests: {cpu: 50m, memory: 64Mi}}}]",
        );
        fixture += &series("shop", "api-a", "api", "11:55:00", 10, |i| {
            (format!("{}m", 200 + i * 10), "500Mi".into())
        });
        fixture += &deployment(
            "kube-system",
            "metrics",
            &["metrics-a"],
            "[{name: metrics, resources: {requests: {cpu: 10m}}}]",
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
                P3 containers-without-requests-or-limits Deployment kube-system/metrics: metrics has no memory request, memory limit
                  objects: Deployment/kube-system/metrics
                  field Deployment/kube-system/metrics /spec/template/spec/containers/0/resources = {"requests":{"cpu":"10m"}}
                  why: Without requests the scheduler places a pod as if it used nothing, so nodes get overcommitted, and a pod with no requests at all is BestEffort: the first the kubelet evicts. Without a memory limit one leak can take the node's memory from every other pod. `<cpu>` and `<memory>` mark values the bundle has no samples for: measure them (`kubectl top`).
                  $ kubectl set resources deployment/metrics -n kube-system -c metrics --requests='memory=<memory>' --limits='memory=<memory>'
                  $ kubectl top pod -n kube-system --containers
                P3 containers-without-requests-or-limits Deployment shop/api: api has no cpu request, memory request, memory limit; proxy has no memory limit
                  objects: Deployment/shop/api
                  field Deployment/shop/api /spec/template/spec/containers/0/resources = null
                  field Deployment/shop/api /spec/template/spec/containers/1/resources = {"requests":{"cpu":"50m","memory":"64Mi"}}
                  why: Without requests the scheduler places a pod as if it used nothing, so nodes get overcommitted, and a pod with no requests at all is BestEffort: the first the kubelet evicts. Without a memory limit one leak can take the node's memory from every other pod. Where the bundle has samples, the commands use them: CPU request at the p95 seen, memory request and limit at the peak plus 20% (the capture's window may miss peaks). `<cpu>` and `<memory>` mark values the bundle has no samples for: measure them (`kubectl top`).
                  $ kubectl set resources deployment/api -n shop -c api --requests=cpu=290m,memory=600Mi --limits=memory=600Mi
                  $ kubectl set resources deployment/api -n shop -c proxy --limits='memory=<memory>'
                  $ kubectl top pod -n shop --containers
            "#]],
        );
    }

    #[test]
    fn limits_imply_requests_and_limit_range_defaults_fill_the_rest() {
        let mut fixture = deployment(
            "shop",
            "web",
            &["web-a"],
            "[{name: web, resources: {limits: {cpu: 1, memory: 1Gi}}}]",
        );
        fixture += &deployment("team", "job", &["job-a"], "[{name: job}]");
        fixture += r#"
---
apiVersion: v1
kind: LimitRange
metadata: {name: defaults, namespace: team}
spec:
  limits:
  - {type: Container, default: {cpu: 500m, memory: 512Mi}, defaultRequest: {cpu: 100m, memory: 256Mi}}
"#;
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
