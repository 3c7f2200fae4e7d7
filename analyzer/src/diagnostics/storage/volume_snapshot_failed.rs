//! Diagnostic `volume-snapshot-failed`: volume snapshots failed or never ready;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::nodes::age;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "volume-snapshot-failed",
    category: Category::Storage,
    title: "Volume snapshots failed or never ready",
    severities: &[Severity::P2, Severity::P3],
    what: "VolumeSnapshots (`snapshot.storage.k8s.io`) whose `status.error` is set, or that are still not \
           `readyToUse` ten minutes after creation, with their class and source.",
    why: "A failed snapshot is a backup that does not exist: the restore relying on it finds nothing.",
    fix: "Read the error and the snapshot controller's logs; check the VolumeSnapshotClass (driver, deletion \
          policy) and the CSI driver's snapshot support and quotas, then take the snapshot again.",
    example: "`VolumeSnapshot shop/db-nightly failed: Failed to check and update snapshot content: rpc \
              error: code = Internal desc = SnapshotLimitExceeded`.",
    needs: &[],
    run,
};

/// Snapshots of large volumes take minutes; not ready after this is stuck.
const STUCK_SECONDS: i64 = 10 * 60;

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    facts
        .cluster()
        .of_kind("VolumeSnapshot")
        .filter_map(|snapshot| finding(facts.cluster(), snapshot))
        .collect()
}

fn finding(model: &ClusterModel, snapshot: &Object) -> Option<Finding> {
    let error = snapshot.str_at("/status/error/message");
    let ready = snapshot.at("/status/readyToUse").and_then(Value::as_bool);
    let waited = age::seconds_since(model, snapshot.created_at());
    let stuck = ready != Some(true) && waited.is_some_and(|seconds| seconds > STUCK_SECONDS);
    if error.is_none() && !stuck {
        return None;
    }
    let namespace = snapshot.namespace.as_deref().unwrap_or_default();
    let reference = snapshot.reference();
    let (severity, title) = match error {
        Some(message) => {
            (Severity::P2, format!("VolumeSnapshot {namespace}/{} failed: {}", snapshot.name, message.trim()))
        }
        None => (
            Severity::P3,
            format!(
                "VolumeSnapshot {namespace}/{} not ready after {}",
                snapshot.name,
                age::human(waited.unwrap_or_default())
            ),
        ),
    };
    let mut finding = DIAGNOSTIC.finding(severity, title).object(reference.clone());
    for pointer in [
        "/status/error",
        "/status/readyToUse",
        "/spec/source",
        "/spec/volumeSnapshotClassName",
        "/status/boundVolumeSnapshotContentName",
    ] {
        if let Some(value) = snapshot.at(pointer) {
            finding = finding.evidence(Evidence::field(reference.clone(), pointer, value));
        }
    }
    if let Some(claim) = snapshot.str_at("/spec/source/persistentVolumeClaimName")
        && let Some(pvc) = model.get("PersistentVolumeClaim", Some(namespace), claim)
    {
        finding = finding.object(pvc.reference());
    }
    for event in
        model.events_for("VolumeSnapshot", Some(namespace), &snapshot.name).filter(|e| e.is_warning())
    {
        finding = finding.evidence(Evidence::event(event));
    }
    let explanation = match error {
        Some(message) => format!(
            "The snapshot controller or the CSI driver failed to take VolumeSnapshot {}: \"{}\". No \
             usable copy of the volume exists from it; a backup relying on it is missing.",
            snapshot.name,
            message.trim()
        ),
        None => format!(
            "VolumeSnapshot {} was created {} ago and is still not ready to use: the snapshot controller \
             may be missing, or the driver is not answering.",
            snapshot.name,
            age::human(waited.unwrap_or_default())
        ),
    };
    Some(
        finding
            .explanation(explanation)
            .remediation(kubectl::describe(&reference))
            .remediation(Kubectl::new("get volumesnapshotclass,volumesnapshotcontents"))
            .remediation(Kubectl::new("get pods -A -l app.kubernetes.io/name=snapshot-controller")),
    )
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    #[test]
    fn errors_and_stuck_snapshots() {
        let fixture = r#"
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata: {name: db-nightly, namespace: shop, creationTimestamp: "2025-06-01T02:00:00Z"}
spec: {volumeSnapshotClassName: ebs, source: {persistentVolumeClaimName: data-db-0}}
status:
  readyToUse: false
  error: {message: "Failed to check and update snapshot content: rpc error: code = Internal desc = SnapshotLimitExceeded", time: "2025-06-01T02:01:00Z"}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-db-0, namespace: shop}
---
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata: {name: stuck, namespace: shop, creationTimestamp: "2025-06-01T11:00:00Z"}
spec: {source: {persistentVolumeClaimName: data-db-0}}
"#;
        check(
            &DIAGNOSTIC,
            fixture,
            expect![[r#"
            P2 volume-snapshot-failed VolumeSnapshot shop/db-nightly failed: Failed to check and update snapshot content: rpc error: code = Internal desc = SnapshotLimitExceeded
              objects: VolumeSnapshot/shop/db-nightly, PersistentVolumeClaim/shop/data-db-0
              field VolumeSnapshot/shop/db-nightly /status/error = {"message":"Failed to check and update snapshot content: rpc error: code = Internal desc = SnapshotLimitExceeded","time":"2025-06-01T02:01:00Z"}
              field VolumeSnapshot/shop/db-nightly /status/readyToUse = false
              field VolumeSnapshot/shop/db-nightly /spec/source = {"persistentVolumeClaimName":"data-db-0"}
              field VolumeSnapshot/shop/db-nightly /spec/volumeSnapshotClassName = ebs
              why: The snapshot controller or the CSI driver failed to take VolumeSnapshot db-nightly: "Failed to check and update snapshot content: rpc error: code = Internal desc = SnapshotLimitExceeded". No usable copy of the volume exists from it; a backup relying on it is missing.
              $ kubectl describe volumesnapshot db-nightly -n shop
              $ kubectl get volumesnapshotclass,volumesnapshotcontents
              $ kubectl get pods -A -l app.kubernetes.io/name=snapshot-controller
            P3 volume-snapshot-failed VolumeSnapshot shop/stuck not ready after 1h
              objects: VolumeSnapshot/shop/stuck, PersistentVolumeClaim/shop/data-db-0
              field VolumeSnapshot/shop/stuck /spec/source = {"persistentVolumeClaimName":"data-db-0"}
              why: VolumeSnapshot stuck was created 1h ago and is still not ready to use: the snapshot controller may be missing, or the driver is not answering.
              $ kubectl describe volumesnapshot stuck -n shop
              $ kubectl get volumesnapshotclass,volumesnapshotcontents
              $ kubectl get pods -A -l app.kubernetes.io/name=snapshot-controller
        "#]],
        );
    }

    #[test]
    fn ready_and_young_snapshots_are_fine() {
        let fixture = r#"
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata: {name: ok, namespace: shop, creationTimestamp: "2025-06-01T02:00:00Z"}
status: {readyToUse: true}
---
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata: {name: new, namespace: shop, creationTimestamp: "2025-06-01T11:58:00Z"}
status: {readyToUse: false}
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
