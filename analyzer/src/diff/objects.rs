//! Objects added, removed and changed between two bundles, matched by kind, namespace and name.
//!
//! What people change (a Deployment, a ConfigMap, a Service, a Node) is listed object by
//! object. What controllers make from it (ReplicaSets, pods, EndpointSlices, ControllerRevisions:
//! anything with a controller owner, and Endpoints of a Service) is rolled up under the object at
//! the top of its owner chain, so a scaled Deployment is one change with "2 pods added" under it,
//! not a page of pods.

use std::collections::{BTreeMap, BTreeSet};

use kubesnap_shared::model::{ClusterModel, Object, ObjectRef};
use serde::Serialize;

use super::fields::{self, FieldChange};

/// Kinds that are bookkeeping or samples, not state: never diffed. Events are read as what
/// happened in between instead.
const SKIPPED_KINDS: &[&str] = &["Event", "Lease", "PodMetrics", "NodeMetrics"];

/// How deep an owner chain is followed (a pod's is Pod → ReplicaSet → Deployment).
const MAX_OWNER_DEPTH: usize = 8;

/// One object, as the diff names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectEntry {
    pub object: ObjectRef,
    pub api_version: String,
}

/// An object in both bundles whose fields differ.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ChangedObject {
    pub object: ObjectRef,
    pub api_version: String,
    /// Deleted and created again under the same name between the two captures (its uid changed).
    pub recreated: bool,
    /// Every field that differs, churn left out, in path order.
    pub changes: Vec<FieldChange>,
}

/// What controllers made, removed or changed under one object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Derived {
    /// The top of the owner chain (a Deployment for its pods, a Service for its EndpointSlices).
    pub owner: ObjectRef,
    pub added: Vec<ObjectEntry>,
    pub removed: Vec<ObjectEntry>,
    pub changed: Vec<ChangedObject>,
}

/// The object part of a diff.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ObjectsDiff {
    pub added: Vec<ObjectEntry>,
    pub removed: Vec<ObjectEntry>,
    pub changed: Vec<ChangedObject>,
    /// By owner, in owner order.
    pub derived: Vec<Derived>,
}

impl ObjectsDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty() && self.derived.is_empty()
    }

    pub(crate) fn mirror(&self) -> ObjectsDiff {
        ObjectsDiff {
            added: self.removed.clone(),
            removed: self.added.clone(),
            changed: self.changed.iter().map(ChangedObject::mirror).collect(),
            derived: self
                .derived
                .iter()
                .map(|derived| Derived {
                    owner: derived.owner.clone(),
                    added: derived.removed.clone(),
                    removed: derived.added.clone(),
                    changed: derived.changed.iter().map(ChangedObject::mirror).collect(),
                })
                .collect(),
        }
    }
}

impl ChangedObject {
    fn mirror(&self) -> ChangedObject {
        ChangedObject { changes: self.changes.iter().map(FieldChange::mirror).collect(), ..self.clone() }
    }
}

type Key = (String, Option<String>, String);

fn key(object: &Object) -> Key {
    (object.index_kind().into_owned(), object.namespace.clone(), object.name.clone())
}

fn entry(object: &Object) -> ObjectEntry {
    ObjectEntry { object: object.reference(), api_version: object.api_version.clone() }
}

/// Compares the objects of two models, but for the kinds in `unseen` (those only one bundle
/// shows: the other's format does not hold them).
pub(crate) fn compare(old: &ClusterModel, new: &ClusterModel, unseen: &BTreeSet<String>) -> ObjectsDiff {
    let index = |model: &'_ ClusterModel| -> BTreeMap<Key, usize> {
        model
            .objects
            .iter()
            .enumerate()
            .filter(|(_, object)| !SKIPPED_KINDS.contains(&object.kind.as_str()))
            .filter(|(_, object)| !unseen.contains(object.index_kind().as_ref()))
            .map(|(position, object)| (key(object), position))
            .collect()
    };
    let (before, after) = (index(old), index(new));
    let mut diff = ObjectsDiff::default();
    let mut derived: BTreeMap<ObjectRef, Derived> = BTreeMap::new();
    let mut rolled: Vec<(ObjectRef, Rolled)> = Vec::new();
    for (key, &position) in &before {
        let object = &old.objects[position];
        match after.get(key) {
            None => match top_owner(old, object) {
                Some(owner) => rolled.push((owner, Rolled::Removed(entry(object)))),
                None => diff.removed.push(entry(object)),
            },
            Some(&other) => {
                let newer = &new.objects[other];
                let Some(changed) = changed(object, newer) else { continue };
                match top_owner(new, newer).or_else(|| top_owner(old, object)) {
                    Some(owner) => rolled.push((owner, Rolled::Changed(changed))),
                    None => diff.changed.push(changed),
                }
            }
        }
    }
    for (key, &position) in &after {
        if before.contains_key(key) {
            continue;
        }
        let object = &new.objects[position];
        match top_owner(new, object) {
            Some(owner) => rolled.push((owner, Rolled::Added(entry(object)))),
            None => diff.added.push(entry(object)),
        }
    }
    for (owner, item) in rolled {
        let group = derived.entry(owner.clone()).or_insert_with(|| Derived {
            owner,
            added: Vec::new(),
            removed: Vec::new(),
            changed: Vec::new(),
        });
        match item {
            Rolled::Added(entry) => group.added.push(entry),
            Rolled::Removed(entry) => group.removed.push(entry),
            Rolled::Changed(changed) => group.changed.push(changed),
        }
    }
    diff.derived = derived.into_values().collect();
    for group in &mut diff.derived {
        group.added.sort();
        group.removed.sort();
        group.changed.sort();
    }
    diff.added.sort();
    diff.removed.sort();
    diff.changed.sort();
    diff
}

enum Rolled {
    Added(ObjectEntry),
    Removed(ObjectEntry),
    Changed(ChangedObject),
}

/// The change of one object between two bundles, or `None` when only churn differs.
fn changed(old: &Object, new: &Object) -> Option<ChangedObject> {
    if old.raw == new.raw {
        return None;
    }
    let recreated = matches!((old.uid(), new.uid()), (Some(a), Some(b)) if a != b);
    let changes = fields::diff(&old.raw, &new.raw, old.kind == "Secret");
    (recreated || !changes.is_empty()).then(|| ChangedObject {
        object: new.reference(),
        api_version: new.api_version.clone(),
        recreated,
        changes,
    })
}

/// The object at the top of `object`'s owner chain, or `None` when nothing owns it. Endpoints
/// belong to the Service of their name, EndpointSlices to the one their label names, an
/// IPAddress to the Service whose cluster IP it is.
pub(crate) fn top_owner(model: &ClusterModel, object: &Object) -> Option<ObjectRef> {
    let mut current = owner_of(model, object)?;
    for _ in 0..MAX_OWNER_DEPTH {
        let found = model
            .get(&current.kind, current.namespace.as_deref(), &current.name)
            .or_else(|| model.get(&current.kind, None, &current.name));
        let Some(found) = found else { return Some(current) };
        match owner_of(model, found) {
            Some(next) if next != current => current = next,
            _ => return Some(found.reference()),
        }
    }
    Some(current)
}

fn owner_of(model: &ClusterModel, object: &Object) -> Option<ObjectRef> {
    let service = |name: &str| ObjectRef {
        kind: "Service".to_owned(),
        namespace: object.namespace.clone(),
        name: name.to_owned(),
    };
    if object.kind == "Endpoints" {
        return Some(service(&object.name));
    }
    // An IPAddress (networking.k8s.io) is the allocation of a Service's cluster IP.
    if object.kind == "IPAddress"
        && object.str_at("/spec/parentRef/resource") == Some("services")
        && let Some(name) = object.str_at("/spec/parentRef/name")
    {
        return Some(ObjectRef {
            kind: "Service".to_owned(),
            namespace: object.str_at("/spec/parentRef/namespace").map(str::to_owned),
            name: name.to_owned(),
        });
    }
    if object.kind == "EndpointSlice"
        && let Some(name) = object.labels().get("kubernetes.io/service-name")
    {
        return Some(service(name));
    }
    let references = object.array_at("/metadata/ownerReferences");
    let chosen = references
        .iter()
        .find(|reference| reference.get("controller").and_then(|value| value.as_bool()) == Some(true))
        .or_else(|| references.first())?;
    let kind = chosen.get("kind")?.as_str()?.to_owned();
    let name = chosen.get("name")?.as_str()?.to_owned();
    // An owner is in the object's namespace, or cluster-scoped (a Node owns mirror pods).
    let namespace = match model.get(&kind, None, &name) {
        Some(_)
            if object.namespace.is_some()
                && model.get(&kind, object.namespace.as_deref(), &name).is_none() =>
        {
            None
        }
        _ if matches!(kind.as_str(), "Node" | "Namespace" | "PersistentVolume") => None,
        _ => object.namespace.clone(),
    };
    Some(ObjectRef { kind, namespace, name })
}
