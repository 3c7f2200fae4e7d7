//! Diagnostics of the `storage` category, one per file; `ALL` is this category's part of the
//! registry, in report order.

use super::Diagnostic;

pub(crate) mod kubelet_stats;

pub(crate) mod volume_usage_high;

pub(crate) const ALL: &[&Diagnostic] = &[&volume_usage_high::DIAGNOSTIC];
