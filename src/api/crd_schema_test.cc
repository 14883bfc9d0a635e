// Checks that crds/*.yaml and the C++ validation agree. A small structural-schema validator here
// (types, enums, lengths, patterns, bounds, item counts, required and unknown fields, list-map
// keys) stands in for the API server's schema check; CEL rules cannot be evaluated here, so each
// CEL rule has table cases where the C++ must report the rule's message word for word, and every
// rule in the CRDs must be covered by such a case.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "api/codec.h"
#include "api/validation.h"
#include "api/yaml_json.h"

namespace prescient::api {
namespace {

using nlohmann::json;

json LoadCrd(const std::string& file) {
  return YamlToJson(YAML::LoadFile(std::string(PRESCIENT_SOURCE_DIR) + "/crds/" + file));
}

const json& CommandRunCrd() {
  static const json crd = LoadCrd("commandrun.yaml");
  return crd;
}
const json& ReservationCrd() {
  static const json crd = LoadCrd("resourcereservation.yaml");
  return crd;
}
const json& RootSchema(const json& crd) { return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]; }

// ---- a structural-schema validator (no CEL) ----------------------------------------------------

bool MatchesPattern(const std::string& pattern, const std::string& value) {
  static std::map<std::string, std::regex> cache;
  auto it = cache.find(pattern);
  if (it == cache.end()) it = cache.emplace(pattern, std::regex(pattern)).first;
  return std::regex_search(value, it->second);
}

void SchemaCheck(const json& s, const json& v, const std::string& path, std::vector<std::string>* errs) {
  auto err = [&](const std::string& m) { errs->push_back(path + ": " + m); };
  if (s.value("x-kubernetes-int-or-string", false)) {
    if (v.is_number_integer()) return;
    if (!v.is_string()) return err("must be integer or string");
    if (s.contains("maxLength") && v.get<std::string>().size() > s["maxLength"].get<size_t>()) err("maxLength");
    if (s.contains("pattern") && !MatchesPattern(s["pattern"].get<std::string>(), v.get<std::string>()))
      err("pattern");
    return;
  }
  const std::string type = s.value("type", "");
  if (type == "object") {
    if (!v.is_object()) return err("must be object");
    for (const auto& [k, child] : v.items()) {
      if (s.contains("properties") && s["properties"].contains(k)) SchemaCheck(s["properties"][k], child, path + "." + k, errs);
      else if (s.contains("additionalProperties")) SchemaCheck(s["additionalProperties"], child, path + "." + k, errs);
      else if (path != ".metadata") err("unknown field " + k);
    }
    for (const auto& r : s.value("required", json::array()))
      if (!v.contains(r.get<std::string>())) err("required " + r.get<std::string>());
    if (s.contains("maxProperties") && v.size() > s["maxProperties"].get<size_t>()) err("maxProperties");
  } else if (type == "array") {
    if (!v.is_array()) return err("must be array");
    if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) err("minItems");
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) err("maxItems");
    for (size_t i = 0; i < v.size(); ++i) SchemaCheck(s["items"], v[i], path + "[" + std::to_string(i) + "]", errs);
    const std::string lt = s.value("x-kubernetes-list-type", "");
    std::set<std::string> seen;
    for (const auto& e : v) {
      std::string key;
      if (lt == "map") {
        if (!e.is_object()) continue;
        for (const auto& k : s["x-kubernetes-list-map-keys"]) key += e.value(k.get<std::string>(), json()).dump();
      } else if (lt == "set") {
        key = e.dump();
      } else {
        continue;
      }
      if (!seen.insert(key).second) err("duplicate " + key);
    }
  } else if (type == "string") {
    if (!v.is_string()) return err("must be string");
    const std::string str = v.get<std::string>();
    if (s.contains("enum")) {
      bool found = false;
      for (const auto& e : s["enum"]) found |= e == v;
      if (!found) err("enum");
    }
    if (s.contains("minLength") && str.size() < s["minLength"].get<size_t>()) err("minLength");
    if (s.contains("maxLength") && str.size() > s["maxLength"].get<size_t>()) err("maxLength");
    if (s.contains("pattern") && !MatchesPattern(s["pattern"].get<std::string>(), str)) err("pattern");
    Time t;
    if (s.value("format", "") == "date-time" && !ParseRfc3339(str, &t)) err("date-time");
  } else if (type == "integer" || type == "number") {
    if (type == "integer" ? !v.is_number_integer() : !v.is_number()) return err("must be " + type);
    if (s.contains("minimum") && v.get<double>() < s["minimum"].get<double>()) err("minimum");
    if (s.contains("maximum") && v.get<double>() > s["maximum"].get<double>()) err("maximum");
  } else if (type == "boolean") {
    if (!v.is_boolean()) err("must be boolean");
  } else {
    err("schema without type");
  }
}

std::vector<std::string> SchemaErrors(const json& crd, const json& obj) {
  std::vector<std::string> errs;
  SchemaCheck(RootSchema(crd), obj, "", &errs);
  return errs;
}

void CollectCel(const json& s, std::set<std::string>* messages) {
  if (s.is_object()) {
    for (const auto& r : s.value("x-kubernetes-validations", json::array())) messages->insert(r["message"].get<std::string>());
    for (const auto& [k, child] : s.items()) CollectCel(child, messages);
  } else if (s.is_array()) {
    for (const auto& e : s) CollectCel(e, messages);
  }
}

std::set<std::string> CelMessages(const json& crd) {
  std::set<std::string> m;
  CollectCel(RootSchema(crd), &m);
  return m;
}

// ---- the C++ side ------------------------------------------------------------------------------

FieldErrors CppErrors(const json& obj) {
  FieldErrors errs;
  if (obj.value("kind", "") == kCommandRunKind) {
    CommandRun run = CommandRunFromJson(obj, &errs);
    for (auto& e : ValidateCommandRun(run)) errs.push_back(e);
  } else {
    ResourceReservation r = ResourceReservationFromJson(obj, &errs);
    for (auto& e : ValidateResourceReservation(r)) errs.push_back(e);
  }
  return errs;
}

json Wrap(const char* kind, json spec) {
  return {{"apiVersion", kApiVersion}, {"kind", kind}, {"metadata", {{"name", "x"}, {"namespace", "demo"}}},
          {"spec", std::move(spec)}};
}

std::vector<json> CommandRunBases() {
  json a = json::parse(R"({
    "command": "sha256sum /etc/hostname", "target": {"vmName": "small-vm"}, "priorityClassName": "high",
    "user": "alice", "reservationName": "nightly",
    "resources": {"min": {"cpu": "100m", "memory": "64Mi", "disk": "1Gi", "network": "1M"},
                  "max": {"cpu": "2", "memory": "2Gi", "disk": "10Gi", "network": "100M"}},
    "shadow": {"enabled": true, "durationSeconds": 10, "allowNetwork": false},
    "dependencies": [{"name": "db", "kind": "Service", "host": "postgres", "port": 5432}],
    "timeoutSeconds": 600, "env": [{"name": "X", "value": "y"}], "workingDir": "/tmp",
    "allowPreemptionWhileRunning": false})");
  json b = json::parse(R"({
    "args": ["sort"], "priority": 10,
    "target": {"vmSelector": {"matchLabels": {"app": "db"},
                              "matchExpressions": [{"key": "tier", "operator": "In", "values": ["tools"]}]}}})");
  json c = json::parse(R"({"command": "gzip -k f", "target": {"vmPoolName": "workers"}})");
  return {Wrap(kCommandRunKind, a), Wrap(kCommandRunKind, b), Wrap(kCommandRunKind, c)};
}

std::vector<json> ReservationBases() {
  json a = json::parse(R"({
    "resources": {"cpu": "2", "memory": "4Gi", "disk": "10Gi"}, "target": {"vmName": "db-tools"},
    "users": ["alice"], "commandPattern": "pg_dump *", "commandPatternSyntax": "Glob", "priority": 10,
    "window": {"start": "2026-11-28T00:00:00Z", "end": "2026-11-28T06:00:00Z"}})");
  json b = json::parse(R"({"resources": {"memory": "1Gi"}, "target": {"vmPoolName": "workers"}})");
  return {Wrap(kResourceReservationKind, a), Wrap(kResourceReservationKind, b)};
}

// One mutated object and a description of the mutation.
struct Mutant {
  std::string what;
  json obj;
};

// Generates mutations of every spec field the base object holds, from the schema's keywords.
void Mutate(const json& s, const json& v, const json::json_pointer& ptr, const json& base, std::vector<Mutant>* out) {
  auto with = [&](const std::string& what, const json& nv) {
    json o = base;
    o[ptr] = nv;
    out->push_back({ptr.to_string() + " " + what, std::move(o)});
  };
  if (s.value("x-kubernetes-int-or-string", false)) {
    with("= \"lots\"", "lots");
    with("= \"-1\"", "-1");
    with("= -1", -1);
    with("= true", true);
    if (s.contains("maxLength")) with("over maxLength", "1" + std::string(s["maxLength"].get<size_t>(), '0'));
    return;
  }
  const std::string type = s.value("type", "");
  if (type == "object") {
    with("+ unknown field", [&] { json o = v; o["bogusField"] = 1; return o; }());
    with("= 5", 5);
    for (const auto& r : s.value("required", json::array())) {
      json o = v;
      o.erase(r.get<std::string>());
      with("- required " + r.get<std::string>(), o);
    }
    for (const auto& [k, child] : v.items()) {
      const json& cs = s.contains("properties") && s["properties"].contains(k) ? s["properties"][k]
                                                                               : s["additionalProperties"];
      Mutate(cs, child, ptr / k, base, out);
    }
  } else if (type == "array") {
    with("= \"x\"", "x");
    if (s.contains("maxItems") && !v.empty()) {
      json a = json::array();
      for (int64_t i = 0; i <= s["maxItems"].get<int64_t>(); ++i) a.push_back(v[0]);
      with("over maxItems", a);
    }
    if (s.contains("minItems")) with("empty", json::array());
    for (size_t i = 0; i < v.size(); ++i) Mutate(s["items"], v[i], ptr / i, base, out);
  } else if (type == "string") {
    const std::string str = v.get<std::string>();
    with("= 12345", 12345);
    if (s.contains("enum")) {
      for (const auto& e : s["enum"]) with("= " + e.get<std::string>(), e);
      with("= Bogus", "Bogus");
    }
    if (s.contains("maxLength")) {
      size_t max = s["maxLength"].get<size_t>();
      with("at maxLength", str.substr(0, 1) + std::string(max - 1, 'a'));
      with("over maxLength", str.substr(0, 1) + std::string(max, 'a'));
    }
    if (s.contains("minLength")) with("empty", "");
    if (s.contains("pattern")) with("= \"Not A_Name!\"", "Not A_Name!");
    if (s.value("format", "") == "date-time") with("= \"noon\"", "noon");
  } else if (type == "integer") {
    with("= \"12\"", "12");
    if (s.contains("minimum")) {
      with("at minimum", s["minimum"].get<int64_t>());
      with("below minimum", s["minimum"].get<int64_t>() - 1);
    }
    if (s.contains("maximum")) {
      with("at maximum", s["maximum"].get<int64_t>());
      with("above maximum", s["maximum"].get<int64_t>() + 1);
    }
  } else if (type == "boolean") {
    with("= \"yes\"", "yes");
  }
}

// Schema invalid => C++ invalid; schema valid => C++ valid or rejected only by CEL-rule mirrors.
void CheckAgreement(const json& crd, const std::vector<json>& bases, size_t* checked) {
  const std::set<std::string> cel = CelMessages(crd);
  const json& spec_schema = RootSchema(crd)["properties"]["spec"];
  for (const json& base : bases) {
    ASSERT_TRUE(SchemaErrors(crd, base).empty()) << base.dump();
    ASSERT_TRUE(CppErrors(base).empty()) << Summarize(CppErrors(base)) << " for " << base.dump();
    std::vector<Mutant> mutants;
    Mutate(spec_schema, base["spec"], json::json_pointer("/spec"), base, &mutants);
    for (const Mutant& m : mutants) {
      SCOPED_TRACE(m.what);
      auto schema_errs = SchemaErrors(crd, m.obj);
      FieldErrors cpp = CppErrors(m.obj);
      if (!schema_errs.empty()) {
        EXPECT_FALSE(cpp.empty()) << "the schema rejects (" << schema_errs[0] << ") but the C++ accepts";
      } else {
        for (const auto& e : cpp)
          EXPECT_TRUE(cel.count(e.message)) << "the schema accepts but the C++ rejects with a non-CEL error: " << e.ToString();
      }
      ++*checked;
    }
  }
}

TEST(CrdSchemaTest, CommandRunSchemaAndCppAgreeOnEveryMutation) {
  size_t checked = 0;
  CheckAgreement(CommandRunCrd(), CommandRunBases(), &checked);
  EXPECT_GT(checked, 150u);
}

TEST(CrdSchemaTest, ReservationSchemaAndCppAgreeOnEveryMutation) {
  size_t checked = 0;
  CheckAgreement(ReservationCrd(), ReservationBases(), &checked);
  EXPECT_GT(checked, 60u);
}

// Every CEL rule: an object the schema accepts, that the rule rejects, and the C++ must report the
// rule's message. Update rules are exercised through the *Update validators.
TEST(CrdSchemaTest, EveryCelRuleHasACppMirror) {
  struct Case {
    const char* kind;
    const char* spec;      // a create, or the new object of an update
    const char* old_spec;  // non-null: an update
    const char* message;
  };
  const Case cases[] = {
      {"CommandRun", R"({"target": {"vmName": "a"}})", nullptr, "exactly one of command and args must be set"},
      {"CommandRun", R"({"command": "x", "args": ["y"], "target": {"vmName": "a"}})", nullptr,
       "exactly one of command and args must be set"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}, "priority": 1, "priorityClassName": "p"})", nullptr,
       "at most one of priorityClassName and priority may be set"},
      {"CommandRun", R"({"args": ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], "target": {"vmName": "a"}})",
       nullptr, "args must total at most 65536 bytes"},  // args filled to 70000 bytes below
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a", "vmPoolName": "b"}})", nullptr,
       "exactly one of vmName, vmSelector, vmPoolName must be set"},
      {"CommandRun", R"({"command": "x", "target": {"vmSelector": {}}})", nullptr, "vmSelector must not be empty"},
      {"CommandRun", R"({"command": "x", "target": {"vmSelector": {"matchExpressions": [{"key": "k", "operator": "In"}]}}})",
       nullptr, "values must be non-empty for In and NotIn and empty for Exists and DoesNotExist"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}, "resources": {"min": {"cpu": -1}}})", nullptr,
       "cpu must not be negative"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}, "resources": {"min": {"memory": -1}}})", nullptr,
       "memory must not be negative"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}, "resources": {"max": {"disk": -1}}})", nullptr,
       "disk must not be negative"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}, "resources": {"max": {"network": -1}}})", nullptr,
       "network must not be negative"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}, "resources": {"min": {"cpu": "2"}, "max": {"cpu": "1"}}})",
       nullptr, "min.cpu must not exceed max.cpu"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}, "resources": {"min": {"memory": "2Gi"}, "max": {"memory": "1Gi"}}})",
       nullptr, "min.memory must not exceed max.memory"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}, "resources": {"min": {"disk": "2Gi"}, "max": {"disk": "1Gi"}}})",
       nullptr, "min.disk must not exceed max.disk"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}, "resources": {"min": {"network": 2}, "max": {"network": 1}}})",
       nullptr, "min.network must not exceed max.network"},
      {"CommandRun", R"({"command": "y", "target": {"vmName": "a"}})", R"({"command": "x", "target": {"vmName": "a"}})",
       "spec.command is immutable"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}})", R"({"args": ["x"], "target": {"vmName": "a"}})",
       "spec.args is immutable"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "b"}})", R"({"command": "x", "target": {"vmName": "a"}})",
       "spec.target is immutable"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}, "user": "u"})", R"({"command": "x", "target": {"vmName": "a"}})",
       "spec.user is immutable"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}})",
       R"({"command": "x", "target": {"vmName": "a"}, "reservationName": "r"})", "spec.reservationName is immutable"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}, "resources": {"max": {"cpu": 2}}})",
       R"({"command": "x", "target": {"vmName": "a"}, "resources": {"max": {"cpu": 1}}})", "spec.resources is immutable"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}, "shadow": {"enabled": true}})",
       R"({"command": "x", "target": {"vmName": "a"}})", "spec.shadow is immutable"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}, "dependencies": [{"kind": "Service", "host": "h", "port": 1}]})",
       R"({"command": "x", "target": {"vmName": "a"}})", "spec.dependencies is immutable"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}, "timeoutSeconds": 5})",
       R"({"command": "x", "target": {"vmName": "a"}, "timeoutSeconds": 6})", "spec.timeoutSeconds is immutable"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}, "env": [{"name": "A"}]})",
       R"({"command": "x", "target": {"vmName": "a"}})", "spec.env is immutable"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}, "workingDir": "/"})",
       R"({"command": "x", "target": {"vmName": "a"}})", "spec.workingDir is immutable"},
      {"CommandRun", R"({"command": "x", "target": {"vmName": "a"}, "allowPreemptionWhileRunning": true})",
       R"({"command": "x", "target": {"vmName": "a"}})", "spec.allowPreemptionWhileRunning is immutable"},
      {"ResourceReservation", R"({"resources": {"disk": "1Gi"}, "target": {"vmName": "a"}})", nullptr,
       "at least one of cpu and memory must be set"},
      {"ResourceReservation", R"({"resources": {"cpu": -1}, "target": {"vmName": "a"}})", nullptr, "cpu must not be negative"},
      {"ResourceReservation", R"({"resources": {"cpu": 1, "memory": -1}, "target": {"vmName": "a"}})", nullptr,
       "memory must not be negative"},
      {"ResourceReservation", R"({"resources": {"cpu": 1, "disk": -1}, "target": {"vmName": "a"}})", nullptr,
       "disk must not be negative"},
      {"ResourceReservation", R"({"resources": {"cpu": 1}, "target": {}})", nullptr,
       "exactly one of vmName, vmSelector, vmPoolName must be set"},
      {"ResourceReservation", R"({"resources": {"cpu": 1}, "target": {"vmSelector": {"matchLabels": {}}}})", nullptr,
       "vmSelector must not be empty"},
      {"ResourceReservation",
       R"({"resources": {"cpu": 1}, "target": {"vmSelector": {"matchExpressions": [{"key": "k", "operator": "Exists", "values": ["v"]}]}}})",
       nullptr, "values must be non-empty for In and NotIn and empty for Exists and DoesNotExist"},
      {"ResourceReservation", R"({"resources": {"cpu": 1}, "target": {"vmName": "a"}, "window": {}})", nullptr,
       "window needs start or end"},
      {"ResourceReservation",
       R"({"resources": {"cpu": 1}, "target": {"vmName": "a"}, "window": {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}})",
       nullptr, "window.end must be after window.start"},
      {"ResourceReservation", R"({"resources": {"cpu": 1}, "target": {"vmName": "b"}})",
       R"({"resources": {"cpu": 1}, "target": {"vmName": "a"}})", "spec.target is immutable"},
  };
  std::set<std::string> covered_run, covered_rr;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    const bool is_run = std::string(c.kind) == kCommandRunKind;
    const json& crd = is_run ? CommandRunCrd() : ReservationCrd();
    json spec = json::parse(c.spec);
    if (spec.contains("args") && spec["args"][0].get<std::string>().size() > 50)
      spec["args"] = {std::string(40000, 'a'), std::string(30000, 'b')};
    json obj = Wrap(is_run ? kCommandRunKind : kResourceReservationKind, spec);
    // The rule's object must pass the schema alone: it is the CEL rule that rejects it.
    EXPECT_TRUE(SchemaErrors(crd, obj).empty()) << SchemaErrors(crd, obj)[0];
    ASSERT_TRUE(CelMessages(crd).count(c.message)) << "no CEL rule in the CRD has this message";
    FieldErrors errs;
    if (c.old_spec == nullptr) {
      errs = CppErrors(obj);
    } else {
      FieldErrors decode;
      json old_spec = json::parse(c.old_spec);
      if (is_run) errs = ValidateCommandRunSpecUpdate(CommandRunSpecFromJson(old_spec, &decode), CommandRunSpecFromJson(spec, &decode));
      else errs = ValidateResourceReservationSpecUpdate(ResourceReservationSpecFromJson(old_spec, &decode),
                                                       ResourceReservationSpecFromJson(spec, &decode));
      ASSERT_TRUE(decode.empty()) << Summarize(decode);
    }
    bool found = false;
    for (const auto& e : errs) found |= e.message == c.message;
    EXPECT_TRUE(found) << "C++ said: " << Summarize(errs);
    (is_run ? covered_run : covered_rr).insert(c.message);
  }
  for (const auto& m : CelMessages(CommandRunCrd())) EXPECT_TRUE(covered_run.count(m)) << "CommandRun CEL rule without a case: " << m;
  for (const auto& m : CelMessages(ReservationCrd())) EXPECT_TRUE(covered_rr.count(m)) << "ResourceReservation CEL rule without a case: " << m;
}

TEST(CrdSchemaTest, NamesAndColumns) {
  const json& crd = CommandRunCrd();
  EXPECT_EQ(crd["metadata"]["name"], std::string(kCommandRuns.resource) + "." + kGroup);
  EXPECT_EQ(crd["spec"]["names"]["kind"], kCommandRunKind);
  EXPECT_EQ(crd["spec"]["versions"][0]["name"], kVersion);
  EXPECT_EQ(crd["spec"]["names"]["categories"], json::array({"prescient"}));
  EXPECT_EQ(crd["spec"]["versions"][0]["subresources"]["status"], json::object());
  std::set<std::string> paths;
  for (const auto& c : crd["spec"]["versions"][0]["additionalPrinterColumns"]) paths.insert(c["jsonPath"]);
  for (const char* p : {".status.phase", ".status.allocation.instanceID", ".status.prediction.cpu", ".status.prediction.memory",
                        ".status.allocation.cpuCores", ".status.allocation.memory", ".metadata.creationTimestamp"})
    EXPECT_TRUE(paths.count(p)) << p;
  const json& rr = ReservationCrd();
  EXPECT_EQ(rr["metadata"]["name"], std::string(kResourceReservations.resource) + "." + kGroup);
  EXPECT_EQ(rr["spec"]["names"]["shortNames"], json::array({"rr"}));
  // Every phase the C++ knows is in the schema's enum, and back.
  std::set<std::string> schema_phases;
  for (const auto& p : RootSchema(crd)["properties"]["status"]["properties"]["phase"]["enum"]) schema_phases.insert(p);
  std::set<std::string> cpp_phases;
  for (int i = static_cast<int>(RunPhase::kPending); i <= static_cast<int>(RunPhase::kFailed); ++i)
    cpp_phases.insert(RunPhaseName(static_cast<RunPhase>(i)));
  EXPECT_EQ(schema_phases, cpp_phases);
}

// Every CommandRun and ResourceReservation in examples/ passes the schema and the C++ validation.
TEST(CrdSchemaTest, ExamplesAreValid) {
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(PRESCIENT_SOURCE_DIR) + "/examples")) {
    if (entry.path().extension() != ".yaml") continue;
    for (const YAML::Node& doc : YAML::LoadAllFromFile(entry.path().string())) {
      json obj = YamlToJson(doc);
      const std::string kind = obj.value("kind", "");
      if (kind != kCommandRunKind && kind != kResourceReservationKind) continue;
      SCOPED_TRACE(entry.path().filename().string() + ": " + obj["metadata"].value("name", ""));
      const json& crd = kind == kCommandRunKind ? CommandRunCrd() : ReservationCrd();
      auto schema = SchemaErrors(crd, obj);
      EXPECT_TRUE(schema.empty()) << schema[0];
      FieldErrors cpp = CppErrors(obj);
      EXPECT_TRUE(cpp.empty()) << Summarize(cpp);
      ++checked;
    }
  }
  EXPECT_GE(checked, 7);
}

// What the operator writes must pass the schema (a real server would refuse it otherwise).
TEST(CrdSchemaTest, EncodedStatusPassesTheSchema) {
  CommandRun run;
  run.metadata.name = "x";
  run.metadata.ns = "demo";
  run.spec.command = "true";
  run.spec.target.vm_name = "small-vm";
  run.status.phase = RunPhase::kRunning;
  run.status.prediction.emplace();
  run.status.prediction->cpu_milli = 1500;
  run.status.prediction->memory_bytes = 1 << 29;
  run.status.prediction->duration_seconds = 3;
  run.status.prediction->quantile = 0.95;
  run.status.prediction->model_version = "m1";
  run.status.prediction->source = "Model";
  run.status.allocation.emplace();
  run.status.allocation->instance_id = "small-vm";
  run.status.allocation->node = "n1";
  run.status.allocation->cpu_milli = 2000;
  run.status.allocation->memory_bytes = 1 << 30;
  run.status.queue.emplace();
  run.status.queue->position = 2;
  run.status.queue->reason = "WaitingForCapacity";
  run.status.usage.emplace();
  run.status.usage->cpu_throttled_fraction = 0.5;
  run.status.result.emplace();
  run.status.result->exit_code = 0;
  run.status.result->reason = "Completed";
  run.status.result->output_tail = "ok";
  run.status.agent.emplace();
  run.status.agent->instance = "small-vm";
  run.status.agent->pid = 12;
  run.status.agent->applied_allocation = AppliedAllocation{1000, 1 << 20, {}};
  run.status.shadow.emplace();
  run.status.shadow->requested = true;
  run.status.shadow->result.emplace();
  run.status.shadow->result->duration_seconds = 2;
  run.status.shadow->result->usage.emplace();
  run.status.shadow->result->memory_curve = {{0.5, 100}};
  run.status.shadow->result->cpu_curve = {{0.5, 0.25}};
  run.status.allocation->io_weight = 250;
  run.status.allocation->disk_read_bytes_per_second = 100LL << 20;
  run.status.allocation->disk_write_bytes_per_second = 3 * 1000 * 1000;
  run.status.stop_request = StopRequest{"Preempted", "urgent", Time{}, 30};
  run.status.preemptions = 1;
  run.status.conditions.push_back({"Allocated", ConditionStatus::kTrue, 1, Time{}, "Bound", "on small-vm"});
  auto errs = SchemaErrors(CommandRunCrd(), CommandRunToJson(run));
  EXPECT_TRUE(errs.empty()) << errs[0];
  // The agent echoes every limit it applied (src/agent/run.cc AllocationToJson): none may be an
  // unknown field, or the API server prunes it from status.agent.appliedAllocation.
  json echoed = CommandRunToJson(run);
  echoed["status"]["agent"]["appliedAllocation"] = {
      {"cpuCores", "1500m"}, {"memory", "1Gi"}, {"networkPriority", "High"}, {"ioWeight", 250},
      {"diskReadBytesPerSecond", "1048576"}, {"diskWriteBytesPerSecond", "2097152"},
      {"appliedAt", "2026-11-28T12:00:00Z"}};
  errs = SchemaErrors(CommandRunCrd(), echoed);
  EXPECT_TRUE(errs.empty()) << errs[0];
  // The C++ bounds of the new fields are the schema's.
  const json& st = RootSchema(CommandRunCrd())["properties"]["status"]["properties"];
  EXPECT_EQ(st["allocation"]["properties"]["ioWeight"]["minimum"], kMinIoWeight);
  EXPECT_EQ(st["allocation"]["properties"]["ioWeight"]["maximum"], kMaxIoWeight);
  EXPECT_EQ(st["stopRequest"]["properties"]["gracePeriodSeconds"]["maximum"], kMaxStopGracePeriodSeconds);
  for (int w : {0, 10001}) {
    CommandRun bad = run;
    bad.status.allocation->io_weight = w;
    EXPECT_FALSE(SchemaErrors(CommandRunCrd(), CommandRunToJson(bad)).empty()) << w;
    EXPECT_FALSE(ValidateCommandRunStatus(bad.status).empty()) << w;
  }

  ResourceReservation rr;
  rr.metadata.name = "r";
  rr.spec.resources.cpu_milli = 2000;
  rr.spec.target.vm_pool_name = "workers";
  rr.status.phase = ReservationPhase::kBound;
  rr.status.bound_instances.push_back({"workers-abc", "n1", 2000, 1 << 30});
  rr.status.used_cpu_milli = 500;
  auto rr_errs = SchemaErrors(ReservationCrd(), ResourceReservationToJson(rr));
  EXPECT_TRUE(rr_errs.empty()) << rr_errs[0];
}

}  // namespace
}  // namespace prescient::api
