// Kubernetes metadata pieces shared by the prescient.dev resources: ObjectMeta, metav1.Condition
// with the rules for setting it, label selectors, and FieldError (a path plus a message, the shape
// of both schema and CEL validation failures). Plain values; functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace prescient::api {

using Time = Clock::TimePoint;

struct ObjectMeta {
  std::string name;
  std::string ns;  // metadata.namespace
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  std::optional<Time> creation_timestamp;
  std::optional<Time> deletion_timestamp;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> finalizers;

  bool HasFinalizer(std::string_view f) const;
  bool operator==(const ObjectMeta&) const = default;
};

// "namespace/name", the work-queue key.
std::string KeyOf(const ObjectMeta& m);

enum class ConditionStatus { kTrue, kFalse, kUnknown };
const char* ConditionStatusName(ConditionStatus s);  // "True", "False", "Unknown"
bool ParseConditionStatus(std::string_view text, ConditionStatus* out);

// metav1.Condition.
struct Condition {
  std::string type;
  ConditionStatus status = ConditionStatus::kUnknown;
  int64_t observed_generation = 0;
  Time last_transition_time{};
  std::string reason;   // CamelCase
  std::string message;
  bool operator==(const Condition&) const = default;
};

// Sets `c` in `conditions` by type, as meta.SetStatusCondition does: lastTransitionTime becomes
// `now` only when the condition is new or its status flips; reason, message and
// observedGeneration are updated in place otherwise. Returns true when anything changed, so a
// caller writes status only then.
bool SetCondition(std::vector<Condition>* conditions, Condition c, Time now);
// Removes the condition of `type`; true when one was removed.
bool RemoveCondition(std::vector<Condition>* conditions, std::string_view type);
const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type);
bool IsConditionTrue(const std::vector<Condition>& conditions, std::string_view type);

struct LabelSelectorRequirement {
  enum class Operator { kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Operator op = Operator::kIn;
  std::vector<std::string> values;
  bool operator==(const LabelSelectorRequirement&) const = default;
};
const char* OperatorName(LabelSelectorRequirement::Operator op);
bool ParseOperator(std::string_view text, LabelSelectorRequirement::Operator* out);

// metav1.LabelSelector. An empty selector matches everything (validation refuses empty ones
// where that would be a surprise).
struct LabelSelector {
  std::map<std::string, std::string> match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;
  bool Matches(const std::map<std::string, std::string>& labels) const;
  bool Empty() const { return match_labels.empty() && match_expressions.empty(); }
  bool operator==(const LabelSelector&) const = default;
};

// One validation failure: where ("spec.resources.min") and what ("cpu must not be negative").
// Messages of rules that mirror a CEL rule in crds/ are the CEL rule's message, word for word.
struct FieldError {
  std::string path;
  std::string message;
  std::string ToString() const { return path + ": " + message; }
  bool operator==(const FieldError&) const = default;
};
using FieldErrors = std::vector<FieldError>;

// "spec.command: Too long: ...; spec.target: exactly one of ..." (at most `max` errors, then "and N more").
std::string Summarize(const FieldErrors& errors, size_t max = 5);

}  // namespace prescient::api
