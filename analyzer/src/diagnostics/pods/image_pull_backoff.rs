//! Diagnostic `image-pull-backoff`: images that cannot be pulled;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::{Event, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::containers::{self, ContainerStatus};
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::pod_events::PodEvents;
use crate::facts::workload::group_by_workload;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "image-pull-backoff",
    category: Category::Pods,
    title: "Images that cannot be pulled",
    severities: &[Severity::P0, Severity::P1],
    what: "Containers waiting in `ImagePullBackOff`, `ErrImagePull`, `InvalidImageName` or \
           `ErrImageNeverPull`, with the image and the kubelet's pull error from the waiting message and \
           the `Failed` events, sorted into a likely cause: the image or tag does not exist, the registry \
           refused the credentials, or the registry cannot be reached.",
    why: "A container whose image cannot be pulled never starts; a rollout to a wrong tag takes every new \
          replica down with it.",
    fix: "Correct the image reference or push the tag; give the pod an imagePullSecret the registry accepts; \
          or make the registry reachable (mirror it in air-gapped clusters). Roll back meanwhile.",
    example: "`Deployment shop/api: 3 of 3 pods cannot pull shop/api:2.0.1 (image or tag not found)`, with \
              `manifest unknown` from the event and `kubectl rollout undo deployment/api`.",
    needs: &[],
    run,
};

const REASONS: &[&str] = &["ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"];

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let affected: Vec<(&Object, Vec<ContainerStatus<'_>>)> = facts
        .cluster()
        .of_kind("Pod")
        .filter_map(|pod| {
            let stuck: Vec<ContainerStatus<'_>> = containers::statuses(pod)
                .into_iter()
                .filter(|status| status.waiting_reason().is_some_and(|reason| REASONS.contains(&reason)))
                .collect();
            (!stuck.is_empty()).then_some((pod, stuck))
        })
        .collect();
    let events = PodEvents::new(facts.cluster(), &["Failed", "InspectFailed", "ErrImageNeverPull"]);
    let mut findings = Vec::new();
    for group in group_by_workload(facts, affected) {
        let Some((pod, stuck)) = group.pods.first() else { continue };
        let status = stuck[0];
        let pod_ref = pod.reference();
        let spec = pod.at("/spec").and_then(|spec| containers::spec(spec, status.name));
        let image = spec
            .and_then(|spec| spec.get("image"))
            .and_then(|image| image.as_str())
            .or(status.image())
            .unwrap_or("(unknown image)");
        let event: Option<&Event> = events
            .of(pod)
            .iter()
            .rfind(|event| event.message.contains(image) || event.message.to_lowercase().contains("pull"))
            .copied();
        let message = [
            status.waiting_message().unwrap_or_default(),
            event.map(|e| e.message.as_str()).unwrap_or_default(),
        ]
        .join(" ");
        let cause = cause(status.waiting_reason().unwrap_or_default(), &message);
        let severity = if group.is_outage() { Severity::P0 } else { Severity::P1 };
        let mut finding =
            DIAGNOSTIC.finding(severity, format!("{} cannot pull {image} ({cause})", group.label()));
        for object in group.objects() {
            finding = finding.object(object);
        }
        finding = finding.evidence(Evidence::field(
            pod_ref.clone(),
            status.pointer("state/waiting/reason"),
            &status.waiting_reason().unwrap_or_default().into(),
        ));
        if let Some(waiting) = status.waiting_message() {
            finding = finding.evidence(Evidence::field(
                pod_ref.clone(),
                status.pointer("state/waiting/message"),
                &waiting.into(),
            ));
        }
        if let Some(event) = event {
            finding = finding.evidence(Evidence::event(event));
        }
        let pull_secrets: Vec<&str> = pod
            .array_at("/spec/imagePullSecrets")
            .iter()
            .filter_map(|secret| secret.get("name").and_then(|name| name.as_str()))
            .collect();
        if group.pods.len() > 1 {
            finding = finding
                .evidence(Evidence::note(format!("also cannot pull: {}", group.other_pods().join(", "))));
        }
        let secrets_text = if pull_secrets.is_empty() {
            "The pod has no imagePullSecrets.".to_owned()
        } else {
            format!("The pod pulls with the imagePullSecrets {}.", pull_secrets.join(", "))
        };
        finding = finding.explanation(format!(
            "The kubelet cannot pull `{image}` for container `{}` of pod {}: {cause}. {secrets_text} The \
             container will not start until the pull succeeds.",
            status.name, pod.name
        ));
        finding = finding.remediation(kubectl::describe(&pod_ref)).remediation(kubectl::events(&pod_ref));
        for secret in &pull_secrets {
            finding = finding.remediation(
                Kubectl::new("get secret").name(secret).namespace_of(&pod_ref).arg("-o jsonpath='{.type}'"),
            );
        }
        if let Some(workload) = group
            .workload
            .as_ref()
            .filter(|w| matches!(w.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet"))
        {
            finding = finding.remediation(kubectl::rollout("undo", workload));
        }
        findings.push(finding);
    }
    findings
}

/// The likely cause of a pull failure, from the kubelet's and the runtime's messages.
fn cause(reason: &str, message: &str) -> &'static str {
    let message = message.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|word| message.contains(word));
    if reason == "InvalidImageName" {
        "the image reference is not valid"
    } else if reason == "ErrImageNeverPull" {
        "imagePullPolicy is Never and the image is not on the node"
    } else if has(&[
        "unauthorized",
        "authentication required",
        "denied",
        "forbidden",
        "403",
        "401",
        "no basic auth",
    ]) {
        "the registry refused the credentials"
    } else if has(&["not found", "manifest unknown", "does not exist", "name unknown", "404"]) {
        "image or tag not found"
    } else if has(&[
        "i/o timeout",
        "no such host",
        "connection refused",
        "dial tcp",
        "tls handshake",
        "network is unreachable",
        "context deadline exceeded",
    ]) {
        "the registry cannot be reached"
    } else if has(&["toomanyrequests", "rate limit", "429"]) {
        "the registry's pull rate limit"
    } else {
        "pull failed"
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  imagePullSecrets: [{name: regcred}]
  containers: [{name: web, image: "registry.example/shop/web:2.0.1"}]
status:
  containerStatuses:
  - name: web
    image: "registry.example/shop/web:2.0.1"
    restartCount: 0
    state: {waiting: {reason: ImagePullBackOff, message: "Back-off pulling image \"registry.example/shop/web:2.0.1\""}}
"#;

    #[test]
    fn pull_failure_names_the_image_and_the_cause_from_the_event() {
        let fixture = format!(
            "{POD}{}",
            r#"
---
apiVersion: v1
kind: Event
metadata: {name: web.1, namespace: shop}
involvedObject: {kind: Pod, name: web, namespace: shop}
type: Warning
reason: Failed
message: 'Failed to pull image "registry.example/shop/web:2.0.1": rpc error: code = NotFound desc = manifest unknown'
count: 5
source: {component: kubelet}
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 image-pull-backoff Pod shop/web cannot pull registry.example/shop/web:2.0.1 (image or tag not found)
              objects: Pod/shop/web
              field Pod/shop/web /status/containerStatuses/0/state/waiting/reason = ImagePullBackOff
              field Pod/shop/web /status/containerStatuses/0/state/waiting/message = Back-off pulling image "registry.example/shop/web:2.0.1"
              event Failed x5 (kubelet): Failed to pull image "registry.example/shop/web:2.0.1": rpc error: code = NotFound desc = manifest unknown
              why: The kubelet cannot pull `registry.example/shop/web:2.0.1` for container `web` of pod web: image or tag not found. The pod pulls with the imagePullSecrets regcred. The container will not start until the pull succeeds.
              $ kubectl describe pod web -n shop
              $ kubectl get events -n shop --field-selector involvedObject.name=web --sort-by=.lastTimestamp
              $ kubectl get secret regcred -n shop -o jsonpath='{.type}'
        "#]],
        );
    }

    #[test]
    fn a_pulled_image_is_fine() {
        let fixture = POD.replace(
            r#"state: {waiting: {reason: ImagePullBackOff, message: "Back-off pulling image \"registry.example/shop/web:2.0.1\""}}"#,
            "state: {running: {}}",
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
