//! The kubelet `/stats/summary` of each node, as the storage diagnostics read it: the usage of
//! each pod volume (with its PVC) and each pod's ephemeral storage.
//!
//! The summary is kept raw in the model (`model.kubelet_stats`, node → JSON); its shape is
//! `{"node": {...}, "pods": [{"podRef": {...}, "volume": [...], "ephemeral-storage": {...}}]}`.

use kubesnap_shared::json::Value;
use kubesnap_shared::model::ClusterModel;

/// One pod volume's usage.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VolumeUsage<'a> {
    pub(crate) node: &'a str,
    pub(crate) namespace: &'a str,
    pub(crate) pod: &'a str,
    pub(crate) volume: &'a str,
    /// `(namespace, name)` of the PVC the volume mounts, when it is one.
    pub(crate) pvc: Option<(&'a str, &'a str)>,
    pub(crate) used_bytes: f64,
    pub(crate) capacity_bytes: f64,
    pub(crate) inodes_used: Option<f64>,
    pub(crate) inodes: Option<f64>,
}

/// One pod's ephemeral storage use (writable layers, logs, emptyDirs).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EphemeralUsage<'a> {
    pub(crate) node: &'a str,
    pub(crate) namespace: &'a str,
    pub(crate) pod: &'a str,
    pub(crate) used_bytes: f64,
}

fn pods<'a>(model: &'a ClusterModel) -> impl Iterator<Item = (&'a str, &'a str, &'a str, &'a Value)> + 'a {
    model.kubelet_stats.iter().flat_map(|(node, summary)| {
        summary.get("pods").and_then(Value::as_array).unwrap_or_default().iter().filter_map(move |pod| {
            let namespace = pod.pointer("/podRef/namespace").and_then(Value::as_str)?;
            let name = pod.pointer("/podRef/name").and_then(Value::as_str)?;
            Some((node.as_str(), namespace, name, pod))
        })
    })
}

fn number(value: &Value, key: &str) -> Option<f64> {
    value.get(key).and_then(Value::as_f64)
}

/// Every pod volume with a known capacity, in node then pod order.
pub(crate) fn volumes(model: &ClusterModel) -> Vec<VolumeUsage<'_>> {
    let mut out = Vec::new();
    for (node, namespace, pod_name, pod) in pods(model) {
        for volume in pod.get("volume").and_then(Value::as_array).unwrap_or_default() {
            let (Some(used_bytes), Some(capacity_bytes)) =
                (number(volume, "usedBytes"), number(volume, "capacityBytes"))
            else {
                continue;
            };
            let pvc = volume
                .get("pvcRef")
                .and_then(|pvc| Some((pvc.get("namespace")?.as_str()?, pvc.get("name")?.as_str()?)));
            out.push(VolumeUsage {
                node,
                namespace,
                pod: pod_name,
                volume: volume.get("name").and_then(Value::as_str).unwrap_or_default(),
                pvc,
                used_bytes,
                capacity_bytes,
                inodes_used: number(volume, "inodesUsed"),
                inodes: number(volume, "inodes"),
            });
        }
    }
    out
}

/// Every pod's ephemeral storage use, when the kubelet reports it.
pub(crate) fn ephemeral(model: &ClusterModel) -> Vec<EphemeralUsage<'_>> {
    pods(model)
        .filter_map(|(node, namespace, pod_name, pod)| {
            let used_bytes = pod.get("ephemeral-storage").and_then(|storage| number(storage, "usedBytes"))?;
            Some(EphemeralUsage { node, namespace, pod: pod_name, used_bytes })
        })
        .collect()
}

/// `1.5 GiB`: bytes for findings.
pub(crate) fn human_bytes(bytes: f64) -> String {
    const UNITS: &[&str] = &["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{value:.0} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

/// Fixtures with kubelet stats: the shared `check` helper builds its model from YAML alone, so
/// these tests add each node's summary to that model and make the same assertions.
#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_volumes_with_their_pvc_and_ephemeral_use() {
        let summary = json!({"node": {"nodeName": "n1"}, "pods": [{
            "podRef": {"name": "db-0", "namespace": "shop", "uid": "u"},
            "ephemeral-storage": {"usedBytes": 4096},
            "volume": [
                {"name": "data", "usedBytes": 90, "capacityBytes": 100, "inodesUsed": 5, "inodes": 10,
                 "pvcRef": {"name": "data-db-0", "namespace": "shop"}},
                {"name": "kube-api-access-x", "usedBytes": 12}
            ]
        }]});
        let model = crate::testing::model_from_yaml(&crate::testing::kubelet_stats("n1", &summary));
        let volumes = volumes(&model);
        assert_eq!(volumes.len(), 1);
        assert_eq!(volumes[0].pvc, Some(("shop", "data-db-0")));
        assert_eq!(volumes[0].inodes, Some(10.0));
        assert_eq!(ephemeral(&model)[0].used_bytes, 4096.0);
        assert_eq!(human_bytes(1536.0 * 1024.0 * 1024.0), "1.5 GiB");
        assert_eq!(human_bytes(10.0), "10 B");
    }
}
