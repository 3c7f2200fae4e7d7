//! Diagnostic `cascading-failures`: cascading failures across pods;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use kubesnap_shared::model::{ClusterModel, ERROR_LEVEL, LogLine, ObjectRef};

use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::logs::recency;
use crate::facts::logs::sources::{self, Source};
use crate::facts::logs::windows::{self, WINDOW};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "cascading-failures",
    category: Category::Logs,
    title: "Cascading failures across pods",
    severities: &[Severity::P1, Severity::P3],
    what: "`K8sLogAnalyzer`'s `identify_cascading_failures`: ERROR and FATAL lines with a time, in every \
           container log and node journal, grouped into 5-minute windows aligned as the `K8sLogAnalyzer` \
           aligns them (minute // 5 * 5). The loader counts them per log and window over every line \
           (`families[ERROR_LEVEL]`); the lines quoted are those it keeps. A window holding at least 3 \
           errors from at least 2 pods is a cascade. Each finding names the affected pods, the error count, \
           sample errors, and which pod failed first (the earliest error of the window) and whether it was \
           already failing in the previous window. Windows are ranked by error count, as `K8sLogAnalyzer` \
           sorts them; the five largest are reported. A cascade is P1 only while it is ongoing: some pod \
           (or node) in it is failing at the capture (not Ready) with errors that are not history. When \
           every pod in it is healthy at the capture, it took nothing down (a start-up, an install, the \
           background errors of a busy cluster): all such windows together are one P3 finding.",
    why: "Pods failing together share a cause (a dependency, a node, a configuration); the first to fail is \
          where to look first.",
    fix: "Start from the pod that failed first: read its log around the window, then what the others call \
          or share with it.",
    example: "`Cascading failure at 2025-06-01T11:50:00Z: 14 errors in 3 pods, first in shop/db-0`, with \
              `db-0` failing since the previous window and `api-1`, `api-2` following.",
    needs: &[Need::Logs],
    run,
};

/// `K8sLogAnalyzer`'s thresholds: errors in a window, and pods among them.
const MIN_ERRORS: u64 = 3;
const MIN_PODS: usize = 2;
/// How many windows become findings (`K8sLogAnalyzer` prints three).
const REPORTED: usize = 5;
/// Sample errors per window (`K8sLogAnalyzer` keeps five).
const SAMPLES: usize = 5;

/// One ERROR or FATAL line with a time, kept by the loader.
#[derive(Debug, Clone)]
pub(crate) struct ErrorLine<'a> {
    pub(crate) at: Timestamp,
    pub(crate) source: Source<'a>,
    pub(crate) line: &'a LogLine,
}

/// The ERROR and FATAL lines of one log in one window, counted over every line.
#[derive(Debug, Clone)]
pub(crate) struct Part<'a> {
    pub(crate) source: Source<'a>,
    pub(crate) count: u64,
    /// The log's earliest error in the window.
    pub(crate) first: Timestamp,
}

/// A cascade window.
#[derive(Debug, Clone)]
pub(crate) struct Cascade<'a> {
    pub(crate) window: Timestamp,
    /// The logs with errors in the window, earliest first error first (then by pod and file).
    pub(crate) parts: Vec<Part<'a>>,
    /// Errors in the window, every line of every log counted.
    pub(crate) errors: u64,
    /// The pods (or nodes), in name order.
    pub(crate) members: Vec<ObjectRef>,
    /// The first pod to fail had errors in the previous window too.
    pub(crate) first_failing_before: bool,
}

impl<'a> Cascade<'a> {
    /// The log with the earliest error of the window.
    pub(crate) fn first(&self) -> Option<&Part<'a>> {
        self.parts.first()
    }

    /// The window's lines the loader kept (it keeps the latest of each log), oldest first
    /// (then by pod, file and line): at most `limit` of them, and how many it kept in all.
    pub(crate) fn kept_lines(&self, limit: usize) -> (Vec<ErrorLine<'a>>, usize) {
        let mut lines: Vec<ErrorLine<'a>> = Vec::new();
        for part in &self.parts {
            for line in &part.source.log.error_lines {
                if let Some(at) = line.timestamp.filter(|at| windows::window_of(*at) == self.window) {
                    lines.push(ErrorLine { at, source: part.source.clone(), line });
                }
            }
        }
        lines.sort_by(|a, b| {
            (a.at, &a.source.member, &a.source.log.path, a.line.line).cmp(&(
                b.at,
                &b.source.member,
                &b.source.log.path,
                b.line.line,
            ))
        });
        let kept = lines.len();
        lines.truncate(limit);
        (lines, kept)
    }
}

/// Every cascade window, most errors first, then oldest first. Counts come from the loader's
/// count of ERROR and FATAL lines per log and window, over every line.
pub(crate) fn cascades(model: &ClusterModel) -> Vec<Cascade<'_>> {
    let mut by_window: BTreeMap<Timestamp, Vec<Part<'_>>> = BTreeMap::new();
    for source in sources::sources(model) {
        let Some(hits) = source.log.families.get(ERROR_LEVEL) else { continue };
        for window in &hits.windows {
            by_window.entry(window.start()).or_default().push(Part {
                source: source.clone(),
                count: window.count,
                first: window.first,
            });
        }
    }
    let members_in = |parts: &[Part<'_>]| -> BTreeSet<ObjectRef> {
        parts.iter().map(|part| part.source.member.clone()).collect()
    };
    let mut out = Vec::new();
    for (window, parts) in &by_window {
        let errors: u64 = parts.iter().map(|part| part.count).sum();
        let members = members_in(parts);
        if errors < MIN_ERRORS || members.len() < MIN_PODS {
            continue;
        }
        let mut parts = parts.clone();
        parts.sort_by(|a, b| {
            (a.first, &a.source.member, &a.source.log.path).cmp(&(
                b.first,
                &b.source.member,
                &b.source.log.path,
            ))
        });
        let previous = window.checked_sub(WINDOW).ok().and_then(|previous| by_window.get(&previous));
        let first_failing_before = match (parts.first(), previous) {
            (Some(first), Some(previous)) => members_in(previous).contains(&first.source.member),
            _ => false,
        };
        out.push(Cascade {
            window: *window,
            parts,
            errors,
            members: members.into_iter().collect(),
            first_failing_before,
        });
    }
    out.sort_by(|a, b| b.errors.cmp(&a.errors).then(a.window.cmp(&b.window)));
    out
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let model = facts.cluster();
    let installed = recency::install_completed(model);
    let (failing, settled): (Vec<Cascade<'_>>, Vec<Cascade<'_>>) =
        cascades(model).into_iter().partition(|cascade| is_ongoing(model, cascade, installed));
    let total = failing.len();
    let mut findings: Vec<Finding> =
        failing.iter().take(REPORTED).map(|cascade| finding(cascade, total)).collect();
    findings.extend(history_finding(&settled));
    findings
}

/// A cascade is a current failure when a pod (or node) in it is failing at the capture and its
/// errors there are ongoing. Errors of pods that are all healthy at the capture took nothing
/// down: a start-up, an install, or the background errors every busy cluster logs.
fn is_ongoing(model: &ClusterModel, cascade: &Cascade<'_>, installed: Option<Timestamp>) -> bool {
    let end = cascade.window.checked_add(WINDOW).unwrap_or(cascade.window);
    cascade.parts.iter().any(|part| {
        recency::health(model, &part.source) == recency::Health::Unhealthy
            && !recency::of_hits(model, &part.source, Some(end), installed).is_history()
    })
}

/// The cascades of healthy pods as one P3 finding: when they were, the largest, and that no pod
/// in them is failing at the capture.
fn history_finding(history: &[Cascade<'_>]) -> Option<Finding> {
    let largest = history.first()?;
    let from = history.iter().map(|cascade| cascade.window).min()?;
    let to = history.iter().map(|cascade| cascade.window).max()?.checked_add(WINDOW).ok()?;
    let mut members: BTreeSet<&ObjectRef> = BTreeSet::new();
    for cascade in history {
        members.extend(&cascade.members);
    }
    let windows = history.len();
    let title = format!(
        "Error bursts across pods between {from} and {to}: {windows} {} of cascading errors, no pod in them \
         failing at the capture",
        if windows == 1 { "window" } else { "windows" }
    );
    let mut finding = DIAGNOSTIC.finding(Severity::P3, title);
    for member in &members {
        finding = finding.object((*member).clone());
    }
    finding = finding.evidence(Evidence::note(format!(
        "the largest: {} errors in {} pods in the window starting {}{}",
        largest.errors,
        largest.members.len(),
        largest.window,
        largest.first().map(|first| format!(", first in {}", name(&first.source.member))).unwrap_or_default()
    )));
    let (samples, _) = largest.kept_lines(SAMPLES);
    for error in &samples {
        finding = finding.evidence(Evidence::log_line(&error.source.log.path, error.line));
    }
    Some(finding.explanation(format!(
        "{windows} five-minute {} between {from} and {to} {} at least {MIN_ERRORS} ERROR or FATAL lines \
         from at least {MIN_PODS} pods, the cascading failure rule, but no pod (or node) in them is \
         failing at the capture: every one is Ready, Running where the bundle does not say Ready, or not \
         in the bundle. Start-up and install windows, and the background errors of a busy cluster, look \
         like this; the timeline keeps them.",
        if windows == 1 { "window" } else { "windows" },
        if windows == 1 { "holds" } else { "hold" }
    )))
}

fn name(member: &ObjectRef) -> String {
    match &member.namespace {
        Some(namespace) => format!("{namespace}/{}", member.name),
        None => format!("node {}", member.name),
    }
}

fn finding(cascade: &Cascade<'_>, total: usize) -> Finding {
    let Some(first) = cascade.first() else {
        return DIAGNOSTIC.finding(Severity::P1, format!("Cascading failure at {}", cascade.window));
    };
    let first_member = &first.source.member;
    let title = format!(
        "Cascading failure at {}: {} errors in {} pods within 5 minutes, first in {}",
        cascade.window,
        cascade.errors,
        cascade.members.len(),
        name(first_member)
    );
    let mut finding = DIAGNOSTIC.finding(Severity::P1, title).object(first_member.clone());
    for member in &cascade.members {
        finding = finding.object(member.clone());
    }
    let before = if cascade.first_failing_before {
        "it was already failing in the window before"
    } else {
        "it had no error in the window before"
    };
    finding = finding.evidence(Evidence::note(format!(
        "first error at {} in {} ({}); {before}",
        first.first,
        name(first_member),
        first.source.describe()
    )));
    let mut per_member: BTreeMap<&ObjectRef, u64> = BTreeMap::new();
    for part in &cascade.parts {
        *per_member.entry(&part.source.member).or_default() += part.count;
    }
    let counts: Vec<String> =
        per_member.iter().map(|(member, count)| format!("{} {count}", name(member))).collect();
    finding = finding.evidence(Evidence::note(format!("errors per pod: {}", counts.join(", "))));
    let (samples, kept) = cascade.kept_lines(SAMPLES);
    for error in &samples {
        finding = finding.evidence(Evidence::log_line(&error.source.log.path, error.line));
    }
    let not_kept = cascade.errors.saturating_sub(kept as u64);
    if not_kept > 0 {
        finding = finding.evidence(Evidence::note(format!(
            "{not_kept} of the window's {} errors {} counted but not quoted: the loader counts every \
             ERROR and FATAL line and keeps the latest of each log",
            cascade.errors,
            if not_kept == 1 { "is" } else { "are" }
        )));
    }
    if total > REPORTED {
        finding = finding.evidence(Evidence::note(format!(
            "{total} windows qualify as cascades; the {REPORTED} with the most errors are reported"
        )));
    }
    let others: Vec<String> =
        cascade.members.iter().filter(|member| *member != first_member).map(name).collect();
    finding = finding.explanation(format!(
        "{} ERROR or FATAL lines from {} pods fall in the 5-minute window starting {}: the cascading \
         failure rule (at least {MIN_ERRORS} errors from at least {MIN_PODS} pods). {} failed first, at \
         {}, and {}; {} followed. Pods failing together share a cause: look at what {} provides to or \
         shares with the others (a Service, a node, a configuration) before restarting anything.",
        cascade.errors,
        cascade.members.len(),
        cascade.window,
        name(first_member),
        first.first,
        before.trim_start_matches("it "),
        others.join(", "),
        name(first_member)
    ));
    finding = match first.source.is_node() {
        true => finding.remediation(kubectl::describe(first_member)),
        false => finding
            .remediation(kubectl::logs(
                first_member,
                &first.source.log.key.container,
                first.source.log.key.previous,
            ))
            .remediation(kubectl::describe(first_member)),
    };
    let mut namespaces: Vec<&str> = cascade.members.iter().filter_map(|m| m.namespace.as_deref()).collect();
    namespaces.dedup();
    for namespace in namespaces {
        finding = finding
            .remediation(Kubectl::new("get events").namespace(namespace).arg("--sort-by=.lastTimestamp"));
    }
    finding
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    /// db-0 is crash-looping at the capture; api-1 and api-2 are Ready.
    const PODS: &str = r#"
kind: Pod
apiVersion: v1
metadata: {name: db-0, namespace: shop}
status: {phase: Running, conditions: [{type: Ready, status: "False"}],
  containerStatuses: [{name: app, ready: false, restartCount: 7, state: {waiting: {reason: CrashLoopBackOff}}}]}
---
kind: Pod
apiVersion: v1
metadata: {name: api-1, namespace: shop}
status: {phase: Running, conditions: [{type: Ready, status: "True", lastTransitionTime: "2025-06-01T11:00:00Z"}]}
---
kind: Pod
apiVersion: v1
metadata: {name: api-2, namespace: shop}
status: {phase: Running, conditions: [{type: Ready, status: "True", lastTransitionTime: "2025-06-01T11:00:00Z"}]}
"#;

    fn log(pod: &str, lines: &[&str]) -> String {
        let lines: Vec<String> = lines.iter().map(|line| format!("- \"{line}\"")).collect();
        format!(
            "\n---\nkind: ContainerLog\nnamespace: shop\npod: {pod}\ncontainer: app\nlines:\n{}\n",
            lines.join("\n")
        )
    }

    #[test]
    fn a_window_with_errors_from_several_pods_names_the_first_to_fail() {
        let fixture = [
            PODS.to_owned(),
            log(
                "db-0",
                &[
                    "2025-06-01T11:48:00Z ERROR checkpoint failed",
                    "2025-06-01T11:50:10Z FATAL could not write WAL",
                ],
            ),
            log(
                "api-1",
                &["2025-06-01T11:51:00Z ERROR query failed", "2025-06-01T11:52:00Z ERROR query failed"],
            ),
            log("api-2", &["2025-06-01T11:53:00Z ERROR query failed", "2025-06-01T11:59:00Z INFO recovered"]),
        ]
        .concat();
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
                P1 cascading-failures Cascading failure at 2025-06-01T11:50:00Z: 4 errors in 3 pods within 5 minutes, first in shop/db-0
                  objects: Pod/shop/db-0, Pod/shop/api-1, Pod/shop/api-2
                  note: first error at 2025-06-01T11:50:10Z in shop/db-0 (pod db-0, container app (current run)); it was already failing in the window before
                  note: errors per pod: shop/api-1 2, shop/api-2 1, shop/db-0 1
                  log logs/shop/db-0/app.log:2: 2025-06-01T11:50:10Z FATAL could not write WAL
                  log logs/shop/api-1/app.log:1: 2025-06-01T11:51:00Z ERROR query failed
                  log logs/shop/api-1/app.log:2: 2025-06-01T11:52:00Z ERROR query failed
                  log logs/shop/api-2/app.log:1: 2025-06-01T11:53:00Z ERROR query failed
                  why: 4 ERROR or FATAL lines from 3 pods fall in the 5-minute window starting 2025-06-01T11:50:00Z: the cascading failure rule (at least 3 errors from at least 2 pods). shop/db-0 failed first, at 2025-06-01T11:50:10Z, and was already failing in the window before; shop/api-1, shop/api-2 followed. Pods failing together share a cause: look at what shop/db-0 provides to or shares with the others (a Service, a node, a configuration) before restarting anything.
                  $ kubectl logs db-0 -n shop -c app --tail=50
                  $ kubectl describe pod db-0 -n shop
                  $ kubectl get events -n shop --sort-by=.lastTimestamp
            "#]],
        );
    }

    /// db-0's error in the window is older than the 2,000 ERROR lines the loader keeps of its
    /// log: it still counts, and db-0 still failed first.
    #[test]
    fn errors_older_than_the_kept_lines_count_and_decide_who_failed_first() {
        let later: Vec<String> = (0..2_100)
            .map(|second| format!("2025-06-01T12:{:02}:{:02}Z ERROR disk full", second / 60, second % 60))
            .collect();
        let mut db = vec!["2025-06-01T11:50:10Z FATAL could not write WAL"];
        db.extend(later.iter().map(String::as_str));
        let fixture = [
            PODS.to_owned(),
            log("db-0", &db),
            log("api-1", &["2025-06-01T11:51:00Z ERROR query failed"]),
            log("api-2", &["2025-06-01T11:53:00Z ERROR query failed"]),
        ]
        .concat();
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
                P1 cascading-failures Cascading failure at 2025-06-01T11:50:00Z: 3 errors in 3 pods within 5 minutes, first in shop/db-0
                  objects: Pod/shop/db-0, Pod/shop/api-1, Pod/shop/api-2
                  note: first error at 2025-06-01T11:50:10Z in shop/db-0 (pod db-0, container app (current run)); it had no error in the window before
                  note: errors per pod: shop/api-1 1, shop/api-2 1, shop/db-0 1
                  log logs/shop/api-1/app.log:1: 2025-06-01T11:51:00Z ERROR query failed
                  log logs/shop/api-2/app.log:1: 2025-06-01T11:53:00Z ERROR query failed
                  note: 1 of the window's 3 errors is counted but not quoted: the loader counts every ERROR and FATAL line and keeps the latest of each log
                  why: 3 ERROR or FATAL lines from 3 pods fall in the 5-minute window starting 2025-06-01T11:50:00Z: the cascading failure rule (at least 3 errors from at least 2 pods). shop/db-0 failed first, at 2025-06-01T11:50:10Z, and had no error in the window before; shop/api-1, shop/api-2 followed. Pods failing together share a cause: look at what shop/db-0 provides to or shares with the others (a Service, a node, a configuration) before restarting anything.
                  $ kubectl logs db-0 -n shop -c app --tail=50
                  $ kubectl describe pod db-0 -n shop
                  $ kubectl get events -n shop --sort-by=.lastTimestamp
            "#]],
        );
    }

    /// The same window, but db-0 has recovered (Ready since 11:56): nothing is failing at the
    /// capture, so the window is one P3 finding, not a P1 failure.
    #[test]
    fn a_cascade_whose_pods_are_all_healthy_now_is_p3() {
        let recovered = PODS.replace(
            r#"status: {phase: Running, conditions: [{type: Ready, status: "False"}],
  containerStatuses: [{name: app, ready: false, restartCount: 7, state: {waiting: {reason: CrashLoopBackOff}}}]}"#,
            r#"status: {phase: Running, conditions: [{type: Ready, status: "True", lastTransitionTime: "2025-06-01T11:56:00Z"}]}"#,
        );
        assert_ne!(recovered, PODS);
        let fixture = [
            recovered,
            log("db-0", &["2025-06-01T11:50:10Z FATAL could not write WAL"]),
            log(
                "api-1",
                &["2025-06-01T11:51:00Z ERROR query failed", "2025-06-01T11:52:00Z ERROR query failed"],
            ),
        ]
        .concat();
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
                P3 cascading-failures Error bursts across pods between 2025-06-01T11:50:00Z and 2025-06-01T11:55:00Z: 1 window of cascading errors, no pod in them failing at the capture
                  objects: Pod/shop/api-1, Pod/shop/db-0
                  note: the largest: 3 errors in 2 pods in the window starting 2025-06-01T11:50:00Z, first in shop/db-0
                  log logs/shop/db-0/app.log:1: 2025-06-01T11:50:10Z FATAL could not write WAL
                  log logs/shop/api-1/app.log:1: 2025-06-01T11:51:00Z ERROR query failed
                  log logs/shop/api-1/app.log:2: 2025-06-01T11:52:00Z ERROR query failed
                  why: 1 five-minute window between 2025-06-01T11:50:00Z and 2025-06-01T11:55:00Z holds at least 3 ERROR or FATAL lines from at least 2 pods, the cascading failure rule, but no pod (or node) in them is failing at the capture: every one is Ready, Running where the bundle does not say Ready, or not in the bundle. Start-up and install windows, and the background errors of a busy cluster, look like this; the timeline keeps them.
            "#]],
        );
    }

    #[test]
    fn errors_of_one_pod_or_too_few_errors_are_no_cascade() {
        let fixture = [
            log(
                "api-1",
                &[
                    "2025-06-01T11:51:00Z ERROR a",
                    "2025-06-01T11:52:00Z ERROR b",
                    "2025-06-01T11:53:00Z ERROR c",
                ],
            ),
            log("api-2", &["2025-06-01T11:56:00Z ERROR d", "2025-06-01T11:57:00Z WARN e"]),
        ]
        .concat();
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
