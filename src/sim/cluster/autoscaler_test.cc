#include "sim/cluster/autoscaler.h"

#include <gtest/gtest.h>

#include "sim/cluster/test_builders.h"

namespace prescient::sim::cluster {
namespace {

using testing::kGi;
using testing::MakeNode;
using testing::MakePod;

NodeGroupSpec Group(const std::string& name, int64_t cpu_milli, int64_t mem, int max, Labels labels = {}) {
  NodeGroupSpec g;
  g.name = name;
  g.max_size = max;
  g.node_template.capacity = {{"cpu", cpu_milli}, {"memory", mem}, {"pods", 110}};
  g.node_template.labels = std::move(labels);
  return g;
}

TEST(Autoscaler, ScaleUpTable) {
  NodeGroupSpec small = Group("small", 2000, 4 * kGi, 3);
  NodeGroupSpec big = Group("big", 8000, 32 * kGi, 2);
  NodeGroupSpec gpu = Group("gpu", 8000, 32 * kGi, 5, {{"accel", "gpu"}});
  struct Case {
    std::string name;
    std::vector<PodInfo> pods;
    std::vector<GroupCapacity> groups;
    std::string want_group;
    int want_nodes;
    size_t want_helped;
  } cases[] = {
      {"one pod, smallest count wins tie by order", {MakePod("a").Cpu("1").Info()}, {{&small, 0}, {&big, 0}}, "small", 1, 1},
      {"three 1.5-cpu pods: big needs 1 node, small 3", {MakePod("a").Cpu("1500m").Info(), MakePod("b").Cpu("1500m").Info(),
        MakePod("c").Cpu("1500m").Info()}, {{&small, 0}, {&big, 0}}, "big", 1, 3},
      {"capped at max size", {MakePod("a").Cpu("1500m").Info(), MakePod("b").Cpu("1500m").Info(), MakePod("c").Cpu("1500m").Info()},
       {{&small, 2}}, "small", 1, 1},
      {"group at max cannot help", {MakePod("a").Cpu("1").Info()}, {{&small, 3}}, "", 0, 0},
      {"too big for every template", {MakePod("a").Cpu("16").Info()}, {{&small, 0}, {&big, 0}}, "", 0, 0},
      {"selector picks the matching group", {MakePod("a").Cpu("1").Selector("accel", "gpu").Info()},
       {{&small, 0}, {&gpu, 0}}, "gpu", 1, 1},
  };
  for (const auto& c : cases) {
    ScaleUpOption o = PlanScaleUp(c.pods, c.groups);
    EXPECT_EQ(o.group, c.want_group) << c.name;
    EXPECT_EQ(o.new_nodes, c.want_nodes) << c.name;
    EXPECT_EQ(o.helped_pods.size(), c.want_helped) << c.name;
  }
}

TEST(Autoscaler, CheckCapacityBooksOrRefuses) {
  std::vector<NodeInfo> nodes = {MakeNode("a").Cpu(4000).Mem(8 * kGi).Pods(110).Obj()};
  NodeUsage usage = {{"a", {{"cpu", 1000}, {"pods", 1}}}};
  std::vector<PodInfo> three = {MakePod("1").Cpu("1").Info(), MakePod("2").Cpu("1").Info(), MakePod("3").Cpu("1").Info()};
  EXPECT_TRUE(CapacityAvailable(three, nodes, usage));
  EXPECT_EQ(usage["a"]["cpu"], 4000);  // booked
  EXPECT_FALSE(CapacityAvailable({MakePod("4").Cpu("100m").Info()}, nodes, usage));
  EXPECT_EQ(usage["a"]["cpu"], 4000);  // unchanged on failure
}

TEST(Autoscaler, AtomicScaleUpAllOrNothing) {
  NodeGroupSpec small = Group("small", 2000, 4 * kGi, 3);
  std::vector<NodeInfo> nodes = {MakeNode("a").Cpu(2000).Mem(4 * kGi).Pods(110).Obj()};
  std::vector<PodInfo> pods;
  for (int i = 0; i < 4; ++i) pods.push_back(MakePod("p" + std::to_string(i)).Cpu("1").Info());
  // 2 fit node a, 2 need one new node.
  AtomicScaleUp a = PlanAtomicScaleUp(pods, nodes, {}, {{&small, 0}});
  EXPECT_TRUE(a.feasible);
  EXPECT_EQ(a.group, "small");
  EXPECT_EQ(a.new_nodes, 1);
  // 10 pods: 8 extra need 4 nodes > max 3: nothing.
  std::vector<PodInfo> ten;
  for (int i = 0; i < 10; ++i) ten.push_back(MakePod("q" + std::to_string(i)).Cpu("1").Info());
  EXPECT_FALSE(PlanAtomicScaleUp(ten, nodes, {}, {{&small, 0}}).feasible);
  // Fits already: feasible with no new nodes.
  AtomicScaleUp none = PlanAtomicScaleUp({MakePod("x").Cpu("1").Info()}, nodes, {}, {{&small, 0}});
  EXPECT_TRUE(none.feasible);
  EXPECT_EQ(none.new_nodes, 0);
}

}  // namespace
}  // namespace prescient::sim::cluster
