// How server-side apply merges and tracks each part of an object, as structured-merge-diff does
// upstream: every list has a list type — atomic (replaced whole, owned as one field), set (scalar
// items merged by value) or map (object items merged by their x-kubernetes-list-map-keys) — and an
// object is granular (merged key by key) unless it is x-kubernetes-map-type: atomic.
//
// Custom resources take this from their CRD's structural schema (lists without
// x-kubernetes-list-type are atomic, as upstream). Built-in types take it from a table of the list
// types upstream declares for the fields the sim's built-ins use (pod containers by name, their
// ports by containerPort+protocol, env by name, conditions by type, ...); any other built-in list
// is atomic. metadata.finalizers (set) and metadata.ownerReferences (map by uid) are the same for
// every kind.
//
// Strategic merge patch (built-in types only; custom resources get 415) follows a different set of
// markers: the patchStrategy / patchMergeKey struct tags of k8s.io/api. A list with strategy
// "merge" merges its object items by ONE merge key (containers by name, container ports by
// containerPort, service ports by port, ownerReferences by uid, conditions by type) and its scalar
// items as a set (metadata.finalizers, spec.podCIDRs); every other list is replaced whole (pod
// tolerations, node taints, endpoint subsets, ...). StrategyAt answers from a table of those tags
// for the built-ins the sim serves.
//
// Pure; thread-safe. A MergeTypes refers to the ResourceInfo's schema: keep that alive.
#pragma once

#include <string>
#include <vector>

#include "sim/store.h"

namespace prescient::sim {

struct ListType {
  enum class Kind { kAtomic, kSet, kMap };
  Kind kind = Kind::kAtomic;
  std::vector<std::string> keys;       // kMap: x-kubernetes-list-map-keys, in declared order
  Json key_defaults = Json::object();  // values for absent key fields (schema defaults, e.g. protocol TCP)
};

// A path of field names from the object root; "[]" steps into a list's items:
// {"spec", "containers", "[]", "ports"}.
using TypePath = std::vector<std::string>;

// A field's strategic-merge-patch strategy (upstream's patchStrategy/patchMergeKey tags).
struct PatchStrategy {
  bool merge = false;     // a list merged with the patch's list; false: the patch's list replaces it
  std::string merge_key;  // lists of objects: the one field items are matched by ("" for scalar lists)
};

class MergeTypes {
 public:
  // Every list atomic, every object granular (metadata as for all kinds).
  MergeTypes() = default;
  // For a served resource: its CRD schema, or the built-in table by group and resource.
  static MergeTypes For(const ResourceInfo& info);

  ListType ListAt(const TypePath& path) const;
  bool AtomicMapAt(const TypePath& path) const;
  // Strategic merge patch: the strategy of the list at path (built-ins; metadata for every kind).
  PatchStrategy StrategyAt(const TypePath& path) const;

 private:
  const Json* SchemaAt(const TypePath& path) const;  // null when unknown

  const Json* schema_ = nullptr;  // CRD openAPIV3Schema
  std::string builtin_;           // "group/plural" of a built-in resource
};

}  // namespace prescient::sim
