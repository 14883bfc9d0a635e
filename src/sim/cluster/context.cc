#include <sstream>

#include "sim/cluster/controllers.h"

namespace prescient::sim::cluster {

void EventRecorder::Record(const Json& involved, const std::string& type, const std::string& reason,
                           const std::string& message, const std::string& component) {
  std::string ns = Str(involved, {"metadata", "namespace"}, "default");
  std::string name = Str(involved, {"metadata", "name"});
  std::string uid = Str(involved, {"metadata", "uid"});
  std::string now = FormatRfc3339(clock_.Now());
  std::string key = uid + "\x1f" + reason + "\x1f" + message;
  if (seen_.size() > 20000) seen_.clear();  // bounded; a repeat after this only writes a new Event
  auto it = seen_.find(key);
  if (it != seen_.end()) {
    it->second.count++;
    Json patch = {{"count", it->second.count}, {"lastTimestamp", now}};
    if (store_.Patch(gvr::kEvents, ns, it->second.name, PatchType::kMerge, patch.dump(), "").ok()) return;
    seen_.erase(it);  // deleted meanwhile: write a new one
  }
  std::ostringstream hex;
  hex << std::hex << (static_cast<uint64_t>(clock_.Now().time_since_epoch().count()) + counter_++);
  std::string ev_name = name + "." + hex.str();
  Json involved_ref = {{"apiVersion", involved.value("apiVersion", "v1")},
                       {"kind", involved.value("kind", "")},
                       {"name", name},
                       {"uid", uid}};
  if (!Str(involved, {"metadata", "namespace"}).empty()) involved_ref["namespace"] = ns;
  Json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", ev_name}, {"namespace", ns}}},
             {"involvedObject", involved_ref},
             {"reason", reason},
             {"message", message},
             {"type", type},
             {"source", {{"component", component}}},
             {"reportingComponent", component},
             {"reportingInstance", component},
             {"firstTimestamp", now},
             {"lastTimestamp", now},
             {"count", 1}};
  if (store_.Create(gvr::kEvents, ns, ev).ok()) seen_[key] = {ev_name, 1};
}

std::string Context::RandomSuffix(int n) {
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string s;
  std::uniform_int_distribution<size_t> d(0, sizeof(kAlphabet) - 2);
  for (int i = 0; i < n; ++i) s += kAlphabet[d(rng)];
  return s;
}

std::string Context::NextPodIp() {
  uint64_t n = ++ip_counter;
  return "10.244." + std::to_string((n / 250) % 250) + "." + std::to_string(n % 250 + 2);
}

const Json* FindCondition(const Json& obj, const std::string& type) {
  const Json* conds = Find(obj, {"status", "conditions"});
  if (conds == nullptr || !conds->is_array()) return nullptr;
  for (const auto& c : *conds) {
    if (c.value("type", "") == type) return &c;
  }
  return nullptr;
}

bool ConditionTrue(const Json& obj, const std::string& type) {
  const Json* c = FindCondition(obj, type);
  return c != nullptr && c->value("status", "") == "True";
}

bool SetCondition(Json& obj, const std::string& type, const std::string& status, const std::string& reason,
                  const std::string& message, const std::string& now, int64_t observed_generation) {
  if (!obj.contains("status") || !obj["status"].is_object()) obj["status"] = Json::object();
  Json& conds = obj["status"]["conditions"];
  if (!conds.is_array()) conds = Json::array();
  for (auto& c : conds) {
    if (c.value("type", "") != type) continue;
    bool changed = false;
    if (c.value("status", "") != status) {
      c["status"] = status;
      c["lastTransitionTime"] = now;
      changed = true;
    }
    if (c.value("reason", "") != reason) {
      c["reason"] = reason;
      changed = true;
    }
    if (c.value("message", "") != message) {
      c["message"] = message;
      changed = true;
    }
    if (observed_generation >= 0 && c.value("observedGeneration", int64_t{-1}) != observed_generation) {
      c["observedGeneration"] = observed_generation;
      changed = true;
    }
    return changed;
  }
  Json c = {{"type", type}, {"status", status}, {"lastTransitionTime", now}, {"reason", reason}, {"message", message}};
  if (observed_generation >= 0) c["observedGeneration"] = observed_generation;
  conds.push_back(c);
  return true;
}

bool RemoveCondition(Json& obj, const std::string& type) {
  if (!obj.contains("status") || !obj["status"].contains("conditions")) return false;
  Json& conds = obj["status"]["conditions"];
  if (!conds.is_array()) return false;
  Json kept = Json::array();
  for (const auto& c : conds) {
    if (c.value("type", "") != type) kept.push_back(c);
  }
  bool changed = kept.size() != conds.size();
  conds = kept;
  return changed;
}

}  // namespace prescient::sim::cluster
