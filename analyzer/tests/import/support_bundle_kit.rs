//! The loader on a real support-bundle-kit bundle (Harvester on Kubernetes 1.21), counted
//! against its files.

use std::collections::BTreeSet;

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
    assert_eq!(model.logs.len(), logs, "{context}");
    // The only failed requests are of resources that cannot be listed at all (405): no failure.
    assert!(model.failures.is_empty(), "{:?}", model.failures);
    // Empty lists are "none", not "unknown": the bundle lists limit ranges in every namespace.
    assert!(model.listed_kinds.contains("LimitRange"), "{context}");
    assert!(model.text_fields.is_empty());
    assert!(model.read_problems.is_empty(), "{:?}", model.read_problems);
}
