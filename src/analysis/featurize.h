// From a command (and its context) to the model's feature row, for one prediction or for a whole
// history. History is featurised in time order WITHOUT leakage: each run sees only the runs that
// happened strictly before it (runs sharing a timestamp do not see each other); the index is
// updated after each group of equal timestamps. Not thread-safe for a shared index being written.
#pragma once

#include <string>
#include <vector>

#include "analysis/command_features.h"
#include "analysis/dependencies.h"
#include "analysis/feature_vector.h"
#include "analysis/history.h"
#include "analysis/history_aggregates.h"

namespace prescient::analysis {

struct FeaturizedRun {
  CommandFeatures command;
  std::vector<Dependency> dependencies;  // from the tokens, then from the signature's history
  std::vector<float> row;                // FeatureCount() columns
  HistoryIndex::Lookup history;          // valid while the index is unchanged
};

// Featurises one run-to-be against `index`.
void FeaturizeRun(const std::string& command, const RunContext& context, const std::string& user,
                  const HistoryIndex& index, FeaturizedRun* out);

struct FeaturizedHistory {
  size_t cols = 0;
  std::vector<float> x;                  // rows x cols, row-major
  std::vector<TargetValues> y;
  std::vector<std::string> signatures;
  std::vector<int64_t> prior_count;      // runs of the same signature before this one
  size_t rows() const { return y.size(); }
  const float* row(size_t i) const { return x.data() + i * cols; }
};

// `records` must be sorted by time (SortByTime). Every record is added to `index` (which may
// already hold earlier history); records without usage are featurised but not added.
FeaturizedHistory FeaturizeHistory(const std::vector<HistoryRecord>& records, HistoryIndex* index);

}  // namespace prescient::analysis
