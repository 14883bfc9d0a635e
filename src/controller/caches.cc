#include "controller/caches.h"

#include "api/codec.h"
#include "api/constants.h"

namespace prescient::controller {

namespace {
std::string StrAt(const Json& j, const char* a, const char* b) {
  auto ia = j.find(a);
  if (ia == j.end() || !ia->is_object()) return "";
  auto ib = ia->find(b);
  return ib != ia->end() && ib->is_string() ? ib->get<std::string>() : "";
}
const char* kPredictedWaitingPhases[] = {"Pending", "Predicting", "Queued", "Scaling"};
const char* kHoldingPhases[] = {"Allocating", "Allocated", "Running", "Shadowing"};
}  // namespace

kube::IndexFunc RunPhaseIndex() {
  return [](const Json& o) -> std::vector<std::string> {
    std::string p = StrAt(o, "status", "phase");
    return {p.empty() ? "None" : p};
  };
}
kube::IndexFunc PodNodeIndex() {
  return [](const Json& o) -> std::vector<std::string> {
    std::string n = StrAt(o, "spec", "nodeName");
    if (n.empty()) return {};
    return {n};
  };
}
kube::IndexFunc LauncherIndex() {
  return [](const Json& o) -> std::vector<std::string> {
    const Json* labels = nullptr;
    if (auto m = o.find("metadata"); m != o.end() && m->contains("labels")) labels = &(*m)["labels"];
    if (!labels || !labels->is_object() || labels->value("kubevirt.io", "") != "virt-launcher") return {};
    std::string vmi = labels->value("vm.kubevirt.io/name", "");
    if (vmi.empty()) return {};
    return {StrAt(o, "metadata", "namespace") + "/" + vmi};
  };
}
kube::IndexFunc ReservationRunIndex() {
  return [](const Json& o) -> std::vector<std::string> {
    std::string r = StrAt(o, "spec", "reservationName");
    if (r.empty()) return {};
    return {StrAt(o, "metadata", "namespace") + "/" + r};
  };
}

std::shared_ptr<const api::CommandRun> TypedRunCache::Get(const kube::ObjectPtr& obj) {
  std::string key = kube::ObjectKey(*obj);
  std::string rv = StrAt(*obj, "metadata", "resourceVersion");
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_key_.find(key);
    if (it != by_key_.end() && it->second.first == rv) return it->second.second;
  }
  api::FieldErrors errors;  // reported by the reconciler of that run, not here
  auto run = std::make_shared<const api::CommandRun>(api::CommandRunFromJson(*obj, &errors));
  std::lock_guard<std::mutex> lock(mu_);
  by_key_[key] = {rv, run};
  return run;
}

void TypedRunCache::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  by_key_.erase(key);
}

void HoldingLedger::Observe(const kube::ObjectPtr& old_obj, const kube::ObjectPtr& new_obj) {
  const kube::ObjectPtr& any = new_obj ? new_obj : old_obj;
  if (!any) return;
  std::string ns = StrAt(*any, "metadata", "namespace");
  std::string key = kube::ObjectKey(*any);
  if (!new_obj) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_ns_.find(ns);
    if (it != by_ns_.end()) {
      it->second.erase(key);
      if (it->second.empty()) by_ns_.erase(it);
    }
    return;
  }
  Entry e;
  try {
    e.rv = std::stoll(StrAt(*new_obj, "metadata", "resourceVersion"));
  } catch (...) {
    e.rv = 0;
  }
  api::FieldErrors errors;
  api::CommandRun run = api::CommandRunFromJson(*new_obj, &errors);
  e.holding = HoldingFromRun(run, 0);
  e.spec_priority = run.spec.priority;
  e.priority_class = run.spec.priority_class_name.value_or("");
  std::lock_guard<std::mutex> lock(mu_);
  by_ns_[ns][key] = std::move(e);
}

std::vector<Holding> HoldingLedger::Holdings(const std::string& ns, const std::map<std::string, int32_t>& classes) const {
  std::vector<Holding> out;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_ns_.find(ns);
  if (it == by_ns_.end()) return out;
  out.reserve(it->second.size());
  for (const auto& [key, e] : it->second) {
    if (!e.holding) continue;
    out.push_back(*e.holding);
    Holding& h = out.back();
    if (e.spec_priority) {
      h.priority = *e.spec_priority;
    } else if (!e.priority_class.empty()) {
      auto pc = classes.find(e.priority_class);
      h.priority = pc == classes.end() ? 0 : pc->second;
    }
  }
  return out;
}

int64_t HoldingLedger::ObservedRv(const std::string& key) const {
  std::string ns, name;
  kube::SplitKey(key, &ns, &name);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_ns_.find(ns);
  if (it == by_ns_.end()) return 0;
  auto e = it->second.find(key);
  return e == it->second.end() ? 0 : e->second.rv;
}

size_t HoldingLedger::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [ns, m] : by_ns_) n += m.size();
  return n;
}

int32_t RunPriority(const api::CommandRun& run, const std::map<std::string, int32_t>& classes) {
  if (run.spec.priority) return *run.spec.priority;
  if (run.spec.priority_class_name) {
    auto it = classes.find(*run.spec.priority_class_name);
    if (it != classes.end()) return it->second;
  }
  return 0;
}

ClusterSnapshot BuildSnapshot(const Caches& c, const std::string& ns, TypedRunCache* runs,
                              const std::string& owned_quota_name, api::Time now) {
  ClusterSnapshot s;
  if (c.priority_classes) {
    for (const auto& pc : c.priority_classes->List()) {
      auto v = pc->find("value");
      if (v != pc->end() && v->is_number_integer()) s.priority_classes[StrAt(*pc, "metadata", "name")] = v->get<int32_t>();
      auto policy = pc->find("preemptionPolicy");
      if (policy != pc->end() && policy->is_string() && policy->get<std::string>() == "Never")
        s.never_preempting_classes.insert(StrAt(*pc, "metadata", "name"));
    }
  }
  for (const auto& vmi : c.vmis->ByIndex(kube::kNamespaceIndex, ns)) {
    std::string key = kube::ObjectKey(*vmi);
    kube::ObjectPtr vm = c.vms->Get(key);
    kube::ObjectPtr launcher;
    std::string node = StrAt(*vmi, "status", "nodeName");
    for (const auto& pod : c.pods->ByIndex(kLauncherIndex, key)) {
      if (PodIsTerminal(*pod)) continue;
      // During a migration two launcher pods exist: the source (on the VMI's node) is the running one.
      if (!launcher || StrAt(*pod, "spec", "nodeName") == node) launcher = pod;
    }
    s.instances[key] = InstanceFromJson(*vmi, vm.get(), launcher.get());
  }
  for (const auto& node : c.nodes->List()) {
    std::string name = StrAt(*node, "metadata", "name");
    std::vector<const Json*> pods;
    auto bound = c.pods->ByIndex(kPodNodeIndex, name);
    pods.reserve(bound.size());
    for (const auto& p : bound) pods.push_back(p.get());
    s.nodes[name] = NodeFromJson(*node, pods);
  }
  for (const auto& q : c.quotas->ByIndex(kube::kNamespaceIndex, ns)) {
    s.quotas[ns].push_back(QuotaFromJson(*q, owned_quota_name));
  }
  if (c.pools) {
    for (const auto& p : c.pools->ByIndex(kube::kNamespaceIndex, ns)) {
      PoolView pv = PoolFromJson(*p);
      s.pools[pv.ns + "/" + pv.name] = pv;
    }
  }
  if (c.ledger) {
    s.holdings = c.ledger->Holdings(ns, s.priority_classes);
  } else {
    for (const char* phase : kHoldingPhases) {
      for (const auto& obj : c.runs->ByIndex(kRunPhaseIndex, phase)) {
        if (StrAt(*obj, "metadata", "namespace") != ns) continue;
        auto run = runs->Get(obj);
        if (auto h = HoldingFromRun(*run, RunPriority(*run, s.priority_classes))) s.holdings.push_back(*h);
      }
    }
  }
  if (c.reservations) {
    for (const auto& obj : c.reservations->ByIndex(kube::kNamespaceIndex, ns)) {
      api::FieldErrors errors;
      api::ResourceReservation r = api::ResourceReservationFromJson(*obj, &errors);
      ReservationView v;
      v.ns = r.metadata.ns;
      v.name = r.metadata.name;
      v.spec = r.spec;
      v.active = errors.empty() && !r.metadata.deletion_timestamp;
      v.phase = r.status.phase;
      if (r.spec.window) {
        if (r.spec.window->start && now < *r.spec.window->start) v.active = false;
        if (r.spec.window->end && now >= *r.spec.window->end) v.active = false;
      }
      if (!r.status.bound_instances.empty()) v.instance = ns + "/" + r.status.bound_instances.front().instance_id;
      s.reservations[ns + "/" + v.name] = v;
    }
  }
  // A reservation not bound yet holds capacity on its first candidate, so runs do not race it.
  for (auto& [key, r] : s.reservations) {
    if (!r.instance.empty()) continue;
    for (const auto& [ikey, inst] : s.instances) {
      if (inst.ns != ns) continue;
      bool match = (r.spec.target.vm_name && inst.name == *r.spec.target.vm_name) ||
                   (r.spec.target.vm_pool_name && inst.pool == *r.spec.target.vm_pool_name) ||
                   (r.spec.target.vm_selector && r.spec.target.vm_selector->Matches(inst.labels));
      if (match) {
        r.instance = ikey;
        break;
      }
    }
  }
  return s;
}

std::vector<std::shared_ptr<const api::CommandRun>> PendingRuns(const Caches& c, const std::string& ns,
                                                                TypedRunCache* runs) {
  std::vector<std::shared_ptr<const api::CommandRun>> out;
  for (const char* phase : kPredictedWaitingPhases) {
    for (const auto& obj : c.runs->ByIndex(kRunPhaseIndex, phase)) {
      if (StrAt(*obj, "metadata", "namespace") != ns) continue;
      auto run = runs->Get(obj);
      if (!run->metadata.deletion_timestamp && run->status.prediction) out.push_back(run);
    }
  }
  return out;
}

}  // namespace prescient::controller
