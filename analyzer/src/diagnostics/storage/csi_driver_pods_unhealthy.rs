//! Diagnostic `csi-driver-pods-unhealthy`: CSI driver pods unhealthy;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::Object;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl::Kubectl;
use crate::facts::network::pod_health;
use crate::facts::workload::group_by_workload;
use crate::facts::{containers, kubectl};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "csi-driver-pods-unhealthy",
    category: Category::Storage,
    title: "CSI driver pods unhealthy",
    severities: &[Severity::P1, Severity::P2],
    what: "Pods of CSI drivers — controllers (with `csi-provisioner`, `csi-attacher`, ... sidecars) and \
           node plugins (with `node-driver-registrar`) — that are not Ready or crash-loop, one finding per \
           workload, with the CSIDriver objects of the cluster.",
    why: "Without the controller no volume is provisioned or attached; without the node plugin no volume \
          mounts on that node: PVCs stay Pending and pods stuck in ContainerCreating.",
    fix: "Read the failing container's log (often the driver's cloud credentials or permissions), fix it, \
          and let the workload recreate the pods.",
    example: "`Deployment kube-system/ebs-csi-controller: 2 of 2 pods not Ready` (`CrashLoopBackOff in \
              container ebs-plugin`), CSIDriver `ebs.csi.aws.com`.",
    needs: &[],
    run,
};

/// Whether a pod belongs to a CSI driver: one of its containers is a CSI sidecar or plugin.
fn is_csi(pod: &Object) -> bool {
    pod.array_at("/spec/containers").iter().any(|container| {
        let text =
            |key: &str| container.get(key).and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
        let (name, image) = (text("name"), text("image"));
        name.contains("csi") || image.contains("csi") || name.contains("driver-registrar")
    }) || pod.name.contains("csi-")
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let affected: Vec<(&Object, String)> = facts
        .cluster()
        .of_kind("Pod")
        .filter(|pod| is_csi(pod) && !pod_health::is_gone(pod))
        .filter_map(|pod| pod_health::trouble(pod).map(|why| (pod, why)))
        .collect();
    let drivers: Vec<&str> =
        facts.cluster().of_kind("CSIDriver").map(|driver| driver.name.as_str()).collect();
    let mut findings = Vec::new();
    for group in group_by_workload(facts, affected) {
        let Some((pod, why)) = group.pods.first() else { continue };
        let node_plugin = group.workload.as_ref().is_some_and(|workload| workload.kind == "DaemonSet");
        let severity = if group.all_affected() { Severity::P1 } else { Severity::P2 };
        let mut finding = DIAGNOSTIC.finding(severity, format!("{} not Ready: {why}", group.label()));
        for object in group.objects() {
            finding = finding.object(object);
        }
        for (pod, why) in &group.pods {
            let node = pod.str_at("/spec/nodeName").unwrap_or("no node");
            finding = finding.evidence(Evidence::note(format!("pod {} on {node}: {why}", pod.name)));
        }
        let statuses = containers::statuses(pod);
        let failing = statuses.iter().find(|status| !status.ready() && !status.init);
        if let Some(status) = failing {
            let namespace = pod.namespace.as_deref().unwrap_or_default();
            let previous = status.restart_count() > 0;
            if let Some(words) =
                containers::last_words(facts.cluster(), namespace, &pod.name, status.name, previous)
            {
                for line in &words.lines {
                    finding = finding.evidence(Evidence::log_line(&words.log.path, line));
                }
            }
        }
        if !drivers.is_empty() {
            finding = finding
                .evidence(Evidence::note(format!("CSIDrivers in the cluster: {}", drivers.join(", "))));
        }
        let role = if node_plugin {
            let nodes: Vec<&str> =
                group.pods.iter().filter_map(|(pod, _)| pod.str_at("/spec/nodeName")).collect();
            format!(
                "It is a CSI node plugin: volumes of this driver cannot be mounted or unmounted on {}, \
                 so pods using them there stay in ContainerCreating (FailedMount).",
                if nodes.is_empty() { "its nodes".to_owned() } else { format!("nodes {}", nodes.join(", ")) }
            )
        } else {
            "It is a CSI controller: volumes of this driver are not provisioned, attached, resized or \
             snapshotted while it is down, so new PVCs stay Pending and pods that need an attach wait."
                .to_owned()
        };
        let mut finding = finding
            .explanation(format!(
                "{} belongs to a CSI storage driver and is not Ready ({why}). {role}",
                group.subject()
            ))
            .remediation(kubectl::describe(&pod.reference()));
        if let Some(status) = failing {
            finding =
                finding.remediation(kubectl::logs(&pod.reference(), status.name, status.restart_count() > 0));
        }
        findings.push(finding.remediation(Kubectl::new("get csidrivers,csinodes")));
    }
    findings
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    const CONTROLLER: &str = r#"
apiVersion: storage.k8s.io/v1
kind: CSIDriver
metadata: {name: ebs.csi.aws.com}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ebs-csi-controller, namespace: kube-system, uid: d1}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: ebs-csi-controller-6f9
  namespace: kube-system
  uid: r1
  ownerReferences: [{kind: Deployment, name: ebs-csi-controller, uid: d1, controller: true}]
"#;

    fn pod(name: &str, status: &str) -> String {
        format!(
            r#"
---
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: kube-system
  ownerReferences: [{{kind: ReplicaSet, name: ebs-csi-controller-6f9, uid: r1, controller: true}}]
spec:
  nodeName: n1
  containers:
  - {{name: ebs-plugin, image: public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.30.0}}
  - {{name: csi-provisioner, image: public.ecr.aws/eks-distro/kubernetes-csi/external-provisioner:v4.0.0}}
status: {status}
"#
        )
    }

    #[test]
    fn every_controller_pod_down_is_p1_with_the_crash_line() {
        let looping = r#"{phase: Running, conditions: [{type: Ready, status: "False"}], containerStatuses: [{name: ebs-plugin, ready: false, restartCount: 5, state: {waiting: {reason: CrashLoopBackOff}}}, {name: csi-provisioner, ready: true}]}"#;
        let fixture = format!(
            "{CONTROLLER}{}{}",
            pod("ebs-csi-controller-6f9-a", looping),
            r#"
---
kind: ContainerLog
namespace: kube-system
pod: ebs-csi-controller-6f9-a
container: ebs-plugin
previous: true
lines: ["F0601 11:58:00.000000 1 driver.go:110] could not get metadata from AWS: EC2 instance metadata is not available"]
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 csi-driver-pods-unhealthy Deployment kube-system/ebs-csi-controller: 1 of 1 pod not Ready: CrashLoopBackOff in container ebs-plugin, 5 restarts
              objects: Deployment/kube-system/ebs-csi-controller, Pod/kube-system/ebs-csi-controller-6f9-a
              note: pod ebs-csi-controller-6f9-a on n1: CrashLoopBackOff in container ebs-plugin, 5 restarts
              log logs/kube-system/ebs-csi-controller-6f9-a/ebs-plugin.previous.log:1: F0601 11:58:00.000000 1 driver.go:110] could not get metadata from AWS: EC2 instance metadata is not available
              note: CSIDrivers in the cluster: ebs.csi.aws.com
              why: Deployment/kube-system/ebs-csi-controller belongs to a CSI storage driver and is not Ready (CrashLoopBackOff in container ebs-plugin, 5 restarts). It is a CSI controller: volumes of this driver are not provisioned, attached, resized or snapshotted while it is down, so new PVCs stay Pending and pods that need an attach wait.
              $ kubectl describe pod ebs-csi-controller-6f9-a -n kube-system
              $ kubectl logs ebs-csi-controller-6f9-a -n kube-system -c ebs-plugin --previous --tail=50
              $ kubectl get csidrivers,csinodes
        "#]],
        );
    }

    #[test]
    fn ready_csi_pods_and_other_pods_are_fine() {
        let fixture = format!(
            "{CONTROLLER}{}{}",
            pod(
                "ebs-csi-controller-6f9-a",
                r#"{phase: Running, conditions: [{type: Ready, status: "True"}]}"#
            ),
            r#"
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec: {containers: [{name: web, image: nginx}]}
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
}
