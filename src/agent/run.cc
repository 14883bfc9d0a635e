#include "agent/run.h"

#include <algorithm>
#include <cctype>

#include "api/codec.h"
#include "api/types.h"
#include "api/validation.h"
#include "common/quantity.h"

namespace prescient::agent {
namespace {

using nlohmann::json;

constexpr size_t kMaxCommandBytes = 256 * 1024;
constexpr size_t kMaxEnvVars = 512;
constexpr size_t kMaxDependencies = 64;
constexpr int64_t kMaxTimeoutSeconds = 30LL * 24 * 3600;

Status Bad(const std::string& where, const std::string& what) {
  return InvalidArgument("CommandRun " + where + ": " + what);
}

bool HasNul(const std::string& s) { return s.find('\0') != std::string::npos; }

// RFC 1123 subdomain, as Kubernetes requires for object names and namespaces.
bool ValidDnsSubdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' ||
          c == '.'))
      return false;
  }
  return std::isalnum(static_cast<unsigned char>(s.front())) && std::isalnum(static_cast<unsigned char>(s.back()));
}

bool ValidEnvName(const std::string& s) {
  if (s.empty() || s.size() > 256) return false;
  if (!(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

bool ValidHost(const std::string& h) {
  if (h.empty() || h.size() > 253) return false;
  return std::all_of(h.begin(), h.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == ':' || c == '_';
  });
}

// Reads an optional string field; errors when present with another type.
Status OptString(const json& o, const char* key, const std::string& where, std::optional<std::string>* out) {
  if (!o.is_object() || !o.contains(key) || o[key].is_null()) return Status::Ok();
  if (!o[key].is_string()) return Bad(where + "." + key, "must be a string");
  *out = o[key].get<std::string>();
  if (HasNul(**out)) return Bad(where + "." + key, "contains a NUL byte");
  return Status::Ok();
}

Status OptInt(const json& o, const char* key, const std::string& where, int64_t lo, int64_t hi, int64_t* out) {
  if (!o.is_object() || !o.contains(key) || o[key].is_null()) return Status::Ok();
  if (!o[key].is_number_integer()) return Bad(where + "." + key, "must be an integer");
  int64_t v = o[key].get<int64_t>();
  if (v < lo || v > hi)
    return Bad(where + "." + key, std::to_string(v) + " is outside [" + std::to_string(lo) + ", " +
                                      std::to_string(hi) + "]");
  *out = v;
  return Status::Ok();
}

Result<Dependency> ParseDependency(const json& d, const std::string& where, const std::string& source) {
  Dependency dep;
  dep.source = source;
  if (d.is_string()) {
    std::string s = d.get<std::string>();
    // "host:port" or "[v6]:port"; an optional scheme prefix "tcp://" is accepted.
    if (s.rfind("tcp://", 0) == 0) s = s.substr(6);
    size_t colon = s.rfind(':');
    if (colon == std::string::npos) return Bad(where, "\"" + s + "\" is not host:port");
    dep.host = s.substr(0, colon);
    if (dep.host.size() > 2 && dep.host.front() == '[' && dep.host.back() == ']')
      dep.host = dep.host.substr(1, dep.host.size() - 2);
    std::string port = s.substr(colon + 1);
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit))
      return Bad(where, "\"" + s + "\" has no numeric port");
    dep.port = std::stoi(port);
  } else if (d.is_object()) {
    const char* host_key = d.contains("host") ? "host" : (d.contains("address") ? "address" : "name");
    if (!d.contains(host_key) || !d[host_key].is_string()) return Bad(where, "needs a string host");
    dep.host = d[host_key].get<std::string>();
    if (!d.contains("port") || !d["port"].is_number_integer()) return Bad(where, "needs an integer port");
    dep.port = d["port"].get<int>();
  } else {
    return Bad(where, "must be \"host:port\" or {host, port}");
  }
  if (!ValidHost(dep.host)) return Bad(where, "host \"" + dep.host + "\" is not a hostname or IP address");
  // A Service (or the Deployment behind one) is named "svc" or "svc.ns": reach it by its cluster
  // DNS name. The namespace is filled in by ParseRun.
  if (d.is_object() && (d.value("kind", "") == "Service" || d.value("kind", "") == "Deployment"))
    dep.source += "-service";
  if (dep.port < 1 || dep.port > 65535) return Bad(where, "port " + std::to_string(dep.port) + " out of range");
  return dep;
}

Status ParseDependencies(const json& arr, const std::string& where, const std::string& source,
                         std::vector<Dependency>* out) {
  if (arr.is_null()) return Status::Ok();
  if (!arr.is_array()) return Bad(where, "must be a list");
  if (arr.size() > kMaxDependencies) return Bad(where, "more than " + std::to_string(kMaxDependencies) + " entries");
  for (size_t i = 0; i < arr.size(); ++i) {
    auto d = ParseDependency(arr[i], where + "[" + std::to_string(i) + "]", source);
    if (!d.ok()) return d.status();
    bool dup = std::any_of(out->begin(), out->end(),
                           [&](const Dependency& e) { return e.host == d->host && e.port == d->port; });
    if (!dup) out->push_back(*d);
  }
  return Status::Ok();
}

Result<int64_t> QuantityField(const json& v, bool cpu, const std::string& where) {
  std::string text;
  if (v.is_string()) {
    text = v.get<std::string>();
  } else if (v.is_number_integer()) {
    text = std::to_string(v.get<int64_t>());
  } else if (v.is_number_float()) {
    // Numbers are accepted for CPU only ("cpuCores: 1.5").
    if (!cpu) return Bad(where, "must be a quantity string");
    double d = v.get<double>();
    if (!(d > 0) || d > 1e6) return Bad(where, "out of range");
    return static_cast<int64_t>(d * 1000 + 0.5);
  } else {
    return Bad(where, "must be a quantity");
  }
  auto r = cpu ? ParseCpuMilli(text) : ParseBytes(text);
  if (!r.ok()) return Bad(where, r.status().message());
  return *r;
}

Result<Allocation> ParseAllocation(const json& a, const std::string& where) {
  if (!a.is_object()) return Bad(where, "must be an object");
  Allocation out;
  if (!a.contains("cpuCores") || !a.contains("memory")) return Bad(where, "needs cpuCores and memory");
  auto cpu = QuantityField(a["cpuCores"], true, where + ".cpuCores");
  if (!cpu.ok()) return cpu.status();
  auto mem = QuantityField(a["memory"], false, where + ".memory");
  if (!mem.ok()) return mem.status();
  if (*cpu <= 0) return Bad(where + ".cpuCores", "must be positive");
  if (*mem < (4 << 20)) return Bad(where + ".memory", "below 4Mi is not a usable limit");
  out.cpu_milli = *cpu;
  out.memory_bytes = *mem;
  if (a.contains("networkPriority")) {
    api::NetworkPriority np;
    if (!a["networkPriority"].is_string() || !api::ParseNetworkPriority(a["networkPriority"].get<std::string>(), &np))
      return Bad(where + ".networkPriority", "must be Low, Normal or High");
    out.network_priority = api::NetworkPriorityName(np);
  }
  if (a.contains("ioWeight")) {
    const json& w = a["ioWeight"];
    if (!w.is_number_integer() || w.get<int64_t>() < 1 || w.get<int64_t>() > 10000)
      return Bad(where + ".ioWeight", "must be an integer from 1 to 10000");
    out.io_weight = static_cast<uint32_t>(w.get<int64_t>());
  }
  for (auto [key, field] : {std::pair{"diskReadBytesPerSecond", &out.disk_read_bps},
                            std::pair{"diskWriteBytesPerSecond", &out.disk_write_bps}}) {
    if (!a.contains(key)) continue;
    auto v = QuantityField(a[key], false, where + "." + key);
    if (!v.ok()) return v.status();
    if (*v < 0) return Bad(where + "." + key, "must not be negative");
    *field = *v;
  }
  return out;
}

json AllocationToJson(const Allocation& a) {
  json j = {{"cpuCores", FormatCpuMilli(a.cpu_milli)}, {"memory", FormatBytes(a.memory_bytes)},
            {"networkPriority", a.network_priority}};
  if (a.io_weight) j["ioWeight"] = *a.io_weight;
  if (a.disk_read_bps > 0) j["diskReadBytesPerSecond"] = std::to_string(a.disk_read_bps);
  if (a.disk_write_bps > 0) j["diskWriteBytesPerSecond"] = std::to_string(a.disk_write_bps);
  return j;
}

json& Status_(json* obj) {
  if (!(*obj).contains("status") || !(*obj)["status"].is_object()) (*obj)["status"] = json::object();
  return (*obj)["status"];
}

}  // namespace

bool ValidUid(const std::string& uid) {
  if (uid.empty() || uid.size() > 64) return false;
  return std::all_of(uid.begin(), uid.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
           c == '-';
  });
}

std::vector<std::string> RunView::Argv() const {
  if (command) return {"/bin/sh", "-c", *command};
  return args;
}

Result<RunView> ParseRunMetadata(const json& obj) {
  if (!obj.is_object()) return Bad("object", "is not a JSON object");
  const json& md = obj.contains("metadata") ? obj["metadata"] : json();
  if (!md.is_object()) return Bad("metadata", "missing");
  RunView v;
  std::optional<std::string> s;
  if (auto st = OptString(md, "namespace", "metadata", &s); !st.ok()) return st;
  v.ns = s.value_or("");
  s.reset();
  if (auto st = OptString(md, "name", "metadata", &s); !st.ok()) return st;
  v.name = s.value_or("");
  s.reset();
  if (auto st = OptString(md, "uid", "metadata", &s); !st.ok()) return st;
  v.uid = s.value_or("");
  s.reset();
  if (auto st = OptString(md, "resourceVersion", "metadata", &s); !st.ok()) return st;
  v.resource_version = s.value_or("");
  if (!ValidDnsSubdomain(v.ns)) return Bad("metadata.namespace", "\"" + v.ns + "\" is not a valid namespace");
  if (!ValidDnsSubdomain(v.name)) return Bad("metadata.name", "\"" + v.name + "\" is not a valid name");
  if (!ValidUid(v.uid)) return Bad("metadata.uid", "\"" + v.uid + "\" is not a UID");
  if (md.contains("labels") && md["labels"].is_object()) {
    for (auto& [k, val] : md["labels"].items())
      if (val.is_string()) v.labels[k] = val.get<std::string>();
  }
  v.deleting = md.contains("deletionTimestamp") && !md["deletionTimestamp"].is_null();
  return v;
}

Result<RunView> ParseRun(const json& obj) {
  auto meta = ParseRunMetadata(obj);
  if (!meta.ok()) return meta;
  RunView v = std::move(*meta);
  const json spec = obj.contains("spec") ? obj["spec"] : json::object();
  const json status = obj.contains("status") && obj["status"].is_object() ? obj["status"] : json::object();
  if (!spec.is_object()) return Bad("spec", "must be an object");

  if (auto st = OptString(spec, "command", "spec", &v.command); !st.ok()) return st;
  if (spec.contains("args") && !spec["args"].is_null()) {
    if (!spec["args"].is_array()) return Bad("spec.args", "must be a list of strings");
    for (auto& a : spec["args"]) {
      if (!a.is_string()) return Bad("spec.args", "must be a list of strings");
      v.args.push_back(a.get<std::string>());
      if (HasNul(v.args.back())) return Bad("spec.args", "contains a NUL byte");
    }
  }
  if (v.command && !v.args.empty()) return Bad("spec", "sets both command and args; set exactly one");
  if (!v.command && v.args.empty()) return Bad("spec", "sets neither command nor args");
  if (v.command && v.command->empty()) return Bad("spec.command", "is empty");
  size_t bytes = v.command ? v.command->size() : 0;
  for (auto& a : v.args) bytes += a.size();
  if (bytes > kMaxCommandBytes) return Bad("spec.command", "longer than " + std::to_string(kMaxCommandBytes) + " bytes");

  if (spec.contains("env") && !spec["env"].is_null()) {
    const json& env = spec["env"];
    auto add = [&](const std::string& name, const json& value) -> Status {
      if (!ValidEnvName(name)) return Bad("spec.env", "\"" + name + "\" is not a valid variable name");
      if (!value.is_string()) return Bad("spec.env." + name, "value must be a string");
      std::string val = value.get<std::string>();
      if (HasNul(val)) return Bad("spec.env." + name, "contains a NUL byte");
      v.env.emplace_back(name, std::move(val));
      return Status::Ok();
    };
    if (env.is_array()) {
      for (auto& e : env) {
        if (!e.is_object() || !e.contains("name") || !e["name"].is_string())
          return Bad("spec.env", "entries must be {name, value}");
        if (auto st = add(e["name"].get<std::string>(), e.value("value", json(""))); !st.ok()) return st;
      }
    } else if (env.is_object()) {
      for (auto& [k, val] : env.items())
        if (auto st = add(k, val); !st.ok()) return st;
    } else {
      return Bad("spec.env", "must be a list of {name, value}");
    }
    if (v.env.size() > kMaxEnvVars) return Bad("spec.env", "more than " + std::to_string(kMaxEnvVars) + " variables");
  }
  std::optional<std::string> wd;
  if (auto st = OptString(spec, "workingDir", "spec", &wd); !st.ok()) return st;
  v.working_dir = wd.value_or("");
  if (!v.working_dir.empty() && v.working_dir.front() != '/')
    return Bad("spec.workingDir", "\"" + v.working_dir + "\" is not an absolute path");
  if (auto st = OptInt(spec, "timeoutSeconds", "spec", 0, kMaxTimeoutSeconds, &v.timeout_seconds); !st.ok()) return st;
  if (auto st = ParseDependencies(spec.value("dependencies", json()), "spec.dependencies", "declared", &v.dependencies);
      !st.ok())
    return st;
  if (spec.contains("shadow") && spec["shadow"].is_object()) {
    if (auto st = OptInt(spec["shadow"], "durationSeconds", "spec.shadow", 0, 3600, &v.shadow_duration_seconds);
        !st.ok())
      return st;
    v.shadow_allow_network = spec["shadow"].value("allowNetwork", false);
  }

  std::optional<std::string> phase;
  if (auto st = OptString(status, "phase", "status", &phase); !st.ok()) return st;
  v.phase = phase.value_or("");
  if (status.contains("prediction") && status["prediction"].is_object()) {
    if (auto st = ParseDependencies(status["prediction"].value("dependencies", json()),
                                    "status.prediction.dependencies", "predicted", &v.dependencies);
        !st.ok())
      return st;
  }
  if (status.contains("allocation") && !status["allocation"].is_null()) {
    auto a = ParseAllocation(status["allocation"], "status.allocation");
    if (!a.ok()) return a.status();
    v.allocation = *a;
  }
  if (status.contains("agent") && status["agent"].is_object() && !status["agent"].empty()) {
    const json& a = status["agent"];
    Claim c;
    c.instance = a.value("instance", "");
    c.claimed_at = a.value("claimedAt", "");
    c.hostname = a.value("hostname", "");
    c.boot_id = a.value("bootID", "");
    c.pid = a.contains("pid") && a["pid"].is_number_integer() ? a["pid"].get<int64_t>() : 0;
    c.cgroup = a.value("cgroup", "");
    if (a.contains("appliedAllocation") && a["appliedAllocation"].is_object()) {
      auto aa = ParseAllocation(a["appliedAllocation"], "status.agent.appliedAllocation");
      if (aa.ok()) c.applied_allocation = *aa;
    }
    v.claim = c;
  }
  if (status.contains("shadow") && status["shadow"].is_object())
    v.shadow_requested = status["shadow"].value("requested", false);
  if (status.contains("stopRequest") && !status["stopRequest"].is_null()) {
    const json& sr = status["stopRequest"];
    if (!sr.is_object()) return Bad("status.stopRequest", "must be an object");
    StopRequest stop;
    std::optional<std::string> text;
    if (auto st = OptString(sr, "reason", "status.stopRequest", &text); !st.ok()) return st;
    stop.reason = text.value_or("");
    if (stop.reason.empty()) return Bad("status.stopRequest.reason", "is required");
    text.reset();
    if (auto st = OptString(sr, "requestedBy", "status.stopRequest", &text); !st.ok()) return st;
    stop.requested_by = text.value_or("");
    if (sr.contains("gracePeriodSeconds") && !sr["gracePeriodSeconds"].is_null()) {
      int64_t grace = 0;
      if (auto st = OptInt(sr, "gracePeriodSeconds", "status.stopRequest", 0, api::kMaxStopGracePeriodSeconds, &grace);
          !st.ok())
        return st;
      stop.grace_seconds = grace;
    }
    v.stop_request = stop;
  }
  if (auto st = OptInt(status, "preemptions", "status", 0, INT32_MAX, &v.preemptions); !st.ok()) return st;

  for (Dependency& d : v.dependencies) {
    const std::string suffix = "-service";
    if (d.source.size() > suffix.size() && d.source.compare(d.source.size() - suffix.size(), suffix.size(), suffix) == 0) {
      d.source.resize(d.source.size() - suffix.size());
      d.host = d.host.find('.') == std::string::npos ? d.host + "." + v.ns + ".svc" : d.host + ".svc";
    }
  }
  // Then the project's own validation of the resource (CRD schema and CEL rules mirrored in C++):
  // an object admitted by an older CRD, or by a server that does not evaluate CEL, stops here.
  api::FieldErrors errors;
  api::CommandRun typed = api::CommandRunFromJson(obj, &errors);
  for (const api::FieldError& e : api::ValidateCommandRun(typed)) errors.push_back(e);
  // Status is written by the operator and by us; only its decoding errors matter to the agent.
  api::FieldErrors relevant;
  for (const api::FieldError& e : errors)
    if (e.path.rfind("spec", 0) == 0 || e.path.rfind("metadata", 0) == 0 || e.path.rfind("status.allocation", 0) == 0)
      relevant.push_back(e);
  if (!relevant.empty()) return InvalidArgument("CommandRun " + api::Summarize(relevant));
  return v;
}

json UsageToJson(const Usage& u, Clock::TimePoint now) {
  json peaks = {{"cpuCores", u.peak_cores},
                {"memoryBytes", u.memory_peak_bytes},
                {"anonMemoryBytes", u.anon_peak_bytes}};
  json totals = {{"cpuSeconds", u.cpu_seconds},
                 {"throttledSeconds", static_cast<double>(u.throttled_usec) / 1e6},
                 {"throttledPeriods", u.nr_throttled},
                 {"diskReadBytes", u.io_read_bytes},
                 {"diskWriteBytes", u.io_write_bytes},
                 {"networkReceiveBytes", u.net_rx_bytes},
                 {"networkTransmitBytes", u.net_tx_bytes},
                 {"oomKills", u.oom_kills}};
  json j = {{"peaks", peaks},
            {"totals", totals},
            {"memoryCurrentBytes", u.memory_current_bytes},
            {"lastReportTime", FormatRfc3339(now)},
            {"networkScope", u.network_scope.empty() ? "guest" : u.network_scope}};
  if (!u.endpoints.empty()) j["endpoints"] = u.endpoints;
  return j;
}

Result<Usage> UsageFromJson(const json& j) {
  try {
    Usage u;
    const json& p = j.at("peaks");
    const json& t = j.at("totals");
    u.peak_cores = p.value("cpuCores", 0.0);
    u.memory_peak_bytes = p.value("memoryBytes", int64_t{0});
    u.anon_peak_bytes = p.value("anonMemoryBytes", int64_t{0});
    u.cpu_seconds = t.value("cpuSeconds", 0.0);
    u.throttled_usec = static_cast<int64_t>(t.value("throttledSeconds", 0.0) * 1e6 + 0.5);
    u.nr_throttled = t.value("throttledPeriods", int64_t{0});
    u.io_read_bytes = t.value("diskReadBytes", int64_t{0});
    u.io_write_bytes = t.value("diskWriteBytes", int64_t{0});
    u.net_rx_bytes = t.value("networkReceiveBytes", int64_t{0});
    u.net_tx_bytes = t.value("networkTransmitBytes", int64_t{0});
    u.oom_kills = t.value("oomKills", int64_t{0});
    u.memory_current_bytes = j.value("memoryCurrentBytes", int64_t{0});
    u.network_scope = j.value("networkScope", "");
    if (j.contains("endpoints")) u.endpoints = j["endpoints"].get<std::vector<std::string>>();
    return u;
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("usage record: ") + e.what());
  }
}

json ResultToJson(const RunResult& r) {
  json j = {{"reason", r.reason}, {"oomKilled", r.oom_killed}};
  if (r.exit_code) j["exitCode"] = *r.exit_code;
  if (r.signal) j["signal"] = *r.signal;
  if (!r.message.empty()) j["message"] = r.message;
  if (!r.started_at.empty()) j["startedAt"] = r.started_at;
  if (!r.finished_at.empty()) j["finishedAt"] = r.finished_at;
  j["outputTail"] = r.output_tail;
  return j;
}

Result<RunResult> ResultFromJson(const json& j) {
  try {
    RunResult r;
    r.reason = j.at("reason").get<std::string>();
    r.oom_killed = j.value("oomKilled", false);
    if (j.contains("exitCode")) r.exit_code = j["exitCode"].get<int>();
    if (j.contains("signal")) r.signal = j["signal"].get<int>();
    r.message = j.value("message", "");
    r.started_at = j.value("startedAt", "");
    r.finished_at = j.value("finishedAt", "");
    r.output_tail = j.value("outputTail", "");
    return r;
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("result record: ") + e.what());
  }
}

json ClaimToJson(const Claim& c) {
  json j = {{"instance", c.instance}, {"claimedAt", c.claimed_at}, {"hostname", c.hostname},
            {"bootID", c.boot_id},    {"pid", c.pid},              {"cgroup", c.cgroup}};
  if (c.applied_allocation) j["appliedAllocation"] = AllocationToJson(*c.applied_allocation);
  return j;
}

json ShadowResultToJson(const ShadowResult& r) {
  json mem = json::array(), cpu = json::array();
  for (auto& [t, b] : r.memory_curve) mem.push_back({{"t", t}, {"bytes", b}});
  for (auto& [t, c] : r.cpu_curve) cpu.push_back({{"t", t}, {"cores", c}});
  json j = {{"durationSeconds", r.duration_seconds},
            {"usage", UsageToJson(r.usage, Clock::TimePoint{})},
            {"memoryCurve", mem},
            {"cpuCurve", cpu},
            {"exited", r.exited}};
  j["usage"].erase("lastReportTime");
  if (r.exit_code) j["exitCode"] = *r.exit_code;
  if (!r.message.empty()) j["message"] = r.message;
  return j;
}

void ApplyClaim(json* obj, const Claim& claim) {
  json& s = Status_(obj);
  s["phase"] = "Running";
  s["agent"] = ClaimToJson(claim);
}

void ApplyAppliedAllocation(json* obj, const Allocation& a) {
  json& s = Status_(obj);
  if (!s.contains("agent") || !s["agent"].is_object()) s["agent"] = json::object();
  s["agent"]["appliedAllocation"] = AllocationToJson(a);
}

void ApplyUsage(json* obj, const Usage& usage, Clock::TimePoint now) { Status_(obj)["usage"] = UsageToJson(usage, now); }

void ApplyStartedAt(json* obj, const std::string& started_at) {
  json& s = Status_(obj);
  if (!s.contains("result") || !s["result"].is_object()) s["result"] = json::object();
  s["result"]["startedAt"] = started_at;
}

void ApplyResult(json* obj, const RunResult& result) {
  json& s = Status_(obj);
  s["phase"] = result.Phase();
  s["result"] = ResultToJson(result);
}

void ApplyCondition(json* obj, const Condition& c, Clock::TimePoint now) {
  json& s = Status_(obj);
  if (!s.contains("conditions") || !s["conditions"].is_array()) s["conditions"] = json::array();
  json cond = {{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"message", c.message},
               {"lastTransitionTime", FormatRfc3339(now)}};
  if (obj->contains("metadata") && (*obj)["metadata"].contains("generation"))
    cond["observedGeneration"] = (*obj)["metadata"]["generation"];
  for (auto& existing : s["conditions"]) {
    if (existing.is_object() && existing.value("type", "") == c.type) {
      if (existing.value("status", "") == c.status && existing.contains("lastTransitionTime"))
        cond["lastTransitionTime"] = existing["lastTransitionTime"];
      existing = cond;
      return;
    }
  }
  s["conditions"].push_back(cond);
}

void ApplyShadowResult(json* obj, const ShadowResult& r) {
  json& s = Status_(obj);
  if (!s.contains("shadow") || !s["shadow"].is_object()) s["shadow"] = json::object();
  s["shadow"]["requested"] = false;
  s["shadow"]["result"] = ShadowResultToJson(r);
}

}  // namespace prescient::agent
