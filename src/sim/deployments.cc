#include "sim/deployments.h"

#include "common/clock.h"

namespace prescient::sim {

Json RolledOutDeploymentStatus(const Json& d, const std::string& now, const Json* old_status) {
  int64_t replicas = 1;
  if (d.contains("spec") && d["spec"].is_object() && d["spec"].contains("replicas") &&
      d["spec"]["replicas"].is_number_integer()) {
    replicas = d["spec"]["replicas"].get<int64_t>();
  }
  int64_t generation = d.contains("metadata") ? d["metadata"].value("generation", int64_t{1}) : 1;
  auto condition = [&](const std::string& type, const std::string& reason, const std::string& message) {
    Json c = {{"type", type}, {"status", "True"}, {"lastUpdateTime", now}, {"lastTransitionTime", now},
              {"reason", reason}, {"message", message}};
    if (old_status && old_status->contains("conditions") && (*old_status)["conditions"].is_array()) {
      for (const auto& o : (*old_status)["conditions"]) {
        if (o.value("type", "") == type && o.value("status", "") == "True" && o.contains("lastTransitionTime")) {
          c["lastTransitionTime"] = o["lastTransitionTime"];
        }
      }
    }
    return c;
  };
  std::string name = d.contains("metadata") ? d["metadata"].value("name", "") : "";
  Json s = {{"observedGeneration", generation},
            {"replicas", replicas},
            {"updatedReplicas", replicas},
            {"readyReplicas", replicas},
            {"availableReplicas", replicas},
            {"conditions",
             Json::array({condition("Available", "MinimumReplicasAvailable", "Deployment has minimum availability."),
                          condition("Progressing", "NewReplicaSetAvailable",
                                    "ReplicaSet \"" + name + "\" has successfully progressed.")})}};
  if (replicas == 0) {
    s.erase("readyReplicas");
    s.erase("availableReplicas");
  }
  return s;
}

void InstallDeploymentRollout(Store& store) {
  store.AddAdmissionHook([](AdmissionRequest& req) -> Status {
    if (req.resource->group != "apps" || req.resource->plural != "deployments" || req.object == nullptr) {
      return Status::Ok();
    }
    const Json* old_status = req.old_object && req.old_object->contains("status") ? &(*req.old_object)["status"] : nullptr;
    Json status = RolledOutDeploymentStatus(*req.object, FormatRfc3339(SystemClock().Now()), old_status);
    // Keep timestamps stable when nothing else changed, so no-op writes stay no-ops.
    if (old_status) {
      Json a = status, b = *old_status;
      a.erase("conditions");
      b.erase("conditions");
      if (a == b && old_status->contains("conditions")) status["conditions"] = (*old_status)["conditions"];
    }
    (*req.object)["status"] = status;
    return Status::Ok();
  });
}

}  // namespace prescient::sim
