#!/usr/bin/env bash
# Long, coverage-guided fuzzing: builds the libFuzzer targets with clang (-DPRESCIENT_FUZZ=ON, under
# ASan/UBSan) and runs each for a while, starting from its committed seed corpus and dictionary.
# The ordinary test suite already runs every fuzz entry point briefly (ctest <target>_replay, a
# deterministic driver over the same seeds); this script is for the long runs.
# Usage: hack/fuzz.sh [SECONDS_PER_TARGET=60] [TARGET...]   (default: every known target)
# FUZZ_SEED=N fixes libFuzzer's seed (the test command uses 1, so a CI failure can be replayed).
# New inputs libFuzzer finds go to $BUILD/corpus/<target>; copy interesting ones (and any crash-*
# file once fixed) into the target's fuzz_corpus/ so the replay test keeps them.
# Add new targets with prescient_fuzz_target() in CMake and a line in SOURCES below.
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A SOURCES=(
  [analysis_fuzz]=src/analysis      # shell parser, command features, dependencies, history lines
  [sim_handler_fuzz]=src/sim        # prescient-sim request handler, selectors, YAML/JSON, JSONPath
)
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=("${!SOURCES[@]}")
fi
for t in "${TARGETS[@]}"; do
  if [ -z "${SOURCES[$t]:-}" ]; then
    echo "fuzz.sh: unknown target $t (known: ${!SOURCES[*]})" >&2
    exit 2
  fi
done
BUILD=${BUILD:-build-fuzz}
CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DPRESCIENT_FUZZ=ON -DPRESCIENT_SANITIZE=ON \
  -DPRESCIENT_UNIT_ONLY=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target "${TARGETS[@]}" -j"${JOBS:-2}"
for t in "${TARGETS[@]}"; do
  src=${SOURCES[$t]}
  corpus="$BUILD/corpus/$t"
  mkdir -p "$corpus"
  echo "fuzz: $t for ${SECONDS_PER_TARGET}s (seeds: $src/fuzz_corpus)" >&2
  "$BUILD/bin/$t" -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -timeout=10 ${FUZZ_SEED:+-seed="$FUZZ_SEED"} \
    -dict="$src/fuzz.dict" -artifact_prefix="$BUILD/" "$corpus" "$src/fuzz_corpus"
done
