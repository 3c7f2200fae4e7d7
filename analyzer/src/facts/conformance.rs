//! Conformance runs (sonobuoy): the pod that ran each test plugin, and what a failed test's
//! message says the cluster lacks.
//!
//! Kubernetes' e2e suite refuses some tests on a cluster that is too small and says so in the
//! failure ("needs a cluster with at least 2 nodes", "all nodes are already heavily
//! utilized"): such a failure is about the test environment, not a fault of the cluster.

use std::sync::LazyLock;

use kubesnap_shared::model::{ClusterModel, Object, TestFailure};
use regex::Regex;

/// The label sonobuoy puts on every pod of a plugin, valued with the plugin's name.
const PLUGIN_LABEL: &str = "sonobuoy-plugin";

/// The pods that ran `plugin` (a Job's pod, or a DaemonSet's pods of a per-node plugin).
pub(crate) fn plugin_pods<'m>(model: &'m ClusterModel, plugin: &str) -> Vec<&'m Object> {
    model
        .of_kind("Pod")
        .filter(|pod| pod.labels().get(PLUGIN_LABEL).is_some_and(|value| value == plugin))
        .collect()
}

/// What a failed test's message says the cluster lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SizeNeed {
    /// At least this many nodes.
    Nodes(u32),
    /// Room on more nodes than there are (the message names no number).
    Room,
}

/// `needs a cluster with at least 2 nodes`, `Requires at least 2 nodes`, `at least two
/// schedulable nodes`.
static AT_LEAST_NODES: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)at least (\d+|two|three|four|five) (?:schedulable |ready |worker |linux )?nodes").ok()
});

/// `all nodes are already heavily utilized`, `not enough nodes`, `insufficient nodes`.
static NO_ROOM: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)nodes are already heavily utilized|not enough (?:schedulable |ready )?nodes|insufficient nodes",
    )
    .ok()
});

/// What `failure`'s message says the cluster lacks, if it is about the cluster's size.
pub(crate) fn size_need(failure: &TestFailure) -> Option<SizeNeed> {
    if let Some(captures) = AT_LEAST_NODES.as_ref().and_then(|pattern| pattern.captures(&failure.message)) {
        let count = match captures[1].to_ascii_lowercase().as_str() {
            "two" => 2,
            "three" => 3,
            "four" => 4,
            "five" => 5,
            digits => digits.parse().ok()?,
        };
        return Some(SizeNeed::Nodes(count));
    }
    NO_ROOM.as_ref().is_some_and(|pattern| pattern.is_match(&failure.message)).then_some(SizeNeed::Room)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(message: &str) -> TestFailure {
        TestFailure { name: "t".into(), message: message.into() }
    }

    #[test]
    fn messages_about_the_cluster_size() {
        assert_eq!(
            size_need(&failure("Conformance test suite needs a cluster with at least 2 nodes. Expected")),
            Some(SizeNeed::Nodes(2))
        );
        assert_eq!(size_need(&failure("Requires at least two schedulable nodes")), Some(SizeNeed::Nodes(2)));
        assert_eq!(
            size_need(&failure(
                "We need at least two pods to be created but all nodes are already heavily utilized, so preemption \
                 tests cannot be run"
            )),
            Some(SizeNeed::Room)
        );
        assert_eq!(size_need(&failure("Timed out after 10m0s waiting for stable cluster")), None);
        assert_eq!(size_need(&failure("expected 2 nodes to be ready")), None);
    }
}
