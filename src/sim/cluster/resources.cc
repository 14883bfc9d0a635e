#include "sim/cluster/resources.h"

#include <algorithm>
#include <cstdlib>

#include "common/quantity.h"

namespace prescient::sim::cluster {

bool IsCpuResource(std::string_view name) {
  return name == "cpu" || name == "requests.cpu" || name == "limits.cpu";
}

static bool IsByteResource(std::string_view name) {
  auto strip = [](std::string_view n) {
    for (std::string_view p : {"requests.", "limits."}) {
      if (n.substr(0, p.size()) == p) return n.substr(p.size());
    }
    return n;
  };
  std::string_view base = strip(name);
  return base == "memory" || base == "ephemeral-storage" || base == "storage" ||
         base.substr(0, 10) == "hugepages-";
}

Result<int64_t> ParseAmount(std::string_view name, const Json& value) {
  std::string text;
  if (value.is_string()) {
    text = value.get<std::string>();
  } else if (value.is_number_integer()) {
    text = std::to_string(value.get<int64_t>());
  } else if (value.is_number()) {
    text = value.dump();
  } else {
    return InvalidArgument(std::string(name) + ": quantity must be a string or a number, got " + value.dump());
  }
  auto v = IsCpuResource(name) ? ParseCpuMilli(text) : ParseQuantity(text);
  if (!v.ok()) return InvalidArgument(std::string(name) + ": " + v.status().message());
  if (*v < 0) return InvalidArgument(std::string(name) + ": quantity must not be negative: " + text);
  return *v;
}

std::string FormatAmount(std::string_view name, int64_t amount) {
  if (IsCpuResource(name)) return FormatCpuMilli(amount);
  if (IsByteResource(name)) return FormatBytes(amount);
  return std::to_string(amount);
}

Result<ResourceList> ParseResourceList(const Json& obj, std::string_view where) {
  ResourceList out;
  if (obj.is_null()) return out;
  if (!obj.is_object()) return InvalidArgument(std::string(where) + ": must be a map of resource name to quantity");
  for (const auto& [k, v] : obj.items()) {
    auto a = ParseAmount(k, v);
    if (!a.ok()) return InvalidArgument(std::string(where) + "." + a.status().message());
    out[k] = *a;
  }
  return out;
}

Json ResourceListToJson(const ResourceList& list) {
  Json out = Json::object();
  for (const auto& [k, v] : list) out[k] = FormatAmount(k, v);
  return out;
}

void AddTo(ResourceList& total, const ResourceList& more) {
  for (const auto& [k, v] : more) total[k] += v;
}

std::string FormatResourceList(const ResourceList& list) {
  std::string out;
  for (const auto& [k, v] : list) {
    if (!out.empty()) out += ",";
    out += k + "=" + FormatAmount(k, v);
  }
  return out;
}

const Json* Find(const Json& obj, std::initializer_list<const char*> path) {
  const Json* cur = &obj;
  for (const char* p : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(p);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string Str(const Json& obj, std::initializer_list<const char*> path, std::string fallback) {
  const Json* v = Find(obj, path);
  if (v == nullptr || !v->is_string()) return fallback;
  return v->get<std::string>();
}

Labels LabelsAt(const Json& obj, std::initializer_list<const char*> path) {
  Labels out;
  const Json* v = Find(obj, path);
  if (v == nullptr || !v->is_object()) return out;
  for (const auto& [k, val] : v->items()) {
    if (val.is_string()) out[k] = val.get<std::string>();
  }
  return out;
}

bool PodIsTerminal(const Json& pod) {
  std::string phase = Str(pod, {"status", "phase"});
  return phase == "Succeeded" || phase == "Failed";
}

Result<PodResources> PodResourcesFromJson(const Json& pod) {
  PodResources out;
  const Json* spec = Find(pod, {"spec"});
  if (spec == nullptr || !spec->is_object()) return InvalidArgument("spec: required");
  auto containerResources = [&](const Json& c, const std::string& where, ResourceList* req,
                                ResourceList* lim) -> Status {
    const Json* res = Find(c, {"resources"});
    if (res == nullptr) return Status::Ok();
    auto r = ParseResourceList(res->value("requests", Json()), where + ".resources.requests");
    if (!r.ok()) return r.status();
    auto l = ParseResourceList(res->value("limits", Json()), where + ".resources.limits");
    if (!l.ok()) return l.status();
    *req = *r;
    *lim = *l;
    // API defaulting: a limit without a request sets the request.
    for (const auto& [k, v] : *lim) req->emplace(k, v);
    return Status::Ok();
  };
  const Json* containers = Find(*spec, {"containers"});
  if (containers != nullptr && containers->is_array()) {
    for (size_t i = 0; i < containers->size(); ++i) {
      const Json& c = (*containers)[i];
      std::string cname = c.value("name", "container-" + std::to_string(i));
      ResourceList req, lim;
      Status s = containerResources(c, "spec.containers[" + std::to_string(i) + "]", &req, &lim);
      if (!s.ok()) return s;
      out.containers.push_back(cname);
      for (const char* r : {"cpu", "memory"}) {
        if (!req.count(r)) out.missing[std::string("requests.") + r].push_back(cname);
        if (!lim.count(r)) out.missing[std::string("limits.") + r].push_back(cname);
        if (req.count(r) || lim.count(r)) out.best_effort = false;
      }
      AddTo(out.requests, req);
      AddTo(out.limits, lim);
    }
  }
  const Json* inits = Find(*spec, {"initContainers"});
  if (inits != nullptr && inits->is_array()) {
    for (size_t i = 0; i < inits->size(); ++i) {
      ResourceList req, lim;
      Status s = containerResources((*inits)[i], "spec.initContainers[" + std::to_string(i) + "]", &req, &lim);
      if (!s.ok()) return s;
      for (const auto& [k, v] : req) out.requests[k] = std::max(out.requests[k], v);
      for (const auto& [k, v] : lim) out.limits[k] = std::max(out.limits[k], v);
    }
  }
  if (const Json* overhead = Find(*spec, {"overhead"})) {
    auto o = ParseResourceList(*overhead, "spec.overhead");
    if (!o.ok()) return o.status();
    AddTo(out.requests, *o);
    for (const auto& [k, v] : *o) {
      if (out.limits.count(k)) out.limits[k] += v;
    }
  }
  return out;
}

bool Tolerates(const std::vector<Toleration>& tolerations, const Taint& taint) {
  for (const auto& t : tolerations) {
    if (!t.effect.empty() && t.effect != taint.effect) continue;
    if (t.key.empty() && t.op == "Exists") return true;
    if (t.key != taint.key) continue;
    if (t.op == "Exists") return true;
    if (t.value == taint.value) return true;
  }
  return false;
}

Result<NodeInfo> NodeInfoFromJson(const Json& node) {
  NodeInfo n;
  n.name = Str(node, {"metadata", "name"});
  const Json* alloc = Find(node, {"status", "allocatable"});
  if (alloc == nullptr) alloc = Find(node, {"status", "capacity"});
  if (alloc != nullptr) {
    auto a = ParseResourceList(*alloc, "nodes/" + n.name + " status.allocatable");
    if (!a.ok()) return a.status();
    n.allocatable = *a;
  }
  n.labels = LabelsAt(node, {"metadata", "labels"});
  if (const Json* taints = Find(node, {"spec", "taints"}); taints != nullptr && taints->is_array()) {
    for (const auto& t : *taints) {
      n.taints.push_back({t.value("key", ""), t.value("value", ""), t.value("effect", "")});
    }
  }
  if (const Json* u = Find(node, {"spec", "unschedulable"}); u != nullptr && u->is_boolean()) n.unschedulable = u->get<bool>();
  if (const Json* conds = Find(node, {"status", "conditions"}); conds != nullptr && conds->is_array()) {
    for (const auto& c : *conds) {
      if (c.value("type", "") == "Ready") n.ready = c.value("status", "") == "True";
    }
  }
  return n;
}

namespace {

// A NodeSelectorTerm: its matchExpressions and matchFields requirements (ANDed).
NodeSelectorTerm TermFromJson(const Json& t) {
  NodeSelectorTerm term;
  if (!t.is_object()) return term;
  for (const char* part : {"matchExpressions", "matchFields"}) {
    auto exprs = t.find(part);
    if (exprs == t.end() || !exprs->is_array()) continue;
    for (const auto& e : *exprs) {
      if (!e.is_object()) continue;
      NodeSelectorRequirement r;
      r.key = e.contains("key") && e["key"].is_string() ? e["key"].get<std::string>() : "";
      r.op = e.contains("operator") && e["operator"].is_string() ? e["operator"].get<std::string>() : "";
      r.field = std::string(part) == "matchFields";
      if (auto v = e.find("values"); v != e.end() && v->is_array()) {
        for (const auto& x : *v) {
          if (x.is_string()) r.values.push_back(x.get<std::string>());
        }
      }
      term.push_back(std::move(r));
    }
  }
  return term;
}

}  // namespace

Result<PodInfo> PodInfoFromJson(const Json& pod) {
  PodInfo p;
  p.ns = Str(pod, {"metadata", "namespace"});
  p.name = Str(pod, {"metadata", "name"});
  p.uid = Str(pod, {"metadata", "uid"});
  p.creation = Str(pod, {"metadata", "creationTimestamp"});
  if (const Json* pr = Find(pod, {"spec", "priority"}); pr != nullptr && pr->is_number_integer()) {
    p.priority = pr->get<int32_t>();
  }
  p.preemption_never = Str(pod, {"spec", "preemptionPolicy"}) == "Never";
  auto res = PodResourcesFromJson(pod);
  if (!res.ok()) return Status(res.status().code(), "pods/" + p.name + ": " + res.status().message());
  p.requests = res->requests;
  p.node_selector = LabelsAt(pod, {"spec", "nodeSelector"});
  if (const Json* terms = Find(pod, {"spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution",
                                     "nodeSelectorTerms"});
      terms != nullptr && terms->is_array()) {
    for (const auto& t : *terms) p.required_affinity.push_back(TermFromJson(t));
    // A required affinity with no terms matches no node (upstream requires at least one).
    if (p.required_affinity.empty()) p.required_affinity.push_back({});
  }
  if (const Json* prefs = Find(pod, {"spec", "affinity", "nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution"});
      prefs != nullptr && prefs->is_array()) {
    for (const auto& t : *prefs) {
      if (!t.is_object()) continue;
      PreferredSchedulingTerm term;
      if (auto w = t.find("weight"); w != t.end() && w->is_number_integer()) term.weight = w->get<int32_t>();
      if (auto pref = t.find("preference"); pref != t.end()) term.preference = TermFromJson(*pref);
      p.preferred_affinity.push_back(std::move(term));
    }
  }
  if (const Json* tols = Find(pod, {"spec", "tolerations"}); tols != nullptr && tols->is_array()) {
    for (const auto& t : *tols) {
      Toleration tol;
      tol.key = t.value("key", "");
      tol.op = t.value("operator", "Equal");
      tol.value = t.value("value", "");
      tol.effect = t.value("effect", "");
      p.tolerations.push_back(tol);
    }
  }
  p.node_name = Str(pod, {"spec", "nodeName"});
  p.nominated_node_name = Str(pod, {"status", "nominatedNodeName"});
  return p;
}

namespace {

bool MatchesRequirement(const NodeSelectorRequirement& r, const NodeInfo& node) {
  const std::string* value = nullptr;
  if (r.field) {
    if (r.key != "metadata.name") return false;
    value = &node.name;
  } else if (auto it = node.labels.find(r.key); it != node.labels.end()) {
    value = &it->second;
  }
  auto in_values = [&] { return value && std::find(r.values.begin(), r.values.end(), *value) != r.values.end(); };
  if (r.op == "In") return in_values();
  if (r.op == "NotIn") return !in_values();
  if (r.field) return false;  // matchFields supports In and NotIn only
  if (r.op == "Exists") return value != nullptr;
  if (r.op == "DoesNotExist") return value == nullptr;
  if ((r.op == "Gt" || r.op == "Lt") && value != nullptr && r.values.size() == 1) {
    char* end1 = nullptr;
    char* end2 = nullptr;
    long long have = std::strtoll(value->c_str(), &end1, 10);
    long long want = std::strtoll(r.values[0].c_str(), &end2, 10);
    if (value->empty() || *end1 != '\0' || r.values[0].empty() || *end2 != '\0') return false;
    return r.op == "Gt" ? have > want : have < want;
  }
  return false;  // unknown operator (the API server would have refused the pod)
}

}  // namespace

namespace {

// A term matches when it has requirements and the node meets all of them.
bool MatchesTerm(const NodeSelectorTerm& term, const NodeInfo& node) {
  if (term.empty()) return false;
  for (const auto& r : term) {
    if (!MatchesRequirement(r, node)) return false;
  }
  return true;
}

}  // namespace

int64_t PreferredAffinityWeight(const PodInfo& pod, const NodeInfo& node) {
  int64_t sum = 0;
  for (const auto& t : pod.preferred_affinity) {
    if (t.weight != 0 && MatchesTerm(t.preference, node)) sum += t.weight;
  }
  return sum;
}

bool MatchesNodeAffinity(const PodInfo& pod, const NodeInfo& node) {
  for (const auto& [k, v] : pod.node_selector) {
    auto it = node.labels.find(k);
    if (it == node.labels.end() || it->second != v) return false;
  }
  if (pod.required_affinity.empty()) return true;
  for (const auto& term : pod.required_affinity) {
    if (MatchesTerm(term, node)) return true;
  }
  return false;
}

}  // namespace prescient::sim::cluster
