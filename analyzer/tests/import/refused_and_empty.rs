//! Unknown and empty never look healthy: a layout no importer knows is refused with what was
//! looked for, an OpenShift Insights archive is refused in its own words, and a recognized
//! layout without objects falls short.

use std::path::Path;

use kubesnap_analyzer::load::{LoadError, LoadOptions, load};
use kubesnap_shared::import::{LOOKED_FOR, shortfall};

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, content) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

#[test]
fn an_unknown_layout_is_refused_with_what_was_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("notes/readme.txt", "hello"), ("data/a.json", "{}")]);
    let error = load(dir.path(), &LoadOptions::default()).unwrap_err();
    assert!(matches!(error, LoadError::UnknownFormat { .. }), "{error:?}");
    let message = error.to_string();
    for looked_for in LOOKED_FOR {
        assert!(message.contains(looked_for), "{message}");
    }
    assert!(message.contains("rke2/kubectl/") && message.contains("yamls/cluster/"), "{message}");
}

#[test]
fn an_insights_archive_is_refused_not_read_as_an_empty_must_gather() {
    // The layout of the Insights operator's documented sample archive: JSON objects by kind
    // under `config/`, `cluster-scoped-resources/`, `conditional/` and `events/`.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "cluster-scoped-resources/rbac.authorization.k8s.io/clusterroles/admin.json",
                r#"{"kind":"ClusterRole","metadata":{"name":"admin"}}"#,
            ),
            ("config/clusteroperator/etcd.json", r#"{"kind":"ClusterOperator","metadata":{"name":"etcd"}}"#),
            ("config/node/master-0.json", r#"{"kind":"Node","metadata":{"name":"master-0"}}"#),
            ("events/openshift-machine-api/events.json", r#"{"items":[]}"#),
        ],
    );
    let error = load(dir.path(), &LoadOptions::default()).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, LoadError::Refused { .. }), "{message}");
    assert!(message.contains("OpenShift Insights archive"), "{message}");
    assert!(message.contains("oc adm must-gather"), "{message}");
}

#[test]
fn a_recognized_layout_without_objects_falls_short() {
    // A must-gather whose namespace file is empty: recognized, but it shows no cluster.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("must-gather/namespaces/default/default.yaml", "")]);
    let model = load(dir.path(), &LoadOptions::default()).unwrap();
    assert_eq!(shortfall(&model).as_deref(), Some("this OpenShift must-gather holds no Kubernetes object"));
}
