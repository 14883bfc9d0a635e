// Preemption as the reconciler applies it: what to do with each victim placement::SelectVictims
// chose, and the statuses that follow. A victim that has not started gives its allocation back at
// once (label off, then Queued). A victim that started, and whose spec.allowPreemptionWhileRunning
// is true, is asked to stop: the operator writes status.stopRequest (resourceVersion-guarded), the
// agent running it sends SIGTERM, SIGKILLs the run's cgroup after the grace period and reports
// phase Preempted; the operator then re-queues it as a fresh attempt (status.preemptions + 1).
// Until the agent's report the victim keeps its room, so the preemptor waits (reason Preempting).
// See docs/agent-protocol.md "Preemption". Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "api/types.h"

namespace prescient::controller {

enum class VictimAction {
  kNone,         // nothing to do: already released
  kAwaitingStop, // its agent was already asked to stop it: wait for the Preempted report
  kTakeBack,     // not started: remove the instance label, then Queued without allocation
  kRequestStop,  // started and preemptible while running: write status.stopRequest
  kConflict,     // started meanwhile and may not be stopped: the preemptor must place again
};
const char* VictimActionName(VictimAction a);

struct VictimDecision {
  VictimAction action = VictimAction::kNone;
  std::string message;
};
VictimDecision DecideVictim(const api::CommandRun& victim);

// The victim's status with the stop request of `by` (the preemptor's name).
api::CommandRunStatus StatusWithStopRequest(const api::CommandRun& victim, const std::string& by, api::Time now,
                                            int32_t grace_period_seconds);

// The status of a victim that had not started, after its allocation is taken back.
api::CommandRunStatus StatusAfterTakeBack(const api::CommandRun& victim, const std::string& by, api::Time now);

// The status of a run the agent reported Preempted: a fresh attempt, waiting for room again.
// Allocation, claim, usage, result and the stop request go; status.preemptions counts one more;
// the queue status and the Allocated condition say who preempted it; the prediction stays.
api::CommandRunStatus StatusAfterPreemptedStop(const api::CommandRun& run, api::Time now);

}  // namespace prescient::controller
