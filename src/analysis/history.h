// Run history: the JSON-lines format users train on (documented in the README) and the typed
// record the rest of the module works with. JSON is handled here only (the edge); every field
// except `time`, `command` and `usage.memory_peak_bytes` is optional, and a missing field stays
// missing (std::nullopt), never zero.
//
//   {"time": "<RFC 3339>", "command": "...", "user": "...",
//    "context": {"vm_cpus": N, "vm_memory_bytes": N, "input_bytes": N, "requested_cpus": N,
//                "requested_memory_bytes": N},
//    "usage": {"cpu_cores_peak": X, "cpu_seconds": X, "memory_peak_bytes": N, "disk_read_bytes": N,
//              "disk_write_bytes": N, "network_bytes": N, "duration_seconds": X, "exit_code": N,
//              "oom_killed": bool},
//    "endpoints": ["host:port", ...]}
//
// Files may be plain, gzip (.gz, read with zlib) or zstd (.zst, decompressed by `zstd -dc`).
// Functions are thread-safe; records are plain values.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/clock.h"
#include "common/status.h"

namespace prescient::analysis {

struct RunContext {
  std::optional<double> vm_cpus;
  std::optional<double> vm_memory_bytes;
  std::optional<double> input_bytes;
  std::optional<double> requested_cpus;
  std::optional<double> requested_memory_bytes;
};

struct RunUsage {
  std::optional<double> cpu_cores_peak;
  std::optional<double> cpu_seconds;
  double memory_peak_bytes = 0;  // required in history files
  std::optional<double> disk_read_bytes;
  std::optional<double> disk_write_bytes;
  std::optional<double> network_bytes;
  std::optional<double> duration_seconds;
  std::optional<int> exit_code;
  std::optional<bool> oom_killed;
};

struct HistoryRecord {
  Clock::TimePoint time;
  std::string time_text;        // as written, for output
  std::string command;
  std::string user;
  RunContext context;
  std::optional<RunUsage> usage;  // absent only when parsed with require_usage = false
  std::vector<std::string> endpoints;
};

// Parses one record. Errors name the offending field ("usage.memory_peak_bytes: expected a
// non-negative number").
Result<HistoryRecord> ParseHistoryRecord(const nlohmann::json& j, bool require_usage);
Result<HistoryRecord> ParseHistoryLine(std::string_view line, bool require_usage);
// The documented JSON form (missing fields omitted).
nlohmann::json HistoryRecordToJson(const HistoryRecord& r);

struct ReadOptions {
  bool require_usage = true;
  bool strict = false;          // the first bad line is an error (else it is skipped and counted)
  size_t max_records = 5'000'000;
};
struct HistoryFile {
  std::vector<HistoryRecord> records;  // in file order
  size_t skipped = 0;                  // bad lines (non-strict mode)
  std::vector<std::string> errors;     // the first few "path:line: message"
};
Result<HistoryFile> ReadHistoryFile(const std::string& path, const ReadOptions& options = ReadOptions());
// All lines of a plain, .gz or .zst file ("-" is stdin).
Result<std::vector<std::string>> ReadTextLines(const std::string& path);

// Stable sort by time (ties keep file order): the order featurisation and evaluation walk in.
void SortByTime(std::vector<HistoryRecord>* records);

// What the model predicts, one column per resource. Rates are bytes over the run's duration
// (duration floored at 10 ms); CPU is cpu_cores_peak, else cpu_seconds / duration.
enum Target : int {
  kCpuCores = 0,
  kMemoryBytes,
  kDiskReadBps,
  kDiskWriteBps,
  kNetworkBps,
  kDurationSeconds,
  kNumTargets
};
const char* TargetName(int target);
using TargetValues = std::array<double, kNumTargets>;  // NaN = not measured
TargetValues TargetsOf(const RunUsage& usage);

}  // namespace prescient::analysis
