// The agent's decisions as pure functions of a snapshot (STYLE.md: decisions tested with tables):
// what to do with a CommandRun event, what to do with a journal entry found after a restart, when a
// usage report is due, and how an exit becomes a result. No I/O here; the RunController applies
// the decisions. Thread-safe (pure).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "agent/journal.h"
#include "agent/run.h"

namespace prescient::agent {

// Who this agent is.
struct AgentIdentity {
  std::string instance;
  std::string ns;
  std::vector<std::string> allowed_namespaces;  // empty = only `ns`
  std::string hostname;
  std::string boot_id;
  int64_t pid = 0;
};

enum class RunAction {
  kIgnore,        // not ours, not actionable, or already handled
  kRefuse,        // ours, but invalid or without allocation: write Failed/Refused
  kClaim,         // Allocated and unclaimed: journal, claim, start
  kApplyGrowth,   // running here and the allocation changed: set the live cgroup limits
  kShadow,        // a shadow execution was requested
  kCancel,        // running here and the run is being deleted: stop the command
  kStop,          // running here and the operator asked to stop it (status.stopRequest): preempt it
};
const char* RunActionName(RunAction a);

struct RunDecision {
  RunAction action = RunAction::kIgnore;
  std::string reason;  // why (logged; for kRefuse also the status message)
};

// What we know locally about a UID.
struct LocalRunState {
  bool journaled = false;      // any journal entry (including tombstones): never claim afresh
  bool active = false;         // a live run supervised by this process
  std::optional<Allocation> applied;  // limits currently on its cgroup
  bool shadow_active = false;
  bool stopping = false;       // a stop request is being carried out (SIGTERM sent)
  // The journal entry's attempt and whether that attempt is over (its final report acknowledged):
  // a newer attempt (status.preemptions) of a re-queued run may then be claimed.
  int64_t journal_attempt = 0;
  bool journal_reported = false;
};

// Decides on an event for a CommandRun that parsed (and validated). `parse_error` is set instead
// when ParseRun failed but metadata was readable; `run` then carries only metadata and status.phase
// is unknown.
RunDecision DecideRun(const RunView& run, const LocalRunState& local, const AgentIdentity& self);
RunDecision DecideInvalidRun(const RunView& metadata_only, const std::string& parse_error, const LocalRunState& local,
                             const AgentIdentity& self, const std::string& phase);

// After a restart, for one journal entry.
enum class RecoveryAction {
  kForget,        // nothing to do; drop (or keep as tombstone) the entry
  kResumeClaim,   // the claim may not have happened; the run is still unclaimed: claim it now
  kLaunch,        // our previous process claimed it but never launched: launch now
  kReattach,      // the command is still running in its cgroup: supervise it again
  kFinalize,      // the command exited while we were away: report from its exit record
  kReportLost,    // we cannot know what happened: report Failed/Lost
  kResendFinal,   // a final report is pending in the journal: send it
  kKeepTombstone,
};
const char* RecoveryActionName(RecoveryAction a);

struct RecoveryInput {
  JournalEntry entry;
  std::optional<RunView> api;  // nullopt = NotFound in the API
  bool cgroup_exists = false;
  bool process_alive = false;  // the shim or any process in the run's cgroup still lives
  bool exit_record = false;    // the shim's exit record exists in the state dir
  bool launch_recorded = false;  // the launch record exists: the command may have started
};

struct RecoveryDecision {
  RecoveryAction action = RecoveryAction::kForget;
  std::string reason;
};
RecoveryDecision DecideRecovery(const RecoveryInput& in, const AgentIdentity& self);

// Rate limit for non-final status writes: at most one per `interval` per run, except the first.
bool ReportDue(std::optional<std::chrono::steady_clock::time_point> last, std::chrono::steady_clock::time_point now,
               std::chrono::milliseconds interval, bool forced);

// Whether a usage report would tell the operator something new: any peak or counter moved, or
// current memory moved by more than 1 %. Unchanged usage is re-reported only as a keep-alive.
bool UsageChanged(const Usage& last_reported, const Usage& now);

// The shim's record of how the command ended.
struct ExitRecord {
  bool exited = false;   // true: exit_code valid; false: killed by `signal`
  int exit_code = 0;
  int signal = 0;
  std::string finished_at;
  std::string error;     // the shim could not start the command (exec failed, bad user, ...)
  int64_t max_rss_bytes = 0;  // wait4's ru_maxrss of the command (GNU time's %M), when known
  std::string output_tail;    // the last bytes of output, as the shim saw them
};

// The result of a run stopped at the operator's request (status.stopRequest): reason Preempted,
// whatever the exit was (the exit code/signal and OOM flag are kept for the record), so the
// operator re-queues it. `message` says who asked.
RunResult PreemptedResult(RunResult from_exit, const std::string& message);
std::string StopMessage(const StopRequest& r);

// Turns an exit into a result. `oom_kills` is the cgroup's OOM kill counter; `timed_out` says the
// agent killed it for exceeding timeoutSeconds.
RunResult ResultFromExit(const ExitRecord& exit, int64_t oom_kills, bool timed_out);

}  // namespace prescient::agent
