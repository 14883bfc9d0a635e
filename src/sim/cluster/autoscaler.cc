#include "sim/cluster/autoscaler.h"

#include <algorithm>

namespace prescient::sim::cluster {

NodeInfo TemplateNode(const NodeGroupSpec& group) {
  Json obj = NodeObject(group.node_template, group.name + "-template", group.name);
  auto n = NodeInfoFromJson(obj);
  return n.ok() ? *n : NodeInfo{};
}

size_t PackPods(const std::vector<PodInfo>& pods, const std::vector<NodeInfo>& nodes, NodeUsage& usage,
                std::vector<PodInfo>* unplaced) {
  size_t placed = 0;
  for (const auto& p : pods) {
    // First fit in node order, so packing is predictable (CA's simulation is first-fit too).
    bool ok = false;
    for (const auto& n : nodes) {
      if (FitFailures(p, n, usage[n.name]).empty()) {
        AddPodTo(usage, n.name, p);
        ok = true;
        break;
      }
    }
    if (ok) {
      ++placed;
    } else if (unplaced != nullptr) {
      unplaced->push_back(p);
    }
  }
  return placed;
}

// How many new template nodes of `g` the pods need (at most `room`); `helped` gets the pods placed.
static int NodesNeeded(const std::vector<PodInfo>& pods, const NodeGroupSpec& g, int room,
                       std::vector<const PodInfo*>* helped) {
  NodeInfo tmpl = TemplateNode(g);
  std::vector<NodeInfo> fresh;
  NodeUsage usage;
  for (const auto& p : pods) {
    if (!FitFailures(p, tmpl, {}).empty()) continue;  // this group can never hold it
    bool placed = false;
    for (const auto& n : fresh) {
      if (FitFailures(p, n, usage[n.name]).empty()) {
        AddPodTo(usage, n.name, p);
        placed = true;
        break;
      }
    }
    if (!placed) {
      if (static_cast<int>(fresh.size()) >= room) continue;
      NodeInfo n = tmpl;
      n.name = g.name + "-new-" + std::to_string(fresh.size());
      fresh.push_back(n);
      AddPodTo(usage, n.name, p);
    }
    if (helped != nullptr) helped->push_back(&p);
  }
  return static_cast<int>(fresh.size());
}

ScaleUpOption PlanScaleUp(const std::vector<PodInfo>& pods, const std::vector<GroupCapacity>& groups) {
  ScaleUpOption best;
  size_t best_helped = 0;
  for (const auto& gc : groups) {
    int room = gc.group->max_size - gc.size;
    if (room <= 0) continue;
    std::vector<const PodInfo*> helped;
    int n = NodesNeeded(pods, *gc.group, room, &helped);
    if (helped.empty()) continue;
    bool better = helped.size() > best_helped || (helped.size() == best_helped && n < best.new_nodes);
    if (better) {
      best.group = gc.group->name;
      best.new_nodes = n;
      best.helped_pods.clear();
      for (const auto* p : helped) best.helped_pods.push_back(p->Key());
      best_helped = helped.size();
    }
  }
  return best;
}

bool CapacityAvailable(const std::vector<PodInfo>& pods, const std::vector<NodeInfo>& nodes, NodeUsage& usage) {
  NodeUsage trial = usage;
  if (PackPods(pods, nodes, trial, nullptr) != pods.size()) return false;
  usage = std::move(trial);
  return true;
}

AtomicScaleUp PlanAtomicScaleUp(const std::vector<PodInfo>& pods, const std::vector<NodeInfo>& nodes,
                                NodeUsage usage, const std::vector<GroupCapacity>& groups) {
  AtomicScaleUp out;
  std::vector<PodInfo> rest;
  PackPods(pods, nodes, usage, &rest);
  if (rest.empty()) {
    out.feasible = true;
    return out;
  }
  for (const auto& gc : groups) {
    int room = gc.group->max_size - gc.size;
    if (room <= 0) continue;
    std::vector<const PodInfo*> helped;
    int n = NodesNeeded(rest, *gc.group, room, &helped);
    if (helped.size() != rest.size()) continue;  // all or nothing
    if (!out.feasible || n < out.new_nodes) {
      out.feasible = true;
      out.group = gc.group->name;
      out.new_nodes = n;
    }
  }
  return out;
}

}  // namespace prescient::sim::cluster
