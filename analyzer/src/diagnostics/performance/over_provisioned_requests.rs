//! Diagnostic `over-provisioned-requests`: requests far above what containers use;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use super::rightsize::recommend;
use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::performance::units;
use crate::facts::performance::usage::{Group, MIB, group};
use crate::finding::{Category, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "over-provisioned-requests",
    category: Category::Performance,
    title: "Requests far above what containers use",
    severities: &[Severity::P3],
    what: "Workload containers that request more than twice what they use: the CPU request over 2× the p95 \
           of CPU (and at least 100m more), or the memory request over 2× the peak plus 20% (and at least \
           128 MiB more), pooled over the replicas. The finding gives current versus recommended requests \
           and the `kubectl set resources` command. P3: a cost, not a risk (`K8sPerformanceAnalyzer`'s \
           \"low resource efficiency\", computed from requests rather than its formula).",
    why: "Requests are reserved whether used or not: over-requested pods make nodes look full, block \
          scheduling and cost money.",
    fix: "Lower the requests to the recommendation after confirming it over a window that holds the \
          workload's peaks.",
    example: "The prod-simulation scenario's `database-service` requests 500m and uses 40m: `cpu requests \
              500m but p95 is 39m (recommend 40m)`, with the window's length, since 5 minutes miss the \
              nightly batch.",
    needs: &[Need::Metrics],
    run,
};

const FACTOR: f64 = 2.0;
const MIN_CPU_SAVING: f64 = 100.0;
const MIN_MEMORY_SAVING: f64 = 128.0 * MIB;

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    // A crash-looping or starting container's usage says nothing of what it needs.
    let all =
        facts.usages().iter().filter(|&usage| usage.serving()).cloned().map(|usage| (usage, ())).collect();
    group(facts, all).iter().filter_map(finding).collect()
}

fn finding(group: &Group<'_, ()>) -> Option<Finding> {
    let (usage, _) = group.members.first()?;
    let resources = usage.resources;
    let recommendation = recommend(group.members.iter().map(|(usage, _)| usage))?;
    let mut parts = Vec::new();
    let mut over = Vec::new();
    if let Some(request) = resources.cpu_request
        && request > FACTOR * recommendation.cpu
        && request - recommendation.cpu >= MIN_CPU_SAVING
    {
        over.push("cpu");
        parts.push(format!(
            "cpu requests {} but p95 is {} (recommend {})",
            units::cpu(request),
            units::cpu(recommendation.cpu_p95),
            units::cpu_quantity(recommendation.cpu)
        ));
    }
    if let Some(request) = resources.memory_request
        && request > FACTOR * recommendation.memory
        && request - recommendation.memory >= MIN_MEMORY_SAVING
    {
        over.push("memory");
        parts.push(format!(
            "memory requests {} but peaks at {} (recommend {})",
            units::memory(request),
            units::memory(recommendation.memory_max),
            units::memory_quantity(recommendation.memory)
        ));
    }
    if over.is_empty() {
        return None;
    }
    let replicas = group.members.len() as f64;
    let mut finding = DIAGNOSTIC.finding(Severity::P3, format!("{}: {}", group.label(), parts.join("; ")));
    for object in group.objects() {
        finding = finding.object(object);
    }
    let label = usage.label();
    finding = finding
        .evidence(units::cpu_metric(&label, "p95 (all replicas)", recommendation.cpu_p95))
        .evidence(units::memory_metric(&label, "max (all replicas)", recommendation.memory_max));
    let freed = |resource: &str| match resource {
        "cpu" => units::cpu((resources.cpu_request.unwrap_or_default() - recommendation.cpu) * replicas),
        _ => units::memory((resources.memory_request.unwrap_or_default() - recommendation.memory) * replicas),
    };
    let freed: Vec<String> = over.iter().map(|resource| format!("{} {resource}", freed(resource))).collect();
    finding = finding
        .explanation(format!(
            "Container `{}` requests more than twice what it uses. Requests are reserved on the node whether \
             used or not; the recommendation frees {} across the {} replicas seen. {}",
            group.container,
            freed.join(" and "),
            group.members.len(),
            recommendation.basis()
        ))
        .remediation(units::top_pod(&usage.pod_ref()));
    if let Some(workload) = group.workload.as_ref().filter(|w| units::has_template(&w.kind)) {
        finding = finding.remediation(recommendation.command(workload, &group.container, &resources, &over));
    }
    Some(finding)
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::{check, deployment, series};

    const DATABASE: &str = "[{name: database, resources: {requests: {cpu: 500m, memory: 1Gi}, limits: \
                            {cpu: 2, memory: 4Gi}}}, {name: connection-monitor, resources: {requests: \
                            {cpu: 100m, memory: 128Mi}, limits: {cpu: 500m, memory: 512Mi}}}]";

    #[test]
    fn prod_simulations_idle_database_requests_ten_times_its_use() {
        let mut fixture = deployment(
            "prod-simulation",
            "database-service",
            &["database-service-a", "database-service-b"],
            DATABASE,
        );
        for pod in ["database-service-a", "database-service-b"] {
            fixture += &series("prod-simulation", pod, "database", "11:55:00", 10, |i| {
                (format!("{}m", 30 + i), "180Mi".into())
            });
            // The monitor requests 100m and uses 20m: 80m is below the 100m worth a change.
            fixture += &series("prod-simulation", pod, "connection-monitor", "11:55:00", 10, |_| {
                ("20m".into(), "20Mi".into())
            });
        }
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P3 over-provisioned-requests Deployment prod-simulation/database-service container database (2 pods): cpu requests 500m but p95 is 39m (recommend 40m); memory requests 1 GiB but peaks at 180 MiB (recommend 216Mi)
              objects: Deployment/prod-simulation/database-service, Pod/prod-simulation/database-service-a, Pod/prod-simulation/database-service-b
              metric cpu prod-simulation/database-service-a/database p95 (all replicas) = 39 millicores
              metric memory prod-simulation/database-service-a/database max (all replicas) = 180 MiB
              why: Container `database` requests more than twice what it uses. Requests are reserved on the node whether used or not; the recommendation frees 920m cpu and 1.58 GiB memory across the 2 replicas seen. The recommendation (CPU request = p95 39m, memory request = peak 180 MiB + 20%) comes from 20 samples over 4m 30s. A window this short misses daily and weekly peaks: confirm with a longer capture (or the monitoring history) before changing the requests.
              $ kubectl top pod database-service-a -n prod-simulation --containers
              $ kubectl set resources deployment/database-service -n prod-simulation -c database --requests=cpu=40m,memory=216Mi
        "#]],
        );
    }

    #[test]
    fn requests_close_to_use_are_fine() {
        let mut fixture =
            deployment("prod-simulation", "database-service", &["database-service-a"], DATABASE);
        fixture += &series("prod-simulation", "database-service-a", "database", "11:55:00", 10, |_| {
            ("400m".into(), "700Mi".into())
        });
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }

    #[test]
    fn a_crash_looping_replica_is_not_right_sized() {
        // Not ready: its 1m and 1 MiB are a container that keeps dying, not what it needs.
        let fixture = deployment("analytics", "report-generator", &["report-generator-a"], DATABASE)
            .replace("status: \"True\"", "status: \"False\"")
            + &series("analytics", "report-generator-a", "database", "11:55:00", 10, |_| {
                ("1m".into(), "1Mi".into())
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
