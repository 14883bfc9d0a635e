// RunApi over the project's Kubernetes client (kube::Client): CommandRuns through the status
// subresource, the KubeVirt VMI, and coordination.k8s.io Leases. Thread-safe (the client is).
#pragma once

#include "agent/env.h"
#include "kube/client.h"

namespace prescient::agent {

inline const kube::ResourceType kVmiType{"kubevirt.io", "v1", "virtualmachineinstances", "VirtualMachineInstance",
                                         true};

class KubeRunApi : public RunApi {
 public:
  explicit KubeRunApi(kube::Client* client) : client_(client) {}
  Result<nlohmann::json> GetRun(const std::string& ns, const std::string& name) override;
  Result<nlohmann::json> UpdateRunStatus(const nlohmann::json& obj) override;
  Result<nlohmann::json> GetVmi(const std::string& ns, const std::string& name) override;
  Result<nlohmann::json> GetLease(const std::string& ns, const std::string& name) override;
  Result<nlohmann::json> CreateLease(const nlohmann::json& lease) override;
  Result<nlohmann::json> UpdateLease(const nlohmann::json& lease) override;

 private:
  kube::Client* client_;
};

}  // namespace prescient::agent
