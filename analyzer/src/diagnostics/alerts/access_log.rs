//! The ingress-nginx access log line (its default `upstreaminfo` format):
//!
//! ```text
//! $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer"
//! "$http_user_agent" $request_length $request_time [$proxy_upstream_name]
//! [$proxy_alternative_upstream_name] $upstream_addr ... $req_id
//! ```
//!
//! optionally behind the RFC 3339 time `kubectl logs --timestamps` puts in front of each line.
//! Only what `HighErrorRate` needs is read: the time, the status and the upstream
//! (`<namespace>-<service>-<port>`).

use std::sync::LazyLock;

use jiff::Timestamp;
use regex::Regex;

/// One request of the access log.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Request {
    pub(crate) at: Timestamp,
    pub(crate) status: u16,
    /// `shop-api-80`; empty when nginx answered itself (a malformed request).
    pub(crate) upstream: String,
}

static LINE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"^(?:(\d{4}-\d\d-\d\dT\S+)\s+)?\S+ - \S+ \[([^\]]+)\] "(?:[^"\\]|\\.)*" (\d{3}) \d+ "(?:[^"\\]|\\.)*" "(?:[^"\\]|\\.)*" \d+ [\d.]+ \[([^\]]*)\]"#,
    )
    .ok()
});

/// Parses one line; `None` when it is not an ingress-nginx access line.
pub(crate) fn parse(line: &str) -> Option<Request> {
    let captures = LINE.as_ref()?.captures(line)?;
    let local =
        captures.get(2).and_then(|m| jiff::fmt::strtime::parse("%d/%b/%Y:%H:%M:%S %z", m.as_str()).ok());
    let at = local
        .and_then(|time| time.to_timestamp().ok())
        .or_else(|| captures.get(1).and_then(|m| m.as_str().parse().ok()))?;
    Some(Request {
        at,
        status: captures.get(3)?.as_str().parse().ok()?,
        upstream: captures.get(4).map(|m| m.as_str().to_owned()).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real ingress-nginx lines of elastic/beats' filebeat module test: every line parses,
    /// and the statuses and upstreams read are those a plain split of the line gives.
    #[test]
    fn parses_every_line_of_the_real_ingress_controller_log() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../shared/realdata/elastic__beats/filebeat/module/nginx/ingress_controller/test/test.log",
        );
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = text.lines().filter(|line| !line.is_empty()).collect();
        assert!(lines.len() > 20);
        for line in &lines {
            let request = parse(line).unwrap_or_else(|| panic!("not parsed: {line}"));
            // Independently: the status follows the quoted request, the upstream is the first [..]
            // after the user agent.
            let after_request = line.split('"').nth(2).unwrap();
            let status: u16 = after_request.split_whitespace().next().unwrap().parse().unwrap();
            assert_eq!(request.status, status, "{line}");
            let tail = line.rsplit('"').next().unwrap();
            let upstream = tail.split('[').nth(1).unwrap().split(']').next().unwrap();
            assert_eq!(request.upstream, upstream, "{line}");
        }
        let errors = lines.iter().filter_map(|line| parse(line)).filter(|r| r.status >= 500).count();
        assert_eq!(errors, lines.iter().filter(|line| line.contains("\" 502 ")).count());
        assert!(errors > 0);
    }

    #[test]
    fn reads_the_kubectl_timestamp_prefix_and_rejects_other_lines() {
        let line = "2025-06-01T11:59:01.123456789Z 10.0.0.1 - - [01/Jun/2025:11:59:01 +0000] \"GET / HTTP/1.1\" 503 0 \"-\" \"curl\" 80 0.002 [shop-api-80] [] 10.1.0.5:8080 0 0.002 503 abc";
        let request = parse(line).unwrap();
        assert_eq!((request.status, request.upstream.as_str()), (503, "shop-api-80"));
        assert_eq!(request.at, "2025-06-01T11:59:01Z".parse().unwrap());
        assert_eq!(parse("2025-06-01T11:59:01Z INFO starting"), None);
    }
}
