//! What stands behind a Service, whether a pod is serving, label selectors, which pods serve
//! the cluster DNS, where a client's connections go, and what routes ClusterIPs.

pub(crate) mod backends;
pub(crate) mod dns;
pub(crate) mod pod_health;
pub(crate) mod proxy;
pub(crate) mod selector;
pub(crate) mod targets;
