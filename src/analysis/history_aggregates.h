// Per-key aggregates of past runs, at three levels of the command's identity (signature, shape,
// program; see command_features.h): count, and per target p50 / p90 / max / last value / decayed
// mean (EWMA, alpha 0.3, newest weighs most), plus the median input size and the endpoints seen.
// Quantiles come from the last kReservoir values of each key (bounded memory and time).
//
// Leakage: the index only knows what was Add()ed. Featurisation walks history in time order and
// adds a run after featurising it (and every run with the same timestamp), so a row never sees
// itself or the future (see BuildTrainingRows in model/dataset.h).
//
// Not thread-safe: guard with a lock when one thread adds while others read (the Predictor does).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "analysis/command_features.h"
#include "analysis/history.h"
#include "common/status.h"

namespace prescient::analysis {

enum class KeyLevel : int { kSignature = 0, kShape = 1, kProgram = 2 };
inline constexpr int kNumKeyLevels = 3;

struct TargetStats {
  int n = 0;                 // values seen for this target
  double p50 = 0, p90 = 0, max = 0, last = 0, decayed_mean = 0;
};

struct KeyAggregate {
  int64_t count = 0;
  std::array<TargetStats, kNumTargets> targets;
  int input_n = 0;
  double input_p50 = 0;              // median context.input_bytes of the runs that had it
  // Medians of memory / input_bytes and duration / input_bytes over runs that had an input size:
  // multiplied by a new run's input size they extrapolate (trees cannot multiply).
  int ratio_n = 0;
  double memory_per_input_p50 = 0;
  double duration_per_input_p50 = 0;
  int64_t oom_kills = 0;
  std::vector<std::string> endpoints;  // distinct host:port, first 16
};

class HistoryIndex {
 public:
  static constexpr size_t kReservoir = 64;

  struct Lookup {
    const KeyAggregate* level[kNumKeyLevels] = {nullptr, nullptr, nullptr};
    const KeyAggregate* signature() const { return level[0]; }
  };

  void Add(const CommandFeatures& features, const HistoryRecord& record);
  Lookup Find(const CommandFeatures& features) const;
  const KeyAggregate* Find(KeyLevel level, const std::string& key) const;
  size_t size(KeyLevel level) const { return maps_[static_cast<int>(level)].size(); }
  int64_t total_runs() const { return total_runs_; }

  // Persistence (model directories ship the index of their training history).
  nlohmann::json ToJson() const;
  static Result<HistoryIndex> FromJson(const nlohmann::json& j);

  static const std::string& KeyOf(const CommandFeatures& f, KeyLevel level);

 private:
  struct Entry {
    KeyAggregate agg;
    std::array<std::vector<float>, kNumTargets> recent;  // ring buffers
    std::array<size_t, kNumTargets> next{};
    std::vector<float> recent_input;
    size_t next_input = 0;
    std::vector<float> recent_mem_ratio, recent_dur_ratio;
    size_t next_ratio = 0;
  };
  static void Observe(Entry* e, const TargetValues& values, const HistoryRecord& r);
  static void Recompute(Entry* e);

  std::unordered_map<std::string, Entry> maps_[kNumKeyLevels];
  int64_t total_runs_ = 0;
};

}  // namespace prescient::analysis
