//! The events watch: runs from discovery to the end of the collection so that events arriving
//! meanwhile are kept (events expire after an hour, and an incident's newest ones matter most).
//! The lists of core/v1 and events.k8s.io events are taken by the resources phase like any
//! other resource; this phase writes `events/watched.jsonl`, one
//! `{"type": "ADDED|MODIFIED|DELETED", "object": {...}}` per line in arrival order.
//!
//! The watch is re-established when the server closes it, and restarted from a fresh
//! `resourceVersion` after a 410 Gone.

use std::time::Duration;

use futures::StreamExt;
use kube::core::WatchEvent;
use kubesnap_shared::layout;
use kubesnap_shared::manifest::Failure;
use kubesnap_shared::redact::Counts;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::context::Context;
use crate::failures::CallError;
use crate::redaction;
use crate::sink::{SinkClosed, Tally};

/// Watched events kept at most, in bytes; an event storm beyond it is recorded as truncation.
const MAX_BYTES: usize = 64 << 20;
/// How long the server keeps one watch open before we re-establish it.
const WATCH_SECONDS: u32 = 240;

/// Watches until `stop` fires, then queues `events/watched.jsonl`.
pub(crate) async fn watch(ctx: &Context, stop: CancellationToken) -> Result<(), SinkClosed> {
    let paths: Vec<(String, Option<String>)> = if ctx.scope.namespaces.is_empty() {
        vec![("/api/v1/events".to_owned(), None)]
    } else {
        ctx.scope
            .namespaces
            .iter()
            .map(|ns| (format!("/api/v1/namespaces/{ns}/events"), Some(ns.clone())))
            .collect()
    };
    let watches = paths.iter().map(|(path, namespace)| watch_one(ctx, path, namespace.as_deref(), &stop));
    let mut watched = Watched::default();
    for one in futures::future::join_all(watches).await {
        watched.lines.extend_from_slice(&one.lines);
        watched.n_events += one.n_events;
        watched.truncated |= one.truncated;
        watched.counts.merge(&one.counts);
        for failure in one.failures {
            ctx.sink.failure(failure).await?;
        }
    }
    let path = layout::WATCHED_EVENTS.to_owned();
    ctx.sink.redactions(&path, redaction::pairs(&watched.counts)).await?;
    tracing::info!(n_events = watched.n_events, "events watch ended");
    if watched.truncated {
        let why = format!("watched events beyond {MAX_BYTES} bytes were dropped");
        ctx.sink.add_truncated(path, watched.lines, why, Tally::Other).await
    } else {
        ctx.sink.add(path, watched.lines, Tally::Other).await
    }
}

#[derive(Debug, Default)]
struct Watched {
    lines: Vec<u8>,
    n_events: u64,
    truncated: bool,
    counts: Counts,
    failures: Vec<Failure>,
    failed_with: Vec<String>,
}

impl Watched {
    fn push(&mut self, ctx: &Context, kind: &str, mut object: Value) {
        if object["metadata"]["namespace"].as_str().is_some_and(|ns| ctx.scope.excludes(ns)) {
            return;
        }
        if self.lines.len() >= MAX_BYTES {
            self.truncated = true;
            return;
        }
        if let Some(Value::Object(metadata)) = object.get_mut("metadata") {
            metadata.remove("managedFields");
        }
        ctx.redaction.object(&mut object, &mut self.counts);
        let _ = serde_json::to_writer(&mut self.lines, &json!({"type": kind, "object": object}));
        self.lines.push(b'\n');
        self.n_events += 1;
    }

    fn fail(&mut self, err: &CallError, path: &str, namespace: Option<&str>) {
        let message = err.to_string();
        if !self.failed_with.contains(&message) {
            self.failed_with.push(message);
            self.failures.push(err.to_failure("watch", path, namespace));
        }
    }
}

async fn watch_one(ctx: &Context, path: &str, namespace: Option<&str>, stop: &CancellationToken) -> Watched {
    let mut watched = Watched::default();
    let mut resource_version: Option<String> = None;
    while !stop.is_cancelled() {
        let version = match &resource_version {
            Some(version) => version.clone(),
            None => match ctx.gate.get_json(&format!("{path}?limit=1")).await {
                Ok(list) => list["metadata"]["resourceVersion"].as_str().unwrap_or("0").to_owned(),
                Err(CallError::Cancelled) => break,
                Err(err) => {
                    watched.fail(&err, path, namespace);
                    pause(stop).await;
                    continue;
                }
            },
        };
        resource_version = Some(version.clone());
        let uri = format!(
            "{path}?watch=true&resourceVersion={version}&allowWatchBookmarks=true&timeoutSeconds={WATCH_SECONDS}"
        );
        let request = match http::Request::get(&uri).body(Vec::new()) {
            Ok(request) => request,
            Err(err) => {
                watched.fail(&CallError::Kube(kube::Error::HttpError(err)), path, namespace);
                break;
            }
        };
        let stream = tokio::select! {
            () = stop.cancelled() => break,
            stream = ctx.gate.client().request_events::<Value>(request) => stream,
        };
        let stream = match stream {
            Ok(stream) => stream,
            Err(err) => {
                watched.fail(&CallError::Kube(err), path, namespace);
                pause(stop).await;
                continue;
            }
        };
        let mut stream = std::pin::pin!(stream);
        loop {
            let next: Option<Result<WatchEvent<Value>, kube::Error>> = tokio::select! {
                () = stop.cancelled() => break,
                next = stream.next() => next,
            };
            let (kind, object) = match next {
                // The server ended this watch (timeoutSeconds): watch again from where we are.
                None => break,
                Some(Ok(WatchEvent::Added(object))) => ("ADDED", object),
                Some(Ok(WatchEvent::Modified(object))) => ("MODIFIED", object),
                Some(Ok(WatchEvent::Deleted(object))) => ("DELETED", object),
                Some(Ok(WatchEvent::Bookmark(bookmark))) => {
                    resource_version = Some(bookmark.metadata.resource_version);
                    continue;
                }
                Some(Ok(WatchEvent::Error(status))) => {
                    if status.code == 410 {
                        // Our resourceVersion is too old: start again from now.
                        resource_version = None;
                    } else {
                        watched.fail(&CallError::Kube(kube::Error::Api(status)), path, namespace);
                        pause(stop).await;
                    }
                    break;
                }
                Some(Err(err)) => {
                    watched.fail(&CallError::Kube(err), path, namespace);
                    pause(stop).await;
                    break;
                }
            };
            if let Some(version) = object["metadata"]["resourceVersion"].as_str() {
                resource_version = Some(version.to_owned());
            }
            watched.push(ctx, kind, object);
        }
    }
    watched
}

/// A short pause before retrying a failed watch, cut short by `stop`.
async fn pause(stop: &CancellationToken) {
    tokio::select! {
        () = stop.cancelled() => {}
        () = tokio::time::sleep(Duration::from_secs(2)) => {}
    }
}
