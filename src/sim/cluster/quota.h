// ResourceQuota arithmetic as the real quota admission plugin and quota controller do it:
// which quotas match an object (scopes: Terminating, NotTerminating, BestEffort, NotBestEffort,
// PriorityClass via scopeSelector), what a pod or another object counts against them ("pods",
// "count/pods", "requests.cpu" = "cpu", "limits.memory", "requests.<extended resource>",
// "count/<resource>.<group>" and the legacy object counts), and the 403 Forbidden a create gets
// when it would exceed `hard`, with the real message ("exceeded quota: NAME, requested: …,
// used: …, limited: …"). Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "sim/cluster/resources.h"

namespace prescient::sim::cluster {

struct ScopeRequirement {
  std::string scope_name;  // PriorityClass, Terminating, NotTerminating, BestEffort, NotBestEffort
  std::string op;          // In, NotIn, Exists, DoesNotExist
  std::vector<std::string> values;
};

struct QuotaSpec {
  std::string ns, name;
  ResourceList hard;
  std::vector<std::string> scopes;
  std::vector<ScopeRequirement> scope_selector;
};
Result<QuotaSpec> QuotaSpecFromJson(const Json& quota);

// Whether a pod is subject to the quota (scopes and scopeSelector all match).
bool QuotaMatchesPod(const QuotaSpec& quota, const Json& pod, const PodResources& resources);

// Everything a (non-terminal) pod counts, keyed by every quota resource name it can affect.
ResourceList PodQuotaUsage(const PodResources& resources);
// What creating one object of `group_resource` ("configmaps", "virtualmachines.kubevirt.io")
// counts: {"count/configmaps": 1, "configmaps": 1} (legacy names for the core kinds that have one).
ResourceList ObjectCountUsage(const std::string& group_resource);

// Checks `requested` against `hard` given `used` (only keys in hard count). Returns Ok or a
// Forbidden Status: `<group_resource> "<name>" is forbidden: exceeded quota: <quota>, requested:
// <r>, used: <u>, limited: <h>` (each list only the exceeded resources, sorted by name).
Status CheckQuota(const QuotaSpec& quota, const ResourceList& used, const ResourceList& requested,
                  const std::string& group_resource, const std::string& object_name);
// A pod lacking a request/limit that the quota constrains: `failed quota: NAME: must specify
// limits.cpu,limits.memory`.
Status CheckMustSpecify(const QuotaSpec& quota, const PodResources& resources,
                        const std::string& object_name);
// Restricts `usage` to the keys of `hard` (status.used reports exactly the hard keys).
ResourceList RestrictTo(const ResourceList& usage, const ResourceList& hard);

}  // namespace prescient::sim::cluster
