#include "controller/metrics.h"

namespace prescient::controller {

namespace {
using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

const Histogram::BucketBoundaries kRatioBuckets{0.1, 0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2, 4};
const Histogram::BucketBoundaries kLatencyBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
const Histogram::BucketBoundaries kWaitBuckets{0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600};
}  // namespace

Metrics::Metrics(std::shared_ptr<prometheus::Registry> registry)
    : registry_(std::move(registry)),
      ratio_(BuildHistogram()
                 .Name("prescient_actual_over_predicted_ratio")
                 .Help("Measured peak usage divided by the predicted amount, per resource, for finished runs")
                 .Register(*registry_)),
      under_(BuildCounter()
                 .Name("prescient_under_allocations_total")
                 .Help("Finished runs whose measured peak exceeded the allocation (or that were OOM-killed), per resource")
                 .Register(*registry_)),
      alloc_latency_(BuildHistogram()
                         .Name("prescient_allocation_latency_seconds")
                         .Help("Time from CommandRun creation to phase Allocated")
                         .Register(*registry_)
                         .Add({}, kLatencyBuckets)),
      queue_wait_(BuildHistogram()
                      .Name("prescient_queue_wait_seconds")
                      .Help("Time a CommandRun spent waiting (Queued/Scaling) before it was allocated, by priority")
                      .Register(*registry_)),
      queue_depth_(BuildGauge()
                       .Name("prescient_queue_depth")
                       .Help("CommandRuns waiting for capacity, by priority")
                       .Register(*registry_)),
      hotplugs_(BuildCounter()
                    .Name("prescient_hotplugs_total")
                    .Help("VirtualMachine hotplug patches applied, by resource (cpu, memory)")
                    .Register(*registry_)),
      hotplug_failures_(BuildCounter()
                            .Name("prescient_hotplug_failures_total")
                            .Help("Hotplug attempts that failed (patch refused, test op conflict, RestartRequired), by reason")
                            .Register(*registry_)),
      quota_changes_(BuildCounter()
                         .Name("prescient_quota_changes_total")
                         .Help("Changes to the operator-owned ResourceQuota spec.hard, by direction (raise, lower)")
                         .Register(*registry_)),
      provisioning_(BuildCounter()
                        .Name("prescient_provisioning_requests_total")
                        .Help("Requests for more capacity created, by kind (ProvisioningRequest, Balloon, PoolScale)")
                        .Register(*registry_)),
      reconciles_(BuildCounter()
                      .Name("prescient_reconciles_total")
                      .Help("Reconcile calls, by controller")
                      .Register(*registry_)),
      reconcile_errors_(BuildCounter()
                            .Name("prescient_reconcile_errors_total")
                            .Help("Reconcile calls that returned an error (and were requeued with backoff), by controller")
                            .Register(*registry_)),
      reconcile_duration_(BuildHistogram()
                              .Name("prescient_reconcile_duration_seconds")
                              .Help("Duration of one reconcile call, by controller")
                              .Register(*registry_)),
      wq_depth_(BuildGauge()
                    .Name("prescient_workqueue_depth")
                    .Help("Keys waiting in the controller work queue, by controller")
                    .Register(*registry_)),
      wq_latency_(BuildHistogram()
                      .Name("prescient_workqueue_queue_duration_seconds")
                      .Help("Time from an object event to the start of its reconcile, by controller")
                      .Register(*registry_)),
      model_info_(BuildGauge()
                      .Name("prescient_model_info")
                      .Help("The prediction model in use: 1 for the current version and source labels")
                      .Register(*registry_)),
      retrains_(BuildCounter()
                    .Name("prescient_model_retrains_total")
                    .Help("Background retraining attempts, by result (promoted, rejected, failed, skipped)")
                    .Register(*registry_)),
      heartbeat_age_(BuildGauge()
                         .Name("prescient_operator_agent_heartbeat_age_seconds")
                         .Help("Seconds since the agent of an instance last renewed its Lease, as the operator sees it")
                         .Register(*registry_)),
      runs_finished_(BuildCounter()
                         .Name("prescient_commandruns_finished_total")
                         .Help("CommandRuns that reached a terminal phase, by phase (Succeeded, Failed)")
                         .Register(*registry_)),
      predictions_(BuildCounter()
                       .Name("prescient_predictions_total")
                       .Help("Predictions made, by source (Model, History, Default, Shadow)")
                       .Register(*registry_)),
      preemptions_(BuildCounter()
                       .Name("prescient_preemptions_total")
                       .Help("Allocations taken back from lower-priority runs that had not started")
                       .Register(*registry_)
                       .Add({})),
      leader_(BuildGauge()
                  .Name("prescient_leader")
                  .Help("1 while this replica holds the leader election lease")
                  .Register(*registry_)
                  .Add({})),
      history_records_(BuildCounter()
                           .Name("prescient_history_records_total")
                           .Help("Observations appended to the durable run history, by result (ok, error)")
                           .Register(*registry_)) {
  // Known series at 0 (see the header): Add creates a series once and returns it afterwards.
  auto each = [](const std::vector<std::string>& values, const auto& add) {
    for (const auto& v : values) add(v);
  };
  each(kMetricRatioResources, [&](const std::string& v) { ratio_.Add({{"resource", v}}, kRatioBuckets); });
  each(kMetricResources, [&](const std::string& v) {
    under_.Add({{"resource", v}});
    hotplugs_.Add({{"resource", v}});
  });
  each(kMetricHotplugFailureReasons, [&](const std::string& v) { hotplug_failures_.Add({{"reason", v}}); });
  each(kMetricQuotaDirections, [&](const std::string& v) { quota_changes_.Add({{"direction", v}}); });
  each(kMetricProvisioningKinds, [&](const std::string& v) { provisioning_.Add({{"kind", v}}); });
  each(kMetricControllers, [&](const std::string& v) {
    reconciles_.Add({{"controller", v}});
    reconcile_errors_.Add({{"controller", v}});
    reconcile_duration_.Add({{"controller", v}}, kLatencyBuckets);
    wq_depth_.Add({{"controller", v}});
    wq_latency_.Add({{"controller", v}}, kLatencyBuckets);
  });
  each(kMetricRetrainResults, [&](const std::string& v) { retrains_.Add({{"result", v}}); });
  each(kMetricFinishedPhases, [&](const std::string& v) { runs_finished_.Add({{"phase", v}}); });
  each(kMetricPredictionSources, [&](const std::string& v) { predictions_.Add({{"source", v}}); });
  each(kMetricHistoryResults, [&](const std::string& v) { history_records_.Add({{"result", v}}); });
}

void Metrics::ObserveActualOverPredicted(const std::string& resource, double ratio) {
  ratio_.Add({{"resource", resource}}, kRatioBuckets).Observe(ratio);
}
void Metrics::UnderAllocation(const std::string& resource) { under_.Add({{"resource", resource}}).Increment(); }
void Metrics::AllocationLatency(double seconds) { alloc_latency_.Observe(seconds); }
void Metrics::QueueWait(const std::string& priority, double seconds) {
  queue_wait_.Add({{"priority", priority}}, kWaitBuckets).Observe(seconds);
}
void Metrics::SetQueueDepth(const std::string& priority, double depth) { queue_depth_.Add({{"priority", priority}}).Set(depth); }
void Metrics::Hotplug(const std::string& resource) { hotplugs_.Add({{"resource", resource}}).Increment(); }
void Metrics::HotplugFailure(const std::string& reason) { hotplug_failures_.Add({{"reason", reason}}).Increment(); }
void Metrics::QuotaChange(const std::string& direction) { quota_changes_.Add({{"direction", direction}}).Increment(); }
void Metrics::ProvisioningRequest(const std::string& kind) { provisioning_.Add({{"kind", kind}}).Increment(); }
void Metrics::Reconcile(const std::string& controller, bool error, double seconds) {
  reconciles_.Add({{"controller", controller}}).Increment();
  if (error) reconcile_errors_.Add({{"controller", controller}}).Increment();
  reconcile_duration_.Add({{"controller", controller}}, kLatencyBuckets).Observe(seconds);
}
void Metrics::SetWorkQueueDepth(const std::string& controller, double depth) {
  wq_depth_.Add({{"controller", controller}}).Set(depth);
}
void Metrics::WorkQueueLatency(const std::string& controller, double seconds) {
  wq_latency_.Add({{"controller", controller}}, kLatencyBuckets).Observe(seconds);
}
void Metrics::SetModelInfo(const std::string& version, const std::string& source) {
  std::lock_guard<std::mutex> lock(model_mu_);
  if (model_gauge_) model_info_.Remove(model_gauge_);
  model_gauge_ = &model_info_.Add({{"version", version}, {"source", source}});
  model_gauge_->Set(1);
}
void Metrics::RetrainResult(const std::string& result) { retrains_.Add({{"result", result}}).Increment(); }
void Metrics::SetAgentHeartbeatAge(const std::string& instance, double seconds) {
  heartbeat_age_.Add({{"instance", instance}}).Set(seconds);
}
void Metrics::RunFinished(const std::string& phase) { runs_finished_.Add({{"phase", phase}}).Increment(); }
void Metrics::Prediction(const std::string& source) { predictions_.Add({{"source", source}}).Increment(); }
void Metrics::Preemption() { preemptions_.Increment(); }
void Metrics::SetLeader(bool leader) { leader_.Set(leader ? 1 : 0); }
void Metrics::HistoryRecord(bool ok) { history_records_.Add({{"result", ok ? "ok" : "error"}}).Increment(); }

}  // namespace prescient::controller
