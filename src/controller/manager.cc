#include "controller/manager.h"

#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <cstring>
#include <set>

#include "api/constants.h"
#include "controller/resources.h"

namespace prescient::controller {

namespace {
std::string Ns(const nlohmann::json& o) { return o.contains("metadata") ? o["metadata"].value("namespace", "") : ""; }
std::string Phase(const kube::ObjectPtr& o) {
  if (!o || !o->contains("status") || !(*o)["status"].is_object()) return "";
  return (*o)["status"].value("phase", "");
}
bool Holds(const std::string& p) { return p == "Allocating" || p == "Allocated" || p == "Running" || p == "Shadowing"; }

// Fields no reconciler reads; dropping them keeps 10,000 cached runs small.
void Slim(nlohmann::json* o) {
  if (!o->contains("metadata")) return;
  auto& m = (*o)["metadata"];
  m.erase("managedFields");
  if (m.contains("annotations") && m["annotations"].is_object()) m["annotations"].erase("kubectl.kubernetes.io/last-applied-configuration");
}
}  // namespace

// Work-queue latency: when an event first queued a key (the earliest while it waits, as client-go's
// queue counts it) until a worker starts reconciling it. Requeues the controller makes itself
// (backoff, requeue-after) are not events and are not timed. Thread-safe.
class Manager::QueueLatency {
 public:
  void Added(const std::string& key, std::chrono::steady_clock::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    added_.emplace(key, now);
  }
  std::optional<double> Started(const std::string& key, std::chrono::steady_clock::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = added_.find(key);
    if (it == added_.end()) return std::nullopt;
    double s = std::chrono::duration<double>(now - it->second).count();
    added_.erase(it);
    return s;
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> added_;
};

// Times each reconcile (and its wait in the queue) and counts errors for the metrics.
class Manager::Instrumented : public kube::Reconciler {
 public:
  Instrumented(std::string name, kube::Reconciler* inner, Metrics* metrics, Clock* clock, QueueLatency* latency)
      : name_(std::move(name)), inner_(inner), metrics_(metrics), clock_(clock), latency_(latency) {}
  Result<kube::ReconcileResult> Reconcile(const std::string& key) override {
    auto start = clock_->Monotonic();
    if (auto waited = latency_->Started(key, start); waited && metrics_) metrics_->WorkQueueLatency(name_, *waited);
    auto r = inner_->Reconcile(key);
    if (metrics_) {
      metrics_->Reconcile(name_, !r.ok(), std::chrono::duration<double>(clock_->Monotonic() - start).count());
    }
    if (!r.ok()) {
      log::Logger("controller").Warn("reconcile failed; retrying with backoff",
                                     {{"controller", name_}, {"key", key}, {"error", r.status().ToString()}});
    }
    return r;
  }

 private:
  std::string name_;
  kube::Reconciler* inner_;
  Metrics* metrics_;
  Clock* clock_;
  QueueLatency* latency_;
};

Manager::Manager(ManagerOptions options) : o_(std::move(options)) {
  if (!o_.clock) o_.clock = &SystemClock();
  auto add = [&](const kube::ResourceType& t, bool slim = false) {
    kube::InformerOptions io;
    io.ns = t.namespaced ? o_.watch_namespace : "";
    io.clock = o_.clock;
    io.transform = Slim;
    (void)slim;
    informers_.push_back(std::make_unique<kube::Informer>(o_.client, t, io));
    kube::Informer* inf = informers_.back().get();
    if (t.namespaced) inf->AddIndexer(kube::kNamespaceIndex, kube::NamespaceIndex());
    return inf;
  };
  runs_ = add(api::kCommandRuns, true);
  runs_->AddIndexer(kRunPhaseIndex, RunPhaseIndex());
  runs_->AddIndexer(kReservationRunIndex, ReservationRunIndex());
  reservations_ = add(api::kResourceReservations);
  kube::Informer* vmis = add(resources::kVirtualMachineInstance);
  kube::Informer* vms = add(resources::kVirtualMachine);
  kube::Informer* pods = add(kube::resources::kPod);
  pods->AddIndexer(kPodNodeIndex, PodNodeIndex());
  pods->AddIndexer(kLauncherIndex, LauncherIndex());
  kube::Informer* nodes = add(kube::resources::kNode);
  kube::Informer* quotas = add(resources::kResourceQuota);
  kube::Informer* pools = add(resources::kVirtualMachinePool);
  kube::Informer* pcs = add(resources::kPriorityClass);
  kube::Informer* leases = add(kube::resources::kLease);
  kube::Informer* endpoints = add(resources::kEndpoints);
  kube::Informer* deployments = add(resources::kDeployment);
  caches_ = {&runs_->store(), &reservations_->store(), &vmis->store(), &vms->store(), &pods->store(),
             &nodes->store(), &quotas->store(), &pools->store(), &pcs->store(), &leases->store(),
             &endpoints->store(), &deployments->store(), &ledger_};

  run_queue_ = std::make_unique<kube::WorkQueue>(o_.clock);
  reservation_queue_ = std::make_unique<kube::WorkQueue>(o_.clock);
  CommandRunReconcilerDeps d;
  d.client = o_.client;
  d.events = o_.events;
  d.clock = o_.clock;
  d.predictor = o_.predictor;
  d.history = o_.history;
  d.metrics = o_.metrics;
  d.caches = caches_;
  d.policy = o_.policy;
  run_reconciler_ = std::make_unique<CommandRunReconciler>(d);
  reservation_reconciler_ = std::make_unique<ReservationReconciler>(o_.client, o_.events, o_.clock, caches_);
  run_latency_ = std::make_unique<QueueLatency>();
  reservation_latency_ = std::make_unique<QueueLatency>();
  run_instrumented_ =
      std::make_unique<Instrumented>("commandrun", run_reconciler_.get(), o_.metrics, o_.clock, run_latency_.get());
  reservation_instrumented_ = std::make_unique<Instrumented>("resourcereservation", reservation_reconciler_.get(),
                                                             o_.metrics, o_.clock, reservation_latency_.get());
  run_controller_ = std::make_unique<kube::Controller>("commandrun", run_queue_.get(), run_instrumented_.get(), o_.workers);
  reservation_controller_ =
      std::make_unique<kube::Controller>("resourcereservation", reservation_queue_.get(), reservation_instrumented_.get(), 1);

  runs_->AddEventHandlers({[this](const kube::ObjectPtr& o) { OnRunChange(nullptr, o); },
                           [this](const kube::ObjectPtr& a, const kube::ObjectPtr& b) { OnRunChange(a, b); },
                           [this](const kube::ObjectPtr& o) { OnRunChange(o, nullptr); }});
  reservations_->AddEventHandlers({[this](const kube::ObjectPtr& o) {
                                     EnqueueReservation(kube::ObjectKey(*o));
                                     EnqueueWaiting(Ns(*o));
                                   },
                                   [this](const kube::ObjectPtr&, const kube::ObjectPtr& o) {
                                     EnqueueReservation(kube::ObjectKey(*o));
                                     EnqueueWaiting(Ns(*o));
                                   },
                                   [this](const kube::ObjectPtr& o) { EnqueueWaiting(Ns(*o)); }});
  // Capacity changed in a namespace: waiting and growing runs there look again.
  auto ns_changed = [this](const kube::ObjectPtr& o) {
    EnqueueWaiting(Ns(*o));
  };
  kube::EventHandlers by_ns{ns_changed, [ns_changed](const kube::ObjectPtr&, const kube::ObjectPtr& o) { ns_changed(o); },
                            ns_changed};
  // An owned quota above what it must be (its `used` settled after a migration): lower it.
  auto quota_changed = [this, ns_changed](const kube::ObjectPtr& o) {
    ns_changed(o);
    if (DesiredQuotaHard(QuotaFromJson(*o, o_.policy.owned_quota_name), false)) EnqueueRun(kQuotaKeyPrefix + Ns(*o));
  };
  quotas->AddEventHandlers({quota_changed, [quota_changed](const kube::ObjectPtr&, const kube::ObjectPtr& o) { quota_changed(o); },
                            ns_changed});
  endpoints->AddEventHandlers(by_ns);  // a dependency became ready
  deployments->AddEventHandlers(by_ns);
  pools->AddEventHandlers(by_ns);
  vms->AddEventHandlers(by_ns);
  auto vmi_changed = [this](const kube::ObjectPtr& o) {
    EnqueueWaiting(Ns(*o));
    EnqueueRunsOnInstance(Ns(*o), (*o)["metadata"].value("name", ""));
  };
  vmis->AddEventHandlers({vmi_changed, [vmi_changed](const kube::ObjectPtr&, const kube::ObjectPtr& o) { vmi_changed(o); },
                          vmi_changed});
  // An agent's Lease that was stale and is renewed again (or a new agent): its instance can take
  // runs again. Plain renewals of a live agent wake nobody.
  auto agent_lease = [this](const kube::ObjectPtr& old_obj, const kube::ObjectPtr& new_obj) {
    if (!new_obj || (*new_obj)["metadata"].value("name", "").rfind(kAgentLeasePrefix, 0) != 0) return;
    api::Time now = o_.clock->Now();
    auto stale = [&](const kube::ObjectPtr& l) {
      AgentHeartbeat hb = HeartbeatFromLease(l.get());
      return !hb.found || now - hb.renewed > o_.policy.agent_heartbeat_timeout;
    };
    if (!old_obj || (stale(old_obj) && !stale(new_obj))) EnqueueWaiting(Ns(*new_obj));
  };
  leases->AddEventHandlers({[agent_lease](const kube::ObjectPtr& o) { agent_lease(nullptr, o); }, agent_lease, nullptr});
  auto node_changed = [this](const kube::ObjectPtr&) { EnqueueWaiting(""); };
  nodes->AddEventHandlers({node_changed, [node_changed](const kube::ObjectPtr&, const kube::ObjectPtr& o) { node_changed(o); },
                           node_changed});
}

Manager::~Manager() { Stop(); }

void Manager::EnqueueRun(const std::string& key) {
  run_latency_->Added(key, o_.clock->Monotonic());
  run_queue_->Add(key);
}

void Manager::EnqueueReservation(const std::string& key) {
  reservation_latency_->Added(key, o_.clock->Monotonic());
  reservation_queue_->Add(key);
}

void Manager::OnRunChange(const kube::ObjectPtr& old_obj, const kube::ObjectPtr& new_obj) {
  const kube::ObjectPtr& o = new_obj ? new_obj : old_obj;
  std::string key = kube::ObjectKey(*o);
  ledger_.Observe(old_obj, new_obj);  // before the key is queued: its reconcile reads the ledger
  run_reconciler_->ForgetRun(key);
  if (new_obj) EnqueueRun(key);
  // A run that stopped holding capacity (finished, released, deleted) frees room for waiting ones;
  // a new waiting run may change the queue positions of the others.
  std::string before = Phase(old_obj), after = new_obj ? Phase(new_obj) : "";
  bool freed = Holds(before) && !Holds(after);
  bool new_waiter = !old_obj && !Holds(after);
  if (freed || (!new_obj && old_obj)) EnqueueWaiting(Ns(*o));
  (void)new_waiter;
  const auto& spec = (*o).contains("spec") ? (*o)["spec"] : nlohmann::json::object();
  std::string res = spec.is_object() ? spec.value("reservationName", "") : "";
  if (!res.empty() && (Holds(before) != Holds(after))) EnqueueReservation(Ns(*o) + "/" + res);
  if (freed) {
    // Reservations' used amounts change when any of their runs stop holding.
    for (const auto& r : reservations_->store().ByIndex(kube::kNamespaceIndex, Ns(*o))) {
      EnqueueReservation(kube::ObjectKey(*r));
    }
  }
}

void Manager::EnqueueWaiting(const std::string& ns) {
  for (const char* phase : {"None", "Pending", "Predicting", "Queued", "Scaling", "Allocating"}) {
    for (const auto& r : runs_->store().ByIndex(kRunPhaseIndex, phase)) {
      if (ns.empty() || Ns(*r) == ns) EnqueueRun(kube::ObjectKey(*r));
    }
  }
}

void Manager::EnqueueRunsOnInstance(const std::string& ns, const std::string& vmi) {
  for (const auto& r : runs_->store().ByIndex(kRunPhaseIndex, "Running")) {
    if (Ns(*r) != ns) continue;
    const auto& labels = (*r)["metadata"].value("labels", nlohmann::json::object());
    if (labels.is_object() && labels.value(api::kInstanceLabel, "") == vmi) EnqueueRun(kube::ObjectKey(*r));
  }
}

void Manager::StartInformers() {
  for (auto& i : informers_) i->Start();
}

bool Manager::WaitForSync(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto& i : informers_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !i->WaitForSync(left)) return false;
  }
  return true;
}

bool Manager::Synced() const {
  for (const auto& i : informers_) {
    if (!i->HasSynced()) return false;
  }
  return true;
}

void Manager::StartControllers() {
  if (controllers_started_.exchange(true)) return;
  // Everything cached gets one pass: after a restart this rebuilds the ledger's consequences
  // (labels, quota, history) from stored status.
  for (const auto& key : runs_->store().ListKeys()) EnqueueRun(key);
  for (const auto& key : reservations_->store().ListKeys()) EnqueueReservation(key);
  run_controller_->Start();
  reservation_controller_->Start();
  if (o_.metrics) metrics_thread_ = std::thread([this] { MetricsLoop(); });
}

void Manager::MetricsLoop() {
  std::set<std::string> seen_priorities;
  while (!stopping_.load()) {
    o_.metrics->SetWorkQueueDepth("commandrun", static_cast<double>(run_queue_->Len()));
    o_.metrics->SetWorkQueueDepth("resourcereservation", static_cast<double>(reservation_queue_->Len()));
    std::map<std::string, int> depth;
    for (const auto& p : seen_priorities) depth[p] = 0;
    for (const char* phase : {"Queued", "Scaling"}) {
      for (const auto& r : runs_->store().ByIndex(kRunPhaseIndex, phase)) {
        const auto& spec = (*r)["spec"];
        std::string prio = std::to_string(spec.is_object() ? spec.value("priority", 0) : 0);
        ++depth[prio];
      }
    }
    for (const auto& [p, n] : depth) {
      o_.metrics->SetQueueDepth(p, n);
      seen_priorities.insert(p);
    }
    // Heartbeat age of every agent (a dead agent's age keeps growing here, with or without runs).
    api::Time now = o_.clock->Now();
    for (const auto& lease : caches_.leases->List()) {
      std::string name = (*lease)["metadata"].value("name", "");
      if (name.rfind(kAgentLeasePrefix, 0) != 0) continue;
      AgentHeartbeat hb = HeartbeatFromLease(lease.get());
      if (hb.found) {
        o_.metrics->SetAgentHeartbeatAge(name.substr(std::strlen(kAgentLeasePrefix)),
                                         std::chrono::duration<double>(now - hb.renewed).count());
      }
    }
    for (int i = 0; i < 20 && !stopping_.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void Manager::Stop() {
  if (stopping_.exchange(true)) return;
  if (controllers_started_) {
    run_controller_->Stop();
    reservation_controller_->Stop();
  }
  if (metrics_thread_.joinable()) metrics_thread_.join();
  for (auto& i : informers_) i->Stop();
}

}  // namespace prescient::controller
