#include "controller/plan.h"

#include <gtest/gtest.h>

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
    v.launcher_cpu_milli = 200;
    v.launcher_memory_bytes = 2 * Gi + 300 * Mi;
  }
  Inst& Cpu(int sockets, int cores) { v.sockets = sockets; v.cores = cores; return *this; }
  Inst& Mem(int64_t b) { v.memory_bytes = b; return *this; }
  Inst& MaxGuest(int64_t b) { v.max_guest = b; return *this; }
  Inst& NoHotplug() { v.max_sockets = v.sockets; v.max_guest = v.memory_bytes; return *this; }
  Inst& InFlight() { v.hotplug_in_flight = true; return *this; }
  Inst& Pool(std::string p) { v.pool = std::move(p); return *this; }
  Inst& Label(std::string k, std::string val) { v.labels[k] = val; return *this; }
  InstanceView Obj() const { return v; }
};

// Placement numbers in these tables are easier to read without the guest OS's share.
ControllerPolicy Policy0() {
  ControllerPolicy p;
  p.guest_reserved_cpu_milli = 0;
  p.guest_reserved_memory_bytes = 0;
  return p;
}

NodeView Node(std::string name, int64_t free_cpu, int64_t free_mem) {
  NodeView n;
  n.name = std::move(name);
  n.allocatable_cpu_milli = free_cpu;
  n.allocatable_memory_bytes = free_mem;
  return n;
}

QuotaView Quota(bool owned, int64_t hard_mem, int64_t used_mem) {
  QuotaView q;
  q.ns = "default";
  q.name = owned ? "prescient" : "team";
  q.owned = owned;
  q.hard_memory_bytes = hard_mem;
  q.used_memory_bytes = used_mem;
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

Holding Held(std::string run, std::string inst, int64_t cpu, int64_t mem) {
  Holding h;
  h.run_key = "default/" + run;
  h.run_uid = "uid-" + run;
  h.instance = "default/" + inst;
  h.cpu_milli = cpu;
  h.memory_bytes = mem;
  return h;
}

ClusterSnapshot Snap(std::vector<InstanceView> insts, std::vector<NodeView> nodes = {Node("n1", 16000, 64 * Gi)}) {
  ClusterSnapshot s;
  for (auto& i : insts) s.instances[i.ns + "/" + i.name] = i;
  for (auto& n : nodes) s.nodes[n.name] = n;
  return s;
}

TEST(Place, Table) {
  ControllerPolicy policy = Policy0();
  struct Case {
    std::string name;
    ClusterSnapshot snap;
    PlacementRequest req;
    PlanKind want;
    std::string want_instance;
    std::string want_reason;
  };
  std::vector<Case> cases;
  cases.push_back({"small run fits", Snap({Inst("vm1").Obj()}), Req("a", 500, 512 * Mi), PlanKind::kFit, "default/vm1", "Fits"});
  {
    auto s = Snap({Inst("vm1").Obj()});
    s.holdings.push_back(Held("x", "vm1", 1500, 1 * Gi));
    cases.push_back({"held capacity forces growth", s, Req("a", 1000, 1536 * Mi), PlanKind::kGrow, "default/vm1", "Growing"});
  }
  cases.push_back({"memory-heavy run grows memory", Snap({Inst("vm1").Obj()}), Req("a", 500, 3 * Gi), PlanKind::kGrow,
                   "default/vm1", "Growing"});
  cases.push_back({"larger than the maxima is rejected", Snap({Inst("vm1").Obj()}), Req("a", 500, 64 * Gi), PlanKind::kReject,
                   "", "Unschedulable"});
  cases.push_back({"no hotplug and full: rejected when never possible", Snap({Inst("vm1").NoHotplug().Obj()}),
                   Req("a", 500, 3 * Gi), PlanKind::kReject, "", "Unschedulable"});
  {
    auto s = Snap({Inst("vm1").NoHotplug().Obj()});
    s.holdings.push_back(Held("x", "vm1", 1000, 1536 * Mi));
    cases.push_back({"no hotplug, room held by others: queued", s, Req("a", 500, 1 * Gi), PlanKind::kQueue, "", "CapacityInUse"});
  }
  cases.push_back({"hotplug in flight: wait", Snap({Inst("vm1").InFlight().Obj()}), Req("a", 500, 3 * Gi), PlanKind::kQueue, "",
                   "HotplugInProgress"});
  cases.push_back({"no node room for the grown pod: provision nodes", Snap({Inst("vm1").Obj()}, {Node("n1", 16000, 3 * Gi)}),
                   Req("a", 500, 3 * Gi), PlanKind::kProvisionNodes, "default/vm1", "WaitingForNodes"});
  {
    auto s = Snap({Inst("vm1").Obj()});
    s.quotas["default"].push_back(Quota(false, 5 * Gi, 2 * Gi + 300 * Mi));
    cases.push_back({"a quota the operator does not own blocks growth", s, Req("a", 500, 3 * Gi), PlanKind::kQueue, "",
                     "QuotaExceeded"});
  }
  {
    auto s = Snap({Inst("vm1").Obj(), Inst("vm2").Mem(4 * Gi).Obj()});
    PlacementRequest r = Req("a", 500, 1 * Gi, "");
    r.target = api::Target{};
    r.target.vm_selector = api::LabelSelector{};
    cases.push_back({"best fit picks the tighter instance", s, r, PlanKind::kFit, "default/vm1", "Fits"});
  }
  {
    auto s = Snap({Inst("p-0").Pool("p").NoHotplug().Obj()});
    s.holdings.push_back(Held("x", "p-0", 2000, 2 * Gi));
    s.pools["default/p"] = PoolView{"default", "p", 1, 3};
    PlacementRequest r = Req("a", 500, 1 * Gi, "");
    r.target = api::Target{};
    r.target.vm_pool_name = "p";
    cases.push_back({"a full pool with room to grow scales", s, r, PlanKind::kScalePool, "", "ScalingPool"});
  }
  for (const auto& c : cases) {
    PlacementPlan p = Place(c.req, c.snap, policy);
    EXPECT_EQ(PlanKindName(p.kind), std::string(PlanKindName(c.want))) << c.name << ": " << p.message;
    if (!c.want_instance.empty()) {
      EXPECT_EQ(p.instance, c.want_instance) << c.name;
    }
    EXPECT_EQ(p.reason, c.want_reason) << c.name;
  }
}

TEST(Place, GrowRaisesTheOwnedQuotaForTheMigrationsSecondPod) {
  ControllerPolicy policy = Policy0();
  auto s = Snap({Inst("vm1").Obj()});
  // used = the running launcher pod; the new (bigger) pod must fit on top of it.
  s.quotas["default"].push_back(Quota(true, 5 * Gi, 2 * Gi + 300 * Mi));
  PlacementPlan p = Place(Req("a", 500, 3 * Gi), s, policy);
  ASSERT_EQ(p.kind, PlanKind::kGrow) << p.message;
  EXPECT_EQ(p.grow.to_guest, 3 * Gi);
  EXPECT_EQ(p.grow.new_pod_memory_bytes, 3 * Gi + 303 * Mi);  // + 1Gi/512 page tables + 1Mi rounding
  ASSERT_TRUE(p.grow.quota_memory_bytes.has_value());
  EXPECT_EQ(*p.grow.quota_memory_bytes, (2 * Gi + 300 * Mi) + (3 * Gi + 303 * Mi));
  EXPECT_EQ(p.grow.quota_name, "prescient");
}

TEST(Place, GrowsCpuBySockets) {
  ControllerPolicy policy = Policy0();
  PlacementPlan p = Place(Req("a", 3000, 512 * Mi), Snap({Inst("vm1").Obj()}), policy);
  ASSERT_EQ(p.kind, PlanKind::kGrow);
  EXPECT_EQ(p.grow.from_sockets, 1);
  EXPECT_EQ(p.grow.to_sockets, 2);  // 2 cores per socket: 4 vCPUs >= 3
  EXPECT_EQ(p.grow.new_pod_cpu_milli, 200 + 2 * 100);
}

TEST(AdmitInOrder, HigherPriorityTakesTheRoomFirst) {
  ControllerPolicy policy = Policy0();
  auto s = Snap({Inst("vm1").NoHotplug().Obj()});
  PlacementRequest low = Req("low", 1500, 1 * Gi);
  low.priority = 10;
  low.created = api::Time{} + std::chrono::seconds(1);
  PlacementRequest high = Req("high", 1500, 1 * Gi);
  high.priority = 1000;
  high.created = api::Time{} + std::chrono::seconds(2);  // younger, but more important
  auto r_low = AdmitInOrder(low, {low, high}, s, policy);
  EXPECT_EQ(r_low.plan.kind, PlanKind::kQueue);
  EXPECT_EQ(r_low.position, 1);
  auto r_high = AdmitInOrder(high, {low, high}, s, policy);
  EXPECT_EQ(r_high.plan.kind, PlanKind::kFit);
}

TEST(AdmitInOrder, SmallRunsBehindABlockedOneStillFit) {
  ControllerPolicy policy = Policy0();
  auto s = Snap({Inst("vm1").NoHotplug().Obj()});
  PlacementRequest big = Req("big", 500, 4 * Gi);  // never fits a non-hotpluggable 2Gi VM: rejected
  PlacementRequest mid = Req("mid", 1500, 1536 * Mi);
  mid.created = api::Time{} + std::chrono::seconds(1);
  PlacementRequest small = Req("small", 400, 256 * Mi);
  small.created = api::Time{} + std::chrono::seconds(2);
  PlacementRequest late = Req("late", 1000, 1 * Gi);
  late.created = api::Time{} + std::chrono::seconds(3);
  std::vector<PlacementRequest> all{big, mid, small, late};
  EXPECT_EQ(AdmitInOrder(mid, all, s, policy).plan.kind, PlanKind::kFit);
  EXPECT_EQ(AdmitInOrder(small, all, s, policy).plan.kind, PlanKind::kFit);
  auto r = AdmitInOrder(late, all, s, policy);
  EXPECT_EQ(r.plan.kind, PlanKind::kQueue);
  EXPECT_EQ(r.position, 1);
}

TEST(SelectVictims, TakesOnlyWhatIsNeededFromLowerPriorityRunsThatHaveNotStarted) {
  ControllerPolicy policy = Policy0();
  auto s = Snap({Inst("vm1").NoHotplug().Obj()});  // 2000m, 2Gi
  Holding low = Held("low", "vm1", 1000, 1 * Gi);
  low.priority = 10;
  Holding running = Held("running", "vm1", 500, 512 * Mi);
  running.priority = 10;
  running.started = true;
  Holding peer = Held("peer", "vm1", 500, 512 * Mi);
  peer.priority = 1000;
  s.holdings = {low, running, peer};
  PlacementRequest high = Req("high", 1000, 1 * Gi);
  high.priority = 1000;
  auto p = SelectVictims(high, s, policy);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->victims, std::vector<std::string>{"default/low"});
  EXPECT_EQ(p->plan.kind, PlanKind::kFit);
  // Needing more than the unstarted low-priority run holds: no preemption at all.
  PlacementRequest bigger = Req("bigger", 1500, 1 * Gi);
  bigger.priority = 1000;
  EXPECT_FALSE(SelectVictims(bigger, s, policy).has_value());
  // Equal priority never preempts.
  high.priority = 10;
  EXPECT_FALSE(SelectVictims(high, s, policy).has_value());
}

TEST(Reservations, HoldCapacityForTheirUsersOnly) {
  ControllerPolicy policy = Policy0();
  auto s = Snap({Inst("vm1").NoHotplug().Obj()});
  ReservationView r;
  r.ns = "default";
  r.name = "batch";
  r.spec.resources.cpu_milli = 1000;
  r.spec.resources.memory_bytes = 1 * Gi;
  r.spec.users = {"alice"};
  r.instance = "default/vm1";
  s.reservations["default/batch"] = r;
  PlacementRequest bob = Req("bob", 1500, 1536 * Mi);
  bob.user = "bob";
  EXPECT_EQ(Place(bob, s, policy).kind, PlanKind::kQueue);
  PlacementRequest alice = bob;
  alice.user = "alice";
  alice.run_uid = "uid-alice";
  PlacementPlan p = Place(alice, s, policy);
  EXPECT_EQ(p.kind, PlanKind::kFit);
  EXPECT_EQ(p.reservation, "batch");
  // A run drawing on the reservation is admitted even while others wait ahead of it.
  bob.created = api::Time{};
  alice.created = api::Time{} + std::chrono::seconds(5);
  EXPECT_EQ(AdmitInOrder(alice, {bob, alice}, s, policy).plan.kind, PlanKind::kFit);
}

TEST(ReservationMatches, CommandPatterns) {
  ReservationView r;
  r.ns = "default";
  r.spec.command_pattern = "make *";
  PlacementRequest q = Req("a", 1, 1);
  q.command = "make -j4 all";
  EXPECT_TRUE(ReservationMatches(r, q));
  q.command = "cmake ..";
  EXPECT_FALSE(ReservationMatches(r, q));
  r.spec.command_pattern = "^c?make";
  r.spec.command_pattern_syntax = api::PatternSyntax::kRegex;
  EXPECT_TRUE(ReservationMatches(r, q));
  r.active = false;
  EXPECT_FALSE(ReservationMatches(r, q));
}

TEST(Place, TheGuestsShareIsNeverHandedOut) {
  ControllerPolicy policy;  // 250m / 256Mi kept for the guest
  auto s = Snap({Inst("vm1").NoHotplug().Obj()});  // 2000m, 2Gi
  EXPECT_EQ(Place(Req("a", 1750, 1792 * Mi), s, policy).kind, PlanKind::kFit);
  EXPECT_EQ(Place(Req("b", 1751, 1792 * Mi), s, policy).kind, PlanKind::kReject);
}

}  // namespace
}  // namespace prescient::controller
