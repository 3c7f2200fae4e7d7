//! Discovery as kubectl 1.30+ asks for it: the aggregated documents
//! (`apidiscovery.k8s.io/v2` `APIGroupDiscoveryList` at `/api` and `/apis`) and the legacy
//! ones (`APIVersions`, `APIGroupList`, `APIGroup`, `APIResourceList`).

use serde_json::{Value, json};

use super::catalog::{Catalog, Resource, Source};

/// The verbs of every served resource: read-only.
fn verbs(resource: &Resource) -> Value {
    match resource.source {
        Source::PodMetrics | Source::NodeMetrics => json!(["get", "list"]),
        Source::Objects { .. } | Source::Events => json!(["get", "list", "watch"]),
    }
}

fn subresources(resource: &Resource) -> Vec<&'static str> {
    match (resource.group.as_str(), resource.plural.as_str()) {
        ("", "pods") => vec!["log"],
        _ => Vec::new(),
    }
}

/// `/api`: the legacy versions document.
pub(super) fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_document(group: &str, versions: &[&str]) -> Value {
    let versions: Vec<Value> =
        versions.iter().map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v})).collect();
    json!({"name": group, "versions": versions, "preferredVersion": versions.first().cloned().unwrap_or(Value::Null)})
}

/// `/apis`: every group but core.
pub(super) fn group_list(catalog: &Catalog) -> Value {
    let groups: Vec<Value> = catalog
        .groups()
        .into_iter()
        .filter(|(group, _)| !group.is_empty())
        .map(|(group, versions)| group_document(group, &versions))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/GROUP`.
pub(super) fn group(catalog: &Catalog, name: &str) -> Option<Value> {
    let (group, versions) =
        catalog.groups().into_iter().find(|(group, _)| *group == name && !name.is_empty())?;
    let mut document = group_document(group, &versions);
    if let Some(map) = document.as_object_mut() {
        map.insert("kind".to_owned(), json!("APIGroup"));
        map.insert("apiVersion".to_owned(), json!("v1"));
    }
    Some(document)
}

/// `/api/v1` or `/apis/GROUP/VERSION`.
pub(super) fn resource_list(catalog: &Catalog, group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for resource in catalog.of(group, version) {
        resources.push(json!({
            "name": resource.plural,
            "singularName": resource.singular,
            "namespaced": resource.namespaced,
            "kind": resource.kind,
            "verbs": verbs(resource),
            "shortNames": resource.short_names,
            "categories": resource.categories,
        }));
        for sub in subresources(resource) {
            resources.push(json!({
                "name": format!("{}/{sub}", resource.plural),
                "singularName": "",
                "namespaced": resource.namespaced,
                "kind": resource.kind,
                "verbs": ["get"],
            }));
        }
    }
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}),
    )
}

/// The content type of an aggregated discovery answer.
pub(super) const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether an `Accept` header asks for aggregated discovery (v2; kubectl 1.33 lists v2 first).
pub(super) fn wants_aggregated(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let part = part.replace(' ', "");
        part.contains("as=APIGroupDiscoveryList") && part.contains("v=v2") && !part.contains("v=v2beta1")
    })
}

/// The aggregated document of `/api` (core only) or `/apis` (every other group).
pub(super) fn aggregated(catalog: &Catalog, core: bool) -> Value {
    let mut items = Vec::new();
    for (group, versions) in catalog.groups() {
        if group.is_empty() != core {
            continue;
        }
        let versions: Vec<Value> = versions
            .iter()
            .map(|version| {
                let resources: Vec<Value> = catalog
                    .of(group, version)
                    .map(|resource| {
                        let response_kind = json!({"group": group, "version": version, "kind": resource.kind});
                        let subresources: Vec<Value> = subresources(resource)
                            .into_iter()
                            .map(|sub| json!({"subresource": sub, "responseKind": response_kind, "verbs": ["get"]}))
                            .collect();
                        json!({
                            "resource": resource.plural,
                            "responseKind": response_kind,
                            "scope": if resource.namespaced { "Namespaced" } else { "Cluster" },
                            "singularResource": resource.singular,
                            "verbs": verbs(resource),
                            "shortNames": resource.short_names,
                            "categories": resource.categories,
                            "subresources": subresources,
                        })
                    })
                    .collect();
                json!({"version": version, "resources": resources, "freshness": "Current"})
            })
            .collect();
        items.push(json!({"metadata": {"name": group}, "versions": versions}));
    }
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_v2_aggregated_discovery_is_offered() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert!(wants_aggregated(kubectl));
        assert!(!wants_aggregated(
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
        ));
        assert!(!wants_aggregated("application/json, */*"));
    }
}
