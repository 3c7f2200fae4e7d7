//! Whether a bundle captured a kind of object: tells "there are none" (the kind was listed and
//! the list was empty) from "the bundle does not show them" (the list failed, the format never
//! holds that kind, or nothing says).
//!
//! A diagnostic that needs StorageClasses must run on a cluster that has none (that is a
//! finding) and must not run on a bundle whose collector was refused the list (every claim
//! would look unprovisionable). Objects present settle it, and so does a list of the kind the
//! loader read, even an empty one ([`ClusterModel::listed_kinds`]); otherwise a native bundle's
//! manifest says which lists were written and which failed, and a foreign format's importer
//! says which kinds the format always or never holds.

use crate::import::kinds;
use crate::layout::{self, EntryKind};
use crate::manifest::{Failure, FailureKind, Manifest};

use super::{ClusterModel, SourceFormat};

/// Whether the bundle captured the objects of one kind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Coverage {
    /// The kind was listed: zero objects of it means the cluster (in the namespaces collected)
    /// has none.
    Listed,
    /// Listing it failed: `listing storageclasses failed with 403 forbidden`.
    Failed(String),
    /// The bundle's format never holds this kind: why, in the importer's words.
    NotCaptured(String),
    /// The bundle holds none and does not say whether it looked.
    Unknown,
}

impl Coverage {
    /// Whether zero objects of the kind means there are none.
    pub fn is_listed(&self) -> bool {
        matches!(self, Coverage::Listed)
    }
}

/// What `model` says about `kind`; see [`ClusterModel::captured`].
pub(super) fn of(model: &ClusterModel, kind: &str) -> Coverage {
    if model.has_kind(kind) || model.listed_kinds.contains(kind) {
        return Coverage::Listed;
    }
    match (model.format, &model.manifest) {
        (Some(SourceFormat::Native) | None, Some(manifest)) => native(model, manifest, kind),
        (Some(SourceFormat::Native) | None, None) => Coverage::Unknown,
        (Some(format), _) => foreign(model, format, kind),
    }
}

/// A resource as the API names it: its group (`""` for core) and plural.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Resource {
    group: String,
    plural: String,
}

/// The resources that serve `kind`: the built-in one, and those of the bundle's
/// CustomResourceDefinitions whose `spec.names.kind` it is.
fn resources_of(model: &ClusterModel, kind: &str) -> Vec<Resource> {
    let mut resources: Vec<Resource> = kinds::by_kind(kind)
        .map(|(plural, api_version)| Resource {
            group: api_version.rsplit_once('/').map_or("", |(group, _)| group).to_owned(),
            plural: plural.to_owned(),
        })
        .into_iter()
        .collect();
    for definition in model.of_kind("CustomResourceDefinition") {
        if definition.str_at("/spec/names/kind") != Some(kind) {
            continue;
        }
        if let (Some(group), Some(plural)) =
            (definition.str_at("/spec/group"), definition.str_at("/spec/names/plural"))
        {
            resources.push(Resource { group: group.to_owned(), plural: plural.to_owned() });
        }
    }
    resources
}

/// Whether `resource` is known to serve some kind: a built-in one, or one of the bundle's
/// CustomResourceDefinitions.
fn attributable(model: &ClusterModel, resource: &Resource) -> bool {
    let builtin = kinds::by_plural(&resource.plural).is_some_and(|(_, api_version)| {
        api_version.rsplit_once('/').map_or("", |(group, _)| group) == resource.group
    });
    builtin
        || model.of_kind("CustomResourceDefinition").any(|definition| {
            definition.str_at("/spec/group") == Some(resource.group.as_str())
                && definition.str_at("/spec/names/plural") == Some(resource.plural.as_str())
        })
}

/// The resource a native `list` failure names: its scope is `v1/pods` or
/// `apps/v1/deployments`.
fn listed_resource(scope: &str) -> Option<Resource> {
    match scope.split('/').collect::<Vec<_>>().as_slice() {
        [_version, plural] => Some(Resource { group: String::new(), plural: (*plural).to_owned() }),
        [group, _version, plural] => {
            Some(Resource { group: (*group).to_owned(), plural: (*plural).to_owned() })
        }
        _ => None,
    }
}

/// Whether a native `discovery` failure hides `group`: its scope is `/api` (the core group),
/// `/apis` (every other group), or a group version (`v1`, `storage.k8s.io/v1`).
fn discovery_hides(scope: &str, group: &str) -> bool {
    match scope {
        "/api" => group.is_empty(),
        "/apis" => !group.is_empty(),
        _ => scope.rsplit_once('/').map_or("", |(scope_group, _)| scope_group) == group,
    }
}

/// `403 forbidden`, `timeout`: a failure in a few words; a foreign collector's unclassified
/// message is given as it is.
fn failure_words(failure: &Failure) -> String {
    if failure.kind == FailureKind::Other {
        let message: String = failure.message.trim().chars().take(160).collect();
        return if message.is_empty() { "an error".to_owned() } else { message };
    }
    let kind = serde_json::to_value(failure.kind)
        .ok()
        .and_then(|value| value.as_str().map(|text| text.replace('-', " ")))
        .unwrap_or_default();
    match failure.status {
        Some(status) => format!("{status} {kind}"),
        None => kind,
    }
}

/// A kubesnap bundle: the collector lists every resource discovery finds, writes a file per
/// namespace (one per cluster-scoped resource and an `_empty.json` per namespaced resource
/// even when the list is empty), and records every list or discovery that failed. Bundles of
/// collectors older than `_empty.json` left no file for an empty list across all namespaces,
/// so a kind absent from the files is still listed when nothing that could have hidden it
/// failed.
fn native(model: &ClusterModel, manifest: &Manifest, kind: &str) -> Coverage {
    let resources = resources_of(model, kind);
    let serves = |group: &str, plural: &str| {
        resources.iter().any(|resource| resource.group == group && resource.plural == plural)
    };
    let has_list_file = manifest.files.iter().any(|file| {
        matches!(layout::classify(&file.path),
            EntryKind::ResourceList { group, resource, .. } if serves(group, resource))
    });
    if has_list_file {
        return Coverage::Listed;
    }
    let mut unattributed = false;
    for failure in &manifest.failures {
        if failure.kind == FailureKind::Cancelled {
            continue;
        }
        match failure.what.as_str() {
            "list" => match listed_resource(&failure.scope) {
                Some(resource) if serves(&resource.group, &resource.plural) => {
                    let namespace =
                        failure.namespace.as_ref().map(|ns| format!(" in {ns}")).unwrap_or_default();
                    return Coverage::Failed(format!(
                        "listing {}{namespace} failed with {}",
                        resource.plural,
                        failure_words(failure)
                    ));
                }
                // A kind this code cannot resolve may be the one that failed.
                Some(resource) if resources.is_empty() => unattributed |= !attributable(model, &resource),
                _ => {}
            },
            "discovery" => {
                if let Some(resource) =
                    resources.iter().find(|resource| discovery_hides(&failure.scope, &resource.group))
                {
                    return Coverage::Failed(format!(
                        "discovery of {} failed with {}, so {} were not listed",
                        failure.scope,
                        failure_words(failure),
                        resource.plural
                    ));
                }
                unattributed |= resources.is_empty() && !discovery_hides(&failure.scope, "");
            }
            _ => {}
        }
    }
    // A cut collection records its cancelled lists only as a count.
    let cancelled: Vec<&Failure> =
        manifest.failures.iter().filter(|failure| failure.kind == FailureKind::Cancelled).collect();
    let listing_cut = cancelled.iter().any(|failure| matches!(failure.what.as_str(), "list" | "discovery"));
    if unattributed || listing_cut || (!manifest.complete && cancelled.is_empty()) {
        return Coverage::Unknown;
    }
    // Discovery's own file says the collector's discovery and listing phases ran.
    if manifest.file(layout::API_RESOURCES).is_some() { Coverage::Listed } else { Coverage::Unknown }
}

/// A foreign bundle: a collector's error file for the kind's list, then what the format always
/// or never holds.
fn foreign(model: &ClusterModel, format: SourceFormat, kind: &str) -> Coverage {
    let failed = model.failures.iter().find(|failure| {
        failure.what == "list"
            && kinds::by_troubleshoot_name(&failure.scope).is_some_and(|(listed, _)| listed == kind)
    });
    if let Some(failure) = failed {
        return Coverage::Failed(format!("listing {} failed: {}", failure.scope, failure_words(failure)));
    }
    format.kind_coverage(kind).unwrap_or(Coverage::Unknown)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::manifest::{ClusterInfo, FileRecord, Tool};
    use crate::model::Object;

    fn manifest(paths: &[&str], failures: Vec<Failure>) -> Manifest {
        Manifest {
            format_version: 1,
            tool: Tool { name: "kubesnap-collect".into(), version: "0.1.0".into() },
            cluster: ClusterInfo::default(),
            options: BTreeMap::new(),
            started_at: "2025-06-01T12:00:00Z".into(),
            finished_at: "2025-06-01T12:05:00Z".into(),
            complete: true,
            incomplete_reasons: Vec::new(),
            files: paths
                .iter()
                .map(|path| FileRecord {
                    path: (*path).to_owned(),
                    size: 0,
                    sha256: String::new(),
                    truncated: false,
                    truncation: None,
                })
                .collect(),
            failures,
            redactions: Vec::new(),
        }
    }

    fn failure(what: &str, scope: &str, kind: FailureKind, status: Option<u16>) -> Failure {
        Failure {
            what: what.into(),
            scope: scope.into(),
            namespace: None,
            kind,
            status,
            message: "storageclasses.storage.k8s.io is forbidden".into(),
        }
    }

    fn native_model(manifest: Manifest, objects: &[serde_json::Value]) -> ClusterModel {
        let mut model = ClusterModel {
            format: Some(SourceFormat::Native),
            manifest: Some(manifest),
            ..ClusterModel::default()
        };
        model.objects = objects
            .iter()
            .filter_map(|value| Object::from_value(value.clone(), None, None, "test.json"))
            .collect();
        model.finish();
        model
    }

    const DISCOVERED: &str = "cluster/api-resources.json";
    const CLASSES: &str = "resources/storage.k8s.io/v1/storageclasses/_cluster.json";

    #[test]
    fn an_empty_list_file_is_listed() {
        let model = native_model(manifest(&[DISCOVERED, CLASSES], Vec::new()), &[]);
        assert_eq!(model.captured("StorageClass"), Coverage::Listed);
        assert!(model.captured("StorageClass").is_listed());
    }

    #[test]
    fn an_empty_listing_across_all_namespaces_is_listed_even_in_a_cut_collection() {
        const QUOTAS: &str = "resources/core/v1/resourcequotas/_empty.json";
        let model = native_model(manifest(&[DISCOVERED, QUOTAS], Vec::new()), &[]);
        assert_eq!(model.captured("ResourceQuota"), Coverage::Listed);
        // Cut while listing: only the resources whose listing left a file are known.
        let cut = vec![failure("list", "12 of 60 resource types", FailureKind::Cancelled, None)];
        let mut cut_manifest = manifest(&[DISCOVERED, QUOTAS], cut);
        cut_manifest.complete = false;
        let model = native_model(cut_manifest, &[]);
        assert_eq!(model.captured("ResourceQuota"), Coverage::Listed);
        assert_eq!(model.captured("LimitRange"), Coverage::Unknown);
        // It names its resource: another group's plural of the same name is not this kind.
        let other = "resources/example.com/v1/resourcequotas/_empty.json";
        let mut cut_manifest = manifest(&[DISCOVERED, other], Vec::new());
        cut_manifest.complete = false;
        assert_eq!(native_model(cut_manifest, &[]).captured("ResourceQuota"), Coverage::Unknown);
    }

    #[test]
    fn a_forbidden_list_failed() {
        let failures =
            vec![failure("list", "storage.k8s.io/v1/storageclasses", FailureKind::Forbidden, Some(403))];
        let model = native_model(manifest(&[DISCOVERED], failures), &[]);
        assert_eq!(
            model.captured("StorageClass"),
            Coverage::Failed("listing storageclasses failed with 403 forbidden".into())
        );
        // Another kind's failure says nothing about StorageClasses.
        assert_eq!(model.captured("Pod"), Coverage::Listed);
    }

    #[test]
    fn a_namespaced_failure_names_its_namespace() {
        let mut denied = failure("list", "v1/secrets", FailureKind::Forbidden, Some(403));
        denied.namespace = Some("shop".into());
        let model = native_model(manifest(&[DISCOVERED], vec![denied]), &[]);
        assert_eq!(
            model.captured("Secret"),
            Coverage::Failed("listing secrets in shop failed with 403 forbidden".into())
        );
    }

    #[test]
    fn a_file_wins_over_a_failure_in_another_namespace() {
        let mut denied = failure("list", "v1/secrets", FailureKind::Forbidden, Some(403));
        denied.namespace = Some("kube-system".into());
        let model =
            native_model(manifest(&[DISCOVERED, "resources/core/v1/secrets/shop.json"], vec![denied]), &[]);
        assert_eq!(model.captured("Secret"), Coverage::Listed);
    }

    #[test]
    fn a_failed_discovery_hides_its_group() {
        let failures = vec![failure("discovery", "storage.k8s.io/v1", FailureKind::Unavailable, Some(503))];
        let model = native_model(manifest(&[DISCOVERED], failures), &[]);
        assert_eq!(
            model.captured("StorageClass"),
            Coverage::Failed(
                "discovery of storage.k8s.io/v1 failed with 503 unavailable, so storageclasses were not listed".into()
            )
        );
        assert_eq!(model.captured("Service"), Coverage::Listed, "the core group was discovered");
        let apis = vec![failure("discovery", "/apis", FailureKind::Timeout, None)];
        let model = native_model(manifest(&[DISCOVERED], apis), &[]);
        assert!(matches!(model.captured("HorizontalPodAutoscaler"), Coverage::Failed(_)));
        assert_eq!(model.captured("Service"), Coverage::Listed);
    }

    #[test]
    fn absent_from_an_older_or_synthetic_bundle_is_unknown() {
        // No discovery file: nothing says the collector listed every resource.
        let model = native_model(manifest(&[], Vec::new()), &[]);
        assert_eq!(model.captured("StorageClass"), Coverage::Unknown);
        let without_manifest = ClusterModel { format: Some(SourceFormat::Native), ..ClusterModel::default() };
        assert_eq!(without_manifest.captured("StorageClass"), Coverage::Unknown);
    }

    #[test]
    fn a_cut_collection_is_unknown() {
        let cut = vec![failure("list", "12 of 60 resource types", FailureKind::Cancelled, None)];
        let mut cut_manifest = manifest(&[DISCOVERED], cut);
        cut_manifest.complete = false;
        assert_eq!(native_model(cut_manifest, &[]).captured("StorageClass"), Coverage::Unknown);
        // Cut while reading logs: every list was done.
        let late = vec![failure("logs", "shop/web-0/nginx", FailureKind::Cancelled, None)];
        let mut late_manifest = manifest(&[DISCOVERED], late);
        late_manifest.complete = false;
        assert_eq!(native_model(late_manifest, &[]).captured("StorageClass"), Coverage::Listed);
        // A writer dropped without saying what was cut.
        let mut dropped = manifest(&[DISCOVERED], Vec::new());
        dropped.complete = false;
        assert_eq!(native_model(dropped, &[]).captured("StorageClass"), Coverage::Unknown);
    }

    #[test]
    fn custom_kinds_resolve_through_their_definitions() {
        let definition = serde_json::json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "volumesnapshots.snapshot.storage.k8s.io"},
            "spec": {"group": "snapshot.storage.k8s.io", "names": {"kind": "VolumeSnapshot", "plural": "volumesnapshots"}}
        });
        let failures = vec![failure(
            "list",
            "snapshot.storage.k8s.io/v1/volumesnapshots",
            FailureKind::Forbidden,
            Some(403),
        )];
        let model = native_model(manifest(&[DISCOVERED], failures), &[definition]);
        assert!(matches!(model.captured("VolumeSnapshot"), Coverage::Failed(_)));
        // Without the definition, a failed list of an unknown resource may be this kind.
        let failures = vec![failure(
            "list",
            "snapshot.storage.k8s.io/v1/volumesnapshots",
            FailureKind::Forbidden,
            Some(403),
        )];
        assert_eq!(
            native_model(manifest(&[DISCOVERED], failures), &[]).captured("VolumeSnapshot"),
            Coverage::Unknown
        );
        // A built-in resource's failure is not this kind's.
        let failures = vec![failure("list", "apps/v1/deployments", FailureKind::Forbidden, Some(403))];
        assert_eq!(
            native_model(manifest(&[DISCOVERED], failures), &[]).captured("VolumeSnapshot"),
            Coverage::Listed
        );
        // With nothing failed, no definition means the cluster serves no such kind: none exist.
        assert_eq!(
            native_model(manifest(&[DISCOVERED], Vec::new()), &[]).captured("VolumeSnapshot"),
            Coverage::Listed
        );
    }

    #[test]
    fn objects_present_are_listed_whatever_the_format() {
        let class = serde_json::json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "gp3"}});
        let mut model = ClusterModel { format: Some(SourceFormat::Sonobuoy), ..ClusterModel::default() };
        model.objects = Object::from_value(class, None, None, "test.json").into_iter().collect();
        model.finish();
        assert_eq!(model.captured("StorageClass"), Coverage::Listed);
        assert_eq!(model.captured("Ingress"), Coverage::Unknown);
        model.listed_kinds.insert("Ingress".into());
        assert_eq!(model.captured("Ingress"), Coverage::Listed);
    }

    #[test]
    fn foreign_formats_say_what_they_never_hold_and_what_failed() {
        let dump = ClusterModel { format: Some(SourceFormat::ClusterInfoDump), ..ClusterModel::default() };
        assert!(matches!(dump.captured("StorageClass"), Coverage::NotCaptured(_)));
        assert_eq!(dump.captured("Service"), Coverage::Listed);
        let mut troubleshoot =
            ClusterModel { format: Some(SourceFormat::Troubleshoot), ..ClusterModel::default() };
        assert!(matches!(troubleshoot.captured("Secret"), Coverage::NotCaptured(_)));
        assert_eq!(troubleshoot.captured("StorageClass"), Coverage::Unknown);
        troubleshoot.failures.push(Failure {
            what: "list".into(),
            scope: "storage-classes".into(),
            namespace: None,
            kind: FailureKind::Forbidden,
            status: None,
            message: "storageclasses.storage.k8s.io is forbidden: User cannot list".into(),
        });
        assert_eq!(
            troubleshoot.captured("StorageClass"),
            Coverage::Failed("listing storage-classes failed: forbidden".into())
        );
    }

    #[test]
    fn fixtures_without_a_format_or_manifest_are_unknown() {
        assert_eq!(ClusterModel::default().captured("StorageClass"), Coverage::Unknown);
    }
}
