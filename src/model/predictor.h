// The prediction stage: command + context -> ResourceProfile of upper bounds.
//
// With a model: one multi-target XGBoost booster predicts, per resource, the chosen quantile of
// log1p(usage) relative to a history prior (the log1p median of the most specific key level with
// history, else the training median); memory never goes below the signature's largest recent
// value; a split-conformal offset per history group (signature seen / never seen) corrects it so
// the stated coverage holds on later runs. Without a model, or for a
// resource the model never saw measured: the signature's history (max x 1.2 for < 10 runs,
// otherwise p90 x 1.2, at least the max for quantiles above 0.9), then the documented defaults
// (resource_profile.h). The profile says which source each number came from.
//
// Thread-safety: Predict/PredictWithIndex may be called concurrently from any number of threads;
// Observe and ReplaceHistory take a writer lock. Load/Train return an independent instance, so a
// background retrain can build a new Predictor and swap a shared_ptr when it is better
// (CompareOnHoldout in model/evaluation.h). Do not keep a Predictor in a static that outlives
// main(): XGBoost's own static state may be destroyed first at exit.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "analysis/featurize.h"
#include "analysis/history.h"
#include "analysis/history_aggregates.h"
#include "common/status.h"
#include "model/model_metadata.h"
#include "model/resource_profile.h"
#include "model/tree_ensemble.h"
#include "model/xgb.h"

namespace prescient::model {

struct TrainOptions {
  ResourceQuantiles quantiles;        // defaults: memory 0.95, CPU 0.9, others 0.9
  int rounds = 120;
  int max_depth = 5;
  double eta = 0.1;
  double min_child_weight = 2;
  double subsample = 0.8;
  double colsample_bytree = 0.8;
  double lambda = 1;
  int max_bin = 128;
  uint64_t seed = 42;
  int threads = 1;                    // OpenMP threads; more spin-wait badly on a loaded machine
  double calibration_fraction = 0.25;  // newest share of runs held out for conformal calibration
  size_t min_rows = 30;
  size_t min_group_rows = 30;         // fewer calibration rows in a group: max(pooled offset, its max residual)
  std::function<void(const std::string&)> progress;  // human-readable progress lines
};

class Predictor {
 public:
  // History-then-defaults only (no model file needed).
  static std::unique_ptr<Predictor> WithoutModel(analysis::HistoryIndex history = {},
                                                 DefaultResources defaults = {},
                                                 ResourceQuantiles quantiles = {});
  // Loads DIR/metadata.json, DIR/model.ubj and DIR/history_index.json.gz (optional). Fails with a
  // message naming the mismatch when the model was built for another feature schema or targets.
  static Result<std::unique_ptr<Predictor>> Load(const std::string& dir);
  // Trains on `records` (any order; runs without usage are ignored): featurises in time order
  // without leakage, boosts on the oldest (1 - calibration_fraction) share with the pinball
  // objective, calibrates on the newest share. The returned predictor's history holds all records.
  static Result<std::unique_ptr<Predictor>> Train(std::vector<analysis::HistoryRecord> records,
                                                  const TrainOptions& options);
  // Writes model.ubj, metadata.json, history_index.json.gz into `dir` (created if needed).
  Status Save(const std::string& dir) const;

  ResourceProfile Predict(const PredictionRequest& request) const;
  // Same, with history aggregates from `history` instead of the predictor's own (evaluation).
  ResourceProfile PredictWithIndex(const PredictionRequest& request, const analysis::HistoryIndex& history) const;

  // Feedback: adds a finished run to the history the predictions use.
  void Observe(const analysis::HistoryRecord& record);
  void ReplaceHistory(analysis::HistoryIndex history);
  // A copy of the current history (e.g. to seed a retrain's comparison).
  analysis::HistoryIndex HistorySnapshot() const;

  bool has_model() const { return booster_.has_value(); }
  const ModelMetadata& metadata() const { return meta_; }
  const DefaultResources& defaults() const { return defaults_; }
  void set_defaults(const DefaultResources& d) { defaults_ = d; }

  Predictor(const Predictor&) = delete;
  Predictor& operator=(const Predictor&) = delete;

 private:
  Predictor() = default;
  ResourceProfile PredictRun(const analysis::FeaturizedRun& run, const PredictionRequest& request) const;

  static Result<TreeEnsemble> FastPath(const Booster& b);

  std::optional<Booster> booster_;    // training output; explanations and saving
  std::optional<TreeEnsemble> trees_; // the same trees, for lock-free fast prediction
  ModelMetadata meta_;
  ResourceQuantiles quantiles_;       // the fallback's quantiles when there is no model
  DefaultResources defaults_;
  mutable std::mutex booster_mu_;     // XGBoost handles are not safe for concurrent calls
  mutable std::shared_mutex history_mu_;
  analysis::HistoryIndex history_;
};

// The log1p-space prior the model predicts relative to: the p50 of the most specific key level
// that has the target measured, else `global_prior_log`.
double PriorLog(const float* row, int target, double global_prior_log);

// The model's log1p bound before the conformal offset: prior + trees, and for memory at least the
// signature's largest recent value (a command that needed X once will need X again).
double BaseLog(const float* row, int target, double model_log);

// Fallback bound from history for one target; false when no level has the target measured.
bool HistoryUpperBound(const analysis::HistoryIndex::Lookup& history, int target, double quantile, double* value,
                       std::string* detail);

}  // namespace prescient::model
