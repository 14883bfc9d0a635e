// The operator's durable run history: one JSON line per finished CommandRun, in the documented
// history schema of the Command Analysis Module (src/analysis/history.h), so `prescient train
// --history <dir>/history.jsonl` reads the same file the operator writes. Each line carries two
// extra fields the analysis reader ignores: "run" {uid, namespace, name} (makes Append idempotent,
// so a reconcile that crashed after writing but before marking the run recorded does not count the
// run twice) and "prediction" (what was predicted, for the actual/predicted comparison).
//
// Crash safety: append-only, one write(2) per line, fdatasync before Append returns. A crash can
// only leave a torn last line (no trailing newline); Open truncates it away. Nothing is rewritten.
// Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/history.h"
#include "common/status.h"

namespace prescient::history {

struct PredictedProfile {
  double cpu_cores = 0;
  int64_t memory_bytes = 0;
  double duration_seconds = 0;
  std::string model_version;
  std::string source;
};

struct Observation {
  std::string run_uid;
  std::string ns, name;
  analysis::HistoryRecord record;  // time, command, user, context, usage, endpoints
  std::optional<PredictedProfile> prediction;
};

// The JSON line for an observation (the history schema plus "run" and "prediction").
nlohmann::json ObservationToJson(const Observation& o);

class HistoryStore {
 public:
  // Opens (creating the directory and file when missing) `<dir>/history.jsonl`, truncates a torn
  // last line and loads the set of run UIDs already recorded.
  static Result<std::unique_ptr<HistoryStore>> Open(const std::string& dir);
  ~HistoryStore();
  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  // Appends and fdatasyncs. A run UID already recorded is a no-op (returns OK, *appended=false).
  Status Append(const Observation& o, bool* appended = nullptr);
  bool Contains(const std::string& run_uid) const;
  size_t size() const;  // lines recorded
  // Lines appended since the store was opened (what the retrainer counts against its threshold).
  size_t appended_since_open() const;
  const std::string& path() const { return path_; }
  // How many bytes of a torn last line Open removed (0 normally).
  size_t truncated_bytes() const { return truncated_; }

 private:
  HistoryStore() = default;
  mutable std::mutex mu_;
  std::string path_;
  int fd_ = -1;
  std::unordered_set<std::string> uids_;
  size_t lines_ = 0;
  size_t appended_ = 0;
  size_t truncated_ = 0;
};

}  // namespace prescient::history
