// The informer caches the reconcilers read (kube::Store pointers, so unit tests fill stores
// directly and production points them at informers), the indexes they rely on, and the snapshot
// builder: the one place that turns cached JSON into a ClusterSnapshot for a namespace.
// Thread-safe: stores are; the typed CommandRun cache below is guarded by its own mutex.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/types.h"
#include "controller/snapshot.h"
#include "kube/store.h"

namespace prescient::controller {

inline constexpr char kRunPhaseIndex[] = "phase";       // runs by status.phase ("None" when unset)
inline constexpr char kPodNodeIndex[] = "node";         // pods by spec.nodeName
inline constexpr char kLauncherIndex[] = "launcher";    // virt-launcher pods by "ns/vmi"
inline constexpr char kReservationRunIndex[] = "reservation";  // runs by "ns/reservation" they name

// The allocation ledger: the Holding of every CommandRun that holds capacity, by namespace, kept
// up to date from the CommandRun informer's events (Observe) so a placement reads the namespace's
// holdings without walking and decoding every cached run (that walk made each reconcile O(runs)).
// Each entry remembers the resourceVersion it was built from, so the reconciler's assume cache can
// tell when the ledger (not just the informer's store) has caught up with its own writes.
// Thread-safe.
class HoldingLedger {
 public:
  // The run's new state (nullptr old/new for add/delete, as the informer reports them).
  void Observe(const kube::ObjectPtr& old_obj, const kube::ObjectPtr& new_obj);
  // Holdings of `ns`, priorities resolved with `classes` (PriorityClass name -> value).
  std::vector<Holding> Holdings(const std::string& ns, const std::map<std::string, int32_t>& classes) const;
  // resourceVersion of the run's newest observed state; 0 when unknown (never seen or deleted).
  int64_t ObservedRv(const std::string& key) const;
  size_t size() const;

 private:
  struct Entry {
    int64_t rv = 0;
    std::optional<Holding> holding;
    std::optional<int32_t> spec_priority;
    std::string priority_class;
  };
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, Entry>> by_ns_;  // ns -> run key -> entry
};

struct Caches {
  const kube::Store* runs = nullptr;
  const kube::Store* reservations = nullptr;
  const kube::Store* vmis = nullptr;
  const kube::Store* vms = nullptr;
  const kube::Store* pods = nullptr;
  const kube::Store* nodes = nullptr;
  const kube::Store* quotas = nullptr;
  const kube::Store* pools = nullptr;
  const kube::Store* priority_classes = nullptr;  // may be null
  const kube::Store* leases = nullptr;            // may be null (agent heartbeats)
  const kube::Store* endpoints = nullptr;         // may be null (dependencies)
  const kube::Store* deployments = nullptr;       // may be null (dependencies)
  // May be null (unit tests with bare stores): holdings are then read by walking `runs`.
  const HoldingLedger* ledger = nullptr;
};

// The index functions (the manager adds them to informers, tests to bare stores).
kube::IndexFunc RunPhaseIndex();
kube::IndexFunc PodNodeIndex();
kube::IndexFunc LauncherIndex();
kube::IndexFunc ReservationRunIndex();

// Decoded CommandRuns, memoised by uid and resourceVersion so a reconcile that walks every holding
// run of a namespace does not re-decode JSON that did not change.
class TypedRunCache {
 public:
  std::shared_ptr<const api::CommandRun> Get(const kube::ObjectPtr& obj);
  void Forget(const std::string& key);

 private:
  std::mutex mu_;
  std::map<std::string, std::pair<std::string, std::shared_ptr<const api::CommandRun>>> by_key_;  // key -> (rv, run)
};

// A run's effective priority: spec.priority, else its PriorityClass's value, else 0.
int32_t RunPriority(const api::CommandRun& run, const std::map<std::string, int32_t>& classes);

// Everything about namespace `ns` (instances, quotas, holdings, reservations, pools) and every node.
ClusterSnapshot BuildSnapshot(const Caches& caches, const std::string& ns, TypedRunCache* runs,
                              const std::string& owned_quota_name, api::Time now);

// Runs of `ns` still waiting for an allocation that already have a prediction in status (phases
// Pending/Predicting/Queued/Scaling). Runs in phase None are skipped without decoding: every status
// the operator writes sets a phase, so they cannot have a prediction yet, and a burst of new runs
// must not make each placement walk all of them.
std::vector<std::shared_ptr<const api::CommandRun>> PendingRuns(const Caches& caches, const std::string& ns,
                                                                TypedRunCache* runs);

}  // namespace prescient::controller
