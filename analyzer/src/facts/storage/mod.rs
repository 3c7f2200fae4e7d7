//! The kubelet `/stats/summary` of each node: volume and ephemeral storage usage per pod.

pub(crate) mod kubelet_stats;
