//! Diagnostics of the `performance` category, one per file; `ALL` is this category's part of the
//! registry, in report order.
//!
//! The statistics and units they share live in `facts::performance`.

use super::Diagnostic;

pub(crate) mod against_limit;
pub(crate) mod autoscalers;
pub(crate) mod limit_ranges;
pub(crate) mod rightsize;

pub(crate) mod containers_without_requests_or_limits;
pub(crate) mod cpu_spikes;
pub(crate) mod cpu_usage_high;
pub(crate) mod hpa_at_max_replicas;
pub(crate) mod hpa_metrics_unavailable;
pub(crate) mod hpa_vpa_conflict;
pub(crate) mod limit_range_defaults;
pub(crate) mod memory_leak;
pub(crate) mod memory_usage_high;
pub(crate) mod node_resource_usage_high;
pub(crate) mod over_provisioned_requests;
pub(crate) mod resource_instability;
pub(crate) mod resource_quota_near_limit;
pub(crate) mod under_provisioned_requests;
pub(crate) mod vpa_recommendation_far_from_requests;

pub(crate) const ALL: &[&Diagnostic] = &[
    &cpu_usage_high::DIAGNOSTIC,
    &memory_usage_high::DIAGNOSTIC,
    &memory_leak::DIAGNOSTIC,
    &resource_instability::DIAGNOSTIC,
    &cpu_spikes::DIAGNOSTIC,
    &under_provisioned_requests::DIAGNOSTIC,
    &over_provisioned_requests::DIAGNOSTIC,
    &containers_without_requests_or_limits::DIAGNOSTIC,
    &limit_range_defaults::DIAGNOSTIC,
    &resource_quota_near_limit::DIAGNOSTIC,
    &node_resource_usage_high::DIAGNOSTIC,
    &hpa_at_max_replicas::DIAGNOSTIC,
    &hpa_metrics_unavailable::DIAGNOSTIC,
    &vpa_recommendation_far_from_requests::DIAGNOSTIC,
    &hpa_vpa_conflict::DIAGNOSTIC,
];
