// The agent's Env (the LevelDB idea): every effect the run controller has on the world goes through
// one of these small interfaces, so the state machine runs in unit tests against fakes
// (fake_env.h) and in production against the Kubernetes client (kube_env.h) and the host's cgroups
// and processes (host_exec.h).
//
// Implementations must be thread-safe unless noted: the controller calls them from its loop
// thread, and shadow executions run on a helper thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/decision.h"
#include "agent/run.h"
#include "common/status.h"

namespace prescient::agent {

// The Kubernetes side: CommandRuns (status subresource), the VMI and the heartbeat Lease.
class RunApi {
 public:
  virtual ~RunApi() = default;
  virtual Result<nlohmann::json> GetRun(const std::string& ns, const std::string& name) = 0;
  // PUT …/commandruns/<name>/status with the object's metadata.resourceVersion; a stale version
  // fails with Code::kConflict. Returns the stored object.
  virtual Result<nlohmann::json> UpdateRunStatus(const nlohmann::json& obj) = 0;
  virtual Result<nlohmann::json> GetVmi(const std::string& ns, const std::string& name) = 0;
  virtual Result<nlohmann::json> GetLease(const std::string& ns, const std::string& name) = 0;
  virtual Result<nlohmann::json> CreateLease(const nlohmann::json& lease) = 0;
  virtual Result<nlohmann::json> UpdateLease(const nlohmann::json& lease) = 0;  // RV-guarded
};

// What the agent asks of the host to start one run.
struct LaunchSpec {
  std::string uid, ns, name;
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;
  std::string working_dir;
  Allocation limits;
};

struct Launched {
  int64_t shim_pid = 0;
  std::string cgroup;      // the run's cgroup (path relative to the hierarchy root, e.g. prescient/<uid>)
  std::string started_at;  // RFC 3339
  // Parts of the allocation this guest cannot enforce (no net_prio on cgroup v2, no io controller,
  // ...), one sentence each; reported in the LimitsEnforced condition.
  std::vector<std::string> unenforced;
};

struct DependencyCheck {
  Dependency dep;
  bool ok = false;
  double resolve_ms = 0;
  double connect_ms = 0;
  std::string error;
};

// One sample of a run's cgroup (cumulative counters; peaks as the kernel reports them).
struct Sample {
  double cpu_seconds = 0;
  int64_t memory_current = 0;
  int64_t memory_peak = 0;
  int64_t anon_current = 0;
  int64_t throttled_usec = 0;
  int64_t nr_throttled = 0;
  int64_t io_read_bytes = 0, io_write_bytes = 0;
  int64_t net_rx_bytes = 0, net_tx_bytes = 0;
  std::string network_scope;  // "cgroup" or "guest"
  int64_t oom_kills = 0;
  bool has_processes = true;  // false once the cgroup is empty
};

struct ShadowSpec {
  std::string uid;
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;
  std::string working_dir;
  std::chrono::seconds duration{10};
  bool allow_network = false;
};

// The host: cgroups, processes, sockets. Keyed by run UID (validated by the caller).
class ExecEnv {
 public:
  virtual ~ExecEnv() = default;
  // DNS + TCP connect to each dependency, timed; stops at the first failure.
  virtual std::vector<DependencyCheck> WarmUp(const std::vector<Dependency>& deps) = 0;
  // Creates the run's cgroup with `limits` and starts the command under a shim that outlives the
  // agent and records the exit in the state dir. The cgroup exists before the command can start
  // and is removed only by Cleanup: it is the launch mark recovery relies on (with the launch
  // record, written before the shim is told to start, not fsynced).
  virtual Result<Launched> Launch(const LaunchSpec& spec) = 0;
  // True once the launch record exists.
  virtual bool LaunchRecorded(const std::string& uid) = 0;
  virtual Result<Sample> SampleRun(const std::string& uid) = 0;
  virtual Status SetLimits(const std::string& uid, const Allocation& limits) = 0;
  // The shim's exit record, once the command has ended.
  virtual std::optional<ExitRecord> PollExit(const std::string& uid) = 0;
  virtual bool CgroupExists(const std::string& uid) = 0;
  // True while the shim or any process of the run's cgroup lives.
  virtual bool Alive(const std::string& uid, int64_t shim_pid) = 0;
  virtual Status Signal(const std::string& uid, int signal) = 0;
  // Remote endpoints ("host:port") the run's processes have connected to so far.
  virtual std::vector<std::string> Endpoints(const std::string& uid) = 0;
  virtual std::string OutputTail(const std::string& uid, size_t max_bytes) = 0;
  // Removes the cgroup, exit record and launch spec of a finished run (logs stay).
  virtual Status Cleanup(const std::string& uid) = 0;
  // Runs a throw-away shadow execution (blocking, for spec.duration).
  virtual Result<ShadowResult> Shadow(const ShadowSpec& spec) = 0;
  // Enforces the guest's size (from the VMI) on the parent cgroup of all runs.
  virtual Status SetGuestCapacity(const Allocation& capacity) = 0;
};

// Counters and histograms the controller feeds (metrics.h implements them with prometheus-cpp).
class AgentMetrics {
 public:
  virtual ~AgentMetrics() = default;
  virtual void RunStarted() {}
  virtual void RunFinished(const std::string& /*reason*/) {}
  virtual void RunRefused() {}
  virtual void ClaimConflict() {}
  virtual void StatusWrite(double /*seconds*/, bool /*ok*/) {}
  virtual void AllocatedToExec(double /*seconds*/) {}
  virtual void SamplingCpu(double /*seconds*/) {}
  virtual void ActiveRuns(int /*n*/) {}
  virtual void HeartbeatRenewed(double /*unix_seconds*/) {}
};

}  // namespace prescient::agent
