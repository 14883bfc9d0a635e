#include "controller/predictor.h"

#include <algorithm>
#include <cmath>

namespace prescient::controller {

Status HistoryPredictor::LoadHistoryFile(const std::string& path) {
  auto file = analysis::ReadHistoryFile(path, {.require_usage = true, .strict = false});
  if (!file.ok()) return file.status();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& r : file->records) Add(r);
  return Status::Ok();
}

void HistoryPredictor::Add(const analysis::HistoryRecord& r) {
  if (!r.usage) return;
  Seen& s = by_command_[r.command];
  const auto& u = *r.usage;
  double cpu = u.cpu_cores_peak.value_or(0);
  if (cpu == 0 && u.cpu_seconds && u.duration_seconds && *u.duration_seconds > 0) cpu = *u.cpu_seconds / *u.duration_seconds;
  s.cpu_cores = std::max(s.cpu_cores, cpu);
  s.memory_bytes = std::max(s.memory_bytes, u.memory_peak_bytes);
  s.duration_seconds = std::max(s.duration_seconds, u.duration_seconds.value_or(0));
  ++s.count;
  ++observations_;
}

void HistoryPredictor::Observe(const history::Observation& o) {
  std::lock_guard<std::mutex> lock(mu_);
  Add(o.record);
}

std::string HistoryPredictor::ModelVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return "history-" + std::to_string(observations_);
}

api::Prediction HistoryPredictor::Predict(const api::CommandRun& run) {
  api::Prediction p;
  p.quantile = policy_.quantile;
  std::string cmd = run.spec.CommandLine();
  std::lock_guard<std::mutex> lock(mu_);
  p.model_version = "history-" + std::to_string(observations_);
  auto it = by_command_.find(cmd);
  if (it == by_command_.end() || it->second.count == 0) {
    p.source = "Default";
    p.cpu_milli = policy_.default_cpu_milli;
    p.memory_bytes = policy_.default_memory_bytes;
    p.duration_seconds = policy_.default_duration_seconds;
    return p;
  }
  const Seen& s = it->second;
  p.source = "History";
  // Peaks are upper bounds already; the headroom covers run-to-run variation.
  p.cpu_milli = std::max<int64_t>(static_cast<int64_t>(std::ceil(s.cpu_cores * policy_.history_headroom * 1000)), 100);
  p.memory_bytes = static_cast<int64_t>(std::ceil(s.memory_bytes * policy_.history_headroom));
  p.duration_seconds = s.duration_seconds * policy_.history_headroom;
  return p;
}

api::Prediction ClampPrediction(api::Prediction p, const std::optional<api::ResourceBounds>& bounds) {
  auto clamp = [](int64_t v, const std::optional<int64_t>& lo, const std::optional<int64_t>& hi) {
    if (lo) v = std::max(v, *lo);
    if (hi) v = std::min(v, *hi);
    return v;
  };
  std::optional<int64_t> none;
  const api::ResourceAmounts* mn = bounds && bounds->min ? &*bounds->min : nullptr;
  const api::ResourceAmounts* mx = bounds && bounds->max ? &*bounds->max : nullptr;
  // The floor guards against a model or default that says "nothing"; the user's bounds come after
  // it, so an explicit spec.resources.max below the floor is honoured (the user's ceiling wins).
  p.cpu_milli = std::max<int64_t>(p.cpu_milli, kMinCpuMilli);
  p.memory_bytes = std::max<int64_t>(p.memory_bytes, kMinMemoryBytes);
  p.cpu_milli = clamp(p.cpu_milli, mn ? mn->cpu_milli : none, mx ? mx->cpu_milli : none);
  p.memory_bytes = clamp(p.memory_bytes, mn ? mn->memory_bytes : none, mx ? mx->memory_bytes : none);
  p.network_bytes_per_second =
      clamp(p.network_bytes_per_second, mn ? mn->network_bytes_per_second : none, mx ? mx->network_bytes_per_second : none);
  // A zero max (not allowed by the CRD, but not trusted here) still leaves a non-empty allocation.
  p.cpu_milli = std::max<int64_t>(p.cpu_milli, 1);
  p.memory_bytes = std::max<int64_t>(p.memory_bytes, 1);
  return p;
}

}  // namespace prescient::controller
