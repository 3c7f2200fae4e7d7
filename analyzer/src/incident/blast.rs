//! Blast radius: from each failing workload, pod or node to the Services and Ingresses that
//! route to it, and to the user-facing entry points (Ingresses, LoadBalancer and NodePort
//! Services) among them.

use std::collections::BTreeSet;

use kubesnap_shared::model::ObjectRef;
use serde::Serialize;

use super::links::{self, WORKLOAD_KINDS};
use crate::facts::Facts;
use crate::facts::network::backends;
use crate::finding::{Category, Finding, Severity};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct BlastRadius {
    pub(crate) sources: Vec<Blast>,
    /// Distinct entry points reached from any source.
    pub(crate) entry_points: Vec<ObjectRef>,
}

/// What one failing object reaches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Blast {
    /// The failing workload, lone pod or node.
    pub(crate) source: ObjectRef,
    pub(crate) severity: Severity,
    /// The title of its most severe finding.
    pub(crate) cause: String,
    /// Pods it runs (a node: pods it hosts).
    pub(crate) pods: usize,
    /// Services selecting those pods, with whether each still has a ready backend.
    pub(crate) services: Vec<ServiceReach>,
    pub(crate) ingresses: Vec<ObjectRef>,
    /// Entry points among the Services and Ingresses.
    pub(crate) entry_points: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ServiceReach {
    pub(crate) service: ObjectRef,
    /// Other backends keep it serving.
    pub(crate) still_serving: bool,
}

/// The sources are the subjects of findings at P0 or P1 (security findings aside): the first
/// object of each when it is a workload, a pod or a node.
pub(crate) fn trace(facts: &Facts<'_>, findings: &[Finding]) -> BlastRadius {
    let mut seen = BTreeSet::new();
    let mut sources = Vec::new();
    let mut entry_points = BTreeSet::new();
    // Security findings are risks, not failures: nothing is down because of them.
    let failing = findings.iter().filter(|f| f.severity <= Severity::P1 && f.category != Category::Security);
    for finding in failing {
        let Some(source) = finding.objects.first() else { continue };
        let kind = source.kind.as_str();
        if !(WORKLOAD_KINDS.contains(&kind) || kind == "Pod" || kind == "Node")
            || !seen.insert(source.clone())
        {
            continue;
        }
        let pods = links::pods_of(facts, source);
        let mut services: Vec<&kubesnap_shared::model::Object> =
            pods.iter().flat_map(|pod| links::services_selecting(facts.cluster(), pod)).collect();
        services.sort_by_key(|service| service.reference());
        services.dedup_by_key(|service| service.reference());
        let mut ingresses: Vec<ObjectRef> =
            services.iter().flat_map(|service| backends::ingresses_to(facts.cluster(), service)).collect();
        ingresses.sort();
        ingresses.dedup();
        let mut reached = 0;
        for service in services.iter().filter(|service| links::is_entry_point(service)) {
            entry_points.insert(service.reference());
            reached += 1;
        }
        for ingress in &ingresses {
            entry_points.insert(ingress.clone());
            reached += 1;
        }
        let services = services
            .iter()
            .map(|service| ServiceReach {
                service: service.reference(),
                still_serving: links::service_down(facts, service).is_none(),
            })
            .collect();
        sources.push(Blast {
            source: source.clone(),
            severity: finding.severity,
            cause: finding.title.clone(),
            pods: pods.len(),
            services,
            ingresses,
            entry_points: reached,
        });
    }
    BlastRadius { sources, entry_points: entry_points.into_iter().collect() }
}
