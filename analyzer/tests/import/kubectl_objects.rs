//! Objects printed whole, as people attach them to tickets: a folder of `kubectl get -o yaml`
//! files (`realdata/newrelic__nri-kubernetes/.../1_35`: pods, nodes, services, endpoints and
//! namespaces of a kind v1.35 cluster, beside kubelet and Prometheus metrics and a README
//! holding a `kubectl get nodes -o wide` table), a kubelet's `/pods` answer (`DataDog__...`),
//! the same folder as an archive, and a table beside the YAML of the same pods.

use std::io::Write;

use kubesnap_analyzer::load::{LoadOptions, load};
use kubesnap_shared::model::{ReadProblem, SourceFormat};

use crate::support::{count, files, load_real, realdata, summary, yaml_items};

const FOLDER: &str = "newrelic__nri-kubernetes/internal/testutil/data/1_35";
const PODLIST: &str =
    "DataDog__datadog-agent/pkg/util/kubernetes/kubelet/testdata/podlist_container_creating.json";

#[test]
fn a_folder_of_yaml_lists_is_read_whole_and_what_is_not_kubectl_output_is_named() {
    let model = load_real(FOLDER);
    let context = summary(&model);
    // `nodes.yaml` at the top is no cluster-info dump when `pods.yaml` sits beside it.
    assert_eq!(model.format, Some(SourceFormat::KubectlText), "{context}");
    let files = files(&realdata(FOLDER));
    for (file, kind) in [
        ("pods.yaml", "Pod"),
        ("nodes.yaml", "Node"),
        ("services.yaml", "Service"),
        ("endpoints.yaml", "Endpoints"),
        ("namespaces.yaml", "Namespace"),
    ] {
        let expected = yaml_items(&files[file]).len();
        assert!(expected > 0, "{file} is empty");
        assert_eq!(count(&model, kind), expected, "{kind} of {file}\n{context}");
        assert!(model.listed_kinds.contains(kind), "{kind} not listed\n{context}");
    }
    // Whole objects: containers, statuses and owners, which no table shows.
    let pending = model
        .of_kind("Pod")
        .find(|pod| pod.name == "e2e-container-pending")
        .unwrap_or_else(|| panic!("no pending pod\n{context}"));
    assert_eq!(pending.str_at("/status/phase"), Some("Pending"));
    assert!(pending.at("/spec/containers/0/image").is_some());
    // The README's node table names the node nodes.yaml gives whole: the object wins, and no
    // kind is marked as read from text (which would skip most diagnostics).
    assert!(model.text_fields.is_empty(), "{:?}", model.text_fields);
    // Prometheus text and the kubelet's stats are no kubectl output: each is named, not lost.
    let unread: Vec<&str> = model
        .read_problems
        .iter()
        .filter_map(|problem| match problem {
            ReadProblem::NoKubectlOutput { path, .. } => Some(path.as_str()),
            _ => None,
        })
        .collect();
    for path in ["ksm/metrics", "controlplane/etcd/metrics", "kubelet/metrics/cadvisor"] {
        assert!(unread.iter().any(|unread| unread.ends_with(path)), "{path} not named: {unread:?}");
    }
    assert!(!unread.iter().any(|path| path.ends_with("README.md") || path.ends_with(".yaml")), "{unread:?}");

    // What the analysis says of it: the pod whose nodeSelector matches no node.
    let (findings, _) = kubesnap_analyzer::analyze(&model);
    let unschedulable = findings
        .iter()
        .find(|finding| finding.code == "pod-pending-unschedulable")
        .unwrap_or_else(|| panic!("{:?}", findings.iter().map(|f| &f.title).collect::<Vec<_>>()));
    assert_eq!(unschedulable.objects[0].to_string(), "Pod/scraper/e2e-container-pending");
    // The folder holds no Jobs: the failed pods of one are reported, without a verdict on it.
    let failed: Vec<String> = yaml_items(&files["pods.yaml"])
        .iter()
        .filter(|pod| {
            pod["status"]["phase"] == "Failed" && pod["metadata"]["ownerReferences"][0]["kind"] == "Job"
        })
        .map(|pod| pod["metadata"]["ownerReferences"][0]["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(!failed.is_empty() && failed.iter().all(|job| *job == failed[0]), "{failed:?}");
    let job = findings.iter().find(|finding| finding.code == "job-failed").expect("a job-failed finding");
    assert_eq!(job.severity, kubesnap_analyzer::finding::Severity::P3, "{}", job.title);
    let expected =
        format!("Job scraper/{} (not in the bundle): {} pods ended Failed", failed[0], failed.len());
    assert!(job.title.starts_with(&expected), "{}", job.title);
}

#[test]
fn a_kubelet_pod_list_alone_is_read() {
    let model = load_real(PODLIST);
    let context = summary(&model);
    assert_eq!(model.format, Some(SourceFormat::KubectlText), "{context}");
    let pods: Vec<_> = model.of_kind("Pod").collect();
    assert_eq!(pods.len(), 1, "{context}");
    // Items of a kubelet's `/pods` lack their kind: the `PodList` names it.
    assert_eq!(pods[0].str_at("/status/phase"), Some("Pending"));
    assert_eq!(pods[0].str_at("/spec/volumes/0/hostPath/path"), Some("/invalid"), "{:?}", pods[0].raw);
    assert!(model.read_problems.is_empty(), "{context}");
}

#[test]
fn the_same_folder_in_an_archive_under_a_top_folder_is_read_the_same() {
    let files = files(&realdata(FOLDER));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ticket-1234.tar.gz");
    let gzip =
        flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::fast());
    let mut archive = tar::Builder::new(gzip);
    for name in ["nodes.yaml", "pods.yaml", "services.yaml"] {
        let mut header = tar::Header::new_gnu();
        header.set_size(files[name].len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        archive.append_data(&mut header, format!("1_35/{name}"), files[name].as_slice()).unwrap();
    }
    archive.into_inner().unwrap().finish().unwrap().flush().unwrap();
    let model = load(&path, &LoadOptions::default()).unwrap();
    let context = summary(&model);
    // `1_35/pods.yaml` has the shape of a cluster-info dump's namespace `1_35`; without
    // `nodes.yaml` above it, it is not one.
    assert_eq!(model.format, Some(SourceFormat::KubectlText), "{context}");
    assert_eq!(count(&model, "Pod"), yaml_items(&files["pods.yaml"]).len(), "{context}");
    assert_eq!(count(&model, "Node"), 1, "{context}");
    assert_eq!(count(&model, "Service"), yaml_items(&files["services.yaml"]).len(), "{context}");
}

#[test]
fn a_table_and_the_yaml_of_the_same_pods_give_the_whole_objects() {
    let dir = tempfile::tempdir().unwrap();
    let table = "\
NAMESPACE   NAME    READY   STATUS             RESTARTS      AGE
shop        web-1   0/1     CrashLoopBackOff   7 (2m ago)    20m
shop        api-1   1/1     Running            0             20m
NAME     STATUS   ROLES    AGE   VERSION
node-1   Ready    worker   7d    v1.32.7
";
    std::fs::write(dir.path().join("get-all.txt"), table).unwrap();
    let yaml = "\
apiVersion: v1
items:
- apiVersion: v1
  kind: Pod
  metadata:
    creationTimestamp: 2026-12-01T10:00:00Z
    name: web-1
    namespace: shop
    uid: 2f1c9a6e-0b7d-4c1e-9a55-6a1f0e3b7c21
  spec:
    containers:
    - name: web
      image: shop/web:1.4
  status:
    phase: Running
kind: List
metadata:
  resourceVersion: \"\"
";
    std::fs::write(dir.path().join("web-1.yaml"), yaml).unwrap();
    let model = load(dir.path(), &LoadOptions::default()).unwrap();
    let context = summary(&model);
    assert_eq!(model.format, Some(SourceFormat::KubectlText), "{context}");
    let web = model.of_kind("Pod").find(|pod| pod.name == "web-1").unwrap();
    assert_eq!(web.str_at("/spec/containers/0/image"), Some("shop/web:1.4"), "the document wins");
    assert_eq!(count(&model, "Pod"), 2, "{context}");
    // api-1 comes from the table alone: pods stay marked as read from text, and so do nodes.
    assert!(model.text_fields.contains_key("Pod"), "{:?}", model.text_fields);
    assert!(model.text_fields.contains_key("Node"), "{:?}", model.text_fields);

    // Without api-1's row, every pod has its document: pods are whole, nodes still text.
    std::fs::write(
        dir.path().join("get-all.txt"),
        table.replace("shop        api-1   1/1     Running            0             20m\n", ""),
    )
    .unwrap();
    let model = load(dir.path(), &LoadOptions::default()).unwrap();
    assert!(!model.text_fields.contains_key("Pod"), "{:?}", model.text_fields);
    assert!(model.text_fields.contains_key("Node"), "{:?}", model.text_fields);

    // Text shows no Secret's contents, a Secret printed whole does: then that gap is not the
    // bundle's.
    assert!(model.gaps.iter().any(|gap| gap.what == "secrets"), "{:?}", model.gaps);
    let secret =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\n  uid: 7d0e\ntype: Opaque\n";
    std::fs::write(dir.path().join("secret.yaml"), secret).unwrap();
    let model = load(dir.path(), &LoadOptions::default()).unwrap();
    assert!(!model.gaps.iter().any(|gap| gap.what == "secrets"), "{:?}", model.gaps);
    assert!(model.captured("Secret").is_listed());
}

#[test]
fn a_folder_of_manifests_is_not_taken_for_a_cluster() {
    // kube-score's test manifests: Deployments, StatefulSets, Services... as written, never
    // applied. Read as the cluster's state, every Deployment would be "0 of N available".
    const MANIFESTS: &str = "zegl__kube-score/score/testdata";
    let model = load_real(MANIFESTS);
    let context = summary(&model);
    assert_eq!(model.format, Some(SourceFormat::KubectlText), "{context}");
    assert!(model.objects.is_empty(), "{context}");
    let named: Vec<&str> = model
        .read_problems
        .iter()
        .filter_map(|problem| match problem {
            ReadProblem::Manifests { path, count } if *count > 0 => Some(path.as_str()),
            _ => None,
        })
        .collect();
    // Every file whose first key is apiVersion or kind is named, each once.
    let expected = files(&realdata(MANIFESTS))
        .values()
        .filter(|bytes| {
            let text = String::from_utf8_lossy(bytes);
            let first = text
                .lines()
                .map(str::trim)
                .find(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with("---"));
            first.is_some_and(|line| line.starts_with("apiVersion:") || line.starts_with("kind:"))
        })
        .count();
    assert!(expected > 100, "{expected}");
    assert_eq!(named.len(), expected, "{context}");
    let (findings, _) = kubesnap_analyzer::analyze(&model);
    assert!(findings.is_empty(), "{:?}", findings.iter().map(|f| &f.title).collect::<Vec<_>>());
}
