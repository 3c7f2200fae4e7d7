//! The cluster model as diagnostics see it: the loaded [`ClusterModel`] plus the facts several
//! diagnostics derive from it, each computed once per run, on first use, and shared by every
//! diagnostic thread.
//!
//! Without it, a fact such as "which pods run a database" was recomputed by a full scan of the
//! pods for every finding that wanted it: on 10,000 pods that was half of the analyzer's CPU.
//! A fact belongs here when more than one diagnostic (or one diagnostic per finding) needs it
//! and it costs a scan of the model; a fact only one diagnostic reads once stays in that
//! diagnostic. Facts are pure functions of the model, so computing one lazily on whichever
//! thread asks first cannot change any output.

use std::ops::Deref;
use std::sync::OnceLock;

use kubesnap_shared::model::{ClusterModel, Object};

use super::logs::database;
use super::network::dns;
use super::performance::usage::{self, ContainerUsage};

/// A [`ClusterModel`] with its derived facts. It dereferences to the model, so diagnostics
/// query it exactly as they would the model.
#[derive(Debug)]
pub(crate) struct Model<'m> {
    model: &'m ClusterModel,
    usages: OnceLock<Vec<ContainerUsage<'m>>>,
    database_pods: OnceLock<Vec<&'m Object>>,
    dns_pods: OnceLock<Vec<&'m Object>>,
}

impl<'m> Model<'m> {
    pub(crate) fn new(model: &'m ClusterModel) -> Model<'m> {
        Model { model, usages: OnceLock::new(), database_pods: OnceLock::new(), dns_pods: OnceLock::new() }
    }

    /// Every container series with at least one sample, with its statistics and its spec's
    /// requests and limits, in (namespace, pod, container) order.
    pub(crate) fn usages(&self) -> &[ContainerUsage<'m>] {
        self.usages.get_or_init(|| usage::usages(self.model))
    }

    /// The pods that run a database (by image or `app.kubernetes.io/name`), in model order.
    pub(crate) fn database_pods(&self) -> &[&'m Object] {
        self.database_pods
            .get_or_init(|| self.model.of_kind("Pod").filter(|pod| database::is_database_pod(pod)).collect())
    }

    /// The cluster DNS pods that are not gone (CoreDNS, kube-dns, OpenShift DNS), in model order.
    pub(crate) fn dns_pods(&self) -> &[&'m Object] {
        self.dns_pods.get_or_init(|| dns::pods(self.model))
    }
}

impl Deref for Model<'_> {
    type Target = ClusterModel;

    fn deref(&self) -> &ClusterModel {
        self.model
    }
}
