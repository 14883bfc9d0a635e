// Runs one command end to end under measurement: creates its cgroup with the allocation's limits,
// starts the process inside it, samples it with the Monitor at an interval, enforces the timeout
// (SIGTERM to the process group and the cgroup, then SIGKILL after a grace period), applies live
// limit changes, kills leftovers when the main process ends, destroys the cgroup and returns the
// UsageReport. Shadow execution is the same with a Sandbox and a time budget.
//
// Thread-safety: an Executor may run several commands concurrently from different threads. During
// Run, the Cgroup passed to hooks.on_started stays valid until Run returns; SetLimits on it from
// another thread is how the operator's growth reaches a live run.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "exec/cgroup.h"
#include "exec/monitor.h"
#include "exec/process.h"
#include "exec/procfs.h"

namespace prescient::exec {

struct ExecutionRequest {
  ProcessSpec process;                  // cgroup_procs_files is filled in by Run
  std::string cgroup_name;              // e.g. "prescient/run-<uid>"; must not exist yet
  CgroupLimits limits;
  std::chrono::milliseconds timeout{0};           // 0 = none
  std::chrono::milliseconds kill_grace{2000};     // SIGTERM → SIGKILL
  std::chrono::milliseconds sample_interval{1000};
  MonitorOptions monitor;
  bool keep_cgroup = false;             // leave the (empty) group in place after the run
};

struct ExecutionHooks {
  // After the process started: its cgroup (valid until Run returns) and pid.
  std::function<void(Cgroup* cgroup, pid_t pid)> on_started;
  // After each sample, with the report so far (rate-limit status updates in the callee).
  std::function<void(const UsageReport& so_far)> on_sample;
  // Set to true from any thread to stop the run (treated like a timeout: TERM, grace, KILL).
  const std::atomic<bool>* cancel = nullptr;
};

class Executor {
 public:
  Executor(CgroupManager* cgroups, ProcessLauncher* launcher, ProcFs* proc, Clock* clock);

  // Runs to completion. An error means the run could not be started or measured at all (cgroup
  // creation, exec failure); a command that fails, times out or is OOM-killed is a report.
  Result<UsageReport> Run(const ExecutionRequest& request, const ExecutionHooks& hooks = {});

  // Shadow execution: runs the command for at most `budget` in a throw-away sandbox (private
  // mount namespace with an overlay over /, no network unless allowed, small limits) and
  // returns its early usage curve. report.timed_out says the budget ended it (the usual case).
  // scratch_parent: a directory on this machine where a private, empty mount point is created.
  Result<UsageReport> Shadow(const ExecutionRequest& request, std::chrono::milliseconds budget,
                             const Sandbox& sandbox, const std::string& scratch_parent,
                             const ExecutionHooks& hooks = {});

 private:
  CgroupManager* cgroups_;
  ProcessLauncher* launcher_;
  ProcFs* proc_;
  Clock* clock_;
};

}  // namespace prescient::exec
