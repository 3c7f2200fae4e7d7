//! Diagnostics of the `logs` category, one per file; `ALL` is this category's part of the
//! registry, in report order.
//!
//! What they share (families, sources, windows, hits) lives in `facts::logs`, which also gives
//! the incident view the log error timeline and the "pods with most errors".

use super::Diagnostic;

pub(crate) mod family_finding;

pub(crate) mod cascading_failures;
pub(crate) mod log_error_patterns;
pub(crate) mod log_warning_patterns;

pub(crate) const ALL: &[&Diagnostic] =
    &[&log_error_patterns::DIAGNOSTIC, &log_warning_patterns::DIAGNOSTIC, &cascading_failures::DIAGNOSTIC];
