//! Diagnostic `cpu-spikes`: CPU spikes; its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::performance::units;
use crate::facts::performance::usage::{Group, group};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "cpu-spikes",
    category: Category::Performance,
    title: "CPU spikes",
    severities: &[Severity::P2, Severity::P3],
    what: "CPU samples far above a container's usual level: a sample is a spike when it is more than 3× the \
           median and at least 100m above it (so an idle container going from 2m to 9m is not one). Needs 5 \
           samples. `K8sPerformanceAnalyzer`'s `p95` is not part of the rule: with several spikes in a \
           short window the p95 is itself a spike value and would hide them. A spike that reaches 90% of \
           the CPU limit is throttled (P2); otherwise P3.",
    why: "Spikes vanish in averages and in sizing from the median, and a spike into the limit is throttled: \
          the slow requests of a bursty service.",
    fix: "Find what runs at those times (batches, cron, traffic bursts); raise the CPU limit above the \
          spikes or spread the work.",
    example: "The prod-simulation scenario's `web-frontend` idles at 20m and runs `yes` for minutes at a \
              time: `3 CPU spikes up to 1 core (50× the median 20m), into its 1 core limit`.",
    needs: &[Need::Metrics],
    run,
};

const FACTOR: f64 = 3.0;
const MIN_ABOVE: f64 = 100.0;
const MIN_SAMPLES: usize = 5;
const THROTTLED_RATIO: f64 = 0.9;

/// The spikes of one container: (time, millicores).
type Spikes = Vec<(jiff::Timestamp, f64)>;

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let affected = facts
        .usages()
        .iter()
        .cloned()
        .filter_map(|usage| {
            if usage.series.samples.len() < MIN_SAMPLES {
                return None;
            }
            let median = usage.cpu.median;
            let spikes: Spikes = usage
                .series
                .samples
                .iter()
                .filter(|sample| {
                    sample.cpu_millicores > FACTOR * median && sample.cpu_millicores >= median + MIN_ABOVE
                })
                .map(|sample| (sample.at, sample.cpu_millicores))
                .collect();
            (!spikes.is_empty()).then_some((usage, spikes))
        })
        .collect();
    group(facts, affected).iter().map(finding).collect()
}

fn finding(group: &Group<'_, Spikes>) -> Finding {
    let peak = |spikes: &Spikes| spikes.iter().map(|(_, value)| *value).fold(0.0, f64::max);
    let Some((usage, spikes)) = group.members.iter().max_by(|(_, a), (_, b)| peak(a).total_cmp(&peak(b)))
    else {
        return DIAGNOSTIC.finding(Severity::P3, group.label());
    };
    let throttled = group.members.iter().any(|(usage, spikes)| {
        usage.resources.cpu_limit.is_some_and(|limit| peak(spikes) >= THROTTLED_RATIO * limit)
    });
    let severity = if throttled { Severity::P2 } else { Severity::P3 };
    let median = usage.cpu.median;
    let into_limit = match usage.resources.cpu_limit {
        Some(limit) if peak(spikes) >= THROTTLED_RATIO * limit => {
            format!(", into its {} limit", units::cpu(limit))
        }
        _ => String::new(),
    };
    let noun = if spikes.len() == 1 { "spike" } else { "spikes" };
    let mut finding = DIAGNOSTIC.finding(
        severity,
        format!(
            "{}: {} CPU {noun} up to {} ({:.0}× the median {}){into_limit}",
            group.label(),
            spikes.len(),
            units::cpu(peak(spikes)),
            peak(spikes) / median.max(1.0),
            units::cpu(median)
        ),
    );
    for object in group.objects() {
        finding = finding.object(object);
    }
    for (usage, spikes) in &group.members {
        let label = usage.label();
        finding = finding
            .evidence(units::cpu_metric(&label, "median", usage.cpu.median))
            .evidence(units::cpu_metric(&label, "max", usage.cpu.max))
            .evidence(units::metric(format!("cpu {label}"), "spike-samples", spikes.len() as f64, "samples"));
        let times: Vec<String> =
            spikes.iter().map(|(at, value)| format!("{at} {}", units::cpu(*value))).collect();
        finding = finding.evidence(Evidence::note(format!("spikes of {label}: {}", times.join(", "))));
    }
    let pod = usage.pod_ref();
    let mut explanation = format!(
        "Container `{}` of pod {} usually uses {} CPU (the median of {} samples) but {} of its samples \
         are more than 3× that, up to {}. Averages and right-sizing from the median do not see these bursts.",
        group.container,
        pod.name,
        units::cpu(median),
        usage.series.samples.len(),
        spikes.len(),
        units::cpu(peak(spikes)),
    );
    if !into_limit.is_empty() {
        explanation.push_str(
            " The bursts reach the CPU limit, so the kernel throttles the container while they last.",
        );
    }
    finding = finding.explanation(explanation).remediation(units::top_pod(&pod));
    if let Some(workload) = group.workload.as_ref().filter(|w| units::has_template(&w.kind))
        && throttled
    {
        let limit = units::cpu_quantity(peak(spikes) * 1.5);
        finding =
            finding.remediation(units::set_resources(workload, &group.container, &[], &[("cpu", limit)]));
    }
    finding
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::{check, deployment, series};

    const WEB: &str =
        "[{name: web, resources: {requests: {cpu: 200m, memory: 256Mi}, limits: {cpu: 1, memory: 1Gi}}}]";

    #[test]
    fn prod_simulations_web_frontend_bursts_into_its_limit_in_business_hours() {
        let mut fixture = deployment("prod-simulation", "web-frontend", &["web-frontend-a"], WEB);
        fixture += &series("prod-simulation", "web-frontend-a", "web", "11:55:00", 10, |i| {
            (if (4..7).contains(&i) { "1000m" } else { "20m" }.into(), "40Mi".into())
        });
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P2 cpu-spikes Deployment prod-simulation/web-frontend container web: 3 CPU spikes up to 1 core (50× the median 20m), into its 1 core limit
              objects: Deployment/prod-simulation/web-frontend, Pod/prod-simulation/web-frontend-a
              metric cpu prod-simulation/web-frontend-a/web median = 20 millicores
              metric cpu prod-simulation/web-frontend-a/web max = 1000 millicores
              metric cpu prod-simulation/web-frontend-a/web spike-samples = 3 samples
              note: spikes of prod-simulation/web-frontend-a/web: 2025-06-01T11:57:00Z 1 core, 2025-06-01T11:57:30Z 1 core, 2025-06-01T11:58:00Z 1 core
              why: Container `web` of pod web-frontend-a usually uses 20m CPU (the median of 10 samples) but 3 of its samples are more than 3× that, up to 1 core. Averages and right-sizing from the median do not see these bursts. The bursts reach the CPU limit, so the kernel throttles the container while they last.
              $ kubectl top pod web-frontend-a -n prod-simulation --containers
              $ kubectl set resources deployment/web-frontend -n prod-simulation -c web --limits=cpu=1500m
        "#]],
        );
    }

    #[test]
    fn a_busy_steady_container_or_idle_jitter_has_no_spikes() {
        let mut fixture = deployment("shop", "api", &["api-a", "api-b"], WEB);
        fixture += &series("shop", "api-a", "web", "11:55:00", 10, |i| {
            (format!("{}m", 600 + i * 20), "40Mi".into())
        });
        // 2m to 9m is 4.5× the median but only 7m: not a spike.
        fixture += &series("shop", "api-b", "web", "11:55:00", 10, |i| {
            (if i == 5 { "9m" } else { "2m" }.into(), "40Mi".into())
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
