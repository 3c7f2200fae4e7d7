//! Diagnostic `log-error-patterns`: error patterns in logs;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use super::family_finding::{self, error_severity};
use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::logs::families::ERRORS;
use crate::facts::logs::patterns;
use crate::finding::{Category, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "log-error-patterns",
    category: Category::Logs,
    title: "Error patterns in logs",
    severities: &[Severity::P1, Severity::P2, Severity::P3],
    what: "The ten core error families (`oom_killed`, `image_pull_error`, `dns_resolution`, \
           `connection_refused`, `timeout_error`, `permission_denied`, `disk_pressure`, \
           `network_unavailable`, `certificate_error`, `database_error`) in every container log and node \
           journal: one finding per family per workload (per pod when no workload owns it, per node for \
           node logs), with the count in each pod and container, sample lines with their file and line \
           number, and `K8sLogAnalyzer`'s suggestion made specific to the objects involved: CoreDNS \
           readiness for DNS errors, the Services the pod's configuration names and their endpoints for \
           refused connections and timeouts, the database pods for database errors, the node's condition \
           for disk and network errors. **Severity.** `K8sLogAnalyzer`'s 🔴 families (`oom_killed`, \
           `image_pull_error`, `dns_resolution`, `database_error`) are P1; its 🟡 ones \
           (`connection_refused`, `certificate_error`) and `permission_denied`, `disk_pressure`, \
           `network_unavailable` are P2; `timeout_error` is P3 (its pattern matches every line naming a \
           timeout). A family none of whose lines is at ERROR or FATAL level (`K8sLogAnalyzer`'s level \
           rule) is one step milder: such lines are often mentions. **Now or then.** Errors whose pod (or \
           node) is healthy at the capture and that end before it became Ready, were written by a \
           container's previous run, fall in the cluster's install or end more than ten minutes before the \
           capture are history: P3, titled as such, with the reason per log (`recency`).",
    why: "Logs say which dependency a pod fails to reach and why, which status fields cannot.",
    fix: "Follow the finding's suggestion: check the dependency it names (CoreDNS, a Service's \
          endpoints, the database), then the pod's configuration.",
    example: "`Deployment shop/api: connection refused errors in logs (120 lines, 3 pods)`, noting that the \
              pods' `DATABASE_URL` names Service `data/pg`, which has no ready endpoint.",
    needs: &[Need::Logs],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    patterns::groups(facts.cluster(), ERRORS)
        .iter()
        .map(|group| family_finding::finding(&DIAGNOSTIC, facts, group, error_severity(group), "errors"))
        .collect()
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    const APP: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop, uid: d1}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-7d9f
  namespace: shop
  uid: r1
  ownerReferences: [{kind: Deployment, name: api, uid: d1, controller: true}]
---
apiVersion: v1
kind: Pod
metadata:
  name: api-7d9f-a
  namespace: shop
  ownerReferences: [{kind: ReplicaSet, name: api-7d9f, uid: r1, controller: true}]
spec:
  containers:
  - name: api
    image: shop/api:2
    env: [{name: DATABASE_URL, value: "postgres://app@pg.data.svc.cluster.local:5432/app"}]
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
---
kind: Service
apiVersion: v1
metadata: {name: pg, namespace: data}
spec: {selector: {app: pg}}
---
kind: Endpoints
apiVersion: v1
metadata: {name: pg, namespace: data}
subsets: []
---
apiVersion: v1
kind: Pod
metadata: {name: coredns-1, namespace: kube-system, labels: {k8s-app: kube-dns}}
status: {phase: Running, conditions: [{type: Ready, status: "False"}],
  containerStatuses: [{name: coredns, ready: false, restartCount: 4, state: {waiting: {reason: CrashLoopBackOff}}}]}
---
apiVersion: v1
kind: Pod
metadata: {name: coredns-2, namespace: kube-system, labels: {k8s-app: kube-dns}}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
"#;

    #[test]
    fn refused_connections_name_the_configured_service_and_dns_errors_coredns() {
        let fixture = format!(
            "{APP}{}",
            r#"
---
kind: ContainerLog
namespace: shop
pod: api-7d9f-a
container: api
lines:
- "2025-06-01T11:50:00Z INFO starting"
- "2025-06-01T11:50:01Z ERROR dial tcp 10.0.0.7:5432: connect: connection refused"
- "2025-06-01T11:50:02Z ERROR dial tcp 10.0.0.7:5432: connect: connection refused"
- "2025-06-01T11:50:03Z ERROR lookup cache.shop on 10.96.0.10:53: no such host"
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
                P1 log-error-patterns Deployment shop/api: DNS resolution errors in logs (1 line, 1 pod)
                  objects: Deployment/shop/api, Pod/shop/api-7d9f-a
                  note: pod api-7d9f-a, container api (current run): 1 line, at 2025-06-01T11:50:03Z
                  log logs/shop/api-7d9f-a/api.log:4: 2025-06-01T11:50:03Z ERROR lookup cache.shop on 10.96.0.10:53: no such host
                  note: cluster DNS pods: 1 of 2 Ready (coredns-1 CrashLoopBackOff in container coredns, 4 restarts)
                  why: 1 log line of Deployment shop/api matches the `dns_resolution` pattern. Check CoreDNS status and cluster DNS configuration. In this bundle: cluster DNS pods: 1 of 2 Ready (coredns-1 CrashLoopBackOff in container coredns, 4 restarts).
                  $ kubectl logs api-7d9f-a -n shop -c api --tail=50
                  $ kubectl get pods -n kube-system -l k8s-app=kube-dns
                  $ kubectl logs -n kube-system -l k8s-app=kube-dns --tail=50
                P2 log-error-patterns Deployment shop/api: connection refused errors in logs (2 lines, 1 pod)
                  objects: Deployment/shop/api, Pod/shop/api-7d9f-a
                  note: pod api-7d9f-a, container api (current run): 2 lines, 2025-06-01T11:50:01Z to 2025-06-01T11:50:02Z
                  log logs/shop/api-7d9f-a/api.log:2: 2025-06-01T11:50:01Z ERROR dial tcp 10.0.0.7:5432: connect: connection refused
                  log logs/shop/api-7d9f-a/api.log:3: 2025-06-01T11:50:02Z ERROR dial tcp 10.0.0.7:5432: connect: connection refused
                  note: Service data/pg (named in env DATABASE_URL of container api): 0 ready, 0 not ready addresses in Endpoints pg; its selector matches no pod
                  why: 2 log lines of Deployment shop/api match the `connection_refused` pattern. Check service endpoints, network policies, and port configurations. In this bundle: Service data/pg (named in env DATABASE_URL of container api): 0 ready, 0 not ready addresses in Endpoints pg; its selector matches no pod.
                  $ kubectl logs api-7d9f-a -n shop -c api --tail=50
                  $ kubectl get endpoints/pg -n data
                  $ kubectl get networkpolicy -n shop
            "#]],
        );
    }

    #[test]
    fn database_client_errors_count_and_info_mentions_are_milder() {
        let fixture = format!(
            "{APP}{}",
            r#"
---
kind: ContainerLog
namespace: shop
pod: api-7d9f-a
container: api
previous: true
lines:
- "Starting application..."
- "ERROR: Database connection failed!"
---
kind: ContainerLog
namespace: shop
pod: lone
container: sh
lines:
- "2025-06-01T11:50:00Z INFO request timeout set to 30s"
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
                P3 log-error-patterns Pod shop/lone: timeout errors in logs (1 line, 1 pod)
                  objects: Pod/shop/lone
                  note: pod lone, container sh (current run): 1 line, at 2025-06-01T11:50:00Z
                  log logs/shop/lone/sh.log:1: 2025-06-01T11:50:00Z INFO request timeout set to 30s
                  why: 1 log line of Pod shop/lone matches the `timeout_error` pattern. Check the latency and health of the services the pod calls, and whether the timeout is a setting being printed rather than a failure. None of these lines is at ERROR or FATAL level, so this is ranked one step lower: they may be mentions rather than failures.
                  $ kubectl logs lone -n shop -c sh --tail=50
                P3 log-error-patterns Deployment shop/api: database errors in logs (1 line, 1 pod), history
                  objects: Deployment/shop/api, Pod/shop/api-7d9f-a
                  note: pod api-7d9f-a, container api (previous run): 1 line (history: written by the container's previous run; the pod is healthy now)
                  log logs/shop/api-7d9f-a/api.previous.log:2: ERROR: Database connection failed!
                  note: 1 of these lines carries a database client's or server's own error (PostgreSQL's `password authentication failed` and `too many clients`, `database connection failed`, ...), which the core pattern misses: kubesnap's `database_client_error` extension, counted over every line of the logs
                  note: Service data/pg (named in env DATABASE_URL of container api): 0 ready, 0 not ready addresses in Endpoints pg; its selector matches no pod
                  note: no pod of the bundle runs a known database image (PostgreSQL, MySQL, MongoDB, Redis, ...)
                  why: Resolved before the capture: every pod (or node) these lines come from is healthy now and the lines end before it became so, or long before the capture (see each log's note). History, not a current problem. 1 log line of Deployment shop/api matches the `database_error` pattern or kubesnap's `database_client_error` extension of it. Check database connectivity, credentials, and resource availability. Verify: database pod status, connection strings, and authentication. In this bundle: Service data/pg (named in env DATABASE_URL of container api): 0 ready, 0 not ready addresses in Endpoints pg; its selector matches no pod.
                  $ kubectl logs api-7d9f-a -n shop -c api --previous --tail=50
                  $ kubectl get endpoints/pg -n data
                  $ kubectl get networkpolicy -n shop
            "#]],
        );
    }

    /// api-7d9f-a is Ready; its DNS errors were written by the container's previous run and its
    /// current run's refused connections are 40 minutes old: both are history, P3.
    #[test]
    fn errors_of_a_pod_that_has_recovered_are_p3_history() {
        let fixture = format!(
            "{APP}{}",
            r#"
---
kind: ContainerLog
namespace: shop
pod: api-7d9f-a
container: api
previous: true
lines: ["2025-06-01T11:10:00Z ERROR lookup db on 10.96.0.10:53: no such host"]
---
kind: ContainerLog
namespace: shop
pod: api-7d9f-a
container: api
lines: ["2025-06-01T11:20:00Z ERROR dial tcp 10.0.0.7:5432: connect: connection refused", "2025-06-01T11:59:00Z INFO ok"]
"#
        );
        let model = crate::testing::model_from_yaml(&fixture);
        let findings = (DIAGNOSTIC.run)(&crate::facts::Facts::new(&model));
        let titles: Vec<String> = findings.iter().map(|f| format!("{} {}", f.severity, f.title)).collect();
        assert_eq!(
            titles,
            [
                "P3 Deployment shop/api: DNS resolution errors in logs (1 line, 1 pod), history: the \
                 last at 2025-06-01T11:10:00Z",
                "P3 Deployment shop/api: connection refused errors in logs (1 line, 1 pod), history: the \
                 last at 2025-06-01T11:20:00Z",
            ]
        );
        assert!(findings[0].explanation.starts_with("Resolved before the capture"));
    }

    #[test]
    fn clean_logs_and_node_journals_without_hits_give_nothing() {
        let fixture = format!(
            "{APP}{}",
            r#"
---
kind: ContainerLog
namespace: shop
pod: api-7d9f-a
container: api
lines: ["2025-06-01T11:50:00Z INFO serving on :8080", "2025-06-01T11:50:01Z INFO ready"]
---
kind: ContainerLog
namespace: _node
pod: node-1
container: kubelet
lines: ["2025-06-01T11:50:00Z I0601 started kubelet"]
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

    #[test]
    fn node_journals_are_reported_under_their_node() {
        let fixture = r#"
kind: Node
apiVersion: v1
metadata: {name: node-1}
status: {conditions: [{type: DiskPressure, status: "True", reason: KubeletHasDiskPressure}]}
---
kind: ContainerLog
namespace: _node
pod: node-1
container: containerd
lines: ["2025-06-01T11:50:00Z E0601 11:50:00.1 1 x.go:1] write /var/lib/containerd/x: no space left on device"]
"#;
        check(
            &DIAGNOSTIC,
            fixture,
            expect![[r#"
                P2 log-error-patterns Node node-1: disk full errors in logs (1 line, node logs: containerd)
                  objects: Node/node-1
                  note: node node-1, unit containerd: 1 line, at 2025-06-01T11:50:00Z
                  log logs/_node/node-1/containerd.log:1: 2025-06-01T11:50:00Z E0601 11:50:00.1 1 x.go:1] write /var/lib/containerd/x: no space left on device
                  note: node node-1: DiskPressure=True KubeletHasDiskPressure
                  why: 1 log line of Node node-1 matches the `disk_pressure` pattern. Check the node's disk and the pod's volumes and ephemeral storage. In this bundle: node node-1: DiskPressure=True KubeletHasDiskPressure.
                  $ kubectl describe node node-1
            "#]],
        );
    }
}
