//! The collection: what every phase shares ([`Context`]) and the order they run in.
//!
//! The events watch starts first and runs to the end. Discovery comes next; then the metrics
//! sampler runs beside the resources, logs and kubelet phases; the collection ends when those
//! are done *and* the sampling window is over, and only then is the watch stopped.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::api::ApiGate;
use crate::progress::Progress;
use crate::redaction::Redaction;
use crate::sink::{Sink, SinkClosed};
use crate::{discover, events, helm, logs, metrics, resources};

/// Which namespaces are collected.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    /// Only these (empty: all).
    pub(crate) namespaces: Vec<String>,
    pub(crate) excluded: BTreeSet<String>,
}

impl Scope {
    pub(crate) fn new(namespaces: &[String], excluded: &[String]) -> Self {
        let excluded: BTreeSet<String> = excluded.iter().cloned().collect();
        let mut namespaces: Vec<String> =
            namespaces.iter().filter(|ns| !excluded.contains(*ns)).cloned().collect();
        namespaces.sort();
        namespaces.dedup();
        Scope { namespaces, excluded }
    }

    /// Whether objects of `namespace` are left out.
    pub(crate) fn excludes(&self, namespace: &str) -> bool {
        self.excluded.contains(namespace)
            || (!self.namespaces.is_empty() && !self.namespaces.iter().any(|ns| ns == namespace))
    }
}

/// `--log-bytes`, `--since`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogOptions {
    pub(crate) bytes: u64,
    pub(crate) since: Option<Duration>,
}

/// `--metrics-duration`, `--metrics-interval`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MetricsOptions {
    pub(crate) duration: Duration,
    pub(crate) interval: Duration,
}

/// Everything the phases share.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) gate: ApiGate,
    pub(crate) sink: Sink,
    pub(crate) redaction: Redaction,
    pub(crate) scope: Scope,
    pub(crate) progress: Progress,
    pub(crate) logs: LogOptions,
    pub(crate) metrics: MetricsOptions,
    pub(crate) concurrency: usize,
    /// When the collection started (the reference for `--since`).
    pub(crate) started_at: jiff::Timestamp,
}

impl Context {
    /// How many units of work (lists, logs) run at once; the gate bounds the requests.
    pub(crate) fn concurrency(&self) -> usize {
        self.concurrency
    }
}

/// Runs every phase. Returns early only when the writer stopped.
pub(crate) async fn run(ctx: Arc<Context>) -> Result<(), SinkClosed> {
    // The watch starts first: discovery can take a request timeout when an aggregated API is
    // down, and events of that time must not be missed.
    let stop_watch = ctx.gate.cancel().child_token();
    let watch = events::watch(&ctx, stop_watch.clone());
    let collection = async {
        let discovered = discover::run(&ctx).await?;
        let sampling = metrics::sample(&ctx, discovered.metrics_api);
        let main = async {
            let mut inventory = resources::run(&ctx, &discovered.resources).await?;
            helm::write(&ctx, std::mem::take(&mut inventory.helm)).await?;
            tracing::info!(
                n_pods = inventory.pods.len(),
                n_nodes = inventory.nodes.len(),
                "resources listed"
            );
            logs::run(&ctx, &inventory).await?;
            metrics::kubelet_stats(&ctx, &inventory).await
        };
        let (main, sampled) = tokio::join!(main, sampling);
        stop_watch.cancel();
        main.and(sampled)
    };
    let (collected, watched) = tokio::join!(collection, watch);
    collected.and(watched)
}

/// Cancels `cancel` on Ctrl-C or when `deadline` passes, and returns why.
pub(crate) async fn stop_on_signal_or_deadline(
    cancel: CancellationToken,
    deadline: Duration,
) -> Option<String> {
    let reason = tokio::select! {
        () = cancel.cancelled() => return None,
        signal = tokio::signal::ctrl_c() => match signal {
            Ok(()) => "interrupted (Ctrl-C): the collection was stopped before it finished".to_owned(),
            // No signal handler could be installed: only the deadline can stop us.
            Err(_) => {
                tokio::time::sleep(deadline).await;
                deadline_reason(deadline)
            }
        },
        () = tokio::time::sleep(deadline) => deadline_reason(deadline),
    };
    tracing::warn!("{reason}");
    cancel.cancel();
    Some(reason)
}

fn deadline_reason(deadline: Duration) -> String {
    format!("the --deadline of {}s was reached before the collection finished", deadline.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_includes_and_excludes() {
        let all = Scope::new(&[], &["kube-system".to_owned()]);
        assert!(all.excludes("kube-system"));
        assert!(!all.excludes("default"));
        let some =
            Scope::new(&["b".to_owned(), "a".to_owned(), "a".to_owned(), "x".to_owned()], &["x".to_owned()]);
        assert_eq!(some.namespaces, ["a", "b"]);
        assert!(!some.excludes("a"));
        assert!(some.excludes("c"));
        assert!(some.excludes("x"));
    }
}
