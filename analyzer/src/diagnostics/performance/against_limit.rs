//! The shared check of `cpu-usage-high` and `memory-usage-high`: a container's p95 usage
//! against its own limit, with the fixed thresholds only when it has none.
//!
//! `K8sPerformanceAnalyzer` flags `p95 > 800m` (high above 900m) and `p95 > 800 MB` (high above 1000 MB) for
//! every pod alike: 800m is 80% of one core, which is what it meant. Against the container's
//! own limit the same intent reads: above 80% of the limit is `K8sPerformanceAnalyzer`'s "medium" (P2),
//! above 90% its "high" (P1).

use crate::facts::Facts;

use crate::diagnostics::Diagnostic;
use crate::facts::kubectl;
use crate::facts::performance::units;
use crate::facts::performance::usage::{ContainerUsage, Group, MIB, group};
use crate::finding::{Evidence, Finding, Severity};

/// Which resource a check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resource {
    Cpu,
    Memory,
}

/// Share of the limit above which p95 is `K8sPerformanceAnalyzer`'s medium, then high.
const MEDIUM_RATIO: f64 = 0.8;
const HIGH_RATIO: f64 = 0.9;

impl Resource {
    fn name(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu",
            Resource::Memory => "memory",
        }
    }

    fn limit(self, usage: &ContainerUsage<'_>) -> Option<f64> {
        match self {
            Resource::Cpu => usage.resources.cpu_limit,
            Resource::Memory => usage.resources.memory_limit,
        }
        .filter(|limit| *limit > 0.0)
    }

    fn stats(self, usage: &ContainerUsage<'_>) -> crate::stats::Summary {
        match self {
            Resource::Cpu => usage.cpu,
            Resource::Memory => usage.memory,
        }
    }

    /// The fixed thresholds (medium, high) in base units.
    fn fixed(self) -> (f64, f64) {
        match self {
            Resource::Cpu => (800.0, 900.0),
            // `K8sPerformanceAnalyzer`'s "MB" are the MiB of `kubectl top` (`_parse_memory` reads `Mi` as
            // MB).
            Resource::Memory => (800.0 * MIB, 1000.0 * MIB),
        }
    }

    fn format(self, value: f64) -> String {
        match self {
            Resource::Cpu => units::cpu(value),
            Resource::Memory => units::memory(value),
        }
    }

    fn evidence(self, label: &str, statistic: &str, value: f64) -> Evidence {
        match self {
            Resource::Cpu => units::cpu_metric(label, statistic, value),
            Resource::Memory => units::memory_metric(label, statistic, value),
        }
    }

    fn quantity(self, value: f64) -> String {
        match self {
            Resource::Cpu => units::cpu_quantity(value),
            Resource::Memory => units::memory_quantity(value),
        }
    }
}

/// What one container's p95 was measured against.
#[derive(Debug, Clone, Copy)]
struct High {
    p95: f64,
    limit: Option<f64>,
    severity: Severity,
}

impl High {
    /// How far into its threshold it is, to pick the worst replica.
    fn weight(&self, resource: Resource) -> f64 {
        match self.limit {
            Some(limit) => self.p95 / limit,
            None => self.p95 / resource.fixed().0 * MEDIUM_RATIO,
        }
    }
}

fn high(resource: Resource, usage: &ContainerUsage<'_>) -> Option<High> {
    let p95 = resource.stats(usage).p95;
    let limit = resource.limit(usage);
    let (medium, high) = match limit {
        Some(limit) => (limit * MEDIUM_RATIO, limit * HIGH_RATIO),
        None => resource.fixed(),
    };
    let severity = if p95 > high {
        Severity::P1
    } else if p95 > medium {
        Severity::P2
    } else {
        return None;
    };
    Some(High { p95, limit, severity })
}

/// The findings of `diagnostic` for `resource`, one per workload container.
pub(crate) fn findings(facts: &Facts<'_>, diagnostic: &Diagnostic, resource: Resource) -> Vec<Finding> {
    let affected = facts
        .usages()
        .iter()
        .cloned()
        .filter_map(|usage| Some((high(resource, &usage)?, usage)))
        .map(|(h, u)| (u, h))
        .collect();
    group(facts, affected).iter().map(|group| finding(diagnostic, resource, group)).collect()
}

fn finding(diagnostic: &Diagnostic, resource: Resource, group: &Group<'_, High>) -> Finding {
    let Some((usage, worst)) =
        group.members.iter().max_by(|(_, a), (_, b)| a.weight(resource).total_cmp(&b.weight(resource)))
    else {
        return diagnostic.finding(Severity::P2, group.label());
    };
    let severity = group.members.iter().map(|(_, high)| high.severity).min().unwrap_or(Severity::P2);
    let what = match resource {
        Resource::Cpu => "CPU",
        Resource::Memory => "memory",
    };
    let (title_tail, against) = match worst.limit {
        Some(limit) => {
            let share =
                format!("{} of its {} limit", units::percent(worst.p95 / limit), resource.format(limit));
            (format!("is {share}"), share)
        }
        None => {
            let fixed = resource.format(resource.fixed().0);
            (
                format!("with no {} limit (above the fixed {fixed})", resource.name()),
                format!(
                    "it has no {} limit, and this is above the fixed threshold of {fixed}",
                    resource.name()
                ),
            )
        }
    };
    let mut finding = diagnostic.finding(
        severity,
        format!("{}: {what} p95 {} {title_tail}", group.label(), resource.format(worst.p95)),
    );
    for object in group.objects() {
        finding = finding.object(object);
    }
    for (usage, _) in &group.members {
        let stats = resource.stats(usage);
        let label = usage.label();
        finding = finding
            .evidence(resource.evidence(&label, "p95", stats.p95))
            .evidence(resource.evidence(&label, "max", stats.max))
            .evidence(resource.evidence(&label, "mean", stats.mean));
    }
    let field = format!("resources/limits/{}", resource.name());
    if let (Some(pod), Some(pointer)) = (usage.pod, &usage.pointer)
        && let Some(value) = pod.at(&format!("{pointer}/{field}"))
    {
        finding = finding.evidence(Evidence::field(pod.reference(), format!("{pointer}/{field}"), value));
    }

    let consequence = match (resource, worst.limit) {
        (Resource::Cpu, Some(_)) => {
            "Near its CPU limit the kernel throttles the container in every 100 ms period it exceeds it: \
             requests queue and latency rises long before anything fails."
        }
        (Resource::Memory, Some(_)) => {
            "Memory cannot be throttled: at the limit the kernel OOM-kills the container. A p95 this close \
             leaves no room for a burst (or is a leak: see memory-leak)."
        }
        (Resource::Cpu, None) => {
            "Without a CPU limit it is not throttled, but it competes with its neighbours for the node's \
             CPU beyond what it requested."
        }
        (Resource::Memory, None) => {
            "Without a memory limit nothing stops it growing until the node runs short of memory, and the \
             kubelet evicts pods (those above their requests first)."
        }
    };
    finding = finding.explanation(format!(
        "In 95% of {} samples over {} container `{}` of pod {} used up to {} {what} ({}). {consequence}{}",
        usage.series.samples.len(),
        units::span(usage.window_minutes()),
        group.container,
        usage.key().pod,
        resource.format(worst.p95),
        against,
        if group.members.len() > 1 {
            format!(" {} replicas are in the same state.", group.members.len())
        } else {
            String::new()
        }
    ));
    let pod = usage.pod_ref();
    finding = finding.remediation(units::top_pod(&pod)).remediation(kubectl::describe(&pod));
    if let Some(workload) = group.workload.as_ref().filter(|workload| units::has_template(&workload.kind)) {
        // A new limit that puts today's p95 at 70% of it leaves the headroom `K8sPerformanceAnalyzer` asks
        // for. Never below the request (kubectl refuses it), nor for memory below the peak seen
        // plus headroom (a memory limit under a seen peak is an OOM kill waiting).
        let stats = resource.stats(usage);
        let peak = if resource == Resource::Memory { stats.max * 1.2 } else { 0.0 };
        let request = match resource {
            Resource::Cpu => usage.resources.cpu_request,
            Resource::Memory => usage.resources.memory_request,
        };
        let limit = resource.quantity((worst.p95 / 0.7).max(peak).max(request.unwrap_or(0.0)));
        finding = finding.remediation(units::set_resources(
            workload,
            &group.container,
            &[],
            &[(resource.name(), limit)],
        ));
    }
    finding
}
