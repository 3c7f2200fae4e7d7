//! Diagnostic `resource-instability`: unstable resource usage;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::ClusterModel;

use super::autoscalers::hpas_for;
use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::performance::units;
use crate::facts::performance::usage::{ContainerUsage, Group, MIB, group};
use crate::finding::{Category, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "resource-instability",
    category: Category::Performance,
    title: "Unstable resource usage",
    severities: &[Severity::P2],
    what: "The stability score of each container, `max(0, 100 − (cpu_cv + memory_cv) × 50)` where `cv = \
           stdev / max(mean, 1)` (CPU in millicores, memory in MiB as `K8sPerformanceAnalyzer` reads \
           `kubectl top`), below 70. Needs 3 samples. One guard `K8sPerformanceAnalyzer` lacks: the swing \
           must be material (a CPU stdev of at least 25m or a memory stdev of at least 16 MiB), since an \
           idle container going from 1m to 4m has a CV of 1 and would score 50.",
    why: "A container whose usage swings is sized for neither end: requests from the mean starve it at the \
          peaks, limits from the peaks waste the rest.",
    fix: "Find what drives the swings (batches, GC, traffic), and let an HPA follow them rather than \
          sizing every replica for the peak.",
    example: "The prod-simulation scenario's `connection-monitor` alternates 30 s of `yes` with 10 s of \
              rest: `stability score 48 (CPU cv 1.04, memory cv 0.00)`.",
    needs: &[Need::Metrics],
    run,
};

/// `K8sPerformanceAnalyzer`'s threshold.
const UNSTABLE_BELOW: f64 = 70.0;
const MIN_SAMPLES: usize = 3;
/// Swings smaller than these are noise, whatever their CV.
const MIN_CPU_STDEV: f64 = 25.0;
const MIN_MEMORY_STDEV: f64 = 16.0 * MIB;

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let affected = facts
        .usages()
        .iter()
        .cloned()
        .filter_map(|usage| {
            let score = usage.stability_score();
            let material = usage.cpu.stdev >= MIN_CPU_STDEV || usage.memory.stdev >= MIN_MEMORY_STDEV;
            (usage.series.samples.len() >= MIN_SAMPLES && score < UNSTABLE_BELOW && material)
                .then_some((usage, score))
        })
        .collect();
    group(facts, affected).iter().map(|group| finding(facts.cluster(), group)).collect()
}

fn memory_cv(usage: &ContainerUsage<'_>) -> f64 {
    usage.memory.stdev / (usage.memory.mean / MIB).max(1.0) / MIB
}

fn finding(model: &ClusterModel, group: &Group<'_, f64>) -> Finding {
    let Some((usage, score)) = group.members.iter().min_by(|(_, a), (_, b)| a.total_cmp(b)) else {
        return DIAGNOSTIC.finding(Severity::P2, group.label());
    };
    let mut finding = DIAGNOSTIC.finding(
        Severity::P2,
        format!(
            "{}: stability score {score:.0} (CPU cv {:.2}, memory cv {:.2})",
            group.label(),
            usage.cpu.variation(),
            memory_cv(usage)
        ),
    );
    for object in group.objects() {
        finding = finding.object(object);
    }
    for (usage, score) in &group.members {
        let label = usage.label();
        finding = finding
            .evidence(units::metric(format!("cpu+memory {label}"), "stability-score", *score, "score"))
            .evidence(units::cpu_metric(&label, "mean", usage.cpu.mean))
            .evidence(units::cpu_metric(&label, "stdev", usage.cpu.stdev))
            .evidence(units::memory_metric(&label, "mean", usage.memory.mean))
            .evidence(units::memory_metric(&label, "stdev", usage.memory.stdev));
    }
    let autoscaled = group.workload.as_ref().is_some_and(|workload| !hpas_for(model, workload).is_empty());
    finding = finding.explanation(format!(
        "Over {} samples container `{}` of pod {} used {} CPU on average with a standard deviation of {} \
         (min {}, max {}), and {} memory ± {}. The stability score is 100 − (CPU CV + memory CV) × 50 \
         and calls below 70 unstable. Requests set from the average starve such a container at its peaks; \
         limits set from the peaks waste the rest.{}",
        usage.series.samples.len(),
        group.container,
        usage.key().pod,
        units::cpu(usage.cpu.mean),
        units::cpu(usage.cpu.stdev),
        units::cpu(usage.cpu.min),
        units::cpu(usage.cpu.max),
        units::memory(usage.memory.mean),
        units::memory(usage.memory.stdev),
        if autoscaled { " An HPA already scales the workload." } else { "" }
    ));
    let pod = usage.pod_ref();
    finding = finding.remediation(units::top_pod(&pod));
    if let Some(workload) =
        group.workload.as_ref().filter(|w| matches!(w.kind.as_str(), "Deployment" | "StatefulSet"))
        && !autoscaled
    {
        let replicas = model
            .get(&workload.kind, workload.namespace.as_deref(), &workload.name)
            .and_then(|object| object.i64_at("/spec/replicas"))
            .unwrap_or(1)
            .max(1);
        finding = finding.remediation(
            kubectl::on("autoscale", workload)
                .arg("--cpu-percent=70")
                .joined("--min=", &replicas.to_string())
                .joined("--max=", &(replicas * 2).to_string()),
        );
    }
    finding
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::{check, deployment, series};

    const DATABASE: &str = "[{name: database, resources: {requests: {cpu: 500m, memory: 1Gi}, limits: \
                            {cpu: 2, memory: 4Gi}}}, {name: connection-monitor, resources: {requests: \
                            {cpu: 100m, memory: 128Mi}, limits: {cpu: 500m, memory: 512Mi}}}]";

    #[test]
    fn prod_simulations_connection_monitor_bursts_and_rests_while_the_database_is_steady() {
        let mut fixture =
            deployment("prod-simulation", "database-service", &["database-service-a"], DATABASE);
        // 30 s of `yes` (500m, its limit) then 10 s of rest: most 30-s samples land in a burst.
        fixture +=
            &series("prod-simulation", "database-service-a", "connection-monitor", "11:55:00", 10, |i| {
                (
                    if i % 4 == 3 {
                        "2m"
                    } else if i % 2 == 0 {
                        "500m"
                    } else {
                        "5m"
                    }
                    .into(),
                    "24Mi".into(),
                )
            });
        fixture += &series("prod-simulation", "database-service-a", "database", "11:55:00", 10, |i| {
            (format!("{}m", 700 + i % 3 * 20), "1500Mi".into())
        });
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P2 resource-instability Deployment prod-simulation/database-service container connection-monitor: stability score 48 (CPU cv 1.04, memory cv 0.00)
              objects: Deployment/prod-simulation/database-service, Pod/prod-simulation/database-service-a
              metric cpu+memory prod-simulation/database-service-a/connection-monitor stability-score = 48.09 score
              metric cpu prod-simulation/database-service-a/connection-monitor mean = 251.9 millicores
              metric cpu prod-simulation/database-service-a/connection-monitor stdev = 261.52 millicores
              metric memory prod-simulation/database-service-a/connection-monitor mean = 24 MiB
              metric memory prod-simulation/database-service-a/connection-monitor stdev = 0 MiB
              why: Over 10 samples container `connection-monitor` of pod database-service-a used 252m CPU on average with a standard deviation of 262m (min 2m, max 500m), and 24 MiB memory ± 0 MiB. The stability score is 100 − (CPU CV + memory CV) × 50 and calls below 70 unstable. Requests set from the average starve such a container at its peaks; limits set from the peaks waste the rest.
              $ kubectl top pod database-service-a -n prod-simulation --containers
              $ kubectl autoscale deployment/database-service -n prod-simulation --cpu-percent=70 --min=1 --max=2
        "#]],
        );
    }

    #[test]
    fn an_idle_container_jittering_by_a_few_millicores_is_not_unstable() {
        let mut fixture = deployment("shop", "idle", &["idle-a"], "[{name: idle}]");
        // CV of 1 (`K8sPerformanceAnalyzer` would score it 50), but a 2m swing matters to nobody.
        fixture += &series("shop", "idle-a", "idle", "11:55:00", 10, |i| {
            (if i % 2 == 0 { "0m" } else { "4m" }.into(), "20Mi".into())
        });
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
