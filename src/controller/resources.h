// The API resources the operator reads and writes besides its own (src/api/constants.h has
// CommandRun and ResourceReservation). Each one here is also listed, with the verbs used, in
// operator/rbac/clusterrole.yaml.
#pragma once

#include "kube/resource.h"

namespace prescient::controller::resources {

inline const kube::ResourceType kVirtualMachine{"kubevirt.io", "v1", "virtualmachines", "VirtualMachine", true};
inline const kube::ResourceType kVirtualMachineInstance{"kubevirt.io", "v1", "virtualmachineinstances",
                                                        "VirtualMachineInstance", true};
inline const kube::ResourceType kVirtualMachinePool{"pool.kubevirt.io", "v1beta1", "virtualmachinepools",
                                                    "VirtualMachinePool", true};
inline const kube::ResourceType kResourceQuota{"", "v1", "resourcequotas", "ResourceQuota", true};
inline const kube::ResourceType kPodTemplate{"", "v1", "podtemplates", "PodTemplate", true};
inline const kube::ResourceType kProvisioningRequest{"autoscaling.x-k8s.io", "v1", "provisioningrequests",
                                                     "ProvisioningRequest", true};
inline const kube::ResourceType kPriorityClass{"scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", false};
inline const kube::ResourceType kService{"", "v1", "services", "Service", true};
inline const kube::ResourceType kEndpoints{"", "v1", "endpoints", "Endpoints", true};
inline const kube::ResourceType kDeployment{"apps", "v1", "deployments", "Deployment", true};

}  // namespace prescient::controller::resources
