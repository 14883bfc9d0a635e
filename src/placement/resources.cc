#include "placement/resources.h"

#include "common/quantity.h"

namespace prescient::placement {

std::string Resources::ToString() const {
  return FormatCpuMilli(cpu_milli) + " CPU, " + FormatBytes(memory_bytes) + " memory";
}

int64_t LauncherMemoryOverhead(int vcpus, int64_t guest_memory_bytes) {
  int64_t overhead = kLauncherFixedOverheadBytes + int64_t{vcpus} * kLauncherOverheadPerVcpuBytes +
                     guest_memory_bytes / 1024 / kLauncherPageTableDivisor * 1024;
  return AlignUp(overhead, kMiB);
}

Resources LauncherRequests(int vcpus, int64_t guest_memory_bytes) {
  return {int64_t{vcpus} * kLauncherCpuMilliPerVcpu, guest_memory_bytes + LauncherMemoryOverhead(vcpus, guest_memory_bytes)};
}

ProvisioningHint LauncherPodHint(int vcpus, int64_t guest_memory_bytes, int count) {
  ProvisioningHint h;
  h.pod_requests = LauncherRequests(vcpus, guest_memory_bytes);
  h.count = count;
  h.node_selector = {{"kubevirt.io/schedulable", "true"}};
  h.extended_resources = {{"devices.kubevirt.io/kvm", 1}, {"devices.kubevirt.io/tun", 1}, {"devices.kubevirt.io/vhost-net", 1}};
  return h;
}

}  // namespace prescient::placement
