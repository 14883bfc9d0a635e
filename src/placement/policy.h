// The placement policy: prediction quantiles, growth thresholds, how to ask for nodes, headroom,
// and what each guest keeps for itself. The one policy struct of the project: the operator's
// ControllerPolicy (src/controller/policy.h) holds one, and its config file (--config,
// operator/config/policy.yaml) maps its keys into it. The defaults here are src/placement's own
// (used by its tests); the operator starts from OperatorDefaults() in controller/policy.h.
// Plain value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "placement/resources.h"

namespace prescient::placement {

enum class ScalingMode { kProvisioningRequest, kBalloon, kNone };
const char* ScalingModeName(ScalingMode m);

struct Policy {
  // Quantiles of the upper-bound model the allocation is taken at.
  double memory_quantile = 0.95;
  double cpu_quantile = 0.9;

  // Growth while running: memory usage at or above this share of the allocation grows it...
  double memory_growth_threshold = 0.9;
  // ...by this share of the allocation, and at least memory_growth_min_step...
  double memory_growth_step = 0.25;
  int64_t memory_growth_min_step_bytes = 256 * kMiB;
  // ...and to at least the usage times this factor (0: off).
  double memory_growth_usage_factor = 0;
  // CPU throttled in at least this share of periods for cpu_throttle_sustain_seconds grows CPU...
  double cpu_throttle_threshold = 0.25;
  int64_t cpu_throttle_sustain_seconds = 30;
  // ...by this share of the allocation, and at least cpu_growth_min_step_milli.
  double cpu_growth_step = 0.5;
  int64_t cpu_growth_min_step_milli = 500;

  // How to get nodes: a ProvisioningRequest (class below), balloon pods, or not at all.
  ScalingMode scaling_mode = ScalingMode::kProvisioningRequest;
  std::string provisioning_class = "best-effort-atomic-scale-up.autoscaling.x-k8s.io";

  // When a VM grows, it grows by the need plus this share of it (fewer hotplugs in a row)...
  double headroom = 0.1;
  // ...and its guest memory is rounded up to a multiple of this (then KubeVirt's 2 MiB alignment),
  // capped at maxGuest.
  int64_t memory_step_bytes = kMemoryAlignment;
  // Capacity each guest keeps for its OS and the agent; never allocated to runs.
  Resources guest_reserved{250, 256 * kMiB};

  bool hotplug_enabled = true;
  bool preemption_enabled = true;

  // The largest node the cluster can ever get (when the autoscaler's node groups are not visible):
  // a run whose VM could not fit even there is rejected. Absent: judged by the known nodes and
  // node groups only when node groups are known.
  std::optional<Resources> largest_node;
};

}  // namespace prescient::placement
