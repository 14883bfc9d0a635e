// End-to-end behaviour of the cluster library through the real object store (no HTTP): VMs reach
// Running, hotplug completes or is rejected by quota, pending pods scale a node group up and empty
// nodes go away, ProvisioningRequests of both classes, preemption of balloon pods. A large time
// scale keeps every test to well under a second of simulated minutes; waits poll with a deadline.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <thread>

#include "sim/cluster/cluster.h"
#include "sim/cluster/crds.h"
#include "sim/store.h"

namespace prescient::sim::cluster {
namespace {

using namespace std::chrono_literals;

const GroupVersionResource kVm{"kubevirt.io", "v1", "virtualmachines"};
const GroupVersionResource kVmi{"kubevirt.io", "v1", "virtualmachineinstances"};
const GroupVersionResource kVmim{"kubevirt.io", "v1", "virtualmachineinstancemigrations"};
const GroupVersionResource kPool{"pool.kubevirt.io", "v1beta1", "virtualmachinepools"};
const GroupVersionResource kProvReq{"autoscaling.x-k8s.io", "v1", "provisioningrequests"};
const GroupVersionResource kPodTemplates{"", "v1", "podtemplates"};

const char* kBaseScenario = R"(
nodes:
  - name: node-1
    capacity: {cpu: "4", memory: 8Gi}
nodeGroups:
  - name: burst
    template: {capacity: {cpu: "8", memory: 16Gi}}
    maxSize: 2
    scaleUpDelay: 30s
    scaleDownUnneededTime: 2m
namespaces:
  - name: demo
    resourceQuotas:
      - name: demo-quota
        hard: {requests.memory: 12Gi, pods: "20"}
priorityClasses:
  - {name: balloon, value: -10, preemptionPolicy: Never}
  - {name: expendable, value: -20}
  - {name: high, value: 1000}
virtualMachines:
  - name: db-tools
    namespace: demo
    cpu: {sockets: 1, maxSockets: 4}
    memory: {guest: 1Gi, maxGuest: 4Gi}
kubevirt: {vmiStartDelay: 5s, migrationDelay: 10s}
autoscaler: {bookingTime: 10m}
)";

class ClusterIntegration : public ::testing::Test {
 protected:
  void Start(const std::string& scenario, double time_scale = 1000) {
    path_ = ::testing::TempDir() + "/scenario-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".yaml";
    std::ofstream(path_) << scenario;
    auto store = Store::Open({});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    ClusterOptions o;
    o.scenario_path = path_;
    o.time_scale = time_scale;
    auto c = Install(*store_, o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c);
  }
  void TearDown() override {
    if (cluster_) cluster_->Stop();
    std::remove(path_.c_str());
  }

  // Polls `pred` until it holds or the deadline passes (never a fixed sleep).
  bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return pred();
  }
  Json Get(const GroupVersionResource& r, const std::string& ns, const std::string& name) {
    auto o = store_->Get(r, ns, name);
    return o.ok() ? *o : Json();
  }
  std::vector<Json> List(const GroupVersionResource& r, const std::string& ns, const std::string& selector = "") {
    ListOptions lo;
    lo.label_selector = selector;
    auto l = store_->List(r, ns, lo);
    return l.ok() ? l->items : std::vector<Json>{};
  }
  // obj at a JSON pointer ("/status/phase"), or null when absent.
  static Json At(const Json& obj, const std::string& pointer) {
    Json::json_pointer p(pointer);
    return obj.is_object() && obj.contains(p) ? obj[p] : Json();
  }
  static std::string AtStr(const Json& obj, const std::string& pointer) {
    Json v = At(obj, pointer);
    return v.is_string() ? v.get<std::string>() : "";
  }
  static std::string Cond(const Json& obj, const std::string& type, const std::string& field = "status") {
    if (!obj.is_object() || !obj.contains("status") || !obj["status"].contains("conditions")) return "";
    for (const auto& c : obj["status"]["conditions"]) {
      if (c.value("type", "") == type) return c.value(field, "");
    }
    return "";
  }
  bool VmiRunning(const std::string& ns, const std::string& name) {
    Json vmi = Get(kVmi, ns, name);
    return AtStr(vmi, "/status/phase") == "Running";
  }
  Json Pod(const std::string& name, const std::string& cpu, const std::string& mem, const std::string& pc = "") {
    Json p = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"namespace", "default"}}},
              {"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "pause"},
                                                     {"resources", {{"requests", {{"cpu", cpu}, {"memory", mem}}}}}}})}}}};
    if (!pc.empty()) p["spec"]["priorityClassName"] = pc;
    return p;
  }
  size_t GroupNodes() { return List(gvr::kNodes, "", "prescient.dev/node-group=burst").size(); }

  std::string path_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Cluster> cluster_;
};

TEST_F(ClusterIntegration, VirtualMachineRunsWithLauncherPodAndGuestStatus) {
  Start(kBaseScenario);
  ASSERT_TRUE(WaitFor([&] { return VmiRunning("demo", "db-tools"); }));
  Json vmi = Get(kVmi, "demo", "db-tools");
  EXPECT_EQ(vmi["status"]["nodeName"], "node-1");
  EXPECT_EQ(vmi["status"]["currentCPUTopology"]["sockets"], 1);
  EXPECT_EQ(vmi["status"]["memory"]["guestCurrent"], "1Gi");
  EXPECT_EQ(vmi["status"]["memory"]["guestAtBoot"], "1Gi");
  EXPECT_EQ(Cond(vmi, "Ready"), "True");
  EXPECT_EQ(Cond(vmi, "LiveMigratable"), "True");
  EXPECT_EQ(vmi["spec"]["domain"]["cpu"]["maxSockets"], 4);
  auto pods = List(gvr::kPods, "demo", "kubevirt.io=virt-launcher");
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0]["spec"]["nodeName"], "node-1");
  EXPECT_EQ(pods[0]["status"]["phase"], "Running");
  EXPECT_EQ(pods[0]["spec"]["containers"][0]["resources"]["requests"]["cpu"], "100m");
  EXPECT_EQ(pods[0]["spec"]["containers"][0]["resources"]["requests"]["memory"], "1294Mi");
  ASSERT_TRUE(WaitFor([&] { return AtStr(Get(kVm, "demo", "db-tools"), "/status/printableStatus") == "Running"; }));
  EXPECT_TRUE(At(Get(kVm, "demo", "db-tools"), "/status/ready") == true);
  // Quota status follows the launcher pod.
  ASSERT_TRUE(WaitFor([&] {
    return AtStr(Get(gvr::kResourceQuotas, "demo", "demo-quota"), "/status/used/requests.memory") == "1294Mi";
  }));
  // Halted stops it: the VMI and its pod go away.
  ASSERT_TRUE(store_->Patch(kVm, "demo", "db-tools", PatchType::kMerge, R"({"spec":{"runStrategy":"Halted"}})", "").ok());
  ASSERT_TRUE(WaitFor([&] { return !store_->Get(kVmi, "demo", "db-tools").ok(); }));
  ASSERT_TRUE(WaitFor([&] { return AtStr(Get(kVm, "demo", "db-tools"), "/status/printableStatus") == "Stopped"; }));
}

TEST_F(ClusterIntegration, CpuAndMemoryHotplugByLiveMigration) {
  Start(kBaseScenario);
  ASSERT_TRUE(WaitFor([&] { return VmiRunning("demo", "db-tools"); }));
  auto r = store_->Patch(kVm, "demo", "db-tools", PatchType::kJson,
                         R"([{"op":"test","path":"/spec/template/spec/domain/cpu/sockets","value":1},
                             {"op":"replace","path":"/spec/template/spec/domain/cpu/sockets","value":2},
                             {"op":"replace","path":"/spec/template/spec/domain/memory/guest","value":"2Gi"}])",
                         "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(WaitFor([&] {
    Json vmi = Get(kVmi, "demo", "db-tools");
    return At(vmi, "/status/currentCPUTopology/sockets") == 2 && AtStr(vmi, "/status/memory/guestCurrent") == "2Gi";
  })) << Get(kVmi, "demo", "db-tools").dump();
  Json vmi = Get(kVmi, "demo", "db-tools");
  EXPECT_EQ(vmi["status"]["memory"]["guestRequested"], "2Gi");
  EXPECT_EQ(vmi["status"]["memory"]["guestAtBoot"], "1Gi");
  EXPECT_EQ(Cond(vmi, "HotVCPUChange"), "");
  EXPECT_EQ(Cond(vmi, "HotMemoryChange"), "");
  EXPECT_EQ(vmi["status"]["migrationState"]["completed"], true);
  ASSERT_TRUE(WaitFor([&] {
    auto m = List(kVmim, "demo");
    return m.size() == 1 && AtStr(m[0], "/status/phase") == "Succeeded";
  }));
  auto migrations = List(kVmim, "demo");
  EXPECT_EQ(migrations[0]["metadata"]["name"].get<std::string>().rfind("kubevirt-workload-update-", 0), 0u);
  // Only the (larger) target launcher pod remains.
  ASSERT_TRUE(WaitFor([&] { return List(gvr::kPods, "demo", "kubevirt.io=virt-launcher").size() == 1; }));
  auto pods = List(gvr::kPods, "demo", "kubevirt.io=virt-launcher");
  EXPECT_EQ(pods[0]["spec"]["containers"][0]["resources"]["requests"]["cpu"], "200m");
  EXPECT_EQ(pods[0]["spec"]["containers"][0]["resources"]["requests"]["memory"], "2328Mi");  // 2Gi + 280Mi overhead (2 vCPUs)
  EXPECT_EQ(vmi["status"]["activePods"].begin().key(), pods[0]["metadata"]["uid"]);
}

TEST_F(ClusterIntegration, HotplugBeyondMaxNeedsRestart) {
  Start(kBaseScenario);
  ASSERT_TRUE(WaitFor([&] { return VmiRunning("demo", "db-tools"); }));
  ASSERT_TRUE(store_->Patch(kVm, "demo", "db-tools", PatchType::kMerge,
                            R"({"spec":{"template":{"spec":{"domain":{"cpu":{"sockets":5}}}}}})", "")
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return Cond(Get(kVm, "demo", "db-tools"), "RestartRequired") == "True"; }));
  EXPECT_NE(Cond(Get(kVm, "demo", "db-tools"), "RestartRequired", "message").find("maxSockets"), std::string::npos);
  EXPECT_EQ(Get(kVmi, "demo", "db-tools")["spec"]["domain"]["cpu"]["sockets"], 1);  // not propagated
  EXPECT_TRUE(List(kVmim, "demo").empty());
}

TEST_F(ClusterIntegration, HotplugRejectedByQuotaUntilQuotaGrows) {
  std::string scenario = kBaseScenario;
  scenario.replace(scenario.find("requests.memory: 12Gi"), 21, "requests.memory: 3Gi");
  Start(scenario);
  ASSERT_TRUE(WaitFor([&] { return VmiRunning("demo", "db-tools"); }));
  // 1294Mi used; a 2Gi guest needs a 2320Mi target pod beside it: 3614Mi > 3Gi.
  ASSERT_TRUE(store_->Patch(kVm, "demo", "db-tools", PatchType::kMerge,
                            R"({"spec":{"template":{"spec":{"domain":{"memory":{"guest":"2Gi"}}}}}})", "")
                  .ok());
  ASSERT_TRUE(WaitFor([&] {
    auto m = List(kVmim, "demo");
    return !m.empty() && Cond(m[0], "migrationRejectedByResourceQuota") == "True";
  }));
  auto m = List(kVmim, "demo");
  EXPECT_EQ(m[0]["status"]["phase"], "Pending");
  EXPECT_NE(Cond(m[0], "migrationRejectedByResourceQuota", "message").find("exceeded quota: demo-quota"), std::string::npos);
  Json vmi = Get(kVmi, "demo", "db-tools");
  EXPECT_EQ(Cond(vmi, "HotMemoryChange"), "True");
  EXPECT_EQ(vmi["status"]["memory"]["guestRequested"], "2Gi");
  EXPECT_EQ(vmi["status"]["memory"]["guestCurrent"], "1Gi");
  // Raising the quota lets the pending migration proceed.
  ASSERT_TRUE(store_->Patch(gvr::kResourceQuotas, "demo", "demo-quota", PatchType::kMerge,
                            R"({"spec":{"hard":{"requests.memory":"4Gi"}}})", "")
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return AtStr(Get(kVmi, "demo", "db-tools"), "/status/memory/guestCurrent") == "2Gi"; }));
}

TEST_F(ClusterIntegration, QuotaAdmissionForbidsPodsWithTheRealMessage) {
  Start(kBaseScenario);
  Json p = Pod("big", "1", "20Gi");
  p["metadata"]["namespace"] = "demo";
  auto r = store_->Create(gvr::kPods, "demo", p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().http_code(), 403);
  EXPECT_EQ(r.status().reason(), "Forbidden");
  EXPECT_EQ(r.status().message().rfind("pods \"big\" is forbidden: exceeded quota: demo-quota, requested: requests.memory=20Gi, used: requests.memory=", 0), 0u)
      << r.status().message();
  // Unknown PriorityClass: refused like the Priority admission plugin does.
  auto r2 = store_->Create(gvr::kPods, "default", Pod("x", "1", "1Gi", "gold"));
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("no PriorityClass with name gold was found"), std::string::npos);
}

TEST_F(ClusterIntegration, PendingPodScalesNodeGroupUpAndEmptyNodeGoesAway) {
  Start(kBaseScenario);
  // Expendable pods never trigger a scale-up: with one pending, only the other pod's node appears.
  ASSERT_TRUE(store_->Create(gvr::kPods, "default", Pod("expendable", "6", "1Gi", "expendable")).ok());
  ASSERT_TRUE(WaitFor([&] { return Cond(Get(gvr::kPods, "default", "expendable"), "PodScheduled", "reason") == "Unschedulable"; }));
  EXPECT_NE(Cond(Get(gvr::kPods, "default", "expendable"), "PodScheduled", "message").find("Insufficient cpu"), std::string::npos);
  ASSERT_TRUE(store_->Create(gvr::kPods, "default", Pod("needs-room", "6", "1Gi")).ok());
  ASSERT_TRUE(WaitFor([&] { return !AtStr(Get(gvr::kPods, "default", "needs-room"), "/spec/nodeName").empty(); }));
  EXPECT_EQ(Get(gvr::kPods, "default", "needs-room")["spec"]["nodeName"], "burst-0");
  EXPECT_EQ(GroupNodes(), 1u);
  EXPECT_EQ(AtStr(Get(gvr::kPods, "default", "expendable"), "/spec/nodeName"), "");
  Json node = Get(gvr::kNodes, "", "burst-0");
  EXPECT_EQ(node["metadata"]["labels"]["kubevirt.io/schedulable"], "true");
  ASSERT_TRUE(store_->Delete(gvr::kPods, "default", "expendable").ok());
  // Once empty, the node is removed after the unneeded time (2m at ×1000: 120 ms).
  ASSERT_TRUE(store_->Delete(gvr::kPods, "default", "needs-room").ok());
  ASSERT_TRUE(WaitFor([&] { return GroupNodes() == 0; }));
}

TEST_F(ClusterIntegration, HigherPriorityPodPreemptsBalloons) {
  Start(kBaseScenario);
  ASSERT_TRUE(WaitFor([&] { return VmiRunning("demo", "db-tools"); }));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store_->Create(gvr::kPods, "default", Pod("balloon-" + std::to_string(i), "1", "1Gi", "balloon")).ok());
  }
  ASSERT_TRUE(WaitFor([&] {
    for (int i = 0; i < 3; ++i) {
      if (AtStr(Get(gvr::kPods, "default", "balloon-" + std::to_string(i)), "/status/phase") != "Running") return false;
    }
    return true;
  }));
  // node-1 has 4 CPU: 100m VM + 3 balloons; a 2-CPU pod needs two balloons gone.
  ASSERT_TRUE(store_->Create(gvr::kPods, "default", Pod("real", "2", "1Gi")).ok());
  ASSERT_TRUE(WaitFor([&] { return AtStr(Get(gvr::kPods, "default", "real"), "/spec/nodeName") == "node-1"; }));
  int balloons = 0;
  for (const auto& p : List(gvr::kPods, "default")) {
    if (p["metadata"]["name"].get<std::string>().rfind("balloon-", 0) == 0) ++balloons;
  }
  EXPECT_EQ(balloons, 1);
}

TEST_F(ClusterIntegration, PreemptedBalloonDeploymentPodsComeBackAndGrowTheCluster) {
  Start(kBaseScenario);
  ASSERT_TRUE(WaitFor([&] { return VmiRunning("demo", "db-tools"); }));
  Json deploy = {{"apiVersion", "apps/v1"},
                 {"kind", "Deployment"},
                 {"metadata", {{"name", "balloons"}, {"namespace", "default"}}},
                 {"spec", {{"replicas", 3},
                           {"selector", {{"matchLabels", {{"app", "balloon"}}}}},
                           {"template", {{"metadata", {{"labels", {{"app", "balloon"}}}}},
                                         {"spec", {{"priorityClassName", "balloon"},
                                                   {"containers", Json::array({{{"name", "pause"}, {"image", "pause"},
                                                                                {"resources", {{"requests", {{"cpu", "1"}}}}}}})}}}}}}}};
  ASSERT_TRUE(store_->Create(gvr::kDeployments, "default", deploy).ok());
  ASSERT_TRUE(WaitFor([&] { return At(Get(gvr::kDeployments, "default", "balloons"), "/status/readyReplicas") == 3; }));
  EXPECT_EQ(GroupNodes(), 0u);
  // A real pod preempts two balloons; their replacements are Pending at priority -10 (not below
  // the cutoff), so the autoscaler adds a node and they run there: capacity stays warm.
  ASSERT_TRUE(store_->Create(gvr::kPods, "default", Pod("real", "2", "1Gi")).ok());
  ASSERT_TRUE(WaitFor([&] { return AtStr(Get(gvr::kPods, "default", "real"), "/spec/nodeName") == "node-1"; }));
  ASSERT_TRUE(WaitFor([&] { return GroupNodes() == 1 && At(Get(gvr::kDeployments, "default", "balloons"), "/status/readyReplicas") == 3; }));
  int on_burst = 0;
  for (const auto& p : List(gvr::kPods, "default", "app=balloon")) {
    if (AtStr(p, "/spec/nodeName") == "burst-0") ++on_burst;
  }
  EXPECT_EQ(on_burst, 2);
}

TEST_F(ClusterIntegration, CheckCapacityProvisioningRequestBooksThenExpires) {
  Start(kBaseScenario);
  Json tmpl = {{"apiVersion", "v1"}, {"kind", "PodTemplate"}, {"metadata", {{"name", "worker"}, {"namespace", "default"}}},
               {"template", {{"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "pause"},
                                                                    {"resources", {{"requests", {{"cpu", "1"}, {"memory", "1Gi"}}}}}}})}}}}}};
  ASSERT_TRUE(store_->Create(kPodTemplates, "default", tmpl).ok());
  auto pr = [](const std::string& name, int count, const std::string& cls) {
    return Json{{"apiVersion", "autoscaling.x-k8s.io/v1"}, {"kind", "ProvisioningRequest"},
                {"metadata", {{"name", name}, {"namespace", "default"}}},
                {"spec", {{"provisioningClassName", cls},
                          {"podSets", Json::array({{{"count", count}, {"podTemplateRef", {{"name", "worker"}}}}})}}}};
  };
  ASSERT_TRUE(store_->Create(kProvReq, "default", pr("fits", 2, kCheckCapacityClass)).ok());
  ASSERT_TRUE(store_->Create(kProvReq, "default", pr("too-big", 10, kCheckCapacityClass)).ok());
  ASSERT_TRUE(WaitFor([&] { return Cond(Get(kProvReq, "default", "fits"), "Provisioned") == "True"; }));
  Json fits = Get(kProvReq, "default", "fits");
  EXPECT_EQ(Cond(fits, "Accepted"), "True");
  EXPECT_EQ(Cond(fits, "Provisioned", "reason"), "CapacityIsFound");
  ASSERT_TRUE(WaitFor([&] { return Cond(Get(kProvReq, "default", "too-big"), "Provisioned", "reason") == "CapacityIsNotFound"; }));
  EXPECT_EQ(Cond(Get(kProvReq, "default", "too-big"), "Provisioned"), "False");
  EXPECT_EQ(GroupNodes(), 0u);  // check-capacity never scales up
  // The 10-minute booking (600 ms at ×1000) then expires.
  ASSERT_TRUE(WaitFor([&] { return Cond(Get(kProvReq, "default", "fits"), "BookingExpired") == "True"; }));
  EXPECT_EQ(Cond(Get(kProvReq, "default", "fits"), "BookingExpired", "reason"), "CapacityReservationTimeExpired");
  // The spec is immutable (the CRD's CEL rule, enforced by admission).
  Json changed = Get(kProvReq, "default", "fits");
  changed["spec"]["podSets"][0]["count"] = 3;
  auto upd = store_->Update(kProvReq, "default", changed);
  EXPECT_EQ(upd.status().http_code(), 422);
}

TEST_F(ClusterIntegration, AtomicScaleUpProvisioningRequestAddsNodes) {
  Start(kBaseScenario);
  Json tmpl = {{"apiVersion", "v1"}, {"kind", "PodTemplate"}, {"metadata", {{"name", "big"}, {"namespace", "default"}}},
               {"template", {{"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "pause"},
                                                                    {"resources", {{"requests", {{"cpu", "6"}, {"memory", "4Gi"}}}}}}})}}}}}};
  ASSERT_TRUE(store_->Create(kPodTemplates, "default", tmpl).ok());
  Json pr = {{"apiVersion", "autoscaling.x-k8s.io/v1"}, {"kind", "ProvisioningRequest"},
             {"metadata", {{"name", "two-big"}, {"namespace", "default"}}},
             {"spec", {{"provisioningClassName", kAtomicScaleUpClass},
                       {"podSets", Json::array({{{"count", 2}, {"podTemplateRef", {{"name", "big"}}}}})}}}};
  ASSERT_TRUE(store_->Create(kProvReq, "default", pr).ok());
  ASSERT_TRUE(WaitFor([&] { return Cond(Get(kProvReq, "default", "two-big"), "Provisioned") == "True"; }));
  EXPECT_EQ(Cond(Get(kProvReq, "default", "two-big"), "Provisioned", "reason"), "CapacityIsProvisioned");
  ASSERT_TRUE(WaitFor([&] { return GroupNodes() == 2; }));
  // Three more would exceed maxSize 2: all or nothing, so nothing.
  pr["metadata"]["name"] = "three-more";
  pr["spec"]["podSets"][0]["count"] = 3;
  ASSERT_TRUE(store_->Create(kProvReq, "default", pr).ok());
  ASSERT_TRUE(WaitFor([&] { return Cond(Get(kProvReq, "default", "three-more"), "Provisioned", "reason") == "CapacityIsNotFound"; }));
  EXPECT_EQ(GroupNodes(), 2u);
}

TEST_F(ClusterIntegration, PoolReplicasCreateAndDeleteVms) {
  Start(std::string(kBaseScenario) + R"(
virtualMachinePools:
  - name: workers
    namespace: demo
    replicas: 2
    template: {cpu: {sockets: 1}, memory: {guest: 1Gi}}
)");
  ASSERT_TRUE(WaitFor([&] { return VmiRunning("demo", "workers-0") && VmiRunning("demo", "workers-1"); }));
  ASSERT_TRUE(WaitFor([&] { return At(Get(kPool, "demo", "workers"), "/status/readyReplicas") == 2; }));
  EXPECT_EQ(Get(kPool, "demo", "workers")["status"]["labelSelector"], "kubevirt.io/vmpool=workers");
  ASSERT_TRUE(store_->Patch(kPool, "demo", "workers", PatchType::kMerge, R"({"spec":{"replicas":1}})", "").ok());
  ASSERT_TRUE(WaitFor([&] { return !store_->Get(kVm, "demo", "workers-1").ok(); }));
  EXPECT_TRUE(store_->Get(kVm, "demo", "workers-0").ok());
  ASSERT_TRUE(WaitFor([&] { return !store_->Get(kVmi, "demo", "workers-1").ok(); }));
}

TEST_F(ClusterIntegration, BadScenarioIsRefusedWithFileAndField) {
  std::string path = ::testing::TempDir() + "/bad-scenario.yaml";
  std::ofstream(path) << "nodes:\n  - name: n\n    capacity: {cpu: \"4\"}\n";
  auto store = Store::Open({});
  ASSERT_TRUE(store.ok());
  ClusterOptions o;
  o.scenario_path = path;
  auto c = Install(**store, o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(path + ":3: nodes[0].capacity.memory: required"), std::string::npos)
      << c.status().message();
  std::remove(path.c_str());
}

}  // namespace
}  // namespace prescient::sim::cluster
