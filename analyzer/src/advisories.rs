//! One advisory per theme: the P3 findings of one diagnostic folded into one finding.
//!
//! P3 is advice and history (a missing limit, a container that runs as root, errors of a
//! start-up that recovered): worth knowing, never worth a page each. A cluster of a hundred
//! workloads gives hundreds of them, and a report that lists each one buries the few findings
//! that matter and no longer fits a screen on a healthy cluster. So when a diagnostic reports
//! two or more P3 findings, they become one P3 finding of the same code that names every object
//! and lists each member's title in its evidence; P0 to P2 findings are left as they are.
//!
//! Folding is a pure function of the sorted findings: the same findings give the same folds.

use crate::diagnostics::registry;
use crate::finding::{Evidence, Finding, Severity, Status};

/// Remediation commands an advisory keeps from its members.
const COMMANDS: usize = 5;

/// `findings` (sorted as the engine sorts them) with each diagnostic's P3 findings folded into
/// one advisory when there are two or more; the order is kept.
pub(crate) fn fold(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out = Vec::with_capacity(findings.len());
    let mut rest = findings.into_iter().peekable();
    while let Some(first) = rest.next() {
        if first.severity != Severity::P3 {
            out.push(first);
            continue;
        }
        let code = first.code;
        let mut members = vec![first];
        while let Some(next) = rest.next_if(|next| next.severity == Severity::P3 && next.code == code) {
            members.push(next);
        }
        match members.len() {
            1 => out.extend(members),
            _ => out.push(advisory(members)),
        }
    }
    out
}

/// The advisory of two or more P3 findings of one code.
fn advisory(members: Vec<Finding>) -> Finding {
    let first = &members[0];
    let diagnostic = registry().find(|diagnostic| diagnostic.code == first.code);
    let title = diagnostic.map_or(first.code, |diagnostic| diagnostic.title);
    let mut namespaces: Vec<&str> = members.iter().filter_map(|member| member.namespace.as_deref()).collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    let scope = match namespaces.as_slice() {
        [] => String::new(),
        [namespace] if members.iter().all(|member| member.namespace.is_some()) => {
            format!(" in namespace {namespace}")
        }
        _ => format!(
            " in {} {}",
            namespaces.len(),
            if namespaces.len() == 1 { "namespace" } else { "namespaces" }
        ),
    };
    let mut finding = Finding::new(
        first.code,
        first.category,
        Severity::P3,
        format!("{title}: {} advisories{scope}, rolled up", members.len()),
    );
    for member in &members {
        for object in &member.objects {
            finding = finding.object(object.clone());
        }
    }
    if namespaces.len() != 1 || members.iter().any(|member| member.namespace.is_none()) {
        finding.namespace = None;
    }
    for member in &members {
        finding = finding.evidence(Evidence::note(member.title.clone()));
    }
    // History stays history: an advisory of resolved findings only is resolved.
    if members.iter().all(|member| member.status == Status::Resolved) {
        finding = finding.resolved();
    }
    for command in members.iter().flat_map(|member| &member.remediation) {
        if finding.remediation.len() == COMMANDS {
            break;
        }
        finding = finding.remediation(command.clone());
    }
    let why = diagnostic.map(|diagnostic| format!(" {}", diagnostic.why)).unwrap_or_default();
    let fix = diagnostic.map(|diagnostic| format!(" {}", diagnostic.fix)).unwrap_or_default();
    finding.explanation(format!(
        "{} P3 findings of `{}` are rolled up into this one advisory: each is advice or resolved history, not \
         a problem at the capture, and each is one line of the evidence.{why}{fix}",
        members.len(),
        first.code
    ))
}

#[cfg(test)]
mod tests {
    use kubesnap_shared::model::ObjectRef;

    use super::*;
    use crate::finding::Category;

    fn finding(code: &'static str, severity: Severity, namespace: &str, name: &str) -> Finding {
        let object =
            ObjectRef { kind: "Deployment".into(), namespace: Some(namespace.into()), name: name.into() };
        Finding::new(
            code,
            Category::Security,
            severity,
            format!("Deployment {namespace}/{name}: runs as root"),
        )
        .object(object)
        .remediation(format!("kubectl edit deployment/{name} -n {namespace}"))
    }

    #[test]
    fn p3_findings_of_one_code_become_one_advisory_naming_every_object() {
        let mut findings = vec![
            finding("container-hardening", Severity::P2, "shop", "api"),
            finding("container-hardening", Severity::P3, "kube-system", "coredns"),
            finding("container-hardening", Severity::P3, "shop", "web"),
            finding("platform-host-access", Severity::P3, "shop", "web"),
        ];
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let folded = fold(findings);
        let titles: Vec<(&str, &str, &str)> =
            folded.iter().map(|f| (f.severity.name(), f.code, f.title.as_str())).collect();
        assert_eq!(
            titles,
            [
                ("P2", "container-hardening", "Deployment shop/api: runs as root"),
                (
                    "P3",
                    "container-hardening",
                    "Containers without securityContext hardening: 2 advisories in 2 namespaces, rolled up"
                ),
                ("P3", "platform-host-access", "Deployment shop/web: runs as root"),
            ]
        );
        let advisory = &folded[1];
        let names: Vec<&str> = advisory.objects.iter().map(|object| object.name.as_str()).collect();
        assert_eq!(names, ["coredns", "web"]);
        assert_eq!(advisory.namespace, None);
        assert_eq!(
            advisory.evidence,
            [
                Evidence::note("Deployment kube-system/coredns: runs as root"),
                Evidence::note("Deployment shop/web: runs as root")
            ]
        );
        assert_eq!(advisory.remediation.len(), 2);
        assert!(advisory.explanation.starts_with("2 P3 findings of `container-hardening` are rolled up"));
    }

    #[test]
    fn a_lone_p3_finding_and_every_p0_to_p2_finding_stay_as_they_are() {
        let findings = vec![
            finding("crash-loop-backoff", Severity::P0, "shop", "api"),
            finding("crash-loop-backoff", Severity::P0, "shop", "web"),
            finding("pod-restarts", Severity::P2, "shop", "api"),
            finding("pod-restarts", Severity::P2, "shop", "web"),
            finding("pod-restarts", Severity::P3, "shop", "db"),
        ];
        assert_eq!(fold(findings.clone()), findings);
        let one_namespace = fold(vec![
            finding("pod-restarts", Severity::P3, "shop", "api"),
            finding("pod-restarts", Severity::P3, "shop", "web"),
        ]);
        assert_eq!(one_namespace.len(), 1);
        assert_eq!(
            one_namespace[0].title,
            "Containers that restart repeatedly: 2 advisories in namespace shop, rolled up"
        );
        assert_eq!(one_namespace[0].namespace.as_deref(), Some("shop"));
    }
}
