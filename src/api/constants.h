// Names of the prescient.dev API: the group/version, the two custom resources, and the label,
// annotation, finalizer and condition names the operator, the agent and the CLI share. Everything
// here is a compile-time constant; include it instead of spelling a name twice.
#pragma once

#include <cstdint>

#include "kube/resource.h"

namespace prescient::api {

inline constexpr const char* kGroup = "prescient.dev";
inline constexpr const char* kVersion = "v1alpha1";
inline constexpr const char* kApiVersion = "prescient.dev/v1alpha1";
inline constexpr const char* kCommandRunKind = "CommandRun";
inline constexpr const char* kResourceReservationKind = "ResourceReservation";

inline const kube::ResourceType kCommandRuns{"prescient.dev", "v1alpha1", "commandruns", "CommandRun", true};
inline const kube::ResourceType kResourceReservations{"prescient.dev", "v1alpha1", "resourcereservations",
                                                      "ResourceReservation", true};

// Labels.
// On a CommandRun: the VMI it is bound to. The agent of that VMI watches `prescient.dev/instance=<vmi>`.
inline constexpr const char* kInstanceLabel = "prescient.dev/instance";
// On a CommandRun drawing on a reservation: the reservation's name (lets the reservation
// controller list its users with a selector).
inline constexpr const char* kReservationLabel = "prescient.dev/reservation";
// On objects the operator creates (ResourceQuota, ProvisioningRequest, PodTemplate, balloon pods).
inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedByValue = "prescient-operator";
// On objects created for one run (PodTemplate/ProvisioningRequest): the run's name.
inline constexpr const char* kRunLabel = "prescient.dev/commandrun";

// Finalizer on a CommandRun while it holds an allocation: removed after release.
inline constexpr const char* kAllocationFinalizer = "prescient.dev/allocation";
// Finalizer on a ResourceReservation while it holds capacity.
inline constexpr const char* kReservationFinalizer = "prescient.dev/reservation";

// Annotations.
// On a Deployment a run depends on: the replica count to scale it to ahead of the run ("1").
inline constexpr const char* kScaleFromZeroAnnotation = "prescient.dev/scale-from-zero";
// On a VirtualMachinePool: the most replicas Prescient may scale it to (default: no scaling).
inline constexpr const char* kPoolMaxReplicasAnnotation = "prescient.dev/max-replicas";
// On a CommandRun, written by the operator: the UID of the ProvisioningRequest asked for it.
inline constexpr const char* kProvisioningRequestAnnotation = "prescient.dev/provisioning-request";

// Condition types on a CommandRun.
inline constexpr const char* kConditionValid = "Valid";
inline constexpr const char* kConditionPredicted = "Predicted";
inline constexpr const char* kConditionDependenciesReady = "DependenciesReady";
inline constexpr const char* kConditionAllocated = "Allocated";
inline constexpr const char* kConditionCompleted = "Completed";
// Condition types on a ResourceReservation.
inline constexpr const char* kConditionBound = "Bound";

// Condition reasons shared by the operator's stages.
inline constexpr const char* kReasonInvalidSpec = "InvalidSpec";
inline constexpr const char* kReasonValidated = "Validated";

// Preemption of running runs (status.stopRequest, docs/agent-protocol.md).
inline constexpr const char* kReasonPreempted = "Preempted";
inline constexpr int32_t kDefaultStopGracePeriodSeconds = 30;
inline constexpr int32_t kMaxStopGracePeriodSeconds = 3600;
// status.allocation.ioWeight bounds (cgroup v2 io.weight).
inline constexpr int32_t kMinIoWeight = 1;
inline constexpr int32_t kMaxIoWeight = 10000;

// Defaults the API server applies (from the CRD schema); used when a field is absent.
inline constexpr int64_t kDefaultTimeoutSeconds = 3600;
inline constexpr int32_t kDefaultShadowDurationSeconds = 10;

}  // namespace prescient::api
