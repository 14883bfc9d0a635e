// The one place a ResourceReservation is converted from and to JSON.
#include "api/codec.h"
#include "api/json_reader.h"
#include "common/quantity.h"

namespace prescient::api {

using internal::ObjectReader;
using nlohmann::json;

ResourceReservationSpec ResourceReservationSpecFromJson(const json& j, FieldErrors* errors) {
  ResourceReservationSpec s;
  ObjectReader r(&j, "spec", errors,
                 {"resources", "target", "users", "commandPattern", "commandPatternSyntax", "priority", "window"},
                 /*strict=*/true);
  if (!r.ok()) return s;
  if (!r.Has("resources")) r.Error("spec.resources", "Required value");
  internal::DecodeAmounts(r.Child("resources"), "spec.resources", errors, /*with_network=*/false, &s.resources);
  if (!r.Has("target")) r.Error("spec.target", "Required value");
  internal::DecodeTarget(r.Child("target"), "spec.target", errors, &s.target);
  s.users = r.StringList("users").value_or(std::vector<std::string>{});
  s.command_pattern = r.String("commandPattern");
  if (auto syn = r.String("commandPatternSyntax"); syn && !ParsePatternSyntax(*syn, &s.command_pattern_syntax))
    r.Error("spec.commandPatternSyntax", "Unsupported value: \"" + *syn + "\": supported values: \"Glob\", \"Regex\"");
  s.priority = r.Int32("priority");
  if (const json* w = r.Child("window")) {
    ObjectReader wr(w, "spec.window", errors, {"start", "end"}, true);
    ReservationWindow win;
    win.start = wr.Timestamp("start");
    win.end = wr.Timestamp("end");
    s.window = win;
  }
  return s;
}

json ResourceReservationSpecToJson(const ResourceReservationSpec& s) {
  json j = {{"resources", internal::EncodeAmounts(s.resources)}, {"target", internal::EncodeTarget(s.target)}};
  if (!s.users.empty()) j["users"] = s.users;
  if (s.command_pattern) j["commandPattern"] = *s.command_pattern;
  j["commandPatternSyntax"] = PatternSyntaxName(s.command_pattern_syntax);
  if (s.priority) j["priority"] = *s.priority;
  if (s.window) {
    json w = json::object();
    if (s.window->start) w["start"] = FormatRfc3339(*s.window->start);
    if (s.window->end) w["end"] = FormatRfc3339(*s.window->end);
    j["window"] = std::move(w);
  }
  return j;
}

ResourceReservationStatus ResourceReservationStatusFromJson(const json& j, FieldErrors* errors) {
  ResourceReservationStatus st;
  ObjectReader r(&j, "status", errors, {}, false);
  if (!r.ok()) return st;
  if (auto phase = r.String("phase"); phase && !ParseReservationPhase(*phase, &st.phase))
    r.Error("status.phase", "Unsupported value: \"" + *phase + "\"");
  st.observed_generation = r.Int("observedGeneration").value_or(0);
  r.Array("boundInstances", [&](const json& e, const std::string& p) {
    ObjectReader br(&e, p, errors, {}, false);
    BoundInstance b;
    b.instance_id = br.String("instanceID").value_or("");
    b.node = br.String("node").value_or("");
    b.cpu_milli = br.CpuMilli("cpu").value_or(0);
    b.memory_bytes = br.Bytes("memory").value_or(0);
    st.bound_instances.push_back(std::move(b));
  });
  if (const json* u = r.Child("used")) {
    ObjectReader ur(u, "status.used", errors, {}, false);
    st.used_cpu_milli = ur.CpuMilli("cpu");
    st.used_memory_bytes = ur.Bytes("memory");
  }
  if (const json* c = r.Child("conditions")) st.conditions = ConditionsFromJson(*c, "status.conditions", errors);
  return st;
}

json ResourceReservationStatusToJson(const ResourceReservationStatus& st) {
  json j = json::object();
  if (st.phase != ReservationPhase::kNone) j["phase"] = ReservationPhaseName(st.phase);
  if (st.observed_generation) j["observedGeneration"] = st.observed_generation;
  if (!st.bound_instances.empty()) {
    json a = json::array();
    for (const auto& b : st.bound_instances) {
      json o = {{"instanceID", b.instance_id}, {"cpu", FormatCpuMilli(b.cpu_milli)},
                {"memory", FormatBytes(b.memory_bytes)}};
      if (!b.node.empty()) o["node"] = b.node;
      a.push_back(std::move(o));
    }
    j["boundInstances"] = std::move(a);
  }
  if (st.used_cpu_milli || st.used_memory_bytes) {
    json u = json::object();
    if (st.used_cpu_milli) u["cpu"] = FormatCpuMilli(*st.used_cpu_milli);
    if (st.used_memory_bytes) u["memory"] = FormatBytes(*st.used_memory_bytes);
    j["used"] = std::move(u);
  }
  if (!st.conditions.empty()) j["conditions"] = ConditionsToJson(st.conditions);
  return j;
}

ResourceReservation ResourceReservationFromJson(const json& j, FieldErrors* errors) {
  ResourceReservation rr;
  if (!j.is_object()) {
    errors->push_back({"", "a ResourceReservation must be a JSON object"});
    return rr;
  }
  if (auto it = j.find("apiVersion"); it != j.end() && *it != kApiVersion)
    errors->push_back({"apiVersion", std::string("must be ") + kApiVersion});
  if (auto it = j.find("kind"); it != j.end() && *it != kResourceReservationKind)
    errors->push_back({"kind", std::string("must be ") + kResourceReservationKind});
  if (auto it = j.find("metadata"); it != j.end()) rr.metadata = ObjectMetaFromJson(*it, errors);
  auto spec = j.find("spec");
  if (spec == j.end() || spec->is_null()) errors->push_back({"spec", "Required value"});
  else rr.spec = ResourceReservationSpecFromJson(*spec, errors);
  if (auto it = j.find("status"); it != j.end()) rr.status = ResourceReservationStatusFromJson(*it, errors);
  return rr;
}

json ResourceReservationToJson(const ResourceReservation& r) {
  json j = {{"apiVersion", kApiVersion},
            {"kind", kResourceReservationKind},
            {"metadata", ObjectMetaToJson(r.metadata)},
            {"spec", ResourceReservationSpecToJson(r.spec)}};
  json status = ResourceReservationStatusToJson(r.status);
  if (!status.empty()) j["status"] = std::move(status);
  return j;
}

}  // namespace prescient::api
