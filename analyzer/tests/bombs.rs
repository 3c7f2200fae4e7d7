//! Decompression bombs against the built `kubesnap-analyze`: memory stays bounded by design,
//! whatever one entry expands to.
//!
//! Each bomb is a few megabytes on disk that expands to gigabytes of zeros: gzip and xz bombs
//! are concatenated compressed members (one member of zeros, compressed once, repeated), which
//! the reader decodes as one stream; plain tar, folder and zip bombs are sparse files. None is
//! ever written whole. Each run's peak resident memory is the child's, as `/usr/bin/time`
//! measures it (its maximum resident set size), and must stay under [`RSS_BUDGET_KIB`]; each
//! bomb's entry is refused, skipped with its reason, or streamed.

#![cfg(test)]

use std::fs::{self, File};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// What one bomb entry expands to.
const BOMB: u64 = 2 << 30;
/// A bomb small enough to pass the size limits (under the 512 MiB cap on files parsed whole),
/// so that only its content can refuse it.
const SMALL_BOMB: u64 = 256 << 20;
/// Peak resident memory allowed to any run, in KiB: the binary, its log patterns, 32 MiB of
/// entries in flight, and the 64 MiB held while the format is unknown, with room to spare.
/// Without the bounds, the 2 GiB bomb of an unknown format peaked at 4.2 GB.
const RSS_BUDGET_KIB: u64 = 256 << 10;
/// Zeros compressed once and repeated.
const ZERO_BLOCK: usize = 16 << 20;

/// A native bundle's `format.json` (the golden v1 bundle's).
const FORMAT_JSON: &str = r#"{"format": "kubesnap-bundle", "format_version": 1, "tool": {"name": "kubesnap-collect", "version": "0.1.0"}, "started_at": "2026-11-21T10:34:00Z"}"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Gzip,
    Xz,
    Tar,
    Folder,
}

/// One file of a bomb bundle.
enum Content {
    Text(&'static str),
    /// Bytes made by the test (a zip).
    Binary(Vec<u8>),
    Zeros(u64),
    /// A line repeated to the given size.
    Lines(&'static str, u64),
}

/// A piece of the tar stream.
enum Segment {
    Bytes(Vec<u8>),
    /// `size` bytes of `pattern` repeated (`\0` for zeros).
    Fill(&'static [u8], u64),
}

fn tar_segments(files: &[(&str, Content)]) -> Vec<Segment> {
    let mut segments = Vec::new();
    for (name, content) in files {
        let size = match content {
            Content::Text(text) => text.len() as u64,
            Content::Binary(bytes) => bytes.len() as u64,
            Content::Zeros(size) | Content::Lines(_, size) => *size,
        };
        let mut header = tar::Header::new_gnu();
        header.set_path(name).unwrap();
        header.set_size(size);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        segments.push(Segment::Bytes(header.as_bytes().to_vec()));
        match content {
            Content::Text(text) => segments.push(Segment::Bytes(text.as_bytes().to_vec())),
            Content::Binary(bytes) => segments.push(Segment::Bytes(bytes.clone())),
            Content::Zeros(size) => segments.push(Segment::Fill(b"\0", *size)),
            Content::Lines(line, size) => segments.push(Segment::Fill(line.as_bytes(), *size)),
        }
        let padding = (512 - size % 512) % 512;
        segments.push(Segment::Bytes(vec![0; padding as usize]));
    }
    segments.push(Segment::Bytes(vec![0; 1024]));
    segments
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = liblzma::write::XzEncoder::new(Vec::new(), 0);
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// `size` bytes of `pattern` repeated, from its start.
fn filled(pattern: &[u8], size: usize) -> Vec<u8> {
    pattern.iter().copied().cycle().take(size).collect()
}

/// Writes `files` as a bundle in `container`; fills are never held or written whole (zeros in
/// a plain tar or folder are holes).
fn write_bundle(dir: &Path, container: Container, files: &[(&str, Content)]) -> PathBuf {
    if container == Container::Folder {
        let root = dir.join("bundle");
        for (name, content) in files {
            let path = root.join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            match content {
                Content::Text(text) => fs::write(&path, text).unwrap(),
                Content::Binary(bytes) => fs::write(&path, bytes).unwrap(),
                Content::Zeros(size) => File::create(&path).unwrap().set_len(*size).unwrap(),
                Content::Lines(line, size) => {
                    let mut file = io::BufWriter::new(File::create(&path).unwrap());
                    let block = filled(line.as_bytes(), ZERO_BLOCK);
                    for _ in 0..size / ZERO_BLOCK as u64 {
                        file.write_all(&block).unwrap();
                    }
                    file.write_all(&block[..usize::try_from(size % ZERO_BLOCK as u64).unwrap()]).unwrap();
                }
            }
        }
        return root;
    }
    let path = dir.join("bundle.archive");
    let mut file = io::BufWriter::new(File::create(&path).unwrap());
    let compress: fn(&[u8]) -> Vec<u8> = match container {
        Container::Gzip => gzip,
        Container::Xz => xz,
        Container::Tar | Container::Folder => |bytes| bytes.to_vec(),
    };
    for segment in tar_segments(files) {
        match segment {
            Segment::Bytes(bytes) => file.write_all(&compress(&bytes)).unwrap(),
            Segment::Fill(b"\0", size) if container == Container::Tar => {
                // A hole: the file system stores nothing for it.
                file.flush().unwrap();
                file.get_mut().seek(SeekFrom::Current(i64::try_from(size).unwrap())).unwrap();
            }
            Segment::Fill(pattern, size) => {
                // Whole blocks, each a whole number of patterns, compressed once.
                let block_size = ZERO_BLOCK / pattern.len() * pattern.len();
                let block = compress(&filled(pattern, block_size));
                for _ in 0..size / block_size as u64 {
                    file.write_all(&block).unwrap();
                }
                let rest = usize::try_from(size % block_size as u64).unwrap();
                if rest > 0 {
                    file.write_all(&compress(&filled(pattern, rest))).unwrap();
                }
            }
        }
    }
    file.flush().unwrap();
    path
}

/// One measured run: the analyzer's output, its `findings.json` when written, and its peak
/// resident memory in KiB.
struct Run {
    output: Output,
    findings: Option<Value>,
    peak_kib: u64,
}

fn time_program() -> &'static Path {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        assert!(
            Path::new("/usr/bin/time").is_file(),
            "these tests measure peak memory with /usr/bin/time (Debian package `time`), which is missing"
        );
    });
    Path::new("/usr/bin/time")
}

fn analyze(dir: &Path, bundle: &Path) -> Run {
    let out = dir.join("out");
    let peak = dir.join("peak");
    let output = Command::new(time_program())
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&peak)
        .arg(env!("CARGO_BIN_EXE_kubesnap-analyze"))
        .arg(bundle)
        .arg("-o")
        .arg(&out)
        .args(["--format", "json", "--threads", "2"])
        .env_remove("RUST_LOG")
        .output()
        .expect("failed to run kubesnap-analyze under /usr/bin/time");
    let peak_text = fs::read_to_string(&peak).unwrap_or_default();
    // `time` prints "Command exited with non-zero status N" first when the command failed.
    let peak_kib = peak_text
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in /usr/bin/time's output: {peak_text:?}"));
    let findings =
        fs::read(out.join("findings.json")).ok().map(|bytes| serde_json::from_slice(&bytes).unwrap());
    Run { output, findings, peak_kib }
}

impl Run {
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    fn assert_within_budget(&self, what: &str) {
        eprintln!("{what}: peak RSS {} MiB", self.peak_kib >> 10);
        assert!(
            self.peak_kib < RSS_BUDGET_KIB,
            "{what}: peak RSS {} KiB, budget {RSS_BUDGET_KIB} KiB; stderr: {}",
            self.peak_kib,
            self.stderr()
        );
    }

    /// The report was written, and one of its read problems says `needle`.
    fn assert_read_problem(&self, what: &str, needle: &str) {
        // A bomb's bundle holds no object besides it: the report is written, and the exit code
        // says there was nothing to analyze (3, docs/analyzer.md), never a clean bill of health.
        assert_eq!(self.output.status.code(), Some(3), "{what}: stderr: {}", self.stderr());
        let findings = self.findings.as_ref().unwrap_or_else(|| panic!("{what}: no findings.json"));
        let problems = findings["read_problems"].as_array().unwrap();
        assert!(
            problems.iter().any(|problem| problem.as_str().unwrap().contains(needle)),
            "{what}: no read problem says {needle:?}: {problems:#?}"
        );
    }
}

/// The bomb alone: no bundle layout to detect, so the analyzer must not hold it while it waits.
fn unknown_format_bomb(container: Container) {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), container, &[("zeros/bomb.bin", Content::Zeros(BOMB))]);
    let run = analyze(dir.path(), &bundle);
    let what = format!("{container:?} holding one 2 GiB entry of zeros");
    assert_eq!(run.output.status.code(), Some(2), "{what}: stderr: {}", run.stderr());
    assert!(run.stderr().contains("is not a bundle kubesnap knows"), "{what}: stderr: {}", run.stderr());
    run.assert_within_budget(&what);
}

#[test]
fn a_gzip_bomb_of_an_unknown_format_is_not_held() {
    unknown_format_bomb(Container::Gzip);
}

#[test]
fn an_xz_bomb_of_an_unknown_format_is_not_held() {
    unknown_format_bomb(Container::Xz);
}

#[test]
fn a_tar_bomb_of_an_unknown_format_is_not_held() {
    unknown_format_bomb(Container::Tar);
}

#[test]
fn a_folder_bomb_of_an_unknown_format_is_not_held() {
    unknown_format_bomb(Container::Folder);
}

#[test]
fn a_zip_is_refused_from_its_first_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.zip");
    let mut file = File::create(&path).unwrap();
    file.write_all(b"PK\x03\x04").unwrap();
    file.set_len(BOMB).unwrap();
    let run = analyze(dir.path(), &path);
    assert_eq!(run.output.status.code(), Some(2), "stderr: {}", run.stderr());
    assert!(run.stderr().contains("failed to open bundle"), "stderr: {}", run.stderr());
    run.assert_within_budget("a zip of 2 GiB");
}

/// A zip member written by hand: a local header that declares what the test wants it to, then
/// `data`.
fn zip_member(name: &str, method: u16, crc: u32, data: &[u8], declared: u32) -> Vec<u8> {
    let mut bytes = b"PK\x03\x04".to_vec();
    bytes.extend_from_slice(&20u16.to_le_bytes()); // version needed to extract
    bytes.extend_from_slice(&0u16.to_le_bytes()); // flags: sizes here, no data descriptor
    bytes.extend_from_slice(&method.to_le_bytes());
    bytes.extend_from_slice(&[0; 4]); // time and date
    bytes.extend_from_slice(&crc.to_le_bytes());
    bytes.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
    bytes.extend_from_slice(&declared.to_le_bytes());
    bytes.extend_from_slice(&u16::try_from(name.len()).unwrap().to_le_bytes());
    bytes.extend_from_slice(&0u16.to_le_bytes()); // no extra field
    bytes.extend_from_slice(name.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// A support-bundle-kit node archive of 2 MiB holding a hostile mix: a member whose header
/// claims 4 GiB from a few bytes (refused by its ratio), one that climbs out of the archive
/// (refused by its path), then a kernel log of 2 GiB of zeros deflated 1,000 to 1 (a real
/// bomb, streamed), beside an archive that is no zip at all. Every member is counted and checked
/// before a byte of it is read; memory stays within the budget.
#[test]
fn a_node_zip_bomb_is_streamed_and_its_hostile_members_refused() {
    let mut deflated = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    deflated.write_all(b"oom\n").unwrap();
    let liar = zip_member("n1/logs/liar.log", 8, 0, &deflated.finish().unwrap(), 0xFFFF_0000);
    let escape = zip_member("../../etc/cron.d/evil.log", 0, flate2_crc(b"evil\n"), b"evil\n", 5);
    let mut writer = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    writer.start_file("n1/logs/kernel.log", options).unwrap();
    let block = vec![0; ZERO_BLOCK];
    for _ in 0..BOMB / ZERO_BLOCK as u64 {
        writer.write_all(&block).unwrap();
    }
    let bomb = writer.finish().unwrap().into_inner();
    assert!(bomb.len() < 4 << 20, "the bomb is {} bytes", bomb.len());
    let archive = [liar, escape, bomb].concat();

    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(
        dir.path(),
        Container::Folder,
        &[
            ("sb/yamls/cluster/v1/nodes.yaml", Content::Text("apiVersion: v1\nkind: List\nitems: []\n")),
            ("sb/nodes/n1.zip", Content::Binary(archive)),
            ("sb/nodes/n2.zip", Content::Text("PK\u{3}\u{4} is all this archive has\n")),
        ],
    );
    let run = analyze(dir.path(), &bundle.join("sb"));
    let what = "a node archive holding a 2 GiB kernel log and hostile members";
    run.assert_read_problem(
        what,
        "`nodes/n1.zip/n1/logs/liar.log` refused: zip member declares 4294901760 bytes",
    );
    run.assert_read_problem(what, "`nodes/n1.zip/../../etc/cron.d/evil.log` refused: path contains `..`");
    run.assert_read_problem(what, "`nodes/n2.zip` could not be read to the end");
    run.assert_within_budget(what);
}

fn flate2_crc(bytes: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    crc.sum()
}

/// A file parsed whole larger than the cap is skipped before it is read.
fn oversized_entry(container: Container, name: &str, files: &[(&str, Content)]) {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), container, files);
    let run = analyze(dir.path(), &bundle);
    let what = format!("{container:?} holding a 2 GiB {name}");
    run.assert_read_problem(&what, "bytes a file parsed whole may hold (--max-parse-size); skipped");
    run.assert_within_budget(&what);
}

#[test]
fn a_json_list_bomb_is_refused_by_its_size_in_every_container() {
    for container in [Container::Gzip, Container::Xz, Container::Tar, Container::Folder] {
        oversized_entry(
            container,
            "JSON list",
            &[
                ("b/format.json", Content::Text(FORMAT_JSON)),
                ("b/resources/core/v1/pods/default.json", Content::Zeros(BOMB)),
            ],
        );
    }
}

#[test]
fn a_yaml_bomb_is_refused_by_its_size() {
    oversized_entry(
        Container::Gzip,
        "YAML list",
        &[("mg/namespaces/default/core/pods.yaml", Content::Zeros(BOMB))],
    );
}

#[test]
fn a_metrics_bomb_is_refused_by_its_size() {
    oversized_entry(
        Container::Gzip,
        "metrics file",
        &[("b/format.json", Content::Text(FORMAT_JSON)), ("b/metrics/pods.jsonl", Content::Zeros(BOMB))],
    );
}

#[test]
fn a_kubelet_stats_bomb_is_refused_by_its_size() {
    oversized_entry(
        Container::Xz,
        "kubelet stats",
        &[
            ("b/format.json", Content::Text(FORMAT_JSON)),
            ("b/kubelet/node-1/stats-summary.json", Content::Zeros(BOMB)),
        ],
    );
}

/// Under the size cap, a file of zeros is refused from its first bytes, before the rest is read.
#[test]
fn bombs_under_the_size_cap_are_refused_from_their_content() {
    let cases: [(&str, &[(&str, Content)]); 3] = [
        (
            "JSON list",
            &[
                ("b/format.json", Content::Text(FORMAT_JSON)),
                ("b/resources/core/v1/pods/default.json", Content::Zeros(SMALL_BOMB)),
            ],
        ),
        ("YAML list", &[("mg/namespaces/default/core/pods.yaml", Content::Zeros(SMALL_BOMB))]),
        (
            "kubelet stats",
            &[
                ("b/format.json", Content::Text(FORMAT_JSON)),
                ("b/kubelet/node-1/stats-summary.json", Content::Zeros(SMALL_BOMB)),
            ],
        ),
    ];
    for (name, files) in cases {
        let dir = tempfile::tempdir().unwrap();
        let bundle = write_bundle(dir.path(), Container::Gzip, files);
        let run = analyze(dir.path(), &bundle);
        let what = format!("a 256 MiB {name} of zeros");
        run.assert_read_problem(&what, "holds binary data");
        run.assert_within_budget(&what);
    }
}

/// A log is streamed: scanned a chunk at a time, never held whole.
#[test]
fn a_log_bomb_is_streamed() {
    for container in [Container::Gzip, Container::Folder] {
        let dir = tempfile::tempdir().unwrap();
        let bundle = write_bundle(
            dir.path(),
            container,
            &[
                ("b/format.json", Content::Text(FORMAT_JSON)),
                ("b/logs/default/web-0/web.log", Content::Zeros(BOMB)),
            ],
        );
        let run = analyze(dir.path(), &bundle);
        let what = format!("{container:?} holding a 2 GiB log");
        assert_eq!(
            run.output.status.code(),
            Some(3),
            "{what}: nothing but a log to analyze; stderr: {}",
            run.stderr()
        );
        run.assert_within_budget(&what);
    }
}

/// kubectl 1.33 when the machine has it beside the default one.
fn kubectl_program() -> String {
    let versioned = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .any(|dir| dir.join("kubectl.1.33").is_file());
    if versioned { "kubectl.1.33".to_owned() } else { "kubectl".to_owned() }
}

/// The peak resident memory of a running process, in KiB (`VmHWM` of `/proc/PID/status`).
fn peak_kib_of(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in /proc/{pid}/status"))
}

/// `serve` reads a log when kubectl asks for it: a 2 GiB log that is one line of zeros and a
/// 2 GiB log of short lines are streamed out of the bundle on every request, the answer is
/// the newest lines that fit and a line longer than a line holds is cut, each with its warning,
/// and `serve`'s peak memory (its own `VmHWM`, read while it runs) stays within the budget.
#[test]
fn serve_streams_huge_logs_with_bounded_memory() {
    const PODS: &str = r#"{"kind":"PodList","apiVersion":"v1","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-0","namespace":"default","uid":"u1","creationTimestamp":"2026-11-21T10:00:00Z"},"spec":{"containers":[{"name":"one-line","image":"x"},{"name":"lines","image":"x"}]},"status":{"phase":"Running"}}]}"#;
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(
        dir.path(),
        Container::Gzip,
        &[
            ("b/format.json", Content::Text(FORMAT_JSON)),
            ("b/resources/core/v1/pods/default.json", Content::Text(PODS)),
            ("b/logs/default/web-0/one-line.log", Content::Zeros(BOMB)),
            (
                "b/logs/default/web-0/lines.log",
                Content::Lines("2026-11-21T10:33:00.000000000Z one line of a log, 64 bytes long\n", BOMB),
            ),
        ],
    );
    let kubeconfig = dir.path().join("kubeconfig");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubesnap-analyze"))
        .arg("serve")
        .arg(&bundle)
        .arg("--kubeconfig-out")
        .arg(&kubeconfig)
        .arg("-q")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .spawn()
        .expect("failed to start kubesnap-analyze serve");
    let started = std::time::Instant::now();
    while !fs::read_to_string(&kubeconfig).is_ok_and(|text| text.contains("current-context")) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("serve exited with {status} before it wrote a kubeconfig");
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(300), "serve wrote no kubeconfig");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let kubectl = |args: &[&str]| {
        Command::new(kubectl_program())
            .args(args)
            .arg("--request-timeout=300s")
            .env("KUBECONFIG", &kubeconfig)
            .output()
            .expect("kubectl is needed by this test (kubectl.1.33 or kubectl on PATH)")
    };
    let one_line = kubectl(&["logs", "web-0", "-n", "default", "-c", "one-line"]);
    let lines = kubectl(&["logs", "web-0", "-n", "default", "-c", "lines"]);
    let tail = kubectl(&["logs", "web-0", "-n", "default", "-c", "lines", "--tail=2"]);
    let peak_kib = peak_kib_of(child.id());
    let _ = child.kill();
    let _ = child.wait();
    for (what, output) in [("one-line", &one_line), ("lines", &lines), ("tail", &tail)] {
        assert!(output.status.success(), "kubectl logs {what}: {}", String::from_utf8_lossy(&output.stderr));
    }
    // kubectl prints the answer's warnings on stderr.
    assert_eq!(one_line.stdout.len(), (8 << 20) + 1, "a line is cut at 8 MiB");
    assert!(String::from_utf8_lossy(&one_line.stderr).contains("longer than 8 MiB"), "{:?}", one_line.stderr);
    assert!(lines.stdout.len() <= 32 << 20 && lines.stdout.len() > 31 << 20, "{}", lines.stdout.len());
    assert!(String::from_utf8_lossy(&lines.stderr).contains("newest 32 MiB"));
    assert_eq!(String::from_utf8_lossy(&tail.stdout), "one line of a log, 64 bytes long\n".repeat(2));
    eprintln!("serve with two 2 GiB logs: peak RSS {} MiB", peak_kib >> 10);
    assert!(peak_kib < RSS_BUDGET_KIB, "serve: peak RSS {peak_kib} KiB, budget {RSS_BUDGET_KIB} KiB");
}
