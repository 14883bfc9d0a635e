// The CommandRun reconciler: level-based, idempotent, safe to crash at any line. Each call re-reads
// the run from the informer cache and moves it one or more steps along
//   Validate -> Predict -> [Shadow] -> Place (AdmitInOrder) -> Allocate (bind | grow: quota, VM patch, wait |
//   scale: pool / ProvisioningRequest) -> Bind (status.allocation, then the instance label)
//   -> [agent runs it] -> Feedback (growth while running) -> Complete (history, quota, finalizer)
// writing status only when it changed. Side effects are separate steps, each idempotent: creating an
// object that exists is success, patches carry `test` ops or resourceVersions.
//
// Ordering that makes crashes safe: the finalizer is added before any capacity is held; status
// (phase Allocated + allocation) is written before the instance label, because the agent acts on the
// label and refuses a labelled run without an allocation; the history record (idempotent per run
// UID) is written before the finalizer is removed.
//
// Placement for one namespace is serialised (place_mu_) and remembers the allocations it wrote
// until the cache shows them (the scheduler's "assume"), so two workers never hand out the same room.
// Thread-safe: Reconcile runs concurrently for different keys.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "api/types.h"
#include "common/clock.h"
#include "controller/caches.h"
#include "controller/metrics.h"
#include "controller/plan.h"
#include "controller/policy.h"
#include "controller/predictor.h"
#include "controller/steps.h"
#include "history/store.h"
#include "kube/client.h"
#include "kube/controller.h"
#include "kube/events.h"
#include "common/log.h"

namespace prescient::controller {

struct CommandRunReconcilerDeps {
  kube::Client* client = nullptr;
  kube::EventRecorder* events = nullptr;
  Clock* clock = nullptr;
  Predictor* predictor = nullptr;
  history::HistoryStore* history = nullptr;  // may be null (no history dir)
  Metrics* metrics = nullptr;                // may be null
  Caches caches;
  ControllerPolicy policy;
};

// A work-queue key "quota:<namespace>" (not a run): lower the owned quota of that namespace back
// to max(baseline, used) if no growth is in flight. The manager queues it on quota events, so a
// raise is given back once the quota's `used` settles, whichever run's reconcile came first.
inline constexpr const char* kQuotaKeyPrefix = "quota:";

class CommandRunReconciler : public kube::Reconciler {
 public:
  explicit CommandRunReconciler(CommandRunReconcilerDeps deps);
  Result<kube::ReconcileResult> Reconcile(const std::string& key) override;

  // Called by the manager's event handlers: a run's object changed (drops stale typed copies).
  void ForgetRun(const std::string& key) { typed_.Forget(key); }

 private:
  using Json = nlohmann::json;
  Result<kube::ReconcileResult> Finalize(const Json& obj, const api::CommandRun& run);
  Result<kube::ReconcileResult> Complete(const Json& obj, const api::CommandRun& run);
  Result<kube::ReconcileResult> FailInvalid(const Json& obj, const api::CommandRun& run, const api::FieldErrors& errs);
  // Preemption of running runs (controller/preemption.h). A victim the agent started, whose spec
  // allows it, is asked to stop (status.stopRequest, resourceVersion-guarded): true while its stop
  // is pending, false when the victim is not running (Preempt takes its allocation back), an error
  // when it started and may not be stopped. The agent reports phase Preempted; RequeuePreempted
  // then makes it a fresh attempt waiting for room.
  Result<bool> RequestStopIfRunning(const std::string& victim_key, const api::CommandRun& by, const Json& by_obj);
  Result<kube::ReconcileResult> RequeuePreempted(Json obj, const api::CommandRun& run);
  Result<kube::ReconcileResult> PlaceAndAllocate(Json obj, api::CommandRun run);
  // Shadow (shadow.h): ask a candidate's agent for a shadow run, then refine the prediction from
  // its early usage (or give up at the deadline) and hand the run back to placement.
  Result<kube::ReconcileResult> StartShadow(Json obj, api::CommandRun run, api::CommandRunStatus st);
  Result<kube::ReconcileResult> Shadow(Json obj, api::CommandRun run);
  Result<kube::ReconcileResult> CheckGrowth(Json obj, api::CommandRun run);
  Result<kube::ReconcileResult> Feedback(Json obj, api::CommandRun run);
  // How long the run's reported CPU throttling has stayed at or above the policy's threshold, as
  // seen by this process (from the first report above it; 0 when below). In memory: a restart
  // starts counting again, which only delays a CPU growth by the sustain time.
  int64_t ThrottledFor(const api::CommandRun& run);
  void ForgetThrottling(const std::string& key);

  // Lost agents: the heartbeat of the instance's agent, the decision for a bound run, and applying it.
  AgentHeartbeat HeartbeatOf(const std::string& ns, const std::string& instance) const;
  AgentLostDecision CheckAgent(const api::CommandRun& run);
  Result<kube::ReconcileResult> TakeBackFromLostAgent(Json obj, const api::CommandRun& run, const AgentLostDecision& d);

  // The allocation-latency and queue-wait observations, once per run: called right after the
  // status write that makes it Allocated (whatever failed in earlier passes). `queue_wait`: also
  // the wait in Queued/Scaling (not for a run that waited for its hotplug).
  void ObserveAllocated(const api::CommandRun& run, api::Time now, bool queue_wait);

  // Side effects.
  Result<Json> WriteStatus(const Json& obj, const api::CommandRun& run, api::CommandRunStatus status);
  Result<Json> EnsureFinalizer(const Json& obj, bool present);
  Result<Json> EnsureInstanceLabel(const Json& obj, const std::string& instance);
  Status RaiseQuota(const std::string& ns, const GrowPlan& g);
  // `reverted_instance` ("ns/vmi"): a growth just given up there; its in-flight state in the cache
  // is stale and must not keep the quota raised.
  Status LowerQuotas(const std::string& ns, const std::string& reverted_instance = "");
  // Puts the VM's template back to the size its VMI has (a growth given up).
  Status RevertVmSize(const InstanceView& inst);
  Status PatchVmSize(const std::string& ns, const std::string& vm, const GrowPlan& g);
  Status EnsureProvisioningRequest(const api::CommandRun& run, const std::string& instance_key, const GrowPlan& g);
  Status ScalePool(const std::string& ns, const std::string& pool, int replicas);
  // Balloon mode: a placeholder pod of the grown virt-launcher pod's size (same scheduling
  // constraints) in the balloon namespace, at the balloon PriorityClass; removed once the run is
  // placed, finishes or is deleted (RemoveBalloon is a no-op when there is none).
  // Asks the autoscaler for a node for the grown pod of `instance_key`: a ProvisioningRequest or a
  // balloon pod, as the policy's scalingMode says.
  Status AskForNodes(const api::CommandRun& run, const std::string& instance_key, const GrowPlan& g);
  Status EnsureBalloon(const api::CommandRun& run, const std::string& instance_key, const GrowPlan& g);
  Status RemoveBalloon(const api::CommandRun& run);
  std::string BalloonName(const api::CommandRun& run) const { return "prescient-balloon-" + run.metadata.uid; }
  // The virt-launcher pod spec of `instance_key` resized to the grown pod's requests (no node name).
  Json LauncherPodSpec(const std::string& instance_key, const GrowPlan& g) const;
  DependencyLookup Lookup() const;
  Status WakeDeployment(const std::string& ns, const std::string& name, int replicas);
  // Takes the allocation back from a run that has not started: status back to Queued, then the
  // label off. Both writes are resourceVersion-guarded, so an agent claim that lands first makes
  // this fail (409) and the run keeps its room; a 409 from a stale copy is retried (bounded) on the
  // run read fresh from the API.
  Status Preempt(const std::string& victim_key, const api::CommandRun& by);
  // Removes the instance label from a run that no longer holds an allocation (bounded retries on
  // 409, re-reading the run from the API each time).
  Status RemoveInstanceLabel(Json obj, const std::string& key);

  // The assume cache: our own status writes not yet visible in the informer cache.
  void Assume(const Json& written);
  ClusterSnapshot Snapshot(const std::string& ns);
  std::vector<PlacementRequest> PendingRequests(const std::string& ns, const ClusterSnapshot& s);
  PlacementRequest RequestFor(const api::CommandRun& run, const ClusterSnapshot& s) const;
  const InstanceView* InstanceOf(const ClusterSnapshot& s, const api::CommandRun& run) const;

  CommandRunReconcilerDeps d_;
  log::Logger log_{"commandrun"};
  TypedRunCache typed_;
  std::mutex place_mu_;
  struct Assumed {
    int64_t rv = 0;
    std::optional<Holding> holding;  // nullopt: released
    bool pending = false;            // still waiting for capacity
  };
  std::atomic<bool> balloon_class_ready_{false};
  std::mutex assumed_mu_;
  std::map<std::string, Assumed> assumed_;  // by run key
  std::mutex throttle_mu_;
  std::map<std::string, api::Time> throttled_since_;  // by run key
};

}  // namespace prescient::controller
