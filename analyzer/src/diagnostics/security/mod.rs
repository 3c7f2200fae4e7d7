//! Diagnostics of the `security` category, one per file; `ALL` is this category's part of the
//! registry, in report order.

use super::Diagnostic;

pub(crate) const ALL: &[&Diagnostic] = &[];
