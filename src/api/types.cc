#include "api/types.h"

namespace prescient::api {
namespace {

template <typename E, size_t N>
const char* NameOf(const std::pair<E, const char*> (&table)[N], E value) {
  for (const auto& [e, name] : table)
    if (e == value) return name;
  return "";
}

template <typename E, size_t N>
bool Parse(const std::pair<E, const char*> (&table)[N], std::string_view text, E* out) {
  for (const auto& [e, name] : table) {
    if (text == name && *name != '\0') {
      *out = e;
      return true;
    }
  }
  return false;
}

constexpr std::pair<DependencyKind, const char*> kDependencyKinds[] = {
    {DependencyKind::kService, "Service"}, {DependencyKind::kDeployment, "Deployment"},
    {DependencyKind::kEndpoint, "Endpoint"}};

constexpr std::pair<RunPhase, const char*> kRunPhases[] = {
    {RunPhase::kNone, ""},           {RunPhase::kPending, "Pending"},     {RunPhase::kPredicting, "Predicting"},
    {RunPhase::kShadowing, "Shadowing"}, {RunPhase::kQueued, "Queued"},   {RunPhase::kScaling, "Scaling"},
    {RunPhase::kAllocating, "Allocating"}, {RunPhase::kAllocated, "Allocated"}, {RunPhase::kRunning, "Running"},
    {RunPhase::kPreempted, "Preempted"}, {RunPhase::kSucceeded, "Succeeded"}, {RunPhase::kFailed, "Failed"}};

constexpr std::pair<NetworkPriority, const char*> kNetworkPriorities[] = {
    {NetworkPriority::kLow, "Low"}, {NetworkPriority::kNormal, "Normal"}, {NetworkPriority::kHigh, "High"}};

constexpr std::pair<PatternSyntax, const char*> kPatternSyntaxes[] = {
    {PatternSyntax::kGlob, "Glob"}, {PatternSyntax::kRegex, "Regex"}};

constexpr std::pair<ReservationPhase, const char*> kReservationPhases[] = {
    {ReservationPhase::kNone, ""},        {ReservationPhase::kPending, "Pending"},
    {ReservationPhase::kBound, "Bound"},  {ReservationPhase::kExpired, "Expired"},
    {ReservationPhase::kFailed, "Failed"}};

}  // namespace

const char* DependencyKindName(DependencyKind k) { return NameOf(kDependencyKinds, k); }
bool ParseDependencyKind(std::string_view t, DependencyKind* out) { return Parse(kDependencyKinds, t, out); }
const char* RunPhaseName(RunPhase p) { return NameOf(kRunPhases, p); }
bool ParseRunPhase(std::string_view t, RunPhase* out) { return Parse(kRunPhases, t, out); }
const char* NetworkPriorityName(NetworkPriority p) { return NameOf(kNetworkPriorities, p); }
bool ParseNetworkPriority(std::string_view t, NetworkPriority* out) { return Parse(kNetworkPriorities, t, out); }
const char* PatternSyntaxName(PatternSyntax s) { return NameOf(kPatternSyntaxes, s); }
bool ParsePatternSyntax(std::string_view t, PatternSyntax* out) { return Parse(kPatternSyntaxes, t, out); }
const char* ReservationPhaseName(ReservationPhase p) { return NameOf(kReservationPhases, p); }
bool ParseReservationPhase(std::string_view t, ReservationPhase* out) { return Parse(kReservationPhases, t, out); }

std::string Target::Describe() const {
  if (vm_name) return "vm " + *vm_name;
  if (vm_pool_name) return "pool " + *vm_pool_name;
  if (vm_selector) {
    std::string s;
    for (const auto& [k, v] : vm_selector->match_labels) s += (s.empty() ? "" : ",") + k + "=" + v;
    for (const auto& r : vm_selector->match_expressions)
      s += (s.empty() ? "" : ",") + r.key + " " + OperatorName(r.op);
    return "vms matching " + s;
  }
  return "no target";
}

std::string CommandRunSpec::CommandLine() const {
  if (command) return *command;
  std::string s;
  if (args) {
    for (const auto& a : *args) {
      if (!s.empty()) s += ' ';
      s += a;
    }
  }
  return s;
}

}  // namespace prescient::api
