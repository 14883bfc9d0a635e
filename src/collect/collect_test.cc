#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "collect/history_line.h"
#include "collect/inputs.h"
#include "collect/suite.h"
#include "exec/test_files.h"

namespace prescient::collect {
namespace {

namespace fs = std::filesystem;

SuiteEnv Env() {
  SuiteEnv e;
  e.http_port = 18431;
  e.pg_port = 18532;
  return e;
}

TEST(Suite, CaseDependsOnlyOnSeedAndIndex) {
  auto a = BuildSuite(1, 200, Env());
  auto b = BuildSuite(1, 50, Env());
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(a[i].id, b[i].id);
    EXPECT_EQ(a[i].command, b[i].command);
  }
  EXPECT_EQ(BuildCase(1, 123, Env()).command, a[123].command);
  EXPECT_EQ(a[7].id, "c000007");
  auto other = BuildSuite(2, 50, Env());
  int same = 0;
  for (int i = 0; i < 50; ++i) same += other[i].command == b[i].command;
  EXPECT_LT(same, 10);
}

TEST(Suite, ManyDistinctProgramsAndEveryFamilyPresent) {
  auto cases = BuildSuite(1, 3000, Env());
  std::set<std::string> programs, families;
  for (const auto& c : cases) {
    EXPECT_FALSE(c.command.empty()) << c.id;
    EXPECT_FALSE(c.program.empty()) << c.id;
    programs.insert(c.program);
    families.insert(c.family);
  }
  EXPECT_GE(programs.size(), 60u);
  for (const auto& c : cases)
    for (const auto& in : c.inputs) EXPECT_TRUE(KnownInput(in)) << c.id << " reads " << in << ", which has no recipe";
  EXPECT_FALSE(KnownInput("data/text-10.txt"));
  EXPECT_FALSE(KnownInput("data/tree-x.tar"));
  for (const char* f : {"compression", "sorting", "hashing", "archiving", "compiling", "database", "scripting",
                        "transfer", "pipeline"})
    EXPECT_TRUE(families.count(f)) << f;
}

TEST(Suite, WithoutServersNoCaseNeedsThem) {
  SuiteEnv none;
  for (const auto& c : BuildSuite(1, 500, none)) {
    EXPECT_TRUE(c.needs.empty()) << c.id << " " << c.command;
    EXPECT_EQ(c.command.find("127.0.0.1"), std::string::npos) << c.command;
  }
}

using exec::testing::Slurp;
using exec::testing::TempDir;

TEST(Inputs, GeneratedDeterministicallyFromSeedAndName) {
  TempDir a, b, c;
  InputCatalog ca(a.path(), 1), cb(b.path(), 1), cc(c.path(), 2);
  for (const char* name : {"data/text-1.txt", "data/csv-0.csv", "data/bin-0.bin"}) {
    ASSERT_TRUE(ca.Ensure(name).ok()) << name;
    ASSERT_TRUE(cb.Ensure(name).ok()) << name;
  }
  ASSERT_TRUE(ca.Ensure("data/tree-50").ok());
  EXPECT_EQ(Slurp(a.path() + "/data/text-1.txt"), Slurp(b.path() + "/data/text-1.txt"));
  EXPECT_EQ(ca.SizeOf("data/text-1.txt"), static_cast<int64_t>(Slurp(a.path() + "/data/text-1.txt").size()));
  EXPECT_GE(ca.SizeOf("data/text-1.txt"), SizeClassBytes(1));
  EXPECT_EQ(ca.SizeOf("data/bin-0.bin"), SizeClassBytes(0));
  EXPECT_GT(ca.SizeOf("data/tree-50"), 50 * 100);
  ASSERT_TRUE(cc.Ensure("data/text-1.txt").ok());
  EXPECT_NE(Slurp(a.path() + "/data/text-1.txt"), Slurp(c.path() + "/data/text-1.txt"));
  EXPECT_FALSE(ca.Ensure("data/unknown-thing").ok());
  EXPECT_FALSE(fs::exists(a.path() + "/data/unknown-thing.partial"));
}

TEST(HistoryLine, RequiredFieldsPresentAndUnmeasuredOnesMissing) {
  RunContext ctx;
  ctx.time = "2026-11-28T07:00:00Z";
  ctx.command = "sleep 1";
  ctx.vm_cpus = 2;
  exec::UsageReport u;
  u.memory_peak_bytes = 12345;
  u.cpu_seconds = 0.123456;
  u.duration_seconds = 1.00004;
  exec::ExitInfo e;
  e.exited = false;
  e.signal = 9;
  u.exit = e;
  u.oom_killed = true;
  auto j = HistoryLine(ctx, u);
  EXPECT_EQ(j["time"], "2026-11-28T07:00:00Z");
  EXPECT_EQ(j["command"], "sleep 1");
  EXPECT_EQ(j["usage"]["memory_peak_bytes"], 12345);
  EXPECT_EQ(j["usage"]["memory_peak_kind"], "anon_or_process_hwm");
  EXPECT_EQ(j["usage"]["signal"], 9);
  EXPECT_FALSE(j["usage"].contains("exit_code"));  // killed: no exit code, not a zero
  EXPECT_TRUE(j["usage"]["oom_killed"].get<bool>());
  EXPECT_EQ(j["context"]["vm_cpus"], 2);
  for (const char* k : {"input_bytes", "requested_cpus", "requested_memory_bytes", "vm_memory_bytes"})
    EXPECT_FALSE(j["context"].contains(k)) << k;
  EXPECT_FALSE(j["usage"].contains("cpu_throttled_seconds"));  // no quota, nothing to throttle
  EXPECT_FALSE(j["usage"].contains("memory_peak_cgroup_bytes"));
  EXPECT_DOUBLE_EQ(j["usage"]["cpu_seconds"].get<double>(), 0.1235);
  EXPECT_EQ(j["endpoints"], nlohmann::json::array());

  ctx.requested_cpus = 0.5;
  u.cpu_throttled_seconds = 0.25;
  u.exit->exited = true;
  u.exit->exit_code = 0;
  auto k = HistoryLine(ctx, u);
  EXPECT_EQ(k["usage"]["exit_code"], 0);
  EXPECT_FALSE(k["usage"].contains("signal"));
  EXPECT_DOUBLE_EQ(k["usage"]["cpu_throttled_seconds"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(k["context"]["requested_cpus"].get<double>(), 0.5);
}

}  // namespace
}  // namespace prescient::collect
