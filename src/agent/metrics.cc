#include "agent/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "common/startup.h"

namespace prescient::agent {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

struct PrometheusAgentMetrics::Impl {
  prometheus::Counter* started;
  prometheus::Family<prometheus::Counter>* finished;
  prometheus::Counter* refused;
  prometheus::Counter* conflicts;
  prometheus::Family<prometheus::Histogram>* writes;
  prometheus::Histogram* to_exec;
  prometheus::Counter* sampling;
  prometheus::Gauge* active;
  prometheus::Gauge* hb_age;
  prometheus::Gauge* hb_last;
};

PrometheusAgentMetrics::PrometheusAgentMetrics()
    : registry_(std::make_shared<prometheus::Registry>()), impl_(std::make_unique<Impl>()) {
  auto& r = *registry_;
  impl_->started = &BuildCounter().Name("prescient_agent_runs_started_total").Help("Commands started by this agent.").Register(r).Add({});
  impl_->finished = &BuildCounter().Name("prescient_agent_runs_finished_total").Help("Runs finished, by result reason.").Register(r);
  impl_->refused = &BuildCounter().Name("prescient_agent_runs_refused_total").Help("Runs refused (invalid or without allocation).").Register(r).Add({});
  impl_->conflicts = &BuildCounter().Name("prescient_agent_claim_conflicts_total").Help("Claims that lost a resourceVersion race.").Register(r).Add({});
  impl_->writes = &BuildHistogram().Name("prescient_agent_status_write_duration_seconds").Help("Latency of CommandRun status writes (reports, claims, finals).").Register(r);
  impl_->to_exec = &BuildHistogram().Name("prescient_agent_allocated_to_exec_seconds").Help("From the Allocated watch event to the command's exec.").Register(r).Add(
      {}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5});
  impl_->sampling = &BuildCounter().Name("prescient_agent_sampling_cpu_seconds_total").Help("CPU time the agent spent sampling runs.").Register(r).Add({});
  impl_->active = &BuildGauge().Name("prescient_agent_active_runs").Help("Runs supervised now (running or with a pending final report).").Register(r).Add({});
  impl_->hb_age = &BuildGauge().Name("prescient_agent_heartbeat_age_seconds").Help("Seconds since the heartbeat Lease was last renewed.").Register(r).Add({});
  impl_->hb_last = &BuildGauge().Name("prescient_agent_heartbeat_last_renew_timestamp_seconds").Help("Unix time of the last Lease renewal.").Register(r).Add({});
}

PrometheusAgentMetrics::~PrometheusAgentMetrics() = default;

Status PrometheusAgentMetrics::Serve(const std::string& bind_address) {
  auto exposer = ServeMetrics(bind_address, registry_);
  if (!exposer.ok()) return exposer.status();
  exposer_ = std::move(*exposer);
  return Status::Ok();
}

void PrometheusAgentMetrics::RunStarted() { impl_->started->Increment(); }
void PrometheusAgentMetrics::RunFinished(const std::string& reason) { impl_->finished->Add({{"reason", reason}}).Increment(); }
void PrometheusAgentMetrics::RunRefused() { impl_->refused->Increment(); }
void PrometheusAgentMetrics::ClaimConflict() { impl_->conflicts->Increment(); }
void PrometheusAgentMetrics::StatusWrite(double seconds, bool ok) {
  impl_->writes
      ->Add({{"result", ok ? "ok" : "error"}},
            prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5})
      .Observe(seconds);
}
void PrometheusAgentMetrics::AllocatedToExec(double seconds) { impl_->to_exec->Observe(seconds); }
void PrometheusAgentMetrics::SamplingCpu(double seconds) { impl_->sampling->Increment(seconds); }
void PrometheusAgentMetrics::ActiveRuns(int n) { impl_->active->Set(n); }
void PrometheusAgentMetrics::HeartbeatRenewed(double unix_seconds) { impl_->hb_last->Set(unix_seconds); }
void PrometheusAgentMetrics::HeartbeatAge(double seconds) { impl_->hb_age->Set(seconds); }

}  // namespace prescient::agent
