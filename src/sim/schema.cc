#include "sim/schema.h"

#include <cmath>
#include <regex>

namespace prescient::sim {
namespace {

std::string Join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

std::string Quote(const Json& v) { return v.is_string() ? Json(v.get<std::string>()).dump() : v.dump(); }

bool PreservesUnknown(const Json& s) {
  auto it = s.find("x-kubernetes-preserve-unknown-fields");
  return it != s.end() && it->is_boolean() && it->get<bool>();
}

bool IsIntOrString(const Json& s) {
  auto it = s.find("x-kubernetes-int-or-string");
  return it != s.end() && it->is_boolean() && it->get<bool>();
}

bool IsEmbedded(const Json& s) {
  auto it = s.find("x-kubernetes-embedded-resource");
  return it != s.end() && it->is_boolean() && it->get<bool>();
}

void DefaultsRec(const Json& s, Json* v) {
  if (!s.is_object()) return;
  if (v->is_object()) {
    auto props = s.find("properties");
    if (props != s.end() && props->is_object()) {
      for (auto it = props->begin(); it != props->end(); ++it) {
        if (!v->contains(it.key())) {
          auto d = it->find("default");
          if (d != it->end()) (*v)[it.key()] = *d;
        }
        if (v->contains(it.key())) DefaultsRec(*it, &(*v)[it.key()]);
      }
    }
    auto ap = s.find("additionalProperties");
    if (ap != s.end() && ap->is_object()) {
      for (auto it = v->begin(); it != v->end(); ++it) DefaultsRec(*ap, &*it);
    }
  } else if (v->is_array()) {
    auto items = s.find("items");
    if (items != s.end()) {
      for (auto& e : *v) DefaultsRec(*items, &e);
    }
  }
}

void PruneRec(const Json& s, Json* v, const std::string& path, bool root, std::vector<std::string>* out) {
  if (!s.is_object() || (PreservesUnknown(s) && !s.contains("properties"))) return;
  if (v->is_object()) {
    auto props = s.find("properties");
    auto ap = s.find("additionalProperties");
    bool has_props = props != s.end() && props->is_object();
    bool embedded = IsEmbedded(s);
    std::vector<std::string> drop;
    for (auto it = v->begin(); it != v->end(); ++it) {
      const std::string& k = it.key();
      if ((root || embedded) && (k == "apiVersion" || k == "kind" || k == "metadata")) continue;
      if (has_props && props->contains(k)) {
        PruneRec((*props)[k], &*it, Join(path, k), false, out);
      } else if (ap != s.end() && ap->is_object()) {
        PruneRec(*ap, &*it, Join(path, k), false, out);
      } else if (ap != s.end() && ap->is_boolean() && ap->get<bool>()) {
        continue;
      } else if (!PreservesUnknown(s)) {
        drop.push_back(k);
      }
    }
    for (const auto& k : drop) {
      out->push_back(Join(path, k));
      v->erase(k);
    }
  } else if (v->is_array()) {
    auto items = s.find("items");
    if (items != s.end()) {
      for (size_t i = 0; i < v->size(); ++i) {
        PruneRec(*items, &(*v)[i], path + "[" + std::to_string(i) + "]", false, out);
      }
    }
  }
}

void Add(std::vector<FieldError>* errs, const std::string& field, const std::string& type, const std::string& detail,
         const std::string& reason) {
  FieldError e;
  e.field = field;
  e.type = type;
  e.detail = field + ": " + type + (detail.empty() ? "" : ": " + detail);
  e.reason = reason;
  errs->push_back(std::move(e));
}

std::string TypeOf(const Json& v) {
  if (v.is_object()) return "object";
  if (v.is_array()) return "array";
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer()) return "integer";
  if (v.is_number_float()) {
    double d = v.get<double>();
    return std::floor(d) == d ? "integer" : "number";
  }
  return "null";
}

std::string FormatNumber(const Json& v) { return v.dump(); }

void ValidateRec(const Json& s, const Json& v, const std::string& path, bool root, std::vector<FieldError>* errs) {
  if (!s.is_object()) return;
  std::string field = path.empty() ? "<root>" : path;
  if (v.is_null()) {
    auto nb = s.find("nullable");
    if (nb != s.end() && nb->is_boolean() && nb->get<bool>()) return;
    if (s.contains("type")) {
      Add(errs, field, "Invalid value", "\"null\": " + field + " in body must be of type " +
                                            s["type"].get<std::string>() + ": \"null\"",
          "FieldValueTypeInvalid");
    }
    return;
  }
  std::string want = s.value("type", "");
  std::string have = TypeOf(v);
  if (IsIntOrString(s)) {
    if (have != "integer" && have != "string") {
      Add(errs, field, "Invalid value", Quote(v) + ": " + field + " in body must be of type int-or-string: " + Quote(v),
          "FieldValueTypeInvalid");
      return;
    }
  } else if (!want.empty()) {
    bool ok = want == have || (want == "number" && have == "integer");
    if (!ok) {
      Add(errs, field, "Invalid value",
          "\"" + have + "\": " + field + " in body must be of type " + want + ": \"" + have + "\"",
          "FieldValueTypeInvalid");
      return;
    }
  }
  if (auto en = s.find("enum"); en != s.end() && en->is_array()) {
    bool found = false;
    for (const auto& e : *en) found = found || e == v;
    if (!found) {
      std::string allowed;
      for (const auto& e : *en) allowed += (allowed.empty() ? "" : ", ") + Quote(e);
      Add(errs, field, "Unsupported value", Quote(v) + ": supported values: " + allowed, "FieldValueNotSupported");
    }
  }
  if (v.is_number()) {
    double d = v.get<double>();
    if (auto m = s.find("minimum"); m != s.end() && m->is_number()) {
      bool excl = s.value("exclusiveMinimum", false);
      if (excl ? d <= m->get<double>() : d < m->get<double>()) {
        Add(errs, field, "Invalid value",
            FormatNumber(v) + ": " + field + " in body should be greater than " + (excl ? "" : "or equal to ") +
                FormatNumber(*m),
            "FieldValueInvalid");
      }
    }
    if (auto m = s.find("maximum"); m != s.end() && m->is_number()) {
      bool excl = s.value("exclusiveMaximum", false);
      if (excl ? d >= m->get<double>() : d > m->get<double>()) {
        Add(errs, field, "Invalid value",
            FormatNumber(v) + ": " + field + " in body should be less than " + (excl ? "" : "or equal to ") +
                FormatNumber(*m),
            "FieldValueInvalid");
      }
    }
  }
  if (v.is_string()) {
    const std::string& str = v.get_ref<const std::string&>();
    if (auto m = s.find("minLength"); m != s.end() && m->is_number_integer() && str.size() < m->get<size_t>()) {
      Add(errs, field, "Invalid value",
          Quote(v) + ": " + field + " in body should be at least " + m->dump() + " chars long", "FieldValueInvalid");
    }
    if (auto m = s.find("maxLength"); m != s.end() && m->is_number_integer() && str.size() > m->get<size_t>()) {
      Add(errs, field, "Too long", "may not be more than " + m->dump() + " bytes", "FieldValueTooLong");
    }
    if (auto p = s.find("pattern"); p != s.end() && p->is_string()) {
      try {
        std::regex re(p->get<std::string>(), std::regex::ECMAScript);
        if (!std::regex_search(str, re)) {
          Add(errs, field, "Invalid value",
              Quote(v) + ": " + field + " in body should match '" + p->get<std::string>() + "'",
              "FieldValueInvalid");
        }
      } catch (const std::regex_error&) {
        // An unsupported pattern is not the object's fault; the CRD was accepted with it.
      }
    }
  }
  if (v.is_array()) {
    if (auto m = s.find("minItems"); m != s.end() && m->is_number_integer() && v.size() < m->get<size_t>()) {
      Add(errs, field, "Invalid value",
          std::to_string(v.size()) + ": " + field + " in body should have at least " + m->dump() + " items",
          "FieldValueInvalid");
    }
    if (auto m = s.find("maxItems"); m != s.end() && m->is_number_integer() && v.size() > m->get<size_t>()) {
      Add(errs, field, "Too many", std::to_string(v.size()) + ": must have at most " + m->dump() + " items",
          "FieldValueTooMany");
    }
    if (auto items = s.find("items"); items != s.end()) {
      for (size_t i = 0; i < v.size(); ++i) {
        ValidateRec(*items, v[i], path + "[" + std::to_string(i) + "]", false, errs);
      }
    }
  }
  if (v.is_object()) {
    if (auto m = s.find("minProperties"); m != s.end() && m->is_number_integer() && v.size() < m->get<size_t>()) {
      Add(errs, field, "Invalid value", field + " in body should have at least " + m->dump() + " properties",
          "FieldValueInvalid");
    }
    if (auto m = s.find("maxProperties"); m != s.end() && m->is_number_integer() && v.size() > m->get<size_t>()) {
      Add(errs, field, "Too many", "must have at most " + m->dump() + " items", "FieldValueTooMany");
    }
    if (auto req = s.find("required"); req != s.end() && req->is_array()) {
      for (const auto& r : *req) {
        if (r.is_string() && !v.contains(r.get<std::string>())) {
          Add(errs, Join(path, r.get<std::string>()), "Required value", "", "FieldValueRequired");
        }
      }
    }
    auto props = s.find("properties");
    auto ap = s.find("additionalProperties");
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (root && (it.key() == "apiVersion" || it.key() == "kind" || it.key() == "metadata")) continue;
      if (props != s.end() && props->is_object() && props->contains(it.key())) {
        ValidateRec((*props)[it.key()], *it, Join(path, it.key()), false, errs);
      } else if (ap != s.end() && ap->is_object()) {
        ValidateRec(*ap, *it, Join(path, it.key()), false, errs);
      }
    }
  }
}

}  // namespace

void ApplySchemaDefaults(const Json& schema, Json* obj) { DefaultsRec(schema, obj); }

std::vector<std::string> PruneUnknownFields(const Json& schema, Json* obj) {
  std::vector<std::string> out;
  PruneRec(schema, obj, "", true, &out);
  return out;
}

std::vector<FieldError> ValidateAgainstSchema(const Json& schema, const Json& obj) {
  std::vector<FieldError> errs;
  ValidateRec(schema, obj, "", true, &errs);
  return errs;
}

}  // namespace prescient::sim
