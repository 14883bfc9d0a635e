#include "sim/cluster/kubevirt.h"

#include <gtest/gtest.h>

#include "sim/cluster/test_builders.h"

namespace prescient::sim::cluster {
namespace {

using testing::kGi;
using testing::kMi;

VmiShape Shape(int sockets, int64_t guest, int max_sockets = 0, int64_t max_guest = 0) {
  VmiShape s;
  s.cpu.sockets = sockets;
  s.guest = guest;
  s.max_sockets = max_sockets;
  s.max_guest = max_guest;
  return s;
}

TEST(KubeVirt, ShapeFromDomain) {
  Json domain = {{"cpu", {{"sockets", 2}, {"cores", 2}, {"threads", 1}, {"maxSockets", 8}}},
                 {"memory", {{"guest", "2Gi"}, {"maxGuest", "8Gi"}}}};
  auto s = ShapeFromDomain(domain, "vm/x");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->cpu.Vcpus(), 4);
  EXPECT_EQ(s->max_sockets, 8);
  EXPECT_EQ(s->guest, 2 * kGi);
  EXPECT_EQ(s->max_guest, 8 * kGi);
  // guest falls back to resources.requests.memory; neither is an error naming the object.
  auto r = ShapeFromDomain({{"resources", {{"requests", {{"memory", "512Mi"}}}}}}, "vm/y");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->guest, 512 * kMi);
  auto bad = ShapeFromDomain(Json::object(), "virtualmachines/z");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("virtualmachines/z"), std::string::npos);
}

TEST(KubeVirt, LauncherResourcesTable) {
  KubeVirtSettings kv;
  struct Case {
    std::string name;
    VmiShape shape;
    LauncherLimits limits;
    ResourceList want_requests, want_limits_subset;
  } cases[] = {
      {"1 vCPU 1Gi: 100m and guest + 270Mi", Shape(1, kGi), {}, {{"cpu", 100}, {"memory", kGi + 270 * kMi}}, {}},
      {"4 sockets 4Gi", Shape(4, 4 * kGi), {}, {{"cpu", 400}, {"memory", 4 * kGi + (220 + 8 + 32 + 8 + 32) * kMi}}, {}},
      {"quota demands limits", Shape(2, 2 * kGi), {true, true},
       {{"cpu", 200}, {"memory", 2 * kGi + (220 + 4 + 16 + 8 + 32) * kMi}},
       {{"cpu", 2000}, {"memory", 2 * (2 * kGi + (220 + 4 + 16 + 8 + 32) * kMi)}}},
  };
  for (const auto& c : cases) {
    LauncherResources r = LauncherResourcesFor(c.shape, kv, c.limits);
    for (const auto& [k, v] : c.want_requests) EXPECT_EQ(r.requests[k], v) << c.name << " " << k;
    for (const auto& [k, v] : c.want_limits_subset) EXPECT_EQ(r.limits[k], v) << c.name << " " << k;
    EXPECT_EQ(r.requests["devices.kubevirt.io/kvm"], 1) << c.name;
    EXPECT_EQ(r.limits["devices.kubevirt.io/tun"], 1) << c.name;
    EXPECT_EQ(r.limits.count("cpu"), c.limits.cpu ? 1u : 0u) << c.name;
  }
  VmiShape explicit_cpu = Shape(2, kGi);
  explicit_cpu.requests["cpu"] = 1500;
  EXPECT_EQ(LauncherResourcesFor(explicit_cpu, kv, {}).requests["cpu"], 1500);
  kv.cpu_allocation_ratio = 1;
  EXPECT_EQ(LauncherResourcesFor(Shape(2, kGi), kv, {}).requests["cpu"], 2000);
}

TEST(KubeVirt, LauncherPodObject) {
  Json vmi = {{"metadata", {{"name", "db-tools"}, {"namespace", "demo"}, {"uid", "u1"}, {"labels", {{"app", "db"}}}}},
              {"spec", {{"priorityClassName", "high"}, {"nodeSelector", {{"zone", "a"}}}}}};
  Json pod = LauncherPodObject(vmi, LauncherResourcesFor(Shape(1, kGi), {}, {}), "virt-launcher-db-tools-abcde", "m1");
  EXPECT_EQ(pod["metadata"]["labels"]["kubevirt.io"], "virt-launcher");
  EXPECT_EQ(pod["metadata"]["labels"]["kubevirt.io/created-by"], "u1");
  EXPECT_EQ(pod["metadata"]["labels"]["kubevirt.io/migrationJobUID"], "m1");
  EXPECT_EQ(pod["metadata"]["labels"]["app"], "db");
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["kind"], "VirtualMachineInstance");
  EXPECT_EQ(pod["spec"]["nodeSelector"]["kubevirt.io/schedulable"], "true");
  EXPECT_EQ(pod["spec"]["nodeSelector"]["zone"], "a");
  EXPECT_EQ(pod["spec"]["priorityClassName"], "high");
  EXPECT_EQ(pod["spec"]["containers"][0]["name"], "compute");
  EXPECT_EQ(pod["spec"]["containers"][0]["resources"]["requests"]["memory"], "1294Mi");
}

TEST(KubeVirt, HotplugPlanTable) {
  VmiHotplugState running;
  running.spec = Shape(2, 2 * kGi, 8, 8 * kGi);
  running.guest_at_boot = 2 * kGi;
  struct Case {
    std::string name;
    VmiShape desired;
    VmiHotplugState state;
    bool live_update;
    std::optional<int> sockets;
    std::optional<int64_t> guest;
    bool restart;
    bool cpu_waiting;
  };
  VmiHotplugState cpu_busy = running;
  cpu_busy.cpu_in_flight = true;
  VmiHotplugState migrating = running;
  migrating.migrating = true;
  VmiHotplugState mem_busy = running;
  mem_busy.memory_in_flight = true;
  Case cases[] = {
      {"no change", Shape(2, 2 * kGi), running, true, {}, {}, false, false},
      {"cpu up within max (template has no max: inherits)", Shape(4, 2 * kGi), running, true, 4, {}, false, false},
      {"cpu up to exactly max", Shape(8, 2 * kGi, 8), running, true, 8, {}, false, false},
      {"cpu above maxSockets", Shape(9, 2 * kGi), running, true, {}, {}, true, false},
      {"cpu unplug", Shape(1, 2 * kGi), running, true, {}, {}, true, false},
      {"memory up", Shape(2, 4 * kGi), running, true, {}, 4 * kGi, false, false},
      {"memory above maxGuest", Shape(2, 9 * kGi), running, true, {}, {}, true, false},
      {"memory below boot", Shape(2, kGi), running, true, {}, {}, true, false},
      {"both at once", Shape(3, 3 * kGi), running, true, 3, 3 * kGi, false, false},
      {"cpu waits for the one in flight", Shape(3, 2 * kGi), cpu_busy, true, {}, {}, false, true},
      {"memory goes while cpu in flight", Shape(3, 3 * kGi), cpu_busy, true, {}, 3 * kGi, false, true},
      {"memory waits for memory in flight", Shape(2, 3 * kGi), mem_busy, true, {}, {}, false, false},
      {"nothing during a migration", Shape(3, 3 * kGi), migrating, true, {}, {}, false, true},
      {"not LiveUpdate", Shape(3, 2 * kGi), running, false, {}, {}, true, false},
      {"maxSockets changed", Shape(2, 2 * kGi, 16), running, true, {}, {}, true, false},
  };
  for (const auto& c : cases) {
    HotplugPlan p = PlanHotplug(c.desired, c.state, c.live_update);
    EXPECT_EQ(p.new_sockets, c.sockets) << c.name;
    EXPECT_EQ(p.new_guest, c.guest) << c.name;
    EXPECT_EQ(!p.restart_required.empty(), c.restart) << c.name << ": " << p.restart_required;
    EXPECT_EQ(p.cpu_waiting, c.cpu_waiting) << c.name;
  }
}

TEST(KubeVirt, HotplugDefaultsUnderLiveUpdate) {
  KubeVirtSettings kv;
  VmiShape s = WithHotplugDefaults(Shape(2, kGi), kv);
  EXPECT_EQ(s.max_sockets, 8);
  EXPECT_EQ(s.max_guest, 4 * kGi);
  EXPECT_EQ(WithHotplugDefaults(Shape(2, kGi, 3, 2 * kGi), kv).max_sockets, 3);
  kv.live_update = false;
  EXPECT_EQ(WithHotplugDefaults(Shape(2, kGi), kv).max_sockets, 0);
}

}  // namespace
}  // namespace prescient::sim::cluster
