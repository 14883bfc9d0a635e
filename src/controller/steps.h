// The pure steps of the CommandRun pipeline (snapshot in, decision out), kept apart from the
// reconciler that applies them so each is tested with a table and no server:
//   ValidateReferences  — what the schema cannot check: the target VM exists in the run's namespace,
//                          the named reservation exists.
//   StatusAfterPlan     — the status a placement plan leads to (phase, allocation, queue, conditions).
//   FeedbackGrowth      — while running: the larger allocation usage calls for (memory near the
//                          allocation, sustained CPU throttling), within spec.resources.max.
//   ObservationOf       — a finished run as a history observation (command, context, prediction, usage).
//   DesiredQuotaHard    — the owned quota's spec.hard once no growth is in flight (lowered back).
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "api/types.h"
#include "controller/plan.h"
#include "controller/policy.h"
#include "controller/snapshot.h"
#include "history/store.h"

namespace prescient::controller {

// `vm_namespaces_with_name`: namespaces where a VM of the target's name exists (for the message
// when it exists only elsewhere). `reservation_exists`: whether spec.reservationName resolves.
api::FieldErrors ValidateReferences(const api::CommandRun& run, const ClusterSnapshot& s, bool vm_exists,
                                    const std::vector<std::string>& vm_namespaces_with_name, bool pool_exists,
                                    bool reservation_exists);

// The status after applying `plan` (Fit -> Allocated, Grow -> Allocating holding the allocation,
// ScalePool/ProvisionNodes -> Scaling, Queue -> Queued, Reject -> Failed/Unschedulable).
api::CommandRunStatus StatusAfterPlan(const api::CommandRun& run, const api::CommandRunStatus& base,
                                      const AdmissionResult& admission, const api::Allocation& allocation,
                                      api::Time now);

struct GrowthNeed {
  int64_t cpu_milli = 0, memory_bytes = 0;  // the new allocation
  std::string reason;                       // "MemoryNearLimit" | "CpuThrottled"
};
std::optional<GrowthNeed> FeedbackGrowth(const api::CommandRun& run, const ControllerPolicy& policy);

// nullopt for runs without usage to learn from (never ran, refused, invalid).
std::optional<history::Observation> ObservationOf(const api::CommandRun& run, const InstanceView* instance);

struct QuotaHard {
  std::optional<int64_t> cpu_milli, memory_bytes;
};
// max(baseline, used) per resource: the headroom raised for a migration's second pod is returned
// once no growth is in flight. nullopt when there is nothing to lower.
std::optional<QuotaHard> DesiredQuotaHard(const QuotaView& q, bool growth_in_flight);

}  // namespace prescient::controller
