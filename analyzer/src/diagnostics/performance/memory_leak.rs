//! Diagnostic `memory-leak`: memory growing without bound (leak);
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::performance::units;
use crate::facts::performance::usage::{self, ContainerUsage, Group, MIB, group};
use crate::finding::{Category, Evidence, Finding, Severity};
use crate::stats::linear_fit;

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "memory-leak",
    category: Category::Performance,
    title: "Memory growing without bound (leak)",
    severities: &[Severity::P1, Severity::P2],
    what: "Containers whose memory only grows over the capture: a least-squares line through the \
           working-set samples rises and fits them well (R² ≥ 0.8), or every sample is at least the one \
           before it. At the fitted slope it estimates when the container reaches its memory limit. Needs \
           at least 4 samples over 30 seconds, and under 2 minutes a strictly rising series with R² ≥ 0.95; \
           growth under 1% of the mean, or a limit more than 7 days away at that pace, is not reported.",
    why: "A leak ends in an OOM kill at the limit, or node memory pressure without one; the estimate says \
          whether that happens before anyone restarts the pod.",
    fix: "Confirm with `kubectl top pod --containers` over a longer window, profile the heap, and restart \
          the workload (`kubectl rollout restart`) as a stopgap; raising the limit only delays the kill.",
    example: "The prod-simulation scenario's `api-backend` allocates 10 MiB a minute and frees little: \
              `memory grows +10.2 MiB/min, reaches its 2 GiB limit in ~2h 31m`, with the slope, R², first \
              and last samples of each replica as evidence.",
    needs: &[Need::Metrics],
    run,
};

/// Fewest samples and shortest window a trend is read from.
const MIN_SAMPLES: usize = 4;
const MIN_MINUTES: f64 = 0.5;
/// Under this window (minutes) only a strictly rising series with a near-perfect line counts.
const SHORT_MINUTES: f64 = 2.0;
const SHORT_R_SQUARED: f64 = 0.95;
/// How well the line must fit the samples.
const MIN_R_SQUARED: f64 = 0.8;
/// Growth smaller than this share of the mean over the window is noise.
const MIN_GROWTH: f64 = 0.01;
/// A limit further away than this (7 days) at the current pace is left to the next deploy.
const HORIZON_MINUTES: f64 = 7.0 * 1440.0;
/// Sooner than this is P1.
const URGENT_MINUTES: f64 = 60.0;
/// Growing without a limit at this pace or more (MiB per minute) is reported.
const UNLIMITED_SLOPE: f64 = 1.0 * MIB;

/// A leaking series: the fitted growth and where it leads.
#[derive(Debug, Clone, Copy)]
struct Leak {
    /// Bytes per minute.
    slope: f64,
    r_squared: f64,
    monotonic: bool,
    last: f64,
    /// Minutes until the limit at the slope; `None` without a limit.
    to_limit: Option<f64>,
}

impl Leak {
    fn urgent(&self, limit: Option<f64>) -> bool {
        self.to_limit.is_some_and(|minutes| minutes < URGENT_MINUTES)
            || limit.is_some_and(|limit| self.last >= 0.9 * limit)
    }
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let affected = facts
        .usages()
        .iter()
        .cloned()
        .filter_map(|usage| {
            let leak = leak(&usage)?;
            Some((usage, leak))
        })
        .collect();
    group(facts, affected).iter().map(finding).collect()
}

fn leak(usage: &ContainerUsage<'_>) -> Option<Leak> {
    let samples = &usage.series.samples;
    let first = usage.first()?;
    if samples.len() < MIN_SAMPLES || usage.window_minutes() < MIN_MINUTES {
        return None;
    }
    let points: Vec<(f64, f64)> = samples
        .iter()
        .map(|sample| (usage::minutes_between(first, sample.at), sample.memory_bytes))
        .collect();
    let line = linear_fit(&points)?;
    let monotonic = samples.windows(2).all(|pair| pair[1].memory_bytes >= pair[0].memory_bytes);
    if usage.window_minutes() < SHORT_MINUTES {
        let rising = samples.windows(2).all(|pair| pair[1].memory_bytes > pair[0].memory_bytes);
        if !rising || line.r_squared < SHORT_R_SQUARED {
            return None;
        }
    }
    let growth = line.slope * usage.window_minutes();
    if line.slope <= 0.0
        || growth < MIN_GROWTH * usage.memory.mean
        || !(monotonic || line.r_squared >= MIN_R_SQUARED)
    {
        return None;
    }
    let last = samples.last()?.memory_bytes;
    let to_limit = usage.resources.memory_limit.map(|limit| ((limit - last) / line.slope).max(0.0));
    let relevant = match to_limit {
        Some(minutes) => minutes <= HORIZON_MINUTES,
        None => line.slope >= UNLIMITED_SLOPE,
    };
    relevant.then_some(Leak { slope: line.slope, r_squared: line.r_squared, monotonic, last, to_limit })
}

fn finding(group: &Group<'_, Leak>) -> Finding {
    // The replica that reaches its limit first leads; without limits, the fastest.
    let Some((usage, leak)) = group.members.iter().min_by(|(_, a), (_, b)| {
        let key = |leak: &Leak| leak.to_limit.unwrap_or(f64::INFINITY);
        key(a).total_cmp(&key(b)).then(b.slope.total_cmp(&a.slope))
    }) else {
        return DIAGNOSTIC.finding(Severity::P2, group.label());
    };
    let limit = usage.resources.memory_limit;
    let urgent = group.members.iter().any(|(usage, leak)| leak.urgent(usage.resources.memory_limit));
    let severity = if urgent { Severity::P1 } else { Severity::P2 };
    let pace = format!("+{:.1} MiB/min", leak.slope / MIB);
    let outcome = match (limit, leak.to_limit) {
        (Some(limit), Some(_)) if leak.last >= limit * 0.9 => {
            format!("already at {} of its {} limit", units::percent(leak.last / limit), units::memory(limit))
        }
        (Some(limit), Some(minutes)) => {
            format!("reaches its {} limit in {}", units::memory(limit), units::duration(minutes))
        }
        _ => "no memory limit: grows until the node runs short".to_owned(),
    };
    let mut finding =
        DIAGNOSTIC.finding(severity, format!("{}: memory grows {pace}, {outcome}", group.label()));
    for object in group.objects() {
        finding = finding.object(object);
    }
    for (usage, leak) in &group.members {
        let label = usage.label();
        finding = finding
            .evidence(units::memory_metric(&label, "first", usage.series.samples[0].memory_bytes))
            .evidence(units::memory_metric(&label, "last", leak.last))
            .evidence(units::metric(format!("memory {label}"), "slope", leak.slope / MIB, "MiB/min"))
            .evidence(units::metric(format!("memory {label}"), "r-squared", leak.r_squared, "ratio"));
        if let Some(minutes) = leak.to_limit {
            finding = finding.evidence(units::metric(
                format!("memory {label}"),
                "time-to-limit",
                minutes,
                "minutes",
            ));
        }
    }
    if let (Some(pod), Some(pointer)) = (usage.pod, &usage.pointer)
        && let Some(value) = pod.at(&format!("{pointer}/resources/limits/memory"))
    {
        finding = finding.evidence(Evidence::field(
            pod.reference(),
            format!("{pointer}/resources/limits/memory"),
            value,
        ));
    }

    let mut explanation = format!(
        "The working set of container `{}` in pod {} rose from {} to {} over {} ({} samples), {pace} on a \
         line that fits the samples {}.",
        group.container,
        usage.key().pod,
        units::memory(usage.series.samples[0].memory_bytes),
        units::memory(leak.last),
        units::span(usage.window_minutes()),
        usage.series.samples.len(),
        if leak.monotonic {
            "and never fell".to_owned()
        } else {
            format!("with R² = {:.2}", leak.r_squared)
        },
    );
    match (limit, leak.to_limit) {
        (Some(limit), Some(minutes)) => explanation.push_str(&format!(
            " At that pace it reaches its {} limit in {} and is OOM-killed there.",
            units::memory(limit),
            units::duration(minutes)
        )),
        _ => explanation.push_str(
            " It has no memory limit, so it grows until the node runs short of memory and the kubelet \
             evicts pods.",
        ),
    }
    if group.members.len() > 1 {
        explanation.push_str(&format!(" {} replicas show the same growth.", group.members.len()));
    }
    explanation.push_str(
        " Over a short capture a cache filling after a start looks the same: a longer capture or the \
         application's own heap metrics tell the two apart.",
    );
    let pod = usage.pod_ref();
    finding = finding
        .explanation(explanation)
        .remediation(units::top_pod(&pod))
        .remediation(kubectl::describe(&pod));
    if let Some(workload) = group.workload.as_ref().filter(|workload| units::has_template(&workload.kind)) {
        finding = finding.remediation(kubectl::rollout("restart", workload));
    }
    finding
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::{check, deployment, series};

    /// The prod-simulation scenario's api-backend: requests 300m/512Mi, limits 1 core/2Gi.
    const API: &str = "[{name: api, image: alpine, resources: {requests: {cpu: 300m, memory: 512Mi}, \
                       limits: {cpu: 1, memory: 2Gi}}}]";

    #[test]
    fn prod_simulations_api_backend_leaks_10_mib_a_minute_towards_its_2_gib_limit() {
        let mut fixture =
            deployment("prod-simulation", "api-backend", &["api-backend-a", "api-backend-b"], API);
        // 5.1 MiB every 30 s = 10.2 MiB/min for 5 minutes.
        fixture += &series("prod-simulation", "api-backend-a", "api", "11:55:00", 10, |i| {
            ("120m".into(), format!("{}Mi", 460.0 + 5.1 * i as f64))
        });
        // The prod-simulation scenario's script frees one 10 MiB file every tenth cycle: a dip, still a leak.
        fixture += &series("prod-simulation", "api-backend-b", "api", "11:55:00", 10, |i| {
            let dip = if i >= 6 { 10.0 } else { 0.0 };
            ("110m".into(), format!("{}Mi", 300.0 + 5.1 * i as f64 - dip))
        });
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
                P2 memory-leak Deployment prod-simulation/api-backend container api (2 pods): memory grows +10.2 MiB/min, reaches its 2 GiB limit in ~2h 31m
                  objects: Deployment/prod-simulation/api-backend, Pod/prod-simulation/api-backend-a, Pod/prod-simulation/api-backend-b
                  metric memory prod-simulation/api-backend-a/api first = 460 MiB
                  metric memory prod-simulation/api-backend-a/api last = 505.9 MiB
                  metric memory prod-simulation/api-backend-a/api slope = 10.2 MiB/min
                  metric memory prod-simulation/api-backend-a/api r-squared = 1 ratio
                  metric memory prod-simulation/api-backend-a/api time-to-limit = 151.19 minutes
                  metric memory prod-simulation/api-backend-b/api first = 300 MiB
                  metric memory prod-simulation/api-backend-b/api last = 335.9 MiB
                  metric memory prod-simulation/api-backend-b/api slope = 7.29 MiB/min
                  metric memory prod-simulation/api-backend-b/api r-squared = 0.94 ratio
                  metric memory prod-simulation/api-backend-b/api time-to-limit = 234.83 minutes
                  field Pod/prod-simulation/api-backend-a /spec/containers/0/resources/limits/memory = 2Gi
                  why: The working set of container `api` in pod api-backend-a rose from 460 MiB to 506 MiB over 4m 30s (10 samples), +10.2 MiB/min on a line that fits the samples and never fell. At that pace it reaches its 2 GiB limit in ~2h 31m and is OOM-killed there. 2 replicas show the same growth. Over a short capture a cache filling after a start looks the same: a longer capture or the application's own heap metrics tell the two apart.
                  $ kubectl top pod api-backend-a -n prod-simulation --containers
                  $ kubectl describe pod api-backend-a -n prod-simulation
                  $ kubectl rollout restart deployment/api-backend -n prod-simulation
            "#]],
        );
    }

    #[test]
    fn near_the_limit_is_p1_and_no_limit_grows_until_the_node() {
        let mut fixture = deployment(
            "shop",
            "cache",
            &["cache-a"],
            "[{name: redis, resources: {requests: {memory: 256Mi}, limits: {memory: 512Mi}}}]",
        );
        fixture += &series("shop", "cache-a", "redis", "11:55:00", 8, |i| {
            ("50m".into(), format!("{}Mi", 470 + 3 * i))
        });
        fixture += &deployment("shop", "worker", &["worker-a"], "[{name: worker}]");
        fixture += &series("shop", "worker-a", "worker", "11:55:00", 8, |i| {
            ("50m".into(), format!("{}Mi", 200 + 2 * i))
        });
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 memory-leak Deployment shop/cache container redis: memory grows +6.0 MiB/min, already at 96% of its 512 MiB limit
              objects: Deployment/shop/cache, Pod/shop/cache-a
              metric memory shop/cache-a/redis first = 470 MiB
              metric memory shop/cache-a/redis last = 491 MiB
              metric memory shop/cache-a/redis slope = 6 MiB/min
              metric memory shop/cache-a/redis r-squared = 1 ratio
              metric memory shop/cache-a/redis time-to-limit = 3.5 minutes
              field Pod/shop/cache-a /spec/containers/0/resources/limits/memory = 512Mi
              why: The working set of container `redis` in pod cache-a rose from 470 MiB to 491 MiB over 3m 30s (8 samples), +6.0 MiB/min on a line that fits the samples and never fell. At that pace it reaches its 512 MiB limit in ~4m and is OOM-killed there. Over a short capture a cache filling after a start looks the same: a longer capture or the application's own heap metrics tell the two apart.
              $ kubectl top pod cache-a -n shop --containers
              $ kubectl describe pod cache-a -n shop
              $ kubectl rollout restart deployment/cache -n shop
            P2 memory-leak Deployment shop/worker container worker: memory grows +4.0 MiB/min, no memory limit: grows until the node runs short
              objects: Deployment/shop/worker, Pod/shop/worker-a
              metric memory shop/worker-a/worker first = 200 MiB
              metric memory shop/worker-a/worker last = 214 MiB
              metric memory shop/worker-a/worker slope = 4 MiB/min
              metric memory shop/worker-a/worker r-squared = 1 ratio
              why: The working set of container `worker` in pod worker-a rose from 200 MiB to 214 MiB over 3m 30s (8 samples), +4.0 MiB/min on a line that fits the samples and never fell. It has no memory limit, so it grows until the node runs short of memory and the kubelet evicts pods. Over a short capture a cache filling after a start looks the same: a longer capture or the application's own heap metrics tell the two apart.
              $ kubectl top pod worker-a -n shop --containers
              $ kubectl describe pod worker-a -n shop
              $ kubectl rollout restart deployment/worker -n shop
        "#]],
        );
    }

    #[test]
    fn steady_noisy_or_short_series_are_not_leaks() {
        let mut fixture = deployment("shop", "web", &["web-a", "web-b", "web-c"], API);
        // Saw-tooth around a level: garbage collection, not a leak.
        fixture += &series("shop", "web-a", "api", "11:55:00", 10, |i| {
            ("100m".into(), format!("{}Mi", if i % 2 == 0 { 500 } else { 540 }))
        });
        // Rising, but far too slowly to reach 2 GiB within a week.
        fixture += &series("shop", "web-b", "api", "11:55:00", 10, |i| {
            ("100m".into(), format!("{}Ki", 512_000 + i))
        });
        // A steep rise over three samples is not enough to call.
        fixture += &series("shop", "web-c", "api", "11:55:00", 3, |i| {
            ("100m".into(), format!("{}Mi", 500 + 50 * i))
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
    fn a_30_second_capture_counts_only_a_strictly_rising_line() {
        // The demo bundle's api-backend: 4 samples 10 s apart, +5 MiB each, at 1.3 GiB of 2 GiB.
        let mut fixture =
            deployment("prod-simulation", "api-backend", &["api-backend-a", "api-backend-b"], API);
        let sample = |start: u32, step: u32| {
            move |i: usize| ("25m".to_owned(), format!("{}Mi", start + step * i as u32))
        };
        let ten_seconds = |text: String| {
            text.replace("11:55:30Z", "11:55:10Z")
                .replace("11:56:00Z", "11:55:20Z")
                .replace("11:56:30Z", "11:55:30Z")
        };
        fixture +=
            &ten_seconds(series("prod-simulation", "api-backend-a", "api", "11:55:00", 4, sample(1338, 5)));
        // Flat then rising: over 30 s that is not enough to call.
        fixture += &ten_seconds(series("prod-simulation", "api-backend-b", "api", "11:55:00", 4, |i| {
            ("25m".to_owned(), format!("{}Mi", if i < 2 { 1338 } else { 1338 + 5 * i }))
        }));
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 memory-leak Deployment prod-simulation/api-backend container api: memory grows +30.0 MiB/min, reaches its 2 GiB limit in ~23m
              objects: Deployment/prod-simulation/api-backend, Pod/prod-simulation/api-backend-a
              metric memory prod-simulation/api-backend-a/api first = 1338 MiB
              metric memory prod-simulation/api-backend-a/api last = 1353 MiB
              metric memory prod-simulation/api-backend-a/api slope = 30 MiB/min
              metric memory prod-simulation/api-backend-a/api r-squared = 1 ratio
              metric memory prod-simulation/api-backend-a/api time-to-limit = 23.17 minutes
              field Pod/prod-simulation/api-backend-a /spec/containers/0/resources/limits/memory = 2Gi
              why: The working set of container `api` in pod api-backend-a rose from 1.31 GiB to 1.32 GiB over 30s (4 samples), +30.0 MiB/min on a line that fits the samples and never fell. At that pace it reaches its 2 GiB limit in ~23m and is OOM-killed there. Over a short capture a cache filling after a start looks the same: a longer capture or the application's own heap metrics tell the two apart.
              $ kubectl top pod api-backend-a -n prod-simulation --containers
              $ kubectl describe pod api-backend-a -n prod-simulation
              $ kubectl rollout restart deployment/api-backend -n prod-simulation
        "#]],
        );
    }
}
