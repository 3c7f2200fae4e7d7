# shellcheck shell=bash
# Hooks of the failure-catalog scenario (sourced by tests/cluster/apply-scenario,
# which provides k = the real kubectl on the test cluster, die, log, wait_for).
# They do what plain manifests cannot: generate a certificate, write status
# subresources as a kubelet/operator would, and roll out a second version.

# After 05-nodes.yaml: the lost node's last kubelet status post, then wait
# until both broken nodes carry a NoSchedule taint, so that no pod of this
# scenario is scheduled onto them.
after_apply_file() {
  [[ "$1" == 05-nodes.yaml ]] || return 0
  # The lost node: one last status post from its kubelet, then silence
  # (only once: on a re-apply its conditions already went Unknown).
  local now n
  now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  [[ -n "$(k get node kwok-node-lost -o jsonpath='{.status.conditions}')" ]] ||
  k patch node kwok-node-lost --subresource=status --type=merge -p "{
    \"status\": {
      \"addresses\": [{\"type\": \"InternalIP\", \"address\": \"10.1.0.14\"}, {\"type\": \"Hostname\", \"address\": \"kwok-node-lost\"}],
      \"conditions\": [
        {\"type\": \"Ready\", \"status\": \"False\", \"reason\": \"KubeletNotReady\", \"message\": \"container runtime is down\", \"lastHeartbeatTime\": \"$now\", \"lastTransitionTime\": \"$now\"},
        {\"type\": \"MemoryPressure\", \"status\": \"True\", \"reason\": \"KubeletHasInsufficientMemory\", \"message\": \"kubelet has insufficient memory available\", \"lastHeartbeatTime\": \"$now\", \"lastTransitionTime\": \"$now\"},
        {\"type\": \"DiskPressure\", \"status\": \"True\", \"reason\": \"KubeletHasDiskPressure\", \"message\": \"kubelet has disk pressure\", \"lastHeartbeatTime\": \"$now\", \"lastTransitionTime\": \"$now\"},
        {\"type\": \"PIDPressure\", \"status\": \"False\", \"reason\": \"KubeletHasSufficientPID\", \"message\": \"kubelet has sufficient PID available\", \"lastHeartbeatTime\": \"$now\", \"lastTransitionTime\": \"$now\"}],
      \"nodeInfo\": {\"kubeletVersion\": \"v1.33.13\", \"kubeProxyVersion\": \"v1.33.13\", \"containerRuntimeVersion\": \"containerd://1.7.24\", \"osImage\": \"Ubuntu 22.04.4 LTS\", \"kernelVersion\": \"5.15.0-105-generic\", \"operatingSystem\": \"linux\", \"architecture\": \"amd64\", \"machineID\": \"\", \"systemUUID\": \"\", \"bootID\": \"\"}}}" >/dev/null

  for n in kwok-node-lost kwok-node-pressure; do
    wait_for 90 kube-controller-manager "node $n tainted NoSchedule by the node lifecycle controller" \
      node_has_noschedule_taint "$n"
  done
}

node_has_noschedule_taint() {
  k get node "$1" -o jsonpath='{.spec.taints[*].effect}' | grep -q NoSchedule
}

post_apply() {
  # TLS Secret with a certificate that expires in ~10 days, made now so the
  # remaining lifetime is always the same.
  local tls="$SCENARIO_OUT/tls"
  mkdir -p "$tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$tls/tls.key" -out "$tls/tls.crt" -days 10 -subj "/CN=shop.example.com" \
    -addext "subjectAltName=DNS:shop.example.com,DNS:www.shop.example.com" 2>/dev/null
  k create secret tls shop-tls -n shop --cert="$tls/tls.crt" --key="$tls/tls.key" \
    --dry-run=client -o yaml | k apply -f - >/dev/null

  # Stuck rollout: v1, wait until it is out, then v2 whose image cannot be
  # pulled. Only when the Deployment does not exist yet: re-applying v1 to a
  # stuck v2 would roll it back.
  if ! k get deployment frontend -n shop >/dev/null 2>&1; then
    k apply -f "$SCENARIO_SRC/rollout/frontend-v1.yaml" >/dev/null
    k rollout status deployment/frontend -n shop --timeout=120s >/dev/null
    k apply -f "$SCENARIO_SRC/rollout/frontend-v2.yaml" >/dev/null
  fi

  local now
  now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

  # The operator's verdict on the BackupPolicy.
  k patch backuppolicy warehouse-nightly -n analytics --subresource=status --type=merge -p "{
    \"status\": {
      \"lastSuccessfulBackup\": \"2024-05-30T02:00:14Z\",
      \"conditions\": [{\"type\": \"Ready\", \"status\": \"False\", \"reason\": \"StorageUnavailable\",
        \"message\": \"cannot write to s3://analytics-backups/warehouse: AccessDenied: Access Denied (status 403)\",
        \"lastTransitionTime\": \"$now\", \"observedGeneration\": 1}]}}" >/dev/null
}

# Controller-driven outcomes, each bounded: the deployment controller gives
# up on the rollout, the Job controller fails the Job, the HPA controller
# (metrics via metrics-server) reaches maxReplicas, kwok reports the
# unhealthy node.
wait_scenario() {
  wait_for 120 kube-controller-manager "deployment shop/frontend ProgressDeadlineExceeded" \
    k wait --for=jsonpath='{.status.conditions[?(@.type=="Progressing")].reason}'=ProgressDeadlineExceeded \
      --timeout=5s deployment/frontend -n shop
  wait_for 120 kube-controller-manager "job analytics/nightly-etl Failed" \
    k wait --for=condition=Failed --timeout=5s job/nightly-etl -n analytics
  wait_for 180 kube-controller-manager "hpa shop/storefront-api at maxReplicas (4)" \
    k wait --for=jsonpath='{.status.currentReplicas}'=4 --timeout=5s hpa/storefront-api -n shop
  wait_for 60 kwok "node kwok-node-pressure reporting MemoryPressure" \
    k wait --for=condition=MemoryPressure --timeout=5s node/kwok-node-pressure
}
