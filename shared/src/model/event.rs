//! Events in one shape, whether they came as core/v1 or events.k8s.io/v1, from a list or the
//! watch that ran during collection.

use crate::json::Value;

use super::object::{Object, ObjectRef};

/// One event, normalized.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Event {
    pub namespace: Option<String>,
    /// The event object's own name (deduplication key with the namespace).
    pub name: String,
    /// What the event is about (`involvedObject` / `regarding`).
    pub involved: ObjectRef,
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub kind: String,
    pub reason: String,
    pub message: String,
    /// How many times it happened (`count`, `series.count` or 1).
    pub count: u64,
    pub first_seen: Option<jiff::Timestamp>,
    pub last_seen: Option<jiff::Timestamp>,
    /// The component that reported it (`kubelet`, `default-scheduler`, ...).
    pub source: String,
    /// The bundle path it was read from.
    pub origin: String,
}

impl Event {
    /// Normalizes an Event object of either API group; `None` when it is not an event.
    pub fn from_object(object: &Object) -> Option<Event> {
        if object.kind != "Event" {
            return None;
        }
        let raw = &object.raw;
        let text = |pointer: &str| raw.pointer(pointer).and_then(Value::as_str);
        let time = |pointer: &str| text(pointer).and_then(|t| t.parse::<jiff::Timestamp>().ok());
        let involved = raw.get("involvedObject").or_else(|| raw.get("regarding"))?;
        let involved = ObjectRef {
            kind: involved.get("kind").and_then(Value::as_str).unwrap_or_default().to_owned(),
            namespace: involved.get("namespace").and_then(Value::as_str).map(str::to_owned),
            name: involved.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
        };
        let count = raw
            .get("count")
            .and_then(Value::as_u64)
            .or_else(|| raw.pointer("/series/count").and_then(Value::as_u64))
            .or_else(|| raw.get("deprecatedCount").and_then(Value::as_u64))
            .unwrap_or(1);
        let first_seen = time("/firstTimestamp")
            .or_else(|| time("/deprecatedFirstTimestamp"))
            .or_else(|| time("/eventTime"))
            .or_else(|| time("/metadata/creationTimestamp"));
        let last_seen = time("/lastTimestamp")
            .or_else(|| time("/series/lastObservedTime"))
            .or_else(|| time("/deprecatedLastTimestamp"))
            .or_else(|| time("/eventTime"))
            .or(first_seen);
        Some(Event {
            namespace: object.namespace.clone(),
            name: object.name.clone(),
            involved,
            kind: text("/type").unwrap_or("Normal").to_owned(),
            reason: text("/reason").unwrap_or_default().to_owned(),
            message: text("/message").or_else(|| text("/note")).unwrap_or_default().to_owned(),
            count,
            first_seen,
            last_seen,
            source: text("/source/component")
                .or_else(|| text("/reportingController"))
                .or_else(|| text("/reportingComponent"))
                .unwrap_or_default()
                .to_owned(),
            origin: object.source.clone(),
        })
    }

    pub fn is_warning(&self) -> bool {
        self.kind == "Warning"
    }
}
