//! Log fixtures scanned by the real loader.
//!
//! The shared `testing` helper turns a `ContainerLog` document into a log whose lines are its
//! tail, without family hits: the logs diagnostics need the loader's scan. So the fixture's logs
//! are written into a native bundle with the real `BundleWriter`, loaded with the real loader,
//! and the scanned logs replace the unscanned ones in the fixture's model.

use std::collections::BTreeMap;
use std::fs::File;

use expect_test::Expect;
use kubesnap_shared::manifest::{ClusterInfo, Tool};
use kubesnap_shared::model::ClusterModel;
use kubesnap_shared::writer::{BundleHeader, BundleWriter};

use crate::diagnostics::Diagnostic;
use crate::diagnostics::testing::{FIXTURE_NOW, model_from_yaml, render};

/// The fixture's model with its logs scanned as a bundle's would be.
pub(crate) fn scanned_model(fixture: &str) -> ClusterModel {
    let mut model = model_from_yaml(fixture);
    if model.logs.is_empty() {
        return model;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs.tar.gz");
    let started_at = model.captured_at.unwrap_or_else(|| FIXTURE_NOW.parse().unwrap());
    let header = BundleHeader {
        root: "kubesnap-fixture".to_owned(),
        tool: Tool { name: "kubesnap-collect".to_owned(), version: "0.1.0".to_owned() },
        cluster: ClusterInfo::default(),
        options: BTreeMap::new(),
        started_at,
        compression: 1,
    };
    let mut writer = BundleWriter::new(File::create(&path).unwrap(), header).unwrap();
    let mut written = 0;
    for log in &model.logs {
        let mut text: String = log.tail.iter().map(|line| format!("{}\n", line.text)).collect();
        if text.is_empty() {
            text.push('\n');
        }
        // A name no bundle path can hold (a newline, from the hostile-name tests) is no log.
        if let Err(error) = writer.add(&log.path, text.as_bytes()) {
            assert!(log.path.chars().any(char::is_control), "{}: {error}", log.path);
            continue;
        }
        written += 1;
    }
    writer.finish().unwrap();
    let loaded = crate::load::load(&path, &crate::load::LoadOptions::default()).unwrap();
    assert_eq!(loaded.logs.len(), written, "every fixture log is loaded back");
    model.logs = loaded.logs;
    model.finish();
    model
}

/// `testing::check` on a model whose logs are scanned.
pub(crate) fn check_logs(diagnostic: &Diagnostic, fixture: &str, expect: Expect) {
    let model = scanned_model(fixture);
    let findings = (diagnostic.run)(&crate::facts::Facts::new(&model));
    for finding in &findings {
        assert_eq!(finding.code, diagnostic.code);
        assert!(diagnostic.severities.contains(&finding.severity), "undeclared {}", finding.severity);
        assert!(!finding.objects.is_empty() && !finding.explanation.is_empty());
    }
    assert_eq!(findings, (diagnostic.run)(&crate::facts::Facts::new(&model)), "two runs on one model differ");
    expect.assert_eq(&render(&findings));
}
