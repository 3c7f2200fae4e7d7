//! The one door to the API server: every request waits for a concurrency permit (`--concurrency`)
//! and a token of the rate limit (`--qps`/`--burst`), runs under the per-request timeout, stops
//! at once when the collection is cancelled, and retries a 429 after the delay the server asks.

use std::num::NonZeroU32;
use std::time::Duration;

use futures::AsyncReadExt;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::failures::CallError;

/// How many times a throttled (429) request is tried in all.
const ATTEMPTS_ON_429: u32 = 4;

/// A kube client behind the collection's limits.
pub(crate) struct ApiGate {
    client: kube::Client,
    permits: Semaphore,
    limiter: DefaultDirectRateLimiter,
    timeout: Duration,
    cancel: CancellationToken,
}

/// The limits an [`ApiGate`] enforces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) concurrency: u32,
    pub(crate) qps: u32,
    pub(crate) burst: u32,
    pub(crate) timeout: Duration,
}

impl ApiGate {
    pub(crate) fn new(client: kube::Client, limits: Limits, cancel: CancellationToken) -> Self {
        let qps = NonZeroU32::new(limits.qps).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limits.burst).unwrap_or(qps);
        ApiGate {
            client,
            permits: Semaphore::new(usize::try_from(limits.concurrency.max(1)).unwrap_or(1)),
            limiter: RateLimiter::direct(Quota::per_second(qps).allow_burst(burst)),
            timeout: limits.timeout,
            cancel,
        }
    }

    /// The underlying client, for the long-running watch (which is not a bounded request and
    /// so neither holds a permit nor times out).
    pub(crate) fn client(&self) -> &kube::Client {
        &self.client
    }

    /// The token that cancels the collection.
    pub(crate) fn cancel(&self) -> &CancellationToken {
        &self.cancel
    }

    /// GETs `uri` (path and query) and returns the body as text.
    pub(crate) async fn get_text(&self, uri: &str) -> Result<String, CallError> {
        self.with_retries(uri, |request| async move {
            self.client.request_text(request).await.map_err(CallError::from)
        })
        .await
    }

    /// GETs `uri` and parses the body as JSON.
    pub(crate) async fn get_json(&self, uri: &str) -> Result<serde_json::Value, CallError> {
        let text = self.get_text(uri).await?;
        serde_json::from_str(&text).map_err(|err| CallError::Decode(err.to_string()))
    }

    /// GETs `uri` and reads at most `cap + 1` bytes of the body, so that the caller can tell
    /// a body that fits the cap from one that was cut. Bytes are kept as they are (a log need
    /// not be UTF-8).
    pub(crate) async fn get_bytes(&self, uri: &str, cap: u64) -> Result<Vec<u8>, CallError> {
        self.with_retries(uri, |request| async move {
            let body = self.client.request_stream(request).await?;
            let mut bytes = Vec::new();
            body.take(cap.saturating_add(1))
                .read_to_end(&mut bytes)
                .await
                .map_err(|err| CallError::Kube(kube::Error::ReadEvents(err)))?;
            Ok(bytes)
        })
        .await
    }

    async fn with_retries<T, F, Fut>(&self, uri: &str, call: F) -> Result<T, CallError>
    where
        F: Fn(http::Request<Vec<u8>>) -> Fut,
        Fut: Future<Output = Result<T, CallError>>,
    {
        let mut attempt = 1;
        loop {
            let request = http::Request::get(uri)
                .body(Vec::new())
                .map_err(|err| CallError::Kube(kube::Error::HttpError(err)))?;
            let result = self.once(call(request)).await;
            match result {
                Err(err) if attempt < ATTEMPTS_ON_429 && err.status() == Some(429) => {
                    let pause = err.retry_after().unwrap_or(Duration::from_secs(1));
                    tracing::debug!(uri, attempt, ?pause, "throttled by the server; retrying");
                    tokio::select! {
                        () = self.cancel.cancelled() => return Err(CallError::Cancelled),
                        () = tokio::time::sleep(pause) => {}
                    }
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// One request under a permit, a rate-limit token, the timeout and the cancellation.
    async fn once<T>(&self, call: impl Future<Output = Result<T, CallError>>) -> Result<T, CallError> {
        let gated = async {
            let _permit = self.permits.acquire().await.map_err(|_| CallError::Cancelled)?;
            self.limiter.until_ready().await;
            match tokio::time::timeout(self.timeout, call).await {
                Ok(result) => result,
                Err(_) => Err(CallError::Timeout(self.timeout)),
            }
        };
        tokio::select! {
            () = self.cancel.cancelled() => Err(CallError::Cancelled),
            result = gated => result,
        }
    }
}

impl std::fmt::Debug for ApiGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiGate")
            .field("timeout", &self.timeout)
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}
