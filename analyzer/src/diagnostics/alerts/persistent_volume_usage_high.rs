//! Diagnostic `persistent-volume-usage-high`: alert PersistentVolumeUsageHigh (PVC above 85%);
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, ObjectRef};

use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::performance::units;
use crate::facts::performance::usage::MIB;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "persistent-volume-usage-high",
    category: Category::Alerts,
    title: "Alert PersistentVolumeUsageHigh (PVC above 85%)",
    severities: &[Severity::P2],
    what: "The `PersistentVolumeUsageHigh` alert rule, `kubelet_volume_stats_used_bytes / \
           kubelet_volume_stats_capacity_bytes * 100 > 85 for: 5m`, from the kubelets' `/stats/summary`: \
           every `pods[].volume[]` with a `pvcRef` (the same numbers the kubelet exports as those metrics), \
           one finding per claim. The bundle holds one summary per node, so the `for: 5m` cannot be \
           checked: the finding says the condition held at the capture. `volume-usage-high` (storage) reads \
           the same stats as a storage check; this one is the alert as the alert rules define it, with the \
           same 85% threshold, so the two agree.",
    why: "A full volume fails writes: databases stop and pods crash with `no space left on device`.",
    fix: "Free space, or expand the claim (`kubectl patch pvc ... storage`) when its StorageClass allows \
          volume expansion.",
    example: "`PVC prod-simulation/data-db-0: 91% used (9.1 GiB of 10 GiB) (PersistentVolumeUsageHigh)`, \
              with `df` in the pod and the expansion patch when the StorageClass allows it.",
    needs: &[Need::KubeletStats],
    run,
};

const THRESHOLD: f64 = 0.85;

/// One claim's fullest reading.
#[derive(Debug, Clone)]
struct Reading {
    pod: String,
    volume: String,
    node: String,
    used: f64,
    capacity: f64,
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut claims: BTreeMap<(String, String), Reading> = BTreeMap::new();
    for (node, summary) in &facts.cluster().kubelet_stats {
        for pod in summary.get("pods").and_then(Value::as_array).unwrap_or_default() {
            let pod_name = pod.pointer("/podRef/name").and_then(Value::as_str).unwrap_or_default();
            for volume in pod.get("volume").and_then(Value::as_array).unwrap_or_default() {
                let (Some(claim), Some(namespace)) = (
                    volume.pointer("/pvcRef/name").and_then(Value::as_str),
                    volume.pointer("/pvcRef/namespace").and_then(Value::as_str),
                ) else {
                    continue;
                };
                let (Some(used), Some(capacity)) = (
                    volume.get("usedBytes").and_then(Value::as_f64),
                    volume.get("capacityBytes").and_then(Value::as_f64).filter(|c| *c > 0.0),
                ) else {
                    continue;
                };
                let reading = Reading {
                    pod: pod_name.to_owned(),
                    volume: volume.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    node: node.clone(),
                    used,
                    capacity,
                };
                // A claim mounted by several pods is reported once, at its fullest reading.
                let key = (namespace.to_owned(), claim.to_owned());
                if claims.get(&key).is_none_or(|seen| seen.used / seen.capacity < used / capacity) {
                    claims.insert(key, reading);
                }
            }
        }
    }
    claims
        .into_iter()
        .filter(|(_, reading)| reading.used / reading.capacity > THRESHOLD)
        .map(|((namespace, claim), reading)| finding(facts.cluster(), &namespace, &claim, &reading))
        .collect()
}

fn finding(model: &ClusterModel, namespace: &str, claim: &str, reading: &Reading) -> Finding {
    let ratio = reading.used / reading.capacity;
    let pvc = ObjectRef {
        kind: "PersistentVolumeClaim".to_owned(),
        namespace: Some(namespace.to_owned()),
        name: claim.to_owned(),
    };
    let pod = ObjectRef {
        kind: "Pod".to_owned(),
        namespace: Some(namespace.to_owned()),
        name: reading.pod.clone(),
    };
    let mut finding = DIAGNOSTIC
        .finding(
            Severity::P2,
            format!(
                "PVC {namespace}/{claim}: {} used ({} of {}) (PersistentVolumeUsageHigh)",
                units::percent(ratio),
                units::memory(reading.used),
                units::memory(reading.capacity)
            ),
        )
        .object(pvc.clone())
        .object(pod.clone())
        .evidence(units::metric(format!("volume {namespace}/{claim}"), "used/capacity", ratio * 100.0, "%"))
        .evidence(units::metric(format!("volume {namespace}/{claim}"), "used", reading.used / MIB, "MiB"))
        .evidence(Evidence::note(format!(
            "kubelet stats of node {}: pod {} volume {}",
            reading.node, reading.pod, reading.volume
        )));
    let mount = model.get("Pod", Some(namespace), &reading.pod).and_then(|pod| {
        pod.array_at("/spec/containers").iter().find_map(|container| {
            let mount =
                container.get("volumeMounts")?.as_array()?.iter().find(|mount| {
                    mount.get("name").and_then(Value::as_str) == Some(reading.volume.as_str())
                })?;
            Some((container.get("name")?.as_str()?.to_owned(), mount.get("mountPath")?.as_str()?.to_owned()))
        })
    });
    let expandable = model
        .get("PersistentVolumeClaim", Some(namespace), claim)
        .and_then(|object| object.str_at("/spec/storageClassName"))
        .and_then(|class| model.get("StorageClass", None, class))
        .is_some_and(|class| class.at("/allowVolumeExpansion").and_then(Value::as_bool) == Some(true));
    let mut explanation = format!(
        "The rule `kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes * 100 > 85` \
         holds at the capture: the kubelet of node {} reports {} of {} used on this claim. The bundle \
         has one summary per node, so the rule's `for: 5m` could not be checked. A full volume fails \
         writes (`no space left on device`). volume-usage-high (storage) reports the same stats.",
        reading.node,
        units::memory(reading.used),
        units::memory(reading.capacity)
    );
    if expandable {
        explanation.push_str(" Its StorageClass allows volume expansion.");
    }
    finding = finding.explanation(explanation).remediation(kubectl::describe(&pvc));
    if let Some((container, path)) = mount {
        finding = finding.remediation(
            Kubectl::new("exec")
                .name(&reading.pod)
                .namespace_of(&pod)
                .arg("-c")
                .name(&container)
                .arg("-- df -h")
                .name(&path),
        );
    }
    if expandable {
        let size = (reading.capacity * 1.5 / (1024.0 * 1024.0 * 1024.0)).ceil();
        let patch = format!(r#"{{"spec":{{"resources":{{"requests":{{"storage":"{size}Gi"}}}}}}}}"#);
        finding = finding.remediation(kubectl::on("patch", &pvc).arg("-p").name(&patch));
    }
    finding
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::{check, check_model};

    const FIXTURE: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: db-0, namespace: prod-simulation}
spec:
  containers: [{name: database, volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data-db-0}}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-db-0, namespace: prod-simulation}
spec: {storageClassName: standard}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: standard}
allowVolumeExpansion: true
---
kind: KubeletStats
node: node-1
summary:
  pods:
  - podRef: {name: db-0, namespace: prod-simulation}
    volume:
    - {name: data, usedBytes: 9771050598, capacityBytes: 10737418240, pvcRef: {name: data-db-0, namespace: prod-simulation}}
    - {name: kube-api-access, usedBytes: 12288, capacityBytes: 12288}
  - podRef: {name: cache-0, namespace: prod-simulation}
    volume:
    - {name: data, usedBytes: 1073741824, capacityBytes: 10737418240, pvcRef: {name: data-cache-0, namespace: prod-simulation}}
"#;

    #[test]
    fn a_claim_above_85_percent_alerts_with_df_and_the_expansion_patch() {
        check(
            &DIAGNOSTIC,
            FIXTURE,
            expect![[r#"
            P2 persistent-volume-usage-high PVC prod-simulation/data-db-0: 91% used (9.1 GiB of 10 GiB) (PersistentVolumeUsageHigh)
              objects: PersistentVolumeClaim/prod-simulation/data-db-0, Pod/prod-simulation/db-0
              metric volume prod-simulation/data-db-0 used/capacity = 91 %
              metric volume prod-simulation/data-db-0 used = 9318.4 MiB
              note: kubelet stats of node node-1: pod db-0 volume data
              why: The rule `kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes * 100 > 85` holds at the capture: the kubelet of node node-1 reports 9.1 GiB of 10 GiB used on this claim. The bundle has one summary per node, so the rule's `for: 5m` could not be checked. A full volume fails writes (`no space left on device`). volume-usage-high (storage) reports the same stats. Its StorageClass allows volume expansion.
              $ kubectl describe persistentvolumeclaim data-db-0 -n prod-simulation
              $ kubectl exec db-0 -n prod-simulation -c database -- df -h /var/lib/postgresql/data
              $ kubectl patch persistentvolumeclaim/data-db-0 -n prod-simulation -p '{"spec":{"resources":{"requests":{"storage":"15Gi"}}}}'
        "#]],
        );
    }

    #[test]
    fn volumes_below_the_threshold_or_without_claims_do_not() {
        check(
            &DIAGNOSTIC,
            &FIXTURE.replace("9771050598", "8589934592"),
            expect![[r#"
            no findings
        "#]],
        );
        // A real kubelet summary (kind v1.35, newrelic's fixtures): no claim in it is near full.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/realdata/newrelic__nri-kubernetes/internal/testutil/data/1_35/kubelet/stats/summary");
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut model = kubesnap_shared::model::ClusterModel::default();
        model.kubelet_stats.insert("datagen-1-35".to_owned(), summary.into());
        model.finish();
        check_model(
            &DIAGNOSTIC,
            &model,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
