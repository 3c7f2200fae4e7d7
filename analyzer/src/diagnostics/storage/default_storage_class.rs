//! Diagnostic `default-storage-class`: no default StorageClass, or several;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::Object;

use super::classes;
use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::nodes::version;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "default-storage-class",
    category: Category::Storage,
    title: "No default StorageClass, or several",
    severities: &[Severity::P2, Severity::P3],
    what: "That exactly one StorageClass is the default (`storageclass.kubernetes.io/is-default-class: \
           \"true\"`, or the beta annotation): none, or several. And, when the bundle listed StorageClasses \
           and found none while claims exist, that the cluster has no StorageClass at all.",
    why: "Claims that name no class stay Pending without a default; with several defaults, old clusters \
          reject them and new ones pick the newest class. Without any class nothing is provisioned.",
    fix: "Mark exactly one StorageClass default with the is-default-class annotation; with none at all, \
          install a provisioner (a CSI driver and its StorageClass) or create PersistentVolumes by hand.",
    example: "`No default StorageClass (2 classes: gp2, gp3); 3 PVCs name no class`, with the `kubectl \
              patch storageclass` that makes one the default; `No StorageClass at all: 2 of 3 PVCs \
              Pending`.",
    // The engine runs it on zero StorageClasses only when the bundle listed them: then "none at
    // all" is a finding. When they were not captured, every claim would look unprovisionable.
    needs: &[Need::Kind("StorageClass")],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let all: Vec<&Object> = facts.cluster().of_kind("StorageClass").collect();
    if all.is_empty() {
        return no_class_at_all(facts).into_iter().collect();
    }
    let defaults = classes::defaults(facts.cluster());
    if defaults.len() == 1 {
        return Vec::new();
    }
    let classless: Vec<&Object> = facts
        .cluster()
        .of_kind("PersistentVolumeClaim")
        .filter(|pvc| pvc.at("/spec/storageClassName").is_none())
        .collect();
    let pending = classless.iter().filter(|pvc| pvc.str_at("/status/phase") == Some("Pending")).count();
    let names: Vec<&str> = all.iter().map(|class| class.name.as_str()).collect();
    let finding = if defaults.is_empty() {
        let severity = if pending > 0 { Severity::P2 } else { Severity::P3 };
        let mut finding = DIAGNOSTIC.finding(
            severity,
            format!(
                "No default StorageClass ({} classes: {}); {pending} pending {} no class",
                all.len(),
                names.join(", "),
                if pending == 1 { "PVC names" } else { "PVCs name" }
            ),
        );
        for class in &all {
            finding = finding.object(class.reference());
        }
        for pvc in classless.iter().filter(|pvc| pvc.str_at("/status/phase") == Some("Pending")) {
            finding = finding.object(pvc.reference());
        }
        let candidate = all.first().map(|class| class.name.as_str()).unwrap_or("<class>");
        finding
            .evidence(Evidence::note(format!(
                "no StorageClass carries \
                                              {}=\"true\"",
                classes::DEFAULT_ANNOTATIONS[0]
            )))
            .explanation(format!(
                "No StorageClass is the default, so a PersistentVolumeClaim that names no class is never \
                 provisioned and stays Pending ({pending} in this bundle). Helm charts and operators \
                 usually create such claims."
            ))
            .remediation(Kubectl::new("get storageclass"))
            .remediation(patch(candidate, "true"))
    } else {
        let before_126 = facts
            .cluster()
            .server_version
            .as_deref()
            .and_then(version::minor)
            .is_some_and(|(major, minor)| major == 1 && minor < 26);
        let severity = if before_126 { Severity::P2 } else { Severity::P3 };
        let mut sorted = defaults.clone();
        sorted.sort_by_key(|class| (class.created_at(), class.name.clone()));
        let default_names: Vec<&str> = sorted.iter().map(|class| class.name.as_str()).collect();
        let mut finding = DIAGNOSTIC.finding(
            severity,
            format!("{} StorageClasses are marked default: {}", defaults.len(), default_names.join(", ")),
        );
        for class in &sorted {
            let annotation = classes::DEFAULT_ANNOTATIONS
                .iter()
                .find(|key| class.annotations().get(**key).map(String::as_str) == Some("true"))
                .copied()
                .unwrap_or(classes::DEFAULT_ANNOTATIONS[0]);
            finding = finding.object(class.reference()).evidence(Evidence::field(
                class.reference(),
                format!("/metadata/annotations/{}", annotation.replace('/', "~1")),
                &"true".into(),
            ));
        }
        let effect = if before_126 {
            "This cluster is older than 1.26, so the API server rejects every claim that names no class."
        } else {
            "Since 1.26 the newest of them is used for claims that name no class, which may not be the \
             intended one."
        };
        let mut finding = finding
            .explanation(format!(
                "Several StorageClasses are marked default. {effect} ({} such claims exist.)",
                classless.len()
            ))
            .remediation(Kubectl::new("get storageclass"));
        // Keep the newest, the one 1.26+ already uses, and unmark the others.
        for class in sorted.iter().take(sorted.len().saturating_sub(1)) {
            finding = finding.remediation(patch(&class.name, "false"));
        }
        finding
    };
    vec![finding]
}

/// The claims of a cluster without any StorageClass: P2 when some are Pending (nothing will
/// provision them), P3 when all are bound to volumes made by hand (the next claim will need one
/// too). No claim, no finding: a cluster that uses no volume loses nothing.
fn no_class_at_all(facts: &Facts<'_>) -> Option<Finding> {
    let claims: Vec<&Object> = facts.cluster().of_kind("PersistentVolumeClaim").collect();
    if claims.is_empty() {
        return None;
    }
    let pending: Vec<&Object> =
        claims.iter().copied().filter(|pvc| pvc.str_at("/status/phase") == Some("Pending")).collect();
    let severity = if pending.is_empty() { Severity::P3 } else { Severity::P2 };
    let claims_word = if claims.len() == 1 { "PVC" } else { "PVCs" };
    let title = if pending.is_empty() {
        format!("No StorageClass at all; {} {claims_word} bound to volumes made by hand", claims.len())
    } else {
        format!("No StorageClass at all: {} of {} {claims_word} Pending", pending.len(), claims.len())
    };
    // The Pending claims are the ones affected; with none, a few bound ones show what relies on
    // hand-made volumes (the count is in the title).
    let shown: Vec<&Object> = if pending.is_empty() {
        claims.iter().copied().take(MAX_BOUND_SHOWN).collect()
    } else {
        pending.clone()
    };
    let mut finding = DIAGNOSTIC.finding(severity, title);
    for pvc in &shown {
        finding = finding.object(pvc.reference());
    }
    finding = finding.evidence(Evidence::note("the bundle's StorageClass list is empty"));
    for pvc in &pending {
        finding = finding.evidence(Evidence::field(
            pvc.reference(),
            "/spec/storageClassName",
            pvc.at("/spec/storageClassName").unwrap_or(&kubesnap_shared::json::Value::Null),
        ));
    }
    let fix = "Install a provisioner (a CSI driver with its StorageClass, marked default with the \
               is-default-class annotation), or create PersistentVolumes that match the claims.";
    let explanation = if pending.is_empty() {
        format!(
            "The cluster has no StorageClass, so nothing provisions volumes: {} bound to \
             PersistentVolumes created by hand, and a new claim stays Pending until someone creates a \
             matching volume. {fix}",
            if claims.len() == 1 {
                "its one claim is".to_owned()
            } else {
                format!("its {} claims are", claims.len())
            }
        )
    } else {
        format!(
            "The cluster has no StorageClass, so nothing provisions volumes: a claim binds only to a \
             matching PersistentVolume created by hand. {}, and the pods that mount {} cannot start. \
             Clusters installed without a storage add-on (kubeadm, bare metal) start this way. {fix}",
            if pending.len() == 1 {
                "One claim is Pending".to_owned()
            } else {
                format!("{} claims are Pending", pending.len())
            },
            if pending.len() == 1 { "it" } else { "them" }
        )
    };
    let mut finding = finding
        .explanation(explanation)
        .remediation(Kubectl::new("get storageclass"))
        .remediation(Kubectl::new("get persistentvolumes"));
    if let Some(pvc) = pending.first() {
        finding = finding.remediation(kubectl::describe(&pvc.reference()));
    }
    Some(finding)
}

/// How many bound claims a "no StorageClass" finding names when none is Pending.
const MAX_BOUND_SHOWN: usize = 10;

/// `kubectl patch storageclass <name>` setting the default annotation.
fn patch(name: &str, value: &str) -> Kubectl {
    let patch =
        format!(r#"{{"metadata":{{"annotations":{{"{}":"{value}"}}}}}}"#, classes::DEFAULT_ANNOTATIONS[0]);
    Kubectl::new("patch storageclass").name(name).arg("-p").name(&patch)
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    fn class(name: &str, default: &str, created: &str) -> String {
        format!(
            "---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {{name: {name}, \
             creationTimestamp: \"{created}\", annotations: \
             {{storageclass.kubernetes.io/is-default-class: \"{default}\"}}}}\nprovisioner: ebs.csi.aws.com\n"
        )
    }

    const PENDING: &str = "---\napiVersion: v1\nkind: PersistentVolumeClaim\n\
                           metadata: {name: data, namespace: shop}\nstatus: {phase: Pending}\n";

    #[test]
    fn none_default_with_a_pending_claim_is_p2() {
        let fixture = format!(
            "{}{}{PENDING}",
            class("gp2", "false", "2024-01-01T00:00:00Z"),
            class("gp3", "false", "2025-01-01T00:00:00Z")
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P2 default-storage-class No default StorageClass (2 classes: gp2, gp3); 1 pending PVC names no class
              objects: StorageClass/gp2, StorageClass/gp3, PersistentVolumeClaim/shop/data
              note: no StorageClass carries storageclass.kubernetes.io/is-default-class="true"
              why: No StorageClass is the default, so a PersistentVolumeClaim that names no class is never provisioned and stays Pending (1 in this bundle). Helm charts and operators usually create such claims.
              $ kubectl get storageclass
              $ kubectl patch storageclass gp2 -p '{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}'
        "#]],
        );
    }

    #[test]
    fn several_defaults_keep_the_newest_in_use() {
        let fixture = format!(
            "{}{}",
            class("gp2", "true", "2024-01-01T00:00:00Z"),
            class("gp3", "true", "2025-01-01T00:00:00Z")
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P3 default-storage-class 2 StorageClasses are marked default: gp2, gp3
              objects: StorageClass/gp2, StorageClass/gp3
              field StorageClass/gp2 /metadata/annotations/storageclass.kubernetes.io~1is-default-class = true
              field StorageClass/gp3 /metadata/annotations/storageclass.kubernetes.io~1is-default-class = true
              why: Several StorageClasses are marked default. Since 1.26 the newest of them is used for claims that name no class, which may not be the intended one. (0 such claims exist.)
              $ kubectl get storageclass
              $ kubectl patch storageclass gp2 -p '{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"false"}}}'
        "#]],
        );
    }

    const BOUND: &str = "---\napiVersion: v1\nkind: PersistentVolumeClaim\n\
                         metadata: {name: logs, namespace: shop}\nspec: {storageClassName: \"\", \
                         volumeName: pv-1}\nstatus: {phase: Bound}\n";

    #[test]
    fn no_class_at_all_with_a_pending_claim_is_p2() {
        check(
            &DIAGNOSTIC,
            &format!("{PENDING}{BOUND}"),
            expect![[r#"
                P2 default-storage-class No StorageClass at all: 1 of 2 PVCs Pending
                  objects: PersistentVolumeClaim/shop/data
                  note: the bundle's StorageClass list is empty
                  field PersistentVolumeClaim/shop/data /spec/storageClassName = null
                  why: The cluster has no StorageClass, so nothing provisions volumes: a claim binds only to a matching PersistentVolume created by hand. One claim is Pending, and the pods that mount it cannot start. Clusters installed without a storage add-on (kubeadm, bare metal) start this way. Install a provisioner (a CSI driver with its StorageClass, marked default with the is-default-class annotation), or create PersistentVolumes that match the claims.
                  $ kubectl get storageclass
                  $ kubectl get persistentvolumes
                  $ kubectl describe persistentvolumeclaim data -n shop
            "#]],
        );
    }

    #[test]
    fn no_class_at_all_with_only_bound_claims_is_p3() {
        check(
            &DIAGNOSTIC,
            BOUND,
            expect![[r#"
                P3 default-storage-class No StorageClass at all; 1 PVC bound to volumes made by hand
                  objects: PersistentVolumeClaim/shop/logs
                  note: the bundle's StorageClass list is empty
                  why: The cluster has no StorageClass, so nothing provisions volumes: its one claim is bound to PersistentVolumes created by hand, and a new claim stays Pending until someone creates a matching volume. Install a provisioner (a CSI driver with its StorageClass, marked default with the is-default-class annotation), or create PersistentVolumes that match the claims.
                  $ kubectl get storageclass
                  $ kubectl get persistentvolumes
            "#]],
        );
    }

    #[test]
    fn no_class_and_no_claim_is_fine() {
        check(
            &DIAGNOSTIC,
            "---\napiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\n",
            expect![[r#"
            no findings
        "#]],
        );
    }

    #[test]
    fn exactly_one_default_is_fine() {
        let fixture = format!(
            "{}{}{PENDING}",
            class("gp2", "false", "2024-01-01T00:00:00Z"),
            class("gp3", "true", "2025-01-01T00:00:00Z")
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
