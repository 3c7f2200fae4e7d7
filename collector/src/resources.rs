//! Resources: every listable kind, listed with pagination (`limit` + `continue`, a full list
//! when a continue token expires with 410 Gone), split into one List file per namespace, with
//! `managedFields` dropped and every object redacted before it is queued for the writer.
//! Every successful listing leaves at least one file: a namespaced resource listed across all
//! namespaces that holds no object gets `_empty.json`, so the bundle says it was listed.
//!
//! While listing pods and nodes it keeps the little the logs and kubelet phases need
//! ([`Inventory`]), so that those phases do not list them again.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use kubesnap_shared::layout;
use kubesnap_shared::redact::Counts;
use serde_json::{Map, Value};

use crate::context::Context;
use crate::discover::ApiResource;
use crate::failures::CallError;
use crate::inventory::{Inventory, NodeInfo, PodInfo};
use crate::redaction;
use crate::sink::{SinkClosed, Tally};

/// Items per page: kubectl's default chunk size.
const PAGE_SIZE: u32 = 500;

/// Lists every resource; returns what the logs and kubelet phases need.
pub(crate) async fn run(ctx: &Arc<Context>, resources: &[ApiResource]) -> Result<Inventory, SinkClosed> {
    let bar = ctx.progress.phase("resources", Some(resources.len() as u64));
    let mut inventory = Inventory::default();
    let mut results = futures::stream::iter(resources.iter().cloned())
        .map(|resource| {
            let ctx = Arc::clone(ctx);
            // Spawned, so that parsing and redaction of big lists use every core.
            tokio::spawn(async move { list_resource(&ctx, &resource).await })
        })
        .buffer_unordered(ctx.concurrency());
    let mut n_cancelled = 0;
    while let Some(joined) = results.next().await {
        bar.inc(1);
        match joined {
            Ok(Ok(outcome)) => {
                n_cancelled += usize::from(outcome.cancelled);
                inventory.merge(outcome.inventory);
            }
            Ok(Err(closed)) => return Err(closed),
            // A panicking task is a bug; the rest of the collection is still worth having.
            Err(join_error) => tracing::error!("a listing task failed: {join_error}"),
        }
    }
    if n_cancelled > 0 {
        let failure = CallError::Cancelled.to_failure(
            "list",
            &format!("{n_cancelled} of {} resource types", resources.len()),
            None,
        );
        ctx.sink.failure(failure).await?;
    }
    bar.finish_with_message("done");
    inventory.sort();
    Ok(inventory)
}

/// What listing one resource left behind.
#[derive(Debug, Default)]
struct ListOutcome {
    inventory: Inventory,
    cancelled: bool,
}

/// Lists one resource in every namespace of the scope and queues its files.
async fn list_resource(ctx: &Context, resource: &ApiResource) -> Result<ListOutcome, SinkClosed> {
    let mut outcome = ListOutcome::default();
    let targets: Vec<Option<&str>> = if resource.namespaced && !ctx.scope.namespaces.is_empty() {
        ctx.scope.namespaces.iter().map(|ns| Some(ns.as_str())).collect()
    } else {
        vec![None]
    };
    for namespace in targets {
        let mut files = Files::new(resource);
        if let Some(namespace) = namespace {
            // An asked-for namespace gets its file even when it holds none of this resource.
            files.ensure(namespace);
        } else if !resource.namespaced {
            files.ensure(layout::CLUSTER_SCOPE);
        }
        let mut found = Inventory::default();
        match paginate(ctx, resource, namespace, &mut files, &mut found).await {
            Ok(()) => {
                if files.by_namespace.is_empty() {
                    // Listed across all namespaces and none held an object: without a file of
                    // its own, "there are none" would look like "not collected".
                    files.ensure(layout::EMPTY_SCOPE);
                }
                found.nodes_listed |= resource.group.is_empty() && resource.resource == "nodes";
                found.helm.secrets_listed |= resource.group.is_empty() && resource.resource == "secrets";
                outcome.inventory.merge(found);
                files.send(ctx, resource).await?;
            }
            Err(CallError::Cancelled) => {
                outcome.cancelled = true;
                return Ok(outcome);
            }
            Err(err) => ctx.sink.failure(err.to_failure("list", &resource.scope(), namespace)).await?,
        }
    }
    Ok(outcome)
}

/// Fetches every page into `files`; on 410 Gone (the continue token expired) starts over with
/// one unpaginated list, as kubectl does.
async fn paginate(
    ctx: &Context,
    resource: &ApiResource,
    namespace: Option<&str>,
    files: &mut Files,
    inventory: &mut Inventory,
) -> Result<(), CallError> {
    let path = resource.list_path(namespace);
    let mut token: Option<String> = None;
    let mut paginated = true;
    loop {
        let uri = match (&token, paginated) {
            (_, false) => path.clone(),
            (None, true) => format!("{path}?limit={PAGE_SIZE}"),
            (Some(token), true) => format!("{path}?limit={PAGE_SIZE}&continue={}", encode(token)),
        };
        let page = match ctx.gate.get_json(&uri).await {
            Ok(page) => page,
            Err(err) if err.is_gone() && token.is_some() => {
                tracing::debug!(resource = %resource.scope(), "continue token expired; listing in one request");
                files.clear();
                *inventory = Inventory::default();
                paginated = false;
                continue;
            }
            Err(err) => return Err(err),
        };
        token = files.take_page(ctx, page, inventory);
        if token.is_none() || !paginated {
            return Ok(());
        }
    }
}

/// The per-namespace List files of one resource, built as items arrive.
#[derive(Debug)]
struct Files {
    kind: String,
    api_version: String,
    list_kind: String,
    resource_version: Option<String>,
    by_namespace: BTreeMap<String, File>,
}

#[derive(Debug, Default)]
struct File {
    items: Vec<u8>,
    n_items: u64,
    counts: Counts,
}

impl Files {
    fn new(resource: &ApiResource) -> Self {
        Files {
            kind: resource.kind.clone(),
            api_version: resource.api_version(),
            list_kind: format!("{}List", resource.kind),
            resource_version: None,
            by_namespace: BTreeMap::new(),
        }
    }

    fn ensure(&mut self, scope: &str) {
        self.by_namespace.entry(scope.to_owned()).or_default();
    }

    fn clear(&mut self) {
        for file in self.by_namespace.values_mut() {
            *file = File::default();
        }
    }

    /// Files the items of one page; returns the continue token.
    fn take_page(&mut self, ctx: &Context, mut page: Value, inventory: &mut Inventory) -> Option<String> {
        if let Some(kind) = page["kind"].as_str() {
            self.list_kind = kind.to_owned();
        }
        if let Some(version) = page["metadata"]["resourceVersion"].as_str() {
            self.resource_version = Some(version.to_owned());
        }
        let token = page["metadata"]["continue"].as_str().filter(|t| !t.is_empty()).map(str::to_owned);
        let items = match page.get_mut("items").map(Value::take) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        for mut item in items {
            let namespace = item["metadata"]["namespace"].as_str().map(str::to_owned);
            if namespace.as_deref().is_some_and(|ns| ctx.scope.excludes(ns)) {
                continue;
            }
            prepare(&mut item, &self.kind, &self.api_version);
            inventory.observe(&self.api_version, &self.kind, &item);
            // Before redaction replaces the record's payload.
            inventory.helm.observe(&item, &ctx.redaction);
            let scope = namespace.unwrap_or_else(|| layout::CLUSTER_SCOPE.to_owned());
            let file = self.by_namespace.entry(scope).or_default();
            ctx.redaction.object(&mut item, &mut file.counts);
            if file.n_items > 0 {
                file.items.extend_from_slice(b",\n");
            }
            // Serializing a Value cannot fail: its keys are strings.
            let _ = serde_json::to_writer(&mut file.items, &item);
            file.n_items += 1;
        }
        token
    }

    /// Queues every file: `{"apiVersion", "kind", "metadata": {"resourceVersion"}, "items"}`
    /// with one item per line, so a person can grep the unpacked bundle.
    async fn send(self, ctx: &Context, resource: &ApiResource) -> Result<(), SinkClosed> {
        for (scope, file) in self.by_namespace {
            let namespace = (scope != layout::CLUSTER_SCOPE).then_some(scope.as_str());
            let path =
                layout::resource_list(&resource.group, &resource.version, &resource.resource, namespace);
            let mut envelope = Map::new();
            envelope.insert("apiVersion".into(), Value::String(self.api_version.clone()));
            envelope.insert("kind".into(), Value::String(self.list_kind.clone()));
            let mut metadata = Map::new();
            if let Some(version) = &self.resource_version {
                metadata.insert("resourceVersion".into(), Value::String(version.clone()));
            }
            envelope.insert("metadata".into(), Value::Object(metadata));
            let head = serde_json::to_string(&Value::Object(envelope)).unwrap_or_default();
            // `head` ends with `}`; the items go in before it.
            let mut bytes = Vec::with_capacity(head.len() + file.items.len() + 16);
            bytes.extend_from_slice(&head.as_bytes()[..head.len().saturating_sub(1)]);
            bytes.extend_from_slice(b",\"items\":[\n");
            bytes.extend_from_slice(&file.items);
            bytes.extend_from_slice(b"\n]}\n");
            ctx.sink.redactions(&path, redaction::pairs(&file.counts)).await?;
            ctx.sink.add(path, bytes, Tally::Objects(file.n_items)).await?;
        }
        Ok(())
    }
}

/// Drops `managedFields` (server bookkeeping, often half an object's size) and gives the item
/// the `kind` and `apiVersion` that List items omit, as `kubectl get -o json` does, so each
/// object is self-describing (and the redactor recognizes a Secret).
fn prepare(item: &mut Value, kind: &str, api_version: &str) {
    let Value::Object(map) = item else { return };
    if let Some(Value::Object(metadata)) = map.get_mut("metadata") {
        metadata.remove("managedFields");
    }
    map.entry("kind").or_insert_with(|| Value::String(kind.to_owned()));
    map.entry("apiVersion").or_insert_with(|| Value::String(api_version.to_owned()));
}

/// Percent-encodes a continue token for a query string (tokens are base64 with `=`, `+`, `/`).
fn encode(token: &str) -> String {
    let mut out = String::with_capacity(token.len());
    for byte in token.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

// Inventory types are built here but consumed by later phases.
impl Inventory {
    fn observe(&mut self, api_version: &str, kind: &str, item: &Value) {
        match (api_version, kind) {
            ("v1", "Pod") => {
                if let Some(pod) = PodInfo::from_object(item) {
                    self.pods.push(pod);
                }
            }
            ("v1", "Node") => {
                if let Some(node) = NodeInfo::from_object(item) {
                    self.nodes.push(node);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn prepare_drops_managed_fields_and_names_the_kind() {
        let mut item =
            json!({"metadata": {"name": "a", "managedFields": [{"manager": "kubectl"}]}, "data": {"x": "1"}});
        prepare(&mut item, "ConfigMap", "v1");
        assert_eq!(
            item,
            json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "a"}, "data": {"x": "1"}})
        );
        // A kind the server did set is kept.
        let mut item = json!({"kind": "Widget", "metadata": {}});
        prepare(&mut item, "Other", "example.com/v1");
        assert_eq!(item["kind"], "Widget");
    }

    #[test]
    fn continue_tokens_are_percent_encoded() {
        assert_eq!(encode("eyJ2Ijo+/x=="), "eyJ2Ijo%2B%2Fx%3D%3D");
        assert_eq!(encode("plain-token_1.2~"), "plain-token_1.2~");
    }
}
