//! The seed's log pattern families as the logs diagnostics present them: a readable title, the
//! severity the seed's suggestions give them, and the seed's troubleshooting suggestion.
//!
//! The loader (`load/logscan.rs`) owns the patterns and counts the hits; this table only says
//! what a hit of each family means. Codes are the seed's (`connection_refused`), as the model's
//! `ContainerLog::families` keys them.

use crate::finding::Severity;

/// One family of the seed's `K8sLogAnalyzer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Family {
    /// The seed's code, the key of `ContainerLog::families`.
    pub(crate) code: &'static str,
    /// `connection refused`: for titles.
    pub(crate) title: &'static str,
    /// The severity of a family whose lines are at ERROR or FATAL level.
    pub(crate) severity: Severity,
    /// The seed's suggestion, without its count and emoji.
    pub(crate) suggestion: &'static str,
}

/// The seed's ten error families, in its order.
///
/// Severities follow the seed's `generate_troubleshooting_suggestions`: its 🔴 families
/// (`oom_killed`, `image_pull_error`, `dns_resolution`, `database_error`) are P1 and its 🟡
/// ones (`connection_refused`, `certificate_error`) P2. The seed gives the other four no
/// suggestion; `permission_denied`, `disk_pressure` and `network_unavailable` stop a feature
/// without taking a service down (P2), and `timeout_error` is P3 because the seed's pattern
/// (`timeout`) also matches every flag and setting that merely names a timeout.
pub(crate) static ERRORS: [Family; 10] = [
    Family {
        code: "oom_killed",
        title: "out-of-memory",
        severity: Severity::P1,
        suggestion: "Consider increasing memory limits or investigating memory leaks. Check: kubectl top pods, \
                     memory usage patterns, and application profiling.",
    },
    Family {
        code: "image_pull_error",
        title: "image pull",
        severity: Severity::P1,
        suggestion: "Check image registry connectivity, credentials, and image tags. Verify: registry access, \
                     imagePullSecrets, and network policies.",
    },
    Family {
        code: "dns_resolution",
        title: "DNS resolution",
        severity: Severity::P1,
        suggestion: "Check CoreDNS status and cluster DNS configuration.",
    },
    Family {
        code: "connection_refused",
        title: "connection refused",
        severity: Severity::P2,
        suggestion: "Check service endpoints, network policies, and port configurations.",
    },
    Family {
        code: "timeout_error",
        title: "timeout",
        severity: Severity::P3,
        suggestion: "Check the latency and health of the services the pod calls, and whether the timeout is a \
                     setting being printed rather than a failure.",
    },
    Family {
        code: "permission_denied",
        title: "permission denied",
        severity: Severity::P2,
        suggestion: "Check the pod's service account and its RBAC bindings, file ownership against the \
                     security context, and the credentials it presents.",
    },
    Family {
        code: "disk_pressure",
        title: "disk full",
        severity: Severity::P2,
        suggestion: "Check the node's disk and the pod's volumes and ephemeral storage.",
    },
    Family {
        code: "network_unavailable",
        title: "network unreachable",
        severity: Severity::P2,
        suggestion: "Check the node's network, the CNI pods, and network policies.",
    },
    Family {
        code: "certificate_error",
        title: "certificate",
        severity: Severity::P2,
        suggestion: "Check TLS certificates, expiration dates, and certificate chains. Investigate: cert-manager \
                     status, certificate resources, and CA bundles.",
    },
    Family {
        code: "database_error",
        title: "database",
        severity: Severity::P1,
        suggestion: "Check database connectivity, credentials, and resource availability. Verify: database pod \
                     status, connection strings, and authentication.",
    },
];

/// The seed's five warning families. All P3 but CPU throttling (P2): a throttled container is
/// slower than its users expect, the others are hints.
pub(crate) static WARNINGS: [Family; 5] = [
    Family {
        code: "high_cpu",
        title: "high CPU",
        severity: Severity::P3,
        suggestion: "Consider increasing CPU limits or optimizing application performance. Monitor: kubectl top \
                     pods, CPU usage patterns, and application profiling.",
    },
    Family {
        code: "high_memory",
        title: "high memory",
        severity: Severity::P3,
        suggestion: "Compare the container's memory with its limit before it is OOMKilled.",
    },
    Family {
        code: "slow_response",
        title: "slow response",
        severity: Severity::P3,
        suggestion: "Check the latency of the services the pod calls and its own CPU and memory.",
    },
    Family {
        code: "retry_attempt",
        title: "retry",
        severity: Severity::P3,
        suggestion: "Retries hide a failing dependency until they run out: find what is retried.",
    },
    Family {
        code: "deprecated_api",
        title: "deprecation",
        severity: Severity::P3,
        suggestion: "Plan the migration before the next upgrade removes what is deprecated.",
    },
];

/// kubesnap's extension families: (code, the seed family it completes). The loader counts an
/// extension's lines apart, and only lines the seed's pattern does not match, so the seed's own
/// count stays comparable with the seed's analysis and the two add up: diagnostics report them
/// together under the seed's family.
pub(crate) static EXTENSIONS: [(&str, &str); 1] = [("database_client_error", "database_error")];

/// kubesnap's refinements: (code, the seed family it narrows). The loader counts a refinement's
/// lines on their own (they are a subset of the seed family's, give or take the shapes the
/// seed's pattern misses); the diagnostics report a refined seed family from its refinement's
/// hits, since the seed's pattern there matches mentions as much as failures. The seed's own
/// count stays in `findings.json`'s `log_families`, comparable with the seed's analysis.
pub(crate) static REFINEMENTS: [(&str, &str); 1] = [("certificate_failure", "certificate_error")];

/// The code whose hits report the seed family `code`: its refinement, or itself.
pub(crate) fn reported_code(code: &str) -> &str {
    REFINEMENTS.iter().find(|(_, seed)| *seed == code).map_or(code, |(refinement, _)| *refinement)
}

/// The extension that completes the seed family `code`, if any.
pub(crate) fn extension_of(code: &str) -> Option<&'static str> {
    EXTENSIONS.iter().find(|(_, seed)| *seed == code).map(|(extension, _)| *extension)
}

/// The seed family a hit's family code reports under: itself, or the family an extension
/// completes.
pub(crate) fn seed_code(code: &str) -> &str {
    EXTENSIONS.iter().find(|(extension, _)| *extension == code).map_or(code, |(_, seed)| *seed)
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
    fn the_seed_families_are_all_here_once() {
        let codes: Vec<&str> = ERRORS.iter().chain(&WARNINGS).map(|family| family.code).collect();
        let mut unique = codes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 15);
        assert!(is_error_family("dns_resolution"));
        assert!(!is_error_family("retry_attempt"));
        assert_eq!(milder(Severity::P1), Severity::P2);
        assert_eq!(extension_of("database_error"), Some("database_client_error"));
        assert_eq!(seed_code("database_client_error"), "database_error");
        assert_eq!(seed_code("timeout_error"), "timeout_error");
        assert_eq!(extension_of("timeout_error"), None);
        assert_eq!(milder(Severity::P3), Severity::P3);
        assert_eq!(reported_code("certificate_error"), "certificate_failure");
        assert_eq!(reported_code("dns_resolution"), "dns_resolution");
    }
}
