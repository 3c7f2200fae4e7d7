//! Diagnostic `pvc-pending`: persistentVolumeClaims stuck Pending;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Event, Object};

use super::classes;
use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::nodes::age;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "pvc-pending",
    category: Category::Storage,
    title: "PersistentVolumeClaims stuck Pending",
    severities: &[Severity::P1, Severity::P2],
    what: "PersistentVolumeClaims stuck in `Pending`, and why: the StorageClass they name does not exist; \
           they name none and no StorageClass is the default; they ask for static binding \
           (`storageClassName: \"\"`) and no Available PersistentVolume matches their size and access \
           modes; the provisioner failed (`ProvisioningFailed` events) or never answered \
           (`ExternalProvisioning`: waiting for a volume to be created). Claims waiting for their first \
           consumer (`WaitForFirstConsumer`) with no pod using them are normal and left alone.",
    why: "Pods that mount a pending claim never start; a StatefulSet stops at the first replica whose volume \
          cannot be made.",
    fix: "Create or name an existing StorageClass (or mark one default), create a matching PV, or fix the \
          provisioner (CSI driver pods, cloud permissions, quotas) its events name.",
    example: "`PVC shop/data-db-0 Pending: StorageClass fast-ssd does not exist (used by pod db-0)`.",
    needs: &[],
    run,
};

/// A claim younger than this with no warning is still being provisioned.
const GRACE_SECONDS: i64 = 60;

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    facts
        .cluster()
        .of_kind("PersistentVolumeClaim")
        .filter(|pvc| pvc.str_at("/status/phase") == Some("Pending") && pvc.deleting_since().is_none())
        .filter_map(|pvc| finding(facts, pvc))
        .collect()
}

/// Pods of the claim's namespace that mount it.
pub(crate) fn consumers<'a>(model: &'a ClusterModel, pvc: &'a Object) -> Vec<&'a Object> {
    let namespace = pvc.namespace.as_deref().unwrap_or_default();
    model
        .of_kind_in("Pod", namespace)
        .filter(|pod| {
            pod.array_at("/spec/volumes").iter().any(|volume| {
                volume.pointer("/persistentVolumeClaim/claimName").and_then(Value::as_str)
                    == Some(pvc.name.as_str())
            })
        })
        .collect()
}

fn finding(facts: &Facts<'_>, pvc: &Object) -> Option<Finding> {
    let namespace = pvc.namespace.as_deref().unwrap_or_default();
    let pvc_ref = pvc.reference();
    let events: Vec<&Event> =
        facts.cluster().events_for("PersistentVolumeClaim", Some(namespace), &pvc.name).collect();
    let failed = events.iter().rev().find(|event| event.reason == "ProvisioningFailed").copied();
    let waiting = events.iter().rev().find(|event| event.reason == "ExternalProvisioning").copied();
    let pods = consumers(facts.cluster(), pvc);
    let class_name = pvc.str_at("/spec/storageClassName");
    let class = class_name
        .filter(|name| !name.is_empty())
        .and_then(|name| facts.cluster().get("StorageClass", None, name));
    // Zero StorageClasses means none exist only when the bundle listed them; otherwise a
    // missing class may just not have been captured, and the claim's events are all we know.
    let have_classes = facts.captured("StorageClass").is_listed();
    let wait_for_consumer =
        class.and_then(|class| class.str_at("/volumeBindingMode")) == Some("WaitForFirstConsumer");

    let reason = match class_name {
        Some(name) if !name.is_empty() && class.is_none() && have_classes => {
            format!("StorageClass {name} does not exist")
        }
        None if have_classes && classes::defaults(facts.cluster()).is_empty() => {
            "it names no StorageClass and none is the default".to_owned()
        }
        Some("") => match matching_volume(facts.cluster(), pvc) {
            None => "no Available PersistentVolume matches it (static provisioning)".to_owned(),
            Some(volume) => format!("PersistentVolume {volume} matches but has not bound yet"),
        },
        _ => match (failed, waiting) {
            (Some(event), _) => format!("provisioning failed: {}", event.message.trim()),
            (None, Some(event)) => format!("waiting for the external provisioner: {}", event.message.trim()),
            (None, None) if wait_for_consumer && pods.is_empty() => return None,
            (None, None) if wait_for_consumer => {
                "waiting for its first consumer pod to be scheduled".to_owned()
            }
            (None, None) => "no event says why".to_owned(),
        },
    };
    let young =
        age::seconds_since(facts.cluster(), pvc.created_at()).is_some_and(|seconds| seconds < GRACE_SECONDS);
    if young && failed.is_none() {
        return None;
    }
    let severity = if pods.is_empty() { Severity::P2 } else { Severity::P1 };
    let used_by = match pods.as_slice() {
        [] => String::new(),
        [pod] => format!(" (used by pod {})", pod.name),
        [pod, rest @ ..] => format!(" (used by pod {} and {} more)", pod.name, rest.len()),
    };
    let mut finding = DIAGNOSTIC
        .finding(severity, format!("PVC {namespace}/{} Pending: {reason}{used_by}", pvc.name))
        .object(pvc_ref.clone());
    for pod in &pods {
        finding = finding.object(pod.reference());
    }
    finding = finding.evidence(Evidence::field(
        pvc_ref.clone(),
        "/spec/storageClassName",
        pvc.at("/spec/storageClassName").unwrap_or(&Value::Null),
    ));
    for pointer in ["/spec/resources/requests/storage", "/spec/accessModes"] {
        if let Some(value) = pvc.at(pointer) {
            finding = finding.evidence(Evidence::field(pvc_ref.clone(), pointer, value));
        }
    }
    if let Some(class) = class {
        finding = finding.object(class.reference()).evidence(Evidence::field(
            class.reference(),
            "/provisioner",
            class.at("/provisioner").unwrap_or(&Value::Null),
        ));
    }
    for event in [failed, waiting].into_iter().flatten() {
        finding = finding.evidence(Evidence::event(event));
    }
    if let Some(seconds) = age::seconds_since(facts.cluster(), pvc.created_at()) {
        finding = finding.evidence(Evidence::note(format!("pending for {}", age::human(seconds))));
    }
    let mut explanation = format!("PersistentVolumeClaim {} cannot bind: {reason}.", pvc.name);
    explanation.push_str(if pods.is_empty() {
        " No pod mounts it yet, so nothing is blocked today; the first pod that does will not start."
    } else {
        " The pods that mount it stay Pending (or ContainerCreating) until it binds."
    });
    if waiting.is_some() && failed.is_none() {
        explanation.push_str(
            " The provisioner named in the event never created the volume: its controller pods are \
             likely down or not installed (see csi-driver-pods-unhealthy).",
        );
    }
    let mut finding = finding
        .explanation(explanation)
        .remediation(kubectl::describe(&pvc_ref))
        .remediation(Kubectl::new("get storageclass"))
        .remediation(kubectl::events(&pvc_ref));
    if class_name == Some("") {
        finding = finding.remediation(Kubectl::new("get pv"));
    }
    Some(finding)
}

/// An Available static PV (no class) with enough capacity and the requested access modes.
fn matching_volume<'a>(model: &'a ClusterModel, pvc: &Object) -> Option<&'a str> {
    let requested = pvc
        .str_at("/spec/resources/requests/storage")
        .and_then(kubesnap_shared::quantity::bytes)
        .unwrap_or(0.0);
    let modes: Vec<&str> = pvc.array_at("/spec/accessModes").iter().filter_map(Value::as_str).collect();
    model
        .of_kind("PersistentVolume")
        .find(|pv| {
            let capacity =
                pv.str_at("/spec/capacity/storage").and_then(kubesnap_shared::quantity::bytes).unwrap_or(0.0);
            let offered: Vec<&str> =
                pv.array_at("/spec/accessModes").iter().filter_map(Value::as_str).collect();
            pv.str_at("/status/phase") == Some("Available")
                && pv.str_at("/spec/storageClassName").unwrap_or_default().is_empty()
                && capacity >= requested
                && modes.iter().all(|mode| offered.contains(mode))
        })
        .map(|pv| pv.name.as_str())
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::{check, model_from_yaml, render};

    const CLASSES: &str = r#"
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: standard, annotations: {storageclass.kubernetes.io/is-default-class: "true"}}
provisioner: ebs.csi.aws.com
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: local}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
"#;

    #[test]
    fn missing_class_failed_provisioning_and_no_static_volume() {
        let fixture = format!(
            "{CLASSES}{}",
            r#"
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-db-0, namespace: shop, creationTimestamp: "2025-06-01T11:00:00Z"}
spec: {storageClassName: fast-ssd, accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}
status: {phase: Pending}
---
apiVersion: v1
kind: Pod
metadata: {name: db-0, namespace: shop}
spec: {volumes: [{name: data, persistentVolumeClaim: {claimName: data-db-0}}]}
status: {phase: Pending}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: uploads, namespace: shop, creationTimestamp: "2025-06-01T11:00:00Z"}
spec: {storageClassName: standard, resources: {requests: {storage: 1Gi}}}
status: {phase: Pending}
---
apiVersion: v1
kind: Event
metadata: {name: uploads.1, namespace: shop}
involvedObject: {kind: PersistentVolumeClaim, name: uploads, namespace: shop}
type: Warning
reason: ProvisioningFailed
message: "failed to provision volume with StorageClass \"standard\": rpc error: code = Internal desc = UnauthorizedOperation"
count: 7
source: {component: ebs.csi.aws.com_ebs-csi-controller-0}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: legacy, namespace: shop, creationTimestamp: "2025-05-01T00:00:00Z"}
spec: {storageClassName: "", accessModes: [ReadWriteMany], resources: {requests: {storage: 5Gi}}}
status: {phase: Pending}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: small}
spec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteMany]}
status: {phase: Available}
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 pvc-pending PVC shop/data-db-0 Pending: StorageClass fast-ssd does not exist (used by pod db-0)
              objects: PersistentVolumeClaim/shop/data-db-0, Pod/shop/db-0
              field PersistentVolumeClaim/shop/data-db-0 /spec/storageClassName = fast-ssd
              field PersistentVolumeClaim/shop/data-db-0 /spec/resources/requests/storage = 10Gi
              field PersistentVolumeClaim/shop/data-db-0 /spec/accessModes = ["ReadWriteOnce"]
              note: pending for 1h
              why: PersistentVolumeClaim data-db-0 cannot bind: StorageClass fast-ssd does not exist. The pods that mount it stay Pending (or ContainerCreating) until it binds.
              $ kubectl describe persistentvolumeclaim data-db-0 -n shop
              $ kubectl get storageclass
              $ kubectl get events -n shop --field-selector involvedObject.name=data-db-0 --sort-by=.lastTimestamp
            P2 pvc-pending PVC shop/legacy Pending: no Available PersistentVolume matches it (static provisioning)
              objects: PersistentVolumeClaim/shop/legacy
              field PersistentVolumeClaim/shop/legacy /spec/storageClassName = 
              field PersistentVolumeClaim/shop/legacy /spec/resources/requests/storage = 5Gi
              field PersistentVolumeClaim/shop/legacy /spec/accessModes = ["ReadWriteMany"]
              note: pending for 31d12h
              why: PersistentVolumeClaim legacy cannot bind: no Available PersistentVolume matches it (static provisioning). No pod mounts it yet, so nothing is blocked today; the first pod that does will not start.
              $ kubectl describe persistentvolumeclaim legacy -n shop
              $ kubectl get storageclass
              $ kubectl get events -n shop --field-selector involvedObject.name=legacy --sort-by=.lastTimestamp
              $ kubectl get pv
            P2 pvc-pending PVC shop/uploads Pending: provisioning failed: failed to provision volume with StorageClass "standard": rpc error: code = Internal desc = UnauthorizedOperation
              objects: PersistentVolumeClaim/shop/uploads, StorageClass/standard
              field PersistentVolumeClaim/shop/uploads /spec/storageClassName = standard
              field PersistentVolumeClaim/shop/uploads /spec/resources/requests/storage = 1Gi
              field StorageClass/standard /provisioner = ebs.csi.aws.com
              event ProvisioningFailed x7 (ebs.csi.aws.com_ebs-csi-controller-0): failed to provision volume with StorageClass "standard": rpc error: code = Internal desc = UnauthorizedOperation
              note: pending for 1h
              why: PersistentVolumeClaim uploads cannot bind: provisioning failed: failed to provision volume with StorageClass "standard": rpc error: code = Internal desc = UnauthorizedOperation. No pod mounts it yet, so nothing is blocked today; the first pod that does will not start.
              $ kubectl describe persistentvolumeclaim uploads -n shop
              $ kubectl get storageclass
              $ kubectl get events -n shop --field-selector involvedObject.name=uploads --sort-by=.lastTimestamp
        "#]],
        );
    }

    #[test]
    fn bound_young_and_waiting_for_consumer_claims_are_fine() {
        let fixture = format!(
            "{CLASSES}{}",
            r#"
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: bound, namespace: shop}
spec: {storageClassName: standard}
status: {phase: Bound}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: new, namespace: shop, creationTimestamp: "2025-06-01T11:59:40Z"}
spec: {storageClassName: standard}
status: {phase: Pending}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: later, namespace: shop, creationTimestamp: "2025-06-01T10:00:00Z"}
spec: {storageClassName: local}
status: {phase: Pending}
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }

    const CLAIMS_WITHOUT_CLASSES: &str = r#"
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-db-0, namespace: shop, creationTimestamp: "2025-06-01T11:00:00Z"}
spec: {storageClassName: fast-ssd, resources: {requests: {storage: 10Gi}}}
status: {phase: Pending}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: uploads, namespace: shop, creationTimestamp: "2025-06-01T11:00:00Z"}
spec: {resources: {requests: {storage: 1Gi}}}
status: {phase: Pending}
"#;

    #[test]
    fn without_any_class_captured_the_claims_say_no_event_explains_them() {
        check(
            &DIAGNOSTIC,
            CLAIMS_WITHOUT_CLASSES,
            expect![[r#"
                P2 pvc-pending PVC shop/data-db-0 Pending: no event says why
                  objects: PersistentVolumeClaim/shop/data-db-0
                  field PersistentVolumeClaim/shop/data-db-0 /spec/storageClassName = fast-ssd
                  field PersistentVolumeClaim/shop/data-db-0 /spec/resources/requests/storage = 10Gi
                  note: pending for 1h
                  why: PersistentVolumeClaim data-db-0 cannot bind: no event says why. No pod mounts it yet, so nothing is blocked today; the first pod that does will not start.
                  $ kubectl describe persistentvolumeclaim data-db-0 -n shop
                  $ kubectl get storageclass
                  $ kubectl get events -n shop --field-selector involvedObject.name=data-db-0 --sort-by=.lastTimestamp
                P2 pvc-pending PVC shop/uploads Pending: no event says why
                  objects: PersistentVolumeClaim/shop/uploads
                  field PersistentVolumeClaim/shop/uploads /spec/storageClassName = null
                  field PersistentVolumeClaim/shop/uploads /spec/resources/requests/storage = 1Gi
                  note: pending for 1h
                  why: PersistentVolumeClaim uploads cannot bind: no event says why. No pod mounts it yet, so nothing is blocked today; the first pod that does will not start.
                  $ kubectl describe persistentvolumeclaim uploads -n shop
                  $ kubectl get storageclass
                  $ kubectl get events -n shop --field-selector involvedObject.name=uploads --sort-by=.lastTimestamp
            "#]],
        );
    }

    #[test]
    fn an_empty_storage_class_list_means_the_classes_do_not_exist() {
        // The bundle listed StorageClasses and found none (an empty StorageClassList).
        let mut model = model_from_yaml(CLAIMS_WITHOUT_CLASSES);
        model.listed_kinds.insert("StorageClass".to_owned());
        let findings = (DIAGNOSTIC.run)(&crate::facts::Facts::new(&model));
        expect![[r#"
            P2 pvc-pending PVC shop/data-db-0 Pending: StorageClass fast-ssd does not exist
              objects: PersistentVolumeClaim/shop/data-db-0
              field PersistentVolumeClaim/shop/data-db-0 /spec/storageClassName = fast-ssd
              field PersistentVolumeClaim/shop/data-db-0 /spec/resources/requests/storage = 10Gi
              note: pending for 1h
              why: PersistentVolumeClaim data-db-0 cannot bind: StorageClass fast-ssd does not exist. No pod mounts it yet, so nothing is blocked today; the first pod that does will not start.
              $ kubectl describe persistentvolumeclaim data-db-0 -n shop
              $ kubectl get storageclass
              $ kubectl get events -n shop --field-selector involvedObject.name=data-db-0 --sort-by=.lastTimestamp
            P2 pvc-pending PVC shop/uploads Pending: it names no StorageClass and none is the default
              objects: PersistentVolumeClaim/shop/uploads
              field PersistentVolumeClaim/shop/uploads /spec/storageClassName = null
              field PersistentVolumeClaim/shop/uploads /spec/resources/requests/storage = 1Gi
              note: pending for 1h
              why: PersistentVolumeClaim uploads cannot bind: it names no StorageClass and none is the default. No pod mounts it yet, so nothing is blocked today; the first pod that does will not start.
              $ kubectl describe persistentvolumeclaim uploads -n shop
              $ kubectl get storageclass
              $ kubectl get events -n shop --field-selector involvedObject.name=uploads --sort-by=.lastTimestamp
        "#]]
        .assert_eq(&render(&findings));
    }
}
