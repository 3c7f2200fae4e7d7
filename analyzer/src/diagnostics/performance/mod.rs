//! Diagnostics of the `performance` category, one per file; `ALL` is this category's part of the
//! registry, in report order.
//!
//! `usage` joins each container's metric samples with its requests and limits (and gives the
//! report its per-container statistics and top consumers); `units` writes the numbers and the
//! resource commands the findings carry.

use super::Diagnostic;

#[cfg(test)]
pub(crate) mod fixture;
pub(crate) mod against_limit;
pub(crate) mod autoscalers;
pub(crate) mod units;
pub(crate) mod usage;

pub(crate) mod cpu_usage_high;
pub(crate) mod hpa_at_max_replicas;
pub(crate) mod hpa_metrics_unavailable;
pub(crate) mod memory_leak;
pub(crate) mod memory_usage_high;

pub(crate) const ALL: &[&Diagnostic] = &[
    &cpu_usage_high::DIAGNOSTIC,
    &memory_usage_high::DIAGNOSTIC,
    &memory_leak::DIAGNOSTIC,
    &hpa_at_max_replicas::DIAGNOSTIC,
    &hpa_metrics_unavailable::DIAGNOSTIC,
];
