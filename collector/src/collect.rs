//! The collection: the order its phases run in, and what stops it.
//!
//! The events watch starts first and runs to the end. Discovery comes next; then the metrics
//! sampler runs beside the resources, logs and kubelet phases; the collection ends when those
//! are done *and* the sampling window is over, and only then is the watch stopped.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::context::Context;
use crate::sink::SinkClosed;
use crate::{discover, events, helm, logs, metrics, resources};

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
