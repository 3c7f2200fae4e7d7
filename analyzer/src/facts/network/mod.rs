//! What stands behind a Service, whether a pod is serving, label selectors, and which pods
//! serve the cluster DNS.

pub(crate) mod backends;
pub(crate) mod dns;
pub(crate) mod pod_health;
pub(crate) mod selector;
