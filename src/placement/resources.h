// Plain resource amounts for placement decisions and the virt-launcher pod arithmetic (how big a
// KubeVirt VM's pod is for a given guest size: what node capacity and namespace quota a VM needs).
// Pure values and functions; thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>

namespace prescient::placement {

inline constexpr int64_t kMiB = 1024 * 1024;
inline constexpr int64_t kGiB = 1024 * kMiB;

struct Resources {
  int64_t cpu_milli = 0;
  int64_t memory_bytes = 0;

  Resources operator+(const Resources& o) const { return {cpu_milli + o.cpu_milli, memory_bytes + o.memory_bytes}; }
  Resources operator-(const Resources& o) const { return {cpu_milli - o.cpu_milli, memory_bytes - o.memory_bytes}; }
  Resources& operator+=(const Resources& o) { return *this = *this + o; }
  Resources& operator-=(const Resources& o) { return *this = *this - o; }
  // Whether `need` fits in these amounts.
  bool Holds(const Resources& need) const { return need.cpu_milli <= cpu_milli && need.memory_bytes <= memory_bytes; }
  bool operator==(const Resources&) const = default;
  std::string ToString() const;  // "1500m CPU, 2Gi memory"
};

inline Resources Max(const Resources& a, const Resources& b) {
  return {std::max(a.cpu_milli, b.cpu_milli), std::max(a.memory_bytes, b.memory_bytes)};
}
inline Resources Min(const Resources& a, const Resources& b) {
  return {std::min(a.cpu_milli, b.cpu_milli), std::min(a.memory_bytes, b.memory_bytes)};
}

// KubeVirt memory hotplug works in 2 MiB steps.
inline constexpr int64_t kMemoryAlignment = 2 * kMiB;
inline int64_t AlignUp(int64_t v, int64_t a) { return v <= 0 ? 0 : (v + a - 1) / a * a; }

// The virt-launcher pod's requests for a VM of `vcpus` and `guest_memory_bytes`, as KubeVirt renders
// them with its defaults (renderresources.go GetMemoryOverhead, amd64, default devices; the same
// formula prescient-sim's KubeVirt uses, src/sim/cluster/kubevirt.cc):
//   cpu    = 100m per vCPU (cpuAllocationRatio 10)
//   memory = guest + 260 MiB fixed (virt-launcher-monitor 25, virt-launcher 100, virtlogd 25,
//            virtqemud 40, QEMU 30, IOThread 8, video RAM 32) + 8 MiB per vCPU
//            + guest / 512 for page tables (in whole KiB), rounded up to whole MiB.
// Every capacity and quota decision uses this one formula.
inline constexpr int64_t kLauncherCpuMilliPerVcpu = 100;
inline constexpr int64_t kLauncherFixedOverheadBytes = 260 * kMiB;
inline constexpr int64_t kLauncherOverheadPerVcpuBytes = 8 * kMiB;
inline constexpr int64_t kLauncherPageTableDivisor = 512;

int64_t LauncherMemoryOverhead(int vcpus, int64_t guest_memory_bytes);
Resources LauncherRequests(int vcpus, int64_t guest_memory_bytes);

// What to ask the cluster-autoscaler for: `count` virt-launcher-shaped pods. The operator renders
// it as a PodTemplate for a ProvisioningRequest, or as balloon pods.
struct ProvisioningHint {
  Resources pod_requests;
  int count = 1;
  std::map<std::string, std::string> node_selector;       // kubevirt.io/schedulable=true
  std::map<std::string, int64_t> extended_resources;      // devices.kubevirt.io/{kvm,tun,vhost-net}: 1
  std::string node_group;                                  // the group expected to provide it ("" unknown)
  std::string reason;                                      // why nodes are needed
  bool operator==(const ProvisioningHint&) const = default;
};

ProvisioningHint LauncherPodHint(int vcpus, int64_t guest_memory_bytes, int count);

}  // namespace prescient::placement
