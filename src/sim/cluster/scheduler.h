// The scheduler's decisions as pure functions (kube-scheduler's default profile, reduced to what
// the sim needs): does a pod fit a node (resources vs allocatable minus bound pods, nodeSelector
// and required node affinity, taints NoSchedule/NoExecute, cordoned and NotReady nodes), which node to pick (preferred node
// affinity, then least allocated),
// the FailedScheduling message in the real scheduler's words, and priority preemption (the fewest,
// lowest-priority victims on one node, as the default preemption plugin picks them).
// Thread-safe (no state).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/cluster/resources.h"

namespace prescient::sim::cluster {

// Requests of the pods bound to each node (plus a "pods" count), by node name.
using NodeUsage = std::map<std::string, ResourceList>;
NodeUsage UsageOf(const std::vector<PodInfo>& bound_pods);
void AddPodTo(NodeUsage& usage, const std::string& node, const PodInfo& pod);

// Why `pod` cannot go to `node` given what is already there, in kube-scheduler's words
// ("Insufficient cpu", "node(s) didn't match Pod's node affinity/selector", ...). Empty = fits.
std::vector<std::string> FitFailures(const PodInfo& pod, const NodeInfo& node, const ResourceList& used);
// Only the placement predicates (selector, taints, cordon, readiness): can preemption ever help?
bool PassesNodeFilters(const PodInfo& pod, const NodeInfo& node);

struct ScheduleResult {
  std::string node;  // chosen node; "" when none fits
  // When nothing fits: "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated
  // taint {gpu: true}. preemption: ..." (the FailedScheduling event / PodScheduled message).
  std::string message;
};
// Picks the fitting node with the most free cpu+memory (ties: name order).
ScheduleResult PickNode(const PodInfo& pod, const std::vector<NodeInfo>& nodes, const NodeUsage& usage);

struct Preemption {
  std::string node;                 // "" = preemption cannot help
  std::vector<std::string> victims;  // "ns/name" of pods to evict
};
// Finds a node where evicting lower-priority pods makes room for `pod`: on each node the
// lowest-priority pods are removed until it fits, then as many as possible are reprieved
// (highest priority first). Among candidate nodes: the lowest highest-victim priority, then the
// fewest victims, then name order. `bound` are all pods bound to nodes.
Preemption FindPreemption(const PodInfo& pod, const std::vector<NodeInfo>& nodes,
                          const std::vector<PodInfo>& bound);

}  // namespace prescient::sim::cluster
