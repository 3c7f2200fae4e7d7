//! Container statuses and specs of a pod, read from its raw JSON: what the pod diagnostics ask
//! of every container (waiting reason, last termination, restarts, readiness).

use std::sync::LazyLock;

use jiff::Timestamp;
use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, ContainerLog, LogLine, Object};
use regex::Regex;

use crate::facts::performance::usage::minutes_between;

/// One entry of `status.containerStatuses` (or `initContainerStatuses`), with its JSON pointer
/// for evidence.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContainerStatus<'a> {
    pub(crate) name: &'a str,
    pub(crate) init: bool,
    /// `/status/containerStatuses/0`.
    pointer_base: &'static str,
    index: usize,
    raw: &'a Value,
}

/// How a container run ended (`state.terminated` or `lastState.terminated`).
#[derive(Debug, Clone)]
pub(crate) struct Termination<'a> {
    pub(crate) exit_code: Option<i64>,
    pub(crate) reason: &'a str,
    pub(crate) message: &'a str,
    pub(crate) finished_at: Option<&'a str>,
    /// The JSON pointer of the `terminated` object.
    pub(crate) pointer: String,
}

impl<'a> ContainerStatus<'a> {
    /// The JSON pointer of a field of this status (`state/waiting/reason`).
    pub(crate) fn pointer(&self, field: &str) -> String {
        format!("{}/{}/{field}", self.pointer_base, self.index)
    }

    fn text(&self, pointer: &str) -> Option<&'a str> {
        self.raw.pointer(pointer).and_then(Value::as_str)
    }

    /// `state.waiting.reason` (`CrashLoopBackOff`, `ImagePullBackOff`, ...).
    pub(crate) fn waiting_reason(&self) -> Option<&'a str> {
        self.text("/state/waiting/reason")
    }

    pub(crate) fn waiting_message(&self) -> Option<&'a str> {
        self.text("/state/waiting/message")
    }

    pub(crate) fn restart_count(&self) -> i64 {
        self.raw.get("restartCount").and_then(Value::as_i64).unwrap_or(0)
    }

    pub(crate) fn ready(&self) -> bool {
        self.raw.get("ready").and_then(Value::as_bool).unwrap_or(false)
    }

    pub(crate) fn running(&self) -> bool {
        self.raw.pointer("/state/running").is_some()
    }

    /// `state.running.startedAt`: when the current run began.
    pub(crate) fn started_at(&self) -> Option<Timestamp> {
        self.text("/state/running/startedAt")?.parse().ok()
    }

    /// Whether every restart of this container is history at `now`: it runs and is ready, and
    /// its current run began at least [`STABLE_MINUTES`] before `now` (the start of the current
    /// run, else the end of the previous one). A container with no restart has no history.
    pub(crate) fn restarts_are_history(&self, now: Timestamp) -> bool {
        if self.restart_count() == 0 || !self.running() || !self.ready() {
            return false;
        }
        let since = self.started_at().or_else(|| {
            self.last_termination().and_then(|last| last.finished_at).and_then(|at| at.parse().ok())
        });
        since.is_some_and(|since| minutes_between(since, now) >= STABLE_MINUTES)
    }

    pub(crate) fn image(&self) -> Option<&'a str> {
        self.text("/image")
    }

    /// How the previous run ended.
    pub(crate) fn last_termination(&self) -> Option<Termination<'a>> {
        self.termination("lastState")
    }

    /// How the current run ended, when the container is terminated now.
    pub(crate) fn current_termination(&self) -> Option<Termination<'a>> {
        self.termination("state")
    }

    fn termination(&self, state: &str) -> Option<Termination<'a>> {
        let terminated = self.raw.get(state)?.get("terminated")?;
        let text = |key: &str| terminated.get(key).and_then(Value::as_str);
        Some(Termination {
            exit_code: terminated.get("exitCode").and_then(Value::as_i64),
            reason: text("reason").unwrap_or_default(),
            message: text("message").unwrap_or_default(),
            finished_at: text("finishedAt"),
            pointer: self.pointer(&format!("{state}/terminated")),
        })
    }
}

/// How long a container must have run since its last restart for its restarts to be history:
/// the kubelet resets a container's crash back-off after it has run 10 minutes.
pub(crate) const STABLE_MINUTES: f64 = 10.0;

/// The statuses of the pod's init containers then its containers, in spec order.
pub(crate) fn statuses(pod: &Object) -> Vec<ContainerStatus<'_>> {
    let mut out = Vec::new();
    for (pointer_base, init) in
        [("/status/initContainerStatuses", true), ("/status/containerStatuses", false)]
    {
        for (index, raw) in pod.array_at(pointer_base).iter().enumerate() {
            let name = raw.get("name").and_then(Value::as_str).unwrap_or_default();
            out.push(ContainerStatus { name, init, pointer_base, index, raw });
        }
    }
    out
}

/// The spec of one container (or init container) by name.
pub(crate) fn spec<'a>(pod_spec: &'a Value, name: &str) -> Option<&'a Value> {
    ["containers", "initContainers"].iter().find_map(|list| {
        pod_spec
            .get(list)?
            .as_array()?
            .iter()
            .find(|container| container.get("name").and_then(Value::as_str) == Some(name))
    })
}

/// A security context field as the container gets it: its own `securityContext`, else the
/// pod's (only some fields exist at both levels; the others are container-only).
pub(crate) fn security_field<'a>(
    pod_spec: &'a Value,
    container: &'a Value,
    field: &str,
) -> Option<&'a Value> {
    container
        .pointer(&format!("/securityContext/{field}"))
        .or_else(|| pod_spec.pointer(&format!("/securityContext/{field}")))
}

/// Namespaces of the cluster's own components, where privileged and host-level pods are the
/// norm (CNI, CSI, kube-proxy) rather than a risk someone took by accident: the platform
/// namespaces of [`platform::is_platform_namespace`](super::platform::is_platform_namespace).
pub(crate) fn is_system_namespace(namespace: Option<&str>) -> bool {
    namespace.is_some_and(super::platform::is_platform_namespace)
}

/// What an exit code usually means, for explanations.
pub(crate) fn exit_code_meaning(code: i64) -> Option<&'static str> {
    Some(match code {
        0 => "exited successfully (a container that must keep running returned)",
        1 => "application error",
        2 => "misuse of a shell builtin or a bad argument",
        126 => "the command cannot be executed (permissions)",
        127 => "the command was not found in the image",
        128 => "invalid exit argument",
        134 => "aborted (SIGABRT)",
        137 => "killed by SIGKILL (out of memory, or killed after the grace period)",
        139 => "segmentation fault (SIGSEGV)",
        143 => "terminated by SIGTERM",
        _ => return None,
    })
}

/// `Error, exit code 1` or `exit code 3`: the short form for titles.
pub(crate) fn short_exit(termination: &Termination<'_>) -> String {
    match (termination.reason, termination.exit_code) {
        ("", Some(code)) => format!("exit code {code}"),
        ("", None) => "no exit code".to_owned(),
        (reason, Some(code)) => format!("{reason}, exit code {code}"),
        (reason, None) => reason.to_owned(),
    }
}

/// `OOMKilled (exit code 137: killed by SIGKILL ...)`, or `exit code 3`.
pub(crate) fn describe_exit(termination: &Termination<'_>) -> String {
    let code = match termination.exit_code {
        Some(code) => match exit_code_meaning(code) {
            Some(meaning) => format!("exit code {code}: {meaning}"),
            None => format!("exit code {code}"),
        },
        None => "no exit code".to_owned(),
    };
    if termination.reason.is_empty() { code } else { format!("{} ({code})", termination.reason) }
}

/// Words that mark the line a crashing program dies on.
static CRASH_WORDS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(panic|panicked|fatal|error|exception|traceback|segmentation fault|killed|failed|refused|denied|cannot|unable|no such file|not found|exit)",
    )
    .ok()
});

/// The last words of a container's run: the log (previous run when `previous`), the line that
/// most likely says why it died (the last one holding an error word, else the last line), and
/// the last few lines, in file order, without repeats.
#[derive(Debug)]
pub(crate) struct LastWords<'a> {
    pub(crate) log: &'a ContainerLog,
    pub(crate) cause: Option<&'a LogLine>,
    pub(crate) lines: Vec<&'a LogLine>,
}

/// How many closing lines of a log a finding quotes.
const CLOSING_LINES: usize = 3;

pub(crate) fn last_words<'a>(
    model: &'a ClusterModel,
    namespace: &str,
    pod: &str,
    container: &str,
    previous: bool,
) -> Option<LastWords<'a>> {
    let log = model.log(namespace, pod, container, previous)?;
    let nonblank: Vec<&LogLine> = log.tail.iter().filter(|line| !line.text.trim().is_empty()).collect();
    let cause = nonblank
        .iter()
        .rev()
        .find(|line| CRASH_WORDS.as_ref().is_some_and(|words| words.is_match(&line.text)))
        .or(nonblank.last())
        .copied();
    let mut lines: Vec<&LogLine> = nonblank.iter().rev().take(CLOSING_LINES).copied().collect();
    if let Some(cause) = cause.filter(|cause| !lines.iter().any(|line| line.line == cause.line)) {
        lines.push(cause);
    }
    lines.sort_by_key(|line| line.line);
    Some(LastWords { log, cause, lines })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_statuses_in_spec_order_with_pointers() {
        let raw = json!({
            "metadata": {"name": "p", "namespace": "n"}, "kind": "Pod",
            "status": {
                "initContainerStatuses": [{"name": "init", "restartCount": 0}],
                "containerStatuses": [
                    {"name": "app", "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                     "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}
                ]
            }
        });
        let pod = Object::from_value(raw, None, None, "x").unwrap();
        let statuses = statuses(&pod);
        assert_eq!(statuses.len(), 2);
        assert!(statuses[0].init);
        let app = statuses[1];
        assert_eq!(app.waiting_reason(), Some("CrashLoopBackOff"));
        assert_eq!(app.pointer("restartCount"), "/status/containerStatuses/0/restartCount");
        let last = app.last_termination().unwrap();
        assert_eq!(last.pointer, "/status/containerStatuses/0/lastState/terminated");
        assert!(!app.restarts_are_history("2025-06-01T12:00:00Z".parse().unwrap()));
        assert_eq!(
            describe_exit(&last),
            "OOMKilled (exit code 137: killed by SIGKILL (out of memory, or killed after the grace period))"
        );
    }

    #[test]
    fn restarts_are_history_once_the_container_has_run_ten_minutes_ready() {
        let pod = |state: serde_json::Value, ready: bool| {
            let raw = json!({
                "metadata": {"name": "p", "namespace": "n"}, "kind": "Pod",
                "status": {"containerStatuses": [{"name": "app", "restartCount": 7, "ready": ready, "state": state,
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2025-06-01T09:00:00Z"}}}]}
            });
            Object::from_value(raw, None, None, "x").unwrap()
        };
        let now: Timestamp = "2025-06-01T12:00:00Z".parse().unwrap();
        let long_ago = pod(json!({"running": {"startedAt": "2025-06-01T09:00:05Z"}}), true);
        assert!(statuses(&long_ago)[0].restarts_are_history(now));
        // Started five minutes before the capture: the back-off is not over yet.
        let recent = pod(json!({"running": {"startedAt": "2025-06-01T11:55:00Z"}}), true);
        assert!(!statuses(&recent)[0].restarts_are_history(now));
        // Running but not ready, or waiting: not history.
        assert!(
            !statuses(&pod(json!({"running": {"startedAt": "2025-06-01T09:00:05Z"}}), false))[0]
                .restarts_are_history(now)
        );
        assert!(
            !statuses(&pod(json!({"waiting": {"reason": "CrashLoopBackOff"}}), false))[0]
                .restarts_are_history(now)
        );
        // Without startedAt, the end of the previous run stands for the start of this one.
        assert!(statuses(&pod(json!({"running": {}}), true))[0].restarts_are_history(now));
    }
}
