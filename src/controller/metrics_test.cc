#include "controller/metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace prescient::controller {
namespace {

// family name -> label value of `label` -> the series' value (counter/gauge value, histogram count).
std::map<std::string, std::map<std::string, double>> Collect(prometheus::Registry& r, const std::string& label) {
  std::map<std::string, std::map<std::string, double>> out;
  for (const auto& f : r.Collect()) {
    auto& series = out[f.name];
    for (const auto& m : f.metric) {
      std::string value;
      for (const auto& l : m.label) {
        if (l.name == label) value = l.value;
      }
      double v = 0;
      switch (f.type) {
        case prometheus::MetricType::Counter: v = m.counter.value; break;
        case prometheus::MetricType::Gauge: v = m.gauge.value; break;
        case prometheus::MetricType::Histogram: v = static_cast<double>(m.histogram.sample_count); break;
        default: break;
      }
      series[value] = v;
    }
  }
  return out;
}

TEST(Metrics, KnownLabelValuesStartAtZeroSoTheFirstIncreaseIsVisible) {
  auto registry = std::make_shared<prometheus::Registry>();
  Metrics m(registry);
  struct Want {
    std::string family, label;
    const std::vector<std::string>* values;
  } wants[] = {
      {"prescient_actual_over_predicted_ratio", "resource", &kMetricRatioResources},
      {"prescient_under_allocations_total", "resource", &kMetricResources},
      {"prescient_hotplugs_total", "resource", &kMetricResources},
      {"prescient_hotplug_failures_total", "reason", &kMetricHotplugFailureReasons},
      {"prescient_quota_changes_total", "direction", &kMetricQuotaDirections},
      {"prescient_provisioning_requests_total", "kind", &kMetricProvisioningKinds},
      {"prescient_reconciles_total", "controller", &kMetricControllers},
      {"prescient_reconcile_errors_total", "controller", &kMetricControllers},
      {"prescient_reconcile_duration_seconds", "controller", &kMetricControllers},
      {"prescient_workqueue_depth", "controller", &kMetricControllers},
      {"prescient_workqueue_queue_duration_seconds", "controller", &kMetricControllers},
      {"prescient_model_retrains_total", "result", &kMetricRetrainResults},
      {"prescient_commandruns_finished_total", "phase", &kMetricFinishedPhases},
      {"prescient_predictions_total", "source", &kMetricPredictionSources},
      {"prescient_history_records_total", "result", &kMetricHistoryResults},
  };
  for (const auto& w : wants) {
    auto all = Collect(*registry, w.label);
    ASSERT_TRUE(all.count(w.family)) << w.family;
    const auto& series = all.at(w.family);
    EXPECT_EQ(series.size(), w.values->size()) << w.family;
    for (const auto& v : *w.values) {
      ASSERT_TRUE(series.count(v)) << w.family << "{" << w.label << "=\"" << v << "\"} missing at start-up";
      EXPECT_EQ(series.at(v), 0) << w.family << " " << v;
    }
  }
  // The first event moves an existing series from 0 to 1 (no new series appears).
  m.HotplugFailure("NotApplied");
  m.RunFinished("Succeeded");
  auto after = Collect(*registry, "reason");
  EXPECT_EQ(after["prescient_hotplug_failures_total"]["NotApplied"], 1);
  EXPECT_EQ(after["prescient_hotplug_failures_total"].size(), kMetricHotplugFailureReasons.size());
  EXPECT_EQ(Collect(*registry, "phase")["prescient_commandruns_finished_total"]["Succeeded"], 1);
}

TEST(Metrics, TheOperatorsHeartbeatAgeIsNotTheAgentsMetric) {
  auto registry = std::make_shared<prometheus::Registry>();
  Metrics m(registry);
  m.SetAgentHeartbeatAge("vm1", 12);
  auto all = Collect(*registry, "instance");
  // The agent exports prescient_agent_heartbeat_age_seconds itself (src/agent/metrics.cc); two
  // exporters of one name with different labels break queries and alerts over both.
  EXPECT_FALSE(all.count("prescient_agent_heartbeat_age_seconds"));
  ASSERT_TRUE(all.count("prescient_operator_agent_heartbeat_age_seconds"));
  EXPECT_EQ(all["prescient_operator_agent_heartbeat_age_seconds"]["vm1"], 12);
}

}  // namespace
}  // namespace prescient::controller
