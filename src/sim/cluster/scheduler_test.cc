#include "sim/cluster/scheduler.h"

#include <gtest/gtest.h>

#include "sim/cluster/test_builders.h"

namespace prescient::sim::cluster {
namespace {

using testing::kGi;
using testing::MakeNode;
using testing::MakePod;

TEST(Scheduler, FitFailuresTable) {
  NodeInfo node = MakeNode("n1").Cpu(2000).Mem(4 * kGi).Pods(3).Label("zone", "a").Taint("gpu", "true").Obj();
  struct Case {
    std::string name;
    PodInfo pod;
    ResourceList used;
    std::vector<std::string> want;
  } cases[] = {
      {"fits", MakePod("p").Cpu("1").Tolerate("gpu").Info(), {}, {}},
      {"cpu exhausted", MakePod("p").Cpu("1500m").Tolerate("gpu").Info(), {{"cpu", 1000}}, {"Insufficient cpu"}},
      {"exact fit", MakePod("p").Cpu("1").Mem("1Gi").Tolerate("gpu").Info(), {{"cpu", 1000}, {"memory", 3 * kGi}}, {}},
      {"both short", MakePod("p").Cpu("3").Mem("5Gi").Tolerate("gpu").Info(), {}, {"Insufficient cpu", "Insufficient memory"}},
      {"pods full", MakePod("p").Tolerate("gpu").Info(), {{"pods", 3}}, {"Too many pods"}},
      {"taint", MakePod("p").Cpu("1").Info(), {}, {"node(s) had untolerated taint {gpu: true}"}},
      {"selector", MakePod("p").Selector("zone", "b").Tolerate("gpu").Info(), {}, {"node(s) didn't match Pod's node affinity/selector"}},
      {"extended resource absent", MakePod("p").Request("devices.kubevirt.io/kvm", "1").Tolerate("gpu").Info(), {},
       {"Insufficient devices.kubevirt.io/kvm"}},
  };
  for (const auto& c : cases) EXPECT_EQ(FitFailures(c.pod, node, c.used), c.want) << c.name;
  EXPECT_EQ(FitFailures(MakePod("p").Tolerate("gpu").Info(), MakeNode("c").Cpu(1000).Cordoned().Obj(), {}),
            std::vector<std::string>{"node(s) were unschedulable"});
}

TEST(Scheduler, RequiredNodeAffinityTable) {
  NodeInfo node = MakeNode("n1").Cpu(2000).Label("zone", "a").Label("gen", "5").Obj();
  const std::vector<std::string> mismatch = {"node(s) didn't match Pod's node affinity/selector"};
  struct Case {
    std::string name;
    PodInfo pod;
    bool fits;
  } cases[] = {
      {"In", MakePod("p").Affinity("zone", "In", {"a", "b"}).Info(), true},
      {"In other", MakePod("p").Affinity("zone", "In", {"b"}).Info(), false},
      {"NotIn", MakePod("p").Affinity("zone", "NotIn", {"b"}).Info(), true},
      {"NotIn own", MakePod("p").Affinity("zone", "NotIn", {"a"}).Info(), false},
      {"NotIn absent label", MakePod("p").Affinity("gpu", "NotIn", {"x"}).Info(), true},
      {"Exists", MakePod("p").Affinity("zone", "Exists").Info(), true},
      {"Exists absent", MakePod("p").Affinity("gpu", "Exists").Info(), false},
      {"DoesNotExist", MakePod("p").Affinity("gpu", "DoesNotExist").Info(), true},
      {"Gt", MakePod("p").Affinity("gen", "Gt", {"4"}).Info(), true},
      {"Lt", MakePod("p").Affinity("gen", "Lt", {"5"}).Info(), false},
      {"terms are ORed", MakePod("p").Affinity("zone", "In", {"b"}).Affinity("gen", "Exists").Info(), true},
      {"expressions are ANDed", MakePod("p").Affinity("zone", "In", {"a"}).AndAffinity("gpu", "Exists").Info(), false},
      {"matchFields name", MakePod("p").Affinity("metadata.name", "In", {"n1"}).Info(), true},
      {"matchFields other", MakePod("p").Affinity("metadata.name", "In", {"n2"}).Info(), false},
      {"selector and affinity both apply", MakePod("p").Selector("zone", "b").Affinity("zone", "Exists").Info(), false},
      {"unknown operator", MakePod("p").Affinity("zone", "Like", {"a"}).Info(), false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(FitFailures(c.pod, node, {}), c.fits ? std::vector<std::string>{} : mismatch) << c.name;
    EXPECT_EQ(PassesNodeFilters(c.pod, node), c.fits) << c.name;
  }
  // Scheduling picks the node the affinity allows, and explains when none does.
  std::vector<NodeInfo> nodes = {MakeNode("a").Cpu(4000).Label("zone", "a").Obj(),
                                 MakeNode("b").Cpu(8000).Label("zone", "b").Obj()};
  EXPECT_EQ(PickNode(MakePod("p").Cpu("1").Affinity("zone", "In", {"a"}).Info(), nodes, {}).node, "a");
  ScheduleResult none = PickNode(MakePod("p").Affinity("zone", "In", {"c"}).Info(), nodes, {});
  EXPECT_EQ(none.node, "");
  EXPECT_NE(none.message.find("2 node(s) didn't match Pod's node affinity/selector"), std::string::npos) << none.message;
}

TEST(Scheduler, PreferredNodeAffinityTable) {
  // a is the fuller node, so without preferences b (least allocated) wins; c is too small.
  std::vector<NodeInfo> nodes = {
      MakeNode("a").Cpu(4000).Mem(8 * kGi).Label("zone", "a").Label("gen", "5").Label("ssd", "true").Obj(),
      MakeNode("b").Cpu(4000).Mem(8 * kGi).Label("zone", "b").Label("gen", "3").Label("gpu", "x").Obj(),
      MakeNode("c").Cpu(1000).Mem(8 * kGi).Label("zone", "c").Obj()};
  NodeUsage usage = {{"a", {{"cpu", 1500}, {"memory", 2 * kGi}}}, {"b", {{"cpu", 500}}}};
  struct Case {
    std::string name;
    PodInfo pod;
    std::string want;
  } cases[] = {
      {"no preference: least allocated", MakePod("p").Cpu("2").Info(), "b"},
      {"In", MakePod("p").Cpu("2").Prefer(1, "zone", "In", {"a"}).Info(), "a"},
      {"NotIn", MakePod("p").Cpu("2").Prefer(5, "zone", "NotIn", {"b"}).Info(), "a"},
      {"Exists", MakePod("p").Cpu("2").Prefer(5, "ssd", "Exists").Info(), "a"},
      {"DoesNotExist", MakePod("p").Cpu("2").Prefer(5, "gpu", "DoesNotExist").Info(), "a"},
      {"Gt", MakePod("p").Cpu("2").Prefer(5, "gen", "Gt", {"4"}).Info(), "a"},
      {"Lt", MakePod("p").Cpu("2").Prefer(5, "gen", "Lt", {"4"}).Info(), "b"},
      {"matchFields metadata.name", MakePod("p").Cpu("2").Prefer(5, "metadata.name", "In", {"a"}).Info(), "a"},
      {"weights are summed over matching terms",
       MakePod("p").Cpu("2").Prefer(30, "zone", "In", {"b"}).Prefer(20, "gen", "Gt", {"4"}).Prefer(20, "ssd", "Exists").Info(),
       "a"},
      {"the heavier term wins",
       MakePod("p").Cpu("2").Prefer(50, "zone", "In", {"b"}).Prefer(20, "gen", "Gt", {"4"}).Prefer(20, "ssd", "Exists").Info(),
       "b"},
      {"only fitting nodes count", MakePod("p").Cpu("2").Prefer(100, "zone", "In", {"c"}).Info(), "b"},
      {"an empty preference matches nothing", MakePod("p").Cpu("2").Prefer(100).Info(), "b"},
      {"weight 0 counts for nothing", MakePod("p").Cpu("2").Prefer(0, "zone", "In", {"a"}).Info(), "b"},
      {"required affinity still filters", MakePod("p").Cpu("2").Affinity("zone", "In", {"b"}).Prefer(100, "zone", "In", {"a"}).Info(),
       "b"},
  };
  for (const auto& c : cases) EXPECT_EQ(PickNode(c.pod, nodes, usage).node, c.want) << c.name;

  PodInfo pod = MakePod("p").Prefer(30, "zone", "In", {"b"}).Prefer(20, "gen", "Gt", {"4"}).Prefer(20, "ssd", "Exists").Info();
  EXPECT_EQ(PreferredAffinityWeight(pod, nodes[0]), 40);
  EXPECT_EQ(PreferredAffinityWeight(pod, nodes[1]), 30);
  EXPECT_EQ(PreferredAffinityWeight(pod, nodes[2]), 0);
  // Least allocated still counts: a matches the lighter term only (normalized 75 of 100) but is
  // empty; b matches the heavier one: b wins while it has room, a once b is full.
  std::vector<NodeInfo> two = {MakeNode("a").Cpu(4000).Mem(8 * kGi).Label("ssd", "true").Obj(),
                               MakeNode("b").Cpu(4000).Mem(8 * kGi).Label("zone", "b").Obj()};
  PodInfo both = MakePod("p").Prefer(15, "ssd", "Exists").Prefer(20, "zone", "In", {"b"}).Info();
  EXPECT_EQ(PickNode(both, two, {{"b", {{"cpu", 1000}, {"memory", 2 * kGi}}}}).node, "b");
  EXPECT_EQ(PickNode(both, two, {{"b", {{"cpu", 4000}, {"memory", 8 * kGi}}}}).node, "a");  // b is full
}

TEST(Scheduler, PicksLeastAllocatedNodeAndExplainsFailures) {
  std::vector<NodeInfo> nodes = {MakeNode("a").Cpu(4000).Mem(8 * kGi).Obj(), MakeNode("b").Cpu(4000).Mem(8 * kGi).Obj(),
                                 MakeNode("c").Cpu(8000).Mem(8 * kGi).Taint("dedicated", "db").Obj()};
  NodeUsage usage = {{"a", {{"cpu", 3000}, {"memory", 1 * kGi}}}, {"b", {{"cpu", 1000}, {"memory", 1 * kGi}}}};
  EXPECT_EQ(PickNode(MakePod("p").Cpu("500m").Info(), nodes, usage).node, "b");
  auto r = PickNode(MakePod("big").Cpu("3500m").Info(), nodes, usage);
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(r.message, "0/3 nodes are available: 2 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: db}.");
  EXPECT_EQ(PickNode(MakePod("p").Info(), {}, {}).message, "no nodes available to schedule pods");
}

TEST(Scheduler, PreemptionPicksFewestLowestPriorityVictims) {
  std::vector<NodeInfo> nodes = {MakeNode("a").Cpu(4000).Mem(8 * kGi).Obj(), MakeNode("b").Cpu(4000).Mem(8 * kGi).Obj()};
  struct Case {
    std::string name;
    PodInfo pod;
    std::vector<PodInfo> bound;
    std::string want_node;
    std::vector<std::string> want_victims;
  } cases[] = {
      {"balloons on a make room",
       MakePod("real").Cpu("2").Priority(0).Info(),
       {MakePod("balloon-1").Cpu("2").Priority(-10).Node("a").Info(), MakePod("balloon-2").Cpu("2").Priority(-10).Node("a").Info(),
        MakePod("app").Cpu("3").Priority(100).Node("b").Info()},
       "a",
       {"default/balloon-2"}},  // reprieve keeps the first (name order)
      {"never evicts equal or higher priority",
       MakePod("real").Cpu("2").Priority(0).Info(),
       {MakePod("x").Cpu("3").Priority(0).Node("a").Info(), MakePod("y").Cpu("3").Priority(5).Node("b").Info()},
       "",
       {}},
      {"prefers the node whose victims have the lowest priority",
       MakePod("real").Cpu("2").Priority(100).Info(),
       {MakePod("mid").Cpu("3").Priority(50).Node("a").Info(), MakePod("low").Cpu("3").Priority(-10).Node("b").Info()},
       "b",
       {"default/low"}},
      {"several victims when one is not enough",
       MakePod("real").Cpu("3").Priority(10).Info(),
       {MakePod("l1").Cpu("1500m").Priority(-10).Node("a").Info(), MakePod("l2").Cpu("1500m").Priority(-10).Node("a").Info(),
        MakePod("l3").Cpu("1").Priority(-5).Node("a").Info(), MakePod("h").Cpu("4").Priority(1000).Node("b").Info()},
       "a",
       {"default/l1", "default/l2"}},
  };
  for (const auto& c : cases) {
    Preemption p = FindPreemption(c.pod, nodes, c.bound);
    EXPECT_EQ(p.node, c.want_node) << c.name;
    EXPECT_EQ(p.victims, c.want_victims) << c.name;
  }
  PodInfo never = MakePod("n").Cpu("2").Priority(100).Info();
  never.preemption_never = true;
  EXPECT_EQ(FindPreemption(never, nodes, {MakePod("b").Cpu("4").Priority(-10).Node("a").Info()}).node, "");
}

}  // namespace
}  // namespace prescient::sim::cluster
