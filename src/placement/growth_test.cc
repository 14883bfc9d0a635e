#include "placement/growth.h"

#include <gtest/gtest.h>

#include "placement/testing.h"

namespace prescient::placement {
namespace {

using namespace testing;  // NOLINT
using Kind = GrowthDecision::Kind;

RunningSample Sample(int64_t cpu, int64_t mem, int64_t used, double throttled = 0, int64_t throttled_for = 0) {
  RunningSample s;
  s.run = "demo/r";
  s.instance = "demo/small-vm";
  s.allocated = {cpu, mem};
  s.memory_used_bytes = used;
  s.cpu_throttled_fraction = throttled;
  s.throttled_for_seconds = throttled_for;
  return s;
}

RunningSample WithMax(RunningSample s, std::optional<int64_t> cpu, std::optional<int64_t> mem) {
  s.max = api::ResourceAmounts{cpu, mem, std::nullopt, std::nullopt};
  return s;
}

TEST(DecideRunningGrowthTest, Table) {
  // small-vm (2 CPU, 2 GiB) holds the run's 1 CPU / 1 GiB; hotplug up to 4 sockets and 8 GiB.
  const CapacityView roomy = MakeView()
                                 .Add(MakeInstance("small-vm").MaxSockets(4).MaxGuest(8 * kGiB).Obj())
                                 .Add(MakeNode("node-1").Obj())
                                 .Add(MakeHold("r", "small-vm").Amount(1000, kGiB).Started().Obj())
                                 .Obj();
  const CapacityView crowded = MakeView()
                                   .Add(MakeInstance("small-vm").MaxSockets(4).MaxGuest(8 * kGiB).Obj())
                                   .Add(MakeNode("node-1").Obj())
                                   .Add(MakeHold("r", "small-vm").Amount(1000, kGiB).Started().Obj())
                                   .Add(MakeHold("other", "small-vm").Amount(1000, kGiB).Started().Obj())
                                   .Obj();
  const CapacityView stuck = MakeView()
                                 .Add(MakeInstance("small-vm").Obj())
                                 .Add(MakeHold("r", "small-vm").Amount(1000, kGiB).Started().Obj())
                                 .Add(MakeHold("other", "small-vm").Amount(1000, kGiB).Started().Obj())
                                 .Obj();
  struct Case {
    const char* name;
    CapacityView view;
    RunningSample sample;
    Kind kind;
    Resources new_allocation;
    const char* reason = "";
  };
  const Case cases[] = {
      {"well within", roomy, Sample(1000, kGiB, 512 * kMiB), Kind::kNone, {1000, kGiB}},
      {"just below 90 %", roomy, Sample(1000, kGiB, 9 * kGiB / 10 - 1), Kind::kNone, {1000, kGiB}},
      {"at 90 % grows by 25 %", roomy, Sample(1000, kGiB, 9 * kGiB / 10 + 1), Kind::kResize, {1000, 1280 * kMiB},
       "UsageNearAllocation"},
      {"small allocations grow by the minimum step", roomy, Sample(1000, 512 * kMiB, 500 * kMiB), Kind::kResize,
       {1000, 768 * kMiB}, "UsageNearAllocation"},
      {"capped at spec max", roomy, WithMax(Sample(1000, kGiB, kGiB), std::nullopt, 1100 * kMiB), Kind::kResize,
       {1000, 1100 * kMiB}, "UsageNearAllocation"},
      {"already at spec max", roomy, WithMax(Sample(1000, kGiB, kGiB), std::nullopt, kGiB), Kind::kBlocked, {1000, kGiB},
       "AtUpperBound"},
      {"brief throttling is ignored", roomy, Sample(1000, kGiB, 0, 0.8, 10), Kind::kNone, {1000, kGiB}},
      {"sustained throttling grows CPU by 50 %", roomy, Sample(1000, kGiB, 0, 0.8, 30), Kind::kResize, {1500, kGiB},
       "UsageNearAllocation"},
      {"light throttling is ignored", roomy, Sample(1000, kGiB, 0, 0.1, 300), Kind::kNone, {1000, kGiB}},
      {"CPU capped at spec max", roomy, WithMax(Sample(1000, kGiB, 0, 0.5, 60), 1200, std::nullopt), Kind::kResize,
       {1200, kGiB}, "UsageNearAllocation"},
      {"both at once", roomy, Sample(1000, kGiB, kGiB, 0.5, 60), Kind::kResize, {1500, 1280 * kMiB},
       "UsageNearAllocation"},
      {"no room on the instance: hotplug", crowded, Sample(1000, kGiB, kGiB), Kind::kGrowInstance, {1000, 1280 * kMiB},
       "UsageNearAllocation"},
      {"no room and no hotplug", stuck, Sample(1000, kGiB, kGiB), Kind::kBlocked, {1000, 1280 * kMiB}, "CannotGrow"},
      {"unknown instance", MakeView().Obj(), Sample(1000, kGiB, kGiB), Kind::kBlocked, {1000, 1280 * kMiB},
       "InstanceNotFound"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    GrowthDecision d = DecideRunningGrowth(c.sample, c.view, PlainPolicy());
    EXPECT_EQ(d.kind, c.kind) << d.message;
    EXPECT_EQ(d.new_allocation, c.new_allocation);
    EXPECT_EQ(d.reason, c.reason);
    EXPECT_EQ(d.plan.has_value(), c.kind == Kind::kGrowInstance);
  }
}

TEST(DecideRunningGrowthTest, UsageFactorSetsALargerTarget) {
  const CapacityView roomy = MakeView()
                                 .Add(MakeInstance("small-vm").MaxSockets(4).MaxGuest(8 * kGiB).Obj())
                                 .Add(MakeNode("node-1").Obj())
                                 .Add(MakeHold("r", "small-vm").Amount(1000, kGiB).Started().Obj())
                                 .Obj();
  Policy p = PlainPolicy();
  p.memory_growth_usage_factor = 1.5;
  // 1000Mi used x 1.5 = 1500Mi beats the 25 % step (1280Mi).
  GrowthDecision d = DecideRunningGrowth(Sample(1000, kGiB, 1000 * kMiB), roomy, p);
  EXPECT_EQ(d.kind, Kind::kResize);
  EXPECT_EQ(d.new_allocation.memory_bytes, 1500 * kMiB);
  // Aligned to KubeVirt's 2Mi: 931Mi x 1.5 = 1396.5Mi -> 1398Mi (the step, 1280Mi, is smaller).
  d = DecideRunningGrowth(Sample(1000, kGiB, 931 * kMiB), roomy, p);
  EXPECT_EQ(d.new_allocation.memory_bytes, 1398 * kMiB);
  // The step wins when it is larger; the cap still applies.
  p.memory_growth_usage_factor = 1.01;
  d = DecideRunningGrowth(WithMax(Sample(1000, kGiB, 1000 * kMiB), std::nullopt, 1100 * kMiB), roomy, p);
  EXPECT_EQ(d.new_allocation.memory_bytes, 1100 * kMiB);
}

TEST(SampleForTest, ReadsStatus) {
  api::CommandRun run;
  run.metadata.name = "r";
  run.metadata.ns = "demo";
  run.status.allocation.emplace();
  run.status.allocation->instance_id = "small-vm";
  run.status.allocation->cpu_milli = 1000;
  run.status.allocation->memory_bytes = kGiB;
  run.status.usage.emplace();
  run.status.usage->peaks.memory_bytes = 900 * kMiB;
  run.status.usage->cpu_throttled_fraction = 0.4;
  run.spec.resources = api::ResourceBounds{std::nullopt, api::ResourceAmounts{2000, 2 * kGiB, std::nullopt, std::nullopt}};
  RunningSample s = SampleFor(run, 12);
  EXPECT_EQ(s.instance, "demo/small-vm");
  EXPECT_EQ(s.allocated, (Resources{1000, kGiB}));
  EXPECT_EQ(s.memory_used_bytes, 900 * kMiB);  // the peak, as no current value is reported
  run.status.usage->memory_current_bytes = 100 * kMiB;
  EXPECT_EQ(SampleFor(run, 12).memory_used_bytes, 100 * kMiB);
  EXPECT_DOUBLE_EQ(s.cpu_throttled_fraction, 0.4);
  EXPECT_EQ(s.throttled_for_seconds, 12);
  ASSERT_TRUE(s.max.has_value());
  EXPECT_EQ(s.max->memory_bytes, 2 * kGiB);
}

TEST(DecideRunningGrowthTest, HotplugPlanCoversTheIncrease) {
  CapacityView crowded = MakeView()
                             .Add(MakeInstance("small-vm").MaxSockets(4).MaxGuest(8 * kGiB).Obj())
                             .Add(MakeNode("node-1").Obj())
                             .Add(MakeHold("r", "small-vm").Amount(1000, kGiB).Started().Obj())
                             .Add(MakeHold("other", "small-vm").Amount(1000, kGiB).Started().Obj())
                             .Obj();
  GrowthDecision d = DecideRunningGrowth(Sample(1000, kGiB, kGiB), crowded, PlainPolicy());
  ASSERT_TRUE(d.plan.has_value());
  // 2 GiB held + the 256 MiB increase.
  EXPECT_EQ(d.plan->memory_after, 2304 * kMiB);
  EXPECT_FALSE(d.plan->CpuChange());
  EXPECT_EQ(d.plan->target_node, "node-1");
}

}  // namespace
}  // namespace prescient::placement
