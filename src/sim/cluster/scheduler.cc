#include "sim/cluster/scheduler.h"

#include <algorithm>
#include <limits>

namespace prescient::sim::cluster {

NodeUsage UsageOf(const std::vector<PodInfo>& bound_pods) {
  NodeUsage u;
  for (const auto& p : bound_pods) {
    if (!p.node_name.empty()) AddPodTo(u, p.node_name, p);
  }
  return u;
}

void AddPodTo(NodeUsage& usage, const std::string& node, const PodInfo& pod) {
  auto& u = usage[node];
  AddTo(u, pod.requests);
  u["pods"] += 1;
}

bool PassesNodeFilters(const PodInfo& pod, const NodeInfo& node) {
  if (node.unschedulable || !node.ready) return false;
  if (!MatchesNodeAffinity(pod, node)) return false;
  for (const auto& t : node.taints) {
    if ((t.effect == "NoSchedule" || t.effect == "NoExecute") && !Tolerates(pod.tolerations, t)) return false;
  }
  return true;
}

std::vector<std::string> FitFailures(const PodInfo& pod, const NodeInfo& node, const ResourceList& used) {
  std::vector<std::string> out;
  if (!node.ready) out.push_back("node(s) were not ready");
  if (node.unschedulable) out.push_back("node(s) were unschedulable");
  if (!MatchesNodeAffinity(pod, node)) out.push_back("node(s) didn't match Pod's node affinity/selector");
  for (const auto& t : node.taints) {
    if ((t.effect == "NoSchedule" || t.effect == "NoExecute") && !Tolerates(pod.tolerations, t)) {
      out.push_back("node(s) had untolerated taint {" + t.key + ": " + t.value + "}");
      break;
    }
  }
  if (!out.empty()) return out;
  auto get = [](const ResourceList& l, const std::string& k) {
    auto it = l.find(k);
    return it == l.end() ? int64_t{0} : it->second;
  };
  if (node.allocatable.count("pods") && get(used, "pods") + 1 > get(node.allocatable, "pods")) {
    out.push_back("Too many pods");
  }
  for (const auto& [k, v] : pod.requests) {
    if (v <= 0) continue;
    if (get(used, k) + v > get(node.allocatable, k)) out.push_back("Insufficient " + k);
  }
  return out;
}

static double FreeScore(const NodeInfo& node, const ResourceList& used, const PodInfo& pod) {
  double score = 0;
  for (const char* r : {"cpu", "memory"}) {
    auto a = node.allocatable.find(r);
    if (a == node.allocatable.end() || a->second <= 0) continue;
    int64_t u = 0;
    if (auto it = used.find(r); it != used.end()) u = it->second;
    if (auto it = pod.requests.find(r); it != pod.requests.end()) u += it->second;
    score += 1.0 - static_cast<double>(u) / static_cast<double>(a->second);
  }
  return score;
}

ScheduleResult PickNode(const PodInfo& pod, const std::vector<NodeInfo>& nodes, const NodeUsage& usage) {
  static const ResourceList kEmpty;
  ScheduleResult r;
  struct Feasible {
    const NodeInfo* node;
    double free;              // FreeScore: 0..2 (cpu + memory)
    int64_t affinity_weight;  // PreferredAffinityWeight
  };
  std::vector<Feasible> feasible;
  std::map<std::string, int> reasons;
  int64_t max_weight = 0;
  for (const auto& n : nodes) {
    auto it = usage.find(n.name);
    const ResourceList& used = it == usage.end() ? kEmpty : it->second;
    auto failures = FitFailures(pod, n, used);
    if (failures.empty()) {
      feasible.push_back({&n, FreeScore(n, used, pod), PreferredAffinityWeight(pod, n)});
      max_weight = std::max(max_weight, feasible.back().affinity_weight);
    } else {
      for (const auto& f : failures) reasons[f]++;
    }
  }
  // kube-scheduler's default profile: NodeAffinity (weight 2) normalized to 0..100 by the best
  // feasible node, plus NodeResourcesFit's LeastAllocated (weight 1), 0..100 (the mean free share
  // of cpu and memory).
  double best = -std::numeric_limits<double>::infinity();
  for (const auto& f : feasible) {
    double affinity = max_weight > 0 ? 100.0 * static_cast<double>(f.affinity_weight) / static_cast<double>(max_weight) : 0.0;
    double s = 2.0 * affinity + 50.0 * f.free;
    if (s > best || (s == best && f.node->name < r.node)) {
      best = s;
      r.node = f.node->name;
    }
  }
  if (!r.node.empty()) return r;
  if (nodes.empty()) {
    r.message = "no nodes available to schedule pods";
    return r;
  }
  r.message = "0/" + std::to_string(nodes.size()) + " nodes are available: ";
  bool first = true;
  for (const auto& [reason, count] : reasons) {  // map order = the scheduler's sorted histogram
    if (!first) r.message += ", ";
    first = false;
    r.message += std::to_string(count) + " " + reason;
  }
  r.message += ".";
  return r;
}

Preemption FindPreemption(const PodInfo& pod, const std::vector<NodeInfo>& nodes,
                          const std::vector<PodInfo>& bound) {
  Preemption best;
  if (pod.preemption_never) return best;
  int32_t best_max_prio = std::numeric_limits<int32_t>::max();
  size_t best_count = std::numeric_limits<size_t>::max();
  for (const auto& n : nodes) {
    if (!PassesNodeFilters(pod, n)) continue;
    std::vector<const PodInfo*> on_node, lower;
    for (const auto& b : bound) {
      if (b.node_name != n.name) continue;
      on_node.push_back(&b);
      if (b.priority < pod.priority) lower.push_back(&b);
    }
    if (lower.empty()) continue;
    // Remove every lower-priority pod; if it still does not fit, this node cannot help.
    ResourceList used;
    for (const auto* b : on_node) {
      if (b->priority >= pod.priority) {
        AddTo(used, b->requests);
        used["pods"] += 1;
      }
    }
    if (!FitFailures(pod, n, used).empty()) continue;
    // Reprieve the most important victims first (higher priority, then older).
    std::sort(lower.begin(), lower.end(), [](const PodInfo* a, const PodInfo* b) {
      if (a->priority != b->priority) return a->priority > b->priority;
      if (a->creation != b->creation) return a->creation < b->creation;
      return a->Key() < b->Key();
    });
    std::vector<const PodInfo*> victims;
    for (const auto* v : lower) {
      ResourceList with = used;
      AddTo(with, v->requests);
      with["pods"] += 1;
      PodInfo probe = pod;
      if (FitFailures(probe, n, with).empty()) {
        used = with;  // reprieved
      } else {
        victims.push_back(v);
      }
    }
    if (victims.empty()) continue;  // would fit without preemption (caller checks first)
    int32_t max_prio = std::numeric_limits<int32_t>::min();
    for (const auto* v : victims) max_prio = std::max(max_prio, v->priority);
    bool better = best.node.empty() || max_prio < best_max_prio ||
                  (max_prio == best_max_prio && victims.size() < best_count) ||
                  (max_prio == best_max_prio && victims.size() == best_count && n.name < best.node);
    if (better) {
      best.node = n.name;
      best.victims.clear();
      for (const auto* v : victims) best.victims.push_back(v->Key());
      best_max_prio = max_prio;
      best_count = victims.size();
    }
  }
  return best;
}

}  // namespace prescient::sim::cluster
