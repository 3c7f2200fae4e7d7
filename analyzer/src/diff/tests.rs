//! Tests of the diff as a whole: a rollout that broke a Deployment, a bundle against itself,
//! and the mirror property over generated clusters.

use expect_test::expect_file;
use proptest::prelude::*;

use super::*;
use crate::testing::model_from_yaml;

const COMMON: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: kube-system, uid: ks-1}
---
apiVersion: v1
kind: Node
metadata: {name: node-a, uid: n1}
status:
  nodeInfo: {kubeletVersion: v1.33.13}
  conditions: [{type: Ready, status: "True", lastHeartbeatTime: "HEARTBEAT"}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, uid: s2}
spec: {selector: {app: web}, ports: [{port: 80}]}
"#;

const OLD: &str = r#"
kind: Fixture
capturedAt: "2025-06-01T09:00:00Z"
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop, uid: d1, generation: 1, resourceVersion: "100"}
spec:
  replicas: 1
  template: {spec: {containers: [{name: app, image: "cart:1.4.2", envFrom: [{configMapRef: {name: cart-config}}]}]}}
status: {replicas: 1, readyReplicas: 1, observedGeneration: 1}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: cart-aaa
  namespace: shop
  uid: r1
  creationTimestamp: "2025-05-30T10:00:00Z"
  annotations: {deployment.kubernetes.io/revision: "1"}
  ownerReferences: [{kind: Deployment, name: cart, uid: d1, controller: true}]
spec: {replicas: 1, template: {spec: {containers: [{name: app, image: "cart:1.4.2"}]}}}
---
apiVersion: v1
kind: Pod
metadata:
  name: cart-aaa-1
  namespace: shop
  ownerReferences: [{kind: ReplicaSet, name: cart-aaa, uid: r1, controller: true}]
spec: {nodeName: node-a, containers: [{name: app, image: "cart:1.4.2"}]}
status:
  phase: Running
  conditions: [{type: Ready, status: "True"}]
  containerStatuses: [{name: app, ready: true, restartCount: 0, state: {running: {startedAt: "2025-05-30T10:00:05Z"}}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cart-config, namespace: shop, uid: c1}
data: {LOG_LEVEL: info}
---
apiVersion: v1
kind: Secret
metadata: {name: cart-tls, namespace: shop, uid: x0}
data: {tls.crt: "<redacted: 900 bytes>"}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop, uid: s1}
spec: {selector: {app: cart}, ports: [{port: 80}]}
"#;

const NEW: &str = r#"
kind: Fixture
capturedAt: "2025-06-01T09:30:00Z"
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop, uid: d1, generation: 2, resourceVersion: "180"}
spec:
  replicas: 1
  template: {spec: {containers: [{name: app, image: "cart:1.5.0", envFrom: [{configMapRef: {name: cart-config}}]}]}}
status: {replicas: 1, readyReplicas: 0, unavailableReplicas: 1, observedGeneration: 2}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: cart-aaa
  namespace: shop
  uid: r1
  creationTimestamp: "2025-05-30T10:00:00Z"
  annotations: {deployment.kubernetes.io/revision: "1"}
  ownerReferences: [{kind: Deployment, name: cart, uid: d1, controller: true}]
spec: {replicas: 0, template: {spec: {containers: [{name: app, image: "cart:1.4.2"}]}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: cart-bbb
  namespace: shop
  uid: r2
  creationTimestamp: "2025-06-01T09:12:00Z"
  annotations: {deployment.kubernetes.io/revision: "2"}
  ownerReferences: [{kind: Deployment, name: cart, uid: d1, controller: true}]
spec: {replicas: 1, template: {spec: {containers: [{name: app, image: "cart:1.5.0"}]}}}
---
apiVersion: v1
kind: Pod
metadata:
  name: cart-bbb-1
  namespace: shop
  ownerReferences: [{kind: ReplicaSet, name: cart-bbb, uid: r2, controller: true}]
spec: {nodeName: node-a, containers: [{name: app, image: "cart:1.5.0"}]}
status:
  phase: Running
  conditions: [{type: Ready, status: "False"}]
  containerStatuses:
  - {name: app, ready: false, restartCount: 6, state: {waiting: {reason: CrashLoopBackOff, message: "back-off 5m0s"}},
     lastState: {terminated: {exitCode: 1, reason: Error, finishedAt: "2025-06-01T09:28:00Z"}}}
---
apiVersion: v1
kind: Event
metadata: {name: cart-bbb-1.1, namespace: shop}
involvedObject: {kind: Pod, namespace: shop, name: cart-bbb-1}
type: Warning
reason: BackOff
message: Back-off restarting failed container app
count: 20
firstTimestamp: "2025-06-01T09:13:00Z"
lastTimestamp: "2025-06-01T09:29:00Z"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cart-config, namespace: shop, uid: c1}
data: {LOG_LEVEL: debug}
---
apiVersion: v1
kind: Secret
metadata: {name: cart-db, namespace: shop, uid: x1}
data: {password: "<redacted: 12 bytes>"}
"#;

fn node_cordoned(fixture: &str) -> String {
    fixture.replace(
        "metadata: {name: node-a, uid: n1}",
        "metadata: {name: node-a, uid: n1}\nspec: {unschedulable: true}",
    )
}

fn models() -> (ClusterModel, ClusterModel) {
    let old = model_from_yaml(&format!("{OLD}---{COMMON}"));
    let new = model_from_yaml(&node_cordoned(&format!("{NEW}---{}", COMMON.replace("HEARTBEAT", "LATER"))));
    (old, new)
}

fn diff_of(old: &ClusterModel, new: &ClusterModel) -> BundleDiff {
    // Named after their capture time, so that the swapped diff names them the same way.
    let name = |model: &ClusterModel| model.captured_at.map(|at| at.to_string()).unwrap_or_default();
    compare(&Analyzed::new(&name(old), old), &Analyzed::new(&name(new), new))
}

#[test]
fn a_rollout_that_broke_a_deployment_is_told_next_to_its_crash_loop() {
    let (old, new) = models();
    let diff = diff_of(&old, &new);
    assert_eq!(diff.identity.verdict, Verdict::Same);
    let cart = diff.summary.iter().find(|line| {
        line.object.as_ref().is_some_and(|object| object.name == "cart" && object.kind == "Deployment")
    });
    let cart = cart.unwrap_or_else(|| panic!("no line for the Deployment: {:#?}", diff.summary));
    assert!(
        cart.changes.iter().any(|change| change.contains("image app cart:1.4.2 → cart:1.5.0")),
        "{cart:?}"
    );
    assert!(
        cart.changes.iter().any(|change| change.starts_with("rolled out revision 2 at 09:12 UTC")),
        "{cart:?}"
    );
    assert!(
        cart.findings
            .iter()
            .any(|finding| finding.starts_with("new P") && finding.contains("crash-loop-backoff")),
        "{cart:?}"
    );
    let removed: Vec<String> = diff.objects.removed.iter().map(|entry| entry.object.to_string()).collect();
    assert_eq!(removed, ["Secret/shop/cart-tls", "Service/shop/cart"]);
    let added: Vec<String> = diff.objects.added.iter().map(|entry| entry.object.to_string()).collect();
    assert_eq!(added, ["Secret/shop/cart-db"]);
    let changed: Vec<String> =
        diff.objects.changed.iter().map(|changed| changed.object.to_string()).collect();
    assert_eq!(
        changed,
        ["ConfigMap/shop/cart-config", "Deployment/shop/cart", "Node/node-a"],
        "heartbeats are churn"
    );
    let derived = &diff.objects.derived;
    assert_eq!(derived.len(), 1, "pods and ReplicaSets roll up under their Deployment: {derived:#?}");
    assert_eq!(diff.between.rollouts.len(), 1);
    assert_eq!(diff.between.events.len(), 1);
    assert_eq!(diff.between.nodes.iter().map(|node| node.describe()).collect::<Vec<_>>(), ["cordoned"]);
    // The Secret's value is never shown, not even the redaction placeholder.
    let json = render::json(&diff).unwrap_or_default();
    assert!(!json.contains("<redacted"), "{json}");
    expect_file!["snapshots/rollout.md"]
        .assert_eq(&render::markdown(&diff).unwrap_or_else(|error| format!("{error:#}")));
}

#[test]
fn a_bundle_against_itself_is_no_difference_and_says_so() {
    let (old, new) = models();
    for model in [&old, &new] {
        let diff = diff_of(model, model);
        assert!(diff.is_empty(), "{diff:#?}");
        assert!(diff.summary.is_empty());
        let text = render::markdown(&diff).unwrap_or_default();
        assert!(text.contains("**No difference**"), "{text}");
        let html = render::html(&diff).unwrap_or_default();
        assert!(html.contains("No difference") && html.contains("--p0:"), "the report's style is inlined");
    }
}

#[test]
fn swapping_the_bundles_gives_the_mirror() {
    let (old, new) = models();
    assert_eq!(diff_of(&new, &old), diff_of(&old, &new).mirror());
}

#[test]
fn two_clusters_are_said_loudly() {
    let (old, _) = models();
    let other = model_from_yaml(
        &(OLD.replace("uid: d1", "uid: d9")
            + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system, uid: ks-2}\n---\napiVersion: v1\nkind: Node\nmetadata: {name: node-z}\n"),
    );
    let diff = diff_of(&old, &other);
    assert_eq!(diff.identity.verdict, Verdict::Different);
    let text = render::markdown(&diff).unwrap_or_default();
    assert!(text.contains("look like two different clusters"), "{text}");
}

/// A small generated cluster: a few objects of a few kinds whose fields vary.
fn cluster() -> impl Strategy<Value = String> {
    let object = (0..4_usize, 0..3_usize, 0..3_usize, 0..3_u8, any::<bool>()).prop_map(|(kind, name, value, replicas, flag)| {
        let name = ["a", "b", "c"][name];
        let value = ["x", "y", "z"][value];
        match kind {
            0 => format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: ns}}\ndata: {{key: {value}}}\n"),
            1 => format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: ns, uid: {name}-{flag}}}\n\
                 spec: {{replicas: {replicas}, template: {{spec: {{containers: [{{name: app, image: \"img:{value}\"}}]}}}}}}\n\
                 status: {{replicas: {replicas}, readyReplicas: {}}}\n",
                if flag { replicas } else { 0 }
            ),
            2 => format!("apiVersion: v1\nkind: Node\nmetadata: {{name: {name}}}\nspec: {{unschedulable: {flag}}}\nstatus: {{conditions: [{{type: Ready, status: \"{}\"}}]}}\n", if flag { "True" } else { "False" }),
            _ => format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: ns}}\nspec: {{containers: [{{name: app, image: \"img:{value}\"}}]}}\n\
                 status: {{phase: Running, containerStatuses: [{{name: app, ready: {flag}, restartCount: {replicas}, state: {{{}}}}}]}}\n",
                if flag { "running: {}" } else { "waiting: {reason: CrashLoopBackOff}" }
            ),
        }
    });
    (proptest::collection::vec(object, 0..6), 0..3_u8).prop_map(|(objects, minute)| {
        let mut text = format!("kind: Fixture\ncapturedAt: \"2025-06-01T09:0{minute}:00Z\"\n");
        for object in objects {
            text.push_str("---\n");
            text.push_str(&object);
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_diff_of_swapped_bundles_is_the_mirror_and_a_bundle_against_itself_is_empty(a in cluster(), b in cluster()) {
        let (a, b) = (model_from_yaml(&a), model_from_yaml(&b));
        prop_assert!(diff_of(&a, &a).is_empty());
        prop_assert_eq!(diff_of(&b, &a), diff_of(&a, &b).mirror());
    }
}

/// A StatefulSet's new ControllerRevision and a Helm history that grew by one failed revision.
const STATEFUL_OLD: &str = r#"
kind: Fixture
capturedAt: "2025-06-01T09:00:00Z"
---
apiVersion: apps/v1
kind: ControllerRevision
metadata:
  name: db-7c9f
  namespace: shop
  creationTimestamp: "2025-05-30T10:00:00Z"
  ownerReferences: [{kind: StatefulSet, name: db, uid: st1, controller: true}]
revision: 1
data: {spec: {template: {spec: {containers: [{name: postgres, image: "postgres:16.2"}]}, "$patch": replace}}}
---
kind: HelmReleases
releases:
- {name: shop, namespace: shop, revision: 1, status: deployed, chart: shop, chart_version: 0.1.0,
   first_deployed: "2025-05-30T10:00:00Z", last_deployed: "2025-05-30T10:00:00Z",
   description: Install complete, storage: secret, object: sh.helm.release.v1.shop.v1}
"#;

const STATEFUL_NEW: &str = r#"
kind: Fixture
capturedAt: "2025-06-01T09:30:00Z"
---
apiVersion: apps/v1
kind: ControllerRevision
metadata:
  name: db-7c9f
  namespace: shop
  creationTimestamp: "2025-05-30T10:00:00Z"
  ownerReferences: [{kind: StatefulSet, name: db, uid: st1, controller: true}]
revision: 1
data: {spec: {template: {spec: {containers: [{name: postgres, image: "postgres:16.2"}]}, "$patch": replace}}}
---
apiVersion: apps/v1
kind: ControllerRevision
metadata:
  name: db-5d4b
  namespace: shop
  creationTimestamp: "2025-06-01T09:10:00Z"
  ownerReferences: [{kind: StatefulSet, name: db, uid: st1, controller: true}]
revision: 2
data: {spec: {template: {spec: {containers: [{name: postgres, image: "postgres:17.0"}]}, "$patch": replace}}}
---
kind: HelmReleases
releases:
- {name: shop, namespace: shop, revision: 1, status: deployed, chart: shop, chart_version: 0.1.0,
   first_deployed: "2025-05-30T10:00:00Z", last_deployed: "2025-05-30T10:00:00Z",
   description: Install complete, storage: secret, object: sh.helm.release.v1.shop.v1}
- {name: shop, namespace: shop, revision: 2, status: failed, chart: shop, chart_version: 0.2.0,
   first_deployed: "2025-05-30T10:00:00Z", last_deployed: "2025-06-01T09:10:00.25Z",
   description: 'Upgrade "shop" failed: timed out waiting for the condition', storage: secret,
   object: sh.helm.release.v1.shop.v2}
"#;

#[test]
fn statefulset_revisions_and_helm_revisions_are_what_happened_between() {
    let (old, new) = (model_from_yaml(STATEFUL_OLD), model_from_yaml(STATEFUL_NEW));
    let diff = diff_of(&old, &new);
    let rollouts: Vec<String> = diff
        .between
        .rollouts
        .iter()
        .map(|rollout| {
            let images: Vec<String> = rollout
                .images
                .iter()
                .map(|image| format!("{} {:?} → {:?}", image.container, image.before, image.after))
                .collect();
            format!("{} {} {:?} {images:?}", rollout.workload, rollout.revision_object, rollout.revision)
        })
        .collect();
    assert_eq!(
        rollouts,
        [concat!(
            r#"StatefulSet/shop/db ControllerRevision/shop/db-5d4b Some("2") "#,
            r#"["postgres Some(\"postgres:16.2\") → Some(\"postgres:17.0\")"]"#
        )]
    );
    let helm: Vec<String> = diff.between.helm.iter().map(between::HelmRevision::describe).collect();
    assert_eq!(
        helm,
        [concat!(
            r#"shop/shop revision 2 (chart shop 0.2.0): failed: Upgrade "#,
            r#""shop" failed: timed out waiting for the condition"#
        )]
    );
    let markdown = render::markdown(&diff).unwrap_or_else(|error| format!("{error:#}"));
    assert!(
        markdown.contains("**Helm revisions**") && markdown.contains("shop/shop revision 2"),
        "{markdown}"
    );
    assert!(markdown.contains("StatefulSet/shop/db: ControllerRevision db-5d4b (revision 2)"), "{markdown}");
    // Helm history only in the later bundle: what was deployed in the window still counts.
    let mut bare = model_from_yaml(STATEFUL_OLD);
    bare.helm_releases = None;
    assert_eq!(diff_of(&bare, &new).between.helm.len(), 1);
    // The mirror and the self-diff hold with Helm history too.
    assert_eq!(diff_of(&new, &old), diff.mirror());
    assert!(diff_of(&new, &new).between.is_empty());
}

/// A ControllerRevision of DaemonSet `kube-system/agent`, as a YAML document of a fixture.
fn agent_revision(name: &str, number: u64, created: &str, image: &str) -> String {
    format!(
        r#"
---
apiVersion: apps/v1
kind: ControllerRevision
metadata:
  name: {name}
  namespace: kube-system
  creationTimestamp: "{created}"
  ownerReferences: [{{kind: DaemonSet, name: agent, uid: ds1, controller: true}}]
revision: {number}
data: {{spec: {{template: {{spec: {{containers: [{{name: agent, image: "{image}"}}]}}}}}}}}
"#
    )
}

/// A DaemonSet's ControllerRevision made in between; one made before the earlier capture
/// that the earlier bundle did not hold (it was listed before it existed) is not.
#[test]
fn daemonset_revisions_are_rollouts_too() {
    let old = [
        "kind: Fixture\ncapturedAt: \"2025-06-01T09:00:00Z\"\n",
        &agent_revision("agent-1", 1, "2025-05-01T00:00:00Z", "agent:1.0"),
    ]
    .concat();
    let new = [
        "kind: Fixture\ncapturedAt: \"2025-06-01T10:00:00Z\"\n",
        &agent_revision("agent-1", 1, "2025-05-01T00:00:00Z", "agent:1.0"),
        &agent_revision("agent-0", 0, "2025-04-01T00:00:00Z", "agent:0.9"),
        &agent_revision("agent-2", 2, "2025-06-01T09:30:00Z", "agent:1.1"),
    ]
    .concat();
    let diff = diff_of(&model_from_yaml(&old), &model_from_yaml(&new));
    let rollouts: Vec<String> = diff
        .between
        .rollouts
        .iter()
        .map(|rollout| {
            let images: Vec<String> = rollout
                .images
                .iter()
                .map(|image| format!("{} {:?} → {:?}", image.container, image.before, image.after))
                .collect();
            format!("{} {} {:?} {images:?}", rollout.workload, rollout.revision_object, rollout.revision)
        })
        .collect();
    assert_eq!(
        rollouts,
        [concat!(
            r#"DaemonSet/kube-system/agent ControllerRevision/kube-system/agent-2 "#,
            r#"Some("2") ["agent Some(\"agent:1.0\") → Some(\"agent:1.1\")"]"#
        )]
    );
}

/// A native capture's end is rounded to the second: a revision the earlier bundle lacks, made in
/// the second before that rounded end, was made after the capture listed it (the flake the
/// control-plane diff test met: a capture that ended at 12:20:51.6, recorded as 12:20:52, and a
/// ReplicaSet created at 12:20:51). One made two seconds before is not in the window.
#[test]
fn a_revision_in_the_second_before_the_rounded_capture_end_is_between() {
    let revision = |name: &str, number: u64, created: &str| {
        agent_revision(name, number, created, &format!("agent:{number}"))
    };
    let old = [
        "kind: Fixture\ncapturedAt: \"2026-12-05T12:20:52Z\"\n",
        &revision("agent-1", 1, "2026-12-01T00:00:00Z"),
    ]
    .concat();
    let new = [
        "kind: Fixture\ncapturedAt: \"2026-12-05T12:21:03Z\"\n",
        &revision("agent-1", 1, "2026-12-01T00:00:00Z"),
        &revision("agent-2", 2, "2026-12-05T12:20:51Z"),
        &revision("agent-3", 3, "2026-12-05T12:20:50Z"),
    ]
    .concat();
    let diff = diff_of(&model_from_yaml(&old), &model_from_yaml(&new));
    let made: Vec<String> =
        diff.between.rollouts.iter().map(|rollout| rollout.revision_object.to_string()).collect();
    assert_eq!(made, ["ControllerRevision/kube-system/agent-2"]);
}
