// The controllers driven by hand (no thread) on a FakeClock: delays are simulated durations
// divided by the time scale, measured on the injected clock — nothing here sleeps.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "common/clock.h"
#include "sim/cluster/cluster.h"
#include "sim/store.h"

namespace prescient::sim::cluster {
namespace {

using namespace std::chrono_literals;

const GroupVersionResource kVmi{"kubevirt.io", "v1", "virtualmachineinstances"};

class ControllersOnFakeClock : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "/controllers-test-" + std::to_string(::getpid()) + ".yaml";
    std::ofstream(path_) << R"(
nodes:
  - {name: node-1, capacity: {cpu: "2", memory: 4Gi}}
nodeGroups:
  - name: burst
    template: {capacity: {cpu: "8", memory: 16Gi}}
    maxSize: 1
    scaleUpDelay: 30s
    scaleDownUnneededTime: 10m
namespaces: [{name: demo}]
virtualMachines:
  - {name: vm, namespace: demo}
kubevirt: {vmiStartDelay: 5s}
)";
    StoreOptions so;
    so.clock = &clock_;
    auto store = Store::Open(so);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    ClusterOptions o;
    o.scenario_path = path_;
    o.time_scale = 10;  // 5 s → 500 ms, 30 s → 3 s of fake time
    o.clock = &clock_;
    o.start_thread = false;
    auto c = Install(*store_, o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c);
  }
  void TearDown() override {
    if (cluster_) cluster_->Stop();
    std::remove(path_.c_str());
  }
  // A few passes: each controller's writes feed the next one's reads.
  void Settle() {
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(cluster_->RunOnce().ok());
  }
  std::string Phase() {
    auto vmi = store_->Get(kVmi, "demo", "vm");
    if (!vmi.ok() || !vmi->contains("status")) return "";
    return (*vmi)["status"].value("phase", "");
  }
  std::string NodeOf(const std::string& pod) {
    auto p = store_->Get(gvr::kPods, "default", pod);
    if (!p.ok()) return "";
    return (*p)["spec"].value("nodeName", "");
  }

  FakeClock clock_;
  std::string path_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Cluster> cluster_;
};

TEST_F(ControllersOnFakeClock, VmiStartDelayIsScaledSimulatedTime) {
  Settle();
  EXPECT_EQ(Phase(), "Scheduled");
  clock_.Advance(400ms);
  Settle();
  EXPECT_EQ(Phase(), "Scheduled");
  clock_.Advance(150ms);
  Settle();
  EXPECT_EQ(Phase(), "Running");
}

TEST_F(ControllersOnFakeClock, NodeGroupGrowsAfterItsScaleUpDelay) {
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "big"}, {"namespace", "default"}}},
              {"spec", {{"containers", Json::array({{{"name", "c"}, {"resources", {{"requests", {{"cpu", "4"}}}}}}})}}}};
  ASSERT_TRUE(store_->Create(gvr::kPods, "default", pod).ok());
  Settle();
  EXPECT_EQ(NodeOf("big"), "");
  EXPECT_FALSE(store_->Get(gvr::kNodes, "", "burst-0").ok());
  clock_.Advance(2900ms);
  Settle();
  EXPECT_FALSE(store_->Get(gvr::kNodes, "", "burst-0").ok());
  clock_.Advance(200ms);
  Settle();
  EXPECT_EQ(NodeOf("big"), "burst-0");
}

const GroupVersionResource kProvReq{"autoscaling.x-k8s.io", "v1", "provisioningrequests"};

Json PodTemplate(const std::string& name, const std::string& cpu) {
  return {{"apiVersion", "v1"},
          {"kind", "PodTemplate"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"template",
           {{"spec", {{"containers", Json::array({{{"name", "c"}, {"resources", {{"requests", {{"cpu", cpu}}}}}}})}}}}}};
}

Json ProvisioningRequest(const std::string& name, const std::string& cls, const std::string& tmpl,
                         Json parameters = Json::object()) {
  Json spec = {{"provisioningClassName", cls},
               {"podSets", Json::array({{{"podTemplateRef", {{"name", tmpl}}}, {"count", 1}}})}};
  if (!parameters.empty()) spec["parameters"] = parameters;
  return {{"apiVersion", "autoscaling.x-k8s.io/v1"},
          {"kind", "ProvisioningRequest"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", spec}};
}

class ProvisioningRequestsOnFakeClock : public ControllersOnFakeClock {
 protected:
  Json Condition(const std::string& pr, const std::string& type) {
    auto obj = store_->Get(kProvReq, "default", pr);
    if (!obj.ok()) return nullptr;
    for (const auto& c : (*obj)["status"].value("conditions", Json::array())) {
      if (c.value("type", "") == type) return c;
    }
    return nullptr;
  }
};

TEST_F(ProvisioningRequestsOnFakeClock, BookedCapacityRemovedWithItsNodeIsRevoked) {
  ASSERT_TRUE(store_->Create(gvr::Core("podtemplates"), "default", PodTemplate("small", "1")).ok());
  ASSERT_TRUE(store_->Create(kProvReq, "default",
                             ProvisioningRequest("book", "check-capacity.autoscaling.x-k8s.io", "small")).ok());
  Settle();
  ASSERT_EQ(Condition("book", "Provisioned").value("status", ""), "True");
  EXPECT_TRUE(Condition("book", "CapacityRevoked").is_null());
  // The scenario's only fixed node goes: what was booked on it is gone.
  ASSERT_TRUE(store_->Delete(gvr::kNodes, "", "node-1").ok());
  Settle();
  Json revoked = Condition("book", "CapacityRevoked");
  ASSERT_FALSE(revoked.is_null());
  EXPECT_EQ(revoked["status"], "True");
  EXPECT_EQ(revoked["reason"], "CapacityIsRevoked");
  EXPECT_NE(revoked["message"].get<std::string>().find("node-1"), std::string::npos);
  EXPECT_TRUE(Condition("book", "BookingExpired").is_null());
}

TEST_F(ProvisioningRequestsOnFakeClock, BookingSurvivesANodeItDoesNotNeed) {
  ASSERT_TRUE(store_->Create(gvr::Core("podtemplates"), "default", PodTemplate("tiny", "100m")).ok());
  Json extra = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "node-2"}}},
                {"status", {{"capacity", {{"cpu", "2"}, {"memory", "4Gi"}, {"pods", "110"}}},
                            {"allocatable", {{"cpu", "2"}, {"memory", "4Gi"}, {"pods", "110"}}},
                            {"conditions", Json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
  ASSERT_TRUE(store_->Create(gvr::kNodes, "", extra).ok());
  ASSERT_TRUE(store_->Create(kProvReq, "default",
                             ProvisioningRequest("book", "check-capacity.autoscaling.x-k8s.io", "tiny")).ok());
  Settle();
  ASSERT_EQ(Condition("book", "Provisioned").value("status", ""), "True");
  ASSERT_TRUE(store_->Delete(gvr::kNodes, "", "node-2").ok());
  Settle();
  EXPECT_TRUE(Condition("book", "CapacityRevoked").is_null());  // node-1 still holds it
  // ... until the booking time (10 min simulated = 60 s of fake time) is up.
  clock_.Advance(61s);
  Settle();
  EXPECT_EQ(Condition("book", "BookingExpired").value("reason", ""), "CapacityReservationTimeExpired");
}

TEST_F(ProvisioningRequestsOnFakeClock, AtomicScaleUpFailsAfterValidUntilSeconds) {
  // 16 CPUs fit no node and no node group: CA keeps trying until ValidUntilSeconds.
  ASSERT_TRUE(store_->Create(gvr::Core("podtemplates"), "default", PodTemplate("huge", "16")).ok());
  ASSERT_TRUE(store_->Create(kProvReq, "default",
                             ProvisioningRequest("atomic", "best-effort-atomic-scale-up.autoscaling.x-k8s.io", "huge",
                                                 {{"ValidUntilSeconds", "60"}}))
                  .ok());
  Settle();
  EXPECT_EQ(Condition("atomic", "Provisioned").value("reason", ""), "CapacityIsNotFound");
  clock_.Advance(5900ms);  // 59 s simulated
  Settle();
  EXPECT_TRUE(Condition("atomic", "Failed").is_null());
  clock_.Advance(200ms);
  Settle();
  Json failed = Condition("atomic", "Failed");
  ASSERT_FALSE(failed.is_null());
  EXPECT_EQ(failed["status"], "True");
  EXPECT_EQ(failed["reason"], "Expired");
  EXPECT_EQ(failed["message"], "ProvisioningRequest is expired");
}

}  // namespace
}  // namespace prescient::sim::cluster
