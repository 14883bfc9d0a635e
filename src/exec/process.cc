#include "exec/process.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <sstream>
#include <thread>

#include "exec/fileio.h"

extern char** environ;

namespace prescient::exec {

// ---------------------------------------------------------------- TailBuffer / RotatingLog

void TailBuffer::Append(const char* data, size_t n) {
  if (cap_ == 0) return;
  if (n >= cap_) {
    buf_.assign(data + (n - cap_), cap_);
    return;
  }
  buf_.append(data, n);
  if (buf_.size() > cap_) buf_.erase(0, buf_.size() - cap_);
}

std::string TailBuffer::Contents() const { return buf_; }

RotatingLog::RotatingLog(std::string path, int64_t max_bytes, int keep)
    : path_(std::move(path)), max_bytes_(max_bytes), keep_(keep) {}

RotatingLog::~RotatingLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status RotatingLog::Open() {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) return InternalError(ErrnoText("open log " + path_, errno));
  struct stat st;
  size_ = ::fstat(fd_, &st) == 0 ? st.st_size : 0;
  return Status::Ok();
}

Status RotatingLog::Rotate() {
  ::close(fd_);
  fd_ = -1;
  for (int i = keep_; i >= 1; --i) {
    std::string from = i == 1 ? path_ : path_ + "." + std::to_string(i - 1);
    std::string to = path_ + "." + std::to_string(i);
    ::rename(from.c_str(), to.c_str());  // a missing older file is fine
  }
  if (keep_ <= 0) ::unlink(path_.c_str());
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd_ < 0) return InternalError(ErrnoText("reopen log " + path_, errno));
  size_ = 0;
  return Status::Ok();
}

Status RotatingLog::Write(const char* data, size_t n) {
  if (fd_ < 0) return InternalError("log " + path_ + " is not open");
  while (n > 0) {
    if (max_bytes_ > 0 && size_ >= max_bytes_)
      if (Status s = Rotate(); !s.ok()) return s;
    size_t room = max_bytes_ > 0 ? static_cast<size_t>(max_bytes_ - size_) : n;
    size_t chunk = std::min(n, room);
    ssize_t w = ::write(fd_, data, chunk);
    if (w < 0) {
      if (errno == EINTR) continue;
      return InternalError(ErrnoText("write log " + path_, errno));
    }
    size_ += w;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- executable lookup

Result<std::string> ResolveExecutable(const std::string& name, const std::vector<std::string>& env) {
  if (name.empty()) return InvalidArgument("empty program name");
  if (name.find('/') != std::string::npos) return name;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& e : env)
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  std::istringstream in(path);
  std::string dir;
  while (std::getline(in, dir, ':')) {
    if (dir.empty()) dir = ".";
    std::string cand = dir + "/" + name;
    struct stat st;
    if (::stat(cand.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(cand.c_str(), X_OK) == 0) return cand;
  }
  return NotFoundError("program \"" + name + "\" not found in PATH=" + path);
}

// ---------------------------------------------------------------- how the child enters its cgroup

const char* CgroupEntryName(CgroupEntry e) {
  switch (e) {
    case CgroupEntry::kNone: return "none";
    case CgroupEntry::kBornInGroup: return "clone3 into the cgroup";
    case CgroupEntry::kJoinedAfterFork: return "joined after fork";
  }
  return "unknown";
}

CgroupEntry ChooseCgroupEntry(const CgroupEntryFacts& f) {
  if (f.procs_files == 0) return CgroupEntry::kNone;
  // v1 has one group per hierarchy; CLONE_INTO_CGROUP takes one cgroup2 directory.
  if (f.procs_files != 1 || !f.on_cgroup2) return CgroupEntry::kJoinedAfterFork;
  bool known = f.kernel_major > 0;
  if (known && (f.kernel_major < 5 || (f.kernel_major == 5 && f.kernel_minor < 7))) return CgroupEntry::kJoinedAfterFork;
  if (f.clone3_unsupported) return CgroupEntry::kJoinedAfterFork;
  return CgroupEntry::kBornInGroup;
}

bool Clone3FallsBack(int err) { return err == ENOSYS || err == EINVAL || err == E2BIG; }

bool ParseKernelRelease(const std::string& release, int* major, int* minor) {
  const char* s = release.c_str();
  char* end = nullptr;
  long ma = std::strtol(s, &end, 10);
  if (end == s || *end != '.' || ma <= 0) return false;
  const char* m = end + 1;
  long mi = std::strtol(m, &end, 10);
  if (end == m || mi < 0) return false;
  *major = static_cast<int>(ma);
  *minor = static_cast<int>(mi);
  return true;
}

// ---------------------------------------------------------------- the child side

namespace {

// Failure report from the child over the CLOEXEC error pipe: a step id and errno.
struct ChildError {
  int step;
  int err;
};

enum ChildStep {
  kStepSetsid = 1,
  kStepCgroup,
  kStepUnshare,
  kStepPrivate,
  kStepScratch,
  kStepOverlay,
  kStepBinds,
  kStepChroot,
  kStepChdir,
  kStepSetgroups,
  kStepSetgid,
  kStepSetuid,
  kStepDup,
  kStepExec,
};

const char* StepName(int s) {
  switch (s) {
    case kStepSetsid: return "setsid";
    case kStepCgroup: return "joining the cgroup (write to cgroup.procs)";
    case kStepUnshare: return "unshare(mount/network namespace)";
    case kStepPrivate: return "making / private in the new mount namespace";
    case kStepScratch: return "mounting the sandbox scratch tmpfs";
    case kStepOverlay: return "mounting the sandbox overlay";
    case kStepBinds: return "binding /proc, /dev, /sys into the sandbox";
    case kStepChroot: return "entering the sandbox root";
    case kStepChdir: return "chdir to the working directory";
    case kStepSetgroups: return "setgroups";
    case kStepSetgid: return "setgid";
    case kStepSetuid: return "setuid";
    case kStepDup: return "redirecting stdin/stdout/stderr";
    case kStepExec: return "exec";
  }
  return "unknown step";
}

// Everything the child needs, prepared before fork so that the child only makes system calls.
struct ChildPlan {
  std::string exe;
  std::vector<std::string> args;
  std::vector<std::string> envs;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::vector<std::string> procs_files;
  std::string working_dir;
  bool set_ids = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  // Sandbox.
  bool sandbox = false;
  bool unshare_net = false;
  std::string scratch, scratch_opts, upper, work, merged, overlay_opts;
  std::string merged_proc, merged_proc_sys, merged_dev, merged_sys, merged_shm, merged_pts;
  // Device files bound into the sandbox's private /dev: {host path, path inside merged}.
  std::vector<std::pair<std::string, std::string>> devices;
  std::vector<std::pair<std::string, std::string>> dev_links;  // {target, link path}
  // Second overlay when the working directory is on another filesystem than /.
  std::string wd_upper, wd_work, wd_target, wd_overlay_opts;
};

[[noreturn]] void ChildFail(int errfd, int step) {
  ChildError e{step, errno};
  ssize_t r = ::write(errfd, &e, sizeof e);
  (void)r;
  ::_exit(127);
}

void WritePidTo(const char* path, int errfd) {
  // Format getpid() without the allocator (async-signal-safe).
  char buf[24];
  int n = 0;
  long p = static_cast<long>(::getpid());
  char rev[24];
  do {
    rev[n++] = static_cast<char>('0' + p % 10);
    p /= 10;
  } while (p > 0);
  for (int i = 0; i < n; ++i) buf[i] = rev[n - 1 - i];
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) ChildFail(errfd, kStepCgroup);
  if (::write(fd, buf, n) != n) ChildFail(errfd, kStepCgroup);
  ::close(fd);
}

// The first steps of every child: default signal state (the parent may block or ignore signals,
// SIGPIPE especially), its own session, and its cgroups (`join` false: it was born in them).
void PrepareChild(const std::vector<std::string>& procs_files, bool join, int errfd) {
  sigset_t all;
  sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  for (int s = 1; s < NSIG; ++s)
    if (s != SIGKILL && s != SIGSTOP) ::signal(s, SIG_DFL);
  if (::setsid() < 0) ChildFail(errfd, kStepSetsid);
  if (join)
    for (const auto& f : procs_files) WritePidTo(f.c_str(), errfd);
}

// The rest, after PrepareChild: sandbox, working directory, ids, stdio, exec.
[[noreturn]] void RunPreparedChild(const ChildPlan& p, int errfd, int in_fd, int out_fd, int err_fd) {
  if (p.sandbox) {
    int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | (p.unshare_net ? CLONE_NEWNET : 0);
    if (::unshare(flags) != 0) ChildFail(errfd, kStepUnshare);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ChildFail(errfd, kStepPrivate);
    if (::mount("prescient-shadow", p.scratch.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, p.scratch_opts.c_str()) != 0)
      ChildFail(errfd, kStepScratch);
    for (const std::string* d : {&p.upper, &p.work, &p.merged})
      if (::mkdir(d->c_str(), 0755) != 0) ChildFail(errfd, kStepScratch);
    if (::mount("overlay", p.merged.c_str(), "overlay", 0, p.overlay_opts.c_str()) != 0) ChildFail(errfd, kStepOverlay);
    if (!p.wd_target.empty()) {
      for (const std::string* d : {&p.wd_upper, &p.wd_work})
        if (::mkdir(d->c_str(), 0755) != 0) ChildFail(errfd, kStepScratch);
      if (::mount("overlay", p.wd_target.c_str(), "overlay", 0, p.wd_overlay_opts.c_str()) != 0)
        ChildFail(errfd, kStepOverlay);
    }
    if (::mount("/proc", p.merged_proc.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) ChildFail(errfd, kStepBinds);
    // Kernel tunables stay untouchable.
    if (::mount(p.merged_proc_sys.c_str(), p.merged_proc_sys.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0 ||
        ::mount(nullptr, p.merged_proc_sys.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0)
      ChildFail(errfd, kStepBinds);
    // A private /dev with the harmless devices only (no disks), its own /dev/shm and the pty.
    if (::mount("dev", p.merged_dev.c_str(), "tmpfs", MS_NOSUID, "size=1m,mode=0755") != 0) ChildFail(errfd, kStepBinds);
    for (const auto& [host, inside] : p.devices) {
      int fd = ::open(inside.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
      if (fd < 0) ChildFail(errfd, kStepBinds);
      ::close(fd);
      if (::mount(host.c_str(), inside.c_str(), nullptr, MS_BIND, nullptr) != 0) ChildFail(errfd, kStepBinds);
    }
    for (const auto& [target, link] : p.dev_links)
      if (::symlink(target.c_str(), link.c_str()) != 0) ChildFail(errfd, kStepBinds);
    if (::mkdir(p.merged_shm.c_str(), 01777) != 0 ||
        ::mount("shm", p.merged_shm.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=64m") != 0)
      ChildFail(errfd, kStepBinds);
    if (::mkdir(p.merged_pts.c_str(), 0755) == 0)
      ::mount("/dev/pts", p.merged_pts.c_str(), nullptr, MS_BIND, nullptr);  // best effort: ttys only
    // /sys read-only and without the mounts below it (no cgroupfs writes from the sandbox).
    if (::mount("/sys", p.merged_sys.c_str(), nullptr, MS_BIND, nullptr) != 0) ChildFail(errfd, kStepBinds);
    if (::mount(nullptr, p.merged_sys.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0)
      ChildFail(errfd, kStepBinds);
    if (::chdir(p.merged.c_str()) != 0 || ::chroot(".") != 0) ChildFail(errfd, kStepChroot);
    if (::chdir("/") != 0) ChildFail(errfd, kStepChroot);
  }
  if (!p.working_dir.empty() && ::chdir(p.working_dir.c_str()) != 0) ChildFail(errfd, kStepChdir);
  if (p.set_ids) {
    // Raw system calls: glibc's wrappers broadcast the change to every thread it believes the
    // process has, and a child made by a raw clone3 still carries the parent's thread list (and
    // possibly its locks). The child is single-threaded; the system call changes exactly it.
    if (::syscall(SYS_setgroups, p.groups.size(), p.groups.data()) != 0) ChildFail(errfd, kStepSetgroups);
    if (::syscall(SYS_setgid, p.gid) != 0) ChildFail(errfd, kStepSetgid);
    if (::syscall(SYS_setuid, p.uid) != 0) ChildFail(errfd, kStepSetuid);
  }
  if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) ChildFail(errfd, kStepDup);
  ::execve(p.exe.c_str(), p.argv.data(), p.envp.data());
  ChildFail(errfd, kStepExec);
}

// born_in_group: the child was created inside its (single) cgroup and must not join again.
[[noreturn]] void RunChild(const ChildPlan& p, bool born_in_group, int errfd, int in_fd, int out_fd, int err_fd) {
  PrepareChild(p.procs_files, !born_in_group, errfd);
  RunPreparedChild(p, errfd, in_fd, out_fd, err_fd);
}

// ---------------------------------------------------------------- clone3 into a cgroup

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;  // CLONE_INTO_CGROUP (Linux 5.7)
constexpr uint64_t kClonePidfd = 0x1000;               // CLONE_PIDFD (Linux 5.2)

// struct clone_args up to the cgroup field (CLONE_ARGS_SIZE_VER2), declared here because
// <linux/sched.h> clashes with <sched.h> on some glibc versions.
struct CloneArgs {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};
static_assert(sizeof(CloneArgs) == 88, "clone_args v2 is 88 bytes");

// Set once clone3(CLONE_INTO_CGROUP) failed with a fallback errno: later starts fork directly.
std::atomic<bool> g_clone3_unsupported{false};

// Fork-like clone3 (own copy of memory, SIGCHLD on exit) whose child starts in the cgroup of
// `cgroup_fd`. Returns the pid (0 in the child) and the child's pidfd, or -1 with errno.
pid_t Clone3IntoCgroup(int cgroup_fd, int* pidfd) {
  CloneArgs args{};
  int fd = -1;
  args.flags = kCloneIntoCgroup | kClonePidfd;
  args.pidfd = reinterpret_cast<uint64_t>(&fd);
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(cgroup_fd);
  long r = ::syscall(SYS_clone3, &args, sizeof args);
  if (r > 0) *pidfd = fd;
  return static_cast<pid_t>(r);
}

// The facts ChooseCgroupEntry needs about this machine and these groups.
CgroupEntryFacts EntryFacts(const std::vector<std::string>& procs_files) {
  static const std::pair<int, int> kernel = [] {
    struct utsname u;
    int ma = 0, mi = 0;
    if (::uname(&u) != 0 || !ParseKernelRelease(u.release, &ma, &mi)) return std::make_pair(0, 0);
    return std::make_pair(ma, mi);
  }();
  CgroupEntryFacts f;
  f.procs_files = procs_files.size();
  f.kernel_major = kernel.first;
  f.kernel_minor = kernel.second;
  f.clone3_unsupported = g_clone3_unsupported.load();
  if (procs_files.size() == 1) {
    struct statfs sf;
    std::string dir = procs_files[0].substr(0, procs_files[0].rfind('/'));
    f.on_cgroup2 = ::statfs(dir.c_str(), &sf) == 0 && sf.f_type == 0x63677270;  // CGROUP2_SUPER_MAGIC
  }
  return f;
}

// ---------------------------------------------------------------- plan encoding (prestarted children)

// What a prestarted child needs of a ChildPlan (no sandbox), as length-prefixed fields.
void PutU64(std::string* out, uint64_t v) { out->append(reinterpret_cast<const char*>(&v), sizeof v); }
void PutStr(std::string* out, const std::string& s) {
  PutU64(out, s.size());
  out->append(s);
}
void PutStrs(std::string* out, const std::vector<std::string>& v) {
  PutU64(out, v.size());
  for (const auto& s : v) PutStr(out, s);
}

std::string EncodePlan(const ChildPlan& p) {
  std::string out;
  PutStr(&out, p.exe);
  PutStrs(&out, p.args);
  PutStrs(&out, p.envs);
  PutStr(&out, p.working_dir);
  PutU64(&out, p.set_ids ? 1 : 0);
  PutU64(&out, p.uid);
  PutU64(&out, p.gid);
  PutU64(&out, p.groups.size());
  for (gid_t g : p.groups) PutU64(&out, g);
  return out;
}

class PlanReader {
 public:
  explicit PlanReader(const std::string& data) : d_(data) {}
  bool U64(uint64_t* v) {
    if (d_.size() - pos_ < sizeof *v) return false;
    std::memcpy(v, d_.data() + pos_, sizeof *v);
    pos_ += sizeof *v;
    return true;
  }
  bool Str(std::string* s) {
    uint64_t n;
    if (!U64(&n) || d_.size() - pos_ < n) return false;
    s->assign(d_, pos_, n);
    pos_ += n;
    return true;
  }
  bool Strs(std::vector<std::string>* v) {
    uint64_t n;
    if (!U64(&n) || n > d_.size()) return false;
    v->resize(n);
    for (auto& s : *v)
      if (!Str(&s)) return false;
    return true;
  }

 private:
  const std::string& d_;
  size_t pos_ = 0;
};

bool DecodePlan(const std::string& data, ChildPlan* p) {
  PlanReader r(data);
  uint64_t set_ids, uid, gid, ngroups;
  if (!r.Str(&p->exe) || !r.Strs(&p->args) || !r.Strs(&p->envs) || !r.Str(&p->working_dir) || !r.U64(&set_ids) ||
      !r.U64(&uid) || !r.U64(&gid) || !r.U64(&ngroups) || ngroups > 65536)
    return false;
  p->set_ids = set_ids != 0;
  p->uid = static_cast<uid_t>(uid);
  p->gid = static_cast<gid_t>(gid);
  for (uint64_t i = 0; i < ngroups; ++i) {
    uint64_t g;
    if (!r.U64(&g)) return false;
    p->groups.push_back(static_cast<gid_t>(g));
  }
  for (auto& a : p->args) p->argv.push_back(a.data());
  p->argv.push_back(nullptr);
  for (auto& e : p->envs) p->envp.push_back(e.data());
  p->envp.push_back(nullptr);
  return true;
}

// Reads until EOF (the parent closes its end after writing the plan).
bool ReadAllFd(int fd, std::string* out) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out->append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) return true;
    if (errno != EINTR) return false;
  }
}

size_t ThreadCount() {
  auto st = ReadTextFile("/proc/self/status");
  if (!st.ok()) return 0;
  auto pos = st->find("\nThreads:");
  if (pos == std::string::npos) return 0;
  return static_cast<size_t>(std::strtoul(st->c_str() + pos + 9, nullptr, 10));
}

// ---------------------------------------------------------------- the parent side

class RealProcess : public Process {
 public:
  RealProcess(pid_t pid, int pidfd, int out_fd, int err_fd, std::unique_ptr<RotatingLog> log, size_t tail,
              int64_t fork_rss)
      : pid_(pid), pidfd_(pidfd), log_(std::move(log)), tail_(tail), fork_rss_(fork_rss) {
    reader_ = std::thread([this, out_fd, err_fd] { ReadOutput(out_fd, err_fd); });
  }
  ~RealProcess() override {
    if (!reaped_) {
      // Never leave a zombie or a runaway group behind when the caller gives up on us.
      ::kill(-pid_, SIGKILL);
      ExitInfo ignored;
      Wait(std::chrono::milliseconds(5000), &ignored);
    }
    FinishOutput();
    if (pidfd_ >= 0) ::close(pidfd_);
  }

  pid_t pid() const override { return pid_; }

  bool Wait(std::chrono::milliseconds timeout, ExitInfo* info) override {
    if (reaped_) {
      *info = exit_;
      return true;
    }
    if (pidfd_ >= 0) {
      struct pollfd pfd{pidfd_, POLLIN, 0};
      int r;
      do {
        r = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
      } while (r < 0 && errno == EINTR);
      if (r == 0) return false;
      return Reap(info, 0);
    }
    // No pidfd: poll waitpid with short naps up to the timeout.
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (Reap(info, WNOHANG)) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  Status SignalGroup(int sig) override {
    if (reaped_) {
      // The leader is gone but its group may live on; the pgid stays valid while members exist.
      if (::kill(-pid_, sig) != 0 && errno != ESRCH) return InternalError(ErrnoText("kill -" + std::to_string(pid_), errno));
      return Status::Ok();
    }
    if (::kill(-pid_, sig) != 0 && errno != ESRCH) return InternalError(ErrnoText("kill -" + std::to_string(pid_), errno));
    return Status::Ok();
  }

  std::string Tail() const override {
    std::lock_guard<std::mutex> l(mu_);
    return tail_.Contents();
  }
  uint64_t OutputBytes() const override { return output_bytes_.load(); }
  CgroupEntry cgroup_entry() const override { return entry_; }
  void set_cgroup_entry(CgroupEntry e) { entry_ = e; }

  void FinishOutput() override {
    stop_reader_ = true;
    if (reader_.joinable()) reader_.join();
  }

 private:
  bool Reap(ExitInfo* info, int flags) {
    int status = 0;
    struct rusage ru {};
    pid_t r;
    do {
      r = ::wait4(pid_, &status, flags, &ru);
    } while (r < 0 && errno == EINTR);
    if (r != pid_) return false;
    ExitInfo e;
    if (WIFEXITED(status)) {
      e.exited = true;
      e.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      e.signal = WTERMSIG(status);
      e.core_dumped = WCOREDUMP(status);
    }
    e.max_rss_bytes = static_cast<int64_t>(ru.ru_maxrss) * 1024;
    e.fork_rss_bytes = fork_rss_;
    e.user_seconds = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    e.system_seconds = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    e.block_read_bytes = static_cast<uint64_t>(ru.ru_inblock) * 512;
    e.block_write_bytes = static_cast<uint64_t>(ru.ru_oublock) * 512;
    exit_ = e;
    reaped_ = true;
    *info = e;
    return true;
  }

  void ReadOutput(int out_fd, int err_fd) {
    struct pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    int open_fds = 2;
    char buf[16384];
    while (open_fds > 0) {
      int r = ::poll(fds, 2, 50);
      if (r < 0 && errno != EINTR) break;
      if (r <= 0) {
        if (stop_reader_) break;
        continue;
      }
      for (auto& f : fds) {
        if (f.fd < 0 || !(f.revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = ::read(f.fd, buf, sizeof buf);
        if (n > 0) {
          std::lock_guard<std::mutex> l(mu_);
          tail_.Append(buf, static_cast<size_t>(n));
          output_bytes_ += static_cast<uint64_t>(n);
          if (log_) log_->Write(buf, static_cast<size_t>(n));
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
          ::close(f.fd);
          f.fd = -1;
          --open_fds;
        }
      }
      if (stop_reader_ && r == 0) break;
    }
    for (auto& f : fds)
      if (f.fd >= 0) ::close(f.fd);
  }

  pid_t pid_;
  int pidfd_;
  std::unique_ptr<RotatingLog> log_;
  mutable std::mutex mu_;
  TailBuffer tail_;
  std::atomic<uint64_t> output_bytes_{0};
  std::atomic<bool> stop_reader_{false};
  std::thread reader_;
  bool reaped_ = false;
  ExitInfo exit_;
  int64_t fork_rss_ = 0;
  CgroupEntry entry_ = CgroupEntry::kNone;
};

// This process's resident set size (from /proc/self/statm), 0 when unreadable.
int64_t OwnRssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  long long size = 0, resident = 0;
  int n = std::fscanf(f, "%lld %lld", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<int64_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

class RealPrestarted : public PrestartedChild {
 public:
  RealPrestarted(pid_t pid, int plan_fd, int err_fd, int out_fd, int errout_fd, int64_t fork_rss)
      : pid_(pid), plan_fd_(plan_fd), err_fd_(err_fd), out_fd_(out_fd), errout_fd_(errout_fd), fork_rss_(fork_rss) {}
  ~RealPrestarted() override {
    for (int fd : {plan_fd_, err_fd_, out_fd_, errout_fd_})
      if (fd >= 0) ::close(fd);
    if (pid_ > 0) {
      // Unused: it exits on EOF of its plan pipe; make sure and reap it.
      ::kill(pid_, SIGKILL);
      int st;
      while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
      }
    }
  }
  pid_t pid() const override { return pid_; }
  CgroupEntry entry() const { return entry_; }
  void set_entry(CgroupEntry e) { entry_ = e; }
  // Hands the fds and the pid over to the caller (who then owns the child).
  void Release(pid_t* pid, int* plan_fd, int* err_fd, int* out_fd, int* errout_fd, int64_t* fork_rss) {
    *pid = pid_;
    *plan_fd = plan_fd_;
    *err_fd = err_fd_;
    *out_fd = out_fd_;
    *errout_fd = errout_fd_;
    *fork_rss = fork_rss_;
    pid_ = -1;
    plan_fd_ = err_fd_ = out_fd_ = errout_fd_ = -1;
  }

 private:
  pid_t pid_;
  int plan_fd_, err_fd_, out_fd_, errout_fd_;
  int64_t fork_rss_;
  CgroupEntry entry_ = CgroupEntry::kNone;
};

// Reads the child's error report: OK once exec succeeded (the CLOEXEC pipe closed without data).
Status AwaitExec(pid_t pid, int ep_read, const std::string& exe, const std::string& working_dir) {
  ChildError ce{};
  ssize_t n;
  do {
    n = ::read(ep_read, &ce, sizeof ce);
  } while (n < 0 && errno == EINTR);
  ::close(ep_read);
  if (n != static_cast<ssize_t>(sizeof ce)) return Status::Ok();
  int status;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::string what = std::string("starting ") + exe + ": " + StepName(ce.step) + " failed";
  if (ce.step == kStepChdir) what += " (" + working_dir + ")";
  Code code = (ce.step == kStepExec && ce.err == ENOENT) ? Code::kNotFound : Code::kInternal;
  return Status(code, ErrnoText(what, ce.err));
}

class RealLauncher : public ProcessLauncher {
 public:
  Result<std::unique_ptr<Process>> Start(const ProcessSpec& spec) override {
    ChildPlan p;
    if (Status s = BuildPlan(spec, &p); !s.ok()) return s;
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0) return InternalError(ErrnoText("open /dev/null", errno));
    int outp[2], errp[2], ep[2];
    if (::pipe2(outp, O_CLOEXEC) != 0) {
      ::close(devnull);
      return InternalError(ErrnoText("pipe", errno));
    }
    if (::pipe2(errp, O_CLOEXEC) != 0) {
      ::close(devnull);
      ::close(outp[0]);
      ::close(outp[1]);
      return InternalError(ErrnoText("pipe", errno));
    }
    if (::pipe2(ep, O_CLOEXEC) != 0) {
      for (int fd : {devnull, outp[0], outp[1], errp[0], errp[1]}) ::close(fd);
      return InternalError(ErrnoText("pipe", errno));
    }
    std::unique_ptr<RotatingLog> log;
    if (Status s = OpenLog(spec, &log); !s.ok()) {
      for (int fd : {devnull, outp[0], outp[1], errp[0], errp[1], ep[0], ep[1]}) ::close(fd);
      return s;
    }

    CgroupEntry entry = ChooseCgroupEntry(EntryFacts(p.procs_files));
    std::string cgroup_dir;
    int cgroup_fd = -1;
    if (entry == CgroupEntry::kBornInGroup) {
      cgroup_dir = p.procs_files[0].substr(0, p.procs_files[0].rfind('/'));
      cgroup_fd = ::open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      // Cannot open it: the join after fork reports why (it writes into the same directory).
      if (cgroup_fd < 0) entry = CgroupEntry::kJoinedAfterFork;
    }
    const int64_t fork_rss = OwnRssBytes();
    pid_t pid = -1;
    int pidfd = -1;
    if (entry == CgroupEntry::kBornInGroup) {
      pid = Clone3IntoCgroup(cgroup_fd, &pidfd);
      if (pid < 0 && Clone3FallsBack(errno)) {
        g_clone3_unsupported = true;
        entry = CgroupEntry::kJoinedAfterFork;
      } else if (pid < 0) {
        int err = errno;
        for (int fd : {cgroup_fd, devnull, outp[0], outp[1], errp[0], errp[1], ep[0], ep[1]}) ::close(fd);
        return InternalError(ErrnoText("starting " + p.exe + ": clone3 into cgroup " + cgroup_dir, err));
      }
    }
    if (entry != CgroupEntry::kBornInGroup) pid = ::fork();
    if (pid < 0) {
      int err = errno;
      for (int fd : {cgroup_fd, devnull, outp[0], outp[1], errp[0], errp[1], ep[0], ep[1]})
        if (fd >= 0) ::close(fd);
      return InternalError(ErrnoText("fork", err));
    }
    // The child only makes system calls from here on (no allocation, no locks): a child of a raw
    // clone3 in a multithreaded process has no glibc fork handlers run for it.
    if (pid == 0) RunChild(p, entry == CgroupEntry::kBornInGroup, ep[1], devnull, outp[1], errp[1]);

    for (int fd : {cgroup_fd, devnull, outp[1], errp[1], ep[1]})
      if (fd >= 0) ::close(fd);
    if (Status s = AwaitExec(pid, ep[0], p.exe, spec.working_dir); !s.ok()) {
      if (pidfd >= 0) ::close(pidfd);
      ::close(outp[0]);
      ::close(errp[0]);
      return s;
    }
    if (pidfd < 0) pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    auto proc = std::make_unique<RealProcess>(pid, pidfd, outp[0], errp[0], std::move(log), spec.tail_bytes, fork_rss);
    proc->set_cgroup_entry(entry);
    return std::unique_ptr<Process>(std::move(proc));
  }

  Result<std::unique_ptr<PrestartedChild>> Prestart(const std::vector<std::string>& procs_files) override {
    if (size_t n = ThreadCount(); n != 1)
      return Status(Code::kUnsupported, "prestarting a child needs a single-threaded process (this one has " +
                                            std::to_string(n) + " threads)");
    int fds[10];
    int* planp = fds;      // plan: parent writes [1], child reads [0]
    int* ep = fds + 2;     // exec errors: child writes [1]
    int* outp = fds + 4;
    int* errp = fds + 6;
    int* readyp = fds + 8;  // one byte once the child is in its groups
    int made = 0;
    for (; made < 5; ++made)
      if (::pipe2(fds + 2 * made, O_CLOEXEC) != 0) break;
    int devnull = made == 5 ? ::open("/dev/null", O_RDONLY | O_CLOEXEC) : -1;
    if (devnull < 0) {
      int err = errno;
      for (int i = 0; i < 2 * made; ++i) ::close(fds[i]);
      return InternalError(ErrnoText("pipe or /dev/null for a prestarted child", err));
    }
    const int64_t fork_rss = OwnRssBytes();
    pid_t pid = ::fork();
    if (pid < 0) {
      int err = errno;
      for (int fd : fds) ::close(fd);
      ::close(devnull);
      return InternalError(ErrnoText("fork", err));
    }
    if (pid == 0) {
      // A copy of a single-threaded process: the allocator is safe to use here.
      for (int fd : {planp[1], ep[0], outp[0], errp[0], readyp[0]}) ::close(fd);
      PrepareChild(procs_files, true, ep[1]);
      char one = 1;
      if (::write(readyp[1], &one, 1) != 1) ::_exit(127);
      ::close(readyp[1]);
      std::string data;
      ChildPlan plan;
      if (!ReadAllFd(planp[0], &data) || data.empty()) ::_exit(0);  // never used
      if (!DecodePlan(data, &plan)) {
        errno = EINVAL;
        ChildFail(ep[1], kStepExec);
      }
      ::close(planp[0]);
      RunPreparedChild(plan, ep[1], devnull, outp[1], errp[1]);
    }
    for (int fd : {planp[0], ep[1], outp[1], errp[1], readyp[1], devnull}) ::close(fd);
    // Wait until the child is in its groups: the caller may rename them next.
    char one = 0;
    ssize_t n;
    do {
      n = ::read(readyp[0], &one, 1);
    } while (n < 0 && errno == EINTR);
    ::close(readyp[0]);
    auto child = std::make_unique<RealPrestarted>(pid, planp[1], ep[0], outp[0], errp[0], fork_rss);
    child->set_entry(procs_files.empty() ? CgroupEntry::kNone : CgroupEntry::kJoinedAfterFork);
    if (n != 1) {
      // It failed before joining (or while): its error report is on the exec-error pipe.
      pid_t p;
      int plan_fd, ep_read, out_fd, err_fd;
      int64_t rss;
      child->Release(&p, &plan_fd, &ep_read, &out_fd, &err_fd, &rss);
      for (int fd : {plan_fd, out_fd, err_fd}) ::close(fd);
      Status s = AwaitExec(p, ep_read, "a prestarted child", "");
      if (!s.ok()) return s;  // reaped by AwaitExec
      int st;
      while (::waitpid(p, &st, 0) < 0 && errno == EINTR) {
      }
      return InternalError("the prestarted child " + std::to_string(p) + " exited before joining its cgroups");
    }
    return std::unique_ptr<PrestartedChild>(std::move(child));
  }

  Result<std::unique_ptr<Process>> StartPrestarted(const ProcessSpec& spec,
                                                   std::unique_ptr<PrestartedChild> child) override {
    auto* pre = dynamic_cast<RealPrestarted*>(child.get());
    if (!pre) return InvalidArgument("not a child prestarted by this launcher");
    if (spec.sandbox) return InvalidArgument("a prestarted child cannot be sandboxed");
    ChildPlan p;
    if (Status s = BuildPlan(spec, &p); !s.ok()) return s;  // `child` is killed on return
    std::unique_ptr<RotatingLog> log;
    if (Status s = OpenLog(spec, &log); !s.ok()) return s;
    pid_t pid;
    int plan_fd, ep_read, out_fd, err_fd;
    int64_t fork_rss;
    const CgroupEntry entry = pre->entry();
    pre->Release(&pid, &plan_fd, &ep_read, &out_fd, &err_fd, &fork_rss);
    std::string data = EncodePlan(p);
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::write(plan_fd, data.data() + off, data.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(plan_fd);
    if (off != data.size()) {
      ::kill(pid, SIGKILL);
      int st;
      while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
      ::close(ep_read);
      ::close(out_fd);
      ::close(err_fd);
      return InternalError("the prestarted child " + std::to_string(pid) + " went away before its command was sent");
    }
    if (Status s = AwaitExec(pid, ep_read, p.exe, spec.working_dir); !s.ok()) {
      ::close(out_fd);
      ::close(err_fd);
      return s;
    }
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    auto proc = std::make_unique<RealProcess>(pid, pidfd, out_fd, err_fd, std::move(log), spec.tail_bytes, fork_rss);
    proc->set_cgroup_entry(entry);
    return std::unique_ptr<Process>(std::move(proc));
  }

 private:
  static Status OpenLog(const ProcessSpec& spec, std::unique_ptr<RotatingLog>* log) {
    if (spec.log_path.empty()) return Status::Ok();
    *log = std::make_unique<RotatingLog>(spec.log_path, spec.log_max_bytes, spec.log_keep);
    return (*log)->Open();
  }

  // Everything the child needs, computed before fork so the child only makes system calls.
  static Status BuildPlan(const ProcessSpec& spec, ChildPlan* out) {
    ChildPlan& p = *out;
    if (!spec.shell_command.empty() && !spec.argv.empty())
      return InvalidArgument("process spec has both a shell command and an argv");
    if (spec.shell_command.empty() && spec.argv.empty()) return InvalidArgument("process spec has no command");
    // Environment.
    if (spec.inherit_env)
      for (char** e = environ; e && *e; ++e) {
        std::string kv = *e;
        std::string key = kv.substr(0, kv.find('='));
        bool overridden = false;
        for (const auto& o : spec.env) overridden |= o.rfind(key + "=", 0) == 0;
        if (!overridden) p.envs.push_back(kv);
      }
    for (const auto& e : spec.env) {
      if (e.find('=') == std::string::npos) return InvalidArgument("environment entry \"" + e + "\" has no '='");
      p.envs.push_back(e);
    }
    if (!spec.shell_command.empty()) {
      p.exe = "/bin/sh";
      p.args = {"sh", "-c", spec.shell_command};
    } else {
      auto exe = ResolveExecutable(spec.argv[0], p.envs);
      if (!exe.ok()) return exe.status();
      p.exe = *exe;
      p.args = spec.argv;
    }
    for (auto& a : p.args) p.argv.push_back(a.data());
    p.argv.push_back(nullptr);
    for (auto& e : p.envs) p.envp.push_back(e.data());
    p.envp.push_back(nullptr);
    p.procs_files = spec.cgroup_procs_files;
    p.working_dir = spec.working_dir;
    if (spec.uid || spec.gid) {
      p.set_ids = true;
      p.uid = spec.uid.value_or(::getuid());
      if (spec.gid) {
        p.gid = *spec.gid;
      } else {
        struct passwd pw, *res = nullptr;
        char buf[4096];
        if (::getpwuid_r(p.uid, &pw, buf, sizeof buf, &res) != 0 || !res)
          return InvalidArgument("uid " + std::to_string(p.uid) + " has no passwd entry; give a gid");
        p.gid = pw.pw_gid;
      }
      p.groups = {p.gid};
    }
    if (spec.sandbox) {
      const Sandbox& sb = *spec.sandbox;
      if (sb.scratch_dir.empty() || !PathExists(sb.scratch_dir))
        return InvalidArgument("sandbox scratch_dir \"" + sb.scratch_dir + "\" must be an existing empty directory");
      p.sandbox = true;
      p.unshare_net = !sb.allow_network;
      p.scratch = sb.scratch_dir;
      p.scratch_opts = "size=" + std::to_string(sb.scratch_bytes) + ",mode=0700";
      p.upper = p.scratch + "/upper";
      p.work = p.scratch + "/work";
      p.merged = p.scratch + "/root";
      p.overlay_opts = "lowerdir=/,upperdir=" + p.upper + ",workdir=" + p.work;
      p.merged_proc = p.merged + "/proc";
      p.merged_dev = p.merged + "/dev";
      p.merged_sys = p.merged + "/sys";
      p.merged_shm = p.merged + "/dev/shm";
      p.merged_pts = p.merged + "/dev/pts";
      p.merged_proc_sys = p.merged + "/proc/sys";
      for (const char* d : {"null", "zero", "full", "random", "urandom", "tty"})
        if (PathExists(std::string("/dev/") + d)) p.devices.emplace_back(std::string("/dev/") + d, p.merged + "/dev/" + d);
      p.dev_links = {{"/proc/self/fd", p.merged + "/dev/fd"},
                     {"/proc/self/fd/0", p.merged + "/dev/stdin"},
                     {"/proc/self/fd/1", p.merged + "/dev/stdout"},
                     {"/proc/self/fd/2", p.merged + "/dev/stderr"}};
      struct stat root_st, wd_st;
      if (!spec.working_dir.empty() && ::stat("/", &root_st) == 0 && ::stat(spec.working_dir.c_str(), &wd_st) == 0 &&
          root_st.st_dev != wd_st.st_dev) {
        if (spec.working_dir.find(',') != std::string::npos || spec.working_dir.find(':') != std::string::npos)
          return InvalidArgument("sandbox working directory \"" + spec.working_dir + "\" contains ',' or ':'");
        p.wd_upper = p.scratch + "/wd-upper";
        p.wd_work = p.scratch + "/wd-work";
        p.wd_target = p.merged + spec.working_dir;
        p.wd_overlay_opts = "lowerdir=" + spec.working_dir + ",upperdir=" + p.wd_upper + ",workdir=" + p.wd_work;
      }
    }

    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<ProcessLauncher> NewRealProcessLauncher() { return std::make_unique<RealLauncher>(); }

}  // namespace prescient::exec
