//! The resources the served API offers: the built-in ones, and every kind the bundle holds,
//! custom resources named as their CustomResourceDefinition names them (plural, scope, short
//! names, categories, printer columns), and the metrics API when the bundle holds samples.

use std::collections::BTreeSet;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::ClusterModel;

use kubesnap_shared::model::Object;

use super::builtin::BUILTINS;

/// Where a resource's objects come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Source {
    /// The model's objects indexed under this kind (every group for a built-in kind; only
    /// this group otherwise).
    Objects {
        index_kind: String,
        any_group: bool,
    },
    /// core/v1 Events, rebuilt from the model's normalized events.
    Events,
    /// metrics.k8s.io PodMetrics and NodeMetrics from the last sample.
    PodMetrics,
    NodeMetrics,
}

/// A column of a CustomResourceDefinition's `additionalPrinterColumns`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PrinterColumn {
    pub(super) name: String,
    pub(super) kind: String,
    pub(super) format: String,
    pub(super) description: String,
    pub(super) priority: i64,
    pub(super) json_path: String,
}

/// One served resource of one group version.
#[derive(Debug, Clone)]
pub(super) struct Resource {
    pub(super) group: String,
    pub(super) version: String,
    pub(super) kind: String,
    pub(super) plural: String,
    pub(super) singular: String,
    pub(super) namespaced: bool,
    pub(super) short_names: Vec<String>,
    pub(super) categories: Vec<String>,
    pub(super) source: Source,
    /// A custom resource's printer columns (`None` for built-in kinds).
    pub(super) columns: Option<Vec<PrinterColumn>>,
}

impl Resource {
    pub(super) fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }

    /// The kind the model counts coverage under (`captured`).
    pub(super) fn coverage_kind(&self) -> &str {
        match &self.source {
            Source::Objects { index_kind, .. } => index_kind,
            Source::Events | Source::PodMetrics | Source::NodeMetrics => &self.kind,
        }
    }
}

/// Every served resource, grouped by group (core first) then version.
#[derive(Debug, Default)]
pub(super) struct Catalog {
    pub(super) resources: Vec<Resource>,
}

impl Catalog {
    pub(super) fn build(model: &ClusterModel) -> Catalog {
        let mut resources: Vec<Resource> = Vec::new();
        let mut builtin_kinds: BTreeSet<(&str, &str)> = BTreeSet::new();
        let mut custom: BTreeSet<(String, String, String)> = BTreeSet::new();
        for object in &model.objects {
            let group = object.api_version.rsplit_once('/').map_or("", |(group, _)| group);
            let version = object.api_version.rsplit_once('/').map_or(object.api_version.as_str(), |(_, v)| v);
            let index_kind = object.index_kind();
            if index_kind == object.kind
                && let Some(found) = BUILTINS.iter().find(|builtin| builtin.kind == object.kind)
            {
                builtin_kinds.insert((found.group, found.kind));
            } else {
                custom.insert((group.to_owned(), version.to_owned(), object.kind.clone()));
            }
        }
        for builtin in BUILTINS {
            let wanted = builtin.always
                || builtin_kinds.contains(&(builtin.group, builtin.kind))
                || (builtin.kind == "Event" && builtin.group.is_empty());
            if !wanted {
                continue;
            }
            let source = if builtin.kind == "Event" {
                if !builtin.group.is_empty() {
                    continue;
                }
                Source::Events
            } else {
                Source::Objects { index_kind: builtin.kind.to_owned(), any_group: true }
            };
            resources.push(Resource {
                group: builtin.group.to_owned(),
                version: builtin.version.to_owned(),
                kind: builtin.kind.to_owned(),
                plural: builtin.plural.to_owned(),
                singular: builtin.kind.to_lowercase(),
                namespaced: builtin.namespaced,
                short_names: builtin.short_names.iter().map(|name| (*name).to_owned()).collect(),
                categories: builtin.categories.iter().map(|name| (*name).to_owned()).collect(),
                source,
                columns: None,
            });
        }
        // Every CustomResourceDefinition's served versions, whether or not the bundle holds
        // its objects.
        for definition in model.of_kind("CustomResourceDefinition") {
            let Some(group) = definition.str_at("/spec/group") else { continue };
            let Some(kind) = definition.str_at("/spec/names/kind") else { continue };
            let Some(plural) = definition.str_at("/spec/names/plural") else { continue };
            let strings = |pointer: &str| -> Vec<String> {
                definition.array_at(pointer).iter().filter_map(Value::as_str).map(str::to_owned).collect()
            };
            let namespaced = definition.str_at("/spec/scope") != Some("Cluster");
            let index_kind = index_kind_of(group, kind);
            let mut versions: Vec<(String, Option<Vec<PrinterColumn>>)> = definition
                .array_at("/spec/versions")
                .iter()
                .filter(|version| version.get("served").and_then(Value::as_bool) != Some(false))
                .filter_map(|version| {
                    let name = version.get("name")?.as_str()?.to_owned();
                    let columns =
                        version.get("additionalPrinterColumns").and_then(Value::as_array).map(columns);
                    Some((name, columns))
                })
                .collect();
            if versions.is_empty()
                && let Some(version) = definition.str_at("/spec/version")
            {
                let columns =
                    definition.at("/spec/additionalPrinterColumns").and_then(Value::as_array).map(columns);
                versions.push((version.to_owned(), columns));
            }
            for (version, columns) in versions {
                custom.remove(&(group.to_owned(), version.clone(), kind.to_owned()));
                resources.push(Resource {
                    group: group.to_owned(),
                    version,
                    kind: kind.to_owned(),
                    plural: plural.to_owned(),
                    singular: definition
                        .str_at("/spec/names/singular")
                        .map_or_else(|| kind.to_lowercase(), str::to_owned),
                    namespaced,
                    short_names: strings("/spec/names/shortNames"),
                    categories: strings("/spec/names/categories"),
                    source: Source::Objects { index_kind: index_kind.clone(), any_group: false },
                    columns,
                });
            }
        }
        // Kinds the bundle holds that neither the built-in table nor a definition names:
        // aggregated APIs, custom resources whose definition was not captured.
        for (group, version, kind) in custom {
            let Some(sample) = model.objects.iter().find(|object| {
                object.kind == kind && object.api_version.rsplit_once('/').map_or("", |(g, _)| g) == group
            }) else {
                continue;
            };
            let index_kind = sample.index_kind().into_owned();
            let namespaced = model.of_kind(&index_kind).any(|object| object.namespace.is_some());
            resources.push(Resource {
                plural: plural_of(&kind),
                singular: kind.to_lowercase(),
                group,
                version,
                kind,
                namespaced,
                short_names: Vec::new(),
                categories: Vec::new(),
                source: Source::Objects { index_kind, any_group: false },
                columns: None,
            });
        }
        if !model.pod_metrics.is_empty() || !model.node_metrics.is_empty() {
            for (kind, plural, namespaced, source) in [
                ("NodeMetrics", "nodes", false, Source::NodeMetrics),
                ("PodMetrics", "pods", true, Source::PodMetrics),
            ] {
                resources.push(Resource {
                    group: "metrics.k8s.io".to_owned(),
                    version: "v1beta1".to_owned(),
                    kind: kind.to_owned(),
                    plural: plural.to_owned(),
                    singular: String::new(),
                    namespaced,
                    short_names: Vec::new(),
                    categories: Vec::new(),
                    source,
                    columns: None,
                });
            }
        }
        // Core first, then built-in groups in the API server's order, then the rest by name.
        let rank =
            |group: &str| BUILTINS.iter().position(|builtin| builtin.group == group).unwrap_or(usize::MAX);
        resources.sort_by(|a, b| (rank(&a.group), &a.group).cmp(&(rank(&b.group), &b.group)));
        Catalog { resources }
    }

    /// The resource served at `group`/`version` under `plural`.
    pub(super) fn find(&self, group: &str, version: &str, plural: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// The groups in discovery order, each with its versions (preferred first).
    pub(super) fn groups(&self) -> Vec<(&str, Vec<&str>)> {
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        for resource in &self.resources {
            match groups.iter_mut().find(|(group, _)| *group == resource.group) {
                Some((_, versions)) => {
                    if !versions.contains(&resource.version.as_str()) {
                        versions.push(&resource.version);
                    }
                }
                None => groups.push((&resource.group, vec![&resource.version])),
            }
        }
        for (_, versions) in &mut groups {
            versions.sort_by_key(|version| std::cmp::Reverse(version_priority(version)));
        }
        groups
    }

    /// The resources of one group version.
    pub(super) fn of<'a>(
        &'a self,
        group: &'a str,
        version: &'a str,
    ) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources.iter().filter(move |r| r.group == group && r.version == version)
    }
}

/// The kind the model indexes objects of `group` and `kind` under (a custom kind that shadows
/// a built-in one is qualified with its group), as [`Object::index_kind`] decides it.
fn index_kind_of(group: &str, kind: &str) -> String {
    let raw =
        serde_json::json!({"apiVersion": format!("{group}/v1"), "kind": kind, "metadata": {"name": "x"}});
    Object::from_value(raw, None, None, "")
        .map_or_else(|| kind.to_owned(), |object| object.index_kind().into_owned())
}

fn columns(items: &[Value]) -> Vec<PrinterColumn> {
    items
        .iter()
        .filter_map(|column| {
            let text = |key: &str| column.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
            Some(PrinterColumn {
                name: column.get("name")?.as_str()?.to_owned(),
                kind: text("type"),
                format: text("format"),
                description: text("description"),
                priority: column.get("priority").and_then(Value::as_i64).unwrap_or(0),
                json_path: column
                    .get("jsonPath")
                    .or_else(|| column.get("JSONPath"))
                    .and_then(Value::as_str)?
                    .to_owned(),
            })
        })
        .collect()
}

/// Kubernetes' version order: GA over beta over alpha, higher numbers first
/// (`v1` > `v1beta2` > `v1beta1` > `v1alpha1`); names outside the scheme last.
pub(super) fn version_priority(version: &str) -> (u8, u64, u64) {
    let Some(rest) = version.strip_prefix('v') else { return (0, 0, 0) };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let Ok(major) = digits.parse::<u64>() else { return (0, 0, 0) };
    let tail = &rest[digits.len()..];
    let (level, minor) = if tail.is_empty() {
        (3, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        return (0, 0, 0);
    };
    (level, major, minor)
}

/// The plural the API server would guess for a kind without a definition (the same rule as
/// `meta.UnsafeGuessKindToResource`).
pub(super) fn plural_of(kind: &str) -> String {
    let lower = kind.to_lowercase();
    if lower.is_empty() {
        return lower;
    }
    if lower.ends_with('s') {
        return format!("{lower}es");
    }
    if let Some(stem) = lower.strip_suffix('y') {
        return format!("{stem}ies");
    }
    format!("{lower}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_as_kubernetes_sorts_them() {
        let mut versions = vec!["v1alpha1", "v1beta1", "v2", "v1", "v1beta2", "foo"];
        versions.sort_by_key(|version| std::cmp::Reverse(version_priority(version)));
        assert_eq!(versions, ["v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "foo"]);
    }

    #[test]
    fn plurals_are_guessed_as_the_api_server_guesses() {
        assert_eq!(plural_of("Backup"), "backups");
        assert_eq!(plural_of("Ingress"), "ingresses");
        assert_eq!(plural_of("Policy"), "policies");
    }
}
