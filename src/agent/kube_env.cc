#include "agent/kube_env.h"

#include "api/constants.h"

namespace prescient::agent {

namespace {
kube::WriteOptions Manager() {
  kube::WriteOptions o;
  o.field_manager = "prescient-agent";
  return o;
}
}  // namespace

Result<nlohmann::json> KubeRunApi::GetRun(const std::string& ns, const std::string& name) {
  return client_->Get(api::kCommandRuns, ns, name);
}
Result<nlohmann::json> KubeRunApi::UpdateRunStatus(const nlohmann::json& obj) {
  return client_->UpdateStatus(api::kCommandRuns, obj, Manager());
}
Result<nlohmann::json> KubeRunApi::GetVmi(const std::string& ns, const std::string& name) {
  return client_->Get(kVmiType, ns, name);
}
Result<nlohmann::json> KubeRunApi::GetLease(const std::string& ns, const std::string& name) {
  return client_->Get(kube::resources::kLease, ns, name);
}
Result<nlohmann::json> KubeRunApi::CreateLease(const nlohmann::json& lease) {
  return client_->Create(kube::resources::kLease, lease, Manager());
}
Result<nlohmann::json> KubeRunApi::UpdateLease(const nlohmann::json& lease) {
  return client_->Update(kube::resources::kLease, lease, Manager());
}

}  // namespace prescient::agent
