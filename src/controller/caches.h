// The informer caches the reconcilers read (kube::Store pointers, so unit tests fill stores
// directly and production points them at informers), the indexes they rely on, and the snapshot
// builder: the one place that turns cached JSON into a ClusterSnapshot for a namespace.
// Thread-safe: stores are; the typed CommandRun cache below is guarded by its own mutex.
#pragma once

#include <map>
#include <memory>
#include <mutex>
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

// Runs of `ns` still waiting for an allocation (phases None/Pending/Predicting/Queued/Scaling).
std::vector<std::shared_ptr<const api::CommandRun>> PendingRuns(const Caches& caches, const std::string& ns,
                                                                TypedRunCache* runs);

}  // namespace prescient::controller
