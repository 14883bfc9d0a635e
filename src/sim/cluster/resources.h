// Resource arithmetic shared by the scheduler, quota, KubeVirt and autoscaler code: a ResourceList
// keyed by resource name ("cpu" in millicores, everything else in whole units: bytes or counts),
// what a pod requests (containers summed, init containers as a maximum, overhead added, limits
// copied to missing requests as API defaulting does), and the pod/node views the scheduler reads.
// Pure functions over JSON in, plain structs out; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace prescient::sim::cluster {

using Json = nlohmann::json;
using ResourceList = std::map<std::string, int64_t>;
using Labels = std::map<std::string, std::string>;

// "cpu", "requests.cpu", "limits.cpu": amounts are millicores.
bool IsCpuResource(std::string_view name);
// Parses one amount for `name` ("500m" → 500 for cpu; "1Gi" → 1073741824 for memory).
Result<int64_t> ParseAmount(std::string_view name, const Json& value);
// Canonical text for an amount ("500m", "2", "1Gi", "110").
std::string FormatAmount(std::string_view name, int64_t amount);
// {"cpu": "2", "memory": "4Gi"} → ResourceList. `where` names the field in errors.
Result<ResourceList> ParseResourceList(const Json& obj, std::string_view where);
Json ResourceListToJson(const ResourceList& list);
void AddTo(ResourceList& total, const ResourceList& more);
// "cpu=500m,memory=1Gi" (sorted by name), the form quota messages use.
std::string FormatResourceList(const ResourceList& list);

struct PodResources {
  ResourceList requests;  // effective: containers summed, max with each init container, + overhead
  ResourceList limits;
  // Container names missing a request / limit for cpu or memory (quota's "must specify" check).
  std::vector<std::string> containers;
  std::map<std::string, std::vector<std::string>> missing;  // "requests.cpu" → ["compute"]
  bool best_effort = true;  // no cpu/memory request or limit in any container
};
Result<PodResources> PodResourcesFromJson(const Json& pod);

struct Taint {
  std::string key, value, effect;  // NoSchedule, PreferNoSchedule, NoExecute
};
struct Toleration {
  std::string key, op = "Equal", value, effect;  // op Equal|Exists; empty key + Exists = all
};
bool Tolerates(const std::vector<Toleration>& tolerations, const Taint& taint);

// Required node affinity (spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution):
// a node must match one of the terms; a term matches when all its requirements do (an empty term
// matches nothing, as upstream). Operators In, NotIn, Exists, DoesNotExist, Gt, Lt on labels;
// matchFields on metadata.name (In, NotIn).
struct NodeSelectorRequirement {
  std::string key, op;
  std::vector<std::string> values;
  bool field = false;  // from matchFields: key is metadata.name
};
using NodeSelectorTerm = std::vector<NodeSelectorRequirement>;

// Preferred node affinity (spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution):
// each term whose preference a node matches (the same matching as a required term; an empty
// preference matches nothing) adds its weight (1-100) to the node's score.
struct PreferredSchedulingTerm {
  int32_t weight = 0;
  NodeSelectorTerm preference;
};

// What the scheduler needs to know about a node.
struct NodeInfo {
  std::string name;
  ResourceList allocatable;
  Labels labels;
  std::vector<Taint> taints;
  bool unschedulable = false;  // spec.unschedulable (cordoned)
  bool ready = true;
};
Result<NodeInfo> NodeInfoFromJson(const Json& node);

// What the scheduler needs to know about a pod.
struct PodInfo {
  std::string ns, name, uid;
  int32_t priority = 0;
  bool preemption_never = false;  // spec.preemptionPolicy: Never
  ResourceList requests;          // effective requests (PodResources::requests)
  Labels node_selector;
  std::vector<NodeSelectorTerm> required_affinity;  // empty: no required node affinity
  std::vector<PreferredSchedulingTerm> preferred_affinity;
  std::vector<Toleration> tolerations;
  std::string node_name;            // spec.nodeName ("" = not bound)
  std::string nominated_node_name;  // status.nominatedNodeName
  std::string creation;             // metadata.creationTimestamp (for ordering)
  std::string Key() const { return ns + "/" + name; }
};
Result<PodInfo> PodInfoFromJson(const Json& pod);

// Whether a node passes the pod's nodeSelector and required node affinity.
bool MatchesNodeAffinity(const PodInfo& pod, const NodeInfo& node);
// The sum of the weights of the pod's preferred node-affinity terms the node matches.
int64_t PreferredAffinityWeight(const PodInfo& pod, const NodeInfo& node);

// True for pods whose phase is Succeeded or Failed (they hold no resources).
bool PodIsTerminal(const Json& pod);

// Small JSON helpers used across the controllers.
std::string Str(const Json& obj, std::initializer_list<const char*> path, std::string fallback = "");
const Json* Find(const Json& obj, std::initializer_list<const char*> path);
Labels LabelsAt(const Json& obj, std::initializer_list<const char*> path);

}  // namespace prescient::sim::cluster
