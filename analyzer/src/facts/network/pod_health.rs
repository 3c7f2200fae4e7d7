//! Is a pod serving, and if not, why in a few words: what the network, storage and node
//! diagnostics say about the pods behind a Service, the DNS, the CNI or a CSI driver.

use kubesnap_shared::model::Object;

use crate::facts::containers;

/// The pod's `Ready` condition is True; a pod without conditions (some foreign bundles) counts
/// as ready when it runs and every container says ready.
pub(crate) fn is_ready(pod: &Object) -> bool {
    match pod.condition("Ready") {
        Some((status, _, _)) => status == "True",
        None => {
            let statuses = containers::statuses(pod);
            pod.str_at("/status/phase") == Some("Running")
                && statuses.iter().filter(|status| !status.init).all(|status| status.ready())
                && !statuses.is_empty()
        }
    }
}

/// The pod ended (`Succeeded`/`Failed`) or is being deleted: no longer a backend of anything.
pub(crate) fn is_gone(pod: &Object) -> bool {
    matches!(pod.str_at("/status/phase"), Some("Succeeded" | "Failed")) || pod.deleting_since().is_some()
}

/// Why a pod is not Ready, in a few words (`CrashLoopBackOff in container coredns`,
/// `Pending: Unschedulable`, `not Ready: ContainersNotReady`); `None` when it is Ready.
pub(crate) fn trouble(pod: &Object) -> Option<String> {
    if is_ready(pod) {
        return None;
    }
    let phase = pod.str_at("/status/phase").unwrap_or("Unknown");
    if phase == "Failed" {
        let reason = pod.str_at("/status/reason").unwrap_or("no reason");
        return Some(format!("Failed: {reason}"));
    }
    for status in containers::statuses(pod) {
        if let Some(reason) = status.waiting_reason().filter(|reason| *reason != "PodInitializing") {
            let init = if status.init { "init container" } else { "container" };
            let restarts = match status.restart_count() {
                0 => String::new(),
                count => format!(", {count} restarts"),
            };
            return Some(format!("{reason} in {init} {}{restarts}", status.name));
        }
    }
    if phase == "Pending" {
        return Some(match pod.condition("PodScheduled") {
            Some(("False", reason, _)) if !reason.is_empty() => format!("Pending: {reason}"),
            _ => "Pending".to_owned(),
        });
    }
    let unready: Vec<&str> = containers::statuses(pod)
        .into_iter()
        .filter(|status| !status.init && !status.ready())
        .map(|status| status.name)
        .collect();
    Some(match (pod.condition("Ready"), unready.as_slice()) {
        (_, [_, ..]) => format!("not Ready: containers {} not ready", unready.join(", ")),
        (Some((_, reason, _)), []) if !reason.is_empty() => format!("not Ready: {reason}"),
        _ => format!("not Ready ({phase})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_from_yaml;

    #[test]
    fn says_why_a_pod_does_not_serve() {
        let model = model_from_yaml(
            r#"
kind: Pod
apiVersion: v1
metadata: {name: a, namespace: x}
status:
  phase: Running
  conditions: [{type: Ready, status: "False", reason: ContainersNotReady}]
  containerStatuses: [{name: app, ready: false, restartCount: 7, state: {waiting: {reason: CrashLoopBackOff}}}]
---
kind: Pod
apiVersion: v1
metadata: {name: b, namespace: x}
status:
  phase: Pending
  conditions: [{type: PodScheduled, status: "False", reason: Unschedulable}]
---
kind: Pod
apiVersion: v1
metadata: {name: c, namespace: x}
status:
  phase: Running
  containerStatuses: [{name: app, ready: true, state: {running: {}}}]
"#,
        );
        let troubles: Vec<Option<String>> = model.of_kind("Pod").map(trouble).collect();
        assert_eq!(
            troubles,
            [
                Some("CrashLoopBackOff in container app, 7 restarts".to_owned()),
                Some("Pending: Unschedulable".to_owned()),
                None
            ]
        );
    }
}
