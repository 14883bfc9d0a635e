// YAML (or JSON) text to nlohmann::json, with YAML 1.2 core-schema scalar typing for plain
// scalars (true/false, null/~, integers, floats), as the API server's decoder does.
// Errors are 400 BadRequest Status values naming the line. Thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/status.h"

namespace prescient::sim {

// Parses JSON when the text starts with '{' or '[' (after whitespace), else YAML (first document).
Result<nlohmann::json> ParseJsonOrYaml(std::string_view text);

}  // namespace prescient::sim
