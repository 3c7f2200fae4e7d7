//! Diagnostic `webhook-service-unavailable`: admission webhooks whose Service is missing or has no endpoints;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{Object, ObjectRef};

use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::network::backends;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "webhook-service-unavailable",
    category: Category::Network,
    title: "Admission webhooks whose Service is missing or has no endpoints",
    severities: &[Severity::P1, Severity::P2],
    what: "Validating and mutating admission webhooks whose `clientConfig.service` does not exist or has no \
           ready endpoint. Severity follows `failurePolicy`: `Fail` (the default) rejects every matching \
           API request while the webhook is down (P1); `Ignore` only skips the webhook (P2).",
    why: "With failurePolicy Fail, every API request the webhook matches is rejected while it is down: \
          rollouts and pod creation fail with errors far from the cause.",
    fix: "Bring the webhook's pods back (see the Service's pods), or delete the webhook configuration of an \
          uninstalled component.",
    example: "`ValidatingWebhookConfiguration ingress-nginx-admission: webhook \
              validate.nginx.ingress.kubernetes.io → Service \
              ingress-nginx/ingress-nginx-controller-admission has no ready endpoints (failurePolicy \
              Fail)`.",
    // Without Services in the bundle every webhook would look broken.
    needs: &[Need::Kind("Service")],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for kind in ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"] {
        for configuration in facts.cluster().of_kind(kind) {
            for (index, webhook) in configuration.array_at("/webhooks").iter().enumerate() {
                if let Some(finding) = check_webhook(facts, configuration, index, webhook) {
                    findings.push(finding);
                }
            }
        }
    }
    findings
}

fn check_webhook(
    facts: &Facts<'_>,
    configuration: &Object,
    index: usize,
    webhook: &Value,
) -> Option<Finding> {
    let service = webhook.pointer("/clientConfig/service")?;
    let namespace = service.get("namespace").and_then(Value::as_str)?;
    let name = service.get("name").and_then(Value::as_str)?;
    let webhook_name = webhook.get("name").and_then(Value::as_str).unwrap_or("(unnamed)");
    // admissionregistration.k8s.io/v1 defaults to Fail; only v1beta1 defaulted to Ignore.
    let default_policy = if configuration.api_version.ends_with("v1beta1") { "Ignore" } else { "Fail" };
    let policy = webhook.get("failurePolicy").and_then(Value::as_str).unwrap_or(default_policy);
    let service_ref = ObjectRef {
        kind: "Service".to_owned(),
        namespace: Some(namespace.to_owned()),
        name: name.to_owned(),
    };
    let (problem, backends_note, pods) = match facts.cluster().get("Service", Some(namespace), name) {
        None => ("does not exist".to_owned(), None, Vec::new()),
        Some(service_object) => {
            // A Service without selector has hand-made endpoints; judge only what the bundle shows.
            let backends = backends::of_service(facts, service_object);
            if backends.ready > 0 {
                return None;
            }
            (
                "has no ready endpoints".to_owned(),
                Some(backends.describe()),
                backends.pods.iter().map(|pod| pod.reference()).collect::<Vec<_>>(),
            )
        }
    };
    let severity = if policy == "Ignore" { Severity::P2 } else { Severity::P1 };
    let configuration_ref = configuration.reference();
    let mut finding = DIAGNOSTIC
        .finding(
            severity,
            format!(
                "{} {}: webhook {webhook_name} → Service {namespace}/{name} {problem} (failurePolicy \
                 {policy})",
                configuration.kind, configuration.name
            ),
        )
        .object(configuration_ref.clone())
        .object(service_ref.clone())
        .evidence(Evidence::field(
            configuration_ref.clone(),
            format!("/webhooks/{index}/clientConfig/service"),
            service,
        ))
        .evidence(Evidence::field(
            configuration_ref.clone(),
            format!("/webhooks/{index}/failurePolicy"),
            &policy.into(),
        ));
    if let Some(rules) = webhook.get("rules") {
        finding = finding.evidence(Evidence::field(
            configuration_ref.clone(),
            format!("/webhooks/{index}/rules"),
            rules,
        ));
    }
    if let Some(note) = backends_note {
        finding = finding.evidence(Evidence::note(note));
    }
    for pod in &pods {
        finding = finding.object(pod.clone());
    }
    let failures: Vec<_> = facts
        .cluster()
        .events
        .iter()
        .filter(|event| {
            event.message.contains("failed calling webhook") && event.message.contains(webhook_name)
        })
        .collect();
    if let Some(event) = failures.last() {
        let total: u64 = failures.iter().map(|event| event.count).sum();
        finding = finding
            .evidence(Evidence::note(format!(
                "{total} events in the bundle report failed calls to this webhook"
            )))
            .evidence(Evidence::event(event));
    }
    let consequence = if policy == "Ignore" {
        "With failurePolicy Ignore the API server skips it: requests pass unvalidated or unmutated, \
         which may let through objects the webhook exists to stop or to complete."
    } else {
        "With failurePolicy Fail the API server rejects every request the webhook matches while it is down: \
         creating or updating those objects fails (rollouts stall, pods are not created), with errors like \
         \"failed calling webhook ... no endpoints available for service\"."
    };
    let cause = if pods.is_empty() && problem == "has no ready endpoints" {
        " No pod matches the Service's selector: the component serving the webhook is not running, or was \
         uninstalled and left its webhook configuration behind."
    } else if problem == "does not exist" {
        " A missing Service usually means the component was uninstalled and left its webhook \
         configuration behind."
    } else {
        " The pods behind the Service are not Ready."
    };
    let mut finding = finding.explanation(format!(
        "Admission webhook {webhook_name} is called through Service {namespace}/{name}, which {problem}. \
         {consequence}{cause}"
    ));
    if problem == "does not exist" {
        finding = finding.remediation(Kubectl::new("get services").namespace(namespace));
    } else {
        finding = finding.remediation(kubectl::describe(&service_ref)).remediation(
            Kubectl::new("get endpointslices")
                .namespace(namespace)
                .arg("-l")
                .joined("kubernetes.io/service-name=", name),
        );
    }
    if let Some(pod) = pods.first() {
        finding = finding.remediation(kubectl::describe(pod));
    }
    Some(
        finding.remediation(
            Kubectl::new("delete")
                .resource(&configuration.kind)
                .name(&configuration.name)
                .then("   # only if the component is gone for good"),
        ),
    )
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    const WEBHOOKS: &str = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: ingress-nginx-admission}
webhooks:
- name: validate.nginx.ingress.kubernetes.io
  clientConfig: {service: {namespace: ingress-nginx, name: ingress-nginx-controller-admission, path: /networking/v1/ingresses}}
  rules: [{apiGroups: [networking.k8s.io], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [ingresses]}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: old-injector}
webhooks:
- name: inject.old.example.com
  failurePolicy: Ignore
  clientConfig: {service: {namespace: old, name: injector}}
---
apiVersion: v1
kind: Service
metadata: {name: ingress-nginx-controller-admission, namespace: ingress-nginx}
spec: {selector: {app.kubernetes.io/component: controller}}
"#;

    #[test]
    fn fail_policy_without_endpoints_is_p1_and_a_missing_ignored_one_p2() {
        let fixture = format!(
            "{WEBHOOKS}{}",
            r#"
---
apiVersion: v1
kind: Endpoints
metadata: {name: ingress-nginx-controller-admission, namespace: ingress-nginx}
---
apiVersion: v1
kind: Event
metadata: {name: web.1, namespace: shop}
involvedObject: {kind: Ingress, name: web, namespace: shop}
type: Warning
reason: FailedCreate
message: 'Internal error occurred: failed calling webhook "validate.nginx.ingress.kubernetes.io": no endpoints available for service "ingress-nginx-controller-admission"'
count: 3
source: {component: kubectl}
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P2 webhook-service-unavailable MutatingWebhookConfiguration old-injector: webhook inject.old.example.com → Service old/injector does not exist (failurePolicy Ignore)
              objects: MutatingWebhookConfiguration/old-injector, Service/old/injector
              field MutatingWebhookConfiguration/old-injector /webhooks/0/clientConfig/service = {"name":"injector","namespace":"old"}
              field MutatingWebhookConfiguration/old-injector /webhooks/0/failurePolicy = Ignore
              why: Admission webhook inject.old.example.com is called through Service old/injector, which does not exist. With failurePolicy Ignore the API server skips it: requests pass unvalidated or unmutated, which may let through objects the webhook exists to stop or to complete. A missing Service usually means the component was uninstalled and left its webhook configuration behind.
              $ kubectl get services -n old
              $ kubectl delete mutatingwebhookconfiguration old-injector   # only if the component is gone for good
            P1 webhook-service-unavailable ValidatingWebhookConfiguration ingress-nginx-admission: webhook validate.nginx.ingress.kubernetes.io → Service ingress-nginx/ingress-nginx-controller-admission has no ready endpoints (failurePolicy Fail)
              objects: ValidatingWebhookConfiguration/ingress-nginx-admission, Service/ingress-nginx/ingress-nginx-controller-admission
              field ValidatingWebhookConfiguration/ingress-nginx-admission /webhooks/0/clientConfig/service = {"name":"ingress-nginx-controller-admission","namespace":"ingress-nginx","path":"/networking/v1/ingresses"}
              field ValidatingWebhookConfiguration/ingress-nginx-admission /webhooks/0/failurePolicy = Fail
              field ValidatingWebhookConfiguration/ingress-nginx-admission /webhooks/0/rules = [{"apiGroups":["networking.k8s.io"],"apiVersions":["v1"],"operations":["CREATE","UPDATE"],"resources":["ingresses"]}]
              note: 0 ready, 0 not ready addresses in Endpoints ingress-nginx-controller-admission
              note: 3 events in the bundle report failed calls to this webhook
              event FailedCreate x3 (kubectl): Internal error occurred: failed calling webhook "validate.nginx.ingress.kubernetes.io": no endpoints available for service "ingress-nginx-controller-admission"
              why: Admission webhook validate.nginx.ingress.kubernetes.io is called through Service ingress-nginx/ingress-nginx-controller-admission, which has no ready endpoints. With failurePolicy Fail the API server rejects every request the webhook matches while it is down: creating or updating those objects fails (rollouts stall, pods are not created), with errors like "failed calling webhook ... no endpoints available for service". No pod matches the Service's selector: the component serving the webhook is not running, or was uninstalled and left its webhook configuration behind.
              $ kubectl describe service ingress-nginx-controller-admission -n ingress-nginx
              $ kubectl get endpointslices -n ingress-nginx -l kubernetes.io/service-name=ingress-nginx-controller-admission
              $ kubectl delete validatingwebhookconfiguration ingress-nginx-admission   # only if the component is gone for good
        "#]],
        );
    }

    #[test]
    fn served_webhooks_and_url_webhooks_are_fine() {
        let fixture = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: policy}
webhooks:
- name: a.example.com
  clientConfig: {service: {namespace: policy, name: webhook}}
- name: b.example.com
  clientConfig: {url: "https://policy.example.com/validate"}
---
apiVersion: v1
kind: Service
metadata: {name: webhook, namespace: policy}
spec: {selector: {app: webhook}}
---
apiVersion: v1
kind: Endpoints
metadata: {name: webhook, namespace: policy}
subsets: [{addresses: [{ip: 10.0.0.9}]}]
"#;
        check(
            &DIAGNOSTIC,
            fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
