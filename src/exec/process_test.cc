// The launcher without cgroups: fork/exec, exit decoding, output capture and the log file.
// Hermetic (temporary files only) and fast.
#include "exec/process.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "exec/test_files.h"

namespace prescient::exec {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

using exec::testing::Slurp;
using exec::testing::TempDir;

// Processes of process group `pgid` that are not zombies (from /proc/<pid>/stat).
int LiveMembers(pid_t pgid) {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    long ppid, pgrp;
    if (rest >> state >> ppid >> pgrp && pgrp == pgid && state != 'Z' && state != 'X') ++n;
  }
  return n;
}

TEST(TailBuffer, KeepsTheLastBytes) {
  TailBuffer t(5);
  t.Append("abc", 3);
  EXPECT_EQ(t.Contents(), "abc");
  t.Append("defg", 4);
  EXPECT_EQ(t.Contents(), "cdefg");
  t.Append("0123456789", 10);
  EXPECT_EQ(t.Contents(), "56789");
  TailBuffer none(0);
  none.Append("x", 1);
  EXPECT_EQ(none.Contents(), "");
}

TEST(RotatingLog, RotatesBySizeAndKeepsOldFiles) {
  TempDir d;
  std::string p = d.path() + "/run.log";
  RotatingLog log(p, 10, 2);
  ASSERT_TRUE(log.Open().ok());
  ASSERT_TRUE(log.Write("0123456789", 10).ok());
  ASSERT_TRUE(log.Write("abcdefghij", 10).ok());
  ASSERT_TRUE(log.Write("ABCDEFGHIJ", 10).ok());
  ASSERT_TRUE(log.Write("xyz", 3).ok());
  EXPECT_EQ(Slurp(p), "xyz");
  EXPECT_EQ(Slurp(p + ".1"), "ABCDEFGHIJ");
  EXPECT_EQ(Slurp(p + ".2"), "abcdefghij");
  EXPECT_FALSE(fs::exists(p + ".3"));
}

TEST(ResolveExecutable, SearchesPathFromTheEnvironment) {
  auto sh = ResolveExecutable("sh", {"PATH=/nonexistent:/bin:/usr/bin"});
  ASSERT_TRUE(sh.ok()) << sh.status().ToString();
  EXPECT_TRUE(*sh == "/bin/sh" || *sh == "/usr/bin/sh") << *sh;
  EXPECT_EQ(*ResolveExecutable("./x/y", {}), "./x/y");
  auto missing = ResolveExecutable("prescient-no-such-program", {"PATH=/bin"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("prescient-no-such-program"), std::string::npos);
}

TEST(RealLauncher, ShellCommandExitCodeOutputAndEnvironment) {
  TempDir d;
  auto launcher = NewRealProcessLauncher();
  ProcessSpec spec;
  spec.shell_command = "echo out-$GREETING; echo err >&2; pwd; exit 3";
  spec.env = {"GREETING=hello", "PATH=/usr/bin:/bin"};
  spec.working_dir = d.path();
  spec.log_path = d.path() + "/run.log";
  auto p = launcher->Start(spec);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ExitInfo e;
  ASSERT_TRUE((*p)->Wait(milliseconds(10000), &e));
  (*p)->FinishOutput();
  EXPECT_TRUE(e.exited);
  EXPECT_EQ(e.exit_code, 3);
  EXPECT_EQ(e.ShellStatus(), 3);
  std::string tail = (*p)->Tail();
  EXPECT_NE(tail.find("out-hello"), std::string::npos) << tail;
  EXPECT_NE(tail.find("err"), std::string::npos) << tail;
  EXPECT_NE(tail.find(d.path()), std::string::npos) << tail;
  EXPECT_EQ(Slurp(spec.log_path), tail);
  EXPECT_GT(e.max_rss_bytes, 0);
}

TEST(RealLauncher, ArgvIsNotInterpretedByAShell) {
  auto launcher = NewRealProcessLauncher();
  ProcessSpec spec;
  spec.argv = {"echo", "$HOME;", "`id`"};
  spec.env = {"PATH=/usr/bin:/bin"};
  auto p = launcher->Start(spec);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ExitInfo e;
  ASSERT_TRUE((*p)->Wait(milliseconds(10000), &e));
  (*p)->FinishOutput();
  EXPECT_EQ((*p)->Tail(), "$HOME; `id`\n");
}

TEST(RealLauncher, SignalGroupReachesChildrenAndIsDecoded) {
  auto launcher = NewRealProcessLauncher();
  ProcessSpec spec;
  spec.shell_command = "sleep 30 & sleep 30; wait";
  auto p = launcher->Start(spec);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ExitInfo e;
  EXPECT_FALSE((*p)->Wait(milliseconds(50), &e));
  ASSERT_TRUE((*p)->SignalGroup(SIGKILL).ok());
  ASSERT_TRUE((*p)->Wait(milliseconds(10000), &e));
  EXPECT_FALSE(e.exited);
  EXPECT_EQ(e.signal, SIGKILL);
  EXPECT_EQ(e.ShellStatus(), 137);
  // Every member of the group died (orphaned zombies wait for init to reap them: not alive).
  EXPECT_TRUE((*p)->SignalGroup(0).ok());  // ESRCH is not an error
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (LiveMembers((*p)->pid()) > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(2));
  EXPECT_EQ(LiveMembers((*p)->pid()), 0);
}

TEST(RealLauncher, FailuresNameTheStep) {
  auto launcher = NewRealProcessLauncher();
  ProcessSpec missing;
  missing.argv = {"/nonexistent/prescient-test-binary"};
  auto p = launcher->Start(missing);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kNotFound);
  EXPECT_NE(p.status().message().find("exec"), std::string::npos) << p.status().ToString();

  ProcessSpec bad_dir;
  bad_dir.shell_command = "true";
  bad_dir.working_dir = "/nonexistent/prescient-dir";
  p = launcher->Start(bad_dir);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("/nonexistent/prescient-dir"), std::string::npos) << p.status().ToString();

  ProcessSpec bad_cgroup;
  bad_cgroup.shell_command = "true";
  bad_cgroup.cgroup_procs_files = {"/nonexistent/cgroup.procs"};
  p = launcher->Start(bad_cgroup);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("cgroup"), std::string::npos) << p.status().ToString();

  ProcessSpec both;
  both.shell_command = "true";
  both.argv = {"true"};
  EXPECT_EQ(launcher->Start(both).status().code(), Code::kInvalidArgument);
  ProcessSpec none;
  EXPECT_EQ(launcher->Start(none).status().code(), Code::kInvalidArgument);
}

TEST(RealLauncher, RunsAsAnUnprivilegedUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
  auto launcher = NewRealProcessLauncher();
  ProcessSpec spec;
  spec.shell_command = "id -u; id -g; id -G";
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.uid = 65534;
  spec.gid = 65534;
  auto p = launcher->Start(spec);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ExitInfo e;
  ASSERT_TRUE((*p)->Wait(milliseconds(10000), &e));
  (*p)->FinishOutput();
  EXPECT_EQ((*p)->Tail(), "65534\n65534\n65534\n");
}

// How a child enters its cgroup, decided before forking: born in it (clone3 CLONE_INTO_CGROUP) only
// for one cgroup v2 group on a kernel that may have the flag.
TEST(CgroupEntryDecision, Table) {
  struct Case {
    const char* what;
    CgroupEntryFacts facts;
    CgroupEntry want;
  };
  const Case cases[] = {
      {"no cgroup", {0, false, 6, 1, false}, CgroupEntry::kNone},
      {"v2 on 6.1", {1, true, 6, 1, false}, CgroupEntry::kBornInGroup},
      {"v2 on 5.7 exactly", {1, true, 5, 7, false}, CgroupEntry::kBornInGroup},
      {"v2 on 5.6: no CLONE_INTO_CGROUP", {1, true, 5, 6, false}, CgroupEntry::kJoinedAfterFork},
      {"v2 on 4.19: no clone3", {1, true, 4, 19, false}, CgroupEntry::kJoinedAfterFork},
      {"v2, kernel unknown: try, errno decides", {1, true, 0, 0, false}, CgroupEntry::kBornInGroup},
      {"v2 after clone3 failed with a fallback errno", {1, true, 6, 1, true}, CgroupEntry::kJoinedAfterFork},
      {"v1: one group per hierarchy", {4, false, 6, 1, false}, CgroupEntry::kJoinedAfterFork},
      {"one v1 hierarchy", {1, false, 6, 1, false}, CgroupEntry::kJoinedAfterFork},
      {"several files on cgroup2", {2, true, 6, 1, false}, CgroupEntry::kJoinedAfterFork},
  };
  for (const auto& c : cases)
    EXPECT_EQ(CgroupEntryName(ChooseCgroupEntry(c.facts)), std::string(CgroupEntryName(c.want))) << c.what;
}

TEST(CgroupEntryDecision, Clone3ErrorsThatMeanNotAvailableFallBack) {
  EXPECT_TRUE(Clone3FallsBack(ENOSYS));  // no clone3 (< 5.3, or filtered by seccomp)
  EXPECT_TRUE(Clone3FallsBack(EINVAL));  // CLONE_INTO_CGROUP unknown (5.3 - 5.6)
  EXPECT_TRUE(Clone3FallsBack(E2BIG));   // clone_args larger than the kernel's
  // Real failures of this launch are reported, not retried another way.
  for (int err : {EACCES, EPERM, EBUSY, ENOENT, EAGAIN, ENOMEM, EOPNOTSUPP})
    EXPECT_FALSE(Clone3FallsBack(err)) << err;
}

TEST(CgroupEntryDecision, ParsesKernelReleases) {
  struct Case {
    const char* release;
    bool ok;
    int major, minor;
  };
  const Case cases[] = {{"6.18.44-fc-v857", true, 6, 18},  {"5.7.0", true, 5, 7},   {"5.10", true, 5, 10},
                        {"4.19.0-26-amd64", true, 4, 19}, {"6.1-rc1", true, 6, 1}, {"", false, 0, 0},
                        {"linux", false, 0, 0},           {"6", false, 0, 0},       {"6.x", false, 0, 0}};
  for (const auto& c : cases) {
    int ma = -1, mi = -1;
    EXPECT_EQ(ParseKernelRelease(c.release, &ma, &mi), c.ok) << c.release;
    if (c.ok) {
      EXPECT_EQ(std::make_pair(ma, mi), std::make_pair(c.major, c.minor)) << c.release;
    }
  }
}

TEST(ProcessLauncher, ChildWithoutACgroupReportsNoEntry) {
  auto launcher = NewRealProcessLauncher();
  ProcessSpec spec;
  spec.argv = {"/bin/true"};
  auto p = launcher->Start(spec);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->cgroup_entry(), CgroupEntry::kNone);
  ExitInfo e;
  ASSERT_TRUE((*p)->Wait(milliseconds(10000), &e));
  EXPECT_EQ(e.exit_code, 0);
}

}  // namespace
}  // namespace prescient::exec
