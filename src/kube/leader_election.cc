#include "kube/leader_election.h"

#include "common/log.h"
#include "kube/timed_wait.h"

namespace prescient::kube {

LeaderElector::LeaderElector(Client* client, LeaderElectionConfig config)
    : client_(client), cfg_(std::move(config)), clock_(cfg_.clock ? cfg_.clock : &SystemClock()) {}

LeaderElector::~LeaderElector() { Stop(); }

void LeaderElector::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void LeaderElector::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

bool LeaderElector::IsLeader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leading_;
}

std::string LeaderElector::ObservedLeader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return observed_.value("holderIdentity", "");
}

bool LeaderElector::Sleep(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  return !WaitUntil(clock_, lock, cv_, clock_->Monotonic() + d, [&] { return stopping_; });
}

bool LeaderElector::TryAcquireOrRenew() {
  const auto now_wall = FormatRfc3339Micro(clock_->Now());
  const int duration_s = static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(cfg_.lease_duration).count());
  Json spec = {{"holderIdentity", cfg_.identity},
               {"leaseDurationSeconds", duration_s},
               {"acquireTime", now_wall},
               {"renewTime", now_wall},
               {"leaseTransitions", 0}};
  auto got = client_->Get(resources::kLease, cfg_.lease_namespace, cfg_.lease_name);
  if (!got.ok()) {
    if (got.status().code() != Code::kNotFound) return false;
    Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", cfg_.lease_name}, {"namespace", cfg_.lease_namespace}}},
                  {"spec", spec}};
    auto created = client_->Create(resources::kLease, lease);
    if (!created.ok()) return false;
    std::lock_guard<std::mutex> lock(mu_);
    observed_ = spec;
    observed_rv_ = (*created)["metadata"].value("resourceVersion", "");
    observed_time_ = clock_->Monotonic();
    return true;
  }
  Json lease = std::move(*got);
  Json current = lease.contains("spec") && lease["spec"].is_object() ? lease["spec"] : Json::object();
  std::string holder = current.value("holderIdentity", "");
  bool new_leader = false;
  struct NotifyNewLeader {  // runs the callback after the lock is released
    const LeaderElectionConfig& cfg;
    const std::string& holder;
    bool& fire;
    ~NotifyNewLeader() {
      if (fire && cfg.on_new_leader) cfg.on_new_leader(holder);
    }
  } notify{cfg_, holder, new_leader};
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::string rv = lease["metadata"].value("resourceVersion", "");
    if (current != observed_ || rv != observed_rv_) {
      new_leader = !holder.empty() && holder != observed_.value("holderIdentity", "");
      observed_ = current;
      observed_rv_ = rv;
      observed_time_ = clock_->Monotonic();
    }
    int observed_duration = current.value("leaseDurationSeconds", duration_s);
    bool expired = clock_->Monotonic() >= observed_time_ + std::chrono::seconds(observed_duration);
    if (!holder.empty() && holder != cfg_.identity && !expired) return false;
  }
  if (holder == cfg_.identity) {
    spec["acquireTime"] = current.value("acquireTime", now_wall);
    spec["leaseTransitions"] = current.value("leaseTransitions", 0);
  } else {
    spec["leaseTransitions"] = current.value("leaseTransitions", 0) + 1;
  }
  lease["spec"] = spec;
  // The PUT carries the resourceVersion we read: if anyone wrote in between, 409 and we lost this round.
  auto updated = client_->Update(resources::kLease, lease);
  if (!updated.ok()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  observed_ = spec;
  observed_rv_ = (*updated)["metadata"].value("resourceVersion", "");
  observed_time_ = clock_->Monotonic();
  return true;
}

Status LeaderElector::Release() {
  auto got = client_->Get(resources::kLease, cfg_.lease_namespace, cfg_.lease_name);
  if (!got.ok()) return got.status();
  Json lease = std::move(*got);
  if (!lease.contains("spec") || lease["spec"].value("holderIdentity", "") != cfg_.identity) return Status::Ok();
  const auto now_wall = FormatRfc3339Micro(clock_->Now());
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = now_wall;
  lease["spec"]["acquireTime"] = now_wall;
  auto updated = client_->Update(resources::kLease, lease);
  if (!updated.ok()) return updated.status();
  std::lock_guard<std::mutex> lock(mu_);
  observed_ = (*updated)["spec"];
  observed_rv_ = (*updated)["metadata"].value("resourceVersion", "");
  observed_time_ = clock_->Monotonic();
  return Status::Ok();
}

void LeaderElector::SetLeading(bool leading) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (leading_ == leading) return;
    leading_ = leading;
  }
  log::Logger("kube.leader", {{"namespace", cfg_.lease_namespace}, {"name", cfg_.lease_name}})
      .Info(leading ? "started leading" : "stopped leading", {{"identity", cfg_.identity}});
  if (leading && cfg_.on_started_leading) cfg_.on_started_leading();
  if (!leading && cfg_.on_stopped_leading) cfg_.on_stopped_leading();
}

void LeaderElector::Run() {
  for (;;) {
    // Campaign.
    while (!TryAcquireOrRenew()) {
      if (!Sleep(cfg_.retry_period)) return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_renew_ = clock_->Monotonic();
    }
    SetLeading(true);
    // Renew until the deadline passes without a successful renewal, or until Stop().
    bool stopped = false;
    for (;;) {
      if (!Sleep(cfg_.retry_period)) {
        stopped = true;
        break;
      }
      if (TryAcquireOrRenew()) {
        std::lock_guard<std::mutex> lock(mu_);
        last_renew_ = clock_->Monotonic();
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      if (clock_->Monotonic() - last_renew_ >= cfg_.renew_deadline) break;
    }
    if (stopped && cfg_.release_on_stop) {
      if (Status st = Release(); !st.ok()) {
        log::Logger("kube.leader").Warn("could not release the lease", {{"error", st.ToString()}});
      }
    }
    SetLeading(false);
    if (stopped) return;
  }
}

}  // namespace prescient::kube
