//! The accuracy corpus (`../shared/accuracy`): the built `kubesnap-analyze` runs on every real
//! bundle of the corpus through its scorer, `score.py`, and every case must pass: each
//! must-find item at its severity, no P0/P1 on a healthy cluster, the expected root causes in
//! the top three, no false alarm, the findings within the case's noise budget, and the bundle's
//! format and capture time. A case that falls short fails this test with the scorer's per-case
//! output (`-v`: every item ok, MISS or HIT, and the closest finding of each miss).
//!
//! The corpus sits beside the checkout (`../shared`, read in place). Its absence is a failure
//! that says where it was looked for, unless `KUBESNAP_SKIP_ACCURACY=1`, which skips loudly.
//! The scorer needs Python 3 with PyYAML.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `../shared` beside the checkout, as the realdata tests find it.
fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

#[test]
fn every_accuracy_case_passes() {
    let shared = shared();
    let scorer = shared.join("accuracy/score.py");
    if !scorer.is_file() {
        if std::env::var("KUBESNAP_SKIP_ACCURACY").as_deref() == Ok("1") {
            eprintln!(
                "=== SKIPPED: accuracy corpus: {} is missing and KUBESNAP_SKIP_ACCURACY=1 ===",
                scorer.display()
            );
            return;
        }
        panic!(
            "{} not found: the accuracy corpus must sit beside the checkout (../shared, with accuracy/ and \
             realdata/); set KUBESNAP_SKIP_ACCURACY=1 to skip this test loudly",
            scorer.display()
        );
    }
    let output_dir = tempfile::tempdir().unwrap();
    let output = Command::new("python3")
        .arg(&scorer)
        .arg("--analyzer")
        .arg(env!("CARGO_BIN_EXE_kubesnap-analyze"))
        .arg("--realdata")
        .arg(shared.join("realdata"))
        .arg("--keep")
        .arg(output_dir.path())
        .arg("-v")
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run python3 (the scorer needs Python 3 with PyYAML): {error}")
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}");
    assert!(
        output.status.success(),
        "the accuracy corpus does not pass ({}):\n{stdout}\n{stderr}",
        output.status
    );
    // The scorer's own verdict line, checked too: a scorer that ran no case is no pass.
    let total = stdout.lines().find(|line| line.starts_with("TOTAL")).unwrap_or_default();
    let passing = total.split("cases passing ").nth(1).unwrap_or_default();
    let (passed, cases) = passing.split_once('/').unwrap_or_default();
    assert!(
        !cases.is_empty() && passed == cases.trim() && passed != "0",
        "the scorer's total says not every case passed: {total:?}\n{stdout}"
    );
}
