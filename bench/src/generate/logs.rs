//! Container logs: realistic lines in five dialects, each prefixed by the kubelet's RFC 3339
//! timestamp (the collector reads logs with `timestamps=true`), with the core error and
//! warning families sprinkled at low rates so most lines match nothing.
//!
//! Large logs stream: [`LogStream`] is a `Read` that renders lines into a 64 KiB buffer on
//! demand and yields exactly the planned number of bytes (the last line is cut, as a byte cap
//! cuts it), so a 2 GB bundle is written in constant memory. Short logs whose ending matters
//! (a crash's last words, an init container) are rendered whole by [`render_small`].

use std::io::{self, Read};

use crate::prng::Prng;

use super::clock::{
    CLF_DAY, DAY_START, KLOG_DAY, SLASH_DAY, push_digits, push_fraction, push_hms, push_rfc3339, push_u64,
};
use super::plan::LogStyle;

/// Mean rendered line length, used to spread line timestamps over the log's window.
const MEAN_LINE: u64 = 190;
const CHUNK: usize = 64 << 10;

/// What a log is about: where its words come from and when its lines were written.
#[derive(Debug, Clone)]
pub(crate) struct LogContext {
    pub(crate) style: LogStyle,
    pub(crate) namespace: String,
    /// A Service the container talks to (`postgres`, `redis`, another app).
    pub(crate) peer: String,
    pub(crate) port: u64,
    pub(crate) seed: u64,
    /// Window of the log, in seconds since the epoch.
    pub(crate) start: i64,
    pub(crate) end: i64,
}

/// Severity of a rendered line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

/// Message templates: `#` is a number, `@` the namespace, `%` the peer Service.
const INFO: [&str; 12] = [
    "Processed order # for customer # in #ms",
    "Published event OrderCreated id=# partition=# offset=#",
    "Cache hit ratio #% over the last # requests",
    "GET /api/v1/items/# completed with status 200 in #ms",
    "POST /api/v1/orders completed with status 201 in #ms",
    "Scheduled task inventory-sync finished in #ms, # records updated",
    "HikariPool-1 - Pool stats (total=10, active=#, idle=#, waiting=0)",
    "Session # refreshed for user #",
    "Loaded # products from catalog snapshot #",
    "Consumer group @-% rebalanced, # partitions assigned",
    "Flushed # metrics to the OTLP exporter",
    "Health check passed: # checks in #ms",
];
const DEBUG: [&str; 3] = [
    "Resolved handler for GET /api/v1/items/#",
    "Acquired connection # from pool %",
    "Released connection # to pool %",
];
/// Warnings and errors that belong to no core family.
const OTHER_PROBLEMS: [&str; 4] = [
    "Validation failed for order #: missing field sku",
    "Payment # declined by provider: insufficient funds",
    "Unexpected status 404 from % for item #",
    "Order # rejected: item # out of stock",
];
const KLOG_INFO: [&str; 6] = [
    "\"Reconciled object\" controller=\"%\" namespace=\"@\" name=\"%-#\" duration=\"#ms\"",
    "\"Successfully synced\" key=\"@/%-#\"",
    "\"Starting workers\" controller=\"%\" workerCount=4",
    "\"SyncProxyRules complete\" elapsed=\"#ms\"",
    "\"Updating endpoints\" service=\"@/%\" endpoints=#",
    "\"Caches populated\" type=\"*v1.Pod\" reflector=\"pkg/mod/k8s.io/client-go@v0.33.1/tools/cache/reflector.go:#\"",
];
const KLOG_FILES: [&str; 5] =
    ["controller.go", "reconciler.go", "proxier.go", "reflector.go", "shared_informer.go"];
const PATHS: [&str; 7] = [
    "/",
    "/static/js/main.#.js",
    "/api/v1/products/#",
    "/healthz",
    "/favicon.ico",
    "/images/#.webp",
    "/api/v1/cart/#",
];
const AGENTS: [&str; 5] = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "kube-probe/1.33",
    "Go-http-client/1.1",
    "curl/8.5.0",
    "python-requests/2.32.3",
];

/// The core families, each with lines that match it (and its weight among problem lines).
pub(crate) const FAMILY_LINES: [(&str, u64, &[&str]); 15] = [
    (
        "oom_killed",
        2,
        &[
            "fatal error: runtime: out of memory",
            "Worker # killed: out of memory (rss=#MiB)",
            "Memory limit exceeded while processing batch #, dropping it",
        ],
    ),
    ("image_pull_error", 1, &["sidecar injector: ErrImagePull for registry.example.com/@/%-helper:v#"]),
    (
        "dns_resolution",
        6,
        &[
            "dial tcp: lookup %.@.svc.cluster.local on 10.96.0.10:53: no such host",
            "DNS resolution failed for %.@.svc.cluster.local: SERVFAIL",
        ],
    ),
    (
        "connection_refused",
        12,
        &["dial tcp 10.96.#.#:5432: connect: connection refused", "upstream % returned: connection refused"],
    ),
    (
        "timeout_error",
        16,
        &[
            "context deadline exceeded while calling %",
            "request to http://%.@.svc.cluster.local/api timed out after #ms",
            "i/o timeout reading from %:6379",
        ],
    ),
    (
        "permission_denied",
        4,
        &[
            "open /var/lib/app/cache/#.db: permission denied",
            "401 Unauthorized from % for service account default",
            "access denied for user app to bucket @-uploads",
        ],
    ),
    ("disk_pressure", 1, &["write /var/lib/app/spool/#.tmp: no space left on device"]),
    (
        "network_unavailable",
        3,
        &[
            "dial udp 10.96.0.10:53: connect: network is unreachable",
            "dial tcp 10.244.#.#:8080: connect: no route to host",
        ],
    ),
    (
        "certificate_error",
        4,
        &[
            "tls: failed to verify certificate: x509: certificate signed by unknown authority",
            "x509: certificate has expired or is not yet valid",
        ],
    ),
    (
        "database_error",
        5,
        &[
            "database error: pq: too many connections for role \"app\"",
            "connection to database failed: FATAL: the database system is starting up",
        ],
    ),
    (
        "high_cpu",
        4,
        &[
            "CPU throttling detected: throttled #% of periods in the last minute",
            "cpu usage near limit: #m of #m",
        ],
    ),
    (
        "high_memory",
        4,
        &["high memory usage: heap #MiB of #MiB", "memory pressure: evicting # cache entries"],
    ),
    ("slow_response", 10, &["slow response from %: #ms", "response time above SLO for GET /api/v1/%: #ms"]),
    ("retry_attempt", 14, &["retrying request to % (attempt #/5)", "attempt # failed, backing off #ms"]),
    (
        "deprecated_api",
        3,
        &[
            "policy/v1beta1 PodDisruptionBudget is deprecated in v1.21+, unavailable in v1.25+",
            "config key server.legacyMode is obsolete and will be removed",
        ],
    ),
];

/// How a crash-looping container dies: its last words. `I:` and `E:` lines are the app's own
/// (info and error, in its dialect); the others are written raw (stack traces, runtime output).
pub(crate) const CRASHES: [&[&str]; 5] = [
    &[
        "I:Connecting to database postgres.@.svc.cluster.local:5432",
        "E:failed to connect to database: dial tcp 10.96.#.#:5432: connect: connection refused",
        "E:could not start: database unavailable after 5 tries",
    ],
    &[
        "panic: required environment variable PAYMENT_API_URL is not set",
        "",
        "goroutine 1 [running]:",
        "main.mustEnv({0x1a2b3c, 0xf})",
        "\t/app/cmd/server/main.go:42 +0x1d4",
        "main.main()",
        "\t/app/cmd/server/main.go:18 +0x3c",
    ],
    &["E:dial tcp: lookup %.@.svc.cluster.local on 10.96.0.10:53: no such host"],
    &[
        "Error: EACCES: permission denied, open '/var/lib/app/cache/index.db'",
        "    at Object.openSync (node:fs:573:18)",
        "Node.js v20.18.0",
    ],
    &[
        "Exception in thread \"main\" java.lang.IllegalStateException: Failed to load ApplicationContext",
        "Caused by: org.postgresql.util.PSQLException: FATAL: password authentication failed for user \"app\"",
        "\tat org.postgresql.core.v3.ConnectionFactoryImpl.doAuthentication(ConnectionFactoryImpl.java:693)",
    ],
];

/// Renders lines of one log, one at a time.
#[derive(Debug)]
pub(crate) struct LineGen {
    context: LogContext,
    prng: Prng,
    /// Nanoseconds since the base day's midnight of the next line.
    at: u64,
    step: u64,
    end: u64,
    /// Per-million chance that a line is a family line (containers differ a lot).
    family_rate: u64,
    scratch: Vec<u8>,
}

impl LineGen {
    /// A generator spreading about `bytes / MEAN_LINE` lines over the context's window.
    pub(crate) fn new(context: LogContext, bytes: u64) -> LineGen {
        let mut prng = Prng::new(context.seed);
        let start = to_day_nanos(context.start);
        let end = to_day_nanos(context.end).max(start + 1);
        let lines = (bytes / MEAN_LINE).max(1);
        let family_rate = *prng.pick(&[
            0, 0, 0, 0, 0, 0, 0, 2_000, 2_000, 2_000, 2_000, 2_000, 2_000, 2_000, 8_000, 8_000, 8_000,
            40_000, 40_000, 150_000,
        ]);
        LineGen {
            context,
            prng,
            at: start,
            step: (end - start) / lines,
            end,
            family_rate,
            scratch: Vec::with_capacity(256),
        }
    }

    fn advance(&mut self) -> u64 {
        let at = self.at.min(self.end);
        self.at += self.step / 2 + self.prng.below(self.step + 1);
        at
    }

    /// Appends one ordinary line (with the occasional family or problem line) and `\n`.
    pub(crate) fn line(&mut self, out: &mut Vec<u8>) {
        let roll = self.prng.below(1_000_000);
        if roll < self.family_rate {
            let family = self.pick_family();
            let template = *self.prng.pick(FAMILY_LINES[family].2);
            let level = if family < 10 { Level::Error } else { Level::Warn };
            self.message(out, level, template);
        } else if roll < self.family_rate + 6_000 {
            let level = if self.prng.chance(500_000) { Level::Warn } else { Level::Error };
            let template = *self.prng.pick(&OTHER_PROBLEMS);
            self.message(out, level, template);
        } else {
            self.ordinary(out);
        }
    }

    /// Appends `template` as a line at `level` in this log's dialect.
    pub(crate) fn message_line(&mut self, out: &mut Vec<u8>, error: bool, template: &str) {
        self.message(out, if error { Level::Error } else { Level::Info }, template);
    }

    /// Appends a raw line (a stack frame, a blank) with only the kubelet prefix.
    pub(crate) fn raw_line(&mut self, out: &mut Vec<u8>, template: &str) {
        let at = self.advance();
        kubelet_prefix(out, at);
        self.render(template);
        out.extend_from_slice(&self.scratch);
        out.push(b'\n');
    }

    fn pick_family(&mut self) -> usize {
        let total: u64 = FAMILY_LINES.iter().map(|f| f.1).sum();
        let mut roll = self.prng.below(total);
        for (index, family) in FAMILY_LINES.iter().enumerate() {
            if roll < family.1 {
                return index;
            }
            roll -= family.1;
        }
        0
    }

    /// Expands a template into `scratch`.
    fn render(&mut self, template: &str) {
        self.scratch.clear();
        for &byte in template.as_bytes() {
            match byte {
                b'#' => {
                    let n = self.prng.between(1, 9_999);
                    push_u64(&mut self.scratch, n);
                }
                b'@' => self.scratch.extend_from_slice(self.context.namespace.as_bytes()),
                b'%' => self.scratch.extend_from_slice(self.context.peer.as_bytes()),
                _ => self.scratch.push(byte),
            }
        }
    }

    fn ordinary(&mut self, out: &mut Vec<u8>) {
        match self.context.style {
            LogStyle::Nginx => self.nginx_access(out),
            LogStyle::Envoy => self.envoy_access(out),
            LogStyle::Klog => {
                let template = *self.prng.pick(&KLOG_INFO);
                self.message(out, Level::Info, template);
            }
            LogStyle::App | LogStyle::Json => {
                let (level, template) = if self.prng.chance(50_000) {
                    (Level::Debug, *self.prng.pick(&DEBUG))
                } else {
                    (Level::Info, *self.prng.pick(&INFO))
                };
                self.message(out, level, template);
            }
        }
    }

    fn message(&mut self, out: &mut Vec<u8>, level: Level, template: &str) {
        let at = self.advance();
        kubelet_prefix(out, at);
        self.render(template);
        let app_at = at.saturating_sub(self.prng.below(900_000));
        match self.context.style {
            LogStyle::App => {
                push_rfc3339(out, app_at, 3);
                out.extend_from_slice(match level {
                    Level::Debug => b" DEBUG 1 --- [",
                    Level::Info => b"  INFO 1 --- [",
                    Level::Warn => b"  WARN 1 --- [",
                    Level::Error => b" ERROR 1 --- [",
                });
                out.extend_from_slice(b"nio-");
                push_u64(out, self.context.port);
                out.extend_from_slice(b"-exec-");
                push_u64(out, self.prng.between(1, 10));
                out.extend_from_slice(b"] c.e.");
                out.extend_from_slice(self.context.peer.as_bytes());
                out.extend_from_slice(b".Service : ");
                out.extend_from_slice(&self.scratch);
            }
            LogStyle::Json => {
                out.extend_from_slice(b"{\"level\":\"");
                out.extend_from_slice(match level {
                    Level::Debug => b"debug",
                    Level::Info => b"info",
                    Level::Warn => b"warn",
                    Level::Error => b"error",
                });
                out.extend_from_slice(b"\",\"ts\":\"");
                push_rfc3339(out, app_at, 3);
                out.extend_from_slice(b"\",\"logger\":\"http\",\"caller\":\"server/handler.go:");
                push_u64(out, self.prng.between(40, 400));
                out.extend_from_slice(b"\",\"msg\":\"");
                escape_json(out, &self.scratch);
                out.extend_from_slice(b"\",\"trace_id\":\"");
                let trace = self.prng.next_u64();
                push_hex(out, trace);
                out.extend_from_slice(b"\"}");
            }
            LogStyle::Klog => {
                out.push(match level {
                    Level::Debug | Level::Info => b'I',
                    Level::Warn => b'W',
                    Level::Error => b'E',
                });
                out.extend_from_slice(KLOG_DAY.as_bytes());
                out.push(b' ');
                push_hms(out, app_at);
                push_fraction(out, app_at, 6);
                out.extend_from_slice(b"       1 ");
                out.extend_from_slice(self.prng.pick(&KLOG_FILES).as_bytes());
                out.push(b':');
                push_u64(out, self.prng.between(50, 900));
                out.extend_from_slice(b"] ");
                if matches!(level, Level::Warn | Level::Error) {
                    out.extend_from_slice(b"\"Reconciler error\" err=\"");
                    escape_json(out, &self.scratch);
                    out.push(b'"');
                } else {
                    out.extend_from_slice(&self.scratch);
                }
            }
            LogStyle::Nginx => {
                out.extend_from_slice(SLASH_DAY.as_bytes());
                out.push(b' ');
                push_hms(out, app_at);
                out.extend_from_slice(match level {
                    Level::Error => b" [error] 29#29: *",
                    _ => b" [warn] 29#29: *",
                });
                push_u64(out, self.prng.between(1, 999_999));
                out.push(b' ');
                out.extend_from_slice(&self.scratch);
                out.extend_from_slice(b", client: 10.244.");
                push_u64(out, self.prng.below(256));
                out.push(b'.');
                push_u64(out, self.prng.between(2, 250));
                out.extend_from_slice(b", server: _");
            }
            LogStyle::Envoy => {
                push_rfc3339(out, app_at, 6);
                out.extend_from_slice(match level {
                    Level::Error => b"\terror\tenvoy upstream external/envoy/source/common/upstream/cluster_manager_impl.cc:",
                    _ => b"\twarning\tenvoy config external/envoy/source/extensions/config_subscription/grpc/grpc_stream.h:",
                });
                push_u64(out, self.prng.between(100, 2_000));
                out.push(b'\t');
                out.extend_from_slice(&self.scratch);
            }
        }
        out.push(b'\n');
    }

    fn nginx_access(&mut self, out: &mut Vec<u8>) {
        let at = self.advance();
        kubelet_prefix(out, at);
        out.extend_from_slice(b"10.244.");
        push_u64(out, self.prng.below(256));
        out.push(b'.');
        push_u64(out, self.prng.between(2, 250));
        out.extend_from_slice(b" - - [");
        out.extend_from_slice(CLF_DAY.as_bytes());
        out.push(b':');
        push_hms(out, at);
        out.extend_from_slice(b" +0000] \"");
        out.extend_from_slice(if self.prng.chance(850_000) { b"GET " } else { b"POST " });
        let path = *self.prng.pick(&PATHS);
        self.render(path);
        out.extend_from_slice(&self.scratch);
        let status: u64 = *self.prng.pick(&[200, 200, 200, 200, 200, 200, 200, 304, 301, 404, 201]);
        out.extend_from_slice(b" HTTP/1.1\" ");
        push_u64(out, status);
        out.push(b' ');
        push_u64(out, self.prng.between(0, 90_000));
        out.extend_from_slice(b" \"-\" \"");
        out.extend_from_slice(self.prng.pick(&AGENTS).as_bytes());
        out.extend_from_slice(b"\" 0.");
        push_digits(out, self.prng.below(400), 3);
        out.push(b'\n');
    }

    fn envoy_access(&mut self, out: &mut Vec<u8>) {
        let at = self.advance();
        kubelet_prefix(out, at);
        out.push(b'[');
        push_rfc3339(out, at.saturating_sub(2_000_000), 3);
        out.extend_from_slice(b"] \"GET /api/v1/");
        out.extend_from_slice(self.context.peer.as_bytes());
        out.push(b'/');
        push_u64(out, self.prng.between(1, 99_999));
        out.extend_from_slice(b" HTTP/1.1\" 200 - via_upstream - \"-\" 0 ");
        push_u64(out, self.prng.between(80, 40_000));
        out.push(b' ');
        push_u64(out, self.prng.between(1, 300));
        out.push(b' ');
        push_u64(out, self.prng.between(1, 300));
        out.extend_from_slice(b" \"-\" \"Go-http-client/1.1\" \"");
        let id = self.prng.next_u64();
        push_hex(out, id);
        out.extend_from_slice(b"\" \"");
        out.extend_from_slice(self.context.peer.as_bytes());
        out.push(b'.');
        out.extend_from_slice(self.context.namespace.as_bytes());
        out.extend_from_slice(b".svc.cluster.local:8080\" \"10.244.");
        push_u64(out, self.prng.below(256));
        out.push(b'.');
        push_u64(out, self.prng.between(2, 250));
        out.extend_from_slice(b":8080\" inbound|8080|| 127.0.0.6:");
        push_u64(out, self.prng.between(30_000, 60_000));
        out.extend_from_slice(b" default\n");
    }
}

fn to_day_nanos(unix_seconds: i64) -> u64 {
    u64::try_from(unix_seconds - DAY_START).unwrap_or(0) * 1_000_000_000
}

/// The `--timestamps` prefix the kubelet puts before every line.
fn kubelet_prefix(out: &mut Vec<u8>, at: u64) {
    push_rfc3339(out, at, 9);
    out.push(b' ');
}

fn push_hex(out: &mut Vec<u8>, value: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..16).rev() {
        out.push(DIGITS[((value >> (shift * 4)) & 0xf) as usize]);
    }
}

fn escape_json(out: &mut Vec<u8>, text: &[u8]) {
    for &byte in text {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.push(byte),
        }
    }
}

/// A log of exactly `size` bytes, rendered as it is read.
#[derive(Debug)]
pub(crate) struct LogStream {
    lines: LineGen,
    remaining: u64,
    buffer: Vec<u8>,
    position: usize,
}

impl LogStream {
    pub(crate) fn new(context: LogContext, size: u64) -> LogStream {
        LogStream {
            lines: LineGen::new(context, size),
            remaining: size,
            buffer: Vec::with_capacity(CHUNK + 1024),
            position: 0,
        }
    }

    fn refill(&mut self) {
        self.buffer.clear();
        self.position = 0;
        while self.buffer.len() < CHUNK && self.remaining > 0 {
            let start = self.buffer.len();
            self.lines.line(&mut self.buffer);
            let length = (self.buffer.len() - start) as u64;
            if length > self.remaining {
                // The planned size ends inside this line: cut it, as a byte cap would.
                self.buffer.truncate(start + self.remaining as usize - 1);
                self.buffer.push(b'\n');
                self.remaining = 0;
            } else {
                self.remaining -= length;
            }
        }
    }
}

impl Read for LogStream {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.position == self.buffer.len() {
            if self.remaining == 0 {
                return Ok(0);
            }
            self.refill();
        }
        let n = out.len().min(self.buffer.len() - self.position);
        out[..n].copy_from_slice(&self.buffer[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
}

/// How a short log ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The crash of [`CRASHES`]`[n]`: the last lines say why.
    Crash(usize),
    /// Killed by the kernel: memory warnings, then nothing.
    OomKilled,
    /// An init container waiting for its dependency.
    WaitForDeps,
    /// A Job that finished, successfully or not.
    Job { failed: bool },
}

/// Renders a short log of at most `size` bytes (at least its ending) whole.
pub(crate) fn render_small(context: LogContext, size: u64, ending: Ending) -> Vec<u8> {
    let mut lines = LineGen::new(context, size);
    let mut tail = Vec::new();
    let mut body = Vec::new();
    // Render the ending first (with its own stream) to know how much room the body has.
    let mut ending_lines =
        LineGen::new(LogContext { seed: lines.context.seed ^ 0x5eed, ..lines.context.clone() }, 1);
    let ending_start = lines.end.saturating_sub(2_000_000_000);
    ending_lines.at = ending_start;
    ending_lines.step = 100_000_000;
    match ending {
        Ending::Crash(index) => {
            for line in CRASHES[index % CRASHES.len()] {
                if let Some(info) = line.strip_prefix("I:") {
                    ending_lines.message_line(&mut tail, false, info);
                } else if let Some(error) = line.strip_prefix("E:") {
                    ending_lines.message_line(&mut tail, true, error);
                } else {
                    ending_lines.raw_line(&mut tail, line);
                }
            }
        }
        Ending::OomKilled => {
            for _ in 0..3 {
                ending_lines.message(&mut tail, Level::Warn, "high memory usage: heap #MiB of #MiB");
            }
        }
        Ending::WaitForDeps => {
            body.clear();
            let n = (size / 60).clamp(1, 40);
            for _ in 0..n {
                lines.raw_line(&mut body, "waiting for postgres");
            }
            lines.raw_line(&mut body, "postgres is up");
            return body;
        }
        Ending::Job { failed } => {
            ending_lines.message_line(&mut tail, false, "Applying migration V#__add_order_index");
            if failed {
                ending_lines.message_line(
                    &mut tail,
                    true,
                    "migration failed: ERROR: relation \"orders_archive\" does not exist (SQLSTATE 42P01)",
                );
                ending_lines.raw_line(&mut tail, "exit status 1");
            } else {
                ending_lines.message_line(&mut tail, false, "Migration complete: # statements in #ms");
            }
        }
    }
    // The body ends before the ending starts, so timestamps never go back.
    lines.end = ending_start.saturating_sub(1_000_000).max(to_day_nanos(lines.context.start));
    let budget = size.saturating_sub(tail.len() as u64) as usize;
    let mut line = Vec::with_capacity(512);
    loop {
        line.clear();
        lines.line(&mut line);
        if body.len() + line.len() > budget {
            break;
        }
        body.extend_from_slice(&line);
    }
    body.extend_from_slice(&tail);
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::RegexBuilder;

    /// `K8sLogAnalyzer`'s `error_patterns` and `warning_patterns`, verbatim.
    const REFERENCE_PATTERNS: [(&str, &str); 15] = [
        ("oom_killed", r"(OOMKilled|out of memory|memory limit exceeded)"),
        ("image_pull_error", r"(ImagePullBackOff|ErrImagePull|Failed to pull image)"),
        ("dns_resolution", r"(no such host|DNS resolution failed|dial tcp.*no route to host)"),
        ("connection_refused", r"(connection refused|connect: connection refused)"),
        ("timeout_error", r"(timeout|timed out|deadline exceeded)"),
        ("permission_denied", r"(permission denied|access denied|unauthorized)"),
        ("disk_pressure", r"(disk pressure|no space left on device|disk full)"),
        ("network_unavailable", r"(network is unreachable|no route to host)"),
        ("certificate_error", r"(certificate|x509|tls|ssl.*error)"),
        ("database_error", r"(database.*error|sql.*error|connection.*database.*failed)"),
        ("high_cpu", r"(cpu.*throttl|cpu.*limit|high cpu)"),
        ("high_memory", r"(memory.*pressure|high memory usage)"),
        ("slow_response", r"(slow.*response|request.*timeout|response time)"),
        ("retry_attempt", r"(retry|retrying|attempt.*failed)"),
        ("deprecated_api", r"(deprecated|will be removed|obsolete)"),
    ];

    fn families(line: &str) -> Vec<&'static str> {
        static COMPILED: std::sync::OnceLock<Vec<(&'static str, regex::Regex)>> = std::sync::OnceLock::new();
        let compiled = COMPILED.get_or_init(|| {
            REFERENCE_PATTERNS
                .iter()
                .filter_map(|(family, pattern)| {
                    Some((*family, RegexBuilder::new(pattern).case_insensitive(true).build().ok()?))
                })
                .collect()
        });
        assert_eq!(compiled.len(), REFERENCE_PATTERNS.len());
        compiled.iter().filter(|(_, re)| re.is_match(line)).map(|(family, _)| *family).collect()
    }

    fn context(style: LogStyle, seed: u64) -> LogContext {
        LogContext {
            style,
            namespace: "shop".into(),
            peer: "orders".into(),
            port: 8080,
            seed,
            start: super::super::clock::BASE - 3_600,
            end: super::super::clock::BASE,
        }
    }

    const STYLES: [LogStyle; 5] =
        [LogStyle::App, LogStyle::Klog, LogStyle::Json, LogStyle::Nginx, LogStyle::Envoy];

    #[test]
    fn ordinary_lines_match_no_family_and_family_lines_match_theirs() {
        for style in STYLES {
            let mut lines = LineGen::new(context(style, 1), 1 << 20);
            for _ in 0..300 {
                let mut out = Vec::new();
                lines.ordinary(&mut out);
                let text = String::from_utf8_lossy(&out);
                assert_eq!(families(&text), Vec::<&str>::new(), "{style:?}: {text}");
            }
            for template in OTHER_PROBLEMS {
                let mut out = Vec::new();
                lines.message(&mut out, Level::Error, template);
                let text = String::from_utf8_lossy(&out);
                assert_eq!(families(&text), Vec::<&str>::new(), "{style:?}: {text}");
            }
            for (family, _, templates) in FAMILY_LINES {
                for template in templates {
                    let mut out = Vec::new();
                    lines.message(&mut out, Level::Error, template);
                    let text = String::from_utf8_lossy(&out);
                    assert!(families(&text).contains(&family), "{style:?} {family}: {text}");
                }
            }
        }
    }

    #[test]
    fn stream_yields_exactly_the_planned_bytes_of_whole_timed_lines() -> io::Result<()> {
        for size in [0u64, 1, 150, 70_001, 300_000] {
            let mut out = Vec::new();
            LogStream::new(context(LogStyle::Json, size), size).read_to_end(&mut out)?;
            assert_eq!(out.len() as u64, size);
            if size > 0 {
                assert_eq!(out.last(), Some(&b'\n'));
            }
            let text = String::from_utf8_lossy(&out);
            let mut previous = String::new();
            for line in text.lines().filter(|line| line.len() > 31) {
                let stamp = &line[..30];
                assert!(stamp.starts_with("2026-03-14T") && stamp.ends_with('Z'), "{line}");
                assert!(stamp >= previous.as_str(), "timestamps must not go back: {previous} then {stamp}");
                previous = stamp.to_owned();
            }
        }
        Ok(())
    }

    #[test]
    fn most_lines_match_nothing_but_families_appear() -> io::Result<()> {
        let mut out = Vec::new();
        for seed in 0..40 {
            LogStream::new(context(STYLES[seed as usize % 5], seed), 100_000).read_to_end(&mut out)?;
        }
        let text = String::from_utf8_lossy(&out);
        let total = text.lines().count();
        let matching = text.lines().filter(|line| !families(line).is_empty()).count();
        assert!(matching > 0, "no family line in {total} lines");
        assert!(matching * 10 < total, "{matching} of {total} lines match a family");
        Ok(())
    }

    #[test]
    fn a_crash_log_ends_on_its_cause() {
        let log = render_small(context(LogStyle::App, 5), 4_000, Ending::Crash(0));
        let text = String::from_utf8_lossy(&log);
        assert!(log.len() <= 4_000 && log.len() > 2_000, "{} bytes", log.len());
        let last = text.lines().last().unwrap_or_default();
        assert!(last.contains("database unavailable"), "{last}");
        assert!(text.lines().rev().nth(1).is_some_and(|line| line.contains("connection refused")));
        let stamps: Vec<&str> = text.lines().map(|line| &line[..30]).collect();
        assert!(stamps.windows(2).all(|pair| pair[0] <= pair[1]), "timestamps go back: {stamps:?}");
        let panic = render_small(context(LogStyle::Json, 6), 3_000, Ending::Crash(1));
        assert!(
            String::from_utf8_lossy(&panic)
                .contains(" panic: required environment variable PAYMENT_API_URL is not set\n")
        );
    }
}
