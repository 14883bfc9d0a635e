#include "analysis/history_aggregates.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "analysis/featurize.h"

namespace prescient::analysis {
namespace {

HistoryRecord MakeRun(const std::string& cmd, int t_seconds, double mem) {
  HistoryRecord r;
  r.command = cmd;
  r.time = Clock::TimePoint(std::chrono::seconds(t_seconds));
  r.usage = RunUsage{};
  r.usage->memory_peak_bytes = mem;
  r.usage->duration_seconds = 1;
  return r;
}

TEST(HistoryIndex, AggregatesPerLevel) {
  HistoryIndex idx;
  const double mems[] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
  int t = 0;
  for (double m : mems) {
    ++t;
    const HistoryRecord r = MakeRun("gzip -9 f" + std::to_string(t), t, m);
    idx.Add(AnalyzeCommand(r.command), r);
  }
  idx.Add(AnalyzeCommand("gzip -1 x"), MakeRun("gzip -1 x", ++t, 5));
  const CommandFeatures f = AnalyzeCommand("gzip -9 other");
  const HistoryIndex::Lookup l = idx.Find(f);
  ASSERT_NE(l.signature(), nullptr);
  const TargetStats& s = l.signature()->targets[kMemoryBytes];
  EXPECT_EQ(l.signature()->count, 10);
  EXPECT_DOUBLE_EQ(s.p50, 50);
  EXPECT_DOUBLE_EQ(s.p90, 90);
  EXPECT_DOUBLE_EQ(s.max, 100);
  EXPECT_DOUBLE_EQ(s.last, 100);
  EXPECT_GT(s.decayed_mean, 55);  // recent values weigh more than the plain mean
  EXPECT_LT(s.decayed_mean, 100);
  ASSERT_NE(l.level[static_cast<int>(KeyLevel::kProgram)], nullptr);
  EXPECT_EQ(l.level[static_cast<int>(KeyLevel::kProgram)]->count, 11);
  EXPECT_EQ(idx.Find(AnalyzeCommand("xz f")).signature(), nullptr);
}

TEST(HistoryIndex, JsonRoundTripKeepsStats) {
  HistoryIndex idx;
  for (int i = 0; i < 100; ++i) {
    HistoryRecord r = MakeRun("sort -S 1G f", i, 1000 + i);
    r.endpoints = {"db:5432"};
    idx.Add(AnalyzeCommand(r.command), r);
  }
  auto back = HistoryIndex::FromJson(nlohmann::json::parse(idx.ToJson().dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  const CommandFeatures f = AnalyzeCommand("sort -S 1G g");
  const KeyAggregate* a = idx.Find(f).signature();
  const KeyAggregate* b = back->Find(f).signature();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->count, b->count);
  EXPECT_FLOAT_EQ(a->targets[kMemoryBytes].p90, b->targets[kMemoryBytes].p90);
  EXPECT_FLOAT_EQ(a->targets[kMemoryBytes].max, b->targets[kMemoryBytes].max);
  EXPECT_EQ(b->endpoints, std::vector<std::string>{"db:5432"});
  EXPECT_FALSE(HistoryIndex::FromJson(nlohmann::json::parse(R"({"version":7})")).ok());
}

// The aggregate a row sees must come only from strictly earlier runs: never itself, never a
// later run, never a run with the same timestamp.
TEST(FeaturizeHistory, NoLeakageFromTheRowOrTheFuture) {
  std::vector<HistoryRecord> runs = {MakeRun("gzip -9 a", 1, 100), MakeRun("gzip -9 b", 2, 200), MakeRun("gzip -9 c", 3, 300),
                                     MakeRun("gzip -9 d", 3, 400), MakeRun("gzip -9 e", 4, 500)};
  HistoryIndex idx;
  const FeaturizedHistory h = FeaturizeHistory(runs, &idx);
  ASSERT_EQ(h.rows(), 5u);
  const int count_col = HistoryCountColumn(KeyLevel::kSignature);
  const int p50_col = HistoryP50Column(KeyLevel::kSignature, kMemoryBytes);
  const int max_col = p50_col + 2;
  const int last_col = p50_col + 3;
  auto expm1f = [](float v) { return std::expm1(static_cast<double>(v)); };
  EXPECT_EQ(h.prior_count, (std::vector<int64_t>{0, 1, 2, 2, 4}));
  EXPECT_FLOAT_EQ(h.row(0)[count_col], 0.f);
  EXPECT_TRUE(std::isnan(h.row(0)[p50_col]));
  EXPECT_NEAR(expm1f(h.row(1)[max_col]), 100, 1e-3);
  EXPECT_NEAR(expm1f(h.row(2)[max_col]), 200, 1e-3);  // not 300 (itself) nor 400 (same time)
  EXPECT_NEAR(expm1f(h.row(3)[max_col]), 200, 1e-3);
  EXPECT_NEAR(expm1f(h.row(4)[max_col]), 400, 1e-3);
  EXPECT_NEAR(expm1f(h.row(4)[last_col]), 400, 1e-3);
  EXPECT_EQ(idx.total_runs(), 5);
  for (size_t i = 0; i < h.rows(); ++i) EXPECT_DOUBLE_EQ(h.y[i][kMemoryBytes], runs[i].usage->memory_peak_bytes);
}

TEST(FeaturizeRun, HistoryEndpointsBecomeDependencies) {
  HistoryIndex idx;
  HistoryRecord r = MakeRun("python3 etl.py", 1, 10);
  r.endpoints = {"10.0.0.9:5432"};
  idx.Add(AnalyzeCommand(r.command), r);
  FeaturizedRun run;
  FeaturizeRun("python3 etl.py", RunContext{}, "u", idx, &run);
  ASSERT_EQ(run.dependencies.size(), 1u);
  EXPECT_EQ(run.dependencies[0].kind, "postgres");
  EXPECT_EQ(run.dependencies[0].source, "history");
  EXPECT_EQ(run.row.size(), FeatureCount());
  EXPECT_EQ(FeatureNames().size(), FeatureCount());
}

}  // namespace
}  // namespace prescient::analysis
