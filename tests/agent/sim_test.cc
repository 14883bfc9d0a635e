// prescient-agent (the binary) against prescient-sim: the API side of the agent end to end.
// Exactly-once under two agents, kill -9 mid-run and restart, OOM and usage reported through the
// API, refusal of a run without allocation, the heartbeat Lease and the guest size. Needs root and
// cgroups (the agent refuses to run commands without limits) and the prescient-sim binary; each
// test skips with a message otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "api/constants.h"
#include "kube/config.h"
#include "kube/rest_client.h"
#include "testing/sim_process.h"

namespace prescient::agent {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const kube::ResourceType kVmi{"kubevirt.io", "v1", "virtualmachineinstances", "VirtualMachineInstance", true};
constexpr const char* kNs = "agents";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

// One prescient-agent process.
class AgentProcess {
 public:
  AgentProcess(std::vector<std::string> args, std::string log) : args_(std::move(args)), log_(std::move(log)) {}
  // SIGTERM drains (finishes a pending final report and its cleanup); SIGKILL if it hangs.
  ~AgentProcess() { Stop(); }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {
      int st;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Kill(SIGKILL);
  }
  bool Start() {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : args_) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    return pid_ > 0;
  }
  void Kill(int sig) {
    if (pid_ <= 0) return;
    kill(pid_, sig);
    int st;
    waitpid(pid_, &st, 0);
    pid_ = -1;
  }
  std::string Log() const { return ReadAll(log_); }

 private:
  std::vector<std::string> args_;
  std::string log_;
  pid_t pid_ = -1;
};

class AgentSimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    parent_.clear();
    if (geteuid() != 0) GTEST_SKIP() << "needs root: the agent creates cgroups for its commands";
    if (access(PRESCIENT_AGENT_BINARY, X_OK) != 0) GTEST_SKIP() << "prescient-agent not built";
    if (access(prescient::testing::SimBinaryPath().c_str(), X_OK) != 0)
      GTEST_SKIP() << "prescient-sim not built at " << prescient::testing::SimBinaryPath();
    if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) != 0 &&
        access("/sys/fs/cgroup/cgroup.controllers", F_OK) != 0)
      GTEST_SKIP() << "no usable cgroup hierarchy at /sys/fs/cgroup";
    prescient::testing::SimOptions so;
    so.scenario = "tests/agent/testdata/agent-scenario.yaml";
    auto sim = prescient::testing::SimProcess::Start(so);
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    sim_ = std::move(*sim);
    auto crds = prescient::testing::RunKubectl(sim_->kubeconfig(), {"apply", "-f", "crds/"});
    ASSERT_EQ(crds.exit_code, 0) << crds.ToString();
    auto cfg = kube::LoadKubeconfig({sim_->kubeconfig()}, "", true);
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    auto client = kube::NewRestClient(*cfg);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
    char tmpl[] = "/tmp/agent-sim-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    chmod(dir_.c_str(), 0755);
    shared_ = dir_ + "/shared";
    mkdir(shared_.c_str(), 0777);
    chmod(shared_.c_str(), 0777);
    parent_ = "prescient-agent-simtest-" + std::to_string(getpid());
    // The VMI must be running before an agent can read its size.
    ASSERT_TRUE(WaitFor([&] {
      auto vmi = client_->Get(kVmi, kNs, "vm-a");
      return vmi.ok() && (*vmi)["status"].contains("currentCPUTopology");
    }, 20s)) << "VMI vm-a never reported its size; sim log: " << sim_->LogTail();
  }
  void TearDown() override {
    agents_.clear();
    sim_.reset();
    // Only ever touch this test's own parent group (never the hierarchy roots).
    for (const char* h : {"memory", "cpu,cpuacct", "cpu", "cpuacct", "blkio", "pids", ""}) {
      if (parent_.empty()) break;
      std::string p = std::string("/sys/fs/cgroup/") + h + "/" + parent_;
      std::error_code ec;
      for (auto& child : std::filesystem::directory_iterator(p, ec))
        if (child.is_directory()) {
          ADD_FAILURE() << "run cgroup left behind: " << child.path();
          rmdir(child.path().c_str());
        }
      rmdir(p.c_str());
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  AgentProcess* StartAgent(const std::string& state) {
    std::vector<std::string> args = {PRESCIENT_AGENT_BINARY, "--kubeconfig", sim_->kubeconfig(), "--instance", "vm-a",
                                     "--namespace", kNs, "--state-dir", dir_ + "/" + state, "--log-dir",
                                     dir_ + "/" + state + "-logs", "--cgroup-parent", parent_,
                                     "--metrics-bind-address", "0", "--sample-interval", "200ms",
                                     "--report-interval", "1s"};
    agents_.push_back(std::make_unique<AgentProcess>(args, dir_ + "/" + state + ".log"));
    EXPECT_TRUE(agents_.back()->Start());
    return agents_.back().get();
  }
  template <typename F>
  bool WaitFor(F pred, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return pred();
  }
  // Creates a run bound to vm-a and hands it to the agent the way the operator does.
  void Submit(const std::string& name, const std::string& command, const std::string& memory = "256Mi",
              bool with_allocation = true) {
    json run = {{"apiVersion", api::kApiVersion},
                {"kind", "CommandRun"},
                {"metadata", {{"name", name}, {"namespace", kNs}, {"labels", {{api::kInstanceLabel, "vm-a"}}}}},
                {"spec", {{"command", command}, {"target", {{"vmName", "vm-a"}}}}}};
    auto created = client_->Create(api::kCommandRuns, run);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    json status = {{"phase", "Allocated"}};
    if (with_allocation) status["allocation"] = {{"instanceID", "vm-a"}, {"cpuCores", "1"}, {"memory", memory}};
    kube::PatchOptions po;
    po.subresource = "status";
    auto patched = client_->Patch(api::kCommandRuns, kNs, name, kube::PatchType::kMerge, {{"status", status}}, po);
    ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  }
  json Get(const std::string& name) {
    auto r = client_->Get(api::kCommandRuns, kNs, name);
    return r.ok() ? *r : json::object();
  }
  json WaitFinal(const std::string& name, std::chrono::seconds limit = 30s) {
    WaitFor([&] {
      std::string p = Get(name)["status"].value("phase", "");
      return p == "Succeeded" || p == "Failed";
    }, limit);
    return Get(name);
  }
  std::string Logs() {
    std::string all;
    for (auto& a : agents_) all += a->Log().substr(a->Log().size() > 3000 ? a->Log().size() - 3000 : 0);
    return all;
  }

  std::unique_ptr<prescient::testing::SimProcess> sim_;
  std::unique_ptr<kube::Client> client_;
  std::string dir_, shared_, parent_;
  std::vector<std::unique_ptr<AgentProcess>> agents_;
};

TEST_F(AgentSimTest, UsageLeaseAndGuestSizeThroughTheApi) {
  StartAgent("a");
  Submit("usage", "echo begin; python3 -c 'a = bytearray(60 << 20); import time; time.sleep(1)'");
  json s = WaitFinal("usage");
  ASSERT_EQ(s["status"].value("phase", ""), "Succeeded") << s["status"].dump(2) << Logs();
  EXPECT_EQ(s["status"]["result"]["exitCode"], 0);
  EXPECT_EQ(s["status"]["result"]["outputTail"], "begin\n");
  EXPECT_GE(s["status"]["usage"]["peaks"]["anonMemoryBytes"].get<int64_t>(), 60LL << 20) << s["status"].dump(2);
  EXPECT_GT(s["status"]["usage"]["totals"]["cpuSeconds"].get<double>(), 0.0);
  EXPECT_EQ(s["status"]["agent"]["instance"], "vm-a");
  auto lease = client_->Get(kube::resources::kLease, kNs, "prescient-agent-vm-a");
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "vm-a");
  // The VMI's 2 sockets × 2Gi became the parent cgroup's limits (cgroup v1 layout on this machine).
  std::string mem = "/sys/fs/cgroup/memory/" + parent_ + "/memory.limit_in_bytes";
  if (access(mem.c_str(), F_OK) == 0) {
    EXPECT_EQ(std::stoll(ReadAll(mem)), 2LL << 30);
    EXPECT_EQ(std::stoll(ReadAll("/sys/fs/cgroup/cpu/" + parent_ + "/cpu.cfs_quota_us")),
              2 * std::stoll(ReadAll("/sys/fs/cgroup/cpu/" + parent_ + "/cpu.cfs_period_us")));
  }
}

TEST_F(AgentSimTest, ExactlyOnceUnderTwoAgentsForOneInstance) {
  StartAgent("a");
  StartAgent("b");
  std::vector<std::string> names;
  for (int i = 0; i < 6; ++i) names.push_back("once-" + std::to_string(i));
  for (auto& n : names) Submit(n, "echo $PRESCIENT_RUN_NAME >> " + shared_ + "/marker");
  std::set<int64_t> claimers;
  for (auto& n : names) {
    json s = WaitFinal(n);
    EXPECT_EQ(s["status"].value("phase", ""), "Succeeded") << n << ": " << s["status"].dump(2) << Logs();
    claimers.insert(s["status"]["agent"].value("pid", int64_t{0}));
  }
  std::stringstream marker(ReadAll(shared_ + "/marker"));
  std::vector<std::string> ran;
  for (std::string line; std::getline(marker, line);) ran.push_back(line);
  std::sort(ran.begin(), ran.end());
  EXPECT_EQ(ran, names) << "every run ran exactly once across both agents";
}

TEST_F(AgentSimTest, KillDashNineMidRunThenRestartRunsOnceAndReportsTheExit) {
  AgentProcess* a = StartAgent("a");
  Submit("crash", "echo x >> " + shared_ + "/marker; sleep 3; exit 4");
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(shared_ + "/marker"); }, 20s)) << Logs();
  a->Kill(SIGKILL);
  EXPECT_EQ(Get("crash")["status"].value("phase", ""), "Running");
  StartAgent("a");  // same state dir: reattaches
  json s = WaitFinal("crash");
  EXPECT_EQ(s["status"].value("phase", ""), "Failed") << s["status"].dump(2) << Logs();
  EXPECT_EQ(s["status"]["result"]["reason"], "Error");
  EXPECT_EQ(s["status"]["result"]["exitCode"], 4) << "the shim's record carried the exit code across the crash";
  EXPECT_EQ(ReadAll(shared_ + "/marker"), "x\n") << "never ran twice";
}

TEST_F(AgentSimTest, OomKillIsReportedThroughTheApi) {
  StartAgent("a");
  Submit("oom", "python3 -c 'a = bytearray(300 << 20)'", "64Mi");
  json s = WaitFinal("oom");
  EXPECT_EQ(s["status"].value("phase", ""), "Failed") << s["status"].dump(2);
  EXPECT_EQ(s["status"]["result"]["reason"], "OOMKilled") << s["status"].dump(2);
  EXPECT_EQ(s["status"]["result"]["oomKilled"], true);
}

TEST_F(AgentSimTest, RunWithoutAllocationIsRefused) {
  StartAgent("a");
  Submit("noalloc", "echo should-not-run >> " + shared_ + "/marker", "", false);
  json s = WaitFinal("noalloc");
  EXPECT_EQ(s["status"].value("phase", ""), "Failed") << s["status"].dump(2);
  EXPECT_EQ(s["status"]["result"]["reason"], "Refused");
  EXPECT_FALSE(std::filesystem::exists(shared_ + "/marker"));
}

}  // namespace
}  // namespace prescient::agent
