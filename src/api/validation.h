// Validation of the prescient.dev resources in C++, mirroring every constraint of the CRD schemas
// in crds/ (bounds, patterns, enums, required fields) and every CEL rule (exactly-one-of,
// min <= max, immutability). It exists because a stand-in API server does not evaluate CEL and an
// object may have been admitted by an older CRD: the operator validates what it reads and turns
// errors into a False Valid condition. crd_schema_test.cc checks that this file and crds/ agree.
// Messages of CEL mirrors are the CEL rule messages; the others read like the API server's.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>

#include "api/types.h"

namespace prescient::api {

// Bounds shared with crds/generate.py (crd_schema_test.cc checks they are the same numbers).
inline constexpr int64_t kMaxCommandBytes = 65536;
inline constexpr int64_t kMaxArgs = 256;
inline constexpr int64_t kMaxEnv = 128;
inline constexpr int64_t kMaxEnvNameBytes = 256;
inline constexpr int64_t kMaxEnvValueBytes = 32768;
inline constexpr int64_t kMaxDependencies = 32;
inline constexpr int64_t kMaxPriority = 1000000000;
inline constexpr int64_t kMaxTimeoutSeconds = 604800;
inline constexpr int64_t kMaxShadowSeconds = 600;
inline constexpr int64_t kMaxWorkingDirBytes = 4096;
inline constexpr int64_t kMaxUserBytes = 256;
inline constexpr int64_t kMaxNameBytes = 253;       // DNS subdomain names
inline constexpr int64_t kMaxLabelNameBytes = 63;   // DNS label names (VMs, pools)
inline constexpr int64_t kMaxReservationUsers = 64;
inline constexpr int64_t kMaxCommandPatternBytes = 1024;
inline constexpr int64_t kMaxSelectorLabels = 64;
inline constexpr int64_t kMaxSelectorExpressions = 16;
inline constexpr int64_t kMaxSelectorValues = 64;
inline constexpr int64_t kMaxConditions = 32;
inline constexpr int64_t kMaxOutputTailBytes = 65536;

// What a create must satisfy (schema + CEL rules without oldSelf).
FieldErrors ValidateCommandRunSpec(const CommandRunSpec& spec);
// Metadata (name, namespace) and spec.
FieldErrors ValidateCommandRun(const CommandRun& run);
// The transition rules: spec is immutable after creation except priority and priorityClassName.
FieldErrors ValidateCommandRunSpecUpdate(const CommandRunSpec& old_spec, const CommandRunSpec& new_spec);
// What the operator and the agent write: phase, conditions, bounds on status fields.
FieldErrors ValidateCommandRunStatus(const CommandRunStatus& status);

FieldErrors ValidateResourceReservationSpec(const ResourceReservationSpec& spec);
FieldErrors ValidateResourceReservation(const ResourceReservation& r);
FieldErrors ValidateResourceReservationSpecUpdate(const ResourceReservationSpec& old_spec,
                                                  const ResourceReservationSpec& new_spec);

// Shared checks, exposed for the operator and tests.
FieldErrors ValidateTarget(const Target& target, const std::string& path);
FieldErrors ValidateConditions(const std::vector<Condition>& conditions, const std::string& path);
bool IsDnsLabel(const std::string& s);      // RFC 1123 label, <= 63
bool IsDnsSubdomain(const std::string& s);  // RFC 1123 subdomain, <= 253

}  // namespace prescient::api
