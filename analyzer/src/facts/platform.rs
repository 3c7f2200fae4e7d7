//! Platform components: the pods a cluster runs for itself (control plane, network and storage
//! plugins, node agents, the distribution's add-ons, diagnostic tools), which need host access
//! by design. A privileged CNI agent or a host-network API server is how the cluster works, not a
//! risk someone took; the security diagnostics tell those apart from applications here.
//!
//! The decision is made from evidence in the bundle, never from one cluster's names, and says
//! which evidence it used ([`Evidence`]), so that a report can show why a workload was not flagged:
//! - the namespace: the cluster's own (`kube-*`, `openshift`, `openshift-*`), a distribution's
//!   (`cattle-*`, `calico-*`, `tigera-operator`, `cilium*`) or an add-on's by the `*-system`
//!   convention (`longhorn-system`, `calico-system`);
//! - a static (mirror) pod, which the kubelet runs from a manifest on the node;
//! - `priorityClassName` `system-node-critical` or `system-cluster-critical`;
//! - labels: the addon manager's (`addonmanager.kubernetes.io/mode`,
//!   `kubernetes.io/cluster-service`), sonobuoy's (`sonobuoy-component`), or a well-known
//!   component named by `app.kubernetes.io/name`, `app.kubernetes.io/part-of`, `k8s-app` or `app`;
//! - a well-known image: Kubernetes' own components, network plugins, CSI sidecars, storage
//!   systems, monitoring and logging node agents, diagnostic tools, a distribution's images;
//! - a CSI node plugin: a hostPath under the kubelet's plugin directories, or one naming a
//!   CSIDriver object of the bundle;
//! - the owner: a workload whose controller is itself a platform component (sonobuoy's
//!   DaemonSet is owned by its aggregator pod) or a custom resource of a platform's API group.
//!
//! `docs/analyzer.md` ("Platform components and credentials") states the rule for users.

use std::fmt;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::Object;

use super::Facts;
use super::workload::Template;

/// Why a workload or pod counts as a platform component: the first evidence found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Evidence {
    /// It runs in the cluster's, a distribution's or an add-on's namespace.
    Namespace(String),
    /// A static pod: the kubelet runs it from a manifest on the node.
    StaticPod,
    /// `priorityClassName: system-node-critical` (or `system-cluster-critical`).
    PriorityClass(String),
    /// A label that names the component or the tool that deployed it (`key=value`).
    Label(String),
    /// A container image of a well-known component, and what that component is.
    Image { image: String, what: &'static str },
    /// A hostPath into the kubelet's CSI plugin directories, or naming a CSIDriver.
    CsiPlugin(String),
    /// Its controller is a platform component or a platform's custom resource (`Kind/name`).
    Owner(String),
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Namespace(namespace) => write!(f, "runs in the platform namespace {namespace}"),
            Evidence::StaticPod => f.write_str("is a static pod the kubelet runs from the node's manifests"),
            Evidence::PriorityClass(class) => write!(f, "has priorityClassName {class}"),
            Evidence::Label(label) => write!(f, "is labelled {label}"),
            Evidence::Image { image, what } => write!(f, "runs {image} ({what})"),
            Evidence::CsiPlugin(path) => write!(f, "is a CSI node plugin (hostPath {path})"),
            Evidence::Owner(owner) => write!(f, "is controlled by the platform component {owner}"),
        }
    }
}

/// Whether `namespace` belongs to the cluster itself, a distribution or an add-on.
pub(crate) fn is_platform_namespace(namespace: &str) -> bool {
    const EXACT: &[&str] = &["openshift", "tigera-operator", "cilium", "kube-flannel"];
    const PREFIXES: &[&str] = &["kube-", "openshift-", "cattle-", "calico-", "cilium-"];
    EXACT.contains(&namespace)
        || PREFIXES.iter().any(|prefix| namespace.starts_with(prefix))
        || namespace.ends_with("-system")
}

/// Why a workload's pods are a platform component, or `None` for an application.
pub(crate) fn of_template(facts: &Facts<'_>, template: &Template<'_>) -> Option<Evidence> {
    let metadata_pointer = match template.pointer.strip_suffix("/spec") {
        Some(prefix) if !prefix.is_empty() => format!("{prefix}/metadata"),
        _ => "/metadata".to_owned(),
    };
    let pod_metadata = template.owner.at(&metadata_pointer);
    evidence(facts, template.owner, template.spec, pod_metadata, 0)
}

/// Why a pod is a platform component (judged with its controller's spec and labels when the
/// bundle holds it), or `None` for an application's pod: the question pod diagnostics ask.
#[cfg_attr(
    not(test),
    expect(dead_code, reason = "the pod form of the shared rule; pod diagnostics adopt it next")
)]
pub(crate) fn of_pod(facts: &Facts<'_>, pod: &Object) -> Option<Evidence> {
    let spec = pod.at("/spec")?;
    evidence(facts, pod, spec, pod.at("/metadata"), 0)
}

/// The evidence for an object holding a pod spec: its own metadata, the pod template's, the
/// spec, then its owner (at most two levels up).
fn evidence(
    facts: &Facts<'_>,
    object: &Object,
    spec: &Value,
    pod_metadata: Option<&Value>,
    depth: usize,
) -> Option<Evidence> {
    if let Some(namespace) = object.namespace.as_deref().filter(|namespace| is_platform_namespace(namespace))
    {
        return Some(Evidence::Namespace(namespace.to_owned()));
    }
    if is_static(object) {
        return Some(Evidence::StaticPod);
    }
    if let Some(class) = spec.get("priorityClassName").and_then(Value::as_str)
        && matches!(class, "system-node-critical" | "system-cluster-critical")
    {
        return Some(Evidence::PriorityClass(class.to_owned()));
    }
    let object_labels = object.at("/metadata/labels");
    let template_labels = pod_metadata.and_then(|metadata| metadata.get("labels"));
    for labels in [object_labels, template_labels].into_iter().flatten() {
        if let Some(label) = platform_label(labels) {
            return Some(Evidence::Label(label));
        }
    }
    for container in containers(spec) {
        if let Some(image) = container.get("image").and_then(Value::as_str)
            && let Some(what) = component_image(image)
        {
            return Some(Evidence::Image { image: image.to_owned(), what });
        }
    }
    if let Some(path) = csi_host_path(facts, spec) {
        return Some(Evidence::CsiPlugin(path));
    }
    owner_evidence(facts, object, depth)
}

/// A static pod's mirror: the kubelet's annotations, or a Node as its owner.
fn is_static(object: &Object) -> bool {
    let annotations = object.at("/metadata/annotations");
    let annotation = |key: &str| annotations.and_then(|a| a.get(key)).and_then(Value::as_str);
    annotation("kubernetes.io/config.mirror").is_some()
        || matches!(annotation("kubernetes.io/config.source"), Some("file" | "http"))
        || object.owners().iter().any(|(kind, _, _)| *kind == "Node")
}

/// Names of well-known platform components, as labels and image names carry them.
const COMPONENT_NAMES: &[(&str, &str)] = &[
    ("kube-proxy", "Kubernetes' service proxy"),
    ("kube-apiserver", "Kubernetes' API server"),
    ("kube-controller-manager", "Kubernetes' controller manager"),
    ("kube-scheduler", "Kubernetes' scheduler"),
    ("cloud-controller-manager", "the cloud provider's controller manager"),
    ("etcd", "the control plane's store"),
    ("coredns", "cluster DNS"),
    ("kube-dns", "cluster DNS"),
    ("calico-node", "the Calico network plugin"),
    ("calico-typha", "the Calico network plugin"),
    ("cilium", "the Cilium network plugin"),
    ("cilium-agent", "the Cilium network plugin"),
    ("cilium-operator", "the Cilium network plugin"),
    ("flannel", "the flannel network plugin"),
    ("kube-flannel", "the flannel network plugin"),
    ("kindnet", "kind's network plugin"),
    ("kindnetd", "kind's network plugin"),
    ("weave-net", "the Weave network plugin"),
    ("weave-kube", "the Weave network plugin"),
    ("weave-npc", "the Weave network policy controller"),
    ("multus", "the Multus network plugin"),
    ("multus-cni", "the Multus network plugin"),
    ("ovnkube-node", "the OVN-Kubernetes network plugin"),
    ("ovn-kubernetes", "the OVN-Kubernetes network plugin"),
    ("antrea-agent", "the Antrea network plugin"),
    ("kube-ovn", "the Kube-OVN network plugin"),
    ("aws-node", "the AWS VPC network plugin"),
    ("amazon-k8s-cni", "the AWS VPC network plugin"),
    ("csi-node-driver-registrar", "the CSI node driver registrar"),
    ("csi-provisioner", "a CSI sidecar"),
    ("csi-attacher", "a CSI sidecar"),
    ("csi-resizer", "a CSI sidecar"),
    ("csi-snapshotter", "a CSI sidecar"),
    ("livenessprobe", "a CSI sidecar"),
    ("snapshot-controller", "the CSI snapshot controller"),
    ("local-path-provisioner", "the local-path storage provisioner"),
    ("longhorn-manager", "the Longhorn storage system"),
    ("longhorn-engine", "the Longhorn storage system"),
    ("longhorn-instance-manager", "the Longhorn storage system"),
    ("node-exporter", "the Prometheus node exporter"),
    ("prometheus-node-exporter", "the Prometheus node exporter"),
    ("node-problem-detector", "the node problem detector"),
    ("datadog-agent", "the Datadog node agent"),
    ("newrelic-infrastructure", "the New Relic node agent"),
    ("nri-kubernetes", "the New Relic node agent"),
    ("fluent-bit", "a log shipper"),
    ("fluentd", "a log shipper"),
    ("promtail", "a log shipper"),
    ("filebeat", "a log shipper"),
    ("metricbeat", "a metrics node agent"),
    ("elastic-agent", "a monitoring node agent"),
    ("sonobuoy", "the sonobuoy diagnostic tool"),
    ("klipper-lb", "the k3s/RKE2 service load balancer"),
    ("klipper-helm", "the k3s/RKE2 Helm controller"),
];

/// Image organisations whose images are a platform's own.
const COMPONENT_ORGS: &[(&str, &str)] = &[
    ("calico/", "the Calico network plugin"),
    ("tigera/", "the Calico network plugin"),
    ("cilium/", "the Cilium network plugin"),
    ("longhornio/", "the Longhorn storage system"),
    ("sonobuoy/", "the sonobuoy diagnostic tool"),
    ("kindest/", "a kind node component"),
    ("openshift-release-dev/", "an OpenShift release component"),
    ("openshift4/", "an OpenShift component"),
    ("falcosecurity/", "the Falco runtime security agent"),
    ("datadog/agent", "the Datadog node agent"),
    ("newrelic/infrastructure", "the New Relic node agent"),
    ("rancher/mirrored-", "a component shipped by k3s/RKE2"),
    ("rancher/hardened-", "a component shipped by RKE2"),
    ("rancher/rke2-", "a component shipped by RKE2"),
];

/// What a well-known platform image is, from its repository path (registry, tag and digest
/// ignored): `k8s.gcr.io/sig-storage/csi-node-driver-registrar:v2.3.0` is a CSI sidecar.
fn component_image(image: &str) -> Option<&'static str> {
    let image = image.split('@').next().unwrap_or(image);
    let (path, _) = match image.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') => (path, tag),
        _ => (image, ""),
    };
    let mut segments: Vec<&str> = path.split('/').collect();
    if segments.len() > 1
        && segments
            .first()
            .is_some_and(|first| first.contains('.') || first.contains(':') || *first == "localhost")
    {
        segments.remove(0);
    }
    let repository = segments.join("/");
    let last = segments.last().copied().unwrap_or_default();
    COMPONENT_NAMES
        .iter()
        .find(|(name, _)| *name == last)
        .or_else(|| COMPONENT_ORGS.iter().find(|(org, _)| repository.starts_with(org)))
        .map(|(_, what)| *what)
}

/// A label that says the pod is a platform component, as `key=value`.
fn platform_label(labels: &Value) -> Option<String> {
    let label = |key: &str| labels.get(key).and_then(Value::as_str);
    for key in ["addonmanager.kubernetes.io/mode", "sonobuoy-component"] {
        if let Some(value) = label(key) {
            return Some(format!("{key}={value}"));
        }
    }
    if label("kubernetes.io/cluster-service") == Some("true") {
        return Some("kubernetes.io/cluster-service=true".to_owned());
    }
    for key in ["app.kubernetes.io/part-of", "app.kubernetes.io/name", "k8s-app", "app"] {
        if let Some(value) = label(key)
            && (COMPONENT_NAMES.iter().any(|(name, _)| *name == value) || value.starts_with("openshift-"))
        {
            return Some(format!("{key}={value}"));
        }
    }
    None
}

fn containers(spec: &Value) -> impl Iterator<Item = &Value> {
    ["initContainers", "containers"]
        .into_iter()
        .flat_map(|list| spec.get(list).and_then(Value::as_array).unwrap_or_default())
}

/// A hostPath into the kubelet's plugin directories (where CSI node plugins register and
/// serve their socket), or one naming a CSIDriver of the bundle.
fn csi_host_path(facts: &Facts<'_>, spec: &Value) -> Option<String> {
    let volumes = spec.get("volumes").and_then(Value::as_array).unwrap_or_default();
    let paths = volumes.iter().filter_map(|volume| volume.pointer("/hostPath/path").and_then(Value::as_str));
    let drivers: Vec<&str> =
        facts.cluster().of_kind("CSIDriver").map(|driver| driver.name.as_str()).collect();
    for path in paths {
        let path_trimmed = path.trim_end_matches('/');
        let kubelet_plugins = ["/var/lib/kubelet/plugins", "/var/lib/kubelet/plugins_registry"]
            .iter()
            .any(|root| path_trimmed == *root || path_trimmed.starts_with(&format!("{root}/")));
        let names_driver = drivers.iter().any(|driver| path.split('/').any(|segment| segment == *driver));
        if kubelet_plugins || names_driver {
            return Some(path.to_owned());
        }
    }
    None
}

/// API groups of platforms whose custom resources own pods (Longhorn's instance managers,
/// OpenShift's operators, Tigera's installation).
const PLATFORM_GROUPS: &[&str] = &["openshift.io", "longhorn.io", "tigera.io", "cilium.io", "cattle.io"];

/// The controller of `object`, when it is a platform component or a platform's custom resource.
fn owner_evidence(facts: &Facts<'_>, object: &Object, depth: usize) -> Option<Evidence> {
    let references = object.array_at("/metadata/ownerReferences");
    for reference in references {
        let kind = reference.get("kind").and_then(Value::as_str).unwrap_or_default();
        let name = reference.get("name").and_then(Value::as_str).unwrap_or_default();
        let group = reference
            .get("apiVersion")
            .and_then(Value::as_str)
            .and_then(|version| version.rsplit_once('/'))
            .map(|(group, _)| group)
            .unwrap_or_default();
        if PLATFORM_GROUPS
            .iter()
            .any(|platform| group == *platform || group.ends_with(&format!(".{platform}")))
        {
            return Some(Evidence::Owner(format!("{kind}/{name}")));
        }
        if depth >= 2 {
            continue;
        }
        let Some(owner) = facts.cluster().get(kind, object.namespace.as_deref(), name) else { continue };
        let (spec_pointer, metadata_pointer) = match kind {
            "Pod" => ("/spec", "/metadata"),
            "CronJob" => ("/spec/jobTemplate/spec/template/spec", "/spec/jobTemplate/spec/template/metadata"),
            _ => ("/spec/template/spec", "/spec/template/metadata"),
        };
        let spec = owner.at(spec_pointer);
        let found = match spec {
            Some(spec) => evidence(facts, owner, spec, owner.at(metadata_pointer), depth + 1),
            None => owner_evidence(facts, owner, depth + 1),
        };
        if found.is_some() {
            return Some(Evidence::Owner(format!("{kind}/{name}")));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_from_yaml;

    /// The evidence for every workload of a fixture, as `Kind/name: evidence` lines.
    fn judged(fixture: &str) -> Vec<String> {
        let cluster = model_from_yaml(fixture);
        let facts = Facts::new(&cluster);
        facts
            .templates()
            .iter()
            .map(|template| {
                let verdict = of_template(&facts, template)
                    .map_or_else(|| "application".to_owned(), |evidence| evidence.to_string());
                format!("{}/{}: {verdict}", template.owner.kind, template.owner.name)
            })
            .collect()
    }

    #[test]
    fn namespaces_of_the_cluster_distributions_and_add_ons() {
        for namespace in [
            "kube-system",
            "kube-node-lease",
            "openshift-sdn",
            "openshift",
            "cattle-system",
            "calico-system",
            "tigera-operator",
            "longhorn-system",
        ] {
            assert!(is_platform_namespace(namespace), "{namespace}");
        }
        for namespace in ["default", "shop", "monitoring", "kubernetes-dashboard-app", "systems", "sonobuoy"]
        {
            assert!(!is_platform_namespace(namespace), "{namespace}");
        }
    }

    #[test]
    fn images_are_matched_on_their_repository_not_their_registry_or_tag() {
        assert_eq!(component_image("k8s.gcr.io/kube-proxy:v1.21.1"), Some("Kubernetes' service proxy"));
        assert_eq!(
            component_image("k8s.gcr.io/sig-storage/csi-node-driver-registrar:v2.3.0"),
            Some("the CSI node driver registrar")
        );
        assert_eq!(
            component_image("quay.io/prometheus/node-exporter@sha256:abc"),
            Some("the Prometheus node exporter")
        );
        assert_eq!(component_image("localhost:5000/calico/node:v3"), Some("the Calico network plugin"));
        assert_eq!(component_image("sonobuoy/systemd-logs:v0.3"), Some("the sonobuoy diagnostic tool"));
        // Near misses: an application named like a component's organisation, a look-alike tag.
        assert_eq!(component_image("shop/calico-frontend:1.0"), None);
        assert_eq!(component_image("nginx:kube-proxy"), None);
        assert_eq!(component_image("postgres:13"), None);
    }

    #[test]
    fn a_pod_is_judged_with_its_controller() {
        let cluster = model_from_yaml(
            r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: exporter, namespace: observability}
spec: {template: {spec: {containers: [{name: exporter, image: "quay.io/prometheus/node-exporter:v1"}]}}}
---
apiVersion: v1
kind: Pod
metadata:
  name: exporter-x1
  namespace: observability
  ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: exporter, controller: true}]
spec: {containers: [{name: exporter, image: "example.com/mirror/exporter:v1"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: shop}
spec: {containers: [{name: api, image: "shop/api:1"}]}
"#,
        );
        let facts = Facts::new(&cluster);
        let pod = |name: &str| {
            cluster.get("Pod", None, name).or_else(|| cluster.of_kind("Pod").find(|p| p.name == name))
        };
        let exporter = pod("exporter-x1").and_then(|pod| of_pod(&facts, pod));
        assert_eq!(
            exporter.map(|evidence| evidence.to_string()).as_deref(),
            Some("is controlled by the platform component DaemonSet/exporter")
        );
        assert_eq!(pod("api-1").and_then(|pod| of_pod(&facts, pod)), None);
    }

    #[test]
    fn evidence_in_the_bundle_decides_and_applications_stay_applications() {
        let fixture = r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: observability}
spec: {template: {spec: {containers: [{name: exporter, image: "quay.io/prometheus/node-exporter:v1.3.1"}]}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: csi-node, namespace: storage}
spec:
  template:
    spec:
      containers: [{name: plugin, image: "example.com/vendor/plugin:1"}]
      volumes: [{name: reg, hostPath: {path: /var/lib/kubelet/plugins_registry/}}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: driver, namespace: storage}
spec:
  template:
    spec:
      containers: [{name: plugin, image: "example.com/vendor/plugin:1"}]
      volumes: [{name: sock, hostPath: {path: /run/csi/block.example.com}}]
---
apiVersion: storage.k8s.io/v1
kind: CSIDriver
metadata: {name: block.example.com}
---
apiVersion: v1
kind: Pod
metadata:
  name: etcd-node-1
  namespace: infra
  annotations: {kubernetes.io/config.mirror: abc}
spec: {containers: [{name: etcd, image: "example.com/etcd-custom:3"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: aggregator, namespace: diag}
spec: {containers: [{name: main, image: "example.com/tools/aggregator:1"}], priorityClassName: system-cluster-critical}
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: logs
  namespace: diag
  ownerReferences: [{apiVersion: v1, kind: Pod, name: aggregator, controller: true}]
spec: {template: {spec: {containers: [{name: logs, image: "example.com/tools/logs:1"}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api, k8s-app: api}}
    spec:
      priorityClassName: high
      containers: [{name: api, image: "shop/api:1"}]
      volumes: [{name: data, hostPath: {path: /var/lib/shop}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: dns, namespace: shop}
spec:
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec: {containers: [{name: dns, image: "shop/dns:1"}]}
"#;
        assert_eq!(
            judged(fixture),
            [
                "DaemonSet/logs: is controlled by the platform component Pod/aggregator",
                "DaemonSet/agent: runs quay.io/prometheus/node-exporter:v1.3.1 (the Prometheus node exporter)",
                "DaemonSet/csi-node: is a CSI node plugin (hostPath /var/lib/kubelet/plugins_registry/)",
                "DaemonSet/driver: is a CSI node plugin (hostPath /run/csi/block.example.com)",
                "Deployment/api: application",
                "Deployment/dns: is labelled k8s-app=kube-dns",
                "Pod/aggregator: has priorityClassName system-cluster-critical",
                "Pod/etcd-node-1: is a static pod the kubelet runs from the node's manifests",
            ]
        );
    }
}
