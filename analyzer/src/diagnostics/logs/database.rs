//! Database errors the seed's pattern misses, and the pods that run databases.
//!
//! The seed's `database_error` pattern (`database.*error|sql.*error|connection.*database.*failed`)
//! misses what database clients actually print: PostgreSQL's `password authentication failed for
//! user`, an application's `Database connection failed!`, MySQL's `Access denied for user`. The
//! loader counts the seed's pattern over whole logs; this module finds the client messages in the
//! lines the loader keeps (ERROR/FATAL lines with a time, the tail, family samples), so their
//! count is exact for short logs and a lower bound for long ones.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use kubesnap_shared::model::{ContainerLog, LogLine, Object};
use regex::Regex;
use serde_json::Value;

/// The seed's own pattern: lines it matches are already in the loader's count.
static SEED: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)(database.*error|sql.*error|connection.*database.*failed)").ok());

/// What database clients and drivers print when the database fails them.
static CLIENT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(password authentication failed|access denied for user|(database|db) connection ",
        r"(failed|refused|lost|error|timed out|timeout)|(could not|couldn't|unable to|failed to) connect to ",
        r"(the )?(database|db\b|postgres|mysql|mariadb|mongo|redis)|SQLSTATE\[|\bORA-\d{5}\b|too many connections|",
        r"the database system is (starting up|shutting down|in recovery mode)|communications link failure|",
        r"Mongo(Network|ServerSelection)Error|\bpq: |psycopg2?\.\w*Error|sqlalchemy\.exc\.)"
    ))
    .ok()
});

/// Messages that say the database refused the client's credentials rather than being down.
static CREDENTIALS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(password authentication failed|access denied for user|authentication failed|invalid password)",
    )
    .ok()
});

/// Kept lines of `log` that carry a database client's error and that the seed's pattern does
/// not match, once each, in file order.
pub(crate) fn client_errors(log: &ContainerLog) -> Vec<&LogLine> {
    let (Some(client), Some(seed)) = (CLIENT.as_ref(), SEED.as_ref()) else { return Vec::new() };
    let mut kept: BTreeMap<u64, &LogLine> = BTreeMap::new();
    let samples = log.families.values().flat_map(|hits| &hits.samples);
    for line in log.error_lines.iter().chain(&log.tail).chain(samples) {
        if client.is_match(&line.text) && !seed.is_match(&line.text) {
            kept.entry(line.line).or_insert(line);
        }
    }
    kept.into_values().collect()
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
    use kubesnap_shared::model::LogKey;

    fn log(lines: &[&str]) -> ContainerLog {
        let tail: Vec<LogLine> = lines
            .iter()
            .enumerate()
            .map(|(index, text)| LogLine {
                line: index as u64 + 1,
                text: (*text).to_owned(),
                timestamp: None,
            })
            .collect();
        ContainerLog {
            key: LogKey { namespace: "a".into(), pod: "b".into(), container: "c".into(), previous: false },
            path: "p".into(),
            bytes: 0,
            lines: tail.len() as u64,
            truncated: false,
            error_lines: tail.clone(),
            tail,
            families: BTreeMap::new(),
            timed_hits: Vec::new(),
            first_timestamp: None,
            last_timestamp: None,
            untimed_lines: 0,
        }
    }

    #[test]
    fn finds_client_messages_once_and_leaves_the_seeds_to_the_loader() {
        let log = log(&[
            "ERROR: Database connection failed!",
            "FATAL: password authentication failed for user 'wronguser'",
            "database error: deadlock",
            "connected to the database",
        ]);
        let lines: Vec<u64> = client_errors(&log).iter().map(|line| line.line).collect();
        assert_eq!(lines, [1, 2], "line 3 is the seed's, line 4 no error");
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
