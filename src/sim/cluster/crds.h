// The CustomResourceDefinitions the sim installs at start: KubeVirt's VirtualMachine,
// VirtualMachineInstance, VirtualMachineInstanceMigration (kubevirt.io/v1), VirtualMachinePool
// (pool.kubevirt.io/v1beta1), and the cluster-autoscaler's ProvisioningRequest
// (autoscaling.x-k8s.io/v1). Schemas are our own, smaller than upstream's: every field the sim
// reads or writes is typed (checked against KubeVirt's OpenAPI and the upstream CRD in
// crds_test.cc), the rest of large subtrees (domain devices, volumes, ...) is preserved as-is.
// All have a status subresource and printer columns. Pure; thread-safe.
#pragma once

#include <vector>

#include "sim/cluster/resources.h"

namespace prescient::sim::cluster {

std::vector<Json> ClusterCrds();

// Resource names (group, version, plural) the controllers use.
struct Gvr {
  const char* group;
  const char* version;
  const char* plural;
};
inline constexpr Gvr kVirtualMachines{"kubevirt.io", "v1", "virtualmachines"};
inline constexpr Gvr kVirtualMachineInstances{"kubevirt.io", "v1", "virtualmachineinstances"};
inline constexpr Gvr kMigrations{"kubevirt.io", "v1", "virtualmachineinstancemigrations"};
inline constexpr Gvr kPools{"pool.kubevirt.io", "v1beta1", "virtualmachinepools"};
inline constexpr Gvr kProvisioningRequests{"autoscaling.x-k8s.io", "v1", "provisioningrequests"};

inline constexpr const char* kCheckCapacityClass = "check-capacity.autoscaling.x-k8s.io";
inline constexpr const char* kAtomicScaleUpClass = "best-effort-atomic-scale-up.autoscaling.x-k8s.io";

}  // namespace prescient::sim::cluster
