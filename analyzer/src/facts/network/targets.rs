//! Where a client's failing connections go: the targets (host and port) its log lines and its
//! env name, resolved against the bundle: the Namespaces, the Services (ExternalName too), their
//! ready backends and ports, the NetworkPolicies that select those backends, the pods' and
//! Services' IPs. The verdict says which of: the name does not exist in the cluster, the Service
//! has no ready endpoint (and why), the port does not match, it is up and ready (suspect
//! credentials, policy or the app), it is the container itself (`localhost`), or it is outside
//! the cluster.
//!
//! Read by the incident's `dependency-down` root cause.

use std::sync::LazyLock;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{Object, ObjectRef, labels_match};
use regex::Regex;

use crate::facts::Facts;
use crate::facts::network::backends;
use crate::facts::network::selector::service_selector;

/// A host (and port) a client tries to reach.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Target {
    pub(crate) host: String,
    pub(crate) port: Option<u16>,
    /// `log of pod api-1`, `env DB_URL of container api`.
    pub(crate) origin: String,
}

/// What the bundle says about a target, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verdict {
    NoSuchNamespace,
    NoSuchName,
    NoReadyEndpoint,
    PortMismatch,
    Itself,
    Outside,
    Ready,
}

/// A target resolved: the verdict, a sentence that says it, and the Service when there is one.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub(crate) target: Target,
    pub(crate) verdict: Verdict,
    pub(crate) sentence: String,
    pub(crate) service: Option<ObjectRef>,
}

static PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"dial tcp \[?([A-Za-z0-9.:-]*[A-Za-z0-9])\]?:(\d{1,5})\b",
        r#"connection to server at "([^"]+)"(?: \([^)]*\))?, port (\d{1,5})"#,
        r#"could not translate host name "([^"]+)""#,
        r"lookup ([A-Za-z0-9.-]+[A-Za-z0-9])(?: on [0-9.:\[\]]+)?: no such host",
        r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN) ([A-Za-z0-9.-]+[A-Za-z0-9])",
        r"(?i)\b(?:postgres(?:ql)?|mysql|mongodb(?:\+srv)?|redis|amqp|https?|nats|kafka)://(?:[^@/\s]*@)?([A-Za-z0-9.-]+[A-Za-z0-9])(?::(\d{1,5}))?",
        r"(?i)\bconnect(?:ing|ion)? (?:to|refused to) ([A-Za-z][A-Za-z0-9.-]*[A-Za-z0-9]):(\d{1,5})\b",
    ]
    .iter()
    .filter_map(|pattern| Regex::new(pattern).ok())
    .collect()
});

/// The targets a text names (a log line, an env value), once each.
pub(crate) fn in_text(text: &str, origin: &str) -> Vec<Target> {
    let mut out: Vec<Target> = Vec::new();
    for pattern in PATTERNS.iter() {
        for captures in pattern.captures_iter(text) {
            let host = captures[1].to_ascii_lowercase();
            let port = captures.get(2).and_then(|port| port.as_str().parse().ok());
            if host.is_empty() || out.iter().any(|t| t.host == host && (t.port == port || port.is_none())) {
                continue;
            }
            out.retain(|t| !(t.host == host && t.port.is_none()));
            out.push(Target { host, port, origin: origin.to_owned() });
        }
    }
    out
}

/// The targets of a pod's env values whose name says they hold an address (`*_HOST`, `*_URL`,
/// `*_DSN`, ...), with a bare host name taken as it is.
pub(crate) fn in_env(pod: &Object) -> Vec<Target> {
    let mut out = Vec::new();
    for container in pod.array_at("/spec/containers") {
        let container_name = container.get("name").and_then(Value::as_str).unwrap_or_default();
        for env in container.get("env").and_then(Value::as_array).unwrap_or_default() {
            let name = env.get("name").and_then(Value::as_str).unwrap_or_default();
            let Some(value) = env.get("value").and_then(Value::as_str) else { continue };
            let upper = name.to_ascii_uppercase();
            let addressy = ["HOST", "URL", "URI", "ADDR", "ADDRESS", "SERVER", "ENDPOINT", "DSN"]
                .iter()
                .any(|suffix| upper.ends_with(suffix));
            if !addressy || value.contains("***") {
                continue;
            }
            let origin = format!("env {name} of container {container_name}");
            let mut found = in_text(value, &origin);
            let bare = value.trim();
            // A bare word is a host only in a variable that names one (`DB_HOST`, `REDIS_SERVER`),
            // never a switch (`SOCKET_REUSE_ADDRESS=true`) or a number.
            let host_named = ["HOST", "HOSTNAME", "SERVER"].iter().any(|suffix| upper.ends_with(suffix));
            let switch =
                matches!(bare.to_ascii_lowercase().as_str(), "true" | "false" | "yes" | "no" | "on" | "off");
            if found.is_empty()
                && host_named
                && !switch
                && !bare.is_empty()
                && bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == ':')
                && bare.chars().any(|c| c.is_ascii_alphabetic())
            {
                let (host, port) = match bare.rsplit_once(':') {
                    Some((host, port)) => (host, port.parse().ok()),
                    None => (bare, None),
                };
                found.push(Target { host: host.to_ascii_lowercase(), port, origin });
            }
            out.extend(found);
        }
    }
    out
}

fn is_ipv4(host: &str) -> bool {
    host.split('.').count() == 4 && host.split('.').all(|part| part.parse::<u8>().is_ok())
}

/// Resolves one target as seen from `client`, a pod of `namespace` (on the node's network
/// when `client` uses `hostNetwork`: then `localhost` is the node).
pub(crate) fn resolve(
    facts: &Facts<'_>,
    namespace: &str,
    client: Option<&Object>,
    target: &Target,
) -> Resolved {
    let model = facts.cluster();
    let host = target.host.trim_end_matches('.');
    let done = |verdict, sentence: String, service: Option<ObjectRef>| Resolved {
        target: target.clone(),
        verdict,
        sentence,
        service,
    };
    let port = target.port.map(|port| format!(":{port}")).unwrap_or_default();
    if matches!(host, "localhost" | "127.0.0.1" | "::1") {
        let node = client
            .filter(|pod| pod.at("/spec/hostNetwork").and_then(Value::as_bool) == Some(true))
            .and_then(|pod| pod.str_at("/spec/nodeName"));
        if let Some(node) = node {
            let listener = target.port.and_then(|port| {
                model.pods_on_node(node).find(|other| {
                    other.at("/spec/hostNetwork").and_then(Value::as_bool) == Some(true)
                        && other.array_at("/spec/containers").iter().any(|c| {
                            c.get("ports").and_then(Value::as_array).unwrap_or_default().iter().any(|p| {
                                p.get("containerPort").and_then(Value::as_i64) == Some(i64::from(port))
                                    || p.get("hostPort").and_then(Value::as_i64) == Some(i64::from(port))
                            })
                        })
                })
            });
            return match listener {
                Some(pod) => match crate::facts::network::pod_health::trouble(pod) {
                    Some(trouble) => done(
                        Verdict::NoReadyEndpoint,
                        format!(
                            "{host}{port} is pod {} on the same node (host network): {trouble}",
                            short(pod)
                        ),
                        None,
                    ),
                    None => done(
                        Verdict::Ready,
                        format!(
                            "{host}{port} is pod {} on the same node (host network), which is Ready now",
                            short(pod)
                        ),
                        None,
                    ),
                },
                None => done(
                    Verdict::Itself,
                    format!(
                        "{host}{port} is node {node} itself (host network): no pod of the bundle declares \
                         that port there"
                    ),
                    None,
                ),
            };
        }
        return done(
            Verdict::Itself,
            format!(
                "{host}{port} is the pod itself: nothing in the pod listens there, or the address should \
                 name a Service"
            ),
            None,
        );
    }
    if is_ipv4(host) {
        if let Some(service) = model.of_kind("Service").find(|s| s.str_at("/spec/clusterIP") == Some(host)) {
            return of_service(
                facts,
                service,
                target,
                &format!("{host}{port} (the ClusterIP of Service {})", short(service)),
            );
        }
        if let Some(pod) = model.of_kind("Pod").find(|p| p.str_at("/status/podIP") == Some(host)) {
            let state = crate::facts::network::pod_health::trouble(pod).unwrap_or_else(|| "Ready".to_owned());
            let verdict = if state == "Ready" { Verdict::Ready } else { Verdict::NoReadyEndpoint };
            return done(verdict, format!("{host}{port} is pod {}: {state}", short(pod)), None);
        }
        return done(
            Verdict::Outside,
            format!(
                "{host}{port} is the IP of no Service or pod in the bundle: outside the cluster, or an address that changed"
            ),
            None,
        );
    }
    let parts: Vec<&str> = host.split('.').collect();
    let cluster_suffix = host.ends_with(".svc") || host.contains(".svc.");
    let namespace_exists = |ns: &str| {
        model.get("Namespace", None, ns).is_some()
            || model.of_kind_in("Service", ns).next().is_some()
            || model.of_kind_in("Pod", ns).next().is_some()
    };
    let (name, service_namespace) = match parts.as_slice() {
        [name] => (*name, namespace.to_owned()),
        [name, ns, ..] if cluster_suffix || (parts.len() == 2 && namespace_exists(ns)) => {
            (*name, (*ns).to_owned())
        }
        _ => {
            return done(
                Verdict::Outside,
                format!(
                    "{host}{port} is outside the cluster (not a Service address): the bundle cannot tell whether it answers"
                ),
                None,
            );
        }
    };
    let reference = ObjectRef {
        kind: "Service".to_owned(),
        namespace: Some(service_namespace.clone()),
        name: name.to_owned(),
    };
    if cluster_suffix
        && model.has_kind("Namespace")
        && model.get("Namespace", None, &service_namespace).is_none()
    {
        let elsewhere: Vec<String> =
            model.of_kind("Service").filter(|s| s.name == name).map(short).take(3).collect();
        let hint = match elsewhere.as_slice() {
            [] => String::new(),
            found => format!(" (a Service {name} exists in {})", found.join(", ")),
        };
        return done(
            Verdict::NoSuchNamespace,
            format!("{host}{port}: namespace {service_namespace} does not exist in the cluster{hint}"),
            Some(reference),
        );
    }
    let Some(service) = model.get("Service", Some(&service_namespace), name) else {
        let elsewhere: Vec<String> =
            model.of_kind("Service").filter(|s| s.name == name).map(short).take(3).collect();
        let hint = match elsewhere.as_slice() {
            [] => String::new(),
            found => format!(" (a Service of that name exists in {})", found.join(", ")),
        };
        return done(
            Verdict::NoSuchName,
            format!(
                "{host}{port}: no Service {name} in namespace {service_namespace}: the name does not exist in the cluster{hint}"
            ),
            Some(reference),
        );
    };
    of_service(facts, service, target, &format!("{host}{port}"))
}

fn short(object: &Object) -> String {
    format!("{}/{}", object.namespace.as_deref().unwrap_or_default(), object.name)
}

fn of_service(facts: &Facts<'_>, service: &Object, target: &Target, said: &str) -> Resolved {
    let model = facts.cluster();
    let reference = service.reference();
    let done = |verdict, sentence: String| Resolved {
        target: target.clone(),
        verdict,
        sentence,
        service: Some(reference.clone()),
    };
    if service.str_at("/spec/type") == Some("ExternalName") {
        let external = service.str_at("/spec/externalName").unwrap_or_default();
        return done(
            Verdict::Outside,
            format!(
                "{said}: Service {} is an ExternalName for {external}, outside the cluster",
                short(service)
            ),
        );
    }
    let ports: Vec<i64> = service
        .array_at("/spec/ports")
        .iter()
        .filter_map(|p| p.get("port").and_then(Value::as_i64))
        .collect();
    if let Some(port) = target.port
        && !ports.is_empty()
        && !ports.contains(&i64::from(port))
    {
        let shown: Vec<String> = ports.iter().map(i64::to_string).collect();
        return done(
            Verdict::PortMismatch,
            format!("{said}: Service {} has no port {port} (it serves {})", short(service), shown.join(", ")),
        );
    }
    if service_selector(service).is_empty() {
        return done(
            Verdict::Ready,
            format!("{said}: Service {} has no selector (its endpoints are managed by hand)", short(service)),
        );
    }
    let found = backends::of_service(facts, service);
    if found.ready == 0 {
        let troubles: Vec<String> = found
            .pods
            .iter()
            .filter_map(|pod| {
                super::pod_health::trouble(pod).map(|trouble| format!("{} {trouble}", pod.name))
            })
            .take(3)
            .collect();
        let why = match (found.pods.is_empty(), troubles.is_empty()) {
            (true, _) => match scaled_to_zero(model, service) {
                Some(workload) => {
                    format!("its selector matches no running pod: {workload} is scaled to 0 replicas")
                }
                None => "its selector matches no running pod".to_owned(),
            },
            (false, true) => found.describe(),
            (false, false) => format!("{}; {}", found.describe(), troubles.join("; ")),
        };
        return done(
            Verdict::NoReadyEndpoint,
            format!("{said}: Service {} has no ready endpoint: {why}", short(service)),
        );
    }
    if let Some(sentence) = target_port_undeclared(service, &found.pods, target.port) {
        return done(Verdict::PortMismatch, format!("{said}: Service {} {sentence}", short(service)));
    }
    let namespace = service.namespace.as_deref().unwrap_or_default();
    let policies: Vec<String> = model
        .of_kind_in("NetworkPolicy", namespace)
        .filter(|policy| {
            let selector: std::collections::BTreeMap<String, String> = policy
                .at("/spec/podSelector/matchLabels")
                .and_then(Value::as_object)
                .map(|map| {
                    map.iter()
                        .map(|(k, v)| (k.to_string(), v.as_str().unwrap_or_default().to_owned()))
                        .collect()
                })
                .unwrap_or_default();
            let ingress = policy.array_at("/spec/policyTypes").iter().any(|t| t.as_str() == Some("Ingress"))
                || policy.at("/spec/ingress").is_some();
            ingress && found.pods.iter().any(|pod| pod.matches_labels(&selector))
        })
        .map(|policy| policy.name.clone())
        .collect();
    let policy = match policies.as_slice() {
        [] => String::new(),
        names => {
            format!("; NetworkPolicies {} select its pods: check they admit the client", names.join(", "))
        }
    };
    done(
        Verdict::Ready,
        format!(
            "{said}: Service {} is up with {} ready endpoints: suspect credentials, policy or the application{policy}",
            short(service),
            found.ready
        ),
    )
}

/// A Service port that sends traffic to a number its pods do not serve, shown by the pods
/// themselves: none of them declares the numeric targetPort, and a container port carries the
/// Service port's own name under another number (`http` → 9200 while targetPort is 8080). The
/// author meant that port; declaring ports is optional, so pods that declare none, or declare
/// the target, or no port of the name, are never judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MisroutedPort {
    /// The Service port's name.
    pub(crate) name: String,
    pub(crate) port: i64,
    pub(crate) target: i64,
    /// The number the pods give the name.
    pub(crate) served: i64,
}

/// The misrouted ports of `service` against `pods` (its backends), in the Service's order.
pub(crate) fn misrouted_ports(service: &Object, pods: &[&Object]) -> Vec<MisroutedPort> {
    let declared: Vec<(&str, i64)> = pods
        .iter()
        .flat_map(|pod| pod.array_at("/spec/containers").iter())
        .flat_map(|container| container.get("ports").and_then(Value::as_array).unwrap_or_default().iter())
        .filter_map(|p| {
            Some((
                p.get("name").and_then(Value::as_str).unwrap_or_default(),
                p.get("containerPort")?.as_i64()?,
            ))
        })
        .collect();
    if declared.is_empty() {
        return Vec::new();
    }
    service
        .array_at("/spec/ports")
        .iter()
        .filter_map(|port| {
            let name = port.get("name").and_then(Value::as_str).filter(|name| !name.is_empty())?;
            let number = port.get("port").and_then(Value::as_i64)?;
            let target = match port.get("targetPort") {
                None => number,
                Some(value) => {
                    value.as_i64().or_else(|| value.as_str().and_then(|text| text.parse().ok()))?
                }
            };
            if declared.iter().any(|(_, declared)| *declared == target) {
                return None;
            }
            let served =
                declared.iter().find(|(declared, _)| *declared == name).map(|(_, number)| *number)?;
            Some(MisroutedPort { name: name.to_owned(), port: number, target, served })
        })
        .collect()
}

/// The Service port a client dials (the one numbered `port`, else the only one) sends to a
/// numeric targetPort that none of the Service's pods declares while they declare others:
/// `sends port 80 to targetPort 8080, which its pods do not declare (they declare 9200)`.
/// Declaring ports is optional, so pods that declare none are not judged.
fn target_port_undeclared(service: &Object, pods: &[&Object], port: Option<u16>) -> Option<String> {
    let ports = service.array_at("/spec/ports");
    let chosen = match port {
        Some(port) => {
            ports.iter().find(|p| p.get("port").and_then(Value::as_i64) == Some(i64::from(port)))?
        }
        None if ports.len() == 1 => ports.first()?,
        None => return None,
    };
    let number = chosen.get("port").and_then(Value::as_i64)?;
    let target = match chosen.get("targetPort") {
        None => number,
        Some(value) => value.as_i64().or_else(|| value.as_str().and_then(|text| text.parse().ok()))?,
    };
    let mut declared: Vec<i64> = pods
        .iter()
        .flat_map(|pod| pod.array_at("/spec/containers").iter())
        .flat_map(|container| container.get("ports").and_then(Value::as_array).unwrap_or_default().iter())
        .filter_map(|p| p.get("containerPort").and_then(Value::as_i64))
        .collect();
    declared.sort_unstable();
    declared.dedup();
    if declared.is_empty() || declared.contains(&target) {
        return None;
    }
    let shown: Vec<String> = declared.iter().map(i64::to_string).collect();
    Some(format!(
        "sends port {number} to targetPort {target}, which its pods do not declare (they declare {}): connections are refused although its endpoints are ready",
        shown.join(", ")
    ))
}

/// The Deployment or StatefulSet whose pod template the Service selects and that wants 0
/// replicas (`spec.replicas: 0`): why the Service has no pod at all.
fn scaled_to_zero(model: &kubesnap_shared::model::ClusterModel, service: &Object) -> Option<String> {
    let selector = service_selector(service);
    let namespace = service.namespace.as_deref().unwrap_or_default();
    ["Deployment", "StatefulSet"].into_iter().find_map(|kind| {
        model.of_kind_in(kind, namespace).find_map(|workload| {
            let labels: std::collections::BTreeMap<String, String> = workload
                .at("/spec/template/metadata/labels")
                .and_then(Value::as_object)
                .map(|map| {
                    map.iter()
                        .map(|(k, v)| (k.to_string(), v.as_str().unwrap_or_default().to_owned()))
                        .collect()
                })
                .unwrap_or_default();
            (workload.i64_at("/spec/replicas") == Some(0) && labels_match(&selector, &labels))
                .then(|| format!("{kind} {}", workload.name))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_from_yaml;

    #[test]
    fn finds_targets_in_log_words() {
        let hosts = |text: &str| -> Vec<String> {
            in_text(text, "log").into_iter().map(|t| format!("{}:{:?}", t.host, t.port)).collect()
        };
        assert_eq!(hosts("dial tcp 10.0.0.9:5432: connect: connection refused"), ["10.0.0.9:Some(5432)"]);
        assert_eq!(hosts(r#"could not translate host name "db" to address"#), ["db:None"]);
        assert_eq!(hosts("postgres://user:pw@pg.data.svc:5432/app"), ["pg.data.svc:Some(5432)"]);
        assert_eq!(hosts("12:00:01 ERROR timeout"), Vec::<String>::new());
    }

    #[test]
    fn resolves_against_services_endpoints_and_ports() {
        let model = model_from_yaml(
            r#"
kind: Namespace
apiVersion: v1
metadata: {name: data}
---
kind: Service
apiVersion: v1
metadata: {name: pg, namespace: data}
spec: {selector: {app: pg}, ports: [{port: 5432}], clusterIP: 10.96.0.7}
---
kind: Pod
apiVersion: v1
metadata: {name: pg-0, namespace: data, labels: {app: pg}}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
"#,
        );
        let facts = Facts::new(&model);
        let verdict = |host: &str, port: Option<u16>| {
            let r = resolve(
                &facts,
                "shop",
                None,
                &Target { host: host.to_owned(), port, origin: "log".to_owned() },
            );
            (r.verdict, r.sentence)
        };
        assert_eq!(verdict("pg.data.svc.cluster.local", Some(5432)).0, Verdict::Ready);
        assert_eq!(verdict("pg.data.svc", Some(3306)).0, Verdict::PortMismatch);
        let (missing, sentence) = verdict("db", Some(5432));
        assert_eq!(missing, Verdict::NoSuchName);
        assert!(sentence.contains("no Service db in namespace shop"), "{sentence}");
        assert_eq!(verdict("pg.nowhere.svc", None).0, Verdict::NoSuchNamespace);
        assert_eq!(verdict("10.96.0.7", Some(5432)).0, Verdict::Ready);
        assert_eq!(verdict("db.example.com", Some(5432)).0, Verdict::Outside);
        assert_eq!(verdict("localhost", Some(5432)).0, Verdict::Itself);
    }

    #[test]
    fn a_target_port_its_pods_do_not_declare_is_a_port_mismatch() {
        let model = model_from_yaml(
            r#"
kind: Service
apiVersion: v1
metadata: {name: search, namespace: shop}
spec: {selector: {app: search}, ports: [{port: 80, targetPort: 8080}]}
---
kind: Pod
apiVersion: v1
metadata: {name: search-1, namespace: shop, labels: {app: search}}
spec: {containers: [{name: search, ports: [{containerPort: 9200}]}]}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
"#,
        );
        let facts = Facts::new(&model);
        let target = Target { host: "search".to_owned(), port: None, origin: "log".to_owned() };
        let resolved = resolve(&facts, "shop", None, &target);
        assert_eq!(resolved.verdict, Verdict::PortMismatch, "{}", resolved.sentence);
        assert!(
            resolved.sentence.contains(
                "sends port 80 to targetPort 8080, which its pods do not declare (they declare 9200)"
            ),
            "{}",
            resolved.sentence
        );
        let declared = model_from_yaml(
            "kind: Service\napiVersion: v1\nmetadata: {name: search, namespace: shop}\nspec: {selector: {app: search}, ports: [{port: 80, targetPort: 9200}]}\n---\nkind: Pod\napiVersion: v1\nmetadata: {name: search-1, namespace: shop, labels: {app: search}}\nspec: {containers: [{name: search, ports: [{containerPort: 9200}]}]}\nstatus: {phase: Running, conditions: [{type: Ready, status: \"True\"}]}\n",
        );
        assert_eq!(resolve(&Facts::new(&declared), "shop", None, &target).verdict, Verdict::Ready);
    }

    #[test]
    fn a_service_without_pods_says_its_workload_is_scaled_to_zero() {
        let model = model_from_yaml(
            r#"
kind: Service
apiVersion: v1
metadata: {name: inventory, namespace: shop}
spec: {selector: {app: inventory}, ports: [{port: 8080}]}
---
kind: Deployment
apiVersion: apps/v1
metadata: {name: inventory, namespace: shop}
spec: {replicas: 0, template: {metadata: {labels: {app: inventory, tier: backend}}}}
"#,
        );
        let facts = Facts::new(&model);
        let target = Target { host: "inventory".to_owned(), port: Some(8080), origin: "log".to_owned() };
        let resolved = resolve(&facts, "shop", None, &target);
        assert_eq!(resolved.verdict, Verdict::NoReadyEndpoint);
        assert!(
            resolved.sentence.contains("Deployment inventory is scaled to 0 replicas"),
            "{}",
            resolved.sentence
        );
    }

    #[test]
    fn switches_are_no_hosts_and_localhost_on_the_host_network_is_the_node() {
        let model = model_from_yaml(
            r#"
kind: Pod
apiVersion: v1
metadata: {name: apiserver-n1, namespace: kube-system}
spec:
  nodeName: n1
  hostNetwork: true
  containers:
  - name: apiserver
    image: apiserver
    env: [{name: SOCKET_REUSE_ADDRESS, value: "true"}, {name: ETCD_HOST, value: "etcd-main"}]
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
---
kind: Pod
apiVersion: v1
metadata: {name: etcd-n1, namespace: kube-system}
spec:
  nodeName: n1
  hostNetwork: true
  containers: [{name: etcd, image: etcd, ports: [{containerPort: 2379}]}]
status: {phase: Running, conditions: [{type: Ready, status: "False"}]}
"#,
        );
        let facts = Facts::new(&model);
        let client = model.get("Pod", Some("kube-system"), "apiserver-n1");
        let hosts: Vec<String> = client.map(in_env).unwrap_or_default().into_iter().map(|t| t.host).collect();
        assert_eq!(hosts, ["etcd-main"], "a boolean switch is no host");
        let target = Target { host: "127.0.0.1".to_owned(), port: Some(2379), origin: "log".to_owned() };
        let resolved = resolve(&facts, "kube-system", client, &target);
        assert_eq!(resolved.verdict, Verdict::NoReadyEndpoint, "{}", resolved.sentence);
        assert!(
            resolved.sentence.contains("pod kube-system/etcd-n1 on the same node"),
            "{}",
            resolved.sentence
        );
    }
}
