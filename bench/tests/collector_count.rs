//! The collector benchmark's counting script (`bench/collector_count.py`), held to its Python
//! unit tests (`bench/tests/test_collector_count.py`: hand-made troubleshoot and kubesnap
//! bundles, no cluster), so that `cargo test` catches a change that breaks how the benchmark
//! reads another tool's output.

use std::path::Path;
use std::process::Command;

#[test]
fn collector_count_python_unit_tests_pass() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let output = Command::new("python3")
        .args(["-m", "unittest", "discover", "-s"])
        .arg(&tests)
        .args(["-p", "test_*.py"])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run python3 (bench/collector_count.py needs Python 3): {error}")
        });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "bench/tests/test_collector_count.py fails ({}):\n{stderr}",
        output.status
    );
    // unittest reports on stderr; a run that found no test is no pass.
    assert!(!stderr.contains("Ran 0 tests"), "no Python test ran:\n{stderr}");
}
