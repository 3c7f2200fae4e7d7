//! Rule `container-exits` (run time): a container keeps exiting, in its own last words, with
//! what the spec adds: the arguments it was given, the command the runtime could not start.
//!
//! Fires per workload (or lone pod) with a container that is crash-looping now (waiting in
//! `CrashLoopBackOff`, or its last run ended non-zero and it is not Ready), except OOM kills
//! (`memory-oom`). Its log's last words (the previous run's, else the current one's) are quoted.
//! Classes: the program rejects its arguments (`unknown command`, `unknown flag`, `flag provided
//! but not defined`, a usage text) → bad args, quoting `command`/`args` from the spec (80); the
//! runtime cannot start the command (`executable file not found`, `exec format error`,
//! `permission denied`, exit 126/127) → wrong command or image (80); otherwise the exit code and
//! its last words (65, 55 without a log). Severity from the impact.
//!
//! Disproved by: a run of the container lasting (restart count stable, Ready) in a newer
//! capture, or last words that blame something outside the container (then see
//! `dependency-down`).

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object, ObjectRef};

use super::{Context, Hypothesis, Step, clip, impact, subject_of};
use crate::facts::containers::{self, Termination};
use crate::facts::kubectl;
use crate::facts::network::pod_health;
use crate::finding::Severity;

/// Words of a program that refuses its command line.
const BAD_ARGS: &[&str] = &[
    "unknown command",
    "unknown flag",
    "unknown shorthand flag",
    "flag provided but not defined",
    "unrecognized option",
    "unrecognized arguments",
    "invalid option",
    "invalid argument",
    "no such option",
    "usage:",
];

/// Words of a runtime that cannot start the command.
const CANNOT_RUN: &[&str] =
    &["executable file not found", "exec format error", "no such file or directory", "permission denied"];

/// The last words of a container: the line that says why it died, from the previous run's log
/// (else the current run's), and the closing lines.
pub(super) fn last_words(
    model: &ClusterModel,
    pod: &Object,
    container: &str,
) -> Option<(String, Vec<String>)> {
    let namespace = pod.namespace.as_deref().unwrap_or_default();
    let words = containers::last_words(model, namespace, &pod.name, container, true)
        .filter(|words| words.cause.is_some())
        .or_else(|| containers::last_words(model, namespace, &pod.name, container, false))?;
    let cause = words.cause?.text.trim().to_owned();
    let lines = words.lines.iter().map(|line| line.text.trim().to_owned()).collect();
    Some((cause, lines))
}

/// `command` and `args` of a container in the spec, as one line.
pub(super) fn command_line(pod: &Object, container: &str) -> Option<String> {
    let spec = pod.at("/spec").and_then(|spec| containers::spec(spec, container))?;
    let words = |key: &str| -> Vec<String> {
        spec.get(key)
            .and_then(Value::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let all: Vec<String> = words("command").into_iter().chain(words("args")).collect();
    (!all.is_empty()).then(|| all.join(" "))
}

/// Which class the last words and the termination fall in, with a score.
pub(super) fn classify(last: Option<&str>, termination: Option<&Termination<'_>>) -> (&'static str, u32) {
    let words = last.unwrap_or_default().to_lowercase();
    let message = termination.map(|t| t.message.to_lowercase()).unwrap_or_default();
    let code = termination.and_then(|t| t.exit_code);
    if BAD_ARGS.iter().any(|bad| words.contains(bad)) {
        ("it rejects its arguments", 80)
    } else if CANNOT_RUN.iter().any(|bad| message.contains(bad)) || matches!(code, Some(126 | 127)) {
        ("the runtime cannot start its command", 80)
    } else if last.is_some() {
        ("it exits", 65)
    } else {
        ("it exits", 55)
    }
}

struct Crash<'a> {
    pod: &'a Object,
    container: String,
    restarts: i64,
    termination: Option<Termination<'a>>,
}

fn crashing(pod: &Object) -> Vec<Crash<'_>> {
    if pod_health::is_gone(pod) || pod_health::is_ready(pod) {
        return Vec::new();
    }
    containers::statuses(pod)
        .into_iter()
        .filter_map(|status| {
            let termination = status.last_termination().or_else(|| status.current_termination());
            let looping = status.waiting_reason() == Some("CrashLoopBackOff")
                || (status.restart_count() > 0
                    && !status.ready()
                    && termination.as_ref().is_some_and(|t| t.exit_code.is_some_and(|code| code != 0)));
            let oom = termination.as_ref().is_some_and(|t| t.reason == "OOMKilled");
            (looping && !oom).then(|| Crash {
                pod,
                container: status.name.to_owned(),
                restarts: status.restart_count(),
                termination,
            })
        })
        .collect()
}

pub(super) fn rule(context: &Context<'_, '_>) -> Vec<Hypothesis> {
    let facts = context.facts;
    let model = facts.cluster();
    let mut groups: BTreeMap<ObjectRef, Vec<Crash<'_>>> = BTreeMap::new();
    for pod in model.of_kind("Pod") {
        for crash in crashing(pod) {
            groups.entry(subject_of(facts, pod)).or_default().push(crash);
        }
    }
    groups.into_iter().map(|(subject, crashes)| hypothesis(context, &subject, &crashes)).collect()
}

fn hypothesis(context: &Context<'_, '_>, subject: &ObjectRef, crashes: &[Crash<'_>]) -> Hypothesis {
    let facts = context.facts;
    let model = facts.cluster();
    let name = crate::incident::links::label(subject);
    // The crash with last words speaks for the group.
    let (index, words) = crashes
        .iter()
        .enumerate()
        .find_map(|(i, c)| last_words(model, c.pod, &c.container).map(|words| (i, Some(words))))
        .unwrap_or((0, None));
    let crash = &crashes[index];
    let cause = words.as_ref().map(|(cause, _)| cause.as_str());
    let (class, score) = classify(cause, crash.termination.as_ref());
    let exit =
        crash.termination.as_ref().map(containers::short_exit).unwrap_or_else(|| "no exit code".to_owned());
    let args = command_line(crash.pod, &crash.container);
    let title = match (class, cause, &args) {
        ("it rejects its arguments", Some(cause), Some(args)) => {
            format!(
                "{name} (container {}) is started with arguments it rejects (`{}`): `{}`",
                crash.container,
                clip(args),
                clip(cause)
            )
        }
        ("the runtime cannot start its command", _, _) => format!(
            "{name} (container {}) cannot start its command ({exit}): `{}`",
            crash.container,
            clip(
                crash
                    .termination
                    .as_ref()
                    .map(|t| t.message)
                    .filter(|m| !m.is_empty())
                    .or(cause)
                    .unwrap_or_default()
            )
        ),
        (_, Some(cause), _) => {
            format!("{name} (container {}) keeps exiting ({exit}): `{}`", crash.container, clip(cause))
        }
        _ => format!("{name} (container {}) keeps exiting ({exit}) and left no log", crash.container),
    };
    let mut hypothesis = context.hypothesis("container-exits", title, score, Severity::P1);
    let pods: Vec<&Object> = crashes.iter().map(|c| c.pod).collect();
    hypothesis.own_severity = Some(impact(facts, &pods));
    let mut objects = vec![subject.clone()];
    for c in crashes {
        objects.push(c.pod.reference());
        let at = c.termination.as_ref().and_then(|t| t.finished_at).and_then(|at| at.parse().ok());
        let exit = c.termination.as_ref().map(containers::describe_exit).unwrap_or_default();
        hypothesis.chain.push(Step::new(
            at,
            c.pod.reference(),
            format!("container {} exited: {exit}; {} restarts", c.container, c.restarts),
        ));
    }
    if let Some(args) = &args {
        hypothesis.evidence.push(format!("container {} runs `{}`", crash.container, clip(args)));
    }
    if let Some((_, lines)) = &words {
        hypothesis.evidence.push(format!(
            "its last words: {}",
            lines.iter().map(|l| format!("`{}`", clip(l))).collect::<Vec<_>>().join(" ")
        ));
    }
    hypothesis.evidence.push(format!(
        "{class}: {} of {} pods of {name} crash",
        crashes.len(),
        facts.pods_of_workload(subject).len().max(crashes.len())
    ));
    hypothesis
        .disproved_by
        .push("a run that lasts (Ready, restart count stable) in a newer capture".to_owned());
    hypothesis.disproved_by.push("last words that blame a dependency outside the container".to_owned());
    hypothesis.findings = context.linked(
        &[
            "crash-loop-backoff",
            "application-down",
            "deployment-replicas-unavailable",
            "statefulset-replicas-unavailable",
            "daemonset-pods-unavailable",
            "pod-restarts",
            "pod-not-ready",
            "deployment-rollout-stuck",
        ],
        &objects,
    );
    hypothesis.objects = objects;
    hypothesis.mitigation.push(kubectl::logs(&crash.pod.reference(), &crash.container, true).into());
    hypothesis.mitigation.push(kubectl::describe(&crash.pod.reference()).into());
    if subject.kind != "Pod" {
        hypothesis.mitigation.push(kubectl::get_yaml(subject).into());
    }
    hypothesis
}

#[cfg(test)]
mod tests {
    use crate::incident::causes::tests::of_rule;

    fn pod(args: &str, log: &str, state: &str) -> String {
        format!(
            r#"
kind: Pod
apiVersion: v1
metadata: {{name: backup-1, namespace: ops}}
spec: {{containers: [{{name: backup, image: "backup:1", args: {args}}}]}}
status:
  phase: Running
  conditions: [{{type: Ready, status: "False"}}]
  containerStatuses:
  - {{name: backup, ready: false, restartCount: 4, state: {state},
     lastState: {{terminated: {{exitCode: 1, reason: Error, finishedAt: "2025-06-01T11:50:00Z"}}}}}}
---
kind: ContainerLog
namespace: ops
pod: backup-1
container: backup
previous: true
lines: ["{log}"]
"#
        )
    }

    #[test]
    fn a_program_that_rejects_its_arguments_is_quoted_with_them() {
        let out = of_rule(
            &pod(
                r#"["serve-x", "--features="]"#,
                r#"Error: unknown command \"serve-x\" for \"backup\""#,
                "{waiting: {reason: CrashLoopBackOff}}",
            ),
            "container-exits",
        );
        assert!(out.contains(r#"Pod ops/backup-1 (container backup) is started with arguments it rejects (`serve-x --features=`): `Error: unknown command "serve-x" for "backup"`"#), "{out}");
    }

    #[test]
    fn a_container_running_again_and_ready_is_no_cause() {
        let out = of_rule(
            &pod("[serve]", "bye", "{running: {}}")
                .replace(
                    r#"conditions: [{type: Ready, status: "False"}]"#,
                    r#"conditions: [{type: Ready, status: "True"}]"#,
                )
                .replace("ready: false", "ready: true"),
            "container-exits",
        );
        assert_eq!(out, "");
    }
}
