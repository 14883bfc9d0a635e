// Label and field selectors as the Kubernetes API parses and applies them on lists and watches.
// Label: "a=b", "a==b", "a!=b", "a in (x,y)", "a notin (x)", "a" (exists), "!a" (does not exist),
// comma-separated (AND). Field: "path=value", "path==value", "path!=value", comma-separated; the
// path is a dotted field path ("metadata.name", "spec.nodeName"). Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace prescient::sim {

struct LabelRequirement {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kExists;
  std::vector<std::string> values;
};

struct LabelSelector {
  std::vector<LabelRequirement> requirements;  // empty: matches everything
  bool Empty() const { return requirements.empty(); }
  bool Matches(const nlohmann::json& labels) const;  // labels: object or null
};

// Errors are 400 BadRequest Status values with the API server's wording.
Result<LabelSelector> ParseLabelSelector(std::string_view text);

struct FieldRequirement {
  std::string field;
  bool equals = true;  // false for !=
  std::string value;
};

struct FieldSelector {
  std::vector<FieldRequirement> requirements;
  bool Empty() const { return requirements.empty(); }
  // Missing fields compare as "". Non-string scalars compare by their JSON text (true, 3).
  bool Matches(const nlohmann::json& object) const;
};

Result<FieldSelector> ParseFieldSelector(std::string_view text);

// The value at a dotted path ("spec.nodeName"), as a selector compares it; "" when absent.
std::string FieldValue(const nlohmann::json& object, std::string_view path);

}  // namespace prescient::sim
