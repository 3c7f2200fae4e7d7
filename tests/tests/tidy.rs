//! Repository hygiene that review would otherwise have to catch: every Rust file says what it
//! is for, and `shared` stays free of network, async runtime, CLI and rendering crates.

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
