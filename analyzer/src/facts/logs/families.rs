//! The log families, in one table: each family's code, pattern, whether it is an error or a
//! warning family, and how the logs diagnostics present it (a readable title, its severity, and
//! its troubleshooting suggestion).
//!
//! The loader (`load/logscan.rs`) compiles the patterns and counts the hits, in this table's
//! order; the diagnostics say what a hit of each family means. The first fifteen families and
//! their patterns are the published `K8sLogAnalyzer`'s, verbatim, so that their counts compare
//! with its own analysis (`bench/reference_log_analyzer.py`); what those patterns miss is an
//! extension family of its own, never a change to theirs. Codes (`connection_refused`) key the
//! model's `ContainerLog::families`.

use crate::finding::Severity;

/// One log family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Family {
    /// The key of `ContainerLog::families` (`connection_refused`).
    pub(crate) code: &'static str,
    /// The regular expression a line matches, ASCII case-insensitively.
    pub(crate) pattern: &'static str,
    pub(crate) kind: Kind,
    /// `connection refused`: for titles.
    pub(crate) title: &'static str,
    /// The severity of a family whose lines are at ERROR or FATAL level.
    pub(crate) severity: Severity,
    /// The troubleshooting suggestion, without a count.
    pub(crate) suggestion: &'static str,
}

/// What a family's hits are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An error family ([`ERRORS`]).
    Error,
    /// A warning family ([`WARNINGS`]).
    Warning,
    /// An extension of the family with this code ([`EXTENSIONS`]): the loader counts its lines
    /// apart, and only lines that family's pattern does not match, so the two add up without
    /// counting a line twice and diagnostics report them together under that family.
    Extends(&'static str),
    /// A refinement of the family with this code ([`REFINEMENTS`]): counted on its own, and the
    /// diagnostics report that family from the refinement's hits (see [`reported_code`]).
    Refines(&'static str),
}

/// Every family, in the loader's order: the ten error families, the five warning families,
/// the extension, then the refinement.
pub(crate) static FAMILIES: [Family; 17] = [
    Family {
        code: "oom_killed",
        pattern: r"(OOMKilled|out of memory|memory limit exceeded)",
        kind: Kind::Error,
        title: "out-of-memory",
        severity: Severity::P1,
        suggestion: "Consider increasing memory limits or investigating memory leaks. Check: kubectl top pods, \
                     memory usage patterns, and application profiling.",
    },
    Family {
        code: "image_pull_error",
        pattern: r"(ImagePullBackOff|ErrImagePull|Failed to pull image)",
        kind: Kind::Error,
        title: "image pull",
        severity: Severity::P1,
        suggestion: "Check image registry connectivity, credentials, and image tags. Verify: registry access, \
                     imagePullSecrets, and network policies.",
    },
    Family {
        code: "dns_resolution",
        pattern: r"(no such host|DNS resolution failed|dial tcp.*no route to host|getaddrinfo (ENOTFOUND|EAI_AGAIN))",
        kind: Kind::Error,
        title: "DNS resolution",
        severity: Severity::P1,
        suggestion: "Check CoreDNS status and cluster DNS configuration.",
    },
    Family {
        code: "connection_refused",
        pattern: r"(connection refused|connect: connection refused)",
        kind: Kind::Error,
        title: "connection refused",
        severity: Severity::P2,
        suggestion: "Check service endpoints, network policies, and port configurations.",
    },
    Family {
        code: "timeout_error",
        pattern: r"(timeout|timed out|deadline exceeded)",
        kind: Kind::Error,
        title: "timeout",
        severity: Severity::P3,
        suggestion: "Check the latency and health of the services the pod calls, and whether the timeout is a \
                     setting being printed rather than a failure.",
    },
    Family {
        code: "permission_denied",
        pattern: r"(permission denied|access denied|unauthorized)",
        kind: Kind::Error,
        title: "permission denied",
        severity: Severity::P2,
        suggestion: "Check the pod's service account and its RBAC bindings, file ownership against the \
                     security context, and the credentials it presents.",
    },
    Family {
        code: "disk_pressure",
        pattern: r"(disk pressure|no space left on device|disk full)",
        kind: Kind::Error,
        title: "disk full",
        severity: Severity::P2,
        suggestion: "Check the node's disk and the pod's volumes and ephemeral storage.",
    },
    Family {
        code: "network_unavailable",
        pattern: r"(network is unreachable|no route to host)",
        kind: Kind::Error,
        title: "network unreachable",
        severity: Severity::P2,
        suggestion: "Check the node's network, the CNI pods, and network policies.",
    },
    Family {
        code: "certificate_error",
        pattern: r"(certificate|x509|tls|ssl.*error)",
        kind: Kind::Error,
        title: "certificate",
        severity: Severity::P2,
        suggestion: "Check TLS certificates, expiration dates, and certificate chains. Investigate: cert-manager \
                     status, certificate resources, and CA bundles.",
    },
    Family {
        code: "database_error",
        pattern: r"(database.*error|sql.*error|connection.*database.*failed)",
        kind: Kind::Error,
        title: "database",
        severity: Severity::P1,
        suggestion: "Check database connectivity, credentials, and resource availability. Verify: database pod \
                     status, connection strings, and authentication.",
    },
    Family {
        code: "high_cpu",
        pattern: r"(cpu.*throttl|cpu.*limit|high cpu)",
        kind: Kind::Warning,
        title: "high CPU",
        severity: Severity::P3,
        suggestion: "Consider increasing CPU limits or optimizing application performance. Monitor: kubectl top \
                     pods, CPU usage patterns, and application profiling.",
    },
    Family {
        code: "high_memory",
        pattern: r"(memory.*pressure|high memory usage)",
        kind: Kind::Warning,
        title: "high memory",
        severity: Severity::P3,
        suggestion: "Compare the container's memory with its limit before it is OOMKilled.",
    },
    Family {
        code: "slow_response",
        pattern: r"(slow.*response|request.*timeout|response time)",
        kind: Kind::Warning,
        title: "slow response",
        severity: Severity::P3,
        suggestion: "Check the latency of the services the pod calls and its own CPU and memory.",
    },
    Family {
        code: "retry_attempt",
        pattern: r"(retry|retrying|attempt.*failed)",
        kind: Kind::Warning,
        title: "retry",
        severity: Severity::P3,
        suggestion: "Retries hide a failing dependency until they run out: find what is retried.",
    },
    Family {
        code: "deprecated_api",
        pattern: r"(deprecated|will be removed|obsolete)",
        kind: Kind::Warning,
        title: "deprecation",
        severity: Severity::P3,
        suggestion: "Plan the migration before the next upgrade removes what is deprecated.",
    },
    // The errors database clients and servers print that `database_error` misses
    // (PostgreSQL's `password authentication failed for user` and `sorry, too many clients
    // already`, an application's `Database connection failed!`, MySQL's `Access denied for
    // user`, drivers' exceptions).
    Family {
        code: "database_client_error",
        pattern: concat!(
            r"(password authentication failed|access denied for user|(database|db) connection ",
            r"(failed|refused|lost|error|timed out|timeout)|(could not|couldn't|unable to|failed to) connect to ",
            r"(the )?(database|db\b|postgres|mysql|mariadb|mongo|redis)|SQLSTATE\[|\bORA-\d{5}\b|",
            r"too many (connections|clients)|the database system is (starting up|shutting down|in recovery mode)|",
            r"communications link failure|Mongo(Network|ServerSelection)Error|\bpq: |psycopg2?\.\w*Error|",
            r"sqlalchemy\.exc\.)"
        ),
        kind: Kind::Extends("database_error"),
        title: "database client",
        severity: Severity::P1,
        suggestion: "Reported with `database_error`.",
    },
    // The core `certificate_error` (`certificate|x509|tls|...`) matches `tls` and
    // `certificate` anywhere: `tlsconfig.go`, kinds such as `TLSStore`, the `--tls-cert-file`
    // and `--kubelet-certificate-authority` lines of a usage text. The diagnostics report this
    // narrower family instead, lines that name a certificate or TLS failure; `K8sLogAnalyzer`'s own count
    // stays as it is, for comparison with `K8sLogAnalyzer`'s analysis.
    Family {
        code: "certificate_failure",
        pattern: concat!(
            r"(x509: |certificate (has expired|is not (yet )?valid|signed by unknown authority|verify failed|",
            r"is valid for|required|rejected|revoked)|(bad|unknown|expired|invalid) certificate|",
            r"certificate_(unknown|expired|revoked)|tls: (handshake failure|failed|bad|internal error|unknown|",
            r"protocol version|no (application|supported)|first record)|tls handshake (error|timeout|failed|failure)|",
            r"remote error: tls|ssl routines|ssl_error|ssl(v3)? alert|sslhandshakeexception|pkix path|",
            r"unable to (get|verify)( the)?( (first|local|issuer))* certificate|cert_has_expired|",
            r"unable_to_verify_leaf_signature|self[- ]signed certificate in certificate chain)"
        ),
        kind: Kind::Refines("certificate_error"),
        title: "certificate failure",
        severity: Severity::P2,
        suggestion: "Reported as `certificate_error`.",
    },
];

/// The ten core error families, in its order.
///
/// Severities follow `K8sLogAnalyzer`'s `generate_troubleshooting_suggestions`: its 🔴 families
/// (`oom_killed`, `image_pull_error`, `dns_resolution`, `database_error`) are P1 and its 🟡
/// ones (`connection_refused`, `certificate_error`) P2. `K8sLogAnalyzer` gives the other four no
/// suggestion; `permission_denied`, `disk_pressure` and `network_unavailable` stop a feature
/// without taking a service down (P2), and `timeout_error` is P3 because the core pattern
/// (`timeout`) also matches every flag and setting that merely names a timeout.
pub(crate) static ERRORS: &[Family] = FAMILIES.split_at(10).0;

/// The five core warning families. All P3 but CPU throttling (P2): a throttled container is
/// slower than its users expect, the others are hints.
pub(crate) static WARNINGS: &[Family] = FAMILIES.split_at(10).1.split_at(5).0;

/// The extension families (see [`Kind::Extends`]).
pub(crate) static EXTENSIONS: &[Family] = FAMILIES.split_at(15).1.split_at(1).0;

/// The refinement families (see [`Kind::Refines`]).
pub(crate) static REFINEMENTS: &[Family] = FAMILIES.split_at(16).1;

/// The code whose hits report the core family `code`: its refinement, or itself.
pub(crate) fn reported_code(code: &str) -> &str {
    REFINEMENTS
        .iter()
        .find(|family| matches!(family.kind, Kind::Refines(core) if core == code))
        .map_or(code, |family| family.code)
}

/// The extension that completes the core family `code`, if any.
pub(crate) fn extension_of(code: &str) -> Option<&'static str> {
    EXTENSIONS
        .iter()
        .find(|family| matches!(family.kind, Kind::Extends(core) if core == code))
        .map(|family| family.code)
}

/// The core family a hit's family code reports under: itself, or the family an extension
/// completes.
pub(crate) fn core_code(code: &str) -> &str {
    match EXTENSIONS.iter().find(|family| family.code == code).map(|family| family.kind) {
        Some(Kind::Extends(core)) => core,
        _ => code,
    }
}

/// Whether `code` is one of the ten error families.
pub(crate) fn is_error_family(code: &str) -> bool {
    ERRORS.iter().any(|family| family.code == code)
}

/// One level less severe (P3 stays P3): for a family whose lines are not at ERROR level.
pub(crate) fn milder(severity: Severity) -> Severity {
    match severity {
        Severity::P0 => Severity::P1,
        Severity::P1 => Severity::P2,
        Severity::P2 | Severity::P3 => Severity::P3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_core_families_are_all_here_once() {
        let codes: Vec<&str> = ERRORS.iter().chain(WARNINGS).map(|family| family.code).collect();
        let mut unique = codes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 15);
        assert!(is_error_family("dns_resolution"));
        assert!(!is_error_family("retry_attempt"));
        assert_eq!(milder(Severity::P1), Severity::P2);
        assert_eq!(extension_of("database_error"), Some("database_client_error"));
        assert_eq!(core_code("database_client_error"), "database_error");
        assert_eq!(core_code("timeout_error"), "timeout_error");
        assert_eq!(extension_of("timeout_error"), None);
        assert_eq!(milder(Severity::P3), Severity::P3);
        assert!(ERRORS.iter().all(|family| family.kind == Kind::Error));
        assert!(WARNINGS.iter().all(|family| family.kind == Kind::Warning));
        for extension in EXTENSIONS {
            let Kind::Extends(core) = extension.kind else { panic!("{} extends nothing", extension.code) };
            assert!(ERRORS.iter().chain(WARNINGS).any(|family| family.code == core), "{core}");
        }
        for refinement in REFINEMENTS {
            let Kind::Refines(core) = refinement.kind else { panic!("{} refines nothing", refinement.code) };
            assert!(ERRORS.iter().chain(WARNINGS).any(|family| family.code == core), "{core}");
        }
        assert_eq!(reported_code("certificate_error"), "certificate_failure");
        assert_eq!(reported_code("dns_resolution"), "dns_resolution");
    }
}
