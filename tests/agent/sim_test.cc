// prescient-agent (the binary) against prescient-sim: the API side of the agent end to end.
// Exactly-once under two agents, kill -9 mid-run and restart, OOM and usage reported through the
// API, refusal of a run without allocation, the heartbeat Lease and the guest size. Needs root and
// cgroups (the agent refuses to run commands without limits) and the prescient-sim binary; each
// test skips with a message otherwise.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "api/constants.h"
#include "testing/cluster.h"

namespace prescient::agent {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using testing::WaitFor;
constexpr const char* kNs = "agents";

class AgentSimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string missing = testing::AgentPrerequisitesMissing(); !missing.empty()) GTEST_SKIP() << missing;
    testing::ClusterOptions co;
    co.scenario_file = testing::SourceDir() + "/tests/agent/testdata/agent-scenario.yaml";
    co.name = "agent-sim";
    auto cluster = testing::TestCluster::Start(co);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(*cluster);
    client_ = &cluster_->client();
    dir_ = cluster_->dir().string();
    shared_ = dir_ + "/shared";
    mkdir(shared_.c_str(), 0777);
    chmod(shared_.c_str(), 0777);
    parent_ = testing::CgroupParentName("agent-simtest");
    // The VMI must be running before an agent can read its size.
    Status ready = cluster_->WaitForVmis(kNs, {"vm-a"}, 20s);
    ASSERT_TRUE(ready.ok()) << ready.ToString();
  }
  void TearDown() override {
    agents_.clear();
    cluster_.reset();
    // Only ever touch this test's own parent group (never the hierarchy roots).
    for (const auto& child : testing::RemoveCgroupParent(parent_)) ADD_FAILURE() << "run cgroup left behind: " << child;
  }

  testing::AgentProcess* StartAgent(const std::string& name) {
    agents_.push_back(cluster_->Agent({.instance = "vm-a", .ns = kNs, .cgroup_parent = parent_, .name = name}));
    Status started = agents_.back()->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    return agents_.back().get();
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
    for (auto& a : agents_) all += a->LogTail();
    return all;
  }

  std::unique_ptr<testing::TestCluster> cluster_;
  kube::Client* client_ = nullptr;
  std::string dir_, shared_, parent_;
  std::vector<std::unique_ptr<testing::AgentProcess>> agents_;
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
    EXPECT_EQ(std::stoll(testing::ReadFileText(mem)), 2LL << 30);
    EXPECT_EQ(std::stoll(testing::ReadFileText("/sys/fs/cgroup/cpu/" + parent_ + "/cpu.cfs_quota_us")),
              2 * std::stoll(testing::ReadFileText("/sys/fs/cgroup/cpu/" + parent_ + "/cpu.cfs_period_us")));
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
  std::stringstream marker(testing::ReadFileText(shared_ + "/marker"));
  std::vector<std::string> ran;
  for (std::string line; std::getline(marker, line);) ran.push_back(line);
  std::sort(ran.begin(), ran.end());
  EXPECT_EQ(ran, names) << "every run ran exactly once across both agents";
}

TEST_F(AgentSimTest, KillDashNineMidRunThenRestartRunsOnceAndReportsTheExit) {
  testing::AgentProcess* a = StartAgent("a");
  Submit("crash", "echo x >> " + shared_ + "/marker; sleep 3; exit 4");
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(shared_ + "/marker"); }, 20s)) << Logs();
  a->Kill();
  EXPECT_EQ(Get("crash")["status"].value("phase", ""), "Running");
  StartAgent("a");  // same state dir: reattaches
  json s = WaitFinal("crash");
  EXPECT_EQ(s["status"].value("phase", ""), "Failed") << s["status"].dump(2) << Logs();
  EXPECT_EQ(s["status"]["result"]["reason"], "Error");
  EXPECT_EQ(s["status"]["result"]["exitCode"], 4) << "the shim's record carried the exit code across the crash";
  EXPECT_EQ(testing::ReadFileText(shared_ + "/marker"), "x\n") << "never ran twice";
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
