// Shadow runs end to end (label integration): prescient-sim, prescient-operator and a real
// prescient-agent for the VM. A CommandRun with spec.shadow.enabled goes Shadowing on the VM, the
// agent runs the command in its sandbox for spec.shadow.durationSeconds and reports the early usage,
// the operator refines the prediction from it (never below the observed peak x 1.2), places the run,
// and the agent then runs it for real. Needs root and cgroups (the agent runs commands under cgroup
// limits) and the three binaries; skips with a message otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <thread>

#include "api/constants.h"
#include "common/quantity.h"
#include "kube/config.h"
#include "kube/rest_client.h"
#include "operator_process.h"
#include "testing/sim_process.h"

namespace prescient {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using testing::OperatorProcess;
using testing::SimProcess;

const kube::ResourceType kVmi{"kubevirt.io", "v1", "virtualmachineinstances", "VirtualMachineInstance", true};
constexpr const char* kNs = "shadow";

const char* kScenario = R"(
nodes:
  - name: node-1
    capacity: {cpu: "8", memory: 16Gi, pods: "110"}
namespaces:
  - name: shadow
virtualMachines:
  - name: vm1
    namespace: shadow
    cpu: {sockets: 2, cores: 1, threads: 1, maxSockets: 4}
    memory: {guest: 2Gi, maxGuest: 4Gi}
kubevirt:
  vmiStartDelay: 100ms
  migrationDelay: 200ms
)";

bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

// One prescient-agent process (SIGTERM lets it drain; SIGKILL if it hangs).
class AgentProcess {
 public:
  AgentProcess(std::vector<std::string> argv, std::string log) : argv_(std::move(argv)), log_(std::move(log)) {}
  ~AgentProcess() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 400; ++i) {
      int st;
      if (waitpid(pid_, &st, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(50ms);
    }
    kill(pid_, SIGKILL);
    int st;
    waitpid(pid_, &st, 0);
  }
  bool Start() {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : argv_) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    return pid_ > 0;
  }
  std::string LogTail(size_t max = 3000) const {
    std::ifstream in(log_);
    std::stringstream b;
    b << in.rdbuf();
    std::string s = b.str();
    return s.size() > max ? s.substr(s.size() - max) : s;
  }

 private:
  std::vector<std::string> argv_;
  std::string log_;
  pid_t pid_ = -1;
};

int64_t MemoryOf(const json& obj) {
  auto v = ParseBytes(obj.value("memory", "0"));
  return v.ok() ? *v : 0;
}

class OperatorShadowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: the agent runs the shadow and the run under cgroup limits";
    const std::string agent = std::string(PRESCIENT_BIN_DIR) + "/prescient-agent";
    if (access(testing::SimBinaryPath().c_str(), X_OK) != 0 || access(testing::OperatorBinaryPath().c_str(), X_OK) != 0 ||
        access(agent.c_str(), X_OK) != 0) {
      GTEST_SKIP() << "needs prescient-sim, prescient-operator and prescient-agent built (" << PRESCIENT_BIN_DIR << ")";
    }
    if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) != 0 &&
        access("/sys/fs/cgroup/cgroup.controllers", F_OK) != 0) {
      GTEST_SKIP() << "no usable cgroup hierarchy at /sys/fs/cgroup";
    }
    dir_ = std::filesystem::temp_directory_path() / ("prescient-shadow-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    chmod(dir_.c_str(), 0755);
    std::ofstream(dir_ / "scenario.yaml") << kScenario;
    testing::SimOptions so;
    so.scenario = (dir_ / "scenario.yaml").string();
    auto sim = SimProcess::Start(so);
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    sim_ = std::move(*sim);
    auto crds = testing::RunKubectl(sim_->kubeconfig(), {"apply", "-f", std::string(PRESCIENT_SOURCE_DIR) + "/crds/"});
    ASSERT_EQ(crds.exit_code, 0) << crds.ToString();
    auto cfg = kube::LoadKubeconfig({sim_->kubeconfig()}, "", true);
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    auto client = kube::NewRestClient(*cfg);
    ASSERT_TRUE(client.ok());
    client_ = std::move(*client);
    ASSERT_TRUE(WaitFor([&] { return client_->List(api::kCommandRuns, kNs, {}).ok(); }, 20s));
    ASSERT_TRUE(WaitFor([&] {
      auto vmi = client_->Get(kVmi, kNs, "vm1");
      return vmi.ok() && vmi->value(json::json_pointer("/status/phase"), std::string()) == "Running" &&
             vmi->contains(json::json_pointer("/status/currentCPUTopology"));
    }, 30s)) << sim_->LogTail();
    parent_ = "prescient-shadowtest-" + std::to_string(getpid());
    agent_ = std::make_unique<AgentProcess>(
        std::vector<std::string>{agent, "--kubeconfig", sim_->kubeconfig(), "--instance", "vm1", "--namespace", kNs,
                                 "--state-dir", (dir_ / "agent-state").string(), "--log-dir", (dir_ / "agent-logs").string(),
                                 "--cgroup-parent", parent_, "--metrics-bind-address", "0", "--sample-interval", "200ms",
                                 "--report-interval", "1s"},
        (dir_ / "agent.log").string());
    ASSERT_TRUE(agent_->Start());
    op_ = std::make_unique<OperatorProcess>(
        std::vector<std::string>{"--kubeconfig", sim_->kubeconfig(), "--metrics-bind-address", "0",
                                 "--health-probe-bind-address", "127.0.0.1:0", "--history-dir", (dir_ / "history").string()},
        (dir_ / "operator.log").string());
    ASSERT_TRUE(op_->Start());
  }
  void TearDown() override {
    op_.reset();
    agent_.reset();
    sim_.reset();
    // Only this test's own parent group, never the hierarchy roots.
    for (const char* h : {"memory", "cpu,cpuacct", "cpu", "cpuacct", "blkio", "pids", ""}) {
      if (parent_.empty()) break;
      std::string p = std::string("/sys/fs/cgroup/") + h + "/" + parent_;
      std::error_code ec;
      for (auto& child : std::filesystem::directory_iterator(p, ec))
        if (child.is_directory()) rmdir(child.path().c_str());
      rmdir(p.c_str());
    }
    if (!HasFailure() && !dir_.empty()) std::filesystem::remove_all(dir_);
  }
  json Get(const std::string& name) {
    auto r = client_->Get(api::kCommandRuns, kNs, name);
    return r.ok() ? *r : json::object();
  }
  std::string Phase(const std::string& name) {
    return Get(name).value(json::json_pointer("/status/phase"), std::string());
  }
  std::string Diag() {
    return "operator log:\n" + op_->LogTail() + "\nagent log:\n" + agent_->LogTail() + "\nrun:\n" + Get("grower").dump();
  }

  std::filesystem::path dir_;
  std::string parent_;
  std::unique_ptr<SimProcess> sim_;
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<AgentProcess> agent_;
  std::unique_ptr<OperatorProcess> op_;
};

const json* Condition(const json& run, const std::string& type) {
  if (!run.contains("status") || !run["status"].contains("conditions")) return nullptr;
  for (const auto& c : run["status"]["conditions"])
    if (c.value("type", "") == type) return &c;
  return nullptr;
}

TEST_F(OperatorShadowTest, ShadowRunBoundsThePredictionBeforePlacement) {
  // `tail -c 300M` keeps 300 MiB in memory, which a model reading the command line easily misses
  // (the default model predicts about 12 MiB): unrefined, the real run would be OOM-killed. The
  // sleep keeps it running past the 3 s shadow, so the shadow is cut off, as with most commands.
  json run = {{"apiVersion", api::kApiVersion},
              {"kind", "CommandRun"},
              {"metadata", {{"name", "grower"}, {"namespace", kNs}}},
              {"spec",
               {{"command", "head -c 300M /dev/zero | tail -c 300M | wc -c && sleep 4"},
                {"target", {{"vmName", "vm1"}}},
                {"shadow", {{"enabled", true}, {"durationSeconds", 3}}}}}};
  ASSERT_TRUE(client_->Create(api::kCommandRuns, run).ok());

  // 1. Shadowing on vm1: the operator labelled it for vm1's agent and asked for the shadow.
  bool saw_shadowing = WaitFor([&] { return Phase("grower") == "Shadowing"; }, 20s);
  // 2. The agent reported, the operator refined and placed; the agent ran it for real.
  ASSERT_TRUE(WaitFor([&] { return Phase("grower") == "Succeeded"; }, 60s)) << Diag();
  EXPECT_TRUE(saw_shadowing) << "the run never showed phase Shadowing";

  json j = Get("grower");
  const json& st = j["status"];
  ASSERT_TRUE(st.contains("shadow") && st["shadow"].contains("result")) << Diag();
  EXPECT_FALSE(st["shadow"].value("requested", true));
  const int64_t shadow_peak = st["shadow"]["result"]["usage"]["peaks"].value("memoryBytes", int64_t{0});
  EXPECT_GE(shadow_peak, 250LL << 20) << st["shadow"].dump();  // it saw the ~300 MiB

  const json* shadowed = Condition(j, "Shadowed");
  ASSERT_NE(shadowed, nullptr) << Diag();
  EXPECT_EQ(shadowed->value("status", ""), "True") << shadowed->dump();
  std::string reason = shadowed->value("reason", "");
  std::cout << "Shadowed: " << reason << ": " << shadowed->value("message", "") << "\n";
  EXPECT_TRUE(reason == "ShadowRefined" || reason == "ShadowConfirmed") << shadowed->dump();

  // The prediction the run was placed with is never below the shadow's peak x 1.2, and the
  // allocation follows it.
  auto pred_mem = MemoryOf(st["prediction"]);
  EXPECT_GE(pred_mem, static_cast<int64_t>(shadow_peak * 1.2)) << st["prediction"].dump();
  if (reason == "ShadowRefined") {
    EXPECT_EQ(st["prediction"].value("source", ""), "Shadow");
  }
  EXPECT_EQ(MemoryOf(st["allocation"]), pred_mem) << st["allocation"].dump();
  // The real run measured about what the shadow saw, and fit its allocation.
  EXPECT_GE(st["usage"]["peaks"].value("memoryBytes", int64_t{0}), 250LL << 20);
  EXPECT_FALSE(st["result"].value("oomKilled", false));
}

}  // namespace
}  // namespace prescient
