//! Logs: every container of every pod (init and ephemeral too), the current run and the
//! previous one where there was a restart, with timestamps, capped by `--log-bytes` (the
//! newest bytes are kept) and `--since`, redacted before they are queued.
//!
//! A pod on a node that is not Ready or gone is recorded as a failure without a request: the
//! API server would proxy to a kubelet that cannot answer and the request would only time out.

use std::sync::Arc;

use futures::StreamExt;
use kubesnap_shared::layout;
use kubesnap_shared::manifest::{Failure, FailureKind};
use kubesnap_shared::redact::Counts;

use crate::context::Context;
use crate::failures::CallError;
use crate::inventory::{ContainerInfo, Inventory, PodInfo};
use crate::redaction;
use crate::sink::{SinkClosed, Tally};

/// One log to fetch.
#[derive(Debug, Clone)]
struct LogRequest {
    namespace: String,
    pod: String,
    container: ContainerInfo,
    previous: bool,
}

/// Fetches every log the inventory calls for.
pub(crate) async fn run(ctx: &Arc<Context>, inventory: &Inventory) -> Result<(), SinkClosed> {
    if ctx.logs.bytes == 0 {
        return Ok(());
    }
    let mut requests = Vec::new();
    for pod in &inventory.pods {
        let Some(node) = &pod.node else { continue };
        if inventory.nodes_listed && inventory.node_ready(node) != Some(true) {
            ctx.sink.failure(node_failure(pod, node, inventory.node_ready(node).is_none())).await?;
            continue;
        }
        for container in &pod.containers {
            for previous in [false, true] {
                let wanted = if previous { container.has_previous } else { container.started };
                if wanted {
                    requests.push(LogRequest {
                        namespace: pod.namespace.clone(),
                        pod: pod.name.clone(),
                        container: container.clone(),
                        previous,
                    });
                }
            }
        }
    }

    let bar = ctx.progress.phase("logs", Some(requests.len() as u64));
    let n_requests = requests.len();
    let mut results = futures::stream::iter(requests)
        .map(|request| {
            let ctx = Arc::clone(ctx);
            tokio::spawn(async move { fetch(&ctx, &request).await })
        })
        .buffer_unordered(ctx.concurrency());
    let mut n_cancelled = 0;
    while let Some(joined) = results.next().await {
        bar.inc(1);
        match joined {
            Ok(Ok(Fetched::Done)) => {}
            Ok(Ok(Fetched::Cancelled)) => n_cancelled += 1,
            Ok(Err(closed)) => return Err(closed),
            Err(join_error) => tracing::error!("a log task failed: {join_error}"),
        }
    }
    if n_cancelled > 0 {
        let scope = format!("{n_cancelled} of {n_requests} container logs");
        ctx.sink.failure(CallError::Cancelled.to_failure("logs", &scope, None)).await?;
    }
    bar.finish_with_message("done");
    Ok(())
}

enum Fetched {
    Done,
    Cancelled,
}

async fn fetch(ctx: &Context, request: &LogRequest) -> Result<Fetched, SinkClosed> {
    let cap = ctx.logs.bytes;
    let base = format!(
        "/api/v1/namespaces/{}/pods/{}/log?container={}&timestamps=true{}{}",
        request.namespace,
        request.pod,
        request.container.name,
        if request.previous { "&previous=true" } else { "" },
        ctx.logs.since.map(|since| format!("&sinceSeconds={}", since.as_secs().max(1))).unwrap_or_default(),
    );
    let result = fetch_newest(ctx, &base, cap).await;
    let path =
        layout::container_log(&request.namespace, &request.pod, &request.container.name, request.previous);
    let (bytes, mut truncation) = match result {
        Ok(fetched) => fetched,
        Err(CallError::Cancelled) => return Ok(Fetched::Cancelled),
        Err(err) => {
            let what = if request.previous { "previous-logs" } else { "logs" };
            let scope = format!("{}/{}", request.pod, request.container.name);
            ctx.sink.failure(err.to_failure(what, &scope, Some(&request.namespace))).await?;
            return Ok(Fetched::Done);
        }
    };
    if truncation.is_none() {
        truncation = since_truncation(ctx, request);
    }
    let mut counts = Counts::default();
    let redacted = ctx.redaction.bytes(&bytes, &mut counts).into_owned();
    drop(bytes);
    ctx.sink.redactions(&path, redaction::pairs(&counts)).await?;
    match truncation {
        Some(why) => ctx.sink.add_truncated(path, redacted, why, Tally::Log).await?,
        None => ctx.sink.add(path, redacted, Tally::Log).await?,
    }
    Ok(Fetched::Done)
}

/// The newest `cap` bytes of a log, and the truncation note when the log was longer.
///
/// The API's `limitBytes` keeps the *oldest* bytes, while a support engineer needs the newest
/// (the crash is at the end). So: one request with `limitBytes=cap+1`; if the log fits, done.
/// If not, a second request with `tailLines` sized from the first answer's average line, and
/// only its last `cap` bytes (cut at a line start) are kept. Memory stays within `2 × cap`.
async fn fetch_newest(ctx: &Context, base: &str, cap: u64) -> Result<(Vec<u8>, Option<String>), CallError> {
    let head = ctx.gate.get_bytes(&format!("{base}&limitBytes={}", cap.saturating_add(1)), cap).await?;
    if head.len() as u64 <= cap {
        return Ok((head, None));
    }
    let n_lines = head.iter().filter(|&&b| b == b'\n').count().max(1) as u64;
    let average = (head.len() as u64 / n_lines).max(1);
    drop(head);
    // 20 % more lines than the cap holds on average, so the cap is filled.
    let tail_lines = (cap / average).saturating_mul(6) / 5 + 1;
    let tail = ctx.gate.get_bytes(&format!("{base}&tailLines={tail_lines}"), cap.saturating_mul(2)).await?;
    let kept = keep_newest(tail, cap);
    let why = format!("log-bytes: only the newest {} bytes were kept (--log-bytes {cap})", kept.len());
    Ok((kept, Some(why)))
}

/// The last `cap` bytes of `bytes`, starting at a line boundary when one is in reach.
fn keep_newest(mut bytes: Vec<u8>, cap: u64) -> Vec<u8> {
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    if bytes.len() <= cap {
        return bytes;
    }
    let mut start = bytes.len() - cap;
    if let Some(newline) = bytes[start..].iter().position(|&b| b == b'\n')
        && start + newline + 1 < bytes.len()
    {
        start += newline + 1;
    }
    bytes.drain(..start);
    bytes
}

/// A `--since` window that began after the run started means older lines were left out.
fn since_truncation(ctx: &Context, request: &LogRequest) -> Option<String> {
    let since = ctx.logs.since?;
    let started =
        if request.previous { request.container.previous_started_at } else { request.container.started_at };
    let window_start = ctx.started_at.checked_sub(jiff::SignedDuration::try_from(since).ok()?).ok()?;
    match started {
        Some(started) if started >= window_start => None,
        _ => Some(format!("since: only lines of the last {}s were requested (--since)", since.as_secs())),
    }
}

fn node_failure(pod: &PodInfo, node: &str, gone: bool) -> Failure {
    let state = if gone { "is gone" } else { "is not Ready" };
    Failure {
        what: "logs".to_owned(),
        scope: pod.name.clone(),
        namespace: Some(pod.namespace.clone()),
        kind: FailureKind::Unavailable,
        status: None,
        message: format!("node {node} {state}; its kubelet cannot serve logs, so none were requested"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_newest_cuts_at_a_line_start() {
        let log = b"line one\nline two\nline three\n".to_vec();
        assert_eq!(keep_newest(log.clone(), 100), log);
        assert_eq!(keep_newest(log.clone(), 14), b"line three\n");
        // No line boundary in reach: the raw last bytes.
        assert_eq!(keep_newest(b"abcdefghij".to_vec(), 4), b"ghij");
    }

    #[test]
    fn node_failures_say_why_no_request_was_made() {
        let pod = PodInfo {
            namespace: "ns".into(),
            name: "p".into(),
            node: Some("n1".into()),
            containers: Vec::new(),
        };
        let failure = node_failure(&pod, "n1", false);
        assert_eq!(failure.kind, FailureKind::Unavailable);
        assert!(failure.message.contains("node n1 is not Ready"));
        assert!(node_failure(&pod, "n1", true).message.contains("is gone"));
    }
}
