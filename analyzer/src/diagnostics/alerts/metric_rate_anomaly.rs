//! Diagnostic `metric-rate-anomaly`: alert BusinessMetricAnomaly on CPU rates;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use jiff::Timestamp;

use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::alerts::rule::{Outcome, evaluate};
use crate::facts::performance::units;
use crate::facts::performance::usage::{Group, group, minutes_between};
use crate::finding::{Category, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "metric-rate-anomaly",
    category: Category::Alerts,
    title: "Alert BusinessMetricAnomaly on CPU rates",
    severities: &[Severity::P2, Severity::P3],
    what: "The `BusinessMetricAnomaly` alert rule's shape, `rate(x[5m]) < avg_over_time(rate(x[5m])[1h:5m]) \
           * 0.5 for: 10m`, applied to the rate the bundle samples: a container's CPU usage (CPU seconds \
           per second). At each sample, the rolling average is the mean of the samples of the hour up to \
           it; the rate is anomalous when under half of it (a drop) or over twice it (the mirror spike). A \
           run of anomalous samples spanning 10 minutes fires (P2, the rule's `warning`); one still holding \
           at the end of a shorter window is pending (P3), and the finding says when the window is too \
           short for the `for`. Rolling averages under 20m are idle noise and are skipped.",
    why: "A service whose CPU halves has usually lost its traffic (an upstream outage, a broken route); a \
          sustained doubling is a load change to scale for.",
    fix: "Check the traffic reaching the workload (ingress and caller logs, its Service's endpoints) \
          around the time the rate changed.",
    example: "`Deployment shop/checkout container app: CPU rate fell below half its rolling average (608m → \
              90m) for 12m (BusinessMetricAnomaly firing)`.",
    needs: &[Need::Metrics],
    run,
};

const WINDOW_MINUTES: f64 = 60.0;
const FOR_MINUTES: f64 = 10.0;
const MIN_AVERAGE: f64 = 20.0;
const MIN_SAMPLES: usize = 4;

/// Which way the rate left its average.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Drop,
    Spike,
}

/// One container's anomaly.
#[derive(Debug, Clone, Copy)]
struct Anomaly {
    direction: Direction,
    outcome: Outcome,
    average: f64,
    current: f64,
    window: f64,
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let affected = facts
        .usages()
        .iter()
        .cloned()
        .filter_map(|usage| {
            let samples = &usage.series.samples;
            if samples.len() < MIN_SAMPLES {
                return None;
            }
            let averages: Vec<f64> = samples
                .iter()
                .map(|sample| {
                    let hour: Vec<f64> = samples
                        .iter()
                        .filter(|other| {
                            other.at <= sample.at && minutes_between(other.at, sample.at) <= WINDOW_MINUTES
                        })
                        .map(|other| other.cpu_millicores)
                        .collect();
                    hour.iter().sum::<f64>() / hour.len() as f64
                })
                .collect();
            let anomaly = [Direction::Drop, Direction::Spike].into_iter().find_map(|direction| {
                let points: Vec<(Timestamp, bool)> = samples
                    .iter()
                    .zip(&averages)
                    .map(|(sample, average)| {
                        let holds = *average >= MIN_AVERAGE
                            && match direction {
                                Direction::Drop => sample.cpu_millicores < average * 0.5,
                                Direction::Spike => sample.cpu_millicores > average * 2.0,
                            };
                        (sample.at, holds)
                    })
                    .collect();
                let outcome = evaluate(&points, FOR_MINUTES)?;
                // The average the rate left, at the start of the run, and where it is at its end.
                let start = samples.iter().position(|sample| sample.at == outcome.run().start)?;
                let end = samples.iter().rposition(|sample| sample.at == outcome.run().end)?;
                Some(Anomaly {
                    direction,
                    outcome,
                    average: averages[start],
                    current: samples[end].cpu_millicores,
                    window: usage.window_minutes(),
                })
            })?;
            Some((usage, anomaly))
        })
        .collect();
    group(facts, affected).iter().map(finding).collect()
}

fn finding(group: &Group<'_, Anomaly>) -> Finding {
    let fired = group.members.iter().any(|(_, a)| matches!(a.outcome, Outcome::Fired { .. }));
    let Some((usage, anomaly)) = group
        .members
        .iter()
        .max_by(|(_, a), (_, b)| a.outcome.run().minutes().total_cmp(&b.outcome.run().minutes()))
    else {
        return DIAGNOSTIC.finding(Severity::P3, group.label());
    };
    let severity = if fired { Severity::P2 } else { Severity::P3 };
    let what = match anomaly.direction {
        Direction::Drop => "fell below half",
        Direction::Spike => "rose above twice",
    };
    let run = anomaly.outcome.run();
    let mut finding = DIAGNOSTIC.finding(
        severity,
        format!(
            "{}: CPU rate {what} its rolling average ({} → {}) for {} (BusinessMetricAnomaly {})",
            group.label(),
            units::cpu(anomaly.average),
            units::cpu(anomaly.current),
            units::span(run.minutes()),
            anomaly.outcome.state()
        ),
    );
    for object in group.objects() {
        finding = finding.object(object);
    }
    for (usage, anomaly) in &group.members {
        let label = usage.label();
        finding = finding
            .evidence(units::cpu_metric(&label, "rolling average at the start", anomaly.average))
            .evidence(units::cpu_metric(&label, "rate at the end of the run", anomaly.current))
            .evidence(units::metric(
                format!("cpu {label}"),
                "anomalous for",
                anomaly.outcome.run().minutes(),
                "minutes",
            ));
    }
    let meaning = match anomaly.direction {
        Direction::Drop => {
            "A service whose work halves has usually lost its traffic: an upstream outage, a broken route or \
             DNS, a client that stopped calling."
        }
        Direction::Spike => {
            "A sustained doubling is a load change: check it is wanted, and that the workload scales for it."
        }
    };
    finding
        .explanation(format!(
            "The BusinessMetricAnomaly alert rule compares a rate with its rolling 1-hour average and alerts \
             when it stays under half of it for 10 minutes; applied to container `{}`'s CPU (the rate \
             the bundle samples), it held from {} to {} ({} samples). {meaning}{}",
            group.container,
            run.start,
            run.end,
            run.points,
            anomaly.outcome.caveat(FOR_MINUTES, anomaly.window)
        ))
        .remediation(units::top_pod(&usage.pod_ref()))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::{check, deployment, series};

    #[test]
    fn traffic_lost_for_twelve_minutes_fires() {
        let mut fixture = deployment("shop", "checkout", &["checkout-a"], "[{name: app}]");
        // 20 minutes of samples: 640m for 8 minutes, then 90m.
        fixture += &series("shop", "checkout-a", "app", "11:40:00", 41, |i| {
            (if i < 16 { "640m" } else { "90m" }.into(), "200Mi".into())
        });
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P2 metric-rate-anomaly Deployment shop/checkout container app: CPU rate fell below half its rolling average (608m → 90m) for 12m (BusinessMetricAnomaly firing)
              objects: Deployment/shop/checkout, Pod/shop/checkout-a
              metric cpu shop/checkout-a/app rolling average at the start = 607.65 millicores
              metric cpu shop/checkout-a/app rate at the end of the run = 90 millicores
              metric cpu shop/checkout-a/app anomalous for = 12 minutes
              why: The BusinessMetricAnomaly alert rule compares a rate with its rolling 1-hour average and alerts when it stays under half of it for 10 minutes; applied to container `app`'s CPU (the rate the bundle samples), it held from 2025-06-01T11:48:00Z to 2025-06-01T12:00:00Z (25 samples). A service whose work halves has usually lost its traffic: an upstream outage, a broken route or DNS, a client that stopped calling.
              $ kubectl top pod checkout-a -n shop --containers
        "#]],
        );
    }

    #[test]
    fn a_steady_rate_or_idle_noise_is_not_an_anomaly_and_a_short_window_is_only_pending() {
        let mut fixture = deployment("shop", "steady", &["steady-a"], "[{name: app}]");
        fixture += &series("shop", "steady-a", "app", "11:40:00", 41, |i| {
            (format!("{}m", 400 + i % 3 * 30), "200Mi".into())
        });
        fixture += &deployment("shop", "idle", &["idle-a"], "[{name: app}]");
        fixture += &series("shop", "idle-a", "app", "11:40:00", 41, |i| {
            (if i < 20 { "12m" } else { "2m" }.into(), "20Mi".into())
        });
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
        let mut short = deployment("shop", "checkout", &["checkout-a"], "[{name: app}]");
        short += &series("shop", "checkout-a", "app", "11:55:00", 10, |i| {
            (if i < 6 { "640m" } else { "90m" }.into(), "200Mi".into())
        });
        check(
            &DIAGNOSTIC,
            &short,
            expect![[r#"
            P3 metric-rate-anomaly Deployment shop/checkout container app: CPU rate fell below half its rolling average (561m → 90m) for 1m 30s (BusinessMetricAnomaly pending)
              objects: Deployment/shop/checkout, Pod/shop/checkout-a
              metric cpu shop/checkout-a/app rolling average at the start = 561.43 millicores
              metric cpu shop/checkout-a/app rate at the end of the run = 90 millicores
              metric cpu shop/checkout-a/app anomalous for = 1.5 minutes
              why: The BusinessMetricAnomaly alert rule compares a rate with its rolling 1-hour average and alerts when it stays under half of it for 10 minutes; applied to container `app`'s CPU (the rate the bundle samples), it held from 2025-06-01T11:58:00Z to 2025-06-01T11:59:30Z (4 samples). A service whose work halves has usually lost its traffic: an upstream outage, a broken route or DNS, a client that stopped calling. The capture window (4m 30s) is shorter than the rule's `for: 10m`: the condition held for all 1m 30s of it, but the rule could not be fully evaluated.
              $ kubectl top pod checkout-a -n shop --containers
        "#]],
        );
    }
}
