//! The API's answers, as pure functions of the model: a request (method, path, query, Accept)
//! in, an [`Answer`] out. The HTTP server (`server.rs`) only carries them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use jiff::Timestamp;
use kubesnap_shared::model::{ClusterModel, Coverage, SourceFormat};
use serde_json::{Value, json};

use super::catalog::{Catalog, Resource, Source};
use super::discovery;
use super::logs::{self, LogReader};
use super::select::{FieldSelector, LabelSelector};
use super::status::{self, Answer, failure};
use super::table::{self, Include};

/// One request, as the handler needs it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Request<'a> {
    pub(super) method: &'a str,
    pub(super) path: &'a str,
    pub(super) query: &'a str,
    pub(super) accept: &'a str,
    /// The address kubectl reached the server at (for `/api`'s `serverAddressByClientCIDRs`).
    pub(super) host: &'a str,
}

/// The served bundle.
#[derive(Debug)]
pub(crate) struct Api {
    model: ClusterModel,
    catalog: Catalog,
    /// The bundle's capture time: every age is computed against it.
    now: Timestamp,
    /// core/v1 Events rebuilt from the model's events, by namespace then name.
    events: Vec<Value>,
    logs: LogReader,
    bundle_name: String,
}

/// The resource version of every list (the bundle never changes).
const RESOURCE_VERSION: &str = "1";

impl Api {
    pub(super) fn new(model: ClusterModel, bundle: PathBuf) -> Api {
        let now = model.captured_at.unwrap_or_else(Timestamp::now);
        let catalog = Catalog::build(&model);
        let events = rebuild_events(&model);
        let bundle_name = bundle.display().to_string();
        Api { model, catalog, now, events, logs: LogReader::new(bundle), bundle_name }
    }

    /// The namespace the kubeconfig's context starts in.
    pub(super) fn default_namespace(&self) -> &str {
        "default"
    }

    fn read_only(&self) -> String {
        let captured =
            self.model.captured_at.map_or_else(|| "at an unknown time".to_owned(), |at| format!("at {at}"));
        format!("{} is a read-only bundle captured {captured}", self.bundle_name)
    }

    /// Answers one request.
    pub(super) fn handle(&self, request: &Request<'_>) -> Answer {
        let path = request.path.trim_end_matches('/');
        let query: BTreeMap<String, String> =
            form_urlencoded::parse(request.query.as_bytes()).into_owned().collect();
        if request.method != "GET" && request.method != "HEAD" {
            return self.refuse_write(request.method, path);
        }
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            ["version"] => Answer::json(&self.version()),
            ["healthz" | "livez" | "readyz", ..] => Answer::text("ok".to_owned()),
            ["api"] if discovery::wants_aggregated(request.accept) => {
                Answer::typed(&discovery::aggregated(&self.catalog, true), discovery::AGGREGATED)
            }
            ["api"] => Answer::json(&discovery::api_versions(request.host)),
            ["apis"] if discovery::wants_aggregated(request.accept) => {
                Answer::typed(&discovery::aggregated(&self.catalog, false), discovery::AGGREGATED)
            }
            ["apis"] => Answer::json(&discovery::group_list(&self.catalog)),
            ["api", "v1"] => self.or_404(discovery::resource_list(&self.catalog, "", "v1"), path),
            ["apis", group] => self.or_404(discovery::group(&self.catalog, group), path),
            ["apis", group, version] => {
                self.or_404(discovery::resource_list(&self.catalog, group, version), path)
            }
            ["openapi", ..] => failure(
                404,
                "NotFound",
                "a bundle holds no OpenAPI schema: `kubectl explain` and client-side validation are not available",
                None,
            ),
            ["api", "v1", rest @ ..] => self.resource(request, "", "v1", rest, &query),
            ["apis", group, version, rest @ ..] => self.resource(request, group, version, rest, &query),
            _ => status::no_such_path(path),
        }
    }

    fn or_404(&self, document: Option<Value>, path: &str) -> Answer {
        document.map_or_else(|| status::no_such_path(path), |document| Answer::json(&document))
    }

    fn refuse_write(&self, method: &str, path: &str) -> Answer {
        let last = path.rsplit('/').next().unwrap_or_default();
        let message = match last {
            "exec" | "attach" => format!(
                "{}: its containers are not running anywhere, so nothing can be executed or attached to",
                self.read_only()
            ),
            "portforward" | "proxy" => {
                format!(
                    "{}: no pod or service is running behind it, so there is nothing to connect to",
                    self.read_only()
                )
            }
            "eviction" | "binding" => format!("{}: pods cannot be evicted or bound", self.read_only()),
            _ => format!("{}: {method} cannot create, change or delete anything", self.read_only()),
        };
        failure(405, "MethodNotAllowed", &message, None)
    }

    fn version(&self) -> Value {
        let git_version = self.model.server_version.clone().unwrap_or_else(|| "v0.0.0-unknown".to_owned());
        let numbers: Vec<&str> = git_version.trim_start_matches('v').split(['.', '-', '+']).collect();
        json!({
            "major": numbers.first().copied().unwrap_or("0"),
            "minor": numbers.get(1).copied().unwrap_or("0"),
            "gitVersion": git_version,
            "gitCommit": "",
            "gitTreeState": "",
            "buildDate": self.model.captured_at.map(|at| at.to_string()),
            "goVersion": "",
            "compiler": "kubesnap",
            "platform": "bundle",
        })
    }

    fn resource(
        &self,
        request: &Request<'_>,
        group: &str,
        version: &str,
        rest: &[&str],
        query: &BTreeMap<String, String>,
    ) -> Answer {
        // [namespaces, NS, plural, name?, sub?] or [plural, name?, sub?]; `namespaces/NS/status`
        // is the namespace's own subresource.
        let (namespace, rest) = match rest {
            ["namespaces", namespace, plural, tail @ ..]
                if !(group.is_empty() && matches!(*plural, "status" | "finalize") && tail.is_empty()) =>
            {
                (Some(*namespace), std::iter::once(*plural).chain(tail.iter().copied()).collect::<Vec<_>>())
            }
            other => (None, other.to_vec()),
        };
        let Some(plural) = rest.first() else { return status::no_such_path(request.path) };
        let Some(resource) = self.catalog.find(group, version, plural) else {
            return status::no_such_path(request.path);
        };
        if namespace.is_some() && !resource.namespaced {
            return status::no_such_path(request.path);
        }
        match rest.as_slice() {
            [_] => self.list(resource, namespace, request, query),
            [_, name] | [_, name, "status"] => self.get(resource, namespace, name, request, query),
            [_, name, "log"] if resource.kind == "Pod" && group.is_empty() => {
                self.log(namespace.unwrap_or("default"), name, query)
            }
            [_, _, sub] => failure(
                404,
                "NotFound",
                &format!("{}: the {sub} subresource of {} is not served", self.read_only(), resource.plural),
                None,
            ),
            _ => status::no_such_path(request.path),
        }
    }

    /// The objects of `resource` in `namespace` (every namespace when `None`), as JSON.
    fn objects(&self, resource: &Resource, namespace: Option<&str>) -> Vec<Value> {
        match &resource.source {
            Source::Objects { index_kind, any_group } => {
                let objects: Box<dyn Iterator<Item = _>> = match namespace {
                    Some(namespace) => Box::new(self.model.of_kind_in(index_kind, namespace)),
                    None => Box::new(self.model.of_kind(index_kind)),
                };
                objects
                    .filter(|object| {
                        *any_group
                            || object.api_version.rsplit_once('/').map_or("", |(g, _)| g) == resource.group
                    })
                    .filter_map(|object| serde_json::to_value(&object.raw).ok())
                    .collect()
            }
            Source::Events => self
                .events
                .iter()
                .filter(|event| {
                    namespace.is_none_or(|ns| {
                        event.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)
                    })
                })
                .cloned()
                .collect(),
            Source::PodMetrics => self.pod_metrics(namespace),
            Source::NodeMetrics => self.node_metrics(),
        }
    }

    /// Why zero objects of `resource` may not mean there are none.
    fn not_captured(&self, resource: &Resource) -> Option<String> {
        match &resource.source {
            Source::Objects { .. } => match self.model.captured(resource.coverage_kind()) {
                Coverage::Failed(why) | Coverage::NotCaptured(why) => {
                    Some(format!("this bundle did not capture {}: {why}", resource.plural))
                }
                Coverage::Listed | Coverage::Unknown => None,
            },
            Source::Events if self.model.events.is_empty() => self
                .model
                .gaps
                .iter()
                .find(|gap| gap.what.contains("event"))
                .map(|gap| format!("this bundle did not capture events: {}", gap.why)),
            _ => None,
        }
    }

    fn list(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        request: &Request<'_>,
        query: &BTreeMap<String, String>,
    ) -> Answer {
        let labels = match LabelSelector::parse(query.get("labelSelector").map_or("", String::as_str)) {
            Ok(selector) => selector,
            Err(error) => return failure(400, "BadRequest", &error, None),
        };
        let fields = match FieldSelector::parse(query.get("fieldSelector").map_or("", String::as_str)) {
            Ok(selector) => selector,
            Err(error) => return failure(400, "BadRequest", &error, None),
        };
        let mut objects: Vec<Value> = self
            .objects(resource, namespace)
            .into_iter()
            .filter(|object| {
                labels.matches(&string_map(object.pointer("/metadata/labels"))) && fields.matches(object)
            })
            .collect();
        if let Some(limit) =
            query.get("limit").and_then(|limit| limit.parse::<usize>().ok()).filter(|l| *l > 0)
        {
            // Pages: the continue token is the offset of the next page.
            let start = query.get("continue").and_then(|token| token.parse::<usize>().ok()).unwrap_or(0);
            let rest = objects.split_off(start.min(objects.len()));
            let more = rest.len() > limit;
            objects = rest.into_iter().take(limit).collect();
            let token = more.then(|| (start + limit).to_string());
            return self.list_answer(resource, objects, request, query, token);
        }
        let watching = query.get("watch").is_some_and(|w| w == "true" || w == "1");
        if watching {
            return self.watch(resource, objects, request, query);
        }
        self.list_answer(resource, objects, request, query, None)
    }

    fn list_answer(
        &self,
        resource: &Resource,
        objects: Vec<Value>,
        request: &Request<'_>,
        query: &BTreeMap<String, String>,
        continue_token: Option<String>,
    ) -> Answer {
        let warning = if objects.is_empty() { self.not_captured(resource) } else { None };
        let mut metadata = json!({"resourceVersion": RESOURCE_VERSION});
        if let (Some(token), Some(map)) = (continue_token, metadata.as_object_mut()) {
            map.insert("continue".to_owned(), json!(token));
        }
        let document = if table::wants_table(request.accept) {
            let include = Include::parse(query.get("includeObject").map(String::as_str));
            let mut table = table::render(resource, &objects, self.now, include, RESOURCE_VERSION);
            if let Some(map) = table.as_object_mut() {
                map.insert("metadata".to_owned(), metadata);
            }
            table
        } else {
            json!({
                "kind": format!("{}List", resource.kind),
                "apiVersion": resource.api_version(),
                "metadata": metadata,
                "items": objects,
            })
        };
        Answer::json(&document).with_warning(warning)
    }

    /// A watch: the objects as `ADDED` events when no resource version is given (none after
    /// the list's version: the bundle never changes), then the stream ends.
    fn watch(
        &self,
        resource: &Resource,
        objects: Vec<Value>,
        request: &Request<'_>,
        query: &BTreeMap<String, String>,
    ) -> Answer {
        let since_list = query.get("resourceVersion").is_some_and(|rv| !rv.is_empty() && rv != "0");
        let mut body = String::new();
        if !since_list {
            let include = Include::parse(query.get("includeObject").map(String::as_str));
            for object in objects {
                let shown = if table::wants_table(request.accept) {
                    table::render(
                        resource,
                        std::slice::from_ref(&object),
                        self.now,
                        include,
                        RESOURCE_VERSION,
                    )
                } else {
                    object
                };
                body.push_str(&json!({"type": "ADDED", "object": shown}).to_string());
                body.push('\n');
            }
        }
        let mut answer = Answer::text(body);
        answer.content_type = "application/json";
        answer.warnings.push(format!(
            "{}: nothing changes after capture, so the watch ends after the objects it holds",
            self.read_only()
        ));
        answer
    }

    fn get(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        name: &str,
        request: &Request<'_>,
        query: &BTreeMap<String, String>,
    ) -> Answer {
        let found = self
            .objects(resource, namespace)
            .into_iter()
            .find(|object| object.pointer("/metadata/name").and_then(Value::as_str) == Some(name));
        let Some(object) = found else {
            let why = self.not_captured(resource);
            return status::not_found(&resource.group, &resource.plural, name, why.as_deref());
        };
        if table::wants_table(request.accept) {
            let include = Include::parse(query.get("includeObject").map(String::as_str));
            return Answer::json(&table::render(resource, &[object], self.now, include, RESOURCE_VERSION));
        }
        Answer::json(&object)
    }

    fn log(&self, namespace: &str, pod_name: &str, query: &BTreeMap<String, String>) -> Answer {
        let Some(pod) = self.model.get("Pod", Some(namespace), pod_name) else {
            return status::not_found("", "pods", pod_name, None);
        };
        let names = |pointer: &str| -> Vec<String> {
            pod.array_at(pointer).iter().filter_map(|c| c.get("name")?.as_str().map(str::to_owned)).collect()
        };
        let containers = names("/spec/containers");
        let mut every = names("/spec/initContainers");
        every.extend(containers.iter().cloned());
        every.extend(names("/spec/ephemeralContainers"));
        let container = match query.get("container").filter(|c| !c.is_empty()) {
            Some(container) => container.clone(),
            None if containers.len() == 1 => containers[0].clone(),
            None => {
                return failure(
                    400,
                    "BadRequest",
                    &format!(
                        "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                        containers.join(" ")
                    ),
                    None,
                );
            }
        };
        if !every.contains(&container) && !every.is_empty() {
            return failure(
                400,
                "BadRequest",
                &format!("container {container} is not valid for pod {pod_name}"),
                None,
            );
        }
        let previous = query.get("previous").is_some_and(|p| p == "true");
        let Some(log) = self.model.log(namespace, pod_name, &container, previous) else {
            let which = if previous { "previous terminated container" } else { "container" };
            let why = self.model.gaps.iter().find(|gap| gap.what.contains("log")).map_or_else(
                || "the bundle holds no such log".to_owned(),
                |gap| format!("{}: {}", gap.what, gap.why),
            );
            let code = if previous { 400 } else { 404 };
            return failure(
                code,
                if previous { "BadRequest" } else { "NotFound" },
                &format!("{which} \"{container}\" in pod \"{pod_name}\" has no log in this bundle ({why})"),
                None,
            );
        };
        let since = query
            .get("sinceSeconds")
            .and_then(|s| s.parse::<i64>().ok())
            .and_then(|seconds| self.now.checked_sub(jiff::SignedDuration::from_secs(seconds)).ok())
            .or_else(|| query.get("sinceTime").and_then(|t| t.parse().ok()));
        let cut = logs::Cut {
            timestamps: query.get("timestamps").is_some_and(|t| t == "true"),
            since,
            tail_lines: query.get("tailLines").and_then(|n| n.parse().ok()),
            limit_bytes: query.get("limitBytes").and_then(|n| n.parse().ok()),
        };
        let stamped = self.model.format == Some(SourceFormat::Native);
        let (text, warnings) = match self.logs.answer(&log.path, stamped, &cut) {
            Ok(answer) => answer,
            Err(error) => {
                return failure(
                    500,
                    "InternalError",
                    &format!("failed to read the log from the bundle: {error}"),
                    None,
                );
            }
        };
        let mut answer = Answer::text(text);
        answer.warnings.extend(warnings);
        if log.truncated {
            answer
                .warnings
                .push("this log was cut by the collector's cap: its start is not in the bundle".to_owned());
        }
        answer
    }

    fn pod_metrics(&self, namespace: Option<&str>) -> Vec<Value> {
        let mut pods: BTreeMap<(&str, &str), (Timestamp, Vec<Value>)> = BTreeMap::new();
        for series in &self.model.pod_metrics {
            if namespace.is_some_and(|ns| ns != series.key.namespace) {
                continue;
            }
            let Some(last) = series.samples.last() else { continue };
            let entry = pods
                .entry((series.key.namespace.as_str(), series.key.pod.as_str()))
                .or_insert((last.at, Vec::new()));
            entry.0 = entry.0.max(last.at);
            entry.1.push(json!({"name": series.key.container, "usage": usage(last)}));
        }
        pods.into_iter()
            .map(|((namespace, pod), (at, containers))| {
                json!({
                    "kind": "PodMetrics",
                    "apiVersion": "metrics.k8s.io/v1beta1",
                    "metadata": {"name": pod, "namespace": namespace, "creationTimestamp": at.to_string()},
                    "timestamp": at.to_string(),
                    "window": "30s",
                    "containers": containers,
                })
            })
            .collect()
    }

    fn node_metrics(&self) -> Vec<Value> {
        self.model
            .node_metrics
            .iter()
            .filter_map(|series| {
                let last = series.samples.last()?;
                Some(json!({
                    "kind": "NodeMetrics",
                    "apiVersion": "metrics.k8s.io/v1beta1",
                    "metadata": {"name": series.node, "creationTimestamp": last.at.to_string()},
                    "timestamp": last.at.to_string(),
                    "window": "30s",
                    "usage": usage(last),
                }))
            })
            .collect()
    }
}

/// A sample as the metrics API writes usage: CPU in millicores, memory in KiB.
fn usage(sample: &kubesnap_shared::model::MetricSample) -> Value {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "usage is small and non-negative"
    )]
    let (cpu, memory) = (
        sample.cpu_millicores.round().max(0.0) as u64,
        (sample.memory_bytes / 1024.0).round().max(0.0) as u64,
    );
    json!({"cpu": format!("{cpu}m"), "memory": format!("{memory}Ki")})
}

fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|map| map.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default()
}

/// core/v1 Events from the model's normalized events: the fields kubectl shows and selects
/// on, the involved object's uid and API version looked up in the bundle.
fn rebuild_events(model: &ClusterModel) -> Vec<Value> {
    let mut events: Vec<Value> = model
        .events
        .iter()
        .map(|event| {
            let namespace = event
                .namespace
                .clone()
                .or_else(|| event.involved.namespace.clone())
                .unwrap_or_else(|| "default".to_owned());
            let involved =
                model.get(&event.involved.kind, event.involved.namespace.as_deref(), &event.involved.name);
            let time = |at: Option<Timestamp>| at.map(|at| at.to_string());
            json!({
                "kind": "Event",
                "apiVersion": "v1",
                "metadata": {
                    "name": event.name,
                    "namespace": namespace,
                    "creationTimestamp": time(event.first_seen.or(event.last_seen)),
                },
                "involvedObject": {
                    "kind": event.involved.kind,
                    "namespace": event.involved.namespace,
                    "name": event.involved.name,
                    "uid": involved.and_then(|object| object.uid()),
                    "apiVersion": involved.map(|object| object.api_version.as_str()),
                },
                "reason": event.reason,
                "message": event.message,
                "type": event.kind,
                "count": event.count,
                "firstTimestamp": time(event.first_seen),
                "lastTimestamp": time(event.last_seen),
                "source": {"component": event.source},
                "reportingComponent": event.source,
            })
        })
        .collect();
    let key = |event: &Value| {
        (
            event.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default().to_owned(),
            event.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_owned(),
        )
    };
    events.sort_by_key(key);
    events
}
