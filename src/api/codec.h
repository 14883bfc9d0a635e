// The JSON wire form of the prescient.dev resources: the one place CommandRun and
// ResourceReservation objects are converted from and to JSON (STYLE.md: JSON only at the edges).
//
// Decoding never throws and never stops at the first problem: every wrong type, unknown spec
// field (as the API server's Strict field validation would report), malformed quantity or
// timestamp and unknown enum value is appended to `errors` with its path, and the field is left
// unset. Semantic rules (bounds, exactly-one-of, min <= max, immutability) are in validation.h.
// Status is decoded leniently about unknown fields (the server prunes them anyway).
// Encoding writes canonical quantities ("1500m", "512Mi") and RFC 3339 times and omits empty parts.
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "api/types.h"

namespace prescient::api {

ObjectMeta ObjectMetaFromJson(const nlohmann::json& j, FieldErrors* errors);
nlohmann::json ObjectMetaToJson(const ObjectMeta& m);

std::vector<Condition> ConditionsFromJson(const nlohmann::json& j, const std::string& path, FieldErrors* errors);
nlohmann::json ConditionsToJson(const std::vector<Condition>& conditions);

CommandRun CommandRunFromJson(const nlohmann::json& j, FieldErrors* errors);
CommandRunSpec CommandRunSpecFromJson(const nlohmann::json& j, FieldErrors* errors);
CommandRunStatus CommandRunStatusFromJson(const nlohmann::json& j, FieldErrors* errors);
// The whole object, with apiVersion and kind.
nlohmann::json CommandRunToJson(const CommandRun& run);
nlohmann::json CommandRunSpecToJson(const CommandRunSpec& spec);
// The `status` value, for a PUT or merge patch of the status subresource.
nlohmann::json CommandRunStatusToJson(const CommandRunStatus& status);
nlohmann::json AllocationToJson(const Allocation& a);
nlohmann::json PredictionToJson(const Prediction& p);

ResourceReservation ResourceReservationFromJson(const nlohmann::json& j, FieldErrors* errors);
ResourceReservationSpec ResourceReservationSpecFromJson(const nlohmann::json& j, FieldErrors* errors);
ResourceReservationStatus ResourceReservationStatusFromJson(const nlohmann::json& j, FieldErrors* errors);
nlohmann::json ResourceReservationToJson(const ResourceReservation& r);
nlohmann::json ResourceReservationSpecToJson(const ResourceReservationSpec& spec);
nlohmann::json ResourceReservationStatusToJson(const ResourceReservationStatus& status);

}  // namespace prescient::api
