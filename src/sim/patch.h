// Patch application as the API server does it: JSON merge patch (RFC 7386), JSON patch (RFC 6902,
// including `test`), strategic merge patch (built-in types), and server-side apply with field
// ownership.
//
// Strategic merge patch (docs/sim.md) follows upstream's strategicpatch package as the API server
// runs it: maps merge key by key (null deletes), lists merge by their field's strategy
// (MergeTypes::StrategyAt: object items by their merge key, scalar items as a set; other lists are
// replaced), and the directives `$patch: replace|delete` (in a map or as a list item; `merge` is
// refused as upstream refuses it), `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>`
// (the order of the merged list: the patch's order, then the live order for items the patch does
// not name) and `$retainKeys` (clears fields it does not list) are honoured. Errors carry
// upstream's messages: 400 for malformed directives, 422 for lists of lists, 500 otherwise (a
// list item without its merge key, an unknown `$patch` value), as the API server answers.
//
// Server-side apply (docs/sim.md): each manager's fields are kept in metadata.managedFields
// (fieldsType FieldsV1, upstream's tree of "f:<field>", "k:{<keys>}" for items of map lists,
// "v:<value>" for items of sets, "." for an owned item with owned fields under it). Lists merge by
// their type (merge_types.h): atomic lists are replaced and owned whole; sets merge by value; map
// lists merge item by item on their keys, so two managers can each own their own containers, env
// entries or conditions. Applying: a field another manager owns whose value the apply changes is
// a conflict (409, upstream wording) unless force, which takes it over; fields this manager
// applied before but no longer sets are removed unless another manager owns them (or something
// under them). Ordinary writes (update/patch) make their manager own the fields whose values they
// changed. Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"
#include "sim/merge_types.h"

namespace prescient::sim {

using Json = nlohmann::json;

// RFC 7386. `patch` must be an object (else 400 is the caller's business).
Json ApplyMergePatch(const Json& target, const Json& patch);

// RFC 6902. Errors: 422 (reason Invalid) for failed operations, including a failed `test`.
Result<Json> ApplyJsonPatch(const Json& target, const Json& ops);

// Strategic merge patch of `patch` (an object) onto `target`, with the list strategies of `types`.
Result<Json> ApplyStrategicMergePatch(const Json& target, const Json& patch, const MergeTypes& types);

// The upstream FieldsV1 tree of what `config` sets ({"f:spec":{"f:replicas":{}}}): scalars, atomic
// lists and empty objects are leaves; items of sets and map lists are members of their own.
// apiVersion, kind, metadata.name/namespace/uid/resourceVersion are left out.
Json FieldSetOf(const Json& config, const MergeTypes& types = MergeTypes());

struct ApplyRequest {
  const Json* live = nullptr;  // null when the object does not exist yet
  const Json* config = nullptr;  // the applied configuration (object)
  std::string manager;
  std::string api_version;
  bool force = false;
  std::string timestamp;  // RFC 3339 for managedFields[].time
  const MergeTypes* types = nullptr;  // null: every list atomic
  std::string kind_for_errors;        // "/v1, Kind=Pod", as upstream names the type in errors
};

// Returns the new object (with metadata.managedFields updated), 409 Conflict naming the fields
// and their managers in the upstream wording, or (as upstream) 500 "failed to create typed patch
// object" when a list in the configuration does not fit its type (a map-list item without its key,
// duplicate keys, a non-scalar set item).
Result<Json> ServerSideApply(const ApplyRequest& request);

// After an ordinary write by `manager` (operation "Update"): gives `manager` the fields whose values
// differ between old_obj and new_obj and takes them from other managers. Updates new_obj's
// metadata.managedFields in place. No-op when manager is empty.
void RecordUpdateOwnership(const Json* old_obj, Json* new_obj, const std::string& manager,
                           const std::string& api_version, const std::string& timestamp,
                           const std::string& subresource, const MergeTypes* types = nullptr);

}  // namespace prescient::sim
