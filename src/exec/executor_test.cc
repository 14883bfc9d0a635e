// Real commands under real cgroups on this machine. Each test needs root and a usable cgroup
// hierarchy (v1 or v2) and skips with the reason otherwise. Groups live under a per-process parent
// (prescient-test-<pid>) that is removed at the end.
#include "exec/executor.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <atomic>
#include <iostream>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "common/clock.h"
#include "exec/fileio.h"

namespace prescient::exec {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

const char kPath[] = "PATH=/usr/local/bin:/usr/bin:/bin";

// The system Python (not a version-manager shim, whose wrapper would be measured too).
std::string Python() { return fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3"; }

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to create cgroups";
    auto m = DetectCgroups();
    if (!m.ok()) GTEST_SKIP() << "no usable cgroups: " << m.status().ToString();
    cgroups_ = std::move(m).value();
    launcher_ = NewRealProcessLauncher();
    proc_ = NewRealProcFs();
    executor_ = std::make_unique<Executor>(cgroups_.get(), launcher_.get(), proc_.get(), &clock_);
    parent_ = "prescient-test-" + std::to_string(::getpid());
    std::string t = (fs::temp_directory_path() / "prescient-exec-it-XXXXXX").string();
    dir_ = ::mkdtemp(t.data());
  }
  void TearDown() override {
    if (!cgroups_) return;
    if (auto groups = cgroups_->List(parent_); groups.ok())
      for (const auto& g : *groups)
        if (auto c = cgroups_->Open(g); c.ok()) {
          (*c)->KillAll(SIGKILL);
          (*c)->Destroy();
        }
    if (auto top = cgroups_->Open(parent_); top.ok()) (*top)->Destroy();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  ExecutionRequest Request(const std::string& name, const std::string& command) {
    ExecutionRequest r;
    r.cgroup_name = parent_ + "/" + name;
    r.process.shell_command = command;
    r.process.env = {kPath};
    r.process.working_dir = dir_;
    r.sample_interval = milliseconds(50);
    r.timeout = std::chrono::seconds(30);
    return r;
  }

  RealClock clock_;
  std::unique_ptr<CgroupManager> cgroups_;
  std::unique_ptr<ProcessLauncher> launcher_;
  std::unique_ptr<ProcFs> proc_;
  std::unique_ptr<Executor> executor_;
  std::string parent_;
  std::string dir_;
};

TEST_F(ExecutorTest, MeasuresASimpleCommandAndRemovesItsGroup) {
  auto r = executor_->Run(Request("simple", "echo hello; head -c 3000000 /dev/zero | wc -c"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->exit.has_value());
  EXPECT_EQ(r->exit->exit_code, 0);
  EXPECT_EQ(r->output_tail, "hello\n3000000\n");
  EXPECT_FALSE(r->oom_killed);
  EXPECT_GT(r->memory_peak_bytes, 0);
  EXPECT_GE(r->sample_count, 1);
  EXPECT_FALSE(cgroups_->Open(parent_ + "/simple").ok());  // destroyed
}

TEST_F(ExecutorTest, CommandOverItsMemoryLimitIsOomKilledAndReportedSo) {
  auto req = Request("oom", Python() + " -c \"b = b'x' * (300 << 20); print(len(b))\"");
  req.limits.memory_bytes = 64LL << 20;
  auto r = executor_->Run(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->oom_killed);
  EXPECT_GE(r->oom_kills, 1u);
  ASSERT_TRUE(r->exit.has_value());
  EXPECT_EQ(r->exit->ShellStatus(), 137);  // sh reports its child's SIGKILL
  EXPECT_EQ(r->output_tail.find("314572800"), std::string::npos);
}

TEST_F(ExecutorTest, CpuIsHeldToItsQuota) {
  // Two busy processes for ~1.5 s under a half-core quota.
  auto req = Request("cpu", "timeout 1.5 sh -c 'while :; do :; done' & timeout 1.5 sh -c 'while :; do :; done'; wait");
  req.limits.cpu_cores = 0.5;
  std::optional<CgroupLimits> limits;
  ExecutionHooks hooks;
  hooks.on_started = [&](Cgroup* cg, pid_t) {
    if (auto l = cg->ReadLimits(); l.ok()) limits = *l;
  };
  auto r = executor_->Run(req, hooks);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(limits.has_value());
  EXPECT_NEAR(limits->cpu_cores.value_or(0), 0.5, 1e-6);
  double cores = r->cpu_seconds / r->duration_seconds;
  // Two busy loops want 2 cores; the quota holds them to 0.5 (a loaded machine may give less).
  EXPECT_LE(cores, 0.5 * 1.15) << "cpu_seconds " << r->cpu_seconds << " over " << r->duration_seconds << " s";
  // The peak is over one sampling window, which can hold the bursts of two CFS periods (a group
  // spends its quota at the end of one period and again at the start of the next), so a short
  // window may legitimately see up to twice the quota; the mean above is the quota check.
  EXPECT_LE(r->cpu_cores_peak, 0.5 * 2.5);
  if (cores >= 0.4) {
    EXPECT_NEAR(cores, 0.5, 0.1);
    EXPECT_GT(r->cpu_nr_throttled, 0u);
    EXPECT_GT(r->cpu_throttled_seconds, 0.0);
  } else {
    std::cerr << "note: the machine is too busy to reach the quota (the group got " << cores
              << " cores); only the upper bound was checked\n";
  }
}

TEST_F(ExecutorTest, PeakMemoryOfOneProcessMatchesGnuTime) {
  if (!fs::exists("/usr/bin/time")) GTEST_SKIP() << "GNU time (/usr/bin/time) is not installed";
  const std::string alloc = Python() + " -c \"import time; b = b'x' * (200 << 20); time.sleep(0.3)\"";
  // Independent measurement: GNU time's maximum resident set size (KiB) of the same command.
  ProcessSpec spec;
  spec.shell_command = "/usr/bin/time -f %M " + alloc;
  spec.env = {kPath};
  auto p = launcher_->Start(spec);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ExitInfo e;
  ASSERT_TRUE((*p)->Wait(milliseconds(30000), &e));
  (*p)->FinishOutput();
  int64_t gnu_time_bytes = std::atoll((*p)->Tail().c_str()) * 1024;
  ASSERT_GT(gnu_time_bytes, 200LL << 20) << (*p)->Tail();

  auto r = executor_->Run(Request("peak", alloc));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  double ratio = static_cast<double>(r->memory_peak_bytes) / static_cast<double>(gnu_time_bytes);
  EXPECT_NEAR(ratio, 1.0, 0.05) << "monitor " << r->memory_peak_bytes << " vs GNU time " << gnu_time_bytes;
  // The cgroup's own sampled anonymous peak agrees too (it excludes the interpreter's file pages).
  double anon_ratio = static_cast<double>(r->memory_peak_anon_bytes) / static_cast<double>(gnu_time_bytes);
  EXPECT_NEAR(anon_ratio, 1.0, 0.10) << "anon " << r->memory_peak_anon_bytes;
}

TEST_F(ExecutorTest, LiveLimitChangeAppliesToTheRunningGroup) {
  // Needs ~100 MiB after 0.4 s; starts with 48 MiB. Growing the live group lets it finish.
  auto req = Request("grow", Python() + " -c \"import time; time.sleep(0.4); b = b'x' * (100 << 20); print(len(b))\"");
  req.limits.memory_bytes = 48LL << 20;
  req.limits.cpu_cores = 1.0;
  std::optional<CgroupLimits> seen;
  ExecutionHooks hooks;
  hooks.on_started = [&](Cgroup* cg, pid_t) {
    CgroupLimits grow;
    grow.memory_bytes = 512LL << 20;
    grow.cpu_cores = 1.5;
    ASSERT_TRUE(cg->SetLimits(grow).ok());
    auto l = cg->ReadLimits();
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    seen = *l;
  };
  auto r = executor_->Run(req, hooks);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->memory_bytes, 512LL << 20);
  EXPECT_NEAR(seen->cpu_cores.value_or(0), 1.5, 1e-6);
  EXPECT_FALSE(r->oom_killed);
  EXPECT_EQ(r->exit->exit_code, 0) << r->output_tail;
  EXPECT_EQ(r->output_tail, "104857600\n");
}

TEST_F(ExecutorTest, TimeoutKillsTheWholeProcessGroup) {
  // A child that ignores SIGTERM needs the SIGKILL after the grace period.
  auto req = Request("timeout", "trap '' TERM; sleep 30 & sleep 30 & touch started; wait");
  req.timeout = milliseconds(300);
  req.kill_grace = milliseconds(200);
  auto start = std::chrono::steady_clock::now();
  auto r = executor_->Run(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->timed_out);
  ASSERT_TRUE(r->exit.has_value());
  EXPECT_FALSE(r->exit->exited);
  EXPECT_EQ(r->exit->signal, SIGKILL);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  // Run destroys the group only once it is empty: every process of the run is gone.
  EXPECT_FALSE(cgroups_->Open(parent_ + "/timeout").ok());
}

TEST_F(ExecutorTest, CancelStopsARun) {
  std::atomic<bool> cancel{false};
  ExecutionHooks hooks;
  hooks.cancel = &cancel;
  hooks.on_sample = [&](const UsageReport&) { cancel = true; };
  auto r = executor_->Run(Request("cancel", "sleep 30"), hooks);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->cancelled);
  EXPECT_FALSE(r->timed_out);
}

// A TCP listener on 127.0.0.1 that accepts and holds connections.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        accepted_++;
        conns_.push_back(c);
      }
    });
  }
  ~Listener() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (int c : conns_) ::close(c);
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  int fd_;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::vector<int> conns_;
  std::thread thread_;
};

TEST_F(ExecutorTest, RecordsTheEndpointsItConnectedTo) {
  Listener server;
  // Connects to the test's listener and also listens itself (a listener is not an endpoint).
  std::string py = Python() + " -c \"import socket, time; l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(); "
                              "s = socket.create_connection(('127.0.0.1', " + std::to_string(server.port()) +
                   ")); time.sleep(0.5)\"";
  auto r = executor_->Run(Request("endpoints", py));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit->exit_code, 0) << r->output_tail;
  EXPECT_EQ(r->endpoints, (std::vector<std::string>{"127.0.0.1:" + std::to_string(server.port())}));
}

TEST_F(ExecutorTest, ShadowRunLeavesNoFileBehindAndHasNoNetwork) {
  Listener server;
  std::string marker = dir_ + "/shadow-wrote-this";
  std::string command = "echo data > " + marker + " && cat " + marker + " && echo x > /root/prescient-shadow-test && " +
                        "touch /dev/prescient-shadow-dev && echo zero | head -c 1 /dev/zero > /dev/null && " +
                        "(echo 1 > /proc/sys/vm/drop_caches 2>/dev/null && echo SYSCTL-WRITABLE || echo SYSCTL-READONLY) && " +
                        // bash's /dev/tcp, not Python: its start-up under the 0.5-core quota on a loaded
                        // machine could outlast the budget (then neither word was printed).
                        "timeout 1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(server.port()) +
                        "' 2>/dev/null && echo CONNECTED || echo NO-NETWORK; sleep 30";
  auto req = Request("shadow", command);
  req.limits.memory_bytes = 128LL << 20;
  req.limits.cpu_cores = 0.5;
  Sandbox sandbox;
  auto r = executor_->Shadow(req, milliseconds(1500), sandbox, dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->timed_out);  // the budget ended it
  // It really wrote (inside the sandbox) ...
  EXPECT_NE(r->output_tail.find("data\n"), std::string::npos) << r->output_tail;
  EXPECT_NE(r->output_tail.find("NO-NETWORK"), std::string::npos) << r->output_tail;
  // ... and nothing of it is left.
  EXPECT_FALSE(fs::exists(marker));
  EXPECT_FALSE(fs::exists("/root/prescient-shadow-test"));
  EXPECT_FALSE(fs::exists("/dev/prescient-shadow-dev"));
  EXPECT_NE(r->output_tail.find("SYSCTL-READONLY"), std::string::npos) << r->output_tail;
  EXPECT_EQ(server.accepted(), 0);
  EXPECT_TRUE(fs::is_empty(dir_)) << "scratch directories left in " << dir_;
  EXPECT_GE(r->sample_count, 1);
}

// A command that ends before the shadow budget is a successful shadow with a shorter curve, and its
// throw-away group is gone afterwards in every hierarchy (issue 5: "rmdir .../shadow-<uid>-1:
// Device or resource busy" on cgroup v1 when the command exited early).
TEST_F(ExecutorTest, ShadowOfACommandThatExitsEarlySucceedsAndRemovesItsGroup) {
  const std::pair<const char*, const char*> cases[] = {
      {"shadow-true", "true"},
      {"shadow-bg", "sleep 0.1 & exit 0"},  // a descendant outlives the main process
      {"shadow-exit3", "exit 3"},
      {"shadow-forker", "(while :; do sleep 1 & done) & sleep 0.05; exit 0"},  // still forking at the end
  };
  for (const auto& [name, command] : cases) {
    SCOPED_TRACE(command);
    auto req = Request(name, command);
    req.limits.memory_bytes = 128LL << 20;
    req.limits.cpu_cores = 0.5;
    req.limits.pids_max = 64;  // the forker stays small
    auto r = executor_->Shadow(req, milliseconds(5000), Sandbox{}, dir_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_FALSE(r->timed_out);
    ASSERT_TRUE(r->exit.has_value());
    EXPECT_EQ(r->exit->ShellStatus(), std::string(name) == "shadow-exit3" ? 3 : 0);
    EXPECT_EQ(cgroups_->Open(parent_ + "/" + name).status().code(), Code::kNotFound);
    EXPECT_TRUE(fs::is_empty(dir_)) << "scratch directories left in " << dir_;
  }
}

TEST_F(ExecutorTest, ShadowWithNetworkAllowedCanConnect) {
  Listener server;
  auto req = Request("shadow-net", Python() + " -c \"import socket; socket.create_connection(('127.0.0.1', " +
                                       std::to_string(server.port()) + "), timeout=2); print('CONNECTED')\"");
  Sandbox sandbox;
  sandbox.allow_network = true;
  auto r = executor_->Shadow(req, milliseconds(5000), sandbox, dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->output_tail, "CONNECTED\n");
}

TEST_F(ExecutorTest, FindsGroupsLeftBehindForCrashRecovery) {
  auto cg = cgroups_->Create(parent_ + "/orphan");
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  ProcessSpec spec;
  spec.argv = {"sleep", "30"};
  spec.env = {kPath};
  spec.cgroup_procs_files = (*cg)->ProcsFiles();
  auto p = launcher_->Start(spec);
  ASSERT_TRUE(p.ok()) << p.status().ToString();

  // A restarted agent: a fresh manager lists the runs' groups and their processes.
  auto again = DetectCgroups();
  ASSERT_TRUE(again.ok());
  auto names = (*again)->List(parent_);
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{parent_ + "/orphan"}));
  auto found = (*again)->Open(parent_ + "/orphan");
  ASSERT_TRUE(found.ok());
  auto pids = (*found)->Pids();
  ASSERT_TRUE(pids.ok());
  EXPECT_EQ(*pids, (std::vector<pid_t>{(*p)->pid()}));
  EXPECT_EQ(cgroups_->Create(parent_ + "/orphan").status().code(), Code::kAlreadyExists);

  ASSERT_TRUE((*found)->KillAll(SIGKILL).ok());
  ExitInfo e;
  ASSERT_TRUE((*p)->Wait(milliseconds(10000), &e));
  EXPECT_EQ(e.signal, SIGKILL);
  EXPECT_TRUE((*found)->Destroy().ok());
  EXPECT_EQ(cgroups_->Open(parent_ + "/orphan").status().code(), Code::kNotFound);
}

// A group is removed only once nothing is left in it in any hierarchy. On v1 each controller has its
// own directory; a process left in one of them (here only in cpu, not in memory, which Pids() reads)
// kept that directory busy: KillAll missed it and rmdir failed with EBUSY.
TEST_F(ExecutorTest, KillAndRemoveEmptiesEveryHierarchyFirst) {
  auto cg = cgroups_->Create(parent_ + "/leftover");
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  std::vector<std::string> files = (*cg)->ProcsFiles();
  if (cgroups_->version() == CgroupVersion::kV1) {
    auto cpu = std::find_if(files.begin(), files.end(), [](const std::string& f) { return f.find("/cpu/") != std::string::npos; });
    ASSERT_NE(cpu, files.end()) << "no cpu hierarchy among the group's directories";
    files = {*cpu};
  }
  ProcessSpec spec;
  spec.argv = {"sleep", "30"};
  spec.env = {kPath};
  spec.cgroup_procs_files = files;
  auto p = launcher_->Start(spec);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  if (cgroups_->version() == CgroupVersion::kV1) {
    auto listed = (*cg)->Pids();
    ASSERT_TRUE(listed.ok());
    EXPECT_TRUE(listed->empty()) << "the process should be in the cpu hierarchy only";
  }
  Status removed = (*cg)->KillAndRemove(std::chrono::seconds(10));
  EXPECT_TRUE(removed.ok()) << removed.ToString();
  EXPECT_EQ(cgroups_->Open(parent_ + "/leftover").status().code(), Code::kNotFound);
  for (const auto& f : (*cg)->ProcsFiles()) EXPECT_FALSE(fs::exists(fs::path(f).parent_path())) << f;
  ExitInfo e;
  ASSERT_TRUE((*p)->Wait(milliseconds(10000), &e));
  EXPECT_EQ(e.signal, SIGKILL);
}

// Removing a group that is already gone is not an error (a retried cleanup).
TEST_F(ExecutorTest, KillAndRemoveOfAGroupAlreadyGoneSucceeds) {
  auto cg = cgroups_->Create(parent_ + "/gone");
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  ASSERT_TRUE((*cg)->Destroy().ok());
  EXPECT_TRUE((*cg)->KillAndRemove(std::chrono::seconds(1)).ok());
}

// The agent's warm start: a child joins a spare group ahead of time; the spare is renamed into
// the run's group (v1) and the command then starts without migrating anything.
TEST_F(ExecutorTest, PrestartedChildRunsTheCommandInItsRenamedGroup) {
  if (cgroups_->version() != CgroupVersion::kV1) GTEST_SKIP() << "cgroup v2 refuses renames; the agent starts cold there";
  auto spare = cgroups_->Create(parent_ + "/spare");
  ASSERT_TRUE(spare.ok()) << spare.status().ToString();
  auto pre = launcher_->Prestart((*spare)->ProcsFiles());
  ASSERT_TRUE(pre.ok()) << pre.status().ToString();
  pid_t pid = (*pre)->pid();
  auto pids = (*spare)->Pids();
  ASSERT_TRUE(pids.ok());
  EXPECT_EQ(*pids, std::vector<pid_t>{pid}) << "joined before it was given a command";

  ASSERT_TRUE(cgroups_->Rename(parent_ + "/spare", parent_ + "/run").ok());
  EXPECT_EQ(cgroups_->Open(parent_ + "/spare").status().code(), Code::kNotFound);
  auto run = cgroups_->Open(parent_ + "/run");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_TRUE((*run)->SetLimits(CgroupLimits{0.5, 64 << 20}).ok());

  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", "cat /proc/self/cgroup; echo args \"$0\" $1", "zero", "one"};
  spec.env = {kPath};
  spec.working_dir = dir_;
  auto p = launcher_->StartPrestarted(spec, std::move(*pre));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->pid(), pid);
  ExitInfo e;
  ASSERT_TRUE((*p)->Wait(milliseconds(10000), &e));
  (*p)->FinishOutput();
  EXPECT_TRUE(e.exited);
  EXPECT_EQ(e.exit_code, 0);
  std::string out = (*p)->Tail();
  EXPECT_NE(out.find(":memory:/" + parent_ + "/run\n"), std::string::npos) << out;
  EXPECT_NE(out.find("args zero one"), std::string::npos) << out;
  EXPECT_TRUE((*run)->Destroy().ok());
}

TEST_F(ExecutorTest, UnusedPrestartedChildIsKilledAndReaped) {
  auto spare = cgroups_->Create(parent_ + "/unused");
  ASSERT_TRUE(spare.ok()) << spare.status().ToString();
  auto pre = launcher_->Prestart((*spare)->ProcsFiles());
  ASSERT_TRUE(pre.ok()) << pre.status().ToString();
  pid_t pid = (*pre)->pid();
  pre->reset();
  EXPECT_NE(::kill(pid, 0), 0) << "killed and reaped (no zombie left)";
  EXPECT_TRUE((*spare)->Destroy().ok());
}

TEST_F(ExecutorTest, PrestartedChildReportsAFailedExec) {
  auto spare = cgroups_->Create(parent_ + "/badexec");
  ASSERT_TRUE(spare.ok()) << spare.status().ToString();
  auto pre = launcher_->Prestart((*spare)->ProcsFiles());
  ASSERT_TRUE(pre.ok()) << pre.status().ToString();
  ProcessSpec spec;
  spec.argv = {"/nonexistent/prescient-binary"};
  spec.env = {kPath};
  auto p = launcher_->StartPrestarted(spec, std::move(*pre));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kNotFound) << p.status().ToString();
  ProcessSpec chdir_fails;
  chdir_fails.argv = {"true"};
  chdir_fails.env = {kPath};
  chdir_fails.working_dir = dir_ + "/missing";
  auto pre2 = launcher_->Prestart((*spare)->ProcsFiles());
  ASSERT_TRUE(pre2.ok());
  auto p2 = launcher_->StartPrestarted(chdir_fails, std::move(*pre2));
  ASSERT_FALSE(p2.ok());
  EXPECT_NE(p2.status().message().find("chdir"), std::string::npos) << p2.status().ToString();
  EXPECT_TRUE((*spare)->Destroy().ok());
}

// IO weight and per-disk limits reach the kernel's files; what cannot be enforced is named.
TEST_F(ExecutorTest, IoControlsAreWrittenAndGapsAreNamed) {
  auto cg = cgroups_->Create(parent_ + "/io");
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  struct stat st;
  ASSERT_EQ(::stat("/", &st), 0);
  std::string dev = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  if (major(st.st_dev) == 0 || !fs::exists("/sys/dev/block/" + dev) || fs::exists("/sys/dev/block/" + dev + "/partition"))
    GTEST_SKIP() << "/ is not directly on a whole disk here (" << dev << "); per-disk limits need one";
  CgroupLimits l;
  l.io_weight = 200;
  l.io_devices = {{dev, 1 << 20, 2 << 20, 0, 0}};
  l.net_priority = 6;
  auto gaps = (*cg)->Unenforceable(l);
  ASSERT_TRUE((*cg)->SetLimits(l).ok());
  if (cgroups_->version() == CgroupVersion::kV1) {
    std::string blkio = "/sys/fs/cgroup/blkio/" + parent_ + "/io";
    if (!fs::exists(blkio)) GTEST_SKIP() << "no blkio hierarchy mounted";
    auto rd = ReadTextFile(blkio + "/blkio.throttle.read_bps_device");
    ASSERT_TRUE(rd.ok());
    EXPECT_EQ(*rd, dev + " 1048576\n");
    auto wr = ReadTextFile(blkio + "/blkio.throttle.write_bps_device");
    ASSERT_TRUE(wr.ok());
    EXPECT_EQ(*wr, dev + " 2097152\n");
    if (fs::exists(blkio + "/blkio.bfq.weight")) {
      auto w = ReadTextFile(blkio + "/blkio.bfq.weight");
      ASSERT_TRUE(w.ok());
      EXPECT_NE(w->find("200"), std::string::npos) << *w;
    }
    bool net_prio = fs::exists("/sys/fs/cgroup/net_prio/" + parent_ + "/io");
    bool named = std::any_of(gaps.begin(), gaps.end(), [](const std::string& g) { return g.find("net_prio") != std::string::npos; });
    EXPECT_EQ(named, !net_prio) << "network priority is enforced exactly when net_prio is mounted";
    if (net_prio) {
      auto map = ReadTextFile("/sys/fs/cgroup/net_prio/" + parent_ + "/io/net_prio.ifpriomap");
      ASSERT_TRUE(map.ok());
      EXPECT_NE(map->find("lo 6"), std::string::npos) << *map;
    } else {
      std::cout << "[ note ] net_prio is not mounted on this machine: checked that it is reported, not enforced\n";
    }
  } else {
    bool named = std::any_of(gaps.begin(), gaps.end(), [](const std::string& g) { return g.find("net_prio") != std::string::npos; });
    EXPECT_TRUE(named);
  }
  EXPECT_TRUE((*cg)->Destroy().ok());
}

TEST_F(ExecutorTest, ExecFailureIsAnErrorAndLeavesNoGroup) {
  auto req = Request("noexec", "");
  req.process.shell_command.clear();
  req.process.argv = {"/nonexistent/prescient-binary"};
  auto r = executor_->Run(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_FALSE(cgroups_->Open(parent_ + "/noexec").ok());
}

// On cgroup v2 the launcher creates the child inside its group (clone3 CLONE_INTO_CGROUP): it never
// runs outside it. This machine's v2 hierarchy (/sys/fs/cgroup/unified) has no cpu or memory
// controllers, but a group there still shows where the child was born.
TEST(CloneIntoCgroup, ChildIsBornInItsV2Group) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to create a cgroup";
  std::string root;
  for (const char* cand : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    struct statfs sf;
    if (::statfs(cand, &sf) == 0 && sf.f_type == 0x63677270 /* CGROUP2_SUPER_MAGIC */) {
      root = cand;
      break;
    }
  }
  if (root.empty()) GTEST_SKIP() << "no cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified";
  struct utsname u;
  int major = 0, minor = 0;
  ASSERT_EQ(::uname(&u), 0);
  ASSERT_TRUE(ParseKernelRelease(u.release, &major, &minor)) << u.release;
  if (major < 5 || (major == 5 && minor < 7)) GTEST_SKIP() << "Linux " << u.release << " has no CLONE_INTO_CGROUP";

  const std::string name = "prescient-clone3-test-" + std::to_string(::getpid());
  const std::string dir = root + "/" + name;
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0) << dir << ": " << std::strerror(errno);
  auto launcher = NewRealProcessLauncher();
  ProcessSpec spec;
  // As an unprivileged user: the ids are set in a child that a raw clone3 made (not glibc's fork).
  spec.argv = {"/bin/sh", "-c", "id -u; cat /proc/self/cgroup"};
  spec.uid = 65534;
  spec.gid = 65534;
  spec.cgroup_procs_files = {dir + "/cgroup.procs"};
  auto p = launcher->Start(spec);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->cgroup_entry(), CgroupEntry::kBornInGroup) << CgroupEntryName((*p)->cgroup_entry());
  ExitInfo e;
  ASSERT_TRUE((*p)->Wait(milliseconds(10000), &e));
  (*p)->FinishOutput();
  EXPECT_EQ(e.exit_code, 0);
  const std::string out = (*p)->Tail();
  EXPECT_EQ(out.rfind("65534\n", 0), 0u) << out;
  std::string v2_line;
  for (const auto& [ctrl, path] : ParseProcCgroup(out))
    if (ctrl.empty()) v2_line = path;
  EXPECT_EQ(v2_line, "/" + name) << out;
  p->reset();
  // The group empties once the child is reaped (bounded wait, no sleep on success).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (::rmdir(dir.c_str()) != 0 && errno == EBUSY && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(5));
  EXPECT_FALSE(fs::exists(dir)) << dir << " could not be removed";
}

}  // namespace
}  // namespace prescient::exec
