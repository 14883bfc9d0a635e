// libFuzzer entry: any byte string must parse, featurise and yield dependencies without crashing,
// hanging or reading out of bounds (run under ASan/UBSan by hack/fuzz.sh).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "analysis/command_features.h"
#include "analysis/dependencies.h"
#include "analysis/feature_vector.h"
#include "analysis/history.h"
#include "analysis/shell_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace prescient::analysis;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ParsedCommand parsed = ParseCommand(text);
  const CommandFeatures features = ExtractCommandFeatures(parsed);
  const std::vector<Dependency> deps = ExtractDependencies(parsed);
  HistoryIndex index;
  HistoryRecord rec;
  rec.command = std::string(text);
  rec.usage = RunUsage{};
  rec.usage->memory_peak_bytes = static_cast<double>(size);
  index.Add(features, rec);
  FeatureInput in;
  in.command = &features;
  in.history = index.Find(features);
  in.dependency_count = deps.size();
  std::vector<float> row(FeatureCount());
  BuildFeatureVector(in, row.data());
  (void)ParseHistoryLine(text, /*require_usage=*/true);
  return 0;
}
