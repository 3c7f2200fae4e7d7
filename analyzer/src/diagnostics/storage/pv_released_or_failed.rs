//! Diagnostic `pv-released-or-failed`: volumes Released or Failed, claims Lost;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object, ObjectRef};

use super::pvc_pending::consumers;
use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "pv-released-or-failed",
    category: Category::Storage,
    title: "Volumes Released or Failed, claims Lost",
    severities: &[Severity::P1, Severity::P2, Severity::P3],
    what: "PersistentVolumes in phase `Failed` (their reclaim — delete or recycle — failed), `Released` \
           (their claim is gone and the data waits for someone under a `Retain` policy), and \
           PersistentVolumeClaims in phase `Lost` (their volume is gone).",
    why: "A Lost claim's pods cannot start and its data may be gone; a Failed volume leaks a disk; a \
          Released one holds data nobody can mount until it is reclaimed.",
    fix: "Lost: restore the volume (or recreate the claim from a backup). Released: copy what is needed, \
          then delete the PV or clear its claimRef to reuse it. Failed: read its message and delete the \
          disk by hand.",
    example: "`PVC shop/data-db-0 Lost: its PersistentVolume pvc-123 no longer exists`.",
    needs: &[],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for pvc in facts
        .cluster()
        .of_kind("PersistentVolumeClaim")
        .filter(|pvc| pvc.str_at("/status/phase") == Some("Lost"))
    {
        findings.push(lost(facts.cluster(), pvc));
    }
    for pv in facts.cluster().of_kind("PersistentVolume") {
        match pv.str_at("/status/phase") {
            Some("Failed") => findings.push(volume(facts.cluster(), pv, Severity::P2)),
            Some("Released") => findings.push(volume(facts.cluster(), pv, Severity::P3)),
            _ => {}
        }
    }
    findings
}

fn lost(model: &ClusterModel, pvc: &Object) -> Finding {
    let namespace = pvc.namespace.as_deref().unwrap_or_default();
    let volume_name = pvc.str_at("/spec/volumeName");
    let exists = volume_name.and_then(|name| model.get("PersistentVolume", None, name));
    let cause = match (volume_name, exists) {
        (Some(name), None) => format!("its PersistentVolume {name} no longer exists"),
        (Some(name), Some(_)) => format!("its PersistentVolume {name} is bound elsewhere or broken"),
        (None, _) => "it names no volume".to_owned(),
    };
    let pods = consumers(model, pvc);
    let mut finding = DIAGNOSTIC
        .finding(Severity::P1, format!("PVC {namespace}/{} Lost: {cause}", pvc.name))
        .object(pvc.reference())
        .evidence(Evidence::field(pvc.reference(), "/status/phase", &"Lost".into()));
    if let Some(name) = volume_name {
        finding = finding.evidence(Evidence::field(pvc.reference(), "/spec/volumeName", &name.into()));
    }
    for pod in &pods {
        finding = finding.object(pod.reference());
    }
    finding
        .explanation(format!(
            "PersistentVolumeClaim {} was bound, and {cause}: someone deleted the PV (or its disk) while the \
             claim still used it. Pods that mount the claim cannot start, and the data may be gone with the \
             volume.{}",
            pvc.name,
            if pods.is_empty() { String::new() } else { format!(" {} pods mount it.", pods.len()) }
        ))
        .remediation(kubectl::describe(&pvc.reference()))
        .remediation(Kubectl::new("get pv"))
        .remediation(
            Kubectl::new("delete pvc")
                .name(&pvc.name)
                .namespace(namespace)
                .then("   # then recreate it from a backup"),
        )
}

fn volume(model: &ClusterModel, pv: &Object, severity: Severity) -> Finding {
    let phase = pv.str_at("/status/phase").unwrap_or_default();
    let claim = pv.at("/spec/claimRef").and_then(|claim| {
        Some(ObjectRef {
            kind: "PersistentVolumeClaim".to_owned(),
            namespace: claim.get("namespace").and_then(Value::as_str).map(str::to_owned),
            name: claim.get("name")?.as_str()?.to_owned(),
        })
    });
    let policy = pv.str_at("/spec/persistentVolumeReclaimPolicy").unwrap_or("Retain");
    let claim_text = claim
        .as_ref()
        .map(|claim| format!(" (was {}/{})", claim.namespace.as_deref().unwrap_or_default(), claim.name))
        .unwrap_or_default();
    let mut finding = DIAGNOSTIC
        .finding(severity, format!("PersistentVolume {} {phase}{claim_text}", pv.name))
        .object(pv.reference())
        .evidence(Evidence::field(pv.reference(), "/status/phase", &phase.into()))
        .evidence(Evidence::field(pv.reference(), "/spec/persistentVolumeReclaimPolicy", &policy.into()));
    if let Some(message) = pv.at("/status/message") {
        finding = finding.evidence(Evidence::field(pv.reference(), "/status/message", message));
    }
    if let Some(capacity) = pv.at("/spec/capacity/storage") {
        finding = finding.evidence(Evidence::field(pv.reference(), "/spec/capacity/storage", capacity));
    }
    if let Some(event) =
        model.events_for("PersistentVolume", None, &pv.name).filter(|e| e.is_warning()).last()
    {
        finding = finding.evidence(Evidence::event(event));
    }
    let explanation = if phase == "Failed" {
        format!(
            "PersistentVolume {} failed its automatic reclaim (policy {policy}): the disk behind it was not \
             deleted or recycled, so it still exists and is billed, and the PV cannot be reused.",
            pv.name
        )
    } else {
        format!(
            "The claim of PersistentVolume {} was deleted and its policy is {policy}, so the volume and \
             its data were kept. Nothing can mount it until an administrator reclaims it: copy what is \
             needed, then delete it or clear its claimRef.",
            pv.name
        )
    };
    let mut finding = finding.explanation(explanation).remediation(kubectl::describe(&pv.reference()));
    if phase == "Released" {
        finding = finding.remediation(
            Kubectl::new("patch pv")
                .name(&pv.name)
                .arg(r#"--type json -p '[{"op":"remove","path":"/spec/claimRef"}]'"#)
                .then("   # to reuse it"),
        );
    }
    finding.remediation(Kubectl::new("delete pv").name(&pv.name).then("   # once its data is safe"))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    #[test]
    fn lost_claims_failed_and_released_volumes() {
        let fixture = r#"
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-db-0, namespace: shop}
spec: {volumeName: pvc-123}
status: {phase: Lost}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pvc-old}
spec: {persistentVolumeReclaimPolicy: Delete, capacity: {storage: 20Gi}, claimRef: {namespace: shop, name: old}}
status: {phase: Failed, message: "error getting deleter volume plugin for volume \"pvc-old\": no volume plugin matched"}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pvc-kept}
spec: {persistentVolumeReclaimPolicy: Retain, claimRef: {namespace: shop, name: gone}}
status: {phase: Released}
"#;
        check(
            &DIAGNOSTIC,
            fixture,
            expect![[r#"
            P1 pv-released-or-failed PVC shop/data-db-0 Lost: its PersistentVolume pvc-123 no longer exists
              objects: PersistentVolumeClaim/shop/data-db-0
              field PersistentVolumeClaim/shop/data-db-0 /status/phase = Lost
              field PersistentVolumeClaim/shop/data-db-0 /spec/volumeName = pvc-123
              why: PersistentVolumeClaim data-db-0 was bound, and its PersistentVolume pvc-123 no longer exists: someone deleted the PV (or its disk) while the claim still used it. Pods that mount the claim cannot start, and the data may be gone with the volume.
              $ kubectl describe persistentvolumeclaim data-db-0 -n shop
              $ kubectl get pv
              $ kubectl delete pvc data-db-0 -n shop   # then recreate it from a backup
            P3 pv-released-or-failed PersistentVolume pvc-kept Released (was shop/gone)
              objects: PersistentVolume/pvc-kept
              field PersistentVolume/pvc-kept /status/phase = Released
              field PersistentVolume/pvc-kept /spec/persistentVolumeReclaimPolicy = Retain
              why: The claim of PersistentVolume pvc-kept was deleted and its policy is Retain, so the volume and its data were kept. Nothing can mount it until an administrator reclaims it: copy what is needed, then delete it or clear its claimRef.
              $ kubectl describe persistentvolume pvc-kept
              $ kubectl patch pv pvc-kept --type json -p '[{"op":"remove","path":"/spec/claimRef"}]'   # to reuse it
              $ kubectl delete pv pvc-kept   # once its data is safe
            P2 pv-released-or-failed PersistentVolume pvc-old Failed (was shop/old)
              objects: PersistentVolume/pvc-old
              field PersistentVolume/pvc-old /status/phase = Failed
              field PersistentVolume/pvc-old /spec/persistentVolumeReclaimPolicy = Delete
              field PersistentVolume/pvc-old /status/message = error getting deleter volume plugin for volume "pvc-old": no volume plugin matched
              field PersistentVolume/pvc-old /spec/capacity/storage = 20Gi
              why: PersistentVolume pvc-old failed its automatic reclaim (policy Delete): the disk behind it was not deleted or recycled, so it still exists and is billed, and the PV cannot be reused.
              $ kubectl describe persistentvolume pvc-old
              $ kubectl delete pv pvc-old   # once its data is safe
        "#]],
        );
    }

    #[test]
    fn bound_and_available_are_fine() {
        let fixture = r#"
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: shop}
status: {phase: Bound}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pvc-1}
status: {phase: Bound}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: spare}
status: {phase: Available}
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
