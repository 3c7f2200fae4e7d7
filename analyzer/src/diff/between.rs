//! What happened between the two captures: rollouts (ReplicaSets of Deployments and
//! ControllerRevisions of StatefulSets and DaemonSets created in between, with the images
//! before and after), Helm revisions made in between (from the later bundle's
//! `helm/releases.json`), node changes, and events first seen in between.
//!
//! The window is from the earlier capture to the later one, whichever bundle is OLD, so that
//! swapping the bundles gives the same story; the node changes follow OLD → NEW like the rest.

use jiff::Timestamp;
use kubesnap_shared::model::{ClusterModel, Object, ObjectRef};
use serde::Serialize;

use kubesnap_shared::helm::HelmRelease;

use crate::facts::releases;
use crate::facts::workload::containers;

/// The span between two captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub from: Timestamp,
    pub to: Timestamp,
}

/// One container's image in a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageChange {
    pub container: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A revision of a workload created in the window: a Deployment's ReplicaSet, or a
/// StatefulSet's or DaemonSet's ControllerRevision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rollout {
    pub at: Timestamp,
    pub workload: ObjectRef,
    /// The ReplicaSet or ControllerRevision that holds the new revision.
    pub revision_object: ObjectRef,
    /// `deployment.kubernetes.io/revision` of the new ReplicaSet, or the ControllerRevision's
    /// `revision`.
    pub revision: Option<String>,
    /// The containers whose image differs from the previous revision's.
    pub images: Vec<ImageChange>,
}

/// A Helm release revision made in the window (or, when the earlier bundle holds no Helm
/// history, one deployed in the window).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HelmRevision {
    /// When it was deployed; `None` when Helm recorded no time.
    pub at: Option<Timestamp>,
    pub namespace: String,
    pub release: String,
    pub revision: u64,
    /// As the later bundle records it (`deployed`, `superseded`, `failed`, …).
    pub status: String,
    /// `chart shop 0.1.0, app 1.0.0`, or empty.
    pub chart: String,
    /// Helm's description (`Upgrade complete`, or the error of a failed upgrade).
    pub description: Option<String>,
    /// The Secret or ConfigMap Helm keeps the revision in.
    pub record: ObjectRef,
}

impl HelmRevision {
    /// `web/shop revision 3 (chart shop 0.1.0, app 1.0.0): failed: Upgrade "shop" failed: …`.
    pub fn describe(&self) -> String {
        let chart = if self.chart.is_empty() { String::new() } else { format!(" ({})", self.chart) };
        let mut text =
            format!("{}/{} revision {}{chart}: {}", self.namespace, self.release, self.revision, self.status);
        if let Some(description) = &self.description {
            text.push_str(&format!(": {description}"));
        }
        text
    }
}

/// What changed about a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeChangeKind {
    Added,
    Removed,
    /// `spec.unschedulable`: cordoned or uncordoned.
    Schedulable,
    /// The kubelet's version.
    KubeletVersion,
    /// The Ready condition's status.
    Ready,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NodeChange {
    pub node: String,
    pub change: NodeChangeKind,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl NodeChange {
    /// In a sentence: `cordoned`, `kubelet v1.33.1 → v1.33.2`.
    pub fn describe(&self) -> String {
        let value = |side: &Option<String>| side.clone().unwrap_or_else(|| "none".to_owned());
        match self.change {
            NodeChangeKind::Added => "added".to_owned(),
            NodeChangeKind::Removed => "removed".to_owned(),
            NodeChangeKind::Schedulable if self.new.as_deref() == Some("true") => "cordoned".to_owned(),
            NodeChangeKind::Schedulable => "uncordoned".to_owned(),
            NodeChangeKind::KubeletVersion => format!("kubelet {} → {}", value(&self.old), value(&self.new)),
            NodeChangeKind::Ready => format!("Ready {} → {}", value(&self.old), value(&self.new)),
        }
    }

    fn mirror(&self) -> NodeChange {
        let change = match self.change {
            NodeChangeKind::Added => NodeChangeKind::Removed,
            NodeChangeKind::Removed => NodeChangeKind::Added,
            other => other,
        };
        NodeChange { node: self.node.clone(), change, old: self.new.clone(), new: self.old.clone() }
    }
}

/// An event whose first occurrence is in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventSeen {
    pub first_seen: Timestamp,
    pub object: ObjectRef,
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub kind: String,
    pub reason: String,
    pub message: String,
    pub count: u64,
}

/// What happened between the captures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Between {
    /// `None` when a bundle has no capture time.
    pub window: Option<Window>,
    pub rollouts: Vec<Rollout>,
    pub helm: Vec<HelmRevision>,
    pub nodes: Vec<NodeChange>,
    pub events: Vec<EventSeen>,
}

impl Between {
    pub fn is_empty(&self) -> bool {
        self.rollouts.is_empty() && self.helm.is_empty() && self.nodes.is_empty() && self.events.is_empty()
    }

    pub(crate) fn mirror(&self) -> Between {
        Between { nodes: self.nodes.iter().map(NodeChange::mirror).collect(), ..self.clone() }
    }
}

/// What happened between two captures.
pub(crate) fn compare(old: &ClusterModel, new: &ClusterModel) -> Between {
    let mut between = Between { nodes: nodes(old, new), ..Between::default() };
    let (Some(a), Some(b)) = (old.captured_at, new.captured_at) else { return between };
    let (earlier, later, window) =
        if a <= b { (old, new, Window { from: a, to: b }) } else { (new, old, Window { from: b, to: a }) };
    between.window = Some(window);
    // Kubernetes truncates its times to the second, and a native capture's end is rounded to it
    // (so it may lie up to half a second after the capture really ended): something created in
    // the second before the earlier capture's end, or in that second, is in the window. Only what
    // the earlier bundle does not show is looked at, so it was made after that bundle listed it.
    let inside = |at: Timestamp| at.as_second() + 1 >= window.from.as_second() && at <= window.to;
    between.rollouts = later
        .of_kind("ReplicaSet")
        .filter(|replica_set| {
            earlier.get("ReplicaSet", replica_set.namespace.as_deref(), &replica_set.name).is_none()
        })
        .filter_map(|replica_set| {
            let at = replica_set.created_at().filter(|at| inside(*at))?;
            rollout(earlier, later, replica_set, at)
        })
        .collect();
    between.rollouts.extend(
        later
            .of_kind("ControllerRevision")
            .filter(|revision| {
                earlier.get("ControllerRevision", revision.namespace.as_deref(), &revision.name).is_none()
            })
            .filter_map(|revision| {
                let at = revision.created_at().filter(|at| inside(*at))?;
                controller_revision(earlier, later, revision, at)
            }),
    );
    between.rollouts.sort_by(|a, b| {
        (a.at, &a.workload, &a.revision_object).cmp(&(b.at, &b.workload, &b.revision_object))
    });
    between.helm = helm(earlier, later, &inside);
    between.events = later
        .events
        .iter()
        .filter(|event| {
            !earlier.events.iter().any(|seen| seen.namespace == event.namespace && seen.name == event.name)
        })
        .filter_map(|event| {
            let first_seen = event.first_seen.filter(|at| inside(*at))?;
            Some(EventSeen {
                first_seen,
                object: event.involved.clone(),
                kind: event.kind.clone(),
                reason: event.reason.clone(),
                message: event.message.clone(),
                count: event.count,
            })
        })
        .collect();
    between.events.sort_by(|a, b| {
        (a.first_seen, &a.object, &a.reason, &a.message).cmp(&(
            b.first_seen,
            &b.object,
            &b.reason,
            &b.message,
        ))
    });
    between
}

/// The Helm revisions of the later bundle the earlier one does not hold, deployed in the window
/// (or at an unknown time when the earlier bundle has Helm history to compare with).
fn helm(
    earlier: &ClusterModel,
    later: &ClusterModel,
    inside: &dyn Fn(Timestamp) -> bool,
) -> Vec<HelmRevision> {
    let known = |release: &HelmRelease| {
        earlier.helm_releases.iter().flatten().any(|seen| {
            (&seen.namespace, &seen.name, seen.revision)
                == (&release.namespace, &release.name, release.revision)
        })
    };
    let mut out: Vec<HelmRevision> = later
        .helm_releases
        .iter()
        .flatten()
        .filter(|release| !known(release))
        .filter_map(|release| {
            let at = releases::deployed_at(release);
            let when = match at {
                Some(at) => inside(at),
                None => earlier.helm_releases.is_some(),
            };
            when.then(|| HelmRevision {
                at,
                namespace: release.namespace.clone(),
                release: release.name.clone(),
                revision: release.revision,
                status: release.status.clone(),
                chart: releases::chart_phrase(release),
                description: release.description.clone(),
                record: releases::record(release),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (a.at, &a.namespace, &a.release, a.revision).cmp(&(b.at, &b.namespace, &b.release, b.revision))
    });
    out
}

/// The containers' images of a pod template (`spec` is the template's pod spec).
fn template_images(spec: Option<&kubesnap_shared::json::Value>) -> Vec<(String, String)> {
    let Some(spec) = spec else { return Vec::new() };
    containers(spec, "")
        .into_iter()
        .filter_map(|(container, _)| {
            Some((container.get("name")?.as_str()?.to_owned(), container.get("image")?.as_str()?.to_owned()))
        })
        .collect()
}

fn images(replica_set: &Object) -> Vec<(String, String)> {
    template_images(replica_set.at("/spec/template/spec"))
}

fn revision(replica_set: &Object) -> Option<u64> {
    replica_set.annotations().get("deployment.kubernetes.io/revision")?.parse().ok()
}

fn rollout(
    earlier: &ClusterModel,
    later: &ClusterModel,
    replica_set: &Object,
    at: Timestamp,
) -> Option<Rollout> {
    let (_, deployment, _) = replica_set.owners().into_iter().find(|(kind, _, _)| *kind == "Deployment")?;
    let namespace = replica_set.namespace.as_deref()?;
    let this = revision(replica_set);
    let owned = |model: &ClusterModel| -> Vec<Object> {
        model
            .of_kind_in("ReplicaSet", namespace)
            .filter(|other| {
                other.owners().iter().any(|(kind, name, _)| *kind == "Deployment" && *name == deployment)
            })
            .filter(|other| other.name != replica_set.name)
            .cloned()
            .collect()
    };
    // The previous revision: the newest older ReplicaSet of the Deployment, in either bundle.
    let mut previous: Vec<Object> = owned(later);
    previous.extend(owned(earlier));
    let previous = previous
        .into_iter()
        .filter(|other| match (revision(other), this) {
            (Some(theirs), Some(ours)) => theirs < ours,
            _ => other.created_at() < replica_set.created_at(),
        })
        .max_by_key(|other| (revision(other), other.created_at()));
    let after = images(replica_set);
    let before = previous.as_ref().map(images).unwrap_or_default();
    Some(Rollout {
        at,
        workload: ObjectRef {
            kind: "Deployment".to_owned(),
            namespace: replica_set.namespace.clone(),
            name: deployment.to_owned(),
        },
        revision_object: replica_set.reference(),
        revision: this.map(|revision| revision.to_string()),
        images: image_changes(&before, &after),
    })
}

/// A ControllerRevision of a StatefulSet or DaemonSet, against the workload's previous one in
/// either bundle. Its `data` holds the pod template the revision applied.
fn controller_revision(
    earlier: &ClusterModel,
    later: &ClusterModel,
    revision: &Object,
    at: Timestamp,
) -> Option<Rollout> {
    let (kind, workload, _) =
        revision.owners().into_iter().find(|(kind, _, _)| matches!(*kind, "StatefulSet" | "DaemonSet"))?;
    let namespace = revision.namespace.as_deref()?;
    let number = |object: &Object| object.i64_at("/revision");
    let this = number(revision);
    let owned = |model: &ClusterModel| -> Vec<Object> {
        model
            .of_kind_in("ControllerRevision", namespace)
            .filter(|other| other.owners().iter().any(|(k, name, _)| *k == kind && *name == workload))
            .filter(|other| other.name != revision.name)
            .cloned()
            .collect()
    };
    let mut previous = owned(later);
    previous.extend(owned(earlier));
    let previous = previous
        .into_iter()
        .filter(|other| match (number(other), this) {
            (Some(theirs), Some(ours)) => theirs < ours,
            _ => other.created_at() < revision.created_at(),
        })
        .max_by_key(|other| (number(other), other.created_at()));
    let images = |object: &Object| template_images(object.at("/data/spec/template/spec"));
    let before = previous.as_ref().map(images).unwrap_or_default();
    Some(Rollout {
        at,
        workload: ObjectRef {
            kind: kind.to_owned(),
            namespace: Some(namespace.to_owned()),
            name: workload.to_owned(),
        },
        revision_object: revision.reference(),
        revision: this.map(|number| number.to_string()),
        images: image_changes(&before, &images(revision)),
    })
}

/// The containers whose image differs between two revisions' templates.
fn image_changes(before: &[(String, String)], after: &[(String, String)]) -> Vec<ImageChange> {
    let mut changes: Vec<ImageChange> = after
        .iter()
        .filter(|(container, image)| {
            before.iter().find(|(name, _)| name == container).map(|(_, old)| old) != Some(image)
        })
        .map(|(container, image)| ImageChange {
            container: container.clone(),
            before: before.iter().find(|(name, _)| name == container).map(|(_, old)| old.clone()),
            after: Some(image.clone()),
        })
        .collect();
    changes.extend(
        before.iter().filter(|(container, _)| !after.iter().any(|(name, _)| name == container)).map(
            |(container, image)| ImageChange {
                container: container.clone(),
                before: Some(image.clone()),
                after: None,
            },
        ),
    );
    changes
}

/// Nodes added, removed, cordoned or uncordoned, upgraded, or changed readiness, OLD → NEW.
fn nodes(old: &ClusterModel, new: &ClusterModel) -> Vec<NodeChange> {
    let mut out = Vec::new();
    let change = |node: &str, change, old: Option<String>, new: Option<String>| NodeChange {
        node: node.to_owned(),
        change,
        old,
        new,
    };
    for node in old.of_kind("Node") {
        if new.get("Node", None, &node.name).is_none() {
            out.push(change(&node.name, NodeChangeKind::Removed, None, None));
        }
    }
    for node in new.of_kind("Node") {
        let Some(before) = old.get("Node", None, &node.name) else {
            out.push(change(&node.name, NodeChangeKind::Added, None, None));
            continue;
        };
        let cordoned = |node: &Object| {
            node.at("/spec/unschedulable").and_then(|v| v.as_bool()).unwrap_or(false).to_string()
        };
        if cordoned(before) != cordoned(node) {
            out.push(change(
                &node.name,
                NodeChangeKind::Schedulable,
                Some(cordoned(before)),
                Some(cordoned(node)),
            ));
        }
        let version = |node: &Object| node.str_at("/status/nodeInfo/kubeletVersion").map(str::to_owned);
        if version(before) != version(node) {
            out.push(change(&node.name, NodeChangeKind::KubeletVersion, version(before), version(node)));
        }
        let ready = |node: &Object| node.condition("Ready").map(|(status, _, _)| status.to_owned());
        if ready(before) != ready(node) {
            out.push(change(&node.name, NodeChangeKind::Ready, ready(before), ready(node)));
        }
    }
    out.sort();
    out
}
