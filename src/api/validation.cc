#include "api/validation.h"

#include <regex>
#include <set>

namespace prescient::api {
namespace {

// Collects errors; each helper mirrors one OpenAPI keyword.
class Checker {
 public:
  explicit Checker(FieldErrors* out) : out_(out) {}
  void Add(std::string path, std::string message) { out_->push_back({std::move(path), std::move(message)}); }

  void MaxLength(const std::string& path, const std::string& v, int64_t max) {
    if (static_cast<int64_t>(v.size()) > max)
      Add(path, "Too long: may not be more than " + std::to_string(max) + " bytes (got " + std::to_string(v.size()) + ")");
  }
  void MinLength(const std::string& path, const std::string& v, int64_t min) {
    if (static_cast<int64_t>(v.size()) < min)
      Add(path, "should be at least " + std::to_string(min) + " chars long");
  }
  void Range(const std::string& path, int64_t v, int64_t lo, int64_t hi) {
    if (v < lo) Add(path, "should be greater than or equal to " + std::to_string(lo) + " (got " + std::to_string(v) + ")");
    if (v > hi) Add(path, "should be less than or equal to " + std::to_string(hi) + " (got " + std::to_string(v) + ")");
  }
  void RangeD(const std::string& path, double v, double lo, double hi) {
    if (v < lo || v > hi) Add(path, "should be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  void MaxItems(const std::string& path, size_t n, int64_t max) {
    if (static_cast<int64_t>(n) > max)
      Add(path, "Too many: " + std::to_string(n) + ": must have at most " + std::to_string(max) + " items");
  }
  void MinItems(const std::string& path, size_t n, int64_t min) {
    if (static_cast<int64_t>(n) < min) Add(path, "should have at least " + std::to_string(min) + " items");
  }
  void Pattern(const std::string& path, const std::string& v, const std::regex& re, const char* text) {
    if (!std::regex_match(v, re)) Add(path, "Invalid value: \"" + Clip(v) + "\": should match '" + text + "'");
  }
  static std::string Clip(const std::string& v) { return v.size() > 64 ? v.substr(0, 61) + "..." : v; }

 private:
  FieldErrors* out_;
};

const char* kDnsLabelText = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const char* kDnsSubdomainText = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
const char* kEnvNameText = "^[A-Za-z_][A-Za-z0-9_]*$";
const char* kReasonText = "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$";
const char* kConditionTypeText =
    "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$";

const std::regex& DnsLabelRe() { static const std::regex re(kDnsLabelText); return re; }
const std::regex& DnsSubdomainRe() { static const std::regex re(kDnsSubdomainText); return re; }
const std::regex& EnvNameRe() { static const std::regex re(kEnvNameText); return re; }
const std::regex& ReasonRe() { static const std::regex re(kReasonText); return re; }
const std::regex& ConditionTypeRe() { static const std::regex re(kConditionTypeText); return re; }

void CheckDnsLabelField(Checker& c, const std::string& path, const std::string& v) {
  c.MinLength(path, v, 1);
  c.MaxLength(path, v, kMaxLabelNameBytes);
  if (!v.empty()) c.Pattern(path, v, DnsLabelRe(), kDnsLabelText);
}

void CheckDnsSubdomainField(Checker& c, const std::string& path, const std::string& v) {
  c.MinLength(path, v, 1);
  c.MaxLength(path, v, kMaxNameBytes);
  if (!v.empty()) c.Pattern(path, v, DnsSubdomainRe(), kDnsSubdomainText);
}

void CheckSelector(Checker& c, const std::string& path, const LabelSelector& s) {
  c.MaxItems(path + ".matchLabels", s.match_labels.size(), kMaxSelectorLabels);
  for (const auto& [k, v] : s.match_labels) c.MaxLength(path + ".matchLabels." + k, v, 63);
  c.MaxItems(path + ".matchExpressions", s.match_expressions.size(), kMaxSelectorExpressions);
  for (size_t i = 0; i < s.match_expressions.size(); ++i) {
    const auto& r = s.match_expressions[i];
    std::string p = path + ".matchExpressions[" + std::to_string(i) + "]";
    c.MinLength(p + ".key", r.key, 1);
    c.MaxLength(p + ".key", r.key, 317);
    c.MaxItems(p + ".values", r.values.size(), kMaxSelectorValues);
    for (size_t k = 0; k < r.values.size(); ++k) c.MaxLength(p + ".values[" + std::to_string(k) + "]", r.values[k], 63);
    bool needs_values = r.op == LabelSelectorRequirement::Operator::kIn ||
                        r.op == LabelSelectorRequirement::Operator::kNotIn;
    if (needs_values != !r.values.empty())
      c.Add(p, "values must be non-empty for In and NotIn and empty for Exists and DoesNotExist");
  }
  if (s.Empty()) c.Add(path, "vmSelector must not be empty");
}

void CheckAmountsNonNegative(Checker& c, const std::string& path, const ResourceAmounts& a, bool with_network) {
  if (a.cpu_milli && *a.cpu_milli < 0) c.Add(path, "cpu must not be negative");
  if (a.memory_bytes && *a.memory_bytes < 0) c.Add(path, "memory must not be negative");
  if (a.disk_bytes && *a.disk_bytes < 0) c.Add(path, "disk must not be negative");
  if (with_network && a.network_bytes_per_second && *a.network_bytes_per_second < 0)
    c.Add(path, "network must not be negative");
}

void CheckDependencies(Checker& c, const std::string& path, const std::vector<Dependency>& deps) {
  c.MaxItems(path, deps.size(), kMaxDependencies);
  for (size_t i = 0; i < deps.size(); ++i) {
    const Dependency& d = deps[i];
    std::string p = path + "[" + std::to_string(i) + "]";
    if (d.name) c.MaxLength(p + ".name", *d.name, kMaxNameBytes);
    c.MinLength(p + ".host", d.host, 1);
    c.MaxLength(p + ".host", d.host, kMaxNameBytes);
    c.Range(p + ".port", d.port, 1, 65535);
  }
}

}  // namespace

bool IsDnsLabel(const std::string& s) {
  return !s.empty() && static_cast<int64_t>(s.size()) <= kMaxLabelNameBytes && std::regex_match(s, DnsLabelRe());
}

bool IsDnsSubdomain(const std::string& s) {
  return !s.empty() && static_cast<int64_t>(s.size()) <= kMaxNameBytes && std::regex_match(s, DnsSubdomainRe());
}

FieldErrors ValidateTarget(const Target& t, const std::string& path) {
  FieldErrors errs;
  Checker c(&errs);
  if (t.vm_name) CheckDnsLabelField(c, path + ".vmName", *t.vm_name);
  if (t.vm_pool_name) CheckDnsLabelField(c, path + ".vmPoolName", *t.vm_pool_name);
  if (t.vm_selector) CheckSelector(c, path + ".vmSelector", *t.vm_selector);
  int set = (t.vm_name ? 1 : 0) + (t.vm_selector ? 1 : 0) + (t.vm_pool_name ? 1 : 0);
  if (set != 1) c.Add(path, "exactly one of vmName, vmSelector, vmPoolName must be set");
  return errs;
}

FieldErrors ValidateConditions(const std::vector<Condition>& conditions, const std::string& path) {
  FieldErrors errs;
  Checker c(&errs);
  c.MaxItems(path, conditions.size(), kMaxConditions);
  std::set<std::string> seen;
  for (size_t i = 0; i < conditions.size(); ++i) {
    const Condition& cd = conditions[i];
    std::string p = path + "[" + std::to_string(i) + "]";
    c.MinLength(p + ".type", cd.type, 1);
    c.MaxLength(p + ".type", cd.type, 316);
    if (!cd.type.empty()) c.Pattern(p + ".type", cd.type, ConditionTypeRe(), kConditionTypeText);
    c.MinLength(p + ".reason", cd.reason, 1);
    c.MaxLength(p + ".reason", cd.reason, 1024);
    if (!cd.reason.empty()) c.Pattern(p + ".reason", cd.reason, ReasonRe(), kReasonText);
    c.MaxLength(p + ".message", cd.message, 32768);
    if (cd.observed_generation < 0) c.Add(p + ".observedGeneration", "should be greater than or equal to 0");
    if (!seen.insert(cd.type).second) c.Add(p, "Duplicate value: {\"type\":\"" + cd.type + "\"}");
  }
  return errs;
}

FieldErrors ValidateCommandRunSpec(const CommandRunSpec& s) {
  FieldErrors errs;
  Checker c(&errs);
  if (s.command) {
    c.MinLength("spec.command", *s.command, 1);
    c.MaxLength("spec.command", *s.command, kMaxCommandBytes);
  }
  if (s.args) {
    c.MinItems("spec.args", s.args->size(), 1);
    c.MaxItems("spec.args", s.args->size(), kMaxArgs);
    int64_t total = 0;
    for (size_t i = 0; i < s.args->size(); ++i) {
      c.MaxLength("spec.args[" + std::to_string(i) + "]", (*s.args)[i], kMaxCommandBytes);
      total += static_cast<int64_t>((*s.args)[i].size());
    }
    if (total > kMaxCommandBytes) c.Add("spec.args", "args must total at most 65536 bytes");
  }
  for (auto& e : ValidateTarget(s.target, "spec.target")) errs.push_back(std::move(e));
  if (s.priority_class_name) CheckDnsSubdomainField(c, "spec.priorityClassName", *s.priority_class_name);
  if (s.priority) c.Range("spec.priority", *s.priority, -kMaxPriority, kMaxPriority);
  if (s.user) {
    c.MinLength("spec.user", *s.user, 1);
    c.MaxLength("spec.user", *s.user, kMaxUserBytes);
  }
  if (s.reservation_name) CheckDnsSubdomainField(c, "spec.reservationName", *s.reservation_name);
  if (s.resources) {
    const ResourceBounds& b = *s.resources;
    if (b.min) CheckAmountsNonNegative(c, "spec.resources.min", *b.min, true);
    if (b.max) CheckAmountsNonNegative(c, "spec.resources.max", *b.max, true);
    if (b.min && b.max) {
      auto check = [&](const std::optional<int64_t>& lo, const std::optional<int64_t>& hi, const char* name) {
        if (lo && hi && *lo > *hi)
          c.Add("spec.resources", std::string("min.") + name + " must not exceed max." + name);
      };
      check(b.min->cpu_milli, b.max->cpu_milli, "cpu");
      check(b.min->memory_bytes, b.max->memory_bytes, "memory");
      check(b.min->disk_bytes, b.max->disk_bytes, "disk");
      check(b.min->network_bytes_per_second, b.max->network_bytes_per_second, "network");
    }
  }
  if (s.shadow) c.Range("spec.shadow.durationSeconds", s.shadow->duration_seconds, 1, kMaxShadowSeconds);
  if (s.dependencies) CheckDependencies(c, "spec.dependencies", *s.dependencies);
  if (s.timeout_seconds) c.Range("spec.timeoutSeconds", *s.timeout_seconds, 1, kMaxTimeoutSeconds);
  if (s.env) {
    c.MaxItems("spec.env", s.env->size(), kMaxEnv);
    std::set<std::string> names;
    for (size_t i = 0; i < s.env->size(); ++i) {
      const EnvVar& e = (*s.env)[i];
      std::string p = "spec.env[" + std::to_string(i) + "]";
      c.MinLength(p + ".name", e.name, 1);
      c.MaxLength(p + ".name", e.name, kMaxEnvNameBytes);
      if (!e.name.empty()) c.Pattern(p + ".name", e.name, EnvNameRe(), kEnvNameText);
      c.MaxLength(p + ".value", e.value, kMaxEnvValueBytes);
      if (!names.insert(e.name).second) c.Add(p, "Duplicate value: {\"name\":\"" + e.name + "\"}");
    }
  }
  if (s.working_dir) {
    c.MinLength("spec.workingDir", *s.working_dir, 1);
    c.MaxLength("spec.workingDir", *s.working_dir, kMaxWorkingDirBytes);
    if (!s.working_dir->empty() && (*s.working_dir)[0] != '/')
      c.Add("spec.workingDir", "Invalid value: \"" + Checker::Clip(*s.working_dir) + "\": should match '^/'");
  }
  // The spec-level CEL rules.
  if (s.command.has_value() == s.args.has_value()) c.Add("spec", "exactly one of command and args must be set");
  if (s.priority_class_name && s.priority) c.Add("spec", "at most one of priorityClassName and priority may be set");
  return errs;
}

FieldErrors ValidateCommandRun(const CommandRun& run) {
  FieldErrors errs;
  Checker c(&errs);
  if (run.metadata.name.empty()) c.Add("metadata.name", "Required value");
  else if (!IsDnsSubdomain(run.metadata.name))
    c.Add("metadata.name", "Invalid value: \"" + Checker::Clip(run.metadata.name) + "\": must be a DNS subdomain");
  if (run.metadata.ns.empty()) c.Add("metadata.namespace", "Required value");
  for (auto& e : ValidateCommandRunSpec(run.spec)) errs.push_back(std::move(e));
  return errs;
}

FieldErrors ValidateCommandRunSpecUpdate(const CommandRunSpec& o, const CommandRunSpec& n) {
  FieldErrors errs;
  auto same = [&](const auto& a, const auto& b, const char* field) {
    if (!(a == b)) errs.push_back({"spec", std::string("spec.") + field + " is immutable"});
  };
  // Same order as IMMUTABLE_SPEC_FIELDS in crds/generate.py.
  same(o.command, n.command, "command");
  same(o.args, n.args, "args");
  same(o.target, n.target, "target");
  same(o.user, n.user, "user");
  same(o.reservation_name, n.reservation_name, "reservationName");
  same(o.resources, n.resources, "resources");
  same(o.shadow, n.shadow, "shadow");
  same(o.dependencies, n.dependencies, "dependencies");
  same(o.timeout_seconds, n.timeout_seconds, "timeoutSeconds");
  same(o.env, n.env, "env");
  same(o.working_dir, n.working_dir, "workingDir");
  same(o.allow_preemption_while_running, n.allow_preemption_while_running, "allowPreemptionWhileRunning");
  for (auto& e : ValidateCommandRunSpec(n)) errs.push_back(std::move(e));
  return errs;
}

FieldErrors ValidateCommandRunStatus(const CommandRunStatus& s) {
  FieldErrors errs;
  Checker c(&errs);
  if (s.observed_generation < 0) c.Add("status.observedGeneration", "should be greater than or equal to 0");
  if (s.prediction) {
    const Prediction& p = *s.prediction;
    if (p.cpu_milli < 0) c.Add("status.prediction.cpu", "must not be negative");
    if (p.memory_bytes < 0) c.Add("status.prediction.memory", "must not be negative");
    if (p.disk_read_bytes_per_second < 0) c.Add("status.prediction.diskReadBytesPerSecond", "should be greater than or equal to 0");
    if (p.disk_write_bytes_per_second < 0) c.Add("status.prediction.diskWriteBytesPerSecond", "should be greater than or equal to 0");
    if (p.network_bytes_per_second < 0) c.Add("status.prediction.networkBytesPerSecond", "should be greater than or equal to 0");
    if (p.duration_seconds < 0) c.Add("status.prediction.durationSeconds", "should be greater than or equal to 0");
    c.RangeD("status.prediction.quantile", p.quantile, 0, 1);
    c.MaxLength("status.prediction.modelVersion", p.model_version, 256);
    c.MaxLength("status.prediction.source", p.source, 64);
    CheckDependencies(c, "status.prediction.dependencies", p.dependencies);
  }
  if (s.allocation) {
    const Allocation& a = *s.allocation;
    c.MaxLength("status.allocation.instanceID", a.instance_id, kMaxNameBytes);
    c.MaxLength("status.allocation.vmName", a.vm_name, kMaxNameBytes);
    c.MaxLength("status.allocation.node", a.node, kMaxNameBytes);
    c.MaxLength("status.allocation.reservationName", a.reservation_name, kMaxNameBytes);
    if (a.cpu_milli < 0) c.Add("status.allocation.cpuCores", "must not be negative");
    if (a.memory_bytes < 0) c.Add("status.allocation.memory", "must not be negative");
    if (a.disk_bytes < 0) c.Add("status.allocation.diskSpace", "must not be negative");
    if (a.io_weight) c.Range("status.allocation.ioWeight", *a.io_weight, kMinIoWeight, kMaxIoWeight);
    if (a.disk_read_bytes_per_second < 0) c.Add("status.allocation.diskReadBytesPerSecond", "must not be negative");
    if (a.disk_write_bytes_per_second < 0) c.Add("status.allocation.diskWriteBytesPerSecond", "must not be negative");
  }
  if (s.stop_request) {
    const StopRequest& r = *s.stop_request;
    if (r.reason.empty()) c.Add("status.stopRequest.reason", "Required value");
    c.MaxLength("status.stopRequest.reason", r.reason, 128);
    c.MaxLength("status.stopRequest.requestedBy", r.requested_by, kMaxNameBytes);
    if (r.grace_period_seconds)
      c.Range("status.stopRequest.gracePeriodSeconds", *r.grace_period_seconds, 0, kMaxStopGracePeriodSeconds);
  }
  if (s.preemptions < 0) c.Add("status.preemptions", "should be greater than or equal to 0");
  if (s.queue) {
    if (s.queue->position < 0) c.Add("status.queue.position", "should be greater than or equal to 0");
    c.MaxLength("status.queue.reason", s.queue->reason, 128);
    c.MaxLength("status.queue.message", s.queue->message, 4096);
    c.MaxLength("status.queue.preemptedBy", s.queue->preempted_by, kMaxNameBytes);
  }
  if (s.usage && s.usage->cpu_throttled_fraction)
    c.RangeD("status.usage.cpuThrottledFraction", *s.usage->cpu_throttled_fraction, 0, 1);
  if (s.result) {
    c.MaxLength("status.result.reason", s.result->reason, 64);
    c.MaxLength("status.result.message", s.result->message, 4096);
    c.MaxLength("status.result.outputTail", s.result->output_tail, kMaxOutputTailBytes);
    if (s.result->signal && *s.result->signal < 0) c.Add("status.result.signal", "should be greater than or equal to 0");
  }
  for (auto& e : ValidateConditions(s.conditions, "status.conditions")) errs.push_back(std::move(e));
  return errs;
}

FieldErrors ValidateResourceReservationSpec(const ResourceReservationSpec& s) {
  FieldErrors errs;
  Checker c(&errs);
  CheckAmountsNonNegative(c, "spec.resources", s.resources, false);
  if (!s.resources.cpu_milli && !s.resources.memory_bytes)
    c.Add("spec.resources", "at least one of cpu and memory must be set");
  for (auto& e : ValidateTarget(s.target, "spec.target")) errs.push_back(std::move(e));
  c.MaxItems("spec.users", s.users.size(), kMaxReservationUsers);
  std::set<std::string> users;
  for (size_t i = 0; i < s.users.size(); ++i) {
    std::string p = "spec.users[" + std::to_string(i) + "]";
    c.MinLength(p, s.users[i], 1);
    c.MaxLength(p, s.users[i], kMaxUserBytes);
    if (!users.insert(s.users[i]).second) c.Add(p, "Duplicate value: \"" + s.users[i] + "\"");
  }
  if (s.command_pattern) {
    c.MinLength("spec.commandPattern", *s.command_pattern, 1);
    c.MaxLength("spec.commandPattern", *s.command_pattern, kMaxCommandPatternBytes);
    // Not expressible in the schema: checked here only.
    if (s.command_pattern_syntax == PatternSyntax::kRegex) {
      try {
        std::regex re(*s.command_pattern, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        c.Add("spec.commandPattern", std::string("is not a valid regular expression: ") + e.what());
      }
    }
  }
  if (s.priority) c.Range("spec.priority", *s.priority, -kMaxPriority, kMaxPriority);
  if (s.window) {
    if (!s.window->start && !s.window->end) c.Add("spec.window", "window needs start or end");
    if (s.window->start && s.window->end && !(*s.window->end > *s.window->start))
      c.Add("spec.window", "window.end must be after window.start");
  }
  return errs;
}

FieldErrors ValidateResourceReservation(const ResourceReservation& r) {
  FieldErrors errs;
  Checker c(&errs);
  if (r.metadata.name.empty()) c.Add("metadata.name", "Required value");
  else if (!IsDnsSubdomain(r.metadata.name))
    c.Add("metadata.name", "Invalid value: \"" + Checker::Clip(r.metadata.name) + "\": must be a DNS subdomain");
  if (r.metadata.ns.empty()) c.Add("metadata.namespace", "Required value");
  for (auto& e : ValidateResourceReservationSpec(r.spec)) errs.push_back(std::move(e));
  return errs;
}

FieldErrors ValidateResourceReservationSpecUpdate(const ResourceReservationSpec& o, const ResourceReservationSpec& n) {
  FieldErrors errs;
  if (!(o.target == n.target)) errs.push_back({"spec.target", "spec.target is immutable"});
  for (auto& e : ValidateResourceReservationSpec(n)) errs.push_back(std::move(e));
  return errs;
}

}  // namespace prescient::api
