#include "exec/monitor.h"

#include <gtest/gtest.h>

#include "exec/fakes.h"

namespace prescient::exec {
namespace {

using std::chrono::milliseconds;

std::string NetDev(uint64_t lo, uint64_t eth_rx, uint64_t eth_tx) {
  return "Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n    lo: " + std::to_string(lo) +
         " 1 0 0 0 0 0 0 " + std::to_string(lo) + " 1 0 0 0 0 0 0\n  eth0: " + std::to_string(eth_rx) +
         " 1 0 0 0 0 0 0 " + std::to_string(eth_tx) + " 1 0 0 0 0 0 0\n";
}

std::string Status(int64_t rss_kb, int64_t hwm_kb) {
  return "Name:\tx\nVmHWM:\t" + std::to_string(hwm_kb) + " kB\nVmRSS:\t" + std::to_string(rss_kb) + " kB\n";
}

class MonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    proc.files["net/dev"] = NetDev(1000, 5000, 7000);
    cg.pids = {100};
    proc.files["100/status"] = Status(1000, 1000);
    proc.fds[100] = {"/dev/null", "pipe:[5]"};
  }
  Monitor::TimePoint At(int ms) { return t0 + milliseconds(ms); }
  FakeCgroup cg;
  FakeProcFs proc;
  Monitor::TimePoint t0{};
};

TEST_F(MonitorTest, CpuPeakIsTheBusiestWindowAndMeanIsTotalOverDuration) {
  Monitor m(&cg, &proc);
  m.Start(At(0));
  cg.stats.cpu_usage_ns = 50'000'000;  // 0.5 core over the first 100 ms
  ASSERT_TRUE(m.Sample(At(100)).ok());
  cg.stats.cpu_usage_ns = 250'000'000;  // 2 cores over the next 100 ms
  ASSERT_TRUE(m.Sample(At(200)).ok());
  cg.stats.cpu_usage_ns = 300'000'000;
  UsageReport r = m.Finish(At(400), nullptr);
  EXPECT_NEAR(r.cpu_cores_peak, 2.0, 1e-9);
  EXPECT_NEAR(r.cpu_seconds, 0.3, 1e-9);
  EXPECT_NEAR(r.cpu_cores_mean, 0.75, 1e-9);
  EXPECT_NEAR(r.duration_seconds, 0.4, 1e-9);
  EXPECT_EQ(r.samples.size(), 3u);
  EXPECT_FALSE(r.exit.has_value());
}

TEST_F(MonitorTest, ShortLastWindowIsMergedWithThePreviousOne) {
  Monitor m(&cg, &proc);
  m.Start(At(0));
  cg.stats.cpu_usage_ns = 100'000'000;  // 1 core over 100 ms
  ASSERT_TRUE(m.Sample(At(100)).ok());
  cg.stats.cpu_usage_ns = 108'000'000;  // +8 ms in 2 ms: 4 "cores", an accounting artefact
  UsageReport r = m.Finish(At(102), nullptr);
  EXPECT_LT(r.cpu_cores_peak, 1.1);  // merged: 108 ms over 102 ms
  EXPECT_GT(r.cpu_cores_peak, 1.0);
}

TEST_F(MonitorTest, RunShorterThanAWindowReportsItsMeanAsPeak) {
  Monitor m(&cg, &proc);
  m.Start(At(0));
  cg.stats.cpu_usage_ns = 6'000'000;
  UsageReport r = m.Finish(At(20), nullptr);
  EXPECT_NEAR(r.cpu_cores_peak, 0.3, 1e-9);
}

TEST_F(MonitorTest, MemoryPeakIsTheLargerOfAnonAndProcessHighWaterMark) {
  Monitor m(&cg, &proc);
  m.Start(At(0));
  cg.stats.memory_anon = 50 << 20;
  cg.stats.memory_shmem = 10 << 20;
  cg.stats.memory_current = 500 << 20;  // mostly page cache: not what decides an OOM kill
  cg.stats.memory_peak = 600 << 20;
  cg.stats.memory_file = 540 << 20;
  proc.files["100/status"] = Status(40 << 10, 45 << 10);
  ASSERT_TRUE(m.Sample(At(100)).ok());
  EXPECT_EQ(m.report().memory_peak_bytes, 60 << 20);  // complete mid-run too
  cg.stats.memory_anon = 5 << 20;
  cg.stats.memory_shmem = 0;
  UsageReport r = m.Finish(At(200), nullptr);
  EXPECT_EQ(r.memory_peak_anon_bytes, 60 << 20);
  EXPECT_EQ(r.memory_peak_process_hwm_bytes, 45 << 20);
  EXPECT_EQ(r.memory_peak_bytes, 60 << 20);
  EXPECT_EQ(r.memory_peak_cgroup_bytes, 600 << 20);
  EXPECT_EQ(r.memory_peak_kind, "anon_or_process_hwm");
  EXPECT_EQ(r.memory_peak_source, "anon");

  // The exit's ru_maxrss (a process that exited between samples) raises the peak.
  cg.stats.memory_peak = 10 << 20;
  Monitor m2(&cg, &proc);
  m2.Start(At(0));
  ExitInfo e;
  e.exited = true;
  e.exit_code = 0;
  e.max_rss_bytes = 80 << 20;
  UsageReport r2 = m2.Finish(At(50), &e);
  EXPECT_EQ(r2.memory_peak_process_hwm_bytes, 80 << 20);
  EXPECT_EQ(r2.memory_peak_bytes, 80 << 20);
  EXPECT_EQ(r2.memory_peak_source, "wait4_maxrss");
  ASSERT_TRUE(r2.exit.has_value());
  EXPECT_EQ(r2.exit->exit_code, 0);
}

TEST_F(MonitorTest, MaxRssAtTheLaunchersForkSizeIsNotTheCommands) {
  // ru_maxrss counts the forked copy of a 30 MiB launcher before exec: it says nothing here, and
  // the run ended before any sample saw it, so the kernel's group peak decides.
  cg.pids.clear();
  Monitor m(&cg, &proc);
  m.Start(At(0));
  cg.stats.memory_peak = 900 << 10;
  cg.stats.memory_file = 100 << 10;  // cache still charged at the end
  ExitInfo e;
  e.exited = true;
  e.exit_code = 0;
  e.max_rss_bytes = 30 << 20;
  e.fork_rss_bytes = 30 << 20;
  UsageReport r = m.Finish(At(5), &e);
  EXPECT_EQ(r.memory_peak_bytes, 800 << 10);
  EXPECT_EQ(r.memory_peak_source, "cgroup_peak_minus_cache");
  EXPECT_EQ(r.memory_peak_process_hwm_bytes, 0);

  // All of the group's peak was page cache: the group peak is the only bound left.
  Monitor m3(&cg, &proc);
  m3.Start(At(0));
  cg.stats.memory_file = 900 << 10;
  UsageReport r3 = m3.Finish(At(5), &e);
  EXPECT_EQ(r3.memory_peak_bytes, 900 << 10);
  EXPECT_EQ(r3.memory_peak_source, "cgroup_peak");
  cg.stats.memory_file = 100 << 10;

  // Above the launcher's size it is the command's own.
  Monitor m2(&cg, &proc);
  m2.Start(At(0));
  e.max_rss_bytes = 50 << 20;
  EXPECT_EQ(m2.Finish(At(5), &e).memory_peak_bytes, 50 << 20);
}

TEST_F(MonitorTest, EndpointsComeFromTheProcessesSocketsAndExcludeListeners) {
  const char tcp[] =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 0100007F:4864 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 700 1\n"
      "   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 0 0 701 1\n"
      "   2: 0100007F:C351 0100007F:2382 01 00000000:00000000 00:00000000 00000000 0 0 999 1\n";
  proc.files["100/net/tcp"] = tcp;
  proc.fds[100] = {"socket:[700]", "socket:[701]", "pipe:[3]"};  // 999 belongs to someone else
  Monitor m(&cg, &proc);
  m.Start(At(0));
  ASSERT_TRUE(m.Sample(At(100)).ok());
  EXPECT_EQ(m.report().endpoints, (std::vector<std::string>{"127.0.0.1:8080"}));
  proc.fds[100] = {};  // closed later: still recorded
  UsageReport r = m.Finish(At(200), nullptr);
  EXPECT_EQ(r.endpoints, (std::vector<std::string>{"127.0.0.1:8080"}));
}

TEST_F(MonitorTest, NetworkIsAWholeGuestDelta) {
  Monitor m(&cg, &proc);
  m.Start(At(0));
  proc.files["net/dev"] = NetDev(1500, 5100, 7020);
  UsageReport r = m.Finish(At(100), nullptr);
  EXPECT_EQ(r.network_loopback_bytes, 500u);
  EXPECT_EQ(r.network_external_bytes, 120u);
  EXPECT_EQ(r.network_bytes, 620u);
  EXPECT_EQ(r.network_scope, "guest");
}

TEST_F(MonitorTest, OomKillsThrottlingAndDiskAreReported) {
  Monitor m(&cg, &proc);
  m.Start(At(0));
  cg.stats.oom_kills = 1;
  cg.stats.cpu_nr_throttled = 4;
  cg.stats.cpu_throttled_ns = 250'000'000;
  cg.stats.io_read_bytes = 4096;
  cg.stats.io_write_bytes = 0;  // v1 misses buffered writeback ...
  ExitInfo e;
  e.signal = 9;
  e.block_write_bytes = 1 << 20;  // ... which the processes' own accounting sees
  UsageReport r = m.Finish(At(100), &e);
  EXPECT_TRUE(r.oom_killed);
  EXPECT_EQ(r.cpu_nr_throttled, 4u);
  EXPECT_NEAR(r.cpu_throttled_seconds, 0.25, 1e-9);
  EXPECT_EQ(r.disk_read_bytes, 4096u);
  EXPECT_EQ(r.disk_write_bytes, 1u << 20);
}

TEST_F(MonitorTest, CgroupReadFailureIsReturned) {
  Monitor m(&cg, &proc);
  m.Start(At(0));
  cg.stats_error = NotFoundError("cgroup gone");
  EXPECT_FALSE(m.Sample(At(100)).ok());
}

TEST_F(MonitorTest, LongCurvesAreThinned) {
  MonitorOptions o;
  o.max_samples = 10;
  Monitor m(&cg, &proc, o);
  m.Start(At(0));
  for (int i = 1; i <= 25; ++i) ASSERT_TRUE(m.Sample(At(100 * i)).ok());
  EXPECT_LE(m.report().samples.size(), 10u);
  EXPECT_EQ(m.report().sample_count, 25);
}

}  // namespace
}  // namespace prescient::exec
