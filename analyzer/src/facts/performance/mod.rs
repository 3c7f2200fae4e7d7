//! `usage` joins each container's metric samples with its requests and limits (and gives the
//! report its per-container statistics and top consumers); `units` writes the numbers and the
//! resource commands the findings carry.

pub(crate) mod units;
pub(crate) mod usage;
