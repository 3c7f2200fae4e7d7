//! Diagnostics of the `network` category, one per file; `ALL` is this category's part of the
//! registry, in report order.

use super::Diagnostic;

pub(crate) mod cni_pods_unhealthy;
pub(crate) mod coredns_unhealthy;
pub(crate) mod ingress_backend_missing;
pub(crate) mod ingress_tls_secret_missing;
pub(crate) mod loadbalancer_pending;
pub(crate) mod network_policy_isolation;
pub(crate) mod service_selector_matches_nothing;
pub(crate) mod service_target_port_mismatch;
pub(crate) mod service_without_endpoints;
pub(crate) mod webhook_service_unavailable;

pub(crate) const ALL: &[&Diagnostic] = &[
    &service_without_endpoints::DIAGNOSTIC,
    &service_selector_matches_nothing::DIAGNOSTIC,
    &service_target_port_mismatch::DIAGNOSTIC,
    &ingress_backend_missing::DIAGNOSTIC,
    &ingress_tls_secret_missing::DIAGNOSTIC,
    &loadbalancer_pending::DIAGNOSTIC,
    &network_policy_isolation::DIAGNOSTIC,
    &coredns_unhealthy::DIAGNOSTIC,
    &cni_pods_unhealthy::DIAGNOSTIC,
    &webhook_service_unavailable::DIAGNOSTIC,
];
