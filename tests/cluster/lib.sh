# shellcheck shell=bash
# tests/cluster/lib.sh — helpers shared by up, down, apply-scenario and smoke.
# Sourced, not executed. Callers set `set -euo pipefail` themselves.

# shellcheck disable=SC2034 # used by the scripts that source this file
CLUSTER_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Marker written by `up` into DIR: `down` only deletes directories carrying
# it, so a typo in DIR can never make it rm -rf something else.
# shellcheck disable=SC2034
CLUSTER_MARKER=".kubesnap-cluster"

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "${CLUSTER_TOOL:-cluster}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# tail_log FILE [LINES]: the end of a component log, indented, for errors.
tail_log() {
  local f="$1" n="${2:-25}"
  if [[ -s "$f" ]]; then
    echo "----- last $n lines of $f -----" >&2
    tail -n "$n" "$f" | sed 's/^/  | /' >&2
    echo "-----" >&2
  else
    echo "(log $f is empty or missing)" >&2
  fi
}

# pick_kubectl: the real kubectl to drive the cluster with. Prefers the 1.33
# client that google-cloud-sdk installs next to `kubectl` (same minor as the
# server), else any kubectl on PATH (1.32 is within the supported skew).
pick_kubectl() {
  if [[ -n "${KUBECTL:-}" ]]; then echo "$KUBECTL"; return; fi
  local k dir
  if k="$(command -v kubectl.1.33 2>/dev/null)"; then echo "$k"; return; fi
  if k="$(command -v kubectl 2>/dev/null)"; then
    dir="$(dirname "$(readlink -f "$k")")"
    if [[ -x "$dir/kubectl.1.33" ]]; then echo "$dir/kubectl.1.33"; return; fi
    echo "$k"; return
  fi
  die "no kubectl found (set KUBECTL=/path/to/kubectl)"
}

# ensure_tool CMD [APT-PACKAGE]: install a missing host tool from Debian.
ensure_tool() {
  local cmd="$1" pkg="${2:-$1}"
  command -v "$cmd" >/dev/null 2>&1 && return 0
  log "$cmd is missing; installing Debian package $pkg"
  local sudo=()
  [[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
  if ! { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq "$pkg"; } >&2; then
    die "could not install $pkg (needed for $cmd)"
  fi
}

# used_ports: every local TCP port some socket holds, in any state (LISTEN,
# but also the local end of established or TIME_WAIT connections: bind(2)
# refuses those too), IPv4 and IPv6.
used_ports() {
  local f hex
  for f in /proc/net/tcp /proc/net/tcp6; do
    [[ -r "$f" ]] || continue
    # column 2 is local_address as HEXIP:HEXPORT; hex is converted by bash
    # because Debian's default awk (mawk) has no strtonum.
    for hex in $(awk 'NR > 1 { split($2, a, ":"); print a[2] }' "$f" | sort -u); do
      echo $((16#$hex))
    done
  done
}

# The kernel hands out ports of ip_local_port_range (32768-60999 by default)
# as the local end of every outgoing connection, and a cluster makes hundreds
# of loopback connections while it starts (apiserver to etcd, kwok and the
# controllers to the apiserver). A listening port picked from that range can
# be taken by such a connection before the component binds it, which is how
# kwok once failed with "bind: address already in use" in CI. Ports are
# therefore picked below the ephemeral range.
ephemeral_low() {
  local low _
  if read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null && [[ "$low" =~ ^[0-9]+$ ]]; then
    echo "$low"
  else
    echo 32768
  fi
}

# Ports handed out are reserved across concurrent `up` runs (tests start
# private clusters in parallel) by an atomic mkdir in PORT_RESERVATIONS; each
# reservation names the cluster DIR that owns it, `down` releases them, and a
# reservation whose DIR is gone is stale and taken over.
PORT_RESERVATIONS="${TMPDIR:-/tmp}/kubesnap-cluster-ports"

# reserve_port P: reserve P for $DIR; fails if another live cluster holds it.
reserve_port() {
  local r="$PORT_RESERVATIONS/$1" owner
  mkdir -p "$PORT_RESERVATIONS" 2>/dev/null || return 1
  if mkdir "$r" 2>/dev/null; then
    echo "$DIR" >"$r/owner"
    return 0
  fi
  owner="$(cat "$r/owner" 2>/dev/null || true)"
  # The owner writes its name right after mkdir: an empty owner is a
  # reservation being made right now, not a stale one.
  [[ -n "$owner" && ! -e "$owner/$CLUSTER_MARKER" ]] || return 1
  rm -rf "$r" 2>/dev/null || return 1
  mkdir "$r" 2>/dev/null || return 1
  echo "$DIR" >"$r/owner"
}

# release_ports DIR: drop every reservation DIR owns.
release_ports() {
  local r
  for r in "$PORT_RESERVATIONS"/*/; do
    [[ -f "$r/owner" && "$(cat "$r/owner" 2>/dev/null)" == "$1" ]] && rm -rf "$r"
  done
  return 0
}

# alloc_port VAR: set VAR to a loopback port below the ephemeral range that no
# socket uses and no other cluster has reserved. It sets a variable instead
# of printing because a $(...) subshell would lose CLUSTER_USED_PORTS.
CLUSTER_USED_PORTS=" "
alloc_port() {
  local busy p i low span
  low="$(ephemeral_low)"
  ((low > 12000)) || die "ip_local_port_range starts at $low: no room below it for the test cluster's ports"
  span=$((low - 10000))
  busy=" $(used_ports | tr '\n' ' ') "
  for ((i = 0; i < 1000; i++)); do
    p=$((10000 + (RANDOM * 32768 + RANDOM) % span))
    [[ "$busy" == *" $p "* || "$CLUSTER_USED_PORTS" == *" $p "* ]] && continue
    reserve_port "$p" || continue
    CLUSTER_USED_PORTS+="$p "
    printf -v "$1" '%s' "$p"
    return 0
  done
  die "no free TCP port found in 10000-$((low - 1))"
}

# start_bg NAME CMD...: start a component in the background with its output
# in $DIR/logs/NAME.log and its pid in $DIR/pids/NAME.pid. setsid puts it in
# its own session so that a Ctrl-C on the caller's terminal does not kill the
# cluster behind `down`'s back, and so that `down` owns the shutdown.
start_bg() {
  local name="$1"; shift
  local logf="$DIR/logs/$name.log"
  setsid "$@" >"$logf" 2>&1 </dev/null &
  echo $! >"$DIR/pids/$name.pid"
  log "started $name (pid $!, log $logf)"
}

# alive NAME: is the component started by start_bg still running?
alive() {
  local pidf="$DIR/pids/$1.pid"
  [[ -f "$pidf" ]] && kill -0 "$(cat "$pidf")" 2>/dev/null
}

# wait_for TIMEOUT_S COMPONENT DESCRIPTION CMD...: retry CMD every second
# until it succeeds. On timeout, or if COMPONENT's process died, fail with a
# message naming the component and the tail of its log.
wait_for() {
  local timeout="$1" comp="$2" what="$3"; shift 3
  local deadline=$((SECONDS + timeout))
  while ! "$@" >/dev/null 2>&1; do
    if [[ -n "$comp" && -f "$DIR/pids/$comp.pid" ]] && ! alive "$comp"; then
      tail_log "$DIR/logs/$comp.log" 40
      die "$comp exited while waiting for: $what"
    fi
    if ((SECONDS >= deadline)); then
      [[ -n "$comp" ]] && tail_log "$DIR/logs/$comp.log" 40
      die "timed out after ${timeout}s waiting for ${comp:+$comp: }$what"
    fi
    sleep 1
  done
}

# load_env DIR: read DIR/env (written by up) and set KUBECONFIG/KUBECTL.
load_env() {
  DIR="$(cd "$1" 2>/dev/null && pwd)" || die "cluster directory $1 does not exist (run tests/cluster/up $1 first)"
  [[ -f "$DIR/env" ]] || die "$DIR/env is missing (run tests/cluster/up $DIR first)"
  # shellcheck disable=SC1091
  . "$DIR/env"
  export KUBECONFIG
  KUBECTL="${KUBECTL:-$(pick_kubectl)}"
}

# k ARGS...: the real kubectl against the test cluster.
k() { "$KUBECTL" --kubeconfig "$KUBECONFIG" "$@"; }
