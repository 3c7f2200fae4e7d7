//! kubectl text against the truth: on the real control plane with the failure catalog applied,
//! the same objects are captured as kubectl text (real kubectl: `get -o wide -A`, `describe`,
//! `get events`, as a terminal transcript) and as JSON (the collector), both are analyzed, and
//! every field the text shows must agree with the JSON model; fields text cannot show must be
//! recorded as absent. Then the diagnostic scripts people run instead of kubesnap (the pod and
//! storage scripts of `../shared/seeds/`) are run with `bash -x` against the cluster, and their
//! transcripts are analyzed.

#![expect(clippy::panic, reason = "tests stop loudly")]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use kubesnap_analyzer::load::{LoadOptions, load};
use kubesnap_shared::model::{ClusterModel, Object, SourceFormat};
use kubesnap_tests::cluster::{self, Cluster};
use serde_json::Value;

fn model(path: &Path) -> ClusterModel {
    load(path, &LoadOptions::default()).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// A transcript of `kubectl ARGS` for each of `commands`, as a terminal shows it.
fn transcript(cluster: &Cluster, commands: &[&[&str]]) -> String {
    let mut text = String::new();
    for args in commands {
        text.push_str(&format!("$ kubectl {}\n", args.join(" ")));
        text.push_str(&cluster.kubectl(args));
    }
    text
}

fn json(object: &Object) -> Value {
    Value::from(&object.raw)
}

/// Whether `text` (what kubectl text showed) agrees with `truth` (the object's JSON): every key
/// text has holds the same value in the truth. The API server omits zero counts, `false` and
/// empty lists and maps, so those agree with nothing.
fn agree(text: &Value, truth: Option<&Value>, at: &str, problems: &mut Vec<String>) {
    match (text, truth) {
        (Value::Object(text), Some(Value::Object(truth))) => {
            for (key, value) in text {
                // A heartbeat moves between two captures; the transition times do not.
                if key != "lastHeartbeatTime" {
                    agree(value, truth.get(key), &format!("{at}/{key}"), problems);
                }
            }
        }
        // Taints are a set: describe sorts them.
        (Value::Array(text), Some(Value::Array(truth)))
            if at.ends_with("/spec/taints") && text.len() == truth.len() =>
        {
            for taint in text {
                let found = truth.iter().any(|real| {
                    let mut matched = Vec::new();
                    agree(taint, Some(real), at, &mut matched);
                    matched.is_empty()
                });
                if !found {
                    problems.push(format!("{at}: text shows taint {taint}, which the API does not"));
                }
            }
        }
        (Value::Array(text), Some(Value::Array(truth))) if text.len() == truth.len() => {
            for (index, (text, truth)) in text.iter().zip(truth).enumerate() {
                if at.ends_with("containerStatuses") || at.ends_with("initContainerStatuses") {
                    container_status(text, truth, &format!("{at}/{index}"), problems);
                } else {
                    agree(text, Some(truth), &format!("{at}/{index}"), problems);
                }
            }
        }
        (Value::Number(text), Some(Value::Number(truth))) if text.as_f64() == truth.as_f64() => {}
        (Value::Number(number), None) if number.as_f64() == Some(0.0) => {}
        (Value::Bool(false), None) => {}
        (Value::Object(map), None) if map.is_empty() => {}
        (Value::Array(list), None) if list.is_empty() => {}
        (text, Some(truth)) if text == truth => {}
        (text, truth) => {
            problems.push(format!("{at}: text shows {text}, the API {}", truth.unwrap_or(&Value::Null)))
        }
    }
}

/// A container's status: a crash-looping container restarts every two minutes, so when it
/// restarted between the two captures only what a restart does not change must agree.
fn container_status(text: &Value, truth: &Value, at: &str, problems: &mut Vec<String>) {
    let restarts = |value: &Value| value.get("restartCount").and_then(Value::as_u64).unwrap_or(0);
    if restarts(text) == restarts(truth) {
        agree(text, Some(truth), at, problems);
        return;
    }
    if restarts(text) > restarts(truth) {
        problems.push(format!("{at}/restartCount: text shows more restarts than the later capture"));
    }
    for key in ["name", "image", "imageID"] {
        if let Some(value) = text.get(key) {
            agree(value, truth.get(key), &format!("{at}/{key}"), problems);
        }
    }
}

#[test]
fn kubectl_text_agrees_with_the_api_on_every_field_it_shows() {
    let Some(cluster) = cluster::shared("kubectl_text_agrees_with_the_api_on_every_field_it_shows") else {
        return;
    };
    cluster.apply_scenario("failure-catalog");
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("tempdir: {err}"));

    // Text first: an object the collector sees later is then never missing from the text's
    // truth (pods are made, seldom deleted, while a scenario runs).
    let mut commands: Vec<Vec<&str>> = Vec::new();
    for resource in ["nodes", "pods", "deployments", "replicasets", "services", "pvc"] {
        commands.push(vec!["get", resource, "-o", "wide", "-A"]);
    }
    commands.push(vec!["get", "pods", "-A", "--show-labels"]);
    for resource in ["nodes", "pods", "deployments", "replicasets", "services", "pvc"] {
        commands.push(vec!["describe", resource, "-A"]);
    }
    commands.push(vec!["get", "events", "-A"]);
    let commands: Vec<&[&str]> = commands.iter().map(Vec::as_slice).collect();
    let text_path = dir.path().join("transcript.txt");
    std::fs::write(&text_path, transcript(&cluster, &commands)).unwrap_or_else(|err| panic!("{err}"));

    let bundle = dir.path().join("native.tar.gz");
    let output = Command::new(env!("CARGO_BIN_EXE_kubesnap-collect-dup"))
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .arg("-o")
        .arg(&bundle)
        // The transcript is kubectl's plain text: the JSON it is held against is not redacted
        // either (a scenario of the shared cluster puts a password in a container's env).
        .args(["--no-progress", "--metrics-duration", "0", "--no-redact"])
        .output()
        .unwrap_or_else(|err| panic!("failed to start the collector: {err}"));
    assert!(output.status.success(), "the collector failed: {}", String::from_utf8_lossy(&output.stderr));

    let truth = model(&bundle);
    let text = model(&text_path);
    assert_eq!(text.format, Some(SourceFormat::KubectlText));
    assert!(text.read_problems.is_empty(), "{:?}", text.read_problems);

    // Every object text shows is the API's, and every field text recorded agrees.
    let mut problems = Vec::new();
    let mut compared: BTreeMap<String, usize> = BTreeMap::new();
    for object in text.objects.iter() {
        let Some(real) = truth.get(&object.kind, object.namespace.as_deref(), &object.name) else {
            problems.push(format!(
                "{} {:?}/{} is not in the API's capture",
                object.kind, object.namespace, object.name
            ));
            continue;
        };
        let (shown, real) = (json(object), json(real));
        for field in &text.text_fields[&object.kind] {
            let at = format!(
                "{} {}/{}{field}",
                object.kind,
                object.namespace.as_deref().unwrap_or(""),
                object.name
            );
            if let Some(pointer) = field.strip_suffix("[Ready]") {
                // A `get nodes` row: the Ready condition's status, the others not shown.
                let ready = |value: &Value| {
                    value
                        .pointer(pointer)?
                        .as_array()?
                        .iter()
                        .find(|c| c["type"] == "Ready")
                        .map(|c| c["status"].clone())
                };
                if ready(&shown).is_some() && ready(&shown) != ready(&real) {
                    problems.push(format!("{at}: text {:?}, the API {:?}", ready(&shown), ready(&real)));
                }
                continue;
            }
            if let Some(pointer) = field.strip_suffix("[node-role]") {
                // ROLES: the role labels' keys; their values are not shown.
                for key in
                    shown.pointer(pointer).and_then(Value::as_object).into_iter().flat_map(|map| map.keys())
                {
                    if real.pointer(pointer).and_then(|labels| labels.get(key)).is_none() {
                        problems.push(format!("{at}: role label {key} is not the node's"));
                    }
                }
                continue;
            }
            let Some(value) = shown.pointer(field) else { continue };
            *compared.entry(format!("{} {field}", object.kind)).or_default() += 1;
            agree(value, real.pointer(field), &at, &mut problems);
        }
    }
    assert!(problems.is_empty(), "kubectl text and the API disagree:\n{}", problems.join("\n"));
    // The comparison covered what describe and get show, for every kind the issue names.
    for expected in [
        "Pod /status/containerStatuses",
        "Pod /spec/containers",
        "Pod /metadata/ownerReferences",
        "Pod /status/podIP",
        "Pod /metadata/labels",
        "Node /status/conditions",
        "Node /status/nodeInfo",
        "Node /status/allocatable",
        "Deployment /spec/replicas",
        "Deployment /spec/template/spec/containers",
        "ReplicaSet /spec/replicas",
        "Service /spec/ports",
        "Service /spec/selector",
        "PersistentVolumeClaim /status/phase",
        "PersistentVolumeClaim /spec/storageClassName",
    ] {
        assert!(
            compared.get(expected).is_some_and(|n| *n > 0),
            "{expected} was never compared: {compared:#?}"
        );
    }
    // Every pod, node, deployment, replica set, service and claim of the API is in the text.
    for kind in ["Pod", "Node", "Deployment", "ReplicaSet", "Service", "PersistentVolumeClaim"] {
        let missing: Vec<String> = truth
            .of_kind(kind)
            .filter(|object| text.get(kind, object.namespace.as_deref(), &object.name).is_none())
            .map(|object| object.name.clone())
            .collect();
        // Made after the text was captured (a Job's retry), at most a few.
        assert!(missing.len() <= 2, "{kind}s of the API missing from the text: {missing:?}");
    }
    // Each event text shows is one of the API's: the same object, reason and type.
    for event in &text.events {
        assert!(
            truth.events.iter().any(|real| real.involved.kind == event.involved.kind
                && real.involved.name == event.involved.name
                && real.reason == event.reason
                && real.kind == event.kind),
            "an event text shows is not the API's: {event:?}"
        );
    }
    // What text cannot show is recorded as absent, never filled in.
    for (kind, fields) in &text.text_fields {
        for never in
            ["/metadata/uid", "/metadata/resourceVersion", "/spec/imagePullSecrets", "/spec/tolerations"]
        {
            assert!(!fields.contains(never), "{kind} {never} recorded as shown by text");
        }
    }
    assert!(text.of_kind("Pod").all(|pod| pod.at("/metadata/uid").is_none()));
    assert!(truth.of_kind("Pod").all(|pod| pod.at("/metadata/uid").is_some()));

    // Objects printed whole (`get -o yaml` in a transcript) are the API's objects, every field:
    // nothing is marked as read from text.
    let whole_path = dir.path().join("objects.txt");
    let whole_text = transcript(&cluster, &[&["get", "pods,deployments,services", "-A", "-o", "yaml"]]);
    std::fs::write(&whole_path, whole_text).unwrap_or_else(|err| panic!("{err}"));
    let whole = model(&whole_path);
    assert_eq!(whole.format, Some(SourceFormat::KubectlText));
    assert!(whole.read_problems.is_empty(), "{:?}", whole.read_problems);
    assert!(whole.text_fields.is_empty(), "{:?}", whole.text_fields);
    for (kind, fields) in [
        ("Pod", &["/metadata/uid", "/metadata/ownerReferences", "/spec/containers", "/spec/volumes"][..]),
        ("Deployment", &["/metadata/uid", "/spec"][..]),
        ("Service", &["/metadata/uid", "/spec"][..]),
    ] {
        let (mut compared, mut missing) = (0, Vec::new());
        for object in whole.of_kind(kind) {
            let Some(real) = truth.get(kind, object.namespace.as_deref(), &object.name) else {
                missing.push(object.name.clone());
                continue;
            };
            let (shown, real) = (json(object), json(real));
            for field in fields {
                assert_eq!(shown.pointer(field), real.pointer(field), "{kind} {} {field}", object.name);
            }
            compared += 1;
        }
        // Made after the collector ran (a Job's retry), at most a few.
        assert!(missing.len() <= 2, "{kind}s printed whole but not in the API's capture: {missing:?}");
        assert!(compared >= truth.of_kind(kind).count().saturating_sub(2), "{kind}: {compared} compared");
    }

    // The findings text can feed agree with the API's.
    let (real_findings, _) = kubesnap_analyzer::analyze(&truth);
    let (text_findings, skipped) = kubesnap_analyzer::analyze(&text);
    for code in ["crash-loop-backoff", "create-container-config-error", "pvc-pending", "node-not-ready"] {
        let about = |findings: &[kubesnap_analyzer::finding::Finding]| -> Vec<String> {
            let mut about: Vec<String> = findings
                .iter()
                .filter(|finding| finding.code == code)
                .map(|finding| finding.objects.first().map(ToString::to_string).unwrap_or_default())
                .collect();
            about.sort();
            about
        };
        assert!(!about(&real_findings).is_empty(), "the API's capture lacks {code}");
        assert_eq!(about(&text_findings), about(&real_findings), "{code}");
    }
    assert!(
        skipped.iter().any(|skipped| skipped.code == "image-pull-backoff"
            && skipped.reason.contains("/spec/imagePullSecrets"))
    );
}

/// The body of the ```bash block of `markdown` whose first lines name `script`.
fn script(markdown: &str, script: &str) -> String {
    let start =
        markdown.find(&format!("# {script}")).unwrap_or_else(|| panic!("{script} is not in the seeds"));
    let begin =
        markdown[..start].rfind("```bash\n").unwrap_or_else(|| panic!("{script} has no code block")) + 8;
    let end = start + markdown[start..].find("\n```").unwrap_or_else(|| panic!("{script} has no end"));
    markdown[begin..end].to_owned()
}

/// Runs `body` with `bash -x` against the cluster, stdout and stderr into one transcript (the
/// way a script's output is pasted into a ticket); `kubectl` on PATH is the test's.
fn run_script(cluster: &Cluster, dir: &Path, name: &str, body: &str, args: &[&str]) -> std::path::PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap_or_else(|err| panic!("{err}"));
    let wrapper = bin.join("kubectl");
    // The real kubectl by its full path: a bare `kubectl` would find this wrapper again.
    let mut kubectl = cluster::kubectl();
    if !kubectl.is_absolute() {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v '{}'", kubectl.display())])
            .output()
            .unwrap_or_else(|err| panic!("sh: {err}"));
        kubectl = std::path::PathBuf::from(String::from_utf8_lossy(&found.stdout).trim());
        assert!(kubectl.is_absolute(), "kubectl is not on PATH");
    }
    let exec = format!("#!/bin/sh\nexec '{}' \"$@\"\n", kubectl.display());
    std::fs::write(&wrapper, exec).unwrap_or_else(|err| panic!("{err}"));
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(&wrapper).unwrap_or_else(|err| panic!("{err}")).permissions(),
        0o755,
    );
    let mut permissions = std::fs::metadata(&wrapper).unwrap_or_else(|err| panic!("{err}")).permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&wrapper, permissions).unwrap_or_else(|err| panic!("{err}"));
    let path = dir.join(format!("{name}.sh"));
    std::fs::write(&path, body).unwrap_or_else(|err| panic!("{err}"));
    let out = dir.join(format!("{name}.txt"));
    let file = std::fs::File::create(&out).unwrap_or_else(|err| panic!("{err}"));
    let status = Command::new("timeout")
        .arg("60")
        .arg("bash")
        .arg("-x")
        .arg(&path)
        .args(args)
        .env("KUBECONFIG", &cluster.kubeconfig)
        .stdin(std::process::Stdio::null())
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
        .stdout(file.try_clone().unwrap_or_else(|err| panic!("{err}")))
        .stderr(file)
        .status()
        .unwrap_or_else(|err| panic!("bash: {err}"));
    // `set -e` ends the pod script at `kubectl exec`, which the test cluster does not serve.
    assert!(status.code() != Some(124), "{name} timed out");
    out
}

#[test]
fn the_diagnostic_scripts_output_is_analyzed() {
    let Some(cluster) = cluster::shared("the_diagnostic_scripts_output_is_analyzed") else {
        return;
    };
    cluster.apply_scenario("failure-catalog");
    let seeds = kubesnap_tests::repo().join("../shared/seeds/000_658d0e7c106ddc2f.txt");
    let markdown = std::fs::read_to_string(&seeds).unwrap_or_else(|err| panic!("{}: {err}", seeds.display()));
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("tempdir: {err}"));
    let pod = cluster.kubectl(&[
        "get",
        "pods",
        "-n",
        "shop",
        "-l",
        "app=payment-api",
        "-o",
        "jsonpath={.items[0].metadata.name}",
    ]);

    let pod_transcript = run_script(
        &cluster,
        dir.path(),
        "pod-diagnostic",
        &script(&markdown, "pod-diagnostic.sh"),
        &[&pod, "shop"],
    );
    let text = std::fs::read_to_string(&pod_transcript).unwrap_or_default();
    assert!(text.contains("=== Pod Details ===") && text.contains("+ kubectl describe pod"), "{text}");
    let pod_model = model(&pod_transcript);
    assert_eq!(pod_model.format, Some(SourceFormat::KubectlText));
    let described =
        pod_model.get("Pod", Some("shop"), &pod).unwrap_or_else(|| panic!("no pod {pod} in {text}"));
    assert_eq!(
        described.str_at("/status/containerStatuses/0/state/waiting/reason"),
        Some("CrashLoopBackOff")
    );
    // The script's `kubectl logs -c payment-api` and `--previous`: the current and last run.
    let logs: Vec<(String, bool)> =
        pod_model.logs.iter().map(|log| (log.key.container.clone(), log.key.previous)).collect();
    assert!(logs.contains(&("payment-api".to_owned(), true)), "{logs:?}");
    let (findings, _) = kubesnap_analyzer::analyze(&pod_model);
    let crash = findings
        .iter()
        .find(|finding| finding.code == "crash-loop-backoff")
        .unwrap_or_else(|| panic!("no crash-loop-backoff: {findings:#?}"));
    assert!(crash.title.contains("exit code 1"), "{}", crash.title);
    // The previous run's last words come from the script's `kubectl logs --previous`.
    assert!(
        findings.iter().any(|finding| finding.code == "log-error-patterns"),
        "{:?}",
        findings.iter().map(|finding| finding.code).collect::<Vec<_>>()
    );

    let storage = run_script(
        &cluster,
        dir.path(),
        "storage-diagnostic",
        &script(&markdown, "storage-diagnostic.sh"),
        &["analytics"],
    );
    let model = model(&storage);
    let claim = model
        .get("PersistentVolumeClaim", Some("analytics"), "warehouse-data")
        .unwrap_or_else(|| panic!("no claim in {}", std::fs::read_to_string(&storage).unwrap_or_default()));
    assert_eq!(claim.str_at("/status/phase"), Some("Pending"));
    let (findings, _) = kubesnap_analyzer::analyze(&model);
    let pending = findings
        .iter()
        .find(|finding| finding.code == "pvc-pending")
        .unwrap_or_else(|| panic!("no pvc-pending: {findings:#?}"));
    assert!(pending.title.contains("fast-ssd"), "{}", pending.title);
}
