// Fluent builders for CommandRun objects in agent tests (Kueue style):
//   MakeRun("r1").Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").Obj()
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/run.h"

namespace prescient::agent::testing {

class RunBuilder {
 public:
  explicit RunBuilder(std::string name, std::string ns = "default") {
    obj_ = {{"apiVersion", kGroupVersion},
            {"kind", "CommandRun"},
            {"metadata", {{"name", name}, {"namespace", ns}, {"uid", UidFor(name)}, {"resourceVersion", "1"}}},
            {"spec", {{"command", "echo hello"}, {"target", {{"vmName", "vm-a"}}}}},
            {"status", nlohmann::json::object()}};
  }
  static std::string UidFor(const std::string& name) {
    // Deterministic UID-shaped hex from the name.
    uint64_t h = 1469598103934665603ULL;
    for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    char buf[40];
    snprintf(buf, sizeof buf, "%08x-0000-4000-8000-%012llx", static_cast<unsigned>(h >> 32),
             static_cast<unsigned long long>(h & 0xffffffffffffULL));
    return buf;
  }
  RunBuilder& Instance(const std::string& vmi) {
    obj_["metadata"]["labels"][kInstanceLabel] = vmi;
    return *this;
  }
  RunBuilder& Phase(const std::string& p) {
    obj_["status"]["phase"] = p;
    return *this;
  }
  RunBuilder& Allocation(const std::string& cpu, const std::string& mem) {
    obj_["status"]["allocation"] = {{"instanceID", "vm-a"}, {"cpuCores", cpu}, {"memory", mem}};
    return *this;
  }
  RunBuilder& Command(const std::string& c) {
    obj_["spec"]["command"] = c;
    return *this;
  }
  RunBuilder& Args(std::vector<std::string> a) {
    obj_["spec"].erase("command");
    obj_["spec"]["args"] = a;
    return *this;
  }
  RunBuilder& Timeout(int64_t s) {
    obj_["spec"]["timeoutSeconds"] = s;
    return *this;
  }
  RunBuilder& Dependency(const std::string& host, int port) {
    obj_["spec"]["dependencies"].push_back({{"kind", "Endpoint"}, {"host", host}, {"port", port}});
    return *this;
  }
  RunBuilder& ClaimedBy(const std::string& instance, int64_t pid, const std::string& boot) {
    obj_["status"]["agent"] = {{"instance", instance}, {"pid", pid}, {"bootID", boot}};
    return *this;
  }
  RunBuilder& ShadowRequested(int seconds) {
    obj_["spec"]["shadow"] = {{"enabled", true}, {"durationSeconds", seconds}};
    obj_["status"]["shadow"] = {{"requested", true}};
    return *this;
  }
  // The operator's status.stopRequest (preemption while running).
  RunBuilder& StopRequested(const std::string& by, std::optional<int> grace_seconds = std::nullopt) {
    obj_["status"]["stopRequest"] = {{"reason", "Preempted"}, {"requestedBy", by}};
    if (grace_seconds) obj_["status"]["stopRequest"]["gracePeriodSeconds"] = *grace_seconds;
    return *this;
  }
  RunBuilder& Preemptions(int n) {
    obj_["status"]["preemptions"] = n;
    return *this;
  }
  RunBuilder& Deleting() {
    obj_["metadata"]["deletionTimestamp"] = "2026-11-28T07:00:00Z";
    return *this;
  }
  RunBuilder& Set(const nlohmann::json::json_pointer& p, nlohmann::json v) {
    obj_[p] = std::move(v);
    return *this;
  }
  nlohmann::json Obj() const { return obj_; }

 private:
  nlohmann::json obj_;
};

inline RunBuilder MakeRun(const std::string& name, const std::string& ns = "default") { return RunBuilder(name, ns); }

}  // namespace prescient::agent::testing
