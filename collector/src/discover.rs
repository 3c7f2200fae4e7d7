//! Discovery: the server's version, then every API group and its preferred version, the
//! aggregated APIs and CRDs included, as the server describes them. A group whose discovery
//! fails (an aggregated API that is down answers 503) is recorded and the rest goes on.

use futures::StreamExt;
use kubesnap_shared::layout;
use serde_json::{Value, json};

use crate::context::Context;
use crate::failures::CallError;
use crate::sink::{SinkClosed, Tally};

/// One listable kind of resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiResource {
    /// `""` for the core group.
    pub(crate) group: String,
    pub(crate) version: String,
    /// The plural name used in URLs (`deployments`).
    pub(crate) resource: String,
    pub(crate) kind: String,
    pub(crate) namespaced: bool,
}

impl ApiResource {
    /// `v1/pods`, `apps/v1/deployments`: how failures name it.
    pub(crate) fn scope(&self) -> String {
        if self.group.is_empty() {
            format!("{}/{}", self.version, self.resource)
        } else {
            format!("{}/{}/{}", self.group, self.version, self.resource)
        }
    }

    /// The URL path of the list, across all namespaces or in one.
    pub(crate) fn list_path(&self, namespace: Option<&str>) -> String {
        let prefix = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace.filter(|_| self.namespaced) {
            Some(namespace) => format!("{prefix}/namespaces/{namespace}/{}", self.resource),
            None => format!("{prefix}/{}", self.resource),
        }
    }

    /// `apiVersion` of the objects.
    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }
}

/// What discovery found.
#[derive(Debug, Default)]
pub(crate) struct Discovered {
    /// Every resource that supports `list`, in discovery order (core first, then groups as
    /// the server orders them).
    pub(crate) resources: Vec<ApiResource>,
    /// Whether `metrics.k8s.io` answered discovery.
    pub(crate) metrics_api: bool,
}

/// Discovers every group and writes `cluster/api-resources.json`:
/// `{"apiVersions": <GET /api>, "groups": <GET /apis>, "resourceLists": [<APIResourceList>...]}`,
/// each as the server returned it, the lists in the order of [`Discovered::resources`].
pub(crate) async fn run(ctx: &Context) -> Result<Discovered, SinkClosed> {
    let bar = ctx.progress.phase("discovery", None);
    let mut group_versions = Vec::new();
    let api_versions = match ctx.gate.get_json("/api").await {
        Ok(value) => {
            // The core group has one version in practice; the first one is what kubectl uses.
            if let Some(version) = value["versions"].get(0).and_then(Value::as_str) {
                group_versions.push(version.to_owned());
            }
            value
        }
        Err(err) => {
            ctx.sink.failure(err.to_failure("discovery", "/api", None)).await?;
            Value::Null
        }
    };
    let groups = match ctx.gate.get_json("/apis").await {
        Ok(value) => value,
        Err(err) => {
            ctx.sink.failure(err.to_failure("discovery", "/apis", None)).await?;
            Value::Null
        }
    };
    for group in groups["groups"].as_array().into_iter().flatten() {
        let preferred = group["preferredVersion"]["groupVersion"]
            .as_str()
            .or_else(|| group["versions"].get(0).and_then(|v| v["groupVersion"].as_str()));
        if let Some(group_version) = preferred {
            group_versions.push(group_version.to_owned());
        }
    }

    bar.set_length(group_versions.len() as u64);
    // `buffered` (not `buffer_unordered`) keeps the server's order whatever answers first.
    let answers: Vec<(String, Result<Value, CallError>)> = futures::stream::iter(group_versions)
        .map(|group_version| async {
            let path = if group_version.contains('/') {
                format!("/apis/{group_version}")
            } else {
                format!("/api/{group_version}")
            };
            let answer = ctx.gate.get_json(&path).await;
            bar.inc(1);
            (group_version, answer)
        })
        .buffered(ctx.concurrency())
        .collect()
        .await;

    let mut discovered = Discovered::default();
    let mut resource_lists = Vec::new();
    for (group_version, answer) in answers {
        match answer {
            Ok(list) => {
                let before = discovered.resources.len();
                discovered.resources.extend(listable(&group_version, &list));
                if group_version.starts_with("metrics.k8s.io/") && discovered.resources.len() > before {
                    discovered.metrics_api = true;
                }
                resource_lists.push(list);
            }
            Err(err) => ctx.sink.failure(err.to_failure("discovery", &group_version, None)).await?,
        }
    }
    let document = json!({"apiVersions": api_versions, "groups": groups, "resourceLists": resource_lists});
    let bytes = serde_json::to_vec_pretty(&document).unwrap_or_default();
    ctx.sink.add(layout::API_RESOURCES.to_owned(), bytes, Tally::Other).await?;
    bar.finish_with_message(format!("{} listable resources", discovered.resources.len()));
    Ok(discovered)
}

/// The resources of one APIResourceList that can be listed; subresources (`pods/log`) are not
/// resources of their own.
fn listable(group_version: &str, list: &Value) -> Vec<ApiResource> {
    let (group, version) = group_version.split_once('/').unwrap_or(("", group_version));
    list["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|resource| {
            let name = resource["name"].as_str().unwrap_or_default();
            let verbs = resource["verbs"].as_array();
            !name.is_empty()
                && !name.contains('/')
                && verbs.is_some_and(|verbs| verbs.iter().any(|verb| verb == "list"))
        })
        .map(|resource| ApiResource {
            group: group.to_owned(),
            version: version.to_owned(),
            resource: resource["name"].as_str().unwrap_or_default().to_owned(),
            kind: resource["kind"].as_str().unwrap_or_default().to_owned(),
            namespaced: resource["namespaced"].as_bool().unwrap_or(false),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listable_top_level_resources_are_kept() {
        let list = json!({
            "kind": "APIResourceList", "groupVersion": "v1",
            "resources": [
                {"name": "pods", "namespaced": true, "kind": "Pod", "verbs": ["get", "list", "watch"]},
                {"name": "pods/log", "namespaced": true, "kind": "Pod", "verbs": ["get"]},
                {"name": "bindings", "namespaced": true, "kind": "Binding", "verbs": ["create"]},
                {"name": "nodes", "namespaced": false, "kind": "Node", "verbs": ["list"]}
            ]
        });
        let found = listable("v1", &list);
        let names: Vec<_> = found.iter().map(ApiResource::scope).collect();
        assert_eq!(names, ["v1/pods", "v1/nodes"]);
        assert!(found[0].namespaced && !found[1].namespaced);
    }

    #[test]
    fn list_paths_follow_the_api_conventions() {
        let pods = ApiResource {
            group: String::new(),
            version: "v1".into(),
            resource: "pods".into(),
            kind: "Pod".into(),
            namespaced: true,
        };
        assert_eq!(pods.list_path(None), "/api/v1/pods");
        assert_eq!(pods.list_path(Some("prod")), "/api/v1/namespaces/prod/pods");
        let crds = ApiResource {
            group: "apiextensions.k8s.io".into(),
            version: "v1".into(),
            resource: "customresourcedefinitions".into(),
            kind: "CustomResourceDefinition".into(),
            namespaced: false,
        };
        // A cluster-scoped resource ignores the namespace.
        assert_eq!(crds.list_path(Some("prod")), "/apis/apiextensions.k8s.io/v1/customresourcedefinitions");
        assert_eq!(crds.scope(), "apiextensions.k8s.io/v1/customresourcedefinitions");
        assert_eq!(crds.api_version(), "apiextensions.k8s.io/v1");
    }
}
