// The operator's Prometheus metrics (prometheus-cpp), named by the conventions: prescient_ prefix,
// _total counters, _seconds histograms, base units. operator/METRICS.md lists every name and help
// text. One Metrics object per process, registered on the registry the /metrics exposer serves.
// Every series whose label values are known in advance (the lists below) exists at 0 from the
// start, so the first increase is visible to rate()/increase() (a series born at 1 is not).
// Thread-safe (prometheus-cpp metrics are).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace prescient::controller {

// Label values known at start-up, one list per label; a series is created at 0 for each.
inline const std::vector<std::string> kMetricResources = {"cpu", "memory"};
inline const std::vector<std::string> kMetricRatioResources = {"cpu", "memory", "duration"};
inline const std::vector<std::string> kMetricHotplugFailureReasons = {
    "QuotaRaiseFailed", "Conflict", "PatchFailed", "NotApplied", "HotplugTimedOut", "RestartRequired"};
inline const std::vector<std::string> kMetricQuotaDirections = {"raise", "lower"};
inline const std::vector<std::string> kMetricProvisioningKinds = {"ProvisioningRequest", "Balloon", "PoolScale"};
inline const std::vector<std::string> kMetricControllers = {"commandrun", "resourcereservation"};
inline const std::vector<std::string> kMetricRetrainResults = {"promoted", "rejected", "failed", "skipped"};
inline const std::vector<std::string> kMetricFinishedPhases = {"Succeeded", "Failed"};
inline const std::vector<std::string> kMetricPredictionSources = {"Model", "History", "Default", "Shadow"};
inline const std::vector<std::string> kMetricHistoryResults = {"ok", "error"};

class Metrics {
 public:
  explicit Metrics(std::shared_ptr<prometheus::Registry> registry);
  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

  // resource: "cpu" | "memory" | "duration".
  void ObserveActualOverPredicted(const std::string& resource, double ratio);
  void UnderAllocation(const std::string& resource);
  void AllocationLatency(double seconds);
  void QueueWait(const std::string& priority, double seconds);
  void SetQueueDepth(const std::string& priority, double depth);
  void Hotplug(const std::string& resource);
  void HotplugFailure(const std::string& reason);
  void QuotaChange(const std::string& direction);  // raise | lower
  void ProvisioningRequest(const std::string& kind);  // ProvisioningRequest | Balloon | PoolScale
  void Reconcile(const std::string& controller, bool error, double seconds);
  void SetWorkQueueDepth(const std::string& controller, double depth);
  void WorkQueueLatency(const std::string& controller, double seconds);
  void SetModelInfo(const std::string& version, const std::string& source);
  void RetrainResult(const std::string& result);  // promoted | rejected | failed | skipped
  void SetAgentHeartbeatAge(const std::string& instance, double seconds);
  void RunFinished(const std::string& phase);
  void Prediction(const std::string& source);
  void Preemption();
  void SetLeader(bool leader);
  void HistoryRecord(bool ok);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Histogram>& ratio_;
  prometheus::Family<prometheus::Counter>& under_;
  prometheus::Histogram& alloc_latency_;
  prometheus::Family<prometheus::Histogram>& queue_wait_;
  prometheus::Family<prometheus::Gauge>& queue_depth_;
  prometheus::Family<prometheus::Counter>& hotplugs_;
  prometheus::Family<prometheus::Counter>& hotplug_failures_;
  prometheus::Family<prometheus::Counter>& quota_changes_;
  prometheus::Family<prometheus::Counter>& provisioning_;
  prometheus::Family<prometheus::Counter>& reconciles_;
  prometheus::Family<prometheus::Counter>& reconcile_errors_;
  prometheus::Family<prometheus::Histogram>& reconcile_duration_;
  prometheus::Family<prometheus::Gauge>& wq_depth_;
  prometheus::Family<prometheus::Histogram>& wq_latency_;
  prometheus::Family<prometheus::Gauge>& model_info_;
  prometheus::Family<prometheus::Counter>& retrains_;
  prometheus::Family<prometheus::Gauge>& heartbeat_age_;
  prometheus::Family<prometheus::Counter>& runs_finished_;
  prometheus::Family<prometheus::Counter>& predictions_;
  prometheus::Counter& preemptions_;
  prometheus::Gauge& leader_;
  prometheus::Family<prometheus::Counter>& history_records_;
  std::mutex model_mu_;
  prometheus::Gauge* model_gauge_ = nullptr;
};

}  // namespace prescient::controller
