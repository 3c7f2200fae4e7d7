//! The report's "Performance" section: `K8sPerformanceAnalyzer`'s per-container statistics (CPU and memory
//! mean, median, stdev, min, max, p95 and the stability score, next to the requests and
//! limits) and its top CPU and memory consumers, in the units the findings use (millicores up
//! to a core, MiB up to a GiB).
//!
//! The numbers come from `facts::performance::usage`, the same ones the performance
//! diagnostics read, so a finding's p95 is the table's p95. A 10,000-pod bundle has more
//! containers than a page can hold: the HTML shows the busiest by mean memory and says so;
//! `findings.json` has every container.

use serde::Serialize;

use crate::facts::Facts;
use crate::facts::performance::units;
use crate::facts::performance::usage::{self, ContainerStats};
use crate::stats::Summary;

/// Most container rows the HTML table holds.
pub(crate) const HTML_ROWS: usize = 200;
/// Container rows the Markdown report lists.
pub(crate) const MARKDOWN_ROWS: usize = 10;
/// Pods per top-consumer list (`K8sPerformanceAnalyzer` lists five; a support engineer wants a few more).
pub(crate) const TOP_CONSUMERS: usize = 10;
/// Below this stability score `K8sPerformanceAnalyzer` calls a container unstable.
const UNSTABLE_BELOW: f64 = 70.0;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct PerformanceView {
    /// Containers with samples in the bundle.
    pub(crate) total: usize,
    /// The HTML table's rows: the highest mean memory first, at most [`HTML_ROWS`].
    pub(crate) containers: Vec<ContainerRow>,
    /// The Markdown table's rows: the first [`MARKDOWN_ROWS`] of `containers`.
    pub(crate) top_containers: Vec<ContainerRow>,
    /// Set when the HTML table does not hold every container.
    pub(crate) note: Option<String>,
    pub(crate) top_cpu: Vec<ConsumerRow>,
    pub(crate) top_memory: Vec<ConsumerRow>,
}

/// One container's statistics, formatted; every cell carries its raw value for sorting.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ContainerRow {
    /// `namespace/pod/container`.
    pub(crate) name: String,
    pub(crate) samples: usize,
    pub(crate) cpu: Statistics,
    pub(crate) memory: Statistics,
    /// `100m / 500m`, `— / 500m`.
    pub(crate) cpu_resources: String,
    pub(crate) memory_resources: String,
    pub(crate) stability: Cell,
    pub(crate) unstable: bool,
}

/// `K8sPerformanceAnalyzer`'s statistics of one series, formatted.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Statistics {
    pub(crate) mean: Cell,
    pub(crate) median: Cell,
    pub(crate) stdev: Cell,
    pub(crate) min: Cell,
    pub(crate) max: Cell,
    pub(crate) p95: Cell,
}

/// A formatted number and the value it shows (millicores, bytes, a score).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Cell {
    pub(crate) text: String,
    pub(crate) value: f64,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ConsumerRow {
    /// `namespace/pod`.
    pub(crate) pod: String,
    pub(crate) mean: String,
}

/// The section; `None` when the bundle holds no samples.
pub(crate) fn build(facts: &Facts<'_>) -> Option<PerformanceView> {
    let mut stats = usage::container_stats(facts);
    if stats.is_empty() {
        return None;
    }
    let total = stats.len();
    // A stable sort of the name-ordered list keeps equal means in name order.
    stats.sort_by(|a, b| b.memory_bytes.mean.total_cmp(&a.memory_bytes.mean));
    let containers: Vec<ContainerRow> = stats.iter().take(HTML_ROWS).map(row).collect();
    let top = usage::top_consumers(facts, TOP_CONSUMERS);
    Some(PerformanceView {
        total,
        top_containers: containers.iter().take(MARKDOWN_ROWS).cloned().collect(),
        note: (total > containers.len()).then(|| {
            format!(
                "{} of {total} containers, the highest mean memory first; findings.json has all of them",
                containers.len()
            )
        }),
        containers,
        top_cpu: top
            .cpu
            .iter()
            .map(|c| ConsumerRow { pod: format!("{}/{}", c.namespace, c.pod), mean: units::cpu(c.mean) })
            .collect(),
        top_memory: top
            .memory
            .iter()
            .map(|c| ConsumerRow { pod: format!("{}/{}", c.namespace, c.pod), mean: units::memory(c.mean) })
            .collect(),
    })
}

fn row(stats: &ContainerStats) -> ContainerRow {
    let cells = |summary: &Summary, format: fn(f64) -> String| {
        let cell = |value: f64| Cell { text: format(value), value };
        Statistics {
            mean: cell(summary.mean),
            median: cell(summary.median),
            stdev: cell(summary.stdev),
            min: cell(summary.min),
            max: cell(summary.max),
            p95: cell(summary.p95),
        }
    };
    let pair = |request: Option<f64>, limit: Option<f64>, format: fn(f64) -> String| match (request, limit) {
        (None, None) => "none".to_owned(),
        (request, limit) => {
            let show = |value: Option<f64>| value.map_or_else(|| "—".to_owned(), format);
            format!("{} / {}", show(request), show(limit))
        }
    };
    ContainerRow {
        name: format!("{}/{}/{}", stats.namespace, stats.pod, stats.container),
        samples: stats.cpu_millicores.count,
        cpu: cells(&stats.cpu_millicores, units::cpu),
        memory: cells(&stats.memory_bytes, units::memory),
        cpu_resources: pair(stats.cpu_request_millicores, stats.cpu_limit_millicores, units::cpu),
        memory_resources: pair(stats.memory_request_bytes, stats.memory_limit_bytes, units::memory),
        stability: Cell { text: format!("{:.0}", stats.stability_score), value: stats.stability_score },
        unstable: stats.stability_score < UNSTABLE_BELOW,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::performance::usage::MIB;
    use crate::testing::model_from_yaml;

    /// `count` pods of one container each, the i-th using `i + 1` MiB.
    fn pods(count: usize) -> String {
        (0..count)
            .map(|i| {
                format!(
                    "kind: MetricSeries\nnamespace: ns\npod: p{i:03}\ncontainer: c\nsamples:\n\
                     - {{at: \"2025-06-01T11:55:00Z\", cpu: {cpu}m, memory: {memory}Mi}}\n\
                     - {{at: \"2025-06-01T11:55:30Z\", cpu: {cpu}m, memory: {memory}Mi}}\n",
                    cpu = 1000 - i,
                    memory = i + 1
                )
            })
            .collect::<Vec<_>>()
            .join("---\n")
    }

    #[test]
    fn rows_are_the_highest_memory_first_and_capped_with_a_note() {
        let model = model_from_yaml(&pods(HTML_ROWS + 3));
        let Some(view) = build(&Facts::new(&model)) else { panic!("no section") };
        assert_eq!(view.total, HTML_ROWS + 3);
        assert_eq!(view.containers.len(), HTML_ROWS);
        assert_eq!(view.containers[0].name, format!("ns/p{:03}/c", HTML_ROWS + 2));
        assert_eq!(view.containers[0].memory.mean.text, format!("{} MiB", HTML_ROWS + 3));
        assert_eq!(view.top_containers.len(), MARKDOWN_ROWS);
        assert_eq!(
            view.note.as_deref(),
            Some("200 of 203 containers, the highest mean memory first; findings.json has all of them")
        );
        // The top CPU consumer is the first pod, which uses the least memory.
        assert_eq!(view.top_cpu[0].pod, "ns/p000");
        assert_eq!(view.top_cpu[0].mean, "1 core");
        assert_eq!(view.top_cpu.len(), TOP_CONSUMERS);
        assert_eq!(view.top_memory[0].pod, format!("ns/p{:03}", HTML_ROWS + 2));
    }

    #[test]
    fn a_row_shows_statistics_resources_and_stability() {
        let model = model_from_yaml(
            r#"
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec: {containers: [{name: web, image: a, resources: {limits: {cpu: 500m}}}]}
---
kind: MetricSeries
namespace: shop
pod: web
container: web
samples:
- {at: "2025-06-01T11:50:00Z", cpu: 40m, memory: 90Mi}
- {at: "2025-06-01T11:52:00Z", cpu: 300m, memory: 110Mi}
"#,
        );
        let Some(view) = build(&Facts::new(&model)) else { panic!("no section") };
        assert!(view.note.is_none());
        let row = &view.containers[0];
        let cpu = &row.cpu;
        let texts =
            [&cpu.mean, &cpu.median, &cpu.stdev, &cpu.min, &cpu.max, &cpu.p95].map(|c| c.text.as_str());
        assert_eq!(texts, ["170m", "170m", "184m", "40m", "300m", "287m"]);
        assert_eq!(row.memory.mean.value, 100.0 * MIB);
        // The request defaults to the limit; no memory resources at all.
        assert_eq!(row.cpu_resources, "500m / 500m");
        assert_eq!(row.memory_resources, "none");
        assert_eq!(row.samples, 2);
        assert!(row.unstable, "CPU swinging from 40m to 300m: score {}", row.stability.text);
        assert!(
            build(&Facts::new(&model_from_yaml("kind: Namespace\napiVersion: v1\nmetadata: {name: x}\n")))
                .is_none()
        );
    }
}
