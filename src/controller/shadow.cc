#include "controller/shadow.h"

#include <algorithm>
#include <cmath>

#include "common/quantity.h"
#include "controller/plan.h"
#include "controller/predictor.h"

namespace prescient::controller {

std::string ShadowInstance(const api::CommandRun& run, const ClusterSnapshot& s, const std::string& labelled) {
  const std::string& ns = run.metadata.ns;
  placement::CapacityView view = CapacityViewOf(s, ns);
  std::string first;
  for (const placement::Instance* i : view.Candidates(ns, run.spec.target)) {
    if (!i->ready) continue;
    if (i->name == labelled) return labelled;
    if (first.empty()) first = i->name;
  }
  return first;
}

api::Time ShadowDeadline(const api::CommandRun& run, const ShadowPolicy& policy) {
  api::Time requested = run.status.shadow && run.status.shadow->requested_at ? *run.status.shadow->requested_at : api::Time{};
  int64_t duration = run.spec.shadow ? run.spec.shadow->duration_seconds : api::kDefaultShadowDurationSeconds;
  return requested + std::chrono::seconds(std::max<int64_t>(duration, 0)) + policy.grace;
}

namespace {

// The memory the curve reaches if it keeps rising for `horizon_s` more seconds at the rate of its
// second half (the start-up spike of the first half says little about the trend).
int64_t Extrapolate(const std::vector<std::pair<double, int64_t>>& curve, double horizon_s) {
  if (curve.size() < 2 || horizon_s <= 0) return 0;
  const auto& last = curve.back();
  double mid_t = curve.front().first + (last.first - curve.front().first) / 2;
  auto mid = std::lower_bound(curve.begin(), curve.end(), mid_t,
                              [](const std::pair<double, int64_t>& p, double t) { return p.first < t; });
  if (mid == curve.end() || last.first - mid->first <= 0) return 0;
  double slope = double(last.second - mid->second) / (last.first - mid->first);
  if (slope <= 0) return 0;
  return last.second + static_cast<int64_t>(slope * horizon_s);
}

}  // namespace

ShadowRefinement RefineWithShadow(const api::Prediction& predicted, const api::ShadowResult& shadow,
                                  const std::optional<api::ResourceBounds>& bounds, const ShadowPolicy& policy) {
  ShadowRefinement out;
  out.prediction = predicted;
  int64_t peak_mem = 0;
  double peak_cores = 0;
  if (shadow.usage) {
    peak_mem = shadow.usage->peaks.memory_bytes;
    peak_cores = shadow.usage->peaks.cpu_cores;
  }
  for (const auto& [t, bytes] : shadow.memory_curve) peak_mem = std::max(peak_mem, bytes);
  for (const auto& [t, cores] : shadow.cpu_curve) peak_cores = std::max(peak_cores, cores);
  if (peak_mem <= 0 && peak_cores <= 0) {
    out.reason = "ShadowFailed";
    out.message = "the shadow run measured nothing" + (shadow.message.empty() ? "" : " (" + shadow.message + ")") +
                  "; placing with the unrefined prediction";
    return out;
  }

  // Still rising when the shadow stopped: assume it may keep rising for as long again (but not
  // past the predicted end of the run).
  int64_t projected = 0;
  if (!shadow.exited) {
    double remaining = std::max(predicted.duration_seconds - shadow.duration_seconds, 0.0);
    projected = Extrapolate(shadow.memory_curve, std::min(remaining, shadow.duration_seconds));
  }
  const int64_t mem_basis = std::max(peak_mem, projected);
  const int64_t mem_floor = static_cast<int64_t>(std::ceil(double(mem_basis) * policy.safety_factor));
  const int64_t cpu_floor = static_cast<int64_t>(std::ceil(peak_cores * 1000.0 * policy.safety_factor));

  api::Prediction p = predicted;
  p.memory_bytes = std::max(p.memory_bytes, mem_floor);
  p.cpu_milli = std::max(p.cpu_milli, cpu_floor);
  if (!shadow.exited) p.duration_seconds = std::max(p.duration_seconds, shadow.duration_seconds);
  p = ClampPrediction(p, bounds);
  // The bounds may have pulled a value below the model's own (min > prediction is raised by both).
  out.changed = p.memory_bytes != predicted.memory_bytes || p.cpu_milli != predicted.cpu_milli ||
                p.duration_seconds != predicted.duration_seconds;

  std::string seen = "shadow run of " + std::to_string(static_cast<int>(std::lround(shadow.duration_seconds))) +
                     "s peaked at " + FormatBytes(peak_mem) + " memory and " + FormatCpuMilli(std::llround(peak_cores * 1000)) +
                     " CPU" + (shadow.exited ? " (the command finished)" : "");
  if (projected > peak_mem) seen += ", memory still rising towards " + FormatBytes((projected + (1 << 20) - 1) >> 20 << 20);
  if (peak_mem >= policy.sandbox_memory_bytes || peak_cores * 1000 >= 0.95 * double(policy.sandbox_cpu_milli)) {
    seen += "; the sandbox's limit was reached, so the real run may need more";
  }
  if (out.changed) {
    p.source = kSourceShadow;
    out.reason = "ShadowRefined";
    out.message = seen + ": prediction raised from " + FormatCpuMilli(predicted.cpu_milli) + " CPU, " +
                  FormatBytes(predicted.memory_bytes) + " to " + FormatCpuMilli(p.cpu_milli) + " CPU, " +
                  FormatBytes(p.memory_bytes);
  } else {
    out.reason = "ShadowConfirmed";
    out.message = seen + ": within the prediction (" + FormatCpuMilli(p.cpu_milli) + " CPU, " +
                  FormatBytes(p.memory_bytes) + ")";
  }
  out.prediction = p;
  return out;
}

}  // namespace prescient::controller
