//! The little the logs and kubelet phases need from the pods and nodes the resources phase
//! listed: names, placement, container states. A few hundred bytes per pod. It also carries
//! the Helm release metadata decoded on the way to the writer of `helm/releases.json`.

use jiff::Timestamp;
use serde_json::Value;

use crate::helm::HelmCapture;

/// Pods and nodes seen while listing.
#[derive(Debug, Default)]
pub(crate) struct Inventory {
    pub(crate) pods: Vec<PodInfo>,
    pub(crate) nodes: Vec<NodeInfo>,
    /// Whether nodes were listed at all (when they were not, node readiness is unknown and
    /// pods are not skipped for it).
    pub(crate) nodes_listed: bool,
    /// The Helm release records met among Secrets and ConfigMaps, decoded.
    pub(crate) helm: HelmCapture,
}

/// One pod, for its logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PodInfo {
    pub(crate) namespace: String,
    pub(crate) name: String,
    /// `spec.nodeName`; `None` for a pod never scheduled (it has no logs).
    pub(crate) node: Option<String>,
    pub(crate) containers: Vec<ContainerInfo>,
}

/// One container of a pod: regular, init or ephemeral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContainerInfo {
    pub(crate) name: String,
    /// Whether the current run has started (running or terminated): a waiting container has
    /// no current log to ask for.
    pub(crate) started: bool,
    /// When the current run started.
    pub(crate) started_at: Option<Timestamp>,
    /// Whether there was a previous run (a restart): only then is there a previous log.
    pub(crate) has_previous: bool,
    /// When the previous run started.
    pub(crate) previous_started_at: Option<Timestamp>,
}

/// One node, to skip the logs of pods whose kubelet cannot answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeInfo {
    pub(crate) name: String,
    pub(crate) ready: bool,
}

impl Inventory {
    pub(crate) fn merge(&mut self, other: Inventory) {
        self.pods.extend(other.pods);
        self.nodes_listed |= other.nodes_listed || !other.nodes.is_empty();
        self.nodes.extend(other.nodes);
        self.helm.merge(other.helm);
    }

    /// Sorts by name so that later phases run in the same order every time.
    pub(crate) fn sort(&mut self) {
        self.pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        self.nodes.sort_by(|a, b| a.name.cmp(&b.name));
    }

    /// Readiness of a node: `Some(true)` Ready, `Some(false)` not Ready, `None` unknown (the
    /// node is not in the list, or nodes could not be listed).
    pub(crate) fn node_ready(&self, name: &str) -> Option<bool> {
        self.nodes.iter().find(|node| node.name == name).map(|node| node.ready)
    }
}

impl PodInfo {
    pub(crate) fn from_object(pod: &Value) -> Option<PodInfo> {
        let namespace = pod["metadata"]["namespace"].as_str()?.to_owned();
        let name = pod["metadata"]["name"].as_str()?.to_owned();
        let node = pod["spec"]["nodeName"].as_str().filter(|n| !n.is_empty()).map(str::to_owned);
        let mut containers = Vec::new();
        for (spec_field, status_field) in [
            ("initContainers", "initContainerStatuses"),
            ("containers", "containerStatuses"),
            ("ephemeralContainers", "ephemeralContainerStatuses"),
        ] {
            for spec in pod["spec"][spec_field].as_array().into_iter().flatten() {
                let Some(name) = spec["name"].as_str() else { continue };
                let status = pod["status"][status_field]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|status| status["name"].as_str() == Some(name));
                containers.push(ContainerInfo::from_status(name, status));
            }
        }
        Some(PodInfo { namespace, name, node, containers })
    }
}

impl ContainerInfo {
    fn from_status(name: &str, status: Option<&Value>) -> ContainerInfo {
        let Some(status) = status else {
            return ContainerInfo {
                name: name.to_owned(),
                started: false,
                started_at: None,
                has_previous: false,
                previous_started_at: None,
            };
        };
        let state = &status["state"];
        let started_at = timestamp(&state["running"]["startedAt"])
            .or_else(|| timestamp(&state["terminated"]["startedAt"]));
        let started = state.get("running").is_some() || state.get("terminated").is_some();
        let restarts = status["restartCount"].as_u64().unwrap_or(0);
        let last = &status["lastState"]["terminated"];
        ContainerInfo {
            name: name.to_owned(),
            started,
            started_at,
            has_previous: restarts > 0 || last.is_object(),
            previous_started_at: timestamp(&last["startedAt"]),
        }
    }
}

impl NodeInfo {
    pub(crate) fn from_object(node: &Value) -> Option<NodeInfo> {
        let name = node["metadata"]["name"].as_str()?.to_owned();
        let ready = node["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|condition| condition["type"] == "Ready" && condition["status"] == "True");
        Some(NodeInfo { name, ready })
    }
}

fn timestamp(value: &Value) -> Option<Timestamp> {
    value.as_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn pod_containers_of_every_kind_with_their_runs() {
        let pod = json!({
            "metadata": {"namespace": "shop", "name": "api-0"},
            "spec": {
                "nodeName": "kwok-node-0",
                "initContainers": [{"name": "migrate"}],
                "containers": [{"name": "api"}, {"name": "sidecar"}],
                "ephemeralContainers": [{"name": "debugger"}]
            },
            "status": {
                "initContainerStatuses": [{"name": "migrate", "restartCount": 0,
                    "state": {"terminated": {"exitCode": 0, "startedAt": "2026-01-01T00:00:00Z"}}}],
                "containerStatuses": [
                    {"name": "api", "restartCount": 3,
                     "state": {"running": {"startedAt": "2026-01-01T01:00:00Z"}},
                     "lastState": {"terminated": {"exitCode": 137, "startedAt": "2026-01-01T00:30:00Z"}}},
                    {"name": "sidecar", "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff"}}}
                ]
            }
        });
        let info = PodInfo::from_object(&pod);
        let info = info.as_ref();
        assert_eq!(info.map(|p| p.node.as_deref()), Some(Some("kwok-node-0")));
        let containers: Vec<(&str, bool, bool)> = info
            .map(|p| p.containers.iter().map(|c| (c.name.as_str(), c.started, c.has_previous)).collect())
            .unwrap_or_default();
        assert_eq!(
            containers,
            [
                ("migrate", true, false),
                ("api", true, true),
                ("sidecar", false, false),
                ("debugger", false, false)
            ]
        );
        let api = info.and_then(|p| p.containers.get(1));
        assert_eq!(
            api.and_then(|c| c.started_at).map(|t| t.to_string()).as_deref(),
            Some("2026-01-01T01:00:00Z")
        );
    }

    #[test]
    fn node_readiness_comes_from_the_ready_condition() {
        let ready = json!({"metadata": {"name": "a"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        let not_ready = json!({"metadata": {"name": "b"}, "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}});
        let mut inventory = Inventory::default();
        inventory.nodes.extend(NodeInfo::from_object(&ready));
        inventory.nodes.extend(NodeInfo::from_object(&not_ready));
        assert_eq!(inventory.node_ready("a"), Some(true));
        assert_eq!(inventory.node_ready("b"), Some(false));
        assert_eq!(inventory.node_ready("gone"), None);
    }
}
