//! Terminal transcripts: `$ kubectl get pods -n shop` (or `user@host:~$ …`, or `+ kubectl …`
//! as `bash -x` prints it) followed by what the command printed, up to the next prompt. The
//! command says what its output is (the kind described, the pod and container a log is of,
//! the namespace a table without a NAMESPACE column lists). Text without any prompt is one
//! section without a command, read by its content alone.

/// A kubectl command line, as far as reading its output needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Command {
    /// `get`, `describe`, `logs`, `top`, `events`...
    pub verb: String,
    /// The resource word (`pods`, `deploy`, `pod/web-1`'s `pod`), when one is given.
    pub resource: Option<String>,
    /// The names after the resource (`logs`: the pod, then maybe the container).
    pub names: Vec<String>,
    /// `-n` / `--namespace`.
    pub namespace: Option<String>,
    /// `-c` / `--container`.
    pub container: Option<String>,
    /// `-p` / `--previous`.
    pub previous: bool,
}

impl Command {
    /// The kind the command's resource word names (`po`, `pods`, `pod/x` → `Pod`).
    pub fn kind(&self) -> Option<&'static str> {
        let resource = self.resource.as_deref()?;
        let resource = resource.split(['/', ',']).next()?.split('.').next()?;
        Some(match resource {
            "po" | "pod" | "pods" => "Pod",
            "no" | "node" | "nodes" => "Node",
            "svc" | "service" | "services" => "Service",
            "deploy" | "deployment" | "deployments" => "Deployment",
            "rs" | "replicaset" | "replicasets" => "ReplicaSet",
            "ds" | "daemonset" | "daemonsets" => "DaemonSet",
            "sts" | "statefulset" | "statefulsets" => "StatefulSet",
            "ns" | "namespace" | "namespaces" => "Namespace",
            "ev" | "event" | "events" => "Event",
            "pvc" | "persistentvolumeclaim" | "persistentvolumeclaims" => "PersistentVolumeClaim",
            "pv" | "persistentvolume" | "persistentvolumes" => "PersistentVolume",
            "job" | "jobs" => "Job",
            "cj" | "cronjob" | "cronjobs" => "CronJob",
            "ing" | "ingress" | "ingresses" => "Ingress",
            "cm" | "configmap" | "configmaps" => "ConfigMap",
            "sa" | "serviceaccount" | "serviceaccounts" => "ServiceAccount",
            _ => return None,
        })
    }
}

/// One command's output (or, without a command, text read by its content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section<'a> {
    pub command: Option<Command>,
    pub body: &'a str,
    /// Byte offset of `body` in the text.
    pub start: usize,
}

/// What a prompt line runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Prompt {
    Kubectl(Command),
    /// Another program: ends the output of the command before it.
    Other,
}

/// Flags that take a value as the next word (`-n shop`).
const VALUED: &[&str] = &[
    "-n",
    "--namespace",
    "-c",
    "--container",
    "-o",
    "--output",
    "-l",
    "--selector",
    "--field-selector",
    "--sort-by",
    "--tail",
    "--since",
    "--since-time",
    "--context",
    "--kubeconfig",
    "--cluster",
    "--user",
    "-f",
    "--filename",
    "--template",
    "-L",
    "--label-columns",
    "--request-timeout",
    "-s",
    "--server",
    "--as",
];

/// The command a prompt line runs, if the line is a prompt: `$ cmd`, `host:~$ cmd`,
/// `root@host:/# cmd`, `+ cmd` (`bash -x`), or a bare `kubectl <verb> …`.
pub(super) fn prompt(line: &str) -> Option<Prompt> {
    let trimmed = line.trim_start();
    let command = if let Some(rest) = trimmed.strip_prefix('+') {
        // `bash -x`: one `+` per level of nesting, then a space.
        let rest = rest.trim_start_matches('+');
        rest.strip_prefix(' ')?
    } else if let Some(rest) = trimmed.strip_prefix("$ ") {
        rest
    } else if trimmed.starts_with("kubectl ") {
        trimmed
    } else {
        // `user@host:~/dir$ cmd`, `root@host:/# cmd`: a word ending in `$`, `#` or `%`.
        let (word, rest) = trimmed.split_once(' ')?;
        let shell = word.len() > 1
            && word.ends_with(['$', '#', '%'])
            && (word.contains('@') || word.contains(':') || word.contains('~'));
        if !shell {
            return None;
        }
        rest
    };
    let command = command.trim();
    // The first command of a pipe or a list is what printed (`kubectl get pods | grep x`).
    let first = command.split(['|', ';']).next().unwrap_or(command).split("&&").next().unwrap_or(command);
    let words: Vec<String> = first
        .split_whitespace()
        .map(|word| word.trim_matches(['"', '\'']).to_owned())
        .take_while(|word| !word.starts_with('>') && !word.starts_with("2>"))
        .collect();
    let program = words.first()?.rsplit('/').next().unwrap_or_default();
    if !matches!(program, "kubectl" | "oc") && !program.starts_with("kubectl.") {
        if trimmed.starts_with("kubectl ") {
            return None;
        }
        return Some(Prompt::Other);
    }
    let command = parse(&words[1..]);
    if trimmed.starts_with("kubectl ")
        && !matches!(command.verb.as_str(), "get" | "describe" | "logs" | "top" | "events")
    {
        return None;
    }
    Some(Prompt::Kubectl(command))
}

fn parse(words: &[String]) -> Command {
    let mut command = Command::default();
    let mut positional: Vec<String> = Vec::new();
    let mut at = 0;
    while at < words.len() {
        let word = words[at].as_str();
        at += 1;
        if let Some((flag, value)) = word.split_once('=').filter(|(flag, _)| flag.starts_with('-')) {
            apply(&mut command, flag, value);
            continue;
        }
        if VALUED.contains(&word) {
            if let Some(value) = words.get(at) {
                apply(&mut command, word, value);
            }
            at += 1;
            continue;
        }
        // `-nshop`, `-cweb`: a short flag with its value attached.
        if let Some(value) =
            word.strip_prefix("-n").filter(|value| !value.is_empty() && !word.starts_with("--"))
        {
            command.namespace = Some(value.to_owned());
            continue;
        }
        if matches!(word, "-p" | "--previous") {
            command.previous = true;
            continue;
        }
        if word.starts_with('-') {
            continue;
        }
        positional.push(word.to_owned());
    }
    let mut positional = positional.into_iter();
    command.verb = positional.next().unwrap_or_default();
    let rest: Vec<String> = positional.collect();
    match command.verb.as_str() {
        "logs" => command.names = rest,
        "top" | "get" | "describe" => {
            let mut rest = rest.into_iter();
            if let Some(resource) = rest.next() {
                match resource.split_once('/') {
                    Some((kind, name)) => {
                        command.names.push(name.to_owned());
                        command.resource = Some(kind.to_owned());
                    }
                    None => command.resource = Some(resource),
                }
            }
            command.names.extend(rest);
        }
        "events" => command.resource = Some("events".to_owned()),
        _ => command.names = rest,
    }
    command
}

fn apply(command: &mut Command, flag: &str, value: &str) {
    match flag {
        "-n" | "--namespace" => command.namespace = Some(value.to_owned()),
        "-c" | "--container" => command.container = Some(value.to_owned()),
        "-p" | "--previous" => command.previous = value == "true",
        _ => {}
    }
}

/// The sections of `text`: what comes before the first prompt (read by content), then each
/// kubectl command's output. Another program's output is no section.
pub fn sections(text: &str) -> Vec<Section<'_>> {
    let mut found = Vec::new();
    // (command, start of its output), for the section being read; `None` command: content.
    let mut current: Option<(Option<Command>, usize)> = Some((None, 0));
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let Some(prompt) = prompt(line.trim_end()) else { continue };
        if let Some((command, from)) = current.take() {
            found.push(Section { command, body: &text[from..start], start: from });
        }
        current = match prompt {
            Prompt::Kubectl(command) => Some((Some(command), offset)),
            Prompt::Other => None,
        };
    }
    if let Some((command, from)) = current {
        found.push(Section { command, body: &text[from..], start: from });
    }
    found.retain(|section| section.command.is_some() || !section.body.trim().is_empty());
    found
}
