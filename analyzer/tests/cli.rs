//! `kubesnap-analyze` as a user runs it: the built binary on a native bundle written with the
//! real `BundleWriter`, and on real troubleshoot bundles: exit codes, the reports it writes,
//! `--help`, a Markdown report snapshot, escaping, and determinism across thread counts.

#![cfg(test)]

mod bundle_fixture;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn analyze(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubesnap-analyze"))
        .args(args)
        .env("COLUMNS", "100")
        .env_remove("RUST_LOG")
        .output()
        .expect("failed to run kubesnap-analyze")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn realdata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/realdata").join(relative)
}

struct Fixture {
    _dir: tempfile::TempDir,
    bundle: PathBuf,
    out: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let bundle = bundle_fixture::write_bundle(dir.path());
    let out = dir.path().join("out");
    Fixture { _dir: dir, bundle, out }
}

fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn writes_the_three_reports_and_a_summary() {
    let f = fixture();
    // This crate's categories, so that diagnostics added elsewhere do not change the summary.
    let output = analyze(&[path(&f.bundle), "-o", path(&f.out), "--only", "pods,workloads,security"]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", text(&output.stderr));
    for name in ["report.html", "report.md", "findings.json"] {
        assert!(f.out.join(name).is_file(), "{name} was not written");
    }
    let stderr = text(&output.stderr);
    assert!(stderr.starts_with("kubesnap-analyze: "), "summary: {stderr}");
    assert!(
        stderr.contains("P0 Deployment shop/api: 2 of 2 pods crash-looping (Error, exit code 1)"),
        "summary: {stderr}"
    );
    assert!(stderr.contains("reports: "), "summary: {stderr}");
    assert!(output.stdout.is_empty(), "stdout carries only data, and -o DIR writes none");

    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(f.out.join("findings.json")).unwrap()).unwrap();
    assert_eq!(json["schema_version"], 2);
    assert_eq!(json["summary"]["overall"], "P0");
    let codes: Vec<&str> =
        json["findings"].as_array().unwrap().iter().filter_map(|f| f["code"].as_str()).collect();
    for code in ["crash-loop-backoff", "plaintext-credential-in-env"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    // The Deployment is down only because its pods crash-loop: one problem, one finding, which
    // carries the Deployment's finding as its impact.
    assert!(!codes.contains(&"deployment-replicas-unavailable"), "{codes:?}");
    let crash_loop = json["findings"].as_array().unwrap().iter().find(|f| f["code"] == "crash-loop-backoff");
    let folded: Vec<&str> =
        crash_loop.unwrap()["folded"].as_array().unwrap().iter().filter_map(|f| f["code"].as_str()).collect();
    assert_eq!(folded, ["deployment-replicas-unavailable"]);
    // The log scan's totals cover both logs, whatever `--only` ran; the fixture's lines match
    // no family, and every family is still listed.
    assert_eq!(json["log_families"]["logs"], 2);
    assert_eq!(json["log_families"]["lines"], 3);
    let core = json["log_families"]["core"].as_object().unwrap();
    assert_eq!(core.len(), 15);
    assert!(core.values().all(|count| count == 0), "{core:?}");
    assert_eq!(json["log_families"]["extensions"], serde_json::json!({"database_client_error": 0}));
    // The collector's redaction marker never reaches a report, and no value is shown.
    let all = std::fs::read_to_string(f.out.join("findings.json")).unwrap();
    assert!(all.contains("<literal value, redacted by the collector>"));
}

#[test]
fn fail_on_sets_exit_code_1_at_or_above_the_threshold_only() {
    let f = fixture();
    let output = analyze(&[path(&f.bundle), "-o", path(&f.out), "--fail-on", "P1", "-q"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stderr.is_empty(), "-q prints nothing but errors: {}", text(&output.stderr));
    // Among the security diagnostics the worst finding is the P2 credential: below P0.
    let output =
        analyze(&[path(&f.bundle), "-o", path(&f.out), "--fail-on", "p0", "--only", "security", "-q"]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", text(&output.stderr));
}

#[test]
fn a_missing_bundle_exits_2_with_a_clear_message() {
    let output = analyze(&["/nonexistent/bundle.tar.gz", "-o", "/nonexistent/out"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("error: failed to open bundle /nonexistent/bundle.tar.gz"),
        "stderr: {stderr}"
    );
}

#[test]
fn a_corrupt_bundle_exits_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("broken.tar.gz");
    std::fs::write(&bundle, b"this is not an archive, just text that claims to be one").unwrap();
    let output = analyze(&[path(&bundle), "-o", path(&dir.path().join("out"))]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.starts_with("error: "), "stderr: {stderr}");
    assert!(stderr.contains("broken.tar.gz"), "the message names the bundle: {stderr}");
    assert!(!dir.path().join("out").exists(), "no report for a bundle that could not be read");
}

#[test]
fn a_bundle_without_objects_exits_3_and_says_nothing_was_analyzed() {
    // Recognized (a must-gather namespace file), but empty: no finding must not read healthy.
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("must-gather/namespaces/default");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(bundle.join("default.yaml"), "").unwrap();
    let out = dir.path().join("out");
    let output = analyze(&[path(&dir.path().join("must-gather")), "-o", path(&out), "--format", "md"]);
    assert_eq!(output.status.code(), Some(3), "stderr: {}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("Not analyzed: this OpenShift must-gather holds no Kubernetes object")
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("Not analyzed: this OpenShift must-gather holds no Kubernetes object"),
        "{report}"
    );
    assert!(!report.contains("No incident"), "{report}");
}

#[test]
fn unknown_selections_and_bad_arguments_exit_2() {
    let f = fixture();
    let output = analyze(&[path(&f.bundle), "--only", "no-such-diagnostic"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("`no-such-diagnostic` is neither a diagnostic code nor a category")
    );
    let output = analyze(&[path(&f.bundle), "--fail-on", "P7"]);
    assert_eq!(output.status.code(), Some(2));
    let output = analyze(&[path(&f.bundle), "-o", "-", "--format", "md,json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("`-o -` prints one report"));
}

#[test]
fn dash_prints_one_report_to_stdout() {
    let f = fixture();
    let output = analyze(&[path(&f.bundle), "-o", "-", "-q"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(text(&output.stdout).starts_with("# kubesnap report: shop-incident\n"));
    let output = analyze(&[path(&f.bundle), "-o", "-", "--format", "json", "--only", "security", "-q"]);
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let categories: Vec<&str> =
        json["findings"].as_array().unwrap().iter().filter_map(|f| f["category"].as_str()).collect();
    assert!(
        !categories.is_empty() && categories.iter().all(|category| *category == "security"),
        "{categories:?}"
    );
}

#[test]
fn list_diagnostics_needs_no_bundle() {
    let output = analyze(&["--list-diagnostics"]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = text(&output.stdout);
    assert!(stdout.starts_with("CODE "));
    assert!(stdout.lines().any(|line| line.starts_with("crash-loop-backoff ") && line.contains("pods")));
}

#[test]
fn help_snapshot() {
    let output = analyze(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    expect_test::expect_file!["snapshots/help.txt"].assert_eq(&text(&output.stdout));
}

#[test]
fn serve_help_snapshot() {
    let output = analyze(&["serve", "--help"]);
    assert_eq!(output.status.code(), Some(0));
    expect_test::expect_file!["snapshots/serve-help.txt"].assert_eq(&text(&output.stdout));
}

#[test]
fn a_bundle_named_like_no_subcommand_is_still_analyzed() {
    // `kubesnap-analyze BUNDLE` keeps working beside the subcommands.
    let output = analyze(&["/nonexistent/bundle.tar.gz"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("failed to open bundle /nonexistent/bundle.tar.gz"),
        "{}",
        text(&output.stderr)
    );
    let output = analyze(&["serve", "/nonexistent/bundle.tar.gz", "--only", "pods"]);
    assert_eq!(output.status.code(), Some(2), "analysis flags are not serve's");
}

#[test]
fn markdown_report_snapshot() {
    let f = fixture();
    // Only this crate's own categories, so that diagnostics added elsewhere do not move it.
    let output = analyze(&[path(&f.bundle), "-o", "-", "-q", "--only", "pods,workloads,security"]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", text(&output.stderr));
    // The capture time is when the test wrote the bundle.
    let time = regex::Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z").unwrap();
    let report = text(&output.stdout);
    expect_test::expect_file!["snapshots/report.md"].assert_eq(&time.replace_all(&report, "[time]"));
}

#[test]
fn reports_are_byte_identical_at_one_and_two_threads() {
    let f = fixture();
    let one = f.out.join("one");
    let two = f.out.join("two");
    assert_eq!(analyze(&[path(&f.bundle), "-o", path(&one), "--threads", "1", "-q"]).status.code(), Some(0));
    assert_eq!(analyze(&[path(&f.bundle), "-o", path(&two), "--threads", "2", "-q"]).status.code(), Some(0));
    for name in ["report.html", "report.md", "findings.json"] {
        let a = std::fs::read(one.join(name)).unwrap();
        let b = std::fs::read(two.join(name)).unwrap();
        assert!(a == b, "{name} differs between --threads 1 and --threads 2");
    }
}

fn demo_bundle() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/bundles/demo.tar.gz")
}

/// The demo bundle's findings.json at a rollup threshold.
fn demo_json(threshold: &str) -> Value {
    let output = analyze(&[
        path(&demo_bundle()),
        "-o",
        "-",
        "--format",
        "json",
        "-q",
        "--rollup-threshold",
        threshold,
    ]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn rollups_group_minor_findings_only_and_findings_json_keeps_every_finding() {
    let off = demo_json("0");
    let rolled = demo_json("1");
    assert_eq!(off["rollups"]["groups"], serde_json::json!([]), "0 turns rollups off");
    assert_eq!(off["findings"], rolled["findings"], "findings.json lists every finding either way");
    let findings = rolled["findings"].as_array().unwrap();
    let groups = rolled["rollups"]["groups"].as_array().unwrap();
    assert!(!groups.is_empty(), "the demo has minor findings to roll up at threshold 1");
    let mut seen = std::collections::BTreeSet::new();
    for group in groups {
        let members: Vec<&Value> = group["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| &findings[i.as_u64().unwrap() as usize])
            .collect();
        assert!(members.len() >= 2, "{group}");
        assert_eq!(group["count"].as_u64(), Some(members.len() as u64));
        for member in &members {
            assert!(member["severity"] == "P2" || member["severity"] == "P3", "P0/P1 rolled up: {member}");
            assert_eq!(member["code"], group["code"]);
            assert_eq!(member["namespace"], group["namespace"]);
        }
        assert!(
            seen.insert((group["code"].to_string(), group["namespace"].to_string())),
            "one group per (code, namespace)"
        );
    }
    // The Markdown names a few members and sends the reader to findings.json for the rest.
    let output = analyze(&[path(&demo_bundle()), "-o", "-", "-q", "--rollup-threshold", "1"]);
    let markdown = text(&output.stdout);
    assert!(markdown.contains("P2/P3 findings are rolled up into"), "{markdown}");
    let largest = groups.iter().filter_map(|group| group["count"].as_u64()).max().unwrap();
    if largest > 3 {
        assert!(markdown.contains(&format!("- and {} more (see findings.json)", largest - 3)), "{markdown}");
    }
}

#[test]
fn the_demo_reports_are_byte_identical_at_one_and_two_threads_with_rollups() {
    let dir = tempfile::tempdir().unwrap();
    let run = |threads: &str| {
        let out = dir.path().join(threads);
        let output = analyze(&[
            path(&demo_bundle()),
            "-o",
            path(&out),
            "--threads",
            threads,
            "--rollup-threshold",
            "1",
            "-q",
        ]);
        assert_eq!(output.status.code(), Some(0), "stderr: {}", text(&output.stderr));
        out
    };
    let (one, two) = (run("1"), run("2"));
    for name in ["report.html", "report.md", "findings.json"] {
        let a = std::fs::read(one.join(name)).unwrap();
        assert!(a == std::fs::read(two.join(name)).unwrap(), "{name} differs between --threads 1 and 2");
    }
    let html = std::fs::read_to_string(one.join("report.html")).unwrap();
    assert!(html.contains("id=\"container-stats\"") && html.contains("class=\"finding rollup "));
}

#[test]
fn html_keeps_cluster_text_inert_and_loads_nothing() {
    let f = fixture();
    assert_eq!(analyze(&[path(&f.bundle), "-o", path(&f.out), "-q"]).status.code(), Some(0));
    let html = std::fs::read_to_string(f.out.join("report.html")).unwrap();
    assert!(html.contains("&lt;script&gt;alert("), "the hostile log line is shown as text");
    assert!(!html.contains(bundle_fixture::HOSTILE_LOG_LINE));
    assert_eq!(html.matches("<script").count(), 1, "only the report's own script");
    for external in ["http://", "https://", "//cdn", "src=", "@import", "url("] {
        assert!(!html.contains(external), "the report references `{external}`");
    }
    for href in html.match_indices("href=").map(|(at, _)| &html[at..at + 7]) {
        assert_eq!(href, "href=\"#", "only in-page links");
    }
    // The chart of the pod with samples is drawn, with its limit line.
    let charts = html.split("id=\"metrics\"").nth(1).unwrap_or_default();
    assert!(charts.contains("shop&#x2f;web&#x2f;web"), "{charts}");
    assert!(charts.contains("limit 500m"), "{charts}");
}

/// A real troubleshoot bundle of a deliberately broken kind cluster: its ground truth
/// (test-cluster/test-scenarios) is a crash-looping Deployment and an OOM-killed one.
#[test]
fn real_troubleshoot_bundle_finds_the_broken_workloads() {
    let bundle = realdata(
        "replicatedhq__troubleshoot/_history/6e08a811ef60f0ccdb92fa0762845ccbb1cc6141/support-bundle-2025-08-09T21_08_25",
    );
    let dir = tempfile::tempdir().unwrap();
    let output = analyze(&[path(&bundle), "-o", "-", "--format", "json", "-q"]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", text(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let titles: Vec<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!("{} {}", f["code"].as_str().unwrap_or_default(), f["title"].as_str().unwrap_or_default())
        })
        .collect();
    let has = |prefix: &str| titles.iter().any(|title| title.starts_with(prefix));
    assert!(
        has("crash-loop-backoff Deployment test-crash/crash-loop-app: 2 of 2 pods crash-looping"),
        "{titles:#?}"
    );
    assert!(has("oom-killed Deployment test-oom/memory-hog"), "{titles:#?}");
    assert_eq!(json["bundle"]["format"], "troubleshoot support bundle");
    // The crash reason comes from the previous run's log.
    let crash =
        json["findings"].as_array().unwrap().iter().find(|f| f["code"] == "crash-loop-backoff").unwrap();
    assert!(crash["explanation"].as_str().unwrap().contains("ERROR: Database connection failed!"));
    drop(dir);
}

#[test]
fn real_troubleshoot_archive_is_analyzed_with_fail_on() {
    let bundle = realdata("replicatedhq__troubleshoot/testdata/supportbundle/support-bundle.tar.gz");
    let dir = tempfile::tempdir().unwrap();
    let output = analyze(&[path(&bundle), "-o", path(dir.path()), "--fail-on", "P3"]);
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("findings.json")).unwrap_or_default())
            .unwrap();
    let findings = json["findings"].as_array().map(Vec::len).unwrap_or(0);
    // The k3s kube-system pods restarted 96-189 times (MANIFEST.md): there are findings, so 1.
    assert!(findings > 0, "{}", text(&output.stderr));
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn diff_help_snapshot() {
    let output = analyze(&["diff", "--help"]);
    assert_eq!(output.status.code(), Some(0));
    expect_test::expect_file!["snapshots/diff-help.txt"].assert_eq(&text(&output.stdout));
}

#[test]
fn diff_of_a_bundle_with_itself_writes_three_outputs_that_say_no_difference() {
    let f = fixture();
    let output = analyze(&["diff", path(&f.bundle), path(&f.bundle), "-o", path(&f.out)]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    for name in ["diff.html", "diff.md", "diff.json"] {
        assert!(f.out.join(name).is_file(), "{name} missing");
    }
    let markdown = std::fs::read_to_string(f.out.join("diff.md")).unwrap();
    assert!(markdown.contains("**No difference**"), "{markdown}");
    let stdout = analyze(&["diff", path(&f.bundle), path(&f.bundle), "-o", "-", "--format", "json"]);
    let json: Value = serde_json::from_slice(&stdout.stdout).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["objects"]["changed"].as_array().map(Vec::len), Some(0));
    let missing = analyze(&["diff", path(&f.bundle), "/nonexistent/bundle.tar.gz"]);
    assert_eq!(missing.status.code(), Some(2), "a missing bundle is an error");
}
