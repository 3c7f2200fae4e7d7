//! Hostile inputs against the built `kubesnap-collect redact`: its memory stays bounded by
//! design, whatever one file or entry holds.
//!
//! Each run's peak resident memory is the child's, as `/usr/bin/time` measures it (its maximum
//! resident set size), and must stay under [`RSS_BUDGET_KIB`], as the analyzer's bomb tests
//! do (`analyzer/tests/bombs.rs`). The bundles are written through `BundleWriter` from
//! readers that repeat a pattern, never held whole; gzip shrinks them to a few megabytes.

#![cfg(test)]

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;
use std::process::{Command, Output};

use kubesnap_shared::manifest::{ClusterInfo, Tool};
use kubesnap_shared::writer::BundleHeader;
use kubesnap_shared::{Bundle, BundleWriter, Limits};

/// What one bomb entry expands to.
const BOMB: u64 = 1 << 30;
/// Peak resident memory allowed to any run, in KiB: the binary, its rules, a batch of lines
/// and the longest line (8 MiB), with room to spare.
const RSS_BUDGET_KIB: u64 = 256 << 10;

/// `size` bytes of `pattern` repeated.
fn repeated(pattern: &'static [u8], size: u64) -> impl Read {
    RepeatPattern { pattern, at: 0 }.take(size)
}

struct RepeatPattern {
    pattern: &'static [u8],
    at: usize,
}

impl Read for RepeatPattern {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        for byte in buf.iter_mut() {
            *byte = self.pattern[self.at];
            self.at = (self.at + 1) % self.pattern.len();
        }
        Ok(buf.len())
    }
}

/// A native bundle holding `entries`, each `size` bytes of a pattern.
fn write_bundle(path: &Path, entries: &[(&str, &'static [u8], u64)]) {
    let header = BundleHeader {
        root: "bomb".to_owned(),
        tool: Tool { name: "kubesnap-collect".to_owned(), version: "0.1.0".to_owned() },
        cluster: ClusterInfo::default(),
        options: Default::default(),
        started_at: "2026-11-21T10:34:00Z".parse().unwrap(),
        compression: 1,
    };
    let mut writer = BundleWriter::new(io::BufWriter::new(File::create(path).unwrap()), header).unwrap();
    for (name, pattern, size) in entries {
        writer.add_reader(name, *size, repeated(pattern, *size)).unwrap();
    }
    writer.finish().unwrap();
}

/// One measured run of `kubesnap-collect redact ARGS`, and its peak resident memory in KiB.
fn redact(dir: &Path, args: &[&Path]) -> (Output, u64) {
    assert!(
        Path::new("/usr/bin/time").is_file(),
        "these tests measure peak memory with /usr/bin/time (Debian package `time`), which is missing"
    );
    let peak = dir.join("peak");
    let output = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&peak)
        .arg(env!("CARGO_BIN_EXE_kubesnap-collect"))
        .arg("redact")
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("failed to run kubesnap-collect redact under /usr/bin/time");
    let text = fs::read_to_string(&peak).unwrap_or_default();
    let peak_kib = text
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in /usr/bin/time's output: {text:?}"));
    (output, peak_kib)
}

fn assert_within_budget(what: &str, output: &Output, peak_kib: u64) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{what}: {stderr}");
    eprintln!("{what}: peak RSS {} MiB", peak_kib >> 10);
    assert!(
        peak_kib < RSS_BUDGET_KIB,
        "{what}: peak RSS {peak_kib} KiB, budget {RSS_BUDGET_KIB} KiB; {stderr}"
    );
}

/// A bundle's file: path, size and truncation.
type Record = (String, u64, Option<String>);

/// The file records of a bundle and why it is incomplete.
fn entries(path: &Path) -> (Vec<Record>, Vec<String>) {
    let bundle = Bundle::open(path, Limits::default()).unwrap();
    let outcome = bundle.read::<kubesnap_shared::Error>(|_| Ok(())).unwrap();
    let manifest = outcome.manifest.unwrap();
    let files =
        manifest.files.iter().map(|file| (file.path.clone(), file.size, file.truncation.clone())).collect();
    (files, manifest.incomplete_reasons)
}

/// A log that is one 1 GiB line of zeros keeps its first 8 MiB, with the cut recorded; a
/// 1 GiB log of lines each holding a token is redacted line by line, every token counted; a
/// JSON document of 600 MiB (above what is redacted as an object) is left out and the new
/// bundle says so; a JSON list of 1 GiB of zeros is no JSON and is cut as a text.
#[test]
fn a_bundle_of_bombs_is_redacted_within_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.tar.gz");
    let line: &'static [u8] = b"2026-11-21T10:33:00Z connect with token=abc123def456 ok\n";
    write_bundle(
        &input,
        &[
            ("logs/default/web-0/zeros.log", b"\0", BOMB),
            ("logs/default/web-0/lines.log", line, BOMB / line.len() as u64 * line.len() as u64),
            ("resources/core/v1/configmaps/default.json", b" ", 600 << 20),
            ("resources/core/v1/pods/default.json", b"\0", BOMB),
        ],
    );
    let output = dir.path().join("out.tar.gz");
    let (run, peak_kib) = redact(dir.path(), &[&input, Path::new("-o"), &output]);
    assert_within_budget("a bundle of 1 GiB entries", &run, peak_kib);
    let stderr = String::from_utf8_lossy(&run.stderr);
    let n_lines = BOMB / line.len() as u64;
    assert!(stderr.contains(&format!("redacted {n_lines} value(s)")), "{stderr}");
    let (files, reasons) = entries(&output);
    let file = |name: &str| files.iter().find(|(path, ..)| path == name).cloned();
    let (_, size, truncation) = file("logs/default/web-0/zeros.log").unwrap();
    assert_eq!(size, 8 << 20, "one line cut at 8 MiB (no newline to keep)");
    assert!(truncation.is_some_and(|t| t.contains("1 line(s) longer than 8 MiB")));
    assert!(file("logs/default/web-0/lines.log").is_some_and(|(_, size, cut)| size > 0 && cut.is_none()));
    assert!(file("resources/core/v1/configmaps/default.json").is_none());
    assert!(
        reasons.iter().any(|r| r.contains("configmaps/default.json") && r.contains("left out")),
        "{reasons:?}"
    );
    let (_, size, _) = file("resources/core/v1/pods/default.json").unwrap();
    assert_eq!(size, 8 << 20);
}

/// A JSON document nested 100 million levels deep is no object to redact: it is redacted as
/// text, within the budget.
#[test]
fn a_deep_json_is_redacted_within_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.tar.gz");
    write_bundle(&input, &[("resources/core/v1/pods/default.json", b"[", 100 << 20)]);
    let output = dir.path().join("out.tar.gz");
    let (run, peak_kib) = redact(dir.path(), &[&input, Path::new("-o"), &output]);
    assert_within_budget("a JSON 100 million levels deep", &run, peak_kib);
}

/// A file of one 1 GiB line is streamed to its output, its line cut at 8 MiB; a folder's
/// 1 GiB file of zeros (sparse) is binary and left out without being read whole.
#[test]
fn a_huge_file_and_a_folder_are_redacted_within_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("one-line.log");
    io::copy(
        &mut repeated(b"password=hunter2 ", BOMB),
        &mut io::BufWriter::new(File::create(&input).unwrap()),
    )
    .unwrap();
    let output = dir.path().join("one-line.redacted.log");
    let (run, peak_kib) = redact(dir.path(), &[&input, Path::new("-o"), &output]);
    fs::remove_file(&input).unwrap();
    assert_within_budget("a file of one 1 GiB line", &run, peak_kib);
    assert!(String::from_utf8_lossy(&run.stderr).contains("1 line(s) longer than 8 MiB"));
    let redacted = fs::read(&output).unwrap();
    // 8 MiB of the line, each password's value replaced by a longer marker.
    assert!(redacted.len() < 16 << 20 && !redacted.windows(7).any(|w| w == b"hunter2"), "{}", redacted.len());

    let folder = dir.path().join("folder");
    fs::create_dir(&folder).unwrap();
    File::create(folder.join("core.dump")).unwrap().set_len(BOMB).unwrap();
    fs::write(folder.join("app.env"), "API_KEY=k3y-0123456789\n").unwrap();
    let mirrored = dir.path().join("mirrored");
    let (run, peak_kib) = redact(dir.path(), &[&folder, Path::new("-o"), &mirrored]);
    assert_within_budget("a folder with a 1 GiB binary file", &run, peak_kib);
    assert!(!mirrored.join("core.dump").exists());
    assert_eq!(fs::read_to_string(mirrored.join("app.env")).unwrap(), "API_KEY=<redacted:key-name>\n");
}
