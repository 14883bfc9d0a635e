#!/usr/bin/env bash
# The README's main command: one machine, nothing else running.
#   hack/install-deps.sh -> cmake Release build -> prescient-sim with hack/quickstart-scenario.yaml
#   -> kubectl apply crds/ -> prescient-operator + one prescient-agent per VMI (real processes against
#   the sim's kubeconfig) -> kubectl apply examples/ -> wait (bounded) for every CommandRun to finish
#   -> a table of predicted / allocated / used / waited -> everything stopped (trap).
# Environment: TIME_SCALE (default 10: the scenario's 30 s node scale-up takes 3 s), TIMEOUT (seconds to
# wait for the runs, default 300), RUN_DIR (logs; default a new /tmp dir), SKIP_DEPS=1, SKIP_BUILD=1,
# BUILD_DIR (default build), JOBS (default nproc).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TIME_SCALE=${TIME_SCALE:-10}
TIMEOUT=${TIMEOUT:-300}
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
RUN_DIR=${RUN_DIR:-$(mktemp -d /tmp/prescient-quickstart.XXXXXX)}
mkdir -p "$RUN_DIR"
NS=demo
echo "quickstart: logs and state in $RUN_DIR"

PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # Agents and operator first (they talk to the sim), then the sim.
  for ((i=${#PIDS[@]}-1; i>=0; i--)); do kill -TERM "${PIDS[i]}" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  # The agents' parent cgroups (empty once their runs ended).
  for d in /sys/fs/cgroup/*/prescient-quickstart-*; do [[ -d "$d" ]] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
  echo "quickstart: stopped everything (logs in $RUN_DIR)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits up to $1 seconds for the command in the remaining arguments to succeed.
wait_for() {
  local secs=$1; shift
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.5
  done
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

if [[ "${SKIP_DEPS:-}" != 1 ]]; then
  echo "quickstart: installing dependencies (hack/install-deps.sh)"
  hack/install-deps.sh > "$RUN_DIR/install-deps.log" 2>&1 || { echo "install-deps failed: see $RUN_DIR/install-deps.log"; exit 1; }
fi
if [[ "${SKIP_BUILD:-}" != 1 ]]; then
  echo "quickstart: building (cmake Release into $BUILD_DIR/, log $RUN_DIR/build.log)"
  { cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release &&
    cmake --build "$BUILD_DIR" --target prescient-sim prescient-operator prescient-agent -j "$JOBS"; } \
    > "$RUN_DIR/build.log" 2>&1 || { echo "build failed: see $RUN_DIR/build.log"; tail -20 "$RUN_DIR/build.log"; exit 1; }
fi
BIN="$ROOT/$BUILD_DIR/bin"
KCFG="$RUN_DIR/kubeconfig"
k() { kubectl --kubeconfig "$KCFG" --cache-dir "$RUN_DIR/kubectl-cache" "$@"; }

echo "quickstart: starting prescient-sim (scenario hack/quickstart-scenario.yaml, time scale $TIME_SCALE)"
"$BIN/prescient-sim" --port 0 --kubeconfig-out "$KCFG" --scenario hack/quickstart-scenario.yaml \
  --time-scale "$TIME_SCALE" > "$RUN_DIR/sim.log" 2>&1 &
PIDS+=($!)
wait_for 30 test -s "$KCFG" || { echo "prescient-sim did not start: see $RUN_DIR/sim.log"; exit 1; }
wait_for 30 k get --raw /version || { echo "prescient-sim does not answer: see $RUN_DIR/sim.log"; exit 1; }

k apply -f crds/ > "$RUN_DIR/apply-crds.log"
wait_for 30 k get commandruns -A || { echo "the CRDs were not served"; exit 1; }

cat > "$RUN_DIR/policy.yaml" <<POLICY
# The quickstart lets the operator raise (and lower again) the demo namespace's quota for the
# migration's second virt-launcher pod.
ownedQuotaName: demo-quota
POLICY
OP_METRICS=$(free_port); OP_PROBES=$(free_port)
MODEL_ARGS=()
if [[ -f models/default/metadata.json ]]; then MODEL_ARGS=(--model-dir "$ROOT/models/default"); fi
echo "quickstart: starting prescient-operator (metrics :$OP_METRICS, probes :$OP_PROBES)"
"$BIN/prescient-operator" --kubeconfig "$KCFG" --config "$RUN_DIR/policy.yaml" --history-dir "$RUN_DIR/history" \
  --metrics-bind-address "127.0.0.1:$OP_METRICS" --health-probe-bind-address "127.0.0.1:$OP_PROBES" \
  "${MODEL_ARGS[@]}" > "$RUN_DIR/operator.log" 2>&1 &
PIDS+=($!)
wait_for 30 curl -sf "http://127.0.0.1:$OP_PROBES/readyz" || { echo "the operator is not ready: see $RUN_DIR/operator.log"; exit 1; }

echo "quickstart: waiting for the VMs to run"
vmis_running() {
  local want have
  want=$(k get virtualmachines -n $NS -o name | wc -l)
  have=$(k get virtualmachineinstances -n $NS -o jsonpath='{range .items[?(@.status.phase=="Running")]}{.metadata.name}{"\n"}{end}' | grep -c . || true)
  [[ "$want" -gt 0 && "$have" -ge "$want" ]]
}
wait_for 120 vmis_running || { echo "the VMs did not start: see $RUN_DIR/sim.log"; exit 1; }
for vmi in $(k get virtualmachineinstances -n $NS -o jsonpath='{.items[*].metadata.name}'); do
  echo "quickstart: starting prescient-agent for $NS/$vmi"
  mkdir -p "$RUN_DIR/agent-$vmi"
  "$BIN/prescient-agent" --kubeconfig "$KCFG" --namespace $NS --instance "$vmi" \
    --state-dir "$RUN_DIR/agent-$vmi/state" --log-dir "$RUN_DIR/agent-$vmi/output" \
    --cgroup-parent "prescient-quickstart-$vmi" --metrics-bind-address 0 \
    > "$RUN_DIR/agent-$vmi/agent.log" 2>&1 &
  PIDS+=($!)
done

echo "quickstart: applying examples/"
k apply -f examples/ > "$RUN_DIR/apply-examples.log"
all_finished() {
  local out
  out=$(k get commandruns -n $NS -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}')
  [[ -n "$out" ]] && ! grep -qvE '^(Succeeded|Failed)$' <<<"$out"
}
echo "quickstart: waiting up to ${TIMEOUT}s for every CommandRun to finish"
finished=1
wait_for "$TIMEOUT" all_finished || finished=0

k get commandruns -n $NS -o json > "$RUN_DIR/commandruns.json"
python3 - "$RUN_DIR/commandruns.json" <<'PY'
import json, sys
from datetime import datetime
def t(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ") if s else None
def q(v):
    return "-" if v in (None, "", 0) else str(v)
def mib(v):
    if v in (None, ""): return "-"
    if isinstance(v, str):
        units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
        for u, m in units.items():
            if v.endswith(u): return f"{float(v[:-len(u)]) * m / 2**20:.0f}Mi"
        v = float(v)
    return f"{v / 2**20:.0f}Mi"
items = json.load(open(sys.argv[1]))["items"]
rows = [("RUN", "PHASE", "PREDICTED (source)", "ALLOCATED", "INSTANCE", "USED PEAK", "WAITED", "RAN")]
for it in sorted(items, key=lambda i: i["metadata"]["creationTimestamp"] + i["metadata"]["name"]):
    st = it.get("status", {})
    p = st.get("prediction", {})
    a = st.get("allocation", {})
    u = st.get("usage", {}).get("peaks", {})
    r = st.get("result", {})
    created = t(it["metadata"].get("creationTimestamp"))
    alloc_at = t(a.get("allocatedAt"))
    waited = f"{(alloc_at - created).total_seconds():.0f}s" if alloc_at and created else "-"
    ran = "-"
    if r.get("startedAt") and r.get("finishedAt"):
        ran = f"{(t(r['finishedAt']) - t(r['startedAt'])).total_seconds():.0f}s"
    pred = f"{q(p.get('cpu'))} / {mib(p.get('memory'))} ({p.get('source', '-')})" if p else "-"
    alloc = f"{q(a.get('cpuCores'))} / {mib(a.get('memory'))}" if a else "-"
    used = f"{u.get('cpuCores', 0):.2f} / {mib(u.get('memoryBytes'))}" if u else "-"
    phase = st.get("phase", "-") + (f" ({r.get('reason')})" if r.get("reason") and r.get("reason") != "Completed" else "")
    rows.append((it["metadata"]["name"], phase, pred, alloc, a.get("instanceID", "-"), used, waited, ran))
w = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
for r in rows:
    print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)))
PY
if ((finished == 0)); then
  echo "quickstart: not every CommandRun finished within ${TIMEOUT}s (see $RUN_DIR/operator.log and agent-*/agent.log)"
  exit 1
fi
echo "quickstart: done. History recorded in $RUN_DIR/history/history.jsonl"
