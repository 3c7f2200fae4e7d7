//! How the performance and alert findings write numbers: CPU, memory, durations and
//! percentages for people, quantities for kubectl, and the resource commands they recommend.

use kubesnap_shared::model::ObjectRef;

use crate::facts::kubectl;
use crate::finding::Evidence;

use super::usage::MIB;
use crate::facts::kubectl::Kubectl;

const GIB: f64 = 1024.0 * MIB;

/// `850m`, or `1.5 cores` from one core up.
pub(crate) fn cpu(millicores: f64) -> String {
    if millicores >= 1000.0 {
        let cores = millicores / 1000.0;
        let text = trim(&format!("{cores:.2}"));
        if text == "1" { "1 core".to_owned() } else { format!("{text} cores") }
    } else {
        format!("{millicores:.0}m")
    }
}

/// `612 MiB`, or `1.5 GiB` from one GiB up.
pub(crate) fn memory(bytes: f64) -> String {
    if bytes >= GIB {
        format!("{} GiB", trim(&format!("{:.2}", bytes / GIB)))
    } else {
        format!("{:.0} MiB", bytes / MIB)
    }
}

/// `92%`.
pub(crate) fn percent(ratio: f64) -> String {
    format!("{:.0}%", ratio * 100.0)
}

/// `~2h 35m`, `~45m`, `~3d 4h`, `< 1m`: an estimate, so rounded to what matters.
pub(crate) fn duration(minutes: f64) -> String {
    if !minutes.is_finite() || minutes < 1.0 {
        return "< 1m".to_owned();
    }
    let minutes = minutes.round() as u64;
    let (days, hours, rest) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("~{rest}m"),
        (0, _) => format!("~{hours}h {rest}m"),
        _ => format!("~{days}d {hours}h"),
    }
}

/// A window's length, exactly: `4m 30s`, `1h 5m`.
pub(crate) fn span(minutes: f64) -> String {
    let seconds = (minutes * 60.0).round().max(0.0) as u64;
    match (seconds / 3600, (seconds % 3600) / 60, seconds % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

fn trim(number: &str) -> String {
    number.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A CPU quantity for kubectl, rounded up to 10m (never below 10m).
pub(crate) fn cpu_quantity(millicores: f64) -> String {
    let rounded = ((millicores / 10.0).ceil() * 10.0).max(10.0);
    format!("{rounded:.0}m")
}

/// A memory quantity for kubectl, rounded up to a whole MiB (never below 16Mi).
pub(crate) fn memory_quantity(bytes: f64) -> String {
    let mebibytes = (bytes / MIB).ceil().max(16.0);
    format!("{mebibytes:.0}Mi")
}

/// The number a [`cpu_quantity`] stands for, to compare a recommendation with what is set.
pub(crate) fn cpu_rounded(millicores: f64) -> f64 {
    ((millicores / 10.0).ceil() * 10.0).max(10.0)
}

/// The number a [`memory_quantity`] stands for.
pub(crate) fn memory_rounded(bytes: f64) -> f64 {
    (bytes / MIB).ceil().max(16.0) * MIB
}

/// Metric evidence: `series` is `cpu shop/api-1/api`.
pub(crate) fn metric(series: String, statistic: &str, value: f64, unit: &str) -> Evidence {
    // Two decimals are what a reader compares; the full float would make reports noisy.
    let value = (value * 100.0).round() / 100.0;
    Evidence::Metric { series, statistic: statistic.to_owned(), value, unit: unit.to_owned() }
}

/// CPU evidence in millicores.
pub(crate) fn cpu_metric(label: &str, statistic: &str, millicores: f64) -> Evidence {
    metric(format!("cpu {label}"), statistic, millicores, "millicores")
}

/// Memory evidence in MiB.
pub(crate) fn memory_metric(label: &str, statistic: &str, bytes: f64) -> Evidence {
    metric(format!("memory {label}"), statistic, bytes / MIB, "MiB")
}

/// Kinds `kubectl set resources` changes: those with a pod template.
pub(crate) fn has_template(kind: &str) -> bool {
    matches!(
        kind,
        "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "Job"
            | "CronJob"
            | "ReplicationController"
    )
}

/// `kubectl set resources deployment/api -n shop -c api --requests=cpu=300m,memory=600Mi
/// --limits=memory=1Gi`; `requests`/`limits` are `(resource, quantity)` pairs, empty to leave
/// them alone.
pub(crate) fn set_resources(
    target: &ObjectRef,
    container: &str,
    requests: &[(&str, String)],
    limits: &[(&str, String)],
) -> String {
    let list = |pairs: &[(&str, String)]| {
        pairs
            .iter()
            .map(|(resource, quantity)| format!("{resource}={quantity}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut command = kubectl::on("set resources", target).arg("-c").name(container);
    if !requests.is_empty() {
        command = command.joined("--requests=", &list(requests));
    }
    if !limits.is_empty() {
        command = command.joined("--limits=", &list(limits));
    }
    command.into()
}

/// `kubectl top pod api-1 -n shop --containers`.
pub(crate) fn top_pod(pod: &ObjectRef) -> String {
    Kubectl::new("top pod").name(&pod.name).namespace_of(pod).arg("--containers").into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_the_way_people_write_them() {
        assert_eq!(cpu(850.4), "850m");
        assert_eq!(cpu(1000.0), "1 core");
        assert_eq!(cpu(1500.0), "1.5 cores");
        assert_eq!(memory(612.0 * MIB), "612 MiB");
        assert_eq!(memory(2048.0 * MIB), "2 GiB");
        assert_eq!(memory(1536.0 * MIB), "1.5 GiB");
        assert_eq!(percent(0.924), "92%");
        assert_eq!(duration(155.4), "~2h 35m");
        assert_eq!(duration(45.0), "~45m");
        assert_eq!(duration(0.2), "< 1m");
        assert_eq!(duration(4620.0), "~3d 5h");
        assert_eq!(span(4.5), "4m 30s");
        assert_eq!(span(65.0), "1h 5m");
    }

    #[test]
    fn quantities_round_up_to_what_kubectl_is_given() {
        assert_eq!(cpu_quantity(287.3), "290m");
        assert_eq!(cpu_quantity(1.0), "10m");
        assert_eq!(memory_quantity(600.2 * MIB), "601Mi");
        assert_eq!(memory_rounded(600.2 * MIB), 601.0 * MIB);
    }

    #[test]
    fn set_resources_names_the_workload_and_container() {
        let deployment =
            ObjectRef { kind: "Deployment".into(), namespace: Some("shop".into()), name: "api".into() };
        assert_eq!(
            set_resources(
                &deployment,
                "api",
                &[("cpu", "300m".into()), ("memory", "600Mi".into())],
                &[("memory", "1Gi".into())]
            ),
            "kubectl set resources deployment/api -n shop -c api --requests=cpu=300m,memory=600Mi --limits=memory=1Gi"
        );
        let pod = ObjectRef { kind: "Pod".into(), namespace: Some("shop".into()), name: "api-1".into() };
        assert_eq!(top_pod(&pod), "kubectl top pod api-1 -n shop --containers");
    }
}
