// The agent's typed view of a CommandRun and the status it writes. This is the one place in the
// agent where CommandRun JSON is read or written (the edge, per STYLE.md): ParseRun validates
// everything the agent relies on (names, UID, quantities, env names, dependency endpoints) and
// refuses the object with a message naming the field; the Apply* functions mutate a CommandRun
// object's `status` in place for a resourceVersion-guarded PUT of the status subresource.
//
// TODO(integration): when src/api (prescient_api) lands, ParseRun should delegate the spec/status
// decoding and validation to api::CommandRun and keep only the agent-specific checks here.
//
// Pure functions on values; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status.h"

namespace prescient::agent {

inline constexpr const char* kGroupVersion = "prescient.dev/v1alpha1";
inline constexpr const char* kInstanceLabel = "prescient.dev/instance";

// A remote endpoint the run needs before it starts (declared in spec or predicted by the operator).
struct Dependency {
  std::string host;
  int port = 0;
  std::string source;  // "declared" | "predicted"
  bool operator==(const Dependency&) const = default;
};

// The limits the operator granted (status.allocation).
struct Allocation {
  int64_t cpu_milli = 0;
  int64_t memory_bytes = 0;
  // status.allocation.networkPriority (api::NetworkPriority's names): Low, Normal, High.
  std::string network_priority = "Normal";
  // Optional IO controls the agent applies when status.allocation carries them (ioWeight 1..10000,
  // diskReadBytesPerSecond / diskWriteBytesPerSecond; 0 = unlimited). See docs/agent-protocol.md.
  std::optional<uint32_t> io_weight{};
  int64_t disk_read_bps = 0;
  int64_t disk_write_bps = 0;
  bool operator==(const Allocation&) const = default;
};

// status.agent: who claimed the run.
struct Claim {
  std::string instance;
  std::string claimed_at;
  std::string hostname;
  std::string boot_id;
  int64_t pid = 0;
  std::string cgroup;
  std::optional<Allocation> applied_allocation;
};

// status.stopRequest: the operator asks the agent running the run to stop it (preemption of a run
// whose spec.allowPreemptionWhileRunning is true; docs/agent-protocol.md "Preemption").
struct StopRequest {
  std::string reason;        // Preempted
  std::string requested_by;  // the run that needs the room
  std::optional<int64_t> grace_seconds;  // SIGTERM -> SIGKILL; absent: the agent's default
  bool operator==(const StopRequest&) const = default;
};

// The parts of a CommandRun the agent acts on.
struct RunView {
  std::string ns, name, uid, resource_version;
  std::map<std::string, std::string> labels;
  bool deleting = false;
  // spec
  std::optional<std::string> command;  // run with /bin/sh -c
  std::vector<std::string> args;       // argv, when command is absent
  std::vector<std::pair<std::string, std::string>> env;
  std::string working_dir;
  int64_t timeout_seconds = 0;  // 0 = none
  std::vector<Dependency> dependencies;  // declared, then predicted (deduplicated)
  int64_t shadow_duration_seconds = 0;
  bool shadow_allow_network = false;
  // status
  std::string phase;
  std::optional<Allocation> allocation;
  std::optional<Claim> claim;
  bool shadow_requested = false;
  std::optional<StopRequest> stop_request;
  // status.preemptions: the attempt number. Each time the operator re-queues a run the agent stopped
  // (phase Preempted) it counts one more; the agent claims each attempt at most once.
  int64_t preemptions = 0;

  std::string Key() const { return ns + "/" + name; }
  // The argv to exec: {"/bin/sh","-c",command} or args. Nothing else from the run reaches a shell.
  std::vector<std::string> Argv() const;
  bool Terminal() const { return phase == "Succeeded" || phase == "Failed"; }
};

// Decodes and validates a CommandRun object. Fails (kInvalidArgument, naming the field) on anything
// the agent cannot trust; fields the agent does not use are not inspected.
Result<RunView> ParseRun(const nlohmann::json& obj);
// Lighter: only metadata (namespace, name, uid, labels), for refusing a run whose spec is invalid.
Result<RunView> ParseRunMetadata(const nlohmann::json& obj);

// Usage as the agent reports it (status.usage).
struct Usage {
  double cpu_seconds = 0;
  double peak_cores = 0;            // highest average over one sampling interval
  int64_t memory_peak_bytes = 0;    // cgroup peak (includes page cache on v1)
  int64_t anon_peak_bytes = 0;      // peak anonymous memory (what decides an OOM kill)
  int64_t memory_current_bytes = 0;
  int64_t throttled_usec = 0;
  int64_t nr_throttled = 0;
  int64_t io_read_bytes = 0, io_write_bytes = 0;
  int64_t net_rx_bytes = 0, net_tx_bytes = 0;
  std::string network_scope;        // "cgroup" | "guest" (whole-guest /proc/net/dev deltas)
  int64_t oom_kills = 0;
  std::vector<std::string> endpoints;  // "host:port" remote endpoints seen (dependency learning)
  bool operator==(const Usage&) const = default;
};

// status.result.
struct RunResult {
  std::optional<int> exit_code;  // absent when unknown (e.g. Lost)
  std::optional<int> signal;
  bool oom_killed = false;
  std::string reason;  // Completed, Error, OOMKilled, Timeout, Lost, DependencyFailed, Refused, Preempted
  std::string message;
  std::string started_at, finished_at;
  std::string output_tail;
  // Preempted is not final: the operator re-queues the run as a fresh attempt.
  std::string Phase() const {
    if (reason == "Completed") return "Succeeded";
    if (reason == "Preempted") return "Preempted";
    return "Failed";
  }
};

struct Condition {
  std::string type, status, reason, message;
};

// One shadow execution's outcome (status.shadow.result).
struct ShadowResult {
  double duration_seconds = 0;
  Usage usage;
  std::vector<std::pair<double, int64_t>> memory_curve;  // (seconds since start, bytes)
  std::vector<std::pair<double, double>> cpu_curve;      // (seconds since start, cores)
  bool exited = false;
  std::optional<int> exit_code;
  std::string message;
};

nlohmann::json UsageToJson(const Usage& u, Clock::TimePoint now);
nlohmann::json ResultToJson(const RunResult& r);
nlohmann::json ClaimToJson(const Claim& c);
nlohmann::json ShadowResultToJson(const ShadowResult& r);
Result<RunResult> ResultFromJson(const nlohmann::json& j);
Result<Usage> UsageFromJson(const nlohmann::json& j);

// Status mutations on a full CommandRun object (for PUT …/status carrying its resourceVersion).
void ApplyClaim(nlohmann::json* obj, const Claim& claim);
void ApplyAppliedAllocation(nlohmann::json* obj, const Allocation& a);
void ApplyUsage(nlohmann::json* obj, const Usage& usage, Clock::TimePoint now);
void ApplyResult(nlohmann::json* obj, const RunResult& result);
void ApplyStartedAt(nlohmann::json* obj, const std::string& started_at);
// Sets or replaces one condition; lastTransitionTime changes only when status flips.
void ApplyCondition(nlohmann::json* obj, const Condition& c, Clock::TimePoint now);
void ApplyShadowResult(nlohmann::json* obj, const ShadowResult& r);

// Safe names for files and cgroups derived from a run: a UID is [0-9a-f-]{1,64}.
bool ValidUid(const std::string& uid);

}  // namespace prescient::agent
