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
///
/// Quoting keeps `$(…)`, backticks, quotes and `;` inert, but not two things a crafted bundle
/// could hold and a real cluster never does (every Kubernetes name starts with a letter or a
/// digit and is ASCII): a leading `-`, which kubectl reads as a flag however it is quoted, and
/// control or non-ASCII characters (a newline that splits a pasted command, a look-alike letter
/// that names another object). Such a text is refused: the word says so and cannot be a flag.
pub(crate) fn word(text: &str) -> String {
    if refused(text) {
        return quote(&format!("<refused: \"{}\" is not a Kubernetes name>", text.escape_default()));
    }
    let safe = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '=' | ','));
    if safe { text.to_owned() } else { quote(text) }
}

/// Whether a name from the bundle can only have been crafted (see [`word`]).
pub(crate) fn refused(text: &str) -> bool {
    text.starts_with('-') || text.chars().any(|c| c.is_control() || !c.is_ascii())
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
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

    /// Every builder, with every hostile name in every place a name goes, parsed by a real
    /// shell: each name stays one argument, never reads as a flag, and nothing it holds runs.
    #[test]
    fn hostile_names_stay_one_inert_argument_in_a_real_shell() {
        let dir = tempfile::tempdir().unwrap();
        let canary = dir.path().join("ran");
        let touch = format!("touch {}", canary.display());
        let hostile = [
            "-rf".to_owned(),
            "--all-namespaces".to_owned(),
            format!("$({touch})"),
            format!("`{touch}`"),
            format!("x'; {touch}; echo '"),
            format!("x\"; {touch}; echo \""),
            "two\nlines".to_owned(),
            "kube\u{2010}system".to_owned(), // a Unicode hyphen that looks like '-'
            "\u{430}pi".to_owned(),          // a Cyrillic a
            "a b\tc".to_owned(),
            "x;y|z&w>v<u".to_owned(),
        ];
        for name in &hostile {
            let object =
                ObjectRef { kind: "Deployment".into(), namespace: Some(name.clone()), name: name.clone() };
            let node = ObjectRef { kind: "Node".into(), namespace: None, name: name.clone() };
            let commands = [
                describe(&object),
                get_yaml(&object),
                logs(&object, name, true),
                events(&object),
                rollout("restart", &object),
                on("scale", &object, "--replicas=1"),
                describe(&node),
                format!("kubectl cordon {}", word(&node.name)),
            ];
            for command in commands {
                let args = shell_words(&command);
                // Control and non-ASCII characters are refused wherever they are; a leading `-`
                // only where it would start an argument.
                let inert = !name.chars().any(|c| c.is_control() || !c.is_ascii());
                let refusal = args.iter().any(|arg| arg.starts_with("<refused"));
                for arg in &args {
                    let named = arg.contains(name.as_str()) || arg.starts_with("<refused");
                    assert!(!(arg.starts_with('-') && named), "{command:?}: {arg:?} reads as a flag");
                    assert!(inert || !arg.contains(name.as_str()), "{command:?} passes {name:?}: {args:?}");
                }
                let holds = args.iter().any(|arg| arg.contains(name.as_str()));
                assert!(holds || refusal, "{command:?} lost the name {name:?}: {args:?}");
                assert!(inert || refusal, "{command:?} does not say why {name:?} is gone: {args:?}");
            }
        }
        assert!(!canary.exists(), "a name ran a command");
    }

    /// The arguments bash gives `kubectl` for a command line (the real kubectl is never run).
    fn shell_words(command: &str) -> Vec<String> {
        let script = format!("kubectl() {{ printf '%s\\0' \"$@\"; }}\n{command}\n");
        let output = std::process::Command::new("bash").arg("-c").arg(script).output().unwrap();
        assert!(output.status.success(), "{command:?}: {}", String::from_utf8_lossy(&output.stderr));
        let stdout = String::from_utf8(output.stdout).unwrap();
        stdout.split_terminator('\0').map(str::to_owned).collect()
    }
}
