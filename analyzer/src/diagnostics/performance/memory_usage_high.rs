//! Diagnostic `memory-usage-high`: memory usage near the container's limit;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use super::against_limit::{Resource, findings};
use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::finding::{Category, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "memory-usage-high",
    category: Category::Performance,
    title: "Memory usage near the container's limit",
    severities: &[Severity::P1, Severity::P2],
    what: "The 95th percentile of each container's working set against its own memory limit: above 80% of \
           the limit is P2, above 90% P1. A container without a memory limit falls back to the fixed \
           thresholds (`p95 > 800 MB` medium, `> 1000 MB` high, the `Mi` of `kubectl top`). One finding per \
           workload container, led by its fullest replica.",
    why: "Memory cannot be throttled: at the limit the container is OOM-killed; without one the node runs \
          short and pods are evicted.",
    fix: "Raise the memory limit above the peak with headroom (`kubectl set resources ... \
          --limits=memory=...`), or find the growth (see memory-leak).",
    example: "A database at 3.7 GiB of its 4 GiB limit: `memory p95 3.7 GiB is 92% of its 4 GiB limit`, \
              with `kubectl set resources deployment/database-service -n prod-simulation -c database \
              --limits=memory=5408Mi`.",
    needs: &[Need::Metrics],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    findings(facts, &DIAGNOSTIC, Resource::Memory)
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::{check, deployment, series};

    /// The prod-simulation scenario's database-service: two containers, each with its own limits.
    const DATABASE: &str = "[{name: database, image: postgres, resources: {requests: {cpu: 500m, memory: \
                            1Gi}, limits: {cpu: 2, memory: 4Gi}}}, {name: connection-monitor, image: alpine, \
                            resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 500m, \
                            memory: 512Mi}}}]";

    #[test]
    fn prod_simulations_database_is_judged_per_container_against_its_own_limit() {
        let mut fixture =
            deployment("prod-simulation", "database-service", &["database-service-a"], DATABASE);
        fixture += &series("prod-simulation", "database-service-a", "database", "11:55:00", 10, |i| {
            ("700m".into(), format!("{}Mi", 3700 + i * 10))
        });
        // 300 MiB would be nothing for the database, but it is 59% of the monitor's 512 MiB.
        fixture +=
            &series("prod-simulation", "database-service-a", "connection-monitor", "11:55:00", 10, |_| {
                ("50m".into(), "300Mi".into())
            });
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 memory-usage-high Deployment prod-simulation/database-service container database: memory p95 3.7 GiB is 92% of its 4 GiB limit
              objects: Deployment/prod-simulation/database-service, Pod/prod-simulation/database-service-a
              metric memory prod-simulation/database-service-a/database p95 = 3785.5 MiB
              metric memory prod-simulation/database-service-a/database max = 3790 MiB
              metric memory prod-simulation/database-service-a/database mean = 3745 MiB
              field Pod/prod-simulation/database-service-a /spec/containers/0/resources/limits/memory = 4Gi
              why: In 95% of 10 samples over 4m 30s container `database` of pod database-service-a used up to 3.7 GiB memory (92% of its 4 GiB limit). Memory cannot be throttled: at the limit the kernel OOM-kills the container. A p95 this close leaves no room for a burst (or is a leak: see memory-leak).
              $ kubectl top pod database-service-a -n prod-simulation --containers
              $ kubectl describe pod database-service-a -n prod-simulation
              $ kubectl set resources deployment/database-service -n prod-simulation -c database --limits=memory=5408Mi
        "#]],
        );
    }

    #[test]
    fn without_a_limit_prod_simulations_thresholds_apply() {
        let mut fixture = deployment("shop", "search", &["search-a"], "[{name: search}]");
        fixture += &series("shop", "search-a", "search", "11:55:00", 6, |_| ("100m".into(), "900Mi".into()));
        fixture += &deployment("shop", "small", &["small-a"], "[{name: small}]");
        fixture += &series("shop", "small-a", "small", "11:55:00", 6, |_| ("100m".into(), "700Mi".into()));
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P2 memory-usage-high Deployment shop/search container search: memory p95 900 MiB with no memory limit (above the fixed 800 MiB)
              objects: Deployment/shop/search, Pod/shop/search-a
              metric memory shop/search-a/search p95 = 900 MiB
              metric memory shop/search-a/search max = 900 MiB
              metric memory shop/search-a/search mean = 900 MiB
              why: In 95% of 6 samples over 2m 30s container `search` of pod search-a used up to 900 MiB memory (it has no memory limit, and this is above the fixed threshold of 800 MiB). Without a memory limit nothing stops it growing until the node runs short of memory, and the kubelet evicts pods (those above their requests first).
              $ kubectl top pod search-a -n shop --containers
              $ kubectl describe pod search-a -n shop
              $ kubectl set resources deployment/search -n shop -c search --limits=memory=1286Mi
        "#]],
        );
    }
}
