//! What stands behind a Service: its ready and not-ready endpoint addresses (from its
//! EndpointSlices, else its Endpoints), the pods its selector matches, and the Ingresses that
//! route to it. Shared by the Service, Ingress and webhook diagnostics.

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object, ObjectRef};

use super::{pod_health, selector};
use crate::facts::Facts;

/// Where the endpoint counts came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// EndpointSlices labelled `kubernetes.io/service-name=<name>`.
    Slices(Vec<ObjectRef>),
    /// The Endpoints object of the same name.
    Endpoints(ObjectRef),
    /// The bundle listed Endpoints or EndpointSlices (maybe emptily), but none for this Service.
    Missing,
    /// The bundle listed neither kind: the counts are the matching pods' readiness instead.
    NotCollected,
}

/// The endpoints of one Service.
#[derive(Debug)]
pub(crate) struct Backends<'a> {
    pub(crate) source: Source,
    pub(crate) ready: usize,
    pub(crate) not_ready: usize,
    /// Pods of the namespace its selector matches that are not finished or deleting.
    pub(crate) pods: Vec<&'a Object>,
}

impl Backends<'_> {
    /// `3 ready, 1 not ready addresses (EndpointSlice shop/api-x7k2)`: for notes.
    pub(crate) fn describe(&self) -> String {
        let counts = format!("{} ready, {} not ready addresses", self.ready, self.not_ready);
        match &self.source {
            Source::Slices(slices) => {
                let names: Vec<String> = slices.iter().map(|slice| slice.name.clone()).collect();
                format!("{counts} in EndpointSlices {}", names.join(", "))
            }
            Source::Endpoints(endpoints) => format!("{counts} in Endpoints {}", endpoints.name),
            Source::Missing => "no Endpoints or EndpointSlice exists for it".to_owned(),
            Source::NotCollected => format!(
                "the bundle holds no Endpoints or EndpointSlices; {} of {} matching pods are Ready",
                self.ready,
                self.pods.len()
            ),
        }
    }
}

/// Whether the bundle shows Services' endpoints: it holds EndpointSlices, or it listed
/// Endpoints or EndpointSlices, maybe emptily (then a Service without any has none). Without
/// either, a Service's matching pods are all there is to count.
pub(crate) fn endpoints_captured(model: &ClusterModel) -> bool {
    model.has_kind("EndpointSlice")
        || model.captured("Endpoints").is_listed()
        || model.captured("EndpointSlice").is_listed()
}

/// The endpoints of `service` (a Service with a selector). Whether the bundle shows endpoints
/// at all is asked of the [`Model`], which answers it once per run: on a native bundle holding
/// no endpoint object the answer is a search of the whole manifest.
pub(crate) fn of_service<'a>(facts: &'a Facts<'_>, service: &'a Object) -> Backends<'a> {
    let namespace = service.namespace.as_deref().unwrap_or_default();
    let selector = selector::service_selector(service);
    let pods: Vec<&Object> = facts
        .cluster()
        .of_kind_in("Pod", namespace)
        .filter(|pod| pod.matches_labels(&selector) && !pod_health::is_gone(pod))
        .collect();
    let slices: Vec<&Object> = facts
        .cluster()
        .of_kind_in("EndpointSlice", namespace)
        .filter(|slice| slice.label("kubernetes.io/service-name") == Some(service.name.as_str()))
        .collect();
    if !slices.is_empty() {
        let (mut ready, mut not_ready) = (0, 0);
        for endpoint in slices.iter().flat_map(|slice| slice.array_at("/endpoints")) {
            // A nil `ready` means ready (discovery.k8s.io/v1): only an explicit false is not.
            let is_ready = endpoint.pointer("/conditions/ready").and_then(Value::as_bool) != Some(false);
            let addresses = endpoint.get("addresses").and_then(Value::as_array).map_or(1, <[Value]>::len);
            if is_ready { ready += addresses } else { not_ready += addresses }
        }
        let source = Source::Slices(slices.iter().map(|slice| slice.reference()).collect());
        return Backends { source, ready, not_ready, pods };
    }
    if let Some(endpoints) = facts.cluster().get("Endpoints", Some(namespace), &service.name) {
        let count = |key: &str| {
            endpoints
                .array_at("/subsets")
                .iter()
                .map(|subset| subset.get(key).and_then(Value::as_array).map_or(0, <[Value]>::len))
                .sum()
        };
        return Backends {
            source: Source::Endpoints(endpoints.reference()),
            ready: count("addresses"),
            not_ready: count("notReadyAddresses"),
            pods,
        };
    }
    if facts.endpoints_captured() {
        return Backends { source: Source::Missing, ready: 0, not_ready: 0, pods };
    }
    let ready = pods.iter().filter(|pod| pod_health::is_ready(pod)).count();
    Backends { source: Source::NotCollected, ready, not_ready: pods.len() - ready, pods }
}

/// A Service port an Ingress names: by number or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PortRef {
    Number(i64),
    Name(String),
    /// The backend names no port (allowed only for a Service with one port).
    Unset,
}

impl std::fmt::Display for PortRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortRef::Number(number) => write!(f, "{number}"),
            PortRef::Name(name) => f.write_str(name),
            PortRef::Unset => f.write_str("(no port)"),
        }
    }
}

/// One Service backend of an Ingress: a rule path or the default backend.
#[derive(Debug, Clone)]
pub(crate) struct IngressBackend {
    pub(crate) service: String,
    pub(crate) port: PortRef,
    /// JSON pointer of the backend in the Ingress.
    pub(crate) pointer: String,
    /// `shop.example.com/api` or `default backend`.
    pub(crate) route: String,
}

/// Every Service backend of an Ingress, networking.k8s.io/v1 (`service.name`, `service.port`)
/// and the older v1beta1 shape (`serviceName`, `servicePort`) alike; resource backends skipped.
pub(crate) fn ingress_backends(ingress: &Object) -> Vec<IngressBackend> {
    let mut out = Vec::new();
    for pointer in ["/spec/defaultBackend", "/spec/backend"] {
        if let Some(backend) = ingress.at(pointer) {
            out.extend(backend_of(backend, pointer.to_owned(), "default backend".to_owned()));
        }
    }
    for (rule_index, rule) in ingress.array_at("/spec/rules").iter().enumerate() {
        let host = rule.get("host").and_then(Value::as_str).unwrap_or("*");
        let paths = rule.pointer("/http/paths").and_then(Value::as_array).unwrap_or_default();
        for (path_index, path) in paths.iter().enumerate() {
            let Some(backend) = path.get("backend") else { continue };
            let route = format!("{host}{}", path.get("path").and_then(Value::as_str).unwrap_or("/"));
            let pointer = format!("/spec/rules/{rule_index}/http/paths/{path_index}/backend");
            out.extend(backend_of(backend, pointer, route));
        }
    }
    out
}

fn backend_of(backend: &Value, pointer: String, route: String) -> Option<IngressBackend> {
    let port_of = |value: Option<&Value>| match value {
        Some(Value::Number(number)) => number.as_i64().map_or(PortRef::Unset, PortRef::Number),
        Some(Value::String(name)) => match name.parse() {
            Ok(number) => PortRef::Number(number),
            Err(_) => PortRef::Name(name.to_string()),
        },
        _ => PortRef::Unset,
    };
    if let Some(service) = backend.get("service") {
        let name = service.get("name").and_then(Value::as_str)?.to_owned();
        let port = match service.pointer("/port/number") {
            Some(number) => port_of(Some(number)),
            None => port_of(service.pointer("/port/name")),
        };
        return Some(IngressBackend { service: name, port, pointer, route });
    }
    let name = backend.get("serviceName").and_then(Value::as_str)?.to_owned();
    Some(IngressBackend { service: name, port: port_of(backend.get("servicePort")), pointer, route })
}

/// The Ingresses of the Service's namespace that route to it, by reference.
pub(crate) fn ingresses_to(model: &ClusterModel, service: &Object) -> Vec<ObjectRef> {
    let namespace = service.namespace.as_deref().unwrap_or_default();
    model
        .of_kind_in("Ingress", namespace)
        .filter(|ingress| ingress_backends(ingress).iter().any(|backend| backend.service == service.name))
        .map(Object::reference)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_from_yaml;

    #[test]
    fn counts_slices_then_endpoints_then_pods() {
        let model = model_from_yaml(
            r#"
kind: Service
apiVersion: v1
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}}
---
kind: EndpointSlice
apiVersion: discovery.k8s.io/v1
metadata: {name: api-x1, namespace: shop, labels: {kubernetes.io/service-name: api}}
endpoints:
- {addresses: [10.0.0.1], conditions: {ready: true}}
- {addresses: [10.0.0.2], conditions: {ready: false}}
- {addresses: [10.0.0.3]}
---
kind: Ingress
apiVersion: networking.k8s.io/v1beta1
metadata: {name: web, namespace: shop}
spec:
  backend: {serviceName: api, servicePort: http}
  rules: [{host: a.example, http: {paths: [{path: /v1, backend: {serviceName: api, servicePort: 80}}]}}]
"#,
        );
        let service = model.get("Service", Some("shop"), "api").unwrap();
        let model = Facts::new(&model);
        let backends = of_service(&model, service);
        assert_eq!((backends.ready, backends.not_ready), (2, 1));
        assert_eq!(backends.describe(), "2 ready, 1 not ready addresses in EndpointSlices api-x1");
        let ingress = model.cluster().get("Ingress", Some("shop"), "web").unwrap();
        let routes: Vec<(String, PortRef)> =
            ingress_backends(ingress).into_iter().map(|b| (b.route, b.port)).collect();
        assert_eq!(
            routes,
            [
                ("default backend".to_owned(), PortRef::Name("http".into())),
                ("a.example/v1".to_owned(), PortRef::Number(80))
            ]
        );
        assert_eq!(ingresses_to(model.cluster(), service).len(), 1);
    }

    #[test]
    fn an_empty_endpoints_list_means_the_service_has_none() {
        let mut model = model_from_yaml(
            r#"
kind: Service
apiVersion: v1
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}}
---
kind: Pod
apiVersion: v1
metadata: {name: api-1, namespace: shop, labels: {app: api}}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
"#,
        );
        // A fresh Model each time: its answer is cached for the run.
        let describe = |model: &ClusterModel| {
            let service = model.get("Service", Some("shop"), "api").unwrap();
            let model = Facts::new(model);
            let backends = of_service(&model, service);
            (backends.describe(), backends.source)
        };
        assert_eq!(
            describe(&model),
            (
                "the bundle holds no Endpoints or EndpointSlices; 1 of 1 matching pods are Ready".to_owned(),
                Source::NotCollected
            )
        );
        // An empty EndpointsList: no endpoint object exists for any Service.
        model.listed_kinds.insert("Endpoints".to_owned());
        assert_eq!(
            describe(&model),
            ("no Endpoints or EndpointSlice exists for it".to_owned(), Source::Missing)
        );
    }
}
