//! Diagnostic: high-error-rate.
//!
//! **What it checks.** The seed's `HighErrorRate` rule, the share of 5xx among an ingress's
//! requests over 5 minutes above 5% `for: 2m`, from the ingress-nginx access lines the bundle
//! holds. Requests are grouped by upstream (`<namespace>-<service>-<port>`), mapped back to the
//! Ingress whose backend it is; at each request's time the 5xx share of the requests in the 5
//! minutes before is the rule's expression (from the first request with five minutes of history
//! before it), and `for: 2m` the usual `for` evaluation. Firing is P1 (the rule's `critical`),
//! P0 when half the requests or more fail; holding for less than 2 minutes at the end of what
//! the bundle shows is pending, P2. Under five minutes of requests (at least 10), the 5xx share
//! of all of them stands in for the rate and the finding says the rule could not be fully
//! evaluated (P2).
//!
//! **What it cannot see.** The loader keeps, per log, the pattern-family hits and the last 50
//! lines, not every line, and exposes no per-status request counts: this reads the access
//! lines in those tails, so it sees the last moments of each controller's log (for a busy
//! ingress, seconds) rather than the five minutes the rule asks. The finding says how many
//! requests over how long it read. A per-minute count of statuses per upstream in the loader's
//! scan would let the rule run over the whole capture.
//!
//! **Why it matters.** 5xx answers are failed user requests; this is the alert the seed's
//! monitoring raises on them.
//!
//! **Example.** `Ingress shop/web (upstream shop-web-80): 38% of 42 requests 5xx over 3m 10s
//! (HighErrorRate firing)`.

use std::collections::BTreeMap;

use kubesnap_shared::model::{ClusterModel, ObjectRef};
use serde_json::Value;

use super::access_log::{Request, parse};
use super::rule::{Outcome, Run, evaluate};
use crate::diagnostics::Model;
use crate::diagnostics::performance::units;
use crate::diagnostics::performance::usage::minutes_between;
use crate::diagnostics::{Diagnostic, Need, kubectl};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "high-error-rate",
    category: Category::Alerts,
    title: "Alert HighErrorRate (ingress 5xx above 5% for 2m)",
    severities: &[Severity::P0, Severity::P1, Severity::P2],
    what: "The seed's HighErrorRate rule over the ingress-nginx access lines the bundle keeps (the last 50 \
           lines of each controller log): 5xx share over 5 minutes above 5% for 2 minutes, per upstream.",
    why: "5xx answers are failed user requests; this is the alert the seed's monitoring raises on them.",
    fix: "Find which backend answers 5xx (`kubectl logs` of the Service's pods, its endpoints) and fix or \
          roll it back; 502/503/504 usually mean no ready backend or one too slow.",
    needs: &[Need::Logs],
    run,
};

const THRESHOLD: f64 = 0.05;
const RATE_WINDOW_MINUTES: f64 = 5.0;
const FOR_MINUTES: f64 = 2.0;
/// Fewest requests a window shorter than the rate's five minutes is judged on.
const MIN_SHORT_REQUESTS: usize = 10;
/// From this share on, most users fail: an outage.
const OUTAGE: f64 = 0.5;

fn run(model: &Model<'_>) -> Vec<Finding> {
    let mut upstreams: BTreeMap<String, (Vec<Request>, Vec<ObjectRef>)> = BTreeMap::new();
    for log in model.logs.iter().filter(|log| !log.key.previous) {
        for line in &log.tail {
            if let Some(request) = parse(&line.text).filter(|request| !request.upstream.is_empty()) {
                let entry = upstreams.entry(request.upstream.clone()).or_default();
                let pod = ObjectRef {
                    kind: "Pod".to_owned(),
                    namespace: Some(log.key.namespace.clone()),
                    name: log.key.pod.clone(),
                };
                if !entry.1.contains(&pod) {
                    entry.1.push(pod);
                }
                entry.0.push(request);
            }
        }
    }
    let ingresses = backends(model);
    upstreams
        .into_iter()
        .filter_map(|(upstream, (mut requests, controllers))| {
            requests.sort_by_key(|request| request.at);
            finding(&upstream, &requests, &controllers, ingresses.get(&upstream))
        })
        .collect()
}

/// `<namespace>-<service>-<port>` of every Ingress backend, as ingress-nginx names upstreams.
fn backends(model: &ClusterModel) -> BTreeMap<String, (ObjectRef, ObjectRef)> {
    let mut out = BTreeMap::new();
    for ingress in model.of_kind("Ingress") {
        let namespace = ingress.namespace.as_deref().unwrap_or_default();
        let mut services: Vec<&Value> = ingress.at("/spec/defaultBackend/service").into_iter().collect();
        for rule in ingress.array_at("/spec/rules") {
            for path in
                rule.pointer("/http/paths").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
            {
                services.extend(path.pointer("/backend/service"));
            }
        }
        for service in services {
            let Some(name) = service.get("name").and_then(Value::as_str) else { continue };
            let port = service
                .pointer("/port/number")
                .map(|number| number.to_string())
                .or_else(|| service.pointer("/port/name").and_then(Value::as_str).map(str::to_owned));
            if let Some(port) = port {
                let service_ref = ObjectRef {
                    kind: "Service".to_owned(),
                    namespace: Some(namespace.to_owned()),
                    name: name.to_owned(),
                };
                out.entry(format!("{namespace}-{name}-{port}")).or_insert((ingress.reference(), service_ref));
            }
        }
    }
    out
}

fn finding(
    upstream: &str,
    requests: &[Request],
    controllers: &[ObjectRef],
    ingress: Option<&(ObjectRef, ObjectRef)>,
) -> Option<Finding> {
    let (first, last) = (requests.first()?.at, requests.last()?.at);
    let window = minutes_between(first, last);
    let errors = requests.iter().filter(|request| request.status >= 500).count();
    let share = errors as f64 / requests.len() as f64;
    // At each request with five minutes of history before it: 5xx / all over those five
    // minutes, the rule's rate ratio. Earlier points would divide by a handful of requests.
    let points: Vec<(jiff::Timestamp, bool)> = requests
        .iter()
        .filter(|request| minutes_between(first, request.at) >= RATE_WINDOW_MINUTES)
        .map(|request| {
            let window: Vec<&Request> = requests
                .iter()
                .filter(|other| {
                    other.at <= request.at && minutes_between(other.at, request.at) < RATE_WINDOW_MINUTES
                })
                .collect();
            let errors = window.iter().filter(|other| other.status >= 500).count();
            (request.at, errors as f64 / window.len() as f64 > THRESHOLD)
        })
        .collect();
    let outcome = if points.is_empty() {
        // Less than five minutes of requests: the share over all of them is the best estimate
        // of the rate ratio, and the rule could not be evaluated as written.
        (requests.len() >= MIN_SHORT_REQUESTS && share > THRESHOLD).then_some(Outcome::Pending {
            run: Run { start: first, end: last, points: requests.len() },
            short_window: true,
        })?
    } else {
        evaluate(&points, FOR_MINUTES)?
    };
    let severity = match outcome {
        Outcome::Fired { .. } if share >= OUTAGE => Severity::P0,
        Outcome::Fired { .. } => Severity::P1,
        Outcome::Pending { .. } => Severity::P2,
    };
    let subject = match ingress {
        Some((ingress, _)) => format!(
            "Ingress {}/{} (upstream {upstream})",
            ingress.namespace.as_deref().unwrap_or_default(),
            ingress.name
        ),
        None => format!("Upstream {upstream}"),
    };
    let mut finding = DIAGNOSTIC.finding(
        severity,
        format!(
            "{subject}: {} of {} requests 5xx over {} (HighErrorRate {})",
            units::percent(share),
            requests.len(),
            units::span(window),
            outcome.state()
        ),
    );
    if let Some((ingress, service)) = ingress {
        finding = finding.object(ingress.clone()).object(service.clone());
    }
    for controller in controllers {
        finding = finding.object(controller.clone());
    }
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for request in requests {
        *statuses.entry(request.status).or_default() += 1;
    }
    let counts: Vec<String> = statuses.iter().map(|(status, count)| format!("{status}×{count}")).collect();
    finding = finding
        .evidence(units::metric(format!("requests {upstream}"), "5xx share", share * 100.0, "%"))
        .evidence(Evidence::note(format!("statuses {first} – {last}: {}", counts.join(", "))));
    let rule = "The rule `sum(rate(nginx_ingress_controller_requests{status=~\"5..\"}[5m])) / \
                sum(rate(nginx_ingress_controller_requests[5m])) * 100 > 5` with `for: 2m`";
    let explanation = if points.is_empty() {
        format!(
            "{rule} needs five minutes of requests, and the bundle holds {} for this upstream over only {} ({first} – \
             {last}): the 5xx share of all of them stands in for the rate, and the rule could not be fully \
             evaluated. The bundle keeps only the last lines of each ingress controller log, so this is the end of \
             the capture, not its whole window.",
            requests.len(),
            units::span(window)
        )
    } else {
        format!(
            "{rule}, evaluated at each request with five minutes of history before it ({} of the {} the bundle holds \
             for this upstream, {first} – {last}), held from {} to {}. The bundle keeps only the last lines of each \
             ingress controller log, so this is the end of the capture, not its whole window.{}",
            points.len(),
            requests.len(),
            outcome.run().start,
            outcome.run().end,
            outcome.caveat(FOR_MINUTES, minutes_between(points[0].0, last))
        )
    };
    finding = finding.explanation(explanation);
    if let Some((_, service)) = ingress {
        finding = finding
            .remediation(format!(
                "kubectl get endpointslices -n {} -l kubernetes.io/service-name={}",
                kubectl::word(service.namespace.as_deref().unwrap_or_default()),
                kubectl::word(&service.name)
            ))
            .remediation(kubectl::describe(service));
    }
    if let Some(controller) = controllers.first() {
        finding = finding.remediation(format!(
            "kubectl logs {}{} --since=10m | grep -E '\" 5[0-9][0-9] '",
            kubectl::word(&controller.name),
            kubectl::namespace_flag(controller)
        ));
    }
    Some(finding)
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::diagnostics::testing::check;

    const INGRESS: &str = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - host: shop.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
"#;

    /// An access-log document: one request every 10 s from 11:50:00, the given statuses in order.
    fn log(statuses: &[u16]) -> String {
        let mut out = "---\nkind: ContainerLog\nnamespace: ingress-nginx\npod: ingress-nginx-controller-abc\ncontainer: controller\nlines:\n".to_owned();
        for (index, status) in statuses.iter().enumerate() {
            let at: jiff::Timestamp = "2025-06-01T11:50:00Z".parse().unwrap();
            let at = at + jiff::SignedDuration::from_secs(10 * index as i64);
            let local = at.strftime("%d/%b/%Y:%H:%M:%S +0000");
            out.push_str(&format!(
                "- '{at} 10.0.0.1 - - [{local}] \"GET /cart HTTP/1.1\" {status} 12 \"-\" \"curl/8\" 80 0.004 [shop-web-80] [] 10.1.0.5:8080 12 0.004 {status} r{index}'\n"
            ));
        }
        out
    }

    #[test]
    fn a_backend_failing_a_third_of_requests_for_minutes_fires() {
        let statuses: Vec<u16> = (0..60).map(|i| if i % 3 == 0 { 503 } else { 200 }).collect();
        check(
            &DIAGNOSTIC,
            &format!("{INGRESS}{}", log(&statuses)),
            expect![[r#"
            P1 high-error-rate Ingress shop/web (upstream shop-web-80): 33% of 60 requests 5xx over 9m 50s (HighErrorRate firing)
              objects: Ingress/shop/web, Service/shop/web, Pod/ingress-nginx/ingress-nginx-controller-abc
              metric requests shop-web-80 5xx share = 33.33 %
              note: statuses 2025-06-01T11:50:00Z – 2025-06-01T11:59:50Z: 200×40, 503×20
              why: The rule `sum(rate(nginx_ingress_controller_requests{status=~"5.."}[5m])) / sum(rate(nginx_ingress_controller_requests[5m])) * 100 > 5` with `for: 2m`, evaluated at each request with five minutes of history before it (30 of the 60 the bundle holds for this upstream, 2025-06-01T11:50:00Z – 2025-06-01T11:59:50Z), held from 2025-06-01T11:55:00Z to 2025-06-01T11:59:50Z. The bundle keeps only the last lines of each ingress controller log, so this is the end of the capture, not its whole window.
              $ kubectl get endpointslices -n shop -l kubernetes.io/service-name=web
              $ kubectl describe service web -n shop
              $ kubectl logs ingress-nginx-controller-abc -n ingress-nginx --since=10m | grep -E '" 5[0-9][0-9] '
        "#]],
        );
        // Under four minutes of requests: the share of all of them, and the rule not fully evaluated.
        check(
            &DIAGNOSTIC,
            &format!("{INGRESS}{}", log(&statuses[..24])),
            expect![[r#"
            P2 high-error-rate Ingress shop/web (upstream shop-web-80): 33% of 24 requests 5xx over 3m 50s (HighErrorRate pending)
              objects: Ingress/shop/web, Service/shop/web, Pod/ingress-nginx/ingress-nginx-controller-abc
              metric requests shop-web-80 5xx share = 33.33 %
              note: statuses 2025-06-01T11:50:00Z – 2025-06-01T11:53:50Z: 200×16, 503×8
              why: The rule `sum(rate(nginx_ingress_controller_requests{status=~"5.."}[5m])) / sum(rate(nginx_ingress_controller_requests[5m])) * 100 > 5` with `for: 2m` needs five minutes of requests, and the bundle holds 24 for this upstream over only 3m 50s (2025-06-01T11:50:00Z – 2025-06-01T11:53:50Z): the 5xx share of all of them stands in for the rate, and the rule could not be fully evaluated. The bundle keeps only the last lines of each ingress controller log, so this is the end of the capture, not its whole window.
              $ kubectl get endpointslices -n shop -l kubernetes.io/service-name=web
              $ kubectl describe service web -n shop
              $ kubectl logs ingress-nginx-controller-abc -n ingress-nginx --since=10m | grep -E '" 5[0-9][0-9] '
        "#]],
        );
    }

    #[test]
    fn a_healthy_backend_or_a_single_early_error_does_not() {
        let mut statuses = vec![200; 60];
        statuses[0] = 500;
        check(
            &DIAGNOSTIC,
            &format!("{INGRESS}{}", log(&statuses)),
            expect![[r#"
            no findings
        "#]],
        );
    }
}
