//! The collector's [`Context`]: what every phase of one collection shares, made once in
//! `lib.rs` from the command line and the connection and handed to each phase behind an `Arc`.
//!
//! It holds the API gate (the kube client behind the request limits, the per-request timeout
//! and the run's cancellation), the sink (the bounded channel to the writer thread), the
//! redaction rules, the namespaces in [`Scope`], the progress display, the log and metrics
//! options ([`LogOptions`], [`MetricsOptions`]), how many units of work run at once, and when
//! the collection started. Nothing in it changes during a run: the gate and the sink are
//! handles to what does.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::api::ApiGate;
use crate::progress::Progress;
use crate::redaction::Redaction;
use crate::sink::Sink;

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
