// In-memory fakes of the execution core's seams (Cgroup, CgroupManager, ProcFs, Process,
// ProcessLauncher) for tests of code built on src/exec — the monitor here, the agent elsewhere.
// Tests set the fields directly; nothing touches the machine. Not thread-safe unless noted.
#pragma once

#include <csignal>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "exec/cgroup.h"
#include "exec/process.h"
#include "exec/procfs.h"

namespace prescient::exec {

class FakeCgroup : public Cgroup {
 public:
  explicit FakeCgroup(std::string name = "test/run") : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  CgroupVersion version() const override { return CgroupVersion::kV2; }
  Status SetLimits(const CgroupLimits& l) override {
    std::lock_guard<std::mutex> g(mu);
    if (l.cpu_cores) limits.cpu_cores = l.cpu_cores;
    if (l.memory_bytes) limits.memory_bytes = l.memory_bytes;
    ++set_limits_calls;
    return Status::Ok();
  }
  std::vector<std::string> Unenforceable(const CgroupLimits&) const override { return unenforceable; }
  Result<CgroupLimits> ReadLimits() override {
    std::lock_guard<std::mutex> g(mu);
    return limits;
  }
  Result<CgroupStats> ReadStats() override {
    std::lock_guard<std::mutex> g(mu);
    if (!stats_error.ok()) return stats_error;
    return stats;
  }
  Status AddProcess(pid_t pid) override {
    std::lock_guard<std::mutex> g(mu);
    pids.push_back(pid);
    return Status::Ok();
  }
  Result<std::vector<pid_t>> Pids() override {
    std::lock_guard<std::mutex> g(mu);
    return pids;
  }
  Status KillAll(int sig) override {
    std::lock_guard<std::mutex> g(mu);
    signals.push_back(sig);
    if (sig == SIGKILL) pids.clear();
    return Status::Ok();
  }
  std::vector<std::string> ProcsFiles() const override { return {"/fake/" + name_ + "/cgroup.procs"}; }
  Status Destroy() override {
    std::lock_guard<std::mutex> g(mu);
    destroyed = true;
    return Status::Ok();
  }

  std::mutex mu;
  CgroupStats stats;
  Status stats_error;
  CgroupLimits limits;
  std::vector<pid_t> pids;
  std::vector<int> signals;
  int set_limits_calls = 0;
  bool destroyed = false;
  std::vector<std::string> unenforceable;

 private:
  std::string name_;
};

class FakeProcFs : public ProcFs {
 public:
  Result<std::string> Read(const std::string& rel) override {
    auto it = files.find(rel);
    if (it == files.end()) return NotFoundError("no fake /proc/" + rel);
    return it->second;
  }
  Result<std::vector<std::string>> FdTargets(pid_t pid) override {
    auto it = fds.find(pid);
    if (it == fds.end()) return NotFoundError("no fake fds for " + std::to_string(pid));
    return it->second;
  }
  std::map<std::string, std::string> files;
  std::map<pid_t, std::vector<std::string>> fds;
};

}  // namespace prescient::exec
