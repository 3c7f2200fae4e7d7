//! Diagnostics of the `nodes` category, one per file; `ALL` is this category's part of the
//! registry, in report order.

use super::Diagnostic;

pub(crate) mod etcd_unhealthy;
pub(crate) mod kubelet_version_skew;
pub(crate) mod node_cordoned;
pub(crate) mod node_log_problems;
pub(crate) mod node_not_ready;
pub(crate) mod node_overcommitted;
pub(crate) mod node_pressure;
pub(crate) mod node_restarted;

pub(crate) const ALL: &[&Diagnostic] = &[
    &node_not_ready::DIAGNOSTIC,
    &etcd_unhealthy::DIAGNOSTIC,
    &node_log_problems::DIAGNOSTIC,
    &node_pressure::DIAGNOSTIC,
    &node_cordoned::DIAGNOSTIC,
    &kubelet_version_skew::DIAGNOSTIC,
    &node_overcommitted::DIAGNOSTIC,
    &node_restarted::DIAGNOSTIC,
];
