//! Metric samples as time series: per container from PodMetrics, per node from NodeMetrics.

/// Which container a series is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct ContainerKey {
    pub namespace: String,
    pub pod: String,
    pub container: String,
}

/// One sample: CPU in millicores and memory (working set) in bytes.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MetricSample {
    pub at: jiff::Timestamp,
    pub cpu_millicores: f64,
    pub memory_bytes: f64,
}

/// A container's samples, oldest first.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MetricSeries {
    pub key: ContainerKey,
    pub samples: Vec<MetricSample>,
}

/// A node's samples, oldest first.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NodeSeries {
    pub node: String,
    pub samples: Vec<MetricSample>,
}
