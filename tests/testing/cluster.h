// Test helper: a small Prescient cluster for integration tests and benchmarks — a real prescient-sim
// started with a scenario, the CommandRun CRDs applied, a REST client, a temporary directory, and
// factories for prescient-operator and prescient-agent processes wired to that sim. The processes it
// makes belong to the caller; destroy them before the cluster (declare them after it).
//
//   testing::ClusterOptions o;
//   o.scenario = kScenario;
//   auto cluster = testing::TestCluster::Start(o);
//   ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
//   ASSERT_TRUE((*cluster)->WaitForVmis("ns", {"vm1"}, 30s).ok());
//   auto op = (*cluster)->Operator({"--workers", "2"});
//   ASSERT_TRUE(op->Start().ok());
//
// Thread-compatible: one test thread drives one TestCluster.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "kube/client.h"
#include "testing/child_process.h"
#include "testing/sim_process.h"

namespace prescient::testing {

// Polls pred every `every` until it holds or `timeout` passes; the last answer after the deadline.
bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
             std::chrono::milliseconds every = std::chrono::milliseconds(50));

// The source tree this build came from (for crds/ and test data).
std::string SourceDir();

struct ClusterOptions {
  std::string scenario;       // scenario YAML text (written to <dir>/scenario.yaml), or
  std::string scenario_file;  // a scenario file; neither: an empty cluster
  double time_scale = 0;      // --time-scale; 0 = the sim's default
  std::vector<std::string> sim_args;
  std::string name = "cluster";  // prefix of the temporary directory
};

class TestCluster {
 public:
  // Starts the sim, applies crds/ with kubectl and connects a client. Errors say which step failed.
  static Result<std::unique_ptr<TestCluster>> Start(const ClusterOptions& options);
  // Stops the sim; removes the directory unless keep_dir (e.g. the test failed: logs stay there) or
  // $PRESCIENT_KEEP_TEST_DIRS is set.
  ~TestCluster();
  TestCluster(const TestCluster&) = delete;
  TestCluster& operator=(const TestCluster&) = delete;

  SimProcess& sim() { return *sim_; }
  kube::Client& client() { return *client_; }
  const std::string& kubeconfig() const { return sim_->kubeconfig(); }
  const std::filesystem::path& dir() const { return dir_; }  // mode 0755: agents' commands read below it
  void set_keep_dir(bool keep) { keep_dir_ = keep; }

  // Waits until CommandRuns can be listed in ns (the CRDs are served) and every named VMI there is
  // Running and has reported its size (status.currentCPUTopology). The error says which was not.
  Status WaitForVmis(const std::string& ns, const std::vector<std::string>& vmis, std::chrono::milliseconds timeout);

  // prescient-operator for this cluster (not started): --kubeconfig, no metrics, health probes on a
  // free loopback port, then `args`; its log is <dir>/<name>.log.
  std::unique_ptr<OperatorProcess> Operator(const std::vector<std::string>& args, const std::string& name = "operator");

  // Every member has a default, so designated initializers may name only some.
  struct AgentFlags {
    std::string instance{};  // the VMI it acts as
    std::string ns{};
    std::string cgroup_parent{};  // see CgroupParentName
    std::string name = "agent";  // state in <dir>/<name>-state, logs in <dir>/<name>-logs and <dir>/<name>.log
    std::string metrics_bind_address = "0";
    std::string sample_interval = "200ms";
    std::string report_interval = "1s";
    std::vector<std::string> args{};  // any further flags
  };
  // prescient-agent for this cluster (not started). The same name again reuses the state dir (a
  // restart after a crash) and appends to the same log.
  std::unique_ptr<AgentProcess> Agent(const AgentFlags& flags);

 private:
  TestCluster() = default;

  std::filesystem::path dir_;
  bool keep_dir_ = false;
  std::unique_ptr<SimProcess> sim_;
  std::unique_ptr<kube::Client> client_;
};

// Why prescient-agent cannot run commands here, or "" when it can: it needs root, the agent and
// sim binaries, and a cgroup hierarchy under /sys/fs/cgroup.
std::string AgentPrerequisitesMissing();

// A cgroup parent name of this process's own ("prescient-<what>-<pid>"), so tests never share one.
std::string CgroupParentName(const std::string& what);

// Removes a test's own parent cgroup (never a hierarchy root) from every hierarchy, first any child
// groups left in it; returns the paths of those children (runs that were not cleaned up).
std::vector<std::string> RemoveCgroupParent(const std::string& parent);

}  // namespace prescient::testing
