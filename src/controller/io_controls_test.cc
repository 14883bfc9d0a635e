// The allocation's IO controls: the weight from priority, bandwidth limits from the prediction, the
// policy keys that switch them, and that AllocationFor puts them into status.allocation.
#include "controller/io_controls.h"

#include <gtest/gtest.h>

#include "api/validation.h"
#include "controller/plan.h"
#include "controller/policy.h"

namespace prescient::controller {
namespace {

constexpr int64_t Mi = 1LL << 20;

TEST(IoWeightForPriorityTest, Table) {
  struct Case {
    int32_t priority, want;
  };
  const Case cases[] = {
      {0, 100}, {1, 126}, {10, 222}, {100, 466}, {999, 1000}, {1000, 1000}, {1000000000, 1000},
      {-10, 45}, {-1000, 10}, {-1000000000, 10},
  };
  int32_t prev = 0;
  for (const Case& c : cases) EXPECT_EQ(IoWeightForPriority(c.priority), c.want) << c.priority;
  // Monotonic: a higher priority never gets a smaller weight.
  for (int32_t p = -2000; p <= 2000; p += 7) {
    int32_t w = IoWeightForPriority(p);
    EXPECT_GE(w, prev) << p;
    EXPECT_GE(w, 10);
    EXPECT_LE(w, 1000);
    prev = w;
  }
}

TEST(IoControlsForTest, Table) {
  IoPolicy defaults;
  IoPolicy limits;
  limits.disk_bandwidth_limits = true;
  IoPolicy off;
  off.weight_from_priority = false;
  struct Case {
    const char* name;
    int32_t priority;
    int64_t read, write;
    IoPolicy policy;
    IoControls want;
  };
  const Case cases[] = {
      {"default: weight from priority, no bandwidth limits", 100, 50 * Mi, 10 * Mi, defaults, {466, 0, 0}},
      {"limits on: 2x the prediction, whole MiB/s", 0, 50 * Mi, 10 * Mi + 1, limits, {100, 100 * Mi, 21 * Mi}},
      {"limits on: never below 1 MiB/s", 0, 1000, 1, limits, {100, Mi, Mi}},
      {"limits on: nothing predicted, nothing limited", 0, 0, 0, limits, {100, 0, 0}},
      {"everything off", 100, 50 * Mi, 10 * Mi, off, {std::nullopt, 0, 0}},
  };
  for (const Case& c : cases) {
    IoControls got = IoControlsFor(c.priority, c.read, c.write, c.policy);
    EXPECT_EQ(got.io_weight, c.want.io_weight) << c.name;
    EXPECT_EQ(got.disk_read_bytes_per_second, c.want.disk_read_bytes_per_second) << c.name;
    EXPECT_EQ(got.disk_write_bytes_per_second, c.want.disk_write_bytes_per_second) << c.name;
  }
  IoPolicy tight = limits;
  tight.disk_bandwidth_headroom = 1.0;
  EXPECT_EQ(IoControlsFor(0, 3 * Mi, 0, tight).disk_read_bytes_per_second, 3 * Mi);
}

TEST(IoControlsForTest, AllocationForCarriesThemAndTheyValidate) {
  ClusterSnapshot s;
  InstanceView v;
  v.ns = "default";
  v.name = "vm1";
  v.node = "n1";
  s.instances["default/vm1"] = v;
  PlacementRequest req;
  req.run_key = "default/r";
  req.ns = "default";
  req.cpu_milli = 500;
  req.memory_bytes = 256 * Mi;
  req.priority = 10;
  req.disk_read_bytes_per_second = 4 * Mi;
  req.disk_write_bytes_per_second = 2 * Mi;
  PlacementPlan plan;
  plan.kind = PlanKind::kFit;
  plan.instance = "default/vm1";
  IoPolicy io;
  io.disk_bandwidth_limits = true;
  api::Allocation a = AllocationFor(req, plan, s, io);
  EXPECT_EQ(a.instance_id, "vm1");
  EXPECT_EQ(a.io_weight, 222);
  EXPECT_EQ(a.disk_read_bytes_per_second, 8 * Mi);
  EXPECT_EQ(a.disk_write_bytes_per_second, 4 * Mi);
  api::CommandRunStatus st;
  st.phase = api::RunPhase::kAllocated;
  st.allocation = a;
  EXPECT_TRUE(api::ValidateCommandRunStatus(st).empty());
  // The default policy: the weight only.
  api::Allocation d = AllocationFor(req, plan, s);
  EXPECT_EQ(d.io_weight, 222);
  EXPECT_EQ(d.disk_read_bytes_per_second, 0);
}

TEST(IoControlsForTest, PolicyKeys) {
  auto d = ParsePolicyYaml("", "p.yaml");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->io.weight_from_priority);
  EXPECT_FALSE(d->io.disk_bandwidth_limits);
  EXPECT_DOUBLE_EQ(d->io.disk_bandwidth_headroom, 2.0);
  auto p = ParsePolicyYaml("ioWeightFromPriority: false\ndiskBandwidthLimits: true\ndiskBandwidthHeadroom: 1.5\n", "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->io.weight_from_priority);
  EXPECT_TRUE(p->io.disk_bandwidth_limits);
  EXPECT_DOUBLE_EQ(p->io.disk_bandwidth_headroom, 1.5);
  for (const char* bad : {"diskBandwidthLimits: maybe\n", "diskBandwidthHeadroom: 0.5\n"}) {
    auto r = ParsePolicyYaml(bad, "p.yaml");
    EXPECT_FALSE(r.ok()) << bad;
  }
  auto r = ParsePolicyYaml("diskBandwidthLimits: maybe\n", "p.yaml");
  EXPECT_NE(r.status().message().find("expected true or false"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace prescient::controller
