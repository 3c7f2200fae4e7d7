//! Diagnostics of the `cluster` category, one per file; `ALL` is this category's part of the
//! registry, in report order.

use super::Diagnostic;

pub(crate) mod certificate_expiring;
pub(crate) mod cluster_too_small_for_tests;
pub(crate) mod deprecated_api_versions;
pub(crate) mod operator_install_failed;
pub(crate) mod resource_condition_not_ready;
pub(crate) mod test_plugin_failed;

pub(crate) const ALL: &[&Diagnostic] = &[
    &deprecated_api_versions::DIAGNOSTIC,
    &certificate_expiring::DIAGNOSTIC,
    &resource_condition_not_ready::DIAGNOSTIC,
    &operator_install_failed::DIAGNOSTIC,
    &test_plugin_failed::DIAGNOSTIC,
    &cluster_too_small_for_tests::DIAGNOSTIC,
];
