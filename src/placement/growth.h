// Growth while running: from the usage the agent reports, whether a run's allocation must grow
// (memory at or above policy.memory_growth_threshold of the allocation; CPU throttled in at least
// policy.cpu_throttle_threshold of periods for policy.cpu_throttle_sustain_seconds), by how much
// (a step, or the usage times memory_growth_usage_factor, within spec.resources.max), and whether
// its instance has the room or must be hotplugged first. The operator's one implementation of
// growth while running (src/controller calls it through controller/plan.h). Pure functions;
// thread-safe.
#pragma once

#include <optional>
#include <string>

#include "placement/place.h"

namespace prescient::placement {

struct RunningSample {
  std::string run;       // "ns/name"
  std::string instance;  // instance key
  Resources allocated;
  int64_t memory_used_bytes = 0;      // current (or recent peak) usage
  double cpu_throttled_fraction = 0;  // share of recent CFS periods throttled
  int64_t throttled_for_seconds = 0;  // how long the fraction has stayed above the threshold
  std::optional<api::ResourceAmounts> max;  // spec.resources.max
};

struct GrowthDecision {
  enum class Kind {
    kNone,          // usage is within the allocation
    kResize,        // the instance has room: write the larger allocation, the agent applies it
    kGrowInstance,  // hotplug the instance (plan), then write the larger allocation
    kBlocked,       // it should grow but cannot (reason: AtUpperBound, InstanceNotFound, HotplugInProgress, CannotGrow)
  };
  Kind kind = Kind::kNone;
  Resources new_allocation;
  std::optional<GrowPlan> plan;
  std::string reason;   // CamelCase
  std::string message;
};

// The sample for a run from its status: status.allocation, status.usage (memoryCurrentBytes, or
// the peak when absent; cpuThrottledFraction) and spec.resources.max. `throttled_for_seconds` is
// how long the reconciler has seen the fraction above the threshold (it keeps that itself).
RunningSample SampleFor(const api::CommandRun& run, int64_t throttled_for_seconds);

GrowthDecision DecideRunningGrowth(const RunningSample& sample, const CapacityView& view, const Policy& policy);

}  // namespace prescient::placement
