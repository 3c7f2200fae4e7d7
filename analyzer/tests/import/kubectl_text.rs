//! kubectl text as a bundle of its own: a terminal transcript, a folder of text files, and a
//! file that is no kubectl output. The transcript (`testdata/kubectl-text/transcript.txt`) was
//! printed by kubectl 1.33 against the test control plane with the failure catalog applied.

use std::path::{Path, PathBuf};

use kubesnap_analyzer::load::{LoadError, LoadOptions, load};
use kubesnap_shared::import::text;
use kubesnap_shared::model::{ClusterModel, ReadProblem, SourceFormat};

fn transcript() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/kubectl-text/transcript.txt")
}

fn loaded(path: &Path) -> ClusterModel {
    load(path, &LoadOptions::default()).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[test]
fn a_transcript_is_read_into_objects_events_logs_and_a_top_sample() {
    let model = loaded(&transcript());
    assert_eq!(model.format, Some(SourceFormat::KubectlText));
    assert!(model.read_problems.is_empty(), "{:?}", model.read_problems);
    let pods: Vec<&str> = model.of_kind("Pod").map(|pod| pod.name.as_str()).collect();
    assert_eq!(pods.len(), 13, "{pods:?}");
    assert_eq!(model.of_kind("Node").count(), 5);
    // `kubectl logs POD -n shop --previous`: the previous run of the pod's only container.
    let previous =
        model.logs.iter().find(|log| log.key.pod == "payment-api-7585dfd7c-56z8m").unwrap_or_else(|| {
            panic!("no log: {:?}", model.logs.iter().map(|log| &log.key).collect::<Vec<_>>())
        });
    assert_eq!(previous.key.namespace, "shop");
    assert_eq!(previous.key.container, "payment-api");
    assert!(previous.key.previous);
    assert_eq!(model.logs.len(), 2);
    // `kubectl top pods --containers`, one sample per container; `top nodes` likewise.
    assert_eq!(model.pod_metrics.len(), 10);
    assert_eq!(model.node_metrics.len(), 4);
    // Events of describe blocks and of `get events` about the same object and reason are one.
    let provisioning: Vec<_> =
        model.events.iter().filter(|event| event.reason == "ProvisioningFailed").collect();
    assert_eq!(provisioning.len(), 1, "{provisioning:?}");
    // What text gave, per kind, and the gaps the report shows.
    assert!(model.text_fields["Pod"].contains("/status/containerStatuses"));
    assert!(model.text_fields["Node"].contains("/status/conditions[Ready]"));
    assert!(!model.text_fields["Pod"].contains("/spec/imagePullSecrets"));
    assert!(model.gaps.iter().any(|gap| gap.what == "secrets"), "{:?}", model.gaps);
}

#[test]
fn a_transcript_gives_the_findings_its_text_shows_and_skips_the_rest_with_the_reason() {
    let model = loaded(&transcript());
    let (findings, skipped) = kubesnap_analyzer::analyze(&model);
    let about = |code: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|finding| finding.code == code)
            .map(|finding| finding.objects.first().map(ToString::to_string).unwrap_or_default())
            .collect()
    };
    assert_eq!(about("crash-loop-backoff"), ["Deployment/shop/payment-api"]);
    let crash = findings.iter().find(|finding| finding.code == "crash-loop-backoff").unwrap();
    assert!(crash.title.contains("exit code 1"), "{}", crash.title);
    assert_eq!(about("create-container-config-error").len(), 1);
    assert_eq!(about("pvc-pending"), ["PersistentVolumeClaim/analytics/warehouse-data"]);
    assert_eq!(about("node-not-ready"), ["Node/kwok-node-lost", "Node/kwok-node-pressure"]);
    assert_eq!(about("deployment-replicas-unavailable"), ["Deployment/shop/payment-api"]);
    assert!(!about("log-error-patterns").is_empty());
    // The advice of image-pull-backoff names the pod's pull secrets, which describe does not
    // print: skipped, never guessed.
    let pull = skipped.iter().find(|skipped| skipped.code == "image-pull-backoff").unwrap();
    assert!(pull.reason.contains("Pod /spec/imagePullSecrets"), "{}", pull.reason);
    let restarts = skipped.iter().find(|skipped| skipped.code == "pod-restarts").unwrap();
    assert!(restarts.reason.contains("kubectl text"), "{}", restarts.reason);
}

#[test]
fn a_folder_of_text_files_is_read_and_a_file_of_prose_in_it_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let transcript = std::fs::read_to_string(transcript()).unwrap();
    // The describe output of one node, without any prompt, and a table of pods.
    let node = &transcript[transcript.find("Name:               kwok-node-0").unwrap()..];
    let node = &node[..node.find("\n$ ").unwrap()];
    std::fs::write(dir.path().join("node.txt"), node).unwrap();
    let pods =
        &transcript[transcript.find("NAME ").unwrap()..transcript.find("\n$ kubectl describe").unwrap()];
    std::fs::write(dir.path().join("pods"), pods).unwrap();
    std::fs::write(dir.path().join("notes.md"), "The checkout page was slow on Monday.\n").unwrap();
    let model = loaded(dir.path());
    assert_eq!(model.format, Some(SourceFormat::KubectlText));
    assert_eq!(model.of_kind("Node").count(), 1);
    assert_eq!(model.of_kind("Pod").count(), 13);
    // The pods of a table without a NAMESPACE column, printed without `-n`: no namespace is
    // made up for them.
    assert!(model.of_kind("Pod").all(|pod| pod.namespace.is_none()));
    assert!(
        model.read_problems.iter().any(|problem| matches!(
            problem,
            ReadProblem::NoKubectlOutput { path, looked_for }
                if path.ends_with("notes.md") && looked_for.contains("kubectl describe")
        )),
        "{:?}",
        model.read_problems
    );
}

#[test]
fn a_text_file_that_is_no_kubectl_output_is_refused_with_what_was_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ticket.txt");
    std::fs::write(&path, "Hi, our pods keep restarting since the upgrade. Can you help?\n").unwrap();
    let error = load(&path, &LoadOptions::default()).unwrap_err();
    assert!(matches!(error, LoadError::UnknownFormat { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("kubectl text") && message.contains("$ kubectl"), "{message}");
    assert!(!text::looks_like(b"Hi, our pods keep restarting since the upgrade.\n"));
}
