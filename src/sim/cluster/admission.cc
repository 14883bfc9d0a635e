// Admission hooks: the Priority plugin (spec.priority from priorityClassName or the global
// default), the ResourceQuota plugin (pods and object counts), and the ProvisioningRequest
// CRD's CEL immutability rules (the store evaluates no CEL).
#include <optional>

#include "sim/cluster/controllers.h"
#include "sim/cluster/quota.h"

namespace prescient::sim::cluster {

namespace {

Status ResolvePriority(AdmissionRequest& req) {
  Json& pod = *req.object;
  std::string pc_name = Str(pod, {"spec", "priorityClassName"});
  std::optional<Json> pc;
  if (!pc_name.empty()) {
    if (const Json* found = req.reader->Find(gvr::kPriorityClasses, "", pc_name)) pc = *found;
    if (!pc) {
      if (pc_name == "system-cluster-critical" || pc_name == "system-node-critical") {
        pod["spec"]["priority"] = pc_name == "system-node-critical" ? 2000001000 : 2000000000;
        return Status::Ok();
      }
      std::string name = Str(pod, {"metadata", "name"}, Str(pod, {"metadata", "generateName"}));
      return Status(Code::kForbidden, "pods \"" + name + "\" is forbidden: no PriorityClass with name " + pc_name +
                                          " was found")
          .WithHttp(403, "Forbidden");
    }
  } else {
    req.reader->ForEach(gvr::kPriorityClasses, "", [&](const Json& c) {
      if (c.value("globalDefault", false)) pc = c;
    });
    if (pc) pod["spec"]["priorityClassName"] = Str(*pc, {"metadata", "name"});
  }
  int32_t value = 0;
  if (pc && pc->contains("value") && (*pc)["value"].is_number_integer()) value = (*pc)["value"].get<int32_t>();
  pod["spec"]["priority"] = value;
  if (pc && !pod["spec"].contains("preemptionPolicy")) {
    pod["spec"]["preemptionPolicy"] = pc->value("preemptionPolicy", "PreemptLowerPriority");
  }
  return Status::Ok();
}

Status CheckPodQuota(AdmissionRequest& req) {
  const Json& pod = *req.object;
  std::string name = Str(pod, {"metadata", "name"}, Str(pod, {"metadata", "generateName"}));
  std::vector<QuotaSpec> quotas;
  Status bad;
  req.reader->ForEach(gvr::kResourceQuotas, req.ns, [&](const Json& q) {
    auto spec = QuotaSpecFromJson(q);
    if (spec.ok()) quotas.push_back(*spec);
  });
  if (quotas.empty()) return Status::Ok();
  auto res = PodResourcesFromJson(pod);
  if (!res.ok()) {
    return Status(Code::kInvalid, "Pod \"" + name + "\" is invalid: " + res.status().message()).WithHttp(422, "Invalid");
  }
  ResourceList requested = PodQuotaUsage(*res);
  for (const auto& q : quotas) {
    if (!QuotaMatchesPod(q, pod, *res)) continue;
    Status s = CheckMustSpecify(q, *res, name);
    if (!s.ok()) return s;
    ResourceList used;
    req.reader->ForEach(gvr::kPods, req.ns, [&](const Json& other) {
      if (PodIsTerminal(other)) return;
      auto r = PodResourcesFromJson(other);
      if (!r.ok() || !QuotaMatchesPod(q, other, *r)) return;
      AddTo(used, PodQuotaUsage(*r));
    });
    s = CheckQuota(q, used, requested, "pods", name);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status CheckObjectCountQuota(AdmissionRequest& req) {
  const ResourceInfo& info = *req.resource;
  std::string group_resource = info.group.empty() ? info.plural : info.plural + "." + info.group;
  ResourceList requested = ObjectCountUsage(group_resource);
  std::vector<QuotaSpec> quotas;
  req.reader->ForEach(gvr::kResourceQuotas, req.ns, [&](const Json& q) {
    auto spec = QuotaSpecFromJson(q);
    if (!spec.ok()) return;
    for (const auto& [k, _] : requested) {
      if (spec->hard.count(k)) {
        quotas.push_back(*spec);
        return;
      }
    }
  });
  if (quotas.empty()) return Status::Ok();
  int64_t existing = 0;
  req.reader->ForEach(info.Gvr(), req.ns, [&](const Json&) { ++existing; });
  ResourceList used;
  for (const auto& [k, _] : requested) used[k] = existing;
  std::string name = Str(*req.object, {"metadata", "name"}, Str(*req.object, {"metadata", "generateName"}));
  for (const auto& q : quotas) {
    Status s = CheckQuota(q, used, requested, group_resource, name);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status ProvisioningRequestImmutable(AdmissionRequest& req) {
  if (req.old_object == nullptr || req.object == nullptr || !req.subresource.empty()) return Status::Ok();
  for (const char* field : {"podSets", "provisioningClassName", "parameters"}) {
    const Json* before = Find(*req.old_object, {"spec", field});
    const Json* after = Find(*req.object, {"spec", field});
    bool same = (before == nullptr && after == nullptr) || (before != nullptr && after != nullptr && *before == *after);
    if (!same) {
      return Status(Code::kInvalid, "ProvisioningRequest.autoscaling.x-k8s.io \"" + req.name +
                                        "\" is invalid: spec." + field + ": Invalid value: \"object\": Value is immutable")
          .WithHttp(422, "Invalid");
    }
  }
  return Status::Ok();
}

}  // namespace

void InstallAdmission(Store& store, const Scenario&) {
  store.AddAdmissionHook([](AdmissionRequest& req) -> Status {
    if (req.dry_run && req.op == Operation::kDelete) return Status::Ok();
    const ResourceInfo& info = *req.resource;
    if (info.group.empty() && info.plural == "pods") {
      if (req.op != Operation::kCreate || req.object == nullptr) return Status::Ok();
      Status s = ResolvePriority(req);
      if (!s.ok()) return s;
      return CheckPodQuota(req);
    }
    if (info.group == "autoscaling.x-k8s.io" && info.plural == "provisioningrequests" && req.op == Operation::kUpdate) {
      return ProvisioningRequestImmutable(req);
    }
    if (req.op == Operation::kCreate && info.namespaced && req.object != nullptr && !req.ns.empty() &&
        !(info.group.empty() && info.plural == "events")) {
      return CheckObjectCountQuota(req);
    }
    return Status::Ok();
  });
}

}  // namespace prescient::sim::cluster
