//! Diagnostic `kubelet-version-skew`: kubelets outside the version skew policy;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::Object;

use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl::Kubectl;
use crate::facts::nodes::version;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "kubelet-version-skew",
    category: Category::Nodes,
    title: "Kubelets outside the version skew policy",
    severities: &[Severity::P1, Severity::P2],
    what: "Each node's `status.nodeInfo.kubeletVersion` against the API server's version \
           (`model.server_version`), by the Kubernetes version skew policy: a kubelet must not be newer \
           than the API server, nor more than three minor versions older (two before 1.28). Without the \
           server's version in the bundle there is nothing to compare: it needs the server version, so \
           the report says it was skipped rather than passing silently.",
    why: "Out-of-policy kubelets are untested: fields are dropped, features misbehave, and the next \
          control-plane upgrade breaks them.",
    fix: "Upgrade the old nodes' kubelets (or replace the nodes); never run kubelets newer than the control \
          plane: upgrade the control plane first.",
    example: "`Node old-1: kubelet v1.25.16 is 4 minor versions older than the API server v1.29.2 (policy \
              allows 3)`.",
    needs: &[Need::ServerVersion],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let Some(server_text) = facts.cluster().server_version.as_deref() else { return Vec::new() };
    let Some((server_major, server_minor)) = version::minor(server_text) else { return Vec::new() };
    // The policy widened from n-2 to n-3 with 1.28.
    let allowed: u64 = if server_minor >= 28 { 3 } else { 2 };
    let mut findings = Vec::new();
    for node in facts.cluster().of_kind("Node") {
        let Some(kubelet_text) = node.str_at("/status/nodeInfo/kubeletVersion") else { continue };
        let Some((major, minor)) = version::minor(kubelet_text) else { continue };
        if major != server_major {
            continue;
        }
        if minor > server_minor {
            findings.push(finding(
                node,
                kubelet_text,
                server_text,
                Severity::P1,
                format!("is newer than the API server {server_text}"),
                "A kubelet newer than its API server is never supported: it may send fields the server \
                rejects. Upgrade the control plane first, or downgrade this node.",
            ));
        } else if server_minor - minor > allowed {
            findings.push(finding(
                node,
                kubelet_text,
                server_text,
                Severity::P2,
                format!(
                    "is {} minor versions older than the API server {server_text} (policy allows {allowed})",
                    server_minor - minor
                ),
                "The kubelet is older than the skew policy allows: API features it does not know are \
                silently dropped, and the next control-plane upgrade may leave it unable to register.",
            ));
        }
    }
    findings
}

fn finding(
    node: &Object,
    kubelet: &str,
    server: &str,
    severity: Severity,
    what: String,
    why: &str,
) -> Finding {
    let reference = node.reference();
    DIAGNOSTIC
        .finding(severity, format!("Node {}: kubelet {kubelet} {what}", node.name))
        .object(reference.clone())
        .evidence(Evidence::field(reference.clone(), "/status/nodeInfo/kubeletVersion", &kubelet.into()))
        .evidence(Evidence::note(format!("API server version {server}")))
        .explanation(format!("Node {} runs kubelet {kubelet} against API server {server}. {why}", node.name))
        .remediation(Kubectl::new("get nodes -o wide"))
        .remediation(Kubectl::new("version"))
        .remediation(
            Kubectl::new("drain")
                .name(&node.name)
                .arg("--ignore-daemonsets --delete-emptydir-data")
                .then("   # then upgrade or replace it"),
        )
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::{model_from_yaml, render};

    const NODES: &str = r#"
apiVersion: v1
kind: Node
metadata: {name: new-1}
status: {nodeInfo: {kubeletVersion: v1.30.1}}
---
apiVersion: v1
kind: Node
metadata: {name: old-1}
status: {nodeInfo: {kubeletVersion: v1.25.16}}
---
apiVersion: v1
kind: Node
metadata: {name: ok-1}
status: {nodeInfo: {kubeletVersion: v1.26.0+k3s1}}
"#;

    fn run_with_server(nodes: &str, version: Option<&str>) -> String {
        let mut model = model_from_yaml(nodes);
        model.server_version = version.map(str::to_owned);
        render(&(DIAGNOSTIC.run)(&crate::facts::Facts::new(&model)))
    }

    #[test]
    fn newer_and_too_old_kubelets() {
        expect![[r#"
            P1 kubelet-version-skew Node new-1: kubelet v1.30.1 is newer than the API server v1.29.2
              objects: Node/new-1
              field Node/new-1 /status/nodeInfo/kubeletVersion = v1.30.1
              note: API server version v1.29.2
              why: Node new-1 runs kubelet v1.30.1 against API server v1.29.2. A kubelet newer than its API server is never supported: it may send fields the server rejects. Upgrade the control plane first, or downgrade this node.
              $ kubectl get nodes -o wide
              $ kubectl version
              $ kubectl drain new-1 --ignore-daemonsets --delete-emptydir-data   # then upgrade or replace it
            P2 kubelet-version-skew Node old-1: kubelet v1.25.16 is 4 minor versions older than the API server v1.29.2 (policy allows 3)
              objects: Node/old-1
              field Node/old-1 /status/nodeInfo/kubeletVersion = v1.25.16
              note: API server version v1.29.2
              why: Node old-1 runs kubelet v1.25.16 against API server v1.29.2. The kubelet is older than the skew policy allows: API features it does not know are silently dropped, and the next control-plane upgrade may leave it unable to register.
              $ kubectl get nodes -o wide
              $ kubectl version
              $ kubectl drain old-1 --ignore-daemonsets --delete-emptydir-data   # then upgrade or replace it
        "#]].assert_eq(&run_with_server(NODES, Some("v1.29.2")));
    }

    #[test]
    fn within_policy_or_without_server_version_is_fine() {
        // 1.26 is three minors behind 1.29: the oldest the policy allows.
        let within = "apiVersion: v1\nkind: Node\nmetadata: {name: ok-1}\n\
                      status: {nodeInfo: {kubeletVersion: v1.26.0+k3s1}}\n";
        expect![[r#"
            no findings
        "#]]
        .assert_eq(&run_with_server(within, Some("v1.29.2")));
        // Before 1.28 the policy allowed two: 1.25 against 1.27 is fine, 1.24 is not.
        expect![[r#"
            no findings
        "#]]
        .assert_eq(&run_with_server(&within.replace("v1.26.0+k3s1", "v1.25.3"), Some("v1.27.1")));
        expect![[r#"
            no findings
        "#]]
        .assert_eq(&run_with_server(NODES, None));
    }

    /// Without the server's version the report says the check was not made, rather than
    /// counting it among the diagnostics that found nothing.
    #[test]
    fn without_a_server_version_the_engine_skips_it() {
        let mut model = model_from_yaml(NODES);
        let analysis = crate::engine::run(&crate::facts::Facts::new(&model), &[&DIAGNOSTIC]);
        assert_eq!(analysis.ran, Vec::<&str>::new());
        assert_eq!(analysis.skipped.len(), 1);
        assert_eq!(analysis.skipped[0].reason, "skipped: the bundle lacks the API server's version");
        model.server_version = Some("v1.29.2".to_owned());
        let analysis = crate::engine::run(&crate::facts::Facts::new(&model), &[&DIAGNOSTIC]);
        assert_eq!(analysis.ran, ["kubelet-version-skew"]);
        assert_eq!(analysis.findings.len(), 2);
    }
}
