//! LimitRanges as the `LimitRanger` admission plugin applies them to a container: the defaults
//! it fills in (limits from `default`, requests from `defaultRequest`, else from the limit) and
//! the bounds (`min`, `max`, `maxLimitRequestRatio`) it rejects pods for.

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object};

use super::autoscalers::number;
use crate::facts::performance::usage::Resources;

/// One `type: Container` item of a LimitRange.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContainerRange<'a> {
    pub(crate) owner: &'a Object,
    /// The JSON pointer of the item (`/spec/limits/0`).
    pub(crate) index: usize,
    pub(crate) item: &'a Value,
}

impl ContainerRange<'_> {
    pub(crate) fn pointer(&self) -> String {
        format!("/spec/limits/{}", self.index)
    }

    /// A value of one section (`default`, `defaultRequest`, `max`, `min`,
    /// `maxLimitRequestRatio`) for `cpu` (millicores) or `memory` (bytes).
    pub(crate) fn value(&self, section: &str, resource: &str) -> Option<f64> {
        let value = number(self.item.get(section)?.get(resource)?)?;
        Some(if resource == "cpu" && section != "maxLimitRequestRatio" { value * 1000.0 } else { value })
    }

    /// A section's raw quantity text, for evidence.
    pub(crate) fn text(&self, section: &str, resource: &str) -> Option<String> {
        match self.item.get(section)?.get(resource)? {
            Value::String(text) => Some(text.to_string()),
            other => Some(other.to_string()),
        }
    }
}

/// The `type: Container` items of the LimitRanges of `namespace`, in name order.
pub(crate) fn container_ranges<'a>(model: &'a ClusterModel, namespace: &str) -> Vec<ContainerRange<'a>> {
    model
        .of_kind("LimitRange")
        .filter(|range| range.namespace.as_deref() == Some(namespace))
        .flat_map(|owner| {
            owner.array_at("/spec/limits").iter().enumerate().filter_map(move |(index, item)| {
                (item.get("type").and_then(Value::as_str) == Some("Container")).then_some(ContainerRange {
                    owner,
                    index,
                    item,
                })
            })
        })
        .collect()
}

/// A container's resources after the LimitRanges of its namespace filled in their defaults.
pub(crate) fn effective(ranges: &[ContainerRange<'_>], container: &Value) -> Resources {
    let own = |pointer: &str| container.pointer(pointer).is_some();
    let mut resources = Resources::of(container);
    for range in ranges {
        if !own("/resources/limits/cpu") && resources.cpu_limit.is_none() {
            resources.cpu_limit = range.value("default", "cpu");
        }
        if !own("/resources/limits/memory") && resources.memory_limit.is_none() {
            resources.memory_limit = range.value("default", "memory");
        }
        if !own("/resources/requests/cpu") && !own("/resources/limits/cpu") {
            resources.cpu_request = range.value("defaultRequest", "cpu").or(resources.cpu_limit);
        }
        if !own("/resources/requests/memory") && !own("/resources/limits/memory") {
            resources.memory_request = range.value("defaultRequest", "memory").or(resources.memory_limit);
        }
    }
    resources
}
