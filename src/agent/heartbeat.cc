#include "agent/heartbeat.h"

#include "common/quantity.h"

namespace prescient::agent {

using nlohmann::json;

std::string LeaseName(const std::string& instance) { return "prescient-agent-" + instance; }

Result<Allocation> GuestCapacityFromVmi(const json& vmi) {
  const json status = vmi.contains("status") && vmi["status"].is_object() ? vmi["status"] : json::object();
  auto count = [&](const json& topo, const char* key) -> int64_t {
    if (!topo.contains(key)) return 1;  // KubeVirt omits a 1
    return topo[key].is_number_integer() ? topo[key].get<int64_t>() : -1;
  };
  if (!status.contains("currentCPUTopology") || !status["currentCPUTopology"].is_object())
    return InvalidArgument("VMI status.currentCPUTopology is missing");
  const json& topo = status["currentCPUTopology"];
  int64_t sockets = count(topo, "sockets"), cores = count(topo, "cores"), threads = count(topo, "threads");
  if (sockets < 1 || cores < 1 || threads < 1 || sockets * cores * threads > 4096)
    return InvalidArgument("VMI status.currentCPUTopology " + topo.dump() + " is not a usable topology");
  if (!status.contains("memory") || !status["memory"].is_object() || !status["memory"].contains("guestCurrent") ||
      !status["memory"]["guestCurrent"].is_string())
    return InvalidArgument("VMI status.memory.guestCurrent is missing");
  auto mem = ParseBytes(status["memory"]["guestCurrent"].get<std::string>());
  if (!mem.ok()) return InvalidArgument("VMI status.memory.guestCurrent: " + mem.status().message());
  if (*mem <= 0) return InvalidArgument("VMI status.memory.guestCurrent is not positive");
  return Allocation{sockets * cores * threads * 1000, *mem};
}

Heartbeat::Heartbeat(std::string ns, std::string instance, RunApi* api, Clock* clock)
    : ns_(std::move(ns)), instance_(std::move(instance)), api_(api), clock_(clock) {}

Status Heartbeat::Renew() {
  Status last;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::string now = FormatRfc3339Micro(clock_->Now());
    auto got = api_->GetLease(ns_, LeaseName(instance_));
    Result<json> r = Status();
    if (!got.ok() && got.status().code() == Code::kNotFound) {
      json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                    {"kind", "Lease"},
                    {"metadata", {{"name", LeaseName(instance_)}, {"namespace", ns_},
                                  {"labels", {{"app.kubernetes.io/name", "prescient-agent"}, {"prescient.dev/instance", instance_}}}}},
                    {"spec", {{"holderIdentity", instance_}, {"leaseDurationSeconds", kLeaseDurationSeconds},
                              {"acquireTime", now}, {"renewTime", now}, {"leaseTransitions", 0}}}};
      r = api_->CreateLease(lease);
    } else if (!got.ok()) {
      return got.status();
    } else {
      json lease = *got;
      if (!lease.contains("spec") || !lease["spec"].is_object()) lease["spec"] = json::object();
      if (lease["spec"].value("holderIdentity", "") != instance_) {
        lease["spec"]["holderIdentity"] = instance_;
        lease["spec"]["acquireTime"] = now;
        lease["spec"]["leaseTransitions"] = lease["spec"].value("leaseTransitions", 0) + 1;
      }
      lease["spec"]["leaseDurationSeconds"] = kLeaseDurationSeconds;
      lease["spec"]["renewTime"] = now;
      r = api_->UpdateLease(lease);
    }
    if (r.ok()) {
      last_ = clock_->Now();
      return Status::Ok();
    }
    last = r.status();
    if (last.code() != Code::kConflict && last.code() != Code::kAlreadyExists) return last;
  }
  return last;
}

GuestSizer::GuestSizer(std::string ns, std::string instance, RunApi* api, ExecEnv* exec)
    : ns_(std::move(ns)), instance_(std::move(instance)), api_(api), exec_(exec),
      log_("agent.guest", {{"namespace", ns_}, {"instance", instance_}}) {}

Result<Allocation> GuestSizer::Sync() {
  auto vmi = api_->GetVmi(ns_, instance_);
  Result<Allocation> cap = vmi.ok() ? GuestCapacityFromVmi(*vmi) : Result<Allocation>(vmi.status());
  if (!cap.ok()) {
    if (cap.status().message() != last_error_) {
      log_.Warn("cannot read the guest size from the VMI; capacity is not enforced",
                {{"error", cap.status().ToString()}});
      last_error_ = cap.status().message();
    }
    return cap.status();
  }
  if (applied_ && *applied_ == *cap) return *cap;
  Status st = exec_->SetGuestCapacity(*cap);
  if (!st.ok()) {
    if (st.message() != last_error_) {
      log_.Error("cannot enforce the guest size on the parent cgroup: a hotplug will not become real capacity",
                 {{"error", st.ToString()}, {"cpuMilli", cap->cpu_milli}, {"memoryBytes", cap->memory_bytes}});
      last_error_ = st.message();
    }
    return st;
  }
  log_.Info("guest size enforced on the parent cgroup",
            {{"cpuMilli", cap->cpu_milli}, {"memoryBytes", cap->memory_bytes},
             {"previousCpuMilli", applied_ ? applied_->cpu_milli : 0}});
  applied_ = *cap;
  last_error_.clear();
  return *cap;
}

}  // namespace prescient::agent
