// Patch application as the API server does it: JSON merge patch (RFC 7386), JSON patch (RFC 6902,
// including `test`), and server-side apply with a field-ownership approximation.
//
// Server-side apply approximation (documented in docs/sim.md): each manager's fields are kept in
// metadata.managedFields (fieldsType FieldsV1, the upstream "f:<key>" tree format). Lists are
// atomic (owned as a whole). Applying: a field in the applied configuration that another manager
// owns with a different live value is a conflict (409) unless force; fields this manager applied
// before but no longer sets are removed unless another manager owns them; the configuration is then
// merged into the live object. Ordinary writes (update/patch) make their manager own the fields
// whose values they changed. Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace prescient::sim {

using Json = nlohmann::json;

// RFC 7386. `patch` must be an object (else 400 is the caller's business).
Json ApplyMergePatch(const Json& target, const Json& patch);

// RFC 6902. Errors: 422 (reason Invalid) for failed operations, including a failed `test`.
Result<Json> ApplyJsonPatch(const Json& target, const Json& ops);

// The upstream FieldsV1 tree of every leaf set in `config` ({"f:spec":{"f:replicas":{}}}); lists
// and scalars are leaves. apiVersion, kind, metadata.name/namespace/uid/resourceVersion are left out.
Json FieldSetOf(const Json& config);

struct ApplyRequest {
  const Json* live = nullptr;  // null when the object does not exist yet
  const Json* config = nullptr;  // the applied configuration (object)
  std::string manager;
  std::string api_version;
  bool force = false;
  std::string timestamp;  // RFC 3339 for managedFields[].time
};

// Returns the new object (with metadata.managedFields updated) or 409 Conflict naming the fields
// and their managers, in the upstream wording.
Result<Json> ServerSideApply(const ApplyRequest& request);

// After an ordinary write by `manager` (operation "Update"): gives `manager` the fields whose values
// differ between old_obj and new_obj and takes them from other managers. Updates new_obj's
// metadata.managedFields in place. No-op when manager is empty.
void RecordUpdateOwnership(const Json* old_obj, Json* new_obj, const std::string& manager,
                           const std::string& api_version, const std::string& timestamp,
                           const std::string& subresource);

}  // namespace prescient::sim
