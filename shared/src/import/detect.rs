//! Which format a bundle is, from its content: the paths of its entries and, for the two files
//! whose name alone is not enough (`format.json`, `version.yaml`), their first bytes.
//!
//! Each path is evidence. A path only one format has (a troubleshoot `cluster-resources/`
//! folder, a must-gather `cluster-scoped-resources/`, sonobuoy's `resources/ns/`, kubectl's
//! `replication-controllers.json`) decides at once; weaker evidence (`nodes.json` at the top)
//! is kept until the stream ends or the loader stops waiting.

use std::collections::BTreeMap;

use super::{Importer, cluster_info_dump, must_gather, sonobuoy};
use crate::layout::FORMAT_FILE;
use crate::manifest::FORMAT_NAME;
use crate::model::SourceFormat;

/// The folder depth under which a format's marker may sit (`bundle-name/cluster-resources`).
const MAX_ROOT_DEPTH: usize = 2;

/// Detection state over the paths seen so far.
#[derive(Debug, Default)]
pub struct Detector {
    /// Weak evidence: format → (root, number of paths).
    weak: BTreeMap<SourceFormat, (String, u64)>,
}

impl Detector {
    pub fn new() -> Detector {
        Detector::default()
    }

    /// Whether `observe` needs the first bytes of the entry at `path` to decide.
    pub fn wants_head(path: &str) -> bool {
        let file = path.rsplit('/').next().unwrap_or(path);
        let depth = path.split('/').count();
        (file == FORMAT_FILE || file == "version.yaml") && depth <= MAX_ROOT_DEPTH
    }

    /// Looks at one path (and the head of its content when [`Detector::wants_head`] said so);
    /// returns the importer once the format is certain.
    pub fn observe(&mut self, path: &str, head: Option<&[u8]>) -> Option<Importer> {
        let parts: Vec<&str> = path.split('/').collect();
        let (file, folders) = parts.split_last()?;
        if folders.len() < MAX_ROOT_DEPTH {
            let root = folders.join("/");
            let head = head.map(String::from_utf8_lossy).unwrap_or_default();
            if *file == FORMAT_FILE && head.contains(FORMAT_NAME) {
                return Some(Importer::new(SourceFormat::Native, &root));
            }
            if *file == "version.yaml" && head.contains("troubleshoot.sh/") {
                return Some(Importer::new(SourceFormat::Troubleshoot, &root));
            }
        }
        if let Some(position) = parts.iter().position(|part| *part == "cluster-resources") {
            // `cluster-resources/<kind>...`: a folder or list file under it, not a namespace
            // called `cluster-resources` in a cluster-info dump (`cluster-resources/pods.json`).
            let troubleshoot = match &parts[position + 1..] {
                [_, _, ..] => true,
                [file] => !matches!(*file, "pods.json" | "events.json" | "services.json" | "pods.yaml"),
                [] => false,
            };
            if position <= MAX_ROOT_DEPTH && troubleshoot {
                return Some(Importer::new(SourceFormat::Troubleshoot, &parts[..position].join("/")));
            }
        }
        if matches!(parts.as_slice(), [.., "cluster-info", "cluster_version.json"])
            && parts.len() <= MAX_ROOT_DEPTH + 2
        {
            let root = parts[..parts.len() - 2].join("/");
            return Some(Importer::new(SourceFormat::Troubleshoot, &root));
        }
        if let Some(root) = must_gather::marker_root(path) {
            return Some(Importer::new(SourceFormat::MustGather, &root));
        }
        if let Some(root) = sonobuoy::marker_root(path) {
            return Some(Importer::new(SourceFormat::Sonobuoy, &root));
        }
        if let Some((root, strong)) = cluster_info_dump::marker_root(path) {
            if strong {
                return Some(Importer::new(SourceFormat::ClusterInfoDump, &root));
            }
            let entry = self.weak.entry(SourceFormat::ClusterInfoDump).or_insert((root, 0));
            entry.1 += 1;
        }
        None
    }

    /// The best guess once no more paths will come: the format with the most weak evidence.
    pub fn conclude(&self) -> Option<Importer> {
        self.weak
            .iter()
            .max_by_key(|(format, (_, count))| (*count, std::cmp::Reverse(**format)))
            .map(|(format, (root, _))| Importer::new(*format, root))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(paths: &[&str]) -> Option<(SourceFormat, String)> {
        let mut detector = Detector::new();
        for path in paths {
            let head: Option<&[u8]> = if Detector::wants_head(path) {
                Some(if path.ends_with("format.json") {
                    br#"{"format": "kubesnap-bundle", "format_version": 1}"#
                } else {
                    b"apiVersion: troubleshoot.sh/v1beta2\nkind: SupportBundle\n"
                })
            } else {
                None
            };
            if let Some(importer) = detector.observe(path, head) {
                return Some((importer.format(), importer.root().to_owned()));
            }
        }
        detector.conclude().map(|importer| (importer.format(), importer.root().to_owned()))
    }

    #[test]
    fn each_format_from_its_paths() {
        assert_eq!(detect(&["kubesnap-x/format.json"]), Some((SourceFormat::Native, "kubesnap-x".into())));
        assert_eq!(
            detect(&["support-bundle/cluster-resources/pvcs/default.json"]),
            Some((SourceFormat::Troubleshoot, "support-bundle".into()))
        );
        assert_eq!(detect(&["sb/version.yaml"]), Some((SourceFormat::Troubleshoot, "sb".into())));
        assert_eq!(
            detect(&["must-gather.local.1/img/namespaces/ns/core/pods.yaml"]),
            Some((SourceFormat::MustGather, "must-gather.local.1/img".into()))
        );
        assert_eq!(detect(&["meta/run.log"]), Some((SourceFormat::Sonobuoy, "".into())));
        assert_eq!(
            detect(&["resources/cluster/core_v1_nodes.json"]),
            Some((SourceFormat::Sonobuoy, "".into()))
        );
        assert_eq!(
            detect(&[
                "dump/nodes.json",
                "dump/default/pods.json",
                "dump/default/replication-controllers.json"
            ]),
            Some((SourceFormat::ClusterInfoDump, "dump".into()))
        );
        assert_eq!(detect(&["dump/nodes.yaml"]), Some((SourceFormat::ClusterInfoDump, "dump".into())));
    }

    #[test]
    fn names_are_not_enough() {
        // A format.json that is not kubesnap's, a version.yaml that is not troubleshoot's.
        let mut detector = Detector::new();
        assert_eq!(detector.observe("x/format.json", Some(b"{\"format\": \"other\"}")), None);
        assert_eq!(detector.observe("x/version.yaml", Some(b"version: 1")), None);
        assert_eq!(detect(&["notes/readme.txt", "a/b/c.json"]), None);
    }
}
