// The agent's two periodic duties towards the cluster besides runs:
//  - the heartbeat Lease `prescient-agent-<instance>` (coordination.k8s.io/v1) in its namespace,
//    holderIdentity=<instance>, renewed every 10 s with leaseDurationSeconds=30, so the operator
//    can tell a lost agent (docs/agent-protocol.md);
//  - the guest's size from its VMI (status.currentCPUTopology sockets × cores × threads and
//    status.memory.guestCurrent), enforced on the parent cgroup of all runs so that in
//    prescient-sim a CPU/memory hotplug through the API becomes real capacity.
// Not thread-safe: called from the agent's loop thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/env.h"
#include "common/clock.h"
#include "common/log.h"

namespace prescient::agent {

inline constexpr int kLeaseDurationSeconds = 30;
inline constexpr std::chrono::seconds kLeaseRenewInterval{10};

std::string LeaseName(const std::string& instance);

// The guest size a VMI reports; an error names the missing or malformed field.
Result<Allocation> GuestCapacityFromVmi(const nlohmann::json& vmi);

class Heartbeat {
 public:
  Heartbeat(std::string ns, std::string instance, RunApi* api, Clock* clock);
  // Creates or renews the Lease. A 409 (someone else renewed: a second agent for the same
  // instance) is retried once from a fresh read.
  Status Renew();
  std::optional<Clock::TimePoint> last_renewed() const { return last_; }

 private:
  std::string ns_, instance_;
  RunApi* api_;
  Clock* clock_;
  std::optional<Clock::TimePoint> last_;
};

// Reads the VMI and applies its size to the runs' parent cgroup when it changed.
class GuestSizer {
 public:
  GuestSizer(std::string ns, std::string instance, RunApi* api, ExecEnv* exec);
  // Returns the capacity now enforced (or the error that prevented it; logged once per change).
  Result<Allocation> Sync();

 private:
  std::string ns_, instance_;
  RunApi* api_;
  ExecEnv* exec_;
  std::optional<Allocation> applied_;
  std::string last_error_;
  log::Logger log_;
};

}  // namespace prescient::agent
