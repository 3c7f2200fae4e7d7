//! Diagnostic `vpa-recommendation-far-from-requests`: VPA recommendations far from the requests;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{Object, ObjectRef};

use super::autoscalers::{number, target, template_spec, vpa_mode};
use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::performance::units;
use crate::facts::performance::usage::{Resources, container_in_pod};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "vpa-recommendation-far-from-requests",
    category: Category::Performance,
    title: "VPA recommendations far from the requests",
    severities: &[Severity::P2, Severity::P3],
    what: "VerticalPodAutoscalers whose recommendation \
           (`status.recommendation.containerRecommendations[].target`) is more than twice, or less than \
           half, the requests the containers run with. In `Off` mode those are the workload's template \
           requests; in the modes where the VPA applies its recommendation (`Auto`, `Recreate`, `Initial`, \
           `InPlaceOrRecreate`), the running pods' requests, since the VPA should have rewritten them. \
           Under-requested (target > 2× request) is P2, over-requested P3.",
    why: "Requests far below use overload nodes and are evicted first; far above, they waste reserved \
          capacity. In an applying mode, a gap means the VPA is not working.",
    fix: "Set the requests to the recommendation (`kubectl set resources ... --requests=...`), or find why \
          the VPA did not apply it (admission controller, updater, PodDisruptionBudgets).",
    example: "`VPA shop/api recommends 1.2 cores for container api, which requests 300m (4×)`, with \
              `kubectl set resources deployment/api -n shop -c api --requests=cpu=1200m`.",
    needs: &[Need::Kind("VerticalPodAutoscaler")],
    run,
};

/// How far apart (either way) a recommendation and a request must be.
const FACTOR: f64 = 2.0;

/// One resource of one container that is far off.
#[derive(Debug)]
struct Gap {
    container: String,
    resource: &'static str,
    request: f64,
    target: f64,
}

impl Gap {
    fn under(&self) -> bool {
        self.target > self.request
    }

    fn format(&self, value: f64) -> String {
        if self.resource == "cpu" { units::cpu(value) } else { units::memory(value) }
    }
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    facts.cluster().of_kind("VerticalPodAutoscaler").filter_map(|vpa| finding(facts, vpa)).collect()
}

/// The requests the containers run with, and where they were read.
fn requests_source<'a>(
    facts: &'a Facts<'_>,
    vpa: &Object,
    workload: &ObjectRef,
) -> Option<(&'a Object, String)> {
    if vpa_mode(vpa) != "Off"
        && let Some(&pod) = facts.pods_of_workload(workload).first()
    {
        return Some((pod, String::new()));
    }
    let (object, pointer) = template_spec(facts.cluster(), workload)?;
    Some((object, pointer.trim_end_matches("/spec").to_owned()))
}

fn finding(facts: &Facts<'_>, vpa: &Object) -> Option<Finding> {
    let workload = target(vpa, "/spec/targetRef")?;
    let (source, prefix) = requests_source(facts, vpa, &workload)?;
    let mut gaps = Vec::new();
    let mut evidence = Vec::new();
    for (index, recommendation) in
        vpa.array_at("/status/recommendation/containerRecommendations").iter().enumerate()
    {
        let Some(name) = recommendation.get("containerName").and_then(Value::as_str) else { continue };
        let Some((pointer, container)) = container_at(source, &prefix, name) else { continue };
        let resources = Resources::of(container);
        for (resource, request, scale) in
            [("cpu", resources.cpu_request, 1000.0), ("memory", resources.memory_request, 1.0)]
        {
            let Some(target) = recommendation.pointer(&format!("/target/{resource}")).and_then(number) else {
                continue;
            };
            let target = target * scale;
            let Some(request) = request.filter(|request| *request > 0.0) else { continue };
            if target > request * FACTOR || target * FACTOR < request {
                evidence.push(Evidence::field(
                    vpa.reference(),
                    format!("/status/recommendation/containerRecommendations/{index}/target/{resource}"),
                    recommendation.pointer(&format!("/target/{resource}")).unwrap_or(&Value::Null),
                ));
                if let Some(value) = container.pointer(&format!("/resources/requests/{resource}")) {
                    evidence.push(Evidence::field(
                        source.reference(),
                        format!("{pointer}/resources/requests/{resource}"),
                        value,
                    ));
                }
                gaps.push(Gap { container: name.to_owned(), resource, request, target });
            }
        }
    }
    let worst = gaps.iter().max_by(|a, b| spread(a).total_cmp(&spread(b)))?;
    let severity = if gaps.iter().any(Gap::under) { Severity::P2 } else { Severity::P3 };
    let namespace = vpa.namespace.as_deref().unwrap_or_default();
    let mode = vpa_mode(vpa);
    let mut finding = DIAGNOSTIC
        .finding(
            severity,
            format!(
                "VPA {namespace}/{} recommends {} {} for container {}, which requests {} ({:.1}×)",
                vpa.name,
                worst.format(worst.target),
                worst.resource,
                worst.container,
                worst.format(worst.request),
                worst.target / worst.request
            ),
        )
        .object(vpa.reference())
        .object(workload.clone());
    for item in evidence {
        finding = finding.evidence(item);
    }
    let listed: Vec<String> = gaps
        .iter()
        .map(|gap| {
            format!(
                "{} {}: requests {}, recommended {}",
                gap.container,
                gap.resource,
                gap.format(gap.request),
                gap.format(gap.target)
            )
        })
        .collect();
    let applying = if mode == "Off" {
        format!(
            "The VPA is in `Off` mode: it only recommends, and {} {} keeps its template's requests.",
            workload.kind, workload.name
        )
    } else {
        format!(
            "The VPA is in `{mode}` mode and should have applied its recommendation, yet pod {} still runs \
             with these requests: check that its admission controller and updater run.",
            source.name
        )
    };
    finding = finding.explanation(format!(
        "{}. {applying} Requests below use overload the node and are evicted first under memory pressure; \
         requests above it reserve capacity nothing uses.",
        listed.join("; ")
    ));
    finding = finding.remediation(kubectl::describe(&vpa.reference()));
    let mut containers: Vec<&str> = gaps.iter().map(|gap| gap.container.as_str()).collect();
    containers.dedup();
    for container in containers {
        let requests: Vec<(&str, String)> = gaps
            .iter()
            .filter(|gap| gap.container == container)
            .map(|gap| {
                let quantity = if gap.resource == "cpu" {
                    units::cpu_quantity(gap.target)
                } else {
                    units::memory_quantity(gap.target)
                };
                (gap.resource, quantity)
            })
            .collect();
        if units::has_template(&workload.kind) {
            finding = finding.remediation(units::set_resources(&workload, container, &requests, &[]));
        }
    }
    Some(finding)
}

/// How far off, either way, as a factor ≥ 1.
fn spread(gap: &Gap) -> f64 {
    (gap.target / gap.request).max(gap.request / gap.target)
}

/// A container of `object` at `prefix` (`""` for a pod, `/spec/template` for a workload).
fn container_at<'a>(object: &'a Object, prefix: &str, name: &str) -> Option<(String, &'a Value)> {
    if prefix.is_empty() {
        return container_in_pod(object, name);
    }
    ["containers", "initContainers"].into_iter().find_map(|list| {
        object.array_at(&format!("{prefix}/spec/{list}")).iter().enumerate().find_map(|(index, container)| {
            (container.get("name").and_then(Value::as_str) == Some(name))
                .then(|| (format!("{prefix}/spec/{list}/{index}"), container))
        })
    })
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;
    use crate::testing::deployment;

    const API: &str =
        "[{name: api, resources: {requests: {cpu: 300m, memory: 512Mi}, limits: {cpu: 1, memory: 2Gi}}}]";

    fn vpa(mode: &str, cpu: &str, memory: &str) -> String {
        format!(
            r#"
---
apiVersion: autoscaling.k8s.io/v1
kind: VerticalPodAutoscaler
metadata: {{name: api, namespace: shop}}
spec:
  targetRef: {{apiVersion: apps/v1, kind: Deployment, name: api}}
  updatePolicy: {{updateMode: "{mode}"}}
status:
  recommendation:
    containerRecommendations:
    - {{containerName: api, target: {{cpu: {cpu}, memory: "{memory}"}}, lowerBound: {{cpu: 100m, memory: 300Mi}}}}
"#
        )
    }

    #[test]
    fn a_recommendation_four_times_the_request_is_p2_with_the_command() {
        let fixture = deployment("shop", "api", &["api-a"], API) + &vpa("Off", "1200m", "600Mi");
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P2 vpa-recommendation-far-from-requests VPA shop/api recommends 1.2 cores cpu for container api, which requests 300m (4.0×)
              objects: VerticalPodAutoscaler/shop/api, Deployment/shop/api
              field VerticalPodAutoscaler/shop/api /status/recommendation/containerRecommendations/0/target/cpu = 1200m
              field Deployment/shop/api /spec/template/spec/containers/0/resources/requests/cpu = 300m
              why: api cpu: requests 300m, recommended 1.2 cores. The VPA is in `Off` mode: it only recommends, and Deployment api keeps its template's requests. Requests below use overload the node and are evicted first under memory pressure; requests above it reserve capacity nothing uses.
              $ kubectl describe verticalpodautoscaler api -n shop
              $ kubectl set resources deployment/api -n shop -c api --requests=cpu=1200m
        "#]],
        );
    }

    #[test]
    fn in_auto_mode_the_pods_requests_count_and_close_recommendations_are_fine() {
        // Auto mode: the VPA rewrote the pod's requests to 1200m, only the template lags.
        let applied = "[{name: api, resources: {requests: {cpu: 1200m, memory: 600Mi}}}]";
        let mut fixture = deployment("shop", "api", &["api-a"], API).replace(
            "spec: {nodeName: node-1, containers: [{name: api, resources: {requests: {cpu: 300m, memory: \
             512Mi}, limits: {cpu: 1, memory: 2Gi}}}]}",
            &format!("spec: {{nodeName: node-1, containers: {applied}}}"),
        );
        fixture += &vpa("Auto", "1200m", "600Mi");
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
        let close = deployment("shop", "api", &["api-a"], API) + &vpa("Off", "400m", "700Mi");
        check(
            &DIAGNOSTIC,
            &close,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
