//! Rule `bad-rollout`: the pods of a Deployment's newest ReplicaSet start failing shortly after
//! it was created.
//!
//! Fires per Deployment whose newest ReplicaSet's pods first failed within an hour of its
//! creation, or whose newest ReplicaSet has no ready pod while an older one still serves (a
//! rollout that never worked, however long ago it began). With an older revision to go back to
//! it is likely (55, plus 10 when the older ReplicaSet still has ready pods, plus 10 when the
//! rollout is stuck: `ProgressDeadlineExceeded`, or a new ReplicaSet that never served; plus 10
//! when the pod templates of the two revisions differ and the difference is named: image,
//! command, args, env) and the mitigation is `kubectl rollout undo`; a first revision that never
//! worked is 45. The failing container's own last words are quoted. When a Helm release manages
//! the Deployment (Helm's `meta.helm.sh` annotations) and the bundle holds its history, the
//! revision deployed within a minute of the ReplicaSet's creation (whatever its status now:
//! deployed, superseded or failed) names the change, and revisions that failed or never
//! finished after the last one that deployed are evidence too (plus 5). The first mitigations
//! are then `helm rollback` to the last revision that deployed before them (or before the
//! rollout's) and `helm history`, since `kubectl rollout undo` lasts only until the next
//! upgrade.
//!
//! Disproved by: the new ReplicaSet's pods Ready in a newer capture, or the same failure in the
//! previous revision's pods (then the change is not the cause).

use jiff::{SignedDuration, Timestamp};
use kubesnap_shared::helm::HelmRelease;
use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object};

use super::{Context, Hypothesis, Step, first_failure};
use crate::facts::kubectl::{self, Kubectl};
use crate::facts::network::pod_health;
use crate::facts::performance::units;
use crate::facts::releases;
use crate::finding::Severity;

/// How soon after a rollout a failure is blamed on it.
const FRESH: SignedDuration = SignedDuration::from_hours(1);

fn revision(replica_set: &Object) -> i64 {
    replica_set
        .annotations()
        .get("deployment.kubernetes.io/revision")
        .and_then(|revision| revision.parse().ok())
        .unwrap_or(0)
}

fn replica_sets<'a>(model: &'a ClusterModel, deployment: &Object) -> Vec<&'a Object> {
    let mut sets: Vec<&Object> = model
        .of_kind("ReplicaSet")
        .filter(|rs| rs.namespace == deployment.namespace)
        .filter(|rs| {
            rs.owners().iter().any(|(kind, name, _)| *kind == "Deployment" && *name == deployment.name)
        })
        .collect();
    sets.sort_by_key(|rs| (revision(rs), rs.created_at(), rs.name.clone()));
    sets
}

pub(super) fn rule(context: &Context<'_, '_>) -> Vec<Hypothesis> {
    let facts = context.facts;
    let mut out = Vec::new();
    for deployment in facts.cluster().of_kind("Deployment") {
        let sets = replica_sets(facts.cluster(), deployment);
        let Some((newest, older)) = sets.split_last() else { continue };
        let Some(created) = newest.created_at() else { continue };
        let namespace = deployment.namespace.as_deref().unwrap_or_default();
        let pods: Vec<&Object> = facts
            .cluster()
            .of_kind_in("Pod", namespace)
            .filter(|pod| {
                pod.owners().iter().any(|(kind, name, _)| *kind == "ReplicaSet" && *name == newest.name)
            })
            .collect();
        let failures: Vec<(Timestamp, &Object)> = pods
            .iter()
            .filter(|pod| pod_health::trouble(pod).is_some())
            .filter_map(|pod| Some((first_failure(facts.cluster(), pod)?, *pod)))
            .collect();
        let Some((failed_at, first_pod)) =
            failures.iter().min_by_key(|(at, pod)| (*at, pod.name.clone())).copied()
        else {
            continue;
        };
        let delay = failed_at.duration_since(created);
        let old_ready: i64 = older.iter().map(|rs| rs.i64_at("/status/readyReplicas").unwrap_or(0)).sum();
        let new_ready = newest.i64_at("/status/readyReplicas").unwrap_or(0)
            + pods.iter().filter(|pod| pod_health::is_ready(pod)).count() as i64;
        let never_served = new_ready == 0 && old_ready > 0 && !delay.is_negative();
        if (delay.is_negative() || delay > FRESH) && !never_served {
            continue;
        }
        let reference = deployment.reference();
        // Stuck: the controller gave up (ProgressDeadlineExceeded) or the new pods never served.
        let stuck = never_served
            || deployment
                .condition("Progressing")
                .is_some_and(|(status, reason, _)| status == "False" && reason == "ProgressDeadlineExceeded");
        let after = units::span(delay.as_secs_f64() / 60.0);
        let name = crate::incident::links::label(&reference);
        let changes = older.last().map(|previous| template_changes(previous, newest)).unwrap_or_default();
        let words = pod_container_words(facts.cluster(), first_pod);
        let said = words.as_deref().map(|w| format!(": `{}`", super::clip(w))).unwrap_or_default();
        let helm = HelmStory::of(facts.cluster(), deployment, created);
        let (score, title) = match older.last() {
            Some(_) if !changes.is_empty() => (
                65 + if old_ready > 0 { 10 } else { 0 } + if stuck { 10 } else { 0 },
                format!(
                    "Rollout of {name} (revision {}) broke it: it changed {}; its pods fail{said}",
                    revision(newest),
                    changes.join("; ")
                ),
            ),
            Some(_) => (
                55 + if old_ready > 0 { 10 } else { 0 } + if stuck { 10 } else { 0 },
                format!(
                    "Rollout of {name} (revision {}) broke it: its pods fail {after} after it",
                    revision(newest)
                ),
            ),
            None => (
                45,
                format!(
                    "{name} has failed since it was rolled out: first failure {after} after its creation"
                ),
            ),
        };
        let score = score + if helm.failed() { 5 } else { 0 };
        let mut hypothesis = context.hypothesis("bad-rollout", title, score, Severity::P1);
        hypothesis.chain.push(Step::new(
            Some(created),
            reference.clone(),
            format!("ReplicaSet {} created (revision {})", newest.name, revision(newest)),
        ));
        let trouble = pod_health::trouble(first_pod).unwrap_or_default();
        hypothesis.chain.push(Step::new(
            Some(failed_at),
            first_pod.reference(),
            format!("first failure: {trouble}"),
        ));
        if let Some((status, reason, _)) =
            deployment.condition("Progressing").filter(|(status, _, _)| *status == "False")
        {
            let at = deployment
                .array_at("/status/conditions")
                .iter()
                .find(|c| c.get("type").and_then(kubesnap_shared::json::Value::as_str) == Some("Progressing"))
                .and_then(|c| c.get("lastUpdateTime").and_then(kubesnap_shared::json::Value::as_str))
                .and_then(|t| t.parse().ok());
            hypothesis.chain.push(Step::new(at, reference.clone(), format!("Progressing={status} {reason}")));
        }
        hypothesis.evidence.push(format!(
            "{} of {} pods of ReplicaSet {} are failing",
            failures.len(),
            pods.len(),
            newest.name
        ));
        for change in &changes {
            hypothesis.evidence.push(format!("revision {} changed {change}", revision(newest)));
        }
        if let Some(words) = &words {
            hypothesis.evidence.push(format!("the failing container's last words: `{}`", super::clip(words)));
        }
        match older.last() {
            Some(previous) => {
                hypothesis.evidence.push(format!(
                    "the previous revision ({}, ReplicaSet {}) has {old_ready} ready pods",
                    revision(previous),
                    previous.name
                ));
                hypothesis.disproved_by.push(format!(
                    "the same failure in the pods of ReplicaSet {} (then the change is not the cause)",
                    previous.name
                ));
            }
            None => hypothesis
                .evidence
                .push("no earlier revision is in the bundle: there is nothing to roll back to".to_owned()),
        }
        let mut objects = vec![reference.clone(), newest.reference()];
        objects.extend(pods.iter().map(|pod| pod.reference()));
        hypothesis.findings = context.linked(
            &[
                "deployment-rollout-stuck",
                "deployment-replicas-unavailable",
                "crash-loop-backoff",
                "image-pull-backoff",
                "create-container-config-error",
                "application-down",
            ],
            &objects,
        );
        hypothesis.objects = objects;
        hypothesis
            .disproved_by
            .push(format!("the pods of ReplicaSet {} Ready in a newer capture", newest.name));
        hypothesis.own_severity =
            Some(if old_ready > 0 { Severity::P2 } else { super::impact(facts, &pods) });
        helm.tell(&mut hypothesis);
        if older.last().is_some() {
            hypothesis.mitigation.push(kubectl::rollout("undo", &reference).into());
        }
        hypothesis.mitigation.push(kubectl::rollout("history", &reference).into());
        hypothesis.mitigation.push(kubectl::rollout("status", &reference).into());
        hypothesis
            .mitigation
            .push(kubectl::logs(&first_pod.reference(), pod_container(first_pod), true).into());
        out.push(hypothesis);
    }
    out
}

/// What the Helm release managing a Deployment recorded about its rollout.
#[derive(Debug, Default)]
struct HelmStory<'m> {
    /// The revision deployed within a minute of the ReplicaSet's creation, whatever became of
    /// it (`deployed`, `superseded`, `failed`).
    deployed: Option<&'m HelmRelease>,
    /// The revisions after the last one that deployed, each failed or still pending.
    unfinished: Vec<&'m HelmRelease>,
    /// The revision to roll back to: the last one that deployed when later ones failed, else
    /// the one before the rollout's.
    rollback_to: Option<&'m HelmRelease>,
    /// The release's newest revision (whose name and namespace the commands use).
    newest: Option<&'m HelmRelease>,
}

impl<'m> HelmStory<'m> {
    fn of(model: &'m ClusterModel, deployment: &Object, created: Timestamp) -> HelmStory<'m> {
        let Some((namespace, name)) = releases::helm_release_of(deployment) else {
            return HelmStory::default();
        };
        let revisions = releases::helm_revisions(model, &namespace, &name);
        let mut unfinished: Vec<&HelmRelease> =
            revisions.iter().rev().take_while(|release| release.is_failed_or_stuck()).copied().collect();
        unfinished.reverse();
        let deployed = revisions.iter().rev().copied().find(|release| {
            releases::deployed_at(release)
                .is_some_and(|at| at.duration_since(created).abs() <= SignedDuration::from_mins(1))
        });
        let good_before = |revision: u64| {
            revisions
                .iter()
                .rev()
                .copied()
                .find(|release| release.revision < revision && !release.is_failed_or_stuck())
        };
        let rollback_to = match (unfinished.first(), deployed) {
            (Some(first), _) => good_before(first.revision),
            (None, Some(deployed)) => good_before(deployed.revision),
            (None, None) => None,
        };
        HelmStory { deployed, unfinished, rollback_to, newest: revisions.last().copied() }
    }

    /// Whether Helm recorded revisions that failed or never finished after the last good one.
    fn failed(&self) -> bool {
        !self.unfinished.is_empty()
    }

    fn tell(&self, hypothesis: &mut Hypothesis) {
        let mut told: Vec<&HelmRelease> = self.deployed.into_iter().collect();
        if let Some(release) = self.deployed {
            hypothesis.evidence.push(format!("the rollout came with {}", releases::helm_text(release)));
        }
        for release in &self.unfinished {
            if !told.iter().any(|seen| seen.revision == release.revision) {
                hypothesis.evidence.push(releases::helm_text(release));
                told.push(release);
            }
        }
        for release in told {
            hypothesis.chain.push(Step::new(
                releases::deployed_at(release),
                releases::record(release),
                releases::helm_text(release),
            ));
        }
        let Some(newest) = self.newest else { return };
        let (name, namespace) = (&newest.name, &newest.namespace);
        let mut commands: Vec<String> = Vec::new();
        if let Some(good) = self.rollback_to {
            let revision = good.revision.to_string();
            commands.push(
                Kubectl::program("helm rollback").name(name).name(&revision).namespace(namespace).into(),
            );
        }
        commands.push(Kubectl::program("helm history").name(name).namespace(namespace).into());
        commands.append(&mut hypothesis.mitigation);
        hypothesis.mitigation = commands;
    }
}

/// The last words of the pod's first failing container.
fn pod_container_words(model: &ClusterModel, pod: &Object) -> Option<String> {
    crate::facts::containers::statuses(pod)
        .into_iter()
        .filter(|status| !status.ready())
        .find_map(|status| super::container_exits::last_words(model, pod, status.name))
        .map(|(cause, _)| cause)
}

/// What the newer pod template changed against the older one, per container: image, command,
/// args, env values (`args of container api from `serve` to `serve-x``).
fn template_changes(older: &Object, newer: &Object) -> Vec<String> {
    let containers = |rs: &Object| -> Vec<Value> { rs.array_at("/spec/template/spec/containers").to_vec() };
    let (old, new) = (containers(older), containers(newer));
    let mut out = Vec::new();
    let words = |container: &Value, key: &str| -> String {
        container
            .get(key)
            .and_then(Value::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let env = |container: &Value| -> std::collections::BTreeMap<String, String> {
        container
            .get("env")
            .and_then(Value::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(|e| {
                let name = e.get("name").and_then(Value::as_str)?;
                let value = e.get("value").and_then(Value::as_str).unwrap_or("(from a reference)");
                Some((name.to_owned(), value.to_owned()))
            })
            .collect()
    };
    for container in &new {
        let name = container.get("name").and_then(Value::as_str).unwrap_or_default();
        let Some(before) = old.iter().find(|c| c.get("name").and_then(Value::as_str) == Some(name)) else {
            out.push(format!("added container {name}"));
            continue;
        };
        let image = |c: &Value| c.get("image").and_then(Value::as_str).unwrap_or_default().to_owned();
        if image(before) != image(container) {
            out.push(format!("the image of container {name} from {} to {}", image(before), image(container)));
        }
        for key in ["command", "args"] {
            let (was, now) = (words(before, key), words(container, key));
            if was != now {
                out.push(format!("{key} of container {name} from `{was}` to `{now}`"));
            }
        }
        let (was, now) = (env(before), env(container));
        let mut changed: Vec<String> = now
            .iter()
            .filter(|(key, value)| was.get(*key) != Some(*value))
            .map(|(key, _)| key.clone())
            .collect();
        changed.extend(was.keys().filter(|key| !now.contains_key(*key)).map(|key| format!("-{key}")));
        if !changed.is_empty() {
            changed.truncate(5);
            out.push(format!("env of container {name} ({})", changed.join(", ")));
        }
    }
    out
}

fn pod_container(pod: &Object) -> &str {
    pod.array_at("/spec/containers")
        .first()
        .and_then(|c| c.get("name"))
        .and_then(kubesnap_shared::json::Value::as_str)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::incident::causes::tests::of_rule;

    fn replica_set(name: &str, revision: u32, created: &str, ready: u32) -> String {
        format!(
            r#"
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: {name}
  namespace: shop
  creationTimestamp: "{created}"
  annotations: {{deployment.kubernetes.io/revision: "{revision}"}}
  ownerReferences: [{{kind: Deployment, name: api, uid: d1, controller: true}}]
status: {{readyReplicas: {ready}}}
"#
        )
    }

    const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop, uid: d1}
spec: {replicas: 2}
status:
  availableReplicas: 1
  conditions: [{type: Progressing, status: "False", reason: ProgressDeadlineExceeded, lastUpdateTime: "2025-06-01T11:55:00Z"}]
"#;

    const CRASHING: &str = r#"
---
apiVersion: v1
kind: Pod
metadata:
  name: api-new-a
  namespace: shop
  ownerReferences: [{kind: ReplicaSet, name: api-new, controller: true}]
spec: {containers: [{name: api, image: api:2}]}
status:
  phase: Running
  conditions: [{type: Ready, status: "False"}]
  containerStatuses:
  - {name: api, ready: false, restartCount: 5, state: {waiting: {reason: CrashLoopBackOff}},
     lastState: {terminated: {exitCode: 1, reason: Error, finishedAt: "2025-06-01T11:48:00Z"}}}
"#;

    #[test]
    fn pods_of_the_new_revision_failing_soon_after_it_blame_the_rollout() {
        let fixture = [
            DEPLOYMENT,
            &replica_set("api-old", 3, "2025-05-20T09:00:00Z", 1),
            &replica_set("api-new", 4, "2025-06-01T11:45:00Z", 0),
            CRASHING,
        ]
        .concat();
        expect![[r#"
            1. [bad-rollout 80 P2] Rollout of Deployment shop/api (revision 4) broke it: its pods fail 3m after it
               2025-06-01T11:45:00Z Deployment/shop/api: ReplicaSet api-new created (revision 4)
               2025-06-01T11:48:00Z Pod/shop/api-new-a: first failure: CrashLoopBackOff in container api, 5 restarts
               2025-06-01T11:55:00Z Deployment/shop/api: Progressing=False ProgressDeadlineExceeded
               finding crash-loop-backoff: Deployment shop/api: 1 of 1 pod crash-looping (Error, exit code 1)
               finding application-down: Deployment shop/api: 1 of 1 pod down (ApplicationDown firing)
               evidence: 1 of 1 pods of ReplicaSet api-new are failing
               evidence: the previous revision (3, ReplicaSet api-old) has 1 ready pods
               evidence: consequence: Deployment shop/api (container api) keeps exiting (Error, exit code 1) and left no log
               $ kubectl rollout undo deployment/api -n shop
               $ kubectl rollout history deployment/api -n shop
               $ kubectl rollout status deployment/api -n shop
               $ kubectl logs api-new-a -n shop -c api --previous --tail=50
               disproved by: the same failure in the pods of ReplicaSet api-old (then the change is not the cause)
               disproved by: the pods of ReplicaSet api-new Ready in a newer capture
        "#]]
        .assert_eq(&of_rule(&fixture, "bad-rollout"));
    }

    #[test]
    fn a_failed_helm_upgrade_of_the_deployment_is_evidence_and_rollback_comes_first() {
        let deployment = DEPLOYMENT.replace(
            "metadata: {name: api, namespace: shop, uid: d1}",
            "metadata: {name: api, namespace: shop, uid: d1, annotations: \
             {meta.helm.sh/release-name: api, meta.helm.sh/release-namespace: shop}}",
        );
        let releases = r#"
---
kind: HelmReleases
releases:
- {name: api, namespace: shop, revision: 1, status: deployed, chart: api, chart_version: 1.0.0,
   app_version: "1", first_deployed: "2025-05-20T09:00:00Z", last_deployed: "2025-05-20T09:00:00Z",
   description: Install complete, storage: secret, object: sh.helm.release.v1.api.v1}
- {name: api, namespace: shop, revision: 2, status: failed, chart: api, chart_version: 1.1.0,
   app_version: "2", first_deployed: "2025-05-20T09:00:00Z", last_deployed: "2025-06-01T11:45:01.2Z",
   description: 'Upgrade "api" failed: context deadline exceeded', storage: secret,
   object: sh.helm.release.v1.api.v2}
"#;
        let fixture = [
            deployment.as_str(),
            &replica_set("api-old", 3, "2025-05-20T09:00:00Z", 1),
            &replica_set("api-new", 4, "2025-06-01T11:45:00Z", 0),
            CRASHING,
            releases,
        ]
        .concat();
        let rendered = of_rule(&fixture, "bad-rollout");
        // 80 without Helm, plus 5 for the failed revision.
        assert!(rendered.contains("[bad-rollout 85 P2]"), "{rendered}");
        let helm = "Helm release shop/api revision 2 (chart api 1.1.0, app 2) failed: \
                    Upgrade \"api\" failed: context deadline exceeded";
        assert!(rendered.contains(&format!("Secret/shop/sh.helm.release.v1.api.v2: {helm}")), "{rendered}");
        assert!(rendered.contains(&format!("evidence: the rollout came with {helm}")), "{rendered}");
        let commands: Vec<&str> =
            rendered.lines().filter_map(|line| line.trim().strip_prefix("$ ")).collect();
        assert_eq!(
            commands[..3],
            [
                "helm rollback api 1 -n shop",
                "helm history api -n shop",
                "kubectl rollout undo deployment/api -n shop"
            ]
        );
    }

    /// Helm deployed the revision (no `--wait`) and its pods crash: the revision names the
    /// change, nothing failed in Helm's eyes, and rolling back to the one before comes first.
    #[test]
    fn a_helm_revision_deployed_with_the_rollout_names_it_and_rollback_goes_to_the_one_before() {
        let deployment = DEPLOYMENT.replace(
            "metadata: {name: api, namespace: shop, uid: d1}",
            "metadata: {name: api, namespace: shop, uid: d1, annotations: \
             {meta.helm.sh/release-name: api, meta.helm.sh/release-namespace: shop}}",
        );
        let releases = r#"
---
kind: HelmReleases
releases:
- {name: api, namespace: shop, revision: 1, status: superseded, chart: api, chart_version: 1.0.0,
   last_deployed: "2025-05-20T09:00:00Z", storage: secret, object: sh.helm.release.v1.api.v1}
- {name: api, namespace: shop, revision: 2, status: deployed, chart: api, chart_version: 1.1.0,
   last_deployed: "2025-06-01T11:44:59.5Z", description: Upgrade complete, storage: secret,
   object: sh.helm.release.v1.api.v2}
"#;
        let fixture = [
            deployment.as_str(),
            &replica_set("api-old", 3, "2025-05-20T09:00:00Z", 1),
            &replica_set("api-new", 4, "2025-06-01T11:45:00Z", 0),
            CRASHING,
            releases,
        ]
        .concat();
        let rendered = of_rule(&fixture, "bad-rollout");
        assert!(rendered.contains("[bad-rollout 80 P2]"), "{rendered}");
        assert!(
            rendered.contains(
                "evidence: the rollout came with Helm release shop/api revision 2 (chart api 1.1.0) \
                 deployed: Upgrade complete"
            ),
            "{rendered}"
        );
        let commands: Vec<&str> =
            rendered.lines().filter_map(|line| line.trim().strip_prefix("$ ")).collect();
        assert_eq!(
            commands[..3],
            [
                "helm rollback api 1 -n shop",
                "helm history api -n shop",
                "kubectl rollout undo deployment/api -n shop"
            ]
        );
        // Without the history in the bundle, the annotations alone add nothing.
        let bare = fixture.replace(releases, "");
        assert!(!of_rule(&bare, "bad-rollout").contains("helm"));
    }

    #[test]
    fn a_failure_long_after_the_rollout_is_not_blamed_on_it() {
        let fixture = [DEPLOYMENT, &replica_set("api-new", 4, "2025-05-01T11:45:00Z", 0), CRASHING].concat();
        expect![[r#""#]].assert_eq(&of_rule(&fixture, "bad-rollout"));
    }
}
