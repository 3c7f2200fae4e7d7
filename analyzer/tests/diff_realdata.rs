//! The diff on real bundles (read in place from `shared/realdata`): a bundle against itself is
//! no difference, swapping two bundles gives the mirror, and every output renders.

#![expect(clippy::panic, reason = "tests stop loudly")]

use std::path::PathBuf;

use kubesnap_analyzer::diff::{self, Analyzed, Verdict};
use kubesnap_analyzer::load::{LoadOptions, load};
use kubesnap_shared::model::ClusterModel;

fn realdata(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/realdata").join(path)
}

fn model(path: &str) -> ClusterModel {
    load(&realdata(path), &LoadOptions::default()).unwrap_or_else(|error| panic!("{path}: {error}"))
}

const BUNDLES: &[&str] = &[
    "replicatedhq__troubleshoot/support-bundle-2021-03-24T00_39_51.tar.gz",
    "replicatedhq__sbctl/tests/support-bundle",
    "vmware-tanzu__sonobuoy/test/integration/testdata/results-quick-no-failures.tar.gz",
    "rancher__support-bundle-kit/tests/integration/sampleSupportBundle",
];

#[test]
fn a_real_bundle_against_itself_is_no_difference() {
    for path in BUNDLES {
        let model = model(path);
        let analyzed = Analyzed::new("same", &model);
        let diff = diff::compare(&analyzed, &analyzed);
        assert!(diff.is_empty(), "{path}: {:#?}", diff.objects);
        assert_eq!(diff.identity.verdict, Verdict::Same, "{path}: {:?}", diff.identity);
        let markdown = diff::render::markdown(&diff).unwrap_or_else(|error| panic!("{path}: {error:#}"));
        assert!(markdown.contains("**No difference**"), "{path}: {markdown}");
    }
}

#[test]
fn two_real_captures_diff_both_ways_as_mirrors_and_render() {
    let failures = model("vmware-tanzu__sonobuoy/test/integration/testdata/results-4-e2e-failures.tar.gz");
    let quick = model("vmware-tanzu__sonobuoy/test/integration/testdata/results-quick-no-failures.tar.gz");
    let (a, b) = (Analyzed::new("4-e2e-failures", &failures), Analyzed::new("quick-no-failures", &quick));
    let forward = diff::compare(&a, &b);
    assert_eq!(diff::compare(&b, &a), forward.mirror());
    assert!(!forward.is_empty(), "two runs of sonobuoy on kind differ at least in their pods");
    for text in [
        diff::render::markdown(&forward).map_err(|e| e.to_string()),
        diff::render::html(&forward).map_err(|e| e.to_string()),
        diff::render::json(&forward).map_err(|e| e.to_string()),
    ] {
        let text = text.unwrap_or_else(|error| panic!("{error}"));
        assert!(text.contains("4-e2e-failures"));
    }
    // Both are runs on one kind cluster: kube-system has one uid in both.
    assert_eq!(forward.identity.verdict, Verdict::Same, "{:?}", forward.identity);
    if let Ok(dir) = std::env::var("KUBESNAP_DIFF_OUT") {
        let _ = std::fs::write(
            PathBuf::from(dir).join("sonobuoy.md"),
            diff::render::markdown(&forward).unwrap_or_default(),
        );
    }
}
