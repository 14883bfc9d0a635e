#include "analysis/history.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>

namespace prescient::analysis {
namespace {

using nlohmann::json;

Status FieldError(const std::string& field, const std::string& what) {
  return InvalidArgument(field + ": " + what);
}

// Reads an optional non-negative number; a present non-number is an error.
Status OptNumber(const json& obj, const char* key, const std::string& where, std::optional<double>* out) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_number()) return FieldError(where + key, "expected a number, got " + std::string(it->type_name()));
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < 0) return FieldError(where + key, "expected a non-negative finite number");
  *out = v;
  return Status::Ok();
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out.push_back(c);
  }
  return out + "'";
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void SplitLines(const std::string& data, std::vector<std::string>* lines) {
  size_t start = 0;
  while (start < data.size()) {
    size_t end = data.find('\n', start);
    if (end == std::string::npos) end = data.size();
    std::string line = data.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines->push_back(std::move(line));
    start = end + 1;
  }
}

}  // namespace

const char* TargetName(int target) {
  switch (target) {
    case kCpuCores: return "cpu_cores";
    case kMemoryBytes: return "memory_bytes";
    case kDiskReadBps: return "disk_read_bps";
    case kDiskWriteBps: return "disk_write_bps";
    case kNetworkBps: return "network_bps";
    case kDurationSeconds: return "duration_seconds";
    default: return "unknown";
  }
}

TargetValues TargetsOf(const RunUsage& u) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  TargetValues t;
  t.fill(nan);
  const double dur = u.duration_seconds ? std::max(*u.duration_seconds, 0.01) : nan;
  if (u.cpu_cores_peak) {
    t[kCpuCores] = *u.cpu_cores_peak;
  } else if (u.cpu_seconds && u.duration_seconds) {
    t[kCpuCores] = *u.cpu_seconds / dur;
  }
  t[kMemoryBytes] = u.memory_peak_bytes;
  if (u.disk_read_bytes && u.duration_seconds) t[kDiskReadBps] = *u.disk_read_bytes / dur;
  if (u.disk_write_bytes && u.duration_seconds) t[kDiskWriteBps] = *u.disk_write_bytes / dur;
  if (u.network_bytes && u.duration_seconds) t[kNetworkBps] = *u.network_bytes / dur;
  if (u.duration_seconds) t[kDurationSeconds] = *u.duration_seconds;
  return t;
}

Result<HistoryRecord> ParseHistoryRecord(const json& j, bool require_usage) {
  if (!j.is_object()) return InvalidArgument("expected a JSON object per line");
  HistoryRecord r;
  const auto cmd = j.find("command");
  if (cmd == j.end() || !cmd->is_string()) return FieldError("command", "required string is missing");
  r.command = cmd->get<std::string>();
  if (r.command.empty()) return FieldError("command", "must not be empty");
  const auto time = j.find("time");
  if (time == j.end() || !time->is_string()) {
    if (require_usage) return FieldError("time", "required RFC 3339 string is missing");
  } else {
    r.time_text = time->get<std::string>();
    if (!ParseRfc3339(r.time_text, &r.time)) return FieldError("time", "not RFC 3339: \"" + r.time_text + "\"");
  }
  if (const auto user = j.find("user"); user != j.end() && user->is_string()) r.user = user->get<std::string>();
  if (const auto ctx = j.find("context"); ctx != j.end() && !ctx->is_null()) {
    if (!ctx->is_object()) return FieldError("context", "expected an object");
    for (auto [key, dst] : {std::pair{"vm_cpus", &r.context.vm_cpus},
                            std::pair{"vm_memory_bytes", &r.context.vm_memory_bytes},
                            std::pair{"input_bytes", &r.context.input_bytes},
                            std::pair{"requested_cpus", &r.context.requested_cpus},
                            std::pair{"requested_memory_bytes", &r.context.requested_memory_bytes}}) {
      if (Status s = OptNumber(*ctx, key, "context.", dst); !s.ok()) return s;
    }
  }
  const auto usage = j.find("usage");
  if (usage != j.end() && usage->is_object()) {
    RunUsage u;
    std::optional<double> mem;
    if (Status s = OptNumber(*usage, "memory_peak_bytes", "usage.", &mem); !s.ok()) return s;
    if (!mem) {
      if (require_usage) return FieldError("usage.memory_peak_bytes", "required number is missing");
    } else {
      u.memory_peak_bytes = *mem;
    }
    for (auto [key, dst] : {std::pair{"cpu_cores_peak", &u.cpu_cores_peak}, std::pair{"cpu_seconds", &u.cpu_seconds},
                            std::pair{"disk_read_bytes", &u.disk_read_bytes},
                            std::pair{"disk_write_bytes", &u.disk_write_bytes},
                            std::pair{"network_bytes", &u.network_bytes},
                            std::pair{"duration_seconds", &u.duration_seconds}}) {
      if (Status s = OptNumber(*usage, key, "usage.", dst); !s.ok()) return s;
    }
    if (const auto ec = usage->find("exit_code"); ec != usage->end() && ec->is_number_integer()) {
      u.exit_code = ec->get<int>();
    }
    if (const auto oom = usage->find("oom_killed"); oom != usage->end() && oom->is_boolean()) {
      u.oom_killed = oom->get<bool>();
    }
    if (mem) r.usage = u;
  } else if (require_usage) {
    return FieldError("usage", "required object is missing");
  }
  if (const auto eps = j.find("endpoints"); eps != j.end() && eps->is_array()) {
    for (const json& e : *eps) {
      if (e.is_string() && r.endpoints.size() < 64) r.endpoints.push_back(e.get<std::string>());
    }
  }
  return r;
}

Result<HistoryRecord> ParseHistoryLine(std::string_view line, bool require_usage) {
  json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("not valid JSON");
  return ParseHistoryRecord(j, require_usage);
}

json HistoryRecordToJson(const HistoryRecord& r) {
  json j;
  j["time"] = r.time_text.empty() ? FormatRfc3339(r.time) : r.time_text;
  j["command"] = r.command;
  if (!r.user.empty()) j["user"] = r.user;
  json ctx = json::object();
  auto put = [](json& o, const char* k, const std::optional<double>& v) {
    if (v) o[k] = *v;
  };
  put(ctx, "vm_cpus", r.context.vm_cpus);
  put(ctx, "vm_memory_bytes", r.context.vm_memory_bytes);
  put(ctx, "input_bytes", r.context.input_bytes);
  put(ctx, "requested_cpus", r.context.requested_cpus);
  put(ctx, "requested_memory_bytes", r.context.requested_memory_bytes);
  j["context"] = ctx;
  if (r.usage) {
    const RunUsage& u = *r.usage;
    json us = json::object();
    put(us, "cpu_cores_peak", u.cpu_cores_peak);
    put(us, "cpu_seconds", u.cpu_seconds);
    us["memory_peak_bytes"] = u.memory_peak_bytes;
    put(us, "disk_read_bytes", u.disk_read_bytes);
    put(us, "disk_write_bytes", u.disk_write_bytes);
    put(us, "network_bytes", u.network_bytes);
    put(us, "duration_seconds", u.duration_seconds);
    if (u.exit_code) us["exit_code"] = *u.exit_code;
    if (u.oom_killed) us["oom_killed"] = *u.oom_killed;
    j["usage"] = us;
  }
  j["endpoints"] = r.endpoints;
  return j;
}

Result<std::vector<std::string>> ReadTextLines(const std::string& path) {
  std::vector<std::string> lines;
  if (path == "-") {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(std::move(line));
    }
    return lines;
  }
  std::string data;
  if (EndsWith(path, ".zst")) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return NotFoundError(path + ": cannot open");
    std::fclose(f);
    const std::string cmd = "zstd -dc -- " + ShellQuote(path) + " 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return InternalError(path + ": cannot run zstd -dc (is zstd installed?)");
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) data.append(buf, n);
    const int rc = pclose(p);
    if (rc != 0) return InvalidArgument(path + ": zstd -dc failed (exit status " + std::to_string(rc) + ")");
  } else {
    // gzopen reads gzip and plain files alike.
    gzFile g = gzopen(path.c_str(), "rb");
    if (g == nullptr) return NotFoundError(path + ": cannot open");
    char buf[1 << 16];
    int n;
    while ((n = gzread(g, buf, sizeof buf)) > 0) data.append(buf, static_cast<size_t>(n));
    int err = 0;
    const char* msg = gzerror(g, &err);
    const std::string message = msg ? msg : "";
    gzclose(g);
    if (n < 0 || (err != Z_OK && err != Z_STREAM_END)) return InvalidArgument(path + ": read failed: " + message);
  }
  SplitLines(data, &lines);
  return lines;
}

Result<HistoryFile> ReadHistoryFile(const std::string& path, const ReadOptions& options) {
  auto lines = ReadTextLines(path);
  if (!lines.ok()) return lines.status();
  HistoryFile out;
  size_t lineno = 0;
  for (const std::string& line : *lines) {
    ++lineno;
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    auto rec = ParseHistoryLine(line, options.require_usage);
    if (!rec.ok()) {
      const std::string where = path + ":" + std::to_string(lineno) + ": " + rec.status().message();
      if (options.strict) return InvalidArgument(where);
      ++out.skipped;
      if (out.errors.size() < 5) out.errors.push_back(where);
      continue;
    }
    if (out.records.size() >= options.max_records) break;
    out.records.push_back(std::move(rec).value());
  }
  return out;
}

void SortByTime(std::vector<HistoryRecord>* records) {
  std::stable_sort(records->begin(), records->end(),
                   [](const HistoryRecord& a, const HistoryRecord& b) { return a.time < b.time; });
}

}  // namespace prescient::analysis
