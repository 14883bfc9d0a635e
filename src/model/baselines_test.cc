#include "model/baselines.h"

#include <gtest/gtest.h>

namespace prescient::model {
namespace {

using analysis::HistoryRecord;
using analysis::TargetValues;

HistoryRecord At(int seconds, double mem, bool oom = false) {
  HistoryRecord r;
  r.time = Clock::TimePoint(std::chrono::seconds(seconds));
  r.usage = analysis::RunUsage{};
  r.usage->memory_peak_bytes = mem;
  r.usage->duration_seconds = 10;
  r.usage->oom_killed = oom;
  return r;
}

TEST(Baselines, DecayingHistogramPercentileIsABucketEnd) {
  DecayingHistogram h(1.0, 1.05, 86400);
  for (int v = 1; v <= 100; ++v) h.Add(v, 1, 0);
  const double p90 = h.Percentile(0.9);
  EXPECT_GE(p90, 90);
  EXPECT_LE(p90, 90 * 1.05 + 1);
  // Recent samples weigh more: a day later, one sample counts as two.
  DecayingHistogram d(1.0, 1.05, 86400);
  d.Add(10, 1, 0);
  d.Add(1000, 1, 86400);
  EXPECT_GE(d.Percentile(0.5), 1000);
}

TEST(Baselines, TovarTable) {
  // All equal: allocate that value.
  EXPECT_DOUBLE_EQ(TovarFirstAllocation({{5, 1}, {5, 1}, {5, 1}}), 5);
  // Rare big outlier: cheaper to retry it than to always allocate it.
  EXPECT_DOUBLE_EQ(TovarFirstAllocation({{1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {100, 1}}), 1);
  // A failed attempt costs its whole allocation: with 50 vs 100 twice, allocating 50 wastes
  // 2 x (50 + 100 - 100) = 100, allocating 100 wastes 50 -> 100.
  EXPECT_DOUBLE_EQ(TovarFirstAllocation({{50, 1}, {100, 1}, {100, 1}}), 100);
  // Long runs weigh more.
  EXPECT_DOUBLE_EQ(TovarFirstAllocation({{50, 100}, {100, 1}}), 50);
}

TEST(Baselines, OnlinePoliciesUseOnlyWhatTheyObserved) {
  DefaultResources d;
  auto max_seen = MakeMaxSeen(d);
  auto vpa = MakeVpaRecommender(d);
  auto fixed = MakeStaticDefault(d);
  const analysis::RunContext ctx;
  EXPECT_DOUBLE_EQ(max_seen->Recommend("k", analysis::kMemoryBytes, ctx), d.memory_bytes);
  EXPECT_DOUBLE_EQ(vpa->Recommend("k", analysis::kMemoryBytes, ctx), d.memory_bytes);
  for (int i = 0; i < 10; ++i) {
    const HistoryRecord r = At(i, 1e9 + i * 1e8);
    max_seen->Observe("k", r, analysis::TargetsOf(*r.usage));
    vpa->Observe("k", r, analysis::TargetsOf(*r.usage));
  }
  EXPECT_DOUBLE_EQ(max_seen->Recommend("k", analysis::kMemoryBytes, ctx), 1.9e9);
  const double v = vpa->Recommend("k", analysis::kMemoryBytes, ctx);
  EXPECT_GE(v, 1.8e9 * 1.15);
  EXPECT_LE(v, 1.9e9 * 1.05 * 1.15);
  // OOM bump: the next recommendation covers 1.2 x the killed run's usage.
  const HistoryRecord oom = At(11, 3e9, true);
  vpa->Observe("k", oom, analysis::TargetsOf(*oom.usage));
  for (int i = 0; i < 3; ++i) vpa->Observe("k", oom, analysis::TargetsOf(*oom.usage));
  EXPECT_GE(vpa->Recommend("k", analysis::kMemoryBytes, ctx), 3.6e9);
  // Minimums.
  const HistoryRecord tiny = At(12, 1000);
  vpa->Observe("tiny", tiny, analysis::TargetsOf(*tiny.usage));
  EXPECT_DOUBLE_EQ(vpa->Recommend("tiny", analysis::kMemoryBytes, ctx), 250 * 1024.0 * 1024);
  analysis::RunContext req;
  req.requested_memory_bytes = 123;
  EXPECT_DOUBLE_EQ(fixed->Recommend("k", analysis::kMemoryBytes, req), 123);
}

}  // namespace
}  // namespace prescient::model
