#!/usr/bin/env bash
# The test command: installs what is missing, builds with warnings as errors, runs every test
# through ctest, then rebuilds the unit tests under AddressSanitizer/UBSan and runs them again, then
# runs each libFuzzer target (clang, ASan/UBSan) for FUZZ_SECONDS (default 30) from its seed corpus.
# Usage: hack/test.sh [--no-asan] [--no-fuzz]
set -euo pipefail
cd "$(dirname "$0")/.."
ASAN=1
FUZZ=1
for a in "$@"; do
  case "$a" in
    --no-asan) ASAN=0 ;;
    --no-fuzz) FUZZ=0 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
JOBS=$(nproc)
start=$(date +%s)
bash hack/install-deps.sh
# ccache keyed on paths relative to the checkout, so a fresh clone (CI) reuses earlier compiles.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true

echo "== build (warnings are errors)"
cmake -S . -B build -G Ninja -DPRESCIENT_WERROR=ON >/dev/null
cmake --build build -j"$JOBS"
echo "== tests"
# A failing test is run once more (--repeat until-pass:2) so a timing flake on a busy 2-core machine
# does not fail the run; a second failure fails it, and flakes stay visible in the log.
(cd build && ctest --output-on-failure -j"$JOBS" --timeout 600 --repeat until-pass:2)

if [ "$ASAN" = 1 ]; then
  echo "== unit tests under AddressSanitizer + UBSan"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPRESCIENT_WERROR=ON \
    -DPRESCIENT_SANITIZE=ON -DPRESCIENT_UNIT_ONLY=ON >/dev/null
  cmake --build build-asan -j"$JOBS"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest -L unit --output-on-failure -j"$JOBS" --timeout 600 --repeat until-pass:2)
fi
if [ "$FUZZ" = 1 ]; then
  echo "== fuzzing: each libFuzzer target for ${FUZZ_SECONDS:-30} s (a crash fails the run; its input is in build-fuzz/)"
  JOBS=$JOBS BUILD=build-fuzz FUZZ_SEED=${FUZZ_SEED:-1} bash hack/fuzz.sh "${FUZZ_SECONDS:-30}"
fi
echo "== all tests passed in $(( $(date +%s) - start )) s"
