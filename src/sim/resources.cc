#include "sim/resources.h"

#include <regex>

#include "sim/schema.h"

namespace prescient::sim {
namespace {

const std::vector<std::string> kAllVerbs = {"create", "delete", "deletecollection", "get",
                                            "list",   "patch",  "update",           "watch"};

ResourceInfo B(std::string group, std::string plural, std::string singular, std::string kind, bool namespaced,
               bool status, std::vector<std::string> short_names, std::vector<std::string> categories = {}) {
  ResourceInfo r;
  r.group = std::move(group);
  r.version = "v1";
  r.plural = std::move(plural);
  r.singular = std::move(singular);
  r.kind = kind;
  r.list_kind = kind + "List";
  r.namespaced = namespaced;
  r.status_subresource = status;
  r.builtin = true;
  r.short_names = std::move(short_names);
  r.categories = std::move(categories);
  r.verbs = kAllVerbs;
  return r;
}

Status Invalid(const std::string& name, const std::string& detail) {
  return Status(Code::kInvalid, "CustomResourceDefinition.apiextensions.k8s.io \"" + name + "\" is invalid: " + detail)
      .WithHttp(422, "Invalid");
}

bool IsDnsLabel(const std::string& s) {
  static const std::regex re("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
  return !s.empty() && s.size() <= 63 && std::regex_match(s, re);
}

// Structural: every node with properties/items has a type (except int-or-string / preserve-unknown).
std::string FindNonStructural(const Json& s, const std::string& path) {
  if (!s.is_object()) return path.empty() ? "openAPIV3Schema" : path;
  bool exempt = s.value("x-kubernetes-int-or-string", false) || s.value("x-kubernetes-preserve-unknown-fields", false);
  if (!s.contains("type") && !exempt) return path.empty() ? "openAPIV3Schema.type" : path + ".type";
  if (auto p = s.find("properties"); p != s.end() && p->is_object()) {
    for (auto it = p->begin(); it != p->end(); ++it) {
      std::string bad = FindNonStructural(*it, (path.empty() ? "openAPIV3Schema" : path) + ".properties[" + it.key() + "]");
      if (!bad.empty()) return bad;
    }
  }
  if (auto i = s.find("items"); i != s.end()) {
    std::string bad = FindNonStructural(*i, (path.empty() ? "openAPIV3Schema" : path) + ".items");
    if (!bad.empty()) return bad;
  }
  if (auto a = s.find("additionalProperties"); a != s.end() && a->is_object()) {
    std::string bad = FindNonStructural(*a, (path.empty() ? "openAPIV3Schema" : path) + ".additionalProperties");
    if (!bad.empty()) return bad;
  }
  return "";
}

}  // namespace

std::vector<ResourceInfo> BuiltinResources() {
  std::vector<ResourceInfo> out = {
      B("", "namespaces", "namespace", "Namespace", false, true, {"ns"}),
      B("", "nodes", "node", "Node", false, true, {"no"}),
      B("", "pods", "pod", "Pod", true, true, {"po"}, {"all"}),
      B("", "resourcequotas", "resourcequota", "ResourceQuota", true, true, {"quota"}),
      B("", "events", "event", "Event", true, false, {"ev"}),
      B("", "services", "service", "Service", true, true, {"svc"}, {"all"}),
      B("", "endpoints", "endpoints", "Endpoints", true, false, {"ep"}),
      B("", "configmaps", "configmap", "ConfigMap", true, false, {"cm"}),
      B("", "secrets", "secret", "Secret", true, false, {}),
      B("", "serviceaccounts", "serviceaccount", "ServiceAccount", true, false, {"sa"}),
      B("", "podtemplates", "podtemplate", "PodTemplate", true, false, {}),
      B("events.k8s.io", "events", "event", "Event", true, false, {"ev"}),
      B("scheduling.k8s.io", "priorityclasses", "priorityclass", "PriorityClass", false, false, {"pc"}),
      B("coordination.k8s.io", "leases", "lease", "Lease", true, false, {}),
      B("apiextensions.k8s.io", "customresourcedefinitions", "customresourcedefinition", "CustomResourceDefinition",
        false, true, {"crd", "crds"}, {"api-extensions"}),
      B("apps", "deployments", "deployment", "Deployment", true, true, {"deploy"}, {"all"}),
  };
  for (auto& r : out) {
    if (r.plural == "deployments") r.scale_subresource = true;
  }
  return out;
}

Status ValidateCrd(const Json& crd) {
  std::string name = crd.value("/metadata/name"_json_pointer, "");
  const Json& spec = crd.contains("spec") ? crd["spec"] : Json();
  if (!spec.is_object()) return Invalid(name, "spec: Required value");
  std::string group = spec.value("group", "");
  const Json names = spec.value("names", Json::object());
  std::string plural = names.value("plural", "");
  if (group.empty()) return Invalid(name, "spec.group: Required value");
  if (plural.empty()) return Invalid(name, "spec.names.plural: Required value");
  if (!IsDnsLabel(plural)) return Invalid(name, "spec.names.plural: Invalid value: \"" + plural + "\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'");
  if (names.value("kind", "").empty()) return Invalid(name, "spec.names.kind: Required value");
  if (name != plural + "." + group) {
    return Invalid(name, "metadata.name: Invalid value: \"" + name + "\": must be spec.names.plural+\".\"+spec.group");
  }
  std::string scope = spec.value("scope", "");
  if (scope != "Namespaced" && scope != "Cluster") {
    return Invalid(name, "spec.scope: Unsupported value: \"" + scope + "\": supported values: \"Cluster\", \"Namespaced\"");
  }
  auto versions = spec.find("versions");
  if (versions == spec.end() || !versions->is_array() || versions->empty()) {
    return Invalid(name, "spec.versions: Invalid value: null: must have exactly one version marked as storage version");
  }
  int storage = 0;
  for (size_t i = 0; i < versions->size(); ++i) {
    const Json& v = (*versions)[i];
    std::string vp = "spec.versions[" + std::to_string(i) + "]";
    if (!v.is_object() || v.value("name", "").empty()) return Invalid(name, vp + ".name: Required value");
    if (v.value("storage", false)) ++storage;
    auto schema = v.find("schema");
    if (schema == v.end() || !schema->is_object() || !schema->contains("openAPIV3Schema")) {
      return Invalid(name, vp + ".schema.openAPIV3Schema: Required value: schemas are required");
    }
    std::string bad = FindNonStructural((*schema)["openAPIV3Schema"], "");
    if (!bad.empty()) return Invalid(name, vp + ".schema." + bad + ": Required value: must not be empty for specified object fields");
  }
  if (storage != 1) {
    return Invalid(name, "spec.versions: Invalid value: " + versions->dump() +
                             ": must have exactly one version marked as storage version");
  }
  return Status::Ok();
}

Result<std::vector<ResourceInfo>> ResourcesFromCrd(const Json& crd) {
  Status s = ValidateCrd(crd);
  if (!s.ok()) return s;
  const Json& spec = crd["spec"];
  const Json& names = spec["names"];
  std::vector<ResourceInfo> out;
  for (const auto& v : spec["versions"]) {
    if (!v.value("served", true)) continue;
    ResourceInfo r;
    r.group = spec["group"].get<std::string>();
    r.version = v["name"].get<std::string>();
    r.plural = names["plural"].get<std::string>();
    r.singular = names.value("singular", "");
    if (r.singular.empty()) {
      r.singular = names["kind"].get<std::string>();
      for (auto& c : r.singular) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    r.kind = names["kind"].get<std::string>();
    r.list_kind = names.value("listKind", r.kind + "List");
    r.namespaced = spec["scope"] == "Namespaced";
    r.builtin = false;
    if (auto sub = v.find("subresources"); sub != v.end() && sub->is_object()) {
      r.status_subresource = sub->contains("status");
      r.scale_subresource = sub->contains("scale");
    }
    if (auto sn = names.find("shortNames"); sn != names.end() && sn->is_array()) {
      for (const auto& x : *sn) r.short_names.push_back(x.get<std::string>());
    }
    if (auto c = names.find("categories"); c != names.end() && c->is_array()) {
      for (const auto& x : *c) r.categories.push_back(x.get<std::string>());
    }
    r.verbs = kAllVerbs;
    r.schema = v["schema"]["openAPIV3Schema"];
    r.preserve_unknown_fields = r.schema.value("x-kubernetes-preserve-unknown-fields", false);
    r.printer_columns = v.value("additionalPrinterColumns", Json::array());
    out.push_back(std::move(r));
  }
  return out;
}

void SetCrdEstablished(Json* crd, const std::string& now) {
  Json names = (*crd)["spec"]["names"];
  if (!names.contains("singular")) {
    std::string k = names.value("kind", "");
    for (auto& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    names["singular"] = k;
  }
  if (!names.contains("listKind")) names["listKind"] = names.value("kind", "") + "List";
  Json status = (*crd).value("status", Json::object());
  status["acceptedNames"] = names;
  Json stored = Json::array();
  for (const auto& v : (*crd)["spec"]["versions"]) {
    if (v.value("storage", false)) stored.push_back(v["name"]);
  }
  status["storedVersions"] = stored;
  auto cond = [&](const std::string& type, const std::string& reason, const std::string& message) {
    Json c = {{"type", type}, {"status", "True"}, {"lastTransitionTime", now}, {"reason", reason}, {"message", message}};
    if (status.contains("conditions")) {
      for (const auto& old : status["conditions"]) {
        if (old.value("type", "") == type && old.value("status", "") == "True") c["lastTransitionTime"] = old["lastTransitionTime"];
      }
    }
    return c;
  };
  status["conditions"] = Json::array({cond("NamesAccepted", "NoConflicts", "no conflicts found"),
                                      cond("Established", "InitialNamesAccepted", "the initial names have been accepted")});
  (*crd)["status"] = status;
}

std::string StorageKey(const GroupVersionResource& r) {
  if (r.group == "events.k8s.io" && r.resource == "events") return "/events";
  return r.group + "/" + r.resource;
}

Json EventToCore(const Json& ev) {
  Json c = Json::object();
  c["apiVersion"] = "v1";
  c["kind"] = "Event";
  if (ev.contains("metadata")) c["metadata"] = ev["metadata"];
  auto copy = [&](const char* from, const char* to) {
    if (auto it = ev.find(from); it != ev.end() && !it->is_null()) c[to] = *it;
  };
  copy("regarding", "involvedObject");
  copy("note", "message");
  copy("reason", "reason");
  copy("type", "type");
  copy("action", "action");
  copy("related", "related");
  copy("reportingController", "reportingComponent");
  copy("reportingInstance", "reportingInstance");
  copy("eventTime", "eventTime");
  copy("series", "series");
  copy("deprecatedSource", "source");
  copy("deprecatedFirstTimestamp", "firstTimestamp");
  copy("deprecatedLastTimestamp", "lastTimestamp");
  copy("deprecatedCount", "count");
  if (!c.contains("involvedObject")) c["involvedObject"] = Json::object();
  return c;
}

Json EventFromCore(const Json& core) {
  Json e = Json::object();
  e["apiVersion"] = "events.k8s.io/v1";
  e["kind"] = "Event";
  if (core.contains("metadata")) e["metadata"] = core["metadata"];
  auto copy = [&](const char* from, const char* to) {
    if (auto it = core.find(from); it != core.end() && !it->is_null()) e[to] = *it;
  };
  copy("involvedObject", "regarding");
  copy("message", "note");
  copy("reason", "reason");
  copy("type", "type");
  copy("action", "action");
  copy("related", "related");
  copy("reportingComponent", "reportingController");
  copy("reportingInstance", "reportingInstance");
  copy("eventTime", "eventTime");
  copy("series", "series");
  copy("source", "deprecatedSource");
  copy("firstTimestamp", "deprecatedFirstTimestamp");
  copy("lastTimestamp", "deprecatedLastTimestamp");
  copy("count", "deprecatedCount");
  return e;
}

bool FieldSelectorSupported(const GroupVersionResource& r, const std::string& f) {
  if (f == "metadata.name" || f == "metadata.namespace") return true;
  if (r.group == "" && r.resource == "pods") {
    return f == "spec.nodeName" || f == "status.phase" || f == "spec.schedulerName" || f == "spec.restartPolicy" ||
           f == "spec.serviceAccountName" || f == "status.podIP" || f == "status.nominatedNodeName" ||
           f == "spec.hostNetwork";
  }
  if (r.resource == "events" && (r.group == "" || r.group == "events.k8s.io")) {
    return f.rfind("involvedObject.", 0) == 0 || f.rfind("regarding.", 0) == 0 || f == "reason" || f == "type" ||
           f == "source" || f == "reportingComponent" || f == "reportingController";
  }
  if (r.group == "" && r.resource == "secrets") return f == "type";
  if (r.group == "" && r.resource == "nodes") return f == "spec.unschedulable";
  if (r.group == "" && r.resource == "namespaces") return f == "status.phase";
  return false;
}

std::string StorageFieldPath(const GroupVersionResource& r, const std::string& f) {
  if (r.group == "events.k8s.io") {
    if (f.rfind("regarding.", 0) == 0) return "involvedObject." + f.substr(10);
    if (f == "reportingController") return "reportingComponent";
  }
  return f;
}

}  // namespace prescient::sim
