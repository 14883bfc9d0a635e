// Preemption of a running run, end to end (label integration): prescient-sim, prescient-operator
// and a real prescient-agent for the VM. A low-priority run that allows preemption while running
// holds most of the VM; a high-priority run that needs the room arrives. The operator asks the
// agent to stop the low run (status.stopRequest), the agent SIGTERMs it and reports phase
// Preempted, the operator re-queues it as a fresh attempt (status.preemptions 1), places the high
// run in the freed room, and the low run runs again and completes once the high run is done.
// Needs root and cgroups (the agent runs commands under cgroup limits) and the three binaries;
// skips with a message otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "api/constants.h"
#include "testing/cluster.h"

namespace prescient {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using testing::WaitFor;

constexpr const char* kNs = "preempt";

// 2 CPUs and 2 GiB that cannot grow (maxSockets = sockets, maxGuest = guest): after the guest's 250m/256Mi, the
// low run's 1200m/1Gi leaves no room for the high run's 1/1Gi.
const char* kScenario = R"(
nodes:
  - name: node-1
    capacity: {cpu: "8", memory: 16Gi, pods: "110"}
namespaces:
  - name: preempt
virtualMachines:
  - name: vm1
    namespace: preempt
    cpu: {sockets: 2, cores: 1, threads: 1, maxSockets: 2}
    memory: {guest: 2Gi, maxGuest: 2Gi}
kubevirt:
  vmiStartDelay: 100ms
)";

json NewRun(const std::string& name, const std::string& command, int priority, const std::string& cpu, bool preemptible) {
  json j = {{"apiVersion", api::kApiVersion},
            {"kind", "CommandRun"},
            {"metadata", {{"name", name}, {"namespace", kNs}}},
            {"spec",
             {{"command", command},
              {"target", {{"vmName", "vm1"}}},
              {"priority", priority},
              {"resources", {{"min", {{"cpu", cpu}, {"memory", "1Gi"}}}, {"max", {{"cpu", cpu}, {"memory", "1Gi"}}}}}}}};
  if (preemptible) j["spec"]["allowPreemptionWhileRunning"] = true;
  return j;
}

class OperatorPreemptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string missing = testing::AgentPrerequisitesMissing(); !missing.empty()) GTEST_SKIP() << missing;
    if (access(testing::OperatorBinaryPath().c_str(), X_OK) != 0) GTEST_SKIP() << "needs " << testing::OperatorBinaryPath();
    testing::ClusterOptions co;
    co.scenario = kScenario;
    co.name = "preempt";
    auto cluster = testing::TestCluster::Start(co);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(*cluster);
    client_ = &cluster_->client();
    Status ready = cluster_->WaitForVmis(kNs, {"vm1"}, 30s);
    ASSERT_TRUE(ready.ok()) << ready.ToString();
    parent_ = testing::CgroupParentName("preempttest");
    agent_ = cluster_->Agent({.instance = "vm1", .ns = kNs, .cgroup_parent = parent_});
    Status started = agent_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    op_ = cluster_->Operator({});
    started = op_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    // The low run's first attempt leaves this mark and runs long; its second attempt sees the mark
    // and finishes at once. /tmp: the agent runs commands as an unprivileged user.
    marker_ = "/tmp/prescient-preempt-test-" + std::to_string(getpid());
    std::filesystem::remove(marker_);
  }
  void TearDown() override {
    op_.reset();
    agent_.reset();
    if (cluster_) cluster_->set_keep_dir(HasFailure());
    cluster_.reset();
    if (!parent_.empty()) testing::RemoveCgroupParent(parent_);
    if (!marker_.empty()) std::filesystem::remove(marker_);
  }
  json Get(const std::string& name) {
    auto r = client_->Get(api::kCommandRuns, kNs, name);
    return r.ok() ? *r : json::object();
  }
  std::string Phase(const std::string& name) { return Get(name).value(json::json_pointer("/status/phase"), std::string()); }
  std::string Diag() {
    return "operator log:\n" + op_->LogTail() + "\nagent log:\n" + agent_->LogTail() + "\nlow:\n" + Get("low").dump() +
           "\nhigh:\n" + Get("high").dump();
  }
  // The reasons of the Events recorded for run `name`.
  std::set<std::string> EventReasons(const std::string& name) {
    std::set<std::string> out;
    auto list = client_->List(kube::resources::kEvent, kNs, {});
    if (!list.ok()) return out;
    for (const auto& e : list->items)
      if (e.value(json::json_pointer("/involvedObject/name"), std::string()) == name) out.insert(e.value("reason", ""));
    return out;
  }

  std::string parent_, marker_;
  std::unique_ptr<testing::TestCluster> cluster_;
  kube::Client* client_ = nullptr;
  std::unique_ptr<testing::AgentProcess> agent_;
  std::unique_ptr<testing::OperatorProcess> op_;
};

TEST_F(OperatorPreemptionTest, HighPriorityRunStopsARunningPreemptibleRunWhichIsRequeuedAndCompletes) {
  std::string low_cmd = "if [ -e " + marker_ + " ]; then echo second attempt; else touch " + marker_ + " && sleep 120; fi";
  ASSERT_TRUE(client_->Create(api::kCommandRuns, NewRun("low", low_cmd, 1, "1200m", true)).ok());
  ASSERT_TRUE(WaitFor([&] { return Phase("low") == "Running" && std::filesystem::exists(marker_); }, 30s)) << Diag();

  ASSERT_TRUE(client_->Create(api::kCommandRuns, NewRun("high", "sleep 1", 1000, "1", false)).ok());
  // The low run's first attempt is stopped and re-queued; the high run gets its room and finishes.
  ASSERT_TRUE(WaitFor([&] { return Get("low").value(json::json_pointer("/status/preemptions"), 0) >= 1; }, 60s)) << Diag();
  ASSERT_TRUE(WaitFor([&] { return Phase("high") == "Succeeded"; }, 60s)) << Diag();
  // Then the low run's second attempt runs and completes.
  ASSERT_TRUE(WaitFor([&] { return Phase("low") == "Succeeded"; }, 60s)) << Diag();

  json low = Get("low");
  EXPECT_EQ(low["status"].value("preemptions", 0), 1) << "stopped once, run again once";
  EXPECT_EQ(low["status"]["result"].value("reason", ""), "Completed");
  EXPECT_NE(low["status"]["result"].value("outputTail", "").find("second attempt"), std::string::npos)
      << low["status"]["result"].dump();
  EXPECT_FALSE(low["status"].contains("stopRequest"));
  json high = Get("high");
  EXPECT_EQ(high["status"]["result"].value("reason", ""), "Completed");
  // The high run was placed while the low run was waiting again, not next to it: the low run's
  // second attempt started after the high run had finished.
  EXPECT_GE(low["status"]["result"].value("startedAt", ""), high["status"]["result"].value("finishedAt", ""))
      << "low: " << low["status"]["result"].dump() << "\nhigh: " << high["status"]["result"].dump();
  // Events on both runs.
  std::set<std::string> low_events = EventReasons("low"), high_events = EventReasons("high");
  EXPECT_TRUE(low_events.count("StopRequested")) << Diag();
  EXPECT_TRUE(low_events.count("Preempted")) << Diag();
  EXPECT_TRUE(high_events.count("PreemptingRunning")) << Diag();
}

TEST_F(OperatorPreemptionTest, ARunningRunThatDoesNotAllowItIsNotStopped) {
  ASSERT_TRUE(client_->Create(api::kCommandRuns, NewRun("low", "sleep 4", 1, "1200m", false)).ok());
  ASSERT_TRUE(WaitFor([&] { return Phase("low") == "Running"; }, 30s)) << Diag();
  ASSERT_TRUE(client_->Create(api::kCommandRuns, NewRun("high", "sleep 1", 1000, "1", false)).ok());
  // The high run waits for the low run to finish on its own.
  ASSERT_TRUE(WaitFor([&] { return Phase("high") == "Succeeded"; }, 60s)) << Diag();
  json low = Get("low");
  EXPECT_EQ(Phase("low"), "Succeeded");
  EXPECT_EQ(low["status"].value("preemptions", 0), 0);
  EXPECT_GE(Get("high")["status"]["result"].value("startedAt", ""), low["status"]["result"].value("finishedAt", ""));
}

}  // namespace
}  // namespace prescient
