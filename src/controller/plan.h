// Placement decisions for one CommandRun as pure functions of a ClusterSnapshot: Fit on an instance
// with room, Grow an instance by CPU/memory hotplug (with the quota the migration's second
// virt-launcher pod needs), ScalePool, ProvisionNodes (the autoscaler must add a node before the
// growth can happen), Queue, or Reject (nothing could ever hold it). AdmitInOrder walks the pending
// runs of a namespace in queue order (priority, then age) the way Kueue's BestEffortFIFO does, so a
// run never takes capacity a higher-ranked run ahead of it is about to take.
//
// NOTE: the brief puts these decisions in src/placement (engineer C); that stage had not landed when
// the operator needed them. They live here behind this one header so switching the implementation
// to src/placement is a change of plan.cc alone.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/types.h"
#include "controller/policy.h"
#include "controller/snapshot.h"

namespace prescient::controller {

struct PlacementRequest {
  std::string run_key, run_uid, ns;
  api::Target target;
  int64_t cpu_milli = 0, memory_bytes = 0;
  int32_t priority = 0;
  api::Time created{};
  std::string user, command;
  std::string reservation_name;  // spec.reservationName ("" = none named)
};

enum class PlanKind { kFit, kGrow, kScalePool, kProvisionNodes, kQueue, kReject };
const char* PlanKindName(PlanKind k);

struct GrowPlan {
  int from_sockets = 0, to_sockets = 0;
  int64_t from_guest = 0, to_guest = 0;
  // The migration target pod's requests (the old pod stays until the switch).
  int64_t new_pod_cpu_milli = 0, new_pod_memory_bytes = 0;
  // Raise the operator-owned quota's spec.hard to these first (nullopt: no raise needed).
  std::optional<int64_t> quota_cpu_milli, quota_memory_bytes;
  std::string quota_name;
};

struct PlacementPlan {
  PlanKind kind = PlanKind::kQueue;
  std::string instance;      // "ns/vmi" for Fit/Grow/ProvisionNodes
  std::string reservation;   // reservation name the allocation draws on ("" = none)
  GrowPlan grow;
  int pool_replicas = 0;     // ScalePool: the new replica count
  std::string pool;          // ScalePool: pool name
  std::string reason;        // CamelCase, for the queue status / condition
  std::string message;
};

// The requests of the virt-launcher pod KubeVirt creates for `inst` grown to (to_sockets, to_guest):
// the running pod's requests plus the added memory, KubeVirt's per-vCPU and page-table (guest/512)
// overhead of the addition, and per-vCPU CPU at the allocation ratio.
void MigrationPodEstimate(const InstanceView& inst, int to_sockets, int64_t to_guest, const ControllerPolicy& policy,
                          int64_t* cpu_milli, int64_t* memory_bytes);
// The quota raise (on `g.quota_*`) a migration pod of this size needs in `ns`; sets *blocked to the
// name of a quota the operator does not own that refuses it.
void QuotaForMigrationPod(const std::string& ns, const ClusterSnapshot& s, GrowPlan* g, std::string* blocked);

// Instances (keys "ns/vmi") the run's target names, sorted.
std::vector<std::string> Candidates(const api::Target& target, const std::string& ns, const ClusterSnapshot& s);

// Whether a reservation may be drawn on by this request (users, command pattern, window).
bool ReservationMatches(const ReservationView& r, const PlacementRequest& req);

PlacementPlan Place(const PlacementRequest& req, const ClusterSnapshot& s, const ControllerPolicy& policy);

// Queue order: priority (higher first), then creation time, then key.
bool QueueBefore(const PlacementRequest& a, const PlacementRequest& b);

struct AdmissionResult {
  PlacementPlan plan;  // the plan for `req`
  int position = 0;    // 1-based position among the runs that must wait (0 when not waiting)
};
// Walks `pending` (every run of the namespace still waiting for an allocation, `req` included) in
// queue order on a copy of `s`: a run ahead that fits takes its capacity, one ahead that grows an
// instance blocks further growth of it. Returns the plan for `req` when its turn comes.
AdmissionResult AdmitInOrder(const PlacementRequest& req, std::vector<PlacementRequest> pending, ClusterSnapshot s,
                             const ControllerPolicy& policy);

// Preemption: the runs a higher-priority request may displace so that it fits (or can grow) on one
// of its candidates. Victims have a strictly lower priority, hold capacity outside any reservation,
// and have not started (the agent has not claimed them); the least important go first, and no
// more than needed. nullopt when displacing every eligible victim would still not be enough.
struct Preemption {
  std::string instance;
  std::vector<std::string> victims;  // run keys
  PlacementPlan plan;                // the request's plan once they are gone
};
std::optional<Preemption> SelectVictims(const PlacementRequest& req, const ClusterSnapshot& s,
                                        const ControllerPolicy& policy);

// The allocation a plan gives (instance, cpu, memory, reservation).
api::Allocation AllocationFor(const PlacementRequest& req, const PlacementPlan& plan, const ClusterSnapshot& s);

}  // namespace prescient::controller
