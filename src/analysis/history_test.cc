#include "analysis/history.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

namespace prescient::analysis {
namespace {

const char* kLine =
    R"({"time":"2026-11-28T06:34:12.5Z","command":"gzip -9 f","user":"u","context":{"vm_cpus":2,"input_bytes":1000},)"
    R"("usage":{"cpu_seconds":1.5,"memory_peak_bytes":3000000,"duration_seconds":2,"disk_write_bytes":400,"exit_code":0},)"
    R"("endpoints":["db:5432"]})";

TEST(History, ParsesDocumentedSchemaAndKeepsMissingFieldsMissing) {
  auto r = ParseHistoryLine(kLine, true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->command, "gzip -9 f");
  EXPECT_EQ(r->context.vm_cpus, 2);
  EXPECT_FALSE(r->context.vm_memory_bytes.has_value());
  ASSERT_TRUE(r->usage.has_value());
  EXPECT_FALSE(r->usage->network_bytes.has_value());
  EXPECT_EQ(r->endpoints, std::vector<std::string>{"db:5432"});
  const TargetValues t = TargetsOf(*r->usage);
  EXPECT_DOUBLE_EQ(t[kCpuCores], 0.75);  // cpu_seconds / duration when no peak was recorded
  EXPECT_DOUBLE_EQ(t[kMemoryBytes], 3e6);
  EXPECT_DOUBLE_EQ(t[kDiskWriteBps], 200);
  EXPECT_TRUE(std::isnan(t[kNetworkBps]));
  EXPECT_TRUE(std::isnan(t[kDiskReadBps]));
  // Round trip through the documented JSON form.
  auto again = ParseHistoryRecord(HistoryRecordToJson(*r), true);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(HistoryRecordToJson(*again), HistoryRecordToJson(*r));
}

TEST(History, ErrorsNameTheField) {
  struct Case {
    const char* line;
    const char* needle;
  };
  const Case cases[] = {
      {R"({"time":"2026-11-28T00:00:00Z","usage":{"memory_peak_bytes":1}})", "command"},
      {R"({"command":"x","usage":{"memory_peak_bytes":1}})", "time"},
      {R"({"time":"yesterday","command":"x","usage":{"memory_peak_bytes":1}})", "time"},
      {R"({"time":"2026-11-28T00:00:00Z","command":"x","usage":{}})", "usage.memory_peak_bytes"},
      {R"({"time":"2026-11-28T00:00:00Z","command":"x","usage":{"memory_peak_bytes":-5}})", "usage.memory_peak_bytes"},
      {R"({"time":"2026-11-28T00:00:00Z","command":"x","usage":{"memory_peak_bytes":1,"duration_seconds":"2"}})",
       "usage.duration_seconds"},
      {R"({"time":"2026-11-28T00:00:00Z","command":"x","context":{"vm_cpus":"two"},"usage":{"memory_peak_bytes":1}})",
       "context.vm_cpus"},
      {"{not json", "JSON"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    auto r = ParseHistoryLine(c.line, true);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos) << r.status().message();
  }
  // Batch prediction input: usage may be absent.
  EXPECT_TRUE(ParseHistoryLine(R"({"command":"x"})", false).ok());
}

TEST(History, ReadsPlainAndGzipFilesAndReportsBadLines) {
  const std::string dir = testing::TempDir();
  const std::string plain = dir + "/prescient_history_test.jsonl";
  {
    std::ofstream f(plain);
    f << kLine << "\n\n" << "{bad\n" << kLine << "\n";
  }
  auto h = ReadHistoryFile(plain);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->records.size(), 2u);
  EXPECT_EQ(h->skipped, 1u);
  ASSERT_EQ(h->errors.size(), 1u);
  EXPECT_NE(h->errors[0].find(":3:"), std::string::npos) << h->errors[0];
  ReadOptions strict;
  strict.strict = true;
  EXPECT_FALSE(ReadHistoryFile(plain, strict).ok());

  const std::string gz = dir + "/prescient_history_test.jsonl.gz";
  gzFile g = gzopen(gz.c_str(), "wb");
  ASSERT_NE(g, nullptr);
  const std::string content = std::string(kLine) + "\n";
  gzwrite(g, content.data(), static_cast<unsigned>(content.size()));
  gzclose(g);
  auto z = ReadHistoryFile(gz);
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  EXPECT_EQ(z->records.size(), 1u);
  EXPECT_FALSE(ReadHistoryFile(dir + "/does-not-exist.jsonl").ok());
  std::remove(plain.c_str());
  std::remove(gz.c_str());
}

TEST(History, SortByTimeIsStable) {
  std::vector<HistoryRecord> v(3);
  v[0].command = "b";
  v[0].time = Clock::TimePoint(std::chrono::seconds(20));
  v[1].command = "a";
  v[1].time = Clock::TimePoint(std::chrono::seconds(10));
  v[2].command = "c";
  v[2].time = Clock::TimePoint(std::chrono::seconds(20));
  SortByTime(&v);
  EXPECT_EQ(v[0].command, "a");
  EXPECT_EQ(v[1].command, "b");
  EXPECT_EQ(v[2].command, "c");
}

}  // namespace
}  // namespace prescient::analysis
