//! Diagnostic `high-memory-usage`: alert HighMemoryUsage (working set > 90% of limit for 5m);
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::alerts::rule::{Outcome, evaluate};
use crate::facts::kubectl;
use crate::facts::performance::units;
use crate::facts::performance::usage::{ContainerUsage, minutes_between};
use crate::finding::{Category, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "high-memory-usage",
    category: Category::Alerts,
    title: "Alert HighMemoryUsage (working set > 90% of limit for 5m)",
    severities: &[Severity::P2, Severity::P3],
    what: "The `HighMemoryUsage` alert rule over the pod samples, as Prometheus would have evaluated it at \
           each sample time: per pod, the sum of its containers' working sets over the sum of their memory \
           limits, above 90%, `for: 5m` (consecutive samples spanning five minutes). Firing (or fired and \
           resolved) is the rule's `warning`, P2; holding at the end of the window for less than five \
           minutes is pending, P3, and when the whole window is shorter than five minutes the finding says \
           the rule could not be fully evaluated. A pod with no memory limit at all is skipped: Prometheus \
           divides by a zero limit and gets +Inf, an alert on every unlimited pod that says nothing \
           (containers-without-requests-or-limits reports those).",
    why: "A pod held above 90% of its memory limit is one burst from an OOM kill; this is the alert \
          Prometheus would have raised, with its timing.",
    fix: "Raise the memory limit above the peak with headroom, or find the growth (memory-leak, \
          memory-usage-high carry the numbers and commands).",
    example: "`Pod prod-simulation/api-backend-a: working set 94% of its memory limit for 6m \
              (HighMemoryUsage firing)`.",
    needs: &[Need::Metrics],
    run,
};

const THRESHOLD: f64 = 0.9;
const FOR_MINUTES: f64 = 5.0;

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut pods: BTreeMap<(String, String), Vec<ContainerUsage<'_>>> = BTreeMap::new();
    for usage in facts.usages().iter().cloned() {
        pods.entry((usage.key().namespace.clone(), usage.key().pod.clone())).or_default().push(usage);
    }
    pods.values().filter_map(|containers| finding(facts, containers)).collect()
}

fn finding(facts: &Facts<'_>, containers: &[ContainerUsage<'_>]) -> Option<Finding> {
    let limit: f64 = containers.iter().filter_map(|usage| usage.resources.memory_limit).sum();
    if limit <= 0.0 {
        return None;
    }
    // sum by (pod) of every container's working set at each sample time.
    let mut totals: BTreeMap<Timestamp, f64> = BTreeMap::new();
    for usage in containers {
        for sample in &usage.series.samples {
            *totals.entry(sample.at).or_default() += sample.memory_bytes;
        }
    }
    let points: Vec<(Timestamp, bool)> =
        totals.iter().map(|(at, used)| (*at, used / limit > THRESHOLD)).collect();
    let outcome = evaluate(&points, FOR_MINUTES)?;
    let run = outcome.run();
    let held: Vec<f64> = totals.range(run.start..=run.end).map(|(_, used)| used / limit).collect();
    let peak = held.iter().copied().fold(0.0, f64::max);
    let window = match (totals.keys().next(), totals.keys().next_back()) {
        (Some(first), Some(last)) => minutes_between(*first, *last),
        _ => 0.0,
    };
    let first = &containers[0];
    let pod = first.pod_ref();
    let namespace = pod.namespace.as_deref().unwrap_or_default();
    let mut finding = DIAGNOSTIC.finding(
        outcome.severity(Severity::P2, Severity::P3),
        format!(
            "Pod {namespace}/{}: working set up to {} of its memory limit for {} (HighMemoryUsage {})",
            pod.name,
            units::percent(peak),
            units::span(run.minutes()),
            outcome.state()
        ),
    );
    if let Some(workload) = first.pod.and_then(|object| facts.workload_of(object)) {
        finding = finding.object(workload);
    }
    finding = finding.object(pod.clone());
    let series = format!("memory/limit {namespace}/{}", pod.name);
    finding = finding
        .evidence(units::metric(series.clone(), "max ratio while holding", peak * 100.0, "%"))
        .evidence(units::metric(series, "held", run.minutes(), "minutes"))
        .evidence(units::memory_metric(&format!("{namespace}/{}", pod.name), "limit (sum)", limit));
    let explanation = format!(
        "The rule `sum(container_memory_working_set_bytes) / sum(container_spec_memory_limit_bytes) * \
         100 > 90` with `for: 5m`, evaluated at each of the {} sample times, held from {} to {} ({} \
         samples).{}{}",
        points.len(),
        run.start,
        run.end,
        run.points,
        if let Outcome::Fired { resolved: true, .. } = outcome {
            " It stopped holding before the capture ended."
        } else {
            ""
        },
        outcome.caveat(FOR_MINUTES, window)
    );
    Some(
        finding
            .explanation(format!(
                "{explanation} A pod this close to its limit is one burst from an OOM kill; \
                 memory-usage-high and memory-leak give the per-container numbers and the fix."
            ))
            .remediation(units::top_pod(&pod))
            .remediation(kubectl::describe(&pod)),
    )
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::{check, deployment, series};

    const APP: &str = "[{name: app, resources: {limits: {memory: 1Gi}}}, {name: sidecar}]";

    #[test]
    fn six_minutes_above_90_percent_fires_and_three_is_pending() {
        let mut fixture = deployment("shop", "api", &["api-a", "api-b"], APP);
        // 13 samples, 6 minutes: the app at 900 MiB plus a 40 MiB sidecar is 92% of 1 GiB.
        fixture += &series("shop", "api-a", "app", "11:54:00", 13, |_| ("100m".into(), "900Mi".into()));
        fixture += &series("shop", "api-a", "sidecar", "11:54:00", 13, |_| ("5m".into(), "40Mi".into()));
        // Above only for the last 3 minutes.
        fixture += &series("shop", "api-b", "app", "11:54:00", 13, |i| {
            ("100m".into(), if i >= 7 { "980Mi" } else { "500Mi" }.into())
        });
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P2 high-memory-usage Pod shop/api-a: working set up to 92% of its memory limit for 6m (HighMemoryUsage firing)
              objects: Deployment/shop/api, Pod/shop/api-a
              metric memory/limit shop/api-a max ratio while holding = 91.8 %
              metric memory/limit shop/api-a held = 6 minutes
              metric memory shop/api-a limit (sum) = 1024 MiB
              why: The rule `sum(container_memory_working_set_bytes) / sum(container_spec_memory_limit_bytes) * 100 > 90` with `for: 5m`, evaluated at each of the 13 sample times, held from 2025-06-01T11:54:00Z to 2025-06-01T12:00:00Z (13 samples). A pod this close to its limit is one burst from an OOM kill; memory-usage-high and memory-leak give the per-container numbers and the fix.
              $ kubectl top pod api-a -n shop --containers
              $ kubectl describe pod api-a -n shop
            P3 high-memory-usage Pod shop/api-b: working set up to 96% of its memory limit for 2m 30s (HighMemoryUsage pending)
              objects: Deployment/shop/api, Pod/shop/api-b
              metric memory/limit shop/api-b max ratio while holding = 95.7 %
              metric memory/limit shop/api-b held = 2.5 minutes
              metric memory shop/api-b limit (sum) = 1024 MiB
              why: The rule `sum(container_memory_working_set_bytes) / sum(container_spec_memory_limit_bytes) * 100 > 90` with `for: 5m`, evaluated at each of the 13 sample times, held from 2025-06-01T11:57:30Z to 2025-06-01T12:00:00Z (6 samples). The condition held for the last 2m 30s of the window, less than the rule's `for: 5m`: Prometheus would show it pending. A pod this close to its limit is one burst from an OOM kill; memory-usage-high and memory-leak give the per-container numbers and the fix.
              $ kubectl top pod api-b -n shop --containers
              $ kubectl describe pod api-b -n shop
        "#]],
        );
    }

    #[test]
    fn a_short_window_is_said_and_below_threshold_or_unlimited_pods_are_not_alerts() {
        let mut fixture = deployment("shop", "api", &["api-a"], APP);
        fixture += &series("shop", "api-a", "app", "11:58:00", 5, |_| ("100m".into(), "1000Mi".into()));
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P3 high-memory-usage Pod shop/api-a: working set up to 98% of its memory limit for 2m (HighMemoryUsage pending)
              objects: Deployment/shop/api, Pod/shop/api-a
              metric memory/limit shop/api-a max ratio while holding = 97.66 %
              metric memory/limit shop/api-a held = 2 minutes
              metric memory shop/api-a limit (sum) = 1024 MiB
              why: The rule `sum(container_memory_working_set_bytes) / sum(container_spec_memory_limit_bytes) * 100 > 90` with `for: 5m`, evaluated at each of the 5 sample times, held from 2025-06-01T11:58:00Z to 2025-06-01T12:00:00Z (5 samples). The capture window (2m) is shorter than the rule's `for: 5m`: the condition held for all 2m of it, but the rule could not be fully evaluated. A pod this close to its limit is one burst from an OOM kill; memory-usage-high and memory-leak give the per-container numbers and the fix.
              $ kubectl top pod api-a -n shop --containers
              $ kubectl describe pod api-a -n shop
        "#]],
        );
        let mut quiet = deployment("shop", "api", &["api-a"], APP)
            + &deployment("shop", "free", &["free-a"], "[{name: free}]");
        quiet += &series("shop", "api-a", "app", "11:54:00", 13, |_| ("100m".into(), "800Mi".into()));
        quiet += &series("shop", "free-a", "free", "11:54:00", 13, |_| ("100m".into(), "8Gi".into()));
        check(
            &DIAGNOSTIC,
            &quiet,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
