// The v1 and v2 cgroup implementations against a directory laid out like cgroupfs (plain files
// in a temporary directory): what they write for each limit and how they read statistics, one
// table row per version. This is how the v2 path is tested on machines that only have v1 (and the
// other way round).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "exec/cgroup.h"

namespace prescient::exec {
namespace {

namespace fs = std::filesystem;

class FakeCgroupFs {
 public:
  FakeCgroupFs() {
    std::string t = (fs::temp_directory_path() / "prescient-cgroupfs-XXXXXX").string();
    root_ = ::mkdtemp(t.data());
  }
  ~FakeCgroupFs() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  const std::string& root() const { return root_; }
  void Put(const std::string& rel, const std::string& text) {
    fs::create_directories(fs::path(root_ + "/" + rel).parent_path());
    std::ofstream(root_ + "/" + rel) << text;
  }
  std::string Get(const std::string& rel) const {
    std::ifstream in(root_ + "/" + rel);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string root_;
};

using Files = std::map<std::string, std::string>;  // path under the mount root -> content

// One cgroup version as a table row: a mounted hierarchy, the files the kernel gives a new group,
// what the implementation writes for limits, and what it reads back from the kernel's files.
// "{G}" in a path stands for the group's name.
struct VersionCase {
  const char* name;
  CgroupVersion version;
  Files mount;  // the mounted root(s) before detection
  std::string group;
  Files group_files;  // what cgroupfs creates in a new group
  CgroupLimits limits;
  Files written;      // after SetLimits(limits)
  Files unlimited;    // after SetLimits with cpu_cores = memory_bytes = 0
  Files kernel_limits;  // then ReadLimits() gives:
  double read_cpu_cores;
  int64_t read_memory_bytes;
  Files kernel_stats;  // then ReadStats() gives:
  CgroupStats stats;
  std::vector<std::string> procs_files;  // where a process joins the group, one per hierarchy
  const char* no_net_priority;  // what Unenforceable says of a network priority here
};

std::string InGroup(std::string path, const std::string& group) {
  for (size_t at; (at = path.find("{G}")) != std::string::npos;) path.replace(at, 3, group);
  return path;
}

const VersionCase kVersions[] = {
    {.name = "V1",
     .version = CgroupVersion::kV1,
     .mount = {{"memory/cgroup.procs", ""}, {"cpu/cgroup.procs", ""}, {"cpuacct/cgroup.procs", ""},
               {"blkio/cgroup.procs", ""}, {"memory/memory.limit_in_bytes", "9223372036854771712\n"},
               {"cpu/cpu.cfs_quota_us", "-1\n"}, {"cpuacct/cpuacct.usage", "0\n"}},
     .group = "prescient/run-1",
     .group_files = {{"memory/{G}/memory.limit_in_bytes", ""}, {"memory/{G}/memory.memsw.limit_in_bytes", ""},
                     {"memory/{G}/memory.swappiness", ""}, {"memory/{G}/cgroup.procs", ""},
                     {"cpu/{G}/cpu.cfs_quota_us", ""}, {"cpu/{G}/cpu.cfs_period_us", "100000\n"},
                     {"cpu/{G}/cgroup.procs", ""}, {"cpuacct/{G}/cgroup.procs", ""}, {"blkio/{G}/cgroup.procs", ""},
                     {"blkio/{G}/blkio.bfq.weight", ""}, {"blkio/{G}/blkio.throttle.read_bps_device", ""},
                     {"blkio/{G}/blkio.throttle.write_bps_device", ""},
                     {"blkio/{G}/blkio.throttle.read_iops_device", ""},
                     {"blkio/{G}/blkio.throttle.write_iops_device", ""}},
     .limits = {.cpu_cores = 1.5,
                .memory_bytes = 256 << 20,
                .io_weight = 500,
                .io_devices = {{"254:0", 1048576, 0, 0, 100}}},
     .written = {{"cpu/{G}/cpu.cfs_quota_us", "150000"},
                 {"memory/{G}/memory.limit_in_bytes", "268435456"},
                 {"memory/{G}/memory.memsw.limit_in_bytes", "268435456"},  // no swap
                 {"blkio/{G}/blkio.bfq.weight", "500"},  // BFQ's scale is v2's, capped at 1000
                 {"blkio/{G}/blkio.throttle.read_bps_device", "254:0 1048576"},
                 {"blkio/{G}/blkio.throttle.write_iops_device", "254:0 100"}},
     .unlimited = {{"cpu/{G}/cpu.cfs_quota_us", "-1"}, {"memory/{G}/memory.limit_in_bytes", "-1"}},
     .kernel_limits = {{"cpu/{G}/cpu.cfs_quota_us", "50000\n"},
                       {"memory/{G}/memory.limit_in_bytes", "9223372036854771712\n"}},  // unlimited
     .read_cpu_cores = 0.5,
     .read_memory_bytes = 0,
     .kernel_stats = {{"memory/{G}/memory.usage_in_bytes", "1000000\n"},
                      {"memory/{G}/memory.max_usage_in_bytes", "3000000\n"},
                      {"memory/{G}/memory.stat", "rss 1\ntotal_rss 700000\ntotal_cache 300000\ntotal_shmem 4096\n"},
                      {"memory/{G}/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n"},
                      {"cpuacct/{G}/cpuacct.usage", "2500000000\n"},
                      {"cpu/{G}/cpu.stat", "nr_periods 10\nnr_throttled 3\nthrottled_time 120000000\n"},
                      {"blkio/{G}/blkio.throttle.io_service_bytes_recursive",
                       "254:0 Read 4096\n254:0 Write 8192\nTotal 12288\n"}},
     .stats = {.cpu_usage_ns = 2500000000, .cpu_nr_periods = 10, .cpu_nr_throttled = 3,
               .cpu_throttled_ns = 120000000, .memory_current = 1000000, .memory_peak = 3000000,
               .memory_anon = 700000, .memory_file = 300000, .memory_shmem = 4096, .oom_kills = 1,
               .io_read_bytes = 4096, .io_write_bytes = 8192},
     .procs_files = {"blkio/{G}/cgroup.procs", "cpu/{G}/cgroup.procs", "cpuacct/{G}/cgroup.procs",
                     "memory/{G}/cgroup.procs"},
     .no_net_priority = "net_prio"},  // no net_prio hierarchy mounted here
    {.name = "V2",
     .version = CgroupVersion::kV2,
     .mount = {{"cgroup.controllers", "cpuset cpu io memory hugetlb pids\n"},
               {"cgroup.subtree_control", ""},
               {"prescient/cgroup.controllers", "cpu io memory pids\n"},
               {"prescient/cgroup.subtree_control", "cpu io memory pids\n"}},  // already delegated
     .group = "prescient/run-2",
     .group_files = {{"{G}/cpu.max", ""}, {"{G}/memory.max", ""}, {"{G}/memory.swap.max", ""},
                     {"{G}/io.weight", ""}, {"{G}/io.max", ""}, {"{G}/pids.max", ""}, {"{G}/cgroup.procs", ""}},
     .limits = {.cpu_cores = 0.25,
                .memory_bytes = 1 << 30,
                .io_weight = 200,
                .io_devices = {{"8:0", 0, 2097152, 0, 0}},
                .pids_max = 100},
     .written = {{"{G}/cpu.max", "25000 100000"},
                 {"{G}/memory.max", "1073741824"},
                 {"{G}/memory.swap.max", "0"},
                 {"{G}/io.weight", "default 200"},
                 {"{G}/io.max", "8:0 rbps=max wbps=2097152 riops=max wiops=max"},
                 {"{G}/pids.max", "100"}},
     .unlimited = {{"{G}/cpu.max", "max 100000"}, {"{G}/memory.max", "max"}, {"{G}/memory.swap.max", "max"}},
     .kernel_limits = {{"{G}/cpu.max", "max 100000\n"}, {"{G}/memory.max", "max\n"}},
     .read_cpu_cores = 0,
     .read_memory_bytes = 0,
     .kernel_stats = {{"{G}/memory.current", "5000\n"},
                      {"{G}/memory.peak", "9000\n"},
                      {"{G}/memory.stat", "anon 4000\nfile 1000\nshmem 10\ninactive_file 500\n"},
                      {"{G}/memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n"},
                      {"{G}/cpu.stat", "usage_usec 1500\nnr_periods 4\nnr_throttled 2\nthrottled_usec 300\n"},
                      {"{G}/io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=1\n"}},
     .stats = {.cpu_usage_ns = 1500000, .cpu_nr_periods = 4, .cpu_nr_throttled = 2, .cpu_throttled_ns = 300000,
               .memory_current = 5000, .memory_peak = 9000, .memory_anon = 4000, .memory_file = 1000,
               .memory_shmem = 10, .memory_inactive_file = 500, .oom_kills = 1, .io_read_bytes = 10,
               .io_write_bytes = 20},
     .procs_files = {"{G}/cgroup.procs"},
     .no_net_priority = "cgroup v2 has no net_prio"},
};

void Put(FakeCgroupFs& f, const Files& files, const std::string& group) {
  for (const auto& [path, text] : files) f.Put(InGroup(path, group), text);
}

std::unique_ptr<CgroupManager> Detect(FakeCgroupFs& f, const VersionCase& c) {
  Put(f, c.mount, c.group);
  CgroupOptions o;
  o.mount_root = f.root();
  auto m = DetectCgroups(o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return nullptr;
  EXPECT_EQ((*m)->version(), c.version);
  return std::move(*m);
}

void ExpectFiles(const FakeCgroupFs& f, const Files& files, const std::string& group, const std::string& when) {
  for (const auto& [path, text] : files) EXPECT_EQ(f.Get(InGroup(path, group)), text) << path << " " << when;
}

class CgroupFiles : public ::testing::TestWithParam<VersionCase> {};

TEST_P(CgroupFiles, LimitsAndStats) {
  const VersionCase& c = GetParam();
  FakeCgroupFs f;
  auto m = Detect(f, c);
  ASSERT_NE(m, nullptr);
  auto cg = m->Create(c.group);
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  Put(f, c.group_files, c.group);

  ASSERT_TRUE((*cg)->SetLimits(c.limits).ok());
  ExpectFiles(f, c.written, c.group, "after SetLimits");
  ASSERT_TRUE((*cg)->SetLimits({.cpu_cores = 0, .memory_bytes = 0}).ok());
  ExpectFiles(f, c.unlimited, c.group, "after SetLimits without limits");

  Put(f, c.kernel_limits, c.group);
  auto read = (*cg)->ReadLimits();
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_DOUBLE_EQ(read->cpu_cores.value_or(-1), c.read_cpu_cores);
  EXPECT_EQ(read->memory_bytes.value_or(-1), c.read_memory_bytes);  // 0: unlimited

  Put(f, c.kernel_stats, c.group);
  auto st = (*cg)->ReadStats();
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->cpu_usage_ns, c.stats.cpu_usage_ns);
  EXPECT_EQ(st->cpu_nr_periods, c.stats.cpu_nr_periods);
  EXPECT_EQ(st->cpu_nr_throttled, c.stats.cpu_nr_throttled);
  EXPECT_EQ(st->cpu_throttled_ns, c.stats.cpu_throttled_ns);
  EXPECT_EQ(st->memory_current, c.stats.memory_current);
  EXPECT_EQ(st->memory_peak, c.stats.memory_peak);
  EXPECT_EQ(st->memory_anon, c.stats.memory_anon);
  EXPECT_EQ(st->memory_file, c.stats.memory_file);
  EXPECT_EQ(st->memory_shmem, c.stats.memory_shmem);
  EXPECT_EQ(st->memory_inactive_file, c.stats.memory_inactive_file);
  EXPECT_EQ(st->oom_kills, c.stats.oom_kills);
  EXPECT_EQ(st->io_read_bytes, c.stats.io_read_bytes);
  EXPECT_EQ(st->io_write_bytes, c.stats.io_write_bytes);

  std::vector<std::string> procs = (*cg)->ProcsFiles(), want;
  std::sort(procs.begin(), procs.end());
  for (const auto& p : c.procs_files) want.push_back(f.root() + "/" + InGroup(p, c.group));
  std::sort(want.begin(), want.end());
  EXPECT_EQ(procs, want);

  CgroupLimits prio;
  prio.net_priority = 6;
  prio.io_weight = 200;
  ASSERT_TRUE((*cg)->SetLimits(prio).ok());  // what cannot be enforced is skipped
  auto missing = (*cg)->Unenforceable(prio);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_NE(missing[0].find(c.no_net_priority), std::string::npos) << missing[0];
}

INSTANTIATE_TEST_SUITE_P(Versions, CgroupFiles, ::testing::ValuesIn(kVersions),
                         [](const ::testing::TestParamInfo<VersionCase>& i) { return i.param.name; });

TEST(CgroupV1Files, NamesListingAndRename) {
  FakeCgroupFs f;
  auto m = Detect(f, kVersions[0]);
  ASSERT_NE(m, nullptr);
  ASSERT_TRUE(m->Create("prescient/run-1").ok());
  EXPECT_EQ(m->Create("prescient/run-1").status().code(), Code::kAlreadyExists);
  EXPECT_EQ(m->Create("../escape").status().code(), Code::kInvalidArgument);
  auto listed = m->List("prescient");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, (std::vector<std::string>{"prescient/run-1"}));

  // A spare group becomes a run's group by a rename in every hierarchy (v1 only).
  ASSERT_TRUE(m->Create("prescient/spare-1").ok());
  ASSERT_TRUE(m->Rename("prescient/spare-1", "prescient/run-2").ok());
  for (const char* h : {"memory", "cpu", "cpuacct", "blkio"}) {
    EXPECT_TRUE(fs::is_directory(f.root() + "/" + h + "/prescient/run-2")) << h;
    EXPECT_FALSE(fs::exists(f.root() + "/" + h + "/prescient/spare-1")) << h;
  }
  EXPECT_EQ(m->Rename("prescient/run-2", "other/run-2").code(), Code::kInvalidArgument);
}

TEST(CgroupV1Files, NetworkPriorityGoesToEveryInterface) {
  FakeCgroupFs f;
  for (const char* c : {"memory", "cpu", "cpuacct", "net_prio"}) f.Put(std::string(c) + "/cgroup.procs", "");
  f.Put("memory/memory.limit_in_bytes", "9223372036854771712\n");
  f.Put("cpu/cpu.cfs_quota_us", "-1\n");
  f.Put("cpuacct/cpuacct.usage", "0\n");
  CgroupOptions o;
  o.mount_root = f.root();
  auto m = DetectCgroups(o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto cg = (*m)->Create("prescient/run-1");
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  f.Put("net_prio/prescient/run-1/net_prio.ifpriomap", "");
  CgroupLimits l;
  l.net_priority = 6;
  EXPECT_TRUE((*cg)->Unenforceable(l).empty());
  ASSERT_TRUE((*cg)->SetLimits(l).ok());
  // A plain file keeps the last of the per-interface writes ("<ifname> 6").
  std::string map = f.Get("net_prio/prescient/run-1/net_prio.ifpriomap");
  ASSERT_GE(map.size(), 2u);
  EXPECT_EQ(map.substr(map.size() - 2), " 6") << map;
  EXPECT_EQ((*cg)->ProcsFiles().size(), 4u) << "the child joins net_prio too";
}

TEST(CgroupV2Files, ControllerDelegationAndNoRename) {
  FakeCgroupFs f;
  auto m = Detect(f, kVersions[1]);
  ASSERT_NE(m, nullptr);
  ASSERT_TRUE(m->Create("prescient/run-2").ok());
  // The root delegated its controllers (each write is one "+controller"; the fake keeps the last).
  EXPECT_EQ(f.Get("cgroup.subtree_control").substr(0, 1), "+");
  EXPECT_EQ(f.Get("prescient/cgroup.subtree_control"), "cpu io memory pids\n");  // untouched
  EXPECT_EQ(m->Rename("prescient/run-2", "prescient/run-3").code(), Code::kUnsupported);
}

TEST(CgroupDetect, V2WithoutMemoryAndCpuFallsBackToV1OrFails) {
  FakeCgroupFs f;
  f.Put("cgroup.controllers", "hugetlb\n");  // the hybrid layout: v2 mounted without controllers
  CgroupOptions o;
  o.mount_root = f.root();
  EXPECT_EQ(DetectCgroups(o).status().code(), Code::kUnavailable);
  o.force_version = CgroupVersion::kV2;
  auto forced = DetectCgroups(o);
  ASSERT_FALSE(forced.ok());
  EXPECT_NE(forced.status().message().find("lacks memory and cpu"), std::string::npos);
}

}  // namespace
}  // namespace prescient::exec
