// Shadow runs end to end (label integration): prescient-sim, prescient-operator and a real
// prescient-agent for the VM. A CommandRun with spec.shadow.enabled goes Shadowing on the VM, the
// agent runs the command in its sandbox for spec.shadow.durationSeconds and reports the early usage,
// the operator refines the prediction from it (never below the observed peak x 1.2), places the run,
// and the agent then runs it for real. Needs root and cgroups (the agent runs commands under cgroup
// limits) and the three binaries; skips with a message otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <iostream>

#include "api/constants.h"
#include "common/quantity.h"
#include "testing/cluster.h"

namespace prescient {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using testing::WaitFor;

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

int64_t MemoryOf(const json& obj) {
  auto v = ParseBytes(obj.value("memory", "0"));
  return v.ok() ? *v : 0;
}

class OperatorShadowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string missing = testing::AgentPrerequisitesMissing(); !missing.empty()) GTEST_SKIP() << missing;
    if (access(testing::OperatorBinaryPath().c_str(), X_OK) != 0) GTEST_SKIP() << "needs " << testing::OperatorBinaryPath();
    testing::ClusterOptions co;
    co.scenario = kScenario;
    co.name = "shadow";
    auto cluster = testing::TestCluster::Start(co);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(*cluster);
    client_ = &cluster_->client();
    Status ready = cluster_->WaitForVmis(kNs, {"vm1"}, 30s);
    ASSERT_TRUE(ready.ok()) << ready.ToString();
    parent_ = testing::CgroupParentName("shadowtest");
    agent_ = cluster_->Agent({.instance = "vm1", .ns = kNs, .cgroup_parent = parent_});
    Status started = agent_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    op_ = cluster_->Operator({"--history-dir", (cluster_->dir() / "history").string()});
    started = op_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }
  void TearDown() override {
    op_.reset();
    agent_.reset();
    if (cluster_) cluster_->set_keep_dir(HasFailure());
    cluster_.reset();
    testing::RemoveCgroupParent(parent_);
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

  std::string parent_;
  std::unique_ptr<testing::TestCluster> cluster_;
  kube::Client* client_ = nullptr;
  std::unique_ptr<testing::AgentProcess> agent_;
  std::unique_ptr<testing::OperatorProcess> op_;
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
