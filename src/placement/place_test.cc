#include "placement/place.h"

#include <functional>

#include <gtest/gtest.h>

#include "placement/testing.h"

namespace prescient::placement {
namespace {

using namespace testing;  // NOLINT

struct Case {
  const char* name;
  CapacityView view;
  PlacementRequest request;
  std::function<void(const PlacementDecision&)> expect;
  Policy policy = PlainPolicy();
  PlaceOptions options = {};
};

template <typename T>
const T& As(const PlacementDecision& d) {
  EXPECT_TRUE(std::holds_alternative<T>(d)) << "got: " << Describe(d);
  static const T kEmpty{};
  return std::holds_alternative<T>(d) ? std::get<T>(d) : kEmpty;
}

std::function<void(const PlacementDecision&)> FitOn(std::string instance, std::string reservation = "") {
  return [=](const PlacementDecision& d) {
    const Fit& f = As<Fit>(d);
    EXPECT_EQ(f.instance, instance);
    EXPECT_EQ(f.reservation, reservation);
  };
}

std::function<void(const PlacementDecision&)> QueuedFor(std::string reason, std::string message_part = "") {
  return [=](const PlacementDecision& d) {
    const Queue& q = As<Queue>(d);
    EXPECT_EQ(q.reason, reason);
    EXPECT_NE(q.message.find(message_part), std::string::npos) << q.message;
  };
}

std::function<void(const PlacementDecision&)> RejectedFor(std::string reason) {
  return [=](const PlacementDecision& d) { EXPECT_EQ(As<Reject>(d).reason, reason); };
}

std::function<void(const PlacementDecision&)> GrowsTo(int sockets, int64_t memory) {
  return [=](const PlacementDecision& d) {
    const Grow& g = As<Grow>(d);
    EXPECT_EQ(g.plan.sockets_after, sockets);
    EXPECT_EQ(g.plan.memory_after, memory);
    EXPECT_EQ(g.plan.memory_after % kMemoryAlignment, 0);
    EXPECT_EQ(g.plan.launcher_after, LauncherRequests(sockets * 1, memory));
  };
}

Policy WithHeadroom(double h) {
  Policy p = PlainPolicy();
  p.headroom = h;
  return p;
}

Policy WithMemoryStep(int64_t step) {
  Policy p = PlainPolicy();
  p.memory_step_bytes = step;
  return p;
}

Policy WithReserve(int64_t cpu, int64_t mem) {
  Policy p = PlainPolicy();
  p.guest_reserved = {cpu, mem};
  return p;
}

Policy WithScaling(ScalingMode m) {
  Policy p = PlainPolicy();
  p.scaling_mode = m;
  return p;
}

Pool MakePool(std::string name, int replicas, int max_replicas, int vcpus, int64_t mem) {
  Pool p;
  p.name = std::move(name);
  p.ns = "demo";
  p.replicas = replicas;
  p.max_replicas = max_replicas;
  p.shape = MakeInstance("shape").Vcpus(vcpus).Memory(mem).Obj();
  return p;
}

NamespaceQuota OtherHeadroom(int64_t cpu, int64_t mem) {
  NamespaceQuota q;
  q.other_headroom = Resources{cpu, mem};
  return q;
}

TEST(PlaceTest, Table) {
  const Instance small = MakeInstance("small-vm").Obj();  // 2 vCPUs, 2 GiB, no hotplug
  const Instance growable = MakeInstance("small-vm").MaxSockets(4).MaxGuest(8 * kGiB).Obj();
  const Node roomy = MakeNode("node-1").Obj();
  const Node full = MakeNode("node-1").Requested(8000, 16 * kGiB).Obj();
  std::vector<Case> cases = {
      {"fits as it is", MakeView().Add(small).Add(roomy).Obj(), MakeRequest("a").Need(1000, kGiB).Obj(),
       FitOn("demo/small-vm")},
      {"exactly full still fits", MakeView().Add(small).Obj(), MakeRequest("a").Need(2000, 2 * kGiB).Obj(),
       FitOn("demo/small-vm")},
      {"best fit picks the tighter instance",
       MakeView().Add(MakeInstance("big").Vcpus(4).Memory(8 * kGiB).Label("app", "db").Obj())
           .Add(MakeInstance("little").Label("app", "db").Obj()).Obj(),
       MakeRequest("a").Selector("app", "db").Need(1000, kGiB).Obj(), FitOn("demo/little")},
      {"selector skips non-matching labels",
       MakeView().Add(MakeInstance("little").Label("app", "web").Obj())
           .Add(MakeInstance("big").Vcpus(4).Memory(8 * kGiB).Label("app", "db").Obj()).Obj(),
       MakeRequest("a").Selector("app", "db").Need(1000, kGiB).Obj(), FitOn("demo/big")},
      {"other namespace is not a candidate", MakeView().Add(MakeInstance("small-vm", "prod").Obj()).Obj(),
       MakeRequest("a").Obj(), QueuedFor(kReasonNoCandidate, "no VM instance in namespace demo")},
      {"missing VM waits", MakeView().Obj(), MakeRequest("a").VmName("ghost").Obj(), QueuedFor(kReasonNoCandidate, "vm ghost")},
      {"not ready instance waits", MakeView().Add(MakeInstance("small-vm").NotReady().Obj()).Obj(), MakeRequest("a").Obj(),
       QueuedFor(kReasonNoCandidate, "is ready")},
      {"holds take room", MakeView().Add(small).Add(MakeHold("b", "small-vm").Amount(1500, 1536 * kMiB).Obj()).Obj(),
       MakeRequest("a").Need(1000, kGiB).Obj(), QueuedFor(kReasonInsufficientCapacity, "no CPU hotplug room")},
      {"guest reserve counts", MakeView().Add(small).Obj(), MakeRequest("a").Need(2000, 2 * kGiB).Obj(),
       RejectedFor(kReasonExceedsVmMaximum), WithReserve(0, 256 * kMiB)},
      {"beyond every maximum is rejected", MakeView().Add(small).Obj(), MakeRequest("a").Need(3000, kGiB).Obj(),
       RejectedFor(kReasonExceedsVmMaximum)},
      {"beyond maxGuest is rejected", MakeView().Add(growable).Obj(), MakeRequest("a").Need(1000, 9 * kGiB).Obj(),
       RejectedFor(kReasonExceedsVmMaximum)},
      {"hotplug disabled caps at current size", MakeView().Add(growable).Obj(), MakeRequest("a").Need(1000, 3 * kGiB).Obj(),
       RejectedFor(kReasonExceedsVmMaximum), [] { Policy p = PlainPolicy(); p.hotplug_enabled = false; return p; }()},
      {"larger than any node is rejected",
       MakeView().Add(MakeInstance("small-vm").MaxSockets(64).MaxGuest(512 * kGiB).Obj()).Add(roomy)
           .Group("g", 16000, 64 * kGiB, 1, 5).Obj(),
       MakeRequest("a").Need(40000, 200 * kGiB).Obj(), RejectedFor(kReasonExceedsLargestNode)},
      {"grow memory", MakeView().Add(growable).Add(roomy).Obj(), MakeRequest("a").Need(500, 3 * kGiB).Obj(),
       GrowsTo(2, 3 * kGiB)},
      {"grow memory aligned to 2 MiB", MakeView().Add(growable).Add(roomy).Obj(),
       MakeRequest("a").Need(500, 3 * kGiB + 1).Obj(), GrowsTo(2, 3 * kGiB + 2 * kMiB)},
      {"grow CPU", MakeView().Add(growable).Add(roomy).Obj(), MakeRequest("a").Need(3000, kGiB).Obj(), GrowsTo(3, 2 * kGiB)},
      {"grow counts what is held",
       MakeView().Add(growable).Add(roomy).Add(MakeHold("b", "small-vm").Amount(1000, 1536 * kMiB).Obj()).Obj(),
       MakeRequest("a").Need(1500, 1 * kGiB).Obj(), GrowsTo(3, 2560 * kMiB)},
      {"grow adds headroom", MakeView().Add(growable).Add(roomy).Obj(), MakeRequest("a").Need(500, 3 * kGiB).Obj(),
       GrowsTo(2, 4608 * kMiB), WithHeadroom(0.5)},
      {"headroom is capped at maxGuest", MakeView().Add(growable).Add(roomy).Obj(), MakeRequest("a").Need(500, 3 * kGiB).Obj(),
       GrowsTo(2, 8 * kGiB), WithHeadroom(2.0)},
      {"memory grows in policy steps", MakeView().Add(growable).Add(roomy).Obj(),
       MakeRequest("a").Need(500, 2 * kGiB + 100 * kMiB).Obj(), GrowsTo(2, 2 * kGiB + 256 * kMiB), WithMemoryStep(256 * kMiB)},
      {"an exact step stays as it is", MakeView().Add(growable).Add(roomy).Obj(), MakeRequest("a").Need(500, 3 * kGiB).Obj(),
       GrowsTo(2, 3 * kGiB), WithMemoryStep(256 * kMiB)},
      {"a step past maxGuest stops at maxGuest",
       MakeView().Add(MakeInstance("small-vm").MaxGuest(3 * kGiB + 100 * kMiB).Obj()).Add(roomy).Obj(),
       MakeRequest("a").Need(500, 3 * kGiB + 10 * kMiB).Obj(), GrowsTo(2, 3 * kGiB + 100 * kMiB), WithMemoryStep(kGiB)},
      {"grow keeps the guest reserve", MakeView().Add(growable).Add(roomy).Obj(), MakeRequest("a").Need(500, 2 * kGiB).Obj(),
       GrowsTo(2, 2304 * kMiB), WithReserve(0, 256 * kMiB)},
      {"grow never below guestAtBoot",
       MakeView().Add(MakeInstance("small-vm").Memory(kGiB).GuestAtBoot(2 * kGiB).MaxGuest(8 * kGiB).Obj()).Add(roomy).Obj(),
       MakeRequest("a").Need(500, 1536 * kMiB).Obj(), GrowsTo(2, 2 * kGiB)},
      {"smallest growth wins",
       MakeView().Add(MakeInstance("a").MaxGuest(16 * kGiB).Label("app", "x").Obj())
           .Add(MakeInstance("b").Memory(3 * kGiB).MaxGuest(16 * kGiB).Label("app", "x").Obj()).Add(roomy).Obj(),
       MakeRequest("r").Selector("app", "x").Need(500, 4 * kGiB).Obj(),
       [](const PlacementDecision& d) { EXPECT_EQ(As<Grow>(d).plan.instance, "demo/b"); }},
      {"hotplug in flight waits", MakeView().Add(MakeInstance("small-vm").MaxGuest(8 * kGiB).MemoryHotplugInFlight().Obj()).Add(roomy).Obj(),
       MakeRequest("a").Need(500, 3 * kGiB).Obj(), QueuedFor(kReasonHotplugInProgress)},
      {"CPU hotplug in flight does not block memory",
       MakeView().Add(MakeInstance("small-vm").MaxGuest(8 * kGiB).CpuHotplugInFlight().Obj()).Add(roomy).Obj(),
       MakeRequest("a").Need(500, 3 * kGiB).Obj(), GrowsTo(2, 3 * kGiB)},
      {"migration in flight waits", MakeView().Add(MakeInstance("small-vm").MaxGuest(8 * kGiB).Migrating().Obj()).Add(roomy).Obj(),
       MakeRequest("a").Need(500, 3 * kGiB).Obj(), QueuedFor(kReasonHotplugInProgress)},
      {"not migratable cannot grow", MakeView().Add(MakeInstance("small-vm").MaxGuest(8 * kGiB).NotMigratable().Obj()).Add(roomy).Obj(),
       MakeRequest("a").Need(500, 3 * kGiB).Obj(), QueuedFor(kReasonInsufficientCapacity, "not live-migratable")},
      {"restart required cannot grow", MakeView().Add(MakeInstance("small-vm").MaxGuest(8 * kGiB).RestartRequired().Obj()).Add(roomy).Obj(),
       MakeRequest("a").Need(500, 3 * kGiB).Obj(), QueuedFor(kReasonInsufficientCapacity, "needs a restart")},
      {"quota without room for the second pod", MakeView().Add(growable).Add(roomy).Quota(OtherHeadroom(1000, 3 * kGiB)).Obj(),
       MakeRequest("a").Need(500, 3 * kGiB).Obj(), QueuedFor(kReasonQuotaExceeded, "second virt-launcher pod")},
      {"quota with room for the second pod",
       MakeView().Add(growable).Add(roomy).Quota(OtherHeadroom(1000, 4 * kGiB)).Obj(),
       MakeRequest("a").Need(500, 3 * kGiB).Obj(), GrowsTo(2, 3 * kGiB)},
      {"owned quota is raised for both pods",
       MakeView().Add(growable).Add(roomy).Quota([] {
         NamespaceQuota q;
         q.owned = OwnedQuota{{1000, 4 * kGiB}, {200, LauncherRequests(2, 2 * kGiB).memory_bytes}, std::nullopt};
         return q;
       }()).Obj(),
       MakeRequest("a").Need(500, 3 * kGiB).Obj(),
       [](const PlacementDecision& d) {
         const Grow& g = As<Grow>(d);
         EXPECT_TRUE(g.plan.quota.raise);
         EXPECT_EQ(g.plan.quota.raise_to.memory_bytes,
                   LauncherRequests(2, 2 * kGiB).memory_bytes + LauncherRequests(2, 3 * kGiB).memory_bytes);
         EXPECT_EQ(g.plan.quota.settle_to.memory_bytes, 4 * kGiB);
       }},
      {"no node for the second pod: provision one",
       MakeView().Add(growable).Add(full).Group("workers-group", 8000, 32 * kGiB, 1, 3).Obj(),
       MakeRequest("a").Need(500, 3 * kGiB).Obj(),
       [](const PlacementDecision& d) {
         const ProvisionNodes& p = As<ProvisionNodes>(d);
         EXPECT_EQ(p.then_instance, "demo/small-vm");
         EXPECT_EQ(p.hint.pod_requests, LauncherRequests(2, 3 * kGiB));
         EXPECT_EQ(p.hint.node_group, "workers-group");
         EXPECT_EQ(p.hint.count, 1);
         EXPECT_EQ(p.hint.node_selector.at("kubevirt.io/schedulable"), "true");
         EXPECT_EQ(p.hint.extended_resources.at("devices.kubevirt.io/kvm"), 1);
       }},
      {"no node and scaling off", MakeView().Add(growable).Add(full).Group("g", 8000, 32 * kGiB, 1, 3).Obj(),
       MakeRequest("a").Need(500, 3 * kGiB).Obj(), QueuedFor(kReasonNoNodeCapacity), WithScaling(ScalingMode::kNone)},
      {"no node and node group at max", MakeView().Add(growable).Add(full).Group("g", 8000, 32 * kGiB, 3, 3).Obj(),
       MakeRequest("a").Need(500, 3 * kGiB).Obj(), QueuedFor(kReasonNoNodeCapacity)},
      {"node groups unknown: ask the autoscaler anyway", MakeView().Add(growable).Add(full).Obj(),
       MakeRequest("a").Need(500, 3 * kGiB).Obj(),
       [](const PlacementDecision& d) {
         const ProvisionNodes& p = As<ProvisionNodes>(d);
         EXPECT_EQ(p.hint.node_group, "");
         EXPECT_EQ(p.then_instance, "demo/small-vm");
       }},
      {"node groups unknown: no rejection by node size",
       MakeView().Add(MakeInstance("small-vm").MaxSockets(64).MaxGuest(512 * kGiB).Obj()).Add(full).Obj(),
       MakeRequest("a").Need(40000, 200 * kGiB).Obj(),
       [](const PlacementDecision& d) { EXPECT_TRUE(std::holds_alternative<ProvisionNodes>(d)) << Describe(d); }},
      {"configured largest node rejects",
       MakeView().Add(MakeInstance("small-vm").MaxSockets(64).MaxGuest(512 * kGiB).Obj()).Add(full).Obj(),
       MakeRequest("a").Need(40000, 200 * kGiB).Obj(), RejectedFor(kReasonExceedsLargestNode),
       [] { Policy p = PlainPolicy(); p.largest_node = Resources{32000, 128 * kGiB}; return p; }()},
      {"configured largest node large enough",
       MakeView().Add(MakeInstance("small-vm").MaxSockets(64).MaxGuest(512 * kGiB).Obj()).Add(full).Obj(),
       MakeRequest("a").Need(40000, 200 * kGiB).Obj(),
       [](const PlacementDecision& d) { EXPECT_TRUE(std::holds_alternative<ProvisionNodes>(d)) << Describe(d); },
       [] { Policy p = PlainPolicy(); p.largest_node = Resources{64000, 256 * kGiB}; return p; }()},
      {"unschedulable node does not count",
       MakeView().Add(growable).Add(MakeNode("node-1").Unschedulable().Obj()).Group("g", 8000, 32 * kGiB, 3, 3).Obj(),
       MakeRequest("a").Need(500, 3 * kGiB).Obj(), QueuedFor(kReasonNoNodeCapacity)},
      {"preempt a lower-priority run that has not started",
       MakeView().Add(small).Add(MakeHold("low", "small-vm").Amount(1500, 1536 * kMiB).Priority(10).Obj()).Obj(),
       MakeRequest("high").Need(1000, kGiB).Priority(100).Obj(),
       [](const PlacementDecision& d) {
         const Preempt& p = As<Preempt>(d);
         EXPECT_EQ(p.instance, "demo/small-vm");
         EXPECT_EQ(p.victims, std::vector<std::string>{"demo/low"});
       }},
      {"no preemption of a running run", MakeView().Add(small).Add(MakeHold("low", "small-vm").Amount(1500, 1536 * kMiB).Priority(10).Started().Obj()).Obj(),
       MakeRequest("high").Need(1000, kGiB).Priority(100).Obj(), QueuedFor(kReasonInsufficientCapacity)},
      {"preemption of a running run its spec allows",
       MakeView().Add(small).Add(MakeHold("low", "small-vm").Amount(1500, 1536 * kMiB).Priority(10).Started().PreemptibleWhileRunning().Obj()).Obj(),
       MakeRequest("high").Need(1000, kGiB).Priority(100).Obj(),
       [](const PlacementDecision& d) { EXPECT_EQ(As<Preempt>(d).victims.size(), 1u); }},
      {"no preemption of equal priority", MakeView().Add(small).Add(MakeHold("low", "small-vm").Amount(1500, 1536 * kMiB).Priority(100).Obj()).Obj(),
       MakeRequest("high").Need(1000, kGiB).Priority(100).Obj(), QueuedFor(kReasonInsufficientCapacity)},
      {"no preemption when the class forbids it", MakeView().Add(small).Add(MakeHold("low", "small-vm").Amount(1500, 1536 * kMiB).Priority(10).Obj()).Obj(),
       MakeRequest("high").Need(1000, kGiB).Priority(100).NoPreempt().Obj(), QueuedFor(kReasonInsufficientCapacity)},
      {"no preemption when policy forbids it", MakeView().Add(small).Add(MakeHold("low", "small-vm").Amount(1500, 1536 * kMiB).Priority(10).Obj()).Obj(),
       MakeRequest("high").Need(1000, kGiB).Priority(100).Obj(), QueuedFor(kReasonInsufficientCapacity),
       [] { Policy p = PlainPolicy(); p.preemption_enabled = false; return p; }()},
      {"growth is preferred to preemption",
       MakeView().Add(growable).Add(roomy).Add(MakeHold("low", "small-vm").Amount(500, 1536 * kMiB).Priority(10).Obj()).Obj(),
       MakeRequest("high").Need(500, kGiB).Priority(100).Obj(), GrowsTo(2, 2560 * kMiB)},
      {"draws on its reservation",
       MakeView().Add(small).Reserve("r", "small-vm", 1000, kGiB).Add(MakeHold("other", "small-vm").Amount(1000, kGiB).Obj()).Obj(),
       MakeRequest("a").Need(500, 512 * kMiB).Reservation("demo/r").Obj(), FitOn("demo/small-vm", "demo/r")},
      {"reservation used up falls back to free capacity",
       MakeView().Add(MakeInstance("small-vm").Vcpus(4).Memory(4 * kGiB).Obj()).Reserve("r", "small-vm", 1000, kGiB)
           .Add(MakeHold("first", "small-vm").Amount(1000, kGiB).Reservation("r").Obj()).Obj(),
       MakeRequest("a").Need(500, 512 * kMiB).Reservation("demo/r").Obj(), FitOn("demo/small-vm", "")},
      {"reserved capacity is not for others",
       MakeView().Add(small).Reserve("r", "small-vm", 1500, 1536 * kMiB).Obj(), MakeRequest("a").Need(1000, kGiB).Obj(),
       QueuedFor(kReasonInsufficientCapacity)},
      {"scale the pool",
       MakeView().Add(MakeInstance("workers-a").Pool("workers").Obj()).Add(MakeHold("b", "workers-a").Amount(2000, 2 * kGiB).Obj())
           .Add(MakePool("workers", 1, 3, 2, 4 * kGiB)).Add(roomy).Obj(),
       MakeRequest("a").Pool("workers").Need(1000, 3 * kGiB).Obj(),
       [](const PlacementDecision& d) {
         const ScalePool& s = As<ScalePool>(d);
         EXPECT_EQ(s.pool, "workers");
         EXPECT_EQ(s.replicas, 2);
         EXPECT_FALSE(s.nodes.has_value());
       }},
      {"scale the pool and ask for a node",
       MakeView().Add(MakeInstance("workers-a").Pool("workers").Obj()).Add(MakeHold("b", "workers-a").Amount(2000, 2 * kGiB).Obj())
           .Add(MakePool("workers", 1, 3, 2, 4 * kGiB)).Add(full).Group("g", 8000, 32 * kGiB, 1, 2).Obj(),
       MakeRequest("a").Pool("workers").Need(1000, 3 * kGiB).Obj(),
       [](const PlacementDecision& d) {
         const ScalePool& s = As<ScalePool>(d);
         ASSERT_TRUE(s.nodes.has_value());
         EXPECT_EQ(s.nodes->pod_requests, LauncherRequests(2, 4 * kGiB));
         EXPECT_EQ(s.nodes->node_group, "g");
       }},
      {"an empty pool scales from zero", MakeView().Add(MakePool("workers", 0, 2, 2, 4 * kGiB)).Add(roomy).Obj(),
       MakeRequest("a").Pool("workers").Need(1000, 3 * kGiB).Obj(),
       [](const PlacementDecision& d) { EXPECT_EQ(As<ScalePool>(d).replicas, 1); }},
      {"pool VMs starting: wait",
       MakeView().Add(MakeInstance("workers-a").Pool("workers").Obj()).Add(MakeInstance("workers-b").Pool("workers").NotReady().Obj())
           .Add(MakeHold("b", "workers-a").Amount(2000, 2 * kGiB).Obj()).Add(MakePool("workers", 2, 3, 2, 4 * kGiB)).Add(roomy).Obj(),
       MakeRequest("a").Pool("workers").Need(1000, 1 * kGiB).Obj(), QueuedFor(kReasonWaitingForPool)},
      {"pool at its maximum", MakeView().Add(MakeInstance("workers-a").Pool("workers").Obj())
           .Add(MakeHold("b", "workers-a").Amount(2000, 2 * kGiB).Obj()).Add(MakePool("workers", 1, 1, 2, 4 * kGiB)).Add(roomy).Obj(),
       MakeRequest("a").Pool("workers").Need(1000, 1 * kGiB).Obj(), QueuedFor(kReasonInsufficientCapacity)},
      {"pool that may not scale and has no VMs waits", MakeView().Add(MakePool("workers", 0, 0, 2, 4 * kGiB)).Obj(),
       MakeRequest("a").Pool("workers").Obj(), QueuedFor(kReasonNoNodeCapacity, "cannot scale")},
      {"pool VM too small even grown is rejected", MakeView().Add(MakePool("workers", 0, 2, 2, 4 * kGiB)).Obj(),
       MakeRequest("a").Pool("workers").Need(4000, 1 * kGiB).Obj(), RejectedFor(kReasonExceedsVmMaximum)},
      {"held back for a higher-priority run", MakeView().Add(small).Obj(), MakeRequest("a").Obj(),
       QueuedFor(kReasonHigherPriorityWaiting), PlainPolicy(), PlaceOptions{{"demo/small-vm"}}},
      {"reservation runs pass instances held back",
       MakeView().Add(small).Reserve("r", "small-vm", 1000, kGiB).Obj(), MakeRequest("a").Reservation("demo/r").Obj(),
       FitOn("demo/small-vm", "demo/r"), PlainPolicy(), PlaceOptions{{"demo/small-vm"}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    PlacementDecision d = Place(c.request, c.view, c.policy, c.options);
    c.expect(d);
  }
}

// The running virt-launcher pod may be larger than KubeVirt's default formula says (a cluster's
// additional overhead settings): the migration's second pod keeps that extra, so quota and node
// checks count what KubeVirt will really create.
TEST(PlaceTest, ObservedLauncherOverheadCarriesOverToTheMigrationPod) {
  const Resources extra{100, 64 * kMiB};
  Instance vm = MakeInstance("small-vm").MaxGuest(8 * kGiB).Obj();
  vm.launcher = LauncherRequests(2, 2 * kGiB) + extra;
  const Resources want_after = LauncherRequests(2, 3 * kGiB) + extra;
  struct Row {
    const char* name;
    Node node;
    std::string kind;  // Grow | ProvisionNodes
  } rows[] = {
      {"room for the larger pod", MakeNode("node-1").Obj(), "Grow"},
      // Exactly the formula's pod fits this node; the observed extra does not.
      {"the extra overhead does not fit the node",
       MakeNode("node-1").Allocatable(want_after.cpu_milli, want_after.memory_bytes - 1).Obj(), "ProvisionNodes"},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    NamespaceQuota q;
    q.owned = OwnedQuota{{1000, 4 * kGiB}, *vm.launcher, std::nullopt};
    CapacityView view = MakeView().Add(vm).Add(r.node).Quota(q).Obj();
    PlacementDecision d = Place(MakeRequest("a").Need(500, 3 * kGiB).Obj(), view, PlainPolicy());
    if (r.kind == "Grow") {
      const Grow& g = As<Grow>(d);
      EXPECT_EQ(g.plan.launcher_before, *vm.launcher);
      EXPECT_EQ(g.plan.launcher_after, want_after);
      EXPECT_EQ(g.plan.quota.raise_to.memory_bytes, vm.launcher->memory_bytes + want_after.memory_bytes);
    } else {
      EXPECT_EQ(As<ProvisionNodes>(d).hint.pod_requests, want_after);
    }
  }
}

TEST(ClampToBoundsTest, Table) {
  auto bounds = [](std::optional<int64_t> min_cpu, std::optional<int64_t> max_cpu, std::optional<int64_t> min_mem,
                   std::optional<int64_t> max_mem) {
    api::ResourceBounds b;
    if (min_cpu || min_mem) b.min = api::ResourceAmounts{min_cpu, min_mem, std::nullopt, std::nullopt};
    if (max_cpu || max_mem) b.max = api::ResourceAmounts{max_cpu, max_mem, std::nullopt, std::nullopt};
    return std::optional<api::ResourceBounds>(b);
  };
  struct Case {
    const char* name;
    std::optional<api::ResourceBounds> b;
    Resources want;
  };
  const Resources predicted{1500, 3 * kGiB};
  const Case cases[] = {
      {"no bounds", std::nullopt, predicted},
      {"within", bounds(1000, 2000, kGiB, 4 * kGiB), predicted},
      {"raised to min", bounds(2000, std::nullopt, 4 * kGiB, std::nullopt), {2000, 4 * kGiB}},
      {"lowered to max", bounds(std::nullopt, 1000, std::nullopt, 2 * kGiB), {1000, 2 * kGiB}},
      {"only memory bounded", bounds(std::nullopt, std::nullopt, std::nullopt, kGiB), {1500, kGiB}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ClampToBounds(predicted, c.b), c.want);
  }
}

TEST(RequestForTest, CopiesTheRun) {
  api::CommandRun run;
  run.metadata.name = "r";
  run.metadata.ns = "demo";
  run.metadata.creation_timestamp = At(7);
  run.spec.target.vm_pool_name = "workers";
  PlacementRequest req = RequestFor(run, {100, kGiB}, 5, "demo/res", false);
  EXPECT_EQ(req.run, "demo/r");
  EXPECT_EQ(req.ns, "demo");
  EXPECT_EQ(req.target, run.spec.target);
  EXPECT_EQ(req.need, (Resources{100, kGiB}));
  EXPECT_EQ(req.priority, 5);
  EXPECT_EQ(req.created, At(7));
  EXPECT_EQ(req.reservation, "demo/res");
  EXPECT_FALSE(req.may_preempt);
}

TEST(PlaceTest, DescribeNamesTheDecision) {
  EXPECT_EQ(Describe(Fit{"demo/a", "a", "a", "n", {}, ""}), "Fit on demo/a");
  EXPECT_EQ(Describe(Queue{"X", "why"}), "Queue (X): why");
  EXPECT_EQ(Describe(Reject{"Y", "no"}), "Reject (Y): no");
  EXPECT_EQ(Describe(ScalePool{"workers", 3, std::nullopt}), "Scale pool workers to 3");
}

}  // namespace
}  // namespace prescient::placement
