// The one Kubernetes quantity parser and formatter ("500m", "2", "4Gi", "1.5G", "1e3").
// CPU is carried as millicores (int64), memory and other byte amounts as bytes (int64).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace prescient {

// Parses a quantity into its value times 1000 (milli-units), rounding up as Kubernetes does.
// Errors name the offending text. Values beyond ~9.2e15 units are refused.
Result<int64_t> ParseQuantityMilli(std::string_view text);
// Parses a quantity into whole units (bytes), rounding up fractional results.
Result<int64_t> ParseQuantity(std::string_view text);
// CPU: "250m" -> 250, "2" -> 2000.
inline Result<int64_t> ParseCpuMilli(std::string_view text) { return ParseQuantityMilli(text); }
// Memory: "4Gi" -> 4294967296.
inline Result<int64_t> ParseBytes(std::string_view text) { return ParseQuantity(text); }

// Canonical forms: millicores -> "250m" or "2"; bytes -> "4Gi", "1536Mi" or plain bytes.
std::string FormatCpuMilli(int64_t milli);
std::string FormatBytes(int64_t bytes);
// Human-readable for tables and logs: "1.5 GiB", "0.25 cores".
std::string HumanBytes(double bytes);

}  // namespace prescient
