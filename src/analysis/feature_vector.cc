#include "analysis/feature_vector.h"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace prescient::analysis {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr int kFlagBuckets = 8;

const char* kLevelNames[kNumKeyLevels] = {"sig", "shape", "prog"};

// Which statistics each level contributes (the signature level is the most specific and gets all).
struct LevelLayout {
  bool last_and_mean;
};
constexpr LevelLayout kLayouts[kNumKeyLevels] = {{true}, {false}, {false}};

struct Schema {
  std::vector<std::string> names;
  int hist_count[kNumKeyLevels];
  int hist_p50[kNumKeyLevels][kNumTargets];
  int input_ratio[kNumKeyLevels];
};

const char* kCommandColumns[] = {
    "cmd.program_hash", "cmd.subcommand_hash", "cmd.shape_hash", "cmd.category", "cmd.stages", "cmd.pipes",
    "cmd.and_or", "cmd.background", "cmd.subshell_depth", "cmd.wrappers", "cmd.sudo", "cmd.timeout_log",
    "cmd.flags", "cmd.flag_bucket0", "cmd.flag_bucket1", "cmd.flag_bucket2", "cmd.flag_bucket3",
    "cmd.flag_bucket4", "cmd.flag_bucket5", "cmd.flag_bucket6", "cmd.flag_bucket7", "cmd.parallelism",
    "cmd.compression_level", "cmd.size_arg_log", "cmd.count_arg_log", "cmd.bytes_requested_log",
    "cmd.numeric_max_log", "cmd.literal_max_log", "cmd.numerics", "cmd.paths", "cmd.words", "cmd.input_redirects",
    "cmd.output_redirects", "cmd.stdout_devnull", "cmd.dependencies", "cmd.truncated",
};
const char* kContextColumns[] = {
    "ctx.vm_cpus", "ctx.vm_memory_log", "ctx.input_bytes_log", "ctx.requested_cpus", "ctx.requested_memory_log",
    "ctx.user_hash",
};

const Schema& GetSchema() {
  static const Schema schema = [] {
    Schema s;
    for (const char* c : kCommandColumns) s.names.push_back(c);
    for (const char* c : kContextColumns) s.names.push_back(c);
    for (int l = 0; l < kNumKeyLevels; ++l) {
      const std::string prefix = std::string("hist.") + kLevelNames[l] + ".";
      s.hist_count[l] = static_cast<int>(s.names.size());
      s.names.push_back(prefix + "count_log");
      s.input_ratio[l] = static_cast<int>(s.names.size());
      s.names.push_back(prefix + "input_ratio_log");
      s.names.push_back(prefix + "memory_from_input_log");
      s.names.push_back(prefix + "duration_from_input_log");
      for (int t = 0; t < kNumTargets; ++t) {
        const std::string tp = prefix + TargetName(t) + ".";
        s.hist_p50[l][t] = static_cast<int>(s.names.size());
        s.names.push_back(tp + "p50");
        s.names.push_back(tp + "p90");
        s.names.push_back(tp + "max");
        if (kLayouts[l].last_and_mean) {
          s.names.push_back(tp + "last");
          s.names.push_back(tp + "decayed_mean");
        }
      }
    }
    return s;
  }();
  return schema;
}

float Hash24(std::string_view s) {
  if (s.empty()) return kNaN;
  return static_cast<float>(Fnv1a64(s) & 0xFFFFFF);
}
float Log1p(double v) { return static_cast<float>(std::log1p(std::max(0.0, v))); }
float LogOrNaN(double v) { return v > 0 ? Log1p(v) : kNaN; }
float Opt(const std::optional<double>& v) { return v ? static_cast<float>(*v) : kNaN; }
float OptLog(const std::optional<double>& v) { return v ? Log1p(*v) : kNaN; }

}  // namespace

const std::vector<std::string>& FeatureNames() { return GetSchema().names; }
size_t FeatureCount() { return GetSchema().names.size(); }

uint64_t FeatureSchemaHash() {
  static const uint64_t h = [] {
    uint64_t x = Fnv1a64(kFeatureSchemaVersion);
    for (const std::string& n : FeatureNames()) x = Fnv1a64(n, x ^ 0x2f);
    return x;
  }();
  return h;
}

int HistoryP50Column(KeyLevel level, int target) {
  if (target < 0 || target >= kNumTargets) return -1;
  return GetSchema().hist_p50[static_cast<int>(level)][target];
}
int HistoryCountColumn(KeyLevel level) { return GetSchema().hist_count[static_cast<int>(level)]; }

void BuildFeatureVector(const FeatureInput& in, float* out) {
  const Schema& schema = GetSchema();
  const CommandFeatures& c = *in.command;
  float* p = out;
  auto put = [&p](float v) { *p++ = v; };
  put(Hash24(c.program));
  put(Hash24(c.subcommand));
  put(Hash24(c.shape));
  put(static_cast<float>(c.category));
  put(static_cast<float>(c.stages.size()));
  put(static_cast<float>(c.pipes));
  put(static_cast<float>(c.and_or));
  put(static_cast<float>(c.background));
  put(static_cast<float>(c.max_subshell_depth));
  put(static_cast<float>(c.wrapper_count));
  put(c.has_sudo ? 1.f : 0.f);
  put(LogOrNaN(c.timeout_seconds));
  put(static_cast<float>(c.flag_count));
  float buckets[kFlagBuckets] = {};
  for (const StageFeatures& st : c.stages) {
    for (const std::string& f : st.flags) buckets[Fnv1a64(f) % kFlagBuckets] += 1;
  }
  for (float b : buckets) put(b);
  put(c.parallelism > 0 ? static_cast<float>(c.parallelism) : kNaN);
  put(c.compression_level > 0 ? static_cast<float>(c.compression_level) : kNaN);
  put(LogOrNaN(c.size_arg_bytes));
  put(LogOrNaN(c.count_arg));
  put(LogOrNaN(c.bytes_requested));
  put(LogOrNaN(c.numeric_max));
  put(LogOrNaN(c.literal_max));
  put(static_cast<float>(c.numeric_count));
  put(static_cast<float>(c.path_count));
  put(static_cast<float>(c.word_count));
  put(static_cast<float>(c.input_redirects));
  put(static_cast<float>(c.output_redirects));
  put(c.stdout_to_devnull ? 1.f : 0.f);
  put(static_cast<float>(in.dependency_count));
  put(c.truncated ? 1.f : 0.f);

  static const RunContext kEmpty;
  const RunContext& ctx = in.context ? *in.context : kEmpty;
  put(Opt(ctx.vm_cpus));
  put(OptLog(ctx.vm_memory_bytes));
  put(OptLog(ctx.input_bytes));
  put(Opt(ctx.requested_cpus));
  put(OptLog(ctx.requested_memory_bytes));
  put(in.user ? Hash24(*in.user) : kNaN);

  for (int l = 0; l < kNumKeyLevels; ++l) {
    const KeyAggregate* a = in.history.level[l];
    put(a ? Log1p(static_cast<double>(a->count)) : 0.f);
    if (a && a->input_n > 0 && ctx.input_bytes) {
      put(Log1p(*ctx.input_bytes) - Log1p(a->input_p50));
    } else {
      put(kNaN);
    }
    if (a && a->ratio_n > 0 && ctx.input_bytes) {
      put(Log1p(*ctx.input_bytes * a->memory_per_input_p50));
      put(Log1p(*ctx.input_bytes * a->duration_per_input_p50));
    } else {
      put(kNaN);
      put(kNaN);
    }
    for (int t = 0; t < kNumTargets; ++t) {
      const bool have = a && a->targets[t].n > 0;
      const TargetStats* s = have ? &a->targets[t] : nullptr;
      put(s ? Log1p(s->p50) : kNaN);
      put(s ? Log1p(s->p90) : kNaN);
      put(s ? Log1p(s->max) : kNaN);
      if (kLayouts[l].last_and_mean) {
        put(s ? Log1p(s->last) : kNaN);
        put(s ? Log1p(s->decayed_mean) : kNaN);
      }
    }
  }
  if (static_cast<size_t>(p - out) != schema.names.size()) std::abort();  // schema and writer disagree: a bug
}

}  // namespace prescient::analysis
