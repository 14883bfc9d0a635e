#include "controller/shadow.h"

#include <gtest/gtest.h>

namespace prescient::controller {
namespace {

constexpr int64_t Mi = 1LL << 20;

api::Prediction Predicted(int64_t cpu, int64_t mem, double duration = 60) {
  api::Prediction p;
  p.cpu_milli = cpu;
  p.memory_bytes = mem;
  p.duration_seconds = duration;
  p.source = "Model";
  p.model_version = "m1";
  return p;
}

// A shadow run that measured `peak_mem`/`peak_cores` over `seconds`, with a memory curve.
api::ShadowResult Shadow(double seconds, int64_t peak_mem, double peak_cores, bool exited = false,
                         std::vector<std::pair<double, int64_t>> curve = {}) {
  api::ShadowResult r;
  r.duration_seconds = seconds;
  r.usage = api::Usage{};
  r.usage->peaks.memory_bytes = peak_mem;
  r.usage->peaks.cpu_cores = peak_cores;
  r.memory_curve = std::move(curve);
  r.exited = exited;
  return r;
}

TEST(RefineWithShadow, Table) {
  ShadowPolicy policy;  // safety factor 1.2
  api::ResourceBounds max_300mi;
  max_300mi.max = api::ResourceAmounts{};
  max_300mi.max->memory_bytes = 300 * Mi;
  struct Case {
    const char* name;
    api::Prediction predicted;
    api::ShadowResult shadow;
    std::optional<api::ResourceBounds> bounds;
    int64_t want_cpu, want_mem;
    double want_duration;
    std::string want_reason, want_source;
  } cases[] = {
      {"observed peak above the prediction raises it by the safety factor", Predicted(500, 128 * Mi),
       Shadow(10, 200 * Mi, 0.2), std::nullopt, 500, 240 * Mi, 60, "ShadowRefined", "Shadow"},
      {"CPU too", Predicted(200, 512 * Mi), Shadow(10, 100 * Mi, 0.9), std::nullopt, 1080, 512 * Mi, 60,
       "ShadowRefined", "Shadow"},
      {"within the prediction: confirmed, never lowered", Predicted(500, 512 * Mi), Shadow(10, 100 * Mi, 0.1),
       std::nullopt, 500, 512 * Mi, 60, "ShadowConfirmed", "Model"},
      {"a rising curve is extrapolated for as long again",
       Predicted(500, 128 * Mi, 120),
       // 10 MiB/s over the second half: 100 MiB at 10 s, +100 MiB for 10 more seconds.
       Shadow(10, 100 * Mi, 0.1, false, {{0, 0}, {5, 50 * Mi}, {10, 100 * Mi}}), std::nullopt, 500, 240 * Mi, 120,
       "ShadowRefined", "Shadow"},
      {"not past the predicted end of the run",
       Predicted(500, 128 * Mi, 12),
       Shadow(10, 100 * Mi, 0.1, false, {{0, 0}, {5, 50 * Mi}, {10, 100 * Mi}}), std::nullopt, 500,
       // 2 s left: 100 + 20 MiB, times 1.2.
       144 * Mi, 12, "ShadowRefined", "Shadow"},
      {"a finished command is not extrapolated", Predicted(500, 128 * Mi, 120),
       Shadow(8, 100 * Mi, 0.1, true, {{0, 0}, {4, 50 * Mi}, {8, 100 * Mi}}), std::nullopt, 500, 128 * Mi, 120,
       "ShadowConfirmed", "Model"},
      {"still running at the end of the shadow: at least that long", Predicted(500, 128 * Mi, 5),
       Shadow(10, 10 * Mi, 0.1), std::nullopt, 500, 128 * Mi, 10, "ShadowRefined", "Shadow"},
      {"spec.resources.max wins over the observation", Predicted(500, 128 * Mi), Shadow(10, 400 * Mi, 0.1), max_300mi,
       500, 300 * Mi, 60, "ShadowRefined", "Shadow"},
      {"a shadow that measured nothing changes nothing", Predicted(500, 128 * Mi), api::ShadowResult{}, std::nullopt, 500,
       128 * Mi, 60, "ShadowFailed", "Model"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ShadowRefinement r = RefineWithShadow(c.predicted, c.shadow, c.bounds, policy);
    EXPECT_EQ(r.prediction.cpu_milli, c.want_cpu);
    EXPECT_EQ(r.prediction.memory_bytes, c.want_mem);
    EXPECT_DOUBLE_EQ(r.prediction.duration_seconds, c.want_duration);
    EXPECT_EQ(r.reason, c.want_reason) << r.message;
    EXPECT_EQ(r.prediction.source, c.want_source);
    EXPECT_EQ(r.prediction.model_version, "m1");  // the model it started from stays on record
    EXPECT_EQ(r.changed, c.want_source == "Shadow");
    EXPECT_FALSE(r.message.empty());
  }
}

TEST(RefineWithShadow, SaysWhenTheSandboxLimitCutTheObservationOff) {
  ShadowRefinement r = RefineWithShadow(Predicted(500, 128 * Mi), Shadow(10, 512 * Mi, 0.2), std::nullopt, ShadowPolicy{});
  EXPECT_NE(r.message.find("sandbox's limit"), std::string::npos) << r.message;
}

TEST(ShadowInstance, KeepsTheLabelledCandidateElseTheFirstRunningOne) {
  ClusterSnapshot s;
  auto add = [&](std::string name, bool running) {
    InstanceView v;
    v.ns = "default";
    v.name = name;
    v.running = running;
    v.labels["app"] = "x";
    s.instances["default/" + name] = v;
  };
  add("a", false);
  add("b", true);
  add("c", true);
  api::CommandRun run;
  run.metadata.ns = "default";
  run.spec.target.vm_selector = api::LabelSelector{{{"app", "x"}}, {}};
  EXPECT_EQ(ShadowInstance(run, s, ""), "b");
  EXPECT_EQ(ShadowInstance(run, s, "c"), "c");
  EXPECT_EQ(ShadowInstance(run, s, "a"), "b");  // labelled, but not running any more
  run.spec.target = api::Target{};
  run.spec.target.vm_name = "a";
  EXPECT_EQ(ShadowInstance(run, s, ""), "");
}

TEST(ShadowDeadline, RequestedAtPlusDurationPlusGrace) {
  api::CommandRun run;
  run.spec.shadow = api::ShadowSpec{true, 20, false};
  run.status.shadow = api::ShadowStatus{};
  run.status.shadow->requested_at = api::Time{} + std::chrono::seconds(100);
  ShadowPolicy p;
  p.grace = std::chrono::seconds(5);
  EXPECT_EQ(ShadowDeadline(run, p), api::Time{} + std::chrono::seconds(125));
}

}  // namespace
}  // namespace prescient::controller
