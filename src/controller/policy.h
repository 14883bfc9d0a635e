// The operator's policy: prediction defaults and quantile, growth thresholds, hotplug granularity,
// which quota it owns, how it asks for nodes, and the retraining schedule. Loaded from a YAML file
// (--config, operator/config/policy.yaml documents every key) or the `policy.yaml` key of a
// ConfigMap; absent keys keep their defaults, unknown keys are errors (a typo must not silently
// fall back to a default). Plain value; the loaders are pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/status.h"
#include "controller/io_controls.h"

namespace prescient::controller {

enum class ScalingMode { kProvisioningRequest, kBalloon, kNone };
const char* ScalingModeName(ScalingMode m);

struct ControllerPolicy {
  // Prediction.
  double quantile = 0.95;                 // recorded in status.prediction.quantile
  double history_headroom = 1.2;          // history-based prediction = observed peak × headroom
  int64_t default_cpu_milli = 500;        // no model, no history: this (source Default)
  int64_t default_memory_bytes = 256LL << 20;
  double default_duration_seconds = 60;
  // Placement and hotplug.
  // What the guest OS keeps for itself: never handed to runs.
  int64_t guest_reserved_cpu_milli = 250;
  int64_t guest_reserved_memory_bytes = 256LL << 20;
  int64_t memory_step_bytes = 256LL << 20;  // grow guest memory in these steps (2 MiB aligned)
  int64_t launcher_cpu_per_vcpu_milli = 100;        // KubeVirt cpuAllocationRatio 10
  int64_t launcher_memory_per_vcpu_bytes = 8LL << 20;  // KubeVirt's per-vCPU overhead
  std::string owned_quota_name = "prescient";       // the ResourceQuota whose spec.hard the operator may raise
  ScalingMode scaling_mode = ScalingMode::kProvisioningRequest;
  std::string provisioning_class = "best-effort-atomic-scale-up.autoscaling.x-k8s.io";
  // Balloon mode: placeholder pods of the needed size at this (negative, but above the
  // autoscaler's expendable cutoff of -10) priority, so the autoscaler adds a node for them and any
  // real pod preempts them. "" namespace: the operator's own (main.cc fills it in).
  std::string balloon_namespace;
  std::string balloon_priority_class = "prescient-balloon";
  int32_t balloon_priority = -5;
  std::string balloon_image = "registry.k8s.io/pause:3.9";
  // Feedback while running.
  double growth_memory_threshold = 0.9;   // memory peak >= this × allocation -> grow
  double growth_factor = 1.5;             // new allocation = max(peak × factor, allocation + step)
  double throttle_threshold = 0.2;        // cpu throttled fraction above this -> more CPU
  int64_t cpu_step_milli = 1000;
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
  // Retraining.
  std::chrono::seconds retrain_interval{3600};
  size_t retrain_min_new_records = 50;
  double holdout_fraction = 0.2;
};

Result<ControllerPolicy> ParsePolicyYaml(const std::string& yaml_text, const std::string& origin);
Result<ControllerPolicy> LoadPolicyFile(const std::string& path);

}  // namespace prescient::controller
