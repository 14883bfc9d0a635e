#include "model/predictor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <atomic>
#include <functional>
#include <thread>
#include <unistd.h>

#include "model/evaluation.h"

namespace prescient::model {
namespace {

using analysis::HistoryRecord;

// Real runs measured with GNU time on this project's machine (testdata/measure_fixture.sh).
std::vector<HistoryRecord> Fixture() {
  auto h = analysis::ReadHistoryFile("src/model/testdata/real_runs.jsonl");
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  return h.ok() ? h->records : std::vector<HistoryRecord>{};
}

TrainOptions FastOptions() {
  TrainOptions o;
  o.rounds = 30;
  o.threads = 1;
  return o;
}

// One model trained on the whole fixture, shared by the tests that only read it.
// Deliberately never destroyed: XGBoost's own static state may be torn down first at exit.
Predictor& Trained() {
  static Predictor* p = [] {
    auto r = Predictor::Train(Fixture(), FastOptions());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value().release() : Predictor::WithoutModel().release();
  }();
  return *p;
}

std::string TempModelDir(const std::string& name) {
  const std::string dir = testing::TempDir() + "/prescient_" + name + "_" + std::to_string(::getpid());
  std::system(("rm -rf '" + dir + "'").c_str());
  return dir;
}

TEST(Predictor, FallbackSourcesWithoutModel) {
  auto p = Predictor::WithoutModel();
  PredictionRequest req;
  req.command = "gzip -9 big.bin";
  ResourceProfile r = p->Predict(req);
  EXPECT_EQ(r.source, PredictionSource::kDefault);
  EXPECT_DOUBLE_EQ(r.memory_bytes, DefaultResources().memory_bytes);
  EXPECT_DOUBLE_EQ(r.cpu_cores, 1);
  req.context.requested_memory_bytes = 2e9;
  EXPECT_DOUBLE_EQ(p->Predict(req).memory_bytes, 2e9);

  for (int i = 0; i < 3; ++i) {
    HistoryRecord run;
    run.command = "gzip -9 other" + std::to_string(i) + ".bin";
    run.time = Clock::TimePoint(std::chrono::seconds(i));
    run.usage = analysis::RunUsage{};
    run.usage->memory_peak_bytes = 100e6 * (i + 1);
    run.endpoints = {"db:5432"};
    p->Observe(run);
  }
  r = p->Predict(req);
  EXPECT_EQ(r.source, PredictionSource::kHistory);
  EXPECT_NEAR(r.memory_bytes, 300e6 * 1.2, 1);  // < 10 runs: max x 1.2
  EXPECT_EQ(r.history_runs, 3);
  EXPECT_NE(r.source_detail.find("signature"), std::string::npos);
  EXPECT_EQ(r.target_source[analysis::kDurationSeconds], PredictionSource::kDefault);
  ASSERT_EQ(r.dependencies.size(), 1u);
  EXPECT_EQ(r.dependencies[0].source, "history");
  // A different flag: the signature is new, the shape (program without flags) still knows gzip.
  req.command = "gzip -1 x.bin";
  r = p->Predict(req);
  EXPECT_EQ(r.source, PredictionSource::kHistory);
  EXPECT_NE(r.source_detail.find("shape"), std::string::npos) << r.source_detail;
  EXPECT_EQ(r.history_runs, 0);
  // Piped into another program: only the program level matches.
  req.command = "cat x.bin | gzip -1";
  r = p->Predict(req);
  EXPECT_NE(r.source_detail.find("program"), std::string::npos) << r.source_detail;
}

TEST(Predictor, TrainSaveLoadRoundTrip) {
  Predictor* trained = &Trained();
  ASSERT_TRUE(trained->has_model());
  const ModelMetadata& m = trained->metadata();
  EXPECT_EQ(m.feature_schema_version, analysis::kFeatureSchemaVersion);
  EXPECT_GT(m.rows, 300);
  EXPECT_EQ(m.train_rows + m.calibration_rows, m.rows);
  EXPECT_DOUBLE_EQ(m.quantiles[analysis::kMemoryBytes], 0.95);
  EXPECT_EQ(m.calibration[analysis::kNetworkBps].train_rows, 0);  // never measured in the fixture

  const std::string dir = TempModelDir("roundtrip");
  ASSERT_TRUE(trained->Save(dir).ok());
  auto loaded = Predictor::Load(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->metadata().model_version, m.model_version);
  EXPECT_EQ((*loaded)->metadata().training_data_hash, m.training_data_hash);
  for (const char* cmd : {"gzip -9 -c rand-1M.bin > out.gz", "sort -n -S 8M text-4M.txt | uniq -c > counts.txt",
                          "never-seen-tool --frobnicate 7"}) {
    PredictionRequest req;
    req.command = cmd;
    req.context.input_bytes = 1 << 20;
    const ResourceProfile a = trained->Predict(req);
    const ResourceProfile b = (*loaded)->Predict(req);
    EXPECT_EQ(a.source, PredictionSource::kModel) << cmd;
    EXPECT_DOUBLE_EQ(a.memory_bytes, b.memory_bytes) << cmd;
    EXPECT_DOUBLE_EQ(a.cpu_cores, b.cpu_cores) << cmd;
    EXPECT_EQ(a.history_runs, b.history_runs) << cmd;
    EXPECT_GT(a.memory_bytes, 0);
    // Network was never measured: history has nothing either, so the default is used.
    EXPECT_EQ(b.target_source[analysis::kNetworkBps], PredictionSource::kDefault);
  }
  PredictionRequest explain;
  explain.command = "xz -6 -T1 -c rand-4M.bin > out.xz";
  explain.explain = true;
  explain.top_features = 3;
  const ResourceProfile e = (*loaded)->Predict(explain);
  EXPECT_FALSE(e.contributions.empty());
  EXPECT_LE(e.contributions.size(), 3u * analysis::kNumTargets);
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST(Predictor, IncompatibleMetadataFailsNamingTheMismatch) {
  const std::string dir = TempModelDir("incompatible");
  ASSERT_TRUE(Trained().Save(dir).ok());
  auto edit = [&](const std::function<void(nlohmann::json&)>& f) {
    std::ifstream in(dir + "/metadata.json");
    nlohmann::json j = nlohmann::json::parse(in);
    f(j);
    std::ofstream(dir + "/metadata.json") << j.dump();
  };
  edit([](nlohmann::json& j) { j["feature_schema"]["version"] = "prescient-features/v0"; });
  auto r = Predictor::Load(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("prescient-features/v0"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(analysis::kFeatureSchemaVersion), std::string::npos);

  edit([](nlohmann::json& j) {
    j["feature_schema"]["version"] = analysis::kFeatureSchemaVersion;
    j["feature_schema"]["hash"] = "0000000000000000";
  });
  r = Predictor::Load(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("hash"), std::string::npos) << r.status().message();

  edit([](nlohmann::json& j) { j["format"] = "prescient-model/v9"; });
  r = Predictor::Load(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("prescient-model/v9"), std::string::npos) << r.status().message();

  EXPECT_EQ(Predictor::Load(dir + "/nope").status().code(), Code::kNotFound);
  std::system(("rm -rf '" + dir + "'").c_str());
}

// Coverage on runs the model never saw (neither for boosting nor for calibration): train on the
// oldest 60 % of the real fixture, score the newest 40 %.
TEST(Predictor, CalibratedCoverageHoldsOnHeldOutRealRuns) {
  std::vector<HistoryRecord> all = Fixture();
  analysis::SortByTime(&all);
  const size_t cut = all.size() * 6 / 10;
  std::vector<HistoryRecord> train(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(cut));
  TrainOptions o = FastOptions();
  o.calibration_fraction = 0.3;
  auto p = Predictor::Train(train, o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EvaluationOptions eo;
  eo.baselines = false;
  auto report = Evaluate(p->get(), all, eo);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->test_rows, all.size() - cut);
  const MethodResult* mem = report->Find("prescient", "all", analysis::kMemoryBytes);
  const MethodResult* cpu = report->Find("prescient", "all", analysis::kCpuCores);
  ASSERT_NE(mem, nullptr);
  ASSERT_NE(cpu, nullptr);
  // ~150 held-out runs: allow sampling noise (2 standard errors) around the nominal quantile.
  EXPECT_GE(mem->metrics.coverage, 0.95 - 0.04) << "memory coverage";
  EXPECT_GE(cpu->metrics.coverage, 0.90 - 0.06) << "cpu coverage";
  EXPECT_LT(mem->metrics.median_slack, 0.9);  // an upper bound, not "allocate everything"
}

TEST(Predictor, ConcurrentPredictIsSafe) {
  Predictor* p = &Trained();
  PredictionRequest req;
  req.command = "bzip2 -c rand-16M.bin > out.bz2";
  const double expected = p->Predict(req).memory_bytes;
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (p->Predict(req).memory_bytes != expected) ++mismatches;
      }
    });
  }
  HistoryRecord run;
  run.command = "unrelated-tool";
  run.usage = analysis::RunUsage{};
  run.usage->memory_peak_bytes = 1;
  for (int i = 0; i < 50; ++i) p->Observe(run);
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Predictor, TrainRejectsTooLittleData) {
  std::vector<HistoryRecord> few = Fixture();
  few.resize(10);
  auto p = Predictor::Train(few, FastOptions());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("at least"), std::string::npos);
}

}  // namespace
}  // namespace prescient::model
