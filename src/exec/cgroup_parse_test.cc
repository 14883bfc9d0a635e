#include <gtest/gtest.h>

#include "exec/cgroup.h"

namespace prescient::exec {
namespace {

TEST(ParseFlatKeyed, V1MemoryStat) {
  const std::string text =
      "cache 4096\nrss 8192\nrss_huge 0\nshmem 0\ntotal_cache 1052672\ntotal_rss 73728000\n"
      "total_shmem 4096\ntotal_inactive_file 1048576\nhierarchical_memory_limit 9223372036854771712\n";
  auto kv = ParseFlatKeyed(text);
  EXPECT_EQ(FlatValue(kv, "total_rss"), 73728000);
  EXPECT_EQ(FlatValue(kv, "total_cache"), 1052672);
  EXPECT_EQ(FlatValue(kv, "hierarchical_memory_limit"), 9223372036854771712LL);
  EXPECT_FALSE(FlatValue(kv, "anon").has_value());
}

TEST(ParseFlatKeyed, SkipsMalformedLinesAndLaterKeysWin) {
  auto kv = ParseFlatKeyed("a 1\nbroken\nb notanumber\nc 3 extra\na 5\n\n");
  EXPECT_EQ(FlatValue(kv, "a"), 5);
  EXPECT_FALSE(FlatValue(kv, "b").has_value());
  EXPECT_EQ(FlatValue(kv, "c"), 3);
}

TEST(ParseFlatKeyed, OomControlAndV2Events) {
  EXPECT_EQ(FlatValue(ParseFlatKeyed("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"), "oom_kill"), 2);
  EXPECT_EQ(FlatValue(ParseFlatKeyed("low 0\nhigh 0\nmax 17\noom 1\noom_kill 1\noom_group_kill 0\n"), "oom_kill"), 1);
}

TEST(ParseFlatKeyed, V2CpuStat) {
  auto kv = ParseFlatKeyed("usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\nnr_periods 20\n"
                           "nr_throttled 7\nthrottled_usec 350000\n");
  EXPECT_EQ(FlatValue(kv, "usage_usec"), 1500000);
  EXPECT_EQ(FlatValue(kv, "nr_throttled"), 7);
  EXPECT_EQ(FlatValue(kv, "throttled_usec"), 350000);
}

TEST(ParseBlkioServiceBytes, SumsDevicesAndIgnoresTotal) {
  uint64_t r = 0, w = 0;
  ParseBlkioServiceBytes(
      "8:0 Read 1000\n8:0 Write 200\n8:0 Sync 1200\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 1200\n"
      "8:16 Read 5\n8:16 Write 7\nTotal 1212\n",
      &r, &w);
  EXPECT_EQ(r, 1005u);
  EXPECT_EQ(w, 207u);
  ParseBlkioServiceBytes("Total 0\n", &r, &w);
  EXPECT_EQ(r, 0u);
  EXPECT_EQ(w, 0u);
}

TEST(ParseIoStat, SumsDevices) {
  uint64_t r = 0, w = 0;
  ParseIoStat("8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n253:0 rbytes=1 wbytes=2 rios=1 wios=1\n", &r, &w);
  EXPECT_EQ(r, 4097u);
  EXPECT_EQ(w, 8194u);
}

TEST(ParseCpuMax, Table) {
  struct Case {
    std::string text;
    bool ok;
    std::optional<double> cores;
  } cases[] = {
      {"max 100000\n", true, std::nullopt},
      {"50000 100000\n", true, 0.5},
      {"250000 100000", true, 2.5},
      {"", false, std::nullopt},
      {"abc 100000", false, std::nullopt},
      {"50000 0", false, std::nullopt},
  };
  for (const auto& c : cases) {
    std::optional<double> cores = 99.0;
    EXPECT_EQ(ParseCpuMax(c.text, &cores), c.ok) << c.text;
    if (c.ok) {
      EXPECT_EQ(cores, c.cores) << c.text;
    }
  }
}

TEST(ParsePidList, OnePerLine) {
  EXPECT_EQ(ParsePidList("12\n345\n\n6\n"), (std::vector<pid_t>{12, 345, 6}));
  EXPECT_TRUE(ParsePidList("").empty());
}

TEST(ParseProcCgroup, V1AndV2Lines) {
  auto entries = ParseProcCgroup(
      "9:name=systemd:/\n4:memory:/process_api/46e8\n2:cpu,cpuacct:/user.slice\n0::/init.scope\n");
  std::vector<std::pair<std::string, std::string>> want = {{"name=systemd", "/"},
                                                           {"memory", "/process_api/46e8"},
                                                           {"cpu", "/user.slice"},
                                                           {"cpuacct", "/user.slice"},
                                                           {"", "/init.scope"}};
  EXPECT_EQ(entries, want);
}

TEST(DetectCgroups, NothingMountedIsAClearError) {
  CgroupOptions o;
  o.mount_root = "/nonexistent-prescient-test";
  auto m = DetectCgroups(o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Code::kUnavailable);
  EXPECT_NE(m.status().message().find("/nonexistent-prescient-test"), std::string::npos);
}

}  // namespace
}  // namespace prescient::exec
