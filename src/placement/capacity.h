// The capacity view placement decides on: candidate VM instances with their current and maximum
// sizes, nodes and the node groups the autoscaler can add, VirtualMachinePools, namespace quota
// headroom, and the CapacityLedger of what runs and reservations already hold on each instance.
// The operator builds a view from its informer caches before each decision; the ledger can be
// rebuilt from CommandRun and ResourceReservation statuses alone (after a restart nothing else
// is needed). Plain values; a view is not shared between threads while it is being changed.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/types.h"
#include "placement/policy.h"
#include "placement/resources.h"

namespace prescient::placement {

using Time = api::Time;

// A running (or starting) KubeVirt VMI that can host runs.
struct Instance {
  std::string name;     // VMI name (= the VM's name)
  std::string ns;
  std::string vm_name;  // the VirtualMachine to patch when growing
  std::string pool;     // VirtualMachinePool owning the VM, "" if none
  std::map<std::string, std::string> labels;  // the VM's labels (vmSelector matches these)
  std::string node;
  bool ready = true;  // Running and Ready: an agent can run commands now
  int sockets = 1, cores = 1, threads = 1;
  int max_sockets = 0;            // 0: no CPU hotplug
  int64_t memory_bytes = 0;       // status.memory.guestCurrent
  int64_t guest_at_boot = 0;      // memory may not go below this
  int64_t max_guest = 0;          // 0: no memory hotplug
  bool cpu_hotplug_in_flight = false;
  bool memory_hotplug_in_flight = false;
  bool migration_in_flight = false;
  bool migratable = true;         // LiveMigratable=True (hotplug is a live migration)
  bool restart_required = false;  // RestartRequired: no live changes until a reboot
  // Requests of the instance's running virt-launcher pod when seen (they include overheads the
  // cluster configured beyond KubeVirt's defaults); absent: LauncherRequests of its size.
  std::optional<Resources> launcher;

  std::string Key() const { return ns + "/" + name; }
  int vcpus() const { return sockets * cores * threads; }
  int VcpusPerSocket() const { return cores * threads; }
  int MaxVcpus() const { return std::max(max_sockets, sockets) * cores * threads; }
  int64_t MaxMemory() const { return std::max(max_guest, memory_bytes); }
  Resources Size() const { return {int64_t{vcpus()} * 1000, memory_bytes}; }
  bool HotplugBusy() const { return cpu_hotplug_in_flight || memory_hotplug_in_flight || migration_in_flight; }
  // The running virt-launcher pod's requests: observed, else KubeVirt's formula.
  Resources CurrentLauncher() const { return launcher ? *launcher : LauncherRequests(vcpus(), memory_bytes); }
  // The migration target pod KubeVirt creates to grow it to (vcpus_after, memory_after): the running
  // pod plus what the formula adds for the larger size, so extra overheads the cluster configured
  // carry over instead of being forgotten.
  Resources MigrationTargetLauncher(int vcpus_after, int64_t memory_after) const {
    return CurrentLauncher() + (LauncherRequests(vcpus_after, memory_after) - LauncherRequests(vcpus(), memory_bytes));
  }
};

struct Node {
  std::string name;
  Resources allocatable;
  Resources requested;  // sum of the requests of pods bound to it
  bool schedulable = true;  // kubevirt.io/schedulable=true, not cordoned
  Resources Free() const { return allocatable - requested; }
};

// A group of identical nodes the cluster-autoscaler can add to.
struct NodeGroup {
  std::string name;
  Resources node_allocatable;  // what one new node offers
  int size = 0;
  int max_size = 0;
  bool CanGrow() const { return size < max_size; }
};

struct Pool {
  std::string name;
  std::string ns;
  int replicas = 0;
  int max_replicas = 0;  // from the prescient.dev/max-replicas annotation; 0: never scale
  Instance shape;        // the size a new VM of the pool boots with
  std::string Key() const { return ns + "/" + name; }
};

// The operator-owned ResourceQuota of a namespace (its spec.hard and status.used).
struct OwnedQuota {
  Resources hard;
  Resources used;
  std::optional<Resources> max;  // the most the operator may raise it to; absent: no cap
};

struct NamespaceQuota {
  // The smallest headroom (hard - used) across quotas the operator does not own; absent: none apply.
  std::optional<Resources> other_headroom;
  std::optional<OwnedQuota> owned;
};

// Capacity one run holds on one instance.
struct Hold {
  std::string run;       // "ns/name"
  std::string instance;  // instance key "ns/name"
  Resources amount;
  int32_t priority = 0;
  Time created{};
  bool started = false;                   // the agent claimed it (phase Running)
  bool preemptible_while_running = false;  // spec.allowPreemptionWhileRunning
  std::string reservation;                // "ns/name" of the reservation it draws on, "" none
};

// Capacity a reservation holds on one instance (whether or not runs use it).
struct ReservationHold {
  std::string reservation;  // "ns/name"
  std::string instance;     // instance key
  Resources amount;
};

class CapacityLedger {
 public:
  void AddHold(Hold h);
  // Removes the run's hold; false if it had none.
  bool RemoveHold(const std::string& run);
  void AddReservation(ReservationHold r);
  const Hold* FindHold(const std::string& run) const;
  std::vector<const Hold*> HoldsOn(const std::string& instance) const;
  const std::vector<Hold>& holds() const { return holds_; }
  const std::vector<ReservationHold>& reservations() const { return reservations_; }

  // What is set aside on an instance: runs outside reservations plus every reservation's full
  // amount (runs inside a reservation use the reservation's share).
  Resources HeldOn(const std::string& instance) const;
  // What is left of a reservation on an instance.
  Resources ReservationRemaining(const std::string& reservation, const std::string& instance) const;

  // Rebuilds the ledger from stored state: every CommandRun that is Allocated or Running holds
  // status.allocation; every Bound reservation holds status.boundInstances. `priorities` maps
  // PriorityClass names to values (see ResolvePriority).
  static CapacityLedger Rebuild(const std::vector<api::CommandRun>& runs,
                                const std::vector<api::ResourceReservation>& reservations,
                                const std::map<std::string, int32_t>& priorities);

 private:
  std::vector<Hold> holds_;  // in the order they were added
  std::unordered_map<std::string, size_t> hold_index_;  // run -> position in holds_
  std::vector<ReservationHold> reservations_;
};

// A run's priority: spec.priority, else the value of spec.priorityClassName, else 0. Sets
// `*known` to false when the class is named but not in `priorities` (the run then gets 0).
int32_t ResolvePriority(const api::CommandRunSpec& spec, const std::map<std::string, int32_t>& priorities,
                        bool* known = nullptr);

struct CapacityView {
  std::vector<Instance> instances;
  std::vector<Node> nodes;
  // The autoscaler's node groups when known (prescient-sim, a configured cluster). Empty: unknown;
  // placement then asks for nodes whenever none has room and lets the autoscaler decide.
  std::vector<NodeGroup> node_groups;
  std::vector<Pool> pools;
  std::map<std::string, NamespaceQuota> quotas;  // by namespace
  CapacityLedger ledger;

  const Instance* FindInstance(const std::string& key) const;
  Instance* FindInstance(const std::string& key);
  const Pool* FindPool(const std::string& ns, const std::string& name) const;
  Pool* FindPool(const std::string& ns, const std::string& name);
  // What runs may use on an instance at most: its size minus what the guest keeps.
  Resources Usable(const Instance& i, const Policy& p) const;
  // Usable minus what is held (never negative).
  Resources Free(const Instance& i, const Policy& p) const;
  // The instances in `ns` that `target` names, in name order (ready or not).
  std::vector<const Instance*> Candidates(const std::string& ns, const api::Target& target) const;
};

}  // namespace prescient::placement
