//! Diagnostics of the `pods` category, one per file; `ALL` is this category's part of the
//! registry, in report order.

use super::Diagnostic;

pub(crate) mod crash_loop_backoff;

pub(crate) const ALL: &[&Diagnostic] = &[&crash_loop_backoff::DIAGNOSTIC];
