//! Prometheus's `for:` evaluation, shared by the alert rules.

pub(crate) mod rule;
