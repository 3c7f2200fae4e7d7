//! The native kubesnap bundle: `layout::classify` already names every path; this maps it
//! onto what the loader reads.

use super::{EntryClass, LogLayout, Syntax, kinds, log_key};
use crate::layout::{self, EntryKind};

/// `relative` is the path under the bundle's top folder.
pub(super) fn classify(relative: &str) -> EntryClass {
    match layout::classify(relative) {
        EntryKind::ResourceList { resource, .. } => {
            let hint = kinds::by_plural(resource);
            // The list names its kind; the hint only serves lists whose items and list kind
            // are both missing. The API version comes from the list, which the server sets.
            EntryClass::Objects { syntax: Syntax::Json, kind: hint.map(|h| h.0), api_version: None }
        }
        EntryKind::WatchedEvents => EntryClass::WatchedEvents,
        EntryKind::ContainerLog { namespace, pod, container, previous } => EntryClass::Log {
            key: log_key(namespace, pod, container, previous),
            layout: LogLayout::Plain,
            namespace_known: true,
        },
        EntryKind::PodMetrics => EntryClass::PodMetrics,
        EntryKind::NodeMetrics => EntryClass::NodeMetrics,
        EntryKind::KubeletStats { node } => EntryClass::KubeletStats { node: node.to_owned() },
        EntryKind::ClusterVersion => EntryClass::ServerVersion,
        EntryKind::HelmReleases => EntryClass::HelmReleases,
        _ => EntryClass::Ignored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_paths() {
        assert_eq!(
            classify("resources/apps/v1/deployments/prod.json"),
            EntryClass::Objects { syntax: Syntax::Json, kind: Some("Deployment"), api_version: None }
        );
        assert_eq!(
            classify("logs/prod/web-0/nginx.previous.log"),
            EntryClass::Log {
                key: log_key("prod", "web-0", "nginx", true),
                layout: LogLayout::Plain,
                namespace_known: true
            }
        );
        assert_eq!(classify("kubelet/n1/stats-summary.json"), EntryClass::KubeletStats { node: "n1".into() });
        assert_eq!(classify(layout::HELM_RELEASES), EntryClass::HelmReleases);
        assert_eq!(classify("cluster/api-resources.json"), EntryClass::Ignored);
    }
}
