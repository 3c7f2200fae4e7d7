//! Who routes Service ClusterIPs to their endpoints: kube-proxy (a DaemonSet, or static pods
//! `kube-proxy-<node>`), or a network plugin or distribution that replaces it (Cilium, kube-router,
//! Antrea, Calico in eBPF mode, OVN-Kubernetes and OpenShift SDN, k3s which runs kube-proxy inside
//! its own process). Missing only when the bundle captured kube-system (its pods, or a listing of
//! it that came back empty) and none of these: then a ClusterIP answers nowhere, although its
//! endpoints are Ready.

use kubesnap_shared::model::ClusterModel;

/// What routes ClusterIPs, as far as the bundle shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ServiceProxy {
    /// kube-proxy runs: the DaemonSet's or a pod's name.
    KubeProxy(String),
    /// Something else does it: what.
    Replaced(String),
    /// kube-system's pods are in the bundle and nothing routes ClusterIPs: what was looked at.
    Missing(String),
    /// The bundle does not hold kube-system's pods: it cannot tell.
    Unknown,
}

/// Pod or DaemonSet name parts of network plugins that can route Services without kube-proxy.
const REPLACEMENTS: [&str; 7] = ["cilium", "kube-router", "antrea", "calico-node", "ovnkube", "sdn", "anetd"];

pub(crate) fn service_proxy(model: &ClusterModel) -> ServiceProxy {
    if let Some(found) = ["DaemonSet", "Pod"]
        .into_iter()
        .find_map(|kind| model.of_kind(kind).find(|object| object.name.starts_with("kube-proxy")))
    {
        return ServiceProxy::KubeProxy(format!("{} {}", found.kind, found.name));
    }
    if let Some(node) = model.of_kind("Node").find(|node| {
        node.str_at("/status/nodeInfo/kubeletVersion").is_some_and(|version| version.contains("k3s"))
    }) {
        return ServiceProxy::Replaced(format!(
            "node {} runs k3s, which runs kube-proxy inside its own process",
            node.name
        ));
    }
    if let Some(found) = ["DaemonSet", "Pod"].into_iter().find_map(|kind| {
        model.of_kind(kind).find(|object| REPLACEMENTS.iter().any(|part| object.name.contains(part)))
    }) {
        return ServiceProxy::Replaced(format!(
            "{} {} may route Services in its place",
            found.kind, found.name
        ));
    }
    if model.of_kind("Namespace").any(|namespace| namespace.name.starts_with("openshift-")) {
        return ServiceProxy::Replaced("OpenShift's network plugin routes Services".to_owned());
    }
    let system_pods = model.of_kind_in("Pod", "kube-system").count();
    if system_pods == 0 && !(system_in_scope(model) && model.captured("Pod").is_listed()) {
        return ServiceProxy::Unknown;
    }
    ServiceProxy::Missing(format!(
        "no kube-proxy DaemonSet or pod among kube-system's {system_pods} pods, and no network plugin that replaces it"
    ))
}

/// Whether the collector listed kube-system: a native bundle's options name no namespace, or
/// name it, and do not exclude it. A foreign bundle says so only by holding its pods.
fn system_in_scope(model: &ClusterModel) -> bool {
    let Some(manifest) = &model.manifest else { return false };
    let named = |option: &str| -> Option<bool> {
        let list = manifest.options.get(option)?.as_array()?;
        (!list.is_empty()).then(|| list.iter().any(|value| value.as_str() == Some("kube-system")))
    };
    named("namespace").unwrap_or(true) && !named("exclude-namespace").unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_from_yaml;

    const SYSTEM: &str = r#"
kind: Pod
apiVersion: v1
metadata: {name: coredns-1, namespace: kube-system}
---
kind: Node
apiVersion: v1
metadata: {name: n1}
status: {nodeInfo: {kubeletVersion: v1.33.1}}
"#;

    #[test]
    fn kube_proxy_missing_only_when_nothing_replaces_it() {
        assert!(matches!(service_proxy(&model_from_yaml(SYSTEM)), ServiceProxy::Missing(_)));
        let with = format!(
            "{SYSTEM}---\nkind: DaemonSet\napiVersion: apps/v1\nmetadata: {{name: kube-proxy, namespace: kube-system}}\n"
        );
        assert_eq!(
            service_proxy(&model_from_yaml(&with)),
            ServiceProxy::KubeProxy("DaemonSet kube-proxy".to_owned())
        );
        let cilium = format!(
            "{SYSTEM}---\nkind: Pod\napiVersion: v1\nmetadata: {{name: cilium-x2, namespace: kube-system}}\n"
        );
        assert!(matches!(service_proxy(&model_from_yaml(&cilium)), ServiceProxy::Replaced(_)));
        let k3s = SYSTEM.replace("v1.33.1", "v1.33.1+k3s1");
        assert!(matches!(service_proxy(&model_from_yaml(&k3s)), ServiceProxy::Replaced(_)));
        let user_only = SYSTEM.replace("namespace: kube-system", "namespace: shop");
        assert_eq!(service_proxy(&model_from_yaml(&user_only)), ServiceProxy::Unknown);
    }
}
