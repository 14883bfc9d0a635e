// The Predictor the operator runs with: the Command Analysis Module's model::Predictor (XGBoost
// upper-bound model with history and default fallbacks), held in a shared_ptr that the background
// retrainer swaps atomically when a better model is promoted. Converts a CommandRun into the
// module's PredictionRequest (command line, user, the target VM's size as context) and its
// ResourceProfile back into status.prediction. Thread-safe.
#pragma once

#include <memory>
#include <mutex>

#include "controller/predictor.h"
#include "model/predictor.h"

namespace prescient::controller {

class ModelPredictor : public Predictor {
 public:
  explicit ModelPredictor(std::shared_ptr<model::Predictor> model, std::string source_name);
  api::Prediction Predict(const api::CommandRun& run) override;
  std::string ModelVersion() const override;
  void Observe(const history::Observation& observation) override;

  // Swaps the model in use (retraining promoted a better one). Histories observed since the
  // candidate was trained are replayed into it by the caller.
  void Replace(std::shared_ptr<model::Predictor> model, std::string source_name);
  std::shared_ptr<model::Predictor> Current() const;
  std::string SourceName() const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<model::Predictor> model_;
  std::string source_name_;  // "model dir X" / "history only", for logs
};

// PredictionSource -> the CRD's status.prediction.source enum (Model, History, Default).
std::string PredictionSourceName(model::PredictionSource s);

}  // namespace prescient::controller
