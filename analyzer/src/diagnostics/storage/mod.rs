//! Diagnostics of the `storage` category, one per file; `ALL` is this category's part of the
//! registry, in report order.

use super::Diagnostic;

pub(crate) mod classes;

pub(crate) mod csi_driver_pods_unhealthy;
pub(crate) mod default_storage_class;
pub(crate) mod ephemeral_storage_pressure;
pub(crate) mod pv_released_or_failed;
pub(crate) mod pvc_pending;
pub(crate) mod volume_mount_failures;
pub(crate) mod volume_snapshot_failed;
pub(crate) mod volume_usage_high;

pub(crate) const ALL: &[&Diagnostic] = &[
    &pvc_pending::DIAGNOSTIC,
    &pv_released_or_failed::DIAGNOSTIC,
    &default_storage_class::DIAGNOSTIC,
    &csi_driver_pods_unhealthy::DIAGNOSTIC,
    &volume_mount_failures::DIAGNOSTIC,
    &volume_usage_high::DIAGNOSTIC,
    &ephemeral_storage_pressure::DIAGNOSTIC,
    &volume_snapshot_failed::DIAGNOSTIC,
];
