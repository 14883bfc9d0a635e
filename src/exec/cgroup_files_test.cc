// The v1 and v2 cgroup implementations against a directory laid out like cgroupfs (plain files
// in a temporary directory): what they write for each limit and how they read statistics. This is
// how the v2 path is tested on machines that only have v1 (and the other way round).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

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

void LayOutV1Group(FakeCgroupFs& f, const std::string& g) {
  for (const char* file : {"memory/G/memory.limit_in_bytes", "memory/G/memory.memsw.limit_in_bytes",
                           "memory/G/memory.swappiness", "memory/G/cgroup.procs", "cpu/G/cpu.cfs_quota_us",
                           "cpu/G/cgroup.procs", "cpuacct/G/cgroup.procs", "blkio/G/cgroup.procs",
                           "blkio/G/blkio.bfq.weight", "blkio/G/blkio.throttle.read_bps_device",
                           "blkio/G/blkio.throttle.write_bps_device", "blkio/G/blkio.throttle.read_iops_device",
                           "blkio/G/blkio.throttle.write_iops_device"}) {
    std::string rel = file;
    rel.replace(rel.find("/G/"), 3, "/" + g + "/");
    f.Put(rel, "");
  }
  f.Put("cpu/" + g + "/cpu.cfs_period_us", "100000\n");
}

TEST(CgroupV1Files, LimitsStatsAndLayout) {
  FakeCgroupFs f;
  for (const char* c : {"memory", "cpu", "cpuacct", "blkio"}) f.Put(std::string(c) + "/cgroup.procs", "");
  f.Put("memory/memory.limit_in_bytes", "9223372036854771712\n");
  f.Put("cpu/cpu.cfs_quota_us", "-1\n");
  f.Put("cpuacct/cpuacct.usage", "0\n");
  CgroupOptions o;
  o.mount_root = f.root();
  auto m = DetectCgroups(o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->version(), CgroupVersion::kV1);

  auto cg = (*m)->Create("prescient/run-1");
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  EXPECT_EQ((*m)->Create("prescient/run-1").status().code(), Code::kAlreadyExists);
  EXPECT_EQ((*m)->Create("../escape").status().code(), Code::kInvalidArgument);
  LayOutV1Group(f, "prescient/run-1");

  CgroupLimits l;
  l.cpu_cores = 1.5;
  l.memory_bytes = 256 << 20;
  l.io_weight = 500;
  l.io_devices = {{"254:0", 1048576, 0, 0, 100}};
  ASSERT_TRUE((*cg)->SetLimits(l).ok());
  EXPECT_EQ(f.Get("cpu/prescient/run-1/cpu.cfs_quota_us"), "150000");
  EXPECT_EQ(f.Get("memory/prescient/run-1/memory.limit_in_bytes"), "268435456");
  EXPECT_EQ(f.Get("memory/prescient/run-1/memory.memsw.limit_in_bytes"), "268435456");  // no swap
  EXPECT_EQ(f.Get("blkio/prescient/run-1/blkio.bfq.weight"), "500");  // BFQ's scale is v2's, capped at 1000
  EXPECT_EQ(f.Get("blkio/prescient/run-1/blkio.throttle.read_bps_device"), "254:0 1048576");
  EXPECT_EQ(f.Get("blkio/prescient/run-1/blkio.throttle.write_iops_device"), "254:0 100");

  CgroupLimits unlimited;
  unlimited.cpu_cores = 0;
  unlimited.memory_bytes = 0;
  ASSERT_TRUE((*cg)->SetLimits(unlimited).ok());
  EXPECT_EQ(f.Get("cpu/prescient/run-1/cpu.cfs_quota_us"), "-1");
  EXPECT_EQ(f.Get("memory/prescient/run-1/memory.limit_in_bytes"), "-1");

  f.Put("cpu/prescient/run-1/cpu.cfs_quota_us", "50000\n");
  f.Put("memory/prescient/run-1/memory.limit_in_bytes", "9223372036854771712\n");
  auto read = (*cg)->ReadLimits();
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_DOUBLE_EQ(read->cpu_cores.value_or(-1), 0.5);
  EXPECT_EQ(read->memory_bytes.value_or(-1), 0);  // unlimited

  f.Put("memory/prescient/run-1/memory.usage_in_bytes", "1000000\n");
  f.Put("memory/prescient/run-1/memory.max_usage_in_bytes", "3000000\n");
  f.Put("memory/prescient/run-1/memory.stat", "rss 1\ntotal_rss 700000\ntotal_cache 300000\ntotal_shmem 4096\n");
  f.Put("memory/prescient/run-1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
  f.Put("cpuacct/prescient/run-1/cpuacct.usage", "2500000000\n");
  f.Put("cpu/prescient/run-1/cpu.stat", "nr_periods 10\nnr_throttled 3\nthrottled_time 120000000\n");
  f.Put("blkio/prescient/run-1/blkio.throttle.io_service_bytes_recursive", "254:0 Read 4096\n254:0 Write 8192\nTotal 12288\n");
  auto st = (*cg)->ReadStats();
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->memory_current, 1000000);
  EXPECT_EQ(st->memory_peak, 3000000);
  EXPECT_EQ(st->memory_anon, 700000);
  EXPECT_EQ(st->memory_shmem, 4096);
  EXPECT_EQ(st->oom_kills, 1u);
  EXPECT_EQ(st->cpu_usage_ns, 2500000000u);
  EXPECT_EQ(st->cpu_nr_throttled, 3u);
  EXPECT_EQ(st->cpu_throttled_ns, 120000000u);
  EXPECT_EQ(st->io_read_bytes, 4096u);
  EXPECT_EQ(st->io_write_bytes, 8192u);

  EXPECT_EQ((*cg)->ProcsFiles().size(), 4u);  // one per hierarchy
  auto listed = (*m)->List("prescient");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, (std::vector<std::string>{"prescient/run-1"}));

  // No net_prio hierarchy here: a network priority cannot be enforced, and the group says so.
  CgroupLimits prio;
  prio.net_priority = 6;
  prio.io_weight = 200;
  ASSERT_TRUE((*cg)->SetLimits(prio).ok());
  auto missing = (*cg)->Unenforceable(prio);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_NE(missing[0].find("net_prio"), std::string::npos) << missing[0];

  // A spare group becomes a run's group by a rename in every hierarchy (v1 only).
  ASSERT_TRUE((*m)->Create("prescient/spare-1").ok());
  ASSERT_TRUE((*m)->Rename("prescient/spare-1", "prescient/run-2").ok());
  for (const char* h : {"memory", "cpu", "cpuacct", "blkio"}) {
    EXPECT_TRUE(fs::is_directory(f.root() + "/" + h + "/prescient/run-2")) << h;
    EXPECT_FALSE(fs::exists(f.root() + "/" + h + "/prescient/spare-1")) << h;
  }
  EXPECT_EQ((*m)->Rename("prescient/run-2", "other/run-2").code(), Code::kInvalidArgument);
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

TEST(CgroupV2Files, LimitsStatsAndControllerDelegation) {
  FakeCgroupFs f;
  f.Put("cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
  f.Put("cgroup.subtree_control", "");
  f.Put("prescient/cgroup.controllers", "cpu io memory pids\n");
  f.Put("prescient/cgroup.subtree_control", "cpu io memory pids\n");  // already delegated
  CgroupOptions o;
  o.mount_root = f.root();
  auto m = DetectCgroups(o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->version(), CgroupVersion::kV2);
  auto cg = (*m)->Create("prescient/run-2");
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  // The root delegated its controllers (each write is one "+controller"; the fake keeps the last).
  EXPECT_EQ(f.Get("cgroup.subtree_control").substr(0, 1), "+");
  EXPECT_EQ(f.Get("prescient/cgroup.subtree_control"), "cpu io memory pids\n");  // untouched

  for (const char* file : {"cpu.max", "memory.max", "memory.swap.max", "io.weight", "io.max", "pids.max", "cgroup.procs"})
    f.Put(std::string("prescient/run-2/") + file, "");
  CgroupLimits l;
  l.cpu_cores = 0.25;
  l.memory_bytes = 1 << 30;
  l.io_weight = 200;
  l.io_devices = {{"8:0", 0, 2097152, 0, 0}};
  l.pids_max = 100;
  ASSERT_TRUE((*cg)->SetLimits(l).ok());
  EXPECT_EQ(f.Get("prescient/run-2/cpu.max"), "25000 100000");
  EXPECT_EQ(f.Get("prescient/run-2/memory.max"), "1073741824");
  EXPECT_EQ(f.Get("prescient/run-2/memory.swap.max"), "0");
  EXPECT_EQ(f.Get("prescient/run-2/io.weight"), "default 200");
  EXPECT_EQ(f.Get("prescient/run-2/io.max"), "8:0 rbps=max wbps=2097152 riops=max wiops=max");
  EXPECT_EQ(f.Get("prescient/run-2/pids.max"), "100");

  f.Put("prescient/run-2/cpu.max", "max 100000\n");
  f.Put("prescient/run-2/memory.max", "max\n");
  auto read = (*cg)->ReadLimits();
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->cpu_cores.value_or(-1), 0);
  EXPECT_EQ(read->memory_bytes.value_or(-1), 0);

  f.Put("prescient/run-2/memory.current", "5000\n");
  f.Put("prescient/run-2/memory.peak", "9000\n");
  f.Put("prescient/run-2/memory.stat", "anon 4000\nfile 1000\nshmem 10\ninactive_file 500\n");
  f.Put("prescient/run-2/memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n");
  f.Put("prescient/run-2/cpu.stat", "usage_usec 1500\nnr_periods 4\nnr_throttled 2\nthrottled_usec 300\n");
  f.Put("prescient/run-2/io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=1\n");
  auto st = (*cg)->ReadStats();
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->memory_current, 5000);
  EXPECT_EQ(st->memory_peak, 9000);
  EXPECT_EQ(st->memory_anon, 4000);
  EXPECT_EQ(st->memory_file, 1000);
  EXPECT_EQ(st->oom_kills, 1u);
  EXPECT_EQ(st->cpu_usage_ns, 1500000u);
  EXPECT_EQ(st->cpu_throttled_ns, 300000u);
  EXPECT_EQ(st->io_read_bytes, 10u);
  EXPECT_EQ(st->io_write_bytes, 20u);
  EXPECT_EQ((*cg)->ProcsFiles(), (std::vector<std::string>{f.root() + "/prescient/run-2/cgroup.procs"}));

  CgroupLimits net;
  net.net_priority = 1;
  auto missing = (*cg)->Unenforceable(net);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_NE(missing[0].find("cgroup v2 has no net_prio"), std::string::npos) << missing[0];
  EXPECT_EQ((*m)->Rename("prescient/run-2", "prescient/run-3").code(), Code::kUnsupported);
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
