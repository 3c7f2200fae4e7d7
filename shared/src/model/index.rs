//! Indexes over the sorted object list (by kind, identity, owner, node) and over the events
//! (by the object they are about), so that diagnostics asking per object stay linear in the
//! size of the cluster.

use std::collections::HashMap;

use super::event::Event;
use super::object::Object;

/// Positions into `ClusterModel::objects`, built once after loading.
#[derive(Debug, Default)]
pub struct Index {
    by_kind: HashMap<String, Vec<usize>>,
    by_identity: HashMap<(String, Option<String>, String), usize>,
    by_owner: HashMap<String, Vec<usize>>,
    by_node: HashMap<String, Vec<usize>>,
    /// Positions into `ClusterModel::events`, by (kind, namespace, name) of the involved object.
    events_by_object: HashMap<(String, Option<String>, String), Vec<usize>>,
}

impl Index {
    pub(crate) fn build(objects: &[Object]) -> Index {
        let mut index = Index::default();
        for (position, object) in objects.iter().enumerate() {
            let kind = object.index_kind().into_owned();
            index.by_kind.entry(kind.clone()).or_default().push(position);
            index.by_identity.insert((kind, object.namespace.clone(), object.name.clone()), position);
            for (_, _, uid) in object.owners() {
                if !uid.is_empty() {
                    index.by_owner.entry(uid.to_owned()).or_default().push(position);
                }
            }
            if object.kind == "Pod"
                && let Some(node) = object.str_at("/spec/nodeName")
            {
                index.by_node.entry(node.to_owned()).or_default().push(position);
            }
        }
        index
    }

    /// Indexes the events (already in their final order) by the object they are about.
    pub(crate) fn index_events(&mut self, events: &[Event]) {
        self.events_by_object.clear();
        for (position, event) in events.iter().enumerate() {
            let involved = &event.involved;
            self.events_by_object
                .entry((involved.kind.clone(), involved.namespace.clone(), involved.name.clone()))
                .or_default()
                .push(position);
        }
    }

    pub(crate) fn events_about(&self, kind: &str, namespace: Option<&str>, name: &str) -> &[usize] {
        self.events_by_object
            .get(&(kind.to_owned(), namespace.map(str::to_owned), name.to_owned()))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    pub(crate) fn of_kind(&self, kind: &str) -> &[usize] {
        self.by_kind.get(kind).map(Vec::as_slice).unwrap_or_default()
    }

    pub(crate) fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<usize> {
        self.by_identity.get(&(kind.to_owned(), namespace.map(str::to_owned), name.to_owned())).copied()
    }

    pub(crate) fn owned_by(&self, uid: &str) -> &[usize] {
        self.by_owner.get(uid).map(Vec::as_slice).unwrap_or_default()
    }

    pub(crate) fn pods_on_node(&self, node: &str) -> &[usize] {
        self.by_node.get(node).map(Vec::as_slice).unwrap_or_default()
    }
}
