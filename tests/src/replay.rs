//! The diagnosis replay's expectations and how a root cause is judged against them
//! (`tests/cluster/scenarios/diagnosis-replay/expected/root-causes.yaml`, whose header is the
//! specification): which root cause of a bundle is a scenario's first, and whether it says what
//! a careful engineer concludes from the cluster.

use std::path::Path;

use serde_json::Value;

/// One namespace of the replay and the root cause kubesnap must rank first for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    pub namespace: String,
    /// The root-cause class (`scheduling / cordoned node`).
    pub class: String,
    /// More namespaces to collect with it (`kube-system`).
    pub collect_also: Vec<String>,
    /// Names besides the namespace that make a root cause about this scenario (nodes...).
    pub objects: Vec<String>,
    /// The expected root cause, in words.
    pub cause: String,
    /// Every group must be met by one of its alternatives, case-insensitively.
    pub keywords: Vec<Vec<String>>,
    /// None may appear.
    pub forbid: Vec<String>,
    /// The rule that must make it, when given.
    pub rule: Option<String>,
    /// Not diagnosed yet: reported, and a failure only when it passes.
    pub pending: bool,
}

/// The expectations of `path`, in file order.
pub fn expectations(path: &Path) -> Result<Vec<Expectation>, String> {
    let text = std::fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()))?;
    let entries: Vec<Value> = kubesnap_shared::yaml::from_str(&text)
        .map_err(|err| format!("{}: not a list of scenarios: {err}", path.display()))?;
    entries
        .iter()
        .map(|entry| expectation(entry).map_err(|err| format!("{}: {err}", path.display())))
        .collect()
}

fn expectation(entry: &Value) -> Result<Expectation, String> {
    let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_owned);
    let namespace = text("namespace").ok_or("an entry without `namespace`")?;
    let strings = |key: &str| -> Result<Vec<String>, String> {
        match entry.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    scalar(item).ok_or_else(|| format!("{namespace}: `{key}` holds a non-string {item}"))
                })
                .collect(),
            Some(other) => Err(format!("{namespace}: `{key}` is not a list: {other}")),
        }
    };
    let keywords = match entry.get("keywords") {
        Some(Value::Array(groups)) => groups
            .iter()
            .map(|group| match group {
                Value::Array(alternatives) => alternatives
                    .iter()
                    .map(|item| {
                        scalar(item).ok_or_else(|| format!("{namespace}: keyword {item} is not a string"))
                    })
                    .collect::<Result<Vec<String>, String>>(),
                item => {
                    scalar(item).map(|word| vec![word]).ok_or_else(|| format!("{namespace}: keyword {item}"))
                }
            })
            .collect::<Result<Vec<_>, String>>()?,
        _ => return Err(format!("{namespace}: `keywords` must be a non-empty list")),
    };
    if keywords.is_empty() || keywords.iter().any(Vec::is_empty) {
        return Err(format!("{namespace}: `keywords` must be a non-empty list of non-empty groups"));
    }
    Ok(Expectation {
        class: text("class").ok_or_else(|| format!("{namespace}: no `class`"))?,
        cause: text("cause").ok_or_else(|| format!("{namespace}: no `cause`"))?,
        collect_also: strings("collect_also")?,
        objects: strings("objects")?,
        keywords,
        forbid: strings("forbid")?,
        rule: text("rule"),
        pending: entry.get("pending").and_then(Value::as_bool).unwrap_or(false),
        namespace,
    })
}

/// YAML scalars a keyword may be written as (`8080` is a number to YAML).
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Whether `name` occurs in `text` as a name: not inside a longer word (`api` is not in
/// `kube-apiserver` nor `apis`), though it may be followed by a dash (a pod `orders-7d9f-x2`
/// of a Deployment `orders`). Both lowercase.
fn names(text: &str, name: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(|c| word(c) || c == '-' || c == '.') && !after.is_some_and(word)
    })
}

impl Expectation {
    /// The first root cause (in rank order) that names this scenario's namespace or objects.
    pub fn first<'a>(&self, root_causes: &'a [Value]) -> Option<&'a Value> {
        let wanted: Vec<String> =
            std::iter::once(&self.namespace).chain(&self.objects).map(|name| name.to_lowercase()).collect();
        root_causes.iter().find(|cause| {
            let text = cause.to_string().to_lowercase();
            wanted.iter().any(|name| names(&text, name))
        })
    }

    /// How `cause` (this scenario's first root cause, if any) measures up.
    pub fn judge(&self, cause: Option<&Value>) -> Verdict {
        let Some(cause) = cause else {
            return Verdict {
                missing: self.keywords.iter().map(|group| group.join(" | ")).collect(),
                forbidden: Vec::new(),
                wrong_rule: None,
                found: false,
            };
        };
        let said = statement(cause).to_lowercase();
        let missing = self
            .keywords
            .iter()
            .filter(|group| !group.iter().any(|word| said.contains(&word.to_lowercase())))
            .map(|group| group.join(" | "))
            .collect();
        let forbidden =
            self.forbid.iter().filter(|word| said.contains(&word.to_lowercase())).cloned().collect();
        let rule = cause.get("rule").and_then(Value::as_str).unwrap_or_default();
        let wrong_rule = self.rule.as_ref().filter(|want| *want != rule).map(|_| rule.to_owned());
        Verdict { missing, forbidden, wrong_rule, found: true }
    }
}

/// What a root cause states: its title, evidence, and its chain's objects and texts (not the
/// mitigation commands).
pub fn statement(cause: &Value) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(title) = cause.get("title").and_then(Value::as_str) {
        parts.push(title.to_owned());
    }
    for line in cause.get("evidence").and_then(Value::as_array).into_iter().flatten() {
        parts.extend(line.as_str().map(str::to_owned));
    }
    for step in cause.get("chain").and_then(Value::as_array).into_iter().flatten() {
        if let Some(object) = step.get("object") {
            let part = |key: &str| object.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
            parts.push(format!("{} {}/{}", part("kind"), part("namespace"), part("name")));
        }
        parts.extend(step.get("text").and_then(Value::as_str).map(str::to_owned));
    }
    parts.join("\n")
}

/// `rule: title` of a root cause, or what there was instead.
pub fn summary(cause: Option<&Value>) -> String {
    match cause {
        None => "no root cause in the report names this scenario".to_owned(),
        Some(cause) => format!(
            "{}: {}",
            cause.get("rule").and_then(Value::as_str).unwrap_or("?"),
            cause.get("title").and_then(Value::as_str).unwrap_or("?")
        ),
    }
}

/// The judgement of one scenario's first root cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// A root cause named the scenario at all.
    pub found: bool,
    /// Keyword groups it does not meet (alternatives joined with ` | `).
    pub missing: Vec<String>,
    /// Forbidden words it says.
    pub forbidden: Vec<String>,
    /// The rule it came from, when another was expected.
    pub wrong_rule: Option<String>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.found && self.missing.is_empty() && self.forbidden.is_empty() && self.wrong_rule.is_none()
    }

    /// Why it did not pass, in one line.
    pub fn shortfall(&self) -> String {
        let mut why = Vec::new();
        if !self.found {
            why.push("no root cause names it".to_owned());
        }
        if !self.missing.is_empty() {
            why.push(format!("does not say: {}", self.missing.join("; ")));
        }
        if !self.forbidden.is_empty() {
            why.push(format!("says what it must not: {}", self.forbidden.join("; ")));
        }
        if let Some(rule) = &self.wrong_rule {
            why.push(format!("comes from rule {rule}"));
        }
        why.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn expectation() -> Expectation {
        Expectation {
            namespace: "dep-port".to_owned(),
            class: "dependency / port mismatch".to_owned(),
            collect_also: Vec::new(),
            objects: vec!["api".to_owned()],
            cause: String::new(),
            keywords: vec![vec!["9090".to_owned()], vec!["8080".to_owned(), "http port".to_owned()]],
            forbid: vec!["no endpoints".to_owned()],
            rule: None,
            pending: false,
        }
    }

    #[test]
    fn the_first_root_cause_is_the_first_that_names_the_scenario() {
        let causes = [
            json!({"rule": "node-pressure", "title": "kube-apiserver is slow", "evidence": []}),
            json!({"rule": "finding", "title": "api-7d9f-x2 crash-loops", "evidence": []}),
            json!({"rule": "dependency", "title": "web dials api on 9090", "evidence": []}),
        ];
        let first = expectation().first(&causes);
        assert_eq!(first.and_then(|c| c["rule"].as_str()), Some("finding"));
        assert!(expectation().first(&causes[..1]).is_none());
    }

    #[test]
    fn every_keyword_group_must_be_met_and_no_forbidden_word_said() {
        let good =
            json!({"rule": "x", "title": "web dials api:9090", "evidence": ["Service api serves 8080 only"]});
        assert!(expectation().judge(Some(&good)).passed());
        let vague = json!({"rule": "x", "title": "web dials api:9090", "evidence": []});
        let verdict = expectation().judge(Some(&vague));
        assert_eq!(verdict.missing, vec!["8080 | http port".to_owned()]);
        let wrong = json!({"title": "api:9090 has no endpoints, 8080", "chain": [{"object": {"kind": "Pod", "namespace": "dep-port", "name": "web"}, "text": ""}]});
        assert_eq!(expectation().judge(Some(&wrong)).forbidden, vec!["no endpoints".to_owned()]);
        assert!(!expectation().judge(None).passed());
    }

    #[test]
    fn the_scenario_file_parses_with_one_entry_per_namespace() {
        let path = crate::repo().join("tests/cluster/scenarios/diagnosis-replay/expected/root-causes.yaml");
        let all = expectations(&path).unwrap_or_else(|err| panic!("{err}"));
        assert!(all.len() >= 25, "{} scenarios", all.len());
        let mut namespaces: Vec<&str> = all.iter().map(|e| e.namespace.as_str()).collect();
        namespaces.sort_unstable();
        namespaces.dedup();
        assert_eq!(namespaces.len(), all.len(), "a namespace is listed twice");
        let manifests = std::fs::read_to_string(
            crate::repo().join("tests/cluster/scenarios/diagnosis-replay/10-namespaces.yaml"),
        )
        .unwrap_or_default();
        for expectation in &all {
            assert!(
                manifests.contains(&format!("name: {}\n", expectation.namespace)),
                "{} has no Namespace in 10-namespaces.yaml",
                expectation.namespace
            );
        }
    }
}
