// prescient-operator (the binary) against prescient-sim (label integration): each test starts a sim
// with a small scenario and a large --time-scale, applies the CRDs, starts the operator and drives
// it through the API. No agents run here (tests/e2e does that), so bound runs stay Allocated.
// Waits poll with bounded deadlines; nothing sleeps to wait for something that can be awaited.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "api/constants.h"
#include "common/clock.h"
#include "common/quantity.h"
#include "testing/cluster.h"

namespace prescient {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using testing::OperatorProcess;
using testing::WaitFor;

const kube::ResourceType kVmi{"kubevirt.io", "v1", "virtualmachineinstances", "VirtualMachineInstance", true};
const kube::ResourceType kVm{"kubevirt.io", "v1", "virtualmachines", "VirtualMachine", true};
const kube::ResourceType kQuota{"", "v1", "resourcequotas", "ResourceQuota", true};
const kube::ResourceType kPR{"autoscaling.x-k8s.io", "v1", "provisioningrequests", "ProvisioningRequest", true};
const kube::ResourceType kEvents{"", "v1", "events", "Event", true};
constexpr const char* kNs = "t";

// One node with room, an owned quota, one VM that can grow, one that cannot; a node group.
const char* kScenario = R"(
nodes:
  - name: node-1
    capacity: {cpu: "8", memory: 12Gi, pods: "110"}
nodeGroups:
  - name: burst
    template:
      capacity: {cpu: "8", memory: 32Gi, pods: "110"}
    minSize: 0
    maxSize: 2
    scaleUpDelay: 30s
namespaces:
  - name: t
    resourceQuotas:
      - name: prescient
        hard: {requests.cpu: "8", requests.memory: 6Gi}
  - name: other
virtualMachines:
  - name: vm1
    namespace: t
    cpu: {sockets: 1, cores: 2, threads: 1, maxSockets: 4}
    memory: {guest: 2Gi, maxGuest: 16Gi}
  - name: fixed
    namespace: t
    cpu: {sockets: 1, cores: 1, threads: 1, maxSockets: 1}
    memory: {guest: 1Gi, maxGuest: 1Gi}
  - name: elsewhere
    namespace: other
    cpu: {sockets: 1, cores: 1, threads: 1}
    memory: {guest: 1Gi}
kubevirt:
  vmiStartDelay: 5s
  migrationDelay: 10s
)";

json RunObj(const std::string& name, const std::string& vm, const std::string& cpu, const std::string& mem,
         int priority = 0) {
  json j = {{"apiVersion", "prescient.dev/v1alpha1"},
            {"kind", "CommandRun"},
            {"metadata", {{"name", name}, {"namespace", kNs}}},
            {"spec",
             {{"command", "echo " + name},
              {"target", {{"vmName", vm}}},
              {"resources", {{"min", {{"cpu", cpu}, {"memory", mem}}}, {"max", {{"cpu", cpu}, {"memory", mem}}}}}}}};
  if (priority) j["spec"]["priority"] = priority;
  return j;
}

class OperatorSimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(testing::SimBinaryPath().c_str(), X_OK) != 0 || access(testing::OperatorBinaryPath().c_str(), X_OK) != 0) {
      GTEST_SKIP() << "needs prescient-sim and prescient-operator built (" << testing::SimBinaryPath() << ", "
                   << testing::OperatorBinaryPath() << ")";
    }
    testing::ClusterOptions co;
    co.scenario = kScenario;
    co.time_scale = 50;
    co.name = std::string("op-") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    auto cluster = testing::TestCluster::Start(co);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(*cluster);
    sim_ = &cluster_->sim();
    client_ = &cluster_->client();
    dir_ = cluster_->dir();
    std::ofstream(dir_ / "policy.yaml") << "memoryStep: 256Mi\n";
    Status ready = cluster_->WaitForVmis(kNs, {"vm1", "fixed"}, 30s);
    ASSERT_TRUE(ready.ok()) << ready.ToString();
    StartOperator();
  }
  void TearDown() override {
    op_.reset();
    if (cluster_) cluster_->set_keep_dir(HasFailure());
  }
  void StartOperator() {
    op_ = cluster_->Operator({"--history-dir", (dir_ / "history").string(), "--config", (dir_ / "policy.yaml").string(),
                              "--workers", "2"});
    Status started = op_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }
  void Create(const json& obj) {
    auto r = client_->Create(api::kCommandRuns, obj);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  json Get(const std::string& name) {
    auto r = client_->Get(api::kCommandRuns, kNs, name);
    return r.ok() ? *r : json::object();
  }
  std::string Phase(const std::string& name) {
    json j = Get(name);
    return j.contains("status") ? j["status"].value("phase", "") : "";
  }
  bool WaitPhase(const std::string& name, const std::string& phase, std::chrono::milliseconds t = 20s) {
    return WaitFor([&] { return Phase(name) == phase; }, t);
  }
  // Allocated and bound: the operator writes status (phase Allocated) first and the instance label
  // right after, so a reader can see the one without the other for a moment.
  bool WaitBound(const std::string& name, std::chrono::milliseconds t = 20s) {
    return WaitFor([&] {
      json j = Get(name);
      return j.contains("status") && j["status"].value("phase", "") == "Allocated" &&
             !j.value(json::json_pointer("/metadata/labels/prescient.dev~1instance"), std::string()).empty();
    }, t);
  }
  bool HasEvent(const std::string& name, const std::string& reason) {
    auto l = client_->List(kEvents, kNs, {});
    if (!l.ok()) return false;
    for (const auto& e : l->items) {
      if (e["involvedObject"].value("name", "") == name && e.value("reason", "") == reason) return true;
    }
    return false;
  }
  std::string Diag() { return "operator log:\n" + op_->LogTail() + "\nsim log:\n" + sim_->LogTail(1500); }

  std::unique_ptr<testing::TestCluster> cluster_;
  testing::SimProcess* sim_ = nullptr;
  kube::Client* client_ = nullptr;
  std::filesystem::path dir_;
  std::unique_ptr<OperatorProcess> op_;
};

TEST_F(OperatorSimTest, SmallCommandFitsAndIsBound) {
  Create(RunObj("small", "vm1", "500m", "256Mi"));
  ASSERT_TRUE(WaitBound("small")) << Diag();
  json j = Get("small");
  // Read through JSON pointers so a missing field fails with the object printed, not an exception.
  auto at = [&](const char* ptr) { return j.value(json::json_pointer(ptr), std::string()); };
  EXPECT_EQ(at("/metadata/labels/prescient.dev~1instance"), "vm1") << j.dump();
  EXPECT_EQ(at("/status/allocation/instanceID"), "vm1") << j.dump();
  EXPECT_EQ(at("/status/allocation/cpuCores"), "500m") << j.dump();
  EXPECT_FALSE(at("/status/prediction/modelVersion").empty()) << j.dump();
  EXPECT_TRUE(WaitFor([&] { return HasEvent("small", "Allocated"); }, 5s));
}

TEST_F(OperatorSimTest, MemoryHeavyRunRaisesQuotaThenHotplugsThenBinds) {
  // vm1 has 2Gi (1792Mi usable); 3Gi needs a memory hotplug, and the migration's second pod does
  // not fit the 6Gi quota next to the first without a raise.
  Create(RunObj("heavy", "vm1", "500m", "3Gi"));
  ASSERT_TRUE(WaitBound("heavy", 30s)) << Diag();
  auto vmi = client_->Get(kVmi, kNs, "vm1");
  ASSERT_TRUE(vmi.ok());
  auto current = ParseBytes((*vmi)["status"]["memory"].value("guestCurrent", "0"));
  ASSERT_TRUE(current.ok());
  EXPECT_GE(*current, (3LL << 30) + (256LL << 20));
  auto q = client_->Get(kQuota, kNs, "prescient");
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE((*q)["metadata"]["annotations"].contains("prescient.dev/baseline-hard")) << q->dump();
  EXPECT_TRUE(HasEvent("heavy", "Hotplug"));
  EXPECT_EQ(Get("heavy")["metadata"]["labels"].value(api::kInstanceLabel, ""), "vm1");
  // The headroom raised for the migration is given back once it is over (not below what is used).
  EXPECT_TRUE(WaitFor([&] {
    auto qq = client_->Get(kQuota, kNs, "prescient");
    return qq.ok() && ParseBytes((*qq)["spec"]["hard"].value("requests.memory", "0")).value() <=
                          std::max<int64_t>(6LL << 30, ParseBytes((*qq)["status"]["used"].value("requests.memory", "0")).value());
  }, 10s)) << Diag();
}

TEST_F(OperatorSimTest, RunNeedingANewNodeAsksTheAutoscaler) {
  // 9Gi of guest memory: the grown virt-launcher pod fits no 12Gi node next to the others, and the
  // quota (owned) is raised for it; the burst group's 32Gi node is what makes it possible.
  Create(RunObj("big", "vm1", "500m", "11Gi"));
  ASSERT_TRUE(WaitFor([&] { return client_->Get(kPR, kNs, "prescient-big").ok(); }, 20s)) << Diag();
  EXPECT_TRUE(WaitFor([&] { return HasEvent("big", "ScalingUp"); }, 10s));
  ASSERT_TRUE(WaitPhase("big", "Allocated", 60s)) << Diag();
  auto nodes = client_->List(kube::resources::kNode, "", {});
  ASSERT_TRUE(nodes.ok());
  EXPECT_EQ(nodes->items.size(), 2u);
}

TEST_F(OperatorSimTest, BalloonModeAsksTheAutoscalerWithAPlaceholderPod) {
  op_.reset();
  std::ofstream(dir_ / "policy.yaml") << "memoryStep: 256Mi\nscalingMode: Balloon\n";
  StartOperator();
  // As RunNeedingANewNodeAsksTheAutoscaler, but the autoscaler is asked with a balloon pod (in the
  // operator's namespace, "default" here) instead of a ProvisioningRequest.
  Create(RunObj("big", "vm1", "500m", "11Gi"));
  ASSERT_TRUE(WaitFor([&] { return HasEvent("big", "ScalingUp"); }, 20s)) << Diag();
  ASSERT_TRUE(WaitBound("big", 60s)) << Diag();
  auto nodes = client_->List(kube::resources::kNode, "", {});
  ASSERT_TRUE(nodes.ok());
  EXPECT_EQ(nodes->items.size(), 2u) << "the autoscaler added a node for the balloon";
  EXPECT_FALSE(client_->Get(kPR, kNs, "prescient-big").ok()) << "no ProvisioningRequest in balloon mode";
  const kube::ResourceType kPriorityClass{"scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", false};
  auto pc = client_->Get(kPriorityClass, "", "prescient-balloon");
  ASSERT_TRUE(pc.ok()) << pc.status().ToString();
  EXPECT_EQ((*pc).value("value", 0), -5);
  // Placed: the balloon is gone.
  std::string uid = Get("big")["metadata"].value("uid", "");
  EXPECT_TRUE(WaitFor([&] {
    auto p = client_->Get(kube::resources::kPod, "default", "prescient-balloon-" + uid);
    return !p.ok() && p.status().code() == Code::kNotFound;
  }, 10s)) << Diag();
}

TEST_F(OperatorSimTest, HigherPriorityRunTakesTheRoomFirst) {
  // `fixed` (1 vCPU, 1Gi, no hotplug) holds one of these at a time.
  Create(RunObj("low", "fixed", "500m", "512Mi", 10));
  Create(RunObj("high", "fixed", "500m", "512Mi", 1000));
  ASSERT_TRUE(WaitPhase("high", "Allocated")) << Diag();
  ASSERT_TRUE(WaitPhase("low", "Queued")) << Diag();
  json low = Get("low");
  EXPECT_EQ(low["status"]["queue"].value("position", 0), 1);
  EXPECT_FALSE(low["metadata"].contains("labels") && low["metadata"]["labels"].contains(api::kInstanceLabel));
}

TEST_F(OperatorSimTest, ReservationAdmitsItsUserWhileOthersWait) {
  json res = {{"apiVersion", "prescient.dev/v1alpha1"},
              {"kind", "ResourceReservation"},
              {"metadata", {{"name", "nightly"}, {"namespace", kNs}}},
              {"spec", {{"resources", {{"cpu", "500m"}, {"memory", "512Mi"}}}, {"target", {{"vmName", "fixed"}}},
                        {"users", json::array({"backup-bot"})}}}};
  ASSERT_TRUE(client_->Create(api::kResourceReservations, res).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto r = client_->Get(api::kResourceReservations, kNs, "nightly");
    return r.ok() && r->contains("status") && (*r)["status"].value("phase", "") == "Bound";
  }, 10s)) << Diag();
  Create(RunObj("other", "fixed", "500m", "512Mi", 1000));  // more than what is left beside the reservation
  ASSERT_TRUE(WaitPhase("other", "Queued")) << Diag();
  json mine = RunObj("backup", "fixed", "500m", "512Mi");
  mine["spec"]["user"] = "backup-bot";
  mine["spec"]["reservationName"] = "nightly";
  Create(mine);
  ASSERT_TRUE(WaitPhase("backup", "Allocated")) << Diag();
  EXPECT_EQ(Get("backup")["status"]["allocation"].value("reservationName", ""), "nightly");
  EXPECT_EQ(Phase("other"), "Queued");
}

TEST_F(OperatorSimTest, InvalidRunsEndInAConditionAndAnEventWithoutRetries) {
  json impossible = RunObj("impossible", "vm1", "500m", "64Gi");
  json missing = RunObj("missing", "nope", "500m", "256Mi");
  json elsewhere = RunObj("elsewhere", "elsewhere", "500m", "256Mi");
  json nores = RunObj("nores", "vm1", "500m", "256Mi");
  nores["spec"]["reservationName"] = "does-not-exist";
  for (const auto& j : {impossible, missing, elsewhere, nores}) Create(j);
  struct Want {
    std::string name, reason, condition, text;
  } wants[] = {
      {"impossible", "Unschedulable", "Allocated", "larger than any candidate"},
      {"missing", "Invalid", "Valid", "VirtualMachine \"nope\" not found"},
      {"elsewhere", "Invalid", "Valid", "namespace \"other\""},
      {"nores", "Invalid", "Valid", "ResourceReservation \"does-not-exist\" not found"},
  };
  for (const auto& w : wants) {
    ASSERT_TRUE(WaitPhase(w.name, "Failed")) << w.name << "\n" << Diag();
    json j = Get(w.name);
    EXPECT_EQ(j["status"]["result"].value("reason", ""), w.reason) << w.name;
    bool found = false;
    for (const auto& c : j["status"]["conditions"]) {
      if (c.value("type", "") == w.condition && c.value("status", "") == "False") {
        found = true;
        EXPECT_NE(c.value("message", "").find(w.text), std::string::npos) << c.dump();
      }
    }
    EXPECT_TRUE(found) << w.name << ": " << j["status"].dump();
    EXPECT_TRUE(WaitFor([&] { return HasEvent(w.name, w.reason == "Invalid" ? "InvalidSpec" : "Unschedulable"); }, 5s))
        << w.name;
  }
  // No retry storm: once the finalizers are gone, nothing about these runs changes any more.
  for (const auto& w : wants) {
    EXPECT_TRUE(WaitFor([&] { return !Get(w.name)["metadata"].contains("finalizers") ||
                                     Get(w.name)["metadata"]["finalizers"].empty(); }, 10s)) << w.name;
  }
  std::map<std::string, std::string> rvs;
  for (const auto& w : wants) rvs[w.name] = Get(w.name)["metadata"].value("resourceVersion", "");
  std::this_thread::sleep_for(1500ms);  // observing the absence of writes needs a window of time
  for (const auto& w : wants) EXPECT_EQ(Get(w.name)["metadata"].value("resourceVersion", ""), rvs[w.name]) << w.name;
  // A 1 MiB command is refused by the API server (the CRD's maxLength) with a clear message.
  json huge = RunObj("huge", "vm1", "500m", "256Mi");
  huge["spec"]["command"] = std::string(1 << 20, 'x');
  std::ofstream(dir_ / "huge.json") << huge.dump();
  auto r = testing::RunKubectl(sim_->kubeconfig(), {"apply", "-f", (dir_ / "huge.json").string()});
  EXPECT_NE(r.exit_code, 0) << r.ToString();
  EXPECT_FALSE(client_->Get(api::kCommandRuns, kNs, "huge").ok());
}

TEST_F(OperatorSimTest, RestartMidFlightLosesNothingAndAllocatesNothingTwice) {
  // Seven runs before the crash, three more while the operator is down.
  for (int i = 0; i < 7; ++i) Create(RunObj("r" + std::to_string(i), "fixed", "100m", "64Mi"));
  ASSERT_TRUE(WaitFor([&] {
    int n = 0;
    for (int i = 0; i < 7; ++i) n += Phase("r" + std::to_string(i)) == "Allocated";
    return n >= 2;
  }, 20s)) << Diag();
  op_->Kill();  // crash mid-flight
  for (int i = 7; i < 10; ++i) Create(RunObj("r" + std::to_string(i), "fixed", "100m", "64Mi"));
  StartOperator();
  // `fixed`: 1000m - 250m for the guest = 750m: seven 100m runs fit, three wait.
  ASSERT_TRUE(WaitFor([&] {
    int allocated = 0, queued = 0;
    for (int i = 0; i < 10; ++i) {
      std::string p = Phase("r" + std::to_string(i));
      allocated += p == "Allocated";
      queued += p == "Queued";
    }
    return allocated == 7 && queued == 3;
  }, 30s)) << Diag();
  int64_t total = 0;
  for (int i = 0; i < 10; ++i) {
    json j = Get("r" + std::to_string(i));
    if (j["status"].value("phase", "") != "Allocated") continue;
    total += ParseCpuMilli(j["status"]["allocation"].value("cpuCores", "0")).value();
    EXPECT_TRUE(j["metadata"]["finalizers"].dump().find(api::kAllocationFinalizer) != std::string::npos);
  }
  EXPECT_EQ(total, 700);
}

TEST_F(OperatorSimTest, StandbyReplicaTakesOverWithinTheLeaseDuration) {
  op_.reset();  // this test runs its own two replicas
  auto replica = [&](const std::string& name) {
    return cluster_->Operator(
        {"--leader-elect", "--leader-election-namespace", kNs, "--leader-election-lease-duration", "3"}, name);
  };
  auto a = replica("a"), b = replica("b");
  ASSERT_TRUE(a->Start().ok());
  ASSERT_TRUE(b->Start().ok());
  Create(RunObj("before", "vm1", "100m", "64Mi"));
  ASSERT_TRUE(WaitPhase("before", "Allocated")) << a->LogTail() << b->LogTail();
  std::string holder;
  ASSERT_TRUE(WaitFor([&] {
    auto l = client_->Get(kube::resources::kLease, kNs, "prescient-operator");
    if (!l.ok()) return false;
    holder = (*l)["spec"].value("holderIdentity", "");
    return !holder.empty();
  }, 5s));
  bool a_leads = holder.find("_" + std::to_string(a->pid()) + "_") != std::string::npos;
  OperatorProcess* leader = a_leads ? a.get() : b.get();
  OperatorProcess* standby = a_leads ? b.get() : a.get();
  leader->Kill();  // no release: the standby must wait for the lease to expire
  auto killed_at = std::chrono::steady_clock::now();
  Create(RunObj("after", "vm1", "100m", "64Mi"));
  ASSERT_TRUE(WaitPhase("after", "Allocated", 15s)) << standby->LogTail();
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  // Reported, not asserted (tests do not judge wall-clock speed): with a 3 s lease it is about 3-4 s.
  std::cout << "standby took over and allocated after " << took << " s\n";
  op_ = std::move(a_leads ? b : a);
}

TEST_F(OperatorSimTest, InjectedApiFaultsAreRetriedToTheSameResult) {
  auto f = client_->Raw("POST", "/admin/faults", R"({"errorShare": 0.3, "errorCodes": [500, 503, 429]})");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  for (int i = 0; i < 5; ++i) {
    json r = RunObj("f" + std::to_string(i), "vm1", "300m", "128Mi");
    // The test's own writes may hit a fault too: retry them.
    ASSERT_TRUE(WaitFor([&] {
      auto c = client_->Create(api::kCommandRuns, r);
      return c.ok() || c.status().code() == Code::kAlreadyExists;
    }, 10s));
  }
  ASSERT_TRUE(WaitFor([&] {
    for (int i = 0; i < 5; ++i) {
      auto g = client_->Get(api::kCommandRuns, kNs, "f" + std::to_string(i));
      if (!g.ok() || !g->contains("status") || (*g)["status"].value("phase", "") != "Allocated") return false;
    }
    return true;
  }, 40s)) << Diag();
  ASSERT_TRUE(client_->Raw("POST", "/admin/faults", R"({"errorShare": 0})").ok());
  int64_t total = 0;
  for (int i = 0; i < 5; ++i) total += ParseCpuMilli(Get("f" + std::to_string(i))["status"]["allocation"].value("cpuCores", "0")).value();
  EXPECT_EQ(total, 1500);  // each allocated once: 1500m of vm1's 1750m
}

TEST_F(OperatorSimTest, LostAgentRequeuesUnstartedRunsAndFailsStartedOnes) {
  // A 3 s grace so the test is short; the fake agent below renews its Lease once and then stops.
  op_.reset();
  std::ofstream(dir_ / "policy.yaml") << "memoryStep: 256Mi\nagentHeartbeatTimeoutSeconds: 3\n";
  StartOperator();
  json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", "prescient-agent-fixed"}, {"namespace", kNs}}},
                {"spec", {{"holderIdentity", "fixed"}, {"leaseDurationSeconds", 30},
                          {"renewTime", FormatRfc3339Micro(SystemClock().Now())}}}};
  ASSERT_TRUE(client_->Create(kube::resources::kLease, lease).ok());
  // The fake agent renews every 500 ms until it has claimed its run, however slow the machine is.
  std::atomic<bool> alive{true};
  std::thread renewer([&] {
    while (alive.load()) {
      auto l = client_->Get(kube::resources::kLease, kNs, "prescient-agent-fixed");
      if (l.ok()) {
        (*l)["spec"]["renewTime"] = FormatRfc3339Micro(SystemClock().Now());
        (void)client_->Update(kube::resources::kLease, *l);
      }
      for (int i = 0; i < 10 && alive.load(); ++i) std::this_thread::sleep_for(50ms);
    }
  });
  auto stop_agent = [&] {
    alive = false;
    if (renewer.joinable()) renewer.join();
  };
  struct AtExit {
    std::function<void()> f;
    ~AtExit() { f(); }
  } at_exit{stop_agent};
  // `fixed` (1 vCPU, 1Gi) holds both: one the agent claims, one it has not started yet.
  Create(RunObj("claimed", "fixed", "300m", "256Mi"));
  Create(RunObj("unstarted", "fixed", "300m", "256Mi"));
  ASSERT_TRUE(WaitBound("claimed")) << Diag();
  ASSERT_TRUE(WaitBound("unstarted")) << Diag();
  ASSERT_TRUE(WaitFor([&] {
    json j = Get("claimed");
    j["status"]["phase"] = "Running";
    j["status"]["agent"] = {{"instance", "fixed"}, {"claimedAt", FormatRfc3339(SystemClock().Now())}};
    return client_->UpdateStatus(api::kCommandRuns, j).ok();
  }, 10s));
  stop_agent();  // the agent dies: no renewal from here
  // Within the grace plus the operator's recheck both runs are taken back.
  ASSERT_TRUE(WaitPhase("claimed", "Failed", 20s)) << Diag();
  json claimed = Get("claimed");
  EXPECT_EQ(claimed["status"]["result"].value("reason", ""), "Lost") << claimed.dump();
  EXPECT_TRUE(WaitFor([&] { return HasEvent("claimed", "AgentLost"); }, 5s));
  EXPECT_TRUE(WaitFor([&] { return Get("claimed")["metadata"].value("finalizers", json::array()).empty(); }, 10s))
      << "a lost run's allocation is released (finalizer removed)\n" << Get("claimed").dump();
  ASSERT_TRUE(WaitPhase("unstarted", "Queued", 20s)) << Diag();
  json unstarted = Get("unstarted");
  EXPECT_EQ(unstarted["status"]["queue"].value("reason", ""), "AgentLost") << unstarted.dump();
  EXPECT_FALSE(unstarted["status"].contains("allocation")) << unstarted.dump();
  EXPECT_FALSE(unstarted["metadata"].value("labels", json::object()).contains(api::kInstanceLabel)) << unstarted.dump();
  EXPECT_TRUE(WaitFor([&] { return HasEvent("unstarted", "AgentLost"); }, 5s));  // recorded right after the status
  bool condition = false;
  for (const auto& c : unstarted["status"]["conditions"]) condition |= c.value("type", "") == "AgentLost" && c.value("status", "") == "True";
  EXPECT_TRUE(condition) << unstarted.dump();
  // The agent is back: the queued run is placed on the instance again.
  json l = *client_->Get(kube::resources::kLease, kNs, "prescient-agent-fixed");
  l["spec"]["renewTime"] = FormatRfc3339Micro(SystemClock().Now());
  ASSERT_TRUE(client_->Update(kube::resources::kLease, l).ok());
  EXPECT_TRUE(WaitPhase("unstarted", "Allocated", 10s)) << Diag();
}

}  // namespace
}  // namespace prescient
