//! Diagnostic `create-container-config-error`: containers whose ConfigMap or Secret is missing;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::sync::LazyLock;

use kubesnap_shared::model::{Coverage, Object, ObjectRef};
use regex::Regex;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::containers::{self, ContainerStatus};
use crate::facts::kubectl;
use crate::facts::pod_events::PodEvents;
use crate::facts::workload::group_by_workload;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "create-container-config-error",
    category: Category::Pods,
    title: "Containers whose ConfigMap or Secret is missing",
    severities: &[Severity::P0, Severity::P1],
    what: "Containers waiting in `CreateContainerConfigError`: the kubelet cannot build their \
           configuration, nearly always because a ConfigMap or Secret (or one key of it) that the pod \
           references through `env`, `envFrom` or a volume does not exist. The finding names the missing \
           object and key, from the waiting message and the events, and says whether the bundle holds that \
           object.",
    why: "The kubelet cannot build the container's environment or volumes, so the container never starts.",
    fix: "Create the missing ConfigMap or Secret (or key) in the pod's namespace, or correct the \
          reference in the workload; the kubelet retries on its own.",
    example: "`Pod shop/api-1: container api cannot start: Secret shop/db-credentials not found`.",
    needs: &[],
    run,
};

/// `configmap "x" not found`, `secret "x" not found`.
static MISSING_OBJECT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"(?i)\b(configmap|secret)s? "([^"]+)" not found"#).ok());
/// `couldn't find key password in Secret shop/db`.
static MISSING_KEY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)couldn't find key (\S+) in (ConfigMap|Secret) ([^/\s]+)/([^\s,]+)").ok()
});

/// What the kubelet says is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Missing {
    kind: &'static str,
    name: String,
    key: Option<String>,
}

fn parse(message: &str) -> Option<Missing> {
    let kind = |text: &str| if text.eq_ignore_ascii_case("secret") { "Secret" } else { "ConfigMap" };
    if let Some(captures) = MISSING_KEY.as_ref().and_then(|re| re.captures(message)) {
        return Some(Missing {
            kind: kind(&captures[2]),
            name: captures[4].to_owned(),
            key: Some(captures[1].to_owned()),
        });
    }
    let captures = MISSING_OBJECT.as_ref().and_then(|re| re.captures(message))?;
    Some(Missing { kind: kind(&captures[1]), name: captures[2].to_owned(), key: None })
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let affected: Vec<(&Object, Vec<ContainerStatus<'_>>)> = facts
        .cluster()
        .of_kind("Pod")
        .filter_map(|pod| {
            let stuck: Vec<ContainerStatus<'_>> = containers::statuses(pod)
                .into_iter()
                .filter(|status| status.waiting_reason() == Some("CreateContainerConfigError"))
                .collect();
            (!stuck.is_empty()).then_some((pod, stuck))
        })
        .collect();
    let events = PodEvents::new(facts.cluster(), &["Failed"]);
    let mut findings = Vec::new();
    for group in group_by_workload(facts, affected) {
        let Some((pod, stuck)) = group.pods.first() else { continue };
        let status = stuck[0];
        let pod_ref = pod.reference();
        let event = events.of(pod).iter().rfind(|event| parse(&event.message).is_some()).copied();
        let missing = status
            .waiting_message()
            .and_then(parse)
            .or_else(|| event.and_then(|event| parse(&event.message)));
        let what = match &missing {
            Some(Missing { kind, name, key: Some(key) }) => format!("key {key} of {kind} {name} not found"),
            Some(Missing { kind, name, key: None }) => format!("{kind} {name} not found"),
            None => "configuration error".to_owned(),
        };
        let severity = if group.is_outage() { Severity::P0 } else { Severity::P1 };
        let mut finding = DIAGNOSTIC
            .finding(severity, format!("{}: container {} cannot start: {what}", group.label(), status.name));
        for object in group.objects() {
            finding = finding.object(object);
        }
        if let Some(message) = status.waiting_message() {
            finding = finding.evidence(Evidence::field(
                pod_ref.clone(),
                status.pointer("state/waiting/message"),
                &message.into(),
            ));
        }
        if let Some(event) = event {
            finding = finding.evidence(Evidence::event(event));
        }
        let mut explanation =
            format!("The kubelet cannot create container `{}` of pod {}: {what}.", status.name, pod.name);
        if let Some(missing) = &missing {
            let target = ObjectRef {
                kind: missing.kind.to_owned(),
                namespace: pod.namespace.clone(),
                name: missing.name.clone(),
            };
            match facts.cluster().get(missing.kind, pod.namespace.as_deref(), &missing.name) {
                Some(object) => {
                    let keys: Vec<String> = ["/data", "/binaryData"]
                        .iter()
                        .filter_map(|pointer| object.at(pointer).and_then(|v| v.as_object()))
                        .flat_map(|map| map.keys().map(str::to_owned))
                        .collect();
                    let key_text = match &missing.key {
                        Some(key) if !keys.contains(key) => format!("; {key} is not among them"),
                        _ => "; it may have been fixed after the error".to_owned(),
                    };
                    explanation.push_str(&format!(
                        " The bundle holds {target} with the keys [{}]{key_text}.",
                        keys.join(", ")
                    ));
                }
                // Its absence confirms the kubelet only where the bundle listed the kind.
                None => match facts.captured(missing.kind) {
                    Coverage::Listed => {
                        explanation.push_str(&format!(" The bundle holds no {target} either."))
                    }
                    Coverage::Failed(why) | Coverage::NotCaptured(why) => {
                        explanation.push_str(&format!(" The bundle cannot confirm it: {why}."));
                    }
                    Coverage::Unknown => {}
                },
            }
            finding = finding.object(target.clone()).remediation(kubectl::get_yaml(&target));
        }
        explanation.push_str(" The container stays waiting until the reference resolves.");
        if group.pods.len() > 1 {
            finding =
                finding.evidence(Evidence::note(format!("also waiting: {}", group.other_pods().join(", "))));
        }
        findings.push(finding.explanation(explanation).remediation(kubectl::describe(&pod_ref)));
    }
    findings
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use kubesnap_shared::model::{ClusterModel, SourceFormat};

    use super::*;
    use crate::testing::{check, model_from_yaml};

    #[test]
    fn parses_the_kubelet_messages() {
        assert_eq!(
            parse(r#"secret "db-credentials" not found"#),
            Some(Missing { kind: "Secret", name: "db-credentials".into(), key: None })
        );
        assert_eq!(
            parse("couldn't find key DB_HOST in ConfigMap shop/api-config"),
            Some(Missing { kind: "ConfigMap", name: "api-config".into(), key: Some("DB_HOST".into()) })
        );
        assert_eq!(parse("something else"), None);
    }

    const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop}
spec: {containers: [{name: api, image: api}]}
status:
  containerStatuses:
  - name: api
    restartCount: 0
    state: {waiting: {reason: CreateContainerConfigError, message: "couldn't find key DB_HOST in ConfigMap shop/api-config"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: api-config, namespace: shop}
data: {LOG_LEVEL: info}
"#;

    #[test]
    fn names_the_missing_key_and_what_the_bundle_holds() {
        check(
            &DIAGNOSTIC,
            POD,
            expect![[r#"
            P1 create-container-config-error Pod shop/api: container api cannot start: key DB_HOST of ConfigMap api-config not found
              objects: Pod/shop/api, ConfigMap/shop/api-config
              field Pod/shop/api /status/containerStatuses/0/state/waiting/message = couldn't find key DB_HOST in ConfigMap shop/api-config
              why: The kubelet cannot create container `api` of pod api: key DB_HOST of ConfigMap api-config not found. The bundle holds ConfigMap/shop/api-config with the keys [LOG_LEVEL]; DB_HOST is not among them. The container stays waiting until the reference resolves.
              $ kubectl get configmap api-config -n shop -o yaml
              $ kubectl describe pod api -n shop
        "#]],
        );
    }

    #[test]
    fn a_started_container_is_fine() {
        let fixture = POD.replace(
            r#"state: {waiting: {reason: CreateContainerConfigError, message: "couldn't find key DB_HOST in ConfigMap shop/api-config"}}"#,
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

    #[test]
    fn what_the_bundle_says_of_the_missing_secret_depends_on_whether_it_listed_secrets() {
        let fixture = r#"
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop}
spec: {containers: [{name: api, image: api}]}
status:
  containerStatuses:
  - name: api
    restartCount: 0
    state: {waiting: {reason: CreateContainerConfigError, message: 'secret "db-credentials" not found'}}
"#;
        let why = |model: &ClusterModel| {
            let findings = (DIAGNOSTIC.run)(&Facts::new(model));
            findings.iter().map(|finding| finding.explanation.clone()).collect::<Vec<_>>().join("\n")
        };
        let mut model = model_from_yaml(fixture);
        expect![
            "The kubelet cannot create container `api` of pod api: Secret db-credentials not found. \
                 The container stays waiting until the reference resolves."
        ]
        .assert_eq(&why(&model));
        // An empty SecretList: the Secret does not exist.
        model.listed_kinds.insert("Secret".to_owned());
        expect![
            "The kubelet cannot create container `api` of pod api: Secret db-credentials not found. \
                 The bundle holds no Secret/shop/db-credentials either. The container stays waiting \
                 until the reference resolves."
        ]
        .assert_eq(&why(&model));
        // A troubleshoot bundle never lists Secrets.
        let mut troubleshoot = model_from_yaml(fixture);
        troubleshoot.format = Some(SourceFormat::Troubleshoot);
        expect![
            "The kubelet cannot create container `api` of pod api: Secret db-credentials not found. \
                 The bundle cannot confirm it: a troubleshoot support bundle does not list Secrets. The \
                 container stays waiting until the reference resolves."
        ]
        .assert_eq(&why(&troubleshoot));
    }
}
