// The API server's self-description: legacy and aggregated (apidiscovery.k8s.io/v2) discovery, and
// OpenAPI v3 (root and per group/version) generated from the served resources and CRD schemas —
// what kubectl needs to discover resources and to run `apply` with server-side field validation.
// Pure functions of the resource list; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sim/store.h"

namespace prescient::sim {

inline constexpr const char* kAggregatedDiscoveryContentType =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

Json LegacyApiVersions(const std::string& server_address);
Json ApiGroupList(const std::vector<ResourceInfo>& resources);
std::optional<Json> ApiGroup(const std::vector<ResourceInfo>& resources, const std::string& group);
std::optional<Json> ApiResourceList(const std::vector<ResourceInfo>& resources, const std::string& group,
                                    const std::string& version);
// core = true for /api (the "" group), false for /apis.
Json AggregatedDiscovery(const std::vector<ResourceInfo>& resources, bool core);

Json OpenApiRoot(const std::vector<ResourceInfo>& resources);
// gv_path is "api/v1" or "apis/<group>/<version>".
std::optional<Json> OpenApiGroupVersion(const std::vector<ResourceInfo>& resources, const std::string& gv_path);

// Kubernetes version ordering (v1 > v1beta2 > v1beta1 > v1alpha1 > other), for preferred versions.
bool VersionHigherPriority(const std::string& a, const std::string& b);

}  // namespace prescient::sim
