//! Diagnostic `limit-range-defaults`: limitRange conflicts and silent defaults;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object};

use super::limit_ranges::{ContainerRange, container_ranges, effective};
use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::performance::units;
use crate::facts::workload::containers;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "limit-range-defaults",
    category: Category::Performance,
    title: "LimitRange conflicts and silent defaults",
    severities: &[Severity::P1, Severity::P3],
    what: "What each LimitRange's `type: Container` items do to the workloads of its namespace. Conflicts \
           (P1): a pod template whose requests or limits, after the defaults, are above `max`, below `min`, \
           or whose limit/request ratio is above `maxLimitRequestRatio`; the admission plugin rejects those \
           pods, so the controller cannot create them. Silent defaults (P3): containers without their own \
           requests or limits that get the LimitRange's `default` and `defaultRequest`; the finding lists \
           what is imposed on whom (a default CPU limit throttles, a default memory limit OOM-kills, and \
           neither is in the workload's manifest).",
    why: "A LimitRange acts at admission: rejected pods only show as FailedCreate events, and a defaulted \
          limit (CPU throttling, OOM kills) looks like the application's own choice.",
    fix: "Bring the workload's resources within the range (`kubectl set resources`), or change the \
          LimitRange; write defaults into the manifests that rely on them.",
    example: "`LimitRange team/limits rejects Deployment team/etl: etl memory limit 2 GiB above max 1 GiB`, \
              and `LimitRange team/limits silently sets cpu limit 500m, memory limit 512 MiB on 2 \
              containers`.",
    needs: &[Need::Kind("LimitRange")],
    run,
};

/// What a range does to one container.
#[derive(Debug, Default)]
struct Effect {
    /// `etl memory limit 2 GiB above max 1 GiB`.
    conflicts: Vec<String>,
    /// `cpu limit 500m`.
    imposed: Vec<String>,
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for range_object in facts.cluster().of_kind("LimitRange") {
        let namespace = range_object.namespace.as_deref().unwrap_or_default();
        let ranges: Vec<ContainerRange<'_>> = container_ranges(facts.cluster(), namespace)
            .into_iter()
            .filter(|r| std::ptr::eq(r.owner, range_object))
            .collect();
        if ranges.is_empty() {
            continue;
        }
        let mut rejected: Vec<(&Object, Vec<String>)> = Vec::new();
        let mut defaulted: Vec<(String, Vec<String>)> = Vec::new();
        for template in facts.templates().iter().filter(|t| t.owner.namespace.as_deref() == Some(namespace)) {
            let mut conflicts = Vec::new();
            for (container, _) in containers(template.spec, template.pointer) {
                let effect = effect(&ranges, container);
                conflicts.extend(effect.conflicts);
                if !effect.imposed.is_empty() {
                    let name = container.get("name").and_then(Value::as_str).unwrap_or_default();
                    defaulted.push((
                        format!("{} ({} {})", name, template.owner.kind, template.owner.name),
                        effect.imposed,
                    ));
                }
            }
            if !conflicts.is_empty() {
                rejected.push((template.owner, conflicts));
            }
        }
        if !rejected.is_empty() {
            findings.push(conflict_finding(facts.cluster(), range_object, &ranges, &rejected));
        } else if !defaulted.is_empty() {
            findings.push(defaults_finding(range_object, &ranges, &defaulted));
        }
    }
    findings
}

fn effect(ranges: &[ContainerRange<'_>], container: &Value) -> Effect {
    let name = container.get("name").and_then(Value::as_str).unwrap_or_default();
    let resources = effective(ranges, container);
    let format =
        |resource: &str, value: f64| if resource == "cpu" { units::cpu(value) } else { units::memory(value) };
    let mut effect = Effect::default();
    for range in ranges {
        for (resource, request, limit) in [
            ("cpu", resources.cpu_request, resources.cpu_limit),
            ("memory", resources.memory_request, resources.memory_limit),
        ] {
            if let (Some(max), Some(limit)) = (range.value("max", resource), limit)
                && limit > max
            {
                effect.conflicts.push(format!(
                    "{name} {resource} limit {} above max {}",
                    format(resource, limit),
                    format(resource, max)
                ));
            }
            if let Some(max) = range.value("max", resource)
                && limit.is_none()
            {
                effect.conflicts.push(format!(
                    "{name} has no {resource} limit but the range requires one (max {})",
                    format(resource, max)
                ));
            }
            if let (Some(min), Some(request)) = (range.value("min", resource), request)
                && request < min
            {
                effect.conflicts.push(format!(
                    "{name} {resource} request {} below min {}",
                    format(resource, request),
                    format(resource, min)
                ));
            }
            if let (Some(ratio), Some(request), Some(limit)) =
                (range.value("maxLimitRequestRatio", resource), request, limit)
                && request > 0.0
                && limit / request > ratio
            {
                effect.conflicts.push(format!(
                    "{name} {resource} limit/request {:.1} above maxLimitRequestRatio {ratio}",
                    limit / request
                ));
            }
        }
    }
    let own = |pointer: &str| container.pointer(pointer).is_some();
    for (pointer, label, value, resource) in [
        ("/resources/limits/cpu", "cpu limit", resources.cpu_limit, "cpu"),
        ("/resources/limits/memory", "memory limit", resources.memory_limit, "memory"),
        ("/resources/requests/cpu", "cpu request", resources.cpu_request, "cpu"),
        ("/resources/requests/memory", "memory request", resources.memory_request, "memory"),
    ] {
        let implied_by_own_limit =
            pointer.contains("requests") && own(&pointer.replace("requests", "limits"));
        if let Some(value) = value
            && !own(pointer)
            && !implied_by_own_limit
        {
            effect.imposed.push(format!("{label} {}", format(resource, value)));
        }
    }
    effect
}

/// `default: cpu=500m memory=512Mi; max: memory=1Gi`.
fn imposes(ranges: &[ContainerRange<'_>]) -> String {
    let mut parts = Vec::new();
    for range in ranges {
        for section in ["default", "defaultRequest", "max", "min", "maxLimitRequestRatio"] {
            let values: Vec<String> = ["cpu", "memory"]
                .into_iter()
                .filter_map(|resource| Some(format!("{resource}={}", range.text(section, resource)?)))
                .collect();
            if !values.is_empty() {
                parts.push(format!("{section}: {}", values.join(" ")));
            }
        }
    }
    parts.join("; ")
}

fn conflict_finding(
    model: &ClusterModel,
    range: &Object,
    ranges: &[ContainerRange<'_>],
    rejected: &[(&Object, Vec<String>)],
) -> Finding {
    let namespace = range.namespace.as_deref().unwrap_or_default();
    let (first, conflicts) = &rejected[0];
    let mut finding = DIAGNOSTIC
        .finding(
            Severity::P1,
            format!(
                "LimitRange {namespace}/{} rejects {} {namespace}/{}: {}",
                range.name,
                first.kind,
                first.name,
                conflicts.join("; ")
            ),
        )
        .object(range.reference());
    for (owner, conflicts) in rejected {
        finding = finding.object(owner.reference());
        if !std::ptr::eq(*owner, *first) {
            finding = finding.evidence(Evidence::note(format!(
                "{} {} also conflicts: {}",
                owner.kind,
                owner.name,
                conflicts.join("; ")
            )));
        }
    }
    for item in ranges {
        finding = finding.evidence(Evidence::field(range.reference(), item.pointer(), item.item));
    }
    for event in model
        .events
        .iter()
        .filter(|event| event.namespace.as_deref() == Some(namespace) && event.reason == "FailedCreate")
        .filter(|event| event.message.contains("forbidden") && event.message.contains(&range.name))
        .take(3)
    {
        finding = finding.evidence(Evidence::event(event));
    }
    finding
        .explanation(format!(
            "The LimitRanger admission plugin checks every pod created in {namespace} against this range \
             ({}) and rejects those outside it. The workload's controller keeps trying and only FailedCreate \
             events on it say why its pods do not appear.",
            imposes(ranges)
        ))
        .remediation(kubectl::describe(&range.reference()))
        .remediation(Kubectl::new("get events").namespace(namespace).arg(
            "--field-selector \
                                                                          reason=FailedCreate",
        ))
        .remediation(kubectl::describe(&first.reference()))
}

fn defaults_finding(
    range: &Object,
    ranges: &[ContainerRange<'_>],
    defaulted: &[(String, Vec<String>)],
) -> Finding {
    let namespace = range.namespace.as_deref().unwrap_or_default();
    let mut kinds: Vec<&str> =
        defaulted.iter().flat_map(|(_, imposed)| imposed.iter().map(String::as_str)).collect();
    kinds.sort();
    kinds.dedup();
    let noun = if defaulted.len() == 1 { "container" } else { "containers" };
    let mut finding = DIAGNOSTIC
        .finding(
            Severity::P3,
            format!(
                "LimitRange {namespace}/{} silently sets {} on {} {noun}",
                range.name,
                kinds.join(", "),
                defaulted.len()
            ),
        )
        .object(range.reference());
    for item in ranges {
        finding = finding.evidence(Evidence::field(range.reference(), item.pointer(), item.item));
    }
    for (container, imposed) in defaulted {
        finding = finding.evidence(Evidence::note(format!("{container}: {}", imposed.join(", "))));
    }
    finding
        .explanation(format!(
            "These containers declare no requests or limits of their own, so the LimitRange's defaults ({}) \
             apply at admission. The values are in the running pods but in no manifest: a default CPU limit \
             throttles, a default memory limit OOM-kills, and whoever reads the Deployment will not see why.",
            imposes(ranges)
        ))
        .remediation(kubectl::describe(&range.reference()))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;
    use crate::testing::deployment;

    const RANGE: &str = r#"
---
apiVersion: v1
kind: LimitRange
metadata: {name: limits, namespace: team}
spec:
  limits:
  - {type: Container, default: {cpu: 500m, memory: 512Mi}, defaultRequest: {cpu: 100m, memory: 256Mi}, max: {memory: 1Gi}}
"#;

    #[test]
    fn a_template_above_max_is_rejected_and_named_with_the_failed_create() {
        let fixture = deployment("team", "etl", &[], "[{name: etl, resources: {limits: {memory: 2Gi}}}]")
            + &deployment("team", "web", &["web-a"], "[{name: web}]")
            + RANGE
            + r#"
---
apiVersion: v1
kind: Event
metadata: {name: etl-rs.1, namespace: team}
involvedObject: {kind: ReplicaSet, name: etl-rs, namespace: team}
type: Warning
reason: FailedCreate
message: 'Error creating: pods "etl-rs-x" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi (LimitRange limits)'
count: 14
source: {component: replicaset-controller}
"#;
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 limit-range-defaults LimitRange team/limits rejects Deployment team/etl: etl memory limit 2 GiB above max 1 GiB
              objects: LimitRange/team/limits, Deployment/team/etl
              field LimitRange/team/limits /spec/limits/0 = {"default":{"cpu":"500m","memory":"512Mi"},"defaultRequest":{"cpu":"100m","memory":"256Mi"},"max":{"memory":"1Gi"},"type":"Container"}
              event FailedCreate x14 (replicaset-controller): Error creating: pods "etl-rs-x" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi (LimitRange limits)
              why: The LimitRanger admission plugin checks every pod created in team against this range (default: cpu=500m memory=512Mi; defaultRequest: cpu=100m memory=256Mi; max: memory=1Gi) and rejects those outside it. The workload's controller keeps trying and only FailedCreate events on it say why its pods do not appear.
              $ kubectl describe limitrange limits -n team
              $ kubectl get events -n team --field-selector reason=FailedCreate
              $ kubectl describe deployment etl -n team
        "#]],
        );
    }

    #[test]
    fn defaults_applied_silently_are_listed_and_explicit_resources_are_not() {
        let defaulted = deployment("team", "web", &["web-a"], "[{name: web}]") + RANGE;
        check(
            &DIAGNOSTIC,
            &defaulted,
            expect![[r#"
            P3 limit-range-defaults LimitRange team/limits silently sets cpu limit 500m, cpu request 100m, memory limit 512 MiB, memory request 256 MiB on 1 container
              objects: LimitRange/team/limits
              field LimitRange/team/limits /spec/limits/0 = {"default":{"cpu":"500m","memory":"512Mi"},"defaultRequest":{"cpu":"100m","memory":"256Mi"},"max":{"memory":"1Gi"},"type":"Container"}
              note: web (Deployment web): cpu limit 500m, memory limit 512 MiB, cpu request 100m, memory request 256 MiB
              why: These containers declare no requests or limits of their own, so the LimitRange's defaults (default: cpu=500m memory=512Mi; defaultRequest: cpu=100m memory=256Mi; max: memory=1Gi) apply at admission. The values are in the running pods but in no manifest: a default CPU limit throttles, a default memory limit OOM-kills, and whoever reads the Deployment will not see why.
              $ kubectl describe limitrange limits -n team
        "#]],
        );
        let explicit = deployment(
            "team",
            "web",
            &["web-a"],
            "[{name: web, resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 200m, memory: \
             256Mi}}}]",
        ) + RANGE;
        check(
            &DIAGNOSTIC,
            &explicit,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
