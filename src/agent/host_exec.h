// The agent's ExecEnv on a real host: cgroups (v2, or v1 per controller) through prescient_exec,
// commands started under a detached shim (shim.h) so they outlive the agent, sampling through
// prescient_exec's Monitor, dependency warm-up, /proc endpoint discovery, shadow executions in
// prescient_exec's sandbox, and the guest's size on the parent cgroup.
//
// Layout: run cgroups are <cgroup-parent>/<uid>; per run in <state-dir>/runs: <uid>.spec.json
// (shim input, 0600), <uid>.exit.json (shim output); full output in
// <log-dir>/<namespace>_<name>_<uid>.log (rotated .1, .2).
// Thread-safe (a mutex around the per-run monitors).
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "agent/env.h"
#include "exec/cgroup.h"
#include "exec/monitor.h"
#include "exec/procfs.h"

namespace prescient::agent {

struct HostExecOptions {
  std::string state_dir = "/var/lib/prescient-agent";
  std::string log_dir = "/var/log/prescient-agent";
  std::string cgroup_parent = "prescient";
  std::string cgroup_mount_root = "/sys/fs/cgroup";
  std::string shim_binary;  // "" = this executable (/proc/self/exe)
  std::optional<uint32_t> run_as_uid, run_as_gid;
  std::string run_as_home = "/";
  int64_t log_max_bytes = 16 << 20;
  int log_keep = 2;
  size_t tail_bytes = 16 << 10;
  std::chrono::milliseconds warmup_timeout{2000};
  // Warm shims kept ready (shim.h WarmShimMain): each is an idle shim process (and on cgroup v1 a
  // spare cgroup holding the command's prestarted process), so a launch neither starts a process
  // image nor migrates into a cgroup. 0 = start every shim cold.
  int warm_shims = 2;
  // Limits of a shadow execution (small by design).
  double shadow_cpu_cores = 1.0;
  int64_t shadow_memory_bytes = 512LL << 20;
};

class HostExecEnv : public ExecEnv {
 public:
  // Detects the cgroup version and checks the directories; errors say what is missing.
  static Result<std::unique_ptr<HostExecEnv>> Create(const HostExecOptions& options);
  // Stops preparing warm shims and releases the idle ones (each removes its spare cgroup; waited
  // for, bounded).
  ~HostExecEnv() override;

  std::vector<DependencyCheck> WarmUp(const std::vector<Dependency>& deps) override;
  Result<Launched> Launch(const LaunchSpec& spec) override;
  bool LaunchRecorded(const std::string& uid) override;
  Result<Sample> SampleRun(const std::string& uid) override;
  Status SetLimits(const std::string& uid, const Allocation& limits) override;
  std::optional<ExitRecord> PollExit(const std::string& uid) override;
  bool CgroupExists(const std::string& uid) override;
  bool Alive(const std::string& uid, int64_t shim_pid) override;
  Status Signal(const std::string& uid, int signal) override;
  std::vector<std::string> Endpoints(const std::string& uid) override;
  std::string OutputTail(const std::string& uid, size_t max_bytes) override;
  Status Cleanup(const std::string& uid) override;
  Result<ShadowResult> Shadow(const ShadowSpec& spec) override;
  Status SetGuestCapacity(const Allocation& capacity) override;

  std::string Describe() const { return cgroups_->Describe(); }
  // Warm shims ready now (for tests and logs).
  size_t WarmShimsReady();
  // Waits up to `timeout` until `n` warm shims are ready.
  bool WaitForWarmShims(size_t n, std::chrono::milliseconds timeout);
  std::string LogPath(const std::string& ns, const std::string& name, const std::string& uid) const;

 private:
  struct Tracked {
    std::unique_ptr<exec::Cgroup> cgroup;
    std::unique_ptr<exec::Monitor> monitor;
    std::string disk;  // "major:minor" the run's IO limits apply to ("" = none)
  };
  HostExecEnv(HostExecOptions o, std::unique_ptr<exec::CgroupManager> m);
  std::string CgroupName(const std::string& uid) const { return opt_.cgroup_parent + "/" + uid; }
  std::string RunFile(const std::string& uid, const char* suffix) const {
    return opt_.state_dir + "/runs/" + uid + suffix;
  }
  // Opens (or reuses) the run's cgroup and monitor. Caller holds mu_.
  Result<Tracked*> TrackLocked(const std::string& uid);
  // Starts `prescient-agent shim ARGS...` detached (double fork); `control_fd` >= 0 becomes its fd 3.
  Result<int64_t> SpawnShim(const std::vector<std::string>& args, const std::string& shim_log, int control_fd = -1);
  struct Spare {
    std::string cgroup;  // "<parent>/spare-<agent pid>-<seq>" (created on v1 only)
    std::string token;   // on the warm shim's command line
    std::string shim_log;
    int64_t shim_pid = 0;
    int control_fd = -1;  // our end of the shim's control socket
  };
  Result<Spare> MakeSpare();
  // Gives an unused spare up: the warm shim sees EOF, kills its prestarted process and removes
  // the spare cgroup.
  static void ReleaseSpare(Spare& s);
  void KeepSpares();
  // Groups named for an agent process that is gone ("spare-<pid>-…", "shadow-<pid>-…"): their
  // processes are killed and the groups removed. Shadows are throw-away and never reattached.
  void RemoveStaleGroups();

  HostExecOptions opt_;
  std::unique_ptr<exec::CgroupManager> cgroups_;
  std::unique_ptr<exec::ProcFs> proc_;
  std::mutex mu_;
  std::map<std::string, Tracked> runs_;
  // Warm shims (guarded by mu_; the keeper thread refills).
  std::deque<Spare> spares_;
  std::condition_variable spares_cv_;
  bool stopping_ = false;
  int spare_seq_ = 0;
  std::thread keeper_;
};

}  // namespace prescient::agent
