//! The level of a kept log line, by `K8sLogAnalyzer`'s rule: for lines the loader kept without a time
//! (the tail, family samples), whose level the model does not record.

/// Whether the line is at ERROR or FATAL level: a klog `E`/`F` header (after an optional
/// timestamp), else `K8sLogAnalyzer`'s `_extract_log_level`, the first of ERROR, WARN, WARNING, INFO,
/// DEBUG, TRACE, FATAL the upper-cased line contains.
///
/// The loader applies the same rule to timed lines (`TimedHit::error_level`); this is its
/// counterpart for the lines it keeps as text.
pub(crate) fn is_error(text: &str) -> bool {
    let klog = |word: &str| {
        let bytes = word.as_bytes();
        bytes.len() == 5
            && matches!(bytes[0], b'I' | b'W' | b'E' | b'F')
            && bytes[1..].iter().all(u8::is_ascii_digit)
    };
    let mut words = text.split_whitespace();
    let header = match (words.next(), words.next()) {
        (Some(first), _) if klog(first) => Some(first),
        (Some(_), Some(second)) if klog(second) => Some(second),
        _ => None,
    };
    if let Some(header) = header {
        return header.starts_with(['E', 'F']);
    }
    const LEVELS: [&str; 7] = ["ERROR", "WARN", "WARNING", "INFO", "DEBUG", "TRACE", "FATAL"];
    let upper = text.to_ascii_uppercase();
    LEVELS
        .iter()
        .find(|level| upper.contains(*level))
        .is_some_and(|level| matches!(*level, "ERROR" | "FATAL"))
}

#[cfg(test)]
mod tests {
    use super::is_error;

    #[test]
    fn levels_follow_the_reference_rule_and_klog() {
        assert!(is_error("ERROR: Database connection failed!"));
        assert!(is_error("[Sat Aug  9 22:57:59 UTC 2025] ERROR: Connection refused - FATAL: password"));
        assert!(is_error("E0809 21:08:25.123456       1 reflector.go:138] failed"));
        assert!(is_error("2025-08-09T21:08:25Z F0809 21:08:25.1 1 x.go:1] fatal"));
        assert!(!is_error("W0809 21:08:25.123456 1 file.go:12] an error occurred"));
        assert!(is_error("INFO retrying after error"), "`K8sLogAnalyzer` looks for ERROR before INFO");
        assert!(!is_error("INFO fatal-looking, but INFO comes first in `K8sLogAnalyzer`'s list"));
        assert!(!is_error("Starting application..."));
    }
}
