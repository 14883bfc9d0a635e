#include "sim/cluster/cluster.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "sim/cluster/controllers.h"
#include "sim/cluster/crds.h"

namespace prescient::sim::cluster {

namespace {

// Creates `obj` unless it exists (a restart with --data-dir keeps the earlier state).
Status CreateIfMissing(Store& store, const GroupVersionResource& r, const std::string& ns, const Json& obj) {
  auto res = store.Create(r, ns, obj);
  if (res.ok() || res.status().code() == Code::kAlreadyExists) return Status::Ok();
  return Status(res.status().code(), "creating " + r.resource + " " + (ns.empty() ? "" : ns + "/") +
                                         Str(obj, {"metadata", "name"}) + ": " + res.status().message());
}

// Installs or updates a CRD to the sim's version.
Status EnsureCrd(Store& store, const Json& crd) {
  auto created = store.Create(gvr::kCrds, "", crd);
  if (created.ok()) return Status::Ok();
  if (created.status().code() != Code::kAlreadyExists) {
    return Status(created.status().code(), "installing CRD " + Str(crd, {"metadata", "name"}) + ": " + created.status().message());
  }
  auto existing = store.Get(gvr::kCrds, "", Str(crd, {"metadata", "name"}));
  if (!existing.ok()) return existing.status();
  if ((*existing)["spec"] == crd["spec"]) return Status::Ok();
  Json updated = *existing;
  updated["spec"] = crd["spec"];
  auto r = store.Update(gvr::kCrds, "", updated);
  return r.ok() ? Status::Ok() : r.status();
}

bool Relevant(const GroupVersionResource& r) {
  if (r.group.empty()) {
    return r.resource == "pods" || r.resource == "nodes" || r.resource == "resourcequotas" ||
           r.resource == "podtemplates" || r.resource == "namespaces";
  }
  return r.group == "kubevirt.io" || r.group == "pool.kubevirt.io" || r.group == "apps" ||
         r.group == "autoscaling.x-k8s.io" ||
         r.group == "scheduling.k8s.io";
}

class ClusterImpl : public Cluster {
 public:
  ClusterImpl(Store& store, Clock& clock, double scale, Scenario scenario)
      : ctx_(store, clock, scale, std::move(scenario)) {}
  ~ClusterImpl() override { Stop(); }

  Status Start(bool thread) {
    subscription_ = ctx_.store.Subscribe(
        [this](const ChangeEvent& ev) {
          if (!Relevant(ev.resource)) return;
          std::lock_guard<std::mutex> l(mu_);
          dirty_ = true;
          cv_.notify_all();
        },
        /*replay_existing=*/false);
    subscribed_ = true;
    if (thread) thread_ = std::thread([this] { Loop(); });
    return Status::Ok();
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stopped_) return;
      stopped_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
    if (subscribed_) ctx_.store.Unsubscribe(subscription_);
    subscribed_ = false;
  }

  Status RunOnce() override {
    std::lock_guard<std::mutex> pass(pass_mu_);
    ctx_.next_wake = SteadyTime::max();
    Status first;
    struct Step {
      const char* name;
      Status (*fn)(Context&);
    };
    static const Step kSteps[] = {
        {"deployment", ReconcileDeployments},
        {"virtualmachinepool", ReconcilePools},
        {"virtualmachine", ReconcileVirtualMachines},
        {"virtualmachineinstance", ReconcileVirtualMachineInstances},
        {"migration", ReconcileMigrations},
        {"scheduler", ReconcileScheduler},
        {"autoscaler", ReconcileAutoscaler},
        {"resourcequota", ReconcileQuotaStatus},
    };
    for (const auto& step : kSteps) {
      Status s = step.fn(ctx_);
      if (!s.ok()) {
        ctx_.logger.Warn("controller pass failed; retrying", {{"controller", step.name}, {"error", s.ToString()}});
        if (first.ok()) first = s;
      }
    }
    return first;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> l(mu_);
    dirty_ = true;
    while (!stopped_) {
      auto now = ctx_.clock.Monotonic();
      bool due = next_wake_ <= now;
      if (!dirty_ && !due) {
        auto wait = std::chrono::milliseconds(1000);
        if (next_wake_ != SteadyTime::max()) {
          wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(next_wake_ - now) +
                                    std::chrono::milliseconds(1));
        }
        cv_.wait_for(l, wait);
        continue;
      }
      // At most one pass per kMinPassInterval: every pass lists what it needs, so a burst of
      // writes (thousands of pods) must not turn into thousands of passes. Level-based: one pass
      // covers every change that landed before it.
      // (Real time, not the injected clock: this limits CPU, not simulated behaviour.)
      auto real_now = std::chrono::steady_clock::now();
      auto earliest = last_pass_ + kMinPassInterval;
      if (real_now < earliest) {
        cv_.wait_until(l, earliest);
        continue;
      }
      dirty_ = false;
      last_pass_ = real_now;
      l.unlock();
      Status s = RunOnce();
      l.lock();
      next_wake_ = ctx_.next_wake;
      if (!s.ok()) {
        // Errors are retried after a short pause rather than in a hot loop.
        next_wake_ = std::min(next_wake_, ctx_.clock.Monotonic() + std::chrono::milliseconds(200));
      }
    }
  }

  static constexpr std::chrono::milliseconds kMinPassInterval{10};
  Context ctx_;
  std::chrono::steady_clock::time_point last_pass_{};
  std::mutex pass_mu_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = false;
  bool stopped_ = false;
  SteadyTime next_wake_ = SteadyTime::max();
  std::thread thread_;
  int subscription_ = 0;
  bool subscribed_ = false;
};

}  // namespace

Result<std::unique_ptr<Cluster>> Install(Store& store, const ClusterOptions& options) {
  if (!(options.time_scale > 0)) return InvalidArgument("--time-scale must be positive");
  Scenario scenario;
  if (!options.scenario_path.empty()) {
    auto s = LoadScenario(options.scenario_path);
    if (!s.ok()) return s.status();
    scenario = std::move(*s);
  }
  Clock& clock = options.clock != nullptr ? *options.clock : SystemClock();

  for (const auto& crd : ClusterCrds()) {
    Status s = EnsureCrd(store, crd);
    if (!s.ok()) return s;
  }
  InstallAdmission(store, scenario);

  for (const auto& pc : scenario.priority_classes) {
    Status s = CreateIfMissing(store, gvr::kPriorityClasses, "", PriorityClassObject(pc));
    if (!s.ok()) return s;
  }
  for (const auto& ns : scenario.namespaces) {
    Status s = CreateIfMissing(store, gvr::kNamespaces, "", NamespaceObject(ns));
    if (!s.ok()) return s;
    for (const auto& q : ns.resource_quotas) {
      s = CreateIfMissing(store, gvr::kResourceQuotas, ns.name, q);
      if (!s.ok()) return s;
    }
  }
  for (const auto& n : scenario.nodes) {
    Status s = CreateIfMissing(store, gvr::kNodes, "", NodeObject(n, n.name, ""));
    if (!s.ok()) return s;
  }
  for (const auto& g : scenario.node_groups) {
    // Initial members only on a fresh start: a restarted sim keeps whatever the autoscaler made.
    ListOptions sel;
    sel.label_selector = std::string(kNodeGroupLabel) + "=" + g.name;
    auto existing = store.List(gvr::kNodes, "", sel);
    if (!existing.ok()) return existing.status();
    for (int i = static_cast<int>(existing->items.size()); i < g.initial_size; ++i) {
      Status s = CreateIfMissing(store, gvr::kNodes, "", NodeObject(g.node_template, g.name + "-" + std::to_string(i), g.name));
      if (!s.ok()) return s;
    }
  }
  for (const auto& vm : scenario.virtual_machines) {
    Status s = CreateIfMissing(store, ToGvr(kVirtualMachines), vm.ns, VirtualMachineObject(vm));
    if (!s.ok()) return s;
  }
  for (const auto& p : scenario.virtual_machine_pools) {
    Status s = CreateIfMissing(store, ToGvr(kPools), p.ns, VirtualMachinePoolObject(p));
    if (!s.ok()) return s;
  }

  auto cluster = std::make_unique<ClusterImpl>(store, clock, options.time_scale, std::move(scenario));
  Status s = cluster->Start(options.start_thread);
  if (!s.ok()) return s;
  return std::unique_ptr<Cluster>(std::move(cluster));
}

}  // namespace prescient::sim::cluster
