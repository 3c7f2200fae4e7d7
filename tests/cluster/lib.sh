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

# listening_ports: every local TCP port in LISTEN state (IPv4 and IPv6).
listening_ports() {
  local f
  for f in /proc/net/tcp /proc/net/tcp6; do
    [[ -r "$f" ]] || continue
    # column 2 is local_address as HEXIP:HEXPORT, column 4 state (0A=LISTEN);
    # hex is converted by bash because Debian's default awk (mawk) has no
    # strtonum.
    local hex
    for hex in $(awk 'NR > 1 && $4 == "0A" { split($2, a, ":"); print a[2] }' "$f"); do
      echo $((16#$hex))
    done
  done
}

# alloc_port VAR: set VAR to a loopback port nobody listens on and that we
# have not handed out yet in this run (tracked in CLUSTER_USED_PORTS; that is
# why this sets a variable instead of printing: a $(...) subshell would lose
# the bookkeeping). There is a small race with other programs grabbing the
# port before our process binds it; the readiness waits then fail with a
# clear error naming the component instead of hanging.
CLUSTER_USED_PORTS=" "
alloc_port() {
  local busy p i
  busy=" $(listening_ports | tr '\n' ' ') "
  for ((i = 0; i < 500; i++)); do
    p=$((20000 + RANDOM % 30000))
    [[ "$busy" == *" $p "* || "$CLUSTER_USED_PORTS" == *" $p "* ]] && continue
    CLUSTER_USED_PORTS+="$p "
    printf -v "$1" '%s' "$p"
    return 0
  done
  die "no free TCP port found"
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
