//! Which pods serve the cluster DNS: one definition for the `coredns-unhealthy` diagnostic, the
//! DNS hints of the log diagnostics and the incident's "DNS down" cause, so they never disagree
//! about the same bundle (a must-gather's DNS pods live in `openshift-dns`, not `kube-system`).

use kubesnap_shared::model::{ClusterModel, Object};

use super::pod_health;

/// The label OpenShift's DNS operator puts on the pods of its `dns-default` DaemonSet.
const OPENSHIFT_DNS_LABEL: &str = "dns.operator.openshift.io/daemonset-dns";

/// Whether a pod serves the cluster DNS: CoreDNS or kube-dns in `kube-system` (by its
/// `k8s-app` label or its `coredns-` name), or OpenShift's DNS daemon pods in any namespace.
pub(crate) fn is_dns_pod(pod: &Object) -> bool {
    let labels = pod.at("/metadata/labels");
    let label = |key: &str| labels.and_then(|labels| labels.get(key)).and_then(|value| value.as_str());
    (pod.namespace.as_deref() == Some("kube-system")
        && (matches!(label("k8s-app"), Some("kube-dns" | "coredns")) || pod.name.starts_with("coredns-")))
        || label(OPENSHIFT_DNS_LABEL).is_some()
}

/// The cluster DNS pods that are not gone (deleted, succeeded or evicted), in model order.
pub(crate) fn pods(model: &ClusterModel) -> Vec<&Object> {
    model.of_kind("Pod").filter(|pod| is_dns_pod(pod) && !pod_health::is_gone(pod)).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(namespace: &str, name: &str, labels: serde_json::Value) -> Object {
        let raw = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"namespace": namespace, "name": name, "labels": labels},
        });
        Object::from_value(raw, None, None, "test").unwrap()
    }

    #[test]
    fn coredns_and_kube_dns_count_only_in_kube_system() {
        assert!(is_dns_pod(&pod("kube-system", "dns-abc", json!({"k8s-app": "kube-dns"}))));
        assert!(is_dns_pod(&pod("kube-system", "x", json!({"k8s-app": "coredns"}))));
        assert!(is_dns_pod(&pod("kube-system", "coredns-5d78c9869d-7xkqp", json!({}))));
        assert!(!is_dns_pod(&pod("shop", "coredns-5d78c9869d-7xkqp", json!({"k8s-app": "kube-dns"}))));
        assert!(!is_dns_pod(&pod("kube-system", "kube-proxy-x", json!({"k8s-app": "kube-proxy"}))));
    }

    #[test]
    fn openshift_dns_daemon_pods_count_in_their_own_namespace() {
        let labels = json!({OPENSHIFT_DNS_LABEL: "default"});
        assert!(is_dns_pod(&pod("openshift-dns", "dns-default-4xk2p", labels)));
        assert!(!is_dns_pod(&pod(
            "openshift-dns",
            "node-resolver-9zq",
            json!({"dns.operator.openshift.io/daemonset-node-resolver": ""})
        )));
    }
}
