#include "model/evaluation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <unordered_set>

#include "analysis/command_features.h"
#include "analysis/history_aggregates.h"
#include "model/baselines.h"
#include "model/calibration.h"

namespace prescient::model {
namespace {

using analysis::HistoryRecord;
constexpr const char* kGroups[] = {"all", "seen", "unseen"};

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  return v[mid];
}

double UnitOf(int target) {
  return target == analysis::kMemoryBytes ? 1024.0 * 1024 * 1024 : 1.0;
}

struct Split {
  Clock::TimePoint time;
  size_t first_test = 0;
};

Result<Split> FindSplit(const Predictor* model, const std::vector<HistoryRecord>& records, const EvaluationOptions& o) {
  Split s;
  std::string text = o.split_time;
  if (text.empty() && model != nullptr && model->has_model()) text = model->metadata().last_time;
  if (!text.empty()) {
    if (!ParseRfc3339(text, &s.time)) return InvalidArgument("split time is not RFC 3339: " + text);
    s.first_test = static_cast<size_t>(std::upper_bound(records.begin(), records.end(), s.time,
                                                        [](const Clock::TimePoint& t, const HistoryRecord& r) {
                                                          return t < r.time;
                                                        }) -
                                       records.begin());
  } else {
    s.first_test = static_cast<size_t>(std::floor(static_cast<double>(records.size()) * (1 - o.test_fraction)));
    s.time = s.first_test > 0 ? records[s.first_test - 1].time : Clock::TimePoint();
  }
  if (s.first_test >= records.size()) {
    return InvalidArgument("no runs after the split time " + (text.empty() ? FormatRfc3339Micro(s.time) : text) +
                           ": evaluate on history newer than the model's training data (train with --train-fraction, "
                           "or pass --split-time)");
  }
  return s;
}

}  // namespace

AllocationMetrics ComputeMetrics(const std::vector<Outcome>& outcomes, double quantile, double unit) {
  AllocationMetrics m;
  m.n = outcomes.size();
  if (outcomes.empty()) return m;
  std::vector<double> slack;
  size_t under = 0, off = 0;
  double waste = 0, pinball = 0;
  for (const Outcome& o : outcomes) {
    const double a = o.allocated, v = o.actual, t = std::max(o.duration_seconds, 0.0);
    if (v > a) {
      ++under;
      const double retry = std::max(o.retry_allocation, v);
      waste += t * (a + retry - v) / unit;
    } else {
      waste += t * (a - v) / unit;
    }
    slack.push_back(a > 0 ? (a - v) / a : (v > 0 ? -1.0 : 0.0));
    pinball += PinballLoss(std::log1p(v), std::log1p(std::max(0.0, a)), quantile);
    if ((v > 0 && a >= 2 * v) || (a > 0 && v >= 2 * a) || (a == 0 && v > 0)) ++off;
  }
  const double n = static_cast<double>(outcomes.size());
  m.under_rate = static_cast<double>(under) / n;
  m.coverage = 1 - m.under_rate;
  m.median_slack = Median(slack);
  double sum = 0;
  for (double s : slack) sum += s;
  m.mean_slack = sum / n;
  m.waste_unit_seconds = waste;
  m.pinball_log = pinball / n;
  m.off_by_2x = static_cast<double>(off) / n;
  return m;
}

const MethodResult* EvaluationReport::Find(const std::string& method, const std::string& group, int target) const {
  for (const MethodResult& r : results) {
    if (r.method == method && r.group == group && r.target == target) return &r;
  }
  return nullptr;
}

Result<EvaluationReport> Evaluate(const Predictor* model, std::vector<HistoryRecord> records,
                                  const EvaluationOptions& o) {
  records.erase(std::remove_if(records.begin(), records.end(), [](const HistoryRecord& r) { return !r.usage; }),
                records.end());
  if (records.empty()) return InvalidArgument("no runs with usage to evaluate on");
  analysis::SortByTime(&records);
  auto split = FindSplit(model, records, o);
  if (!split.ok()) return split.status();

  EvaluationReport report;
  report.history_rows = records.size();
  report.train_rows = split->first_test;
  report.test_rows = records.size() - split->first_test;
  report.split_time = FormatRfc3339Micro(split->time);
  if (model && model->has_model()) {
    report.model_version = model->metadata().model_version;
    report.quantiles = model->metadata().quantiles;
  }

  std::vector<std::unique_ptr<Recommender>> baselines;
  if (o.baselines) {
    baselines.push_back(MakeStaticDefault(o.defaults));
    baselines.push_back(MakeMaxSeen(o.defaults));
    baselines.push_back(MakeVpaRecommender(o.defaults));
    baselines.push_back(MakeTovarFirstAllocation(o.defaults));
  }
  std::vector<std::string> methods;
  if (model) methods.push_back("prescient");
  for (const auto& b : baselines) methods.push_back(b->name());
  // outcomes[method][group][target]
  std::vector<std::array<std::array<std::vector<Outcome>, analysis::kNumTargets>, 3>> outcomes(methods.size());

  analysis::HistoryIndex index;
  std::unordered_set<std::string> train_signatures;
  std::unordered_map<std::string, std::array<double, analysis::kNumTargets>> max_seen;
  for (size_t i = 0; i < records.size(); ++i) {
    const HistoryRecord& r = records[i];
    const analysis::CommandFeatures f = analysis::AnalyzeCommand(r.command);
    const analysis::TargetValues actual = analysis::TargetsOf(*r.usage);
    auto [ms, inserted] = max_seen.try_emplace(f.signature);
    if (inserted) ms->second.fill(0);
    if (i >= split->first_test) {
      const bool seen = train_signatures.count(f.signature) > 0;
      (seen ? report.seen_rows : report.unseen_rows)++;
      const double dur = r.usage->duration_seconds.value_or(0);
      size_t m = 0;
      if (model) {
        PredictionRequest req;
        req.command = r.command;
        req.context = r.context;
        req.user = r.user;
        const ResourceProfile p = model->PredictWithIndex(req, index);
        for (int t = 0; t < analysis::kNumTargets; ++t) {
          if (!std::isfinite(actual[static_cast<size_t>(t)])) continue;
          const Outcome out{actual[static_cast<size_t>(t)], p.Get(t), dur, ms->second[static_cast<size_t>(t)]};
          outcomes[m][0][static_cast<size_t>(t)].push_back(out);
          outcomes[m][seen ? 1 : 2][static_cast<size_t>(t)].push_back(out);
        }
        ++m;
      }
      for (const auto& b : baselines) {
        for (int t = 0; t < analysis::kNumTargets; ++t) {
          if (!std::isfinite(actual[static_cast<size_t>(t)])) continue;
          const Outcome out{actual[static_cast<size_t>(t)], b->Recommend(f.signature, t, r.context), dur,
                            ms->second[static_cast<size_t>(t)]};
          outcomes[m][0][static_cast<size_t>(t)].push_back(out);
          outcomes[m][seen ? 1 : 2][static_cast<size_t>(t)].push_back(out);
        }
        ++m;
      }
    } else {
      train_signatures.insert(f.signature);
    }
    // Everything learns from the run once it has finished.
    index.Add(f, r);
    for (const auto& b : baselines) b->Observe(f.signature, r, actual);
    for (int t = 0; t < analysis::kNumTargets; ++t) {
      if (std::isfinite(actual[static_cast<size_t>(t)])) {
        ms->second[static_cast<size_t>(t)] = std::max(ms->second[static_cast<size_t>(t)], actual[static_cast<size_t>(t)]);
      }
    }
  }
  for (size_t m = 0; m < methods.size(); ++m) {
    for (int g = 0; g < 3; ++g) {
      for (int t = 0; t < analysis::kNumTargets; ++t) {
        MethodResult res;
        res.method = methods[m];
        res.group = kGroups[g];
        res.target = t;
        res.metrics = ComputeMetrics(outcomes[m][static_cast<size_t>(g)][static_cast<size_t>(t)], report.quantiles[t],
                                     UnitOf(t));
        report.results.push_back(std::move(res));
      }
    }
  }
  return report;
}

std::string TargetSummary(const EvaluationReport& r) {
  const int mem = analysis::kMemoryBytes;
  const MethodResult* seen = r.Find("prescient", "seen", mem);
  const MethodResult* unseen = r.Find("prescient", "unseen", mem);
  const MethodResult* all = r.Find("prescient", "all", mem);
  const MethodResult* vpa = r.Find("vpa", "all", mem);
  if (!all) return "";
  std::string out = "| target | measured | met |\n|---|---|---|\n";
  char buf[512];
  auto line = [&](const char* what, const std::string& measured, bool met) {
    std::snprintf(buf, sizeof buf, "| %s | %s | %s |\n", what, measured.c_str(), met ? "yes" : "**no**");
    out += buf;
  };
  auto pct = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f %%", 100 * v);
    return std::string(b);
  };
  if (seen && seen->metrics.n) {
    line("memory under-allocation, seen signatures <= 5 %", pct(seen->metrics.under_rate), seen->metrics.under_rate <= 0.05);
  }
  if (unseen && unseen->metrics.n) {
    line("memory under-allocation, unseen signatures <= 15 %", pct(unseen->metrics.under_rate),
         unseen->metrics.under_rate <= 0.15);
  }
  if (vpa && vpa->metrics.n) {
    line("memory median slack <= VPA-style baseline's",
         pct(all->metrics.median_slack) + " vs " + pct(vpa->metrics.median_slack),
         all->metrics.median_slack <= vpa->metrics.median_slack);
  }
  for (int t : {analysis::kMemoryBytes, analysis::kCpuCores}) {
    const MethodResult* m = r.Find("prescient", "all", t);
    if (!m || !m->metrics.n) continue;
    char what[128];
    std::snprintf(what, sizeof what, "%s coverage within 2 points of %.2f", analysis::TargetName(t), r.quantiles[t]);
    line(what, pct(m->metrics.coverage), std::fabs(m->metrics.coverage - r.quantiles[t]) <= 0.02);
  }
  return out + "\n";
}

std::string EvaluationMarkdown(const EvaluationReport& r) {
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "History: %zu runs; split at %s: %zu runs before (training side), %zu after (scored): %zu with a "
                "signature seen before the split, %zu unseen.%s\n\n",
                r.history_rows, r.split_time.c_str(), r.train_rows, r.test_rows, r.seen_rows, r.unseen_rows,
                r.model_version.empty() ? "" : (" Model " + r.model_version + ".").c_str());
  out += buf;
  out += TargetSummary(r);
  for (int t = 0; t < analysis::kNumTargets; ++t) {
    const bool waste = t == analysis::kMemoryBytes || t == analysis::kCpuCores;
    std::snprintf(buf, sizeof buf, "### %s (quantile %.2f)\n\n", analysis::TargetName(t), r.quantiles[t]);
    out += buf;
    out += "| method | group | runs | under-allocated | coverage | median slack | mean slack |";
    out += waste ? (t == analysis::kMemoryBytes ? " waste GiB·s |" : " waste core·s |") : "";
    out += " pinball (log) | off ≥2× |\n|---|---|---:|---:|---:|---:|---:|";
    out += waste ? "---:|" : "";
    out += "---:|---:|\n";
    for (const char* g : kGroups) {
      for (const MethodResult& m : r.results) {
        if (m.target != t || m.group != g || m.metrics.n == 0) continue;
        const AllocationMetrics& x = m.metrics;
        std::snprintf(buf, sizeof buf, "| %s | %s | %zu | %.1f %% | %.1f %% | %.1f %% | %.1f %% |", m.method.c_str(), g,
                      x.n, 100 * x.under_rate, 100 * x.coverage, 100 * x.median_slack, 100 * x.mean_slack);
        out += buf;
        if (waste) {
          std::snprintf(buf, sizeof buf, " %.1f |", x.waste_unit_seconds);
          out += buf;
        }
        std::snprintf(buf, sizeof buf, " %.3f | %.1f %% |\n", x.pinball_log, 100 * x.off_by_2x);
        out += buf;
      }
    }
    out += "\n";
  }
  return out;
}

Result<ModelComparison> CompareOnHoldout(const Predictor& incumbent, const Predictor& candidate,
                                         std::vector<HistoryRecord> records, const std::string& split_time) {
  EvaluationOptions o;
  o.baselines = false;
  o.split_time = split_time;
  auto a = Evaluate(&incumbent, records, o);
  if (!a.ok()) return a.status();
  auto b = Evaluate(&candidate, std::move(records), o);
  if (!b.ok()) return b.status();
  ModelComparison c;
  c.rows = a->test_rows;
  int measured = 0;
  for (int t = 0; t < analysis::kNumTargets; ++t) {
    const MethodResult* x = a->Find("prescient", "all", t);
    const MethodResult* y = b->Find("prescient", "all", t);
    if (!x || !y || x->metrics.n == 0) continue;
    ++measured;
    c.incumbent_pinball += x->metrics.pinball_log;
    c.candidate_pinball += y->metrics.pinball_log;
    if (t == analysis::kMemoryBytes) {
      c.incumbent_memory_coverage = x->metrics.coverage;
      c.candidate_memory_coverage = y->metrics.coverage;
    }
  }
  if (measured > 0) {
    c.incumbent_pinball /= measured;
    c.candidate_pinball /= measured;
  }
  const double nominal = candidate.has_model() ? candidate.metadata().quantiles[analysis::kMemoryBytes] : 0.95;
  const bool coverage_ok = c.candidate_memory_coverage >= nominal - 0.02 ||
                           c.candidate_memory_coverage >= c.incumbent_memory_coverage;
  c.candidate_better = coverage_ok && c.candidate_pinball < c.incumbent_pinball;
  return c;
}

}  // namespace prescient::model
