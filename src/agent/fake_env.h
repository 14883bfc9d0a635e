// In-memory fakes of the agent's Env (env.h) for unit tests: a CommandRun store with a global
// resourceVersion and 409s on stale writes, injectable API faults, and a host whose "processes"
// the test ends by hand. Thread-safe (a mutex each), because shadow executions call from a thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/env.h"

namespace prescient::agent::testing {

class FakeRunApi : public RunApi {
 public:
  // Stores `obj` (a CommandRun or VMI) with a new resourceVersion; returns it.
  nlohmann::json PutRun(nlohmann::json obj) {
    std::lock_guard<std::mutex> l(mu_);
    return PutLocked(runs_, std::move(obj));
  }
  nlohmann::json PutVmi(nlohmann::json obj) {
    std::lock_guard<std::mutex> l(mu_);
    return PutLocked(vmis_, std::move(obj));
  }
  std::optional<nlohmann::json> Run(const std::string& ns, const std::string& name) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = runs_.find(ns + "/" + name);
    if (it == runs_.end()) return std::nullopt;
    return it->second;
  }
  void DeleteRun(const std::string& ns, const std::string& name) {
    std::lock_guard<std::mutex> l(mu_);
    runs_.erase(ns + "/" + name);
  }
  // The next `n` status writes fail with `st` (e.g. a 503) before reaching the store.
  void FailStatusWrites(int n, Status st) {
    std::lock_guard<std::mutex> l(mu_);
    for (int i = 0; i < n; ++i) write_faults_.push_back(st);
  }
  void ClearFaults() {
    std::lock_guard<std::mutex> l(mu_);
    write_faults_.clear();
  }
  // Runs `f` on the stored object just before the next status write is checked (a concurrent writer).
  void BeforeNextWrite(std::function<void(nlohmann::json*)> f) {
    std::lock_guard<std::mutex> l(mu_);
    before_write_ = std::move(f);
  }
  void FailGets(bool fail) {
    std::lock_guard<std::mutex> l(mu_);
    fail_gets_ = fail;
  }
  int status_writes() const {
    std::lock_guard<std::mutex> l(mu_);
    return status_writes_;
  }
  std::vector<nlohmann::json> written() const {
    std::lock_guard<std::mutex> l(mu_);
    return written_;
  }

  Result<nlohmann::json> GetRun(const std::string& ns, const std::string& name) override {
    std::lock_guard<std::mutex> l(mu_);
    if (fail_gets_) return Status(Code::kUnavailable, "injected: connection refused");
    auto it = runs_.find(ns + "/" + name);
    if (it == runs_.end()) return NotFoundError("commandruns \"" + name + "\" not found");
    return it->second;
  }
  Result<nlohmann::json> UpdateRunStatus(const nlohmann::json& obj) override {
    std::lock_guard<std::mutex> l(mu_);
    ++status_writes_;
    std::string key = obj["metadata"].value("namespace", "") + "/" + obj["metadata"].value("name", "");
    if (!write_faults_.empty()) {
      Status st = write_faults_.front();
      write_faults_.pop_front();
      return st;
    }
    auto it = runs_.find(key);
    if (it == runs_.end()) return NotFoundError("commandruns \"" + key + "\" not found");
    if (before_write_) {
      auto f = std::move(before_write_);
      before_write_ = nullptr;
      f(&it->second);
      it->second["metadata"]["resourceVersion"] = std::to_string(++rv_);
    }
    if (obj["metadata"].value("resourceVersion", "") != it->second["metadata"].value("resourceVersion", ""))
      return Status(Code::kConflict, "the object has been modified; please apply your changes to the latest version and try again");
    nlohmann::json stored = it->second;
    stored["status"] = obj.value("status", nlohmann::json::object());
    stored["metadata"]["resourceVersion"] = std::to_string(++rv_);
    it->second = stored;
    written_.push_back(stored);
    return stored;
  }
  Result<nlohmann::json> GetVmi(const std::string& ns, const std::string& name) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = vmis_.find(ns + "/" + name);
    if (it == vmis_.end()) return NotFoundError("virtualmachineinstances \"" + name + "\" not found");
    return it->second;
  }
  Result<nlohmann::json> GetLease(const std::string& ns, const std::string& name) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = leases_.find(ns + "/" + name);
    if (it == leases_.end()) return NotFoundError("leases \"" + name + "\" not found");
    return it->second;
  }
  Result<nlohmann::json> CreateLease(const nlohmann::json& lease) override {
    std::lock_guard<std::mutex> l(mu_);
    std::string key = lease["metadata"].value("namespace", "") + "/" + lease["metadata"].value("name", "");
    if (leases_.count(key)) return Status(Code::kAlreadyExists, "lease exists");
    return PutLocked(leases_, lease);
  }
  Result<nlohmann::json> UpdateLease(const nlohmann::json& lease) override {
    std::lock_guard<std::mutex> l(mu_);
    std::string key = lease["metadata"].value("namespace", "") + "/" + lease["metadata"].value("name", "");
    auto it = leases_.find(key);
    if (it == leases_.end()) return NotFoundError("lease not found");
    if (lease["metadata"].value("resourceVersion", "") != it->second["metadata"].value("resourceVersion", ""))
      return Status(Code::kConflict, "stale lease");
    return PutLocked(leases_, lease);
  }

 private:
  nlohmann::json PutLocked(std::map<std::string, nlohmann::json>& m, nlohmann::json obj) {
    obj["metadata"]["resourceVersion"] = std::to_string(++rv_);
    m[obj["metadata"].value("namespace", "") + "/" + obj["metadata"].value("name", "")] = obj;
    return obj;
  }
  mutable std::mutex mu_;
  int64_t rv_ = 100;
  std::map<std::string, nlohmann::json> runs_, vmis_, leases_;
  std::deque<Status> write_faults_;
  std::function<void(nlohmann::json*)> before_write_;
  bool fail_gets_ = false;
  int status_writes_ = 0;
  std::vector<nlohmann::json> written_;
};

class FakeExecEnv : public ExecEnv {
 public:
  struct Proc {
    LaunchSpec spec;
    Allocation limits;
    bool alive = true;
    bool cgroup = true;
    std::optional<ExitRecord> exit;
    Sample sample;
    std::vector<int> signals;
    std::vector<std::string> endpoints;
    std::string output;
  };

  // Test controls.
  void Exit(const std::string& uid, int code) {
    std::lock_guard<std::mutex> l(mu_);
    auto& p = procs_[uid];
    p.alive = false;
    p.exit = ExitRecord{true, code, 0, "2026-11-28T07:00:00Z", "", 0, ""};
  }
  void Kill(const std::string& uid, int sig) {
    std::lock_guard<std::mutex> l(mu_);
    auto& p = procs_[uid];
    p.alive = false;
    p.exit = ExitRecord{false, 0, sig, "2026-11-28T07:00:00Z", "", 0, ""};
  }
  // A process that survived an agent restart (as if launched by a previous agent).
  void Adopt(const std::string& uid, bool alive, std::optional<ExitRecord> exit) {
    std::lock_guard<std::mutex> l(mu_);
    auto& p = procs_[uid];
    p.alive = alive;
    p.exit = exit;
  }
  void SetSample(const std::string& uid, Sample s) {
    std::lock_guard<std::mutex> l(mu_);
    procs_[uid].sample = s;
  }
  void SetWarmUp(std::vector<DependencyCheck> checks) {
    std::lock_guard<std::mutex> l(mu_);
    warmup_ = std::move(checks);
  }
  void FailLaunch(Status st) {
    std::lock_guard<std::mutex> l(mu_);
    launch_error_ = st;
  }
  // What the next launches report as not enforceable on this "guest".
  void SetUnenforced(std::vector<std::string> u) {
    std::lock_guard<std::mutex> l(mu_);
    unenforced_ = std::move(u);
  }
  void FailSetLimits(bool fail) {
    std::lock_guard<std::mutex> l(mu_);
    fail_limits_ = fail;
  }
  std::optional<Proc> Get(const std::string& uid) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = procs_.find(uid);
    if (it == procs_.end()) return std::nullopt;
    return it->second;
  }
  int launches() const {
    std::lock_guard<std::mutex> l(mu_);
    return launches_;
  }
  int cleanups() const {
    std::lock_guard<std::mutex> l(mu_);
    return cleanups_;
  }
  std::optional<Allocation> guest_capacity() const {
    std::lock_guard<std::mutex> l(mu_);
    return guest_;
  }
  int shadows() const {
    std::lock_guard<std::mutex> l(mu_);
    return shadows_;
  }

  // While held, WarmUp blocks (like a slow DNS server) until ReleaseWarmUps().
  void HoldWarmUps() {
    std::lock_guard<std::mutex> l(gate_mu_);
    held_ = true;
  }
  void ReleaseWarmUps() {
    {
      std::lock_guard<std::mutex> l(gate_mu_);
      held_ = false;
    }
    gate_cv_.notify_all();
  }
  // Waits (bounded) until `n` WarmUp calls are blocked at the gate.
  bool AwaitWarmUpsBlocked(int n) {
    std::unique_lock<std::mutex> l(gate_mu_);
    return gate_cv_.wait_for(l, std::chrono::seconds(10), [&] { return in_flight_ >= n; });
  }
  int max_warmups_in_flight() const {
    std::lock_guard<std::mutex> l(gate_mu_);
    return max_in_flight_;
  }

  std::vector<DependencyCheck> WarmUp(const std::vector<Dependency>& deps) override {
    {
      std::unique_lock<std::mutex> g(gate_mu_);
      ++in_flight_;
      max_in_flight_ = std::max(max_in_flight_, in_flight_);
      gate_cv_.notify_all();
      gate_cv_.wait(g, [&] { return !held_; });
      --in_flight_;
    }
    std::lock_guard<std::mutex> l(mu_);
    if (!warmup_.empty()) return warmup_;
    std::vector<DependencyCheck> out;
    for (auto& d : deps) out.push_back({d, true, 0.1, 0.2, ""});
    return out;
  }
  // Called at the start of each Launch (before it takes effect).
  void OnLaunch(std::function<void()> f) { on_launch_ = std::move(f); }
  Result<Launched> Launch(const LaunchSpec& spec) override {
    if (on_launch_) on_launch_();
    std::lock_guard<std::mutex> l(mu_);
    if (!launch_error_.ok()) return launch_error_;
    ++launches_;
    Proc p;
    p.spec = spec;
    p.limits = spec.limits;
    procs_[spec.uid] = p;
    return Launched{1000 + launches_, "prescient/" + spec.uid, "2026-11-28T06:59:00Z", unenforced_};
  }
  bool LaunchRecorded(const std::string& uid) override {
    std::lock_guard<std::mutex> l(mu_);
    return procs_.count(uid) > 0;
  }
  Result<Sample> SampleRun(const std::string& uid) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = procs_.find(uid);
    if (it == procs_.end() || !it->second.cgroup) return NotFoundError("no cgroup for " + uid);
    Sample s = it->second.sample;
    s.has_processes = it->second.alive;
    return s;
  }
  Status SetLimits(const std::string& uid, const Allocation& limits) override {
    std::lock_guard<std::mutex> l(mu_);
    if (fail_limits_) return InternalError("injected: cannot write memory.limit_in_bytes");
    procs_[uid].limits = limits;
    return Status::Ok();
  }
  std::optional<ExitRecord> PollExit(const std::string& uid) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = procs_.find(uid);
    if (it == procs_.end()) return std::nullopt;
    return it->second.exit;
  }
  bool CgroupExists(const std::string& uid) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = procs_.find(uid);
    return it != procs_.end() && it->second.cgroup;
  }
  bool Alive(const std::string& uid, int64_t) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = procs_.find(uid);
    return it != procs_.end() && it->second.alive;
  }
  Status Signal(const std::string& uid, int sig) override {
    std::lock_guard<std::mutex> l(mu_);
    procs_[uid].signals.push_back(sig);
    return Status::Ok();
  }
  std::vector<std::string> Endpoints(const std::string& uid) override {
    std::lock_guard<std::mutex> l(mu_);
    return procs_[uid].endpoints;
  }
  std::string OutputTail(const std::string& uid, size_t max) override {
    std::lock_guard<std::mutex> l(mu_);
    std::string& o = procs_[uid].output;
    return o.size() > max ? o.substr(o.size() - max) : o;
  }
  Status Cleanup(const std::string& uid) override {
    std::lock_guard<std::mutex> l(mu_);
    ++cleanups_;
    procs_[uid].cgroup = false;
    return Status::Ok();
  }
  Result<ShadowResult> Shadow(const ShadowSpec& spec) override {
    std::lock_guard<std::mutex> l(mu_);
    ++shadows_;
    ShadowResult r;
    r.duration_seconds = static_cast<double>(spec.duration.count());
    r.usage.memory_peak_bytes = 42 << 20;
    return r;
  }
  Status SetGuestCapacity(const Allocation& capacity) override {
    std::lock_guard<std::mutex> l(mu_);
    guest_ = capacity;
    return Status::Ok();
  }
  std::map<std::string, Proc>& procs() { return procs_; }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Proc> procs_;
  std::vector<DependencyCheck> warmup_;
  mutable std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  bool held_ = false;
  int in_flight_ = 0, max_in_flight_ = 0;
  Status launch_error_;
  bool fail_limits_ = false;
  std::vector<std::string> unenforced_;
  std::function<void()> on_launch_;
  int launches_ = 0;
  int cleanups_ = 0;
  int shadows_ = 0;
  std::optional<Allocation> guest_;
};

}  // namespace prescient::agent::testing
