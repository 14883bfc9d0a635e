// Server-side printing (Accept: application/json;as=Table;v=v1;g=meta.k8s.io): column definitions
// and rows for built-in resources (kubectl's usual columns) and for custom resources (Name +
// additionalPrinterColumns, or Name + Age without them), with the JSONPath subset printer columns
// use: .a.b, ['a'], [N], [*], [?(@.x=='v')] and [?(@.x!='v')]. Pure functions; thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "common/clock.h"
#include "sim/store.h"

namespace prescient::sim {

// Every value the path selects, in document order (empty when none or the path is malformed).
std::vector<const Json*> EvalJsonPath(const Json& obj, std::string_view path);

// "5s", "3m12s", "4h", "2d" as kubectl prints ages.
std::string HumanDuration(Clock::Duration d);

enum class TableObject { kNone, kMetadata, kObject };

Json TableColumnDefinitions(const ResourceInfo& info);
Json TableRow(const ResourceInfo& info, const Json& obj, Clock::TimePoint now, TableObject include);
// A whole meta.k8s.io/v1 Table.
Json MakeTable(const ResourceInfo& info, const std::vector<Json>& items, const std::string& resource_version,
               const std::string& continue_token, Clock::TimePoint now, TableObject include, bool with_columns = true);

}  // namespace prescient::sim
