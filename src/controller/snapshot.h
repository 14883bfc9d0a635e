// The operator's typed view of the cluster, built from informer caches at the start of a reconcile:
// the KubeVirt instances (size from VMI status, hotplug maxima from VMI spec, the VM's desired size,
// pool membership), the virt-launcher pods' requests, nodes (allocatable minus pod requests),
// ResourceQuotas, and the allocations held by CommandRuns (the ledger, rebuilt from CommandRun
// status, so nothing is lost on a restart). This is the one place these kinds are converted from
// JSON (STYLE.md: JSON only at the edges); decisions take a ClusterSnapshot and never see JSON.
// Builders are pure functions of the objects passed in; the structs are plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/types.h"

namespace prescient::controller {

using Json = nlohmann::json;

struct InstanceView {
  std::string ns, name;      // the VMI (== the VM's name)
  std::string node;          // status.nodeName
  std::string pool;          // owning VirtualMachinePool of the VM, "" if none
  std::map<std::string, std::string> labels;  // the VMI's labels (VM selectors match these)
  bool running = false;      // phase Running and not being deleted (and its agent not lost)
  bool agent_lost = false;   // its agent's Lease is stale beyond the policy's grace
  int sockets = 1, cores = 1, threads = 1;    // status.currentCPUTopology
  int max_sockets = 0;       // spec.domain.cpu.maxSockets (0: no CPU hotplug)
  int64_t memory_bytes = 0;  // status.memory.guestCurrent
  int64_t max_guest = 0;     // spec.domain.memory.maxGuest (0: no memory hotplug)
  // A hotplug is in flight: HotVCPUChange/HotMemoryChange, or guestRequested != guestCurrent, or the
  // VM's template asks for more than the VMI has.
  bool hotplug_in_flight = false;
  bool restart_required = false;  // the VM's RestartRequired condition is True (the change cannot be hotplugged)
  int desired_sockets = 0;       // the VM's spec.template ... cpu.sockets
  int64_t desired_guest = 0;     // the VM's spec.template ... memory.guest
  // Requests of the instance's running virt-launcher pod (0 when not seen).
  int64_t launcher_cpu_milli = 0;
  int64_t launcher_memory_bytes = 0;
  int64_t CpuMilli() const { return int64_t{sockets} * cores * threads * 1000; }
  int64_t VcpusPerSocket() const { return int64_t{cores} * threads; }
};

struct NodeView {
  std::string name;
  bool ready = true;
  bool schedulable = true;  // not cordoned and kubevirt.io/schedulable=true
  std::map<std::string, std::string> labels;
  int64_t allocatable_cpu_milli = 0, allocatable_memory_bytes = 0;
  int64_t requested_cpu_milli = 0, requested_memory_bytes = 0;  // non-terminal pods bound to it
  int64_t FreeCpuMilli() const { return allocatable_cpu_milli - requested_cpu_milli; }
  int64_t FreeMemoryBytes() const { return allocatable_memory_bytes - requested_memory_bytes; }
};

struct QuotaView {
  std::string ns, name;
  bool owned = false;  // the operator may raise/lower spec.hard
  std::string resource_version;
  // requests.cpu / requests.memory (falling back to cpu / memory); nullopt = not constrained.
  std::optional<int64_t> hard_cpu_milli, hard_memory_bytes;
  int64_t used_cpu_milli = 0, used_memory_bytes = 0;
  // The hard values before the operator first raised them (annotation), for lowering again.
  std::optional<int64_t> baseline_cpu_milli, baseline_memory_bytes;
};

// One allocation held by a CommandRun (phase Allocated/Running, or Allocating while its hotplug is in
// flight), read back from status.allocation.
struct Holding {
  std::string run_key, run_uid;
  std::string instance;  // "ns/vmi"
  int64_t cpu_milli = 0, memory_bytes = 0;
  int32_t priority = 0;
  api::RunPhase phase = api::RunPhase::kNone;
  std::string reservation;  // "ns/name" when drawn from a reservation
  bool started = false;     // the agent has claimed it
  api::Time created{};      // the run's creationTimestamp (preemption takes the newest first)
  // spec.allowPreemptionWhileRunning: once started it may still be stopped for a higher-priority run.
  bool preemptible_while_running = false;
};

struct ReservationView {
  std::string ns, name;
  api::ResourceReservationSpec spec;
  bool active = true;    // inside its window and not being deleted
  std::string instance;  // "ns/vmi" the capacity is held on ("" = not bound yet)
  api::ReservationPhase phase = api::ReservationPhase::kNone;  // status.phase
};

struct PoolView {
  std::string ns, name;
  int replicas = 0;
  int max_replicas = 0;  // prescient.dev/max-replicas annotation; 0 = the operator may not scale it
  // The size a new VM of the pool boots with (spec.virtualMachineTemplate ... domain); memory 0
  // when the template does not say.
  int sockets = 1, cores = 1, threads = 1, max_sockets = 0;
  int64_t memory_bytes = 0, max_guest = 0;
};

struct ClusterSnapshot {
  std::map<std::string, InstanceView> instances;  // "ns/name"
  std::map<std::string, NodeView> nodes;
  std::map<std::string, std::vector<QuotaView>> quotas;  // by namespace
  std::vector<Holding> holdings;
  std::map<std::string, ReservationView> reservations;  // "ns/name"
  std::map<std::string, PoolView> pools;                // "ns/name"
  // PriorityClass name -> value.
  std::map<std::string, int32_t> priority_classes;
  // PriorityClasses with preemptionPolicy: Never (a run whose priority comes from one waits
  // instead of preempting).
  std::set<std::string> never_preempting_classes;

  int64_t HeldCpuMilli(const std::string& instance_key, const std::string& except_uid = "") const;
  int64_t HeldMemoryBytes(const std::string& instance_key, const std::string& except_uid = "") const;
};

// ---- the JSON edge: one function per kind -------------------------------------------------------
// `vm` may be null (VMI without a VM); `launcher` the VMI's running virt-launcher pod, or null.
InstanceView InstanceFromJson(const Json& vmi, const Json* vm, const Json* launcher);
// `pods` are the pods bound to this node (any namespace); balloon pods are not counted.
NodeView NodeFromJson(const Json& node, const std::vector<const Json*>& pods);
PoolView PoolFromJson(const Json& pool);
QuotaView QuotaFromJson(const Json& quota, const std::string& owned_quota_name);
// Holding of a CommandRun, if it holds capacity.
std::optional<Holding> HoldingFromRun(const api::CommandRun& run, int32_t priority);

// Pod requests summed over containers (init containers: the max, as the scheduler counts them).
void PodRequests(const Json& pod, int64_t* cpu_milli, int64_t* memory_bytes);
bool PodIsTerminal(const Json& pod);

// Balloon pods (scalingMode Balloon): placeholders the operator creates so the autoscaler adds a
// node; any real pod preempts them, so they do not count against a node's free room.
inline constexpr const char* kBalloonLabel = "prescient.dev/balloon";

// The annotation on the operator-owned ResourceQuota that keeps the hard values from before it was
// first raised ("cpu=4,memory=8Gi"), so it can be lowered back after the runs finish.
inline constexpr const char* kQuotaBaselineAnnotation = "prescient.dev/baseline-hard";

}  // namespace prescient::controller
