#include "placement/queue.h"

#include <gtest/gtest.h>

#include "placement/testing.h"

namespace prescient::placement {
namespace {

using namespace testing;  // NOLINT

std::vector<std::string> Order(std::vector<PlacementRequest> rs) {
  SortQueue(&rs);
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(r.run);
  return out;
}

TEST(QueueOrderTest, PriorityThenAgeThenName) {
  EXPECT_EQ(Order({MakeRequest("low-old").Priority(1).Created(0).Obj(), MakeRequest("high-new").Priority(9).Created(5).Obj()}),
            (std::vector<std::string>{"demo/high-new", "demo/low-old"}));
  EXPECT_EQ(Order({MakeRequest("young").Created(5).Obj(), MakeRequest("old").Created(1).Obj()}),
            (std::vector<std::string>{"demo/old", "demo/young"}));
  EXPECT_EQ(Order({MakeRequest("b").Created(1).Obj(), MakeRequest("a").Created(1).Obj()}),
            (std::vector<std::string>{"demo/a", "demo/b"}));
  EXPECT_EQ(Order({MakeRequest("neg").Priority(-5).Obj(), MakeRequest("zero").Obj()}),
            (std::vector<std::string>{"demo/zero", "demo/neg"}));
}

struct Want {
  std::string run;
  std::string kind;  // Fit, Grow, Preempt, ScalePool, ProvisionNodes, Queue, Reject
  int position;
  std::string detail = "";  // instance for Fit, reason for Queue
};

std::string KindOf(const PlacementDecision& d) {
  static const char* kNames[] = {"Fit", "Grow", "Preempt", "ScalePool", "ProvisionNodes", "Queue", "Reject"};
  return kNames[d.index()];
}

std::string DetailOf(const PlacementDecision& d) {
  if (auto* f = std::get_if<Fit>(&d)) return f->instance;
  if (auto* q = std::get_if<Queue>(&d)) return q->reason;
  if (auto* g = std::get_if<Grow>(&d)) return g->plan.instance;
  if (auto* p = std::get_if<Preempt>(&d)) return p->victims.empty() ? "" : p->victims[0];
  return "";
}

TEST(PlanAdmissionsTest, Table) {
  const Instance small = MakeInstance("small-vm").Obj();  // 2 CPU, 2 GiB, no hotplug
  struct Case {
    const char* name;
    CapacityView view;
    std::vector<PlacementRequest> waiting;
    std::vector<Want> want;  // in queue order
  };
  const Case cases[] = {
      {"both fit, in order", MakeView().Add(small).Obj(),
       {MakeRequest("b").Need(1000, kGiB).Created(2).Obj(), MakeRequest("a").Need(1000, kGiB).Created(1).Obj()},
       {{"demo/a", "Fit", 0, "demo/small-vm"}, {"demo/b", "Fit", 0, "demo/small-vm"}}},
      {"second does not fit after the first", MakeView().Add(small).Obj(),
       {MakeRequest("a").Need(1500, 1536 * kMiB).Created(1).Obj(), MakeRequest("b").Need(1000, kGiB).Created(2).Obj()},
       {{"demo/a", "Fit", 0, "demo/small-vm"}, {"demo/b", "Queue", 1, kReasonInsufficientCapacity}}},
      {"high priority first even when younger", MakeView().Add(small).Obj(),
       {MakeRequest("low").Need(1500, 1536 * kMiB).Priority(100).Created(1).Obj(),
        MakeRequest("high").Need(1500, 1536 * kMiB).Priority(1000).Created(2).Obj()},
       {{"demo/high", "Fit", 0, "demo/small-vm"}, {"demo/low", "Queue", 1, kReasonInsufficientCapacity}}},
      {"a waiting big run holds the instance back from smaller ones",
       MakeView().Add(small).Add(MakeHold("running", "small-vm").Amount(1000, kGiB).Started().Obj()).Obj(),
       {MakeRequest("big").Need(2000, 2 * kGiB).Priority(10).Created(1).Obj(),
        MakeRequest("small").Need(500, 512 * kMiB).Priority(1).Created(2).Obj()},
       {{"demo/big", "Queue", 1, kReasonInsufficientCapacity}, {"demo/small", "Queue", 2, kReasonHigherPriorityWaiting}}},
      {"other instances stay usable",
       MakeView().Add(MakeInstance("a").Label("app", "x").Obj()).Add(MakeInstance("other").Obj())
           .Add(MakeHold("running", "a").Amount(1000, kGiB).Started().Obj()).Obj(),
       {MakeRequest("big").Selector("app", "x").Need(2000, 2 * kGiB).Priority(10).Obj(),
        MakeRequest("small").VmName("other").Need(500, 512 * kMiB).Priority(1).Obj()},
       {{"demo/big", "Queue", 1, kReasonInsufficientCapacity}, {"demo/small", "Fit", 0, "demo/other"}}},
      {"a reservation run is admitted while others wait",
       MakeView().Add(small).Reserve("r", "small-vm", 1000, kGiB).Add(MakeHold("x", "small-vm").Amount(1000, kGiB).Started().Obj()).Obj(),
       {MakeRequest("big").Need(1500, 1536 * kMiB).Priority(10).Created(1).Obj(),
        MakeRequest("reserved").Need(1000, kGiB).Created(2).Reservation("demo/r").Obj()},
       {{"demo/big", "Queue", 1, kReasonInsufficientCapacity}, {"demo/reserved", "Fit", 0, "demo/small-vm"}}},
      // The operator applies decisions run by run: room a preemption frees is not handed out (Fit)
      // before the victim is gone, but later runs may count on the same victims for what is left.
      {"a pending preemption frees no room for plain fits in the same pass",
       MakeView().Add(small).Add(MakeHold("low", "small-vm").Amount(2000, 2 * kGiB).Priority(1).Obj()).Obj(),
       {MakeRequest("high").Need(1000, kGiB).Priority(100).Obj(), MakeRequest("mid").Need(1000, kGiB).Priority(50).Obj(),
        MakeRequest("third").Need(1000, kGiB).Priority(40).Obj()},
       {{"demo/high", "Preempt", 0, "demo/low"}, {"demo/mid", "Preempt", 0, "demo/low"},
        {"demo/third", "Queue", 1, kReasonInsufficientCapacity}}},
      {"one hotplug per instance per pass",
       MakeView().Add(MakeInstance("small-vm").MaxGuest(8 * kGiB).Obj()).Add(MakeNode("node-1").Obj()).Obj(),
       {MakeRequest("a").Need(500, 3 * kGiB).Created(1).Obj(), MakeRequest("b").Need(500, 3 * kGiB).Created(2).Obj()},
       {{"demo/a", "Grow", 1, "demo/small-vm"}, {"demo/b", "Queue", 2, kReasonHigherPriorityWaiting}}},
      {"one pool scale-up, the next run waits for it",
       MakeView().Add([] { Pool p; p.name = "workers"; p.ns = "demo"; p.replicas = 0; p.max_replicas = 5;
                           p.shape = MakeInstance("s").Vcpus(2).Memory(4 * kGiB).Obj(); return p; }())
           .Add(MakeNode("node-1").Obj()).Obj(),
       {MakeRequest("a").Pool("workers").Need(1000, kGiB).Created(1).Obj(),
        MakeRequest("b").Pool("workers").Need(1000, kGiB).Created(2).Obj()},
       {{"demo/a", "ScalePool", 1}, {"demo/b", "Queue", 2, kReasonWaitingForPool}}},
      {"rejected runs take no position", MakeView().Add(small).Obj(),
       {MakeRequest("huge").Need(64000, kGiB).Priority(10).Obj(), MakeRequest("ok").Need(500, kGiB).Obj()},
       {{"demo/huge", "Reject", 0}, {"demo/ok", "Fit", 0, "demo/small-vm"}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = PlanAdmissions(c.waiting, c.view, PlainPolicy());
    ASSERT_EQ(got.size(), c.want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      SCOPED_TRACE(c.want[i].run);
      EXPECT_EQ(got[i].run, c.want[i].run);
      EXPECT_EQ(KindOf(got[i].decision), c.want[i].kind) << Describe(got[i].decision);
      EXPECT_EQ(got[i].position, c.want[i].position);
      if (!c.want[i].detail.empty()) {
        EXPECT_EQ(DetailOf(got[i].decision), c.want[i].detail) << Describe(got[i].decision);
      }
    }
  }
}

}  // namespace
}  // namespace prescient::placement
