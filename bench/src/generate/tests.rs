//! The generator's contract: a generated bundle reads back through the safe reader with
//! verified checksums, holds exactly the pods asked for in the API server's shapes, carries
//! every failure scenario, and depends only on its arguments.

use std::collections::BTreeMap;
use std::path::Path;

use kubesnap_shared::layout::{self, EntryKind};
use kubesnap_shared::{Bundle, Limits};
use serde_json::Value;

use super::{Config, ROOT, generate};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;
/// Entry contents by path relative to the root, and whether the checksums verified.
type Entries = (BTreeMap<String, Vec<u8>>, bool);

fn small_config(seed: u64) -> Config {
    Config { pods: 80, log_bytes: 400_000, seed, namespaces: 3, nodes: 4, compression: 1 }
}

/// Every entry of a bundle by path relative to its root.
fn read_back(path: &Path) -> TestResult<Entries> {
    let bundle = Bundle::open(path, Limits::default())?;
    let mut entries = BTreeMap::new();
    let outcome = bundle.read(|mut entry| -> Result<(), kubesnap_shared::Error> {
        let bytes = entry
            .read_to_vec()
            .map_err(|source| kubesnap_shared::Error::Io { path: entry.path().into(), source })?;
        if let Some(relative) = entry.path().strip_prefix(&format!("{ROOT}/")) {
            entries.insert(relative.to_owned(), bytes);
        }
        Ok(())
    })?;
    assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
    assert!(outcome.stream_error.is_none(), "{:?}", outcome.stream_error);
    Ok((entries, outcome.verified()))
}

fn write(config: &Config, dir: &Path, name: &str) -> TestResult<std::path::PathBuf> {
    let path = dir.join(name);
    let file = std::fs::File::create(&path)?;
    generate(config, file)?;
    Ok(path)
}

fn items<'a>(entries: &'a BTreeMap<String, Value>, resource: &str) -> Vec<&'a Value> {
    entries
        .iter()
        .filter(|(path, _)| matches!(layout::classify(path), EntryKind::ResourceList { resource: r, .. } if r == resource))
        .flat_map(|(_, list)| list["items"].as_array().into_iter().flatten())
        .collect()
}

#[test]
fn bundle_reads_back_verified_with_the_pods_asked_for_in_api_shapes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let config = small_config(3);
    let path = write(&config, dir.path(), "bundle.tar.gz")?;
    let (entries, verified) = read_back(&path)?;
    assert!(verified, "the manifest's checksums must verify");

    let lists: BTreeMap<String, Value> = entries
        .iter()
        .filter(|(path, _)| path.starts_with("resources/"))
        .map(|(path, bytes)| Ok((path.clone(), serde_json::from_slice(bytes)?)))
        .collect::<Result<_, serde_json::Error>>()?;
    for (path, list) in &lists {
        let kind = list["kind"].as_str().unwrap_or_default();
        assert!(kind.ends_with("List"), "{path}: {kind}");
        assert!(list["metadata"]["resourceVersion"].is_string(), "{path}");
        for item in list["items"].as_array().into_iter().flatten() {
            assert_eq!(format!("{}List", item["kind"].as_str().unwrap_or_default()), kind, "{path}");
            assert!(item["metadata"]["uid"].is_string() && item["metadata"]["name"].is_string(), "{path}");
        }
    }

    let pods = items(&lists, "pods");
    assert_eq!(pods.len() as u64, config.pods);
    let pod_bytes: usize = pods.iter().map(|pod| serde_json::to_vec(pod).map_or(0, |v| v.len())).sum();
    assert!(
        pod_bytes / pods.len() > 3_000,
        "a real pod is 4-6 KB of JSON; these average {} bytes",
        pod_bytes / pods.len()
    );
    let uids: BTreeMap<&str, &str> = ["replicasets", "statefulsets", "daemonsets", "jobs"]
        .iter()
        .flat_map(|resource| items(&lists, resource))
        .filter_map(|owner| Some((owner["metadata"]["uid"].as_str()?, owner["kind"].as_str()?)))
        .collect();
    for pod in &pods {
        let owner = &pod["metadata"]["ownerReferences"][0];
        assert_eq!(
            uids.get(owner["uid"].as_str().unwrap_or_default()).copied(),
            owner["kind"].as_str(),
            "owner of {}",
            pod["metadata"]["name"]
        );
        assert!(pod["metadata"]["labels"]["app.kubernetes.io/name"].is_string());
        assert!(
            pod["metadata"]["creationTimestamp"]
                .as_str()
                .is_some_and(|t| t.parse::<jiff::Timestamp>().is_ok())
        );
        assert!(pod["spec"]["containers"][0]["image"].is_string());
        assert!(pod["status"]["phase"].is_string() && pod["status"]["conditions"].is_array());
    }

    let reasons: Vec<&str> = pods
        .iter()
        .flat_map(|pod| pod["status"]["containerStatuses"].as_array().into_iter().flatten())
        .filter_map(|status| {
            status["state"]["waiting"]["reason"]
                .as_str()
                .or(status["lastState"]["terminated"]["reason"].as_str())
        })
        .collect();
    for reason in ["CrashLoopBackOff", "OOMKilled", "ImagePullBackOff", "CreateContainerConfigError"] {
        assert!(reasons.contains(&reason), "no container in {reason}: {reasons:?}");
    }
    assert!(
        pods.iter().any(|pod| pod["status"]["reason"] == "Evicted" && pod["status"]["phase"] == "Failed")
    );
    assert!(pods.iter().any(|pod| pod["status"]["conditions"][0]["reason"] == "Unschedulable"));
    let events = items(&lists, "events");
    for reason in ["FailedScheduling", "BackOff", "Evicted", "ProvisioningFailed", "NodeNotReady"] {
        assert!(events.iter().any(|event| event["reason"] == reason), "no {reason} event");
    }
    assert!(items(&lists, "nodes").iter().any(|node| node["status"]["conditions"][3]["status"] == "Unknown"));
    assert!(
        items(&lists, "persistentvolumeclaims").iter().any(|claim| claim["status"]["phase"] == "Pending")
    );
    assert!(
        items(&lists, "endpoints").iter().any(|endpoints| endpoints.get("subsets").is_none()),
        "a Service without endpoints"
    );
    assert!(items(&lists, "secrets").iter().all(|secret| {
        secret["data"].as_object().is_some_and(|data| {
            data.values().all(|v| v.as_str().is_some_and(|v| v.starts_with("<redacted: ")))
        })
    }));

    // Logs: the asked-for total, a crash's previous log ending on its cause.
    let logs: Vec<(&String, &Vec<u8>)> = entries
        .iter()
        .filter(|(path, _)| matches!(layout::classify(path), EntryKind::ContainerLog { .. }))
        .collect();
    let log_bytes: usize = logs.iter().map(|(_, bytes)| bytes.len()).sum();
    assert_eq!(log_bytes as u64, config.log_bytes);
    assert!(logs.iter().any(|(path, _)| path.ends_with(".previous.log")));

    let samples = String::from_utf8(entries[layout::POD_METRICS].clone())?;
    assert_eq!(samples.lines().count(), 10);
    for line in samples.lines() {
        let sample: Value = serde_json::from_str(line)?;
        assert!(
            sample["timestamp"].is_string()
                && sample["items"].as_array().is_some_and(|items| !items.is_empty())
        );
    }
    assert!(entries.keys().any(|path| matches!(layout::classify(path), EntryKind::KubeletStats { .. })));
    for line in String::from_utf8(entries[layout::WATCHED_EVENTS].clone())?.lines() {
        let watched: Value = serde_json::from_str(line)?;
        assert_eq!(watched["type"], "MODIFIED");
        assert_eq!(watched["object"]["kind"], "Event");
    }
    Ok(())
}

fn sha256_of(path: &Path) -> TestResult<String> {
    Ok(kubesnap_shared::sha256_hex(&std::fs::read(path)?))
}

#[test]
fn same_arguments_give_a_byte_identical_file_and_another_seed_differs() -> TestResult {
    let dir = tempfile::tempdir()?;
    let first = write(&small_config(9), dir.path(), "a.tar.gz")?;
    let second = write(&small_config(9), dir.path(), "b.tar.gz")?;
    let other = write(&small_config(10), dir.path(), "c.tar.gz")?;
    assert_eq!(sha256_of(&first)?, sha256_of(&second)?);
    assert_ne!(sha256_of(&first)?, sha256_of(&other)?);
    // Not only the random choices: the pods themselves differ.
    let (first, _) = read_back(&first)?;
    let (other, _) = read_back(&other)?;
    assert_ne!(first.get("resources/core/v1/pods/shop.json"), other.get("resources/core/v1/pods/shop.json"));
    Ok(())
}
