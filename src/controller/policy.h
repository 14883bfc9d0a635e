// The operator's policy: prediction defaults and quantile, which quota it owns, balloon pods,
// timeouts and the retraining schedule, plus the placement policy (guest reserve, hotplug
// granularity, how it asks for nodes, growth while running) as the one placement::Policy the
// placement decisions read. Loaded from a YAML file (--config, operator/config/policy.yaml
// documents every key) or the `policy.yaml` key of a ConfigMap; the file's flat keys map into both
// parts; absent keys keep their defaults, unknown keys are errors (a typo must not silently fall
// back to a default). Plain value; the loaders are pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/status.h"
#include "controller/io_controls.h"
#include "placement/policy.h"

namespace prescient::controller {

using placement::ScalingMode;
using placement::ScalingModeName;

// The operator's placement defaults, where they differ from src/placement's: growth while running
// steps by memoryStep / cpuStep (no share of the allocation) to max(usage x growthFactor,
// allocation + memoryStep), CPU grows as soon as it is throttled, and a grown VM gets no extra
// headroom beyond the memoryStep rounding.
placement::Policy OperatorPlacementDefaults();

struct ControllerPolicy {
  // Prediction.
  double quantile = 0.95;                 // recorded in status.prediction.quantile
  double history_headroom = 1.2;          // history-based prediction = observed peak × headroom
  int64_t default_cpu_milli = 500;        // no model, no history: this (source Default)
  int64_t default_memory_bytes = 256LL << 20;
  double default_duration_seconds = 60;
  // Placement, hotplug and growth while running (keys guestReservedCPU/Memory, memoryStep,
  // scalingMode, provisioningClassName, growthMemoryThreshold, growthFactor, throttleThreshold,
  // throttleSustainSeconds, cpuStep).
  placement::Policy placement = OperatorPlacementDefaults();
  std::string owned_quota_name = "prescient";       // the ResourceQuota whose spec.hard the operator may raise
  // Balloon mode: placeholder pods of the needed size at this (negative, but above the
  // autoscaler's expendable cutoff of -10) priority, so the autoscaler adds a node for them and any
  // real pod preempts them. "" namespace: the operator's own (main.cc fills it in).
  std::string balloon_namespace;
  std::string balloon_priority_class = "prescient-balloon";
  int32_t balloon_priority = -5;
  std::string balloon_image = "registry.k8s.io/pause:3.9";
  std::chrono::seconds agent_heartbeat_timeout{60};
  // A hotplug the VMI has not reported done this long after it was asked for (or that the VM says
  // needs a restart) is given up: the VM's size is put back, the quota raise rolled back, and the
  // run queued again; the run does not try growing again for the same time.
  std::chrono::seconds hotplug_timeout{300};
  // Preemption of a running run (spec.allowPreemptionWhileRunning): status.stopRequest's
  // gracePeriodSeconds, the agent's SIGTERM -> SIGKILL delay.
  std::chrono::seconds preemption_grace_period{30};
  // IO controls in status.allocation (controller/io_controls.h): ioWeight from priority (on),
  // disk bandwidth limits from the prediction (off) with a headroom factor.
  IoPolicy io;
  // A growth that neither shows on the VMI nor fits this long after it was asked for never started
  // (the VM patch was lost or undone): the run is placed again. Before that it is in progress (the
  // caches may not show the VM patch yet).
  std::chrono::seconds hotplug_start_timeout{30};
  // Retraining.
  std::chrono::seconds retrain_interval{3600};
  size_t retrain_min_new_records = 50;
  double holdout_fraction = 0.2;
};

Result<ControllerPolicy> ParsePolicyYaml(const std::string& yaml_text, const std::string& origin);
Result<ControllerPolicy> LoadPolicyFile(const std::string& path);

}  // namespace prescient::controller
