#include "sim/api_docs.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

namespace prescient::sim {
namespace {

struct VersionKey {
  int major = 0;
  int stage = 0;  // 3 GA, 2 beta, 1 alpha, 0 non-kube
  int minor = 0;
};

VersionKey Key(const std::string& v) {
  static const std::regex re("^v([0-9]+)(?:(alpha|beta)([0-9]+))?$");
  std::smatch m;
  VersionKey k;
  if (!std::regex_match(v, m, re)) return k;
  k.major = std::stoi(m[1]);
  if (m[2].matched) {
    k.stage = m[2] == "beta" ? 2 : 1;
    k.minor = std::stoi(m[3]);
  } else {
    k.stage = 3;
  }
  return k;
}

std::vector<std::string> SubresourcesOf(const ResourceInfo& r) {
  std::vector<std::string> out;
  if (r.status_subresource) out.push_back("status");
  if (r.scale_subresource) out.push_back("scale");
  if (r.builtin && r.group.empty() && r.plural == "pods") out.push_back("binding");
  return out;
}

// "io.kubevirt.v1.VirtualMachine", "io.k8s.api.core.v1.Pod".
std::string SchemaName(const ResourceInfo& r) {
  if (r.builtin) {
    std::string g = r.group.empty() ? "core" : r.group.substr(0, r.group.find('.'));
    return "io.k8s.api." + g + "." + r.version + "." + r.kind;
  }
  std::string rev;
  std::string g = r.group;
  size_t end = g.size();
  while (true) {
    size_t dot = g.rfind('.', end - 1);
    std::string part = g.substr(dot == std::string::npos ? 0 : dot + 1, end - (dot == std::string::npos ? 0 : dot + 1));
    rev += (rev.empty() ? "" : ".") + part;
    if (dot == std::string::npos || dot == 0) break;
    end = dot;
  }
  return rev + "." + r.version + "." + r.kind;
}

Json Gvk(const ResourceInfo& r) { return {{"group", r.group}, {"version", r.version}, {"kind", r.kind}}; }

Json Param(const std::string& name, const std::string& in, const std::string& desc, bool required = false) {
  Json p = {{"name", name}, {"in", in}, {"description", desc}, {"schema", {{"type", "string"}, {"uniqueItems", true}}}};
  if (required) p["required"] = true;
  return p;
}

Json RefResponse(const std::string& schema) {
  Json ref = {{"$ref", "#/components/schemas/" + schema}};
  return {{"description", "OK"},
          {"content", {{"application/json", {{"schema", ref}}}, {"application/yaml", {{"schema", ref}}}}}};
}

Json OpenApiOp(const ResourceInfo& r, const std::string& action, const std::string& op_id, const std::string& schema,
               bool write) {
  Json op = {{"tags", Json::array({r.group.empty() ? "core_" + r.version : r.group + "_" + r.version})},
             {"operationId", op_id},
             {"x-kubernetes-action", action},
             {"x-kubernetes-group-version-kind", Gvk(r)},
             {"responses", {{"200", RefResponse(schema)}, {"401", {{"description", "Unauthorized"}}}}}};
  Json params = Json::array({Param("pretty", "query", "If 'true', then the output is pretty printed.")});
  if (write) {
    params.push_back(Param("dryRun", "query", "When present, indicates that modifications should not be persisted."));
    params.push_back(Param("fieldManager", "query", "fieldManager is a name associated with the actor or entity that is making these changes."));
    params.push_back(Param("fieldValidation", "query",
                           "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) "
                           "containing unknown or duplicate fields. Valid values are: Ignore, Warn (default), Strict."));
  }
  op["parameters"] = params;
  return op;
}

std::string Cap(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

Json ObjectMetaSchema() {
  return Json::parse(R"({
    "type": "object",
    "description": "ObjectMeta is metadata that all persisted resources must have.",
    "properties": {
      "annotations": {"type": "object", "additionalProperties": {"type": "string", "default": ""}},
      "creationTimestamp": {"type": "string", "format": "date-time"},
      "deletionGracePeriodSeconds": {"type": "integer", "format": "int64"},
      "deletionTimestamp": {"type": "string", "format": "date-time"},
      "finalizers": {"type": "array", "items": {"type": "string", "default": ""}, "x-kubernetes-list-type": "set",
                     "x-kubernetes-patch-strategy": "merge"},
      "generateName": {"type": "string"},
      "generation": {"type": "integer", "format": "int64"},
      "labels": {"type": "object", "additionalProperties": {"type": "string", "default": ""}},
      "managedFields": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
      "name": {"type": "string"},
      "namespace": {"type": "string"},
      "ownerReferences": {"type": "array", "items": {"type": "object", "required": ["apiVersion", "kind", "name", "uid"],
        "properties": {"apiVersion": {"type": "string"}, "blockOwnerDeletion": {"type": "boolean"},
                       "controller": {"type": "boolean"}, "kind": {"type": "string"}, "name": {"type": "string"},
                       "uid": {"type": "string"}}},
        "x-kubernetes-list-map-keys": ["uid"], "x-kubernetes-list-type": "map",
        "x-kubernetes-patch-merge-key": "uid", "x-kubernetes-patch-strategy": "merge"},
      "resourceVersion": {"type": "string"},
      "selfLink": {"type": "string"},
      "uid": {"type": "string"}
    }})");
}

}  // namespace

bool VersionHigherPriority(const std::string& a, const std::string& b) {
  VersionKey ka = Key(a), kb = Key(b);
  if (ka.stage == 0 || kb.stage == 0) {
    if (ka.stage != kb.stage) return ka.stage > kb.stage;
    return a < b;
  }
  if (ka.stage == 3 && kb.stage == 3) return ka.major > kb.major;
  if (ka.stage != kb.stage) return ka.stage > kb.stage;
  if (ka.major != kb.major) return ka.major > kb.major;
  return ka.minor > kb.minor;
}

Json LegacyApiVersions(const std::string& server_address) {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs", {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}}}};
}

namespace {
std::map<std::string, std::vector<std::string>> GroupVersions(const std::vector<ResourceInfo>& resources) {
  std::map<std::string, std::set<std::string>> gv;
  for (const auto& r : resources) {
    if (!r.group.empty()) gv[r.group].insert(r.version);
  }
  std::map<std::string, std::vector<std::string>> out;
  for (auto& [g, vs] : gv) {
    std::vector<std::string> v(vs.begin(), vs.end());
    std::sort(v.begin(), v.end(), VersionHigherPriority);
    out[g] = v;
  }
  return out;
}

Json GroupJson(const std::string& g, const std::vector<std::string>& versions) {
  Json vs = Json::array();
  for (const auto& v : versions) vs.push_back({{"groupVersion", g + "/" + v}, {"version", v}});
  return {{"name", g}, {"versions", vs}, {"preferredVersion", vs[0]}};
}
}  // namespace

Json ApiGroupList(const std::vector<ResourceInfo>& resources) {
  Json groups = Json::array();
  for (const auto& [g, vs] : GroupVersions(resources)) groups.push_back(GroupJson(g, vs));
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

std::optional<Json> ApiGroup(const std::vector<ResourceInfo>& resources, const std::string& group) {
  auto gv = GroupVersions(resources);
  auto it = gv.find(group);
  if (it == gv.end()) return std::nullopt;
  Json g = GroupJson(group, it->second);
  g["kind"] = "APIGroup";
  g["apiVersion"] = "v1";
  return g;
}

std::optional<Json> ApiResourceList(const std::vector<ResourceInfo>& resources, const std::string& group,
                                    const std::string& version) {
  Json list = Json::array();
  bool found = false;
  for (const auto& r : resources) {
    if (r.group != group || r.version != version) continue;
    found = true;
    Json e = {{"name", r.plural}, {"singularName", r.singular}, {"namespaced", r.namespaced},
              {"kind", r.kind},   {"verbs", r.verbs}};
    if (!r.short_names.empty()) e["shortNames"] = r.short_names;
    if (!r.categories.empty()) e["categories"] = r.categories;
    list.push_back(e);
    for (const auto& sub : SubresourcesOf(r)) {
      Json s = {{"name", r.plural + "/" + sub}, {"singularName", ""}, {"namespaced", r.namespaced}};
      if (sub == "binding") {
        s["kind"] = "Binding";
        s["verbs"] = {"create"};
      } else if (sub == "scale") {
        s["group"] = "autoscaling";
        s["version"] = "v1";
        s["kind"] = "Scale";
        s["verbs"] = {"get", "patch", "update"};
      } else {
        s["kind"] = r.kind;
        s["verbs"] = {"get", "patch", "update"};
      }
      list.push_back(s);
    }
  }
  if (!found) return std::nullopt;
  return Json{{"kind", "APIResourceList"},
              {"apiVersion", "v1"},
              {"groupVersion", group.empty() ? version : group + "/" + version},
              {"resources", list}};
}

Json AggregatedDiscovery(const std::vector<ResourceInfo>& resources, bool core) {
  // group -> version -> resources
  std::map<std::string, std::map<std::string, Json>> tree;
  for (const auto& r : resources) {
    if (core != r.group.empty()) continue;
    Json e = {{"resource", r.plural},
              {"responseKind", Gvk(r)},
              {"scope", r.namespaced ? "Namespaced" : "Cluster"},
              {"singularResource", r.singular},
              {"verbs", r.verbs}};
    if (!r.short_names.empty()) e["shortNames"] = r.short_names;
    if (!r.categories.empty()) e["categories"] = r.categories;
    Json subs = Json::array();
    for (const auto& sub : SubresourcesOf(r)) {
      Json s = {{"subresource", sub}};
      if (sub == "binding") {
        s["responseKind"] = {{"group", ""}, {"version", "v1"}, {"kind", "Binding"}};
        s["verbs"] = {"create"};
      } else if (sub == "scale") {
        s["responseKind"] = {{"group", "autoscaling"}, {"version", "v1"}, {"kind", "Scale"}};
        s["verbs"] = {"get", "patch", "update"};
      } else {
        s["responseKind"] = Gvk(r);
        s["verbs"] = {"get", "patch", "update"};
      }
      subs.push_back(s);
    }
    if (!subs.empty()) e["subresources"] = subs;
    Json& vlist = tree[r.group][r.version];
    if (vlist.is_null()) vlist = Json::array();
    vlist.push_back(e);
  }
  Json items = Json::array();
  for (auto& [g, versions] : tree) {
    std::vector<std::string> names;
    for (auto& [v, _] : versions) names.push_back(v);
    std::sort(names.begin(), names.end(), VersionHigherPriority);
    Json vs = Json::array();
    for (const auto& v : names) vs.push_back({{"version", v}, {"resources", versions[v]}, {"freshness", "Current"}});
    items.push_back({{"metadata", {{"name", g}, {"creationTimestamp", nullptr}}}, {"versions", vs}});
  }
  return {{"kind", "APIGroupDiscoveryList"}, {"apiVersion", "apidiscovery.k8s.io/v2"}, {"metadata", Json::object()},
          {"items", items}};
}

Json OpenApiRoot(const std::vector<ResourceInfo>& resources) {
  std::map<std::string, std::string> fingerprint;
  for (const auto& r : resources) {
    std::string gv = r.group.empty() ? "api/" + r.version : "apis/" + r.group + "/" + r.version;
    fingerprint[gv] += r.plural + ":" + r.schema.dump() + r.printer_columns.dump() + ";";
  }
  Json paths = Json::object();
  for (const auto& [gv, fp] : fingerprint) {
    char hash[32];
    snprintf(hash, sizeof hash, "%016zX", std::hash<std::string>{}(fp));
    paths[gv] = {{"serverRelativeURL", "/openapi/v3/" + gv + "?hash=" + hash}};
  }
  return {{"paths", paths}};
}

std::optional<Json> OpenApiGroupVersion(const std::vector<ResourceInfo>& resources, const std::string& gv_path) {
  Json paths = Json::object();
  Json schemas = Json::object();
  bool found = false;
  for (const auto& r : resources) {
    std::string gv = r.group.empty() ? "api/" + r.version : "apis/" + r.group + "/" + r.version;
    if (gv != gv_path) continue;
    found = true;
    std::string schema = SchemaName(r);
    std::string list_schema = schema + "List";
    std::string base = "/" + gv + (r.namespaced ? "/namespaces/{namespace}/" : "/") + r.plural;
    std::string verb_kind = Cap(r.namespaced ? "Namespaced" + r.kind : r.kind);
    std::string id_suffix = (r.group.empty() ? "Core" : Cap(r.group.substr(0, r.group.find('.')))) + Cap(r.version);
    Json common = Json::array();
    if (r.namespaced) common.push_back(Param("namespace", "path", "object name and auth scope, such as for teams and projects", true));
    Json coll = {{"parameters", common}};
    coll["get"] = OpenApiOp(r, "list", "list" + id_suffix + verb_kind, list_schema, false);
    coll["post"] = OpenApiOp(r, "post", "create" + id_suffix + verb_kind, schema, true);
    coll["post"]["requestBody"] = {{"content", {{"*/*", {{"schema", {{"$ref", "#/components/schemas/" + schema}}}}}}}, {"required", true}};
    coll["delete"] = OpenApiOp(r, "deletecollection", "deletecollection" + id_suffix + verb_kind, "io.k8s.apimachinery.pkg.apis.meta.v1.Status", false);
    paths[base] = coll;
    Json item_params = common;
    item_params.push_back(Param("name", "path", "name of the " + r.kind, true));
    Json item = {{"parameters", item_params}};
    item["get"] = OpenApiOp(r, "get", "read" + id_suffix + verb_kind, schema, false);
    item["put"] = OpenApiOp(r, "put", "replace" + id_suffix + verb_kind, schema, true);
    item["put"]["requestBody"] = coll["post"]["requestBody"];
    item["delete"] = OpenApiOp(r, "delete", "delete" + id_suffix + verb_kind, schema, false);
    Json patch = OpenApiOp(r, "patch", "patch" + id_suffix + verb_kind, schema, true);
    patch["parameters"].push_back(Param("force", "query", "Force is going to \"force\" Apply requests."));
    Json obj_schema = {{"type", "object"}};
    Json content = {{"application/json-patch+json", {{"schema", obj_schema}}},
                    {"application/merge-patch+json", {{"schema", obj_schema}}},
                    {"application/apply-patch+yaml", {{"schema", obj_schema}}}};
    // Custom resources take no strategic merge patch: listing it would make kubectl send one.
    if (r.builtin) content["application/strategic-merge-patch+json"] = {{"schema", obj_schema}};
    patch["requestBody"] = {{"content", content}, {"required", true}};
    item["patch"] = patch;
    paths[base + "/{name}"] = item;
    if (r.status_subresource) {
      Json st = {{"parameters", item_params}};
      st["get"] = OpenApiOp(r, "get", "read" + id_suffix + verb_kind + "Status", schema, false);
      st["put"] = OpenApiOp(r, "put", "replace" + id_suffix + verb_kind + "Status", schema, true);
      st["put"]["requestBody"] = coll["post"]["requestBody"];
      st["patch"] = patch;
      st["patch"]["operationId"] = "patch" + id_suffix + verb_kind + "Status";
      paths[base + "/{name}/status"] = st;
    }
    if (r.namespaced) {
      Json all = {{"get", OpenApiOp(r, "list", "list" + id_suffix + Cap(r.kind) + "ForAllNamespaces", list_schema, false)}};
      paths["/" + gv + "/" + r.plural] = all;
    }
    // Schemas: custom resources carry their structural schema; built-ins are described only by
    // kind here (kubectl then falls back to its compiled-in types for strategic merge metadata).
    if (!r.builtin) {
      Json s = r.schema.is_object() ? r.schema : Json{{"type", "object"}};
      if (!s.contains("properties")) s["properties"] = Json::object();
      s["properties"]["apiVersion"] = {{"type", "string"}};
      s["properties"]["kind"] = {{"type", "string"}};
      s["properties"]["metadata"] = {{"allOf", {{{"$ref", "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}}}}};
      s["x-kubernetes-group-version-kind"] = Json::array({Gvk(r)});
      schemas[schema] = s;
      ResourceInfo li = r;
      li.kind = r.list_kind;
      schemas[list_schema] = {{"type", "object"},
                              {"required", {"items"}},
                              {"properties", {{"apiVersion", {{"type", "string"}}},
                                              {"kind", {{"type", "string"}}},
                                              {"items", {{"type", "array"}, {"items", {{"$ref", "#/components/schemas/" + schema}}}}},
                                              {"metadata", {{"type", "object"}}}}},
                              {"x-kubernetes-group-version-kind", Json::array({Gvk(li)})}};
    }
  }
  if (!found) return std::nullopt;
  schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"] = ObjectMetaSchema();
  schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Status"] = {
      {"type", "object"},
      {"properties", {{"code", {{"type", "integer"}}}, {"message", {{"type", "string"}}}, {"reason", {{"type", "string"}}},
                      {"status", {{"type", "string"}}}}}};
  return Json{{"openapi", "3.0.0"},
              {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
              {"paths", paths},
              {"components", {{"schemas", schemas}}}};
}

}  // namespace prescient::sim
