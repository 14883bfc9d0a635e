#!/usr/bin/env bash
# Chart vs binary: renders charts/prescient with its default values (hack/render-chart), applies the
# rendered objects to prescient-sim with kubectl, then starts prescient-operator with exactly the
# Deployment's args (only the data-volume path and the two ports are rewritten to local ones, and
# --kubeconfig replaces the in-cluster config) and checks it becomes ready, leads, reads the chart's
# policy ConfigMap, and serves metrics that pass `promtool check metrics`. (A real Prometheus scraping
# the operator and agents through real runs, with the alert rules and the dashboard: prometheus_live.sh.)
# Needs BIN_DIR (default build/bin) with prescient-sim and prescient-operator, go + sprig, promtool.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BIN_DIR="${BIN_DIR:-build/bin}"
for b in prescient-sim prescient-operator; do
  [ -x "$BIN_DIR/$b" ] || { echo "chart_vs_binary: $BIN_DIR/$b is not built" >&2; exit 1; }
done
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
die() { echo "chart_vs_binary: FAIL: $*" >&2; for f in "$work"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done; exit 1; }
# Polls a command until it succeeds, for at most $1 seconds.
wait_for() { local t=$1; shift; local end=$((SECONDS + t)); until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $end ] || return 1; sleep 0.2; done; }

GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= go build -o "$work/render-chart" ./hack/render-chart
"$work/render-chart" -chart charts/prescient -namespace prescient-system >"$work/rendered.yaml"

"$BIN_DIR/prescient-sim" --port 0 --kubeconfig-out "$work/kubeconfig" >"$work/sim.log" 2>&1 &
pids+=($!)
wait_for 30 test -s "$work/kubeconfig" || die "prescient-sim wrote no kubeconfig"
export KUBECONFIG="$work/kubeconfig"
wait_for 30 kubectl get --raw /version || die "prescient-sim does not answer"

printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prescient-system\n' | kubectl apply --validate=false -f - >/dev/null
# Apply object by object: kinds the sim does not serve (RBAC, PVC) are reported and skipped; every
# other object must be accepted.
python3 - "$work" <<'PY'
import sys, yaml
work = sys.argv[1]
for i, d in enumerate(x for x in yaml.safe_load_all(open(f"{work}/rendered.yaml")) if x):
    yaml.safe_dump(d, open(f"{work}/obj-{i:02d}-{d['kind']}.yaml", "w"))
PY
applied=0
for f in "$work"/obj-*.yaml; do
  if out=$(kubectl apply --validate=false -f "$f" 2>&1); then
    echo "chart_vs_binary: applied: $out"; applied=$((applied + 1))
  elif grep -q 'no matches for kind' <<<"$out"; then
    echo "chart_vs_binary: skipped (prescient-sim does not serve this kind): $(basename "$f")"
  else
    die "kubectl apply $(basename "$f"): $out"
  fi
done
[ "$applied" -ge 5 ] || die "only $applied rendered objects were applied"

# The operator's command line, from the rendered Deployment.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mport=$(free_port); hport=$(free_port)
mapfile -t args < <(python3 - "$work/rendered.yaml" "$work/data" "$mport" "$hport" <<'PY'
import sys, yaml
rendered, data, mport, hport = sys.argv[1:5]
dep = [d for d in yaml.safe_load_all(open(rendered)) if d and d["kind"] == "Deployment"][0]
c = [c for c in dep["spec"]["template"]["spec"]["containers"] if c["name"] == "operator"][0]
assert not c.get("env"), "the Deployment sets env the test does not reproduce: %r" % c.get("env")
for a in c["args"]:
    a = a.replace("/var/lib/prescient", data)
    a = a.replace("--metrics-bind-address=:8080", f"--metrics-bind-address=127.0.0.1:{mport}")
    a = a.replace("--health-probe-bind-address=:8081", f"--health-probe-bind-address=127.0.0.1:{hport}")
    print(a)
PY
)
# What the chart's init container does: create the directories and seed the default model.
mkdir -p "$work/data/history" "$work/data/models"
cp -R models/default/. "$work/data/models/"
echo "chart_vs_binary: prescient-operator ${args[*]}"
"$BIN_DIR/prescient-operator" "${args[@]}" --kubeconfig "$work/kubeconfig" >"$work/operator.log" 2>&1 &
pids+=($!)
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hport/readyz")" = 200 ]; }
wait_for 60 ready || die "the operator did not become ready with the chart's command line"
[ "$(curl -s "http://127.0.0.1:$hport/healthz")" != "" ] || die "/healthz is empty"
leading() { curl -s "http://127.0.0.1:$mport/metrics" | grep -qx 'prescient_leader 1'; }
wait_for 60 leading || die "the operator never reported prescient_leader 1"
grep -q '"scalingMode":"ProvisioningRequest"' "$work/operator.log" || die "the operator did not report the chart's policy scalingMode ProvisioningRequest"
curl -s "http://127.0.0.1:$mport/metrics" >"$work/metrics.txt"
promtool check metrics <"$work/metrics.txt" || die "promtool check metrics found problems in /metrics"
echo "chart_vs_binary: ok: the operator runs with the chart's command line, is ready and leads; its metrics pass promtool"
