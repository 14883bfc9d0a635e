// Shadow runs (spec.shadow.enabled): before a run is placed, the agent of a candidate instance runs
// the command for spec.shadow.durationSeconds in a throw-away sandbox (docs/agent-protocol.md,
// "Shadow") and reports the early usage curve in status.shadow.result. This file holds the pure
// decisions of that step: which instance hosts the shadow, when the operator stops waiting, and
// how the early curve refines the model's prediction. The reconciler applies them.
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "api/types.h"
#include "controller/snapshot.h"

namespace prescient::controller {

// The condition the shadow step sets: False/ShadowRunning while it waits, then True/ShadowRefined
// (or ShadowConfirmed when nothing had to change), or False with why the prediction stayed
// unrefined (ShadowTimedOut, ShadowFailed, NoInstanceForShadow).
inline constexpr const char* kConditionShadowed = "Shadowed";
// status.prediction.source after a refinement (one of the values the CRD documents).
inline constexpr const char* kSourceShadow = "Shadow";

struct ShadowPolicy {
  // The refined bound is at least the observed (or extrapolated) peak times this.
  double safety_factor = 1.2;
  // How long after status.shadow.requestedAt + durationSeconds the operator still waits for the
  // agent's result before placing with the unrefined prediction.
  std::chrono::seconds grace{30};
  // The agent's sandbox (docs/agent-protocol.md): usage at this size may have been cut off.
  int64_t sandbox_cpu_milli = 1000;
  int64_t sandbox_memory_bytes = 512LL << 20;
};

// The instance that runs the shadow: `labelled` (the run's current instance label) when it is still
// a running candidate of the target (a retry keeps asking the same agent), else the first running
// candidate by name. "" when no candidate is running.
std::string ShadowInstance(const api::CommandRun& run, const ClusterSnapshot& s, const std::string& labelled);

// When the operator gives up waiting for the shadow's result.
api::Time ShadowDeadline(const api::CommandRun& run, const ShadowPolicy& policy);

struct ShadowRefinement {
  api::Prediction prediction;  // refined (source kSourceShadow when changed), clamped into spec.resources
  bool changed = false;
  std::string reason;   // ShadowRefined | ShadowConfirmed | ShadowFailed
  std::string message;  // what was observed and what changed, for the condition
};

// Refines `predicted` with the early usage of a shadow run:
//   memory  >= safety_factor x max(observed peak, the curve extrapolated forward for as long as the
//              shadow ran, when it was still rising and the command had not exited);
//   CPU     >= safety_factor x the observed peak (cores);
//   duration >= the shadow's duration when the command had not exited.
// The bound is only ever raised: a sandbox without network and with 1 core / 512 MiB may see less
// than the real run. A shadow that failed before measuring anything leaves the prediction as it is.
// The result is clamped into `bounds` (spec.resources), which wins over the observation.
ShadowRefinement RefineWithShadow(const api::Prediction& predicted, const api::ShadowResult& shadow,
                                  const std::optional<api::ResourceBounds>& bounds, const ShadowPolicy& policy);

}  // namespace prescient::controller
