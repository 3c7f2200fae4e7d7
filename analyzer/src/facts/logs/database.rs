//! Database errors the core pattern misses, and the pods that run databases.
//!
//! The core `database_error` pattern (`database.*error|sql.*error|connection.*database.*failed`)
//! misses what database clients and servers actually print: PostgreSQL's `password
//! authentication failed for user` and `sorry, too many clients already`, an application's
//! `Database connection failed!` (the words come in the other order), MySQL's `Access denied for
//! user`. The loader counts those over every line as kubesnap's `database_client_error`
//! extension family (`load/logscan.rs`), apart from `K8sLogAnalyzer`'s count and only on lines
//! `K8sLogAnalyzer`'s pattern misses; this module gives diagnostics the lines it kept of them.

use std::sync::LazyLock;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ContainerLog, LogLine, Object};
use regex::Regex;

use super::families;

/// Messages that say the database refused the client's credentials rather than being down.
static CREDENTIALS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(password authentication failed|access denied for user|authentication failed|invalid password)",
    )
    .ok()
});

/// The sample lines the loader kept of the database client errors the core pattern misses
/// (the first few of the log), in file order. Their count is the family's, not this length.
pub(crate) fn client_errors(log: &ContainerLog) -> Vec<&LogLine> {
    families::extension_of("database_error")
        .and_then(|code| log.families.get(code))
        .map(|hits| hits.samples.iter().collect())
        .unwrap_or_default()
}

/// Whether the line says the database refused the credentials.
pub(crate) fn credentials_refused(text: &str) -> bool {
    CREDENTIALS.as_ref().is_some_and(|pattern| pattern.is_match(text))
}

/// Images and chart names of databases, as the last part of an image name (`bitnami/postgresql`).
const DATABASES: &[&str] = &[
    "postgres",
    "postgresql",
    "mysql",
    "mariadb",
    "mongo",
    "mongodb",
    "redis",
    "cockroach",
    "cockroachdb",
    "cassandra",
    "clickhouse",
    "mssql-server",
    "percona-server",
    "timescaledb",
    "yugabyte",
];

/// Whether the pod runs a database: one of its containers' images, or its
/// `app.kubernetes.io/name` label, names one.
pub(crate) fn is_database_pod(pod: &Object) -> bool {
    let named = |name: &str| DATABASES.contains(&name.to_ascii_lowercase().as_str());
    let images = pod.array_at("/spec/containers").iter().filter_map(|container| {
        let image = container.get("image").and_then(Value::as_str)?;
        let image = image.split('@').next().unwrap_or(image);
        let last = image.rsplit('/').next().unwrap_or(image);
        Some(last.split(':').next().unwrap_or(last).to_owned())
    });
    let labels = pod.labels();
    let label = labels.get("app.kubernetes.io/name").cloned();
    images.chain(label).any(|name| named(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_are_the_extension_family_samples() {
        let model = crate::testing::model_from_yaml(
            r#"
kind: ContainerLog
namespace: a
pod: b
container: c
lines:
- "ERROR: Database connection failed!"
- "FATAL: password authentication failed for user 'wronguser'"
- "database error: deadlock"
- "connected to the database"
- "2025-06-01T11:50:00Z [88] FATAL:  sorry, too many clients already"
"#,
        );
        let log = &model.logs[0];
        let lines: Vec<u64> = client_errors(log).iter().map(|line| line.line).collect();
        assert_eq!(lines, [1, 2, 5], "line 3 is `K8sLogAnalyzer`'s, line 4 no error");
        assert_eq!(log.families["database_error"].count, 1);
        assert!(credentials_refused("FATAL: password authentication failed for user 'x'"));
        assert!(!credentials_refused("Database connection failed!"));
    }

    #[test]
    fn database_pods_by_image_or_label() {
        let pod = |image: &str, label: &str| {
            let raw = serde_json::json!({"kind": "Pod", "metadata": {"name": "p", "namespace": "n",
                "labels": {"app.kubernetes.io/name": label}}, "spec": {"containers": [{"name": "c", "image": image}]}});
            Object::from_value(raw, None, None, "x").unwrap()
        };
        assert!(is_database_pod(&pod("docker.io/bitnami/postgresql:16.2.0", "x")));
        assert!(is_database_pod(&pod("registry/app:1", "redis")));
        assert!(!is_database_pod(&pod("busybox", "api")));
    }
}
