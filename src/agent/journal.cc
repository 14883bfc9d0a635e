#include "agent/journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace prescient::agent {
namespace {

using nlohmann::json;

constexpr const char* kStateNames[] = {"Claiming", "Claimed", "Launching", "Running", "Finished", "Reported"};

Status Errno(const std::string& what, const std::string& path) {
  return InternalError(what + " " + path + ": " + std::strerror(errno));
}

Status MkdirP(const std::string& path, int mode) {
  std::string cur;
  std::stringstream ss(path);
  std::string part;
  if (!path.empty() && path[0] == '/') cur = "/";
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    cur += part + "/";
    if (mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) return Errno("cannot create directory", cur);
  }
  return Status::Ok();
}

json AllocationJson(const Allocation& a) {
  json j = {{"cpuMilli", a.cpu_milli}, {"memoryBytes", a.memory_bytes}, {"networkPriority", a.network_priority},
            {"diskReadBps", a.disk_read_bps}, {"diskWriteBps", a.disk_write_bps}};
  if (a.io_weight) j["ioWeight"] = *a.io_weight;
  return j;
}

Allocation AllocationFromJson(const json& j) {
  Allocation a;
  a.cpu_milli = j.at("cpuMilli").get<int64_t>();
  a.memory_bytes = j.at("memoryBytes").get<int64_t>();
  a.network_priority = j.value("networkPriority", "Normal");
  a.disk_read_bps = j.value("diskReadBps", int64_t{0});
  a.disk_write_bps = j.value("diskWriteBps", int64_t{0});
  if (j.contains("ioWeight")) a.io_weight = j["ioWeight"].get<uint32_t>();
  return a;
}

}  // namespace

const char* JournalStateName(JournalState s) { return kStateNames[static_cast<int>(s)]; }

bool ParseJournalState(const std::string& text, JournalState* out) {
  for (int i = 0; i < 6; ++i) {
    if (text == kStateNames[i]) {
      *out = static_cast<JournalState>(i);
      return true;
    }
  }
  return false;
}

json JournalEntryToJson(const JournalEntry& e) {
  json j = {{"uid", e.uid},
            {"namespace", e.ns},
            {"name", e.name},
            {"state", JournalStateName(e.state)},
            {"agentPid", e.agent_pid},
            {"bootID", e.boot_id},
            {"shimPid", e.shim_pid},
            {"cgroup", e.cgroup},
            {"startedAt", e.started_at},
            {"timeoutSeconds", e.timeout_seconds},
            {"updatedAt", e.updated_at},
            {"shadow", e.shadow}};
  if (e.attempt) j["attempt"] = e.attempt;
  if (e.applied) j["applied"] = AllocationJson(*e.applied);
  if (e.result) j["result"] = ResultToJson(*e.result);
  if (e.usage) j["usage"] = UsageToJson(*e.usage, Clock::TimePoint{});
  return j;
}

Result<JournalEntry> JournalEntryFromJson(const json& j) {
  try {
    JournalEntry e;
    e.uid = j.at("uid").get<std::string>();
    if (!ValidUid(e.uid)) return InvalidArgument("journal entry: bad uid \"" + e.uid + "\"");
    e.ns = j.at("namespace").get<std::string>();
    e.name = j.at("name").get<std::string>();
    if (!ParseJournalState(j.at("state").get<std::string>(), &e.state))
      return InvalidArgument("journal entry " + e.uid + ": unknown state " + j.at("state").dump());
    e.agent_pid = j.value("agentPid", int64_t{0});
    e.boot_id = j.value("bootID", "");
    e.shim_pid = j.value("shimPid", int64_t{0});
    e.cgroup = j.value("cgroup", "");
    e.started_at = j.value("startedAt", "");
    e.timeout_seconds = j.value("timeoutSeconds", int64_t{0});
    e.updated_at = j.value("updatedAt", "");
    e.shadow = j.value("shadow", false);
    e.attempt = j.value("attempt", int64_t{0});
    if (j.contains("applied"))
      e.applied = AllocationFromJson(j["applied"]);
    if (j.contains("result")) {
      auto r = ResultFromJson(j["result"]);
      if (!r.ok()) return r.status();
      e.result = *r;
    }
    if (j.contains("usage")) {
      auto u = UsageFromJson(j["usage"]);
      if (!u.ok()) return u.status();
      e.usage = *u;
    }
    return e;
  } catch (const std::exception& ex) {
    return InvalidArgument(std::string("journal entry: ") + ex.what());
  }
}

namespace {
Status WriteFile(const std::string& path, const std::string& data, int mode, bool durable);
}  // namespace

Status WriteFileDurably(const std::string& path, const std::string& data, int mode) {
  return WriteFile(path, data, mode, true);
}

Status WriteFileAtomically(const std::string& path, const std::string& data, int mode) {
  return WriteFile(path, data, mode, false);
}

namespace {
Status WriteFile(const std::string& path, const std::string& data, int mode, bool durable) {
  std::string dir = path.substr(0, path.rfind('/'));
  if (dir.empty()) dir = "/";
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Errno("cannot create", tmp);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status st = Errno("cannot write", tmp);
      close(fd);
      unlink(tmp.c_str());
      return st;
    }
    off += static_cast<size_t>(n);
  }
  // fdatasync suffices for a new file: it flushes the data and the size; the name is made durable
  // by the directory's fsync below.
  if (durable && fdatasync(fd) != 0) {
    Status st = Errno("cannot fsync", tmp);
    close(fd);
    unlink(tmp.c_str());
    return st;
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    Status st = Errno("cannot rename into", path);
    unlink(tmp.c_str());
    return st;
  }
  if (!durable) return Status::Ok();
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Errno("cannot open directory", dir);
  int rc = fsync(dfd);
  close(dfd);
  if (rc != 0) return Errno("cannot fsync directory", dir);
  return Status::Ok();
}
}  // namespace

Result<std::unique_ptr<FileJournal>> FileJournal::Open(const std::string& state_dir) {
  std::string runs = state_dir + "/runs";
  if (auto st = MkdirP(runs, 0700); !st.ok()) return st;
  std::unique_ptr<FileJournal> j(new FileJournal(runs));
  DIR* d = opendir(runs.c_str());
  if (!d) return Errno("cannot read journal directory", runs);
  while (dirent* ent = readdir(d)) {
    std::string n = ent->d_name;
    if (n.size() < 6 || n.substr(n.size() - 5) != ".json") continue;
    // The host layer's launch specs and exit records share the directory.
    if (n.find('.') != n.size() - 5) continue;
    std::string path = runs + "/" + n;
    std::ifstream in(path);
    std::stringstream buf;
    buf << in.rdbuf();
    json parsed = json::parse(buf.str(), nullptr, false);
    auto e = parsed.is_discarded() ? Result<JournalEntry>(InvalidArgument("not JSON")) : JournalEntryFromJson(parsed);
    if (!e.ok() || e->uid + ".json" != n) {
      j->corrupt_.push_back(path + ": " + (e.ok() ? "uid does not match the file name" : e.status().message()));
      continue;
    }
    j->entries_.push_back(*e);
  }
  closedir(d);
  std::sort(j->entries_.begin(), j->entries_.end(),
            [](const JournalEntry& a, const JournalEntry& b) { return a.uid < b.uid; });
  return j;
}

Status FileJournal::Put(const JournalEntry& e) {
  if (!ValidUid(e.uid)) return InvalidArgument("journal: refusing entry with invalid uid \"" + e.uid + "\"");
  if (auto st = WriteFileDurably(runs_dir_ + "/" + e.uid + ".json", JournalEntryToJson(e).dump()); !st.ok())
    return st;
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const JournalEntry& x) { return x.uid == e.uid; });
  if (it == entries_.end())
    entries_.push_back(e);
  else
    *it = e;
  return Status::Ok();
}

std::optional<JournalEntry> FileJournal::Get(const std::string& uid) const {
  for (auto& e : entries_)
    if (e.uid == uid) return e;
  return std::nullopt;
}

std::vector<JournalEntry> FileJournal::All() const { return entries_; }

Status FileJournal::Remove(const std::string& uid) {
  if (!ValidUid(uid)) return InvalidArgument("journal: invalid uid \"" + uid + "\"");
  std::string path = runs_dir_ + "/" + uid + ".json";
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("cannot remove", path);
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [&](const JournalEntry& x) { return x.uid == uid; }),
                 entries_.end());
  return Status::Ok();
}

Status MemoryJournal::Put(const JournalEntry& e) {
  if (fail_) return InternalError("injected journal write failure");
  ++writes_;
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const JournalEntry& x) { return x.uid == e.uid; });
  if (it == entries_.end())
    entries_.push_back(e);
  else
    *it = e;
  return Status::Ok();
}

std::optional<JournalEntry> MemoryJournal::Get(const std::string& uid) const {
  for (auto& e : entries_)
    if (e.uid == uid) return e;
  return std::nullopt;
}

std::vector<JournalEntry> MemoryJournal::All() const { return entries_; }

Status MemoryJournal::Remove(const std::string& uid) {
  if (fail_) return InternalError("injected journal write failure");
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [&](const JournalEntry& x) { return x.uid == uid; }),
                 entries_.end());
  return Status::Ok();
}

}  // namespace prescient::agent
