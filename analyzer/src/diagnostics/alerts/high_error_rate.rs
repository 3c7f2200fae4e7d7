//! Diagnostic `high-error-rate`: alert HighErrorRate (ingress 5xx above 5% for 2m);
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, ObjectRef};

use super::access_log::{Counts, Subject, Traffic, traffic};
use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::alerts::rule::{Outcome, Run, evaluate};
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::performance::units;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "high-error-rate",
    category: Category::Alerts,
    title: "Alert HighErrorRate (ingress 5xx above 5% for 2m)",
    severities: &[Severity::P0, Severity::P1, Severity::P2],
    what: "The `HighErrorRate` alert rule, the share of 5xx among an ingress's requests over 5 minutes \
           above 5% `for: 2m`, over every request of the bundle's access logs. The loader counts the \
           access-log lines of every log as it scans them, per minute: totals, 4xx and 5xx, per upstream \
           for ingress-nginx (`<namespace>-<service>-<port>`, mapped back to the Ingress whose backend it \
           is, summed over controller replicas), per container for the common and combined log formats, \
           which name no upstream. At the end of every minute from the fifth on, the 5xx share of the \
           requests of the five minutes before is the rule's expression, and `for: 2m` the usual `for` \
           evaluation: three consecutive minutes above 5%. Firing is P1 (the rule's `critical`), P0 when \
           half the requests of the firing window or more fail; holding for less than 2 minutes at the end \
           of the log is pending, P2. Under five minutes of requests (at least 10), the 5xx share of all of \
           them stands in for the rate and the finding says the rule could not be fully evaluated (P2). \
           Requests whose time cannot be read are counted but in no minute: when a subject has only those \
           (at least 10, over 5% 5xx), the finding says the rule could not be evaluated at all (P2).",
    why: "5xx answers are failed user requests; this is the alert Prometheus raises on them.",
    fix: "Find which backend answers 5xx (`kubectl logs` of the Service's pods, its endpoints) and fix or \
          roll it back; 502/503/504 usually mean no ready backend or one too slow.",
    example: "`Ingress shop/web (upstream shop-web-80): 38% of 420 requests 5xx in the firing window, \
              5-minute rate up to 41% (HighErrorRate firing)`, with the minutes, their counts and rates as \
              evidence.",
    needs: &[Need::Logs],
    run,
};

const THRESHOLD: f64 = 0.05;
/// The rate's window, in minutes.
const RATE_WINDOW: i64 = 5;
const FOR_MINUTES: f64 = 2.0;
/// Fewest requests a window shorter than the rate's five minutes is judged on.
const MIN_SHORT_REQUESTS: u64 = 10;
/// From this share on, most users fail: an outage.
const OUTAGE: f64 = 0.5;
/// Minutes of the firing run shown one by one.
const MINUTES_SHOWN: usize = 10;

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let ingresses = backends(facts.cluster());
    traffic(facts.cluster())
        .iter()
        .filter_map(|traffic| {
            let ingress = match &traffic.subject {
                Subject::Upstream(upstream) => ingresses.get(upstream),
                Subject::Container { .. } => None,
            };
            finding(traffic, ingress)
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
            for path in rule.pointer("/http/paths").and_then(Value::as_array).unwrap_or_default() {
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

/// The rule evaluated at the end of one minute: the requests of the five minutes up to it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    minute: i64,
    window: Counts,
}

impl Point {
    fn holds(&self) -> bool {
        self.window.server_error_share().is_some_and(|share| share > THRESHOLD)
    }
}

/// The evaluations, oldest first: at the end of every minute from the fifth minute of requests
/// to the last, where the five minutes before hold a request, plus one at the first minute of
/// each gap where they hold none (no rate: the condition does not hold, and a run stops there).
fn points(traffic: &Traffic) -> Vec<Point> {
    let (Some(&first), Some(&last)) = (traffic.minutes.keys().next(), traffic.minutes.keys().next_back())
    else {
        return Vec::new();
    };
    let start = first + RATE_WINDOW - 1;
    let mut evaluated: BTreeSet<i64> = BTreeSet::new();
    for &minute in traffic.minutes.keys() {
        evaluated.extend((minute..minute + RATE_WINDOW).filter(|at| (start..=last).contains(at)));
    }
    let mut out: Vec<Point> = Vec::with_capacity(evaluated.len());
    for minute in evaluated {
        if let Some(previous) = out.last().map(|point| point.minute)
            && minute > previous + 1
        {
            out.push(Point { minute: previous + 1, window: Counts::default() });
        }
        out.push(Point { minute, window: traffic.window(minute - RATE_WINDOW + 1, minute) });
    }
    out
}

/// The end of a Unix minute.
fn end_of(minute: i64) -> Timestamp {
    Timestamp::from_second(minute.saturating_add(1).saturating_mul(60)).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The start of a Unix minute.
fn start_of(minute: i64) -> Timestamp {
    Timestamp::from_second(minute.saturating_mul(60)).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// `2025-06-01 11:55`.
fn minute_label(minute: i64) -> String {
    start_of(minute).strftime("%Y-%m-%d %H:%M").to_string()
}

fn percent_exact(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// How the rule ended, the requests it was judged on, and its peak 5-minute rate.
struct Verdict {
    outcome: Outcome,
    /// The requests of the firing (or pending) run, its five-minute lead-in included.
    judged: Counts,
    /// The run's evaluations.
    run: Vec<Point>,
    peak: f64,
    /// Evaluations made over the whole log; 0 when it was too short for one.
    evaluations: usize,
}

fn verdict(traffic: &Traffic) -> Option<Verdict> {
    let points = points(traffic);
    if points.is_empty() {
        // Less than five minutes of requests (or none with a time): the share over all of
        // them is the best estimate of the rate ratio, and the rule could not be evaluated as
        // written.
        let all = Counts {
            total: traffic.total(),
            client_errors: traffic.client_errors(),
            server_errors: traffic.server_errors(),
        };
        let share = all.server_error_share()?;
        if all.total < MIN_SHORT_REQUESTS || share <= THRESHOLD {
            return None;
        }
        let (first, last) = match (traffic.minutes.keys().next(), traffic.minutes.keys().next_back()) {
            (Some(&first), Some(&last)) => (start_of(first), end_of(last)),
            _ => (Timestamp::UNIX_EPOCH, Timestamp::UNIX_EPOCH),
        };
        return Some(Verdict {
            outcome: Outcome::Pending {
                run: Run { start: first, end: last, points: traffic.minutes.len() },
                short_window: true,
            },
            judged: all,
            run: Vec::new(),
            peak: share,
            evaluations: 0,
        });
    }
    let timed: Vec<(Timestamp, bool)> =
        points.iter().map(|point| (end_of(point.minute), point.holds())).collect();
    let outcome = evaluate(&timed, FOR_MINUTES)?;
    let held = outcome.run();
    let run: Vec<Point> = points
        .iter()
        .filter(|point| (held.start..=held.end).contains(&end_of(point.minute)))
        .copied()
        .collect();
    let (first, last) = (run.first()?.minute, run.last()?.minute);
    let peak = run.iter().filter_map(|point| point.window.server_error_share()).fold(0.0, f64::max);
    Some(Verdict {
        outcome,
        judged: traffic.window(first - RATE_WINDOW + 1, last),
        run,
        peak,
        evaluations: points.len(),
    })
}

fn finding(traffic: &Traffic, ingress: Option<&(ObjectRef, ObjectRef)>) -> Option<Finding> {
    let verdict = verdict(traffic)?;
    let share = verdict.judged.server_error_share()?;
    let severity = match verdict.outcome {
        Outcome::Fired { .. } if share >= OUTAGE => Severity::P0,
        Outcome::Fired { .. } => Severity::P1,
        Outcome::Pending { .. } => Severity::P2,
    };
    let (subject, series) = match (&traffic.subject, ingress) {
        (Subject::Upstream(upstream), Some((ingress, _))) => (
            format!(
                "Ingress {}/{} (upstream {upstream})",
                ingress.namespace.as_deref().unwrap_or_default(),
                ingress.name
            ),
            upstream.clone(),
        ),
        (Subject::Upstream(upstream), None) => (format!("Upstream {upstream}"), upstream.clone()),
        (Subject::Container { namespace, pod, container }, _) => (
            format!("Pod {namespace}/{pod} container {container} (access log)"),
            format!("{pod}/{container}"),
        ),
    };
    let judged = match (verdict.evaluations, verdict.outcome) {
        (0, _) if traffic.minutes.is_empty() => "requests 5xx, none with a readable time",
        (0, _) => "requests 5xx, all within less than five minutes",
        (_, Outcome::Fired { .. }) => "requests 5xx in the firing window",
        (_, Outcome::Pending { .. }) => "requests 5xx in the pending window",
    };
    let mut finding = DIAGNOSTIC.finding(
        severity,
        format!(
            "{subject}: {} of {} {judged}, 5-minute rate up to {} (HighErrorRate {})",
            units::percent(share),
            verdict.judged.total,
            units::percent(verdict.peak),
            verdict.outcome.state()
        ),
    );
    if let Some((ingress, service)) = ingress {
        finding = finding.object(ingress.clone()).object(service.clone());
    }
    for pod in &traffic.pods {
        finding = finding.object(pod.clone());
    }
    finding = finding
        .evidence(units::metric(
            format!("requests {series}"),
            "peak 5-minute 5xx rate",
            verdict.peak * 100.0,
            "%",
        ))
        .evidence(Evidence::note(whole_log(traffic)));
    for point in verdict.run.iter().take(MINUTES_SHOWN) {
        let minute = traffic.window(point.minute, point.minute);
        finding = finding.evidence(Evidence::note(format!(
            "minute {}: {} requests, {} 5xx, {} 4xx; 5xx rate over the 5 minutes to its end {} ({} of {})",
            minute_label(point.minute),
            minute.total,
            minute.server_errors,
            minute.client_errors,
            point.window.server_error_share().map_or_else(|| "none (no requests)".to_owned(), percent_exact),
            point.window.server_errors,
            point.window.total
        )));
    }
    if verdict.run.len() > MINUTES_SHOWN {
        finding = finding.evidence(Evidence::note(format!(
            "… and {} more minutes in the run, to {}",
            verdict.run.len() - MINUTES_SHOWN,
            minute_label(verdict.run.last().map_or(0, |point| point.minute))
        )));
    }
    if traffic.unbucketed > 0 {
        finding = finding.evidence(Evidence::note(format!(
            "{} of the requests have no readable time: they are in the counts of the whole log, in no minute",
            traffic.unbucketed
        )));
    }
    finding = finding.explanation(explanation(traffic, &verdict));
    if let Some((_, service)) = ingress {
        finding = finding
            .remediation(
                Kubectl::new("get endpointslices")
                    .namespace(service.namespace.as_deref().unwrap_or_default())
                    .arg("-l")
                    .joined("kubernetes.io/service-name=", &service.name),
            )
            .remediation(kubectl::describe(service));
    }
    if let Some(pod) = traffic.pods.first() {
        let command = Kubectl::new("logs").name(&pod.name).namespace_of(pod);
        let command = match &traffic.subject {
            Subject::Container { container, .. } => command.arg("-c").name(container),
            Subject::Upstream(_) => command,
        };
        finding = finding.remediation(command.arg("--since=10m | grep -E '\" 5[0-9][0-9] '"));
    }
    Some(finding)
}

/// `all requests: 1234 from ... to ... in 2 logs (...), 120 5xx (9.7%), 30 4xx; statuses 200×1084, 404×30,
/// 503×120`.
fn whole_log(traffic: &Traffic) -> String {
    let total = traffic.total();
    let span = match (traffic.minutes.keys().next(), traffic.minutes.keys().next_back()) {
        (Some(&first), Some(&last)) => format!(" from {} to {}", start_of(first), end_of(last)),
        _ => String::new(),
    };
    let statuses: Vec<String> =
        traffic.statuses.iter().map(|(status, count)| format!("{status}×{count}")).collect();
    format!(
        "all requests: {total}{span} in {} log{} ({}), {} 5xx ({}), {} 4xx; statuses {}",
        traffic.paths.len(),
        if traffic.paths.len() == 1 { "" } else { "s" },
        traffic.paths.join(", "),
        traffic.server_errors(),
        percent_exact(traffic.server_errors() as f64 / total.max(1) as f64),
        traffic.client_errors(),
        statuses.join(", ")
    )
}

fn explanation(traffic: &Traffic, verdict: &Verdict) -> String {
    let rule = "The rule `sum(rate(nginx_ingress_controller_requests{status=~\"5..\"}[5m])) / \
                sum(rate(nginx_ingress_controller_requests[5m])) * 100 > 5` with `for: 2m`";
    let counted = "The loader counted every access-log line of the bundle's logs per minute, not only \
                   the lines it keeps.";
    if traffic.minutes.is_empty() {
        return format!(
            "{rule} needs the time of each request, and none of these {} access-log lines has a readable \
             one: the 5xx share of all of them stands in for the rate, and the rule could not be \
             evaluated. {counted}",
            traffic.total()
        );
    }
    let first = traffic.minutes.keys().next().copied().unwrap_or_default();
    let last = traffic.minutes.keys().next_back().copied().unwrap_or_default();
    let window = (last - first + 1) as f64;
    if verdict.evaluations == 0 {
        return format!(
            "{rule} needs five minutes of requests, and the logs hold {} for this {} over only {} ({} – \
             {}): the 5xx share of all of them stands in for the rate, and the rule could not be fully \
             evaluated. {counted}",
            traffic.total(),
            if matches!(traffic.subject, Subject::Upstream(_)) { "upstream" } else { "container" },
            units::span(window),
            start_of(first),
            end_of(last)
        );
    }
    let held = verdict.outcome.run();
    format!(
        "{rule}, evaluated at the end of each minute from the fifth minute of requests ({} evaluations \
         over {} – {}), held from {} to {}: {} of the {} requests of those minutes and the five before \
         were 5xx. {counted}{}",
        verdict.evaluations,
        start_of(first),
        end_of(last),
        held.start,
        held.end,
        verdict.judged.server_errors,
        verdict.judged.total,
        verdict.outcome.caveat(FOR_MINUTES, window - (RATE_WINDOW - 1) as f64)
    )
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::{check, model_from_yaml};

    const INGRESS: &str = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - host: shop.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
"#;

    /// An ingress-nginx access log: one request every 10 s from 11:00:00, the given statuses in
    /// order, each line behind kubectl's timestamp.
    fn log(statuses: &[u16]) -> String {
        let mut out = "---\nkind: ContainerLog\nnamespace: ingress-nginx\n\
                       pod: ingress-nginx-controller-abc\ncontainer: controller\nlines:\n"
            .to_owned();
        for (index, status) in statuses.iter().enumerate() {
            let at: jiff::Timestamp = "2025-06-01T11:00:00Z".parse().unwrap();
            let at = at + jiff::SignedDuration::from_secs(10 * index as i64);
            let local = at.strftime("%d/%b/%Y:%H:%M:%S +0000");
            out.push_str(&format!(
                "- '{at} 10.0.0.1 - - [{local}] \"GET /cart HTTP/1.1\" {status} 12 \"-\" \"curl/8\" 80 \
                 0.004 [shop-web-80] [] 10.1.0.5:8080 12 0.004 {status} r{index}'\n"
            ));
        }
        out
    }

    /// The test that proves the rule sees whole logs: the failures are all long before the
    /// last lines the model keeps, which hold only 200s.
    #[test]
    fn failures_before_the_kept_tail_fire() {
        // 20 minutes with a third of requests failing, then 20 healthy minutes.
        let mut statuses: Vec<u16> = (0..120).map(|i| if i % 3 == 0 { 503 } else { 200 }).collect();
        statuses.extend([200; 120]);
        let fixture = format!("{INGRESS}{}", log(&statuses));
        let model = model_from_yaml(&fixture);
        let tail = &model.logs[0].tail;
        assert!(
            !tail.is_empty() && tail.iter().all(|line| !line.text.contains(" 503 ")),
            "no failure is kept"
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
                P1 high-error-rate Ingress shop/web (upstream shop-web-80): 28% of 144 requests 5xx in the firing window, 5-minute rate up to 33% (HighErrorRate fired, resolved after 2025-06-01T11:24:00Z)
                  objects: Ingress/shop/web, Service/shop/web, Pod/ingress-nginx/ingress-nginx-controller-abc
                  metric requests shop-web-80 peak 5-minute 5xx rate = 33.33 %
                  note: all requests: 240 from 2025-06-01T11:00:00Z to 2025-06-01T11:40:00Z in 1 log (logs/ingress-nginx/ingress-nginx-controller-abc/controller.log), 40 5xx (16.7%), 0 4xx; statuses 200×200, 503×40
                  note: minute 2025-06-01 11:04: 6 requests, 2 5xx, 0 4xx; 5xx rate over the 5 minutes to its end 33.3% (10 of 30)
                  note: minute 2025-06-01 11:05: 6 requests, 2 5xx, 0 4xx; 5xx rate over the 5 minutes to its end 33.3% (10 of 30)
                  note: minute 2025-06-01 11:06: 6 requests, 2 5xx, 0 4xx; 5xx rate over the 5 minutes to its end 33.3% (10 of 30)
                  note: minute 2025-06-01 11:07: 6 requests, 2 5xx, 0 4xx; 5xx rate over the 5 minutes to its end 33.3% (10 of 30)
                  note: minute 2025-06-01 11:08: 6 requests, 2 5xx, 0 4xx; 5xx rate over the 5 minutes to its end 33.3% (10 of 30)
                  note: minute 2025-06-01 11:09: 6 requests, 2 5xx, 0 4xx; 5xx rate over the 5 minutes to its end 33.3% (10 of 30)
                  note: minute 2025-06-01 11:10: 6 requests, 2 5xx, 0 4xx; 5xx rate over the 5 minutes to its end 33.3% (10 of 30)
                  note: minute 2025-06-01 11:11: 6 requests, 2 5xx, 0 4xx; 5xx rate over the 5 minutes to its end 33.3% (10 of 30)
                  note: minute 2025-06-01 11:12: 6 requests, 2 5xx, 0 4xx; 5xx rate over the 5 minutes to its end 33.3% (10 of 30)
                  note: minute 2025-06-01 11:13: 6 requests, 2 5xx, 0 4xx; 5xx rate over the 5 minutes to its end 33.3% (10 of 30)
                  note: … and 10 more minutes in the run, to 2025-06-01 11:23
                  why: The rule `sum(rate(nginx_ingress_controller_requests{status=~"5.."}[5m])) / sum(rate(nginx_ingress_controller_requests[5m])) * 100 > 5` with `for: 2m`, evaluated at the end of each minute from the fifth minute of requests (36 evaluations over 2025-06-01T11:00:00Z – 2025-06-01T11:40:00Z), held from 2025-06-01T11:05:00Z to 2025-06-01T11:24:00Z: 40 of the 144 requests of those minutes and the five before were 5xx. The loader counted every access-log line of the bundle's logs per minute, not only the lines it keeps.
                  $ kubectl get endpointslices -n shop -l kubernetes.io/service-name=web
                  $ kubectl describe service web -n shop
                  $ kubectl logs ingress-nginx-controller-abc -n ingress-nginx --since=10m | grep -E '" 5[0-9][0-9] '
            "#]],
        );
    }

    #[test]
    fn a_short_log_is_judged_on_all_its_requests() {
        let statuses: Vec<u16> = (0..24).map(|i| if i % 3 == 0 { 503 } else { 200 }).collect();
        check(
            &DIAGNOSTIC,
            &format!("{INGRESS}{}", log(&statuses)),
            expect![[r#"
                P2 high-error-rate Ingress shop/web (upstream shop-web-80): 33% of 24 requests 5xx, all within less than five minutes, 5-minute rate up to 33% (HighErrorRate pending)
                  objects: Ingress/shop/web, Service/shop/web, Pod/ingress-nginx/ingress-nginx-controller-abc
                  metric requests shop-web-80 peak 5-minute 5xx rate = 33.33 %
                  note: all requests: 24 from 2025-06-01T11:00:00Z to 2025-06-01T11:04:00Z in 1 log (logs/ingress-nginx/ingress-nginx-controller-abc/controller.log), 8 5xx (33.3%), 0 4xx; statuses 200×16, 503×8
                  why: The rule `sum(rate(nginx_ingress_controller_requests{status=~"5.."}[5m])) / sum(rate(nginx_ingress_controller_requests[5m])) * 100 > 5` with `for: 2m` needs five minutes of requests, and the logs hold 24 for this upstream over only 4m (2025-06-01T11:00:00Z – 2025-06-01T11:04:00Z): the 5xx share of all of them stands in for the rate, and the rule could not be fully evaluated. The loader counted every access-log line of the bundle's logs per minute, not only the lines it keeps.
                  $ kubectl get endpointslices -n shop -l kubernetes.io/service-name=web
                  $ kubectl describe service web -n shop
                  $ kubectl logs ingress-nginx-controller-abc -n ingress-nginx --since=10m | grep -E '" 5[0-9][0-9] '
            "#]],
        );
    }

    #[test]
    fn a_healthy_backend_a_single_early_error_or_a_low_rate_does_not() {
        let mut statuses = vec![200; 240];
        statuses[0] = 500;
        // Failures ten minutes apart: one in the 30 requests of a five-minute window is 3.3%.
        statuses[100] = 502;
        statuses[160] = 502;
        check(
            &DIAGNOSTIC,
            &format!("{INGRESS}{}", log(&statuses)),
            expect![[r#"
                no findings
            "#]],
        );
        // Two failures in one five-minute window are 6.7% of its 30 requests. A minute apart,
        // four windows hold both, three minutes of evaluations: that fires (the rule's
        // arithmetic at low traffic). Three minutes apart, two windows hold both, one minute:
        // the rule stays quiet.
        let mut statuses = vec![200; 240];
        statuses[100] = 502;
        statuses[118] = 502;
        check(
            &DIAGNOSTIC,
            &format!("{INGRESS}{}", log(&statuses)),
            expect![[r#"
                no findings
            "#]],
        );
        // 2% of requests fail all along: under the threshold in every window.
        let statuses: Vec<u16> = (0..240).map(|i| if i % 50 == 7 { 503 } else { 200 }).collect();
        check(
            &DIAGNOSTIC,
            &format!("{INGRESS}{}", log(&statuses)),
            expect![[r#"
                no findings
            "#]],
        );
    }

    #[test]
    fn a_web_server_access_log_is_judged_per_container() {
        let mut fixture =
            "---\nkind: ContainerLog\nnamespace: shop\npod: static-0\ncontainer: nginx\nlines:\n".to_owned();
        for index in 0..60 {
            let at = "2025-06-01T11:00:00Z".parse::<jiff::Timestamp>().unwrap()
                + jiff::SignedDuration::from_secs(10 * index);
            let status = if (20..50).contains(&index) { 500 } else { 200 };
            fixture.push_str(&format!(
                "- '10.0.0.9 - - [{}] \"GET /index.html HTTP/1.1\" {status} 612 \"-\" \"curl/8\"'\n",
                at.strftime("%d/%b/%Y:%H:%M:%S +0000")
            ));
        }
        // Lines whose time is no date are counted, in no minute.
        fixture
            .push_str("- '10.0.0.9 - - [41/Foo/2025:11:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"c\"'\n");
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
                P0 high-error-rate Pod shop/static-0 container nginx (access log): 50% of 60 requests 5xx in the firing window, 5-minute rate up to 93% (HighErrorRate firing)
                  objects: Pod/shop/static-0
                  metric requests static-0/nginx peak 5-minute 5xx rate = 93.33 %
                  note: all requests: 61 from 2025-06-01T11:00:00Z to 2025-06-01T11:10:00Z in 1 log (logs/shop/static-0/nginx.log), 30 5xx (49.2%), 0 4xx; statuses 200×31, 500×30
                  note: minute 2025-06-01 11:04: 6 requests, 6 5xx, 0 4xx; 5xx rate over the 5 minutes to its end 33.3% (10 of 30)
                  note: minute 2025-06-01 11:05: 6 requests, 6 5xx, 0 4xx; 5xx rate over the 5 minutes to its end 53.3% (16 of 30)
                  note: minute 2025-06-01 11:06: 6 requests, 6 5xx, 0 4xx; 5xx rate over the 5 minutes to its end 73.3% (22 of 30)
                  note: minute 2025-06-01 11:07: 6 requests, 6 5xx, 0 4xx; 5xx rate over the 5 minutes to its end 93.3% (28 of 30)
                  note: minute 2025-06-01 11:08: 6 requests, 2 5xx, 0 4xx; 5xx rate over the 5 minutes to its end 86.7% (26 of 30)
                  note: minute 2025-06-01 11:09: 6 requests, 0 5xx, 0 4xx; 5xx rate over the 5 minutes to its end 66.7% (20 of 30)
                  note: 1 of the requests have no readable time: they are in the counts of the whole log, in no minute
                  why: The rule `sum(rate(nginx_ingress_controller_requests{status=~"5.."}[5m])) / sum(rate(nginx_ingress_controller_requests[5m])) * 100 > 5` with `for: 2m`, evaluated at the end of each minute from the fifth minute of requests (6 evaluations over 2025-06-01T11:00:00Z – 2025-06-01T11:10:00Z), held from 2025-06-01T11:05:00Z to 2025-06-01T11:10:00Z: 30 of the 60 requests of those minutes and the five before were 5xx. The loader counted every access-log line of the bundle's logs per minute, not only the lines it keeps.
                  $ kubectl logs static-0 -n shop -c nginx --since=10m | grep -E '" 5[0-9][0-9] '
            "#]],
        );
    }
}
