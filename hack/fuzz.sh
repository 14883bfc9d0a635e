#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (-DPRESCIENT_FUZZ=ON) and runs each for a while.
# Usage: hack/fuzz.sh [SECONDS_PER_TARGET=60] [TARGET...]   (default: every known target)
# Add new targets to TARGETS below (CMake: add_executable(<name>_fuzz ...) under if(PRESCIENT_FUZZ)).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(analysis_fuzz sim_handler_fuzz)   # src/analysis: shell parser...; src/sim: API request handler
fi
BUILD=${BUILD:-build-fuzz}
CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DPRESCIENT_FUZZ=ON -DPRESCIENT_UNIT_ONLY=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target "${TARGETS[@]}" -j"${JOBS:-2}"
for t in "${TARGETS[@]}"; do
  corpus="$BUILD/corpus/$t"
  mkdir -p "$corpus"
  echo "fuzz: $t for ${SECONDS_PER_TARGET}s" >&2
  "$BUILD/bin/$t" -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -timeout=10 "$corpus"
done
