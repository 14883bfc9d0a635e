#include "placement/preemption.h"

#include <gtest/gtest.h>

#include "placement/testing.h"

namespace prescient::placement {
namespace {

using namespace testing;  // NOLINT

TEST(SelectVictimsTest, Table) {
  // small-vm: 2 CPU, 2 GiB. The request needs 1 CPU, 1 GiB at priority 100.
  const Instance vm = MakeInstance("small-vm").Obj();
  struct Case {
    const char* name;
    std::vector<Hold> holds;
    std::vector<std::string> victims;  // empty: no plan
    int32_t priority = 100;
  };
  const Case cases[] = {
      {"one low run is enough", {MakeHold("low", "small-vm").Amount(2000, 2 * kGiB).Priority(1).Obj()}, {"demo/low"}},
      {"lowest priority goes first",
       {MakeHold("p10", "small-vm").Amount(1000, kGiB).Priority(10).Obj(),
        MakeHold("p5", "small-vm").Amount(1000, kGiB).Priority(5).Obj()},
       {"demo/p5"}},
      {"newest goes first among equals",
       {MakeHold("old", "small-vm").Amount(1000, kGiB).Priority(5).Created(1).Obj(),
        MakeHold("new", "small-vm").Amount(1000, kGiB).Priority(5).Created(9).Obj()},
       {"demo/new"}},
      {"not started before started",
       {MakeHold("running", "small-vm").Amount(1000, kGiB).Priority(1).Started().PreemptibleWhileRunning().Obj(),
        MakeHold("waiting", "small-vm").Amount(1000, kGiB).Priority(50).Obj()},
       {"demo/waiting"}},
      {"several when one is not enough",
       {MakeHold("a", "small-vm").Amount(700, 700 * kMiB).Priority(1).Obj(),
        MakeHold("b", "small-vm").Amount(700, 700 * kMiB).Priority(2).Obj(),
        MakeHold("c", "small-vm").Amount(600, 600 * kMiB).Priority(3).Obj()},
       {"demo/a", "demo/b"}},
      {"unneeded victims are dropped",
       {MakeHold("tiny", "small-vm").Amount(100, 100 * kMiB).Priority(1).Obj(),
        MakeHold("big", "small-vm").Amount(1900, 1948 * kMiB).Priority(2).Obj()},
       {"demo/big"}},
      {"a running run that allows it is a victim",
       {MakeHold("running", "small-vm").Amount(2000, 2 * kGiB).Priority(1).Started().PreemptibleWhileRunning().Obj()},
       {"demo/running"}},
      {"a preemptible running run of equal priority is safe",
       {MakeHold("running", "small-vm").Amount(2000, 2 * kGiB).Priority(100).Started().PreemptibleWhileRunning().Obj()},
       {}},
      {"running runs are safe", {MakeHold("r", "small-vm").Amount(2000, 2 * kGiB).Priority(1).Started().Obj()}, {}},
      {"equal priority is safe", {MakeHold("eq", "small-vm").Amount(2000, 2 * kGiB).Priority(100).Obj()}, {}},
      {"reservation holds are safe",
       {MakeHold("res", "small-vm").Amount(2000, 2 * kGiB).Priority(1).Reservation("r").Obj()}, {}},
      // The instance is over-committed while the victim's own hotplug is in flight (it holds more
      // than the VM has yet): displacing it frees only what exists now.
      {"over-committed by a growing victim: only what exists counts",
       {MakeHold("growing", "small-vm").Amount(3000, 3 * kGiB).Priority(1).Obj(),
        MakeHold("peer", "small-vm").Amount(1500, 1536 * kMiB).Priority(500).Obj()},
       {}},
      {"not enough even with every victim",
       {MakeHold("low", "small-vm").Amount(500, 512 * kMiB).Priority(1).Obj(),
        MakeHold("high", "small-vm").Amount(1500, 1536 * kMiB).Priority(500).Obj()},
       {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    MakeView mv;
    mv.Add(vm);
    for (const Hold& h : c.holds) mv.Add(h);
    CapacityView view = mv.Obj();
    PlacementRequest req = MakeRequest("high").Need(1000, kGiB).Priority(c.priority).Obj();
    auto plan = SelectVictims(req, view.Candidates("demo", req.target), view, PlainPolicy());
    if (c.victims.empty()) {
      EXPECT_FALSE(plan.has_value()) << plan->victims.size();
    } else {
      ASSERT_TRUE(plan.has_value());
      EXPECT_EQ(plan->victims, c.victims);
      EXPECT_EQ(plan->instance, "demo/small-vm");
    }
  }
}

TEST(SelectVictimsTest, PrefersTheInstanceWithFewerVictims) {
  CapacityView view = MakeView()
                          .Add(MakeInstance("a").Label("app", "x").Obj())
                          .Add(MakeInstance("b").Label("app", "x").Obj())
                          .Add(MakeHold("a1", "a").Amount(1000, kGiB).Priority(1).Obj())
                          .Add(MakeHold("a2", "a").Amount(1000, kGiB).Priority(1).Obj())
                          .Add(MakeHold("b1", "b").Amount(2000, 2 * kGiB).Priority(1).Obj())
                          .Obj();
  PlacementRequest req = MakeRequest("r").Selector("app", "x").Need(2000, 2 * kGiB).Priority(10).Obj();
  auto plan = SelectVictims(req, view.Candidates("demo", req.target), view, PlainPolicy());
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->instance, "demo/b");
  EXPECT_EQ(plan->victims, std::vector<std::string>{"demo/b1"});
  EXPECT_EQ(plan->freed, (Resources{2000, 2 * kGiB}));
}

}  // namespace
}  // namespace prescient::placement
