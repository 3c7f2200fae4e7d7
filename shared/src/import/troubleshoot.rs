//! Replicated troubleshoot support bundles.
//!
//! `cluster-resources/<folder>/<namespace>.json` are lists (a List, a bare JSON array, or
//! `null`) whose items often lack `kind`: the folder names it. Cluster-scoped lists are
//! `cluster-resources/<name>.json`; custom resources are YAML or JSON under
//! `cluster-resources/custom-resources/<plural.group>/`. Logs are
//! `cluster-resources/pods/logs/<ns>/<pod>/<container>[-previous].log`; log collectors with a
//! name also write `<name>/<pod>/<container>.log` (usually a symlink to the former).

use super::{EntryClass, LogLayout, Syntax, kinds, log_key, split_previous};

/// Files of `cluster-resources/` that are not Kubernetes objects.
const NOT_OBJECTS: &[&str] = &["resources", "groups", "auth-cani-list", "image-pull-secrets"];

pub(super) fn classify(relative: &str) -> EntryClass {
    let parts: Vec<&str> = relative.split('/').collect();
    let Some(file) = parts.last() else { return EntryClass::Ignored };
    if is_errors_file(&parts) {
        return errors(&parts);
    }
    match parts.as_slice() {
        ["cluster-info", "cluster_version.json"] => EntryClass::ServerVersion,
        ["node-metrics", node] => match node.strip_suffix(".json") {
            Some(node) => EntryClass::KubeletStats { node: node.to_owned() },
            None => EntryClass::Ignored,
        },
        ["cluster-resources", "pods", "logs", namespace, pod, file] => match file.strip_suffix(".log") {
            Some(stem) => {
                let (container, previous) = split_previous(stem);
                EntryClass::Log {
                    key: log_key(namespace, pod, container, previous),
                    layout: LogLayout::Plain,
                    namespace_known: true,
                }
            }
            None => EntryClass::Ignored,
        },
        ["cluster-resources", "custom-resources", _, file] => objects_file(file, None),
        ["cluster-resources", file] => match file.strip_suffix(".json") {
            Some(stem) if !NOT_OBJECTS.contains(&stem) => {
                objects_file(file, kinds::by_troubleshoot_name(stem))
            }
            _ => EntryClass::Ignored,
        },
        ["cluster-resources", folder, _] if !NOT_OBJECTS.contains(folder) => {
            objects_file(file, kinds::by_troubleshoot_name(folder))
        }
        [collector, pod, file] if *collector != "cluster-resources" => match file.strip_suffix(".log") {
            Some(stem) => {
                let (container, previous) = split_previous(stem);
                EntryClass::Log {
                    key: log_key("", pod, container, previous),
                    layout: LogLayout::Plain,
                    namespace_known: false,
                }
            }
            None => EntryClass::Ignored,
        },
        _ => EntryClass::Ignored,
    }
}

/// What an errors file is about: a resource list under `cluster-resources/`, or a collector.
fn errors(parts: &[&str]) -> EntryClass {
    let strip = |name: &str| {
        name.trim_end_matches(".json").trim_end_matches("-errors").trim_end_matches("-error").to_owned()
    };
    match parts {
        // `cluster-resources/pods-errors.json`: the list of a kind, maybe by namespace inside.
        ["cluster-resources", file] => {
            EntryClass::CollectorErrors { scope: strip(file), namespace: None, list: true }
        }
        ["cluster-resources", folder, file] => EntryClass::CollectorErrors {
            scope: strip(folder),
            namespace: file.strip_suffix(".json").map(str::to_owned),
            list: true,
        },
        // `helm/errors.json`: the collector named by its folder.
        [.., folder, "errors.json"] => {
            EntryClass::CollectorErrors { scope: (*folder).to_owned(), namespace: None, list: false }
        }
        // `collector-errors/etcd-error.json`.
        ["collector-errors", file] => {
            EntryClass::CollectorErrors { scope: strip(file), namespace: None, list: false }
        }
        // `secrets-errors/<ns>/<name>.json`: one object a collector looked for.
        _ => {
            let scope = parts.iter().map(|part| strip(part)).collect::<Vec<_>>().join("/");
            EntryClass::CollectorErrors { scope, namespace: None, list: false }
        }
    }
}

fn objects_file(file: &str, hint: Option<(&'static str, &'static str)>) -> EntryClass {
    let syntax = if file.ends_with(".json") {
        Syntax::Json
    } else if file.ends_with(".yaml") || file.ends_with(".yml") {
        Syntax::Yaml
    } else {
        return EntryClass::Ignored;
    };
    EntryClass::Objects { syntax, kind: hint.map(|h| h.0), api_version: hint.map(|h| h.1) }
}

/// `*-errors.json`, `errors.json`, anything under `*-errors/` or `collector-errors/`.
fn is_errors_file(parts: &[&str]) -> bool {
    let Some((file, folders)) = parts.split_last() else { return false };
    if !file.ends_with(".json") {
        return false;
    }
    // `statefulsets-errors.json/` has been seen as a folder of lists: only a file counts.
    *file == "errors.json"
        || file.ends_with("-errors.json")
        || folders.iter().any(|folder| folder.ends_with("-errors") || *folder == "collector-errors")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_take_the_folder_kind() {
        assert_eq!(
            classify("cluster-resources/pvcs/default.json"),
            EntryClass::Objects {
                syntax: Syntax::Json,
                kind: Some("PersistentVolumeClaim"),
                api_version: Some("v1")
            }
        );
        assert_eq!(
            classify("cluster-resources/storage-classes.json"),
            EntryClass::Objects {
                syntax: Syntax::Json,
                kind: Some("StorageClass"),
                api_version: Some("storage.k8s.io/v1")
            }
        );
        assert_eq!(
            classify("cluster-resources/custom-resources/engines.longhorn.io/longhorn-system.yaml"),
            EntryClass::Objects { syntax: Syntax::Yaml, kind: None, api_version: None }
        );
        // The folder troubleshoot misnamed still holds lists; the content names the kind.
        assert_eq!(
            classify("cluster-resources/statefulsets-errors.json/default.json"),
            EntryClass::Objects { syntax: Syntax::Json, kind: None, api_version: None }
        );
        assert_eq!(classify("cluster-resources/resources.json"), EntryClass::Ignored);
        assert_eq!(classify("cluster-resources/auth-cani-list/default.json"), EntryClass::Ignored);
    }

    #[test]
    fn logs_and_errors() {
        assert_eq!(
            classify("cluster-resources/pods/logs/test-crash/app-1/failing-app-previous.log"),
            EntryClass::Log {
                key: log_key("test-crash", "app-1", "failing-app", true),
                layout: LogLayout::Plain,
                namespace_known: true
            }
        );
        assert_eq!(
            classify("crash-loop-logs/app-1/failing-app.log"),
            EntryClass::Log {
                key: log_key("", "app-1", "failing-app", false),
                layout: LogLayout::Plain,
                namespace_known: false
            }
        );
        assert_eq!(
            classify("cluster-resources/pod-disruption-budgets-errors.json"),
            EntryClass::CollectorErrors {
                scope: "pod-disruption-budgets".into(),
                namespace: None,
                list: true
            }
        );
        assert_eq!(
            classify("secrets-errors/default/example-secret.json"),
            EntryClass::CollectorErrors {
                scope: "secrets/default/example-secret".into(),
                namespace: None,
                list: false
            }
        );
        assert_eq!(
            classify("collector-errors/etcd-error.json"),
            EntryClass::CollectorErrors { scope: "etcd".into(), namespace: None, list: false }
        );
        assert_eq!(
            classify("helm/errors.json"),
            EntryClass::CollectorErrors { scope: "helm".into(), namespace: None, list: false }
        );
        assert_eq!(
            classify("node-metrics/primary-node.json"),
            EntryClass::KubeletStats { node: "primary-node".into() }
        );
        assert_eq!(classify("cluster-info/cluster_version.json"), EntryClass::ServerVersion);
        assert_eq!(classify("secrets/default/example-secret.json"), EntryClass::Ignored);
    }
}
