//! Diagnostics of the `pods` category, one per file; `ALL` is this category's part of the
//! registry, in report order.

use super::Diagnostic;

pub(crate) mod crash_loop_backoff;
pub(crate) mod create_container_config_error;
pub(crate) mod image_pull_backoff;
pub(crate) mod oom_killed;
pub(crate) mod pod_evicted;
pub(crate) mod pod_not_ready;
pub(crate) mod pod_pending_unschedulable;
pub(crate) mod pod_restarts;
pub(crate) mod pod_stuck_terminating;

pub(crate) const ALL: &[&Diagnostic] = &[
    &crash_loop_backoff::DIAGNOSTIC,
    &oom_killed::DIAGNOSTIC,
    &image_pull_backoff::DIAGNOSTIC,
    &create_container_config_error::DIAGNOSTIC,
    &pod_pending_unschedulable::DIAGNOSTIC,
    &pod_evicted::DIAGNOSTIC,
    &pod_not_ready::DIAGNOSTIC,
    &pod_restarts::DIAGNOSTIC,
    &pod_stuck_terminating::DIAGNOSTIC,
];
