#include "placement/capacity.h"

#include <gtest/gtest.h>

#include "api/codec.h"
#include "placement/testing.h"

namespace prescient::placement {
namespace {

using namespace testing;  // NOLINT

TEST(LedgerTest, HeldOnCountsReservationsOnce) {
  struct Case {
    const char* name;
    CapacityView view;
    Resources held;
    Resources remaining;  // of reservation demo/r on demo/vm
  };
  const Case cases[] = {
      {"empty", MakeView().Obj(), {}, {}},
      {"plain holds add up",
       MakeView().Add(MakeHold("a", "vm").Amount(500, kGiB).Obj()).Add(MakeHold("b", "vm").Amount(250, kGiB).Obj())
           .Add(MakeHold("c", "other").Amount(1000, kGiB).Obj()).Obj(),
       {750, 2 * kGiB}, {}},
      {"reservation counts in full", MakeView().Reserve("r", "vm", 1000, 2 * kGiB).Obj(), {1000, 2 * kGiB}, {1000, 2 * kGiB}},
      {"runs inside a reservation use its share",
       MakeView().Reserve("r", "vm", 1000, 2 * kGiB).Add(MakeHold("a", "vm").Amount(500, kGiB).Reservation("r").Obj()).Obj(),
       {1000, 2 * kGiB}, {500, kGiB}},
      {"beyond the share counts again",
       MakeView().Reserve("r", "vm", 1000, 2 * kGiB).Add(MakeHold("a", "vm").Amount(1500, kGiB).Reservation("r").Obj()).Obj(),
       {1500, 2 * kGiB}, {0, kGiB}},
      {"a reservation held elsewhere is a plain hold here",
       MakeView().Reserve("r", "elsewhere", 1000, 2 * kGiB).Add(MakeHold("a", "vm").Amount(500, kGiB).Reservation("r").Obj()).Obj(),
       {500, kGiB}, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.view.ledger.HeldOn("demo/vm"), c.held);
    EXPECT_EQ(c.view.ledger.ReservationRemaining("demo/r", "demo/vm"), c.remaining);
  }
}

TEST(LedgerTest, AddReplacesAndRemoveForgets) {
  CapacityLedger l;
  l.AddHold(MakeHold("a", "vm").Amount(500, kGiB).Obj());
  l.AddHold(MakeHold("a", "vm").Amount(700, kGiB).Obj());
  EXPECT_EQ(l.holds().size(), 1u);
  EXPECT_EQ(l.HeldOn("demo/vm").cpu_milli, 700);
  EXPECT_TRUE(l.RemoveHold("demo/a"));
  EXPECT_FALSE(l.RemoveHold("demo/a"));
  EXPECT_EQ(l.HeldOn("demo/vm"), Resources{});
}

api::CommandRun RunFromJson(const char* json_text) {
  api::FieldErrors errs;
  api::CommandRun r = api::CommandRunFromJson(nlohmann::json::parse(json_text), &errs);
  EXPECT_TRUE(errs.empty()) << api::Summarize(errs);
  return r;
}

TEST(LedgerTest, RebuildsFromStatusAlone) {
  std::vector<api::CommandRun> runs = {
      RunFromJson(R"({"metadata": {"name": "allocated", "namespace": "demo", "creationTimestamp": "2026-01-01T00:00:00Z"},
              "spec": {"command": "x", "target": {"vmName": "vm"}, "priorityClassName": "high"},
              "status": {"phase": "Allocated", "allocation": {"instanceID": "vm", "cpuCores": "500m", "memory": "1Gi"}}})"),
      RunFromJson(R"({"metadata": {"name": "running", "namespace": "demo"},
              "spec": {"command": "x", "target": {"vmName": "vm"}, "priority": 7, "allowPreemptionWhileRunning": true},
              "status": {"phase": "Running", "allocation": {"instanceID": "vm", "cpuCores": 1, "memory": "2Gi",
                                                            "reservationName": "r"}}})"),
      RunFromJson(R"({"metadata": {"name": "done", "namespace": "demo"}, "spec": {"command": "x", "target": {"vmName": "vm"}},
              "status": {"phase": "Succeeded", "allocation": {"instanceID": "vm", "cpuCores": 1, "memory": "2Gi"}}})"),
      RunFromJson(R"({"metadata": {"name": "queued", "namespace": "demo"}, "spec": {"command": "x", "target": {"vmName": "vm"}},
              "status": {"phase": "Queued"}})"),
  };
  api::ResourceReservation bound, pending;
  bound.metadata.name = "r";
  bound.metadata.ns = "demo";
  bound.status.phase = api::ReservationPhase::kBound;
  bound.status.bound_instances.push_back({"vm", "node-1", 2000, 4 * kGiB});
  pending = bound;
  pending.metadata.name = "p";
  pending.status.phase = api::ReservationPhase::kPending;
  CapacityLedger l = CapacityLedger::Rebuild(runs, {bound, pending}, {{"high", 1000}});
  ASSERT_EQ(l.holds().size(), 2u);
  const Hold* a = l.FindHold("demo/allocated");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->instance, "demo/vm");
  EXPECT_EQ(a->amount, (Resources{500, kGiB}));
  EXPECT_EQ(a->priority, 1000);
  EXPECT_FALSE(a->started);
  EXPECT_EQ(a->created, Time(std::chrono::seconds(1767225600)));  // 2026-01-01T00:00:00Z
  const Hold* r = l.FindHold("demo/running");
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->started);
  EXPECT_TRUE(r->preemptible_while_running);
  EXPECT_EQ(r->priority, 7);
  EXPECT_EQ(r->reservation, "demo/r");
  EXPECT_EQ(l.FindHold("demo/done"), nullptr);
  ASSERT_EQ(l.reservations().size(), 1u);
  // 2 CPU / 4 GiB reserved (the running run inside it) + 500m / 1 GiB allocated.
  EXPECT_EQ(l.HeldOn("demo/vm"), (Resources{2500, 5 * kGiB}));
}

TEST(ResolvePriorityTest, Table) {
  const std::map<std::string, int32_t> classes = {{"high", 1000}, {"low", 100}};
  struct Case {
    const char* name;
    std::optional<int32_t> priority;
    std::optional<std::string> cls;
    int32_t want;
    bool known;
  };
  const Case cases[] = {
      {"none", std::nullopt, std::nullopt, 0, true},
      {"explicit", 42, std::nullopt, 42, true},
      {"class", std::nullopt, "high", 1000, true},
      {"unknown class", std::nullopt, "urgent", 0, false},
      {"explicit wins", -5, "high", -5, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    api::CommandRunSpec s;
    s.priority = c.priority;
    s.priority_class_name = c.cls;
    bool known = true;
    EXPECT_EQ(ResolvePriority(s, classes, &known), c.want);
    EXPECT_EQ(known, c.known);
  }
}

TEST(CapacityViewTest, CandidatesAndFree) {
  CapacityView v = MakeView()
                       .Add(MakeInstance("b").Pool("workers").Label("app", "x").Obj())
                       .Add(MakeInstance("a").Pool("workers").Obj())
                       .Add(MakeInstance("a", "prod").Pool("workers").Obj())
                       .Add(MakeHold("h", "a").Amount(500, kGiB).Obj())
                       .Obj();
  api::Target pool;
  pool.vm_pool_name = "workers";
  auto c = v.Candidates("demo", pool);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0]->name, "a");  // name order
  api::Target sel;
  sel.vm_selector = api::LabelSelector{{{"app", "x"}}, {}};
  ASSERT_EQ(v.Candidates("demo", sel).size(), 1u);
  Policy p;
  p.guest_reserved = {250, 256 * kMiB};
  EXPECT_EQ(v.Usable(*c[0], p), (Resources{1750, 2 * kGiB - 256 * kMiB}));
  EXPECT_EQ(v.Free(*c[0], p), (Resources{1250, kGiB - 256 * kMiB}));
  // Never negative.
  v.ledger.AddHold(MakeHold("big", "a").Amount(9000, 9 * kGiB).Obj());
  EXPECT_EQ(v.Free(*v.FindInstance("demo/a"), p), Resources{});
}

}  // namespace
}  // namespace prescient::placement
