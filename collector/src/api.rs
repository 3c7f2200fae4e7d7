//! The one door to the API server: every request waits for a token of its rate limit and a
//! concurrency permit (`--concurrency`, shared by all), runs under the per-request timeout,
//! stops at once when the collection is cancelled, and retries a 429 after the delay the
//! server asks.
//!
//! There are two rate limits ([`Budget`]). Requests the API server answers itself (discovery,
//! lists, metrics) draw on `--qps`/`--burst`. Requests it proxies to a kubelet (container logs,
//! `nodes/<node>/proxy/stats/summary`) draw on `--log-qps`: they read no etcd, the server
//! counts them as long-running (outside its max-in-flight and priority-and-fairness limits),
//! and there are thousands of them (one or two per container), so under the list budget they
//! alone would take minutes on a large cluster.

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
    limiters: Limiters,
    timeout: Duration,
    cancel: CancellationToken,
}

/// The limits an [`ApiGate`] enforces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) concurrency: u32,
    pub(crate) qps: u32,
    pub(crate) burst: u32,
    /// Requests per second proxied to kubelets; bursts of one second's worth.
    pub(crate) log_qps: u32,
    pub(crate) timeout: Duration,
}

/// Which rate limit a request draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Budget {
    /// Requests the API server answers itself, from its cache or etcd: `--qps`/`--burst`.
    Api,
    /// Requests the API server proxies to a node's kubelet: `--log-qps`.
    Kubelet,
}

impl Budget {
    /// The budget of a request, from its path: a pod's `log` subresource and a node's `proxy`
    /// are served by the kubelet; every other path by the API server.
    pub(crate) fn of(uri: &str) -> Budget {
        let path = uri.split_once('?').map_or(uri, |(path, _)| path);
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match segments.as_slice() {
            ["api", "v1", "namespaces", _, "pods", _, "log"] | ["api", "v1", "nodes", _, "proxy", ..] => {
                Budget::Kubelet
            }
            _ => Budget::Api,
        }
    }
}

/// One GCRA limiter per [`Budget`], so that one budget running dry never delays the other.
struct Limiters {
    api: DefaultDirectRateLimiter,
    kubelet: DefaultDirectRateLimiter,
}

impl Limiters {
    fn new(api: Quota, kubelet: Quota) -> Self {
        Limiters { api: RateLimiter::direct(api), kubelet: RateLimiter::direct(kubelet) }
    }

    fn of(&self, budget: Budget) -> &DefaultDirectRateLimiter {
        match budget {
            Budget::Api => &self.api,
            Budget::Kubelet => &self.kubelet,
        }
    }
}

impl ApiGate {
    pub(crate) fn new(client: kube::Client, limits: Limits, cancel: CancellationToken) -> Self {
        let qps = NonZeroU32::new(limits.qps).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limits.burst).unwrap_or(qps);
        let log_qps = NonZeroU32::new(limits.log_qps).unwrap_or(NonZeroU32::MIN);
        ApiGate {
            client,
            permits: Semaphore::new(usize::try_from(limits.concurrency.max(1)).unwrap_or(1)),
            limiters: Limiters::new(Quota::per_second(qps).allow_burst(burst), Quota::per_second(log_qps)),
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
        let budget = Budget::of(uri);
        let mut attempt = 1;
        loop {
            let request = http::Request::get(uri)
                .body(Vec::new())
                .map_err(|err| CallError::Kube(kube::Error::HttpError(err)))?;
            let result = self.once(budget, call(request)).await;
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

    /// One request under a token of its budget, a permit, the timeout and the cancellation.
    async fn once<T>(
        &self,
        budget: Budget,
        call: impl Future<Output = Result<T, CallError>>,
    ) -> Result<T, CallError> {
        let gated = async {
            // The token before the permit: a request waiting for its own budget holds no
            // permit, so the metrics sampler throttled by --qps cannot hold back log requests.
            self.limiters.of(budget).until_ready().await;
            let _permit = self.permits.acquire().await.map_err(|_| CallError::Cancelled)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_and_node_proxy_draw_on_the_kubelet_budget() {
        for uri in [
            "/api/v1/namespaces/shop/pods/web-0/log?container=nginx&timestamps=true&limitBytes=2097153",
            "/api/v1/namespaces/shop/pods/web-0/log",
            "/api/v1/nodes/node-1/proxy/stats/summary",
        ] {
            assert_eq!(Budget::of(uri), Budget::Kubelet, "{uri}");
        }
        for uri in [
            "/api/v1/pods?limit=500",
            "/api/v1/namespaces/shop/pods?limit=500&continue=abc",
            // A pod named `log` is an object, not its log.
            "/api/v1/namespaces/shop/pods/log",
            "/api/v1/nodes",
            "/apis/metrics.k8s.io/v1beta1/pods",
            "/apis/apps/v1/namespaces/log/deployments",
            "/version",
        ] {
            assert_eq!(Budget::of(uri), Budget::Api, "{uri}");
        }
    }

    #[test]
    fn a_spent_budget_leaves_the_other_untouched() {
        let hourly = |n| Quota::per_hour(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        let limiters = Limiters::new(hourly(2), hourly(5));
        // Spend the API budget: the kubelet budget still has all of its tokens.
        assert!(limiters.of(Budget::Api).check().is_ok());
        assert!(limiters.of(Budget::Api).check().is_ok());
        assert!(limiters.of(Budget::Api).check().is_err(), "the API budget should be spent");
        for n in 1..=5 {
            assert!(limiters.of(Budget::Kubelet).check().is_ok(), "kubelet token {n}");
        }
        // And the other way round: spending the kubelet budget gave no API token back.
        assert!(limiters.of(Budget::Kubelet).check().is_err(), "the kubelet budget should be spent");
        assert!(limiters.of(Budget::Api).check().is_err());
    }
}
