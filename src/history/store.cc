#include "history/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace prescient::history {

namespace {
Status Errno(const std::string& what, const std::string& path) {
  return Status(Code::kInternal, what + " " + path + ": " + std::strerror(errno));
}
}  // namespace

nlohmann::json ObservationToJson(const Observation& o) {
  nlohmann::json j = analysis::HistoryRecordToJson(o.record);
  j["run"] = {{"uid", o.run_uid}, {"namespace", o.ns}, {"name", o.name}};
  if (o.prediction) {
    j["prediction"] = {{"cpu_cores", o.prediction->cpu_cores},
                       {"memory_bytes", o.prediction->memory_bytes},
                       {"duration_seconds", o.prediction->duration_seconds},
                       {"model_version", o.prediction->model_version},
                       {"source", o.prediction->source}};
  }
  return j;
}

Result<std::unique_ptr<HistoryStore>> HistoryStore::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status(Code::kInternal, "create history directory " + dir + ": " + ec.message());
  std::unique_ptr<HistoryStore> s(new HistoryStore());
  s->path_ = (std::filesystem::path(dir) / "history.jsonl").string();

  // Read what is there: count lines, collect UIDs, find where the last complete line ends.
  uint64_t good_end = 0;
  {
    std::ifstream in(s->path_, std::ios::binary);
    if (in) {
      std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      size_t pos = 0;
      while (pos < content.size()) {
        size_t nl = content.find('\n', pos);
        if (nl == std::string::npos) break;  // torn tail
        std::string_view line(content.data() + pos, nl - pos);
        pos = nl + 1;
        good_end = pos;
        if (line.empty()) continue;
        ++s->lines_;
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_object() && j.contains("run") && j["run"].is_object()) {
          s->uids_.insert(j["run"].value("uid", ""));
        }
      }
      s->truncated_ = content.size() - good_end;
    }
  }
  s->fd_ = ::open(s->path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (s->fd_ < 0) return Errno("open", s->path_);
  if (s->truncated_ > 0) {
    // A crash mid-append left half a line: drop it (the run was not marked recorded, so its
    // reconcile appends it again).
    if (::ftruncate(s->fd_, static_cast<off_t>(good_end)) != 0) return Errno("truncate torn line of", s->path_);
    if (::fdatasync(s->fd_) != 0) return Errno("fdatasync", s->path_);
  }
  if (::lseek(s->fd_, 0, SEEK_END) < 0) return Errno("seek", s->path_);
  // Make the file's directory entry durable too (a new file must survive a crash).
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return s;
}

HistoryStore::~HistoryStore() {
  if (fd_ >= 0) ::close(fd_);
}

Status HistoryStore::Append(const Observation& o, bool* appended) {
  if (appended) *appended = false;
  if (o.run_uid.empty()) return InvalidArgument("history observation without a run uid");
  std::string line = ObservationToJson(o).dump() + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  if (uids_.count(o.run_uid)) return Status::Ok();
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("append to", path_);
    }
    off += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return Errno("fdatasync", path_);
  uids_.insert(o.run_uid);
  ++lines_;
  ++appended_;
  if (appended) *appended = true;
  return Status::Ok();
}

bool HistoryStore::Contains(const std::string& run_uid) const {
  std::lock_guard<std::mutex> lock(mu_);
  return uids_.count(run_uid) > 0;
}
size_t HistoryStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}
size_t HistoryStore::appended_since_open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return appended_;
}

}  // namespace prescient::history
