//! `kubesnap-collect` against the real control plane (kube-apiserver, etcd, controllers, kwok,
//! metrics-server): what it captures is compared with what the real kubectl sees.
//!
//! The full collection of the two scenarios runs once per test binary ([`full_run`]) and each
//! test checks one promise about it. Tests that change the cluster in ways others would see
//! (RBAC denials use their own ServiceAccount; the killed API server uses a private cluster)
//! keep to their own objects.

#![expect(clippy::panic, clippy::print_stderr, reason = "tests stop loudly")]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kubesnap_analyzer::load::{LoadOptions, load};
use kubesnap_shared::layout::{self, EntryKind};
use kubesnap_shared::manifest::{Failure, FailureKind, Manifest};
use kubesnap_shared::model::Coverage;
use kubesnap_shared::{Bundle, Limits};
use kubesnap_tests::cluster::{self, Cluster};
use serde_json::Value;

const TEST_NAMESPACE: &str = "kubesnap-collector-test";
/// A secret value planted by this test; it must appear nowhere in a bundle.
const PLANTED_SECRET: &str = "kubesnap-planted-s3cr3t-value-9f2c";
const BROKEN_API_GROUP: &str = "broken.kubesnap.test";

/// The name of the event created mid-run: new in every run, so that it is an ADDED event
/// (applying an unchanged object would not reach the watch at all).
fn mid_run_event() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("kubesnap-mid-run-{nanos}")
    })
}

/// One collection, unpacked.
#[derive(Debug)]
struct Run {
    status: ExitStatus,
    stderr: String,
    /// The bundle as the collector wrote it.
    bundle: PathBuf,
    /// The unpacked bundle's root folder.
    root: PathBuf,
    manifest: Manifest,
    elapsed: Duration,
    _dir: tempfile::TempDir,
}

impl Run {
    fn read(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.root.join(path)).ok()
    }

    fn paths(&self) -> Vec<String> {
        self.manifest.files.iter().map(|file| file.path.clone()).collect()
    }

    fn items(&self, group: &str, resource: &str) -> Vec<Value> {
        let mut items = Vec::new();
        for path in self.paths() {
            if let EntryKind::ResourceList { group: g, resource: r, .. } = layout::classify(&path)
                && g == group
                && r == resource
            {
                let text = self.read(&path).unwrap_or_default();
                let list: Value = serde_json::from_str(&text).unwrap_or_else(|err| panic!("{path}: {err}"));
                items.extend(list["items"].as_array().cloned().unwrap_or_default());
            }
        }
        items
    }
}

/// Runs the collector with `args` against `kubeconfig`; `during` runs while it collects.
fn collect(kubeconfig: &Path, args: &[&str], during: impl FnOnce()) -> Run {
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("tempdir: {err}"));
    let bundle = dir.path().join("bundle.tar.gz");
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_kubesnap-collect-dup"))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("-o")
        .arg(&bundle)
        .arg("--no-progress")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("failed to start the collector: {err}"));
    during();
    let output = child.wait_with_output().unwrap_or_else(|err| panic!("collector: {err}"));
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let target = dir.path().join("unpacked");
    let outcome = Bundle::open(&bundle, Limits::default())
        .and_then(|b| b.unpack(&target))
        .unwrap_or_else(|err| panic!("the bundle is not readable: {err}\ncollector stderr:\n{stderr}"));
    assert!(outcome.stream_error.is_none(), "stream error: {:?}", outcome.stream_error);
    assert!(outcome.checksum_problems.is_empty(), "checksums: {:?}", outcome.checksum_problems);
    let manifest = outcome.manifest.unwrap_or_else(|| panic!("no manifest; stderr:\n{stderr}"));
    let root = target.join(outcome.native_root.unwrap_or_default());
    Run { status: output.status, stderr, bundle, root, manifest, elapsed, _dir: dir }
}

/// The planted Secret, the broken APIService and the RBAC objects of these tests.
fn setup(cluster: &Cluster) {
    cluster.apply(&format!(
        r#"apiVersion: v1
kind: Namespace
metadata:
  name: {TEST_NAMESPACE}
---
apiVersion: v1
kind: Secret
metadata:
  name: planted
  namespace: {TEST_NAMESPACE}
stringData:
  password: {PLANTED_SECRET}
  DATABASE_URL: "postgres://app:{PLANTED_SECRET}@db:5432/app"
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1.{BROKEN_API_GROUP}
spec:
  group: {BROKEN_API_GROUP}
  version: v1
  groupPriorityMinimum: 1000
  versionPriority: 15
  insecureSkipTLSVerify: true
  service:
    name: nothing-here
    namespace: {TEST_NAMESPACE}
    port: 443
"#
    ));
}

/// The full collection of both scenarios, once per test binary.
fn full_run(test: &str) -> Option<&'static (Cluster, Run)> {
    static RUN: OnceLock<(Cluster, Run)> = OnceLock::new();
    let cluster = cluster::shared(test)?;
    Some(RUN.get_or_init(|| {
        cluster.apply_scenario("prod-simulation");
        cluster.apply_scenario("failure-catalog");
        setup(&cluster);
        let kubeconfig = cluster.kubeconfig.clone();
        let during = || {
            // An event created mid-run must reach events/watched.jsonl.
            std::thread::sleep(Duration::from_secs(4));
            cluster.apply(&format!(
                r#"apiVersion: v1
kind: Event
metadata:
  name: {name}
  namespace: {TEST_NAMESPACE}
involvedObject:
  kind: Secret
  name: planted
  namespace: {TEST_NAMESPACE}
reason: KubesnapMidRun
message: created while the collector ran
type: Normal
"#,
                name = mid_run_event(),
            ));
        };
        let run = collect(&kubeconfig, &["--metrics-duration", "20s", "--metrics-interval", "5s"], during);
        eprintln!("full collection: {:?}, {}", run.elapsed, run.stderr);
        (cluster, run)
    }))
}

#[test]
fn full_collection_is_complete_and_exits_zero() {
    let Some((_, run)) = full_run("full_collection_is_complete_and_exits_zero") else { return };
    assert_eq!(run.status.code(), Some(0), "stderr:\n{}", run.stderr);
    assert!(run.manifest.complete, "incomplete: {:?}", run.manifest.incomplete_reasons);
    assert!(run.read(layout::CLUSTER_VERSION).is_some_and(|v| v.contains("gitVersion")));
    assert!(run.read(layout::API_RESOURCES).is_some_and(|v| v.contains("resourceLists")));
}

#[test]
fn every_listable_resource_type_is_in_the_bundle() {
    let Some((cluster, run)) = full_run("every_listable_resource_type_is_in_the_bundle") else { return };
    // kubectl exits 1 when a group's discovery fails (the broken APIService); the rest is printed.
    let output = cluster.kubectl_output(&["api-resources", "--verbs=list", "-o", "name"], None);
    let expected: BTreeSet<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .collect();
    assert!(expected.len() > 40, "kubectl listed only {} resource types", expected.len());
    // Every type kubectl lists was discovered by the collector...
    let discovered: BTreeSet<String> =
        discovered_kinds(run).into_keys().map(|(group, resource)| kubectl_name(&group, &resource)).collect();
    let undiscovered: Vec<&String> = expected.iter().filter(|name| !discovered.contains(*name)).collect();
    assert!(undiscovered.is_empty(), "kubectl lists types the collector did not discover: {undiscovered:?}");
    // ...and listed: every listing leaves a file, an empty one too (`_empty.json`), and
    // nothing failed.
    let mut with_files = BTreeSet::new();
    for path in run.paths() {
        if let EntryKind::ResourceList { group, resource, .. } = layout::classify(&path) {
            with_files.insert(kubectl_name(group, resource));
        }
    }
    let without: Vec<&str> =
        expected.iter().filter(|name| !with_files.contains(*name)).map(String::as_str).collect();
    let failed: Vec<&str> =
        run.manifest.failures.iter().filter(|f| f.what == "list").map(|f| f.scope.as_str()).collect();
    assert!(failed.is_empty(), "list failures as admin: {failed:?}");
    assert!(without.is_empty(), "types kubectl lists that have no file in the bundle: {without:?}");
}

#[test]
fn object_counts_match_kubectl() {
    let Some((cluster, run)) = full_run("object_counts_match_kubectl") else { return };
    // Kinds the scenarios create and nothing changes during a run.
    for (resource, group) in [
        ("namespaces", ""),
        ("configmaps", ""),
        ("deployments", "apps"),
        ("services", ""),
        ("customresourcedefinitions", "apiextensions.k8s.io"),
    ] {
        let name = if group.is_empty() { resource.to_owned() } else { format!("{resource}.{group}") };
        let listed = cluster.kubectl(&["get", &name, "-A", "--no-headers", "-o", "name"]);
        let n_kubectl = listed.lines().filter(|l| !l.is_empty()).count();
        let n_bundle = run.items(group, resource).len();
        assert_eq!(n_bundle, n_kubectl, "{name}: bundle {n_bundle}, kubectl {n_kubectl}");
    }
    // Custom resources of the scenario's CRD are captured too.
    assert!(!run.items("ops.kubesnap.test", "backuppolicies").is_empty());
    // managedFields are dropped.
    assert!(run.items("apps", "deployments").iter().all(|d| d["metadata"].get("managedFields").is_none()));
}

#[test]
fn logs_and_previous_logs_are_captured_with_timestamps() {
    let Some((_, run)) = full_run("logs_and_previous_logs_are_captured_with_timestamps") else { return };
    let logs: Vec<String> =
        run.paths().into_iter().filter(|p| p.starts_with("logs/prod-simulation/")).collect();
    let web = logs.iter().find(|p| p.contains("/web-frontend-") && p.ends_with("/web.log"));
    let web = web.unwrap_or_else(|| panic!("no web-frontend log among {logs:?}"));
    let text = run.read(web).unwrap_or_default();
    assert!(text.contains("Business hours"), "{web}: {text}");
    // timestamps=true: every line starts with an RFC 3339 time.
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.get(..4).is_some_and(|y| y.chars().all(|c| c.is_ascii_digit())) && first.contains('T'),
        "{first}"
    );
    let previous: Vec<String> = run
        .paths()
        .into_iter()
        .filter(|p| p.starts_with("logs/shop/payment-api-") && p.ends_with(".previous.log"))
        .collect();
    assert!(!previous.is_empty(), "no previous log of a restarting payment-api pod");
    let text = run.read(&previous[0]).unwrap_or_default();
    assert!(text.contains("panic: failed to connect to database"), "{}: {text}", previous[0]);
}

#[test]
fn metrics_are_sampled_at_least_twice_per_running_pod() {
    let Some((cluster, run)) = full_run("metrics_are_sampled_at_least_twice_per_running_pod") else { return };
    let text = run
        .read(layout::POD_METRICS)
        .unwrap_or_else(|| panic!("no {}; failures: {:?}", layout::POD_METRICS, run.manifest.failures));
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for line in text.lines() {
        let sample: Value = serde_json::from_str(line).unwrap_or_else(|err| panic!("{line}: {err}"));
        assert!(sample["timestamp"].is_string());
        for item in sample["items"].as_array().into_iter().flatten() {
            let key = format!(
                "{}/{}",
                item["metadata"]["namespace"].as_str().unwrap_or(""),
                item["metadata"]["name"].as_str().unwrap_or("")
            );
            *seen.entry(key).or_default() += 1;
        }
    }
    let running = cluster.kubectl(&[
        "get",
        "pods",
        "-n",
        "prod-simulation",
        "--field-selector=status.phase=Running",
        "-o",
        "name",
    ]);
    let running: Vec<String> =
        running.lines().map(|l| format!("prod-simulation/{}", l.trim_start_matches("pod/"))).collect();
    assert_eq!(running.len(), 10, "the prod-simulation scenario has 10 running pods");
    for pod in &running {
        assert!(seen.get(pod).copied().unwrap_or(0) >= 2, "{pod} sampled {:?} times", seen.get(pod));
    }
    assert!(run.read(layout::NODE_METRICS).is_some_and(|t| t.lines().count() >= 2));
}

#[test]
fn kubelet_stats_per_ready_node_or_a_recorded_failure() {
    let Some((cluster, run)) = full_run("kubelet_stats_per_ready_node_or_a_recorded_failure") else { return };
    let nodes = cluster.kubectl(&["get", "nodes", "-o", "jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}"]);
    for line in nodes.lines() {
        let mut parts = line.split_whitespace();
        let (Some(node), Some(ready)) = (parts.next(), parts.next()) else { continue };
        let stats = run.read(&layout::kubelet_stats(node));
        let failure = run.manifest.failures.iter().find(|f| f.what == "kubelet-stats" && f.scope == node);
        if ready == "True" {
            // kwok may not serve /stats/summary; then the manifest must say so for this node.
            assert!(
                stats.is_some() || failure.is_some(),
                "node {node}: neither stats nor a recorded failure"
            );
            if let Some(failure) = failure {
                eprintln!(
                    "note: kwok did not serve stats/summary for {node}: {:?} {}",
                    failure.kind, failure.message
                );
            }
        } else {
            assert!(
                stats.is_none() && failure.is_some_and(|f| f.kind == FailureKind::Unavailable),
                "NotReady node {node}"
            );
        }
    }
}

#[test]
fn events_created_during_the_run_are_watched() {
    let Some((_, run)) = full_run("events_created_during_the_run_are_watched") else { return };
    let text = run.read(layout::WATCHED_EVENTS).unwrap_or_default();
    let found = text.lines().any(|line| {
        let event: Value = serde_json::from_str(line).unwrap_or_default();
        event["type"] == "ADDED" && event["object"]["metadata"]["name"] == mid_run_event()
    });
    assert!(found, "the mid-run event is not in {}:\n{text}", layout::WATCHED_EVENTS);
}

#[test]
fn no_secret_value_appears_anywhere_in_the_bundle() {
    let Some((_, run)) = full_run("no_secret_value_appears_anywhere_in_the_bundle") else { return };
    // dbpass123: the prod-simulation scenario's plaintext POSTGRES_PASSWORD; the planted Secret; the TLS key.
    let forbidden = [
        "dbpass123",
        PLANTED_SECRET,
        "BEGIN PRIVATE KEY",
        "BEGIN RSA PRIVATE KEY",
        "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t",
    ];
    let mut n_files = 0;
    for path in run.paths() {
        let bytes = std::fs::read(run.root.join(&path)).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        for secret in forbidden {
            assert!(!text.contains(secret), "{secret:?} leaked into {path}");
        }
        n_files += 1;
    }
    assert!(n_files > 50);
    // Key names are kept, and the TLS certificate's public facts are there.
    let secrets = run.items("", "secrets");
    let planted = secrets
        .iter()
        .find(|s| s["metadata"]["name"] == "planted")
        .unwrap_or_else(|| panic!("no planted Secret"));
    assert!(planted["data"]["password"].as_str().is_some_and(|v| v.starts_with("<redacted")), "{planted}");
    let tls = secrets
        .iter()
        .find(|s| s["metadata"]["name"] == "shop-tls")
        .unwrap_or_else(|| panic!("no shop-tls Secret"));
    assert!(tls["kubesnapCertificates"][0]["notAfter"].is_string(), "{tls}");
    assert!(run.manifest.redactions.iter().any(|r| r.rule == "secret-data"));
}

#[test]
fn an_aggregated_api_that_is_down_is_recorded_and_the_rest_collected() {
    let Some((_, run)) = full_run("an_aggregated_api_that_is_down_is_recorded_and_the_rest_collected") else {
        return;
    };
    let failure =
        run.manifest.failures.iter().find(|f| f.what == "discovery" && f.scope.starts_with(BROKEN_API_GROUP));
    let failure = failure.unwrap_or_else(|| {
        panic!("no discovery failure for {BROKEN_API_GROUP}: {:?}", run.manifest.failures)
    });
    // The aggregator answers 503, or holds the request until the per-request timeout.
    assert!(
        matches!(failure.kind, FailureKind::Unavailable | FailureKind::Timeout | FailureKind::ServerError),
        "{failure:?}"
    );
    assert!(run.manifest.complete);
}

#[test]
fn a_restricted_service_account_gets_a_bundle_that_names_each_denial() {
    let Some(cluster) = cluster::shared("a_restricted_service_account_gets_a_bundle_that_names_each_denial")
    else {
        return;
    };
    cluster.apply_scenario("prod-simulation");
    setup(&cluster);
    // Read everything except Secrets, cluster-wide; nothing at all in namespace `billing`
    // (a ClusterRole without secrets, bound per namespace except billing, plus cluster scope).
    cluster.apply(&format!(
        r#"apiVersion: v1
kind: ServiceAccount
metadata:
  name: restricted
  namespace: {TEST_NAMESPACE}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kubesnap-test-restricted
rules:
- apiGroups: [""]
  resources: [pods, pods/log, configmaps, services, events, nodes, namespaces]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [deployments, replicasets]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: kubesnap-test-restricted
  namespace: prod-simulation
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: kubesnap-test-restricted
subjects:
- kind: ServiceAccount
  name: restricted
  namespace: {TEST_NAMESPACE}
"#
    ));
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("{err}"));
    let kubeconfig = dir.path().join("restricted.kubeconfig");
    cluster.service_account_kubeconfig(TEST_NAMESPACE, "restricted", &kubeconfig);
    let run =
        collect(&kubeconfig, &["-n", "prod-simulation", "-n", "billing", "--metrics-duration", "0"], || {});
    assert_eq!(run.status.code(), Some(0), "{}", run.stderr);
    let denied = |scope: &str, namespace: Option<&str>| {
        run.manifest.failures.iter().any(|f| {
            f.kind == FailureKind::Forbidden
                && f.status == Some(403)
                && f.scope == scope
                && f.namespace.as_deref() == namespace
        })
    };
    assert!(denied("v1/secrets", Some("prod-simulation")), "failures: {:#?}", run.manifest.failures);
    assert!(denied("v1/pods", Some("billing")), "failures: {:#?}", run.manifest.failures);
    assert!(denied("v1/nodes", None) || !run.items("", "nodes").is_empty());
    // What was allowed is there.
    assert!(!run.items("", "pods").is_empty());
    assert!(run.paths().iter().any(|p| p.starts_with("logs/prod-simulation/")));
}

#[test]
fn a_deadline_cuts_the_run_into_a_readable_incomplete_bundle() {
    let Some(cluster) = cluster::shared("a_deadline_cuts_the_run_into_a_readable_incomplete_bundle") else {
        return;
    };
    let run = collect(&cluster.kubeconfig, &["--deadline", "3s", "--metrics-duration", "60s"], || {});
    assert_eq!(run.status.code(), Some(3), "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(15), "a 3s deadline took {:?}", run.elapsed);
    assert!(!run.manifest.complete);
    assert!(
        run.manifest.incomplete_reasons.iter().any(|r| r.contains("--deadline")),
        "{:?}",
        run.manifest.incomplete_reasons
    );
    assert!(
        run.manifest.failures.iter().any(|f| f.kind == FailureKind::Cancelled),
        "{:?}",
        run.manifest.failures
    );
}

#[test]
fn a_killed_api_server_gives_a_bundle_with_the_failures_recorded() {
    let Some(private) = cluster::private("killed_api_server") else { return };
    let cluster = &private.cluster;
    let pid = cluster.pid("kube-apiserver").unwrap_or_else(|| panic!("no kube-apiserver pid file"));
    let run = collect(
        &cluster.kubeconfig,
        &["--metrics-duration", "12s", "--metrics-interval", "3s", "--request-timeout", "5s"],
        || {
            std::thread::sleep(Duration::from_secs(4));
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        },
    );
    assert!(matches!(run.status.code(), Some(0 | 3)), "exit {:?}: {}", run.status.code(), run.stderr);
    assert!(run.elapsed < Duration::from_secs(60), "took {:?}", run.elapsed);
    let connection_failures = run
        .manifest
        .failures
        .iter()
        .filter(|f| matches!(f.kind, FailureKind::Connection | FailureKind::Timeout))
        .count();
    assert!(connection_failures > 0, "no connection failure recorded: {:#?}", run.manifest.failures);
    let samples = run.read(layout::POD_METRICS).unwrap_or_default();
    assert!(
        samples.lines().any(|l| l.contains("\"error\"")),
        "the failed samples are not in pods.jsonl:\n{samples}"
    );
}

#[test]
fn a_resource_type_with_no_object_is_listed_in_the_bundle_and_in_the_model() {
    let Some((cluster, run)) =
        full_run("a_resource_type_with_no_object_is_listed_in_the_bundle_and_in_the_model")
    else {
        return;
    };
    // The namespaced types that hold no object anywhere, as kubectl sees them (which types the
    // scenarios leave empty is asked, not assumed). kubectl exits 1 for the broken APIService's
    // group and prints the rest.
    let output =
        cluster.kubectl_output(&["api-resources", "--namespaced=true", "--verbs=list", "-o", "name"], None);
    let empty: Vec<(String, String)> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|name| !name.is_empty())
        .filter(|name| {
            let listed = cluster.kubectl_output(&["get", name, "-A", "-o", "name"], None);
            listed.status.success() && listed.stdout.iter().all(u8::is_ascii_whitespace)
        })
        .map(|name| match name.split_once('.') {
            Some((plural, group)) => (group.to_owned(), plural.to_owned()),
            None => (String::new(), name.to_owned()),
        })
        .collect();
    assert!(!empty.is_empty(), "the scenarios leave no namespaced type empty; this test needs one");

    // Each has its `_empty.json`: an empty List of its kind, recorded in the manifest.
    let kinds = discovered_kinds(run);
    for (group, plural) in &empty {
        let path = run.paths().into_iter().find(|path| {
            matches!(layout::classify(path), EntryKind::ResourceList { group: g, resource: r, all_namespaces: true, .. }
                if g == group && r == plural)
        });
        let path = path.unwrap_or_else(|| panic!("{plural}.{group} is empty but has no _empty.json"));
        let list: Value = serde_json::from_str(&run.read(&path).unwrap_or_default())
            .unwrap_or_else(|err| panic!("{path}: {err}"));
        let kind =
            kinds.get(&(group.clone(), plural.clone())).unwrap_or_else(|| panic!("{path}: kind unknown"));
        assert_eq!(list["kind"], format!("{kind}List"), "{path}");
        assert_eq!(list["items"], Value::Array(Vec::new()), "{path}");
    }

    // The analyzer's model of that bundle says each kind was listed.
    let mut model = load(&run.bundle, &LoadOptions::default()).unwrap_or_else(|err| panic!("load: {err}"));
    for (group, plural) in &empty {
        let kind = &kinds[&(group.clone(), plural.clone())];
        assert_eq!(model.of_kind(kind).count(), 0, "{kind}");
        assert_eq!(model.captured(kind), Coverage::Listed, "{kind}");
    }

    // And it says so from the file: with the manifest of a collection cut while listing, which
    // takes away the older rule ("discovery ran and nothing failed"), the kinds with an
    // `_empty.json` stay listed while a kind without any file becomes unknown. Checked on the
    // empty kinds a CustomResourceDefinition of the bundle defines, which the manifest's paths
    // alone attribute to their kind; the loader's `listed_kinds` (also read from the empty
    // Lists) is cleared so that only the manifest speaks.
    model.listed_kinds.clear();
    let defined: BTreeSet<(String, String)> = model
        .of_kind("CustomResourceDefinition")
        .filter_map(|definition| {
            let group = definition.str_at("/spec/group")?;
            Some((group.to_owned(), definition.str_at("/spec/names/plural")?.to_owned()))
        })
        .collect();
    let custom: Vec<&String> =
        empty.iter().filter(|key| defined.contains(*key)).map(|key| &kinds[key]).collect();
    assert!(!custom.is_empty(), "no custom resource type is empty in {empty:?}; this check needs one");
    let manifest = model.manifest.as_mut().unwrap_or_else(|| panic!("the model has no manifest"));
    manifest.complete = false;
    manifest.failures.push(Failure {
        what: "list".to_owned(),
        scope: "1 of 60 resource types".to_owned(),
        namespace: None,
        kind: FailureKind::Cancelled,
        status: None,
        message: "the collection was cut short".to_owned(),
    });
    assert_eq!(model.captured("KindNobodyServes"), Coverage::Unknown);
    for kind in custom {
        assert_eq!(model.captured(kind), Coverage::Listed, "{kind} in a cut collection");
    }
}

/// A resource as `kubectl api-resources -o name` prints it: `pods`, `deployments.apps`.
fn kubectl_name(group: &str, resource: &str) -> String {
    if group.is_empty() { resource.to_owned() } else { format!("{resource}.{group}") }
}

/// The kind of each resource the collector discovered, by (group, plural), from its
/// `cluster/api-resources.json`.
fn discovered_kinds(run: &Run) -> BTreeMap<(String, String), String> {
    let discovery: Value =
        serde_json::from_str(&run.read(layout::API_RESOURCES).unwrap_or_default()).unwrap_or_default();
    let mut kinds = BTreeMap::new();
    for list in discovery["resourceLists"].as_array().into_iter().flatten() {
        let group =
            list["groupVersion"].as_str().unwrap_or_default().split_once('/').map(|(g, _)| g).unwrap_or("");
        for resource in list["resources"].as_array().into_iter().flatten() {
            if let (Some(name), Some(kind)) = (resource["name"].as_str(), resource["kind"].as_str()) {
                kinds.insert((group.to_owned(), name.to_owned()), kind.to_owned());
            }
        }
    }
    kinds
}
