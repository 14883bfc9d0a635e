// The resources prescient-sim serves: the built-in ones (a fixed table) and those a
// CustomResourceDefinition declares (derived from the CRD object), plus the conversion between
// core/v1 Events and events.k8s.io/v1 Events (one storage, two views, as upstream).
// Pure functions; thread-safe.
#pragma once

#include <vector>

#include "sim/store.h"

namespace prescient::sim {

std::vector<ResourceInfo> BuiltinResources();

// One ResourceInfo per served version of the CRD. Errors (422 Invalid) name the bad field.
Result<std::vector<ResourceInfo>> ResourcesFromCrd(const Json& crd);
// Checks a CRD for what the server needs to serve it (names, versions, a single storage version,
// structural schemas). 422 Invalid Status on failure.
Status ValidateCrd(const Json& crd);
// The status a real server sets once a CRD is served (acceptedNames, NamesAccepted, Established).
void SetCrdEstablished(Json* crd, const std::string& now);

// Storage key for a resource (objects of all versions share it): "group/plural"; events.k8s.io
// events share core events' storage.
std::string StorageKey(const GroupVersionResource& r);
// events.k8s.io/v1 <-> core/v1 (storage) conversion.
Json EventToCore(const Json& ev);
Json EventFromCore(const Json& core);
// Field paths accepted by field selectors on a resource (beyond metadata.name/namespace).
bool FieldSelectorSupported(const GroupVersionResource& r, const std::string& field);
// Maps an events.k8s.io field selector path onto the stored core path.
std::string StorageFieldPath(const GroupVersionResource& r, const std::string& field);

}  // namespace prescient::sim
