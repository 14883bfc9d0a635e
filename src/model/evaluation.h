// Scoring allocations the way a user pays for them (docs/evaluation.md): history is split by time;
// every run after the split is predicted from what happened before it (the model with a history
// index replayed in time order; each baseline online), and compared with what it really used.
// Runs whose signature occurs in the training part are "seen", the others "unseen".
//
// Per method, group and resource: under-allocation rate (actual > allocated), coverage,
// median / mean slack ((allocated - actual) / allocated), waste in unit-seconds including the
// Tovar retry cost (a run that exceeds its allocation wastes the whole failed attempt and is
// re-run at max(max seen for its key, actual)), pinball loss in log1p space at the model's
// quantile, and the share of allocations off by 2x or more.
// Pure functions over records; not thread-safe across a shared Predictor's Observe.
#pragma once

#include <string>
#include <vector>

#include "analysis/history.h"
#include "common/status.h"
#include "model/predictor.h"
#include "model/resource_profile.h"

namespace prescient::model {

struct Outcome {
  double actual = 0;
  double allocated = 0;
  double duration_seconds = 0;
  double retry_allocation = 0;  // what a failed run is re-run with
};

struct AllocationMetrics {
  size_t n = 0;
  double under_rate = 0;
  double coverage = 0;
  double median_slack = 0;
  double mean_slack = 0;
  double waste_unit_seconds = 0;  // target units x seconds (GiB·s for memory, core·s for CPU)
  double pinball_log = 0;
  double off_by_2x = 0;
};
// `unit` divides values before the waste sum (2^30 for GiB).
AllocationMetrics ComputeMetrics(const std::vector<Outcome>& outcomes, double quantile, double unit);

struct MethodResult {
  std::string method;   // "prescient", "static", "max-seen", "vpa", "tovar"
  std::string group;    // "all", "seen", "unseen"
  int target = 0;
  AllocationMetrics metrics;
};

struct EvaluationOptions {
  bool baselines = true;
  // Split point: runs after it are scored. Empty: the model's last training time, or (no model)
  // the time that leaves `test_fraction` of runs after it.
  std::string split_time;
  double test_fraction = 0.3;
  DefaultResources defaults;
};

struct EvaluationReport {
  std::string model_version;
  std::string split_time;
  size_t history_rows = 0, train_rows = 0, test_rows = 0, seen_rows = 0, unseen_rows = 0;
  ResourceQuantiles quantiles;
  std::vector<MethodResult> results;
  const MethodResult* Find(const std::string& method, const std::string& group, int target) const;
};

// `model` may be null (baselines only). Records may be in any order.
Result<EvaluationReport> Evaluate(const Predictor* model, std::vector<analysis::HistoryRecord> records,
                                  const EvaluationOptions& options);

// Markdown for docs/evaluation.md: the project's targets (computed pass/fail), then one table per
// resource.
std::string EvaluationMarkdown(const EvaluationReport& report);
std::string TargetSummary(const EvaluationReport& report);

// Is `candidate` better than `incumbent` on the runs after `split_time` (both replaying the same
// history)? Better = lower mean pinball loss over the measured targets while keeping memory
// coverage within 2 points of its nominal quantile (or no worse than the incumbent's).
struct ModelComparison {
  double incumbent_pinball = 0, candidate_pinball = 0;
  double incumbent_memory_coverage = 0, candidate_memory_coverage = 0;
  size_t rows = 0;
  bool candidate_better = false;
};
Result<ModelComparison> CompareOnHoldout(const Predictor& incumbent, const Predictor& candidate,
                                         std::vector<analysis::HistoryRecord> records, const std::string& split_time);

}  // namespace prescient::model
