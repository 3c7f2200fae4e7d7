//! The geometry of the report's inline SVG charts: CPU and memory of a container over the
//! capture, with its request and limit as lines, computed here so the template only places
//! ready-made coordinates (no JavaScript chart library, nothing fetched).

use std::collections::BTreeSet;

use kubesnap_shared::model::{ClusterModel, MetricSeries};
use kubesnap_shared::quantity;
use serde::Serialize;

use crate::facts::containers;
use crate::finding::Finding;

/// Most charts one report draws: a 10,000-pod bundle must not make a 100 MB page.
const MAX_CHARTS: usize = 12;
/// The drawing area inside the SVG's view box.
const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 150.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 22.0;

/// One container's two panels.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Chart {
    /// `namespace/pod/container`.
    pub(crate) title: String,
    pub(crate) samples: usize,
    pub(crate) cpu: Panel,
    pub(crate) memory: Panel,
}

/// One metric over time, ready to place in a `viewBox="0 0 560 150"`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Panel {
    pub(crate) label: &'static str,
    /// `points` of the `<polyline>`.
    pub(crate) points: String,
    /// `points` of the filled area under the line.
    pub(crate) area: String,
    /// The value at the top of the axis, formatted.
    pub(crate) top: String,
    pub(crate) max: String,
    pub(crate) request: Option<Guide>,
    pub(crate) limit: Option<Guide>,
    pub(crate) start: String,
    pub(crate) end: String,
    /// Geometry constants, so the template holds no numbers of its own.
    pub(crate) width: f64,
    pub(crate) height: f64,
    pub(crate) left: f64,
    pub(crate) right: f64,
    pub(crate) plot_top: f64,
    pub(crate) plot_bottom: f64,
}

/// A horizontal line: a request or a limit.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Guide {
    pub(crate) y: String,
    pub(crate) text: String,
}

/// The charts to draw, and how many series the bundle has.
pub(crate) fn build(model: &ClusterModel, findings: &[Finding]) -> (Vec<Chart>, usize) {
    let flagged: BTreeSet<(&str, &str)> = findings
        .iter()
        .flat_map(|finding| &finding.objects)
        .filter(|object| object.kind == "Pod")
        .filter_map(|object| Some((object.namespace.as_deref()?, object.name.as_str())))
        .collect();
    let mut series: Vec<&MetricSeries> =
        model.pod_metrics.iter().filter(|series| !series.samples.is_empty()).collect();
    let total = series.len();
    let peak = |series: &MetricSeries| series.samples.iter().map(|s| s.memory_bytes).fold(0.0, f64::max);
    series.sort_by(|a, b| {
        let a_flagged = flagged.contains(&(a.key.namespace.as_str(), a.key.pod.as_str()));
        let b_flagged = flagged.contains(&(b.key.namespace.as_str(), b.key.pod.as_str()));
        b_flagged.cmp(&a_flagged).then(peak(b).total_cmp(&peak(a))).then(a.key.cmp(&b.key))
    });
    let charts = series.into_iter().take(MAX_CHARTS).map(|series| chart(model, series)).collect();
    (charts, total)
}

fn chart(model: &ClusterModel, series: &MetricSeries) -> Chart {
    let key = &series.key;
    let spec = model
        .get("Pod", Some(&key.namespace), &key.pod)
        .and_then(|pod| pod.at("/spec"))
        .and_then(|spec| containers::spec(spec, &key.container));
    let resource =
        |pointer: &str| spec.and_then(|spec| spec.pointer(pointer)).and_then(|value| value.as_str());
    let cpu: Vec<f64> = series.samples.iter().map(|sample| sample.cpu_millicores).collect();
    let memory: Vec<f64> = series.samples.iter().map(|sample| sample.memory_bytes / 1_048_576.0).collect();
    let start = series.samples.first().map(|s| s.at.to_string()).unwrap_or_default();
    let end = series.samples.last().map(|s| s.at.to_string()).unwrap_or_default();
    let times: Vec<f64> = series.samples.iter().map(|sample| sample.at.as_millisecond() as f64).collect();
    Chart {
        title: format!("{}/{}/{}", key.namespace, key.pod, key.container),
        samples: series.samples.len(),
        cpu: panel(
            "CPU (millicores)",
            &times,
            &cpu,
            resource("/resources/requests/cpu").and_then(quantity::cpu_millicores),
            resource("/resources/limits/cpu").and_then(quantity::cpu_millicores),
            |value| format!("{value:.0}m"),
            (&start, &end),
        ),
        memory: panel(
            "Memory (MiB)",
            &times,
            &memory,
            resource("/resources/requests/memory").and_then(quantity::bytes).map(|b| b / 1_048_576.0),
            resource("/resources/limits/memory").and_then(quantity::bytes).map(|b| b / 1_048_576.0),
            |value| format!("{value:.0}Mi"),
            (&start, &end),
        ),
    }
}

fn panel(
    label: &'static str,
    times: &[f64],
    values: &[f64],
    request: Option<f64>,
    limit: Option<f64>,
    format: fn(f64) -> String,
    (start, end): (&str, &str),
) -> Panel {
    let max = values.iter().copied().fold(0.0, f64::max);
    let top = [max, request.unwrap_or(0.0), limit.unwrap_or(0.0)].into_iter().fold(0.0, f64::max) * 1.1;
    let top = if top > 0.0 { top } else { 1.0 };
    let first = times.first().copied().unwrap_or(0.0);
    let span = times.last().copied().unwrap_or(0.0) - first;
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_bottom = HEIGHT - BOTTOM;
    let x = |time: f64| {
        if span > 0.0 { LEFT + (time - first) / span * plot_width } else { LEFT + plot_width / 2.0 }
    };
    let y = |value: f64| plot_bottom - value / top * (plot_bottom - TOP);
    let points: Vec<String> =
        times.iter().zip(values).map(|(time, value)| format!("{:.1},{:.1}", x(*time), y(*value))).collect();
    let area = match (times.first(), times.last()) {
        (Some(first_time), Some(last_time)) => format!(
            "{:.1},{plot_bottom:.1} {} {:.1},{plot_bottom:.1}",
            x(*first_time),
            points.join(" "),
            x(*last_time)
        ),
        _ => String::new(),
    };
    let guide = |value: Option<f64>, name: &str| {
        value.map(|value| Guide { y: format!("{:.1}", y(value)), text: format!("{name} {}", format(value)) })
    };
    Panel {
        label,
        points: points.join(" "),
        area,
        top: format(top),
        max: format(max),
        request: guide(request, "request"),
        limit: guide(limit, "limit"),
        start: start.to_owned(),
        end: end.to_owned(),
        width: WIDTH,
        height: HEIGHT,
        left: LEFT,
        right: WIDTH - RIGHT,
        plot_top: TOP,
        plot_bottom,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_from_yaml;

    #[test]
    fn lines_span_the_plot_and_guides_sit_at_request_and_limit() {
        let model = model_from_yaml(
            r#"
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop}
spec: {containers: [{name: api, image: a, resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 500m, memory: 128Mi}}}]}
---
kind: MetricSeries
namespace: shop
pod: api
container: api
samples:
- {at: "2025-06-01T11:50:00Z", cpu: 50m, memory: 32Mi}
- {at: "2025-06-01T11:55:00Z", cpu: 250m, memory: 100Mi}
"#,
        );
        let (charts, total) = build(&model, &[]);
        assert_eq!(total, 1);
        let cpu = &charts[0].cpu;
        // 0.5 cores limit is the top guide: 550m at the axis top.
        assert_eq!(cpu.top, "550m");
        // The plot runs from y=128 (zero) up to y=10 (550m): 50m sits at 128 - 50/550 * 118.
        assert_eq!(cpu.points, "56.0,117.3 552.0,74.4");
        assert_eq!(cpu.limit.as_ref().map(|g| g.y.as_str()), Some("20.7"));
        assert_eq!(charts[0].memory.request.as_ref().map(|g| g.text.as_str()), Some("request 64Mi"));
    }
}
