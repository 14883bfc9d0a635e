#include "agent/controller.h"

#include <time.h>

#include <algorithm>
#include <csignal>

namespace prescient::agent {
namespace {

using nlohmann::json;
using SteadyTp = std::chrono::steady_clock::time_point;

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string DependencyMessage(const std::vector<DependencyCheck>& checks) {
  std::string msg;
  for (auto& c : checks) {
    if (!msg.empty()) msg += "; ";
    char buf[96];
    snprintf(buf, sizeof buf, " (resolve %.1f ms, connect %.1f ms)", c.resolve_ms, c.connect_ms);
    msg += c.dep.host + ":" + std::to_string(c.dep.port) + (c.ok ? buf : " failed: " + c.error);
  }
  return msg;
}

}  // namespace

struct RunController::Active {
  std::string uid, ns, name;
  json obj;  // the latest CommandRun we saw or wrote (carries the resourceVersion for the next PUT)
  JournalEntry entry;
  Allocation applied;
  std::optional<SteadyTp> last_report;
  std::optional<Usage> last_reported;
  bool force_report = true;
  std::vector<Condition> pending_conditions;
  bool started_reported = false;
  Usage usage;
  std::optional<double> prev_cpu;
  SteadyTp prev_sample_at{};
  std::optional<SteadyTp> started_mono;
  bool timed_out = false;
  bool cancelled = false;
  // Stopped at the operator's request (status.stopRequest): the exit is reported Preempted.
  bool preempted = false;
  std::string stop_message;
  std::optional<std::chrono::milliseconds> kill_grace;  // absent: ControllerOptions::kill_grace
  std::optional<SteadyTp> term_sent;
  bool kill_sent = false;
  // Pending final report.
  bool finishing = false;
  RunResult result;
  Backoff backoff;
  SteadyTp next_attempt{};
  // Claimed, dependencies warming up off the loop thread; launched when `warmup` is ready.
  bool warming = false;
  std::optional<RunView> pending_run;
  std::optional<LaunchTiming> timing;
  std::future<void> warmup;
  explicit Active(const BackoffPolicy& p) : backoff(p) {}
};

struct RunController::ShadowJob {
  std::string ns, name;
  std::future<Result<ShadowResult>> future;
};

RunController::RunController(AgentIdentity self, ControllerOptions options, RunApi* api, ExecEnv* exec,
                             Journal* journal, Clock* clock, AgentMetrics* metrics)
    : self_(std::move(self)),
      opt_(options),
      api_(api),
      exec_(exec),
      journal_(journal),
      clock_(clock),
      metrics_(metrics ? metrics : &null_metrics_),
      log_("agent", {{"instance", self_.instance}}) {}

RunController::~RunController() {
  // Shadow threads must not outlive the Env they use.
  for (auto& [uid, job] : shadows_)
    if (job->future.valid()) job->future.wait();
}

log::Logger RunController::RunLog(const std::string& ns, const std::string& name) const {
  return log_.With({{"namespace", ns}, {"name", name}});
}

Status RunController::PutJournal(JournalEntry e) {
  e.updated_at = FormatRfc3339(clock_->Now());
  return journal_->Put(e);
}

Result<json> RunController::WriteStatus(const std::string& ns, const std::string& name, const json* base,
                                        const std::function<void(json*)>& mutate) {
  json obj;
  if (base && base->is_object() && !base->empty()) {
    obj = *base;
  } else {
    auto got = api_->GetRun(ns, name);
    if (!got.ok()) return got.status();
    obj = std::move(*got);
  }
  Status last;
  for (int attempt = 0; attempt < opt_.write_attempts; ++attempt) {
    json next = obj;
    mutate(&next);
    auto t0 = clock_->Monotonic();
    auto r = api_->UpdateRunStatus(next);
    metrics_->StatusWrite(Seconds(clock_->Monotonic() - t0), r.ok());
    if (r.ok()) return r;
    last = r.status();
    if (last.code() != Code::kConflict) return last;
    auto got = api_->GetRun(ns, name);
    if (!got.ok()) return got.status();
    obj = std::move(*got);
  }
  return last;
}

void RunController::OnRun(const json& obj, std::optional<SteadyTp> event_at) {
  SteadyTp received = event_at.value_or(clock_->Monotonic());
  auto run = ParseRun(obj);
  if (run.ok()) {
    HandleParsed(obj, *run, received);
    return;
  }
  auto md = ParseRunMetadata(obj);
  if (!md.ok()) {
    log_.Warn("ignoring an unreadable CommandRun", {{"error", md.status().message()}});
    return;
  }
  LocalRunState local;
  local.journaled = journal_->Get(md->uid).has_value();
  local.active = active_.count(md->uid) > 0;
  std::string phase = obj.contains("status") && obj["status"].is_object() ? obj["status"].value("phase", "") : "";
  RunDecision d = DecideInvalidRun(*md, run.status().message(), local, self_, phase);
  if (d.action == RunAction::kRefuse) {
    Refuse(obj, *md, d.reason);
  } else {
    RunLog(md->ns, md->name).Debug("invalid CommandRun ignored", {{"why", d.reason}});
  }
}

void RunController::OnRunDeleted(const json& obj) {
  auto md = ParseRunMetadata(obj);
  if (!md.ok()) return;
  auto it = active_.find(md->uid);
  if (it == active_.end() || it->second->finishing) return;
  Active& a = *it->second;
  if (a.warming) {
    a.cancelled = true;  // CollectWarmUps finishes it instead of launching
    return;
  }
  if (!a.term_sent) {
    RunLog(a.ns, a.name).Info("CommandRun deleted while running: stopping the command");
    a.cancelled = true;
    exec_->Signal(a.uid, SIGTERM);
    a.term_sent = clock_->Monotonic();
  }
}

void RunController::HandleParsed(const json& obj, const RunView& run, SteadyTp received) {
  LocalRunState local;
  auto journaled = journal_->Get(run.uid);
  local.journaled = journaled.has_value() || unresolved_.count(run.uid) > 0;
  if (journaled) {
    local.journal_attempt = journaled->attempt;
    local.journal_reported = journaled->state == JournalState::kReported && unresolved_.count(run.uid) == 0;
  }
  auto it = active_.find(run.uid);
  if (it != active_.end() && !it->second->finishing) {
    local.active = true;
    local.applied = it->second->applied;
    local.stopping = it->second->preempted;
    if (it->second->warming) {
      // Not launched yet: the launch uses the newest allocation, or does not happen once deleted
      // or asked to stop.
      if (run.allocation && it->second->pending_run) it->second->pending_run->allocation = run.allocation;
      if (run.deleting) it->second->cancelled = true;
      if (run.stop_request && !it->second->preempted) {
        it->second->cancelled = true;
        it->second->preempted = true;
        it->second->stop_message = StopMessage(*run.stop_request) + " before the command started";
      }
      it->second->obj = obj;
      return;
    }
    // Keep the newest object so the next write carries a fresh resourceVersion.
    it->second->obj = obj;
  }
  local.shadow_active = shadows_.count(run.uid) > 0;
  RunDecision d = DecideRun(run, local, self_);
  auto log = RunLog(run.ns, run.name);
  switch (d.action) {
    case RunAction::kIgnore:
      log.Debug("event ignored", {{"why", d.reason}, {"phase", run.phase}});
      return;
    case RunAction::kRefuse:
      Refuse(obj, run, d.reason);
      return;
    case RunAction::kClaim:
      if (draining_) {
        log.Info("draining: not claiming new runs");
        return;
      }
      ClaimAndStart(obj, run, received);
      return;
    case RunAction::kApplyGrowth:
      ApplyGrowth(*it->second, run);
      return;
    case RunAction::kShadow:
      if (draining_) return;
      StartShadow(obj, run);
      return;
    case RunAction::kCancel:
      OnRunDeleted(obj);
      return;
    case RunAction::kStop:
      Stop(*it->second, run);
      return;
  }
}

void RunController::Refuse(const json& obj, const RunView& md, const std::string& why) {
  auto log = RunLog(md.ns, md.name);
  log.Warn("refusing CommandRun", {{"why", why}});
  RunResult r;
  r.reason = "Refused";
  r.message = why;
  r.finished_at = FormatRfc3339(clock_->Now());
  auto w = WriteStatus(md.ns, md.name, &obj, [&](json* o) {
    // Never overwrite a run somebody else claimed or finished meanwhile.
    const json& st = (*o).contains("status") ? (*o)["status"] : json::object();
    if (st.is_object() && ((st.contains("agent") && st["agent"].is_object() && !st["agent"].empty()) ||
                           st.value("phase", "") == "Succeeded" || st.value("phase", "") == "Failed"))
      return;
    ApplyResult(o, r);
  });
  if (!w.ok()) {
    // Level-based: the next event or resync decides again.
    log.Error("could not write the refusal; will retry on the next event", {{"error", w.status().ToString()}});
    return;
  }
  metrics_->RunRefused();
}

void RunController::ClaimAndStart(json obj, const RunView& run, SteadyTp received) {
  auto log = RunLog(run.ns, run.name);
  JournalEntry e;
  e.uid = run.uid;
  e.ns = run.ns;
  e.name = run.name;
  e.state = JournalState::kClaiming;
  e.agent_pid = self_.pid;
  e.boot_id = self_.boot_id;
  e.timeout_seconds = run.timeout_seconds;
  e.attempt = run.preemptions;
  LaunchTiming timing;
  timing.received = received;
  SteadyTp t_journal = clock_->Monotonic();
  timing.queue_ms = Seconds(t_journal - received) * 1000;
  if (auto st = PutJournal(e); !st.ok()) {
    log.Error("cannot journal the claim; not claiming", {{"error", st.ToString()}});
    return;
  }
  timing.journal_ms = Seconds(clock_->Monotonic() - t_journal) * 1000;
  Claim claim;
  claim.instance = self_.instance;
  claim.claimed_at = FormatRfc3339(clock_->Now());
  claim.hostname = self_.hostname;
  claim.boot_id = self_.boot_id;
  claim.pid = self_.pid;
  RunView current = run;
  for (int attempt = 0; attempt < opt_.write_attempts; ++attempt) {
    json next = obj;
    ApplyClaim(&next, claim);
    auto t0 = clock_->Monotonic();
    auto r = api_->UpdateRunStatus(next);
    metrics_->StatusWrite(Seconds(clock_->Monotonic() - t0), r.ok());
    if (r.ok()) {
      // No journal write here: the API now records the claim, and recovery recognises it as ours
      // by the pid and boot ID journaled in the Claiming entry (one fsync less before exec).
      timing.claim_ms += Seconds(clock_->Monotonic() - t0) * 1000;
      log.Info("claimed", {{"resourceVersion", (*r)["metadata"].value("resourceVersion", "")}});
      auto claimed = ParseRun(*r);
      StartClaimed(*r, claimed.ok() ? *claimed : current, e, timing);
      return;
    }
    timing.claim_ms += Seconds(clock_->Monotonic() - t0) * 1000;
    if (r.status().code() != Code::kConflict) {
      // The claim may or may not have landed: recovery decides from what the API shows.
      log.Warn("claim write failed; resolving later", {{"error", r.status().ToString()}});
      unresolved_.insert(e.uid);
      return;
    }
    metrics_->ClaimConflict();
    auto got = api_->GetRun(run.ns, run.name);
    if (!got.ok()) {
      unresolved_.insert(e.uid);
      return;
    }
    auto fresh = ParseRun(*got);
    if (!fresh.ok() || fresh->claim || fresh->phase != "Allocated" || fresh->uid != run.uid) {
      log.Info("claim lost: the run changed first", {{"claimedBy", fresh.ok() && fresh->claim ? fresh->claim->instance : ""},
                                                     {"phase", fresh.ok() ? fresh->phase : ""}});
      bool taken_or_done = !fresh.ok() || fresh->claim || fresh->uid != run.uid || fresh->phase == "Succeeded" ||
                           fresh->phase == "Failed";
      if (taken_or_done) {
        e.state = JournalState::kReported;  // tombstone: never claim this UID again
        PutJournal(e);
      } else {
        // Nobody holds it and it is not finished: the operator took the allocation back first (a
        // preemption, a lost-agent requeue). Nothing ran, so forget the claim attempt: when the run is
        // allocated here again, the next event claims it afresh.
        journal_->Remove(e.uid);
      }
      return;
    }
    obj = std::move(*got);
    current = *fresh;
  }
  log.Warn("claim kept conflicting; resolving later");
  unresolved_.insert(e.uid);
}

void RunController::StartClaimed(const json& obj, const RunView& run, JournalEntry e,
                                 std::optional<LaunchTiming> timing) {
  auto a = std::make_unique<Active>(opt_.final_backoff);
  a->uid = run.uid;
  a->ns = run.ns;
  a->name = run.name;
  a->obj = obj;
  a->entry = e;
  Active& ref = *a;
  active_[run.uid] = std::move(a);
  metrics_->ActiveRuns(static_cast<int>(active_.size()));

  if (!run.allocation) {
    Finish(ref, RunResult{std::nullopt, std::nullopt, false, "Refused", "claimed without status.allocation", "", "", ""});
    return;
  }
  if (!run.dependencies.empty()) {
    // Warm-up (DNS + TCP connect, seconds when a dependency is slow) runs off the loop thread; the
    // launch continues in CollectWarmUps once it is done.
    ref.warming = true;
    ref.pending_run = run;
    ref.timing = timing;
    warmup_queue_.push_back(run.uid);
    StartQueuedWarmUps();
    return;
  }
  ref.pending_conditions.push_back({"DependenciesReady", "True", "NoDependencies", "no dependencies to warm up"});
  LaunchClaimed(ref, run, timing);
}

void RunController::StartQueuedWarmUps() {
  while (warmups_running_ < std::max(1, opt_.max_concurrent_warmups) && !warmup_queue_.empty()) {
    std::string uid = warmup_queue_.front();
    warmup_queue_.pop_front();
    auto it = active_.find(uid);
    if (it == active_.end() || !it->second->warming) continue;
    Active& a = *it->second;
    ExecEnv* exec = exec_;
    std::vector<Dependency> deps = a.pending_run->dependencies;
    std::function<void()> wake = wake_;
    std::shared_ptr<WarmUpResults> results = warmup_results_;
    // The result goes to the mailbox before the wake-up, so the woken loop always finds it.
    a.warmup = std::async(std::launch::async, [exec, deps, wake, results, uid]() {
      auto checks = exec->WarmUp(deps);
      {
        std::lock_guard<std::mutex> l(results->mu);
        results->done[uid] = std::move(checks);
      }
      if (wake) wake();
    });
    ++warmups_running_;
  }
}

void RunController::CollectWarmUps() {
  std::map<std::string, std::vector<DependencyCheck>> done;
  {
    std::lock_guard<std::mutex> l(warmup_results_->mu);
    done.swap(warmup_results_->done);
  }
  for (auto& [uid, checks] : done) {
    --warmups_running_;
    auto it = active_.find(uid);
    if (it == active_.end() || !it->second->warming) continue;
    Active& ref = *it->second;
    ref.warmup.get();  // the thread has delivered; join it
    ref.warming = false;
    RunView run = *ref.pending_run;
    ref.pending_run.reset();
    auto log = RunLog(run.ns, run.name);
    bool ok = checks.size() == run.dependencies.size() &&
              std::all_of(checks.begin(), checks.end(), [](const DependencyCheck& c) { return c.ok; });
    Condition c{"DependenciesReady", ok ? "True" : "False", ok ? "Resolved" : "DependencyFailed",
                DependencyMessage(checks)};
    ref.pending_conditions.push_back(c);
    if (ref.cancelled) {
      RunResult r;
      r.reason = "Error";
      r.message = "cancelled: the CommandRun was deleted before the command started";
      if (ref.preempted) r = PreemptedResult(r, ref.stop_message);
      Finish(ref, r);
      continue;
    }
    if (!ok) {
      log.Warn("dependency warm-up failed", {{"message", c.message}});
      RunResult r;
      r.reason = "DependencyFailed";
      r.message = c.message;
      Finish(ref, r);
      continue;
    }
    log.Info("dependencies ready", {{"message", c.message}});
    LaunchClaimed(ref, run, ref.timing);
  }
  StartQueuedWarmUps();
}

void RunController::LaunchClaimed(Active& ref, const RunView& run, std::optional<LaunchTiming> timing) {
  auto log = RunLog(run.ns, run.name);
  std::optional<SteadyTp> received;
  if (timing) received = timing->received;
  JournalEntry e = ref.entry;
  // No journal write before the launch: the run's cgroup is the launch mark (DecideRecovery).
  e.applied = *run.allocation;
  ref.entry = e;
  LaunchSpec spec{run.uid, run.ns, run.name, run.Argv(), run.env, run.working_dir, *run.allocation};
  SteadyTp t_launch = clock_->Monotonic();
  auto launched = exec_->Launch(spec);
  double launch_ms = Seconds(clock_->Monotonic() - t_launch) * 1000;
  if (!launched.ok()) {
    log.Error("launch failed", {{"error", launched.status().ToString()}});
    RunResult r;
    r.reason = "Error";
    r.message = "could not start the command: " + launched.status().message();
    Finish(ref, r);
    return;
  }
  double to_exec_ms = received ? Seconds(clock_->Monotonic() - *received) * 1000 : -1;
  if (received) metrics_->AllocatedToExec(to_exec_ms / 1000);
  metrics_->RunStarted();
  e.state = JournalState::kRunning;
  e.shim_pid = launched->shim_pid;
  e.cgroup = launched->cgroup;
  e.started_at = launched->started_at;
  ref.entry = e;
  ref.applied = *run.allocation;
  ref.started_mono = clock_->Monotonic();
  ref.force_report = true;
  if (launched->unenforced.empty()) {
    ref.pending_conditions.push_back(
        {"LimitsEnforced", "True", "Enforced", "the allocation is enforced by cgroup " + launched->cgroup});
  } else {
    std::string msg;
    for (const auto& u : launched->unenforced) msg += (msg.empty() ? "" : "; ") + u;
    log.Warn("parts of the allocation cannot be enforced on this guest", {{"unenforced", msg}});
    ref.pending_conditions.push_back({"LimitsEnforced", "False", "PartiallyEnforced",
                                      "CPU and memory are enforced; not enforced: " + msg});
  }
  if (auto st = PutJournal(e); !st.ok()) {
    // The command runs; if we die now recovery sees Launching + a live cgroup and reattaches.
    log.Error("cannot journal the running state", {{"error", st.ToString()}});
  }
  json fields = {{"cgroup", e.cgroup}, {"shimPid", e.shim_pid}, {"argv0", spec.argv.empty() ? "" : spec.argv[0]}};
  if (timing) {
    // Where the time from the watch event to the shim went (agent_bench reads these).
    auto event_wall = clock_->Now() - std::chrono::duration_cast<std::chrono::system_clock::duration>(clock_->Monotonic() - timing->received);
    fields["eventUnixNs"] = std::chrono::duration_cast<std::chrono::nanoseconds>(event_wall.time_since_epoch()).count();
    fields["eventToShimMs"] = to_exec_ms;
    fields["queueMs"] = timing->queue_ms;
    fields["journalMs"] = timing->journal_ms;
    fields["claimMs"] = timing->claim_ms;
    fields["launchMs"] = launch_ms;
  }
  log.Info("started", fields);
}

void RunController::ApplyGrowth(Active& a, const RunView& run) {
  auto log = RunLog(a.ns, a.name);
  Status st = exec_->SetLimits(a.uid, *run.allocation);
  if (!st.ok()) {
    log.Error("cannot apply the new allocation to the live cgroup", {{"error", st.ToString()}});
    return;  // the next event retries
  }
  log.Info("allocation applied to the live cgroup",
           {{"cpuMilli", run.allocation->cpu_milli}, {"memoryBytes", run.allocation->memory_bytes}});
  a.applied = *run.allocation;
  a.entry.applied = a.applied;
  PutJournal(a.entry);
  a.force_report = true;
}

void RunController::Stop(Active& a, const RunView& run) {
  auto log = RunLog(a.ns, a.name);
  const StopRequest& req = *run.stop_request;
  std::chrono::milliseconds grace =
      req.grace_seconds ? std::chrono::milliseconds(std::chrono::seconds(*req.grace_seconds)) : opt_.stop_grace;
  a.preempted = true;
  a.stop_message = StopMessage(req);
  SteadyTp now = clock_->Monotonic();
  if (a.term_sent) {
    // Already terminating (timeout, deletion): keep that SIGTERM, end it no later than asked.
    a.kill_grace = std::min(a.kill_grace.value_or(opt_.kill_grace), grace);
  } else {
    a.kill_grace = grace;
    exec_->Signal(a.uid, SIGTERM);
    a.term_sent = now;
  }
  log.Info("stop requested: SIGTERM sent, SIGKILL after the grace period",
           {{"reason", req.reason}, {"requestedBy", req.requested_by},
            {"graceMs", static_cast<int64_t>(a.kill_grace->count())}});
}

void RunController::SampleAndReport(Active& a) {
  auto log = RunLog(a.ns, a.name);
  SteadyTp now = clock_->Monotonic();
  double cpu0 = ThreadCpuSeconds();
  auto s = exec_->SampleRun(a.uid);
  metrics_->SamplingCpu(ThreadCpuSeconds() - cpu0);
  if (s.ok()) {
    Usage& u = a.usage;
    if (a.prev_cpu && now > a.prev_sample_at) {
      double cores = (s->cpu_seconds - *a.prev_cpu) / Seconds(now - a.prev_sample_at);
      u.peak_cores = std::max(u.peak_cores, cores);
    }
    a.prev_cpu = s->cpu_seconds;
    a.prev_sample_at = now;
    u.cpu_seconds = std::max(u.cpu_seconds, s->cpu_seconds);
    u.memory_current_bytes = s->memory_current;
    u.memory_peak_bytes = std::max({u.memory_peak_bytes, s->memory_peak, s->memory_current});
    u.anon_peak_bytes = std::max(u.anon_peak_bytes, s->anon_current);
    u.throttled_usec = s->throttled_usec;
    u.nr_throttled = s->nr_throttled;
    u.io_read_bytes = s->io_read_bytes;
    u.io_write_bytes = s->io_write_bytes;
    u.net_rx_bytes = s->net_rx_bytes;
    u.net_tx_bytes = s->net_tx_bytes;
    u.network_scope = s->network_scope;
    u.oom_kills = std::max(u.oom_kills, s->oom_kills);
  }
  // Dependency learning: endpoints accumulate over the run.
  for (auto& ep : exec_->Endpoints(a.uid))
    if (std::find(a.usage.endpoints.begin(), a.usage.endpoints.end(), ep) == a.usage.endpoints.end())
      a.usage.endpoints.push_back(ep);

  if (auto exit = exec_->PollExit(a.uid)) {
    // Sample once more: an OOM kill may have happened after the sample above.
    if (auto last = exec_->SampleRun(a.uid); last.ok()) {
      a.usage.oom_kills = std::max(a.usage.oom_kills, last->oom_kills);
      a.usage.cpu_seconds = std::max(a.usage.cpu_seconds, last->cpu_seconds);
      a.usage.memory_peak_bytes = std::max(a.usage.memory_peak_bytes, last->memory_peak);
      a.usage.anon_peak_bytes = std::max(a.usage.anon_peak_bytes, last->anon_current);
      a.usage.io_read_bytes = std::max(a.usage.io_read_bytes, last->io_read_bytes);
      a.usage.io_write_bytes = std::max(a.usage.io_write_bytes, last->io_write_bytes);
    }
    a.usage.anon_peak_bytes = std::max(a.usage.anon_peak_bytes, exit->max_rss_bytes);
    RunResult r = ResultFromExit(*exit, a.usage.oom_kills, a.timed_out);
    if (a.cancelled && r.reason != "Completed") r.message = "cancelled: the CommandRun was deleted";
    if (a.preempted) r = PreemptedResult(r, a.stop_message);
    Finish(a, r);
    return;
  }
  bool has_processes = s.ok() && s->has_processes;
  if (!has_processes && !exec_->Alive(a.uid, a.entry.shim_pid)) {
    // Re-check: the shim may have written its record between the two calls.
    if (auto exit = exec_->PollExit(a.uid)) {
      RunResult r = ResultFromExit(*exit, a.usage.oom_kills, a.timed_out);
      Finish(a, a.preempted ? PreemptedResult(r, a.stop_message) : r);
      return;
    }
    RunResult r;
    r.reason = "Lost";
    r.message = "the command's supervisor disappeared without recording an exit status";
    // Asked to stop and nothing runs any more: what the operator asked for happened.
    if (a.preempted) r = PreemptedResult(r, a.stop_message + "; the supervisor left no exit status");
    Finish(a, r);
    return;
  }
  // Timeout and cancellation: SIGTERM, then SIGKILL after the grace period.
  if (a.started_mono && a.entry.timeout_seconds > 0 && !a.term_sent &&
      now - *a.started_mono >= std::chrono::seconds(a.entry.timeout_seconds)) {
    log.Info("timeout: sending SIGTERM", {{"timeoutSeconds", a.entry.timeout_seconds}});
    a.timed_out = true;
    exec_->Signal(a.uid, SIGTERM);
    a.term_sent = now;
  }
  if (a.term_sent && !a.kill_sent && now - *a.term_sent >= a.kill_grace.value_or(opt_.kill_grace)) {
    log.Info("grace period over: sending SIGKILL to the run's cgroup");
    exec_->Signal(a.uid, SIGKILL);
    a.kill_sent = true;
  }

  if (!ReportDue(a.last_report, now, opt_.report_interval, a.force_report)) return;
  // Idle runs (a sleep, a blocked wait) would otherwise cost a write every interval for nothing:
  // unchanged usage goes out only as a keep-alive, every 6 intervals.
  if (!a.force_report && a.last_reported && !UsageChanged(*a.last_reported, a.usage) &&
      now - *a.last_report < 6 * opt_.report_interval)
    return;
  Usage usage = a.usage;
  auto conditions = a.pending_conditions;
  Allocation applied = a.applied;
  std::string started_at = a.entry.started_at;
  Clock::TimePoint wall = clock_->Now();
  std::string cgroup = a.entry.cgroup;
  auto w = WriteStatus(a.ns, a.name, &a.obj, [&](json* o) {
    ApplyUsage(o, usage, wall);
    ApplyAppliedAllocation(o, applied);
    if (!cgroup.empty()) (*o)["status"]["agent"]["cgroup"] = cgroup;
    if (!started_at.empty()) ApplyStartedAt(o, started_at);
    for (auto& c : conditions) ApplyCondition(o, c, wall);
  });
  a.last_report = now;
  if (!w.ok()) {
    if (w.status().code() == Code::kNotFound) {
      log.Info("CommandRun deleted while running: stopping the command");
      a.cancelled = true;
      if (!a.term_sent) {
        exec_->Signal(a.uid, SIGTERM);
        a.term_sent = now;
      }
      return;
    }
    log.Warn("usage report failed; next one at the report interval", {{"error", w.status().ToString()}});
    return;
  }
  a.obj = std::move(*w);
  a.last_reported = usage;
  a.force_report = false;
  a.pending_conditions.clear();
}

void RunController::Finish(Active& a, RunResult result) {
  auto log = RunLog(a.ns, a.name);
  result.started_at = a.entry.started_at;
  if (result.finished_at.empty()) result.finished_at = FormatRfc3339(clock_->Now());
  if (!a.entry.started_at.empty() || a.entry.state == JournalState::kRunning ||
      a.entry.state == JournalState::kLaunching) {
    result.output_tail = exec_->OutputTail(a.uid, opt_.output_tail_bytes);
    for (auto& ep : exec_->Endpoints(a.uid))
      if (std::find(a.usage.endpoints.begin(), a.usage.endpoints.end(), ep) == a.usage.endpoints.end())
        a.usage.endpoints.push_back(ep);
  }
  a.finishing = true;
  a.result = result;
  a.entry.state = JournalState::kFinished;
  a.entry.result = result;
  a.entry.usage = a.usage;
  if (auto st = PutJournal(a.entry); !st.ok())
    log.Error("cannot journal the final report; sending it anyway", {{"error", st.ToString()}});
  log.Info("finished", {{"reason", result.reason},
                        {"exitCode", result.exit_code ? *result.exit_code : -1},
                        {"oomKilled", result.oom_killed}});
  metrics_->RunFinished(result.reason);
  a.next_attempt = clock_->Monotonic();
  TryFinal(a);
}

void RunController::TryFinal(Active& a) {
  auto log = RunLog(a.ns, a.name);
  Usage usage = a.usage;
  RunResult result = a.result;
  auto conditions = a.pending_conditions;
  Clock::TimePoint wall = clock_->Now();
  bool ran = !a.entry.started_at.empty();
  int64_t attempt = a.entry.attempt;
  auto w = WriteStatus(a.ns, a.name, &a.obj, [&](json* o) {
    // The operator re-queued the run after this attempt's Preempted report was stored (its
    // acknowledgement was lost): the report is delivered; nothing is written over the next attempt.
    const json& st = o->contains("status") ? (*o)["status"] : json();
    if (st.is_object() && st.value("preemptions", int64_t{0}) > attempt) return;
    if (ran) ApplyUsage(o, usage, wall);
    for (auto& c : conditions) ApplyCondition(o, c, wall);
    ApplyResult(o, result);
  });
  if (!w.ok() && w.status().code() != Code::kNotFound) {
    auto delay = a.backoff.Next();
    a.next_attempt = clock_->Monotonic() + delay;
    log.Warn("final report failed; kept in the journal and retried",
             {{"error", w.status().ToString()}, {"retryInMs", delay.count()}, {"attempt", a.backoff.attempts()}});
    return;
  }
  if (!w.ok()) log.Info("CommandRun is gone; dropping its final report");
  a.entry.state = JournalState::kReported;
  a.entry.usage.reset();
  if (a.entry.result) a.entry.result->output_tail.clear();
  if (auto st = PutJournal(a.entry); !st.ok())
    log.Error("cannot journal the acknowledgement (the final report will be resent, harmlessly)",
              {{"error", st.ToString()}});
  if (!a.entry.cgroup.empty() || !a.entry.started_at.empty()) {
    if (auto st = exec_->Cleanup(a.uid); !st.ok()) log.Warn("cleanup failed", {{"error", st.ToString()}});
  }
  std::string uid = a.uid;
  active_.erase(uid);  // `a` is gone after this line
  metrics_->ActiveRuns(static_cast<int>(active_.size()));
}

void RunController::StartShadow(const json& obj, const RunView& run) {
  auto log = RunLog(run.ns, run.name);
  ShadowSpec spec;
  spec.uid = run.uid;
  spec.argv = run.Argv();
  spec.env = run.env;
  spec.working_dir = run.working_dir;
  spec.duration = std::chrono::seconds(std::clamp<int64_t>(run.shadow_duration_seconds, 1, 300));
  spec.allow_network = run.shadow_allow_network;
  log.Info("shadow execution starting", {{"durationSeconds", spec.duration.count()}});
  auto job = std::make_unique<ShadowJob>();
  job->ns = run.ns;
  job->name = run.name;
  ExecEnv* exec = exec_;
  job->future = std::async(std::launch::async, [exec, spec]() { return exec->Shadow(spec); });
  shadows_[run.uid] = std::move(job);
  (void)obj;
}

void RunController::CollectShadows() {
  for (auto it = shadows_.begin(); it != shadows_.end();) {
    ShadowJob& job = *it->second;
    if (job.future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      ++it;
      continue;
    }
    auto log = RunLog(job.ns, job.name);
    auto r = job.future.get();
    ShadowResult result;
    if (r.ok()) {
      result = *r;
    } else {
      result.message = "shadow execution failed: " + r.status().message();
    }
    auto w = WriteStatus(job.ns, job.name, nullptr, [&](json* o) { ApplyShadowResult(o, result); });
    if (!w.ok() && w.status().code() != Code::kNotFound) {
      log.Warn("shadow result write failed; the operator will ask again", {{"error", w.status().ToString()}});
    } else {
      log.Info("shadow result reported", {{"peakMemoryBytes", result.usage.memory_peak_bytes}});
    }
    it = shadows_.erase(it);
  }
}

void RunController::Recover() {
  for (const JournalEntry& e : journal_->All()) ResolveEntry(e);
  log_.Info("recovery done", {{"supervised", active_.size()}, {"unresolved", unresolved_.size()}});
}

void RunController::ResolveEntry(const JournalEntry& e) {
  if (active_.count(e.uid)) {
    unresolved_.erase(e.uid);
    return;
  }
  auto log = RunLog(e.ns, e.name);
  RecoveryInput in;
  in.entry = e;
  json obj;
  auto got = api_->GetRun(e.ns, e.name);
  if (got.ok()) {
    auto view = ParseRun(*got);
    if (view.ok() && view->uid == e.uid) {
      in.api = *view;
      obj = *got;
    } else if (!view.ok()) {
      // Our own run became unreadable: treat as present but never launch it again.
      auto md = ParseRunMetadata(*got);
      if (md.ok() && md->uid == e.uid) {
        in.api = *md;
        obj = *got;
      }
    }
    // A different UID under the same name is a new object: ours is gone.
  } else if (got.status().code() != Code::kNotFound) {
    log.Warn("cannot read the CommandRun for recovery; will retry", {{"error", got.status().ToString()}});
    unresolved_.insert(e.uid);
    return;
  }
  unresolved_.erase(e.uid);
  in.launch_recorded = exec_->LaunchRecorded(e.uid);
  // Every unfinished entry is probed for launch marks: a Claiming entry may have launched (the
  // launch itself writes no journal entry; see DecideRecovery).
  bool started = e.state != JournalState::kFinished && e.state != JournalState::kReported;
  std::optional<ExitRecord> exit = started ? exec_->PollExit(e.uid) : std::nullopt;
  in.exit_record = exit.has_value();
  in.cgroup_exists = started && exec_->CgroupExists(e.uid);
  in.process_alive = started && exec_->Alive(e.uid, e.shim_pid);
  RecoveryDecision d = DecideRecovery(in, self_);
  log.Info("recovering journal entry", {{"uid", e.uid}, {"state", JournalStateName(e.state)},
                                        {"action", RecoveryActionName(d.action)}, {"why", d.reason}});
  auto adopt = [&]() -> Active& {
    auto a = std::make_unique<Active>(opt_.final_backoff);
    a->uid = e.uid;
    a->ns = e.ns;
    a->name = e.name;
    a->obj = obj;
    a->entry = e;
    if (e.applied) a->applied = *e.applied;
    if (e.usage) a->usage = *e.usage;
    Clock::TimePoint started_wall;
    if (!e.started_at.empty() && ParseRfc3339(e.started_at, &started_wall))
      a->started_mono = clock_->Monotonic() - std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                  clock_->Now() - started_wall);
    Active& ref = *a;
    active_[e.uid] = std::move(a);
    metrics_->ActiveRuns(static_cast<int>(active_.size()));
    return ref;
  };
  switch (d.action) {
    case RecoveryAction::kForget:
      if (in.cgroup_exists && !in.process_alive) exec_->Cleanup(e.uid);
      journal_->Remove(e.uid);
      return;
    case RecoveryAction::kKeepTombstone:
      // The previous process may have died between the acknowledgement and the cleanup.
      if (!e.cgroup.empty() && exec_->CgroupExists(e.uid) && !exec_->Alive(e.uid, 0)) exec_->Cleanup(e.uid);
      return;
    case RecoveryAction::kResumeClaim:
      journal_->Remove(e.uid);  // ClaimAndStart writes it again first
      ClaimAndStart(obj, *in.api, clock_->Monotonic());
      return;
    case RecoveryAction::kLaunch: {
      JournalEntry claimed = e;
      claimed.state = JournalState::kClaimed;
      PutJournal(claimed);
      StartClaimed(obj, *in.api, claimed, std::nullopt);
      return;
    }
    case RecoveryAction::kReattach: {
      Active& a = adopt();
      a.entry.state = JournalState::kRunning;
      PutJournal(a.entry);
      a.force_report = true;
      return;
    }
    case RecoveryAction::kFinalize: {
      Active& a = adopt();
      auto s = exec_->SampleRun(e.uid);
      if (s.ok()) {
        a.usage.oom_kills = std::max(a.usage.oom_kills, s->oom_kills);
        a.usage.memory_peak_bytes = std::max(a.usage.memory_peak_bytes, s->memory_peak);
        a.usage.cpu_seconds = std::max(a.usage.cpu_seconds, s->cpu_seconds);
      }
      RunResult r = ResultFromExit(*exit, a.usage.oom_kills, false);
      // Asked to stop (our previous process may have sent the SIGTERM): report what was asked for,
      // so the operator re-queues it.
      if (in.api && in.api->stop_request) r = PreemptedResult(r, StopMessage(*in.api->stop_request));
      Finish(a, r);
      return;
    }
    case RecoveryAction::kReportLost: {
      Active& a = adopt();
      RunResult r;
      r.reason = "Lost";
      r.message = d.reason;
      if (in.api && in.api->stop_request) r = PreemptedResult(r, StopMessage(*in.api->stop_request) + "; " + d.reason);
      Finish(a, r);
      return;
    }
    case RecoveryAction::kResendFinal: {
      Active& a = adopt();
      a.finishing = true;
      a.result = e.result.value_or(RunResult{std::nullopt, std::nullopt, false, "Lost", "final report lost", "", "", ""});
      a.next_attempt = clock_->Monotonic();
      TryFinal(a);
      return;
    }
  }
}

void RunController::Tick() {
  SteadyTp now = clock_->Monotonic();
  if (tick_queue_.empty())
    for (auto& [uid, a] : active_) tick_queue_.push_back(uid);
  while (!tick_queue_.empty()) {
    std::string uid = tick_queue_.front();
    tick_queue_.pop_front();
    auto it = active_.find(uid);
    if (it == active_.end()) continue;
    Active& a = *it->second;
    if (a.finishing) {
      if (now >= a.next_attempt) TryFinal(a);
    } else if (!a.warming) {
      SampleAndReport(a);
    }
    // A burst of exits is a burst of final reports (durable writes and PUTs): a waiting watch
    // event (a run to start) goes first; the next Tick resumes with the runs not visited yet.
    if (!tick_queue_.empty() && yield_ && yield_()) return;
  }
  CollectWarmUps();
  if (!unresolved_.empty() && now >= next_unresolved_attempt_) {
    next_unresolved_attempt_ = now + std::chrono::seconds(2);
    std::vector<std::string> pending(unresolved_.begin(), unresolved_.end());
    for (const std::string& uid : pending) {
      auto e = journal_->Get(uid);
      if (!e) {
        unresolved_.erase(uid);
        continue;
      }
      ResolveEntry(*e);
    }
  }
  CollectShadows();
}

bool RunController::FinalsFlushed() const {
  return std::none_of(active_.begin(), active_.end(), [](const auto& kv) { return kv.second->finishing; }) &&
         unresolved_.empty();
}

size_t RunController::WarmingCount() const {
  return static_cast<size_t>(
      std::count_if(active_.begin(), active_.end(), [](const auto& kv) { return kv.second->warming; }));
}

size_t RunController::RunningCount() const {
  return static_cast<size_t>(
      std::count_if(active_.begin(), active_.end(), [](const auto& kv) { return !kv.second->finishing; }));
}

std::chrono::milliseconds RunController::NextTickIn() const {
  auto now = clock_->Monotonic();
  auto next = opt_.sample_interval;
  for (auto& [uid, a] : active_) {
    if (!a->finishing) continue;
    auto d = std::chrono::duration_cast<std::chrono::milliseconds>(a->next_attempt - now);
    next = std::min(next, std::max(d, std::chrono::milliseconds(0)));
  }
  if (!shadows_.empty()) next = std::min(next, std::chrono::milliseconds(200));
  return next;
}

}  // namespace prescient::agent
