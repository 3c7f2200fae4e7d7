//! Diagnostics of the `alerts` category, one per file; `ALL` is this category's part of the
//! registry, in report order.
//!
//! Each is one of the Prometheus alert rules evaluated over the bundle as Prometheus
//! would have over the same window; `facts::alerts::rule` holds the `for:` evaluation they
//! share and `access_log` reads ingress-nginx access lines.

use super::Diagnostic;

pub(crate) mod access_log;

pub(crate) mod application_down;
pub(crate) mod high_error_rate;
pub(crate) mod high_memory_usage;
pub(crate) mod kubernetes_pod_crash_looping;
pub(crate) mod metric_rate_anomaly;
pub(crate) mod persistent_volume_usage_high;

pub(crate) const ALL: &[&Diagnostic] = &[
    &application_down::DIAGNOSTIC,
    &high_memory_usage::DIAGNOSTIC,
    &high_error_rate::DIAGNOSTIC,
    &persistent_volume_usage_high::DIAGNOSTIC,
    &kubernetes_pod_crash_looping::DIAGNOSTIC,
    &metric_rate_anomaly::DIAGNOSTIC,
];
