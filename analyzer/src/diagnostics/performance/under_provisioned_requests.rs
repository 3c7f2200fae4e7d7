//! Diagnostic `under-provisioned-requests`: requests below what containers use;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use super::rightsize::{Recommendation, recommend};
use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::performance::units;
use crate::facts::performance::usage::{Group, group};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "under-provisioned-requests",
    category: Category::Performance,
    title: "Requests below what containers use",
    severities: &[Severity::P2],
    what: "Workload containers that use more than they request: the p95 of CPU over 1.25× the CPU request, \
           or a memory peak above the memory request, pooled over the replicas. The finding gives current \
           versus recommended requests (CPU from p95, memory from the peak plus 20%) and the `kubectl set \
           resources` command.",
    why: "Pods are placed by their requests: one using more takes CPU promised to its neighbours, and one \
          above its memory request is evicted first when the node runs short.",
    fix: "Raise the requests to the recommendation (`kubectl set resources ... --requests=...`), after \
          checking the nodes can hold them.",
    example: "The prod-simulation scenario's `api-backend` requests 512Mi and its leaking replica peaks at \
              695 MiB: `memory requests 512 MiB but peaks at 695 MiB (recommend 834Mi)`, with `kubectl set \
              resources deployment/api-backend -n prod-simulation -c api --requests=memory=834Mi`.",
    needs: &[Need::Metrics],
    run,
};

/// CPU p95 above this multiple of the request is under-provisioned.
const CPU_FACTOR: f64 = 1.25;

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    // A crash-looping or starting container's usage says nothing of what it needs.
    let all =
        facts.usages().iter().filter(|&usage| usage.serving()).cloned().map(|usage| (usage, ())).collect();
    group(facts, all).iter().filter_map(finding).collect()
}

fn finding(group: &Group<'_, ()>) -> Option<Finding> {
    let (first, _) = group.members.first()?;
    let resources = first.resources;
    let recommendation = recommend(group.members.iter().map(|(usage, _)| usage))?;
    let mut short = Vec::new();
    if resources.cpu_request.is_some_and(|request| recommendation.cpu_p95 > CPU_FACTOR * request) {
        short.push("cpu");
    }
    if resources.memory_request.is_some_and(|request| recommendation.memory_max > request) {
        short.push("memory");
    }
    if short.is_empty() {
        return None;
    }
    Some(build(group, &recommendation, &short))
}

fn build(group: &Group<'_, ()>, recommendation: &Recommendation, short: &[&str]) -> Finding {
    let usage = &group.members[0].0;
    let resources = usage.resources;
    let parts: Vec<String> = short
        .iter()
        .map(|resource| match *resource {
            "cpu" => format!(
                "cpu requests {} but p95 is {} (recommend {})",
                units::cpu(resources.cpu_request.unwrap_or_default()),
                units::cpu(recommendation.cpu_p95),
                units::cpu_quantity(recommendation.cpu)
            ),
            _ => format!(
                "memory requests {} but peaks at {} (recommend {})",
                units::memory(resources.memory_request.unwrap_or_default()),
                units::memory(recommendation.memory_max),
                units::memory_quantity(recommendation.memory)
            ),
        })
        .collect();
    let mut finding = DIAGNOSTIC.finding(Severity::P2, format!("{}: {}", group.label(), parts.join("; ")));
    for object in group.objects() {
        finding = finding.object(object);
    }
    let label = usage.label();
    finding = finding
        .evidence(units::cpu_metric(&label, "p95 (all replicas)", recommendation.cpu_p95))
        .evidence(units::memory_metric(&label, "max (all replicas)", recommendation.memory_max));
    if let (Some(pod), Some(pointer)) = (usage.pod, &usage.pointer) {
        for resource in short {
            let field = format!("{pointer}/resources/requests/{resource}");
            if let Some(value) = pod.at(&field) {
                finding = finding.evidence(Evidence::field(pod.reference(), field, value));
            }
        }
    }
    let mut explanation = format!(
        "Container `{}` uses more than it requests. The scheduler reserves only the request: CPU beyond \
         it is taken from what neighbours were promised, and a container above its memory request is \
         among the first the kubelet evicts when the node runs short of memory. {}",
        group.container,
        recommendation.basis()
    );
    if short.contains(&"memory") && resources.memory_limit.is_some_and(|limit| limit < recommendation.memory)
    {
        explanation.push_str(
            " The recommended memory request is above the current limit, so the command \
                              raises the limit too.",
        );
    }
    finding = finding.explanation(explanation).remediation(units::top_pod(&usage.pod_ref()));
    if let Some(workload) = group.workload.as_ref().filter(|w| units::has_template(&w.kind)) {
        finding = finding.remediation(recommendation.command(workload, &group.container, &resources, short));
    }
    finding
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::{check, deployment, series};

    const API: &str =
        "[{name: api, resources: {requests: {cpu: 300m, memory: 512Mi}, limits: {cpu: 1, memory: 2Gi}}}]";

    #[test]
    fn prod_simulations_api_backend_outgrows_its_512_mib_request() {
        let mut fixture =
            deployment("prod-simulation", "api-backend", &["api-backend-a", "api-backend-b"], API);
        fixture += &series("prod-simulation", "api-backend-a", "api", "11:55:00", 10, |i| {
            (format!("{}m", 250 + i * 5), format!("{}Mi", 650 + i * 5))
        });
        fixture += &series("prod-simulation", "api-backend-b", "api", "11:55:00", 10, |_| {
            ("280m".into(), "480Mi".into())
        });
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P2 under-provisioned-requests Deployment prod-simulation/api-backend container api (2 pods): memory requests 512 MiB but peaks at 695 MiB (recommend 834Mi)
              objects: Deployment/prod-simulation/api-backend, Pod/prod-simulation/api-backend-a, Pod/prod-simulation/api-backend-b
              metric cpu prod-simulation/api-backend-a/api p95 (all replicas) = 290.25 millicores
              metric memory prod-simulation/api-backend-a/api max (all replicas) = 695 MiB
              field Pod/prod-simulation/api-backend-a /spec/containers/0/resources/requests/memory = 512Mi
              why: Container `api` uses more than it requests. The scheduler reserves only the request: CPU beyond it is taken from what neighbours were promised, and a container above its memory request is among the first the kubelet evicts when the node runs short of memory. The recommendation (CPU request = p95 290m, memory request = peak 695 MiB + 20%) comes from 20 samples over 4m 30s. A window this short misses daily and weekly peaks: confirm with a longer capture (or the monitoring history) before changing the requests.
              $ kubectl top pod api-backend-a -n prod-simulation --containers
              $ kubectl set resources deployment/api-backend -n prod-simulation -c api --requests=memory=834Mi
        "#]],
        );
    }

    #[test]
    fn usage_within_the_requests_is_fine() {
        let mut fixture = deployment("prod-simulation", "api-backend", &["api-backend-a"], API);
        // 360m is 1.2× the 300m request: bursting a little above it is what requests allow.
        fixture += &series("prod-simulation", "api-backend-a", "api", "11:55:00", 10, |_| {
            ("360m".into(), "500Mi".into())
        });
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
