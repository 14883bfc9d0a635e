#include "history/store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "analysis/history.h"

namespace prescient::history {
namespace {

std::string TempDir() {
  std::string t = (std::filesystem::temp_directory_path() / "prescient-history-XXXXXX").string();
  char* d = ::mkdtemp(t.data());
  return d ? std::string(d) : "";
}

Observation MakeObservation(const std::string& uid, const std::string& command, double mem) {
  Observation o;
  o.run_uid = uid;
  o.ns = "default";
  o.name = "run-" + uid;
  o.record.time_text = "2026-01-02T03:04:05Z";
  o.record.command = command;
  o.record.user = "alice";
  analysis::RunUsage u;
  u.memory_peak_bytes = mem;
  u.cpu_cores_peak = 0.5;
  u.duration_seconds = 2;
  o.record.usage = u;
  o.prediction = PredictedProfile{1.0, 1 << 28, 3, "m1", "Model"};
  return o;
}

TEST(HistoryStore, AppendsLinesTheAnalysisReaderParses) {
  std::string dir = TempDir();
  auto s = HistoryStore::Open(dir);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  bool appended = false;
  ASSERT_TRUE((*s)->Append(MakeObservation("u1", "sort big.txt", 1e8), &appended).ok());
  EXPECT_TRUE(appended);
  ASSERT_TRUE((*s)->Append(MakeObservation("u2", "gzip x", 2e8)).ok());
  auto file = analysis::ReadHistoryFile((*s)->path(), {.require_usage = true, .strict = true});
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_EQ(file->records.size(), 2u);
  EXPECT_EQ(file->records[0].command, "sort big.txt");
  EXPECT_DOUBLE_EQ(file->records[1].usage->memory_peak_bytes, 2e8);
  std::filesystem::remove_all(dir);
}

TEST(HistoryStore, AppendIsIdempotentPerRunAcrossReopen) {
  std::string dir = TempDir();
  {
    auto s = HistoryStore::Open(dir);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Append(MakeObservation("u1", "a", 1)).ok());
  }
  auto s = HistoryStore::Open(dir);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE((*s)->Contains("u1"));
  bool appended = true;
  ASSERT_TRUE((*s)->Append(MakeObservation("u1", "a", 1), &appended).ok());
  EXPECT_FALSE(appended);
  EXPECT_EQ((*s)->size(), 1u);
  std::filesystem::remove_all(dir);
}

TEST(HistoryStore, OpenTruncatesATornLastLine) {
  std::string dir = TempDir();
  {
    auto s = HistoryStore::Open(dir);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Append(MakeObservation("u1", "a", 1)).ok());
  }
  {
    std::ofstream out(dir + "/history.jsonl", std::ios::app);
    out << "{\"time\":\"2026-01-02T03:04:05Z\",\"command\":\"torn";  // crash mid-write
  }
  auto s = HistoryStore::Open(dir);
  ASSERT_TRUE(s.ok());
  EXPECT_GT((*s)->truncated_bytes(), 0u);
  ASSERT_TRUE((*s)->Append(MakeObservation("u2", "b", 2)).ok());
  auto file = analysis::ReadHistoryFile((*s)->path(), {.require_usage = true, .strict = true});
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->records.size(), 2u);
  std::filesystem::remove_all(dir);
}

TEST(HistoryStore, RejectsObservationWithoutUid) {
  std::string dir = TempDir();
  auto s = HistoryStore::Open(dir);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE((*s)->Append(MakeObservation("", "a", 1)).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace prescient::history
