// The sim's stand-in for the Deployment controller: every Deployment is immediately fully rolled
// out (status replicas/ready/available/updated = spec.replicas, observedGeneration current,
// Available and Progressing conditions), which is what callers that scale a deployment and wait
// for it observe on a healthy cluster. No ReplicaSets or pods are created. Installed as a mutating
// admission hook, so the status is part of the same write. Thread-safe (stateless hook).
#pragma once

#include "sim/store.h"

namespace prescient::sim {

void InstallDeploymentRollout(Store& store);

// The status a rolled-out deployment has (pure; exposed for tests).
Json RolledOutDeploymentStatus(const Json& deployment, const std::string& now, const Json* old_status);

}  // namespace prescient::sim
