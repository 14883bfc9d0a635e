#!/usr/bin/env bash
# Checks the packaging artefacts with the tools that run on this machine (no container engine, no Helm):
#   1. every COPY source in the Dockerfile exists in the repository and is not excluded by .dockerignore;
#   2. if the binaries are built (BIN_DIR, default build/bin), the Dockerfile's runtime packages are
#      exactly the Debian packages owning the libraries `ldd` reports for them (dpkg -S);
#   3. the chart's CRD templates are identical to crds/*.yaml (apart from the Helm guard lines);
#   4. the Prometheus alert rules pass `promtool check rules` and their unit tests `promtool test rules`;
#   5. values.schema.json accepts tests/packaging/values/*.yaml and rejects tests/packaging/bad-values/*.yaml;
#   6. the chart renders (hack/render-chart: Helm's text/template + sprig) with the default values and each
#      good value set, the output is consistent with the repository and the binary's --help, and every
#      bad value set fails with a clear message.
# Prints every mismatch and exits 1 if there was any.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=hack/lib/deb-deps.sh
source hack/lib/deb-deps.sh
BIN_DIR="${BIN_DIR:-build/bin}"
CHART=charts/prescient
failures=0
fail() { echo "check-packaging: FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "check-packaging: ok: $*"; }

# ---- 1. Dockerfile COPY sources -------------------------------------------------------------------
# Joins continuation lines, skips COPY --from=<stage> (those come from a build stage).
copies=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' Dockerfile | awk 'toupper($1)=="COPY"')
[ -n "$copies" ] || fail "Dockerfile has no COPY instruction"
ignored=()
while IFS= read -r pat; do
  pat="${pat%%#*}"; pat="${pat%"${pat##*[![:space:]]}"}"
  [ -n "$pat" ] && ignored+=("$pat")
done < <(cat .dockerignore 2>/dev/null)
while IFS= read -r line; do
  [ -n "$line" ] || continue
  read -r -a words <<<"$line"
  from=0; srcs=()
  for w in "${words[@]:1}"; do
    case "$w" in
      --from=*) from=1 ;;
      --*) ;;
      *) srcs+=("$w") ;;
    esac
  done
  [ "$from" -eq 1 ] && continue
  unset 'srcs[${#srcs[@]}-1]'   # the last word is the destination
  for s in "${srcs[@]}"; do
    if [ ! -e "$s" ]; then
      fail "Dockerfile: COPY source '$s' does not exist in the repository ($line)"
      continue
    fi
    for pat in "${ignored[@]}"; do
      # shellcheck disable=SC2053
      if [[ "$s" == $pat || "$s" == $pat/* ]]; then
        fail "Dockerfile: COPY source '$s' is excluded by .dockerignore pattern '$pat'"
      fi
    done
    ok "COPY source $s exists"
  done
done <<<"$copies"

# ---- 2. runtime packages vs ldd ---------------------------------------------------------------------
# The runtime package list lies between the RUNTIME_PKGS_BEGIN/END markers of the Dockerfile.
declared=$(sed -n '/RUNTIME_PKGS_BEGIN/,/RUNTIME_PKGS_END/p' Dockerfile | sed -e 's/\\$//' -e 's/#.*//' \
  | tr ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' \
  | grep -vE '^(apt-get|update|install|rm|DEBIAN_FRONTEND=.*|--no-install-recommends|-y|-rf|RUN|ca-certificates)$' | sort -u)
[ -n "$declared" ] || fail "Dockerfile: no runtime packages found between RUNTIME_PKGS_BEGIN and RUNTIME_PKGS_END"
# Part of every Debian base image (Essential/required): not listed in the Dockerfile.
base_pkgs="libc6 libgcc-s1 libstdc++6"
bins=()
for b in prescient-operator prescient; do
  [ -x "$BIN_DIR/$b" ] && bins+=("$BIN_DIR/$b")
done
if [ ! -x "$BIN_DIR/prescient-operator" ]; then
  echo "check-packaging: skipped: $BIN_DIR/prescient-operator is not built, so the runtime libraries cannot be compared with ldd"
else
  needed=""
  while read -r lib pkg; do
    if [ "$pkg" = - ]; then
      fail "ldd: $lib (linked by ${bins[*]}) belongs to no Debian package (dpkg -S found nothing)"
      continue
    fi
    needed+="$pkg"$'\n'
  done < <(deb_lib_owners "${bins[@]}")
  if ldd "${bins[@]}" | grep -q 'not found'; then
    fail "ldd: unresolved libraries: $(ldd "${bins[@]}" | grep 'not found' | tr -s ' \t' ' ')"
  fi
  needed=$(printf '%s' "$needed" | sort -u)
  for p in $needed; do
    [[ " $base_pkgs " == *" $p "* ]] && continue
    grep -qx "$p" <<<"$declared" || fail "Dockerfile: the binaries link a library from '$p', which the runtime stage does not install"
  done
  for p in $declared; do
    grep -qx "$p" <<<"$needed" || fail "Dockerfile: runtime package '$p' provides no library the binaries link (remove it, or say why)"
  done
  ok "runtime packages match ldd of ${bins[*]}: $(echo $declared)"
fi

# ---- 3. chart CRDs identical to crds/ -----------------------------------------------------------------
if [ -d "$CHART/templates/crds" ]; then
  for src in crds/*.yaml; do
    t="$CHART/templates/crds/$(basename "$src")"
    if [ ! -f "$t" ]; then
      fail "chart: $t is missing (every crds/*.yaml must be templated; copy it with its guard lines)"
      continue
    fi
    # The template is the CRD between a guard line '{{- if .Values.installCRDs }}' and '{{- end }}'
    # plus the helm.sh/resource-policy annotation lines marked '# chart-only'.
    if ! diff -u "$src" <(grep -v '^{{' "$t" | grep -v '# chart-only$') >/tmp/check-packaging-crd.diff; then
      fail "chart: $t differs from $src (copy crds/*.yaml into the chart again):"; cat /tmp/check-packaging-crd.diff >&2
    else
      ok "$t matches $src"
    fi
  done
  for t in "$CHART"/templates/crds/*.yaml; do
    [ -f "crds/$(basename "$t")" ] || fail "chart: $t has no source in crds/"
  done
else
  fail "chart: $CHART/templates/crds does not exist"
fi

# ---- 4. Prometheus rules ------------------------------------------------------------------------------
if [ -f "$CHART/files/alerts.yaml" ]; then
  if ! command -v promtool >/dev/null; then
    fail "promtool not found (Debian package prometheus; run hack/install-deps.sh)"
  else
    # Every metric the rules use is documented (operator/METRICS.md) and registered (src/controller/metrics.cc).
    for m in $(grep -oE 'prescient_[a-z_]+' "$CHART/files/alerts.yaml" | sed -E 's/_(bucket|count|sum)$//' | sort -u); do
      grep -q "\`$m\`" operator/METRICS.md || fail "alerts.yaml uses $m, which operator/METRICS.md does not list"
      if [ -f src/controller/metrics.cc ]; then
        grep -q "\"$m\"" src/controller/metrics.cc || fail "alerts.yaml uses $m, which src/controller/metrics.cc does not register"
      fi
    done
    if promtool check rules "$CHART/files/alerts.yaml"; then ok "promtool check rules"; else fail "promtool check rules $CHART/files/alerts.yaml"; fi
    if promtool test rules tests/packaging/alerts_test.yaml; then ok "promtool test rules"; else fail "promtool test rules tests/packaging/alerts_test.yaml"; fi
  fi
fi
# The dashboard's PromQL: every panel expression (Grafana's $__rate_interval as 5m) must parse, which
# promtool checks when they are written as recording rules; and every metric must be documented.
if [ -f "$CHART/files/dashboard.json" ] && command -v promtool >/dev/null; then
  dash_rules=$(mktemp)
  if python3 - "$CHART/files/dashboard.json" >"$dash_rules" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
if not exprs:
    sys.exit("dashboard.json has no panel expressions")
print("groups:\n  - name: dashboard\n    rules:")
for i, e in enumerate(exprs):
    e = e.replace("$__rate_interval", "5m").replace("$__interval", "1m").replace("$__range", "1h")
    print(f"      - record: dashboard:panel_expr_{i}\n        expr: {json.dumps(e)}")
PY
  then
    if promtool check rules "$dash_rules" >/dev/null; then ok "dashboard PromQL parses ($(grep -c 'record:' "$dash_rules") expressions)"
    else fail "dashboard.json: an expression does not parse: $(promtool check rules "$dash_rules" 2>&1 | tail -3)"; fi
    for m in $(grep -oE 'prescient_[a-z_]+' "$CHART/files/dashboard.json" | sed -E 's/_(bucket|count|sum)$//' | sort -u); do
      grep -q "\`$m\`" operator/METRICS.md || fail "dashboard.json uses $m, which operator/METRICS.md does not list"
    done
  else
    fail "dashboard.json cannot be read"
  fi
  rm -f "$dash_rules"
fi

# ---- 5. values schema --------------------------------------------------------------------------------
if python3 -c 'import jsonschema, yaml' 2>/dev/null; then
  if python3 hack/render-chart/check_values_schema.py "$CHART" tests/packaging/values tests/packaging/bad-values; then
    ok "values.schema.json accepts the good value sets and rejects the bad ones"
  else
    fail "values.schema.json (see the schema: lines above)"
  fi
else
  fail "python3 modules jsonschema and yaml are needed to check values.schema.json (Debian: python3-jsonschema python3-yaml)"
fi

# ---- 6. render the chart (Helm's engine: text/template + sprig) ------------------------------------------
# With the default values and every tests/packaging/values/*.yaml; every bad-values file must fail
# with the message named in its '# expect:' line. The operator's flags are compared with its --help.
if command -v go >/dev/null && [ -d /usr/share/gocode/src/github.com/Masterminds/sprig ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  if ! GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= \
      go build -o "$work/render-chart" ./hack/render-chart; then
    fail "cannot build hack/render-chart"
  else
    help_args=()
    if [ -x "$BIN_DIR/prescient-operator" ]; then
      "$BIN_DIR/prescient-operator" --help >"$work/help.txt" 2>&1 && help_args=(--help-file "$work/help.txt")
    else
      echo "check-packaging: skipped: $BIN_DIR/prescient-operator is not built, so the Deployment's flags are not compared with --help"
    fi
    for v in "" tests/packaging/values/*.yaml; do
      label=${v:-default values}
      out="$work/rendered.yaml"
      if ! "$work/render-chart" -chart "$CHART" ${v:+-f "$v"} >"$out" 2>"$work/err"; then
        fail "render-chart with $label: $(cat "$work/err")"
        continue
      fi
      if python3 hack/render-chart/check_rendered.py "$out" . "${help_args[@]}" --rules-out "$work/rules.yaml"; then
        ok "chart renders with $label"
      else
        fail "rendered chart with $label (see above)"
      fi
      if [ -f "$work/rules.yaml" ] && command -v promtool >/dev/null; then
        promtool check rules "$work/rules.yaml" >/dev/null || fail "the rendered PrometheusRule ($label) fails promtool check rules"
        rm -f "$work/rules.yaml"
      fi
    done
    for b in tests/packaging/bad-values/*.yaml; do
      expect=$(sed -n 's/^# expect: //p' "$b" | head -1)
      [ -n "$expect" ] || { fail "$b has no '# expect: <message part>' line"; continue; }
      if "$work/render-chart" -chart "$CHART" -f "$b" >/dev/null 2>"$work/err"; then
        fail "chart rendered with $b, which must be rejected ($expect)"
      elif ! grep -qF "$expect" "$work/err"; then
        fail "chart rejected $b, but the message does not name '$expect': $(cat "$work/err")"
      else
        ok "chart rejects $b: $(grep -oE '(error calling (fail|required): .*)' "$work/err" | head -1)"
      fi
    done
  fi
else
  fail "go and golang-github-masterminds-sprig-dev are needed to render the chart (hack/install-deps.sh)"
fi

# ---- 7. every reason the code sets is documented -------------------------------------------------------
# Condition, queue and result reasons set by the operator (src/controller, src/placement, src/api) and the
# agent (src/agent) must each appear in docs/troubleshooting.md, with the docs pages the chart README links.
for d in docs/install.md docs/security.md docs/troubleshooting.md; do
  [ -f "$d" ] || fail "$d is missing"
  grep -q "(../../$d)" "$CHART/README.md" || fail "$CHART/README.md does not link $d"
done
if reasons=$(python3 - <<'PY'
import glob, re, sys
def files(pattern):
    return [f for f in sorted(glob.glob(pattern)) if not f.endswith("_test.cc")]
# (files, regex): every group that matched is a reason.
patterns = [
    (files("src/placement/place.h") + files("src/api/constants.h") + files("src/controller/*.h"), r'kReason\w+ = "([A-Za-z]+)"'),
    (files("src/controller/*.cc"), r'\b(?:plan|q|r|need)\.reason = "([A-Za-z]+)"'),
    (files("src/controller/*.cc"), r'ConditionStatus::k\w+,\s*[\w.]+,\s*\{\},\s*(?:started \? )?"([A-Za-z]+)"(?:\s*:\s*"([A-Za-z]+)")?'),
    (files("src/controller/*.cc"), r'need\.reason \+ ",([A-Za-z]+)"'),
    (files("src/placement/*.cc"), r'\bno\("([A-Za-z]+)"|error_reason = "([A-Za-z]+)"'),
    (files("src/agent/*.cc"), r'\{"(?:DependenciesReady|LimitsEnforced)", (?:"(?:True|False)"|ok \? "True" : "False"), (?:ok \? )?"([A-Za-z]+)"(?: : "([A-Za-z]+)")?'),
    (files("src/agent/*.cc"), r'\br\.reason = (?:[^;]*\? )?"([A-Za-z]+)"(?: : "([A-Za-z]+)")?'),
]
found = {}
for fs, rx in patterns:
    for f in fs:
        for m in re.finditer(rx, open(f).read()):
            for g in m.groups():
                if g:
                    found.setdefault(g, f)
# "Predicted" + source: one reason per prediction source.
if "Predicted" in found:
    del found["Predicted"]
    for f in files("src/controller/*predictor*.cc"):
        for src in re.findall(r'(?:return|source =) "([A-Z][a-z]+)";', open(f).read()):
            found.setdefault("Predicted" + src, f)
if len(found) < 30:
    sys.exit(f"only {len(found)} reasons found in the sources: the patterns in hack/check-packaging.sh need updating")
for r, f in sorted(found.items()):
    print(r, f)
PY
); then
  missing=0
  while read -r reason file; do
    grep -q "\`$reason\`" docs/troubleshooting.md || { fail "docs/troubleshooting.md does not explain reason '$reason' (set in $file)"; missing=1; }
  done <<<"$reasons"
  [ "$missing" -eq 0 ] && ok "docs/troubleshooting.md explains all $(wc -l <<<"$reasons") reasons the operator and the agent set"
else
  fail "could not collect the reasons from the sources"
fi

if [ "$failures" -gt 0 ]; then
  echo "check-packaging: $failures problem(s)" >&2
  exit 1
fi
echo "check-packaging: all checks passed"
