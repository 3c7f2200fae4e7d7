//! Diagnostics of the `security` category, one per file; `ALL` is this category's part of the
//! registry, in report order.

use super::Diagnostic;

pub(crate) mod container_runs_as_root;
pub(crate) mod host_namespaces;
pub(crate) mod plaintext_credential_in_env;
pub(crate) mod privilege_escalation_allowed;
pub(crate) mod privileged_container;
pub(crate) mod writable_root_filesystem;

pub(crate) const ALL: &[&Diagnostic] = &[
    &plaintext_credential_in_env::DIAGNOSTIC,
    &privileged_container::DIAGNOSTIC,
    &host_namespaces::DIAGNOSTIC,
    &container_runs_as_root::DIAGNOSTIC,
    &privilege_escalation_allowed::DIAGNOSTIC,
    &writable_root_filesystem::DIAGNOSTIC,
];
