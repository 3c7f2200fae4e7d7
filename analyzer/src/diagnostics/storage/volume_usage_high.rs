//! Diagnostic `volume-usage-high`: persistent volumes almost full;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, ObjectRef};

use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::storage::kubelet_stats::{self, VolumeUsage, human_bytes};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "volume-usage-high",
    category: Category::Storage,
    title: "Persistent volumes almost full",
    severities: &[Severity::P1, Severity::P2],
    what: "The `PersistentVolumeUsageHigh` alert rule (`kubelet_volume_stats_used_bytes / \
           kubelet_volume_stats_capacity_bytes * 100 > 85`), evaluated on the kubelets' `/stats/summary`: \
           every PVC-backed pod volume above 85% of its capacity (P2), above 95% (P1); inodes likewise.",
    why: "Writes fail on a full volume: databases stop or corrupt data, queues drop messages.",
    fix: "Expand the PVC (when its StorageClass allows volume expansion), or delete data (old logs, WAL, \
          backups) on it.",
    example: "`PVC shop/data-db-0 is 96% full (9.6 GiB of 10.0 GiB)`, mounted by `db-0` at \
              `/var/lib/postgresql/data`, with the `kubectl patch pvc` that grows it to 15Gi when the \
              StorageClass allows expansion.",
    needs: &[Need::KubeletStats],
    run,
};

/// The PersistentVolumeUsageHigh alert rule's threshold, in percent.
const WARNING_PERCENT: f64 = 85.0;
/// Above this, writes are about to fail.
const CRITICAL_PERCENT: f64 = 95.0;

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    // One entry per PVC: a volume mounted by several pods is reported once, at its fullest.
    let mut by_pvc: BTreeMap<(&str, &str), (VolumeUsage<'_>, f64)> = BTreeMap::new();
    for usage in kubelet_stats::volumes(facts.cluster()) {
        let Some(pvc) = usage.pvc else { continue };
        let bytes = percent(usage.used_bytes, usage.capacity_bytes);
        let inodes = match (usage.inodes_used, usage.inodes) {
            (Some(used), Some(total)) => percent(used, total),
            _ => 0.0,
        };
        let fullest = bytes.max(inodes);
        if by_pvc.get(&pvc).is_none_or(|(_, known)| *known < fullest) {
            by_pvc.insert(pvc, (usage, fullest));
        }
    }
    by_pvc
        .into_values()
        .filter(|(_, fullest)| *fullest > WARNING_PERCENT)
        .filter_map(|(usage, fullest)| Some(finding(facts.cluster(), &usage, usage.pvc?, fullest)))
        .collect()
}

fn percent(used: f64, total: f64) -> f64 {
    if total > 0.0 { used / total * 100.0 } else { 0.0 }
}

fn finding(
    model: &ClusterModel,
    usage: &VolumeUsage<'_>,
    (namespace, name): (&str, &str),
    fullest: f64,
) -> Finding {
    let pvc_ref = ObjectRef {
        kind: "PersistentVolumeClaim".to_owned(),
        namespace: Some(namespace.to_owned()),
        name: name.to_owned(),
    };
    let pod_ref = ObjectRef {
        kind: "Pod".to_owned(),
        namespace: Some(usage.namespace.to_owned()),
        name: usage.pod.to_owned(),
    };
    let severity = if fullest > CRITICAL_PERCENT { Severity::P1 } else { Severity::P2 };
    let bytes_percent = percent(usage.used_bytes, usage.capacity_bytes);
    let inode_percent = match (usage.inodes_used, usage.inodes) {
        (Some(used), Some(total)) => Some(percent(used, total)),
        _ => None,
    };
    let inodes_are_the_limit =
        inode_percent.is_some_and(|inodes| inodes > WARNING_PERCENT && inodes >= bytes_percent);
    let title = if inodes_are_the_limit {
        format!("PVC {namespace}/{name} has used {:.0}% of its inodes", inode_percent.unwrap_or_default())
    } else {
        format!(
            "PVC {namespace}/{name} is {bytes_percent:.0}% full ({} of {})",
            human_bytes(usage.used_bytes),
            human_bytes(usage.capacity_bytes)
        )
    };
    let series = format!("kubelet volume {namespace}/{name} (pod {}, node {})", usage.pod, usage.node);
    let mut finding = DIAGNOSTIC
        .finding(severity, title)
        .object(pvc_ref.clone())
        .object(pod_ref.clone())
        .evidence(Evidence::Metric {
            series: series.clone(),
            statistic: "used".into(),
            value: usage.used_bytes,
            unit: "bytes".into(),
        })
        .evidence(Evidence::Metric {
            series: series.clone(),
            statistic: "capacity".into(),
            value: usage.capacity_bytes,
            unit: "bytes".into(),
        })
        .evidence(Evidence::Metric {
            series: series.clone(),
            statistic: "used".into(),
            value: round1(bytes_percent),
            unit: "percent".into(),
        });
    if let Some(inodes) = inode_percent {
        finding = finding.evidence(Evidence::Metric {
            series,
            statistic: "inodes used".into(),
            value: round1(inodes),
            unit: "percent".into(),
        });
    }
    let pvc = model.get("PersistentVolumeClaim", Some(namespace), name);
    let class = pvc.and_then(|pvc| pvc.str_at("/spec/storageClassName"));
    let expandable = class
        .and_then(|class| model.get("StorageClass", None, class))
        .and_then(|class| class.at("/allowVolumeExpansion"))
        .and_then(Value::as_bool);
    if let Some(volume) = pvc.and_then(|pvc| pvc.str_at("/spec/volumeName")) {
        finding = finding.object(ObjectRef {
            kind: "PersistentVolume".to_owned(),
            namespace: None,
            name: volume.to_owned(),
        });
    }
    let mount = mount_path(model, usage);
    if let Some(path) = &mount {
        finding = finding.evidence(Evidence::note(format!("mounted by pod {} at {path}", usage.pod)));
    }
    if let (Some(class), Some(expandable)) = (class, expandable) {
        finding = finding
            .evidence(Evidence::note(format!("StorageClass {class} allowVolumeExpansion: {expandable}")));
    }
    let what = if inodes_are_the_limit { "inodes (files)" } else { "space" };
    let mut explanation = format!(
        "Volume {} of pod {} (PVC {name}) has used {fullest:.0}% of its {what}, above the \
         PersistentVolumeUsageHigh alert rule's threshold of {WARNING_PERCENT:.0}%.",
        usage.volume, usage.pod
    );
    explanation.push_str(if severity == Severity::P1 {
        " Writes are about to fail: a database on it will stop accepting data or crash."
    } else {
        " If it keeps growing it fills up; act before writes fail."
    });
    if inodes_are_the_limit {
        explanation.push_str(" Inodes run out before bytes when an application writes many small files.");
    }
    let mut finding = finding.explanation(explanation).remediation(kubectl::describe(&pvc_ref));
    if let Some(path) = &mount {
        let flag = if inodes_are_the_limit { "-i" } else { "-h" };
        finding = finding.remediation(
            Kubectl::new("exec").name(usage.pod).namespace(usage.namespace).arg("-- df").arg(flag).name(path),
        );
    }
    match expandable {
        Some(false) => finding.remediation(
            Kubectl::new("get storageclass")
                .name(class.unwrap_or_default())
                .arg("-o yaml")
                .then("   # allowVolumeExpansion is false: expansion needs a new volume"),
        ),
        _ => {
            let grown = ((usage.capacity_bytes * 1.5) / 1_073_741_824.0).ceil().max(1.0);
            let patch = format!(r#"{{"spec":{{"resources":{{"requests":{{"storage":"{grown:.0}Gi"}}}}}}}}"#);
            finding
                .remediation(Kubectl::new("patch pvc").name(name).namespace(namespace).arg("-p").name(&patch))
        }
    }
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Where a container of the pod mounts the volume, from the pod's spec.
fn mount_path(model: &ClusterModel, usage: &VolumeUsage<'_>) -> Option<String> {
    let pod = model.get("Pod", Some(usage.namespace), usage.pod)?;
    pod.array_at("/spec/containers").iter().find_map(|container| {
        container.get("volumeMounts")?.as_array()?.iter().find_map(|mount| {
            (mount.get("name")?.as_str()? == usage.volume)
                .then(|| mount.get("mountPath")?.as_str().map(str::to_owned))?
        })
    })
}

#[cfg(test)]
mod tests {
    use expect_test::expect;
    use serde_json::json;

    use super::DIAGNOSTIC;
    use crate::testing::{check, kubelet_stats};

    const OBJECTS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: db-0, namespace: shop}
spec:
  containers: [{name: db, volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data-db-0}}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-db-0, namespace: shop}
spec: {storageClassName: standard, volumeName: pvc-123}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: standard}
provisioner: ebs.csi.aws.com
allowVolumeExpansion: true
"#;

    fn summary(used: u64, inodes_used: u64) -> serde_json::Value {
        json!({"pods": [{
            "podRef": {"name": "db-0", "namespace": "shop"},
            "volume": [
                {"name": "data", "usedBytes": used, "capacityBytes": 10_737_418_240_u64, "inodesUsed": inodes_used,
                 "inodes": 1000, "pvcRef": {"name": "data-db-0", "namespace": "shop"}},
                {"name": "cache", "usedBytes": 99, "capacityBytes": 100}
            ]
        }]})
    }

    #[test]
    fn above_95_percent_is_p1_with_the_mount_and_a_resize() {
        let fixture = format!("{OBJECTS}{}", kubelet_stats("node-1", &summary(10_307_921_510, 100)));
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 volume-usage-high PVC shop/data-db-0 is 96% full (9.6 GiB of 10.0 GiB)
              objects: PersistentVolumeClaim/shop/data-db-0, Pod/shop/db-0, PersistentVolume/pvc-123
              metric kubelet volume shop/data-db-0 (pod db-0, node node-1) used = 10307921510 bytes
              metric kubelet volume shop/data-db-0 (pod db-0, node node-1) capacity = 10737418240 bytes
              metric kubelet volume shop/data-db-0 (pod db-0, node node-1) used = 96 percent
              metric kubelet volume shop/data-db-0 (pod db-0, node node-1) inodes used = 10 percent
              note: mounted by pod db-0 at /var/lib/postgresql/data
              note: StorageClass standard allowVolumeExpansion: true
              why: Volume data of pod db-0 (PVC data-db-0) has used 96% of its space, above the PersistentVolumeUsageHigh alert rule's threshold of 85%. Writes are about to fail: a database on it will stop accepting data or crash.
              $ kubectl describe persistentvolumeclaim data-db-0 -n shop
              $ kubectl exec db-0 -n shop -- df -h /var/lib/postgresql/data
              $ kubectl patch pvc data-db-0 -n shop -p '{"spec":{"resources":{"requests":{"storage":"15Gi"}}}}'
        "#]],
        );
    }

    #[test]
    fn inodes_count_too_and_below_85_percent_is_fine() {
        let fixture = format!("{OBJECTS}{}", kubelet_stats("node-1", &summary(1_073_741_824, 900)));
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P2 volume-usage-high PVC shop/data-db-0 has used 90% of its inodes
              objects: PersistentVolumeClaim/shop/data-db-0, Pod/shop/db-0, PersistentVolume/pvc-123
              metric kubelet volume shop/data-db-0 (pod db-0, node node-1) used = 1073741824 bytes
              metric kubelet volume shop/data-db-0 (pod db-0, node node-1) capacity = 10737418240 bytes
              metric kubelet volume shop/data-db-0 (pod db-0, node node-1) used = 10 percent
              metric kubelet volume shop/data-db-0 (pod db-0, node node-1) inodes used = 90 percent
              note: mounted by pod db-0 at /var/lib/postgresql/data
              note: StorageClass standard allowVolumeExpansion: true
              why: Volume data of pod db-0 (PVC data-db-0) has used 90% of its inodes (files), above the PersistentVolumeUsageHigh alert rule's threshold of 85%. If it keeps growing it fills up; act before writes fail. Inodes run out before bytes when an application writes many small files.
              $ kubectl describe persistentvolumeclaim data-db-0 -n shop
              $ kubectl exec db-0 -n shop -- df -i /var/lib/postgresql/data
              $ kubectl patch pvc data-db-0 -n shop -p '{"spec":{"resources":{"requests":{"storage":"15Gi"}}}}'
        "#]],
        );
        let fixture = format!("{OBJECTS}{}", kubelet_stats("node-1", &summary(8_589_934_592, 10)));
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
