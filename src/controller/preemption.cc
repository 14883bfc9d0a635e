#include "controller/preemption.h"

#include <algorithm>

#include "api/constants.h"

namespace prescient::controller {

const char* VictimActionName(VictimAction a) {
  switch (a) {
    case VictimAction::kNone: return "None";
    case VictimAction::kAwaitingStop: return "AwaitingStop";
    case VictimAction::kTakeBack: return "TakeBack";
    case VictimAction::kRequestStop: return "RequestStop";
    case VictimAction::kConflict: return "Conflict";
  }
  return "None";
}

VictimDecision DecideVictim(const api::CommandRun& victim) {
  const api::CommandRunStatus& st = victim.status;
  const std::string& name = victim.metadata.name;
  // Already released (finished, preempted by another run first, placed again): nothing held.
  if (!api::HoldsAllocation(st.phase) && st.phase != api::RunPhase::kAllocating) {
    return {VictimAction::kNone, name + " holds no allocation (phase " + api::RunPhaseName(st.phase) + ")"};
  }
  bool started = st.agent.has_value() || st.phase == api::RunPhase::kRunning;
  if (!started) return {VictimAction::kTakeBack, name + " has not started: its allocation is taken back"};
  if (!victim.spec.AllowPreemptionWhileRunning()) {
    return {VictimAction::kConflict,
            "preemption victim " + name + " started meanwhile and does not allow preemption while running"};
  }
  if (st.stop_request) return {VictimAction::kAwaitingStop, "the agent was already asked to stop " + name};
  return {VictimAction::kRequestStop, name + " is running and allows preemption while running: asking its agent to stop it"};
}

api::CommandRunStatus StatusWithStopRequest(const api::CommandRun& victim, const std::string& by, api::Time now,
                                            int32_t grace_period_seconds) {
  api::CommandRunStatus st = victim.status;
  api::StopRequest r;
  r.reason = api::kReasonPreempted;
  r.requested_by = by;
  r.requested_at = now;
  r.grace_period_seconds = std::clamp(grace_period_seconds, 0, api::kMaxStopGracePeriodSeconds);
  st.stop_request = r;
  return st;
}

api::CommandRunStatus StatusAfterTakeBack(const api::CommandRun& victim, const std::string& by, api::Time now) {
  api::CommandRunStatus st = victim.status;
  st.phase = api::RunPhase::kQueued;
  st.allocation.reset();
  api::QueueStatus q = st.queue.value_or(api::QueueStatus{});
  q.reason = api::kReasonPreempted;
  q.message = "preempted by higher-priority run " + by;
  q.preempted_by = by;
  q.position = std::max(q.position, 1);  // waiting again, behind its preemptor; its next placement refines it
  if (!q.since) q.since = now;
  st.queue = q;
  api::SetCondition(&st.conditions, {api::kConditionAllocated, api::ConditionStatus::kFalse, victim.metadata.generation,
                                     {}, api::kReasonPreempted, q.message},
                    now);
  return st;
}

api::CommandRunStatus StatusAfterPreemptedStop(const api::CommandRun& run, api::Time now) {
  api::CommandRunStatus st = run.status;
  std::string by = st.stop_request ? st.stop_request->requested_by : "";
  std::string how;
  if (st.result) {
    if (st.result->signal) how = " (signal " + std::to_string(*st.result->signal) + ")";
    else if (st.result->exit_code) how = " (exit code " + std::to_string(*st.result->exit_code) + ")";
  }
  st.preemptions = run.status.preemptions + 1;
  st.phase = api::RunPhase::kQueued;
  st.allocation.reset();
  st.agent.reset();
  st.usage.reset();
  st.result.reset();
  st.stop_request.reset();
  api::QueueStatus q;
  q.reason = api::kReasonPreempted;
  q.message = "stopped while running" + how + " to make room for higher-priority run " +
              (by.empty() ? std::string("(unknown)") : by) + "; re-queued as attempt " +
              std::to_string(st.preemptions + 1);
  q.preempted_by = by;
  q.position = 1;
  q.since = now;
  st.queue = q;
  // The agent's conditions describe the attempt that ended; the next attempt's agent sets them again.
  api::RemoveCondition(&st.conditions, api::kConditionDependenciesReady);
  api::RemoveCondition(&st.conditions, "LimitsEnforced");
  api::SetCondition(&st.conditions, {api::kConditionAllocated, api::ConditionStatus::kFalse, run.metadata.generation,
                                     {}, api::kReasonPreempted, q.message},
                    now);
  return st;
}

}  // namespace prescient::controller
