// The agent process: wires the informer on CommandRuns labelled prescient.dev/instance=<instance>
// in its namespace to the RunController through one loop thread, and does the periodic duties
// (heartbeat Lease, guest size). Startup order matters for exactly-once: the journal is recovered
// before the informer delivers its first event. Shutdown (RequestStop, e.g. on SIGTERM) drains:
// no new claims, pending final reports flushed (bounded by drain_timeout), running commands left
// to their shims for the next agent to reattach.
// Thread-safe: RequestStop from any thread (including a signal-watching thread).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/controller.h"
#include "agent/heartbeat.h"
#include "agent/metrics.h"
#include "kube/client.h"

namespace prescient::agent {

struct AgentOptions {
  AgentIdentity identity;
  ControllerOptions controller;
  std::chrono::seconds resync{30};          // re-deliver cached runs (level-based retries)
  std::chrono::seconds drain_timeout{20};
  bool enforce_guest_size = true;
};

class Agent {
 public:
  Agent(AgentOptions options, kube::Client* client, RunApi* api, ExecEnv* exec, Journal* journal, Clock* clock,
        PrometheusAgentMetrics* metrics);
  ~Agent();
  // Runs until RequestStop(); returns after draining.
  Status Run();
  void RequestStop();

 private:
  struct Event {
    bool deleted = false;
    nlohmann::json obj;
    std::chrono::steady_clock::time_point at{};  // when the watch event reached us
  };
  void Push(Event e);

  AgentOptions opt_;
  kube::Client* client_;
  RunApi* api_;
  ExecEnv* exec_;
  Journal* journal_;
  Clock* clock_;
  PrometheusAgentMetrics* metrics_;
  log::Logger log_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
  bool woken_ = false;  // a helper thread finished work for the loop (dependency warm-up)
  std::atomic<bool> stop_{false};
};

}  // namespace prescient::agent
