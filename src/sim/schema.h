// Structural-schema handling for custom resources, as the API server does it on create/update:
// defaults are applied, unknown fields are found (and pruned, or refused under fieldValidation
// Strict, or reported as warnings under Warn), then the object is validated: types (incl.
// x-kubernetes-int-or-string, nullable), required, enum, minimum/maximum (+exclusive), minLength/
// maxLength, minItems/maxItems, pattern, maxProperties/minProperties. CEL rules
// (x-kubernetes-validations) are NOT evaluated. Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace prescient::sim {

using Json = nlohmann::json;

struct FieldError {
  std::string field;    // "spec.replicas"
  std::string type;     // "Invalid value", "Required value", "Unsupported value", ...
  std::string detail;   // the full upstream-style "field: Type: detail" text
  std::string reason;   // Status cause reason: FieldValueInvalid, FieldValueRequired, ...
};

// Applies `default`s from the schema to `obj` in place (objects' missing properties only).
void ApplySchemaDefaults(const Json& schema, Json* obj);

// Removes fields the schema does not declare (outside x-kubernetes-preserve-unknown-fields and
// the standard metadata), returning their paths ("spec.foo"). apiVersion/kind/metadata at the root
// are always known.
std::vector<std::string> PruneUnknownFields(const Json& schema, Json* obj);

// Validates obj against the schema. Empty when valid.
std::vector<FieldError> ValidateAgainstSchema(const Json& schema, const Json& obj);

}  // namespace prescient::sim
