// Predicting a run's resources before it runs. Predictor is the interface the reconciler calls
// (thread-safe implementations); HistoryPredictor predicts from the operator's own run history
// (the observed peak of the same command line × a headroom, source "History") and falls back to the
// policy's defaults (source "Default") for a command never seen. ModelPredictor (model_predictor.h,
// when the Command Analysis Module's Predictor is built) wraps the XGBoost upper-bound model.
// ClampPrediction applies spec.resources bounds: the prediction never leaves what the user allowed.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "api/types.h"
#include "controller/policy.h"
#include "history/store.h"

namespace prescient::controller {

class Predictor {
 public:
  virtual ~Predictor() = default;
  // The unclamped prediction for the run (source and model version set).
  virtual api::Prediction Predict(const api::CommandRun& run) = 0;
  // The version in use (status.prediction.modelVersion, the model info metric).
  virtual std::string ModelVersion() const = 0;
  // A finished run's measured usage, for predictors that learn online.
  virtual void Observe(const history::Observation& observation) { (void)observation; }
};

class HistoryPredictor : public Predictor {
 public:
  explicit HistoryPredictor(ControllerPolicy policy) : policy_(std::move(policy)) {}
  // Seeds from a history file (lines of the analysis history schema); bad lines are skipped.
  Status LoadHistoryFile(const std::string& path);
  api::Prediction Predict(const api::CommandRun& run) override;
  std::string ModelVersion() const override;
  void Observe(const history::Observation& observation) override;

 private:
  struct Seen {
    double cpu_cores = 0;
    double memory_bytes = 0;
    double duration_seconds = 0;
    int count = 0;
  };
  void Add(const analysis::HistoryRecord& r);
  ControllerPolicy policy_;
  mutable std::mutex mu_;
  std::map<std::string, Seen> by_command_;
  size_t observations_ = 0;
};

// The smallest prediction the operator makes on its own (a model or default that says "nothing"
// must not become an empty allocation).
inline constexpr int64_t kMinCpuMilli = 1;
inline constexpr int64_t kMinMemoryBytes = 16LL << 20;
// Raises `p` to the floor above, then clamps every resource into spec.resources.{min,max} (cpu,
// memory, network). The user's bounds win over the floor: a spec.resources.max.memory of 8Mi is
// allocated 8Mi, not 16Mi (what they asked for is a ceiling they set on purpose).
api::Prediction ClampPrediction(api::Prediction p, const std::optional<api::ResourceBounds>& bounds);

}  // namespace prescient::controller
