//! Resource names to kinds: the folder and file names foreign formats use (`pods`, `pvcs`,
//! `storage-classes`, `Pods`, `core_v1_pods`) mapped to the kind and API version their items
//! lack when the list does not say.
//!
//! The content wins over these hints: an item's own `kind`, then the list's `kind` without
//! `List`, and only then the name of the file or folder (troubleshoot once wrote ReplicaSets
//! into a folder named `statefulsets-errors.json`).

/// Plural resource name (lower case), kind, API version.
const KINDS: &[(&str, &str, &str)] = &[
    ("pods", "Pod", "v1"),
    ("nodes", "Node", "v1"),
    ("namespaces", "Namespace", "v1"),
    ("services", "Service", "v1"),
    ("endpoints", "Endpoints", "v1"),
    ("events", "Event", "v1"),
    ("configmaps", "ConfigMap", "v1"),
    ("secrets", "Secret", "v1"),
    ("serviceaccounts", "ServiceAccount", "v1"),
    ("persistentvolumeclaims", "PersistentVolumeClaim", "v1"),
    ("persistentvolumes", "PersistentVolume", "v1"),
    ("replicationcontrollers", "ReplicationController", "v1"),
    ("limitranges", "LimitRange", "v1"),
    ("resourcequotas", "ResourceQuota", "v1"),
    ("componentstatuses", "ComponentStatus", "v1"),
    ("podtemplates", "PodTemplate", "v1"),
    ("deployments", "Deployment", "apps/v1"),
    ("replicasets", "ReplicaSet", "apps/v1"),
    ("statefulsets", "StatefulSet", "apps/v1"),
    ("daemonsets", "DaemonSet", "apps/v1"),
    ("controllerrevisions", "ControllerRevision", "apps/v1"),
    ("jobs", "Job", "batch/v1"),
    ("cronjobs", "CronJob", "batch/v1"),
    ("horizontalpodautoscalers", "HorizontalPodAutoscaler", "autoscaling/v2"),
    ("ingresses", "Ingress", "networking.k8s.io/v1"),
    ("ingressclasses", "IngressClass", "networking.k8s.io/v1"),
    ("networkpolicies", "NetworkPolicy", "networking.k8s.io/v1"),
    ("endpointslices", "EndpointSlice", "discovery.k8s.io/v1"),
    ("poddisruptionbudgets", "PodDisruptionBudget", "policy/v1"),
    ("podsecuritypolicies", "PodSecurityPolicy", "policy/v1beta1"),
    ("storageclasses", "StorageClass", "storage.k8s.io/v1"),
    ("volumeattachments", "VolumeAttachment", "storage.k8s.io/v1"),
    ("csidrivers", "CSIDriver", "storage.k8s.io/v1"),
    ("csinodes", "CSINode", "storage.k8s.io/v1"),
    ("priorityclasses", "PriorityClass", "scheduling.k8s.io/v1"),
    ("leases", "Lease", "coordination.k8s.io/v1"),
    ("roles", "Role", "rbac.authorization.k8s.io/v1"),
    ("rolebindings", "RoleBinding", "rbac.authorization.k8s.io/v1"),
    ("clusterroles", "ClusterRole", "rbac.authorization.k8s.io/v1"),
    ("clusterrolebindings", "ClusterRoleBinding", "rbac.authorization.k8s.io/v1"),
    ("customresourcedefinitions", "CustomResourceDefinition", "apiextensions.k8s.io/v1"),
    ("apiservices", "APIService", "apiregistration.k8s.io/v1"),
    ("certificatesigningrequests", "CertificateSigningRequest", "certificates.k8s.io/v1"),
    ("mutatingwebhookconfigurations", "MutatingWebhookConfiguration", "admissionregistration.k8s.io/v1"),
    ("validatingwebhookconfigurations", "ValidatingWebhookConfiguration", "admissionregistration.k8s.io/v1"),
    ("runtimeclasses", "RuntimeClass", "node.k8s.io/v1"),
    ("verticalpodautoscalers", "VerticalPodAutoscaler", "autoscaling.k8s.io/v1"),
];

/// Whether `kind` is the name of a built-in Kubernetes kind (`Node`, `Pod`, ...).
pub(crate) fn is_builtin_kind(kind: &str) -> bool {
    KINDS.iter().any(|(_, builtin, _)| *builtin == kind)
}

/// The built-in kind a lower-case kind names (`secret` → `Secret`, `persistentvolumeclaim` →
/// `PersistentVolumeClaim`), as `kubectl get events` prints an event's object.
pub(crate) fn by_lowercase_kind(name: &str) -> Option<&'static str> {
    KINDS.iter().map(|&(_, kind, _)| kind).find(|kind| kind.eq_ignore_ascii_case(name))
}

/// Troubleshoot's folder and file names that differ from the plural resource name.
const TROUBLESHOOT_ALIASES: &[(&str, &str)] = &[
    ("pvcs", "persistentvolumeclaims"),
    ("pvs", "persistentvolumes"),
    ("storage-classes", "storageclasses"),
    ("custom-resource-definitions", "customresourcedefinitions"),
    ("ingress", "ingresses"),
    ("resource-quota", "resourcequotas"),
    ("resource-quotas", "resourcequotas"),
    ("network-policy", "networkpolicies"),
    ("pod-disruption-budgets", "poddisruptionbudgets"),
    ("clusterRoleBindings", "clusterrolebindings"),
    ("clusterRoles", "clusterroles"),
    ("priority-classes", "priorityclasses"),
    ("volume-attachments", "volumeattachments"),
    ("horizontal-pod-autoscalers", "horizontalpodautoscalers"),
    ("service-accounts", "serviceaccounts"),
    ("endpoint-slices", "endpointslices"),
    ("replication-controllers", "replicationcontrollers"),
];

/// Kind and API version for a plural resource name, case-insensitive (`Pods`, `pods`).
pub(crate) fn by_plural(plural: &str) -> Option<(&'static str, &'static str)> {
    KINDS
        .iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(plural))
        .map(|&(_, kind, api_version)| (kind, api_version))
}

/// Plural resource name and API version of a built-in kind (`StorageClass` →
/// `storageclasses`, `storage.k8s.io/v1`): lets a failure or a list file, which name the
/// resource, be matched with the kind a diagnostic asks for.
pub(crate) fn by_kind(kind: &str) -> Option<(&'static str, &'static str)> {
    KINDS.iter().find(|(_, name, _)| *name == kind).map(|&(plural, _, api_version)| (plural, api_version))
}

/// Kind and API version for a troubleshoot folder or file stem (`pvcs`, `storage-classes`).
pub(crate) fn by_troubleshoot_name(name: &str) -> Option<(&'static str, &'static str)> {
    let plural =
        TROUBLESHOOT_ALIASES.iter().find(|(alias, _)| *alias == name).map_or(name, |&(_, plural)| plural);
    by_plural(plural)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn troubleshoot_names_map_to_kinds() {
        assert_eq!(by_troubleshoot_name("pvcs"), Some(("PersistentVolumeClaim", "v1")));
        assert_eq!(by_troubleshoot_name("storage-classes"), Some(("StorageClass", "storage.k8s.io/v1")));
        assert_eq!(by_troubleshoot_name("network-policy").map(|k| k.0), Some("NetworkPolicy"));
        assert_eq!(by_troubleshoot_name("clusterRoleBindings").map(|k| k.0), Some("ClusterRoleBinding"));
        assert_eq!(by_troubleshoot_name("auth-cani-list"), None);
        assert_eq!(by_plural("Pods"), Some(("Pod", "v1")));
    }

    #[test]
    fn kinds_map_back_to_their_plural() {
        assert_eq!(by_kind("StorageClass"), Some(("storageclasses", "storage.k8s.io/v1")));
        assert_eq!(by_kind("Endpoints"), Some(("endpoints", "v1")));
        assert_eq!(by_kind("storageclass"), None, "kinds are case-sensitive");
        for (plural, kind, _) in KINDS {
            assert_eq!(by_kind(kind).map(|found| found.0), Some(*plural));
        }
    }
}
