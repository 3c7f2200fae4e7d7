//! Diagnostic `etcd-unhealthy`: etcd unhealthy or alarmed;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::ObjectRef;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "etcd-unhealthy",
    category: Category::Nodes,
    title: "etcd unhealthy or alarmed",
    severities: &[Severity::P0],
    what: "The `etcdctl` answers a host collector saved (the RKE2 log collector's `etcd/endpointhealth`, \
           `endpointstatus`, `alarmlist`, `memberlist`): an endpoint that is not healthy, an endpoint \
           status with errors, a raised alarm (`NOSPACE`, `CORRUPT`), a member that never started.",
    why: "The API server cannot write without a healthy etcd: rollouts, scaling and leases all fail with it.",
    fix: "Read the etcd member's log; for NOSPACE compact and defragment, then disarm the alarm; restore a \
          failed member from a snapshot.",
    example: "`etcd alarms on node cp-1: memberID:1234 alarm:NOSPACE`.",
    needs: &[],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    facts
        .cluster()
        .host_checks
        .iter()
        .filter(|check| check.what.starts_with("etcd") && !check.healthy)
        .map(|check| {
            let node = ObjectRef { kind: "Node".to_owned(), namespace: None, name: check.node.clone() };
            let first = check.said.first().map(String::as_str).unwrap_or("no answer");
            let mut finding = DIAGNOSTIC
                .finding(
                    Severity::P0,
                    format!(
                        "{} on node {}: \
                                                {first}",
                        capitalized(&check.what),
                        check.node
                    ),
                )
                .object(node);
            for line in check.said.iter().take(5) {
                finding = finding.evidence(Evidence::note(format!("{}: {line}", check.source)));
            }
            finding
                .explanation(format!(
                    "The {} answer the host collector saved on {} reports a problem. The API server \
                     stores every object in etcd: while etcd is unhealthy or alarmed, writes fail and \
                     the cluster cannot change.",
                    check.what, check.node
                ))
                .remediation("etcdctl endpoint health --cluster -w table")
                .remediation("etcdctl alarm list")
        })
        .collect()
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use expect_test::expect;
    use kubesnap_shared::model::{ClusterModel, HostCheck};

    use super::*;
    use crate::testing::render;

    fn check(what: &str, healthy: bool, said: &[&str]) -> HostCheck {
        HostCheck {
            node: "cp-1".into(),
            what: what.into(),
            healthy,
            said: said.iter().map(|line| (*line).to_owned()).collect(),
            source: "etcd/alarmlist".into(),
        }
    }

    #[test]
    fn an_alarm_is_a_finding_a_healthy_answer_is_not() {
        let mut model = ClusterModel::default();
        model.host_checks.push(check("etcd endpoint health", true, &["https://a:2379 is healthy"]));
        model.host_checks.push(check("etcd alarms", false, &["memberID:1234 alarm:NOSPACE"]));
        let findings = run(&Facts::new(&model));
        expect![[r#"
            P0 etcd-unhealthy Etcd alarms on node cp-1: memberID:1234 alarm:NOSPACE
              objects: Node/cp-1
              note: etcd/alarmlist: memberID:1234 alarm:NOSPACE
              why: The etcd alarms answer the host collector saved on cp-1 reports a problem. The API server stores every object in etcd: while etcd is unhealthy or alarmed, writes fail and the cluster cannot change.
              $ etcdctl endpoint health --cluster -w table
              $ etcdctl alarm list
        "#]]
        .assert_eq(&render(&findings));
    }
}
