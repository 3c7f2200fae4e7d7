//! Turning the pieces of one pass into the model, in entry order: objects, deduplicated
//! events, logs, metric series, failures, gaps and read problems.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use kubesnap_shared::import::Importer;
use kubesnap_shared::import::parse::Times;
use kubesnap_shared::manifest::{Failure, FailureKind};
use kubesnap_shared::model::{
    ClusterModel, ContainerKey, ContainerLog, Event, Gap, LogLine, MetricSample, MetricSeries, NodeProblem,
    NodeSeries, ReadProblem, SourceFormat,
};
use kubesnap_shared::reader::strip_root;

use super::logs::{LogAccumulator, combine};
use super::node_problems::RULES;
use super::pipeline::{Pass, Piece, error_chain};
use kubesnap_shared::log_time::Ts;

mod tails;

pub(super) fn assemble(importer: Importer, read: Pass) -> ClusterModel {
    let Pass { outcome, pieces, logs: log_files, mut problems, .. } = read;
    let mut model = ClusterModel { format: Some(importer.format()), ..ClusterModel::default() };
    let mut newest = Times::default();
    let mut events: Vec<Event> = Vec::new();
    let mut containers: BTreeMap<ContainerKey, Vec<MetricSample>> = BTreeMap::new();
    let mut nodes: BTreeMap<String, Vec<MetricSample>> = BTreeMap::new();
    let mut metric_errors: BTreeMap<String, u64> = BTreeMap::new();
    // Per log entry, its containers in order (several in a cluster-info dump's logs.txt).
    let mut accumulators: BTreeMap<u64, Vec<LogAccumulator>> = BTreeMap::new();
    // Node problems per (log entry, reason), and the lines of each node log's chunks so far.
    let mut node_problems: BTreeMap<(u64, &'static str), NodeProblemAccumulator> = BTreeMap::new();
    let mut node_lines: BTreeMap<u64, u64> = BTreeMap::new();
    let mut text_objects: Vec<kubesnap_shared::model::Object> = Vec::new();
    for (entry, _, piece) in pieces {
        match piece {
            Piece::Objects { objects, events: found, newest: time, listed_kinds, text } => {
                newest = newest.max(time);
                if text {
                    text_objects.extend(objects);
                } else {
                    model.objects.extend(objects);
                }
                events.extend(found);
                model.listed_kinds.extend(listed_kinds);
            }
            Piece::LogChunk(segments) => {
                let Some(file) = log_files.get(&entry) else { continue };
                let list = accumulators
                    .entry(entry)
                    .or_insert_with(|| vec![LogAccumulator::new(file.key.clone(), &file.path)]);
                for segment in segments {
                    if let Some(container) = segment.opens.clone() {
                        let mut key = file.key.clone();
                        key.container = container;
                        list.push(LogAccumulator::new(key, &file.path));
                    }
                    if let Some(current) = list.last_mut() {
                        current.absorb(segment);
                    }
                }
            }
            Piece::NodeHits { lines, hits } => {
                let offset = node_lines.entry(entry).or_default();
                for hit in hits {
                    let rule = &RULES[hit.rule];
                    let problem =
                        node_problems.entry((entry, rule.reason)).or_insert_with(|| NodeProblemAccumulator {
                            condition: rule.condition,
                            ..NodeProblemAccumulator::default()
                        });
                    problem.count += 1;
                    problem.first = problem.first.min(hit.ts).or(problem.first.or(hit.ts));
                    problem.last = problem.last.max(hit.ts);
                    if let Some(text) = hit.text.filter(|_| problem.samples.len() < NODE_PROBLEM_SAMPLES) {
                        problem.samples.push((*offset + hit.line, text, hit.ts));
                    }
                }
                *offset += lines;
            }
            Piece::Metrics { containers: found, nodes: found_nodes, errors } => {
                for (key, sample) in found {
                    containers.entry(key).or_default().push(sample);
                }
                for (node, sample) in found_nodes {
                    nodes.entry(node).or_default().push(sample);
                }
                for error in errors {
                    *metric_errors.entry(error).or_default() += 1;
                }
            }
            Piece::KubeletStats { node, stats } => {
                model.kubelet_stats.insert(node, stats);
            }
            Piece::ServerVersion(version) => model.server_version = Some(version),
            Piece::HelmReleases(releases) => model.helm_releases.get_or_insert_default().extend(releases),
            Piece::TextFields(fields) => {
                for (kind, pointers) in fields {
                    model
                        .text_fields
                        .entry(kind)
                        .or_default()
                        .extend(pointers.into_iter().map(str::to_owned));
                }
            }
            Piece::HostCheck(check) => model.host_checks.push(check),
            Piece::PluginResult(result) => model.plugin_results.push(result),
            Piece::Failures(failures) => model.failures.extend(failures),
            Piece::Problem(problem) => problems.push(problem),
        }
    }

    prefer_documents(&mut model, text_objects);
    model.captured_at = match importer.format() {
        SourceFormat::Native => outcome
            .manifest
            .as_ref()
            .and_then(|manifest| manifest.finished_at.parse().ok())
            .or_else(|| outcome.format.as_ref().and_then(|format| format.started_at.parse().ok()))
            .or_else(|| capture_time(newest)),
        _ => importer.capture_time().or_else(|| capture_time(newest)),
    };
    model.events = dedup_events(events);
    model.node_problems = finish_node_problems(node_problems, &log_files, model.captured_at);
    model.logs = finish_logs(&model, accumulators, &log_files, &mut problems);
    tails::drop_unread(&mut model.logs, &model.objects);
    model.pod_metrics =
        containers.into_iter().map(|(key, samples)| MetricSeries { key, samples: series(samples) }).collect();
    model.node_metrics =
        nodes.into_iter().map(|(node, samples)| NodeSeries { node, samples: series(samples) }).collect();
    for (message, count) in metric_errors {
        model.failures.push(Failure {
            what: "metrics".to_owned(),
            scope: "metrics.k8s.io samples".to_owned(),
            namespace: None,
            kind: FailureKind::Other,
            status: None,
            message: format!("{message} ({count} samples)"),
        });
    }

    let mut gaps = importer.format().gaps();
    // A format that does not carry Secrets can still hold some (`kubectl get secret -o yaml`
    // among kubectl's output): then that is not this bundle's gap.
    if model.listed_kinds.contains("Secret") || model.objects.iter().any(|object| object.kind == "Secret") {
        gaps.retain(|gap| gap.what != kubesnap_shared::import::FormatGap::Secrets.what());
    }
    if let Some(manifest) = &outcome.manifest {
        if model.server_version.is_none() {
            model.server_version.clone_from(&manifest.cluster.version);
        }
        mark_truncated(&mut model.logs, manifest, outcome.native_root.as_deref().unwrap_or(""));
        model.failures.extend(manifest.failures.iter().cloned());
        if !manifest.complete {
            gaps.push(Gap {
                what: "a complete collection".to_owned(),
                why: format!("the collection stopped early: {}", manifest.incomplete_reasons.join("; ")),
            });
        }
    } else if importer.format() == SourceFormat::Native {
        gaps.push(Gap {
            what: "the manifest".to_owned(),
            why: "the bundle ends before manifest.json".to_owned(),
        });
    }
    gaps.extend(failure_gaps(&model.failures));
    gaps.extend(missing_data(&model));
    gaps.extend(text_gaps(&model));
    model.gaps = dedup_gaps(gaps);
    model.manifest = outcome.manifest.clone();
    model.read_problems = read_problems(&outcome, problems);
    model.finish();
    model
}

/// How much later than every clock of the cluster an object may have been created and still
/// count for the capture time: objects made during the collection itself come within seconds.
const CREATED_AFTER_CLOCKS: jiff::SignedDuration = jiff::SignedDuration::from_hours(1);

/// The capture time of a bundle without a manifest: the newest time the cluster wrote (heartbeats,
/// condition transitions, container starts and ends, events, lease renewals) or the newest
/// creation, whichever is later, unless that creation comes more than [`CREATED_AFTER_CLOCKS`]
/// after every such time: then it is an object added to the bundle later (a test fixture's extra
/// files), and the clocks are trusted instead.
pub(super) fn capture_time(times: Times) -> Option<Timestamp> {
    match (times.created, times.observed) {
        (Some(created), Some(observed)) if created > observed + CREATED_AFTER_CLOCKS => Some(observed),
        _ => times.newest(),
    }
}

/// How many lines of each node problem are kept.
const NODE_PROBLEM_SAMPLES: usize = 3;

/// One node problem in one log, while its chunks come in.
#[derive(Debug, Default)]
struct NodeProblemAccumulator {
    condition: Option<&'static str>,
    count: u64,
    first: Option<Ts>,
    last: Option<Ts>,
    /// (line number in the log, text, time).
    samples: Vec<(u64, String, Option<Ts>)>,
}

fn finish_node_problems(
    problems: BTreeMap<(u64, &'static str), NodeProblemAccumulator>,
    files: &BTreeMap<u64, super::pipeline::LogFile>,
    captured_at: Option<Timestamp>,
) -> Vec<NodeProblem> {
    let mut finished: Vec<NodeProblem> = problems
        .into_iter()
        .filter_map(|((entry, reason), problem)| {
            let file = files.get(&entry)?;
            Some(NodeProblem {
                node: file.key.pod.clone(),
                unit: file.key.container.clone(),
                reason: reason.to_owned(),
                condition: problem.condition.map(str::to_owned),
                count: problem.count,
                first: problem.first.and_then(|ts| ts.resolve(captured_at)),
                last: problem.last.and_then(|ts| ts.resolve(captured_at)),
                samples: problem
                    .samples
                    .into_iter()
                    .map(|(line, text, ts)| LogLine {
                        line,
                        text,
                        timestamp: ts.and_then(|ts| ts.resolve(captured_at)),
                    })
                    .collect(),
                path: file.path.clone(),
            })
        })
        .collect();
    finished
        .sort_by(|a, b| (&a.node, &a.unit, &a.reason, &a.path).cmp(&(&b.node, &b.unit, &b.reason, &b.path)));
    finished
}

/// One event per (namespace, name): the newest (highest count, then last seen).
fn dedup_events(events: Vec<Event>) -> Vec<Event> {
    let mut by_name: BTreeMap<(Option<String>, String), Event> = BTreeMap::new();
    for event in events {
        let key = (event.namespace.clone(), event.name.clone());
        match by_name.get(&key) {
            Some(kept) if (kept.count, kept.last_seen) >= (event.count, event.last_seen) => {}
            _ => {
                by_name.insert(key, event);
            }
        }
    }
    by_name.into_values().collect()
}

fn series(mut samples: Vec<MetricSample>) -> Vec<MetricSample> {
    samples.sort_by_key(|sample| sample.at);
    samples.dedup_by(|b, a| a.at == b.at);
    samples
}

fn finish_logs(
    model: &ClusterModel,
    accumulators: BTreeMap<u64, Vec<LogAccumulator>>,
    files: &BTreeMap<u64, super::pipeline::LogFile>,
    problems: &mut Vec<ReadProblem>,
) -> Vec<ContainerLog> {
    // Namespaces of pods by name, for logs whose folder does not say.
    let mut namespaces: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    // And pods by `<namespace>-<pod>`, the name the RKE2 log collector gives their logs.
    let mut joined: BTreeMap<String, (&str, &str)> = BTreeMap::new();
    for pod in model.objects.iter().filter(|object| object.kind == "Pod") {
        let namespace = pod.namespace.as_deref().unwrap_or_default();
        namespaces.entry(pod.name.as_str()).or_default().insert(namespace);
        joined.insert(format!("{namespace}-{}", pod.name), (namespace, pod.name.as_str()));
    }
    let mut placed = Vec::new();
    let mut elsewhere = Vec::new();
    let mut unplaced = Vec::new();
    for (entry, list) in accumulators {
        let Some(file) = files.get(&entry) else { continue };
        for accumulator in list {
            // A cluster-info dump's lines before the first START marker belong to no container.
            if accumulator.key.container.is_empty() && accumulator.lines() == 0 {
                continue;
            }
            let mut log = accumulator.finish(model.captured_at);
            if file.namespace_known {
                placed.push(log);
                continue;
            }
            match namespaces.get(log.key.pod.as_str()).map(|set| set.iter().collect::<Vec<_>>()).as_deref() {
                Some([namespace]) => {
                    log.key.namespace = (**namespace).to_owned();
                    elsewhere.push(log);
                }
                _ => match joined.get(&log.key.pod) {
                    Some((namespace, pod)) => {
                        log.key.namespace = (*namespace).to_owned();
                        log.key.pod = (*pod).to_owned();
                        elsewhere.push(log);
                    }
                    None => unplaced.push(file.path.clone()),
                },
            }
        }
    }
    // A collector's own copy of a log already read from its canonical place is not counted
    // twice (troubleshoot links them; copies that lost the link are plain files).
    let known: BTreeSet<_> = placed.iter().map(|log| log.key.clone()).collect();
    placed.extend(elsewhere.into_iter().filter(|log| !known.contains(&log.key)));
    if !unplaced.is_empty() {
        problems.push(ReadProblem::UnplacedLogs { paths: unplaced });
    }
    name_default_containers(model, &mut placed);
    combine(placed)
}

/// A log of a pod's default container (`kubectl logs POD` without `-c`) is its container's
/// when the pod shows exactly one.
fn name_default_containers(model: &ClusterModel, logs: &mut [ContainerLog]) {
    for log in logs.iter_mut().filter(|log| log.key.container == kubesnap_shared::import::DEFAULT_CONTAINER) {
        // The index is not built yet; only text has such logs, and few.
        let Some(pod) = model.objects.iter().find(|object| {
            object.kind == "Pod"
                && object.name == log.key.pod
                && object.namespace.as_deref() == Some(log.key.namespace.as_str())
        }) else {
            continue;
        };
        let containers = pod.at("/spec/containers").and_then(|containers| containers.as_array());
        if let Some(name) = containers.and_then(|containers| match containers {
            [only] => only.get("name").and_then(|name| name.as_str()),
            _ => None,
        }) {
            log.key.container = name.to_owned();
        }
    }
}

/// Logs the collector cut at its cap, as the manifest says.
fn mark_truncated(logs: &mut [ContainerLog], manifest: &kubesnap_shared::Manifest, root: &str) {
    let truncated: BTreeSet<&str> =
        manifest.files.iter().filter(|file| file.truncated).map(|file| file.path.as_str()).collect();
    for log in logs {
        if strip_root(root, &log.path).is_some_and(|relative| truncated.contains(relative)) {
            log.truncated = true;
        }
    }
}

/// Failures that leave a whole kind out, one gap per resource and reason:
/// `secrets (403 forbidden)`, `pod-disruption-budgets in 9 namespaces (not found)`. A
/// collector's own errors (`collect`) are failures only.
fn failure_gaps(failures: &[Failure]) -> Vec<Gap> {
    let mut grouped: BTreeMap<(String, String), (BTreeSet<String>, bool, String)> = BTreeMap::new();
    for failure in failures {
        let denied = matches!(
            failure.kind,
            FailureKind::Forbidden
                | FailureKind::Unauthorized
                | FailureKind::NotFound
                | FailureKind::Unavailable
                | FailureKind::ServerError
        );
        if !denied || failure.what == "collect" {
            continue;
        }
        let resource = failure.scope.rsplit('/').next().unwrap_or(&failure.scope).to_owned();
        let kind = serde_json::to_value(failure.kind)
            .ok()
            .and_then(|value| value.as_str().map(|text| text.replace('-', " ")))
            .unwrap_or_default();
        let reason = match failure.status {
            Some(status) => format!("{status} {kind}"),
            None => kind,
        };
        let entry = grouped
            .entry((resource, reason))
            .or_insert_with(|| (BTreeSet::new(), false, failure.message.clone()));
        match &failure.namespace {
            Some(namespace) => {
                entry.0.insert(namespace.clone());
            }
            None => entry.1 = true,
        }
    }
    grouped
        .into_iter()
        .map(|((resource, reason), (namespaces, cluster_wide, why))| {
            let what = match namespaces.len() {
                _ if cluster_wide || namespaces.is_empty() => format!("{resource} ({reason})"),
                1 => format!(
                    "{resource} in {} ({reason})",
                    namespaces.iter().next().map_or("", String::as_str)
                ),
                n => format!("{resource} in {n} namespaces ({reason})"),
            };
            Gap { what, why }
        })
        .collect()
}

/// What this bundle lacks whatever its format says it may hold.
fn missing_data(model: &ClusterModel) -> Vec<Gap> {
    let gap = |what: &str, why: &str| Gap { what: what.to_owned(), why: why.to_owned() };
    let mut gaps = Vec::new();
    if model.logs.iter().all(|log| log.key.namespace == kubesnap_shared::model::NODE_LOG_NAMESPACE) {
        gaps.push(gap("container logs", "the bundle holds no container log"));
    } else if !model.logs.iter().any(|log| log.key.previous) {
        gaps.push(gap("previous container logs", "the bundle holds no log of a previous container run"));
    }
    if model.events.is_empty() {
        gaps.push(gap("events", "the bundle holds no Event"));
    }
    if model.pod_metrics.is_empty() {
        gaps.push(gap("pod metrics over time", "the bundle holds no pod metrics sample"));
    }
    if model.node_metrics.is_empty() {
        gaps.push(gap("node metrics over time", "the bundle holds no node metrics sample"));
    }
    if model.kubelet_stats.is_empty() {
        gaps.push(gap("kubelet stats (volume usage)", "the bundle holds no kubelet /stats/summary"));
    }
    if model.server_version.is_none() {
        gaps.push(gap("the server version", "the bundle does not say which Kubernetes version it came from"));
    }
    gaps
}

/// Adds the objects read from kubectl text, except those also printed whole (`-o yaml` beside a
/// `get` table): a row says less than its object's document, so the document is kept. A kind
/// stays marked as read from text (its diagnostics limited to the fields text shows) while one
/// of its objects comes from text alone, or when no document of it was read at all.
fn prefer_documents(model: &mut ClusterModel, text_objects: Vec<kubesnap_shared::model::Object>) {
    // Every format but kubectl text has no text object: nothing to index.
    if text_objects.is_empty() {
        return;
    }
    if model.objects.is_empty() {
        model.objects = text_objects;
        return;
    }
    let whole: BTreeSet<(&str, Option<&str>, &str)> = model
        .objects
        .iter()
        .map(|object| (&*object.kind, object.namespace.as_deref(), &*object.name))
        .collect();
    let mut text_only: BTreeSet<String> = BTreeSet::new();
    let text_objects: Vec<_> = text_objects
        .into_iter()
        .filter(|object| !whole.contains(&(&*object.kind, object.namespace.as_deref(), &*object.name)))
        .inspect(|object| {
            text_only.insert(object.kind.clone());
        })
        .collect();
    let whole_kinds: BTreeSet<String> = whole.iter().map(|(kind, _, _)| (*kind).to_owned()).collect();
    model.text_fields.retain(|kind, _| text_only.contains(kind) || !whole_kinds.contains(kind));
    model.objects.extend(text_objects);
}

/// Kinds read from kubectl text: everything but the fields the text showed is missing.
fn text_gaps(model: &ClusterModel) -> Vec<Gap> {
    model
        .text_fields
        .iter()
        .map(|(kind, fields)| Gap {
            what: format!("{kind} fields other than those kubectl text shows"),
            why: format!(
                "{kind} objects were read from kubectl text, which shows only {}",
                fields.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
            ),
        })
        .collect()
}

/// One gap per `what`, the first reason given.
fn dedup_gaps(gaps: Vec<Gap>) -> Vec<Gap> {
    let mut seen = BTreeSet::new();
    gaps.into_iter().filter(|gap| seen.insert(gap.what.clone())).collect()
}

fn read_problems(outcome: &kubesnap_shared::ReadOutcome, mut problems: Vec<ReadProblem>) -> Vec<ReadProblem> {
    let mut all: Vec<ReadProblem> = outcome
        .rejected
        .iter()
        .map(|rejection| ReadProblem::Refused {
            entry: rejection.entry.clone(),
            reason: rejection.reason.clone(),
        })
        .collect();
    all.extend(
        outcome.stream_error.as_ref().map(|error| ReadProblem::StreamEnded { error: error_chain(error) }),
    );
    all.extend(
        outcome.manifest_error.as_ref().map(|error| ReadProblem::Manifest { error: error_chain(error) }),
    );
    all.extend(outcome.checksum_problems.iter().cloned().map(ReadProblem::Checksum));
    // In the order of their words, as the report lists them.
    problems.sort_by_cached_key(ToString::to_string);
    all.append(&mut problems);
    all
}

#[cfg(test)]
mod tests {
    use kubesnap_shared::layout;

    use super::*;

    fn at(text: &str) -> Option<Timestamp> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn a_creation_long_after_every_clock_does_not_set_the_capture_time() {
        // ConfigMaps added to a bundle two years after its capture.
        let times = Times { created: at("2024-02-17T06:16:47Z"), observed: at("2022-04-12T00:59:01Z") };
        assert_eq!(capture_time(times), at("2022-04-12T00:59:01Z"));
        // A pod made by the collection itself, a minute after the last heartbeat, counts.
        let times = Times { created: at("2022-12-21T16:43:07Z"), observed: at("2022-12-21T16:41:53Z") };
        assert_eq!(capture_time(times), at("2022-12-21T16:43:07Z"));
        // Without observed times, the creation is all there is.
        assert_eq!(
            capture_time(Times { created: at("2022-12-21T16:43:07Z"), observed: None }),
            at("2022-12-21T16:43:07Z")
        );
        assert_eq!(capture_time(Times::default()), None);
    }

    /// A native bundle holding `files` (path, content), loaded.
    fn loaded_with(dir: &std::path::Path, files: &[(&str, &str)]) -> ClusterModel {
        use kubesnap_shared::manifest::{ClusterInfo, Tool};
        use kubesnap_shared::writer::{BundleHeader, BundleWriter};
        let path = dir.join("bundle.tar.gz");
        let header = BundleHeader {
            root: "kubesnap-helm".to_owned(),
            tool: Tool { name: "kubesnap-collect".to_owned(), version: "0.1.0".to_owned() },
            cluster: ClusterInfo::default(),
            options: std::collections::BTreeMap::new(),
            started_at: "2025-06-01T12:00:00Z".parse().unwrap(),
            compression: 1,
        };
        let mut writer = BundleWriter::new(std::fs::File::create(&path).unwrap(), header).unwrap();
        for (entry, text) in files {
            writer.add(entry, text.as_bytes()).unwrap();
        }
        writer.finish().unwrap();
        crate::load::load(&path, &crate::load::LoadOptions::default()).unwrap()
    }

    #[test]
    fn helm_history_is_read_sorted_and_its_absence_is_none() {
        let releases = r#"{"releases": [
            {"name": "shop", "namespace": "web", "revision": 2, "status": "failed", "storage": "secret",
             "object": "sh.helm.release.v1.shop.v2", "last_deployed": "2025-06-01T11:00:00.5Z"},
            {"name": "shop", "namespace": "web", "revision": 1, "status": "deployed", "storage": "secret",
             "object": "sh.helm.release.v1.shop.v1"}]}"#;
        let dir = tempfile::tempdir().unwrap();
        let model = loaded_with(dir.path(), &[(layout::HELM_RELEASES, releases)]);
        let revisions: Vec<(u64, &str)> = model
            .helm_releases
            .iter()
            .flatten()
            .map(|release| (release.revision, release.status.as_str()))
            .collect();
        assert_eq!(revisions, [(1, "deployed"), (2, "failed")]);
        // Collected with no release: known to be none.
        let dir = tempfile::tempdir().unwrap();
        let model = loaded_with(dir.path(), &[(layout::HELM_RELEASES, r#"{"releases": []}"#)]);
        assert_eq!(model.helm_releases, Some(Vec::new()));
        // Not collected.
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(loaded_with(dir.path(), &[]).helm_releases, None);
        // Not the documented shape: a read problem, and no history.
        let dir = tempfile::tempdir().unwrap();
        let model = loaded_with(dir.path(), &[(layout::HELM_RELEASES, r#"{"releases": [{"name": 1}]}"#)]);
        assert_eq!(model.helm_releases, None);
        assert!(
            model.read_problems.iter().any(|problem| problem.to_string().contains(layout::HELM_RELEASES)),
            "{:?}",
            model.read_problems
        );
    }
}
