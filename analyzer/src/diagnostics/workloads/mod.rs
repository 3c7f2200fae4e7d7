//! Diagnostics of the `workloads` category, one per file; `ALL` is this category's part of the
//! registry, in report order.

use super::Diagnostic;

pub(crate) mod cronjob_failing;
pub(crate) mod daemonset_pods_unavailable;
pub(crate) mod deployment_replicas_unavailable;
pub(crate) mod deployment_rollout_stuck;
pub(crate) mod job_failed;
pub(crate) mod statefulset_replicas_unavailable;

pub(crate) const ALL: &[&Diagnostic] = &[
    &deployment_replicas_unavailable::DIAGNOSTIC,
    &deployment_rollout_stuck::DIAGNOSTIC,
    &statefulset_replicas_unavailable::DIAGNOSTIC,
    &daemonset_pods_unavailable::DIAGNOSTIC,
    &job_failed::DIAGNOSTIC,
    &cronjob_failing::DIAGNOSTIC,
];
