// The pure steps of the CommandRun pipeline (snapshot in, decision out), kept apart from the
// reconciler that applies them so each is tested with a table and no server:
//   ValidateReferences  — what the schema cannot check: the target VM exists in the run's namespace,
//                          the named reservation exists.
//   StatusAfterPlan     — the status a placement plan leads to (phase, allocation, queue, conditions).
//   ObservationOf       — a finished run as a history observation (command, context, prediction, usage).
//   DesiredQuotaHard    — the owned quota's spec.hard once no growth is in flight (lowered back,
//                          by placement::LoweredHard).
// Growth while running is src/placement's (growth.h), reached through controller/plan.h.
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <functional>
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


// nullopt for runs without usage to learn from (never ran, refused, invalid).
std::optional<history::Observation> ObservationOf(const api::CommandRun& run, const InstanceView* instance);

// Dependencies that are objects in the cluster: a Service (its Endpoints need a ready address) or a
// Deployment (needs a ready replica). Hosts like "db", "db.team", "db.team.svc.cluster.local" name
// a Service; anything else (an IP, an external name) is left to the agent's warm-up check.
struct DependencyRef {
  std::string ns, name;
  bool deployment = false;  // kind Deployment (else Service)
  bool declared = true;     // from spec.dependencies (else predicted: a missing Service is not an error)
};
std::vector<DependencyRef> ClusterDependencies(const api::CommandRun& run);

struct DependencyLookup {
  // Service readiness: does ns/name have Endpoints with a ready address? nullopt: no such Service.
  std::function<std::optional<bool>(const std::string& ns, const std::string& name)> service_ready;
  // Deployment ns/name: nullopt when absent; else (ready replicas, spec.replicas, scale-from-zero annotation).
  struct DeploymentState {
    int ready = 0, replicas = 0;
    int wake_replicas = 0;  // from the annotation; 0 = not annotated
  };
  std::function<std::optional<DeploymentState>(const std::string& ns, const std::string& name)> deployment;
};

struct DependencyGate {
  bool ready = true;
  std::string message;                                   // the first dependency not ready
  std::vector<std::pair<DependencyRef, int>> wake;       // Deployments to scale up ahead of time (to replicas)
};
// Before binding: every cluster dependency must be ready. Deployments scaled to zero and annotated
// with prescient.dev/scale-from-zero are woken (scaled to the annotation's count) ahead of time; a
// Service whose pods come from such a Deployment of the same name is woken the same way.
DependencyGate EvaluateDependencies(const api::CommandRun& run, const DependencyLookup& lookup);

// ---- lost agents ---------------------------------------------------------------------------------
// The agent of an instance renews Lease prescient-agent-<instance> in the run's namespace every 10 s
// (docs/agent-protocol.md). When the newest renewal is older than the policy's grace
// (agentHeartbeatTimeoutSeconds), runs bound to that instance that have not finished are taken
// back: one not started yet (no claim) is re-queued for placement elsewhere, one the agent claimed
// is Failed with result reason Lost. Both lose their allocation. No Lease at all is not a lost agent
// (the agent may not be deployed yet): the run waits as before.
inline constexpr const char* kConditionAgentLost = "AgentLost";
inline constexpr const char* kReasonAgentLost = "AgentLost";
inline constexpr const char* kAgentLeasePrefix = "prescient-agent-";

struct AgentHeartbeat {
  bool found = false;       // the Lease exists and has a parseable renewTime (or acquireTime)
  api::Time renewed{};
};
enum class AgentLostAction { kNone, kRequeue, kFail };
struct AgentLostDecision {
  AgentLostAction action = AgentLostAction::kNone;
  // kNone with a Lease: look again once the Lease would go stale if it is not renewed meanwhile.
  std::chrono::milliseconds recheck_after{0};
  double age_seconds = 0;
  std::string message;
};
// The heartbeat a Lease object shows (spec.renewTime, else spec.acquireTime).
AgentHeartbeat HeartbeatFromLease(const Json* lease);
AgentLostDecision DecideAgentLost(const api::CommandRun& run, const AgentHeartbeat& hb, api::Time now,
                                  std::chrono::seconds grace);
// The status after the decision (requeue: Queued without allocation; fail: Failed/Lost), with the
// AgentLost condition. Unchanged for kNone.
api::CommandRunStatus StatusAfterAgentLost(const api::CommandRun& run, const AgentLostDecision& d, api::Time now);

// ---- hotplug that does not finish -----------------------------------------------------------
// While a run is Allocating, its instance grows. KubeVirt may never finish: the VM says
// RestartRequired (a rollout strategy that cannot hotplug), or the migration stays pending (no node
// takes the target pod). Past the policy's hotplugTimeoutSeconds, or at once on RestartRequired, the
// growth is given up: the VM's size is put back, the quota raise rolled back, the run re-queued
// with the reason and a HotplugFailed condition whose time starts a back-off of the same length
// during which the run does not grow an instance again (it may still fit somewhere).
inline constexpr const char* kConditionHotplugFailed = "HotplugFailed";
inline constexpr const char* kReasonHotplugTimedOut = "HotplugTimedOut";
inline constexpr const char* kReasonRestartRequired = "RestartRequired";
inline constexpr const char* kReasonHotplugBackoff = "HotplugBackoff";

enum class HotplugOutcome { kWait, kDone, kNotApplied, kTimedOut, kRestartRequired };
struct HotplugVerdict {
  HotplugOutcome outcome = HotplugOutcome::kWait;
  std::chrono::milliseconds recheck_after{0};  // kWait: when the timeout would pass
  std::string reason, message;                 // kTimedOut / kRestartRequired
};
// `inst` the run's instance (null: gone); `fits`: the allocation fits it now; `requested_at`: when
// the growth was asked for (status.allocation.allocatedAt while Allocating). An instance that
// neither fits nor shows the growth yet has not been observed growing: the caches may lag the VM
// patch (the run's Allocating status is written first), so it is waited for until `start_timeout`
// after the request, and only then judged kNotApplied (the patch never landed or was undone).
HotplugVerdict DecideHotplug(const InstanceView* inst, bool fits, std::optional<api::Time> requested_at, api::Time now,
                             std::chrono::seconds timeout, std::chrono::seconds start_timeout);
// The status of a run whose growth was given up: Queued without allocation, the reason in the queue
// status and the Allocated condition, and HotplugFailed (time = now, restarting the back-off).
api::CommandRunStatus StatusAfterHotplugFailure(const api::CommandRun& run, const HotplugVerdict& v, api::Time now);
// How long the run must still wait before it may grow an instance again (0: it may).
std::chrono::milliseconds HotplugBackoffLeft(const api::CommandRun& run, api::Time now, std::chrono::seconds timeout);

struct QuotaHard {
  std::optional<int64_t> cpu_milli, memory_bytes;
};
// max(baseline, used) per resource: the headroom raised for a migration's second pod is returned
// once no growth is in flight. nullopt when there is nothing to lower.
std::optional<QuotaHard> DesiredQuotaHard(const QuotaView& q, bool growth_in_flight);

}  // namespace prescient::controller
