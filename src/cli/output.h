// The CLI's output edge: ResourceProfile and EvaluationReport as JSON (machine-readable, one
// object per line for --batch) or as human tables, and the evaluation plot (PNG through gnuplot).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "model/evaluation.h"
#include "model/resource_profile.h"

namespace prescient::cli {

nlohmann::json ProfileToJson(const model::ResourceProfile& p);
std::string ProfileTable(const model::ResourceProfile& p);
nlohmann::json ReportToJson(const model::EvaluationReport& r);
// Grouped bars: memory under-allocation and median slack per method, seen vs unseen.
Status WritePlot(const model::EvaluationReport& r, const std::string& png_path);

}  // namespace prescient::cli
