// The agent's local journal: one small JSON file per run under <state-dir>/runs/<uid>.json, each
// write atomic and durable (write to a temp file, fsync, rename, fsync the directory). It is what
// makes "never run twice" survive kill -9: an entry is written *before* the claim is sent and
// before the command is launched, and a UID that has an entry is never claimed afresh. It also
// holds a final report until the API has acknowledged it, so a final status is never lost.
//
// Thread-compatible (the run controller owns it); the file layout is documented in
// docs/agent-protocol.md ("Agent state directory").
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/run.h"
#include "common/status.h"

namespace prescient::agent {

enum class JournalState {
  kClaiming,   // intent recorded; the claim PUT may or may not have reached the API
  kClaimed,    // the API accepted our claim; nothing launched yet
  kLaunching,  // about to create the cgroup and start the shim; the command may or may not run
  kRunning,    // the shim (pid) runs the command in `cgroup`
  kFinished,   // a final report is pending (result + usage below) until the API acknowledges it
  kReported,   // the API has the final status; kept as a tombstone so the UID is never claimed again
};
const char* JournalStateName(JournalState s);
bool ParseJournalState(const std::string& text, JournalState* out);

struct JournalEntry {
  std::string uid, ns, name;
  JournalState state = JournalState::kClaiming;
  // The claiming agent process (to recognise our own claim after a restart).
  int64_t agent_pid = 0;
  std::string boot_id;
  int64_t shim_pid = 0;
  std::string cgroup;
  std::string started_at;         // RFC 3339, when launched
  int64_t timeout_seconds = 0;
  std::optional<Allocation> applied;  // limits last applied to the cgroup
  std::optional<RunResult> result;    // kFinished/kReported
  std::optional<Usage> usage;         // last measured usage (final in kFinished)
  std::string updated_at;
  bool shadow = false;
  // The attempt claimed (the run's status.preemptions when claimed): a tombstone blocks only its
  // own attempt, so a run the operator re-queued after a preemption can be claimed again.
  int64_t attempt = 0;
};

nlohmann::json JournalEntryToJson(const JournalEntry& e);
Result<JournalEntry> JournalEntryFromJson(const nlohmann::json& j);

class Journal {
 public:
  virtual ~Journal() = default;
  // Durable when it returns Ok.
  virtual Status Put(const JournalEntry& e) = 0;
  virtual std::optional<JournalEntry> Get(const std::string& uid) const = 0;
  virtual std::vector<JournalEntry> All() const = 0;
  virtual Status Remove(const std::string& uid) = 0;
};

// The on-disk journal. Open() creates <dir>/runs (mode 0700) and loads every entry; an unreadable
// entry is reported in `corrupt()` and left in place for a human (its UID stays blocked).
class FileJournal : public Journal {
 public:
  static Result<std::unique_ptr<FileJournal>> Open(const std::string& state_dir);
  Status Put(const JournalEntry& e) override;
  std::optional<JournalEntry> Get(const std::string& uid) const override;
  std::vector<JournalEntry> All() const override;
  Status Remove(const std::string& uid) override;
  const std::vector<std::string>& corrupt() const { return corrupt_; }
  std::string RunsDir() const { return runs_dir_; }

 private:
  explicit FileJournal(std::string runs_dir) : runs_dir_(std::move(runs_dir)) {}
  std::string runs_dir_;
  std::vector<JournalEntry> entries_;
  std::vector<std::string> corrupt_;
};

// In memory, with fault injection for tests.
class MemoryJournal : public Journal {
 public:
  Status Put(const JournalEntry& e) override;
  std::optional<JournalEntry> Get(const std::string& uid) const override;
  std::vector<JournalEntry> All() const override;
  Status Remove(const std::string& uid) override;
  void FailWrites(bool fail) { fail_ = fail; }
  int writes() const { return writes_; }

 private:
  std::vector<JournalEntry> entries_;
  bool fail_ = false;
  int writes_ = 0;
};

// Writes `data` to `path` atomically and durably (temp file in the same directory, fsync, rename,
// fsync of the directory). Mode applies to the new file.
Status WriteFileDurably(const std::string& path, const std::string& data, int mode = 0600);
// The same without the fsyncs: readers never see a partial file, but a power loss may lose it.
Status WriteFileAtomically(const std::string& path, const std::string& data, int mode = 0600);

}  // namespace prescient::agent
