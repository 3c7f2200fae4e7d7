# shellcheck shell=bash
# Hooks of the scale scenario (sourced by tests/cluster/apply-scenario, which
# provides k = the real kubectl on the test cluster, log, die, wait_for,
# SCENARIO_OUT and SCENARIO_SRC).
#
# 10,000 pods are too many to write by hand: pre_apply generates the
# manifests into SCENARIO_OUT (apply-scenario then applies them in lexical
# order with the real kubectl), and wait_scenario waits until every pod has
# reached the state its workload intends and metrics-server reports them.
#
# Size (environment):
#   KUBESNAP_SCALE_NAMESPACES  namespaces of 500 pods each (default 20: 10,000 pods)
#   KUBESNAP_SCALE_TIMEOUT     seconds to wait for the pods (default 1800)

SCALE_NAMESPACES="${KUBESNAP_SCALE_NAMESPACES:-20}"
SCALE_PODS_PER_NAMESPACE=500
# 200 pods per node: 50 nodes for 10,000 pods, leaving room (250 allowed).
SCALE_PODS_PER_NODE=200

scale_namespace() { printf 'scale-%02d' "$1"; }

# scale_nodes N: N kwok nodes sized for 250 small pods each. Registered as a
# kubelet registers itself (status in the object, as tests/cluster/up does).
scale_nodes() {
  local i n
  for ((i = 0; i < $1; i++)); do
    n="kwok-scale-$i"
    cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $n
  annotations:
    kwok.x-k8s.io/node: fake
    metrics.k8s.io/resource-metrics-path: /metrics/nodes/$n/metrics/resource
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: $n
    node-role.kubernetes.io/worker: ""
    type: kwok
    pool: scale
    topology.kubernetes.io/zone: zone-$((i % 3))
spec: {}
status:
  allocatable: {cpu: "32", memory: 128Gi, pods: "250", ephemeral-storage: 500Gi}
  capacity: {cpu: "32", memory: 128Gi, pods: "250", ephemeral-storage: 500Gi}
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    osImage: kwok fake node (kubesnap scale scenario)
    kubeletVersion: v1.33.13
    kubeProxyVersion: v1.33.13
    containerRuntimeVersion: kwok://v0.7.0
    kernelVersion: kwok
---
EOF
  done
}

# pod_spec CONTAINER IMAGE SIDECAR(0|1) [EXTRA-SPEC-LINES]: the pod spec of
# every workload (6 spaces of indent, under template.spec), with small
# requests so that 200 pods fit a node.
pod_spec() {
  local name="$1" image="$2" sidecar="$3" extra="${4:-}"
  cat <<EOF
      ${extra:+$extra
      }containers:
      - name: $name
        image: $image
        ports: [{containerPort: 8080, name: http}]
        env:
        - {name: LOG_LEVEL, value: info}
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        envFrom:
        - configMapRef: {name: $name-config}
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 10
        resources:
          requests: {cpu: 10m, memory: 32Mi}
          limits: {cpu: 200m, memory: 256Mi}
EOF
  if ((sidecar)); then
    cat <<EOF
      - name: envoy
        image: envoyproxy/envoy:v1.31.2
        resources:
          requests: {cpu: 5m, memory: 16Mi}
          limits: {cpu: 100m, memory: 128Mi}
EOF
  fi
}

# workload_config NS NAME: the ConfigMap and Service every workload has.
workload_config() {
  cat <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: $2-config, namespace: $1, labels: {app: $2}}
data:
  UPSTREAM_URL: http://$2-upstream.$1.svc:8080
  CACHE_TTL_SECONDS: "300"
  FEATURE_FLAGS: checkout-v2,search-ranking
---
apiVersion: v1
kind: Service
metadata: {name: $2, namespace: $1, labels: {app: $2}}
spec:
  selector: {app: $2}
  ports: [{name: http, port: 80, targetPort: http}]
---
EOF
}

# deployment NS NAME REPLICAS SIDECAR [STATE-LABEL-LINE] [ANNOTATION-LINES] [EXTRA-SPEC]
deployment() {
  local ns="$1" name="$2" replicas="$3" sidecar="$4" state="${5:-}" annotations="${6:-}" extra="${7:-}"
  workload_config "$ns" "$name"
  cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: $name, namespace: $ns, labels: {app: $name, kubesnap.test/scale: "true"}}
spec:
  replicas: $replicas
  selector: {matchLabels: {app: $name}}
  template:
    metadata:
      labels:
        app: $name
        kubesnap.test/scale: "true"${state:+
        $state}
      annotations:
        kwok.x-k8s.io/usage-cpu: $((5 + RANDOM % 40))m
        kwok.x-k8s.io/usage-memory: $((20 + RANDOM % 60))Mi${annotations:+
        $annotations}
    spec:
EOF
  pod_spec "$name" "registry.example.com/$ns/$name:1.$((RANDOM % 20)).0" "$sidecar" \
    "priorityClassName: scale-services${extra:+
      $extra}"
  echo "---"
}

statefulset() {
  local ns="$1" name="$2" replicas="$3"
  workload_config "$ns" "$name"
  cat <<EOF
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: $name, namespace: $ns, labels: {app: $name, kubesnap.test/scale: "true"}}
spec:
  serviceName: $name
  replicas: $replicas
  podManagementPolicy: Parallel
  selector: {matchLabels: {app: $name}}
  template:
    metadata:
      labels: {app: $name, kubesnap.test/scale: "true"}
      annotations: {kwok.x-k8s.io/usage-cpu: 30m, kwok.x-k8s.io/usage-memory: 200Mi}
    spec:
EOF
  pod_spec "$name" "redis:7.2.5" 0 "priorityClassName: scale-services"
  echo "---"
}

# job NS NAME COMPLETIONS [STATE-LABEL-LINE]: a Job of COMPLETIONS pods run
# in parallel; kwok's pod-complete stage completes them, unless the state
# label makes them fail (backoffLimit is then reached by the same pods).
job() {
  local ns="$1" name="$2" completions="$3" state="${4:-}"
  workload_config "$ns" "$name"
  cat <<EOF
apiVersion: batch/v1
kind: Job
metadata: {name: $name, namespace: $ns, labels: {app: $name, kubesnap.test/scale: "true"}}
spec:
  completions: $completions
  parallelism: $completions
  backoffLimit: $((completions - 1))
  template:
    metadata:
      labels:
        app: $name
        kubesnap.test/scale: "true"${state:+
        $state}
    spec:
      restartPolicy: Never
EOF
  pod_spec "$name" "registry.example.com/$ns/batch:2.0.1" 0 "priorityClassName: scale-batch" | sed '/readinessProbe:/,/periodSeconds/d'
  echo "---"
}

# scale_namespace_manifests I: namespace I with exactly 500 pods:
#   15 Deployments x 25 (8 of them with an envoy sidecar)       375 Running
#    2 StatefulSets x 25                                          50 Running
#   10 Jobs x 5                                                   50 Succeeded
#    1 Deployment x 10 CrashLoopBackOff (previous log: a panic)   10
#    1 Deployment x 5 ImagePullBackOff                             5
#    1 Deployment x 5 unschedulable (no node has disktype=nvme)    5 Pending
#    1 Job x 5 failing (BackoffLimitExceeded)                      5 Failed
# plus a ConfigMap and a Service per workload, and a Secret.
scale_namespace_manifests() {
  local ns i
  ns="$(scale_namespace "$1")"
  cat <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: $ns, labels: {kubesnap.test/scale: "true", team: team-$(($1 % 5))}}
---
apiVersion: v1
kind: Secret
metadata: {name: registry-credentials, namespace: $ns}
type: Opaque
stringData: {username: ci-bot, password: not-a-real-password-$1}
---
EOF
  for ((i = 0; i < 15; i++)); do
    deployment "$ns" "svc-$i" 25 $((i % 2 == 0))
  done
  statefulset "$ns" cache 25
  statefulset "$ns" queue 25
  for ((i = 0; i < 10; i++)); do
    job "$ns" "batch-$i" 5
  done
  deployment "$ns" worker 10 0 "kubelet.kubesnap.test/state: CrashLoopBackOff" \
    "kubelet.kubesnap.test/restart-count: \"6\""
  deployment "$ns" recommender 5 0 "kubelet.kubesnap.test/state: Waiting" \
    "kubelet.kubesnap.test/waiting-reason: ImagePullBackOff
        kubelet.kubesnap.test/message: 'Back-off pulling image \"registry.example.com/$ns/recommender:9.9.9\"'"
  deployment "$ns" indexer 5 0 "" "" "nodeSelector: {disktype: nvme}"
  job "$ns" migrate 5 "kubelet.kubesnap.test/state: Failed"
}

# The logs kwok serves: every container of every scale namespace.
scale_cluster_logs() {
  local i
  cat <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata: {name: scale}
spec:
  selector:
    matchNamespaces:
EOF
  for ((i = 0; i < SCALE_NAMESPACES; i++)); do
    echo "    - $(scale_namespace "$i")"
  done
  cat <<EOF
  logs:
  - containers: [worker, migrate]
    logsFile: $SCENARIO_OUT/logs/crash.log
    previousLogsFile: $SCENARIO_OUT/logs/crash.previous.log
  - containers: [envoy]
    logsFile: $SCENARIO_OUT/logs/sidecar.log
  - containers: [batch-0, batch-1, batch-2, batch-3, batch-4, batch-5, batch-6, batch-7, batch-8, batch-9]
    logsFile: $SCENARIO_OUT/logs/job.log
  - logsFile: $SCENARIO_OUT/logs/app.log
EOF
}

pre_apply() {
  local i n_nodes
  ((SCALE_NAMESPACES >= 1)) || die "KUBESNAP_SCALE_NAMESPACES must be at least 1"
  n_nodes=$(((SCALE_NAMESPACES * SCALE_PODS_PER_NAMESPACE + SCALE_PODS_PER_NODE - 1) / SCALE_PODS_PER_NODE))
  log "generating $SCALE_NAMESPACES namespaces of $SCALE_PODS_PER_NAMESPACE pods and $n_nodes nodes into $SCENARIO_OUT"
  # RANDOM drives the per-workload usage and image tags: seeded, so every
  # run generates the same manifests.
  RANDOM=7
  scale_nodes "$n_nodes" >"$SCENARIO_OUT/10-nodes.yaml"
  scale_cluster_logs >"$SCENARIO_OUT/20-cluster-logs.yaml"
  # The workloads go to a subfolder that apply-scenario does not apply:
  # post_apply applies them, several namespaces at once.
  mkdir -p "$SCENARIO_OUT/workloads"
  for ((i = 0; i < SCALE_NAMESPACES; i++)); do
    scale_namespace_manifests "$i" >"$SCENARIO_OUT/workloads/$(scale_namespace "$i").yaml"
  done
  SCALE_APPLY_STARTED=$SECONDS
}

# Server-side apply, one kubectl per namespace, four at a time: one
# client-side `kubectl apply` of all 2,500 objects spent minutes of CPU
# before its first request (schema validation and patch computation per
# object); server-side apply is one PATCH per object, idempotent, and the
# API server still validates each object.
post_apply() {
  log "applying the workloads of $SCALE_NAMESPACES namespaces (server-side, 4 at a time)"
  printf '%s\0' "$SCENARIO_OUT"/workloads/*.yaml |
    xargs -0 -P 4 -I '{}' "$KUBECTL" --kubeconfig "$KUBECONFIG" apply --server-side \
      --force-conflicts --validate=false -f '{}' >/dev/null ||
    die "kubectl apply of the scale workloads failed"
  log "workloads applied $((SECONDS - SCALE_APPLY_STARTED))s after the first apply"
}

after_apply_file() {
  [[ "$1" == 10-nodes.yaml ]] || return 0
  wait_for 300 kwok "the scale nodes Ready" scale_nodes_ready
}

scale_nodes_ready() {
  local not_ready
  not_ready="$(k get nodes -l pool=scale --no-headers | awk '$2 != "Ready"' | wc -l)"
  ((not_ready == 0))
}

# scale_pod_states: "<count> <state>" lines over every scale pod, with the
# states of apply-scenario's pod_states (Unscheduled, a waiting reason,
# NotReady, else the phase). It reads the server-side table (`-o wide`)
# rather than the pods themselves: at 10,000 pods a go-template over the
# full objects costs the API server and kubectl minutes of CPU per poll,
# which slowed kwok's own status updates down to a crawl. Columns:
# NAMESPACE NAME READY STATUS RESTARTS(may hold spaces) AGE IP NODE
# NOMINATED-NODE READINESS-GATES, so NODE is counted from the end.
scale_pod_states() {
  k get pods -A -l kubesnap.test/scale=true -o wide --no-headers --chunk-size=2000 |
    awk '{
      split($3, ready, "/"); status = $4; node = $(NF - 2)
      if (status == "Running" && ready[1] != ready[2]) status = "NotReady"
      else if (status == "Completed") status = "Succeeded"
      else if (status == "Error") status = "Failed"
      else if (status == "Pending" && node == "<none>") status = "Unscheduled"
      print status
    }' | sort | uniq -c
}

# The intended end state, per SCALE_NAMESPACES namespaces.
scale_expected() {
  local n="$SCALE_NAMESPACES"
  printf '%s Running\n%s Succeeded\n%s CrashLoopBackOff\n%s ImagePullBackOff\n%s Unscheduled\n%s Failed\n' \
    $((425 * n)) $((50 * n)) $((10 * n)) $((5 * n)) $((5 * n)) $((5 * n))
}

# Settled: at least the intended number of pods in each intended state
# (the failing Job may make one pod more than its 5 before it gives up), and
# none in any other (ContainerCreating, Pending on a node, NotReady...).
scale_settled() {
  local have
  have="$(scale_pod_states)"
  awk 'NR == FNR { want[$2] = $1; next }
       { have[$2] = $1; if (!($2 in want)) bad = 1 }
       END { for (s in want) if (have[s] < want[s]) bad = 1; exit bad }' \
    <(scale_expected) <(echo "$have") ||
    { log "pods: $(tr -s ' \n' ' ' <<<"$have")"; return 1; }
}

# metrics-server reports at least 95% of the Running pods (a pod appears
# after two scrapes of its node).
scale_metrics_served() {
  local n want
  n="$(k get --raw /apis/metrics.k8s.io/v1beta1/pods | grep -o '"namespace":"scale-' | wc -l)"
  want=$((425 * SCALE_NAMESPACES * 95 / 100))
  ((n >= want)) || { log "metrics for $n pods (want $want)"; return 1; }
}

wait_scenario() {
  local timeout="${KUBESNAP_SCALE_TIMEOUT:-1800}" deadline
  deadline=$((SECONDS + timeout))
  until scale_settled; do
    ((SECONDS < deadline)) || die "scale: pods did not settle within ${timeout}s"
    sleep 20
  done
  log "scale: all $((SCALE_NAMESPACES * SCALE_PODS_PER_NAMESPACE)) pods settled $((SECONDS - SCALE_APPLY_STARTED))s after the first apply"
  until scale_metrics_served; do
    ((SECONDS < deadline)) || die "scale: metrics-server did not report the pods within ${timeout}s"
    sleep 10
  done
  log "scale: metrics served $((SECONDS - SCALE_APPLY_STARTED))s after the first apply"
}
