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

}  // namespace
}  // namespace prescient::sim::cluster
