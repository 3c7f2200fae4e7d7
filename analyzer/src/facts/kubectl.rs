//! The kubectl commands findings recommend, built from object references.
//!
//! Names come from the bundle, and a foreign bundle may be crafted: every word is shell-quoted
//! unless it is plainly safe, so a command copied from a report never runs more than kubectl.

use kubesnap_shared::model::ObjectRef;

/// `kubectl describe <kind> <name> -n <namespace>`.
pub(crate) fn describe(object: &ObjectRef) -> String {
    format!("kubectl describe {} {}{}", resource(&object.kind), word(&object.name), namespace_flag(object))
}

/// `kubectl get <kind> <name> -n <namespace> -o yaml`.
pub(crate) fn get_yaml(object: &ObjectRef) -> String {
    format!("kubectl get {} {}{} -o yaml", resource(&object.kind), word(&object.name), namespace_flag(object))
}

/// `kubectl logs <pod> -n <namespace> -c <container> [--previous] --tail=<n>`.
pub(crate) fn logs(pod: &ObjectRef, container: &str, previous: bool) -> String {
    let previous = if previous { " --previous" } else { "" };
    format!(
        "kubectl logs {}{} -c {}{previous} --tail=50",
        word(&pod.name),
        namespace_flag(pod),
        word(container)
    )
}

/// `kubectl get events -n <namespace> --field-selector involvedObject.name=<name>`.
pub(crate) fn events(object: &ObjectRef) -> String {
    format!(
        "kubectl get events{} --field-selector {} --sort-by=.lastTimestamp",
        namespace_flag(object),
        word(&format!("involvedObject.name={}", object.name))
    )
}

/// `kubectl rollout <verb> <kind>/<name> -n <namespace>` (`restart`, `undo`, `status`, `history`).
pub(crate) fn rollout(verb: &str, workload: &ObjectRef) -> String {
    format!("kubectl rollout {verb} {}{}", slash_name(workload), namespace_flag(workload))
}

/// `kubectl <verb> <kind>/<name> -n <namespace> <rest>`: any other command on one object.
pub(crate) fn on(verb: &str, object: &ObjectRef, rest: &str) -> String {
    let rest = if rest.is_empty() { String::new() } else { format!(" {rest}") };
    format!("kubectl {verb} {}{}{rest}", slash_name(object), namespace_flag(object))
}

/// `<kind>/<name>` as kubectl spells it (`deployment/api`).
pub(crate) fn slash_name(object: &ObjectRef) -> String {
    word(&format!("{}/{}", resource(&object.kind), object.name))
}

/// ` -n <namespace>`, or nothing for a cluster-scoped object.
pub(crate) fn namespace_flag(object: &ObjectRef) -> String {
    match &object.namespace {
        Some(namespace) => format!(" -n {}", word(namespace)),
        None => String::new(),
    }
}

/// The resource name kubectl accepts for a kind: its lower-case singular.
pub(crate) fn resource(kind: &str) -> String {
    kind.to_ascii_lowercase()
}

/// A shell word: as is when it holds only safe characters, single-quoted otherwise.
pub(crate) fn word(text: &str) -> String {
    let safe = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '=' | ','));
    if safe { text.to_owned() } else { format!("'{}'", text.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str) -> ObjectRef {
        ObjectRef { kind: "Pod".into(), namespace: Some("shop".into()), name: name.into() }
    }

    #[test]
    fn builds_commands_for_namespaced_and_cluster_objects() {
        assert_eq!(describe(&pod("api-1")), "kubectl describe pod api-1 -n shop");
        assert_eq!(
            logs(&pod("api-1"), "app", true),
            "kubectl logs api-1 -n shop -c app --previous --tail=50"
        );
        let node = ObjectRef { kind: "Node".into(), namespace: None, name: "n1".into() };
        assert_eq!(describe(&node), "kubectl describe node n1");
        let deployment =
            ObjectRef { kind: "Deployment".into(), namespace: Some("shop".into()), name: "api".into() };
        assert_eq!(rollout("undo", &deployment), "kubectl rollout undo deployment/api -n shop");
    }

    #[test]
    fn quotes_names_a_crafted_bundle_could_hold() {
        assert_eq!(describe(&pod("x; rm -rf ~")), "kubectl describe pod 'x; rm -rf ~' -n shop");
        assert_eq!(word("it's"), r"'it'\''s'");
        assert_eq!(word(""), "''");
    }
}
