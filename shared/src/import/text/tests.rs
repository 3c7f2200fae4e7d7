//! The text reader on a real transcript: `testdata/kubectl-text/transcript.txt` was printed by
//! kubectl 1.33 against the test control plane with the failure catalog applied.

use super::*;

const TRANSCRIPT: &str = include_str!("../../../../testdata/kubectl-text/transcript.txt");

fn object<'a>(read: &'a TextRead, kind: &str, name: &str) -> &'a Object {
    read.objects
        .objects
        .iter()
        .find(|object| object.kind == kind && object.name == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn text<'a>(object: &'a Object, pointer: &str) -> Option<&'a str> {
    object.str_at(pointer)
}

#[test]
fn a_transcript_splits_into_its_commands() {
    let found = sections(TRANSCRIPT);
    let verbs: Vec<&str> = found
        .iter()
        .map(|section| section.command.as_ref().map_or("", |command| command.verb.as_str()))
        .collect();
    assert_eq!(
        verbs,
        [
            "get", "describe", "logs", "logs", "describe", "get", "describe", "top", "top", "describe",
            "describe", "describe", "describe", "get"
        ]
    );
    let previous = found[2].command.as_ref().unwrap();
    assert_eq!(previous.names, ["payment-api-7585dfd7c-56z8m"]);
    assert_eq!(previous.namespace.as_deref(), Some("shop"));
    assert!(previous.previous);
    assert_eq!(found[1].command.as_ref().unwrap().kind(), Some("Pod"));
    assert_eq!(found[10].command.as_ref().unwrap().kind(), Some("ReplicaSet"));

    let logs = logs(TRANSCRIPT);
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[0].pod, "payment-api-7585dfd7c-56z8m");
    assert!(logs[0].previous && logs[0].container.is_none());
    let log = &TRANSCRIPT[logs[0].range.clone()];
    assert!(log.starts_with("{\"level\":\"info\""), "{log}");
    assert!(log.contains("panic: failed to connect to database") && !log.contains("$ kubectl"));
    assert!(!logs[1].previous);
}

#[test]
fn prompts_of_every_shell_and_bash_x() {
    for (line, verb) in [
        ("$ kubectl get pods -A", "get"),
        ("user@host:~/work$ kubectl describe pod web-1 -n shop", "describe"),
        ("root@node:/# kubectl logs web-1 -c app -p", "logs"),
        ("+ kubectl get pod web-1 -n shop -o wide", "get"),
        ("++ kubectl get pod web-1 -n shop -o jsonpath={.spec.nodeName}", "get"),
        ("kubectl top pods --containers", "top"),
        ("$ /usr/local/bin/kubectl get nodes | grep NotReady", "get"),
    ] {
        assert!(
            matches!(transcript::prompt(line), Some(transcript::Prompt::Kubectl(command)) if command.verb == verb),
            "{line}"
        );
    }
    assert_eq!(transcript::prompt("+ echo '=== Pod Details ==='"), Some(transcript::Prompt::Other));
    assert_eq!(transcript::prompt("NAME   READY   STATUS"), None);
    assert_eq!(transcript::prompt("kubectl is the Kubernetes command-line tool"), None);
    let Some(transcript::Prompt::Kubectl(command)) =
        transcript::prompt("$ kubectl logs -nshop deploy/web --container=app --previous=true")
    else {
        panic!("no command");
    };
    assert_eq!(command.namespace.as_deref(), Some("shop"));
    assert_eq!(command.container.as_deref(), Some("app"));
    assert!(command.previous);
    // A log of a Deployment is of one of its pods, which the command does not say.
    assert!(logs("$ kubectl logs deploy/web -n shop\nline\n").is_empty());
    assert!(
        logs("$ kubectl logs web-1 -p\nError from server (BadRequest): previous terminated container\n")
            .is_empty()
    );
}

#[test]
fn a_described_pod_gives_its_containers_states_and_owner() {
    let read = read(TRANSCRIPT.as_bytes(), None, None, "transcript.txt");
    assert!(read.recognized);
    let pod = object(&read, "Pod", "payment-api-7585dfd7c-56z8m");
    assert_eq!(pod.namespace.as_deref(), Some("shop"));
    assert_eq!(text(pod, "/spec/nodeName"), Some("kwok-node-0"));
    assert_eq!(text(pod, "/status/phase"), Some("Running"));
    // From the `get -o wide` row, merged with the describe block of the same pod.
    assert_eq!(text(pod, "/status/podIP"), Some("10.244.0.2"));
    assert_eq!(text(pod, "/metadata/ownerReferences/0/kind"), Some("ReplicaSet"));
    assert_eq!(text(pod, "/metadata/ownerReferences/0/name"), Some("payment-api-7585dfd7c"));
    assert_eq!(text(pod, "/metadata/labels/app"), Some("payment-api"));
    assert_eq!(text(pod, "/status/containerStatuses/0/state/waiting/reason"), Some("CrashLoopBackOff"));
    assert_eq!(text(pod, "/status/containerStatuses/0/lastState/terminated/reason"), Some("Error"));
    assert_eq!(
        pod.at("/status/containerStatuses/0/lastState/terminated/exitCode").and_then(|v| v.as_i64()),
        Some(1)
    );
    assert!(
        pod.at("/status/containerStatuses/0/restartCount").and_then(|v| v.as_u64()).is_some_and(|n| n >= 7)
    );
    assert_eq!(pod.at("/status/containerStatuses/0/ready").and_then(|v| v.as_bool()), Some(false));
    assert_eq!(text(pod, "/spec/containers/0/resources/limits/memory"), Some("256Mi"));
    assert_eq!(text(pod, "/spec/containers/0/resources/requests/cpu"), Some("100m"));
    assert_eq!(text(pod, "/spec/containers/0/env/0/name"), Some("DATABASE_URL"));
    assert_eq!(text(pod, "/status/conditions/2/type"), Some("Ready"));
    assert_eq!(text(pod, "/status/conditions/2/status"), Some("False"));
    assert_eq!(text(pod, "/status/startTime"), Some("2026-12-05T03:07:51Z"));

    let checkout = object(&read, "Pod", "checkout-68877db66b-bl4xm");
    assert_eq!(
        text(checkout, "/status/containerStatuses/0/state/waiting/reason"),
        Some("CreateContainerConfigError")
    );
    let env = checkout.at("/spec/containers/0/env").and_then(|v| v.as_array()).unwrap();
    let reference = env.iter().find(|var| var.get("valueFrom").is_some()).unwrap();
    assert_eq!(
        reference.pointer("/valueFrom/configMapKeyRef/name").and_then(|v| v.as_str()),
        Some("checkout-config")
    );
    assert_eq!(reference.get("value"), None, "a reference's value is not shown");

    // A pod only listed by `get` has no containers; the kind records that describe showed them.
    let listed = object(&read, "Pod", "inventory-d47c89dd4-v8pz5");
    assert_eq!(listed.at("/spec/containers"), None);
    let fields = &read.objects.fields["Pod"];
    assert!(fields.contains("/status/containerStatuses") && fields.contains("/metadata/ownerReferences"));
}

#[test]
fn described_nodes_workloads_services_and_claims() {
    let read = read(TRANSCRIPT.as_bytes(), None, None, "transcript.txt");
    let node = object(&read, "Node", "kwok-node-0");
    assert_eq!(text(node, "/status/conditions/0/type"), Some("Ready"));
    assert_eq!(text(node, "/status/conditions/0/status"), Some("True"));
    assert_eq!(text(node, "/status/conditions/0/reason"), Some("KubeletReady"));
    assert_eq!(text(node, "/status/nodeInfo/kubeletVersion"), Some("v1.33.13"));
    assert_eq!(text(node, "/status/capacity/cpu"), Some("8"));
    assert_eq!(text(node, "/status/allocatable/memory"), Some("32Gi"));
    assert_eq!(text(node, "/status/addresses/0/address"), Some("127.0.0.1"));
    assert_eq!(node.at("/spec/unschedulable").and_then(|v| v.as_bool()), Some(false));
    assert_eq!(text(node, "/metadata/labels/topology.kubernetes.io~1zone"), Some("zone-0"));
    let lost = object(&read, "Node", "kwok-node-lost");
    assert_eq!(text(lost, "/status/conditions/0/status"), Some("False"), "from `get nodes`");

    let deployment = object(&read, "Deployment", "payment-api");
    assert_eq!(deployment.at("/spec/replicas").and_then(|v| v.as_u64()), Some(2));
    assert_eq!(deployment.at("/status/availableReplicas").and_then(|v| v.as_u64()), Some(0));
    assert_eq!(text(deployment, "/spec/selector/matchLabels/app"), Some("payment-api"));
    assert_eq!(
        text(deployment, "/spec/template/spec/containers/0/image"),
        Some("registry.example.com/shop/payment-api:4.2.0")
    );
    assert!(deployment.at("/status/conditions").and_then(|v| v.as_array()).is_some_and(|c| c.len() == 2));

    let replica_set = object(&read, "ReplicaSet", "payment-api-7585dfd7c");
    assert_eq!(text(replica_set, "/metadata/ownerReferences/0/kind"), Some("Deployment"));
    assert_eq!(replica_set.at("/spec/replicas").and_then(|v| v.as_u64()), Some(2));

    let service = object(&read, "Service", "frontend");
    assert_eq!(text(service, "/spec/selector/app"), Some("frontend"));
    assert_eq!(text(service, "/spec/clusterIP"), Some("10.101.95.158"));
    assert_eq!(service.at("/spec/ports/0/port").and_then(|v| v.as_u64()), Some(80));
    assert_eq!(service.at("/spec/ports/0/targetPort").and_then(|v| v.as_u64()), Some(80));

    let claim = object(&read, "PersistentVolumeClaim", "warehouse-data");
    assert_eq!(text(claim, "/status/phase"), Some("Pending"));
    assert_eq!(text(claim, "/spec/storageClassName"), Some("fast-ssd"));
    assert_eq!(claim.at("/spec/volumeName"), None, "an empty Volume: is none");
}

#[test]
fn events_sections_and_top_count_back_from_the_newest_time_printed() {
    let read = read(TRANSCRIPT.as_bytes(), None, None, "transcript.txt");
    // The newest time the transcript prints is a node's lease renewal.
    let now = read.now.unwrap();
    assert!(now >= "2026-12-05T03:07:51Z".parse().unwrap(), "{now}");
    let events: Vec<crate::model::Event> =
        read.objects.objects.iter().filter_map(crate::model::Event::from_object).collect();
    let failed = events
        .iter()
        .find(|event| event.reason == "ProvisioningFailed" && event.involved.kind == "PersistentVolumeClaim")
        .unwrap();
    assert!(failed.is_warning());
    assert_eq!(failed.count, 19);
    assert_eq!(failed.last_seen, now.checked_sub(jiff::SignedDuration::from_secs(6)).ok());
    assert!(
        events
            .iter()
            .any(|event| event.reason == "ScalingReplicaSet" && event.involved.name == "payment-api")
    );
    assert!(read.objects.fields["Event"].contains("/lastTimestamp"));

    assert_eq!(read.container_metrics.len(), 10);
    let (key, sample) = &read.container_metrics[6];
    assert_eq!((key.namespace.as_str(), key.pod.as_str()), ("shop", "storefront-api-6d6d7cbb6-9znkl"));
    assert_eq!(sample.cpu_millicores, 450.0);
    assert_eq!(sample.at, now);
    // `<unknown>` usage of a lost node is no sample.
    assert_eq!(read.node_metrics.len(), 4);
}

#[test]
fn what_is_kubectl_text_and_what_is_not() {
    assert!(looks_like(TRANSCRIPT.as_bytes()));
    assert!(looks_like(
        b"NAME     READY   STATUS    RESTARTS   AGE\nweb-1    1/1     Running   0          7d\n"
    ));
    let describe = &TRANSCRIPT[TRANSCRIPT.find("Name:               kwok-node-0").unwrap()..];
    assert!(looks_like(describe.as_bytes()));
    assert!(!looks_like(b"# Notes\n\nThe cluster was slow on Monday.\nName: Alice\n"));
    assert!(!looks_like(b"\x00\x01binary"));
    let nothing = read(b"hello\nworld\n", None, None, "notes.txt");
    assert!(!nothing.recognized && nothing.objects.objects.is_empty());
}

#[test]
fn references_and_cut_values_are_not_taken_for_values() {
    // The forms kubectl's describe prints for a Secret key, a field reference, and an
    // annotation longer than 140 characters.
    let long = "x".repeat(137);
    let block = format!(
        "\
Name:         web-1
Namespace:    shop
Annotations:  note: {long}...
              team: payments
Status:       Running
Node:         node-1/10.0.0.1
Containers:
  web:
    Image:          web:1
    State:          Terminated
      Reason:       Error
      Exit Code:    137
      Signal:       9
    Ready:          False
    Restart Count:  2
    Environment:
      PASSWORD:  <set to the key 'password' in secret 'db'>  Optional: false
      POD_NAME:  (v1:metadata.name)
      MODE:      fast
QoS Class:        BestEffort
"
    );
    let read = read(block.as_bytes(), None, None, "describe.txt");
    let pod = object(&read, "Pod", "web-1");
    assert_eq!(text(pod, "/spec/containers/0/env/0/valueFrom/secretKeyRef/name"), Some("db"));
    assert_eq!(pod.at("/spec/containers/0/env/0/valueFrom/secretKeyRef/optional"), None);
    assert_eq!(pod.at("/spec/containers/0/env/1/value"), None);
    assert_eq!(text(pod, "/spec/containers/0/env/2/value"), Some("fast"));
    assert_eq!(
        pod.at("/status/containerStatuses/0/state/terminated/signal").and_then(|v| v.as_i64()),
        Some(9)
    );
    assert_eq!(pod.at("/status/containerStatuses/0/image"), None, "the runtime's image is not shown");
    assert_eq!(text(pod, "/metadata/annotations/team"), Some("payments"));
    assert_eq!(pod.at("/metadata/annotations/note"), None, "a value cut by kubectl is not the value");
}

#[test]
fn objects_printed_whole_in_a_transcript_are_read_whole() {
    let text = "\
$ kubectl get pods -n shop
NAME                   READY   STATUS    RESTARTS   AGE
web-6d4cf56db6-x2x7q   0/1     Pending   0          3m
$ kubectl get deploy web -n shop -o yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  creationTimestamp: \"2026-12-01T10:00:00Z\"
  name: web
  namespace: shop
  uid: 5c2d
spec:
  replicas: 3
status:
  availableReplicas: 1
$ kubectl get svc -n shop -o json
{
    \"apiVersion\": \"v1\",
    \"items\": [
        {\"apiVersion\": \"v1\", \"kind\": \"Service\",
         \"metadata\": {\"name\": \"web\", \"namespace\": \"shop\", \"uid\": \"9e1a\"},
         \"spec\": {\"selector\": {\"app\": \"web\"}}}
    ],
    \"kind\": \"List\",
    \"metadata\": {\"resourceVersion\": \"\"}
}
$ kubectl create deployment api -n shop --image=shop/api:2 --dry-run=client -o yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  replicas: 1
$ kubectl get cm settings -n shop -o yaml
apiVersion: v1
kind: ConfigMap
metadata: [unclosed
";
    let read = read(text.as_bytes(), None, None, "ticket.txt");
    assert!(read.recognized);
    // The table row stays text, with the fields a row shows.
    object(&read, "Pod", "web-6d4cf56db6-x2x7q");
    assert!(read.objects.fields.contains_key("Pod"));
    // The documents are whole: fields no table or describe block shows.
    let deployment =
        read.documents.iter().find(|object| object.kind == "Deployment").expect("the Deployment");
    assert_eq!(deployment.i64_at("/spec/replicas"), Some(3));
    assert_eq!(deployment.namespace.as_deref(), Some("shop"));
    let service = read.documents.iter().find(|object| object.kind == "Service").expect("the Service");
    assert_eq!(service.str_at("/spec/selector/app"), Some("web"));
    assert!(read.document_kinds.contains("Service"), "{:?}", read.document_kinds);
    assert!(!read.objects.fields.contains_key("Deployment") && !read.objects.fields.contains_key("Service"));
    assert!(!read.objects.objects.iter().any(|object| object.kind == "Deployment"));
    // A manifest (no uid, no creation time: no API server returned it) is counted, not read:
    // as the cluster's state its Deployment would be "0 of 1 available".
    assert_eq!(read.manifests, 1);
    assert!(!read.documents.iter().any(|object| object.name == "api"));
    // The cut ConfigMap is an error naming the file, not a silent gap.
    assert_eq!(read.unparsable.len(), 1, "{:?}", read.unparsable);
    assert!(read.unparsable[0].to_string().contains("ticket.txt"), "{}", read.unparsable[0]);
}
