// JSON for ObjectMeta, conditions and the pieces CommandRun and ResourceReservation share.
#include "api/codec.h"
#include "api/json_reader.h"
#include "common/quantity.h"

namespace prescient::api {

using internal::ObjectReader;
using nlohmann::json;

ObjectMeta ObjectMetaFromJson(const json& j, FieldErrors* errors) {
  ObjectMeta m;
  ObjectReader r(&j, "metadata", errors, {}, /*strict=*/false);
  m.name = r.String("name").value_or("");
  m.ns = r.String("namespace").value_or("");
  m.uid = r.String("uid").value_or("");
  m.resource_version = r.String("resourceVersion").value_or("");
  m.generation = r.Int("generation").value_or(0);
  m.creation_timestamp = r.Timestamp("creationTimestamp");
  m.deletion_timestamp = r.Timestamp("deletionTimestamp");
  m.labels = r.StringMap("labels").value_or(std::map<std::string, std::string>{});
  m.annotations = r.StringMap("annotations").value_or(std::map<std::string, std::string>{});
  m.finalizers = r.StringList("finalizers").value_or(std::vector<std::string>{});
  return m;
}

json ObjectMetaToJson(const ObjectMeta& m) {
  json j = json::object();
  if (!m.name.empty()) j["name"] = m.name;
  if (!m.ns.empty()) j["namespace"] = m.ns;
  if (!m.uid.empty()) j["uid"] = m.uid;
  if (!m.resource_version.empty()) j["resourceVersion"] = m.resource_version;
  if (m.generation != 0) j["generation"] = m.generation;
  if (m.creation_timestamp) j["creationTimestamp"] = FormatRfc3339(*m.creation_timestamp);
  if (m.deletion_timestamp) j["deletionTimestamp"] = FormatRfc3339(*m.deletion_timestamp);
  if (!m.labels.empty()) j["labels"] = m.labels;
  if (!m.annotations.empty()) j["annotations"] = m.annotations;
  if (!m.finalizers.empty()) j["finalizers"] = m.finalizers;
  return j;
}

std::vector<Condition> ConditionsFromJson(const json& j, const std::string& path, FieldErrors* errors) {
  std::vector<Condition> out;
  if (j.is_null()) return out;
  if (!j.is_array()) {
    errors->push_back({path, "must be a list"});
    return out;
  }
  for (size_t i = 0; i < j.size(); ++i) {
    ObjectReader r(&j[i], path + "[" + std::to_string(i) + "]", errors, {}, false);
    if (!r.ok()) continue;
    Condition c;
    c.type = r.String("type").value_or("");
    auto status = r.String("status");
    if (status && !ParseConditionStatus(*status, &c.status))
      r.Error(r.PathOf("status"), "Unsupported value: \"" + *status + "\": supported values: \"True\", \"False\", \"Unknown\"");
    c.observed_generation = r.Int("observedGeneration").value_or(0);
    c.last_transition_time = r.Timestamp("lastTransitionTime").value_or(Time{});
    c.reason = r.String("reason").value_or("");
    c.message = r.String("message").value_or("");
    out.push_back(std::move(c));
  }
  return out;
}

json ConditionsToJson(const std::vector<Condition>& conditions) {
  json a = json::array();
  for (const Condition& c : conditions) {
    json j = {{"type", c.type},
              {"status", ConditionStatusName(c.status)},
              {"lastTransitionTime", FormatRfc3339(c.last_transition_time)},
              {"reason", c.reason},
              {"message", c.message}};
    if (c.observed_generation != 0) j["observedGeneration"] = c.observed_generation;
    a.push_back(std::move(j));
  }
  return a;
}

namespace internal {

void DecodeTarget(const json* j, const std::string& path, FieldErrors* errors, Target* out) {
  ObjectReader r(j, path, errors, {"vmName", "vmSelector", "vmPoolName"}, true);
  out->vm_name = r.String("vmName");
  out->vm_pool_name = r.String("vmPoolName");
  if (const json* sel = r.Child("vmSelector")) {
    ObjectReader s(sel, r.PathOf("vmSelector"), errors, {"matchLabels", "matchExpressions"}, true);
    if (s.ok()) {
      LabelSelector ls;
      ls.match_labels = s.StringMap("matchLabels").value_or(std::map<std::string, std::string>{});
      s.Array("matchExpressions", [&](const json& e, const std::string& p) {
        ObjectReader er(&e, p, errors, {"key", "operator", "values"}, true);
        if (!er.ok()) return;
        LabelSelectorRequirement req;
        req.key = er.String("key").value_or("");
        if (!er.Has("key")) er.Error(er.PathOf("key"), "Required value");
        auto op = er.String("operator");
        if (!op) er.Error(er.PathOf("operator"), "Required value");
        else if (!ParseOperator(*op, &req.op))
          er.Error(er.PathOf("operator"), "Unsupported value: \"" + *op +
                                              "\": supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"");
        req.values = er.StringList("values").value_or(std::vector<std::string>{});
        ls.match_expressions.push_back(std::move(req));
      });
      out->vm_selector = std::move(ls);
    }
  }
}

json EncodeTarget(const Target& t) {
  json j = json::object();
  if (t.vm_name) j["vmName"] = *t.vm_name;
  if (t.vm_pool_name) j["vmPoolName"] = *t.vm_pool_name;
  if (t.vm_selector) {
    json s = json::object();
    if (!t.vm_selector->match_labels.empty()) s["matchLabels"] = t.vm_selector->match_labels;
    if (!t.vm_selector->match_expressions.empty()) {
      json a = json::array();
      for (const auto& r : t.vm_selector->match_expressions) {
        json e = {{"key", r.key}, {"operator", OperatorName(r.op)}};
        if (!r.values.empty()) e["values"] = r.values;
        a.push_back(std::move(e));
      }
      s["matchExpressions"] = std::move(a);
    }
    j["vmSelector"] = std::move(s);
  }
  return j;
}

void DecodeAmounts(const json* j, const std::string& path, FieldErrors* errors, bool with_network,
                   ResourceAmounts* out) {
  ObjectReader r(j, path, errors,
                 with_network ? std::initializer_list<const char*>{"cpu", "memory", "disk", "network"}
                              : std::initializer_list<const char*>{"cpu", "memory", "disk"},
                 true);
  // Negative integers are kept so validation can report them with the CEL rule's message.
  out->cpu_milli = r.CpuMilli("cpu");
  out->memory_bytes = r.Bytes("memory");
  out->disk_bytes = r.Bytes("disk");
  if (with_network) out->network_bytes_per_second = r.Bytes("network");
}

json EncodeAmounts(const ResourceAmounts& a) {
  json j = json::object();
  if (a.cpu_milli) j["cpu"] = FormatCpuMilli(*a.cpu_milli);
  if (a.memory_bytes) j["memory"] = FormatBytes(*a.memory_bytes);
  if (a.disk_bytes) j["disk"] = FormatBytes(*a.disk_bytes);
  if (a.network_bytes_per_second) j["network"] = FormatBytes(*a.network_bytes_per_second);
  return j;
}

std::vector<Dependency> DecodeDependencies(ObjectReader& r, const char* key) {
  std::vector<Dependency> out;
  r.Array(key, [&](const json& e, const std::string& p) {
    ObjectReader d(&e, p, r.errors(), {"name", "kind", "host", "port"}, true);
    if (!d.ok()) return;
    Dependency dep;
    dep.name = d.String("name");
    auto kind = d.String("kind");
    if (!kind) d.Error(d.PathOf("kind"), "Required value");
    else if (!ParseDependencyKind(*kind, &dep.kind))
      d.Error(d.PathOf("kind"),
              "Unsupported value: \"" + *kind + "\": supported values: \"Service\", \"Deployment\", \"Endpoint\"");
    auto host = d.String("host");
    if (!host && !d.Has("host")) d.Error(d.PathOf("host"), "Required value");
    dep.host = host.value_or("");
    auto port = d.Int32("port");
    if (!port && !d.Has("port")) d.Error(d.PathOf("port"), "Required value");
    dep.port = port.value_or(0);
    out.push_back(std::move(dep));
  });
  return out;
}

json EncodeDependencies(const std::vector<Dependency>& deps) {
  json a = json::array();
  for (const auto& d : deps) {
    json j = {{"kind", DependencyKindName(d.kind)}, {"host", d.host}, {"port", d.port}};
    if (d.name) j["name"] = *d.name;
    a.push_back(std::move(j));
  }
  return a;
}

}  // namespace internal
}  // namespace prescient::api
