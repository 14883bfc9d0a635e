// KubeVirt's decisions as pure functions: the VM/VMI shape (CPU topology, guest memory, hotplug
// maxima with KubeVirt's defaults), the virt-launcher pod KubeVirt renders for it (memory = guest +
// KubeVirt's overhead formula, cpu = vCPUs / cpuAllocationRatio unless requested, the kvm/tun/
// vhost-net device requests, the kubevirt.io/schedulable node selector, limits when the namespace
// quota demands them), and the hotplug plan for a VM whose template changed under LiveUpdate
// (live change, wait for the one in flight, or RestartRequired). Thread-safe (no state).
#pragma once

#include <optional>
#include <string>

#include "sim/cluster/resources.h"
#include "sim/cluster/scenario.h"

namespace prescient::sim::cluster {

struct CpuTopology {
  int sockets = 1, cores = 1, threads = 1;
  int Vcpus() const { return sockets * cores * threads; }
  bool operator==(const CpuTopology&) const = default;
};

// spec.domain of a VMI or of a VM's spec.template.spec, reduced to what sizing needs.
struct VmiShape {
  CpuTopology cpu;
  int max_sockets = 0;   // 0 = not set
  int64_t guest = 0;     // memory.guest (or resources.requests.memory when guest is unset)
  int64_t max_guest = 0; // 0 = not set
  ResourceList requests, limits;  // domain.resources
};
// Parses spec.domain; `where` names the object in errors.
Result<VmiShape> ShapeFromDomain(const Json& domain, const std::string& where);
// KubeVirt's defaults under LiveUpdate: maxSockets = sockets × ratio, maxGuest = guest × ratio.
VmiShape WithHotplugDefaults(VmiShape s, const KubeVirtSettings& kv);

// KubeVirt's memory overhead of a virt-launcher pod (renderresources.go GetMemoryOverhead for
// amd64 with the default devices): fixed 220Mi (virt-launcher-monitor 25, virt-launcher 100,
// virtlogd 25, virtqemud 40, qemu 30) + guest/512 page tables + 8Mi per vCPU + 8Mi IOThread +
// 32Mi video RAM, rounded up to whole MiB.
int64_t MemoryOverhead(const VmiShape& shape);

struct LauncherLimits {
  bool cpu = false;     // the namespace quota constrains limits.cpu
  bool memory = false;  // ... limits.memory
};
// Requests and limits of the virt-launcher "compute" container.
struct LauncherResources {
  ResourceList requests, limits;
};
LauncherResources LauncherResourcesFor(const VmiShape& shape, const KubeVirtSettings& kv, LauncherLimits limits);

// The virt-launcher pod for `vmi` (owner reference, labels, node selector, tolerations, priority
// class copied as KubeVirt does). `migration_uid` non-empty marks a migration target pod.
Json LauncherPodObject(const Json& vmi, const LauncherResources& res, const std::string& pod_name,
                       const std::string& migration_uid);

// What the VM controller does about a difference between the VM template and its running VMI.
struct HotplugPlan {
  std::optional<int> new_sockets;      // propagate to the VMI spec now (live CPU hotplug)
  std::optional<int64_t> new_guest;    // propagate to the VMI spec now (live memory hotplug)
  bool cpu_waiting = false;            // a CPU change is pending behind one in flight
  bool memory_waiting = false;
  std::string restart_required;        // non-empty: RestartRequired with this message
};
struct VmiHotplugState {
  VmiShape spec;                 // the VMI's spec (with defaults as created)
  int64_t guest_at_boot = 0;     // status.memory.guestAtBoot
  bool cpu_in_flight = false;    // HotVCPUChange condition present
  bool memory_in_flight = false; // HotMemoryChange condition present
  bool migrating = false;        // a migration is running for the VMI
};
// `desired` is the VM template's shape; its unset maxima inherit the VMI's.
HotplugPlan PlanHotplug(const VmiShape& desired, const VmiHotplugState& vmi, bool live_update);

}  // namespace prescient::sim::cluster
