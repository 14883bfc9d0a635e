#include "placement/growth.h"

#include <cmath>

#include "common/quantity.h"

namespace prescient::placement {

RunningSample SampleFor(const api::CommandRun& run, int64_t throttled_for_seconds) {
  RunningSample s;
  s.run = run.Key();
  if (run.status.allocation) {
    s.instance = run.metadata.ns + "/" + run.status.allocation->instance_id;
    s.allocated = {run.status.allocation->cpu_milli, run.status.allocation->memory_bytes};
  }
  if (run.status.usage) {
    const api::Usage& u = *run.status.usage;
    s.memory_used_bytes = u.memory_current_bytes > 0 ? u.memory_current_bytes : u.peaks.memory_bytes;
    s.cpu_throttled_fraction = u.cpu_throttled_fraction.value_or(0);
  }
  s.throttled_for_seconds = throttled_for_seconds;
  if (run.spec.resources && run.spec.resources->max) s.max = run.spec.resources->max;
  return s;
}

GrowthDecision DecideRunningGrowth(const RunningSample& s, const CapacityView& view, const Policy& policy) {
  GrowthDecision d;
  d.new_allocation = s.allocated;
  std::string why;
  bool wants = false;

  if (s.allocated.memory_bytes > 0 &&
      double(s.memory_used_bytes) >= policy.memory_growth_threshold * double(s.allocated.memory_bytes)) {
    wants = true;
    int64_t step = std::max(policy.memory_growth_min_step_bytes,
                            static_cast<int64_t>(std::ceil(double(s.allocated.memory_bytes) * policy.memory_growth_step)));
    int64_t target = s.allocated.memory_bytes + step;
    if (policy.memory_growth_usage_factor > 0) {
      target = std::max(target, static_cast<int64_t>(std::ceil(double(s.memory_used_bytes) * policy.memory_growth_usage_factor)));
    }
    target = AlignUp(target, kMemoryAlignment);
    if (s.max && s.max->memory_bytes) target = std::min(target, *s.max->memory_bytes);
    if (target > s.allocated.memory_bytes) {
      d.new_allocation.memory_bytes = target;
      why += "memory " + FormatBytes(s.memory_used_bytes) + " used of " + FormatBytes(s.allocated.memory_bytes);
    }
  }
  if (s.cpu_throttled_fraction >= policy.cpu_throttle_threshold &&
      s.throttled_for_seconds >= policy.cpu_throttle_sustain_seconds) {
    wants = true;
    int64_t step = std::max(policy.cpu_growth_min_step_milli,
                            static_cast<int64_t>(std::ceil(double(s.allocated.cpu_milli) * policy.cpu_growth_step)));
    int64_t target = s.allocated.cpu_milli + step;
    if (s.max && s.max->cpu_milli) target = std::min(target, *s.max->cpu_milli);
    if (target > s.allocated.cpu_milli) {
      d.new_allocation.cpu_milli = target;
      why += std::string(why.empty() ? "" : "; ") + "CPU throttled " +
             std::to_string(static_cast<int>(std::lround(s.cpu_throttled_fraction * 100))) + "% for " +
             std::to_string(s.throttled_for_seconds) + "s";
    }
  }
  if (!wants) return d;
  if (d.new_allocation == s.allocated) {
    d.kind = GrowthDecision::Kind::kBlocked;
    d.reason = "AtUpperBound";
    d.message = "usage is near the allocation, which is already at spec.resources.max";
    return d;
  }
  const Instance* inst = view.FindInstance(s.instance);
  if (inst == nullptr) {
    d.kind = GrowthDecision::Kind::kBlocked;
    d.reason = "InstanceNotFound";
    d.message = "instance " + s.instance + " is not in the capacity view";
    return d;
  }
  const Resources delta = Max(d.new_allocation - s.allocated, Resources{});
  if (view.Free(*inst, policy).Holds(delta)) {
    d.kind = GrowthDecision::Kind::kResize;
    d.reason = "UsageNearAllocation";
    d.message = why;
    return d;
  }
  GrowAttempt a = PlanGrowth(*inst, delta, view, policy);
  if (a.plan) {
    d.kind = GrowthDecision::Kind::kGrowInstance;
    d.plan = std::move(a.plan);
    d.reason = "UsageNearAllocation";
    d.message = why + "; growing " + s.instance;
    return d;
  }
  d.kind = GrowthDecision::Kind::kBlocked;
  // A hotplug already under way is a wait, not a dead end: the instance's events bring the run back.
  d.reason = a.blocked == GrowBlock::kInFlight ? kReasonHotplugInProgress : "CannotGrow";
  d.message = why + "; " + a.message;
  return d;
}

}  // namespace prescient::placement
