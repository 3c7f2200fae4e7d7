//! Release history from Flux and Argo CD objects shaped as their CRDs define them
//! (`helm.toolkit.fluxcd.io/v2` `HelmRelease` with `status.history` snapshots,
//! `argoproj.io/v1alpha1` `Application` with `status.history`, `operationState`, `conditions`),
//! and the Helm release of a workload.

use super::*;
use crate::testing::model_from_yaml;

/// A Flux HelmRelease whose last upgrade failed, and an Argo CD Application whose last sync
/// failed, beside a healthy Flux HelmRelease that says nothing alarming.
pub(crate) const FLUX_AND_ARGO: &str = r#"
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo, namespace: apps, generation: 3}
spec:
  interval: 5m
  chart:
    spec: {chart: podinfo, version: "6.x", sourceRef: {kind: HelmRepository, name: podinfo}}
status:
  observedGeneration: 3
  lastAttemptedRevision: 6.5.4
  lastAttemptedReleaseAction: upgrade
  failures: 1
  upgradeFailures: 1
  history:
  - {apiVersion: v2, name: podinfo, namespace: apps, version: 3, status: failed, chartName: podinfo,
     chartVersion: 6.5.4, appVersion: 6.5.4, configDigest: "sha256:1a2b", digest: "sha256:3c4d",
     firstDeployed: "2025-05-30T09:00:00Z", lastDeployed: "2025-06-01T11:40:00Z"}
  - {apiVersion: v2, name: podinfo, namespace: apps, version: 2, status: superseded, chartName: podinfo,
     chartVersion: 6.5.3, appVersion: 6.5.3, configDigest: "sha256:1a2b", digest: "sha256:5e6f",
     firstDeployed: "2025-05-30T09:00:00Z", lastDeployed: "2025-05-30T09:00:00Z"}
  conditions:
  - {type: Ready, status: "False", reason: UpgradeFailed, observedGeneration: 3,
     message: "Helm upgrade failed for release apps/podinfo with chart podinfo@6.5.4: context deadline
       exceeded",
     lastTransitionTime: "2025-06-01T11:45:00Z"}
  - {type: Released, status: "False", reason: UpgradeFailed, observedGeneration: 3,
     message: "Helm upgrade failed for release apps/podinfo with chart podinfo@6.5.4: context deadline
       exceeded",
     lastTransitionTime: "2025-06-01T11:45:00Z"}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: healthy, namespace: apps}
spec: {interval: 5m, chart: {spec: {chart: healthy, sourceRef: {kind: HelmRepository, name: podinfo}}}}
status:
  conditions:
  - {type: Ready, status: "True", reason: InstallSucceeded, message: "Helm install succeeded",
     lastTransitionTime: "2025-05-01T00:00:00Z"}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: guestbook, namespace: argocd}
spec:
  project: default
  source: {repoURL: "https://github.com/argoproj/argocd-example-apps.git", path: guestbook,
    targetRevision: HEAD}
  destination: {server: "https://kubernetes.default.svc", namespace: guestbook}
status:
  sync: {status: OutOfSync, revision: 53e28ff20cc530b9ada2173fbbd64d48338583ba}
  health: {status: Degraded}
  history:
  - id: 0
    revision: 4e2a1bd5c9a3f0e0d7c1b2a3948576a1b2c3d4e5
    deployStartedAt: "2025-05-30T07:59:58Z"
    deployedAt: "2025-05-30T08:00:00Z"
    source: {repoURL: "https://github.com/argoproj/argocd-example-apps.git", path: guestbook,
    targetRevision: HEAD}
  - id: 1
    revision: 53e28ff20cc530b9ada2173fbbd64d48338583ba
    deployStartedAt: "2025-06-01T11:29:58Z"
    deployedAt: "2025-06-01T11:30:00Z"
    source: {repoURL: "https://github.com/argoproj/argocd-example-apps.git", path: guestbook,
    targetRevision: HEAD}
  operationState:
    operation: {sync: {revision: 53e28ff20cc530b9ada2173fbbd64d48338583ba}, initiatedBy: {automated: true}}
    phase: Failed
    message: 'one or more objects failed to apply, reason: Deployment.apps "guestbook-ui" is invalid:
      spec.template.spec.containers[0].image: Required value'
    startedAt: "2025-06-01T11:50:00Z"
    finishedAt: "2025-06-01T11:50:05Z"
    syncResult: {revision: 53e28ff20cc530b9ada2173fbbd64d48338583ba}
  conditions:
  - {type: SyncError,
     message: "Failed sync attempt to 53e28ff20cc530b9ada2173fbbd64d48338583ba: one or more objects
       failed to apply",
     lastTransitionTime: "2025-06-01T11:50:05Z"}
---
apiVersion: example.com/v1
kind: Application
metadata: {name: not-argo, namespace: argocd}
status:
  history: [{id: 9, revision: x, deployedAt: "2025-06-01T00:00:00Z"}]
"#;

#[test]
fn flux_and_argo_history_and_failures_become_steps() {
    let model = model_from_yaml(FLUX_AND_ARGO);
    let mut steps = history(&model);
    steps.sort_by(|a, b| (a.at, &a.text).cmp(&(b.at, &b.text)));
    let failed: Vec<&str> = steps.iter().filter(|s| s.failed).map(|s| s.text.as_str()).collect();
    assert_eq!(failed.len(), 5, "{failed:#?}");
    assert!(
        steps.iter().all(|step| step.object.name != "not-argo" && step.object.name != "healthy"),
        "{steps:#?}"
    );
    assert_eq!(steps.len(), 8, "{steps:#?}");
}

#[test]
fn a_workload_names_its_helm_release_by_helms_annotations() {
    let model = model_from_yaml(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop-api
  namespace: web
  labels: {app.kubernetes.io/managed-by: Helm}
  annotations: {meta.helm.sh/release-name: shop, meta.helm.sh/release-namespace: web}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: other, namespace: web}
"#,
    );
    let names: Vec<Option<(String, String)>> = model.of_kind("Deployment").map(helm_release_of).collect();
    assert_eq!(names, [None, Some(("web".to_owned(), "shop".to_owned()))]);
}

#[test]
fn git_commits_are_shortened_and_other_revisions_kept() {
    assert_eq!(short_revision("53e28ff20cc530b9ada2173fbbd64d48338583ba"), "53e28ff");
    assert_eq!(short_revision("v1.2.3"), "v1.2.3");
}
