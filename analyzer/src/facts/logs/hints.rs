//! The log families' troubleshooting suggestions made specific: what the bundle says about the objects
//! a log family points at (CoreDNS for DNS errors, the Services a pod is configured to call for
//! refused connections, the database pods for database errors, ...), and the commands to look.

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{Object, ObjectRef};

use super::database;
use super::dependencies::{self, Dependency};
use super::sources::Source;
use crate::facts::Facts;
use crate::facts::containers;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::network::pod_health;

/// What the bundle adds to a family's suggestion.
#[derive(Debug, Default)]
pub(crate) struct Hints {
    /// The most telling fact, for the explanation.
    pub(crate) summary: Option<String>,
    /// Facts, each a note of evidence.
    pub(crate) notes: Vec<String>,
    pub(crate) commands: Vec<String>,
}

/// How many objects a hint names before it stops.
const NAMED: usize = 5;

/// The hints of `family` for the logs of one subject.
pub(crate) fn for_family(facts: &Facts<'_>, family: &str, sources: &[&Source<'_>]) -> Hints {
    let pod = sources.iter().find_map(|source| source.pod);
    match family {
        "dns_resolution" => dns(facts),
        "connection_refused" | "timeout_error" => services(facts, pod),
        "database_error" => databases(facts, pod, sources),
        "oom_killed" | "high_memory" | "high_cpu" => limits(pod, family),
        "image_pull_error" => images(facts, pod),
        "permission_denied" => service_account(pod),
        "disk_pressure" | "network_unavailable" => node(facts, pod, sources, family),
        "certificate_error" => certificates(facts, sources),
        _ => Hints::default(),
    }
}

fn dns(facts: &Facts<'_>) -> Hints {
    let pods = facts.dns_pods();
    let ready = pods.iter().filter(|pod| pod_health::is_ready(pod)).count();
    let mut summary = match pods.len() {
        // No DNS pod among listed pods is a finding; among none captured, nothing to say.
        0 if facts.captured("Pod").is_listed() => {
            "the bundle holds no cluster DNS pods (CoreDNS in kube-system, or OpenShift's dns-default)"
                .to_owned()
        }
        0 => "the bundle holds no pods to check the cluster DNS with".to_owned(),
        total => format!("cluster DNS pods: {ready} of {total} Ready"),
    };
    let troubles: Vec<String> = pods
        .iter()
        .filter_map(|pod| pod_health::trouble(pod).map(|trouble| format!("{} {trouble}", pod.name)))
        .take(NAMED)
        .collect();
    if !troubles.is_empty() {
        summary.push_str(&format!(" ({})", troubles.join("; ")));
    }
    Hints {
        notes: vec![summary.clone()],
        summary: Some(summary),
        commands: vec![
            Kubectl::new("get pods -n kube-system -l k8s-app=kube-dns").into(),
            Kubectl::new("logs -n kube-system -l k8s-app=kube-dns --tail=50").into(),
        ],
    }
}

fn dependency_hints(facts: &Facts<'_>, dependencies: &[Dependency<'_>], pod: &Object) -> Hints {
    let mut hints = Hints::default();
    for dependency in dependencies.iter().take(NAMED) {
        hints.notes.push(dependencies::describe(facts, dependency));
        let command = match dependency.service {
            Some(_) => kubectl::on("get", &endpoints(&dependency.reference)).to_string(),
            None => Kubectl::new("get services").namespace_of(&dependency.reference).to_string(),
        };
        if !hints.commands.contains(&command) {
            hints.commands.push(command);
        }
    }
    let unhealthy = dependencies.iter().find(|dependency| !dependencies::is_healthy(facts, dependency));
    hints.summary = match (unhealthy, dependencies.len()) {
        (Some(dependency), _) => Some(dependencies::describe(facts, dependency)),
        (None, 0) => None,
        (None, _) => {
            let names: Vec<String> = dependencies.iter().map(|d| d.reference.name.clone()).collect();
            Some(format!(
                "the Services its configuration names ({}) all have ready endpoints: look at ports and network policies",
                names.join(", ")
            ))
        }
    };
    hints.commands.push(Kubectl::new("get networkpolicy").namespace_of(&pod.reference()).into());
    hints
}

fn endpoints(service: &ObjectRef) -> ObjectRef {
    ObjectRef { kind: "Endpoints".to_owned(), ..service.clone() }
}

fn services(facts: &Facts<'_>, pod: Option<&Object>) -> Hints {
    let Some(pod) = pod else { return Hints::default() };
    let dependencies = dependencies::of_pod(facts.cluster(), pod);
    let mut hints = dependency_hints(facts, &dependencies, pod);
    if dependencies.is_empty() {
        hints.notes.push(format!("the configuration of pod {} names no Service of the bundle", pod.name));
        hints.commands.insert(0, Kubectl::new("get endpoints").namespace_of(&pod.reference()).into());
    }
    hints
}

fn databases(facts: &Facts<'_>, pod: Option<&Object>, sources: &[&Source<'_>]) -> Hints {
    let mut hints = match pod {
        Some(pod) => {
            let dependencies = dependencies::of_pod(facts.cluster(), pod);
            dependency_hints(facts, &dependencies, pod)
        }
        None => Hints::default(),
    };
    let database_pods = facts.database_pods();
    let statuses: Vec<String> = database_pods
        .iter()
        .take(NAMED)
        .map(|pod| {
            let namespace = pod.namespace.as_deref().unwrap_or_default();
            match pod_health::trouble(pod) {
                Some(trouble) => format!("{namespace}/{} {trouble}", pod.name),
                None => format!("{namespace}/{} Ready", pod.name),
            }
        })
        .collect();
    let status = match statuses.len() {
        0 => "no pod of the bundle runs a known database image (PostgreSQL, MySQL, MongoDB, Redis, ...)"
            .to_owned(),
        _ => format!("database pods: {}", statuses.join(", ")),
    };
    hints.notes.push(status.clone());
    if let Some(first) = database_pods.first() {
        hints.commands.push(kubectl::describe(&first.reference()).into());
        hints.commands.push(
            Kubectl::new("logs").name(&first.name).namespace_of(&first.reference()).arg("--tail=50").into(),
        );
    }
    let refused = sources
        .iter()
        .flat_map(|source| database::client_errors(source.log))
        .find(|line| database::credentials_refused(&line.text));
    hints.summary = match refused {
        Some(line) => Some(format!(
            "the database refuses the client's credentials (`{}`): check the user and password it is given; {status}",
            line.text.trim()
        )),
        None => hints.summary.or(Some(status)),
    };
    hints
}

fn limits(pod: Option<&Object>, family: &str) -> Hints {
    let Some(pod) = pod else { return Hints::default() };
    let mut hints = Hints::default();
    let resource = if family == "high_cpu" { "cpu" } else { "memory" };
    for container in pod.array_at("/spec/containers") {
        let name = container.get("name").and_then(Value::as_str).unwrap_or_default();
        let limit = container.pointer(&format!("/resources/limits/{resource}")).and_then(Value::as_str);
        hints.notes.push(match limit {
            Some(limit) => format!("container {name} of pod {}: {resource} limit {limit}", pod.name),
            None => format!("container {name} of pod {}: no {resource} limit", pod.name),
        });
    }
    for status in containers::statuses(pod) {
        if let Some(termination) = status.last_termination().filter(|t| t.reason == "OOMKilled") {
            let at = termination.finished_at.map(|at| format!(" at {at}")).unwrap_or_default();
            let text = format!("container {} of pod {} was OOMKilled{at}", status.name, pod.name);
            hints.summary.get_or_insert(text.clone());
            hints.notes.push(text);
        }
    }
    hints.commands.push(
        Kubectl::new("top pod").name(&pod.name).namespace_of(&pod.reference()).arg("--containers").into(),
    );
    hints
}

fn images(facts: &Facts<'_>, pod: Option<&Object>) -> Hints {
    let Some(pod) = pod else { return Hints::default() };
    let mut hints = Hints::default();
    let images: Vec<&str> = pod
        .array_at("/spec/containers")
        .iter()
        .filter_map(|c| c.get("image").and_then(Value::as_str))
        .collect();
    hints.notes.push(format!("images: {}", images.join(", ")));
    let secrets: Vec<String> = pod
        .array_at("/spec/imagePullSecrets")
        .iter()
        .filter_map(|secret| secret.get("name").and_then(Value::as_str))
        .map(|name| match facts.cluster().get("Secret", pod.namespace.as_deref(), name) {
            Some(_) => name.to_owned(),
            // Absent is telling only where the bundle listed Secrets (troubleshoot never does).
            None if facts.captured("Secret").is_listed() => format!("{name} (not in the bundle)"),
            None => name.to_owned(),
        })
        .collect();
    hints.notes.push(match secrets.len() {
        0 => "no imagePullSecrets".to_owned(),
        _ => format!("imagePullSecrets: {}", secrets.join(", ")),
    });
    hints.commands.push(kubectl::describe(&pod.reference()).into());
    hints
}

fn service_account(pod: Option<&Object>) -> Hints {
    let Some(pod) = pod else { return Hints::default() };
    let account = pod.str_at("/spec/serviceAccountName").unwrap_or("default");
    let namespace = pod.namespace.as_deref().unwrap_or_default();
    Hints {
        summary: None,
        notes: vec![format!("pod {} runs as service account {account}", pod.name)],
        commands: vec![
            Kubectl::new("auth can-i --list")
                .joined("--as=", &format!("system:serviceaccount:{namespace}:{account}"))
                .namespace(namespace)
                .into(),
        ],
    }
}

fn node(facts: &Facts<'_>, pod: Option<&Object>, sources: &[&Source<'_>], family: &str) -> Hints {
    let name = match sources.iter().find(|source| source.is_node()) {
        Some(source) => Some(source.member.name.clone()),
        None => pod.and_then(|pod| pod.str_at("/spec/nodeName")).map(str::to_owned),
    };
    let Some(name) = name else { return Hints::default() };
    let reference = ObjectRef { kind: "Node".to_owned(), namespace: None, name: name.clone() };
    let condition = if family == "disk_pressure" { "DiskPressure" } else { "NetworkUnavailable" };
    let state = match facts.cluster().get("Node", None, &name).and_then(|node| node.condition(condition)) {
        Some((status, reason, _)) => {
            format!("node {name}: {condition}={status} {reason}").trim_end().to_owned()
        }
        None => format!("node {name}: no {condition} condition in the bundle"),
    };
    Hints {
        summary: Some(state.clone()),
        notes: vec![state],
        commands: vec![kubectl::describe(&reference).into()],
    }
}

fn certificates(facts: &Facts<'_>, sources: &[&Source<'_>]) -> Hints {
    let mut hints = Hints::default();
    let Some(namespace) = sources.iter().find_map(|source| source.member.namespace.clone()) else {
        return hints;
    };
    let now = facts.cluster().captured_at;
    for secret in facts.cluster().of_kind_in("Secret", &namespace) {
        for certificate in secret.array_at("/kubesnapCertificates") {
            let not_after = certificate.get("notAfter").and_then(Value::as_str);
            let expired = match (not_after.and_then(|t| t.parse::<jiff::Timestamp>().ok()), now) {
                (Some(end), Some(now)) => end <= now,
                _ => false,
            };
            if expired {
                let key = certificate.get("key").and_then(Value::as_str).unwrap_or_default();
                hints.notes.push(format!(
                    "Secret {namespace}/{} key {key}: certificate expired at {}",
                    secret.name,
                    not_after.unwrap_or_default()
                ));
            }
        }
    }
    hints.summary = hints.notes.first().cloned();
    hints.commands.push(
        Kubectl::new("get secrets")
            .namespace(&namespace)
            .arg("--field-selector type=kubernetes.io/tls")
            .into(),
    );
    hints.commands.push(Kubectl::new("get certificates.cert-manager.io").namespace(&namespace).into());
    hints
}

#[cfg(test)]
mod tests {
    use kubesnap_shared::model::ClusterModel;

    use super::*;
    use crate::testing::model_from_yaml;

    const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: shop}
spec: {containers: [{name: api, image: registry.example.com/api:1}], imagePullSecrets: [{name: regcred}]}
"#;

    #[test]
    fn a_missing_pull_secret_is_named_only_where_secrets_were_listed() {
        let mut model = model_from_yaml(POD);
        let notes = |model: &ClusterModel| {
            let pod = model.get("Pod", Some("shop"), "api-1");
            images(&Facts::new(model), pod).notes
        };
        assert_eq!(notes(&model), ["images: registry.example.com/api:1", "imagePullSecrets: regcred"]);
        // An empty SecretList: the Secret does not exist.
        model.listed_kinds.insert("Secret".to_owned());
        assert_eq!(
            notes(&model),
            ["images: registry.example.com/api:1", "imagePullSecrets: regcred (not in the bundle)"]
        );
    }

    #[test]
    fn no_dns_pod_is_telling_only_where_pods_were_listed() {
        let mut model = model_from_yaml("");
        let summary = |model: &ClusterModel| dns(&Facts::new(model)).summary;
        assert_eq!(
            summary(&model).as_deref(),
            Some("the bundle holds no pods to check the cluster DNS with")
        );
        // An empty PodList: the cluster runs no pod, so no DNS pod either.
        model.listed_kinds.insert("Pod".to_owned());
        assert_eq!(
            summary(&model).as_deref(),
            Some("the bundle holds no cluster DNS pods (CoreDNS in kube-system, or OpenShift's dns-default)")
        );
    }
}
