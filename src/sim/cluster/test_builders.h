// Small fluent builders for the cluster tests (Kueue style): MakePod("a").Cpu("500m").Obj().
#pragma once

#include <string>

#include "sim/cluster/resources.h"

namespace prescient::sim::cluster::testing {

class MakePod {
 public:
  explicit MakePod(std::string name, std::string ns = "default") {
    obj_ = {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata", {{"name", name}, {"namespace", ns}, {"uid", "uid-" + name}}},
            {"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "pause"}}})}}}};
  }
  MakePod& Request(const std::string& r, const std::string& q) {
    obj_["spec"]["containers"][0]["resources"]["requests"][r] = q;
    return *this;
  }
  MakePod& Limit(const std::string& r, const std::string& q) {
    obj_["spec"]["containers"][0]["resources"]["limits"][r] = q;
    return *this;
  }
  MakePod& Cpu(const std::string& q) { return Request("cpu", q); }
  MakePod& Mem(const std::string& q) { return Request("memory", q); }
  MakePod& Priority(int p) {
    obj_["spec"]["priority"] = p;
    return *this;
  }
  MakePod& Node(const std::string& n) {
    obj_["spec"]["nodeName"] = n;
    return *this;
  }
  MakePod& Selector(const std::string& k, const std::string& v) {
    obj_["spec"]["nodeSelector"][k] = v;
    return *this;
  }
  // One more required node-affinity term (terms are ORed) with one expression; the key
  // "metadata.name" becomes a matchFields requirement.
  MakePod& Affinity(const std::string& key, const std::string& op, std::vector<std::string> values = {}) {
    Json expr = {{"key", key}, {"operator", op}};
    if (!values.empty()) expr["values"] = values;
    Json term = {{key == "metadata.name" ? "matchFields" : "matchExpressions", Json::array({expr})}};
    obj_["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        .push_back(term);
    return *this;
  }
  // A second expression in the last term (ANDed).
  MakePod& AndAffinity(const std::string& key, const std::string& op, std::vector<std::string> values = {}) {
    Json expr = {{"key", key}, {"operator", op}};
    if (!values.empty()) expr["values"] = values;
    obj_["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        .back()["matchExpressions"]
        .push_back(expr);
    return *this;
  }
  // One more preferred node-affinity term with one requirement ("metadata.name": matchFields);
  // no key: an empty preference.
  MakePod& Prefer(int weight, const std::string& key = "", const std::string& op = "",
                  std::vector<std::string> values = {}) {
    Json pref = Json::object();
    if (!key.empty()) {
      Json expr = {{"key", key}, {"operator", op}};
      if (!values.empty()) expr["values"] = values;
      pref[key == "metadata.name" ? "matchFields" : "matchExpressions"] = Json::array({expr});
    }
    obj_["spec"]["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"].push_back(
        {{"weight", weight}, {"preference", pref}});
    return *this;
  }
  MakePod& Tolerate(const std::string& k, const std::string& op = "Exists") {
    obj_["spec"]["tolerations"].push_back({{"key", k}, {"operator", op}});
    return *this;
  }
  MakePod& Created(const std::string& ts) {
    obj_["metadata"]["creationTimestamp"] = ts;
    return *this;
  }
  MakePod& PriorityClass(const std::string& pc) {
    obj_["spec"]["priorityClassName"] = pc;
    return *this;
  }
  Json Obj() const { return obj_; }
  PodInfo Info() const { return *PodInfoFromJson(obj_); }

 private:
  Json obj_;
};

class MakeNode {
 public:
  explicit MakeNode(std::string name) { n_.name = std::move(name); }
  MakeNode& Cpu(int64_t milli) {
    n_.allocatable["cpu"] = milli;
    return *this;
  }
  MakeNode& Mem(int64_t bytes) {
    n_.allocatable["memory"] = bytes;
    return *this;
  }
  MakeNode& Pods(int64_t n) {
    n_.allocatable["pods"] = n;
    return *this;
  }
  MakeNode& Label(const std::string& k, const std::string& v) {
    n_.labels[k] = v;
    return *this;
  }
  MakeNode& Taint(const std::string& k, const std::string& v, const std::string& effect = "NoSchedule") {
    n_.taints.push_back({k, v, effect});
    return *this;
  }
  MakeNode& Cordoned() {
    n_.unschedulable = true;
    return *this;
  }
  NodeInfo Obj() const { return n_; }

 private:
  NodeInfo n_;
};

inline constexpr int64_t kGi = 1LL << 30;
inline constexpr int64_t kMi = 1LL << 20;

}  // namespace prescient::sim::cluster::testing
