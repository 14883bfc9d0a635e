// One history record (a JSON line of the documented history schema) from a measured run. This is
// the JSON edge of the collection: the monitor's typed UsageReport goes in, the line the model
// trains on comes out. A value that was not measured is left out, never written as zero.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "exec/monitor.h"

namespace prescient::collect {

struct RunContext {
  std::string time;        // RFC 3339 start of the run
  std::string command;
  std::string user;
  std::optional<int64_t> vm_cpus;
  std::optional<int64_t> vm_memory_bytes;
  std::optional<int64_t> input_bytes;
  std::optional<double> requested_cpus;
  std::optional<int64_t> requested_memory_bytes;
  std::optional<double> load_avg_1m;  // the machine's 1-minute load average when the run started
};

// The record; callers add their own extra fields (program, suite_case, ...) to the result.
nlohmann::json HistoryLine(const RunContext& ctx, const exec::UsageReport& usage);

}  // namespace prescient::collect
