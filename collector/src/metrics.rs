//! Metrics over time and kubelet stats.
//!
//! The sampler runs beside the other phases: every `--metrics-interval` for
//! `--metrics-duration` it asks `metrics.k8s.io` for the pods and the nodes and keeps one JSON
//! line per sample (`{"timestamp", "items"}`, or `{"timestamp", "error"}` for a failed
//! sample). Without the metrics API it records one failure and stops. Kubelet
//! `stats/summary` is fetched once per Ready node through the API server's node proxy.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kubesnap_shared::layout;
use kubesnap_shared::manifest::{Failure, FailureKind};
use kubesnap_shared::redact::Counts;
use serde_json::{Value, json};

use crate::context::Context;
use crate::failures::CallError;
use crate::inventory::Inventory;
use crate::redaction;
use crate::sink::{SinkClosed, Tally};

const METRICS_API: &str = "/apis/metrics.k8s.io/v1beta1";

/// The instants (offsets from the start) at which samples are taken: 0, interval, 2 ×
/// interval, ... up to and including `duration`. Empty when sampling is off.
pub(crate) fn schedule(duration: Duration, interval: Duration) -> Vec<Duration> {
    if duration.is_zero() {
        return Vec::new();
    }
    if interval.is_zero() {
        return vec![Duration::ZERO];
    }
    let mut instants = Vec::new();
    let mut at = Duration::ZERO;
    while at <= duration {
        instants.push(at);
        at += interval;
    }
    instants
}

/// Samples pods and nodes for the whole window, then queues `metrics/pods.jsonl` and
/// `metrics/nodes.jsonl`.
pub(crate) async fn sample(ctx: &Context, metrics_api: bool) -> Result<(), SinkClosed> {
    let instants = schedule(ctx.metrics.duration, ctx.metrics.interval);
    if instants.is_empty() {
        return Ok(());
    }
    if !metrics_api {
        let failure = Failure {
            what: "metrics".to_owned(),
            scope: "metrics.k8s.io".to_owned(),
            namespace: None,
            kind: FailureKind::NotFound,
            status: None,
            message: "the metrics API (metrics.k8s.io) is not served by this cluster (no metrics-server?); no samples were taken".to_owned(),
        };
        return ctx.sink.failure(failure).await;
    }
    let bar = ctx.progress.phase("metrics", Some(instants.len() as u64));
    let start = tokio::time::Instant::now();
    let mut pods = Series::default();
    let mut nodes = Series::default();
    let mut cut_short = false;
    for at in instants {
        tokio::select! {
            () = ctx.gate.cancel().cancelled() => { cut_short = true; break; }
            () = tokio::time::sleep_until(start + at) => {}
        }
        let timestamp =
            jiff::Timestamp::now().round(jiff::Unit::Millisecond).unwrap_or_else(|_| jiff::Timestamp::now());
        let nodes_uri = format!("{METRICS_API}/nodes");
        let (pod_sample, node_sample) = tokio::join!(pod_metrics(ctx), ctx.gate.get_json(&nodes_uri));
        if matches!(pod_sample, Err(CallError::Cancelled)) || matches!(node_sample, Err(CallError::Cancelled))
        {
            cut_short = true;
            break;
        }
        pods.push(ctx, timestamp, pod_sample);
        nodes.push(ctx, timestamp, node_sample);
        bar.inc(1);
    }
    bar.finish_with_message(if cut_short { "cut short" } else { "done" });
    if cut_short {
        let failure = CallError::Cancelled.to_failure("metrics", "metrics.k8s.io samples", None);
        ctx.sink.failure(failure).await?;
    }
    pods.send(ctx, layout::POD_METRICS).await?;
    nodes.send(ctx, layout::NODE_METRICS).await
}

/// One PodMetricsList sample in the scope: all namespaces, or each asked-for one merged.
async fn pod_metrics(ctx: &Context) -> Result<Value, CallError> {
    let mut items = Vec::new();
    if ctx.scope.namespaces.is_empty() {
        let mut list = ctx.gate.get_json(&format!("{METRICS_API}/pods")).await?;
        if let Some(Value::Array(all)) = list.get_mut("items").map(Value::take) {
            items = all;
        }
    } else {
        for namespace in &ctx.scope.namespaces {
            let mut list = ctx.gate.get_json(&format!("{METRICS_API}/namespaces/{namespace}/pods")).await?;
            if let Some(Value::Array(some)) = list.get_mut("items").map(Value::take) {
                items.extend(some);
            }
        }
    }
    items.retain(|item| !item["metadata"]["namespace"].as_str().is_some_and(|ns| ctx.scope.excludes(ns)));
    Ok(json!({"items": items}))
}

/// The JSON lines of one metrics file.
#[derive(Debug, Default)]
struct Series {
    lines: Vec<u8>,
    n_samples: u64,
    counts: Counts,
    /// Failures are recorded once per distinct message, not once per sample.
    failed_with: Vec<String>,
    failures: Vec<Failure>,
}

impl Series {
    fn push(&mut self, ctx: &Context, timestamp: jiff::Timestamp, sample: Result<Value, CallError>) {
        let mut line = match sample {
            Ok(mut list) => {
                let items = list.get_mut("items").map(Value::take).unwrap_or(Value::Array(Vec::new()));
                json!({"timestamp": timestamp.to_string(), "items": items})
            }
            Err(err) => {
                let message = err.to_string();
                if !self.failed_with.contains(&message) {
                    self.failed_with.push(message.clone());
                    self.failures.push(err.to_failure("metrics", "metrics.k8s.io", None));
                }
                json!({"timestamp": timestamp.to_string(), "error": message})
            }
        };
        ctx.redaction.object(&mut line, &mut self.counts);
        let _ = serde_json::to_writer(&mut self.lines, &line);
        self.lines.push(b'\n');
        self.n_samples += 1;
    }

    async fn send(self, ctx: &Context, path: &str) -> Result<(), SinkClosed> {
        for failure in self.failures {
            ctx.sink.failure(failure).await?;
        }
        if self.n_samples == 0 {
            return Ok(());
        }
        ctx.sink.redactions(path, redaction::pairs(&self.counts)).await?;
        ctx.sink.add(path.to_owned(), self.lines, Tally::Samples(self.n_samples)).await
    }
}

/// `kubelet/<node>/stats-summary.json` for every Ready node.
pub(crate) async fn kubelet_stats(ctx: &Arc<Context>, inventory: &Inventory) -> Result<(), SinkClosed> {
    let nodes: Vec<String> =
        inventory.nodes.iter().filter(|node| node.ready).map(|node| node.name.clone()).collect();
    for node in inventory.nodes.iter().filter(|node| !node.ready) {
        let failure = Failure {
            what: "kubelet-stats".to_owned(),
            scope: node.name.clone(),
            namespace: None,
            kind: FailureKind::Unavailable,
            status: None,
            message: format!("node {} is not Ready; its kubelet was not asked for stats", node.name),
        };
        ctx.sink.failure(failure).await?;
    }
    let bar = ctx.progress.phase("kubelet", Some(nodes.len() as u64));
    let mut results = futures::stream::iter(nodes)
        .map(|node| {
            let ctx = Arc::clone(ctx);
            tokio::spawn(async move {
                let answer = ctx.gate.get_json(&format!("/api/v1/nodes/{node}/proxy/stats/summary")).await;
                let path = layout::kubelet_stats(&node);
                match answer {
                    Ok(mut stats) => {
                        let mut counts = Counts::default();
                        ctx.redaction.object(&mut stats, &mut counts);
                        ctx.sink.redactions(&path, redaction::pairs(&counts)).await?;
                        let bytes = serde_json::to_vec(&stats).unwrap_or_default();
                        ctx.sink.add(path, bytes, Tally::Other).await
                    }
                    Err(err) => ctx.sink.failure(err.to_failure("kubelet-stats", &node, None)).await,
                }
            })
        })
        .buffer_unordered(ctx.concurrency());
    while let Some(joined) = results.next().await {
        bar.inc(1);
        match joined {
            Ok(result) => result?,
            Err(join_error) => tracing::error!("a kubelet stats task failed: {join_error}"),
        }
    }
    bar.finish_with_message("done");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_covers_the_window_including_both_ends() {
        let secs = |s: &[u64]| s.iter().map(|&s| Duration::from_secs(s)).collect::<Vec<_>>();
        assert_eq!(schedule(Duration::from_secs(60), Duration::from_secs(15)), secs(&[0, 15, 30, 45, 60]));
        assert_eq!(schedule(Duration::from_secs(50), Duration::from_secs(15)), secs(&[0, 15, 30, 45]));
        assert_eq!(schedule(Duration::from_secs(300), Duration::from_secs(30)).len(), 11);
        assert!(schedule(Duration::ZERO, Duration::from_secs(15)).is_empty());
        assert_eq!(schedule(Duration::from_secs(10), Duration::ZERO), secs(&[0]));
    }
}
