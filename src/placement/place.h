// Placement: where a run's predicted resources go, as a pure function of a CapacityView.
// Place() tries, in order: the run's reservation; an instance with room (best fit); growing an
// instance by CPU/memory hotplug (within maxSockets/maxGuest, with node room and quota for the
// migration's second pod); preempting lower-priority runs that have not started; scaling the
// target's VirtualMachinePool; asking the autoscaler for a node; and otherwise queueing. A request
// no candidate could ever hold (beyond every VM's maximum or every node) is rejected.
// The reconciler applies the decision (bind, patch, scale, create a ProvisioningRequest).
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "placement/capacity.h"
#include "placement/quota.h"

namespace prescient::placement {

struct PlacementRequest {
  std::string run;  // "ns/name"
  std::string ns;
  api::Target target;
  Resources need;  // the prediction clamped into spec.resources
  int32_t priority = 0;
  Time created{};
  std::string reservation;  // "ns/name" of a matched reservation to draw on, "" none
  bool may_preempt = true;  // the PriorityClass's preemptionPolicy allows it
};

// A prediction clamped into spec.resources: min <= result <= max per resource (absent bounds
// leave it alone; min wins when a prediction is below it).
Resources ClampToBounds(const Resources& predicted, const std::optional<api::ResourceBounds>& bounds);

// The request for a run from its object: namespace, target, creation time, and the values the
// reconciler resolved (clamped need, priority, reservation key from ChooseReservation, whether the
// PriorityClass's preemptionPolicy allows preempting).
PlacementRequest RequestFor(const api::CommandRun& run, const Resources& need, int32_t priority,
                            const std::string& reservation, bool may_preempt);

// Reasons (CamelCase, for status.queue.reason and conditions).
inline constexpr const char* kReasonNoCandidate = "NoCandidateInstance";
inline constexpr const char* kReasonInsufficientCapacity = "InsufficientCapacity";
inline constexpr const char* kReasonHotplugInProgress = "HotplugInProgress";
inline constexpr const char* kReasonQuotaExceeded = "QuotaExceeded";
inline constexpr const char* kReasonNoNodeCapacity = "NoNodeCapacity";
inline constexpr const char* kReasonWaitingForPool = "WaitingForPoolScaleUp";
inline constexpr const char* kReasonWaitingForNodes = "WaitingForNodes";
inline constexpr const char* kReasonHigherPriorityWaiting = "HigherPriorityWaiting";
inline constexpr const char* kReasonExceedsVmMaximum = "ExceedsVMMaximum";
inline constexpr const char* kReasonExceedsLargestNode = "ExceedsLargestNode";

// Bind to an instance that has room now.
struct Fit {
  std::string instance;  // key "ns/name"
  std::string instance_name;
  std::string vm_name;
  std::string node;
  Resources amount;
  std::string reservation;  // "ns/name" when drawn from a reservation
};

// A CPU/memory hotplug of one instance (a JSON patch of its VirtualMachine with `test`).
struct GrowPlan {
  std::string instance;  // key
  std::string vm_name;
  int sockets_before = 0, sockets_after = 0;
  int64_t memory_before = 0, memory_after = 0;  // guest memory, 2 MiB aligned
  Resources launcher_before, launcher_after;    // virt-launcher pod requests
  std::string target_node;  // a node with room for the second (larger) pod
  QuotaChange quota;        // raise the owned quota first when quota.raise
  bool CpuChange() const { return sockets_after != sockets_before; }
  bool MemoryChange() const { return memory_after != memory_before; }
};
struct Grow {
  GrowPlan plan;
  Resources amount;  // what the run gets once the hotplug is done
};

// Take capacity held by lower-priority runs on one instance; then bind.
struct Preempt {
  std::string instance;
  std::vector<std::string> victims;  // run keys
  Resources amount;
};

// Raise a VirtualMachinePool's replicas; with `nodes`, also ask for a node for the new VM.
struct ScalePool {
  std::string pool;  // name (namespace is the run's)
  int replicas = 0;
  std::optional<ProvisioningHint> nodes;
};

// Ask the autoscaler for nodes so `then_instance` can grow (its second pod needs a node).
struct ProvisionNodes {
  ProvisioningHint hint;
  std::string then_instance;
};

struct Queue {
  std::string reason;
  std::string message;
};

struct Reject {
  std::string reason;
  std::string message;
};

using PlacementDecision = std::variant<Fit, Grow, Preempt, ScalePool, ProvisionNodes, Queue, Reject>;

// "Fit on demo/small-vm", "Queue (InsufficientCapacity): ...".
std::string Describe(const PlacementDecision& d);

struct PlaceOptions {
  // Instances held back for higher-priority waiting runs (see PlanAdmissions): not used for Fit,
  // Grow or Preempt unless the request draws on a reservation there.
  std::set<std::string> excluded_instances;
};

PlacementDecision Place(const PlacementRequest& request, const CapacityView& view, const Policy& policy,
                        const PlaceOptions& options = {});

// Why an instance cannot grow for a request (when PlanGrowth returns no plan).
enum class GrowBlock { kNone, kHotplugDisabled, kRestartRequired, kNoHotplug, kNotMigratable, kInFlight, kAtMaximum,
                       kNoNodeRoom, kQuota };

struct GrowAttempt {
  std::string instance;  // key
  std::optional<GrowPlan> plan;
  GrowBlock blocked = GrowBlock::kNone;
  std::string message;
  // Set with kNoNodeRoom: the VM size it would grow to (for a ProvisioningHint).
  int vcpus_after = 0;
  int64_t memory_after = 0;
  Resources launcher_after;  // the migration target pod that found no node
};

// How `instance` would grow so that `request` fits beside what it holds (plus policy.headroom of
// the request when the maximum allows). Used by Place and by growth while running.
GrowAttempt PlanGrowth(const Instance& instance, const Resources& request, const CapacityView& view,
                       const Policy& policy);

}  // namespace prescient::placement
