//! `kubesnap-analyze diff` on the real control plane: capture, change things the way people do
//! (scale a Deployment, roll out a broken image, change a StatefulSet's image, edit a ConfigMap,
//! cordon a node, delete a Service, upgrade a Helm release with the real `helm`, once failing),
//! capture again; the diff
//! reports exactly those changes and the findings they caused, and nothing else. A bundle
//! against itself is no difference, the swapped diff is the mirror, and a `kubectl cluster-info
//! dump` of the same cluster diffs against the native bundle on what both carry.
//!
//! The test changes the cluster (a cordoned node), so it runs on a private cluster of its own.
//! `helm` is built from its Go module by `tests/cluster/build-helm` (cached next to the control
//! plane's binaries; `tests/run-all` builds it before the tests).

#![expect(clippy::panic, clippy::print_stderr, reason = "tests stop loudly")]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use kubesnap_analyzer::diff::{self, Analyzed, BundleDiff, Verdict};
use kubesnap_analyzer::load::{LoadOptions, load};
use kubesnap_shared::helm::{HelmRelease, HelmReleases, HelmStorage};
use kubesnap_shared::layout;
use kubesnap_shared::manifest::Manifest;
use kubesnap_shared::model::ClusterModel;
use kubesnap_shared::{Bundle, Limits};
use kubesnap_tests::cluster::{self, Cluster};
use kubesnap_tests::repo;

const NAMESPACE: &str = "kubesnap-diff";
/// Planted in the release's values (one rendered into a Secret, one rendered nowhere) and its
/// notes: none may appear in a bundle.
const PLANTED_TOKEN: &str = "kubesnap-helm-planted-token-7e1d";
const PLANTED_UNUSED: &str = "kubesnap-helm-planted-unused-3b9a";
const PLANTED_NOTES: &str = "kubesnap-helm-notes-5c2f";
const RELEASE: &str = "shop";

fn manifest() -> String {
    format!(
        r#"apiVersion: v1
kind: Namespace
metadata: {{name: {NAMESPACE}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: cart-config, namespace: {NAMESPACE}}}
data: {{LOG_LEVEL: info}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: cart, namespace: {NAMESPACE}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: cart}}}}
  template:
    metadata: {{labels: {{app: cart}}}}
    spec:
      containers:
      - name: app
        image: registry.example/cart:1.4.2
        envFrom: [{{configMapRef: {{name: cart-config}}}}]
        resources: {{requests: {{cpu: 10m, memory: 16Mi}}, limits: {{memory: 64Mi}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {NAMESPACE}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        resources: {{requests: {{cpu: 10m, memory: 16Mi}}, limits: {{memory: 64Mi}}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db, namespace: {NAMESPACE}}}
spec:
  replicas: 1
  serviceName: db
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec:
      containers:
      - name: postgres
        image: registry.example/postgres:16.2
        resources: {{requests: {{cpu: 10m, memory: 16Mi}}, limits: {{memory: 64Mi}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: cart, namespace: {NAMESPACE}}}
spec: {{selector: {{app: cart}}, ports: [{{port: 80}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: legacy, namespace: {NAMESPACE}}}
spec: {{selector: {{app: web}}, ports: [{{port: 8080}}]}}
"#
    )
}

/// The `helm` binary, built into the cache when missing.
fn helm() -> PathBuf {
    if let Some(path) = std::env::var_os("KUBESNAP_HELM") {
        return PathBuf::from(path);
    }
    let output = Command::new(repo().join("tests/cluster/build-helm"))
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|err| panic!("failed to run tests/cluster/build-helm: {err}"));
    assert!(output.status.success(), "tests/cluster/build-helm failed");
    let dir = String::from_utf8_lossy(&output.stdout).lines().last().unwrap_or_default().to_owned();
    PathBuf::from(dir).join("helm")
}

/// Runs `helm` against the cluster; returns whether it succeeded.
fn run_helm(cluster: &Cluster, args: &[&str]) -> bool {
    let home = tempfile::tempdir().unwrap_or_else(|err| panic!("tempdir: {err}"));
    let output = Command::new(helm())
        .args(args)
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .args(["-n", NAMESPACE])
        // Helm keeps its caches and config under these; a fresh home keeps the machine's out.
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"))
        .output()
        .unwrap_or_else(|err| panic!("failed to run helm: {err}"));
    eprintln!(
        "helm {}: {}\n{}{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output.status.success()
}

fn helm_release(cluster: &Cluster, verb: &str, tier: &str, image: &str) -> bool {
    let chart = repo().join("tests/cluster/charts/shop");
    let chart = chart.to_string_lossy().into_owned();
    let sets = format!("apiToken={PLANTED_TOKEN},unusedSecret={PLANTED_UNUSED},image={image}");
    let tier = format!("tier={tier}");
    run_helm(cluster, &[verb, RELEASE, &chart, "--set", &sets, "--set-string", &tier])
}

/// One capture with the real collector.
fn capture(cluster: &Cluster, into: &Path) -> PathBuf {
    let bundle = into.to_path_buf();
    let output = Command::new(env!("CARGO_BIN_EXE_kubesnap-collect-dup"))
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .arg("-o")
        .arg(&bundle)
        .args(["--no-progress", "--metrics-duration", "10s", "--metrics-interval", "5s"])
        .output()
        .unwrap_or_else(|err| panic!("failed to start the collector: {err}"));
    assert!(output.status.success(), "collector: {}", String::from_utf8_lossy(&output.stderr));
    bundle
}

fn model(path: &Path) -> ClusterModel {
    load(path, &LoadOptions::default()).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..90 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    panic!("timed out waiting for {what}");
}

fn names(entries: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    entries.into_iter().collect()
}

/// Every byte of the bundle, decompressed, as text.
fn bundle_text(path: &Path) -> String {
    let file = std::fs::File::open(path).unwrap_or_else(|err| panic!("{err}"));
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(file), &mut text)
        .unwrap_or_else(|err| panic!("{err}"));
    String::from_utf8_lossy(&text).into_owned()
}

/// `helm/releases.json` and the manifest of a bundle.
fn helm_releases(path: &Path) -> (Vec<HelmRelease>, Manifest) {
    let mut releases = None;
    let outcome = Bundle::open(path, Limits::default())
        .and_then(|bundle| {
            bundle.read(|mut entry| {
                if entry.path().ends_with(&format!("/{}", layout::HELM_RELEASES)) {
                    let bytes = entry.read_to_vec().unwrap_or_else(|err| panic!("releases.json: {err}"));
                    let file: HelmReleases =
                        serde_json::from_slice(&bytes).unwrap_or_else(|err| panic!("releases.json: {err}"));
                    releases = Some(file.releases);
                }
                Ok::<_, kubesnap_shared::Error>(())
            })
        })
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let manifest = outcome.manifest.unwrap_or_else(|| panic!("{}: no manifest", path.display()));
    (releases.unwrap_or_else(|| panic!("{}: no {}", path.display(), layout::HELM_RELEASES)), manifest)
}

/// The release history in each bundle: exactly the revisions Helm made, with their statuses
/// and chart, and no failure to decode any of them.
fn check_helm_history(old_path: &Path, new_path: &Path) {
    let revisions = |releases: &[HelmRelease]| -> Vec<(String, String, u64, String)> {
        releases.iter().map(|r| (r.namespace.clone(), r.name.clone(), r.revision, r.status.clone())).collect()
    };
    let expect = |list: &[(u64, &str)]| -> Vec<(String, String, u64, String)> {
        list.iter()
            .map(|(revision, status)| {
                (NAMESPACE.to_owned(), RELEASE.to_owned(), *revision, (*status).to_owned())
            })
            .collect()
    };
    let (old, old_manifest) = helm_releases(old_path);
    assert_eq!(revisions(&old), expect(&[(1, "deployed")]), "{old:#?}");
    let (new, new_manifest) = helm_releases(new_path);
    // The good upgrade superseded revision 1; the failed one left revision 2 deployed.
    assert_eq!(revisions(&new), expect(&[(1, "superseded"), (2, "deployed"), (3, "failed")]), "{new:#?}");
    for release in &new {
        assert_eq!(release.chart.as_deref(), Some("shop"), "{release:#?}");
        assert_eq!(release.chart_version.as_deref(), Some("0.1.0"), "{release:#?}");
        assert_eq!(release.app_version.as_deref(), Some("1.0.0"), "{release:#?}");
        assert_eq!(release.storage, HelmStorage::Secret);
        assert_eq!(release.object, format!("sh.helm.release.v1.{RELEASE}.v{}", release.revision));
        assert!(release.first_deployed.is_some() && release.last_deployed.is_some(), "{release:#?}");
    }
    let failed = new[2].description.as_deref().unwrap_or_default();
    assert!(failed.contains("failed") && failed.contains("not a valid label!"), "{failed}");
    assert!(new[0].first_deployed == new[2].first_deployed, "{new:#?}");
    for manifest in [&old_manifest, &new_manifest] {
        assert!(manifest.file(layout::HELM_RELEASES).is_some());
        let failures: Vec<_> = manifest.failures.iter().filter(|f| f.what == "helm-release").collect();
        assert!(failures.is_empty(), "{failures:#?}");
    }
}

/// What `text` looks like inside any base64 string, at each of the three alignments: the
/// characters that depend on `text` alone.
fn base64_forms(text: &str) -> Vec<String> {
    use base64::Engine as _;
    (0..3)
        .map(|shift| {
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{}{text}", "x".repeat(shift)));
            let skip = if shift == 0 { 0 } else { 4 };
            encoded[skip..encoded.len() - 4].to_owned()
        })
        .collect()
}

#[test]
fn the_diff_reports_exactly_what_was_changed_and_the_findings_it_caused() {
    let Some(private) =
        cluster::private("the_diff_reports_exactly_what_was_changed_and_the_findings_it_caused")
    else {
        return;
    };
    let cluster = &private.cluster;
    let work = tempfile::tempdir().unwrap_or_else(|err| panic!("tempdir: {err}"));
    cluster.apply(&manifest());
    assert!(helm_release(cluster, "install", "backend", "nginx:1.25"), "helm install failed");
    for deployment in ["cart", "web", "shop-api"] {
        cluster.kubectl(&[
            "rollout",
            "status",
            "-n",
            NAMESPACE,
            &format!("deployment/{deployment}"),
            "--timeout=90s",
        ]);
    }
    cluster.kubectl(&["rollout", "status", "-n", NAMESPACE, "statefulset/db", "--timeout=90s"]);
    let node = cluster.kubectl(&["get", "nodes", "-o", "jsonpath={.items[0].metadata.name}"]);
    let old_path = capture(cluster, &work.path().join("old.tar.gz"));

    // The changes.
    cluster.kubectl(&["scale", "-n", NAMESPACE, "deployment/web", "--replicas=3"]);
    cluster.kubectl(&[
        "patch",
        "-n",
        NAMESPACE,
        "deployment/cart",
        "-p",
        r#"{"spec":{"template":{"metadata":{"labels":{"kubelet.kubesnap.test/state":"CrashLoopBackOff"}},"spec":{"containers":[{"name":"app","image":"registry.example/cart:1.5.0"}]}}}}"#,
    ]);
    cluster.kubectl(&[
        "patch",
        "-n",
        NAMESPACE,
        "configmap/cart-config",
        "--type=merge",
        "-p",
        r#"{"data":{"LOG_LEVEL":"debug"}}"#,
    ]);
    cluster.kubectl(&[
        "set",
        "image",
        "-n",
        NAMESPACE,
        "statefulset/db",
        "postgres=registry.example/postgres:17.0",
    ]);
    cluster.kubectl(&["cordon", &node]);
    cluster.kubectl(&["delete", "-n", NAMESPACE, "service/legacy"]);
    assert!(helm_release(cluster, "upgrade", "frontend", "nginx:1.27"), "helm upgrade failed");
    assert!(
        !helm_release(cluster, "upgrade", "not a valid label!", "nginx:1.27"),
        "the upgrade with an invalid label must fail"
    );
    wait_for("the broken rollout's pods to crash-loop", || {
        cluster
            .kubectl(&[
                "get",
                "pods",
                "-n",
                NAMESPACE,
                "-l",
                "app=cart",
                "-o",
                "jsonpath={.items[*].status.containerStatuses[*].state.waiting.reason}",
            ])
            .contains("CrashLoopBackOff")
    });
    cluster.kubectl(&["rollout", "status", "-n", NAMESPACE, "deployment/web", "--timeout=90s"]);
    cluster.kubectl(&["rollout", "status", "-n", NAMESPACE, "statefulset/db", "--timeout=90s"]);
    let new_path = capture(cluster, &work.path().join("new.tar.gz"));
    let dump = work.path().join("dump");
    cluster.kubectl(&[
        "cluster-info",
        "dump",
        "--all-namespaces",
        "--output-directory",
        &dump.to_string_lossy(),
    ]);

    if let Some(keep) = std::env::var_os("KUBESNAP_DIFF_KEEP") {
        // For a look at the bundles after a failure.
        for path in [&old_path, &new_path] {
            let _ = std::fs::copy(path, Path::new(&keep).join(path.file_name().unwrap_or_default()));
        }
    }
    let (old, new) = (model(&old_path), model(&new_path));
    let (a, b) = (Analyzed::new("old", &old), Analyzed::new("new", &new));
    let forward = diff::compare(&a, &b);
    let markdown = diff::render::markdown(&forward).unwrap_or_else(|err| panic!("{err}"));
    eprintln!("{markdown}");
    assert!(markdown.contains("**Helm revisions**"), "{markdown}");
    assert_eq!(forward.identity.verdict, Verdict::Same, "{:?}", forward.identity);
    check_changes(&forward, &node);
    check_findings(&forward, &node);

    // Symmetry and self-diff on the real bundles.
    assert_eq!(diff::compare(&b, &a), forward.mirror());
    assert!(diff::compare(&b, &b).is_empty(), "{:#?}", diff::compare(&b, &b).objects);

    // Helm: the history, and no value, manifest or note of the release in either bundle.
    check_helm_history(&old_path, &new_path);
    for path in [&old_path, &new_path] {
        let text = bundle_text(path);
        for planted in [PLANTED_TOKEN, PLANTED_UNUSED, PLANTED_NOTES] {
            assert!(!text.contains(planted), "{planted} is in {}", path.display());
            for encoded in base64_forms(planted) {
                assert!(!text.contains(&encoded), "{planted} is in {} as base64 ({encoded})", path.display());
            }
        }
    }

    // Two formats of the same cluster at about the same time: no object people changed differs.
    let dumped = model(&dump);
    let c = Analyzed::new("dump", &dumped);
    let across = diff::compare(&b, &c);
    assert_eq!(across.identity.verdict, Verdict::Same, "{:?}", across.identity);
    assert!(across.objects.added.is_empty() && across.objects.removed.is_empty(), "{:#?}", across.objects);
    for changed in &across.objects.changed {
        let spec: Vec<_> = changed.changes.iter().filter(|change| !change.is_status()).collect();
        assert!(spec.is_empty(), "{}: {spec:#?}", changed.object);
    }
    assert!(
        !across.blind_spots.is_empty(),
        "the dump holds no Secrets: the diff must say it did not compare them"
    );
}

/// The objects people changed, and nothing else.
fn check_changes(diff: &BundleDiff, node: &str) {
    let objects = &diff.objects;
    let ns = |kind: &str, name: &str| format!("{kind}/{NAMESPACE}/{name}");
    assert_eq!(
        names(objects.removed.iter().map(|entry| entry.object.to_string())),
        names([ns("Service", "legacy")]),
        "{objects:#?}"
    );
    assert_eq!(
        names(objects.added.iter().map(|entry| entry.object.to_string())),
        names([ns("Secret", "sh.helm.release.v1.shop.v2"), ns("Secret", "sh.helm.release.v1.shop.v3")]),
        "the upgrades' release records: {objects:#?}"
    );
    let changed = names(objects.changed.iter().map(|changed| changed.object.to_string()));
    let expected = names([
        ns("Deployment", "web"),
        ns("Deployment", "cart"),
        ns("StatefulSet", "db"),
        ns("ConfigMap", "cart-config"),
        format!("Node/{node}"),
        // The good upgrade changed its Deployment; the release record of revision 1 is now
        // superseded (its `status` label).
        ns("Deployment", "shop-api"),
        ns("Secret", "sh.helm.release.v1.shop.v1"),
    ]);
    assert_eq!(changed, expected, "{objects:#?}");
    let fields = |name: &str| -> Vec<String> {
        objects
            .changed
            .iter()
            .filter(|changed| changed.object.to_string() == name)
            .flat_map(|changed| changed.changes.iter().filter(|change| !change.is_status()))
            .map(|change| format!("{} {:?} → {:?}", change.path, change.old, change.new))
            .collect()
    };
    assert_eq!(fields(&ns("Deployment", "web")), [r#"/spec/replicas Some("1") → Some("3")"#]);
    assert_eq!(
        fields(&ns("StatefulSet", "db")),
        [concat!(
            r#"/spec/template/spec/containers[name=postgres]/image "#,
            r#"Some("registry.example/postgres:16.2") → Some("registry.example/postgres:17.0")"#
        )]
    );
    assert_eq!(fields(&ns("ConfigMap", "cart-config")), [r#"/data/LOG_LEVEL Some("info") → Some("debug")"#]);
    // The cordon, and the taint the node controller adds for it.
    let cordon = fields(&format!("Node/{node}"));
    assert!(cordon.contains(&r#"/spec/unschedulable None → Some("true")"#.to_owned()), "{cordon:#?}");
    assert!(
        cordon.iter().all(|field| field.starts_with("/spec/unschedulable")
            || field.starts_with("/spec/taints[key=node.kubernetes.io/unschedulable]")),
        "{cordon:#?}"
    );
    let cart = fields(&ns("Deployment", "cart"));
    assert!(
        cart.contains(&r#"/spec/template/spec/containers[name=app]/image Some("registry.example/cart:1.4.2") → Some("registry.example/cart:1.5.0")"#.to_owned()),
        "{cart:#?}"
    );
    let between = &diff.between;
    let rollouts: Vec<String> = between.rollouts.iter().map(|rollout| rollout.workload.to_string()).collect();
    assert_eq!(
        names(rollouts),
        names([ns("Deployment", "cart"), ns("Deployment", "shop-api"), ns("StatefulSet", "db")]),
        "{between:#?}"
    );
    // The StatefulSet's rollout is its new ControllerRevision, with the image it changed.
    let db: Vec<String> = between
        .rollouts
        .iter()
        .filter(|rollout| rollout.workload.kind == "StatefulSet")
        .map(|rollout| {
            let images: Vec<String> = rollout
                .images
                .iter()
                .map(|image| format!("{} {:?} → {:?}", image.container, image.before, image.after))
                .collect();
            format!("{} {:?} {images:?}", rollout.revision_object.kind, rollout.revision)
        })
        .collect();
    assert_eq!(
        db,
        [concat!(
            r#"ControllerRevision Some("2") ["postgres "#,
            r#"Some(\"registry.example/postgres:16.2\") → Some(\"registry.example/postgres:17.0\")"]"#
        )]
    );
    // The two upgrades, from the later bundle's Helm history: the good one and the failed one.
    let helm: Vec<String> = between
        .helm
        .iter()
        .map(|revision| {
            format!("{}/{} {} {}", revision.namespace, revision.release, revision.revision, revision.status)
        })
        .collect();
    assert_eq!(
        helm,
        [format!("{NAMESPACE}/{RELEASE} 2 deployed"), format!("{NAMESPACE}/{RELEASE} 3 failed")]
    );
    assert!(
        between.helm.iter().all(|revision| revision
            .at
            .is_some_and(|at| { between.window.is_some_and(|window| at >= window.from && at <= window.to) })),
        "{between:#?}"
    );
    let nodes: Vec<String> =
        between.nodes.iter().map(|change| format!("{} {}", change.node, change.describe())).collect();
    assert_eq!(nodes, [format!("{node} cordoned")]);
    // What controllers made lives under the objects people changed.
    for derived in &objects.derived {
        let owner = derived.owner.to_string();
        assert!(
            [
                ns("Deployment", "web"),
                ns("Deployment", "cart"),
                ns("Deployment", "shop-api"),
                ns("StatefulSet", "db"),
                ns("Service", "legacy"),
                ns("Service", "cart")
            ]
            .contains(&owner)
                || owner.starts_with("Node/"),
            "unexpected controller-made change under {owner}: {derived:#?}"
        );
    }
}

/// The findings the changes caused: the crash loop of the broken rollout, the cordoned node.
fn check_findings(diff: &BundleDiff, node: &str) {
    let new: Vec<String> = diff.findings.new.iter().map(|change| change.identity.clone()).collect();
    assert!(
        new.iter().any(|identity| identity.starts_with("crash-loop-backoff:")
            && identity.contains("Deployment/kubesnap-diff/cart")),
        "{new:#?}"
    );
    assert!(new.iter().any(|identity| *identity == format!("node-cordoned:Node/{node}")), "{new:#?}");
    for change in &diff.findings.new {
        let about_a_change = change.subjects.iter().chain(&change.owners).any(|subject| {
            subject.namespace.as_deref() == Some(NAMESPACE)
                || (subject.kind == "Node" && subject.name == node)
        });
        assert!(about_a_change, "a new finding no change explains: {change:#?}");
    }
    let cart = diff
        .summary
        .iter()
        .find(|line| {
            line.object.as_ref().is_some_and(|object| object.kind == "Deployment" && object.name == "cart")
        })
        .unwrap_or_else(|| panic!("{:#?}", diff.summary));
    assert!(
        cart.changes.iter().any(|change| change.contains("cart:1.4.2 → registry.example/cart:1.5.0")),
        "{cart:#?}"
    );
    assert!(cart.findings.iter().any(|finding| finding.contains("crash-loop-backoff")), "{cart:#?}");
    assert!(
        diff.summary.iter().all(|line| line.object.is_some()),
        "every new finding goes with a change: {:#?}",
        diff.summary
    );
}
