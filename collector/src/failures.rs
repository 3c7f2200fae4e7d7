//! Why a request failed, as the manifest records it: a kube-rs error, a timeout or a
//! cancellation becomes a [`FailureKind`], the HTTP status and a readable message.

use std::fmt;
use std::time::Duration;

use kubesnap_shared::manifest::{Failure, FailureKind};

/// Everything that can go wrong with one API call.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The client or the server said no.
    Kube(kube::Error),
    /// The per-request timeout elapsed.
    Timeout(Duration),
    /// The collection is being cut short (deadline, Ctrl-C).
    Cancelled,
    /// The answer arrived but is not what the API promises (not JSON, say).
    Decode(String),
}

impl From<kube::Error> for CallError {
    fn from(err: kube::Error) -> Self {
        CallError::Kube(err)
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Kube(kube::Error::Api(status)) => {
                let message = status.message.trim();
                match (status.code, status.reason.is_empty()) {
                    (0, _) => write!(f, "{message}"),
                    (code, true) => write!(f, "HTTP {code}: {message}"),
                    (code, false) => write!(f, "HTTP {code} {}: {message}", status.reason),
                }
            }
            CallError::Kube(err) => write!(f, "{}", chain(err)),
            CallError::Timeout(after) => write!(f, "no answer within {}s", after.as_secs_f64()),
            CallError::Cancelled => f.write_str("the collection was cut short before this finished"),
            CallError::Decode(message) => write!(f, "the answer could not be decoded: {message}"),
        }
    }
}

impl CallError {
    /// The HTTP status of the answer, when there was one.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            CallError::Kube(kube::Error::Api(status)) if status.code != 0 => Some(status.code),
            _ => None,
        }
    }

    /// How the manifest classifies this failure.
    pub(crate) fn kind(&self) -> FailureKind {
        match self {
            CallError::Kube(kube::Error::Api(status)) => kind_of_status(status.code),
            CallError::Kube(kube::Error::HyperError(_) | kube::Error::Service(_)) => {
                // tower and hyper-util wrap connect and read timeouts in opaque errors; their
                // text is the only place that tells a timeout from a refused connection.
                let text = chain(self.kube_error_ref()).to_ascii_lowercase();
                if text.contains("timed out") || text.contains("elapsed") || text.contains("timeout") {
                    FailureKind::Timeout
                } else {
                    FailureKind::Connection
                }
            }
            CallError::Kube(kube::Error::Auth(_)) => FailureKind::Unauthorized,
            CallError::Kube(kube::Error::SerdeError(_) | kube::Error::FromUtf8(_)) => FailureKind::Decode,
            CallError::Kube(_) => FailureKind::Other,
            CallError::Timeout(_) => FailureKind::Timeout,
            CallError::Cancelled => FailureKind::Cancelled,
            CallError::Decode(_) => FailureKind::Decode,
        }
    }

    /// How long the server asked us to wait before retrying (429 and some 503s carry
    /// `details.retryAfterSeconds`).
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            CallError::Kube(kube::Error::Api(status)) if matches!(status.code, 429 | 503) => {
                let seconds = status.details.as_ref().map_or(0, |details| details.retry_after_seconds);
                // A 429 without a hint still deserves one retry after a short pause.
                Some(Duration::from_secs(u64::from(seconds.clamp(1, 30))))
            }
            _ => None,
        }
    }

    /// Whether this is the 410 Gone of an expired `continue` token or `resourceVersion`.
    pub(crate) fn is_gone(&self) -> bool {
        self.status() == Some(410)
    }

    /// The manifest record of this failure.
    pub(crate) fn to_failure(&self, what: &str, scope: &str, namespace: Option<&str>) -> Failure {
        Failure {
            what: what.to_owned(),
            scope: scope.to_owned(),
            namespace: namespace.map(str::to_owned),
            kind: self.kind(),
            status: self.status(),
            message: self.to_string(),
        }
    }

    fn kube_error_ref(&self) -> &dyn std::error::Error {
        match self {
            CallError::Kube(err) => err,
            // Only called from the `Kube` arm of `kind`.
            other => other,
        }
    }
}

impl std::error::Error for CallError {}

/// Maps an HTTP status to the manifest's kind.
pub(crate) fn kind_of_status(code: u16) -> FailureKind {
    match code {
        401 => FailureKind::Unauthorized,
        403 => FailureKind::Forbidden,
        404 => FailureKind::NotFound,
        405 => FailureKind::MethodNotAllowed,
        410 => FailureKind::Gone,
        429 => FailureKind::TooManyRequests,
        // The aggregator answers 503 when an APIService's backend is down.
        503 => FailureKind::Unavailable,
        504 => FailureKind::Timeout,
        500..=599 => FailureKind::ServerError,
        _ => FailureKind::Other,
    }
}

/// An error and its sources on one line, each cause once (kube's own messages repeat their
/// source, so a cause already contained in the text is skipped).
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use kube::core::Status;

    use super::*;

    fn api_error(code: u16, reason: &str, message: &str) -> CallError {
        let mut status = Status::failure(message, reason).with_code(code);
        if code == 429 {
            status.details = serde_json::from_value(serde_json::json!({"retryAfterSeconds": 7})).ok();
        }
        CallError::Kube(kube::Error::Api(status.boxed()))
    }

    #[test]
    fn http_statuses_map_to_kinds() {
        let cases = [
            (401, FailureKind::Unauthorized),
            (403, FailureKind::Forbidden),
            (404, FailureKind::NotFound),
            (405, FailureKind::MethodNotAllowed),
            (410, FailureKind::Gone),
            (429, FailureKind::TooManyRequests),
            (500, FailureKind::ServerError),
            (502, FailureKind::ServerError),
            (503, FailureKind::Unavailable),
            (504, FailureKind::Timeout),
            (418, FailureKind::Other),
        ];
        for (code, kind) in cases {
            let err = api_error(code, "Whatever", "no");
            assert_eq!((code, err.kind()), (code, kind));
            assert_eq!(err.status(), Some(code));
        }
    }

    #[test]
    fn forbidden_failure_names_what_and_why() {
        let err = api_error(
            403,
            "Forbidden",
            "secrets is forbidden: User \"system:serviceaccount:x:y\" cannot list resource \"secrets\"",
        );
        let failure = err.to_failure("list", "v1/secrets", Some("team-a"));
        assert_eq!(failure.kind, FailureKind::Forbidden);
        assert_eq!(failure.status, Some(403));
        assert_eq!(failure.namespace.as_deref(), Some("team-a"));
        assert!(
            failure.message.starts_with("HTTP 403 Forbidden: secrets is forbidden"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn retry_after_comes_from_429_details_and_is_bounded() {
        assert_eq!(
            api_error(429, "TooManyRequests", "slow down").retry_after(),
            Some(Duration::from_secs(7))
        );
        assert_eq!(api_error(503, "ServiceUnavailable", "down").retry_after(), Some(Duration::from_secs(1)));
        assert_eq!(api_error(403, "Forbidden", "no").retry_after(), None);
        assert!(api_error(410, "Expired", "too old").is_gone());
    }

    #[test]
    fn client_side_conditions_have_their_own_kinds() {
        assert_eq!(CallError::Timeout(Duration::from_secs(30)).kind(), FailureKind::Timeout);
        assert_eq!(CallError::Timeout(Duration::from_secs(30)).to_string(), "no answer within 30s");
        assert_eq!(CallError::Cancelled.kind(), FailureKind::Cancelled);
        assert_eq!(CallError::Decode("eof".into()).kind(), FailureKind::Decode);
        assert_eq!(CallError::Timeout(Duration::from_secs(1)).status(), None);
    }
}
