#include "controller/policy.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "common/quantity.h"

namespace prescient::controller {

namespace {
Status ParseFlag(const YAML::Node& n, const std::string& where, bool* out) {
  try {
    *out = n.as<bool>();
    return Status::Ok();
  } catch (const YAML::Exception&) {
    return InvalidArgument(where + ": expected true or false");
  }
}
}  // namespace

placement::Policy OperatorPlacementDefaults() {
  placement::Policy p;
  p.guest_reserved = {250, 256LL << 20};
  p.memory_step_bytes = 256LL << 20;  // memoryStep: hotplug granularity and the growth step
  p.headroom = 0;
  p.memory_growth_threshold = 0.9;
  p.memory_growth_step = 0;
  p.memory_growth_min_step_bytes = p.memory_step_bytes;
  p.memory_growth_usage_factor = 1.5;
  p.cpu_throttle_threshold = 0.2;
  p.cpu_throttle_sustain_seconds = 0;
  p.cpu_growth_step = 0;
  p.cpu_growth_min_step_milli = 1000;
  return p;
}

Result<ControllerPolicy> ParsePolicyYaml(const std::string& yaml_text, const std::string& origin) {
  ControllerPolicy p;
  placement::Policy& pp = p.placement;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(origin + ": not YAML: " + e.what());
  }
  if (!root || root.IsNull()) return p;
  if (!root.IsMap()) return InvalidArgument(origin + ": the policy must be a mapping");
  using Setter = std::function<Status(const YAML::Node&, const std::string& where)>;
  auto dbl = [](double* out, double lo, double hi) -> Setter {
    return [=](const YAML::Node& n, const std::string& where) {
      try {
        double v = n.as<double>();
        if (v < lo || v > hi) return InvalidArgument(where + ": must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
        *out = v;
        return Status::Ok();
      } catch (const YAML::Exception&) {
        return InvalidArgument(where + ": expected a number");
      }
    };
  };
  auto bytes = [](int64_t* out) -> Setter {
    return [=](const YAML::Node& n, const std::string& where) {
      auto r = ParseBytes(n.Scalar());
      if (!r.ok() || *r <= 0) return InvalidArgument(where + ": expected a positive quantity like 256Mi");
      *out = *r;
      return Status::Ok();
    };
  };
  auto milli = [](int64_t* out) -> Setter {
    return [=](const YAML::Node& n, const std::string& where) {
      auto r = ParseCpuMilli(n.Scalar());
      if (!r.ok() || *r <= 0) return InvalidArgument(where + ": expected a positive CPU quantity like 500m");
      *out = *r;
      return Status::Ok();
    };
  };
  auto str = [](std::string* out) -> Setter {
    return [=](const YAML::Node& n, const std::string& where) {
      if (!n.IsScalar() || n.Scalar().empty()) return InvalidArgument(where + ": expected a non-empty string");
      *out = n.Scalar();
      return Status::Ok();
    };
  };
  auto secs = [](std::chrono::seconds* out) -> Setter {
    return [=](const YAML::Node& n, const std::string& where) {
      try {
        long v = n.as<long>();
        if (v <= 0) return InvalidArgument(where + ": must be a positive number of seconds");
        *out = std::chrono::seconds(v);
        return Status::Ok();
      } catch (const YAML::Exception&) {
        return InvalidArgument(where + ": expected a number of seconds");
      }
    };
  };
  std::map<std::string, Setter> keys = {
      {"quantile", dbl(&p.quantile, 0.5, 0.999)},
      {"historyHeadroom", dbl(&p.history_headroom, 1.0, 10.0)},
      {"defaultCPU", milli(&p.default_cpu_milli)},
      {"defaultMemory", bytes(&p.default_memory_bytes)},
      {"defaultDurationSeconds", dbl(&p.default_duration_seconds, 0.001, 1e7)},
      {"memoryStep", bytes(&pp.memory_step_bytes)},
      {"guestReservedCPU", milli(&pp.guest_reserved.cpu_milli)},
      {"guestReservedMemory", bytes(&pp.guest_reserved.memory_bytes)},
      {"ownedQuotaName", str(&p.owned_quota_name)},
      {"provisioningClassName", str(&pp.provisioning_class)},
      {"balloonNamespace", str(&p.balloon_namespace)},
      {"balloonPriorityClassName", str(&p.balloon_priority_class)},
      {"balloonImage", str(&p.balloon_image)},
      {"balloonPriority",
       [&p](const YAML::Node& n, const std::string& where) {
         try {
           int v = n.as<int>();
           if (v >= 0 || v < -10) return InvalidArgument(where + ": must be between -10 and -1 (below every real pod, at or above the autoscaler's expendable cutoff)");
           p.balloon_priority = v;
           return Status::Ok();
         } catch (const YAML::Exception&) {
           return InvalidArgument(where + ": expected an integer");
         }
       }},
      {"growthMemoryThreshold", dbl(&pp.memory_growth_threshold, 0.1, 1.0)},
      {"growthFactor", dbl(&pp.memory_growth_usage_factor, 1.0, 10.0)},
      {"throttleThreshold", dbl(&pp.cpu_throttle_threshold, 0.0, 1.0)},
      {"cpuStep", milli(&pp.cpu_growth_min_step_milli)},
      {"agentHeartbeatTimeoutSeconds", secs(&p.agent_heartbeat_timeout)},
      {"hotplugTimeoutSeconds", secs(&p.hotplug_timeout)},
      {"preemptionGracePeriodSeconds", secs(&p.preemption_grace_period)},
      {"ioWeightFromPriority",
       [&p](const YAML::Node& n, const std::string& where) { return ParseFlag(n, where, &p.io.weight_from_priority); }},
      {"diskBandwidthLimits",
       [&p](const YAML::Node& n, const std::string& where) { return ParseFlag(n, where, &p.io.disk_bandwidth_limits); }},
      {"diskBandwidthHeadroom", dbl(&p.io.disk_bandwidth_headroom, 1.0, 100.0)},
      {"hotplugStartTimeoutSeconds", secs(&p.hotplug_start_timeout)},
      {"retrainIntervalSeconds", secs(&p.retrain_interval)},
      {"holdoutFraction", dbl(&p.holdout_fraction, 0.05, 0.5)},
      {"throttleSustainSeconds",
       [&pp](const YAML::Node& n, const std::string& where) {
         try {
           long v = n.as<long>();
           if (v < 0 || v > 86400) return InvalidArgument(where + ": must be in [0, 86400] seconds");
           pp.cpu_throttle_sustain_seconds = v;
           return Status::Ok();
         } catch (const YAML::Exception&) {
           return InvalidArgument(where + ": expected a number of seconds");
         }
       }},
      {"scalingMode",
       [&pp](const YAML::Node& n, const std::string& where) {
         std::string v = n.Scalar();
         if (v == "ProvisioningRequest") pp.scaling_mode = ScalingMode::kProvisioningRequest;
         else if (v == "Balloon") pp.scaling_mode = ScalingMode::kBalloon;
         else if (v == "None") pp.scaling_mode = ScalingMode::kNone;
         else return InvalidArgument(where + ": must be ProvisioningRequest, Balloon or None, not \"" + v + "\"");
         return Status::Ok();
       }},
      {"retrainMinNewRecords",
       [&p](const YAML::Node& n, const std::string& where) {
         try {
           long v = n.as<long>();
           if (v < 1) return InvalidArgument(where + ": must be >= 1");
           p.retrain_min_new_records = static_cast<size_t>(v);
           return Status::Ok();
         } catch (const YAML::Exception&) {
           return InvalidArgument(where + ": expected an integer");
         }
       }},
  };
  for (auto it = root.begin(); it != root.end(); ++it) {
    std::string key = it->first.Scalar();
    std::string where = origin + ":" + std::to_string(it->first.Mark().line + 1) + ": " + key;
    auto k = keys.find(key);
    if (k == keys.end()) return InvalidArgument(where + ": unknown policy key");
    if (Status s = k->second(it->second, where); !s.ok()) return s;
  }
  // memoryStep is the growth step as well as the hotplug granularity.
  pp.memory_growth_min_step_bytes = pp.memory_step_bytes;
  return p;
}

Result<ControllerPolicy> LoadPolicyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return InvalidArgument("cannot read policy file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParsePolicyYaml(ss.str(), path);
}

}  // namespace prescient::controller
