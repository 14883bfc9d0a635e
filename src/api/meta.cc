#include "api/meta.h"

#include <algorithm>

namespace prescient::api {

bool ObjectMeta::HasFinalizer(std::string_view f) const {
  return std::find(finalizers.begin(), finalizers.end(), f) != finalizers.end();
}

std::string KeyOf(const ObjectMeta& m) { return m.ns.empty() ? m.name : m.ns + "/" + m.name; }

const char* ConditionStatusName(ConditionStatus s) {
  switch (s) {
    case ConditionStatus::kTrue: return "True";
    case ConditionStatus::kFalse: return "False";
    case ConditionStatus::kUnknown: return "Unknown";
  }
  return "Unknown";
}

bool ParseConditionStatus(std::string_view text, ConditionStatus* out) {
  if (text == "True") *out = ConditionStatus::kTrue;
  else if (text == "False") *out = ConditionStatus::kFalse;
  else if (text == "Unknown") *out = ConditionStatus::kUnknown;
  else return false;
  return true;
}

bool SetCondition(std::vector<Condition>* conditions, Condition c, Time now) {
  for (Condition& existing : *conditions) {
    if (existing.type != c.type) continue;
    bool changed = false;
    if (existing.status != c.status) {
      existing.status = c.status;
      existing.last_transition_time = now;
      changed = true;
    }
    if (existing.reason != c.reason) existing.reason = c.reason, changed = true;
    if (existing.message != c.message) existing.message = c.message, changed = true;
    if (existing.observed_generation != c.observed_generation)
      existing.observed_generation = c.observed_generation, changed = true;
    return changed;
  }
  c.last_transition_time = now;
  conditions->push_back(std::move(c));
  return true;
}

bool RemoveCondition(std::vector<Condition>* conditions, std::string_view type) {
  auto it = std::remove_if(conditions->begin(), conditions->end(),
                           [&](const Condition& c) { return c.type == type; });
  bool removed = it != conditions->end();
  conditions->erase(it, conditions->end());
  return removed;
}

const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type) {
  for (const Condition& c : conditions)
    if (c.type == type) return &c;
  return nullptr;
}

bool IsConditionTrue(const std::vector<Condition>& conditions, std::string_view type) {
  const Condition* c = FindCondition(conditions, type);
  return c != nullptr && c->status == ConditionStatus::kTrue;
}

const char* OperatorName(LabelSelectorRequirement::Operator op) {
  using Op = LabelSelectorRequirement::Operator;
  switch (op) {
    case Op::kIn: return "In";
    case Op::kNotIn: return "NotIn";
    case Op::kExists: return "Exists";
    case Op::kDoesNotExist: return "DoesNotExist";
  }
  return "In";
}

bool ParseOperator(std::string_view text, LabelSelectorRequirement::Operator* out) {
  using Op = LabelSelectorRequirement::Operator;
  if (text == "In") *out = Op::kIn;
  else if (text == "NotIn") *out = Op::kNotIn;
  else if (text == "Exists") *out = Op::kExists;
  else if (text == "DoesNotExist") *out = Op::kDoesNotExist;
  else return false;
  return true;
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& [k, v] : match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  using Op = LabelSelectorRequirement::Operator;
  for (const auto& r : match_expressions) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    bool in = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case Op::kIn: if (!in) return false; break;
      case Op::kNotIn: if (in) return false; break;  // a missing key satisfies NotIn, as upstream
      case Op::kExists: if (!has) return false; break;
      case Op::kDoesNotExist: if (has) return false; break;
    }
  }
  return true;
}

std::string Summarize(const FieldErrors& errors, size_t max) {
  std::string out;
  for (size_t i = 0; i < errors.size() && i < max; ++i) {
    if (i) out += "; ";
    out += errors[i].ToString();
  }
  if (errors.size() > max) out += "; and " + std::to_string(errors.size() - max) + " more";
  return out;
}

}  // namespace prescient::api
