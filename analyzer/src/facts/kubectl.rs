//! The kubectl commands findings recommend: every one is a [`Kubectl`], built word by word.
//!
//! Names come from the bundle, and a foreign bundle may be crafted. The analyzer's own words
//! (verbs, resources, flags, pipes) are `&'static str`; every other word is a value and is
//! shell-quoted unless it is plainly safe, so a command copied from a report never runs more
//! than kubectl. A value no cluster can hold refuses the whole command: it is printed as a shell
//! comment that says why, so pasting it runs nothing (`tests/tests/tidy.rs` keeps hand-built
//! `"kubectl …"` strings out of the analyzer).

use std::fmt;

use kubesnap_shared::model::ObjectRef;

/// One kubectl command line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub(crate) struct Kubectl {
    line: String,
    /// The first value refused, and why.
    refused: Option<String>,
}

impl Kubectl {
    /// `kubectl <words>`: the analyzer's own words (a verb, a resource, flags).
    pub(crate) fn new(words: &'static str) -> Kubectl {
        Kubectl { line: format!("kubectl {words}"), refused: None }
    }

    /// A command of another program (`docker manifest inspect`), built the same way.
    pub(crate) fn program(words: &'static str) -> Kubectl {
        Kubectl { line: words.to_owned(), refused: None }
    }

    /// More of the analyzer's own words (flags, a pipe), after a space.
    pub(crate) fn arg(mut self, words: &'static str) -> Kubectl {
        self.line.push(' ');
        self.line.push_str(words);
        self
    }

    /// The analyzer's own text right after the command, without a space (`   # a comment`).
    pub(crate) fn then(mut self, text: &'static str) -> Kubectl {
        self.line.push_str(text);
        self
    }

    /// One word that is a value: from the bundle (a name, a namespace, a selector), or computed
    /// (a size, a JSON patch).
    pub(crate) fn name(self, value: &str) -> Kubectl {
        self.joined("", value)
    }

    /// One word: the analyzer's `prefix` and a value (`job/` and a name,
    /// `--field-selector=spec.nodeName=` and a node); only the value is quoted.
    pub(crate) fn joined(mut self, prefix: &'static str, value: &str) -> Kubectl {
        if self.refused.is_none()
            && let Some(why) = refusal(value, prefix.is_empty())
        {
            self.refused = Some(why);
        }
        self.line.push(' ');
        self.line.push_str(prefix);
        self.line.push_str(&word(value));
        self
    }

    /// `-n <namespace>`.
    pub(crate) fn namespace(self, namespace: &str) -> Kubectl {
        self.arg("-n").name(namespace)
    }

    /// `-n <namespace>` for a namespaced object, nothing for a cluster-scoped one.
    pub(crate) fn namespace_of(self, object: &ObjectRef) -> Kubectl {
        match &object.namespace {
            Some(namespace) => self.namespace(namespace),
            None => self,
        }
    }

    /// The resource kubectl names a kind by: its lower-case singular.
    pub(crate) fn resource(self, kind: &str) -> Kubectl {
        self.name(&kind.to_ascii_lowercase())
    }

    /// `<resource> <name>`.
    pub(crate) fn object(self, object: &ObjectRef) -> Kubectl {
        self.resource(&object.kind).name(&object.name)
    }

    /// `<resource>/<name>` (`deployment/api`).
    pub(crate) fn slash(self, object: &ObjectRef) -> Kubectl {
        self.name(&format!("{}/{}", object.kind.to_ascii_lowercase(), object.name))
    }

    /// Whether a value refused the command.
    #[cfg(test)]
    pub(crate) fn is_refused(&self) -> bool {
        self.refused.is_some()
    }
}

impl fmt::Display for Kubectl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.refused {
            None => f.write_str(&self.line),
            Some(why) => {
                let verb: Vec<&str> = self.line.split(' ').take(2).collect();
                write!(f, "# {} …: not run, {why}", verb.join(" "))
            }
        }
    }
}

impl From<Kubectl> for String {
    fn from(command: Kubectl) -> String {
        command.to_string()
    }
}

/// `kubectl describe <kind> <name> -n <namespace>`.
pub(crate) fn describe(object: &ObjectRef) -> Kubectl {
    Kubectl::new("describe").object(object).namespace_of(object)
}

/// `kubectl get <kind> <name> -n <namespace> -o yaml`.
pub(crate) fn get_yaml(object: &ObjectRef) -> Kubectl {
    Kubectl::new("get").object(object).namespace_of(object).arg("-o yaml")
}

/// `kubectl logs <pod> -n <namespace> -c <container> [--previous] --tail=<n>`.
pub(crate) fn logs(pod: &ObjectRef, container: &str, previous: bool) -> Kubectl {
    let command = Kubectl::new("logs").name(&pod.name).namespace_of(pod).arg("-c").name(container);
    let command = if previous { command.arg("--previous") } else { command };
    command.arg("--tail=50")
}

/// `kubectl get events -n <namespace> --field-selector involvedObject.name=<name>`.
pub(crate) fn events(object: &ObjectRef) -> Kubectl {
    Kubectl::new("get events")
        .namespace_of(object)
        .arg("--field-selector")
        .joined("involvedObject.name=", &object.name)
        .arg("--sort-by=.lastTimestamp")
}

/// `kubectl rollout <verb> <kind>/<name> -n <namespace>` (`restart`, `undo`, `status`, `history`).
pub(crate) fn rollout(verb: &'static str, workload: &ObjectRef) -> Kubectl {
    Kubectl::new("rollout").arg(verb).slash(workload).namespace_of(workload)
}

/// `kubectl <verb> <kind>/<name> -n <namespace>`: any other command on one object, to go on
/// with more words.
pub(crate) fn on(verb: &'static str, object: &ObjectRef) -> Kubectl {
    Kubectl::new(verb).slash(object).namespace_of(object)
}

/// Why a value cannot be in a command, if it cannot.
///
/// Quoting keeps `$(…)`, backticks, quotes and `;` inert, but not two things a crafted bundle
/// could hold and a real cluster never does (every Kubernetes name starts with a letter or a
/// digit and is ASCII): a leading `-` where a word starts, which kubectl reads as a flag however
/// it is quoted, and control or non-ASCII characters (a newline that splits a pasted command, a
/// look-alike letter that names another object).
fn refusal(value: &str, starts_word: bool) -> Option<String> {
    let crafted =
        (starts_word && value.starts_with('-')) || value.chars().any(|c| c.is_control() || !c.is_ascii());
    crafted.then(|| format!("\"{}\" is not a Kubernetes name", value.escape_default()))
}

/// A shell word: as is when it holds only safe characters, single-quoted otherwise.
fn word(text: &str) -> String {
    let safe = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '=' | ','));
    if safe { text.to_owned() } else { format!("'{}'", text.replace('\'', r"'\''")) }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn pod(name: &str) -> ObjectRef {
        ObjectRef { kind: "Pod".into(), namespace: Some("shop".into()), name: name.into() }
    }

    #[test]
    fn builds_commands_for_namespaced_and_cluster_objects() {
        assert_eq!(describe(&pod("api-1")).to_string(), "kubectl describe pod api-1 -n shop");
        assert_eq!(
            logs(&pod("api-1"), "app", true).to_string(),
            "kubectl logs api-1 -n shop -c app --previous --tail=50"
        );
        let node = ObjectRef { kind: "Node".into(), namespace: None, name: "n1".into() };
        assert_eq!(describe(&node).to_string(), "kubectl describe node n1");
        let deployment =
            ObjectRef { kind: "Deployment".into(), namespace: Some("shop".into()), name: "api".into() };
        assert_eq!(rollout("undo", &deployment).to_string(), "kubectl rollout undo deployment/api -n shop");
        assert_eq!(
            Kubectl::new("get pods -A --field-selector")
                .joined("spec.nodeName=", "n1")
                .then(",x=y")
                .to_string(),
            "kubectl get pods -A --field-selector spec.nodeName=n1,x=y"
        );
    }

    #[test]
    fn quotes_names_a_crafted_bundle_could_hold() {
        assert_eq!(describe(&pod("x; rm -rf ~")).to_string(), "kubectl describe pod 'x; rm -rf ~' -n shop");
        assert_eq!(word("it's"), r"'it'\''s'");
        assert_eq!(word(""), "''");
        assert_eq!(
            Kubectl::new("get events").joined("involvedObject.name=", "a b").to_string(),
            "kubectl get events involvedObject.name='a b'"
        );
    }

    #[test]
    fn a_name_no_cluster_can_hold_refuses_the_command_and_says_why() {
        let refused = describe(&pod("-rf"));
        assert!(refused.is_refused());
        assert_eq!(refused.to_string(), r#"# kubectl describe …: not run, "-rf" is not a Kubernetes name"#);
        let refused = Kubectl::new("logs").name("two\nlines").arg("--tail=50");
        assert_eq!(
            refused.to_string(),
            r#"# kubectl logs …: not run, "two\nlines" is not a Kubernetes name"#
        );
        // A leading `-` after a prefix is no flag.
        assert!(!Kubectl::new("get events").joined("involvedObject.name=", "-x").is_refused());
    }

    /// Names a crafted bundle could hold, each with the text that proves it was split or run.
    pub(crate) const HOSTILE: [&str; 11] = [
        "-rf",
        "--all-namespaces",
        "$(kubesnap_ran)",
        "`kubesnap_ran`",
        "x'; kubesnap_ran; echo '",
        "x\"; kubesnap_ran; echo \"",
        "two\nlines",
        "kube\u{2010}system", // a Unicode hyphen that looks like '-'
        "\u{430}pi",          // a Cyrillic a
        "a b\tc",
        "x;y|z&w>v<u",
    ];

    /// Every builder, with every hostile name in every place a name goes, parsed by a real
    /// shell: each name stays one argument, never reads as a flag, and nothing it holds runs.
    #[test]
    fn hostile_names_stay_one_inert_argument_in_a_real_shell() {
        for name in HOSTILE {
            let object =
                ObjectRef { kind: "Deployment".into(), namespace: Some(name.into()), name: name.into() };
            let node = ObjectRef { kind: "Node".into(), namespace: None, name: name.into() };
            let commands = [
                describe(&object),
                get_yaml(&object),
                logs(&object, name, true),
                events(&object),
                rollout("restart", &object),
                on("scale", &object).arg("--replicas=1"),
                describe(&node),
                Kubectl::new("cordon").name(&node.name),
                Kubectl::new("get pods -A --field-selector").joined("spec.nodeName=", name).then(",x=y"),
                Kubectl::new("apply -f -").joined("<<<", name),
            ];
            for command in commands {
                assert_safe_in_a_shell(&command.to_string(), &[name]);
            }
        }
    }

    /// The commands bash runs for `line` (the real kubectl never runs: nothing is on `PATH`),
    /// each as its arguments.
    pub(crate) fn shell_runs(line: &str) -> Vec<Vec<String>> {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("ran");
        let script = format!(
            "command_not_found_handle() {{ printf '%s\\0' \"$@\" >> {record:?}; printf '\\n' >> {record:?}; return 0; }}\n{line}\n",
        );
        let output = std::process::Command::new("/bin/bash")
            .arg("--norc")
            .arg("-c")
            .arg(script)
            .env("PATH", dir.path())
            .current_dir(dir.path())
            .output()
            .unwrap();
        let _ = output;
        let ran = std::fs::read(&record).unwrap_or_default();
        ran.split(|&byte| byte == b'\n')
            .filter(|record| !record.is_empty())
            .map(|record| {
                record
                    .split(|&byte| byte == 0)
                    .filter(|arg| !arg.is_empty())
                    .map(|arg| String::from_utf8_lossy(arg).into_owned())
                    .collect()
            })
            .collect()
    }

    /// `line` is safe to paste whatever `names` it was built from: bash runs nothing but
    /// kubectl (and the pipes the analyzer wrote), nothing a name holds, and every name is one
    /// whole argument that does not read as a flag; a refused command runs nothing at all.
    pub(crate) fn assert_safe_in_a_shell(line: &str, names: &[&str]) {
        let runs = shell_runs(line);
        if line.starts_with("# ") {
            assert!(runs.is_empty() && !line.contains('\n'), "a refused command ran: {line:?} {runs:?}");
            return;
        }
        assert!(!runs.is_empty() || line.contains('<'), "bash ran nothing for {line:?}");
        for run in &runs {
            assert!(!run[0].contains("kubesnap_ran"), "a name ran a command: {line:?} {runs:?}");
            for name in names {
                let marker = name.contains("kubesnap_ran").then_some("kubesnap_ran");
                for arg in &run[1..] {
                    if let Some(marker) = marker
                        && arg.contains(marker)
                    {
                        // Whole, or whole inside a JSON string of a patch.
                        let json = serde_json::to_string(name).unwrap();
                        let whole = arg.contains(name) || arg.contains(&json[1..json.len() - 1]);
                        assert!(whole, "{name:?} split in {line:?}: {run:?}");
                    }
                    assert!(
                        !(name.starts_with('-') && arg.starts_with(name)),
                        "{name:?} reads as a flag in {line:?}"
                    );
                    let crafted = name.chars().any(|c| c.is_control() || !c.is_ascii());
                    assert!(!(crafted && arg.contains(name)), "{name:?} passed in {line:?}");
                }
            }
        }
    }
}
