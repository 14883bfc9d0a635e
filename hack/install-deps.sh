#!/usr/bin/env bash
# Installs every Debian package Prescient needs to build, test and run its quickstart.
# Idempotent: when everything is present it only runs dpkg-query and exits in well under a second.
set -euo pipefail

PKGS=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  clang libclang-rt-14-dev            # libFuzzer targets and sanitizers with clang
  # libraries
  libcpprest-dev libssl-dev           # Kubernetes REST client (cpprestsdk) + TLS
  libboost-dev libboost-system-dev libboost-program-options-dev libboost-filesystem-dev
  nlohmann-json3-dev                  # the one JSON library
  libyaml-cpp-dev                     # kubeconfig, scenario files and YAML request bodies
  libxgboost-dev                      # the prediction model (XGBoost 1.7.4 C API)
  prometheus-cpp-dev                  # /metrics
  libsqlite3-dev sqlite3              # history store; sqlite3 also drives database commands in the corpus
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  zlib1g-dev
  # tools used by tests, the corpus and the quickstart
  openssl time procps iproute2 curl
  xz-utils zstd gzip bzip2 tar
  gnuplot-nox                         # `prescient evaluate --plot` draws docs/evaluation.png
  prometheus                          # promtool: check/unit-test the chart's alert rules (hack/check-packaging.sh)
  python3-jsonschema python3-yaml     # hack/check-packaging.sh validates chart values against values.schema.json
  golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v2-dev  # hack/render-chart: renders the Helm chart like Helm (text/template + sprig)
  python3-matplotlib                  # hack/render-dashboard.py draws docs/dashboard.png from a live Prometheus (run it with /usr/bin/python3)
  lintian                             # tests/packaging: checks the prescient-agent .deb built by hack/build-agent-deb.sh
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
