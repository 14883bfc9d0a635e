#include "sim/merge_types.h"

#include <map>

namespace prescient::sim {
namespace {

std::string Join(const TypePath& p, size_t from = 0) {
  std::string s;
  for (size_t i = from; i < p.size(); ++i) {
    if (i > from) s += '.';
    s += p[i];
  }
  return s;
}

ListType MapList(std::vector<std::string> keys, Json defaults = Json::object()) {
  ListType t;
  t.kind = ListType::Kind::kMap;
  t.keys = std::move(keys);
  t.key_defaults = std::move(defaults);
  return t;
}

ListType SetList() {
  ListType t;
  t.kind = ListType::Kind::kSet;
  return t;
}

// Upstream's list types (k8s.io/api +listType/+listMapKeys markers) for the built-in fields the
// sim serves. Keys: "group/plural" + "|" + the joined type path.
const std::map<std::string, ListType>& BuiltinTable() {
  static const std::map<std::string, ListType> table = [] {
    std::map<std::string, ListType> t;
    const Json tcp = {{"protocol", "TCP"}};
    auto pod_spec = [&](const std::string& resource, const std::string& prefix) {
      for (const char* c : {"containers", "initContainers", "ephemeralContainers"}) {
        std::string base = resource + "|" + prefix + c;
        t[base] = MapList({"name"});
        t[base + ".[].ports"] = MapList({"containerPort", "protocol"}, tcp);
        t[base + ".[].env"] = MapList({"name"});
        t[base + ".[].volumeMounts"] = MapList({"mountPath"});
        t[base + ".[].volumeDevices"] = MapList({"devicePath"});
        t[base + ".[].resources.claims"] = MapList({"name"});
      }
      t[resource + "|" + prefix + "volumes"] = MapList({"name"});
      t[resource + "|" + prefix + "imagePullSecrets"] = MapList({"name"});
      t[resource + "|" + prefix + "hostAliases"] = MapList({"ip"});
      t[resource + "|" + prefix + "topologySpreadConstraints"] = MapList({"topologyKey", "whenUnsatisfiable"});
      t[resource + "|" + prefix + "schedulingGates"] = MapList({"name"});
      t[resource + "|" + prefix + "resourceClaims"] = MapList({"name"});
    };
    pod_spec("/pods", "spec.");
    t["/pods|status.conditions"] = MapList({"type"});
    t["/pods|status.podIPs"] = MapList({"ip"});
    t["/pods|status.resourceClaimStatuses"] = MapList({"name"});
    pod_spec("apps/deployments", "spec.template.spec.");
    t["apps/deployments|status.conditions"] = MapList({"type"});
    pod_spec("/podtemplates", "template.spec.");
    t["/services|spec.ports"] = MapList({"port", "protocol"}, tcp);
    t["/services|status.conditions"] = MapList({"type"});
    t["/nodes|status.conditions"] = MapList({"type"});
    t["/nodes|status.addresses"] = MapList({"type"});
    t["/nodes|spec.podCIDRs"] = SetList();
    t["/serviceaccounts|secrets"] = MapList({"name"});
    t["/namespaces|status.conditions"] = MapList({"type"});
    t["apiextensions.k8s.io/customresourcedefinitions|status.conditions"] = MapList({"type"});
    return t;
  }();
  return table;
}

PatchStrategy Merge(std::string key = "") { return PatchStrategy{true, std::move(key)}; }

// Upstream's patchStrategy:"merge" fields (k8s.io/api struct tags) of the built-ins the sim serves,
// keyed like BuiltinTable. Not listed: replaced whole (tolerations, taints, readinessGates,
// endpoint subsets, container statuses, namespace spec.finalizers, ...). "merge,retainKeys"
// fields (volumes, resourceClaims) merge like the others; $retainKeys is a patch directive the
// server honours wherever it appears.
const std::map<std::string, PatchStrategy>& StrategyTable() {
  static const std::map<std::string, PatchStrategy> table = [] {
    std::map<std::string, PatchStrategy> t;
    auto pod_spec = [&](const std::string& resource, const std::string& prefix) {
      for (const char* c : {"containers", "initContainers", "ephemeralContainers"}) {
        std::string base = resource + "|" + prefix + c;
        t[base] = Merge("name");
        t[base + ".[].ports"] = Merge("containerPort");
        t[base + ".[].env"] = Merge("name");
        t[base + ".[].volumeMounts"] = Merge("mountPath");
        t[base + ".[].volumeDevices"] = Merge("devicePath");
      }
      t[resource + "|" + prefix + "volumes"] = Merge("name");
      t[resource + "|" + prefix + "imagePullSecrets"] = Merge("name");
      t[resource + "|" + prefix + "hostAliases"] = Merge("ip");
      t[resource + "|" + prefix + "topologySpreadConstraints"] = Merge("topologyKey");
      t[resource + "|" + prefix + "schedulingGates"] = Merge("name");
      t[resource + "|" + prefix + "resourceClaims"] = Merge("name");
    };
    pod_spec("/pods", "spec.");
    t["/pods|status.conditions"] = Merge("type");
    t["/pods|status.podIPs"] = Merge("ip");
    t["/pods|status.hostIPs"] = Merge("ip");
    t["/pods|status.resourceClaimStatuses"] = Merge("name");
    pod_spec("/podtemplates", "template.spec.");
    pod_spec("apps/deployments", "spec.template.spec.");
    t["apps/deployments|status.conditions"] = Merge("type");
    t["/services|spec.ports"] = Merge("port");
    t["/services|status.conditions"] = Merge("type");
    t["/nodes|spec.podCIDRs"] = Merge();
    t["/nodes|status.conditions"] = Merge("type");
    t["/nodes|status.addresses"] = Merge("type");
    t["/namespaces|status.conditions"] = Merge("type");
    t["/serviceaccounts|secrets"] = Merge("name");
    return t;
  }();
  return table;
}

std::string StringAt(const Json& node, const char* key, const char* fallback) {
  auto it = node.find(key);
  return it != node.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// metadata is the same for every kind.
bool MetadataList(const TypePath& p, ListType* out) {
  if (p.size() != 2 || p[0] != "metadata") return false;
  if (p[1] == "finalizers") {
    *out = SetList();
    return true;
  }
  if (p[1] == "ownerReferences") {
    *out = MapList({"uid"});
    return true;
  }
  return false;
}

}  // namespace

MergeTypes MergeTypes::For(const ResourceInfo& info) {
  MergeTypes t;
  if (!info.builtin && info.schema.is_object()) {
    t.schema_ = &info.schema;
  } else {
    t.builtin_ = info.group + "/" + info.plural;
  }
  return t;
}

const Json* MergeTypes::SchemaAt(const TypePath& path) const {
  if (schema_ == nullptr) return nullptr;
  const Json* node = schema_;
  for (const auto& step : path) {
    if (!node->is_object()) return nullptr;
    if (step == "[]") {
      auto it = node->find("items");
      if (it == node->end()) return nullptr;
      node = &*it;
      continue;
    }
    auto props = node->find("properties");
    if (props != node->end() && props->is_object()) {
      auto it = props->find(step);
      if (it != props->end()) {
        node = &*it;
        continue;
      }
    }
    auto extra = node->find("additionalProperties");
    if (extra != node->end() && extra->is_object()) {
      node = &*extra;
      continue;
    }
    return nullptr;
  }
  return node->is_object() ? node : nullptr;
}

ListType MergeTypes::ListAt(const TypePath& path) const {
  ListType out;
  if (MetadataList(path, &out)) return out;
  if (schema_ != nullptr) {
    const Json* node = SchemaAt(path);
    if (node == nullptr) return out;
    std::string type = StringAt(*node, "x-kubernetes-list-type", "atomic");
    if (type == "set") return SetList();
    if (type != "map") return out;
    auto keys = node->find("x-kubernetes-list-map-keys");
    if (keys == node->end() || !keys->is_array() || keys->empty()) return out;  // ValidateCrd refuses it
    out.kind = ListType::Kind::kMap;
    const Json* item_props = nullptr;
    if (auto items = node->find("items"); items != node->end() && items->is_object()) {
      if (auto p = items->find("properties"); p != items->end() && p->is_object()) item_props = &*p;
    }
    for (const auto& k : *keys) {
      if (!k.is_string()) continue;
      out.keys.push_back(k.get<std::string>());
      if (item_props != nullptr) {
        auto prop = item_props->find(out.keys.back());
        if (prop != item_props->end() && prop->is_object() && prop->contains("default")) {
          out.key_defaults[out.keys.back()] = (*prop)["default"];
        }
      }
    }
    return out;
  }
  if (builtin_.empty()) return out;
  const auto& table = BuiltinTable();
  auto it = table.find(builtin_ + "|" + Join(path));
  return it == table.end() ? out : it->second;
}

PatchStrategy MergeTypes::StrategyAt(const TypePath& path) const {
  if (path.size() == 2 && path[0] == "metadata") {
    if (path[1] == "finalizers") return Merge();
    if (path[1] == "ownerReferences") return Merge("uid");
  }
  if (builtin_.empty()) return {};
  const auto& table = StrategyTable();
  auto it = table.find(builtin_ + "|" + Join(path));
  return it == table.end() ? PatchStrategy() : it->second;
}

bool MergeTypes::AtomicMapAt(const TypePath& path) const {
  const Json* node = SchemaAt(path);
  return node != nullptr && StringAt(*node, "x-kubernetes-map-type", "granular") == "atomic";
}

}  // namespace prescient::sim
