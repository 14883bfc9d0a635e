// The one place a CommandRun is converted from and to JSON.
#include "api/codec.h"
#include "api/json_reader.h"
#include "common/quantity.h"

namespace prescient::api {

using internal::ObjectReader;
using nlohmann::json;

namespace {

std::string Str(const char* s) { return s; }

void DecodeUsage(const json* j, const std::string& path, FieldErrors* errors, Usage* u) {
  ObjectReader r(j, path, errors, {}, false);
  if (const json* p = r.Child("peaks")) {
    ObjectReader pr(p, r.PathOf("peaks"), errors, {}, false);
    u->peaks.cpu_cores = pr.Number("cpuCores").value_or(0);
    u->peaks.memory_bytes = pr.Int("memoryBytes").value_or(0);
    u->peaks.anon_memory_bytes = pr.Int("anonMemoryBytes").value_or(0);
    u->peaks.disk_read_bytes_per_second = pr.Int("diskReadBytesPerSecond").value_or(0);
    u->peaks.disk_write_bytes_per_second = pr.Int("diskWriteBytesPerSecond").value_or(0);
    u->peaks.network_bytes_per_second = pr.Int("networkBytesPerSecond").value_or(0);
  }
  if (const json* t = r.Child("totals")) {
    ObjectReader tr(t, r.PathOf("totals"), errors, {}, false);
    u->totals.cpu_seconds = tr.Number("cpuSeconds").value_or(0);
    u->totals.throttled_seconds = tr.Number("throttledSeconds").value_or(0);
    u->totals.throttled_periods = tr.Int("throttledPeriods").value_or(0);
    u->totals.disk_read_bytes = tr.Int("diskReadBytes").value_or(0);
    u->totals.disk_write_bytes = tr.Int("diskWriteBytes").value_or(0);
    u->totals.network_receive_bytes = tr.Int("networkReceiveBytes").value_or(0);
    u->totals.network_transmit_bytes = tr.Int("networkTransmitBytes").value_or(0);
    u->totals.oom_kills = tr.Int("oomKills").value_or(0);
    u->totals.wall_seconds = tr.Number("wallSeconds").value_or(0);
  }
  u->memory_current_bytes = r.Int("memoryCurrentBytes").value_or(0);
  u->cpu_throttled_fraction = r.Number("cpuThrottledFraction");
  u->endpoints = r.StringList("endpoints").value_or(std::vector<std::string>{});
  u->network_scope = r.String("networkScope").value_or("");
  u->last_report_time = r.Timestamp("lastReportTime");
}

json EncodeUsage(const Usage& u) {
  json peaks = {{"cpuCores", u.peaks.cpu_cores}, {"memoryBytes", u.peaks.memory_bytes},
                {"anonMemoryBytes", u.peaks.anon_memory_bytes}};
  if (u.peaks.disk_read_bytes_per_second) peaks["diskReadBytesPerSecond"] = u.peaks.disk_read_bytes_per_second;
  if (u.peaks.disk_write_bytes_per_second) peaks["diskWriteBytesPerSecond"] = u.peaks.disk_write_bytes_per_second;
  if (u.peaks.network_bytes_per_second) peaks["networkBytesPerSecond"] = u.peaks.network_bytes_per_second;
  json totals = {{"cpuSeconds", u.totals.cpu_seconds},
                 {"throttledSeconds", u.totals.throttled_seconds},
                 {"throttledPeriods", u.totals.throttled_periods},
                 {"diskReadBytes", u.totals.disk_read_bytes},
                 {"diskWriteBytes", u.totals.disk_write_bytes},
                 {"networkReceiveBytes", u.totals.network_receive_bytes},
                 {"networkTransmitBytes", u.totals.network_transmit_bytes},
                 {"oomKills", u.totals.oom_kills}};
  if (u.totals.wall_seconds) totals["wallSeconds"] = u.totals.wall_seconds;
  json j = {{"peaks", peaks}, {"totals", totals}, {"memoryCurrentBytes", u.memory_current_bytes}};
  if (u.cpu_throttled_fraction) j["cpuThrottledFraction"] = *u.cpu_throttled_fraction;
  if (!u.endpoints.empty()) j["endpoints"] = u.endpoints;
  if (!u.network_scope.empty()) j["networkScope"] = u.network_scope;
  if (u.last_report_time) j["lastReportTime"] = FormatRfc3339(*u.last_report_time);
  return j;
}

}  // namespace

CommandRunSpec CommandRunSpecFromJson(const json& j, FieldErrors* errors) {
  CommandRunSpec s;
  ObjectReader r(&j, "spec", errors,
                 {"command", "args", "target", "priorityClassName", "priority", "user", "reservationName",
                  "resources", "shadow", "dependencies", "timeoutSeconds", "env", "workingDir",
                  "allowPreemptionWhileRunning"},
                 /*strict=*/true);
  if (!r.ok()) return s;
  s.command = r.String("command");
  s.args = r.StringList("args");
  if (!r.Has("target")) r.Error("spec.target", "Required value");
  internal::DecodeTarget(r.Child("target"), "spec.target", errors, &s.target);
  s.priority_class_name = r.String("priorityClassName");
  s.priority = r.Int32("priority");
  s.user = r.String("user");
  s.reservation_name = r.String("reservationName");
  if (const json* res = r.Child("resources")) {
    ObjectReader rr(res, "spec.resources", errors, {"min", "max"}, true);
    ResourceBounds b;
    if (const json* mn = rr.Child("min")) {
      b.min.emplace();
      internal::DecodeAmounts(mn, "spec.resources.min", errors, true, &*b.min);
    }
    if (const json* mx = rr.Child("max")) {
      b.max.emplace();
      internal::DecodeAmounts(mx, "spec.resources.max", errors, true, &*b.max);
    }
    s.resources = b;
  }
  if (const json* sh = r.Child("shadow")) {
    ObjectReader sr(sh, "spec.shadow", errors, {"enabled", "durationSeconds", "allowNetwork"}, true);
    ShadowSpec shadow;
    shadow.enabled = sr.Bool("enabled").value_or(false);
    shadow.duration_seconds = sr.Int32("durationSeconds").value_or(kDefaultShadowDurationSeconds);
    shadow.allow_network = sr.Bool("allowNetwork").value_or(false);
    s.shadow = shadow;
  }
  if (r.Has("dependencies")) s.dependencies = internal::DecodeDependencies(r, "dependencies");
  s.timeout_seconds = r.Int("timeoutSeconds");
  if (r.Has("env")) {
    std::vector<EnvVar> env;
    r.Array("env", [&](const json& e, const std::string& p) {
      ObjectReader er(&e, p, errors, {"name", "value"}, true);
      if (!er.ok()) return;
      if (!er.Has("name")) er.Error(er.PathOf("name"), "Required value");
      env.push_back({er.String("name").value_or(""), er.String("value").value_or("")});
    });
    s.env = std::move(env);
  }
  s.working_dir = r.String("workingDir");
  s.allow_preemption_while_running = r.Bool("allowPreemptionWhileRunning");
  return s;
}

json CommandRunSpecToJson(const CommandRunSpec& s) {
  json j = json::object();
  if (s.command) j["command"] = *s.command;
  if (s.args) j["args"] = *s.args;
  j["target"] = internal::EncodeTarget(s.target);
  if (s.priority_class_name) j["priorityClassName"] = *s.priority_class_name;
  if (s.priority) j["priority"] = *s.priority;
  if (s.user) j["user"] = *s.user;
  if (s.reservation_name) j["reservationName"] = *s.reservation_name;
  if (s.resources) {
    json res = json::object();
    if (s.resources->min) res["min"] = internal::EncodeAmounts(*s.resources->min);
    if (s.resources->max) res["max"] = internal::EncodeAmounts(*s.resources->max);
    j["resources"] = std::move(res);
  }
  if (s.shadow)
    j["shadow"] = {{"enabled", s.shadow->enabled},
                   {"durationSeconds", s.shadow->duration_seconds},
                   {"allowNetwork", s.shadow->allow_network}};
  if (s.dependencies) j["dependencies"] = internal::EncodeDependencies(*s.dependencies);
  if (s.timeout_seconds) j["timeoutSeconds"] = *s.timeout_seconds;
  if (s.env) {
    json env = json::array();
    for (const auto& e : *s.env) env.push_back({{"name", e.name}, {"value", e.value}});
    j["env"] = std::move(env);
  }
  if (s.working_dir) j["workingDir"] = *s.working_dir;
  if (s.allow_preemption_while_running) j["allowPreemptionWhileRunning"] = *s.allow_preemption_while_running;
  return j;
}

CommandRunStatus CommandRunStatusFromJson(const json& j, FieldErrors* errors) {
  CommandRunStatus st;
  ObjectReader r(&j, "status", errors, {}, false);
  if (!r.ok()) return st;
  if (auto phase = r.String("phase"); phase && !ParseRunPhase(*phase, &st.phase))
    r.Error("status.phase", "Unsupported value: \"" + *phase + "\"");
  st.observed_generation = r.Int("observedGeneration").value_or(0);
  if (const json* p = r.Child("prediction")) {
    ObjectReader pr(p, "status.prediction", errors, {}, false);
    Prediction pred;
    pred.cpu_milli = pr.CpuMilli("cpu").value_or(0);
    pred.memory_bytes = pr.Bytes("memory").value_or(0);
    pred.disk_read_bytes_per_second = pr.Int("diskReadBytesPerSecond").value_or(0);
    pred.disk_write_bytes_per_second = pr.Int("diskWriteBytesPerSecond").value_or(0);
    pred.network_bytes_per_second = pr.Int("networkBytesPerSecond").value_or(0);
    pred.duration_seconds = pr.Number("durationSeconds").value_or(0);
    pred.dependencies = internal::DecodeDependencies(pr, "dependencies");
    pred.quantile = pr.Number("quantile").value_or(0);
    pred.model_version = pr.String("modelVersion").value_or("");
    pred.source = pr.String("source").value_or("");
    st.prediction = std::move(pred);
  }
  if (const json* a = r.Child("allocation")) {
    ObjectReader ar(a, "status.allocation", errors, {}, false);
    Allocation al;
    al.instance_id = ar.String("instanceID").value_or("");
    al.vm_name = ar.String("vmName").value_or("");
    al.node = ar.String("node").value_or("");
    al.cpu_milli = ar.CpuMilli("cpuCores").value_or(0);
    al.memory_bytes = ar.Bytes("memory").value_or(0);
    al.disk_bytes = ar.Bytes("diskSpace").value_or(0);
    if (auto np = ar.String("networkPriority"); np && !ParseNetworkPriority(*np, &al.network_priority))
      ar.Error("status.allocation.networkPriority", "Unsupported value: \"" + *np + "\"");
    al.reservation_name = ar.String("reservationName").value_or("");
    al.allocated_at = ar.Timestamp("allocatedAt");
    al.io_weight = ar.Int32("ioWeight");
    al.disk_read_bytes_per_second = ar.Bytes("diskReadBytesPerSecond").value_or(0);
    al.disk_write_bytes_per_second = ar.Bytes("diskWriteBytesPerSecond").value_or(0);
    st.allocation = std::move(al);
  }
  if (const json* q = r.Child("queue")) {
    ObjectReader qr(q, "status.queue", errors, {}, false);
    QueueStatus qs;
    qs.position = qr.Int32("position").value_or(0);
    qs.reason = qr.String("reason").value_or("");
    qs.message = qr.String("message").value_or("");
    qs.since = qr.Timestamp("since");
    qs.preempted_by = qr.String("preemptedBy").value_or("");
    st.queue = std::move(qs);
  }
  if (const json* u = r.Child("usage")) {
    Usage usage;
    DecodeUsage(u, "status.usage", errors, &usage);
    st.usage = std::move(usage);
  }
  if (const json* res = r.Child("result")) {
    ObjectReader rr(res, "status.result", errors, {}, false);
    RunResult out;
    out.exit_code = rr.Int32("exitCode");
    out.signal = rr.Int32("signal");
    out.oom_killed = rr.Bool("oomKilled").value_or(false);
    out.reason = rr.String("reason").value_or("");
    out.message = rr.String("message").value_or("");
    out.started_at = rr.Timestamp("startedAt");
    out.finished_at = rr.Timestamp("finishedAt");
    out.output_tail = rr.String("outputTail").value_or("");
    st.result = std::move(out);
  }
  if (const json* a = r.Child("agent")) {
    ObjectReader ar(a, "status.agent", errors, {}, false);
    AgentClaim c;
    c.instance = ar.String("instance").value_or("");
    c.claimed_at = ar.Timestamp("claimedAt");
    c.hostname = ar.String("hostname").value_or("");
    c.boot_id = ar.String("bootID").value_or("");
    c.pid = ar.Int("pid").value_or(0);
    c.cgroup = ar.String("cgroup").value_or("");
    if (const json* aa = ar.Child("appliedAllocation")) {
      ObjectReader aar(aa, "status.agent.appliedAllocation", errors, {}, false);
      AppliedAllocation applied;
      applied.cpu_milli = aar.CpuMilli("cpuCores").value_or(0);
      applied.memory_bytes = aar.Bytes("memory").value_or(0);
      applied.applied_at = aar.Timestamp("appliedAt");
      c.applied_allocation = applied;
    }
    st.agent = std::move(c);
  }
  if (const json* sh = r.Child("shadow")) {
    ObjectReader sr(sh, "status.shadow", errors, {}, false);
    ShadowStatus ss;
    ss.requested = sr.Bool("requested").value_or(false);
    ss.requested_at = sr.Timestamp("requestedAt");
    if (const json* res = sr.Child("result")) {
      ObjectReader rr(res, "status.shadow.result", errors, {}, false);
      ShadowResult out;
      out.duration_seconds = rr.Number("durationSeconds").value_or(0);
      if (const json* u = rr.Child("usage")) {
        Usage usage;
        DecodeUsage(u, "status.shadow.result.usage", errors, &usage);
        out.usage = std::move(usage);
      }
      rr.Array("memoryCurve", [&](const json& e, const std::string& p) {
        ObjectReader er(&e, p, errors, {}, false);
        out.memory_curve.emplace_back(er.Number("t").value_or(0), er.Int("bytes").value_or(0));
      });
      rr.Array("cpuCurve", [&](const json& e, const std::string& p) {
        ObjectReader er(&e, p, errors, {}, false);
        out.cpu_curve.emplace_back(er.Number("t").value_or(0), er.Number("cores").value_or(0));
      });
      out.exited = rr.Bool("exited").value_or(false);
      out.exit_code = rr.Int32("exitCode");
      out.message = rr.String("message").value_or("");
      ss.result = std::move(out);
    }
    st.shadow = std::move(ss);
  }
  if (const json* sr = r.Child("stopRequest")) {
    ObjectReader rr(sr, "status.stopRequest", errors, {}, false);
    StopRequest stop;
    stop.reason = rr.String("reason").value_or("");
    stop.requested_by = rr.String("requestedBy").value_or("");
    stop.requested_at = rr.Timestamp("requestedAt");
    stop.grace_period_seconds = rr.Int32("gracePeriodSeconds");
    st.stop_request = std::move(stop);
  }
  st.preemptions = r.Int32("preemptions").value_or(0);
  if (const json* c = r.Child("conditions")) st.conditions = ConditionsFromJson(*c, "status.conditions", errors);
  return st;
}

json PredictionToJson(const Prediction& p) {
  json j = {{"cpu", FormatCpuMilli(p.cpu_milli)},
            {"memory", FormatBytes(p.memory_bytes)},
            {"diskReadBytesPerSecond", p.disk_read_bytes_per_second},
            {"diskWriteBytesPerSecond", p.disk_write_bytes_per_second},
            {"networkBytesPerSecond", p.network_bytes_per_second},
            {"durationSeconds", p.duration_seconds},
            {"quantile", p.quantile}};
  if (!p.dependencies.empty()) j["dependencies"] = internal::EncodeDependencies(p.dependencies);
  if (!p.model_version.empty()) j["modelVersion"] = p.model_version;
  if (!p.source.empty()) j["source"] = p.source;
  return j;
}

json AllocationToJson(const Allocation& a) {
  json j = {{"instanceID", a.instance_id},
            {"cpuCores", FormatCpuMilli(a.cpu_milli)},
            {"memory", FormatBytes(a.memory_bytes)},
            {"networkPriority", NetworkPriorityName(a.network_priority)}};
  if (!a.vm_name.empty()) j["vmName"] = a.vm_name;
  if (!a.node.empty()) j["node"] = a.node;
  if (a.disk_bytes) j["diskSpace"] = FormatBytes(a.disk_bytes);
  if (!a.reservation_name.empty()) j["reservationName"] = a.reservation_name;
  if (a.allocated_at) j["allocatedAt"] = FormatRfc3339(*a.allocated_at);
  if (a.io_weight) j["ioWeight"] = *a.io_weight;
  if (a.disk_read_bytes_per_second) j["diskReadBytesPerSecond"] = FormatBytes(a.disk_read_bytes_per_second);
  if (a.disk_write_bytes_per_second) j["diskWriteBytesPerSecond"] = FormatBytes(a.disk_write_bytes_per_second);
  return j;
}

json CommandRunStatusToJson(const CommandRunStatus& st) {
  json j = json::object();
  if (st.phase != RunPhase::kNone) j["phase"] = RunPhaseName(st.phase);
  if (st.observed_generation) j["observedGeneration"] = st.observed_generation;
  if (st.prediction) j["prediction"] = PredictionToJson(*st.prediction);
  if (st.allocation) j["allocation"] = AllocationToJson(*st.allocation);
  if (st.queue) {
    json q = {{"position", st.queue->position}};
    if (!st.queue->reason.empty()) q["reason"] = st.queue->reason;
    if (!st.queue->message.empty()) q["message"] = st.queue->message;
    if (st.queue->since) q["since"] = FormatRfc3339(*st.queue->since);
    if (!st.queue->preempted_by.empty()) q["preemptedBy"] = st.queue->preempted_by;
    j["queue"] = std::move(q);
  }
  if (st.usage) j["usage"] = EncodeUsage(*st.usage);
  if (st.result) {
    const RunResult& r = *st.result;
    json o = {{"oomKilled", r.oom_killed}};
    if (r.exit_code) o["exitCode"] = *r.exit_code;
    if (r.signal) o["signal"] = *r.signal;
    if (!r.reason.empty()) o["reason"] = r.reason;
    if (!r.message.empty()) o["message"] = r.message;
    if (r.started_at) o["startedAt"] = FormatRfc3339(*r.started_at);
    if (r.finished_at) o["finishedAt"] = FormatRfc3339(*r.finished_at);
    if (!r.output_tail.empty()) o["outputTail"] = r.output_tail;
    j["result"] = std::move(o);
  }
  if (st.agent) {
    const AgentClaim& c = *st.agent;
    json a = {{"instance", c.instance}, {"pid", c.pid}};
    if (c.claimed_at) a["claimedAt"] = FormatRfc3339(*c.claimed_at);
    if (!c.hostname.empty()) a["hostname"] = c.hostname;
    if (!c.boot_id.empty()) a["bootID"] = c.boot_id;
    if (!c.cgroup.empty()) a["cgroup"] = c.cgroup;
    if (c.applied_allocation) {
      json aa = {{"cpuCores", FormatCpuMilli(c.applied_allocation->cpu_milli)},
                 {"memory", FormatBytes(c.applied_allocation->memory_bytes)}};
      if (c.applied_allocation->applied_at) aa["appliedAt"] = FormatRfc3339(*c.applied_allocation->applied_at);
      a["appliedAllocation"] = std::move(aa);
    }
    j["agent"] = std::move(a);
  }
  if (st.shadow) {
    json s = {{"requested", st.shadow->requested}};
    if (st.shadow->requested_at) s["requestedAt"] = FormatRfc3339(*st.shadow->requested_at);
    if (st.shadow->result) {
      const ShadowResult& r = *st.shadow->result;
      json mem = json::array(), cpu = json::array();
      for (const auto& [t, b] : r.memory_curve) mem.push_back({{"t", t}, {"bytes", b}});
      for (const auto& [t, c] : r.cpu_curve) cpu.push_back({{"t", t}, {"cores", c}});
      json o = {{"durationSeconds", r.duration_seconds}, {"exited", r.exited}, {"memoryCurve", mem},
                {"cpuCurve", cpu}};
      if (r.usage) o["usage"] = EncodeUsage(*r.usage);
      if (r.exit_code) o["exitCode"] = *r.exit_code;
      if (!r.message.empty()) o["message"] = r.message;
      s["result"] = std::move(o);
    }
    j["shadow"] = std::move(s);
  }
  if (st.stop_request) {
    const StopRequest& r = *st.stop_request;
    json o = {{"reason", r.reason}};
    if (!r.requested_by.empty()) o["requestedBy"] = r.requested_by;
    if (r.requested_at) o["requestedAt"] = FormatRfc3339(*r.requested_at);
    if (r.grace_period_seconds) o["gracePeriodSeconds"] = *r.grace_period_seconds;
    j["stopRequest"] = std::move(o);
  }
  if (st.preemptions) j["preemptions"] = st.preemptions;
  if (!st.conditions.empty()) j["conditions"] = ConditionsToJson(st.conditions);
  return j;
}

CommandRun CommandRunFromJson(const json& j, FieldErrors* errors) {
  CommandRun run;
  if (!j.is_object()) {
    errors->push_back({"", "a CommandRun must be a JSON object"});
    return run;
  }
  if (auto it = j.find("apiVersion"); it != j.end() && *it != kApiVersion)
    errors->push_back({"apiVersion", "must be " + Str(kApiVersion)});
  if (auto it = j.find("kind"); it != j.end() && *it != kCommandRunKind)
    errors->push_back({"kind", "must be " + Str(kCommandRunKind)});
  if (auto it = j.find("metadata"); it != j.end()) run.metadata = ObjectMetaFromJson(*it, errors);
  auto spec = j.find("spec");
  if (spec == j.end() || spec->is_null()) errors->push_back({"spec", "Required value"});
  else run.spec = CommandRunSpecFromJson(*spec, errors);
  if (auto it = j.find("status"); it != j.end()) run.status = CommandRunStatusFromJson(*it, errors);
  return run;
}

json CommandRunToJson(const CommandRun& run) {
  json j = {{"apiVersion", kApiVersion},
            {"kind", kCommandRunKind},
            {"metadata", ObjectMetaToJson(run.metadata)},
            {"spec", CommandRunSpecToJson(run.spec)}};
  json status = CommandRunStatusToJson(run.status);
  if (!status.empty()) j["status"] = std::move(status);
  return j;
}

}  // namespace prescient::api
