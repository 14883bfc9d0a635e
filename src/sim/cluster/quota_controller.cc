// The ResourceQuota controller: keeps status.hard (= spec.hard) and status.used current.
#include "sim/cluster/controllers.h"
#include "sim/cluster/quota.h"

namespace prescient::sim::cluster {

Status ReconcileQuotaStatus(Context& ctx) {
  auto quotas = ctx.store.List(gvr::kResourceQuotas, "");
  if (!quotas.ok()) return quotas.status();
  Status first_error;
  std::map<std::string, std::vector<Json>> pods_by_ns;
  bool pods_loaded = false;
  for (const auto& q : quotas->items) {
    auto spec = QuotaSpecFromJson(q);
    if (!spec.ok()) continue;
    if (!pods_loaded) {
      auto pods = ctx.store.List(gvr::kPods, "");
      if (!pods.ok()) return pods.status();
      for (auto& p : pods->items) {
        std::string pod_ns = Str(p, {"metadata", "namespace"});
        pods_by_ns[pod_ns].push_back(std::move(p));
      }
      pods_loaded = true;
    }
    ResourceList used;
    for (const auto& p : pods_by_ns[spec->ns]) {
      if (PodIsTerminal(p)) continue;
      auto r = PodResourcesFromJson(p);
      if (!r.ok() || !QuotaMatchesPod(*spec, p, *r)) continue;
      AddTo(used, PodQuotaUsage(*r));
    }
    // Object counts: count/<plural>[.<group>] and the legacy names.
    for (const auto& [key, _] : spec->hard) {
      std::string gr;
      if (key.rfind("count/", 0) == 0) {
        gr = key.substr(6);
      } else if (key == "services" || key == "configmaps" || key == "secrets" || key == "persistentvolumeclaims" ||
                 key == "replicationcontrollers" || key == "resourcequotas") {
        gr = key;
      } else {
        continue;
      }
      if (gr == "pods") continue;
      std::string plural = gr, group;
      if (auto dot = gr.find('.'); dot != std::string::npos) {
        plural = gr.substr(0, dot);
        group = gr.substr(dot + 1);
      }
      for (const auto& info : ctx.store.Resources()) {
        if (info.plural != plural || info.group != group) continue;
        auto list = ctx.store.List(info.Gvr(), spec->ns);
        if (list.ok()) used[key] = static_cast<int64_t>(list->items.size());
        break;
      }
    }
    Json status = {{"hard", ResourceListToJson(spec->hard)}, {"used", ResourceListToJson(RestrictTo(used, spec->hard))}};
    if (q.contains("status") && q["status"] == status) continue;
    Json updated = q;
    updated["status"] = status;
    auto r = ctx.store.UpdateStatus(gvr::kResourceQuotas, spec->ns, updated);
    if (!r.ok() && r.status().code() != Code::kConflict && r.status().code() != Code::kNotFound && first_error.ok()) {
      first_error = r.status();
    }
  }
  return first_error;
}

}  // namespace prescient::sim::cluster
