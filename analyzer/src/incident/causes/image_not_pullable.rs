//! Rule `image-not-pullable` (start-up): containers wait in `ImagePullBackOff`/`ErrImagePull`/
//! `InvalidImageName`, and why: a reference that does not exist, a missing pull secret, or a
//! registry that does not resolve or answer.
//!
//! Fires per namespace and failing image tag (so the pods of one broken release are one root
//! cause). The kubelet's words are quoted (the waiting message, the newest `Failed` event); the
//! registry's answer in them decides the class: `manifest unknown`/`not found` → the tag or
//! repository does not exist; `unauthorized`/`denied`/`authentication required` → credentials
//! (with the pod's `imagePullSecrets` checked against the bundle's Secrets); `no such host` →
//! the registry's name does not resolve; `connection refused`/`i/o timeout`/`x509` → the
//! registry does not answer or its certificate is refused. When the kubelet only says
//! "Back-off pulling image", the bundle decides: other tags of the same repository running in
//! the cluster show that the registry resolves and lets the node pull without a secret, so the
//! tag itself is missing. Score 80 with the registry's answer or that comparison, 70 on the
//! kubelet's word alone, plus 5 for a pull secret the bundle shows missing. Severity from the
//! impact.
//!
//! Disproved by: the same reference running elsewhere in the cluster, or a successful `Pulled`
//! event for it.

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{Object, ObjectRef};

use super::{Context, Hypothesis, Step, clip, impact, subject_of};
use crate::facts::containers;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::finding::Severity;

const REASONS: [&str; 3] = ["ImagePullBackOff", "ErrImagePull", "InvalidImageName"];

/// `(registry host, repository, tag or digest)` of an image reference.
pub(crate) fn split_image(image: &str) -> (String, String, String) {
    let (name, tag) = match image.split_once('@') {
        Some((name, digest)) => (name, digest.to_owned()),
        None => match image.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name, tag.to_owned()),
            _ => (image, "latest".to_owned()),
        },
    };
    // With a digest, a tag before it is part of the name: drop it from the repository.
    let name = match name.rsplit_once(':') {
        Some((before, tag)) if !tag.contains('/') && image.contains('@') => before,
        _ => name,
    };
    let (registry, repository) = match name.split_once('/') {
        Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            (first.to_owned(), rest.to_owned())
        }
        _ => ("docker.io".to_owned(), name.to_owned()),
    };
    (registry, repository, tag)
}

const CREDENTIALS: &str = "the registry refuses the node's credentials";

/// What the registry's answer (quoted by the kubelet) says.
fn class_of(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    if lower.contains("invalidimagename") || lower.contains("invalid reference format") {
        Some("the image reference is malformed")
    } else if lower.contains("manifest unknown") || lower.contains("not found") || lower.contains("notfound")
    {
        Some("the tag or repository does not exist in the registry")
    } else if lower.contains("unauthorized")
        || lower.contains("authentication required")
        || lower.contains("denied")
        || lower.contains("forbidden")
    {
        Some(CREDENTIALS)
    } else if lower.contains("no such host") || lower.contains("server misbehaving") {
        Some("the registry's host name does not resolve")
    } else if lower.contains("x509") || lower.contains("certificate") {
        Some("the registry's TLS certificate is refused")
    } else if lower.contains("connection refused")
        || lower.contains("i/o timeout")
        || lower.contains("timeout")
    {
        Some("the registry does not answer")
    } else if lower.contains("toomanyrequests") || lower.contains("rate limit") {
        Some("the registry rate-limits the node's pulls")
    } else {
        None
    }
}

struct Stuck<'a> {
    pod: &'a Object,
    container: String,
    image: String,
    reason: String,
    message: String,
}

pub(super) fn rule(context: &Context<'_, '_>) -> Vec<Hypothesis> {
    let facts = context.facts;
    let model = facts.cluster();
    let mut groups: BTreeMap<(String, String), Vec<Stuck<'_>>> = BTreeMap::new();
    for pod in model.of_kind("Pod") {
        if crate::facts::network::pod_health::is_gone(pod) {
            continue;
        }
        for status in containers::statuses(pod) {
            let Some(reason) = status.waiting_reason().filter(|reason| REASONS.contains(reason)) else {
                continue;
            };
            let image = pod
                .at("/spec")
                .and_then(|spec| containers::spec(spec, status.name))
                .and_then(|spec| spec.get("image"))
                .and_then(Value::as_str)
                .or(status.image())
                .unwrap_or_default()
                .to_owned();
            let (_, _, tag) = split_image(&image);
            let namespace = pod.namespace.clone().unwrap_or_default();
            groups.entry((namespace, tag)).or_default().push(Stuck {
                pod,
                container: status.name.to_owned(),
                image,
                reason: reason.to_owned(),
                message: status.waiting_message().unwrap_or_default().to_owned(),
            });
        }
    }
    if groups.is_empty() {
        return Vec::new();
    }
    let running = running_images(model);
    groups
        .into_iter()
        .map(|((namespace, tag), stuck)| hypothesis(context, &running, &namespace, &tag, &stuck))
        .collect()
}

/// The images of the bundle's containers that are not stuck pulling, in pods where some
/// container ran, split into (registry, repository, tag, image): what the bundle shows the
/// registries serve. Read once per run, whatever the number of stuck groups.
fn running_images(model: &kubesnap_shared::model::ClusterModel) -> Vec<(String, String, String, String)> {
    model
        .of_kind("Pod")
        .filter(|pod| {
            containers::statuses(pod)
                .iter()
                .any(|status| status.running() || status.last_termination().is_some())
        })
        .flat_map(|pod| {
            containers::statuses(pod)
                .into_iter()
                .filter(|status| status.waiting_reason().is_none_or(|reason| !REASONS.contains(&reason)))
                .filter_map(|status| {
                    pod.at("/spec")
                        .and_then(|spec| containers::spec(spec, status.name))
                        .and_then(|spec| spec.get("image"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect::<Vec<_>>()
        })
        .map(|image| {
            let (registry, repository, tag) = split_image(&image);
            (registry, repository, tag, image)
        })
        .collect()
}

fn hypothesis(
    context: &Context<'_, '_>,
    running: &[(String, String, String, String)],
    namespace: &str,
    tag: &str,
    stuck: &[Stuck<'_>],
) -> Hypothesis {
    let facts = context.facts;
    let model = facts.cluster();
    // The kubelet's words: the waiting message and the Failed events' messages.
    let mut words: Vec<String> = Vec::new();
    for s in stuck {
        if !s.message.is_empty() {
            words.push(s.message.clone());
        }
        for event in super::warnings(model, s.pod, &["Failed", "ErrImagePull", "InspectFailed"]) {
            if event.message.contains(&s.image) || event.message.to_lowercase().contains("pull") {
                words.push(event.message.clone());
            }
        }
    }
    let answer = words.iter().find_map(|text| class_of(text).map(|class| (class, text.clone())));
    let answer = answer.or_else(|| {
        stuck
            .iter()
            .find(|s| s.reason == "InvalidImageName")
            .map(|s| (class_of("InvalidImageName").unwrap_or_default(), s.message.clone()))
    });
    // What the bundle shows about the same repositories and registries.
    let mut same_repository: Vec<String> = Vec::new();
    let mut same_registry = false;
    for s in stuck {
        let (registry, repository, _) = split_image(&s.image);
        for (other_registry, other_repository, other_tag, image) in running {
            if *other_registry == registry {
                same_registry = true;
            }
            if *other_registry == registry && *other_repository == repository && *image != s.image {
                let shown = format!("{repository}:{}", other_tag.chars().take(24).collect::<String>());
                if !same_repository.contains(&shown) {
                    same_repository.push(shown);
                }
            }
        }
    }
    // Pull secrets the pods name that the bundle does not hold.
    let mut missing_secrets: Vec<String> = Vec::new();
    let secrets_listed = facts.captured("Secret").is_listed();
    for s in stuck {
        for secret in s.pod.array_at("/spec/imagePullSecrets") {
            let Some(name) = secret.get("name").and_then(Value::as_str) else { continue };
            if secrets_listed
                && model.get("Secret", Some(namespace), name).is_none()
                && !missing_secrets.contains(&name.to_owned())
            {
                missing_secrets.push(name.to_owned());
            }
        }
    }
    let mut images: Vec<&str> = stuck.iter().map(|s| s.image.as_str()).collect();
    images.sort_unstable();
    images.dedup();
    let mut subjects: Vec<ObjectRef> = stuck.iter().map(|s| subject_of(facts, s.pod)).collect();
    subjects.sort();
    subjects.dedup();
    let who: Vec<String> = subjects.iter().take(4).map(crate::incident::links::label).collect();
    let refused = answer.as_ref().is_some_and(|(class, _)| *class == CREDENTIALS);
    let (class, score) = match (&answer, same_repository.is_empty(), missing_secrets.is_empty()) {
        (Some(_), _, false) if refused => (
            format!(
                "the pull secret it names ({}) does not exist, so the registry refuses the anonymous pull",
                missing_secrets.join(", ")
            ),
            80,
        ),
        (Some((class, _)), _, _) => (class.to_string(), 80),
        (None, _, false) => ("the pull secret it names does not exist".to_owned(), 80),
        (None, false, true) => (
            format!(
                "the tag most likely does not exist: other tags of the same repository run in this \
                 cluster ({})",
                same_repository.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
            ),
            80,
        ),
        (None, true, true) if same_registry => (
            "the registry answers for other images of this cluster: the tag or repository is missing, or \
             needs credentials"
                .to_owned(),
            75,
        ),
        (None, true, true) => (
            "the kubelet cannot pull it (the kubelet gives no registry \
                                answer)"
                .to_owned(),
            70,
        ),
    };
    let score = score + if missing_secrets.is_empty() { 0 } else { 5 };
    let title = if images.len() == 1 {
        format!("Image {} cannot be pulled for {}: {class}", images[0], who.join(", "))
    } else {
        format!(
            "Images tagged {tag} cannot be pulled ({}) for {}: {class}",
            images.join(", "),
            who.join(", ")
        )
    };
    let mut hypothesis = context.hypothesis("image-not-pullable", title, score, Severity::P1);
    let pods: Vec<&Object> = stuck.iter().map(|s| s.pod).collect();
    hypothesis.own_severity = Some(impact(facts, &pods));
    let mut objects: Vec<ObjectRef> = subjects.clone();
    for s in stuck {
        objects.push(s.pod.reference());
        let since = super::warnings(model, s.pod, &["Failed"]).first().and_then(|event| event.first_seen);
        let said = if s.message.is_empty() {
            s.reason.clone()
        } else {
            format!("{}: {}", s.reason, clip(&s.message))
        };
        hypothesis.chain.push(Step::new(
            since.or_else(|| s.pod.created_at()),
            s.pod.reference(),
            format!("container {} waits: {said}", s.container),
        ));
    }
    if let Some((_, text)) = &answer {
        hypothesis.evidence.push(format!("the kubelet says: `{}`", clip(text)));
    } else if let Some(text) = words.first() {
        hypothesis.evidence.push(format!("the kubelet says only: `{}`", clip(text)));
    }
    if !same_repository.is_empty() {
        hypothesis.evidence.push(format!(
            "other tags of the same repository run in the cluster: {} (the registry resolves and serves \
             this node)",
            same_repository.iter().take(4).cloned().collect::<Vec<_>>().join(", ")
        ));
    } else if same_registry {
        hypothesis
            .evidence
            .push("other images from the same registry run in the cluster: its name resolves".to_owned());
    }
    // Pull secrets matter when the registry refuses the pull or gives no answer; a tag it says
    // does not exist or a name that does not resolve is no matter of credentials.
    if refused || answer.is_none() {
        let with_secrets =
            stuck.iter().filter(|s| !s.pod.array_at("/spec/imagePullSecrets").is_empty()).count();
        hypothesis.evidence.push(match (with_secrets, missing_secrets.is_empty()) {
            (0, _) => "the pods name no imagePullSecrets".to_owned(),
            (_, true) => "the pods' imagePullSecrets exist in the bundle".to_owned(),
            (_, false) => format!(
                "pull secrets named by the pods but missing from the namespace: {}",
                missing_secrets.join(", ")
            ),
        });
    }
    hypothesis
        .disproved_by
        .push("the same image reference running on another node of the cluster".to_owned());
    hypothesis.disproved_by.push("a `Pulled` event for it after the failures".to_owned());
    objects.sort();
    objects.dedup();
    hypothesis.findings = context.linked(
        &[
            "image-pull-backoff",
            "application-down",
            "deployment-replicas-unavailable",
            "statefulset-replicas-unavailable",
            "daemonset-pods-unavailable",
            "pod-not-ready",
        ],
        &objects,
    );
    hypothesis.objects = objects;
    let first = stuck[0].pod.reference();
    hypothesis.mitigation.push(kubectl::describe(&first).into());
    for image in images.iter().take(2) {
        hypothesis.mitigation.push(Kubectl::program("docker manifest inspect").name(image).into());
    }
    for subject in subjects
        .iter()
        .filter(|s| matches!(s.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet"))
        .take(2)
    {
        hypothesis.mitigation.push(
            kubectl::on("set image", subject)
                .name(&stuck[0].container)
                .then("=<image:tag that exists>")
                .into(),
        );
    }
    hypothesis
}

#[cfg(test)]
mod tests {
    use crate::incident::causes::tests::of_rule;

    use super::split_image;

    fn pod(name: &str, image: &str, waiting: &str) -> String {
        format!(
            r#"
---
kind: Pod
apiVersion: v1
metadata: {{name: {name}, namespace: shop}}
spec: {{containers: [{{name: app, image: "{image}"}}]}}
status:
  phase: {phase}
  containerStatuses:
  - {{name: app, image: "{image}", ready: {ready}, restartCount: 0, state: {waiting}}}
"#,
            phase = if waiting.contains("running") { "Running" } else { "Pending" },
            ready = waiting.contains("running"),
        )
    }

    #[test]
    fn splits_references() {
        assert_eq!(
            split_image("kotsadm/minio:v1"),
            ("docker.io".into(), "kotsadm/minio".into(), "v1".into())
        );
        assert_eq!(
            split_image("localhost:32000/app:v2@sha256:ab"),
            ("localhost:32000".into(), "app".into(), "sha256:ab".into())
        );
        assert_eq!(split_image("reg.io:5000/a/b"), ("reg.io:5000".into(), "a/b".into(), "latest".into()));
    }

    #[test]
    fn a_tag_missing_while_other_tags_of_the_repository_run_groups_the_release() {
        let fixture = [
            pod("store-0", "acme/store:v2-dev", r#"{waiting: {reason: ImagePullBackOff, message: 'Back-off pulling image "acme/store:v2-dev"'}}"#),
            pod("migrate-1", "acme/migrate:v2-dev", r#"{waiting: {reason: ImagePullBackOff, message: 'Back-off pulling image "acme/migrate:v2-dev"'}}"#),
            pod("store-old", "acme/store:v1", "{running: {}}"),
        ]
        .concat();
        let out = of_rule(&fixture, "image-not-pullable");
        assert!(
            out.contains(
                "Images tagged v2-dev cannot be pulled (acme/migrate:v2-dev, \
                              acme/store:v2-dev) for Pod shop/migrate-1, Pod shop/store-0: the tag most \
                              likely does not exist: other tags of the same repository run in this \
                              cluster (acme/store:v1)"
            ),
            "{out}"
        );
        assert!(out.contains("the kubelet says only: `Back-off pulling image"), "{out}");
    }

    #[test]
    fn the_registry_s_answer_decides_and_a_running_image_is_no_cause() {
        let fixture = [
            pod("web-1", "reg.example/web:2", r#"{waiting: {reason: ErrImagePull, message: 'rpc error: code = Unknown desc = failed to resolve reference "reg.example/web:2": dial tcp: lookup reg.example: no such host'}}"#),
            pod("web-0", "reg.example/web:1", "{running: {}}"),
        ]
        .concat();
        let out = of_rule(&fixture, "image-not-pullable");
        assert!(
            out.contains(
                "Image reg.example/web:2 cannot be pulled for Pod shop/web-1: the \
                              registry's host name does not resolve"
            ),
            "{out}"
        );
        assert!(!out.contains("web-0"), "{out}");
        assert!(
            !out.to_lowercase().contains("pullsecret"),
            "a name that does not resolve is no matter of credentials:\n{out}"
        );
    }

    #[test]
    fn a_refused_pull_names_the_pull_secret_the_namespace_lacks() {
        let refused = r#"{waiting: {reason: ImagePullBackOff, message: 'Back-off pulling image "reg.corp/pay/gw:1": failed to authorize: 401 Unauthorized: no basic auth credentials'}}"#;
        let fixture = [
            pod("gw-1", "reg.corp/pay/gw:1", refused).replace(
                "spec: {containers:",
                "spec: {imagePullSecrets: [{name: corp-registry}], containers:",
            ),
            "\n---\nkind: Secret\napiVersion: v1\nmetadata: {name: other, namespace: shop}\n".to_owned(),
        ]
        .concat();
        let out = of_rule(&fixture, "image-not-pullable");
        assert!(
            out.contains(
                "Image reg.corp/pay/gw:1 cannot be pulled for Pod shop/gw-1: the pull \
                              secret it names (corp-registry) does not exist, so the registry refuses \
                              the anonymous pull"
            ),
            "{out}"
        );
    }
}
