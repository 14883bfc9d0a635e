#include "agent/host_exec.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "agent/journal.h"
#include "agent/shim.h"
#include "common/clock.h"
#include "common/log.h"
#include "exec/executor.h"
#include "exec/process.h"
#include "exec/warmup.h"

namespace prescient::agent {
namespace {

using nlohmann::json;

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

Status MkdirAll(const std::string& path, int mode) {
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    cur = path.substr(0, pos);
    if (cur.empty()) continue;
    if (mkdir(cur.c_str(), mode) != 0 && errno != EEXIST)
      return InternalError("cannot create directory " + cur + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

// The whole disk ("major:minor") holding `path`: IO throttling works on disks, not partitions.
// Empty when the filesystem is not on a block device (tmpfs, overlay, NFS).
std::string DiskOf(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || major(st.st_dev) == 0) return "";
  std::string dev = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  std::string sys = "/sys/dev/block/" + dev;
  if (access((sys + "/partition").c_str(), F_OK) == 0) {
    if (auto parent = ReadFile(sys + "/../dev")) {
      std::string p = *parent;
      while (!p.empty() && (p.back() == '\n' || p.back() == ' ')) p.pop_back();
      return p;
    }
  }
  return access(sys.c_str(), F_OK) == 0 ? dev : "";
}

// skb priorities for the allocation's network priority class (pfifo_fast's default priomap puts
// 1 in its lowest band, 0 in the middle, 6 in the highest).
std::optional<uint32_t> NetPriority(const std::string& cls) {
  if (cls == "Low") return 1;
  if (cls == "High") return 6;
  return std::nullopt;  // Normal: leave the kernel default
}

exec::CgroupLimits ToLimits(const Allocation& a, const std::string& disk) {
  exec::CgroupLimits l;
  l.cpu_cores = static_cast<double>(a.cpu_milli) / 1000.0;
  l.memory_bytes = a.memory_bytes;
  l.io_weight = a.io_weight;
  if ((a.disk_read_bps > 0 || a.disk_write_bps > 0) && !disk.empty())
    l.io_devices.push_back({disk, static_cast<uint64_t>(a.disk_read_bps), static_cast<uint64_t>(a.disk_write_bps), 0, 0});
  l.net_priority = NetPriority(a.network_priority);
  return l;
}

std::vector<std::string> Unenforced(const exec::Cgroup& cg, const Allocation& a, const exec::CgroupLimits& l,
                                    const std::string& disk) {
  auto out = cg.Unenforceable(l);
  if ((a.disk_read_bps > 0 || a.disk_write_bps > 0) && disk.empty())
    out.push_back("IO limits: the working directory is not on a block device");
  return out;
}

Usage UsageFromReport(const exec::UsageReport& r) {
  Usage u;
  u.cpu_seconds = r.cpu_seconds;
  u.peak_cores = r.cpu_cores_peak;
  u.memory_peak_bytes = r.memory_peak_cgroup_bytes.value_or(r.memory_peak_bytes);
  u.anon_peak_bytes = r.memory_peak_bytes;
  u.throttled_usec = static_cast<int64_t>(r.cpu_throttled_seconds * 1e6);
  u.nr_throttled = static_cast<int64_t>(r.cpu_nr_throttled);
  u.io_read_bytes = static_cast<int64_t>(r.disk_read_bytes);
  u.io_write_bytes = static_cast<int64_t>(r.disk_write_bytes);
  u.net_rx_bytes = static_cast<int64_t>(r.network_external_bytes);
  u.network_scope = r.network_scope;
  u.oom_kills = static_cast<int64_t>(r.oom_kills);
  u.endpoints = r.endpoints;
  return u;
}

}  // namespace

Result<std::unique_ptr<HostExecEnv>> HostExecEnv::Create(const HostExecOptions& options) {
  exec::CgroupOptions co;
  co.mount_root = options.cgroup_mount_root;
  auto mgr = exec::DetectCgroups(co);
  if (!mgr.ok()) return mgr.status();
  HostExecOptions o = options;
  if (o.shim_binary.empty()) {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return InternalError("cannot resolve /proc/self/exe for the shim");
    o.shim_binary.assign(buf, static_cast<size_t>(n));
  }
  if (access(o.shim_binary.c_str(), X_OK) != 0)
    return InvalidArgument("shim binary " + o.shim_binary + " is not executable");
  if (auto st = MkdirAll(o.state_dir + "/runs", 0700); !st.ok()) return st;
  if (auto st = MkdirAll(o.state_dir + "/shadow", 0700); !st.ok()) return st;
  if (auto st = MkdirAll(o.log_dir, 0750); !st.ok()) return st;
  std::unique_ptr<HostExecEnv> env(new HostExecEnv(std::move(o), std::move(*mgr)));
  env->RemoveStaleGroups();
  if (env->opt_.warm_shims > 0) env->keeper_ = std::thread([e = env.get()] { e->KeepSpares(); });
  return env;
}

HostExecEnv::HostExecEnv(HostExecOptions o, std::unique_ptr<exec::CgroupManager> m)
    : opt_(std::move(o)), cgroups_(std::move(m)), proc_(exec::NewRealProcFs()) {}

std::string HostExecEnv::LogPath(const std::string& ns, const std::string& name, const std::string& uid) const {
  return opt_.log_dir + "/" + ns + "_" + name + "_" + uid + ".log";
}

std::vector<DependencyCheck> HostExecEnv::WarmUp(const std::vector<Dependency>& deps) {
  exec::WarmupOptions wo;
  wo.resolve_timeout = opt_.warmup_timeout;
  wo.connect_timeout = opt_.warmup_timeout;
  std::vector<DependencyCheck> out;
  for (const Dependency& d : deps) {
    auto r = exec::WarmUpOne(exec::Dependency{d.host, d.port}, wo);
    DependencyCheck c;
    c.dep = d;
    c.ok = r.ok;
    c.resolve_ms = r.resolve_seconds * 1000;
    c.connect_ms = r.connect_seconds * 1000;
    if (!r.ok) c.error = r.status.message();
    out.push_back(c);
    if (!r.ok) break;  // the first failure decides; later ones would only add latency
  }
  return out;
}

Result<int64_t> HostExecEnv::SpawnShim(const std::vector<std::string>& args, const std::string& shim_log,
                                        int control_fd) {
  // Everything the children need is prepared before fork: after fork only async-signal-safe calls.
  std::string bin = opt_.shim_binary;
  std::vector<const char*> argv = {bin.c_str(), "shim"};
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  const char* envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", nullptr};
  int logfd = open(shim_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (logfd < 0) return InternalError("cannot open " + shim_log + ": " + std::strerror(errno));
  int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  // pfd: the shim's pid, to us. efd: closed by the kernel when the shim's exec succeeds, so the pid
  // is reported only once /proc/<pid>/cmdline names the run (Alive() relies on it).
  int pfd[2], efd[2];
  if (pipe2(pfd, O_CLOEXEC) != 0 || pipe2(efd, O_CLOEXEC) != 0) {
    close(logfd);
    if (nullfd >= 0) close(nullfd);
    return InternalError(std::string("pipe: ") + std::strerror(errno));
  }
  pid_t mid = fork();
  if (mid < 0) {
    close(logfd);
    close(nullfd);
    close(pfd[0]);
    close(pfd[1]);
    close(efd[0]);
    close(efd[1]);
    return InternalError(std::string("fork: ") + std::strerror(errno));
  }
  if (mid == 0) {
    // Intermediate: new session, fork the shim, report its pid, exit (the shim is adopted by init,
    // so it survives the agent and is never the agent's zombie).
    setsid();
    pid_t shim = fork();
    if (shim == 0) {
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      dup2(nullfd, 0);
      dup2(logfd, 1);
      dup2(logfd, 2);
      if (control_fd >= 0) dup2(control_fd, 3);  // dup2 clears CLOEXEC on the copy
      close(efd[0]);
      // Everything else inherited (sockets of the agent's client, ...) closes at exec.
      syscall(SYS_close_range, control_fd >= 0 ? 4U : 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
      execve(argv[0], const_cast<char* const*>(argv.data()), const_cast<char* const*>(envp));
      _exit(127);
    }
    close(efd[1]);
    char c;
    while (shim > 0 && (read(efd[0], &c, 1) > 0 || errno == EINTR)) {
    }
    int64_t v = shim;
    ssize_t ignored = write(pfd[1], &v, sizeof v);
    (void)ignored;
    _exit(shim > 0 ? 0 : 1);
  }
  close(pfd[1]);
  close(efd[0]);
  close(efd[1]);
  close(logfd);
  close(nullfd);
  int64_t shim_pid = -1;
  ssize_t n;
  do {
    n = read(pfd[0], &shim_pid, sizeof shim_pid);
  } while (n < 0 && errno == EINTR);
  close(pfd[0]);
  int status = 0;
  while (waitpid(mid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != sizeof shim_pid || shim_pid <= 0) return InternalError("could not start the run shim " + bin);
  return shim_pid;
}

Result<Launched> HostExecEnv::Launch(const LaunchSpec& spec) {
  if (!ValidUid(spec.uid)) return InvalidArgument("invalid run uid \"" + spec.uid + "\"");
  std::lock_guard<std::mutex> l(mu_);
  std::optional<Spare> spare;
  if (!spares_.empty()) {
    spare = spares_.front();
    spares_.pop_front();
    spares_cv_.notify_all();  // the keeper prepares the next one
  }
  const std::string name = CgroupName(spec.uid);
  Result<std::unique_ptr<exec::Cgroup>> cg = Status(Code::kNotFound, "");
  if (spare && cgroups_->version() == exec::CgroupVersion::kV1) {
    // The spare's prestarted process is already in it: renaming makes it the run's group.
    if (Status st = cgroups_->Rename(spare->cgroup, name); st.ok()) {
      cg = cgroups_->Open(name);
    } else {
      log::Logger("agent.host").Warn("cannot use the warm shim's cgroup; starting cold", {{"error", st.ToString()}});
    }
    if (!cg.ok()) ReleaseSpare(*spare), spare.reset();
  }
  if (!cg.ok()) cg = cgroups_->Create(name);
  if (!cg.ok()) return Status(cg.status().code(), "cannot create cgroup " + name + ": " + cg.status().message());
  auto fail = [&](Status st) {
    if (spare) ReleaseSpare(*spare);
    (*cg)->KillAll(SIGKILL);  // a prestarted process, if the group came from a spare
    (*cg)->Destroy();
    return st;
  };
  const std::string disk = DiskOf(spec.working_dir.empty() ? "/" : spec.working_dir);
  const exec::CgroupLimits limits = ToLimits(spec.limits, disk);
  if (auto st = (*cg)->SetLimits(limits); !st.ok())
    return fail(Status(st.code(), "cannot set the allocation's limits: " + st.message()));
  std::vector<std::string> unenforced = Unenforced(**cg, spec.limits, limits, disk);
  ShimSpec ss;
  ss.uid = spec.uid;
  ss.argv = spec.argv;
  ss.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + opt_.run_as_home,
            "PRESCIENT_RUN_NAME=" + spec.name, "PRESCIENT_RUN_NAMESPACE=" + spec.ns, "PRESCIENT_RUN_UID=" + spec.uid};
  for (auto& [k, v] : spec.env) ss.env.push_back(k + "=" + v);
  ss.working_dir = spec.working_dir.empty() ? "/" : spec.working_dir;
  ss.run_as_uid = opt_.run_as_uid;
  ss.run_as_gid = opt_.run_as_gid;
  ss.cgroup_mount_root = opt_.cgroup_mount_root;
  ss.cgroup_name = name;
  ss.cgroup_procs_files = (*cg)->ProcsFiles();
  ss.log_path = LogPath(spec.ns, spec.name, spec.uid);
  ss.log_max_bytes = opt_.log_max_bytes;
  ss.log_keep = opt_.log_keep;
  ss.tail_bytes = opt_.tail_bytes;
  ss.exit_path = RunFile(spec.uid, ".exit.json");
  if (spare) ss.shim_token = spare->token;
  std::string spec_path = RunFile(spec.uid, ".spec.json");
  // Not fsynced: what makes a launch known after a crash is the run's cgroup (it exists before the
  // command can start and is removed only after the final report; see DecideRecovery), and after
  // a reboot a claimed run is never started again.
  if (auto st = WriteFileAtomically(spec_path, ShimSpecToJson(ss).dump(), 0600); !st.ok()) return fail(st);
  Tracked t;
  t.monitor = std::make_unique<exec::Monitor>(cg->get(), proc_.get());
  t.monitor->Start(std::chrono::steady_clock::now());
  t.cgroup = std::move(*cg);
  t.disk = disk;
  int64_t shim_pid = 0;
  if (spare) {
    std::string line = spec_path + "\n";
    ssize_t n = send(spare->control_fd, line.data(), line.size(), MSG_NOSIGNAL);
    close(spare->control_fd);
    spare->control_fd = -1;
    if (n == static_cast<ssize_t>(line.size())) {
      shim_pid = spare->shim_pid;
      rename(spare->shim_log.c_str(), RunFile(spec.uid, ".shim.log").c_str());
    } else {
      // The warm shim is gone (killed?): its prestarted process went with it; start cold.
      log::Logger("agent.host").Warn("warm shim did not take the run; starting cold", {{"shimPid", spare->shim_pid}});
      t.cgroup->KillAll(SIGKILL);
      ss.shim_token.clear();
      if (auto st = WriteFileAtomically(spec_path, ShimSpecToJson(ss).dump(), 0600); !st.ok()) {
        t.cgroup->Destroy();
        return st;
      }
    }
  }
  if (shim_pid == 0) {
    auto shim = SpawnShim({spec_path}, RunFile(spec.uid, ".shim.log"));
    if (!shim.ok()) {
      t.cgroup->Destroy();
      return shim.status();
    }
    shim_pid = *shim;
  }
  Launched out{shim_pid, name, FormatRfc3339(SystemClock().Now()), std::move(unenforced)};
  runs_[spec.uid] = std::move(t);
  return out;
}

Result<HostExecEnv::Spare> HostExecEnv::MakeSpare() {
  Spare s;
  {
    std::lock_guard<std::mutex> l(mu_);
    s.token = "spare-" + std::to_string(getpid()) + "-" + std::to_string(++spare_seq_);
  }
  s.cgroup = opt_.cgroup_parent + "/" + s.token;
  bool v1 = cgroups_->version() == exec::CgroupVersion::kV1;
  if (v1) {
    auto cg = cgroups_->Create(s.cgroup);
    if (!cg.ok()) return cg.status();
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    Status st = InternalError(std::string("socketpair: ") + std::strerror(errno));
    if (v1)
      if (auto cg = cgroups_->Open(s.cgroup); cg.ok()) (*cg)->Destroy();
    return st;
  }
  s.shim_log = opt_.state_dir + "/runs/" + s.token + ".shim.log";
  auto pid = SpawnShim({"--warm", opt_.cgroup_mount_root, s.cgroup, s.token}, s.shim_log, sv[1]);
  close(sv[1]);
  if (!pid.ok()) {
    close(sv[0]);
    if (v1)
      if (auto cg = cgroups_->Open(s.cgroup); cg.ok()) (*cg)->Destroy();
    return pid.status();
  }
  s.shim_pid = *pid;
  s.control_fd = sv[0];
  // Wait (bounded) for the shim to say it is ready: 'P' with the command's process prestarted in
  // the spare group, 'R' without (v2).
  struct pollfd pfd{s.control_fd, POLLIN, 0};
  int r;
  do {
    r = poll(&pfd, 1, 10000);
  } while (r < 0 && errno == EINTR);
  char ready = 0;
  if (r != 1 || read(s.control_fd, &ready, 1) != 1 || (ready != 'P' && ready != 'R')) {
    ReleaseSpare(s);
    if (v1)
      if (auto cg = cgroups_->Open(s.cgroup); cg.ok()) {
        (*cg)->KillAll(SIGKILL);
        (*cg)->Destroy();
      }
    return InternalError("warm shim " + std::to_string(s.shim_pid) + " did not become ready (see " + s.shim_log + ")");
  }
  if (v1 && ready != 'P')
    log::Logger("agent.host").Warn("warm shim could not prestart the command's process; its runs join their cgroup at launch",
                                   {{"shimLog", s.shim_log}});
  return s;
}

void HostExecEnv::ReleaseSpare(Spare& s) {
  if (s.control_fd >= 0) close(s.control_fd);
  s.control_fd = -1;
}

void HostExecEnv::KeepSpares() {
  log::Logger log("agent.host");
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    if (spares_.size() >= static_cast<size_t>(opt_.warm_shims)) {
      spares_cv_.wait(l);
      continue;
    }
    l.unlock();
    auto s = MakeSpare();
    l.lock();
    if (!s.ok()) {
      log.Warn("cannot prepare a warm shim; runs start cold meanwhile", {{"error", s.status().ToString()}});
      spares_cv_.wait_for(l, std::chrono::seconds(5), [&] { return stopping_; });
      continue;
    }
    spares_.push_back(*s);
    spares_cv_.notify_all();
  }
}

void HostExecEnv::RemoveStaleGroups() {
  // Spares of an agent that died with its warm shims (both killed), and shadows of an agent that
  // died mid-shadow (their sandboxed commands still running): nothing else removes them.
  auto children = cgroups_->List(opt_.cgroup_parent);
  if (!children.ok()) return;
  for (const std::string& child : *children) {
    std::string base = child.substr(child.rfind('/') + 1);
    size_t prefix = base.rfind("spare-", 0) == 0 ? 6 : base.rfind("shadow-", 0) == 0 ? 7 : 0;
    if (prefix == 0) continue;
    long owner = std::atol(base.c_str() + prefix);
    if (owner > 0 && (kill(static_cast<pid_t>(owner), 0) == 0 || errno == EPERM)) continue;  // its agent lives
    if (auto cg = cgroups_->Open(child); cg.ok())
      if (Status st = (*cg)->KillAndRemove(std::chrono::seconds(5)); !st.ok())
        log::Logger("agent.host").Warn("cannot remove a group left by an earlier agent", {{"error", st.ToString()}});
  }
}

size_t HostExecEnv::WarmShimsReady() {
  std::lock_guard<std::mutex> l(mu_);
  return spares_.size();
}

bool HostExecEnv::WaitForWarmShims(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  return spares_cv_.wait_for(l, timeout, [&] { return spares_.size() >= n; });
}

HostExecEnv::~HostExecEnv() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  spares_cv_.notify_all();
  // Joined first: a spare the keeper is making right now lands in spares_ and is released below.
  if (keeper_.joinable()) keeper_.join();
  std::deque<Spare> idle;
  {
    std::lock_guard<std::mutex> l(mu_);
    idle.swap(spares_);
  }
  for (Spare& s : idle) ReleaseSpare(s);
  // Each warm shim removes its spare cgroup on EOF; wait for that (bounded) so a caller removing
  // the parent group right after finds it empty.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  for (Spare& s : idle) {
    if (cgroups_->version() != exec::CgroupVersion::kV1) break;
    while (cgroups_->Open(s.cgroup).ok() && std::chrono::steady_clock::now() < deadline) usleep(2000);
    // A shim that died, or whose rmdir lost a race with the exiting process: remove it here.
    if (auto cg = cgroups_->Open(s.cgroup); cg.ok()) {
      (*cg)->KillAll(SIGKILL);
      (*cg)->Destroy();
    }
  }
}

bool HostExecEnv::LaunchRecorded(const std::string& uid) {
  return access(RunFile(uid, ".spec.json").c_str(), F_OK) == 0;
}

Result<HostExecEnv::Tracked*> HostExecEnv::TrackLocked(const std::string& uid) {
  auto it = runs_.find(uid);
  if (it != runs_.end()) return &it->second;
  auto cg = cgroups_->Open(CgroupName(uid));
  if (!cg.ok()) return cg.status();
  Tracked t;
  t.monitor = std::make_unique<exec::Monitor>(cg->get(), proc_.get());
  t.monitor->Start(std::chrono::steady_clock::now());
  t.cgroup = std::move(*cg);
  return &(runs_[uid] = std::move(t));
}

Result<Sample> HostExecEnv::SampleRun(const std::string& uid) {
  std::lock_guard<std::mutex> l(mu_);
  auto t = TrackLocked(uid);
  if (!t.ok()) return t.status();
  if (auto st = (*t)->monitor->Sample(std::chrono::steady_clock::now()); !st.ok()) return st;
  const exec::UsageReport& r = (*t)->monitor->report();
  Sample s;
  s.cpu_seconds = r.cpu_seconds;
  s.memory_peak = r.memory_peak_cgroup_bytes.value_or(0);
  if (!r.samples.empty()) {
    s.memory_current = r.samples.back().memory_current;
    s.anon_current = r.samples.back().memory_anon;
  }
  s.anon_current = std::max(s.anon_current, r.memory_peak_bytes);
  s.throttled_usec = static_cast<int64_t>(r.cpu_throttled_seconds * 1e6);
  s.nr_throttled = static_cast<int64_t>(r.cpu_nr_throttled);
  s.io_read_bytes = static_cast<int64_t>(r.disk_read_bytes);
  s.io_write_bytes = static_cast<int64_t>(r.disk_write_bytes);
  s.net_rx_bytes = static_cast<int64_t>(r.network_external_bytes);
  s.network_scope = r.network_scope;
  s.oom_kills = static_cast<int64_t>(r.oom_kills);
  s.has_processes = !r.samples.empty() && r.samples.back().processes > 0;
  return s;
}

Status HostExecEnv::SetLimits(const std::string& uid, const Allocation& limits) {
  std::lock_guard<std::mutex> l(mu_);
  auto t = TrackLocked(uid);
  if (!t.ok()) return t.status();
  if ((*t)->disk.empty()) (*t)->disk = DiskOf("/");  // reattached after a restart
  return (*t)->cgroup->SetLimits(ToLimits(limits, (*t)->disk));
}

std::optional<ExitRecord> HostExecEnv::PollExit(const std::string& uid) {
  auto text = ReadFile(RunFile(uid, ".exit.json"));
  if (!text) return std::nullopt;
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return std::nullopt;  // written atomically; a torn file is impossible, but be safe
  auto r = ExitRecordFromJson(j);
  if (!r.ok()) return std::nullopt;
  return *r;
}

bool HostExecEnv::CgroupExists(const std::string& uid) {
  std::lock_guard<std::mutex> l(mu_);
  if (runs_.count(uid)) return true;
  return cgroups_->Open(CgroupName(uid)).ok();
}

bool HostExecEnv::Alive(const std::string& uid, int64_t shim_pid) {
  if (shim_pid > 0 && kill(static_cast<pid_t>(shim_pid), 0) == 0) {
    // Guard against pid reuse: the process must be our shim for this run.
    auto cmdline = ReadFile("/proc/" + std::to_string(shim_pid) + "/cmdline");
    if (cmdline && cmdline->find(uid) != std::string::npos) return true;
    // A warm shim's command line carries its token, which the run's spec records.
    if (cmdline && cmdline->find(std::string("shim\0--warm", 11)) != std::string::npos) {
      if (auto text = ReadFile(RunFile(uid, ".spec.json"))) {
        json j = json::parse(*text, nullptr, false);
        std::string token = j.is_object() ? j.value("shimToken", "") : "";
        if (!token.empty() && cmdline->find(token) != std::string::npos) return true;
      }
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  auto t = TrackLocked(uid);
  if (!t.ok()) return false;
  auto pids = (*t)->cgroup->Pids();
  return pids.ok() && !pids->empty();
}

Status HostExecEnv::Signal(const std::string& uid, int sig) {
  std::lock_guard<std::mutex> l(mu_);
  auto t = TrackLocked(uid);
  if (!t.ok()) return t.status();
  return (*t)->cgroup->KillAll(sig);
}

std::vector<std::string> HostExecEnv::Endpoints(const std::string& uid) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = runs_.find(uid);
  if (it == runs_.end()) return {};
  return it->second.monitor->report().endpoints;
}

std::string HostExecEnv::OutputTail(const std::string& uid, size_t max_bytes) {
  std::string tail;
  if (auto exit = PollExit(uid)) tail = exit->output_tail;
  if (tail.size() > max_bytes) tail = tail.substr(tail.size() - max_bytes);
  return tail;
}

Status HostExecEnv::Cleanup(const std::string& uid) {
  std::lock_guard<std::mutex> l(mu_);
  Status result;
  auto cg = cgroups_->Open(CgroupName(uid));
  runs_.erase(uid);
  // The final report is out: whatever of the run is left ends now, and the group goes in every
  // hierarchy once nothing is exiting in it any more (bounded).
  if (cg.ok()) result = (*cg)->KillAndRemove(std::chrono::seconds(5));
  unlink(RunFile(uid, ".spec.json").c_str());
  unlink(RunFile(uid, ".exit.json").c_str());
  unlink(RunFile(uid, ".shim.log").c_str());
  return result;
}

Result<ShadowResult> HostExecEnv::Shadow(const ShadowSpec& spec) {
  if (!ValidUid(spec.uid)) return InvalidArgument("invalid run uid");
  auto launcher = exec::NewRealProcessLauncher();
  exec::Executor ex(cgroups_.get(), launcher.get(), proc_.get(), &SystemClock());
  exec::ExecutionRequest req;
  req.process.argv = spec.argv;
  req.process.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + opt_.run_as_home};
  for (auto& [k, v] : spec.env) req.process.env.push_back(k + "=" + v);
  req.process.working_dir = spec.working_dir.empty() ? "/" : spec.working_dir;
  if (opt_.run_as_uid) req.process.uid = *opt_.run_as_uid;
  if (opt_.run_as_gid) req.process.gid = *opt_.run_as_gid;
  req.process.tail_bytes = 4096;
  static std::atomic<int> seq{0};
  // Named for this agent process: a restarted agent removes the shadows of a dead one.
  req.cgroup_name = opt_.cgroup_parent + "/shadow-" + std::to_string(getpid()) + "-" + spec.uid + "-" +
                    std::to_string(++seq);
  req.limits.cpu_cores = opt_.shadow_cpu_cores;
  req.limits.memory_bytes = opt_.shadow_memory_bytes;
  req.sample_interval = std::chrono::milliseconds(500);
  exec::Sandbox sb;
  sb.allow_network = spec.allow_network;
  auto r = ex.Shadow(req, std::chrono::duration_cast<std::chrono::milliseconds>(spec.duration), sb,
                     opt_.state_dir + "/shadow");
  if (!r.ok()) return r.status();
  ShadowResult out;
  out.duration_seconds = r->duration_seconds;
  out.usage = UsageFromReport(*r);
  for (auto& s : r->samples) {
    out.memory_curve.emplace_back(s.t_seconds, s.memory_anon);
    out.cpu_curve.emplace_back(s.t_seconds, s.cpu_cores);
  }
  out.exited = r->exit.has_value() && !r->timed_out;
  if (out.exited) out.exit_code = r->exit->ShellStatus();
  if (r->timed_out) out.message = "stopped at the shadow budget";
  return out;
}

Status HostExecEnv::SetGuestCapacity(const Allocation& capacity) {
  std::lock_guard<std::mutex> l(mu_);
  auto cg = cgroups_->Open(opt_.cgroup_parent);
  if (!cg.ok()) cg = cgroups_->Create(opt_.cgroup_parent);
  if (!cg.ok()) return cg.status();
  exec::CgroupLimits size;
  size.cpu_cores = static_cast<double>(capacity.cpu_milli) / 1000.0;
  size.memory_bytes = capacity.memory_bytes;
  return (*cg)->SetLimits(size);
}

}  // namespace prescient::agent
