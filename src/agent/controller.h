// The agent's run controller: the state machine that takes a CommandRun bound to this instance
// from Allocated to a final status, exactly once. It is level-based: every event re-derives what to
// do from the object and the local journal (decision.h), and every effect goes through the Env
// interfaces (env.h), so all of it runs in unit tests against fakes.
//
//   event(Allocated, unclaimed) ─► journal Claiming ─► PUT status (RV-guarded claim) ─► journal Claimed
//     ─► warm up dependencies (helper thread) ─► Launch (cgroup + shim) ─► journal Running
//   Tick: sample ─► rate-limited usage report ─► exit? ─► journal Finished ─► final PUT (retried with
//     backoff until acknowledged) ─► journal Reported (tombstone)
//
// Not thread-safe: one loop thread (agent.h) calls OnRun/OnRunDeleted/Tick/Recover/CollectWarmUps.
// Blocking work in that thread: API writes and durable journal writes. Dependency warm-ups run on
// their own threads (at most max_concurrent_warmups at once, the rest queued) and shadow executions
// on theirs; the loop collects their results.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/decision.h"
#include "agent/env.h"
#include "agent/journal.h"
#include "common/backoff.h"
#include "common/clock.h"
#include "common/log.h"

namespace prescient::agent {

struct ControllerOptions {
  std::chrono::milliseconds sample_interval{1000};
  std::chrono::milliseconds report_interval{5000};
  size_t output_tail_bytes = 4096;
  std::chrono::milliseconds kill_grace{10000};  // SIGTERM → SIGKILL on timeout or cancel
  // SIGTERM → SIGKILL when the operator asks to stop a run (status.stopRequest) without saying
  // how long (gracePeriodSeconds).
  std::chrono::milliseconds stop_grace{30000};
  BackoffPolicy final_backoff{std::chrono::milliseconds(500), std::chrono::milliseconds(30000), 2.0, 1.0};
  int write_attempts = 5;  // status writes retried on 409 (re-read, re-apply) this many times
  int max_concurrent_warmups = 4;  // dependency warm-ups running at once (each on its own thread)
};

class RunController {
 public:
  RunController(AgentIdentity self, ControllerOptions options, RunApi* api, ExecEnv* exec, Journal* journal,
                Clock* clock, AgentMetrics* metrics = nullptr);
  ~RunController();
  RunController(const RunController&) = delete;
  RunController& operator=(const RunController&) = delete;

  // At start-up, before any event: resolve every journal entry (reattach, finalize, report Lost,
  // resend pending finals). Entries whose CommandRun cannot be read yet are retried by Tick.
  void Recover();
  // An informer add/update/resync of a CommandRun; `event_at` is when the watch event reached the
  // agent (default: now), the start of the Allocated → exec latency.
  void OnRun(const nlohmann::json& obj, std::optional<std::chrono::steady_clock::time_point> event_at = std::nullopt);
  void OnRunDeleted(const nlohmann::json& obj);
  // Sampling, timeouts, exits, rate-limited reports, pending finals, finished dependency warm-ups
  // and shadow completions.
  void Tick();
  // Called (from a helper thread) when background work finished, so the loop can call
  // CollectWarmUps() without waiting for the next tick. Set before the first event.
  void SetWakeup(std::function<void()> wake) { wake_ = std::move(wake); }
  // Asked between runs during Tick: true makes Tick return early (events are waiting); the next
  // Tick continues where it stopped (TickUnfinished), so no run is sampled twice in a row.
  void SetYield(std::function<bool()> yield) { yield_ = std::move(yield); }
  bool TickUnfinished() const { return !tick_queue_.empty(); }
  // Launches the runs whose dependency warm-up finished (or finishes them when it failed).
  void CollectWarmUps();
  // Runs claimed and still warming up their dependencies.
  size_t WarmingCount() const;
  // Stop claiming new runs (SIGTERM). Running commands keep running under their shims.
  void BeginDrain() { draining_ = true; }
  bool draining() const { return draining_; }
  // True when no final report is waiting for the API (drain may end).
  bool FinalsFlushed() const;
  // Runs supervised now (running or with a pending final).
  size_t ActiveCount() const { return active_.size(); }
  size_t RunningCount() const;
  // UIDs whose journal entries still need the API to be resolved.
  size_t UnresolvedCount() const { return unresolved_.size(); }
  // Lets the loop wake exactly when the next thing is due (never longer than the sample interval).
  std::chrono::milliseconds NextTickIn() const;

 private:
  struct Active;
  struct ShadowJob;
  // Where the time between a watch event and the launch goes (logged with "started").
  struct LaunchTiming {
    std::chrono::steady_clock::time_point received;
    double queue_ms = 0, journal_ms = 0, claim_ms = 0;
  };

  void HandleParsed(const nlohmann::json& obj, const RunView& run, std::chrono::steady_clock::time_point received);
  void Refuse(const nlohmann::json& obj, const RunView& md, const std::string& why);
  void ClaimAndStart(nlohmann::json obj, const RunView& run, std::chrono::steady_clock::time_point received);
  // After a successful claim (or on recovery of our own claim): warm up and launch.
  void StartClaimed(const nlohmann::json& obj, const RunView& run, JournalEntry entry,
                    std::optional<LaunchTiming> timing);
  void LaunchClaimed(Active& a, const RunView& run, std::optional<LaunchTiming> timing);
  void StartQueuedWarmUps();
  void ApplyGrowth(Active& a, const RunView& run);
  // status.stopRequest (preemption): SIGTERM now, SIGKILL of the cgroup after the grace period; the
  // exit is then reported as phase Preempted.
  void Stop(Active& a, const RunView& run);
  void SampleAndReport(Active& a);
  void Finish(Active& a, RunResult result);
  void TryFinal(Active& a);
  void StartShadow(const nlohmann::json& obj, const RunView& run);
  void CollectShadows();
  void ResolveEntry(const JournalEntry& e);
  Status PutJournal(JournalEntry e);
  // GET-modify-PUT of status; starts from `base` when given; re-reads on 409.
  Result<nlohmann::json> WriteStatus(const std::string& ns, const std::string& name, const nlohmann::json* base,
                                     const std::function<void(nlohmann::json*)>& mutate);
  log::Logger RunLog(const std::string& ns, const std::string& name) const;

  AgentIdentity self_;
  ControllerOptions opt_;
  RunApi* api_;
  ExecEnv* exec_;
  Journal* journal_;
  Clock* clock_;
  AgentMetrics* metrics_;
  AgentMetrics null_metrics_;
  log::Logger log_;
  bool draining_ = false;
  std::map<std::string, std::unique_ptr<Active>> active_;  // by UID
  std::set<std::string> unresolved_;
  std::map<std::string, std::unique_ptr<ShadowJob>> shadows_;
  std::chrono::steady_clock::time_point next_unresolved_attempt_{};
  std::function<void()> wake_;
  std::function<bool()> yield_;
  std::deque<std::string> tick_queue_;  // runs the current Tick has not visited yet
  std::deque<std::string> warmup_queue_;  // UIDs waiting for a warm-up slot
  int warmups_running_ = 0;
  // Finished warm-ups, by UID, handed from the helper threads to the loop.
  struct WarmUpResults {
    std::mutex mu;
    std::map<std::string, std::vector<DependencyCheck>> done;
  };
  std::shared_ptr<WarmUpResults> warmup_results_ = std::make_shared<WarmUpResults>();
};

}  // namespace prescient::agent
