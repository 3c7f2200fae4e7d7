//! What a diagnostic reports: a [`Finding`] with its [`Severity`], [`Category`], the objects it
//! is about, the [`Evidence`] that shows it and the kubectl commands that fix it.
//!
//! These types are serialized as they are into `findings.json`, whose schema is documented in
//! `docs/findings-schema.md`: renaming a field or a variant is a schema change (bump
//! `report::json::SCHEMA_VERSION`).

use kubesnap_shared::model::ObjectRef;
use serde::Serialize;

/// How bad a finding is, with the meanings of the incident response playbook.
///
/// `Ord` puts the most severe first: sorting findings ascending lists P0 before P3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Severity {
    /// Critical: complete service outage, data loss, security breach.
    P0,
    /// High: major functionality impacted, significant user impact.
    P1,
    /// Medium: minor functionality impacted, limited user impact.
    P2,
    /// Low: cosmetic issues, no user impact.
    P3,
}

impl Severity {
    /// Every severity, most severe first.
    pub const ALL: [Severity; 4] = [Severity::P0, Severity::P1, Severity::P2, Severity::P3];

    pub fn name(self) -> &'static str {
        match self {
            Severity::P0 => "P0",
            Severity::P1 => "P1",
            Severity::P2 => "P2",
            Severity::P3 => "P3",
        }
    }

    /// The playbook's word for it.
    pub fn label(self) -> &'static str {
        match self {
            Severity::P0 => "critical",
            Severity::P1 => "high",
            Severity::P2 => "medium",
            Severity::P3 => "low",
        }
    }

    /// The playbook's meaning, for report legends.
    pub fn meaning(self) -> &'static str {
        match self {
            Severity::P0 => "complete service outage, data loss, security breach",
            Severity::P1 => "major functionality impacted, significant user impact",
            Severity::P2 => "minor functionality impacted, limited user impact",
            Severity::P3 => "cosmetic issues, no user impact",
        }
    }

    /// Parses `P0`..`P3` (any case).
    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|severity| severity.name().eq_ignore_ascii_case(text))
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The area of the cluster a diagnostic looks at; also a unit of `--only`/`--skip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Pods,
    Workloads,
    Performance,
    Network,
    Storage,
    Logs,
    Nodes,
    Cluster,
    Alerts,
    Security,
}

impl Category {
    /// Every category, in report order.
    pub const ALL: [Category; 10] = [
        Category::Pods,
        Category::Workloads,
        Category::Performance,
        Category::Network,
        Category::Storage,
        Category::Logs,
        Category::Nodes,
        Category::Cluster,
        Category::Alerts,
        Category::Security,
    ];

    /// The kebab-case name used in reports, JSON and `--only`/`--skip`.
    pub fn name(self) -> &'static str {
        match self {
            Category::Pods => "pods",
            Category::Workloads => "workloads",
            Category::Performance => "performance",
            Category::Network => "network",
            Category::Storage => "storage",
            Category::Logs => "logs",
            Category::Nodes => "nodes",
            Category::Cluster => "cluster",
            Category::Alerts => "alerts",
            Category::Security => "security",
        }
    }

    pub fn parse(text: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|category| category.name().eq_ignore_ascii_case(text))
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One thing the bundle shows that supports a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Evidence {
    /// A field of an object, at a JSON pointer (`/status/containerStatuses/0/restartCount`).
    Field {
        object: ObjectRef,
        path: String,
        /// The value as text: strings as they are, anything else as compact JSON.
        value: String,
    },
    /// A Kubernetes event about one of the finding's objects.
    Event {
        object: ObjectRef,
        /// `Normal` or `Warning`.
        #[serde(rename = "event_type")]
        kind: String,
        reason: String,
        message: String,
        count: u64,
        first_seen: Option<jiff::Timestamp>,
        last_seen: Option<jiff::Timestamp>,
        /// The component that reported it (`kubelet`, `default-scheduler`).
        source: String,
    },
    /// A line of a container log, by its bundle path and 1-based line number.
    LogLine { path: String, line: u64, text: String, timestamp: Option<jiff::Timestamp> },
    /// A statistic of a metric series (`p95` of `cpu` of one container, in `millicores`).
    Metric { series: String, statistic: String, value: f64, unit: String },
    /// Anything else worth saying, in a sentence.
    Note { text: String },
}

impl Evidence {
    /// A field of `object` whose value is rendered as text.
    pub fn field(
        object: ObjectRef,
        path: impl Into<String>,
        value: &kubesnap_shared::json::Value,
    ) -> Evidence {
        let value = match value {
            kubesnap_shared::json::Value::String(text) => text.to_string(),
            other => other.to_string(),
        };
        Evidence::Field { object, path: path.into(), value }
    }

    /// One normalized event of the model.
    pub fn event(event: &kubesnap_shared::model::Event) -> Evidence {
        Evidence::Event {
            object: event.involved.clone(),
            kind: event.kind.clone(),
            reason: event.reason.clone(),
            message: event.message.clone(),
            count: event.count,
            first_seen: event.first_seen,
            last_seen: event.last_seen,
            source: event.source.clone(),
        }
    }

    /// One line of a container log.
    pub fn log_line(path: &str, line: &kubesnap_shared::model::LogLine) -> Evidence {
        Evidence::LogLine {
            path: path.to_owned(),
            line: line.line,
            text: line.text.clone(),
            timestamp: line.timestamp,
        }
    }

    pub fn note(text: impl Into<String>) -> Evidence {
        Evidence::Note { text: text.into() }
    }
}

/// Whether the problem a finding reports still holds at the bundle's capture time.
///
/// Judged against `ClusterModel::captured_at`, never the machine's clock: a restart before the
/// current container started (which runs and is ready), an event older than the object's current
/// healthy state, a failed attempt of a Job that then completed, a pod that Succeeded, the errors
/// of a boot or install window are history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The problem holds at capture time (the default).
    #[default]
    Ongoing,
    /// It happened and was over before the capture: history, at most P3.
    Resolved,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ongoing => "ongoing",
            Status::Resolved => "resolved",
        }
    }
}

/// One problem found in the bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The stable kebab-case code of the diagnostic that found it.
    pub code: &'static str,
    pub severity: Severity,
    pub category: Category,
    /// Ongoing at capture time, or resolved before it (then the severity is P3).
    pub status: Status,
    /// One line: what is wrong with what (`Deployment shop/api: 3 of 3 pods crash-looping`).
    pub title: String,
    /// The objects it is about, the most significant (the workload) first.
    pub objects: Vec<ObjectRef>,
    /// The namespace of the first object, for filtering.
    pub namespace: Option<String>,
    pub evidence: Vec<Evidence>,
    /// Why it happens and what it means, in a few sentences.
    pub explanation: String,
    /// Concrete commands to run for these objects, most useful first.
    pub remediation: Vec<String>,
    /// Findings of other codes that report this problem from above (a Deployment down because
    /// of this crash loop) and were folded into it, so the report shows the problem once; kept
    /// whole so that a diff of two bundles still matches them. Its evidence says `impact: ...`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub folded: Vec<Finding>,
}

impl Finding {
    /// A finding with no objects, evidence or remediation yet.
    pub fn new(
        code: &'static str,
        category: Category,
        severity: Severity,
        title: impl Into<String>,
    ) -> Finding {
        Finding {
            code,
            severity,
            category,
            status: Status::Ongoing,
            title: title.into(),
            objects: Vec::new(),
            namespace: None,
            evidence: Vec::new(),
            explanation: String::new(),
            remediation: Vec::new(),
            folded: Vec::new(),
        }
    }

    /// Adds an object; the first one sets the finding's namespace.
    pub fn object(mut self, object: ObjectRef) -> Finding {
        if self.objects.is_empty() {
            self.namespace = object.namespace.clone();
        }
        if !self.objects.contains(&object) {
            self.objects.push(object);
        }
        self
    }

    /// Marks the problem as over before the capture: history, so its severity becomes P3
    /// (the engine holds every resolved finding to P3 whatever a diagnostic set later).
    pub fn resolved(mut self) -> Finding {
        self.status = Status::Resolved;
        self.severity = Severity::P3;
        self
    }

    /// [`Finding::resolved`] when `resolved` holds, the finding unchanged otherwise.
    pub fn resolved_if(self, resolved: bool) -> Finding {
        if resolved { self.resolved() } else { self }
    }

    pub fn evidence(mut self, evidence: Evidence) -> Finding {
        self.evidence.push(evidence);
        self
    }

    pub fn explanation(mut self, text: impl Into<String>) -> Finding {
        self.explanation = text.into();
        self
    }

    /// Adds a command, once.
    pub fn remediation(mut self, command: impl Into<String>) -> Finding {
        let command = command.into();
        if !self.remediation.contains(&command) {
            self.remediation.push(command);
        }
        self
    }

    /// The order of every report: severity, code, objects, title.
    pub(crate) fn sort_key(&self) -> (Severity, &str, &[ObjectRef], &str) {
        (self.severity, self.code, &self.objects, &self.title)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_most_severe_first_and_parses_any_case() {
        let mut severities = vec![Severity::P3, Severity::P0, Severity::P2, Severity::P1];
        severities.sort();
        assert_eq!(severities, Severity::ALL);
        assert_eq!(Severity::parse("p1"), Some(Severity::P1));
        assert_eq!(Severity::parse("P4"), None);
    }

    #[test]
    fn evidence_serializes_with_a_type_tag() {
        let evidence = Evidence::note("hello");
        let json = serde_json::to_string(&evidence).unwrap();
        assert_eq!(json, r#"{"type":"note","text":"hello"}"#);
        let field = Evidence::field(
            ObjectRef { kind: "Pod".into(), namespace: Some("a".into()), name: "b".into() },
            "/status/phase",
            &kubesnap_shared::json::Value::from(3_i64),
        );
        let json = serde_json::to_string(&field).unwrap();
        assert_eq!(
            json,
            r#"{"type":"field","object":{"kind":"Pod","namespace":"a","name":"b"},"path":"/status/phase","value":"3"}"#
        );
    }

    #[test]
    fn resolved_findings_are_p3_and_serialize_their_status() {
        let ongoing = Finding::new("x", Category::Pods, Severity::P1, "t");
        assert_eq!(ongoing.status, Status::Ongoing);
        assert_eq!(ongoing.clone().resolved_if(false), ongoing);
        let resolved = ongoing.resolved_if(true);
        assert_eq!((resolved.status, resolved.severity), (Status::Resolved, Severity::P3));
        let json = serde_json::to_value(&resolved).unwrap();
        assert_eq!(json["status"], "resolved");
    }

    #[test]
    fn first_object_sets_the_namespace_and_objects_are_not_repeated() {
        let pod = ObjectRef { kind: "Pod".into(), namespace: Some("shop".into()), name: "api-1".into() };
        let finding = Finding::new("x", Category::Pods, Severity::P2, "t").object(pod.clone()).object(pod);
        assert_eq!(finding.objects.len(), 1);
        assert_eq!(finding.namespace.as_deref(), Some("shop"));
    }
}
