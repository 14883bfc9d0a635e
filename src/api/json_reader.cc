#include "api/json_reader.h"

#include <cstring>

#include "common/quantity.h"

namespace prescient::api::internal {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// ([0-9]+(\.[0-9]*)?)|(\.[0-9]+) from position *i; true when it matched (and *i is past it).
bool MatchDecimal(const std::string& t, size_t* i) {
  size_t p = *i;
  size_t digits = p;
  while (digits < t.size() && IsDigit(t[digits])) ++digits;
  if (digits > p) {
    p = digits;
    if (p < t.size() && t[p] == '.') {
      ++p;
      while (p < t.size() && IsDigit(t[p])) ++p;
    }
  } else {
    if (p >= t.size() || t[p] != '.') return false;
    ++p;
    size_t frac = p;
    while (p < t.size() && IsDigit(t[p])) ++p;
    if (p == frac) return false;
  }
  *i = p;
  return true;
}

}  // namespace

// The CRDs' pattern, matched by hand (std::regex cost several microseconds per quantity, and every
// cached CommandRun decodes about ten):
//   ^(\+)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$
// No suffix starts with a digit or '.', so taking the longest number first never loses a match.
bool MatchesQuantityPattern(const std::string& text) {
  size_t i = 0;
  if (i < text.size() && text[i] == '+') ++i;
  if (!MatchDecimal(text, &i)) return false;
  const size_t rest = text.size() - i;
  if (rest == 0) return true;
  const char c = text[i];
  if (c == '\0') return false;  // strchr would find the terminator
  if (rest == 2 && text[i + 1] == 'i' && std::strchr("KMGTPE", c) != nullptr) return true;
  if (rest == 1 && std::strchr("numkMGTPE", c) != nullptr) return true;
  if (c != 'e' && c != 'E') return false;
  ++i;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  return MatchDecimal(text, &i) && i == text.size();
}

ObjectReader::ObjectReader(const json* j, std::string path, FieldErrors* errors,
                           std::initializer_list<const char*> known, bool strict)
    : path_(std::move(path)), errors_(errors) {
  if (j == nullptr || j->is_null()) {
    static const json kEmpty = json::object();
    obj_ = &kEmpty;
    return;
  }
  if (!j->is_object()) {
    Error(path_, "must be an object");
    return;
  }
  obj_ = j;
  if (!strict) return;
  for (const auto& [k, v] : j->items()) {
    bool found = false;
    for (const char* kn : known) {
      if (k == kn) {
        found = true;
        break;
      }
    }
    if (!found) Error(PathOf(k.c_str()), "unknown field \"" + k + "\"");
  }
}

bool ObjectReader::Has(const char* key) const { return Child(key) != nullptr; }

const json* ObjectReader::Child(const char* key) const {
  if (obj_ == nullptr) return nullptr;
  auto it = obj_->find(key);
  if (it == obj_->end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> ObjectReader::String(const char* key) {
  const json* v = Child(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    Error(PathOf(key), "must be a string");
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<int64_t> ObjectReader::Int(const char* key) {
  const json* v = Child(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer()) {
    Error(PathOf(key), "must be an integer");
    return std::nullopt;
  }
  return v->get<int64_t>();
}

std::optional<int32_t> ObjectReader::Int32(const char* key) {
  auto v = Int(key);
  if (!v) return std::nullopt;
  if (*v < INT32_MIN || *v > INT32_MAX) {
    Error(PathOf(key), "must fit in 32 bits");
    return std::nullopt;
  }
  return static_cast<int32_t>(*v);
}

std::optional<double> ObjectReader::Number(const char* key) {
  const json* v = Child(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) {
    Error(PathOf(key), "must be a number");
    return std::nullopt;
  }
  return v->get<double>();
}

std::optional<bool> ObjectReader::Bool(const char* key) {
  const json* v = Child(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    Error(PathOf(key), "must be a boolean");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<int64_t> ObjectReader::Quantity(const char* key, bool milli) {
  const json* v = Child(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_integer()) {
    int64_t n = v->get<int64_t>();
    if (milli) {
      if (n > INT64_MAX / 1000 || n < INT64_MIN / 1000) {
        Error(PathOf(key), "quantity is out of range");
        return std::nullopt;
      }
      return n * 1000;
    }
    return n;
  }
  if (!v->is_string()) {
    Error(PathOf(key), "must be a quantity (an integer or a string such as \"500m\" or \"4Gi\")");
    return std::nullopt;
  }
  const std::string text = v->get<std::string>();
  if (!MatchesQuantityPattern(text)) {
    Error(PathOf(key), "\"" + text + "\" is not a non-negative quantity (such as \"500m\", \"2\", \"4Gi\")");
    return std::nullopt;
  }
  auto r = milli ? ParseCpuMilli(text) : ParseBytes(text);
  if (!r.ok()) {
    Error(PathOf(key), r.status().message());
    return std::nullopt;
  }
  return *r;
}

std::optional<int64_t> ObjectReader::CpuMilli(const char* key) { return Quantity(key, true); }
std::optional<int64_t> ObjectReader::Bytes(const char* key) { return Quantity(key, false); }

std::optional<Time> ObjectReader::Timestamp(const char* key) {
  auto s = String(key);
  if (!s) return std::nullopt;
  Time t;
  if (!ParseRfc3339(*s, &t)) {
    Error(PathOf(key), "\"" + *s + "\" is not an RFC 3339 date-time");
    return std::nullopt;
  }
  return t;
}

std::optional<std::vector<std::string>> ObjectReader::StringList(const char* key) {
  const json* v = Child(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) {
    Error(PathOf(key), "must be a list of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool bad = false;
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) {
      Error(PathOf(key) + "[" + std::to_string(i) + "]", "must be a string");
      bad = true;
      continue;
    }
    out.push_back((*v)[i].get<std::string>());
  }
  if (bad) return std::nullopt;
  return out;
}

std::optional<std::map<std::string, std::string>> ObjectReader::StringMap(const char* key) {
  const json* v = Child(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) {
    Error(PathOf(key), "must be a map of strings");
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  for (const auto& [k, val] : v->items()) {
    if (!val.is_string()) {
      Error(PathOf(key) + "." + k, "must be a string");
      continue;
    }
    out[k] = val.get<std::string>();
  }
  return out;
}

}  // namespace prescient::api::internal
