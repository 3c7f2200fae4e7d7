//! Diagnostic `cpu-usage-high`: CPU usage near the container's limit;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use super::against_limit::{Resource, findings};
use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::finding::{Category, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "cpu-usage-high",
    category: Category::Performance,
    title: "CPU usage near the container's limit",
    severities: &[Severity::P1, Severity::P2],
    what: "The 95th percentile of each container's CPU samples against its own CPU limit: above 80% of the \
           limit is P2, above 90% P1. A container without a CPU limit falls back to the fixed thresholds \
           (`p95 > 800m` medium, `> 900m` high). One finding per workload container, led by its busiest \
           replica.",
    why: "Near its CPU limit a container is throttled: latency rises and requests queue, and nothing in the \
          pod's status shows it.",
    fix: "Raise the CPU limit (`kubectl set resources ... --limits=cpu=...`), scale out (an HPA), or find \
          what burns the CPU (`kubectl top pod --containers`).",
    example: "The prod-simulation scenario's `web-frontend` runs `yes` in business hours and pins its \
              1-core limit: `CPU p95 1 core is 100% of its 1 core limit`, with p95, max and mean per \
              replica and `kubectl set resources deployment/web-frontend -n prod-simulation -c web \
              --limits=cpu=1430m`.",
    needs: &[Need::Metrics],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    findings(facts, &DIAGNOSTIC, Resource::Cpu)
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::{check, deployment, series};

    /// The prod-simulation scenario's web-frontend: requests 200m/256Mi, limits 1 core/1Gi.
    const WEB: &str = "[{name: web, image: nginx, resources: {requests: {cpu: 200m, memory: 256Mi}, \
                       limits: {cpu: 1, memory: 1Gi}}}]";

    #[test]
    fn prod_simulations_web_frontend_pins_its_one_core_limit_in_business_hours() {
        let mut fixture =
            deployment("prod-simulation", "web-frontend", &["web-frontend-a", "web-frontend-b"], WEB);
        // `yes > /dev/null` for 5 minutes of each business hour: the limit, minus scheduling jitter.
        fixture += &series("prod-simulation", "web-frontend-a", "web", "11:55:00", 10, |i| {
            (format!("{}m", 990 + i % 2 * 10), "40Mi".into())
        });
        // The second replica is between two bursts at 85% of the limit: medium on its own.
        fixture += &series("prod-simulation", "web-frontend-b", "web", "11:55:00", 10, |_| {
            ("850m".into(), "40Mi".into())
        });
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 cpu-usage-high Deployment prod-simulation/web-frontend container web (2 pods): CPU p95 1 core is 100% of its 1 core limit
              objects: Deployment/prod-simulation/web-frontend, Pod/prod-simulation/web-frontend-a, Pod/prod-simulation/web-frontend-b
              metric cpu prod-simulation/web-frontend-a/web p95 = 1000 millicores
              metric cpu prod-simulation/web-frontend-a/web max = 1000 millicores
              metric cpu prod-simulation/web-frontend-a/web mean = 995 millicores
              metric cpu prod-simulation/web-frontend-b/web p95 = 850 millicores
              metric cpu prod-simulation/web-frontend-b/web max = 850 millicores
              metric cpu prod-simulation/web-frontend-b/web mean = 850 millicores
              field Pod/prod-simulation/web-frontend-a /spec/containers/0/resources/limits/cpu = 1
              why: In 95% of 10 samples over 4m 30s container `web` of pod web-frontend-a used up to 1 core CPU (100% of its 1 core limit). Near its CPU limit the kernel throttles the container in every 100 ms period it exceeds it: requests queue and latency rises long before anything fails. 2 replicas are in the same state.
              $ kubectl top pod web-frontend-a -n prod-simulation --containers
              $ kubectl describe pod web-frontend-a -n prod-simulation
              $ kubectl set resources deployment/web-frontend -n prod-simulation -c web --limits=cpu=1430m
        "#]],
        );
    }

    #[test]
    fn without_a_limit_prod_simulations_800m_applies_and_a_high_limit_is_not_near() {
        let mut fixture =
            deployment("shop", "batch", &["batch-a"], "[{name: batch, resources: {requests: {cpu: 500m}}}]");
        fixture += &series("shop", "batch-a", "batch", "11:55:00", 6, |_| ("850m".into(), "100Mi".into()));
        // 850m of a 2-core limit is 43%: the fixed 800m would have flagged it.
        fixture += &deployment("shop", "api", &["api-a"], "[{name: api, resources: {limits: {cpu: 2}}}]");
        fixture += &series("shop", "api-a", "api", "11:55:00", 6, |_| ("850m".into(), "100Mi".into()));
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P2 cpu-usage-high Deployment shop/batch container batch: CPU p95 850m with no cpu limit (above the fixed 800m)
              objects: Deployment/shop/batch, Pod/shop/batch-a
              metric cpu shop/batch-a/batch p95 = 850 millicores
              metric cpu shop/batch-a/batch max = 850 millicores
              metric cpu shop/batch-a/batch mean = 850 millicores
              why: In 95% of 6 samples over 2m 30s container `batch` of pod batch-a used up to 850m CPU (it has no cpu limit, and this is above the fixed threshold of 800m). Without a CPU limit it is not throttled, but it competes with its neighbours for the node's CPU beyond what it requested.
              $ kubectl top pod batch-a -n shop --containers
              $ kubectl describe pod batch-a -n shop
              $ kubectl set resources deployment/batch -n shop -c batch --limits=cpu=1220m
        "#]],
        );
    }
}
