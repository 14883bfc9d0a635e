// The operator's placement policy: prediction quantiles, growth thresholds, how to ask for nodes,
// headroom, and what each guest keeps for itself. Defaults are usable as they are; a YAML or JSON
// file (--config, or a ConfigMap key) may override any of them, and every error names the file,
// line and key. Plain value; the loader is a pure function of its text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
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
  // ...by this share of the allocation, and at least memory_growth_min_step.
  double memory_growth_step = 0.25;
  int64_t memory_growth_min_step_bytes = 256 * kMiB;
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

// Parses a policy document (YAML or JSON). Absent keys keep their defaults. `source` names the
// text in errors ("policy.yaml"). Unknown keys, wrong types and out-of-range values are errors:
//   quantiles: {memory: 0.95, cpu: 0.9}
//   growth: {memoryThreshold: 0.9, memoryStep: 0.25, memoryMinStep: 256Mi,
//            cpuThrottleThreshold: 0.25, cpuThrottleSustainSeconds: 30, cpuStep: 0.5, cpuMinStep: 500m}
//   scaling: {mode: ProvisioningRequest | Balloon | None, provisioningClassName: ...}
//   headroom: 0.1
//   guestReserved: {cpu: 250m, memory: 256Mi}
//   hotplug: true
//   preemption: true
//   largestNode: {cpu: "16", memory: 64Gi}
Result<Policy> ParsePolicy(std::string_view text, std::string_view source);
Result<Policy> LoadPolicyFile(const std::string& path);

}  // namespace prescient::placement
