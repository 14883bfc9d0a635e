#include "agent/agent.h"

#include <utility>

#include "api/constants.h"
#include "kube/informer.h"

namespace prescient::agent {

using nlohmann::json;

Agent::Agent(AgentOptions options, kube::Client* client, RunApi* api, ExecEnv* exec, Journal* journal, Clock* clock,
             PrometheusAgentMetrics* metrics)
    : opt_(std::move(options)),
      client_(client),
      api_(api),
      exec_(exec),
      journal_(journal),
      clock_(clock),
      metrics_(metrics),
      log_("agent", {{"namespace", opt_.identity.ns}, {"instance", opt_.identity.instance}}) {}

Agent::~Agent() = default;

void Agent::Push(Event e) {
  e.at = clock_->Monotonic();
  {
    std::lock_guard<std::mutex> l(mu_);
    events_.push_back(std::move(e));
  }
  cv_.notify_one();
}

void Agent::RequestStop() {
  stop_ = true;
  cv_.notify_all();
}

Status Agent::Run() {
  RunController ctl(opt_.identity, opt_.controller, api_, exec_, journal_, clock_, metrics_);
  Heartbeat heartbeat(opt_.identity.ns, opt_.identity.instance, api_, clock_);
  GuestSizer sizer(opt_.identity.ns, opt_.identity.instance, api_, exec_);

  ctl.SetWakeup([this] {
    {
      std::lock_guard<std::mutex> l(mu_);
      woken_ = true;
    }
    cv_.notify_one();
  });
  ctl.SetYield([this] {
    std::lock_guard<std::mutex> l(mu_);
    return !events_.empty();
  });
  // Exactly-once: resolve what the previous incarnation left before looking at any event.
  ctl.Recover();

  kube::InformerOptions io;
  io.ns = opt_.identity.ns;
  io.label_selector = std::string(api::kInstanceLabel) + "=" + opt_.identity.instance;
  io.transform = [](kube::Json* o) {
    if (o->contains("metadata")) (*o)["metadata"].erase("managedFields");
  };
  kube::Informer informer(client_, api::kCommandRuns, io);
  informer.AddEventHandlers(kube::EventHandlers{
      [this](const kube::ObjectPtr& o) { Push({false, *o}); },
      [this](const kube::ObjectPtr&, const kube::ObjectPtr& o) { Push({false, *o}); },
      [this](const kube::ObjectPtr& o) { Push({true, *o}); },
  });
  informer.Start();
  log_.Info("agent started", {{"selector", io.label_selector}});

  auto next_duty = clock_->Monotonic();
  auto next_tick = clock_->Monotonic();
  auto next_resync = clock_->Monotonic() + opt_.resync;
  std::optional<std::chrono::steady_clock::time_point> drain_deadline;
  while (true) {
    if (stop_ && !drain_deadline) {
      log_.Info("stopping: draining (no new runs; flushing final reports; commands keep running under their shims)");
      ctl.BeginDrain();
      drain_deadline = clock_->Monotonic() + opt_.drain_timeout;
    }
    if (drain_deadline) {
      if (ctl.FinalsFlushed()) break;
      if (clock_->Monotonic() >= *drain_deadline) {
        log_.Warn("drain timeout: final reports stay in the journal for the next start",
                  {{"pending", ctl.ActiveCount() - ctl.RunningCount()}});
        break;
      }
    }
    std::deque<Event> batch;
    bool woken = false;
    {
      std::unique_lock<std::mutex> l(mu_);
      auto wait = std::max(std::chrono::steady_clock::duration(0), next_tick - clock_->Monotonic());
      cv_.wait_for(l, wait, [&] { return !events_.empty() || woken_ || (stop_ && !drain_deadline); });
      batch.swap(events_);
      woken = std::exchange(woken_, false);
    }
    if (woken) ctl.CollectWarmUps();
    for (Event& e : batch) {
      if (e.deleted)
        ctl.OnRunDeleted(e.obj);
      else
        ctl.OnRun(e.obj, e.at);
    }
    auto now = clock_->Monotonic();
    // Sampling and reports run on their own schedule, not on every event (events are frequent:
    // each of our own status writes comes back as one).
    if (now >= next_tick) {
      ctl.Tick();
      // An unfinished tick (it yielded to waiting events) resumes right after them.
      next_tick = clock_->Monotonic() + (ctl.TickUnfinished() ? std::chrono::milliseconds(0) : ctl.NextTickIn());
    }
    if (now >= next_resync && informer.HasSynced()) {
      next_resync = now + opt_.resync;
      for (const auto& o : informer.store().List()) ctl.OnRun(*o);
    }
    if (now >= next_duty) {
      next_duty = now + kLeaseRenewInterval;
      if (Status st = heartbeat.Renew(); !st.ok()) log_.Warn("heartbeat renewal failed", {{"error", st.ToString()}});
      if (opt_.enforce_guest_size) sizer.Sync();
      if (auto last = heartbeat.last_renewed())
        metrics_->HeartbeatRenewed(std::chrono::duration<double>(last->time_since_epoch()).count());
    }
    if (auto last = heartbeat.last_renewed())
      metrics_->HeartbeatAge(std::chrono::duration<double>(clock_->Now() - *last).count());
  }
  informer.Stop();
  log_.Info("agent stopped", {{"running", ctl.RunningCount()}});
  return Status::Ok();
}

}  // namespace prescient::agent
