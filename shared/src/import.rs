//! Importers: how each bundle format's paths map onto the cluster model.
//!
//! Each format (native, troubleshoot, must-gather, sonobuoy, `kubectl cluster-info dump`)
//! classifies the paths of its entries into what they hold; the analyzer's loader parses them
//! into [`crate::model::ClusterModel`]. The format is detected from the content, not the name.
