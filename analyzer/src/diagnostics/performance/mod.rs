//! Diagnostics of the `performance` category, one per file; `ALL` is this category's part of the
//! registry, in report order.
//!
//! `usage` joins each container's metric samples with its requests and limits (and gives the
//! report its per-container statistics and top consumers); `units` writes the numbers and the
//! resource commands the findings carry.

use super::Diagnostic;

#[cfg(test)]
pub(crate) mod fixture;
pub(crate) mod units;
pub(crate) mod usage;

pub(crate) mod memory_leak;

pub(crate) const ALL: &[&Diagnostic] = &[&memory_leak::DIAGNOSTIC];
