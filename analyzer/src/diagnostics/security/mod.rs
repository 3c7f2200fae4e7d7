//! Diagnostics of the `security` category, one per file; `ALL` is this category's part of the
//! registry, in report order.

use super::Diagnostic;

pub(crate) mod container_hardening;
pub(crate) mod credential_in_configmap;
pub(crate) mod credentials;
pub(crate) mod host_namespaces;
pub(crate) mod plaintext_credential_in_env;
pub(crate) mod platform_host_access;
pub(crate) mod privileged_container;

pub(crate) const ALL: &[&Diagnostic] = &[
    &plaintext_credential_in_env::DIAGNOSTIC,
    &credential_in_configmap::DIAGNOSTIC,
    &privileged_container::DIAGNOSTIC,
    &host_namespaces::DIAGNOSTIC,
    &container_hardening::DIAGNOSTIC,
    &platform_host_access::DIAGNOSTIC,
];

/// Codes of diagnostics merged into another one, with the code that replaced them:
/// `--only`/`--skip` still accept the old names.
pub(crate) const RENAMED: &[(&str, &str)] = &[
    ("container-runs-as-root", "container-hardening"),
    ("privilege-escalation-allowed", "container-hardening"),
    ("writable-root-filesystem", "container-hardening"),
];
