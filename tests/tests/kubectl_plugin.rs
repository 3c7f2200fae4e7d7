//! kubesnap as a kubectl plugin, installed the way users install it: `deploy/release` packs the
//! programs and writes the krew manifest, real krew (built from its Go module by
//! `tests/krew/build`) installs them from that manifest and archive, and real kubectl runs
//! `kubectl kubesnap …` through its plugin mechanism, against the real control plane for
//! `collect`.

#![expect(clippy::panic, reason = "tests stop loudly")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use kubesnap_analyzer::load::{LoadOptions, load};
use kubesnap_tests::{cluster, repo};

/// A krew root with kubesnap installed from a release archive of this build, and the PATH that
/// makes kubectl find the plugin.
struct Installed {
    dir: tempfile::TempDir,
    path: std::ffi::OsString,
}

impl Installed {
    fn new() -> Installed {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        // The release archive holds the three programs under their real names.
        let stage = dir.path().join("stage");
        std::fs::create_dir(&stage).unwrap_or_else(|e| panic!("{e}"));
        for (built, name) in [
            (env!("CARGO_BIN_EXE_kubectl-kubesnap-dup"), "kubectl-kubesnap"),
            (env!("CARGO_BIN_EXE_kubesnap-collect-dup"), "kubesnap-collect"),
            (env!("CARGO_BIN_EXE_kubesnap-analyze-dup"), "kubesnap-analyze"),
        ] {
            std::fs::copy(built, stage.join(name)).unwrap_or_else(|e| panic!("copy {built}: {e}"));
        }
        let dist = dir.path().join("dist");
        let release = run(Command::new(repo().join("deploy/release"))
            .arg("--prebuilt")
            .arg(&stage)
            .arg("--out")
            .arg(&dist)
            .args(["--base-url", "file:///not-downloaded"]));
        assert!(release.status.success(), "deploy/release failed:\n{}", text(&release.stderr));
        let manifest = dist.join("kubesnap.yaml");
        let archive = std::fs::read_dir(&dist)
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .find(|path| path.to_string_lossy().ends_with("-linux-amd64.tar.gz"))
            .unwrap_or_else(|| panic!("deploy/release wrote no linux-amd64 archive in {}", dist.display()));
        let manifest_text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| panic!("{e}"));
        let sha = sha256_of(&archive);
        assert!(
            manifest_text.contains(&format!("sha256: {sha}")),
            "the manifest names another archive:\n{manifest_text}"
        );

        // krew as kubectl finds it: `kubectl-krew` on PATH, its root in the temp dir.
        let krew = build_krew();
        let tools = dir.path().join("tools");
        std::fs::create_dir(&tools).unwrap_or_else(|e| panic!("{e}"));
        std::fs::copy(&krew, tools.join("kubectl-krew")).unwrap_or_else(|e| panic!("{e}"));
        let mut paths = vec![dir.path().join("krew/bin"), tools];
        paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
        let path = std::env::join_paths(paths).unwrap_or_else(|e| panic!("{e}"));
        // A local krew index holding the manifest, as a krew index repository holds it
        // (`plugins/NAME.yaml` in a git repository): krew refuses `uninstall` without an index,
        // and `krew info` reads the manifest from it. No network: `krew update` is never run.
        let index = dir.path().join("krew/index/default");
        std::fs::create_dir_all(index.join("plugins")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::copy(&manifest, index.join("plugins/kubesnap.yaml")).unwrap_or_else(|e| panic!("{e}"));
        for git in [
            &["init", "-q"][..],
            &["add", "."],
            &["-c", "user.name=t", "-c", "user.email=t@invalid", "commit", "-qm", "index"],
        ] {
            let done = run(Command::new("git").args(git).current_dir(&index));
            assert!(done.status.success(), "git {git:?} in the krew index failed:\n{}", text(&done.stderr));
        }
        let installed = Installed { dir, path };
        let install = installed.kubectl(&[
            "krew",
            "install",
            &format!("--manifest={}", manifest.display()),
            &format!("--archive={}", archive.display()),
        ]);
        assert!(
            install.status.success(),
            "krew install failed:\n{}{}",
            text(&install.stdout),
            text(&install.stderr)
        );
        installed
    }

    /// Real kubectl with the krew root and PATH of this install; the user's kubeconfig unset.
    fn kubectl(&self, args: &[&str]) -> Output {
        run(Command::new(cluster::kubectl())
            .args(args)
            .env("PATH", &self.path)
            .env("KREW_ROOT", self.dir.path().join("krew"))
            .env_remove("KUBECONFIG")
            .current_dir(self.dir.path()))
    }
}

fn run(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("failed to run {command:?}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn build_krew() -> PathBuf {
    let output = run(&mut Command::new(repo().join("tests/krew/build")));
    assert!(output.status.success(), "tests/krew/build failed:\n{}", text(&output.stderr));
    PathBuf::from(text(&output.stdout).trim())
}

fn sha256_of(path: &Path) -> String {
    let output = run(Command::new("sha256sum").arg(path));
    text(&output.stdout).split_whitespace().next().unwrap_or_default().to_owned()
}

#[test]
fn krew_installs_the_plugin_and_kubectl_runs_every_command_through_it() {
    let installed = Installed::new();

    let info = installed.kubectl(&["krew", "info", "kubesnap"]);
    assert!(
        text(&info.stdout).contains("VERSION: v"),
        "krew does not read the manifest from its index:\n{}{}",
        text(&info.stdout),
        text(&info.stderr)
    );

    let list = installed.kubectl(&["plugin", "list"]);
    assert!(
        text(&list.stdout).contains("/krew/bin/kubectl-kubesnap"),
        "kubectl does not list the plugin:\n{}",
        text(&list.stdout)
    );

    let help = installed.kubectl(&["kubesnap", "--help"]);
    assert!(help.status.success());
    assert_eq!(text(&help.stdout), kubesnap_kubectl_plugin::HELP);

    // analyze: the demo bundle, reports written where asked.
    let demo = repo().join("testdata/bundles/demo.tar.gz");
    let out = installed.dir.path().join("report");
    let analyze = installed.kubectl(&[
        "kubesnap",
        "analyze",
        &demo.to_string_lossy(),
        "-o",
        &out.to_string_lossy(),
        "--format",
        "json",
        "--quiet",
    ]);
    assert!(analyze.status.success(), "kubectl kubesnap analyze failed:\n{}", text(&analyze.stderr));
    let findings = std::fs::read_to_string(out.join("findings.json"))
        .unwrap_or_else(|e| panic!("no findings.json: {e}"));
    assert!(findings.contains("\"findings\""), "findings.json has no findings list");

    // The analyzer's own exit codes reach the user through kubectl: --fail-on P3 on the demo,
    // which has findings, is exit code 1.
    let failing = installed.kubectl(&[
        "kubesnap",
        "analyze",
        &demo.to_string_lossy(),
        "-o",
        "-",
        "--fail-on",
        "P3",
        "--quiet",
    ]);
    assert_eq!(failing.status.code(), Some(1), "{}", text(&failing.stderr));

    // A connection flag before an offline command is refused with the reason, not ignored.
    let refused = installed.kubectl(&["kubesnap", "--context", "prod", "analyze", &demo.to_string_lossy()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("--context has no meaning"), "{}", text(&refused.stderr));

    collect_honours_kubectls_global_flags(&installed);

    let removed = installed.kubectl(&["krew", "uninstall", "kubesnap"]);
    assert!(removed.status.success(), "krew uninstall failed:\n{}", text(&removed.stderr));
    let gone = installed.kubectl(&["kubesnap", "version"]);
    assert!(!gone.status.success(), "the plugin still runs after krew uninstall");
}

/// `kubectl kubesnap --kubeconfig K -n kube-system collect` against the real control plane
/// (one install serves both parts: packing debug builds is the slow step).
fn collect_honours_kubectls_global_flags(installed: &Installed) {
    let Some(cluster) = cluster::shared("kubectl kubesnap collect") else { return };
    let bundle = installed.dir.path().join("kube-system.tar.gz");
    // kubectl's global flags before the command, as a kubectl user types them.
    let collect = installed.kubectl(&[
        "kubesnap",
        "--kubeconfig",
        &cluster.kubeconfig.to_string_lossy(),
        "-n",
        "kube-system",
        "collect",
        "-o",
        &bundle.to_string_lossy(),
        "--quiet",
    ]);
    assert!(collect.status.success(), "kubectl kubesnap collect failed:\n{}", text(&collect.stderr));
    let model = load(&bundle, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("the collected bundle does not load: {e}"));
    let manifest = model.manifest.as_ref().unwrap_or_else(|| panic!("the bundle has no manifest"));
    assert_eq!(
        manifest.options.get("namespace"),
        Some(&serde_json::json!(["kube-system"])),
        "-n did not reach the collector"
    );
    let namespaces: std::collections::BTreeSet<_> =
        model.objects.iter().filter_map(|object| object.namespace.as_deref()).collect();
    assert_eq!(
        namespaces.into_iter().collect::<Vec<_>>(),
        ["kube-system"],
        "objects outside -n were collected"
    );
}
