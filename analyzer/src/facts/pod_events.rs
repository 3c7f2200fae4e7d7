//! Events about pods, indexed once per diagnostic: looking a pod's events up by scanning every
//! event would cost pods × events on a 10,000-pod bundle.

use std::collections::HashMap;

use kubesnap_shared::model::{ClusterModel, Event, Object};

/// The events of some reasons about pods, by (namespace, pod), oldest first.
#[derive(Debug, Default)]
pub(crate) struct PodEvents<'a> {
    /// Namespace, then pod name: nested so lookups borrow rather than allocate.
    by_pod: HashMap<&'a str, HashMap<&'a str, Vec<&'a Event>>>,
}

impl<'a> PodEvents<'a> {
    /// Indexes the pod events whose reason is one of `reasons`.
    pub(crate) fn new(model: &'a ClusterModel, reasons: &[&str]) -> PodEvents<'a> {
        let mut by_pod: HashMap<&str, HashMap<&str, Vec<&Event>>> = HashMap::new();
        for event in &model.events {
            if event.involved.kind == "Pod" && reasons.contains(&event.reason.as_str()) {
                let namespace = event.involved.namespace.as_deref().unwrap_or_default();
                by_pod
                    .entry(namespace)
                    .or_default()
                    .entry(event.involved.name.as_str())
                    .or_default()
                    .push(event);
            }
        }
        PodEvents { by_pod }
    }

    /// The pod's indexed events, oldest first (the model sorts events by last seen).
    pub(crate) fn of(&self, pod: &Object) -> &[&'a Event] {
        let namespace = pod.namespace.as_deref().unwrap_or_default();
        self.by_pod
            .get(namespace)
            .and_then(|pods| pods.get(pod.name.as_str()))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The pod's most recent indexed event.
    pub(crate) fn last(&self, pod: &Object) -> Option<&'a Event> {
        self.of(pod).last().copied()
    }
}
