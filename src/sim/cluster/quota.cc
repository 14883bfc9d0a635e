#include "sim/cluster/quota.h"

#include <algorithm>

namespace prescient::sim::cluster {

Result<QuotaSpec> QuotaSpecFromJson(const Json& quota) {
  QuotaSpec q;
  q.ns = Str(quota, {"metadata", "namespace"});
  q.name = Str(quota, {"metadata", "name"});
  const Json* hard = Find(quota, {"spec", "hard"});
  if (hard != nullptr) {
    auto h = ParseResourceList(*hard, "resourcequotas/" + q.name + " spec.hard");
    if (!h.ok()) return h.status();
    q.hard = *h;
  }
  if (const Json* scopes = Find(quota, {"spec", "scopes"}); scopes != nullptr && scopes->is_array()) {
    for (const auto& s : *scopes) {
      if (s.is_string()) q.scopes.push_back(s.get<std::string>());
    }
  }
  if (const Json* exprs = Find(quota, {"spec", "scopeSelector", "matchExpressions"});
      exprs != nullptr && exprs->is_array()) {
    for (const auto& e : *exprs) {
      ScopeRequirement r;
      r.scope_name = e.value("scopeName", "");
      r.op = e.value("operator", "");
      if (e.contains("values") && e["values"].is_array()) {
        for (const auto& v : e["values"]) {
          if (v.is_string()) r.values.push_back(v.get<std::string>());
        }
      }
      q.scope_selector.push_back(r);
    }
  }
  return q;
}

static bool ScopeMatches(const std::string& scope, const Json& pod, const PodResources& res) {
  bool terminating = Find(pod, {"spec", "activeDeadlineSeconds"}) != nullptr;
  if (scope == "Terminating") return terminating;
  if (scope == "NotTerminating") return !terminating;
  if (scope == "BestEffort") return res.best_effort;
  if (scope == "NotBestEffort") return !res.best_effort;
  if (scope == "PriorityClass") return !Str(pod, {"spec", "priorityClassName"}).empty();
  return false;  // CrossNamespacePodAffinity and unknown scopes: not modelled
}

bool QuotaMatchesPod(const QuotaSpec& quota, const Json& pod, const PodResources& resources) {
  for (const auto& s : quota.scopes) {
    if (!ScopeMatches(s, pod, resources)) return false;
  }
  for (const auto& r : quota.scope_selector) {
    if (r.scope_name == "PriorityClass") {
      std::string pc = Str(pod, {"spec", "priorityClassName"});
      bool in = std::find(r.values.begin(), r.values.end(), pc) != r.values.end();
      if (r.op == "In" && !(!pc.empty() && in)) return false;
      if (r.op == "NotIn" && !pc.empty() && in) return false;
      if (r.op == "Exists" && pc.empty()) return false;
      if (r.op == "DoesNotExist" && !pc.empty()) return false;
    } else {
      bool m = ScopeMatches(r.scope_name, pod, resources);
      if ((r.op == "Exists" || r.op == "In") && !m) return false;
      if ((r.op == "DoesNotExist" || r.op == "NotIn") && m) return false;
    }
  }
  return true;
}

ResourceList PodQuotaUsage(const PodResources& res) {
  ResourceList u;
  u["pods"] = 1;
  u["count/pods"] = 1;
  for (const auto& [k, v] : res.requests) {
    u["requests." + k] = v;
    if (k == "cpu" || k == "memory" || k == "ephemeral-storage") u[k] = v;
  }
  for (const auto& [k, v] : res.limits) {
    if (k == "cpu" || k == "memory" || k == "ephemeral-storage") u["limits." + k] = v;
  }
  return u;
}

ResourceList ObjectCountUsage(const std::string& group_resource) {
  ResourceList u;
  u["count/" + group_resource] = 1;
  static const char* kLegacy[] = {"services", "configmaps", "secrets", "persistentvolumeclaims",
                                  "replicationcontrollers", "resourcequotas"};
  for (const char* l : kLegacy) {
    if (group_resource == l) u[l] = 1;
  }
  return u;
}

ResourceList RestrictTo(const ResourceList& usage, const ResourceList& hard) {
  ResourceList out;
  for (const auto& [k, _] : hard) {
    auto it = usage.find(k);
    out[k] = it == usage.end() ? 0 : it->second;
  }
  return out;
}

Status CheckQuota(const QuotaSpec& quota, const ResourceList& used, const ResourceList& requested,
                  const std::string& group_resource, const std::string& object_name) {
  ResourceList failed_req, failed_used, failed_hard;
  for (const auto& [k, limit] : quota.hard) {
    auto r = requested.find(k);
    if (r == requested.end() || r->second <= 0) continue;
    int64_t u = 0;
    if (auto it = used.find(k); it != used.end()) u = it->second;
    if (u + r->second > limit) {
      failed_req[k] = r->second;
      failed_used[k] = u;
      failed_hard[k] = limit;
    }
  }
  if (failed_req.empty()) return Status::Ok();
  std::string msg = group_resource + " \"" + object_name + "\" is forbidden: exceeded quota: " + quota.name +
                    ", requested: " + FormatResourceList(failed_req) + ", used: " + FormatResourceList(failed_used) +
                    ", limited: " + FormatResourceList(failed_hard);
  return Status(Code::kForbidden, msg).WithHttp(403, "Forbidden");
}

Status CheckMustSpecify(const QuotaSpec& quota, const PodResources& res, const std::string& object_name) {
  std::vector<std::string> missing;
  for (const auto& [k, _] : quota.hard) {
    std::string key = k;
    if (key == "cpu" || key == "memory") key = "requests." + key;
    if (key != "requests.cpu" && key != "requests.memory" && key != "limits.cpu" && key != "limits.memory") continue;
    auto it = res.missing.find(key);
    if (it != res.missing.end() && !it->second.empty() &&
        std::find(missing.begin(), missing.end(), k) == missing.end()) {
      missing.push_back(k);
    }
  }
  if (missing.empty()) return Status::Ok();
  std::sort(missing.begin(), missing.end());
  std::string list;
  for (const auto& m : missing) list += (list.empty() ? "" : ",") + m;
  return Status(Code::kForbidden, "pods \"" + object_name + "\" is forbidden: failed quota: " + quota.name +
                                      ": must specify " + list)
      .WithHttp(403, "Forbidden");
}

}  // namespace prescient::sim::cluster
