//! The Services a pod talks to, read from its configuration: env values (URLs, `host=`
//! settings, `*_SERVICE_HOST`), and the ConfigMaps it takes env from or mounts. Used to make the
//! `K8sLogAnalyzer`'s "check service endpoints" suggestion concrete, and by the incident's dependency rule.
//!
//! Only names that are plainly Service addresses count: `name.namespace.svc[.cluster.local]`
//! anywhere, `name.namespace` when that namespace exists, and a bare `name` in a host position
//! (`scheme://name`, `@name`, `host=name`, `name:port`, a `*_HOST` variable) when a Service of
//! that name exists in the pod's namespace.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object, ObjectRef};
use regex::Regex;

use crate::facts::Facts;
use crate::facts::network::{backends, pod_health};

/// A Service a pod's configuration names.
#[derive(Debug, Clone)]
pub(crate) struct Dependency<'a> {
    pub(crate) reference: ObjectRef,
    /// Where it is named: `env DATABASE_HOST of container app`, `ConfigMap shop/app key db.conf`.
    pub(crate) origin: String,
    /// The Service, when the bundle holds it.
    pub(crate) service: Option<&'a Object>,
}

/// `name.namespace.svc` anywhere in a text.
static SVC: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"\b([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.svc\b").ok()
});

/// A host in a host position: after `://` (and credentials), `@`, `host=`/`host:`, or before `:port`.
static HOST: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?:://(?:[^@/\s]*@)?|@|\b(?:host|hostname|server|addr|address|endpoint)\s*[=:]\s*[",
        r#""']?)([a-z0-9][a-z0-9.-]*[a-z0-9]|[a-z0-9])|\b([a-z0-9][a-z0-9.-]*[a-z0-9]):\d{2,5}\b"#
    ))
    .ok()
});

/// The Services `pod`'s configuration names, once each, in the order they are found.
pub(crate) fn of_pod<'a>(model: &'a ClusterModel, pod: &Object) -> Vec<Dependency<'a>> {
    let namespace = pod.namespace.as_deref().unwrap_or_default();
    let mut found = Vec::new();
    let mut seen = BTreeSet::new();
    for (text, origin, host_valued) in texts(model, pod) {
        for (name, service_namespace) in hosts(model, namespace, &text, host_valued) {
            if seen.insert((service_namespace.clone(), name.clone())) {
                let service = model.get("Service", Some(&service_namespace), &name);
                let reference =
                    ObjectRef { kind: "Service".to_owned(), namespace: Some(service_namespace), name };
                found.push(Dependency { reference, origin: origin.clone(), service });
            }
        }
    }
    found
}

/// Texts of the pod's configuration with where they come from and whether the whole text is a
/// host or URL (a variable named `*_HOST`, `*_URL`, ...).
fn texts(model: &ClusterModel, pod: &Object) -> Vec<(String, String, bool)> {
    let namespace = pod.namespace.as_deref();
    let mut out = Vec::new();
    let config_map = |name: &str| model.get("ConfigMap", namespace, name);
    let mut maps: Vec<String> = Vec::new();
    for container in pod.array_at("/spec/containers").iter().chain(pod.array_at("/spec/initContainers")) {
        let container_name = container.get("name").and_then(Value::as_str).unwrap_or_default();
        for env in container.get("env").and_then(Value::as_array).unwrap_or_default() {
            let name = env.get("name").and_then(Value::as_str).unwrap_or_default();
            let origin = format!("env {name} of container {container_name}");
            if let Some(service) = name.strip_suffix("_SERVICE_HOST") {
                out.push((service.to_ascii_lowercase().replace('_', "-"), origin.clone(), true));
            }
            let upper = name.to_ascii_uppercase();
            let host_valued = ["HOST", "URL", "URI", "ADDR", "ADDRESS", "SERVER", "ENDPOINT", "DSN"]
                .iter()
                .any(|suffix| upper.ends_with(suffix));
            if let Some(value) = env.get("value").and_then(Value::as_str) {
                out.push((value.to_owned(), origin.clone(), host_valued));
            }
            let reference = env.pointer("/valueFrom/configMapKeyRef");
            let map = reference.and_then(|r| r.get("name")).and_then(Value::as_str).and_then(config_map);
            let key = reference.and_then(|r| r.get("key")).and_then(Value::as_str);
            if let (Some(map), Some(key)) = (map, key)
                && let Some(value) =
                    map.raw.pointer(&format!("/data/{}", key.replace('~', "~0").replace('/', "~1")))
                && let Some(value) = value.as_str()
            {
                out.push((value.to_owned(), origin, host_valued));
            }
        }
        for from in container.get("envFrom").and_then(Value::as_array).unwrap_or_default() {
            if let Some(name) = from.pointer("/configMapRef/name").and_then(Value::as_str) {
                maps.push(name.to_owned());
            }
        }
    }
    for volume in pod.array_at("/spec/volumes") {
        if let Some(name) = volume.pointer("/configMap/name").and_then(Value::as_str) {
            maps.push(name.to_owned());
        }
        let sources = volume.pointer("/projected/sources").and_then(Value::as_array);
        for source in sources.unwrap_or_default() {
            if let Some(name) = source.pointer("/configMap/name").and_then(Value::as_str) {
                maps.push(name.to_owned());
            }
        }
    }
    maps.dedup();
    for name in maps {
        let Some(map) = config_map(&name) else { continue };
        let data = map.at("/data").and_then(Value::as_object);
        for (key, value) in data.into_iter().flatten() {
            if let Some(value) = value.as_str() {
                let origin = format!(
                    "ConfigMap {}/{} key {key}",
                    map.namespace.as_deref().unwrap_or_default(),
                    map.name
                );
                out.push((value.to_owned(), origin, false));
            }
        }
    }
    out
}

/// `(service, namespace)` of every Service address in `text`.
fn hosts(model: &ClusterModel, namespace: &str, text: &str, host_valued: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(svc) = SVC.as_ref() {
        for captures in svc.captures_iter(text) {
            out.push((captures[1].to_owned(), captures[2].to_owned()));
        }
    }
    let mut candidates: Vec<String> = Vec::new();
    if let Some(host) = HOST.as_ref() {
        for captures in host.captures_iter(text) {
            if let Some(found) = captures.get(1).or_else(|| captures.get(2)) {
                candidates.push(found.as_str().to_ascii_lowercase());
            }
        }
    }
    if host_valued && !text.contains(char::is_whitespace) && !text.contains("://") {
        candidates.push(text.split(':').next().unwrap_or(text).to_ascii_lowercase());
    }
    for candidate in candidates {
        let labels: Vec<&str> = candidate.split('.').collect();
        match labels.as_slice() {
            // `.svc` names are found above.
            [_, _, "svc", ..] => {}
            [name, other] if namespace_exists(model, other) => {
                out.push(((*name).to_owned(), (*other).to_owned()))
            }
            [name] if model.get("Service", Some(namespace), name).is_some() => {
                out.push(((*name).to_owned(), namespace.to_owned()));
            }
            _ => {}
        }
    }
    out
}

fn namespace_exists(model: &ClusterModel, namespace: &str) -> bool {
    model.get("Namespace", None, namespace).is_some()
        || model.of_kind_in("Service", namespace).next().is_some()
}

/// Whether the dependency has a ready backend.
pub(crate) fn is_healthy(facts: &Facts<'_>, dependency: &Dependency<'_>) -> bool {
    dependency.service.is_some_and(|service| {
        service
            .at("/spec/selector")
            .is_none_or(|selector| selector.as_object().is_none_or(|map| map.is_empty()))
            || backends::of_service(facts, service).ready > 0
    })
}

/// One sentence about a dependency: whether it exists and what stands behind it.
pub(crate) fn describe(facts: &Facts<'_>, dependency: &Dependency<'_>) -> String {
    let reference = &dependency.reference;
    let name = format!("{}/{}", reference.namespace.as_deref().unwrap_or_default(), reference.name);
    let Some(service) = dependency.service else {
        // Absent from a listed kind is missing; absent from an uncaptured one, unknown.
        let why = if facts.captured("Service").is_listed() {
            "no such Service is in the bundle"
        } else {
            "the bundle holds no Services to check it against"
        };
        return format!("Service {name} (named in {}): {why}", dependency.origin);
    };
    let selector = service.at("/spec/selector").and_then(Value::as_object).filter(|map| !map.is_empty());
    if selector.is_none() {
        return format!(
            "Service {name} (named in {}) has no selector: its endpoints are managed by hand",
            dependency.origin
        );
    }
    let backends = backends::of_service(facts, service);
    let mut text = format!("Service {name} (named in {}): {}", dependency.origin, backends.describe());
    let troubles: Vec<String> = backends
        .pods
        .iter()
        .filter_map(|pod| pod_health::trouble(pod).map(|trouble| format!("{} {trouble}", pod.name)))
        .take(3)
        .collect();
    if backends.pods.is_empty() {
        text.push_str("; its selector matches no pod");
    } else if !troubles.is_empty() {
        text.push_str(&format!("; {}", troubles.join("; ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_from_yaml;

    const FIXTURE: &str = r#"
kind: Namespace
apiVersion: v1
metadata: {name: data}
---
kind: Service
apiVersion: v1
metadata: {name: cache, namespace: shop}
spec: {selector: {app: cache}}
---
kind: Service
apiVersion: v1
metadata: {name: pg, namespace: data}
spec: {selector: {app: pg}}
---
kind: Pod
apiVersion: v1
metadata: {name: pg-0, namespace: data, labels: {app: pg}}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
---
kind: ConfigMap
apiVersion: v1
metadata: {name: app, namespace: shop}
data: {db.conf: "host=postgres-service.default.svc.cluster.local\nport=5432\n"}
---
kind: Pod
apiVersion: v1
metadata: {name: api-1, namespace: shop}
spec:
  containers:
  - name: api
    image: api:1
    env:
    - {name: DATABASE_URL, value: "postgres://u:p@pg.data:5432/app"}
    - {name: CACHE_HOST, value: cache}
    - {name: GREETING, value: "cache is a word here"}
  volumes: [{name: config, configMap: {name: app}}]
"#;

    #[test]
    fn finds_services_in_env_urls_hosts_and_mounted_config_maps() {
        let cluster = model_from_yaml(FIXTURE);
        let model = Facts::new(&cluster);
        let pod = model.cluster().get("Pod", Some("shop"), "api-1").unwrap();
        let found: Vec<String> = of_pod(model.cluster(), pod)
            .iter()
            .map(|dependency| format!("{} {}", describe(&model, dependency), is_healthy(&model, dependency)))
            .collect();
        assert_eq!(
            found,
            [
                "Service data/pg (named in env DATABASE_URL of container api): the bundle holds no Endpoints or \
                 EndpointSlices; 1 of 1 matching pods are Ready true",
                "Service shop/cache (named in env CACHE_HOST of container api): the bundle holds no Endpoints or \
                 EndpointSlices; 0 of 0 matching pods are Ready; its selector matches no pod false",
                "Service default/postgres-service (named in ConfigMap shop/app key db.conf): no such Service is in \
                 the bundle false",
            ]
        );
    }

    #[test]
    fn a_named_service_is_missing_only_where_services_were_listed() {
        let fixture = r#"
kind: Pod
apiVersion: v1
metadata: {name: api-1, namespace: shop}
spec:
  containers:
  - name: api
    image: api:1
    env: [{name: DATABASE_URL, value: "postgres://u:p@pg.data.svc:5432/app"}]
"#;
        let describe = |model: &ClusterModel| {
            let model = Facts::new(model);
            let pod = model.cluster().get("Pod", Some("shop"), "api-1").unwrap();
            of_pod(model.cluster(), pod)
                .iter()
                .map(|dependency| describe(&model, dependency))
                .collect::<Vec<_>>()
        };
        let mut model = model_from_yaml(fixture);
        assert_eq!(
            describe(&model),
            [
                "Service data/pg (named in env DATABASE_URL of container api): the bundle holds no Services to \
                 check it against"
            ]
        );
        // An empty ServiceList: the Service does not exist.
        model.listed_kinds.insert("Service".to_owned());
        assert_eq!(
            describe(&model),
            [
                "Service data/pg (named in env DATABASE_URL of container api): no such Service is in the bundle"
            ]
        );
    }
}
