# shellcheck shell=bash
# Hooks of the diagnosis-replay scenario (sourced by tests/cluster/apply-scenario,
# which provides k = the real kubectl on the test cluster, die, log, wait_for).
# They write what a kubelet would and plain manifests cannot: its events
# (image pulls, mounts, probes, back-offs), after the pods exist.

# After 05-nodes.yaml: the scenario's nodes are Ready (or, for kwok-node-nr,
# NotReady and tainted by the node lifecycle controller) before any pod is
# created, so that the scheduler's messages name the intended reasons.
after_apply_file() {
  [[ "$1" == 05-nodes.yaml ]] || return 0
  local n
  for n in kwok-node-gpu kwok-node-drain; do
    wait_for 90 kwok "node $n Ready" k wait --for=condition=Ready --timeout=5s "node/$n"
  done
  wait_for 90 kwok "node kwok-node-nr reporting NotReady (cni plugin not initialized)" \
    node_ready_reason_is kwok-node-nr KubeletNotReady
  wait_for 90 kube-controller-manager "node kwok-node-nr tainted NoSchedule" \
    node_has_noschedule_taint kwok-node-nr
}

node_ready_reason_is() {
  [[ "$(k get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}')" == "$2" ]]
}

node_has_noschedule_taint() {
  k get node "$1" -o jsonpath='{.spec.taints[*].effect}' | grep -q NoSchedule
}

# kubelet_event NS SELECTOR TYPE REASON COUNT MESSAGE [CONTAINER]: one event per
# matching pod, as the kubelet of its node writes it (source kubelet, first
# seen 10 minutes ago, last seen now). @POD@, @POD_IP@, @NS@ and @UID@ in the
# message become the pod's.
kubelet_event() {
  local ns="$1" sel="$2" type="$3" reason="$4" count="$5" msg="$6" container="${7:-}"
  local now first pod uid ip node text field
  now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  first="$(date -u -d '-10 min' +%Y-%m-%dT%H:%M:%SZ)"
  while read -r pod uid ip node; do
    [[ -n "$pod" ]] || continue
    text="${msg//@POD@/$pod}"
    text="${text//@POD_IP@/$ip}"
    text="${text//@NS@/$ns}"
    text="${text//@UID@/$uid}"
    field=""
    [[ -n "$container" ]] && field="spec.containers{$container}"
    jq -n --arg name "$pod.kubelet-$(tr 'A-Z' 'a-z' <<<"$reason")" --arg ns "$ns" --arg pod "$pod" \
      --arg uid "$uid" --arg field "$field" --arg reason "$reason" --arg msg "$text" \
      --arg type "$type" --argjson count "$count" --arg first "$first" --arg now "$now" \
      --arg node "$node" '{
        apiVersion: "v1", kind: "Event",
        metadata: {name: $name, namespace: $ns},
        involvedObject: ({apiVersion: "v1", kind: "Pod", name: $pod, namespace: $ns, uid: $uid}
          + (if $field == "" then {} else {fieldPath: $field} end)),
        reason: $reason, message: $msg, type: $type, count: $count,
        firstTimestamp: $first, lastTimestamp: $now,
        source: {component: "kubelet", host: $node},
        reportingComponent: "kubelet", reportingInstance: $node}' | k apply -f - >/dev/null
  done < <(k get pods -n "$ns" -l "$sel" \
    -o jsonpath='{range .items[*]}{.metadata.name} {.metadata.uid} {.status.podIP} {.spec.nodeName}{"\n"}{end}')
}

wait_scenario() {
  local rs
  # Admission: the ReplicaSet controller reports ReplicaFailure (FailedCreate).
  for rs in adm-quota/pricing adm-limitrange/importer adm-serviceaccount/auditor; do
    wait_for 120 kube-controller-manager "replicaset of $rs: ReplicaFailure" \
      k wait --for=condition=ReplicaFailure --timeout=5s replicaset -n "${rs%%/*}" -l "app=${rs#*/}"
  done
  # The PersistentVolume controller's verdict on the claim.
  wait_for 120 kube-controller-manager "claim sched-pvc/pgdata: ProvisioningFailed" \
    claim_has_event sched-pvc pgdata ProvisioningFailed

  # The kubelets' events.
  local img
  img=registry.example.com/shop/catalog:v2.3.1-rc0
  kubelet_event start-image-tag app=catalog Normal Pulling 6 "Pulling image \"$img\"" catalog
  kubelet_event start-image-tag app=catalog Warning Failed 6 "Failed to pull image \"$img\": rpc error: code = NotFound desc = failed to pull and unpack image \"$img\": failed to resolve reference \"$img\": $img: not found" catalog
  kubelet_event start-image-tag app=catalog Normal BackOff 40 "Back-off pulling image \"$img\"" catalog
  img=registry.corp.example/payments/gateway:1.4.2
  kubelet_event start-pull-secret app=gateway Warning FailedToRetrieveImagePullSecret 12 "Unable to retrieve some image pull secrets (corp-registry); attempting to pull the image may not succeed."
  kubelet_event start-pull-secret app=gateway Warning Failed 6 "Failed to pull image \"$img\": failed to pull and unpack image \"$img\": failed to resolve reference \"$img\": pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials" gateway
  kubelet_event start-pull-secret app=gateway Normal BackOff 40 "Back-off pulling image \"$img\"" gateway
  img=registry.internal.example:5000/tools/agent:2.0
  kubelet_event start-registry-dns app=agent Warning Failed 6 "Failed to pull image \"$img\": failed to pull and unpack image \"$img\": failed to resolve reference \"$img\": failed to do request: Head \"https://registry.internal.example:5000/v2/tools/agent/manifests/2.0\": dial tcp: lookup registry.internal.example on 10.0.0.2:53: no such host" agent
  kubelet_event start-registry-dns app=agent Normal BackOff 40 "Back-off pulling image \"$img\"" agent
  kubelet_event start-configmap-key app=profile Warning Failed 9 "Error: couldn't find key DB_HOST in ConfigMap start-configmap-key/profile-config" profile
  kubelet_event start-volume-mount app=exporter Warning FailedMount 8 "MountVolume.SetUp failed for volume \"certs\" : secret \"exporter-tls\" not found"
  kubelet_event infra-node-notready app=ingest Warning NetworkNotReady 120 "network is not ready: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"
  kubelet_event run-probe-port app=quotes Warning Unhealthy 18 "Liveness probe failed: Get \"http://@POD_IP@:8081/healthz\": dial tcp @POD_IP@:8081: connect: connection refused" quotes
  kubelet_event run-probe-port app=quotes Normal Killing 6 "Container quotes failed liveness probe, will be restarted" quotes
  kubelet_event run-probe-timing app=orders-api Warning Unhealthy 14 "Liveness probe failed: Get \"http://@POD_IP@:8080/actuator/health/liveness\": dial tcp @POD_IP@:8080: connect: connection refused" orders-api
  kubelet_event run-probe-timing app=orders-api Normal Killing 7 "Container orders-api failed liveness probe, will be restarted" orders-api
  local ns app ns_app
  for ns_app in dep-unknown-name/orders dep-no-endpoints/checkout dep-port/web dep-credentials/reports \
    dep-external/notifier run-oom-jvm/billing-engine run-probe-port/quotes run-probe-timing/orders-api \
    route-client-env/cart infra-kube-proxy/shop-web; do
    ns="${ns_app%%/*}" app="${ns_app#*/}"
    kubelet_event "$ns" "app=$app" Warning BackOff 30 \
      "Back-off restarting failed container $app in pod @POD@_@NS@(@UID@)" "$app"
  done
}

claim_has_event() {
  k get events -n "$1" --field-selector "involvedObject.name=$2,reason=$3" -o name | grep -q .
}
