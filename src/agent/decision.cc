#include "agent/decision.h"

#include <algorithm>
#include <cmath>
#include <csignal>

namespace prescient::agent {
namespace {

bool NamespaceAllowed(const std::string& ns, const AgentIdentity& self) {
  if (ns != self.ns) return false;
  if (self.allowed_namespaces.empty()) return true;
  return std::find(self.allowed_namespaces.begin(), self.allowed_namespaces.end(), ns) !=
         self.allowed_namespaces.end();
}

bool BoundToUs(const RunView& run, const AgentIdentity& self) {
  auto it = run.labels.find(kInstanceLabel);
  return it != run.labels.end() && it->second == self.instance;
}

}  // namespace

const char* RunActionName(RunAction a) {
  switch (a) {
    case RunAction::kIgnore: return "Ignore";
    case RunAction::kRefuse: return "Refuse";
    case RunAction::kClaim: return "Claim";
    case RunAction::kApplyGrowth: return "ApplyGrowth";
    case RunAction::kShadow: return "Shadow";
    case RunAction::kCancel: return "Cancel";
    case RunAction::kStop: return "Stop";
  }
  return "?";
}

const char* RecoveryActionName(RecoveryAction a) {
  switch (a) {
    case RecoveryAction::kForget: return "Forget";
    case RecoveryAction::kResumeClaim: return "ResumeClaim";
    case RecoveryAction::kLaunch: return "Launch";
    case RecoveryAction::kReattach: return "Reattach";
    case RecoveryAction::kFinalize: return "Finalize";
    case RecoveryAction::kReportLost: return "ReportLost";
    case RecoveryAction::kResendFinal: return "ResendFinal";
    case RecoveryAction::kKeepTombstone: return "KeepTombstone";
  }
  return "?";
}

RunDecision DecideRun(const RunView& run, const LocalRunState& local, const AgentIdentity& self) {
  if (!BoundToUs(run, self)) return {RunAction::kIgnore, "not labelled for instance " + self.instance};
  if (!NamespaceAllowed(run.ns, self)) return {RunAction::kIgnore, "namespace " + run.ns + " is not allowed"};
  if (local.active) {
    if (run.deleting) return {RunAction::kCancel, "the CommandRun is being deleted"};
    if (run.stop_request && !local.stopping) return {RunAction::kStop, StopMessage(*run.stop_request)};
    if (run.allocation && local.applied && !(*run.allocation == *local.applied))
      return {RunAction::kApplyGrowth, "allocation changed while running"};
    return {RunAction::kIgnore, "running here; nothing changed"};
  }
  if (run.deleting) return {RunAction::kIgnore, "being deleted"};
  if (run.phase == "Shadowing") {
    if (run.shadow_requested && !local.shadow_active) return {RunAction::kShadow, "shadow execution requested"};
    return {RunAction::kIgnore, local.shadow_active ? "shadow already running" : "no shadow requested"};
  }
  if (run.Terminal()) return {RunAction::kIgnore, "already " + run.phase};
  if (run.claim) {
    // Someone (maybe a previous incarnation of us) claimed it: never start it again from an event.
    return {RunAction::kIgnore, "already claimed by " + run.claim->instance + " pid " + std::to_string(run.claim->pid)};
  }
  if (local.journaled && !(local.journal_reported && run.preemptions > local.journal_attempt))
    return {RunAction::kIgnore, "already in the local journal; never claimed twice"};
  // (A reported attempt older than status.preemptions: the operator re-queued the run after our
  // Preempted report, and this is a fresh attempt.)
  if (run.stop_request) return {RunAction::kIgnore, "a stop is requested; not starting it"};
  if (run.phase == "Allocated") {
    if (!run.allocation) return {RunAction::kRefuse, "phase Allocated without status.allocation: refusing to run without limits"};
    return {RunAction::kClaim, "allocated and unclaimed"};
  }
  if (run.phase == "Running") {
    // Running without a claim is not something the operator writes; running it would bypass the claim.
    return {RunAction::kRefuse, "phase Running without status.agent: not claimed through the protocol"};
  }
  return {RunAction::kIgnore, "phase " + (run.phase.empty() ? std::string("<none>") : run.phase) + " is not for the agent"};
}

RunDecision DecideInvalidRun(const RunView& md, const std::string& parse_error, const LocalRunState& local,
                             const AgentIdentity& self, const std::string& phase) {
  if (!BoundToUs(md, self)) return {RunAction::kIgnore, "not labelled for instance " + self.instance};
  if (!NamespaceAllowed(md.ns, self)) return {RunAction::kIgnore, "namespace " + md.ns + " is not allowed"};
  if (local.active || local.journaled) return {RunAction::kIgnore, "already handled here; not refusing mid-flight"};
  if (phase == "Succeeded" || phase == "Failed") return {RunAction::kIgnore, "already " + phase};
  // Only refuse when the operator handed it to us; before that the operator's own validation owns it.
  if (phase == "Allocated" || phase == "Running" || phase == "Shadowing")
    return {RunAction::kRefuse, "invalid CommandRun: " + parse_error};
  return {RunAction::kIgnore, "invalid, but phase " + phase + " is not for the agent: " + parse_error};
}

RecoveryDecision DecideRecovery(const RecoveryInput& in, const AgentIdentity& self) {
  const JournalEntry& e = in.entry;
  // The operator re-queued the run after our Preempted report: our attempt is over (whatever the
  // journal says, the report reached the API) and nothing of it may be written over the new one.
  if (in.api && in.api->preemptions > e.attempt && e.state != JournalState::kReported) {
    return {RecoveryAction::kForget, "attempt " + std::to_string(e.attempt) + " is over: the run was re-queued as attempt " +
                                         std::to_string(in.api->preemptions)};
  }
  auto claimed_by_previous_us = [&]() {
    return in.api && in.api->claim && in.api->claim->instance == self.instance &&
           in.api->claim->pid == e.agent_pid && in.api->claim->boot_id == e.boot_id;
  };
  switch (e.state) {
    case JournalState::kReported:
      if (!in.api) return {RecoveryAction::kForget, "reported and deleted from the API"};
      return {RecoveryAction::kKeepTombstone, "reported; kept so the UID is never claimed again"};
    case JournalState::kFinished:
      if (!in.api) return {RecoveryAction::kForget, "final report pending but the CommandRun is gone"};
      return {RecoveryAction::kResendFinal, "final report not yet acknowledged"};
    case JournalState::kClaiming:
    case JournalState::kClaimed: {
      // The launch marks, in the order a launch makes them: the run's cgroup (created or renamed
      // from a warm spare before the command can start; removed only after the final report is
      // journaled), the launch record, a live process, the shim's exit record. Any of them: the
      // command may have started, so the same rules as Launching.
      if (in.cgroup_exists || in.launch_recorded || in.process_alive || in.exit_record) {
        RecoveryInput launching = in;
        launching.entry.state = JournalState::kLaunching;
        return DecideRecovery(launching, self);
      }
      if (!in.api) return {RecoveryAction::kForget, "claimed but the CommandRun is gone"};
      if (in.api->Terminal()) return {RecoveryAction::kForget, "already " + in.api->phase};
      if (!in.api->claim) {
        if (in.api->phase == "Allocated" && e.state == JournalState::kClaiming)
          return {RecoveryAction::kResumeClaim, "the claim never reached the API; still Allocated"};
        return {RecoveryAction::kForget, "unclaimed in phase " + in.api->phase};
      }
      if (claimed_by_previous_us()) {
        // The marks above live in memory-backed cgroupfs and unsynced files: after a reboot their
        // absence proves nothing, so a run claimed before it is never started again.
        if (e.boot_id != self.boot_id)
          return {RecoveryAction::kReportLost,
                  "claimed before the guest restarted; whether the command started is unknown"};
        return {RecoveryAction::kLaunch, "claimed by our previous process, which never launched it"};
      }
      return {RecoveryAction::kForget, "claimed by another agent (pid " + std::to_string(in.api->claim->pid) + ")"};
    }
    case JournalState::kLaunching:
    case JournalState::kRunning: {
      if (in.exit_record) {
        if (!in.api) return {RecoveryAction::kForget, "exited while we were away; the CommandRun is gone"};
        return {RecoveryAction::kFinalize, "exited while we were away; the shim recorded how"};
      }
      if (in.process_alive) return {RecoveryAction::kReattach, "still running in its cgroup"};
      if (!in.api) return {RecoveryAction::kForget, "gone from the API and not running"};
      if (e.state == JournalState::kLaunching)
        return {RecoveryAction::kReportLost, "the agent died while launching; the command may not have started"};
      return {RecoveryAction::kReportLost, "the process is gone and left no exit record"};
    }
  }
  return {RecoveryAction::kForget, "unknown state"};
}

bool ReportDue(std::optional<std::chrono::steady_clock::time_point> last, std::chrono::steady_clock::time_point now,
               std::chrono::milliseconds interval, bool forced) {
  if (!last) return true;
  if (now - *last >= interval) return true;
  // Forced (growth applied, dependencies ready) still respects a floor so a flapping operator
  // cannot turn the agent into a write storm.
  return forced && now - *last >= interval / 5;
}

bool UsageChanged(const Usage& a, const Usage& b) {
  Usage x = a, y = b;
  x.memory_current_bytes = y.memory_current_bytes = 0;
  x.cpu_seconds = y.cpu_seconds = 0;
  if (!(x == y)) return true;
  if (b.cpu_seconds - a.cpu_seconds > 0.01) return true;
  double cur = static_cast<double>(a.memory_current_bytes);
  return std::abs(static_cast<double>(b.memory_current_bytes) - cur) > 0.01 * std::max(cur, 1.0);
}

std::string StopMessage(const StopRequest& r) {
  return "stopped at the operator's request (" + r.reason + ")" +
         (r.requested_by.empty() ? std::string() : ": preempted by higher-priority run " + r.requested_by);
}

RunResult PreemptedResult(RunResult r, const std::string& message) {
  r.reason = "Preempted";
  r.message = message;
  return r;
}

RunResult ResultFromExit(const ExitRecord& exit, int64_t oom_kills, bool timed_out) {
  RunResult r;
  r.finished_at = exit.finished_at;
  if (!exit.error.empty()) {
    r.reason = "Error";
    r.exit_code = exit.exited ? exit.exit_code : 127;
    r.message = exit.error;
    return r;
  }
  if (exit.exited) {
    r.exit_code = exit.exit_code;
    r.reason = exit.exit_code == 0 ? "Completed" : "Error";
  } else {
    r.signal = exit.signal;
    r.exit_code = 128 + exit.signal;
    r.reason = "Error";
  }
  if (timed_out) {
    r.reason = "Timeout";
    r.message = "killed after exceeding spec.timeoutSeconds";
  } else if (oom_kills > 0 && ((!exit.exited && exit.signal == SIGKILL) || (exit.exited && exit.exit_code == 128 + SIGKILL))) {
    // A shell reports its OOM-killed child as exit 137.
    r.oom_killed = true;
    r.reason = "OOMKilled";
    r.message = "killed by the kernel's OOM killer at the allocation's memory limit";
  } else if (oom_kills > 0) {
    // A child was OOM-killed but the command survived (or exited on its own): say so, keep the exit.
    r.oom_killed = true;
    r.message = std::to_string(oom_kills) + " process(es) OOM-killed inside the run";
  }
  return r;
}

}  // namespace prescient::agent
