// The agent's own Prometheus metrics (prometheus-cpp), served on --metrics-bind-address:
//   prescient_agent_runs_started_total, prescient_agent_runs_finished_total{reason},
//   prescient_agent_runs_refused_total, prescient_agent_claim_conflicts_total,
//   prescient_agent_status_write_duration_seconds{result} (report latency),
//   prescient_agent_allocated_to_exec_seconds, prescient_agent_sampling_cpu_seconds_total
//   (the agent's own CPU spent sampling), prescient_agent_active_runs,
//   prescient_agent_heartbeat_age_seconds, prescient_agent_heartbeat_last_renew_timestamp_seconds.
// Thread-safe (prometheus-cpp metrics are).
#pragma once

#include <memory>
#include <string>

#include "agent/env.h"
#include "common/status.h"

namespace prometheus {
class Registry;
class Exposer;
}  // namespace prometheus

namespace prescient::agent {

class PrometheusAgentMetrics : public AgentMetrics {
 public:
  PrometheusAgentMetrics();
  ~PrometheusAgentMetrics() override;
  // Serves /metrics on "host:port" (":9090" = all interfaces). Empty or "0" = not served.
  Status Serve(const std::string& bind_address);

  void RunStarted() override;
  void RunFinished(const std::string& reason) override;
  void RunRefused() override;
  void ClaimConflict() override;
  void StatusWrite(double seconds, bool ok) override;
  void AllocatedToExec(double seconds) override;
  void SamplingCpu(double seconds) override;
  void ActiveRuns(int n) override;
  void HeartbeatRenewed(double unix_seconds) override;
  void HeartbeatAge(double seconds);
  prometheus::Registry& registry() { return *registry_; }

 private:
  struct Impl;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace prescient::agent
