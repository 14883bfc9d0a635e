// Tests of the adapter only: that the snapshot reaches src/placement intact and the decision comes
// back as the action the reconciler applies. The decisions themselves are tested with tables in
// src/placement (place_test, queue_test, preemption_test, quota_test, reservation_test, ...).
#include "controller/plan.h"

#include <functional>

#include <gtest/gtest.h>

#include "controller/test_runs.h"
#include "placement/resources.h"

namespace prescient::controller {
namespace {

constexpr int64_t Mi = 1LL << 20;
constexpr int64_t Gi = 1LL << 30;

// Fluent builders, Kueue style.
struct Inst {
  InstanceView v;
  explicit Inst(std::string name) {
    v.ns = "default";
    v.name = std::move(name);
    v.node = "n1";
    v.running = true;
    v.sockets = 1;
    v.cores = 2;
    v.max_sockets = 4;
    v.memory_bytes = 2 * Gi;
    v.max_guest = 8 * Gi;
    v.desired_sockets = 1;
    v.desired_guest = 2 * Gi;
  }
  Inst& NoHotplug() { v.max_sockets = v.sockets; v.max_guest = 0; return *this; }
  Inst& InFlight(int desired_sockets, int64_t desired_guest) {
    v.hotplug_in_flight = true;
    v.desired_sockets = desired_sockets;
    v.desired_guest = desired_guest;
    return *this;
  }
  Inst& Launcher(int64_t cpu, int64_t mem) { v.launcher_cpu_milli = cpu; v.launcher_memory_bytes = mem; return *this; }
  InstanceView Obj() const { return v; }
};

// Placement numbers in these tables are easier to read without the guest OS's share.
ControllerPolicy Policy0() {
  ControllerPolicy p;
  p.placement.guest_reserved = {0, 0};
  return p;
}

NodeView Node(std::string name, int64_t cpu, int64_t mem) {
  NodeView n;
  n.name = std::move(name);
  n.allocatable_cpu_milli = cpu;
  n.allocatable_memory_bytes = mem;
  return n;
}

QuotaView Quota(std::string name, bool owned, std::optional<int64_t> hard_mem, int64_t used_mem,
                std::optional<int64_t> hard_cpu = std::nullopt, int64_t used_cpu = 0) {
  QuotaView q;
  q.ns = "default";
  q.name = std::move(name);
  q.owned = owned;
  q.hard_memory_bytes = hard_mem;
  q.used_memory_bytes = used_mem;
  q.hard_cpu_milli = hard_cpu;
  q.used_cpu_milli = used_cpu;
  return q;
}

PlacementRequest Req(std::string name, int64_t cpu, int64_t mem, std::string vm = "vm1") {
  PlacementRequest r;
  r.run_key = "default/" + name;
  r.run_uid = "uid-" + name;
  r.ns = "default";
  r.target.vm_name = std::move(vm);
  r.cpu_milli = cpu;
  r.memory_bytes = mem;
  return r;
}

Holding Held(std::string run, std::string inst, int64_t cpu, int64_t mem, int32_t priority = 0) {
  Holding h;
  h.run_key = "default/" + run;
  h.run_uid = "uid-" + run;
  h.instance = "default/" + inst;
  h.cpu_milli = cpu;
  h.memory_bytes = mem;
  h.priority = priority;
  return h;
}

ClusterSnapshot Snap(std::vector<InstanceView> insts, std::vector<NodeView> nodes = {Node("n1", 16000, 64 * Gi)}) {
  ClusterSnapshot s;
  for (auto& i : insts) s.instances[i.ns + "/" + i.name] = i;
  for (auto& n : nodes) s.nodes[n.name] = n;
  return s;
}

ReservationView Reservation(std::string name, std::string instance, int64_t cpu, int64_t mem) {
  ReservationView r;
  r.ns = "default";
  r.name = std::move(name);
  r.spec.resources.cpu_milli = cpu;
  r.spec.resources.memory_bytes = mem;
  r.instance = "default/" + instance;
  r.phase = api::ReservationPhase::kBound;
  return r;
}

TEST(CapacityViewOf, CarriesTheSnapshotIntoPlacement) {
  NodeView cordoned = Node("n2", 8000, 16 * Gi);
  cordoned.schedulable = false;
  NodeView not_ready = Node("n3", 8000, 16 * Gi);
  not_ready.ready = false;
  ClusterSnapshot s = Snap({Inst("vm1").Launcher(300, 2 * Gi + 300 * Mi).Obj(), Inst("vm2").InFlight(2, 2 * Gi).Obj()},
                           {Node("n1", 16000, 64 * Gi), cordoned, not_ready});
  s.instances["other/vm9"] = Inst("vm9").Obj();
  s.instances["other/vm9"].ns = "other";
  s.quotas["default"] = {Quota("prescient", true, 6 * Gi, 2 * Gi, 4000, 1000), Quota("team", false, 10 * Gi, 7 * Gi),
                         Quota("tight", false, 5 * Gi, 3 * Gi, 2000, 1500)};
  s.holdings = {Held("a", "vm1", 500, 512 * Mi, 7)};
  s.reservations["default/r"] = Reservation("r", "vm1", 250, 256 * Mi);
  ReservationView inactive = Reservation("old", "vm1", 1000, 1 * Gi);
  inactive.active = false;
  s.reservations["default/old"] = inactive;

  placement::CapacityView v = CapacityViewOf(s, "default");
  ASSERT_EQ(v.instances.size(), 2u);  // only the namespace's
  const placement::Instance* vm1 = v.FindInstance("default/vm1");
  ASSERT_NE(vm1, nullptr);
  EXPECT_EQ(vm1->vcpus(), 2);
  EXPECT_EQ(vm1->MaxVcpus(), 8);
  EXPECT_EQ(vm1->vm_name, "vm1");
  ASSERT_TRUE(vm1->launcher.has_value());
  EXPECT_EQ(*vm1->launcher, (placement::Resources{300, 2 * Gi + 300 * Mi}));
  EXPECT_FALSE(vm1->HotplugBusy());
  EXPECT_TRUE(v.FindInstance("default/vm2")->migration_in_flight);  // any hotplug: nothing else starts
  EXPECT_FALSE(v.FindInstance("default/vm2")->launcher.has_value());

  ASSERT_EQ(v.nodes.size(), 3u);
  for (const auto& n : v.nodes) EXPECT_EQ(n.schedulable, n.name == "n1") << n.name;

  const placement::NamespaceQuota& q = v.quotas.at("default");
  ASSERT_TRUE(q.owned.has_value());
  EXPECT_EQ(q.owned->hard, (placement::Resources{4000, 6 * Gi}));
  EXPECT_EQ(q.owned->used, (placement::Resources{1000, 2 * Gi}));
  ASSERT_TRUE(q.other_headroom.has_value());
  // The tightest of the others per resource: CPU from "tight" (team does not constrain CPU), memory 2Gi.
  EXPECT_EQ(q.other_headroom->cpu_milli, 500);
  EXPECT_EQ(q.other_headroom->memory_bytes, 2 * Gi);

  // Held: the run plus the active reservation's full share; the inactive one holds nothing.
  EXPECT_EQ(v.ledger.HeldOn("default/vm1"), (placement::Resources{750, 768 * Mi}));
  ASSERT_NE(v.ledger.FindHold("default/a"), nullptr);
  EXPECT_EQ(v.ledger.FindHold("default/a")->priority, 7);
}

TEST(AdmitInOrder, TranslatesEachDecisionIntoTheReconcilersAction) {
  ControllerPolicy policy = Policy0();
  struct Case {
    std::string name;
    ClusterSnapshot snap;
    PlacementRequest req;
    std::vector<PlacementRequest> others;
    std::function<void(const AdmissionResult&)> check;
  };
  std::vector<Case> cases;
  cases.push_back({"fits", Snap({Inst("vm1").Obj()}), Req("a", 500, 512 * Mi), {}, [](const AdmissionResult& r) {
                     EXPECT_EQ(r.plan.kind, PlanKind::kFit);
                     EXPECT_EQ(r.plan.instance, "default/vm1");
                     EXPECT_EQ(r.position, 0);
                   }});
  {
    // No launcher pod seen: KubeVirt's formula stands in for it.
    const int64_t running_pod = placement::LauncherRequests(2, 2 * Gi).memory_bytes;
    ClusterSnapshot s = Snap({Inst("vm1").Obj()});
    s.quotas["default"] = {Quota("prescient", true, 5 * Gi, running_pod)};
    cases.push_back({"grows with the owned quota raised for both pods", s, Req("a", 500, 3 * Gi), {},
                     [running_pod](const AdmissionResult& r) {
                       ASSERT_EQ(r.plan.kind, PlanKind::kGrow) << r.plan.message;
                       EXPECT_EQ(r.plan.instance, "default/vm1");
                       EXPECT_EQ(r.plan.grow.from_guest, 2 * Gi);
                       EXPECT_GE(r.plan.grow.to_guest, 3 * Gi);
                       const int64_t new_pod = placement::LauncherRequests(2, r.plan.grow.to_guest).memory_bytes;
                       EXPECT_EQ(r.plan.grow.new_pod_memory_bytes, new_pod);
                       EXPECT_EQ(r.plan.grow.quota_name, "prescient");
                       ASSERT_TRUE(r.plan.grow.quota_memory_bytes.has_value());
                       EXPECT_EQ(*r.plan.grow.quota_memory_bytes, running_pod + new_pod);
                       EXPECT_FALSE(r.plan.grow.quota_cpu_milli.has_value());  // the quota does not constrain CPU
                     }});
  }
  cases.push_back({"no node for the second pod: provision one", Snap({Inst("vm1").Obj()}, {Node("n1", 16000, 3 * Gi)}),
                   Req("a", 500, 3 * Gi), {}, [](const AdmissionResult& r) {
                     ASSERT_EQ(r.plan.kind, PlanKind::kProvisionNodes) << r.plan.message;
                     EXPECT_EQ(r.plan.instance, "default/vm1");
                     EXPECT_GT(r.plan.grow.new_pod_memory_bytes, 3 * Gi);
                     EXPECT_EQ(r.position, 1);
                   }});
  {
    ClusterSnapshot s = Snap({Inst("vm1").NoHotplug().Obj()});
    s.holdings = {Held("low", "vm1", 2000, 2 * Gi, 1)};
    PlacementRequest high = Req("high", 1000, 1 * Gi);
    high.priority = 100;
    cases.push_back({"preempts a lower-priority run that has not started", s, high, {}, [](const AdmissionResult& r) {
                       EXPECT_EQ(r.plan.kind, PlanKind::kQueue);
                       EXPECT_EQ(r.plan.reason, "Preempting");
                       EXPECT_EQ(r.plan.victims, std::vector<std::string>{"default/low"});
                     }});
    s.holdings[0].started = true;
    cases.push_back({"never a started one", s, high, {}, [](const AdmissionResult& r) {
                       EXPECT_EQ(r.plan.kind, PlanKind::kQueue);
                       EXPECT_TRUE(r.plan.victims.empty());
                       EXPECT_EQ(r.position, 1);
                     }});
  }
  {
    PlacementRequest first = Req("first", 1500, 1536 * Mi);
    first.created = api::Time{} + std::chrono::seconds(1);
    PlacementRequest second = Req("second", 1500, 1536 * Mi);
    second.created = api::Time{} + std::chrono::seconds(2);
    cases.push_back({"queue order decides who fits", Snap({Inst("vm1").NoHotplug().Obj()}), second, {first},
                     [](const AdmissionResult& r) {
                       EXPECT_EQ(r.plan.kind, PlanKind::kQueue);
                       EXPECT_EQ(r.position, 1);
                     }});
  }
  cases.push_back({"larger than the maxima is rejected", Snap({Inst("vm1").Obj()}), Req("a", 500, 64 * Gi), {},
                   [](const AdmissionResult& r) {
                     EXPECT_EQ(r.plan.kind, PlanKind::kReject);
                     EXPECT_NE(r.plan.message.find("larger than any candidate"), std::string::npos) << r.plan.message;
                   }});
  {
    ClusterSnapshot s = Snap({Inst("vm1").NoHotplug().Obj()});
    s.reservations["default/r"] = Reservation("r", "vm1", 1000, 1 * Gi);
    s.holdings = {Held("x", "vm1", 1000, 1 * Gi)};
    PlacementRequest mine = Req("mine", 1000, 1 * Gi);
    mine.reservation = "default/r";
    cases.push_back({"draws on its reservation", s, mine, {Req("other", 500, 512 * Mi)}, [](const AdmissionResult& r) {
                       EXPECT_EQ(r.plan.kind, PlanKind::kFit);
                       EXPECT_EQ(r.plan.reservation, "r");
                     }});
    PlacementRequest early = mine;
    early.reservation.clear();
    early.reservation_error_reason = "ReservationNotActive";
    early.reservation_error_message = "reservation r: its window has not started";
    cases.push_back({"waits for its reservation's window", s, early, {}, [](const AdmissionResult& r) {
                       EXPECT_EQ(r.plan.kind, PlanKind::kQueue);
                       EXPECT_EQ(r.plan.reason, "ReservationNotActive");
                     }});
    PlacementRequest stranger = early;
    stranger.reservation_error_reason = "ReservationUserMismatch";
    cases.push_back({"may never use the reservation it names", s, stranger, {}, [](const AdmissionResult& r) {
                       EXPECT_EQ(r.plan.kind, PlanKind::kReject);
                       EXPECT_EQ(r.plan.reason, "ReservationUserMismatch");
                     }});
  }
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    c.check(AdmitInOrder(c.req, c.others, c.snap, policy));
  }
}

TEST(RequestFor, ResolvesPriorityAndTheReservationItDrawsOn) {
  ClusterSnapshot s = Snap({Inst("vm1").Obj()});
  s.priority_classes["high"] = 1000;
  ReservationView r = Reservation("nightly", "vm1", 500, 512 * Mi);
  r.spec.users = {"backup-bot"};
  s.reservations["default/nightly"] = r;
  api::CommandRun run;
  run.metadata.ns = "default";
  run.metadata.name = "backup";
  run.spec.command = "tar c /data";
  run.spec.target.vm_name = "vm1";
  run.spec.priority_class_name = "high";
  run.spec.user = "backup-bot";
  run.status.prediction = api::Prediction{};
  run.status.prediction->cpu_milli = 300;
  run.status.prediction->memory_bytes = 128 * Mi;
  PlacementRequest req = RequestFor(run, s, api::Time{});
  EXPECT_EQ(req.priority, 1000);
  EXPECT_EQ(req.cpu_milli, 300);
  EXPECT_EQ(req.reservation, "default/nightly");  // picked up by its user without naming it
  run.spec.user = "someone";
  run.spec.reservation_name = "nightly";
  req = RequestFor(run, s, api::Time{});
  EXPECT_EQ(req.reservation, "");
  EXPECT_EQ(req.reservation_error_reason, "ReservationUserMismatch");
}

// The shared builder's run, as this test's cluster knows it: name "run", uid "uid-run".
api::CommandRun RunningOn(int64_t alloc_mem, int64_t used, std::optional<double> throttled = std::nullopt) {
  api::CommandRun r = testing::RunningRun(alloc_mem, used, throttled);
  r.metadata.name = "run";
  r.metadata.uid = "uid-run";
  return r;
}

TEST(PlanRunningGrowth, TheOperatorsPolicyThroughPlacement) {
  // The operator's defaults (0.9 threshold, growthFactor 1.5, memoryStep 256Mi, throttle 0.2, cpuStep
  // 1000m) applied by placement::DecideRunningGrowth; a 4-CPU 8Gi VM has the room.
  ControllerPolicy policy = Policy0();
  ClusterSnapshot s = Snap({Inst("vm1").Obj()});
  s.instances["default/vm1"].sockets = 2;
  s.instances["default/vm1"].memory_bytes = 8 * Gi;
  auto capped = [](api::CommandRun r, int64_t max_mem) {
    r.spec.resources = api::ResourceBounds{};
    r.spec.resources->max = api::ResourceAmounts{};
    r.spec.resources->max->memory_bytes = max_mem;
    return r;
  };
  api::CommandRun allocated = RunningOn(1000 * Mi, 950 * Mi);
  allocated.status.phase = api::RunPhase::kAllocated;
  struct Case {
    std::string name;
    api::CommandRun run;
    PlanKind want;
    std::string reason;
    int64_t want_mem, want_cpu;
  };
  std::vector<Case> cases = {
      {"below threshold", RunningOn(1000 * Mi, 800 * Mi), PlanKind::kQueue, "", 1000 * Mi, 1000},
      // 950Mi x 1.5 = 1425Mi, aligned to KubeVirt's 2Mi.
      {"at 95%: grow by factor", RunningOn(1000 * Mi, 950 * Mi), PlanKind::kFit, "UsageNearAllocation", 1426 * Mi, 1000},
      {"at 91%: at least a memoryStep", RunningOn(1000 * Mi, 910 * Mi), PlanKind::kFit, "UsageNearAllocation", 1366 * Mi, 1000},
      {"bounded by spec max", capped(RunningOn(1000 * Mi, 950 * Mi), 1200 * Mi), PlanKind::kFit, "UsageNearAllocation",
       1200 * Mi, 1000},
      {"already at spec max", capped(RunningOn(1000 * Mi, 950 * Mi), 1000 * Mi), PlanKind::kQueue, "AtUpperBound",
       1000 * Mi, 1000},
      {"throttled: more cpu", RunningOn(1000 * Mi, 100 * Mi, 0.5), PlanKind::kFit, "UsageNearAllocation", 1000 * Mi, 2000},
      {"lightly throttled: nothing", RunningOn(1000 * Mi, 100 * Mi, 0.1), PlanKind::kQueue, "", 1000 * Mi, 1000},
      {"not running yet", allocated, PlanKind::kQueue, "", 0, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    s.holdings = {Held("run", "vm1", 1000, c.run.status.allocation->memory_bytes)};
    RunningGrowthPlan g = PlanRunningGrowth(c.run, 0, s, policy);
    EXPECT_EQ(g.plan.kind, c.want) << g.plan.message;
    EXPECT_EQ(g.plan.reason, c.reason);
    EXPECT_EQ(WantsRunningGrowth(c.run, 0, policy), !c.reason.empty());
    if (c.want_mem) {
      EXPECT_EQ(g.memory_bytes, c.want_mem);
      EXPECT_EQ(g.cpu_milli, c.want_cpu);
    }
  }
}

TEST(PlanRunningGrowth, SustainedThrottlingWhenThePolicyAsksForIt) {
  ControllerPolicy policy = Policy0();
  policy.placement.cpu_throttle_sustain_seconds = 30;
  ClusterSnapshot s = Snap({Inst("vm1").Obj()});
  s.holdings = {Held("run", "vm1", 1000, 1 * Gi)};
  api::CommandRun r = RunningOn(1 * Gi, 100 * Mi, 0.5);
  EXPECT_FALSE(WantsRunningGrowth(r, 10, policy));
  EXPECT_EQ(PlanRunningGrowth(r, 10, s, policy).plan.kind, PlanKind::kQueue);
  RunningGrowthPlan g = PlanRunningGrowth(r, 30, s, policy);
  EXPECT_EQ(g.plan.kind, PlanKind::kFit) << g.plan.message;
  EXPECT_EQ(g.cpu_milli, 2000);
}

TEST(PlanRunningGrowth, RoomThenHotplugThenWait) {
  ControllerPolicy policy = Policy0();
  ClusterSnapshot s = Snap({Inst("vm1").Obj()});
  // 1Gi held of a 2Gi VM: 1000Mi used grows it to 1500Mi, which fits.
  s.holdings = {Held("run", "vm1", 500, 1 * Gi)};
  api::CommandRun r = RunningOn(1 * Gi, 1000 * Mi);
  r.status.allocation->cpu_milli = 500;
  RunningGrowthPlan g = PlanRunningGrowth(r, 0, s, policy);
  EXPECT_EQ(g.plan.kind, PlanKind::kFit) << g.plan.message;
  EXPECT_EQ(g.memory_bytes, 1500 * Mi);
  // 2000Mi used: 3000Mi does not fit the 2Gi VM, which is hotplugged first.
  r.status.usage->peaks.memory_bytes = 2000 * Mi;
  s.holdings = {Held("run", "vm1", 500, 2000 * Mi)};
  r.status.allocation->memory_bytes = 2000 * Mi;
  g = PlanRunningGrowth(r, 0, s, policy);
  ASSERT_EQ(g.plan.kind, PlanKind::kGrow) << g.plan.message;
  EXPECT_GE(g.plan.grow.to_guest, 3000 * Mi);
  s.instances["default/vm1"] = Inst("vm1").InFlight(1, 3 * Gi).Obj();
  g = PlanRunningGrowth(r, 0, s, policy);
  EXPECT_EQ(g.plan.kind, PlanKind::kQueue);
  EXPECT_EQ(g.plan.reason, "HotplugInProgress");
  // A run that holds nothing there any more is not grown.
  s.holdings.clear();
  EXPECT_EQ(PlanRunningGrowth(r, 0, s, policy).plan.reason, "InstanceNotFound");
}

TEST(QuotaForMigration, KeepsRoomForTheSecondPodWhileTheHotplugRuns) {
  InstanceView inst = Inst("vm1").InFlight(1, 4 * Gi).Launcher(200, 2 * Gi + 300 * Mi).Obj();
  ClusterSnapshot s = Snap({inst});
  s.quotas["default"] = {Quota("prescient", true, 5 * Gi, 2 * Gi + 300 * Mi)};
  GrowPlan g = QuotaForMigration(inst, s);
  // The running pod's observed overhead carries over to the larger one.
  const int64_t want = 2 * Gi + 300 * Mi + (placement::LauncherRequests(2, 4 * Gi).memory_bytes -
                                            placement::LauncherRequests(2, 2 * Gi).memory_bytes);
  EXPECT_EQ(g.new_pod_memory_bytes, want);
  EXPECT_EQ(g.quota_name, "prescient");
  ASSERT_TRUE(g.quota_memory_bytes.has_value());
  EXPECT_EQ(*g.quota_memory_bytes, 2 * Gi + 300 * Mi + want);
  s.quotas["default"] = {Quota("prescient", true, 16 * Gi, 2 * Gi + 300 * Mi)};
  EXPECT_FALSE(QuotaForMigration(inst, s).quota_memory_bytes.has_value());  // room enough already
}

}  // namespace
}  // namespace prescient::controller
