// The operator's adapter to src/placement, the one implementation of every placement decision
// (capacity view, best fit, growth within maxSockets/maxGuest with the migration's second pod,
// quota arithmetic, queue order, reservation matching, preemption of runs that have not started).
// This file only translates: a ClusterSnapshot (what the informer caches hold) becomes a
// placement::CapacityView, a CommandRun a placement::PlacementRequest, and the decision comes back
// as a PlacementPlan, the action the reconciler applies (bind, patch the VM, scale a pool, ask for
// nodes, preempt, queue, reject). No decision is made here; a behaviour change belongs in
// src/placement with a table test.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/types.h"
#include "controller/io_controls.h"
#include "controller/policy.h"
#include "controller/snapshot.h"
#include "placement/capacity.h"
#include "placement/place.h"

namespace prescient::controller {

struct PlacementRequest {
  std::string run_key, run_uid, ns;
  api::Target target;
  int64_t cpu_milli = 0, memory_bytes = 0;
  int32_t priority = 0;
  api::Time created{};
  std::string reservation;  // "ns/name" the run draws on (placement::ChooseReservation), "" none
  // False when the run's priority comes from a PriorityClass with preemptionPolicy: Never: it
  // waits for room instead of preempting lower-priority runs.
  bool may_preempt = true;
  // The prediction's disk rates (bytes/s upper bounds), for the allocation's IO limits.
  int64_t disk_read_bytes_per_second = 0, disk_write_bytes_per_second = 0;
  // Set when the run names a reservation it may not use (placement::ReservationChoice).
  std::string reservation_error_reason, reservation_error_message;
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
  GrowPlan grow;             // Grow; ProvisionNodes and ScalePool+provision_nodes: grow.new_pod_* is the pod to make room for
  int pool_replicas = 0;     // ScalePool: the new replica count
  std::string pool;          // ScalePool: pool name
  bool provision_nodes = false;  // ScalePool: no node holds the new VM, ask the autoscaler too
  // Queue with reason "Preempting": take the allocations of these runs (keys) back first, then
  // place again.
  std::vector<std::string> victims;
  std::string reason;        // CamelCase, for the queue status / condition
  std::string message;
};

// The placement part of the operator's policy (ControllerPolicy::placement, the one placement::Policy).
placement::Policy PlacementPolicyOf(const ControllerPolicy& policy);

// The capacity view of namespace `ns`: its instances (observed launcher pods included), every
// node, its pools, its quotas (the owned one and the headroom of the others), and the ledger of
// what runs and active reservations hold.
placement::CapacityView CapacityViewOf(const ClusterSnapshot& s, const std::string& ns);

// The request for a run: its prediction, priority (spec.priority, else its PriorityClass), and
// the reservation it draws on as of `now`.
PlacementRequest RequestFor(const api::CommandRun& run, const ClusterSnapshot& s, api::Time now);

struct AdmissionResult {
  PlacementPlan plan;  // the plan for `req`
  int position = 0;    // 1-based position among the runs that must wait (0 when not waiting)
};
// Places every pending run of the namespace (`req` included) in queue order with
// placement::PlanAdmissions and returns the plan for `req`.
AdmissionResult AdmitInOrder(const PlacementRequest& req, std::vector<PlacementRequest> pending,
                             const ClusterSnapshot& s, const ControllerPolicy& policy);

// Growth while running, decided by placement::DecideRunningGrowth (src/placement/growth.h) from the
// run's status (allocation, usage, spec.resources.max) on its namespace's capacity view. The plan is
// kFit when the instance has the room (raise the allocation to cpu_milli/memory_bytes), kGrow when
// it must be hotplugged first (plan.grow, quota raise included), kQueue otherwise: reason "" when
// usage is within the allocation, else why it cannot grow now (AtUpperBound, HotplugInProgress,
// CannotGrow, InstanceNotFound). `throttled_for_seconds`: how long the run's CPU has been throttled
// above the policy's threshold (the reconciler keeps that).
struct RunningGrowthPlan {
  PlacementPlan plan;
  int64_t cpu_milli = 0, memory_bytes = 0;  // the new allocation (kFit, kGrow)
};
RunningGrowthPlan PlanRunningGrowth(const api::CommandRun& run, int64_t throttled_for_seconds, const ClusterSnapshot& s,
                                    const ControllerPolicy& policy);
// Whether the run's usage calls for growth at all (no snapshot needed): a cheap check made on every
// usage report before the namespace's placement lock is taken.
bool WantsRunningGrowth(const api::CommandRun& run, int64_t throttled_for_seconds, const ControllerPolicy& policy);

// While `inst` is being grown to its VM's desired size: the owned quota's raise that keeps room
// for the migration's second pod (others' pods may have taken the headroom since it was planned).
GrowPlan QuotaForMigration(const InstanceView& inst, const ClusterSnapshot& s);

// The allocation a plan gives (instance, cpu, memory, reservation, and the IO controls of IoControlsFor).
api::Allocation AllocationFor(const PlacementRequest& req, const PlacementPlan& plan, const ClusterSnapshot& s,
                              const IoPolicy& io = IoPolicy{});

}  // namespace prescient::controller
