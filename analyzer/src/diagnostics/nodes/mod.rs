//! Diagnostics of the `nodes` category, one per file; `ALL` is this category's part of the
//! registry, in report order.

use super::Diagnostic;

pub(crate) mod age;
pub(crate) mod version;

pub(crate) const ALL: &[&Diagnostic] = &[];
