//! Diagnostics of the `logs` category, one per file; `ALL` is this category's part of the
//! registry, in report order.
//!
//! Besides the diagnostics, the category offers the incident view what is not a finding: the
//! log error timeline ([`windows::bursts`]) and the seed's "pods with most errors"
//! ([`patterns::pods_with_most_errors`]).

use super::Diagnostic;

pub(crate) mod database;
pub(crate) mod dependencies;
pub(crate) mod families;
pub(crate) mod hints;
pub(crate) mod level;
pub(crate) mod patterns;
pub(crate) mod recency;
pub(crate) mod sources;
pub(crate) mod windows;

pub(crate) mod cascading_failures;
pub(crate) mod log_error_patterns;
pub(crate) mod log_warning_patterns;

#[cfg(test)]
pub(crate) mod fixture;

pub(crate) const ALL: &[&Diagnostic] =
    &[&log_error_patterns::DIAGNOSTIC, &log_warning_patterns::DIAGNOSTIC, &cascading_failures::DIAGNOSTIC];
