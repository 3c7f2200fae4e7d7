//! Repository hygiene that review would otherwise have to catch: every Rust file says what it
//! is for, `shared` stays free of network, async runtime, CLI and rendering crates, and the
//! analyzer's incident summary and report read the cluster through `facts`, not through the
//! diagnostics' helpers, no kubectl command is built by hand, and over-long lines do not grow.

use std::fs;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(items) = fs::read_dir(dir) else { return };
    for item in items.flatten() {
        let path = item.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let mut files = Vec::new();
    for crate_dir in ["shared", "collector", "analyzer", "tests"] {
        for sub in ["src", "tests", "benches", "examples"] {
            rust_files(&repo().join(crate_dir).join(sub), &mut files);
        }
    }
    assert!(files.len() > 10, "found only {} Rust files; is the repository layout intact?", files.len());
    let missing: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = fs::read_to_string(path).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|path| path.strip_prefix(repo()).unwrap_or(path).display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a `//!` doc saying what they are for: {missing:#?}");
}

#[test]
fn shared_has_no_network_runtime_cli_or_rendering_dependency() {
    let manifest = fs::read_to_string(repo().join("shared/Cargo.toml")).unwrap_or_default();
    let dependencies = manifest.split("[dependencies]").nth(1).unwrap_or_default();
    let dependencies = dependencies.split("\n[").next().unwrap_or_default();
    assert!(dependencies.contains("serde_json"), "could not read shared/Cargo.toml's [dependencies]");
    let forbidden = ["tokio", "kube", "hyper", "reqwest", "rayon", "clap", "minijinja", "indicatif", "async"];
    for line in dependencies.lines() {
        let name = line.split(['=', '.']).next().unwrap_or_default().trim();
        for word in forbidden {
            assert!(
                !name.starts_with(word),
                "shared must not depend on `{name}` (network, async runtime, CLI or rendering)"
            );
        }
    }
}

/// What `incident/` and `report/` may name in `diagnostics::`: the registry and its types, a
/// diagnostic's `DIAGNOSTIC` constant (its code), and in tests the diagnostics' fixture
/// harnesses. Everything they ask of the cluster comes from `facts::`, so that the incident
/// summary and the diagnostics answer one question once.
#[test]
fn incident_and_report_do_not_import_diagnostics_helpers() {
    let analyzer = repo().join("analyzer/src");
    let mut files = Vec::new();
    for dir in ["incident", "report"] {
        rust_files(&analyzer.join(dir), &mut files);
        files.push(analyzer.join(format!("{dir}.rs")));
    }
    assert!(files.len() > 10, "found only {} incident and report files", files.len());
    let allowed = |path: &str| {
        ["registry", "Diagnostic", "Need", "testing::", "logs::fixture::"]
            .iter()
            .any(|start| path.starts_with(start))
            || path.ends_with("::DIAGNOSTIC")
    };
    let mut offending = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap_or_default();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for (at, _) in code.match_indices("diagnostics::") {
                let rest = &code[at + "diagnostics::".len()..];
                let path: String =
                    rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
                if !allowed(&path) {
                    let shown = file.strip_prefix(repo()).unwrap_or(file).display().to_string();
                    offending.push(format!("{shown}:{}: {}", number + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offending.is_empty(),
        "incident/ and report/ read the cluster through `facts::`, never a `diagnostics::` helper \
         (only the registry and a diagnostic's DIAGNOSTIC constant): {offending:#?}"
    );
}

/// Every kubectl command the analyzer prints is a `facts::kubectl::Kubectl`, which quotes
/// every value from the bundle and refuses one no cluster can hold: no `"kubectl …"` string is
/// built by hand in the analyzer's product code (tests left out). It was a ratchet from 144
/// such literals down to none; it stays at none.
#[test]
fn no_hand_built_kubectl_commands() {
    let analyzer = repo().join("analyzer/src");
    let mut files = Vec::new();
    rust_files(&analyzer, &mut files);
    files.sort();
    assert!(files.len() > 100, "found only {} analyzer files", files.len());
    let mut found = Vec::new();
    for file in &files {
        if file.ends_with("facts/kubectl.rs") {
            continue;
        }
        let text = fs::read_to_string(file).unwrap_or_default();
        let product = text.split("\n#[cfg(test)]").next().unwrap_or_default();
        for (number, line) in product.lines().enumerate() {
            if line.contains("\"kubectl ") {
                let shown = file.strip_prefix(repo()).unwrap_or(file).display().to_string();
                found.push(format!("{shown}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "hand-built \"kubectl …\" strings in the analyzer: build them with facts::kubectl::Kubectl, which \
         quotes and refuses names from the bundle: {found:#?}"
    );
}

/// The width rustfmt formats to (`rustfmt.toml`'s `max_width`).
const MAX_WIDTH: usize = 110;

/// How many lines of each crate's Rust files are wider than [`MAX_WIDTH`] at most. rustfmt gives
/// up on a statement it cannot fit (a long `format!` string, a long string in a test) and leaves
/// it as written, so nothing else stops the count growing. The numbers only go down: split a long
/// string with a `\` continuation (the newline and the next line's indentation are not part of
/// the string) or an intermediate binding, and lower the number here to the new count. Inline
/// test expectations (`expect![[r#"…"#]]`) and raw-string fixtures are most of what is left.
const MAX_LONG_LINES: &[(&str, usize)] =
    &[("analyzer", 796), ("bench", 123), ("collector", 15), ("plugin", 0), ("shared", 110), ("tests", 8)];

#[test]
fn over_long_lines_do_not_grow() {
    let mut grown = Vec::new();
    for (crate_dir, max) in MAX_LONG_LINES {
        let mut files = Vec::new();
        rust_files(&repo().join(crate_dir), &mut files);
        assert!(!files.is_empty(), "no Rust files under {crate_dir}/; is the repository layout intact?");
        let long = files
            .iter()
            .map(|file| {
                let text = fs::read_to_string(file).unwrap_or_default();
                text.lines().filter(|line| line.chars().count() > MAX_WIDTH).count()
            })
            .sum::<usize>();
        if long > *max {
            grown.push(format!("{crate_dir}: {long} lines wider than {MAX_WIDTH} columns, at most {max}"));
        }
    }
    assert!(
        grown.is_empty(),
        "over-long lines grew (split long strings with a `\\` continuation, or a binding): {grown:#?}"
    );
}
