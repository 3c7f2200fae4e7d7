//! The loader on a real support-bundle-kit bundle (Harvester on Kubernetes 1.21), counted
//! against its files.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use crate::support::{files, line_count, load_real, realdata, summary, yaml_items};
use kubesnap_shared::model::SourceFormat;

const BUNDLE: &str = "rancher__support-bundle-kit/tests/integration/sampleSupportBundle";

#[test]
fn every_list_and_log_is_read() {
    let model = load_real(BUNDLE);
    let context = summary(&model);
    assert_eq!(model.format, Some(SourceFormat::SupportBundleKit), "{context}");
    assert_eq!(model.server_version.as_deref(), Some("v1.21.7+rke2r1"), "{context}");
    // Objects by identity: a resource served by two group versions (`extensions/v1beta1` and
    // `networking.k8s.io/v1` ingresses) is listed twice and kept once.
    let mut expected: BTreeSet<(String, String, String)> = BTreeSet::new();
    // Events too are listed twice, as core/v1 and events.k8s.io/v1: one per (namespace, name).
    let mut expected_events: BTreeSet<(String, String)> = BTreeSet::new();
    let mut logs = 0;
    for (path, bytes) in files(&realdata(BUNDLE)) {
        if path.starts_with("yamls/") && path.ends_with(".yaml") {
            for item in yaml_items(&bytes) {
                let kind = item["kind"].as_str().unwrap_or_default().to_owned();
                let namespace = item["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
                let name = item["metadata"]["name"].as_str().unwrap_or_default().to_owned();
                if kind == "Event" {
                    expected_events.insert((namespace, name));
                } else {
                    expected.insert((kind, namespace, name));
                }
            }
        } else if let Some(relative) = path.strip_prefix("logs/") {
            let [namespace, pod, file] = relative.split('/').collect::<Vec<_>>()[..] else { continue };
            if bytes.is_empty() {
                continue;
            }
            logs += 1;
            let container = file.trim_end_matches(".log");
            let log = model
                .log(namespace, pod, container, false)
                .unwrap_or_else(|| panic!("{path} was not read\n{context}"));
            assert_eq!(log.lines, line_count(&bytes), "{path}");
        }
    }
    let found: BTreeSet<(String, String, String)> = model
        .objects
        .iter()
        .map(|object| {
            (object.kind.clone(), object.namespace.clone().unwrap_or_default(), object.name.clone())
        })
        .collect();
    assert_eq!(found.len(), model.objects.len(), "one object per identity");
    assert_eq!(found, expected, "{context}");
    assert!(model.of_kind("Pod").count() > 50, "{context}");
    assert_eq!(model.events.len(), expected_events.len(), "{context}");
    let node_logs = node_logs_are_read(&model, &context);
    assert_eq!(model.logs.len(), logs + node_logs, "{context}");
    // The only failed requests are of resources that cannot be listed at all (405): no failure.
    assert!(model.failures.is_empty(), "{:?}", model.failures);
    // Empty lists are "none", not "unknown": the bundle lists limit ranges in every namespace.
    assert!(model.listed_kinds.contains("LimitRange"), "{context}");
    assert!(model.text_fields.is_empty());
    assert!(model.read_problems.is_empty(), "{:?}", model.read_problems);
}

/// Every log of the node archive (`nodes/node1.zip`, read here through its central directory,
/// where the loader streams its local headers) is a node log of `node1`, line for line; the
/// configuration files are not logs. Returns how many node logs there are.
fn node_logs_are_read(model: &kubesnap_shared::model::ClusterModel, context: &str) -> usize {
    let raw = std::fs::read(realdata(BUNDLE).join("nodes/node1.zip")).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(raw)).unwrap();
    // Unit → lines, over every non-empty file of `node1/logs/`.
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for index in 0..archive.len() {
        let mut member = archive.by_index(index).unwrap();
        let name = member.name().unwrap().into_owned();
        let Some(file) = name.strip_prefix("node1/logs/") else { continue };
        if member.is_dir() {
            continue;
        }
        let mut bytes = Vec::new();
        member.read_to_end(&mut bytes).unwrap();
        if !bytes.is_empty() {
            *expected.entry(file.trim_end_matches(".log").to_owned()).or_default() += line_count(&bytes);
        }
    }
    // The sample's kernel, rke2-server and rancher-system-agent logs, among others.
    for unit in ["kernel", "rke2-server", "rancher-system-agent", "console"] {
        assert!(expected.contains_key(unit), "{unit}: {expected:?}");
    }
    let found: BTreeMap<String, u64> = model
        .logs
        .iter()
        .filter(|log| log.key.namespace == kubesnap_shared::model::NODE_LOG_NAMESPACE)
        .map(|log| {
            assert_eq!(log.key.pod, "node1", "{context}");
            assert!(log.path.starts_with("nodes/node1.zip/node1/logs/"), "{}", log.path);
            (log.key.container.clone(), log.lines)
        })
        .collect();
    assert_eq!(found, expected, "{context}");
    expected.len()
}

/// The node archive's logs are scanned for node problems (its kernel log is 18 MB of a
/// Harvester node's boot and run) and reach the timeline's facts: each problem names node1 and a
/// unit of the archive.
#[test]
fn node_archive_logs_are_scanned_for_node_problems() {
    let model = load_real(BUNDLE);
    for problem in &model.node_problems {
        assert_eq!(problem.node, "node1", "{problem:?}");
        assert!(problem.path.starts_with("nodes/node1.zip/"), "{problem:?}");
    }
    let kernel = model.log(kubesnap_shared::model::NODE_LOG_NAMESPACE, "node1", "kernel", false).unwrap();
    assert!(kernel.first_timestamp.is_some() && kernel.last_timestamp.is_some(), "{kernel:?}");
}

/// A node archive cut in the middle of a member (its kernel log) loses what follows the cut
/// and nothing else: the members before it are read whole, the archive is a read problem, and
/// the YAMLs that come after it in the bundle are read.
#[test]
fn a_cut_node_archive_loses_only_what_follows_the_cut() {
    let sample = realdata(BUNDLE);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("sb");
    std::fs::create_dir_all(root.join("nodes")).unwrap();
    std::fs::create_dir_all(root.join("yamls/cluster/v1")).unwrap();
    std::fs::copy(sample.join("yamls/cluster/v1/nodes.yaml"), root.join("yamls/cluster/v1/nodes.yaml"))
        .unwrap();
    // The kernel log's compressed data runs from byte 289,107 to 576,247 of the archive.
    let raw = std::fs::read(sample.join("nodes/node1.zip")).unwrap();
    std::fs::write(root.join("nodes/node1.zip"), &raw[..430_000]).unwrap();

    let model =
        kubesnap_analyzer::load::load(&root, &kubesnap_analyzer::load::LoadOptions::default()).unwrap();
    let context = summary(&model);
    assert_eq!(model.format, Some(SourceFormat::SupportBundleKit), "{context}");
    assert!(model.of_kind("Node").any(|node| node.name == "node1"), "{context}");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(raw)).unwrap();
    for unit in ["rke2-server", "rancher-system-agent", "iscsid"] {
        let mut bytes = Vec::new();
        archive.by_name(&format!("node1/logs/{unit}.log")).unwrap().read_to_end(&mut bytes).unwrap();
        let log = model
            .log(kubesnap_shared::model::NODE_LOG_NAMESPACE, "node1", unit, false)
            .unwrap_or_else(|| panic!("{unit} was not read\n{context}"));
        assert_eq!(log.lines, line_count(&bytes), "{unit}");
    }
    for unit in ["console", "rke2-agent"] {
        assert!(
            model.log(kubesnap_shared::model::NODE_LOG_NAMESPACE, "node1", unit, false).is_none(),
            "{unit}"
        );
    }
    let problems: Vec<String> = model.read_problems.iter().map(ToString::to_string).collect();
    assert!(
        problems.iter().any(|problem| problem.starts_with("`nodes/node1.zip` could not be read to the end")),
        "{problems:#?}"
    );
}
