#include "controller/model_predictor.h"

#include <cmath>

namespace prescient::controller {

std::string PredictionSourceName(model::PredictionSource s) {
  switch (s) {
    case model::PredictionSource::kModel: return "Model";
    case model::PredictionSource::kHistory: return "History";
    case model::PredictionSource::kDefault: return "Default";
  }
  return "Default";
}

ModelPredictor::ModelPredictor(std::shared_ptr<model::Predictor> model, std::string source_name)
    : model_(std::move(model)), source_name_(std::move(source_name)) {}

void ModelPredictor::Replace(std::shared_ptr<model::Predictor> model, std::string source_name) {
  std::lock_guard<std::mutex> lock(mu_);
  model_ = std::move(model);
  source_name_ = std::move(source_name);
}

std::shared_ptr<model::Predictor> ModelPredictor::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return model_;
}

std::string ModelPredictor::SourceName() const {
  std::lock_guard<std::mutex> lock(mu_);
  return source_name_;
}

std::string ModelPredictor::ModelVersion() const {
  auto m = Current();
  if (m->has_model()) return m->metadata().model_version;
  return "none";
}

api::Prediction ModelPredictor::Predict(const api::CommandRun& run) {
  auto m = Current();
  model::PredictionRequest req;
  req.command = run.spec.CommandLine();
  req.user = run.spec.user.value_or("");
  model::ResourceProfile p = m->Predict(req);
  api::Prediction out;
  out.cpu_milli = std::max<int64_t>(static_cast<int64_t>(std::ceil(p.cpu_cores * 1000)), 1);
  out.memory_bytes = static_cast<int64_t>(std::ceil(p.memory_bytes));
  out.disk_read_bytes_per_second = static_cast<int64_t>(p.disk_read_bps);
  out.disk_write_bytes_per_second = static_cast<int64_t>(p.disk_write_bps);
  out.network_bytes_per_second = static_cast<int64_t>(p.network_bps);
  out.duration_seconds = p.duration_seconds;
  out.quantile = p.quantile[analysis::kMemoryBytes];
  out.model_version = p.model_version.empty() ? "none" : p.model_version;
  out.source = PredictionSourceName(p.source);
  for (const auto& d : p.dependencies) {
    api::Dependency dep;
    dep.host = d.host;
    dep.port = d.port;
    dep.kind = api::DependencyKind::kService;  // counts only if such a Service exists
    if (!dep.host.empty() && dep.port > 0) out.dependencies.push_back(dep);
  }
  return out;
}

void ModelPredictor::Observe(const history::Observation& observation) { Current()->Observe(observation.record); }

}  // namespace prescient::controller
