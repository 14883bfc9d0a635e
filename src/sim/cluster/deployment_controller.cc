// A minimal Deployment controller, so overprovisioning ("balloon") Deployments behave as on a real
// cluster: preempted pods are replaced, the replacements go Pending and drive a scale-up. Pods are
// owned by the Deployment directly (no ReplicaSet layer) and carry a pod-template-hash label; a
// template change replaces pods on the next pass (no rolling-update pacing).
#include <algorithm>
#include <functional>

#include "sim/cluster/controllers.h"

namespace prescient::sim::cluster {

namespace {
bool IsDeleting(const Json& obj) { return Find(obj, {"metadata", "deletionTimestamp"}) != nullptr; }
}  // namespace

Status ReconcileDeployments(Context& ctx) {
  auto deployments = ctx.store.List(gvr::kDeployments, "");
  if (!deployments.ok()) return deployments.status();
  if (deployments->items.empty()) return Status::Ok();
  Status first_error;
  auto note = [&](const Status& s) {
    if (!s.ok() && s.code() != Code::kConflict && s.code() != Code::kNotFound && first_error.ok()) first_error = s;
  };
  for (const auto& d : deployments->items) {
    if (IsDeleting(d)) continue;
    std::string ns = Str(d, {"metadata", "namespace"}), name = Str(d, {"metadata", "name"});
    std::string uid = Str(d, {"metadata", "uid"});
    int replicas = 1;
    if (const Json* r = Find(d, {"spec", "replicas"}); r != nullptr && r->is_number_integer()) replicas = r->get<int>();
    Json tmpl = Find(d, {"spec", "template"}) ? d["spec"]["template"] : Json::object();
    std::string hash = std::to_string(std::hash<std::string>{}(tmpl.dump()) % 10000000000ULL);
    auto pods = ctx.store.List(gvr::kPods, ns);
    if (!pods.ok()) return pods.status();
    std::vector<const Json*> current, stale;
    for (const auto& p : pods->items) {
      const Json* refs = Find(p, {"metadata", "ownerReferences"});
      bool owned = false;
      if (refs != nullptr && refs->is_array()) {
        for (const auto& r : *refs) owned = owned || r.value("uid", "") == uid;
      }
      if (!owned || IsDeleting(p) || PodIsTerminal(p)) continue;
      (Str(p, {"metadata", "labels", "pod-template-hash"}) == hash ? current : stale).push_back(&p);
    }
    for (const Json* p : stale) note(ctx.store.Delete(gvr::kPods, ns, Str(*p, {"metadata", "name"})).status());
    std::sort(current.begin(), current.end(), [](const Json* a, const Json* b) {
      return Str(*a, {"metadata", "creationTimestamp"}) < Str(*b, {"metadata", "creationTimestamp"});
    });
    for (int i = static_cast<int>(current.size()); i < replicas; ++i) {
      Json meta = tmpl.value("metadata", Json::object());
      if (!meta.is_object()) meta = Json::object();
      meta["name"] = name + "-" + hash + "-" + ctx.RandomSuffix();
      meta["namespace"] = ns;
      meta["labels"]["pod-template-hash"] = hash;
      meta["ownerReferences"] = Json::array({{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", name},
                                              {"uid", uid}, {"controller", true}, {"blockOwnerDeletion", true}}});
      Json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", meta}, {"spec", tmpl.value("spec", Json::object())}};
      auto r = ctx.store.Create(gvr::kPods, ns, pod);
      if (!r.ok()) {
        ctx.events.Record(d, "Warning", "FailedCreate", "Error creating: " + r.status().message(), "deployment-controller");
        if (r.status().code() != Code::kForbidden) note(r.status());
        break;
      }
    }
    for (int i = static_cast<int>(current.size()) - 1; i >= replicas; --i) {  // newest first
      note(ctx.store.Delete(gvr::kPods, ns, Str(*current[i], {"metadata", "name"})).status());
    }
    int ready = 0;
    for (const Json* p : current) {
      if (Str(*p, {"status", "phase"}) == "Running") ++ready;
    }
    int have = std::min<int>(current.size(), replicas);
    ready = std::min(ready, replicas);
    int64_t gen = 1;
    if (const Json* g = Find(d, {"metadata", "generation"}); g && g->is_number_integer()) gen = g->get<int64_t>();
    Json updated = d;
    Json& st = updated["status"];
    if (!st.is_object()) st = Json::object();
    st["observedGeneration"] = gen;
    st["replicas"] = have;
    st["updatedReplicas"] = have;
    st["readyReplicas"] = ready;
    st["availableReplicas"] = ready;
    st["unavailableReplicas"] = std::max(0, replicas - ready);
    bool available = ready >= replicas;
    SetCondition(updated, "Available", available ? "True" : "False",
                 available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                 available ? "Deployment has minimum availability." : "Deployment does not have minimum availability.",
                 ctx.Timestamp());
    if (updated != d) note(ctx.store.UpdateStatus(gvr::kDeployments, ns, updated).status());
  }
  return first_error;
}

}  // namespace prescient::sim::cluster
