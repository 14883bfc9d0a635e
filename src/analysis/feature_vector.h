// The fixed-width feature vector the model sees, with a versioned schema: one named float column
// per feature, NaN for "missing" (XGBoost's missing value). Sizes and counts are log1p-scaled, ids
// are 24-bit hashes. Changing a column's meaning or order requires a new kFeatureSchemaVersion:
// saved models record it, and loading a model of another version fails.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "analysis/command_features.h"
#include "analysis/history.h"
#include "analysis/history_aggregates.h"

namespace prescient::analysis {

inline constexpr const char* kFeatureSchemaVersion = "prescient-features/v1";

// Column names in order (stable for a schema version).
const std::vector<std::string>& FeatureNames();
size_t FeatureCount();
// FNV-1a over the joined names: a cheap check that two builds agree on the schema.
uint64_t FeatureSchemaHash();

// Column index of the log1p p50 of `target` at `level`, for the model's prior; -1 if absent.
int HistoryP50Column(KeyLevel level, int target);
int HistoryCountColumn(KeyLevel level);

// Everything featurisation needs about one run-to-be.
struct FeatureInput {
  const CommandFeatures* command = nullptr;
  const RunContext* context = nullptr;
  const std::string* user = nullptr;
  HistoryIndex::Lookup history;
  size_t dependency_count = 0;
};

// Writes FeatureCount() floats to `out`.
void BuildFeatureVector(const FeatureInput& in, float* out);

}  // namespace prescient::analysis
