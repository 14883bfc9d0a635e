#include "exec/cgroup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "exec/fileio.h"

namespace prescient::exec {

const char* CgroupVersionName(CgroupVersion v) { return v == CgroupVersion::kV1 ? "v1" : "v2"; }

// ---------------------------------------------------------------- parsers

std::vector<std::pair<std::string, int64_t>> ParseFlatKeyed(const std::string& text) {
  std::vector<std::pair<std::string, int64_t>> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string key, value;
    if (!(ls >> key >> value)) continue;
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(value.c_str(), &end, 10);
    if (errno != 0 || end == value.c_str() || *end != '\0') continue;
    out.emplace_back(key, static_cast<int64_t>(v));
  }
  return out;
}

std::optional<int64_t> FlatValue(const std::vector<std::pair<std::string, int64_t>>& kv,
                                 const std::string& key) {
  std::optional<int64_t> v;
  for (const auto& [k, val] : kv)
    if (k == key) v = val;
  return v;
}

void ParseBlkioServiceBytes(const std::string& text, uint64_t* read, uint64_t* write) {
  *read = 0;
  *write = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string dev, op;
    unsigned long long v = 0;
    if (!(ls >> dev >> op >> v)) continue;  // the "Total N" line has only two fields
    if (op == "Read") *read += v;
    else if (op == "Write") *write += v;
  }
}

void ParseIoStat(const std::string& text, uint64_t* read, uint64_t* write) {
  *read = 0;
  *write = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string tok;
    ls >> tok;  // device
    while (ls >> tok) {
      auto eq = tok.find('=');
      if (eq == std::string::npos) continue;
      std::string k = tok.substr(0, eq);
      uint64_t v = std::strtoull(tok.c_str() + eq + 1, nullptr, 10);
      if (k == "rbytes") *read += v;
      else if (k == "wbytes") *write += v;
    }
  }
}

bool ParseCpuMax(const std::string& text, std::optional<double>* cores) {
  std::istringstream in(text);
  std::string quota;
  long long period = 0;
  if (!(in >> quota >> period) || period <= 0) return false;
  if (quota == "max") {
    cores->reset();
    return true;
  }
  char* end = nullptr;
  long long q = std::strtoll(quota.c_str(), &end, 10);
  if (end == quota.c_str() || *end != '\0' || q <= 0) return false;
  *cores = static_cast<double>(q) / static_cast<double>(period);
  return true;
}

std::vector<pid_t> ParsePidList(const std::string& text) {
  std::vector<pid_t> out;
  std::istringstream in(text);
  long long p;
  while (in >> p)
    if (p > 0) out.push_back(static_cast<pid_t>(p));
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseProcCgroup(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':');
    if (a == std::string::npos) continue;
    auto b = line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string ctrls = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (ctrls.empty()) {
      out.emplace_back("", path);
      continue;
    }
    std::istringstream cs(ctrls);
    std::string c;
    while (std::getline(cs, c, ',')) out.emplace_back(c, path);
  }
  return out;
}

// ---------------------------------------------------------------- shared helpers

namespace {

Status MkdirP(const std::string& path) {
  std::string cur;
  std::istringstream in(path);
  std::string part;
  if (!path.empty() && path[0] == '/') cur = "";
  while (std::getline(in, part, '/')) {
    if (part.empty()) continue;
    cur += "/" + part;
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
      return InternalError(ErrnoText("mkdir " + cur, errno));
  }
  return Status::Ok();
}

Status ValidateName(const std::string& name) {
  if (name.empty()) return InvalidArgument("cgroup name is empty");
  if (name.front() == '/' || name.back() == '/')
    return InvalidArgument("cgroup name \"" + name + "\" must be relative, without a trailing slash");
  std::istringstream in(name);
  std::string part;
  while (std::getline(in, part, '/')) {
    if (part.empty() || part == "." || part == "..")
      return InvalidArgument("cgroup name \"" + name + "\" has an empty, . or .. component");
  }
  return Status::Ok();
}

using SteadyTime = std::chrono::steady_clock::time_point;

// Naps between two looks at a group that is emptying: short at first (a killed process usually
// exits within a millisecond or two), longer when it takes a while.
class Backoff {
 public:
  void Nap() {
    std::this_thread::sleep_for(nap_);
    nap_ = std::min(nap_ * 2, std::chrono::microseconds(20000));
  }

 private:
  std::chrono::microseconds nap_{500};
};

// Removes a directory, retrying while the kernel finishes moving exiting tasks out (EBUSY).
Status RmdirBounded(const std::string& dir, SteadyTime until) {
  Backoff backoff;
  for (;;) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return Status::Ok();
    int err = errno;
    if (err != EBUSY || std::chrono::steady_clock::now() > until) {
      std::string left;
      if (auto t = ReadTextFile(dir + "/cgroup.procs"); t.ok())
        for (pid_t p : ParsePidList(*t)) left += (left.empty() ? "" : " ") + std::to_string(p);
      return Status(Code::kInternal, ErrnoText("rmdir " + dir + (left.empty() ? "" : " (pids still in it: " + left + ")"),
                                               err));
    }
    backoff.Nap();
  }
}

Status RmdirBounded(const std::string& dir) { return RmdirBounded(dir, std::chrono::steady_clock::now() + std::chrono::seconds(2)); }

// SIGKILL to every process listed in each directory's cgroup.procs until none lists one, then
// rmdir of each, all by `until`. A directory that is already gone counts as empty.
Status KillEmptyAndRemove(const std::string& name, const std::vector<std::string>& dirs, SteadyTime until,
                          const std::function<void()>& kill_fast) {
  Backoff backoff;
  for (;;) {
    if (kill_fast) kill_fast();
    std::string busy_dir, left;
    for (const auto& d : dirs) {
      auto t = ReadTextFile(d + "/cgroup.procs");
      if (!t.ok()) continue;  // removed already (or never created in this hierarchy)
      for (pid_t p : ParsePidList(*t)) {
        ::kill(p, SIGKILL);
        if (busy_dir.empty()) busy_dir = d;
        if (busy_dir == d) left += (left.empty() ? "" : " ") + std::to_string(p);
      }
    }
    if (busy_dir.empty()) break;
    if (std::chrono::steady_clock::now() > until)
      return Status(Code::kInternal, "cgroup " + name + ": processes still in " + busy_dir + " after SIGKILL: " + left);
    backoff.Nap();
  }
  Status first;
  for (const auto& d : dirs) {
    Status s = RmdirBounded(d, until);
    if (!s.ok() && first.ok()) first = Status(s.code(), "cgroup " + name + ": " + s.message());
  }
  return first;
}

// Where each version keeps the memory figures CgroupStats carries: the files and memory.stat keys
// differ, the meaning does not.
struct MemoryFiles {
  const char* current;  // required
  const char* peak;
  const char* oom_events;  // a flat-keyed file with "oom_kill N"
  const char* anon;        // memory.stat keys
  const char* file;
  const char* shmem;
  const char* inactive_file;
};
constexpr MemoryFiles kMemoryFilesV1{"memory.usage_in_bytes", "memory.max_usage_in_bytes", "memory.oom_control",
                                     "total_rss", "total_cache", "total_shmem", "total_inactive_file"};
constexpr MemoryFiles kMemoryFilesV2{"memory.current", "memory.peak", "memory.events",
                                     "anon", "file", "shmem", "inactive_file"};

Status ReadMemoryStats(const std::string& dir, const MemoryFiles& f, CgroupStats* st) {
  auto cur = ReadTextFile(dir + "/" + f.current);
  if (!cur.ok()) return cur.status();
  st->memory_current = std::atoll(cur->c_str());
  if (auto t = ReadTextFile(dir + "/" + f.peak); t.ok()) st->memory_peak = std::atoll(t->c_str());
  if (auto t = ReadTextFile(dir + "/memory.stat"); t.ok()) {
    auto kv = ParseFlatKeyed(*t);
    st->memory_anon = FlatValue(kv, f.anon).value_or(0);
    st->memory_file = FlatValue(kv, f.file).value_or(0);
    st->memory_shmem = FlatValue(kv, f.shmem).value_or(0);
    st->memory_inactive_file = FlatValue(kv, f.inactive_file).value_or(0);
  }
  if (auto t = ReadTextFile(dir + "/" + f.oom_events); t.ok())
    st->oom_kills = static_cast<uint64_t>(FlatValue(ParseFlatKeyed(*t), "oom_kill").value_or(0));
  return Status::Ok();
}

Status KillPids(Cgroup* cg, int sig) {
  // Repeat: a process may fork between our read of cgroup.procs and the signal.
  for (int round = 0; round < 4; ++round) {
    auto pids = cg->Pids();
    if (!pids.ok()) return pids.status();
    if (pids->empty()) return Status::Ok();
    for (pid_t p : *pids) ::kill(p, sig);
    if (sig != SIGKILL) return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace

Status Cgroup::KillAndRemove(std::chrono::milliseconds deadline) {
  const SteadyTime until = std::chrono::steady_clock::now() + deadline;
  Backoff backoff;
  for (;;) {
    KillAll(SIGKILL);
    auto pids = Pids();
    if (!pids.ok() || pids->empty()) break;
    if (std::chrono::steady_clock::now() > until) {
      std::string left;
      for (pid_t p : *pids) left += (left.empty() ? "" : " ") + std::to_string(p);
      return Status(Code::kInternal, "cgroup " + name() + ": processes still in it after SIGKILL: " + left);
    }
    backoff.Nap();
  }
  return Destroy();
}

namespace {

// ---------------------------------------------------------------- v1

class CgroupV1 : public Cgroup {
 public:
  // dirs: controller → absolute directory of this group in that controller's hierarchy.
  CgroupV1(std::string name, std::vector<std::pair<std::string, std::string>> dirs)
      : name_(std::move(name)), dirs_(std::move(dirs)) {}

  const std::string& name() const override { return name_; }
  CgroupVersion version() const override { return CgroupVersion::kV1; }

  std::string Dir(const std::string& ctrl) const {
    for (const auto& [c, d] : dirs_)
      if (c == ctrl) return d;
    return "";
  }

  Status SetLimits(const CgroupLimits& l) override {
    if (l.cpu_cores) {
      std::string cpu = Dir("cpu");
      auto period_text = ReadTextFile(cpu + "/cpu.cfs_period_us");
      if (!period_text.ok()) return period_text.status();
      long long period = std::atoll(period_text->c_str());
      if (period <= 0) period = 100000;
      long long quota = *l.cpu_cores <= 0 ? -1 : std::max<long long>(1000, std::llround(*l.cpu_cores * period));
      if (Status s = WriteTextFile(cpu + "/cpu.cfs_quota_us", std::to_string(quota)); !s.ok()) return s;
    }
    if (l.cpu_weight) {
      uint64_t shares = std::clamp<uint64_t>(static_cast<uint64_t>(*l.cpu_weight) * 1024 / 100, 2, 262144);
      if (Status s = WriteTextFile(Dir("cpu") + "/cpu.shares", std::to_string(shares)); !s.ok()) return s;
    }
    if (l.memory_bytes) {
      std::string mem = Dir("memory");
      std::string v = *l.memory_bytes <= 0 ? "-1" : std::to_string(*l.memory_bytes);
      std::string memsw = mem + "/memory.memsw.limit_in_bytes";
      bool has_memsw = PathExists(memsw);
      // memsw must stay >= the memory limit: raise memsw first, lower it last.
      int64_t cur = 0;
      if (auto t = ReadTextFile(mem + "/memory.limit_in_bytes"); t.ok()) cur = std::atoll(t->c_str());
      bool raising = *l.memory_bytes <= 0 || *l.memory_bytes >= cur;
      if (has_memsw && raising)
        if (Status s = WriteTextFile(memsw, v); !s.ok()) return s;
      if (Status s = WriteTextFile(mem + "/memory.limit_in_bytes", v); !s.ok()) return s;
      if (has_memsw && !raising)
        if (Status s = WriteTextFile(memsw, v); !s.ok()) return s;
      if (*l.memory_bytes > 0) WriteTextFile(mem + "/memory.swappiness", "0");  // best effort
    }
    std::string blkio = Dir("blkio");
    if (l.io_weight && !blkio.empty()) {
      // Scaled so each default maps to the other's: v2 io.weight 1..10000 (default 100), CFQ
      // blkio.weight 10..1000 (default 500), BFQ blkio.bfq.weight 1..1000 (default 100). Only where
      // the kernel offers the file.
      const std::pair<const char*, uint32_t> files[] = {
          {"/blkio.weight", std::clamp<uint32_t>(*l.io_weight * 5, 10, 1000)},
          {"/blkio.bfq.weight", std::clamp<uint32_t>(*l.io_weight, 1, 1000)}};
      for (const auto& [f, w] : files)
        if (PathExists(blkio + f))
          if (Status s = WriteTextFile(blkio + f, std::to_string(w)); !s.ok()) return s;
    }
    if (!l.io_devices.empty() && !blkio.empty()) {
      for (const auto& d : l.io_devices) {
        const std::pair<const char*, uint64_t> files[] = {
            {"/blkio.throttle.read_bps_device", d.read_bps},
            {"/blkio.throttle.write_bps_device", d.write_bps},
            {"/blkio.throttle.read_iops_device", d.read_iops},
            {"/blkio.throttle.write_iops_device", d.write_iops}};
        for (const auto& [f, v] : files)
          if (Status s = WriteTextFile(blkio + f, d.device + " " + std::to_string(v)); !s.ok()) return s;
      }
    }
    if (l.pids_max) {
      std::string pids = Dir("pids");
      if (!pids.empty()) {
        std::string v = *l.pids_max <= 0 ? "max" : std::to_string(*l.pids_max);
        if (Status s = WriteTextFile(pids + "/pids.max", v); !s.ok()) return s;
      }
    }
    if (l.net_priority && !Dir("net_prio").empty()) {
      // One "interface priority" line per write; interfaces of the agent's network namespace.
      std::error_code ec;
      for (const auto& e : std::filesystem::directory_iterator("/sys/class/net", ec)) {
        std::string line = e.path().filename().string() + " " + std::to_string(std::min<uint32_t>(*l.net_priority, 15));
        if (Status s = WriteTextFile(Dir("net_prio") + "/net_prio.ifpriomap", line); !s.ok()) return s;
      }
    }
    return Status::Ok();
  }

  std::vector<std::string> Unenforceable(const CgroupLimits& l) const override {
    std::vector<std::string> out;
    std::string blkio = Dir("blkio");
    if (l.io_weight && (blkio.empty() || (!PathExists(blkio + "/blkio.weight") && !PathExists(blkio + "/blkio.bfq.weight"))))
      out.push_back("IO weight: no blkio.weight or blkio.bfq.weight (cgroup v1 " +
                    std::string(blkio.empty() ? "without a blkio hierarchy" : "blkio without a proportional-weight scheduler") + ")");
    if (!l.io_devices.empty() && blkio.empty()) out.push_back("IO limits: no blkio hierarchy is mounted (cgroup v1)");
    if (l.net_priority && Dir("net_prio").empty())
      out.push_back("network priority: the net_prio controller is not mounted (cgroup v1)");
    return out;
  }

  Result<CgroupLimits> ReadLimits() override {
    CgroupLimits l;
    std::string cpu = Dir("cpu");
    auto quota = ReadTextFile(cpu + "/cpu.cfs_quota_us");
    if (!quota.ok()) return quota.status();
    auto period = ReadTextFile(cpu + "/cpu.cfs_period_us");
    if (!period.ok()) return period.status();
    long long q = std::atoll(quota->c_str()), p = std::atoll(period->c_str());
    l.cpu_cores = q > 0 && p > 0 ? static_cast<double>(q) / static_cast<double>(p) : 0.0;
    auto mem = ReadTextFile(Dir("memory") + "/memory.limit_in_bytes");
    if (!mem.ok()) return mem.status();
    // "Unlimited" reads back as a page-aligned huge number (PAGE_COUNTER_MAX pages).
    long long m = std::atoll(mem->c_str());
    l.memory_bytes = m >= (1LL << 60) ? 0 : m;
    return l;
  }

  Result<CgroupStats> ReadStats() override {
    CgroupStats st;
    if (Status s = ReadMemoryStats(Dir("memory"), kMemoryFilesV1, &st); !s.ok()) return s;
    std::string acct = Dir("cpuacct");
    if (!acct.empty())
      if (auto t = ReadTextFile(acct + "/cpuacct.usage"); t.ok()) st.cpu_usage_ns = std::strtoull(t->c_str(), nullptr, 10);
    std::string cpu = Dir("cpu");
    if (!cpu.empty())
      if (auto t = ReadTextFile(cpu + "/cpu.stat"); t.ok()) {
        auto kv = ParseFlatKeyed(*t);
        st.cpu_nr_periods = FlatValue(kv, "nr_periods").value_or(0);
        st.cpu_nr_throttled = FlatValue(kv, "nr_throttled").value_or(0);
        st.cpu_throttled_ns = FlatValue(kv, "throttled_time").value_or(0);
      }
    std::string blkio = Dir("blkio");
    if (!blkio.empty())
      if (auto t = ReadTextFile(blkio + "/blkio.throttle.io_service_bytes_recursive"); t.ok())
        ParseBlkioServiceBytes(*t, &st.io_read_bytes, &st.io_write_bytes);
    return st;
  }

  Status AddProcess(pid_t pid) override {
    for (const auto& f : ProcsFiles())
      if (Status s = WriteTextFile(f, std::to_string(pid)); !s.ok()) return s;
    return Status::Ok();
  }

  Result<std::vector<pid_t>> Pids() override {
    auto t = ReadTextFile(Dir("memory") + "/cgroup.procs");
    if (!t.ok()) return t.status();
    return ParsePidList(*t);
  }

  Status KillAll(int sig) override { return KillPids(this, sig); }

  std::vector<std::string> ProcsFiles() const override {
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& [c, d] : dirs_)
      if (seen.insert(d).second) out.push_back(d + "/cgroup.procs");
    return out;
  }

  Status Destroy() override {
    std::set<std::string> seen;
    Status first;
    for (const auto& [c, d] : dirs_) {
      if (!seen.insert(d).second) continue;
      Status s = RmdirBounded(d);
      if (!s.ok() && first.ok()) first = s;
    }
    return first;
  }

  // Every hierarchy is looked at, not only the memory one Pids() reads: a process left in any of
  // them keeps that directory busy.
  Status KillAndRemove(std::chrono::milliseconds deadline) override {
    // A process killed in a group out of CPU quota exits only when the group runs again (on
    // kernels that throttle whole groups); the group's limits no longer matter.
    if (std::string cpu = Dir("cpu"); !cpu.empty()) WriteTextFile(cpu + "/cpu.cfs_quota_us", "-1");
    std::vector<std::string> dirs;
    std::set<std::string> seen;
    for (const auto& [c, d] : dirs_)
      if (seen.insert(d).second) dirs.push_back(d);
    return KillEmptyAndRemove(name_, dirs, std::chrono::steady_clock::now() + deadline, nullptr);
  }

 private:
  std::string name_;
  std::vector<std::pair<std::string, std::string>> dirs_;
};

class ManagerV1 : public CgroupManager {
 public:
  // roots: controller → hierarchy mount directory.
  explicit ManagerV1(std::vector<std::pair<std::string, std::string>> roots) : roots_(std::move(roots)) {}
  CgroupVersion version() const override { return CgroupVersion::kV1; }

  std::vector<std::pair<std::string, std::string>> DirsFor(const std::string& name) const {
    std::vector<std::pair<std::string, std::string>> dirs;
    for (const auto& [c, r] : roots_) dirs.emplace_back(c, r + "/" + name);
    return dirs;
  }

  Result<std::unique_ptr<Cgroup>> Create(const std::string& name) override {
    if (Status s = ValidateName(name); !s.ok()) return s;
    auto dirs = DirsFor(name);
    if (PathExists(dirs.front().second))
      return Status(Code::kAlreadyExists, "cgroup " + dirs.front().second + " already exists");
    for (const auto& [c, d] : dirs) {
      auto slash = d.rfind('/');
      if (Status s = MkdirP(d.substr(0, slash)); !s.ok()) return s;
      if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) return InternalError(ErrnoText("mkdir " + d, errno));
    }
    return std::unique_ptr<Cgroup>(new CgroupV1(name, std::move(dirs)));
  }

  Result<std::unique_ptr<Cgroup>> Open(const std::string& name) override {
    if (Status s = ValidateName(name); !s.ok()) return s;
    auto dirs = DirsFor(name);
    for (const auto& [c, d] : dirs)
      if (!PathExists(d)) return NotFoundError("cgroup " + d + " does not exist");
    return std::unique_ptr<Cgroup>(new CgroupV1(name, std::move(dirs)));
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (Status s = ValidateName(from); !s.ok()) return s;
    if (Status s = ValidateName(to); !s.ok()) return s;
    auto parent = [](const std::string& n) { auto i = n.rfind('/'); return i == std::string::npos ? std::string() : n.substr(0, i); };
    if (parent(from) != parent(to)) return InvalidArgument("cgroup rename " + from + " -> " + to + " leaves the parent");
    auto src = DirsFor(from), dst = DirsFor(to);
    std::set<std::string> seen;
    std::vector<size_t> done;
    for (size_t i = 0; i < src.size(); ++i) {
      if (!seen.insert(src[i].second).second) continue;
      if (::rename(src[i].second.c_str(), dst[i].second.c_str()) != 0) {
        Status err = InternalError(ErrnoText("rename " + src[i].second + " -> " + dst[i].second, errno));
        for (size_t j : done) ::rename(dst[j].second.c_str(), src[j].second.c_str());
        return err;
      }
      done.push_back(i);
    }
    return Status::Ok();
  }

  Result<std::vector<std::string>> List(const std::string& parent) override {
    std::string mem;
    for (const auto& [c, r] : roots_)
      if (c == "memory") mem = r;
    auto subs = ListSubdirs(parent.empty() ? mem : mem + "/" + parent);
    if (!subs.ok()) return subs.status();
    std::vector<std::string> out;
    for (auto& s : *subs) out.push_back(parent.empty() ? s : parent + "/" + s);
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string Describe() const override {
    std::string d = "cgroup v1:";
    for (const auto& [c, r] : roots_) d += " " + c + "=" + r;
    return d;
  }

 private:
  std::vector<std::pair<std::string, std::string>> roots_;
};

// ---------------------------------------------------------------- v2

class CgroupV2 : public Cgroup {
 public:
  CgroupV2(std::string name, std::string dir) : name_(std::move(name)), dir_(std::move(dir)) {}
  const std::string& name() const override { return name_; }
  CgroupVersion version() const override { return CgroupVersion::kV2; }

  Status SetLimits(const CgroupLimits& l) override {
    if (l.cpu_cores) {
      long long period = 100000;
      std::string v = *l.cpu_cores <= 0
                          ? "max " + std::to_string(period)
                          : std::to_string(std::max<long long>(1000, std::llround(*l.cpu_cores * period))) + " " +
                                std::to_string(period);
      if (Status s = WriteTextFile(dir_ + "/cpu.max", v); !s.ok()) return s;
    }
    if (l.cpu_weight) {
      uint32_t w = std::clamp<uint32_t>(*l.cpu_weight, 1, 10000);
      if (Status s = WriteTextFile(dir_ + "/cpu.weight", std::to_string(w)); !s.ok()) return s;
    }
    if (l.memory_bytes) {
      std::string v = *l.memory_bytes <= 0 ? "max" : std::to_string(*l.memory_bytes);
      if (Status s = WriteTextFile(dir_ + "/memory.max", v); !s.ok()) return s;
      if (PathExists(dir_ + "/memory.swap.max"))
        if (Status s = WriteTextFile(dir_ + "/memory.swap.max", *l.memory_bytes <= 0 ? "max" : "0"); !s.ok()) return s;
    }
    if (l.io_weight && PathExists(dir_ + "/io.weight")) {
      uint32_t w = std::clamp<uint32_t>(*l.io_weight, 1, 10000);
      if (Status s = WriteTextFile(dir_ + "/io.weight", "default " + std::to_string(w)); !s.ok()) return s;
    }
    for (const auto& d : l.io_devices) {
      auto f = [](uint64_t v) { return v == 0 ? std::string("max") : std::to_string(v); };
      std::string v = d.device + " rbps=" + f(d.read_bps) + " wbps=" + f(d.write_bps) + " riops=" + f(d.read_iops) +
                      " wiops=" + f(d.write_iops);
      if (Status s = WriteTextFile(dir_ + "/io.max", v); !s.ok()) return s;
    }
    if (l.pids_max && PathExists(dir_ + "/pids.max")) {
      std::string v = *l.pids_max <= 0 ? "max" : std::to_string(*l.pids_max);
      if (Status s = WriteTextFile(dir_ + "/pids.max", v); !s.ok()) return s;
    }
    return Status::Ok();
  }

  std::vector<std::string> Unenforceable(const CgroupLimits& l) const override {
    std::vector<std::string> out;
    if (l.io_weight && !PathExists(dir_ + "/io.weight"))
      out.push_back("IO weight: no io.weight (the io controller is not enabled for this group, or its disks' "
                    "scheduler has no weights)");
    if (!l.io_devices.empty() && !PathExists(dir_ + "/io.max"))
      out.push_back("IO limits: no io.max (the io controller is not enabled for this group)");
    if (l.net_priority) out.push_back("network priority: cgroup v2 has no net_prio controller");
    return out;
  }

  Result<CgroupLimits> ReadLimits() override {
    CgroupLimits l;
    auto cpu = ReadTextFile(dir_ + "/cpu.max");
    if (!cpu.ok()) return cpu.status();
    std::optional<double> cores;
    if (!ParseCpuMax(*cpu, &cores)) return InternalError("malformed " + dir_ + "/cpu.max: " + *cpu);
    l.cpu_cores = cores.value_or(0.0);
    auto mem = ReadTextFile(dir_ + "/memory.max");
    if (!mem.ok()) return mem.status();
    l.memory_bytes = mem->rfind("max", 0) == 0 ? 0 : std::atoll(mem->c_str());
    return l;
  }

  Result<CgroupStats> ReadStats() override {
    CgroupStats st;
    if (Status s = ReadMemoryStats(dir_, kMemoryFilesV2, &st); !s.ok()) return s;
    if (auto t = ReadTextFile(dir_ + "/cpu.stat"); t.ok()) {
      auto kv = ParseFlatKeyed(*t);
      st.cpu_usage_ns = static_cast<uint64_t>(FlatValue(kv, "usage_usec").value_or(0)) * 1000;
      st.cpu_nr_periods = FlatValue(kv, "nr_periods").value_or(0);
      st.cpu_nr_throttled = FlatValue(kv, "nr_throttled").value_or(0);
      st.cpu_throttled_ns = static_cast<uint64_t>(FlatValue(kv, "throttled_usec").value_or(0)) * 1000;
    }
    if (auto t = ReadTextFile(dir_ + "/io.stat"); t.ok()) ParseIoStat(*t, &st.io_read_bytes, &st.io_write_bytes);
    return st;
  }

  Status AddProcess(pid_t pid) override { return WriteTextFile(dir_ + "/cgroup.procs", std::to_string(pid)); }

  Result<std::vector<pid_t>> Pids() override {
    auto t = ReadTextFile(dir_ + "/cgroup.procs");
    if (!t.ok()) return t.status();
    return ParsePidList(*t);
  }

  Status KillAll(int sig) override {
    if (sig == SIGKILL && PathExists(dir_ + "/cgroup.kill")) return WriteTextFile(dir_ + "/cgroup.kill", "1");
    return KillPids(this, sig);
  }

  std::vector<std::string> ProcsFiles() const override { return {dir_ + "/cgroup.procs"}; }
  Status Destroy() override { return RmdirBounded(dir_); }

  // cgroup.kill (Linux 5.14) kills the whole subtree at once, including processes forking
  // meanwhile; the per-pid kills of KillEmptyAndRemove cover older kernels.
  Status KillAndRemove(std::chrono::milliseconds deadline) override {
    if (PathExists(dir_ + "/cpu.max")) WriteTextFile(dir_ + "/cpu.max", "max");  // see the v1 version
    const bool has_kill = PathExists(dir_ + "/cgroup.kill");
    auto kill_all = [&] {
      if (has_kill) WriteTextFile(dir_ + "/cgroup.kill", "1");
    };
    return KillEmptyAndRemove(name_, {dir_}, std::chrono::steady_clock::now() + deadline, kill_all);
  }

 private:
  std::string name_;
  std::string dir_;
};

class ManagerV2 : public CgroupManager {
 public:
  explicit ManagerV2(std::string root) : root_(std::move(root)) {}
  CgroupVersion version() const override { return CgroupVersion::kV2; }

  Result<std::unique_ptr<Cgroup>> Create(const std::string& name) override {
    if (Status s = ValidateName(name); !s.ok()) return s;
    std::string dir = root_ + "/" + name;
    if (PathExists(dir)) return Status(Code::kAlreadyExists, "cgroup " + dir + " already exists");
    // Walk down from the root: create each ancestor and delegate the controllers to its children.
    std::string cur = root_;
    std::istringstream in(name);
    std::string part;
    while (std::getline(in, part, '/')) {
      if (Status s = EnableControllers(cur); !s.ok()) return s;
      cur += "/" + part;
      if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) return InternalError(ErrnoText("mkdir " + cur, errno));
    }
    return std::unique_ptr<Cgroup>(new CgroupV2(name, dir));
  }

  Result<std::unique_ptr<Cgroup>> Open(const std::string& name) override {
    if (Status s = ValidateName(name); !s.ok()) return s;
    std::string dir = root_ + "/" + name;
    if (!PathExists(dir)) return NotFoundError("cgroup " + dir + " does not exist");
    return std::unique_ptr<Cgroup>(new CgroupV2(name, dir));
  }

  Result<std::vector<std::string>> List(const std::string& parent) override {
    auto subs = ListSubdirs(parent.empty() ? root_ : root_ + "/" + parent);
    if (!subs.ok()) return subs.status();
    std::vector<std::string> out;
    for (auto& s : *subs) out.push_back(parent.empty() ? s : parent + "/" + s);
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string Describe() const override { return "cgroup v2: " + root_; }

 private:
  Status EnableControllers(const std::string& dir) {
    auto avail = ReadTextFile(dir + "/cgroup.controllers");
    if (!avail.ok()) return avail.status();
    auto enabled = ReadTextFile(dir + "/cgroup.subtree_control");
    for (const char* c : {"cpu", "memory", "io", "pids"}) {
      std::string want = c;
      std::istringstream a(*avail);
      std::string tok;
      bool present = false;
      while (a >> tok) present |= tok == want;
      if (!present) continue;
      if (enabled.ok()) {
        std::istringstream e(*enabled);
        bool on = false;
        while (e >> tok) on |= tok == want;
        if (on) continue;
      }
      if (Status s = WriteTextFile(dir + "/cgroup.subtree_control", "+" + want); !s.ok()) return s;
    }
    return Status::Ok();
  }
  std::string root_;
};

bool HasWord(const std::string& text, const std::string& w) {
  std::istringstream in(text);
  std::string tok;
  while (in >> tok)
    if (tok == w) return true;
  return false;
}

}  // namespace

Result<std::unique_ptr<CgroupManager>> DetectCgroups(const CgroupOptions& o) {
  const std::string& root = o.mount_root;
  auto controllers = ReadTextFile(root + "/cgroup.controllers");
  bool v2_ok = controllers.ok() && HasWord(*controllers, "memory") && HasWord(*controllers, "cpu");
  bool v1_ok = PathExists(root + "/memory/memory.limit_in_bytes") && PathExists(root + "/cpu/cpu.cfs_quota_us") &&
               PathExists(root + "/cpuacct/cpuacct.usage");
  CgroupVersion v;
  if (o.force_version) {
    v = *o.force_version;
    if (v == CgroupVersion::kV2 && !v2_ok)
      return Status(Code::kUnavailable, "cgroup v2 requested but " + root + "/cgroup.controllers lacks memory and cpu");
    if (v == CgroupVersion::kV1 && !v1_ok)
      return Status(Code::kUnavailable, "cgroup v1 requested but memory, cpu and cpuacct are not mounted under " + root);
  } else if (v2_ok) {
    v = CgroupVersion::kV2;
  } else if (v1_ok) {
    v = CgroupVersion::kV1;
  } else {
    return Status(Code::kUnavailable,
                  "no usable cgroups under " + root +
                      ": neither a unified hierarchy with the memory and cpu controllers nor v1 memory, cpu and "
                      "cpuacct hierarchies");
  }
  if (v == CgroupVersion::kV2) return std::unique_ptr<CgroupManager>(new ManagerV2(root));
  std::vector<std::pair<std::string, std::string>> roots;
  for (const char* c : {"memory", "cpu", "cpuacct", "blkio", "pids", "net_prio"}) {
    std::string dir = root + "/" + c;
    if (!PathExists(dir + "/cgroup.procs")) continue;
    char real[4096];
    std::string r = ::realpath(dir.c_str(), real) ? std::string(real) : dir;
    roots.emplace_back(c, r);
  }
  return std::unique_ptr<CgroupManager>(new ManagerV1(std::move(roots)));
}

}  // namespace prescient::exec
