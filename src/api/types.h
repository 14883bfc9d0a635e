// The prescient.dev/v1alpha1 resources as plain C++ values: CommandRun and ResourceReservation.
// Quantities are int64 (CPU in millicores, everything else in bytes or bytes per second); times are
// Clock::TimePoint. The JSON wire form lives only in codec.{h,cc}; validation in validation.h.
// Optional spec fields are std::optional so "absent" and "set to the default" stay distinguishable
// (the immutability rules compare presence as the CEL rules do). Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/constants.h"
#include "api/meta.h"

namespace prescient::api {

// ---- shared pieces --------------------------------------------------------------------------

// Where a run executes or a reservation holds capacity: exactly one of the three.
struct Target {
  std::optional<std::string> vm_name;
  std::optional<LabelSelector> vm_selector;
  std::optional<std::string> vm_pool_name;
  // "vm small-vm", "pool workers", "vms matching app=db".
  std::string Describe() const;
  bool operator==(const Target&) const = default;
};

// A set of optional amounts (bounds, reservation sizes). Absent = no bound.
struct ResourceAmounts {
  std::optional<int64_t> cpu_milli;
  std::optional<int64_t> memory_bytes;
  std::optional<int64_t> disk_bytes;
  std::optional<int64_t> network_bytes_per_second;
  bool Empty() const { return !cpu_milli && !memory_bytes && !disk_bytes && !network_bytes_per_second; }
  bool operator==(const ResourceAmounts&) const = default;
};

struct ResourceBounds {
  std::optional<ResourceAmounts> min;
  std::optional<ResourceAmounts> max;
  bool operator==(const ResourceBounds&) const = default;
};

enum class DependencyKind { kService, kDeployment, kEndpoint };
const char* DependencyKindName(DependencyKind k);
bool ParseDependencyKind(std::string_view text, DependencyKind* out);

struct Dependency {
  std::optional<std::string> name;
  DependencyKind kind = DependencyKind::kService;
  std::string host;
  int32_t port = 0;
  bool operator==(const Dependency&) const = default;
};

// ---- CommandRun -----------------------------------------------------------------------------

struct EnvVar {
  std::string name;
  std::string value;
  bool operator==(const EnvVar&) const = default;
};

struct ShadowSpec {
  bool enabled = false;
  int32_t duration_seconds = kDefaultShadowDurationSeconds;
  bool allow_network = false;
  bool operator==(const ShadowSpec&) const = default;
};

struct CommandRunSpec {
  std::optional<std::string> command;            // run with /bin/sh -c
  std::optional<std::vector<std::string>> args;  // argv, no shell
  Target target;
  std::optional<std::string> priority_class_name;
  std::optional<int32_t> priority;
  std::optional<std::string> user;
  std::optional<std::string> reservation_name;
  std::optional<ResourceBounds> resources;
  std::optional<ShadowSpec> shadow;
  std::optional<std::vector<Dependency>> dependencies;
  std::optional<int64_t> timeout_seconds;
  std::optional<std::vector<EnvVar>> env;
  std::optional<std::string> working_dir;
  std::optional<bool> allow_preemption_while_running;

  int64_t TimeoutSeconds() const { return timeout_seconds.value_or(kDefaultTimeoutSeconds); }
  bool AllowPreemptionWhileRunning() const { return allow_preemption_while_running.value_or(false); }
  bool ShadowEnabled() const { return shadow && shadow->enabled; }
  // The command as one line for prediction, matching and logs: `command`, or args joined by spaces.
  std::string CommandLine() const;
  bool operator==(const CommandRunSpec&) const = default;
};

enum class RunPhase {
  kNone,  // status.phase absent: not seen by the operator yet
  kPending, kPredicting, kShadowing, kQueued, kScaling, kAllocating, kAllocated, kRunning,
  // The agent stopped the command at the operator's stop request (status.stopRequest) and reported
  // it; the operator re-queues the run as a fresh attempt. Not terminal; holds no capacity.
  kPreempted,
  kSucceeded, kFailed,
};
const char* RunPhaseName(RunPhase p);  // "" for kNone
bool ParseRunPhase(std::string_view text, RunPhase* out);
inline bool IsTerminal(RunPhase p) { return p == RunPhase::kSucceeded || p == RunPhase::kFailed; }
// Whether a run in this phase holds capacity recorded in status.allocation.
inline bool HoldsAllocation(RunPhase p) { return p == RunPhase::kAllocated || p == RunPhase::kRunning; }

struct Prediction {
  int64_t cpu_milli = 0;
  int64_t memory_bytes = 0;
  int64_t disk_read_bytes_per_second = 0;
  int64_t disk_write_bytes_per_second = 0;
  int64_t network_bytes_per_second = 0;
  double duration_seconds = 0;
  std::vector<Dependency> dependencies;
  double quantile = 0;
  std::string model_version;
  std::string source;  // Model, Shadow, History, Heuristic, Default
  bool operator==(const Prediction&) const = default;
};

enum class NetworkPriority { kLow, kNormal, kHigh };
const char* NetworkPriorityName(NetworkPriority p);
bool ParseNetworkPriority(std::string_view text, NetworkPriority* out);

// What was set aside for a run on one instance (the seed's Allocation); the agent's cgroup limits.
struct Allocation {
  std::string instance_id;  // VMI name
  std::string vm_name;
  std::string node;
  int64_t cpu_milli = 0;
  int64_t memory_bytes = 0;
  int64_t disk_bytes = 0;
  NetworkPriority network_priority = NetworkPriority::kNormal;
  std::string reservation_name;  // empty unless drawn from a reservation
  std::optional<Time> allocated_at;
  // Optional IO controls (docs/agent-protocol.md "Limits beyond CPU and memory"): a proportional
  // weight (kMinIoWeight..kMaxIoWeight; absent = the kernel's default 100) and per-disk bandwidth
  // limits in bytes per second (0 = unlimited).
  std::optional<int32_t> io_weight;
  int64_t disk_read_bytes_per_second = 0;
  int64_t disk_write_bytes_per_second = 0;
  bool operator==(const Allocation&) const = default;
};

struct QueueStatus {
  int32_t position = 0;
  std::string reason;
  std::string message;
  std::optional<Time> since;
  std::string preempted_by;
  bool operator==(const QueueStatus&) const = default;
};

struct UsagePeaks {
  double cpu_cores = 0;
  int64_t memory_bytes = 0;
  int64_t anon_memory_bytes = 0;
  int64_t disk_read_bytes_per_second = 0;
  int64_t disk_write_bytes_per_second = 0;
  int64_t network_bytes_per_second = 0;
  bool operator==(const UsagePeaks&) const = default;
};

struct UsageTotals {
  double cpu_seconds = 0;
  double throttled_seconds = 0;
  int64_t throttled_periods = 0;
  int64_t disk_read_bytes = 0;
  int64_t disk_write_bytes = 0;
  int64_t network_receive_bytes = 0;
  int64_t network_transmit_bytes = 0;
  int64_t oom_kills = 0;
  double wall_seconds = 0;
  bool operator==(const UsageTotals&) const = default;
};

struct Usage {
  UsagePeaks peaks;
  UsageTotals totals;
  int64_t memory_current_bytes = 0;
  std::optional<double> cpu_throttled_fraction;
  std::vector<std::string> endpoints;
  std::string network_scope;
  std::optional<Time> last_report_time;
  bool operator==(const Usage&) const = default;
};

struct RunResult {
  std::optional<int32_t> exit_code;
  std::optional<int32_t> signal;
  bool oom_killed = false;
  std::string reason;  // Completed, Error, OOMKilled, Timeout, Lost, DependencyFailed, Refused, Invalid, Unschedulable
  std::string message;
  std::optional<Time> started_at;
  std::optional<Time> finished_at;
  std::string output_tail;
  bool operator==(const RunResult&) const = default;
};

struct AppliedAllocation {
  int64_t cpu_milli = 0;
  int64_t memory_bytes = 0;
  std::optional<Time> applied_at;
  bool operator==(const AppliedAllocation&) const = default;
};

// status.agent: the agent's exactly-once claim (see docs/agent-protocol.md).
struct AgentClaim {
  std::string instance;
  std::optional<Time> claimed_at;
  std::string hostname;
  std::string boot_id;
  int64_t pid = 0;
  std::string cgroup;
  std::optional<AppliedAllocation> applied_allocation;
  bool operator==(const AgentClaim&) const = default;
};

struct ShadowResult {
  double duration_seconds = 0;
  std::optional<Usage> usage;
  std::vector<std::pair<double, int64_t>> memory_curve;  // (seconds, bytes)
  std::vector<std::pair<double, double>> cpu_curve;      // (seconds, cores)
  bool exited = false;
  std::optional<int32_t> exit_code;
  std::string message;
  bool operator==(const ShadowResult&) const = default;
};

struct ShadowStatus {
  bool requested = false;
  std::optional<Time> requested_at;
  std::optional<ShadowResult> result;
  bool operator==(const ShadowStatus&) const = default;
};

// status.stopRequest: the operator asks the agent running the run to stop it (preemption of a
// running run whose spec.allowPreemptionWhileRunning is true). The agent sends SIGTERM, SIGKILLs
// the run's cgroup after the grace period, and reports phase Preempted (result.reason Preempted).
struct StopRequest {
  std::string reason;        // CamelCase: Preempted
  std::string requested_by;  // the preempting run's name (same namespace)
  std::optional<Time> requested_at;
  std::optional<int32_t> grace_period_seconds;  // absent: the agent's default
  bool operator==(const StopRequest&) const = default;
};

struct CommandRunStatus {
  RunPhase phase = RunPhase::kNone;
  int64_t observed_generation = 0;
  std::optional<Prediction> prediction;
  std::optional<Allocation> allocation;
  std::optional<QueueStatus> queue;
  std::optional<Usage> usage;
  std::optional<RunResult> result;
  std::optional<AgentClaim> agent;
  std::optional<ShadowStatus> shadow;
  std::optional<StopRequest> stop_request;
  // Times the run was stopped while running to make room and re-queued; each re-queue starts a
  // fresh attempt, and the agent claims each attempt at most once.
  int32_t preemptions = 0;
  std::vector<Condition> conditions;
  bool operator==(const CommandRunStatus&) const = default;
};

struct CommandRun {
  ObjectMeta metadata;
  CommandRunSpec spec;
  CommandRunStatus status;
  std::string Key() const { return KeyOf(metadata); }
  bool operator==(const CommandRun&) const = default;
};

// ---- ResourceReservation --------------------------------------------------------------------

enum class PatternSyntax { kGlob, kRegex };
const char* PatternSyntaxName(PatternSyntax s);
bool ParsePatternSyntax(std::string_view text, PatternSyntax* out);

struct ReservationWindow {
  std::optional<Time> start;
  std::optional<Time> end;
  bool operator==(const ReservationWindow&) const = default;
};

struct ResourceReservationSpec {
  ResourceAmounts resources;  // cpu, memory, disk (network unused)
  Target target;
  std::vector<std::string> users;  // empty: anyone
  std::optional<std::string> command_pattern;  // absent: any command
  PatternSyntax command_pattern_syntax = PatternSyntax::kGlob;
  std::optional<int32_t> priority;
  std::optional<ReservationWindow> window;
  bool operator==(const ResourceReservationSpec&) const = default;
};

enum class ReservationPhase { kNone, kPending, kBound, kExpired, kFailed };
const char* ReservationPhaseName(ReservationPhase p);
bool ParseReservationPhase(std::string_view text, ReservationPhase* out);

struct BoundInstance {
  std::string instance_id;
  std::string node;
  int64_t cpu_milli = 0;
  int64_t memory_bytes = 0;
  bool operator==(const BoundInstance&) const = default;
};

struct ResourceReservationStatus {
  ReservationPhase phase = ReservationPhase::kNone;
  int64_t observed_generation = 0;
  std::vector<BoundInstance> bound_instances;
  std::optional<int64_t> used_cpu_milli;
  std::optional<int64_t> used_memory_bytes;
  std::vector<Condition> conditions;
  bool operator==(const ResourceReservationStatus&) const = default;
};

struct ResourceReservation {
  ObjectMeta metadata;
  ResourceReservationSpec spec;
  ResourceReservationStatus status;
  std::string Key() const { return KeyOf(metadata); }
  bool operator==(const ResourceReservation&) const = default;
};

}  // namespace prescient::api
