#include "history/retrainer.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace prescient::history {
namespace {

std::string TempDir() {
  std::string t = (std::filesystem::temp_directory_path() / "prescient-retrain-XXXXXX").string();
  char* d = ::mkdtemp(t.data());
  return d ? std::string(d) : "";
}

Observation Obs(int i, const std::string& cmd, double mem) {
  Observation o;
  o.run_uid = "u" + std::to_string(i);
  o.record.time_text = "2026-01-01T00:" + std::string(i / 60 < 10 ? "0" : "") + std::to_string(i / 60) + ":" +
                       std::string(i % 60 < 10 ? "0" : "") + std::to_string(i % 60) + "Z";
  ParseRfc3339(o.record.time_text, &o.record.time);
  o.record.command = cmd;
  analysis::RunUsage u;
  u.memory_peak_bytes = mem;
  u.cpu_cores_peak = 0.5;
  u.duration_seconds = 1;
  o.record.usage = u;
  return o;
}

TEST(RetrainOnce, SkipsASmallHistory) {
  std::string dir = TempDir();
  auto s = HistoryStore::Open(dir);
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*s)->Append(Obs(i, "sort a", 1e8)).ok());
  auto incumbent = model::Predictor::WithoutModel();
  RetrainOptions o;
  o.history_path = (*s)->path();
  RetrainOutcome r = RetrainOnce(*incumbent, o);
  EXPECT_EQ(r.result, "skipped") << r.message;
  EXPECT_EQ(r.promoted, nullptr);
  std::filesystem::remove_all(dir);
}

TEST(RetrainOnce, MissingHistoryFails) {
  auto incumbent = model::Predictor::WithoutModel();
  RetrainOptions o;
  o.history_path = "/nonexistent/history.jsonl";
  EXPECT_EQ(RetrainOnce(*incumbent, o).result, "failed");
}

}  // namespace
}  // namespace prescient::history
