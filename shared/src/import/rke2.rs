//! Rancher's log collector (`rancher2_logs_collector.sh`) run on an RKE2 node: one folder
//! named `<hostname>-<YYYY-MM-DD_HH_MM_SS>` holding
//! - `rke2/kubectl/<resource>`: kubectl's text output (`get -o wide -A` tables, `version`),
//!   read by [`super::text`];
//! - `rke2/podlogs/<namespace>-<pod>[-previous]`: `kubectl logs` of each pod's default
//!   container (the namespace is split off once the pods are known);
//! - `journald/<unit>`: `journalctl -u <unit>` of the node; `systemlogs/{syslog,kern.log}*`;
//! - `etcd/`: `etcdctl` answers (`endpointhealth`, `endpointstatus`, `alarmlist`,
//!   `memberlist`) and etcd's metrics;
//! - `networking/`, `systeminfo/`, `rke2/crictl/`, `rke2/certs/`: host facts, not read.

use super::{EntryClass, LogLayout, log_key};
use crate::model::NODE_LOG_NAMESPACE;

/// The container name a pod log without one is kept under: `kubectl logs POD` prints the
/// pod's default container, and the collector does not say which that is.
pub const DEFAULT_CONTAINER: &str = "(default container)";

pub(super) fn classify(relative: &str, host: &str) -> EntryClass {
    let parts: Vec<&str> = relative.split('/').collect();
    match parts.as_slice() {
        ["rke2", "kubectl", "version"] => EntryClass::ServerVersion,
        ["rke2", "kubectl", file] => EntryClass::KubectlText { hint: kind_of_file(file), standalone: false },
        ["rke2", "podlogs", file] => {
            let (stem, previous) = match file.strip_suffix("-previous") {
                Some(stem) => (stem, true),
                None => (*file, false),
            };
            // The namespace is the part of `stem` that names a namespace of the bundle: found
            // once every object is read.
            EntryClass::Log {
                key: log_key("", stem, DEFAULT_CONTAINER, previous),
                layout: LogLayout::Plain,
                namespace_known: false,
            }
        }
        ["journald", unit] => node_log(host, unit),
        ["systemlogs", file] => match file.split('.').next() {
            Some("kern") => node_log(host, "kernel"),
            Some("syslog") => node_log(host, "syslog"),
            _ => EntryClass::Ignored,
        },
        ["etcd", check @ ("endpointhealth" | "endpointstatus" | "alarmlist" | "memberlist")] => {
            EntryClass::EtcdCheck { node: host.to_owned(), check: (*check).to_owned() }
        }
        _ => EntryClass::Ignored,
    }
}

fn node_log(host: &str, unit: &str) -> EntryClass {
    EntryClass::Log {
        key: log_key(NODE_LOG_NAMESPACE, host, unit, false),
        layout: LogLayout::Plain,
        namespace_known: true,
    }
}

/// The kind a `rke2/kubectl/` file's name says it lists.
fn kind_of_file(file: &str) -> Option<&'static str> {
    Some(match file {
        "pods" => "Pod",
        "nodes" => "Node",
        "services" => "Service",
        "deployments" => "Deployment",
        "replicasets" => "ReplicaSet",
        "daemonsets" => "DaemonSet",
        "statefulsets" => "StatefulSet",
        "namespaces" => "Namespace",
        "events" => "Event",
        "pvc" => "PersistentVolumeClaim",
        "pv" => "PersistentVolume",
        "jobs" => "Job",
        "cronjobs" => "CronJob",
        "hpa" => "HorizontalPodAutoscaler",
        "ingress" => "Ingress",
        _ => return None,
    })
}

/// The collector's folder name, `<hostname>-YYYY-MM-DD_HH_MM_SS`: the host and the time of
/// the collection (the node's clock, which the collector's `systeminfo/date` shows in UTC).
pub(super) fn split_root(root: &str) -> (String, Option<jiff::Timestamp>) {
    let folder = root.rsplit('/').next().unwrap_or(root);
    let Some((host, stamp)) = folder.len().checked_sub(19).and_then(|at| {
        let (host, stamp) = folder.split_at_checked(at)?;
        Some((host.strip_suffix('-')?, stamp))
    }) else {
        return (folder.to_owned(), None);
    };
    let time = jiff::civil::DateTime::strptime("%Y-%m-%d_%H_%M_%S", stamp)
        .ok()
        .and_then(|time| time.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|zoned| zoned.timestamp());
    match time {
        Some(time) => (host.to_owned(), Some(time)),
        None => (folder.to_owned(), None),
    }
}

/// Whether `path` has the shape only this collector's output has; returns the root.
pub(super) fn marker_root(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    let position =
        parts.windows(2).position(|pair| pair == ["rke2", "kubectl"] || pair == ["rke2", "podlogs"])?;
    (position <= 2).then(|| parts[..position].join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            classify("rke2/kubectl/pods", "cp-1"),
            EntryClass::KubectlText { hint: Some("Pod"), standalone: false }
        );
        assert_eq!(
            classify("rke2/kubectl/api-resources", "cp-1"),
            EntryClass::KubectlText { hint: None, standalone: false }
        );
        assert_eq!(
            classify("rke2/podlogs/kube-system-etcd-cp-1-previous", "cp-1"),
            EntryClass::Log {
                key: log_key("", "kube-system-etcd-cp-1", DEFAULT_CONTAINER, true),
                layout: LogLayout::Plain,
                namespace_known: false
            }
        );
        assert_eq!(
            classify("journald/rke2-server", "cp-1"),
            EntryClass::Log {
                key: log_key(NODE_LOG_NAMESPACE, "cp-1", "rke2-server", false),
                layout: LogLayout::Plain,
                namespace_known: true
            }
        );
        assert!(
            matches!(classify("systemlogs/kern.log.1", "cp-1"), EntryClass::Log { key, .. } if key.container == "kernel")
        );
        assert_eq!(
            classify("etcd/alarmlist", "cp-1"),
            EntryClass::EtcdCheck { node: "cp-1".into(), check: "alarmlist".into() }
        );
        assert_eq!(classify("networking/iptables", "cp-1"), EntryClass::Ignored);
    }

    #[test]
    fn the_folder_names_host_and_time() {
        let (host, time) = split_root("w-guard-wg-cp-svtk6-lqtxw-2025-11-27_04_19_09");
        assert_eq!(host, "w-guard-wg-cp-svtk6-lqtxw");
        assert_eq!(time, Some("2025-11-27T04:19:09Z".parse().unwrap()));
        assert_eq!(split_root("bundle"), ("bundle".to_owned(), None));
        assert_eq!(marker_root("x/rke2/kubectl/pods").as_deref(), Some("x"));
        assert_eq!(marker_root("rke2/podlogs/a-b").as_deref(), Some(""));
        assert_eq!(marker_root("a/b/c/rke2/kubectl/pods"), None);
    }
}
