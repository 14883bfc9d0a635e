// The cluster-autoscaler's decisions as pure functions: packing pods onto existing and upcoming
// nodes (the scheduling simulation CA runs), the scale-up option for unschedulable pods (one node
// group per decision: the one that helps the most pods, then needs the fewest nodes, then name
// order), and the capacity checks behind ProvisioningRequests (check-capacity: fits the cluster
// now; best-effort-atomic-scale-up: fits after adding nodes to one group, all or nothing).
// Thread-safe (no state).
#pragma once

#include <string>
#include <vector>

#include "sim/cluster/scenario.h"
#include "sim/cluster/scheduler.h"

namespace prescient::sim::cluster {

// The node a node group would add (named "<group>-template"), as the scheduler sees it.
NodeInfo TemplateNode(const NodeGroupSpec& group);

// Places pods one by one (in the given order) onto `nodes`, updating `usage`. Returns the number
// placed; pods that fit nowhere are appended to `unplaced` (when not null).
size_t PackPods(const std::vector<PodInfo>& pods, const std::vector<NodeInfo>& nodes, NodeUsage& usage,
                std::vector<PodInfo>* unplaced);

struct GroupCapacity {
  const NodeGroupSpec* group = nullptr;
  int size = 0;  // nodes existing or being created
};

struct ScaleUpOption {
  std::string group;  // "" = no group can help
  int new_nodes = 0;
  std::vector<std::string> helped_pods;  // "ns/name"
};
// For pods that fit no existing or upcoming node: the best single node-group scale-up, capped at
// each group's maxSize. Pods no group's template can hold are left out.
ScaleUpOption PlanScaleUp(const std::vector<PodInfo>& pods, const std::vector<GroupCapacity>& groups);

// check-capacity: do all pods fit the given nodes (with usage already booked)? On success `usage`
// holds the booking.
bool CapacityAvailable(const std::vector<PodInfo>& pods, const std::vector<NodeInfo>& nodes, NodeUsage& usage);

// best-effort-atomic-scale-up: pods not fitting the current nodes must all fit new nodes of ONE
// group within its maxSize. Returns the option (group "" and new_nodes 0 when the current nodes
// suffice; `feasible` false when no group can take all of the rest).
struct AtomicScaleUp {
  bool feasible = false;
  std::string group;
  int new_nodes = 0;
};
AtomicScaleUp PlanAtomicScaleUp(const std::vector<PodInfo>& pods, const std::vector<NodeInfo>& nodes,
                                NodeUsage usage, const std::vector<GroupCapacity>& groups);

}  // namespace prescient::sim::cluster
