//! Diagnostic `operator-install-failed`: operator (OLM) installs that failed or do not finish;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{Object, ObjectRef};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl::Kubectl;
use crate::facts::nodes::age;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "operator-install-failed",
    category: Category::Cluster,
    title: "Operator (OLM) installs that failed or do not finish",
    severities: &[Severity::P2, Severity::P3],
    what: "Operator Lifecycle Manager installs, one finding per Subscription: an InstallPlan in phase \
           `Failed`, a Subscription condition `InstallPlanFailed` or `ResolutionFailed` that is `True`, a \
           ClusterServiceVersion in phase `Failed`, or `Pending` with reason `RequirementsNotMet` (a CRD or \
           permission it needs is missing), with OLM's own messages. A CSV still `Installing` is a P3 note \
           for its first 30 minutes (OLM's own `CsvAbnormalOver30Min` alert waits as \
           long), a P2 after. CSVs that OLM copies into every namespace of an AllNamespaces install are the \
           same install and are left out.",
    why: "A failed install leaves the operator absent while its Subscription looks in place; its custom \
          resources are not reconciled and nothing else says why.",
    fix: "Read the InstallPlan's and the CSV's messages (a missing CRD, an invalid RBAC object, an \
          unsatisfied permission), fix the bundle or catalog, then delete the failed InstallPlan so OLM \
          makes a new one.",
    example: "`Subscription ops/cache-sub: operator install failed (InstallPlan install-b8pzk Failed: error \
              creating role ...; ClusterServiceVersion cache.v0.0.1 Pending RequirementsNotMet)`.",
    needs: &[],
    run,
};

/// How long a CSV may be Installing before it is a problem (OLM's CsvAbnormalOver30Min).
const INSTALL_MINUTES: i64 = 30;

fn is_olm(object: &Object) -> bool {
    object.api_version.starts_with("operators.coreos.com/")
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut covered_csvs: Vec<ObjectRef> = Vec::new();
    for subscription in facts.cluster().of_kind("Subscription").filter(|object| is_olm(object)) {
        let namespace = subscription.namespace.as_deref();
        let plan = subscription
            .str_at("/status/installPlanRef/name")
            .or_else(|| subscription.str_at("/status/installplan/name"))
            .and_then(|name| facts.cluster().get("InstallPlan", namespace, name));
        let csv = subscription
            .str_at("/status/currentCSV")
            .or_else(|| subscription.str_at("/status/installedCSV"))
            .and_then(|name| facts.cluster().get("ClusterServiceVersion", namespace, name));
        if let Some(csv) = csv {
            covered_csvs.push(csv.reference());
        }
        if let Some(finding) = install_finding(facts, Some(subscription), plan, csv) {
            findings.push(finding);
        }
    }
    for csv in facts.cluster().of_kind("ClusterServiceVersion").filter(|object| is_olm(object)) {
        let copied =
            csv.labels().contains_key("olm.copiedFrom") || csv.str_at("/status/reason") == Some("Copied");
        if copied || covered_csvs.contains(&csv.reference()) {
            continue;
        }
        if let Some(finding) = install_finding(facts, None, None, Some(csv)) {
            findings.push(finding);
        }
    }
    findings
}

/// A condition of `object` of `kind` whose status is True: (reason, message).
fn true_condition<'a>(object: &'a Object, kind: &str) -> Option<(&'a str, &'a str)> {
    object.array_at("/status/conditions").iter().find_map(|condition| {
        let text = |key: &str| condition.get(key).and_then(Value::as_str).unwrap_or_default();
        (text("type") == kind && text("status") == "True").then(|| (text("reason"), text("message").trim()))
    })
}

fn install_finding(
    facts: &Facts<'_>,
    subscription: Option<&Object>,
    plan: Option<&Object>,
    csv: Option<&Object>,
) -> Option<Finding> {
    let mut failures: Vec<String> = Vec::new();
    let mut evidence: Vec<Evidence> = Vec::new();
    if let Some(plan) = plan.filter(|plan| plan.str_at("/status/phase") == Some("Failed")) {
        let message = plan
            .array_at("/status/conditions")
            .iter()
            .find_map(|condition| condition.get("message").and_then(Value::as_str))
            .or_else(|| plan.str_at("/status/message"))
            .unwrap_or_default()
            .trim();
        failures.push(format!("InstallPlan {} Failed{}", plan.name, colon(message)));
        evidence.push(Evidence::field(plan.reference(), "/status/phase", &"Failed".into()));
        if !message.is_empty() {
            evidence.push(Evidence::note(format!("InstallPlan {}: {message}", plan.name)));
        }
    }
    if let Some(subscription) = subscription {
        for kind in ["InstallPlanFailed", "ResolutionFailed"] {
            if let Some((reason, message)) = true_condition(subscription, kind) {
                if plan.is_none() || failures.is_empty() {
                    failures.push(format!("Subscription {kind}{}", colon(reason)));
                }
                evidence.push(Evidence::note(format!(
                    "Subscription {} condition {kind}=True {reason}{}",
                    subscription.name,
                    colon(message)
                )));
            }
        }
    }
    let mut installing_for: Option<i64> = None;
    if let Some(csv) = csv {
        let phase = csv.str_at("/status/phase").unwrap_or_default();
        let reason = csv.str_at("/status/reason").unwrap_or_default();
        let message = csv.str_at("/status/message").unwrap_or_default().trim();
        let since =
            csv.str_at("/status/lastTransitionTime").and_then(|at| at.parse::<jiff::Timestamp>().ok());
        match (phase, reason) {
            ("Failed", _) | ("Pending", "RequirementsNotMet") => {
                failures.push(format!(
                    "ClusterServiceVersion {} {phase} {reason}{}",
                    csv.name,
                    colon(message)
                ));
                evidence.push(Evidence::field(csv.reference(), "/status/phase", &phase.into()));
                let missing: Vec<String> = csv
                    .array_at("/status/requirementStatus")
                    .iter()
                    .filter(|requirement| {
                        requirement
                            .get("status")
                            .and_then(Value::as_str)
                            .is_some_and(|status| status != "Present")
                    })
                    .filter_map(|requirement| {
                        Some(format!(
                            "{} {} {}",
                            requirement.get("kind")?.as_str()?,
                            requirement.get("name")?.as_str()?,
                            requirement.get("status")?.as_str()?
                        ))
                    })
                    .collect();
                if !missing.is_empty() {
                    evidence.push(Evidence::note(format!("requirements not met: {}", missing.join(", "))));
                }
            }
            ("Installing" | "InstallReady", _) => {
                installing_for = Some(age::seconds_since(facts.cluster(), since).unwrap_or(0) / 60);
                evidence.push(Evidence::note(format!(
                    "ClusterServiceVersion {} {phase} {reason}{}",
                    csv.name,
                    colon(message)
                )));
            }
            _ => {}
        }
    }
    let subject = subscription.or(csv)?;
    let objects: Vec<ObjectRef> =
        [subscription, plan, csv].into_iter().flatten().map(Object::reference).collect();
    let label =
        format!("{} {}/{}", subject.kind, subject.namespace.as_deref().unwrap_or_default(), subject.name);
    let (severity, title, explanation) = if !failures.is_empty() {
        (
            Severity::P2,
            format!("{label}: operator install failed ({})", failures.join("; ")),
            "OLM could not install this operator: the messages above are OLM's own. The Subscription \
             stays in place, but the operator does not run, so its custom resources are not reconciled."
                .to_owned(),
        )
    } else if let Some(minutes) = installing_for {
        let severity = if minutes >= INSTALL_MINUTES { Severity::P2 } else { Severity::P3 };
        (
            severity,
            format!("{label}: operator still installing after {minutes}m"),
            format!(
                "OLM is still waiting for the operator's deployment to become available, {minutes} \
                 minutes after the install began. Under {INSTALL_MINUTES} minutes that is an install in \
                 progress (OLM raises CsvAbnormalOver30Min only after 30); longer, it is stuck: read its \
                 deployment's pods."
            ),
        )
    } else {
        return None;
    };
    let mut finding = DIAGNOSTIC.finding(severity, title);
    for object in objects {
        finding = finding.object(object);
    }
    for item in evidence {
        finding = finding.evidence(item);
    }
    let namespace = subject.namespace.as_deref().unwrap_or_default();
    Some(
        finding
            .explanation(explanation)
            .remediation(Kubectl::new("get subscriptions,installplans,csv").namespace(namespace))
            .remediation(
                Kubectl::new("describe").resource(&subject.kind).name(&subject.name).namespace(namespace),
            ),
    )
}

fn colon(text: &str) -> String {
    if text.is_empty() { String::new() } else { format!(": {text}") }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    const SUBSCRIPTION: &str = r#"
apiVersion: operators.coreos.com/v1alpha1
kind: Subscription
metadata: {name: cache-sub, namespace: ops}
status:
  currentCSV: cache.v0.0.1
  installPlanRef: {name: install-1}
  conditions:
  - {type: InstallPlanFailed, status: "True", reason: InstallComponentFailed, message: "error creating role cache-role"}
---
apiVersion: operators.coreos.com/v1alpha1
kind: InstallPlan
metadata: {name: install-1, namespace: ops}
status:
  phase: Failed
  conditions: [{type: Installed, status: "False", reason: InstallComponentFailed, message: "error creating role cache-role"}]
---
apiVersion: operators.coreos.com/v1alpha1
kind: ClusterServiceVersion
metadata: {name: cache.v0.0.1, namespace: ops}
status:
  phase: Pending
  reason: RequirementsNotMet
  message: "one or more requirements couldn't be found"
  lastTransitionTime: "2025-06-01T11:40:00Z"
  requirementStatus: [{kind: CustomResourceDefinition, name: caches.example.com, status: NotPresent}]
---
apiVersion: operators.coreos.com/v1alpha1
kind: ClusterServiceVersion
metadata: {name: cache.v0.0.1, namespace: other, labels: {olm.copiedFrom: ops}}
status: {phase: Failed, reason: Copied}
"#;

    #[test]
    fn a_failed_install_plan_and_unmet_requirements_are_one_finding_per_subscription() {
        check(
            &DIAGNOSTIC,
            SUBSCRIPTION,
            expect![[r#"
                P2 operator-install-failed Subscription ops/cache-sub: operator install failed (InstallPlan install-1 Failed: error creating role cache-role; ClusterServiceVersion cache.v0.0.1 Pending RequirementsNotMet: one or more requirements couldn't be found)
                  objects: Subscription/ops/cache-sub, InstallPlan/ops/install-1, ClusterServiceVersion/ops/cache.v0.0.1
                  field InstallPlan/ops/install-1 /status/phase = Failed
                  note: InstallPlan install-1: error creating role cache-role
                  note: Subscription cache-sub condition InstallPlanFailed=True InstallComponentFailed: error creating role cache-role
                  field ClusterServiceVersion/ops/cache.v0.0.1 /status/phase = Pending
                  note: requirements not met: CustomResourceDefinition caches.example.com NotPresent
                  why: OLM could not install this operator: the messages above are OLM's own. The Subscription stays in place, but the operator does not run, so its custom resources are not reconciled.
                  $ kubectl get subscriptions,installplans,csv -n ops
                  $ kubectl describe subscription cache-sub -n ops
            "#]],
        );
    }

    const INSTALLING: &str = r#"
apiVersion: operators.coreos.com/v1alpha1
kind: ClusterServiceVersion
metadata: {name: limits.v0.0.1, namespace: ops}
status:
  phase: Installing
  reason: InstallWaiting
  message: "installing: waiting for deployment limits-controller to become ready"
  lastTransitionTime: "TIME"
"#;

    #[test]
    fn an_install_in_progress_is_a_note_and_a_long_one_a_problem() {
        check(
            &DIAGNOSTIC,
            &INSTALLING.replace("TIME", "2025-06-01T11:57:00Z"),
            expect![[r#"
                P3 operator-install-failed ClusterServiceVersion ops/limits.v0.0.1: operator still installing after 3m
                  objects: ClusterServiceVersion/ops/limits.v0.0.1
                  note: ClusterServiceVersion limits.v0.0.1 Installing InstallWaiting: installing: waiting for deployment limits-controller to become ready
                  why: OLM is still waiting for the operator's deployment to become available, 3 minutes after the install began. Under 30 minutes that is an install in progress (OLM raises CsvAbnormalOver30Min only after 30); longer, it is stuck: read its deployment's pods.
                  $ kubectl get subscriptions,installplans,csv -n ops
                  $ kubectl describe clusterserviceversion limits.v0.0.1 -n ops
            "#]],
        );
        check(
            &DIAGNOSTIC,
            &INSTALLING.replace("TIME", "2025-06-01T10:00:00Z"),
            expect![[r#"
                P2 operator-install-failed ClusterServiceVersion ops/limits.v0.0.1: operator still installing after 120m
                  objects: ClusterServiceVersion/ops/limits.v0.0.1
                  note: ClusterServiceVersion limits.v0.0.1 Installing InstallWaiting: installing: waiting for deployment limits-controller to become ready
                  why: OLM is still waiting for the operator's deployment to become available, 120 minutes after the install began. Under 30 minutes that is an install in progress (OLM raises CsvAbnormalOver30Min only after 30); longer, it is stuck: read its deployment's pods.
                  $ kubectl get subscriptions,installplans,csv -n ops
                  $ kubectl describe clusterserviceversion limits.v0.0.1 -n ops
            "#]],
        );
        check(
            &DIAGNOSTIC,
            &INSTALLING.replace("Installing", "Succeeded").replace("InstallWaiting", "InstallSucceeded"),
            expect![[r#"
                no findings
            "#]],
        );
    }
}
