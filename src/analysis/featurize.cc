#include "analysis/featurize.h"

#include <limits>

namespace prescient::analysis {

void FeaturizeRun(const std::string& command, const RunContext& context, const std::string& user,
                  const HistoryIndex& index, FeaturizedRun* out) {
  const ParsedCommand parsed = ParseCommand(command);
  out->command = ExtractCommandFeatures(parsed);
  out->dependencies = ExtractDependencies(parsed);
  out->history = index.Find(out->command);
  if (const KeyAggregate* sig = out->history.signature()) {
    std::vector<Dependency> learned;
    for (const std::string& ep : sig->endpoints) {
      Dependency d;
      if (DependencyFromEndpoint(ep, "history", &d)) learned.push_back(std::move(d));
    }
    MergeDependencies(&out->dependencies, learned);
  }
  FeatureInput in;
  in.command = &out->command;
  in.context = &context;
  in.user = &user;
  in.history = out->history;
  in.dependency_count = out->dependencies.size();
  out->row.resize(FeatureCount());
  BuildFeatureVector(in, out->row.data());
}

FeaturizedHistory FeaturizeHistory(const std::vector<HistoryRecord>& records, HistoryIndex* index) {
  FeaturizedHistory out;
  out.cols = FeatureCount();
  out.x.resize(records.size() * out.cols);
  out.y.reserve(records.size());
  std::vector<CommandFeatures> pending;  // the current group of equal timestamps
  size_t group_start = 0;
  auto flush = [&](size_t end) {
    for (size_t k = group_start; k < end; ++k) index->Add(pending[k - group_start], records[k]);
    pending.clear();
    group_start = end;
  };
  FeaturizedRun run;
  for (size_t i = 0; i < records.size(); ++i) {
    if (i > group_start && records[i].time != records[group_start].time) flush(i);
    const HistoryRecord& r = records[i];
    FeaturizeRun(r.command, r.context, r.user, *index, &run);
    std::copy(run.row.begin(), run.row.end(), out.x.begin() + static_cast<std::ptrdiff_t>(i * out.cols));
    TargetValues y;
    y.fill(std::numeric_limits<double>::quiet_NaN());
    if (r.usage) y = TargetsOf(*r.usage);
    out.y.push_back(y);
    out.signatures.push_back(run.command.signature);
    out.prior_count.push_back(run.history.signature() ? run.history.signature()->count : 0);
    pending.push_back(std::move(run.command));
  }
  flush(records.size());
  return out;
}

}  // namespace prescient::analysis
