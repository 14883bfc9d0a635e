// The prediction stage's input and output types: a PredictionRequest (command + context) becomes a
// ResourceProfile (upper bounds per resource at stated quantiles, the dependencies, where the
// numbers came from, and optionally the features that drove them). Plain values.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/dependencies.h"
#include "analysis/history.h"

namespace prescient::model {

using analysis::kNumTargets;

// Where a number came from, best first.
enum class PredictionSource { kModel, kHistory, kDefault };
const char* SourceName(PredictionSource s);  // "model", "history", "default"

// Quantile per target, indexed by analysis::Target.
struct ResourceQuantiles {
  std::array<double, kNumTargets> value{0.9, 0.95, 0.9, 0.9, 0.9, 0.9};  // cpu 0.9, memory 0.95, others 0.9
  double& operator[](int t) { return value[static_cast<size_t>(t)]; }
  double operator[](int t) const { return value[static_cast<size_t>(t)]; }
};

struct PredictionRequest {
  std::string command;
  analysis::RunContext context;
  std::string user;
  bool explain = false;     // fill ResourceProfile::contributions (costs one more XGBoost call)
  int top_features = 8;
};

struct FeatureContribution {
  int target = 0;            // analysis::Target
  std::string feature;       // schema column name, or "prior" for the history prior
  float value = 0;           // the feature's value in the row (NaN = missing)
  double contribution = 0;   // in log1p space: + raises the prediction
};

struct ResourceProfile {
  // Upper bounds at `quantile` (peak cores, peak bytes, average bytes/s, seconds).
  double cpu_cores = 0;
  double memory_bytes = 0;
  double disk_read_bps = 0;
  double disk_write_bps = 0;
  double network_bps = 0;
  double duration_seconds = 0;
  // Totals implied by the bounds (rate bound x duration bound: conservative).
  double disk_read_bytes = 0;
  double disk_write_bytes = 0;
  double network_bytes = 0;
  std::vector<analysis::Dependency> dependencies;
  ResourceQuantiles quantile;
  PredictionSource source = PredictionSource::kDefault;            // the least informed target's source
  std::array<PredictionSource, kNumTargets> target_source{};
  std::string source_detail;       // e.g. "history:signature (12 runs)"
  std::string model_version;       // empty without a model
  std::string signature;
  int64_t history_runs = 0;        // past runs of this signature
  std::vector<FeatureContribution> contributions;  // top features per target, when explain

  double Get(int target) const;
  void Set(int target, double v);
};

// Documented defaults for commands nothing is known about (README "Prediction"):
// 1 core, 1 GiB, 100 MiB/s disk read and write, 12.5 MB/s (100 Mbit/s) network, 600 s; the
// request's requested_cpus / requested_memory_bytes replace the CPU and memory defaults.
struct DefaultResources {
  double cpu_cores = 1;
  double memory_bytes = 1024.0 * 1024 * 1024;
  double disk_read_bps = 100.0 * 1024 * 1024;
  double disk_write_bps = 100.0 * 1024 * 1024;
  double network_bps = 12.5e6;
  double duration_seconds = 600;
  double Get(int target) const;
};

}  // namespace prescient::model
