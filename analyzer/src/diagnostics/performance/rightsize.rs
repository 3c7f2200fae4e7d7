//! Right-sizing from the samples: a CPU request from the p95 of what the containers used and
//! a memory request from the peak plus 20% headroom, pooled over the replicas of a workload
//! (they share one spec, so they share one recommendation).
//!
//! CPU is compressible: a request at p95 leaves the rare peak to borrow idle CPU. Memory is
//! not: a request under the peak is the first eviction under node memory pressure, so it
//! covers the peak seen with headroom.

use kubesnap_shared::model::ObjectRef;

use crate::facts::performance::units;
use crate::facts::performance::usage::{ContainerUsage, Resources};
use crate::stats::percentile;

/// Headroom over the memory peak.
pub(crate) const MEMORY_HEADROOM: f64 = 1.2;
/// A window shorter than this (minutes) misses daily peaks: recommendations say so.
const SHORT_WINDOW: f64 = 60.0;

/// What a workload container should request, from its replicas' samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Recommendation {
    /// Millicores, rounded up to 10m.
    pub(crate) cpu: f64,
    /// Bytes, rounded up to a MiB.
    pub(crate) memory: f64,
    pub(crate) cpu_p95: f64,
    pub(crate) memory_max: f64,
    pub(crate) samples: usize,
    /// The longest replica window, in minutes.
    pub(crate) minutes: f64,
}

/// The recommendation for containers sharing one spec; `None` under 3 samples in all.
pub(crate) fn recommend<'a>(
    members: impl IntoIterator<Item = &'a ContainerUsage<'a>>,
) -> Option<Recommendation> {
    let mut cpu = Vec::new();
    let mut memory_max: f64 = 0.0;
    let mut minutes: f64 = 0.0;
    for usage in members {
        cpu.extend(usage.series.samples.iter().map(|sample| sample.cpu_millicores));
        memory_max = memory_max.max(usage.memory.max);
        minutes = minutes.max(usage.window_minutes());
    }
    if cpu.len() < 3 {
        return None;
    }
    let cpu_p95 = percentile(&cpu, 95.0)?;
    Some(Recommendation {
        cpu: units::cpu_rounded(cpu_p95),
        memory: units::memory_rounded(memory_max * MEMORY_HEADROOM),
        cpu_p95,
        memory_max,
        samples: cpu.len(),
        minutes,
    })
}

impl Recommendation {
    /// A sentence on how much to trust it.
    pub(crate) fn basis(&self) -> String {
        let mut text = format!(
            "The recommendation (CPU request = p95 {}, memory request = peak {} + 20%) comes from {} \
             samples over {}.",
            units::cpu(self.cpu_p95),
            units::memory(self.memory_max),
            self.samples,
            units::span(self.minutes)
        );
        if self.minutes < SHORT_WINDOW {
            text.push_str(
                " A window this short misses daily and weekly peaks: confirm with a longer capture (or the \
                 monitoring history) before changing the requests.",
            );
        }
        text
    }

    /// `kubectl set resources` with the given resources' recommended requests, raising a limit
    /// that would fall below its new request.
    pub(crate) fn command(
        &self,
        target: &ObjectRef,
        container: &str,
        resources: &Resources,
        which: &[&str],
    ) -> String {
        let mut requests = Vec::new();
        let mut limits = Vec::new();
        for resource in which {
            match *resource {
                "cpu" => {
                    requests.push(("cpu", units::cpu_quantity(self.cpu)));
                    if resources.cpu_limit.is_some_and(|limit| limit < self.cpu) {
                        limits.push(("cpu", units::cpu_quantity(self.cpu)));
                    }
                }
                _ => {
                    requests.push(("memory", units::memory_quantity(self.memory)));
                    if resources.memory_limit.is_some_and(|limit| limit < self.memory) {
                        limits.push(("memory", units::memory_quantity(self.memory)));
                    }
                }
            }
        }
        units::set_resources(target, container, &requests, &limits)
    }
}
