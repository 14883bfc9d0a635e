// The IO controls the operator puts in status.allocation for the agent to apply to the run's cgroup
// (docs/agent-protocol.md "Limits beyond CPU and memory"): a proportional IO weight derived from
// the run's priority, and optional per-disk read/write bandwidth limits derived from the
// prediction's disk-rate upper bounds. Both are policy knobs (operator/config/policy.yaml:
// ioWeightFromPriority, diskBandwidthLimits, diskBandwidthHeadroom). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>

namespace prescient::controller {

struct IoPolicy {
  bool weight_from_priority = true;    // ioWeight from the run's priority (default on)
  bool disk_bandwidth_limits = false;  // diskRead/WriteBytesPerSecond from the prediction (default off)
  double disk_bandwidth_headroom = 2.0;  // limit = predicted upper bound x this
};

// Bandwidth limits are never below this (a tiny or noisy prediction must not starve a run) and are
// rounded up to whole MiB/s.
inline constexpr int64_t kMinDiskBandwidthBytesPerSecond = 1LL << 20;

struct IoControls {
  std::optional<int32_t> io_weight;        // absent: the kernel's default (100)
  int64_t disk_read_bytes_per_second = 0;  // 0: unlimited
  int64_t disk_write_bytes_per_second = 0;
  bool operator==(const IoControls&) const = default;
};

// 100 x (1 + |priority|)^(1/3), divided instead of multiplied for negative priorities, clamped to
// [10, 1000]: priority 0 gets the kernel's default 100, 10 -> 222, 100 -> 466, 1000 (and above)
// -> 1000; -10 -> 45, -1000 (and below) -> 10. The clamp keeps the weight inside cgroup v1's
// blkio.weight range, so both hierarchies order runs the same way.
int32_t IoWeightForPriority(int32_t priority);

// The controls for a run of `priority` whose predicted disk rates are `read_bps`/`write_bps`
// (0 = not predicted: no limit for that direction).
IoControls IoControlsFor(int32_t priority, int64_t read_bps, int64_t write_bps, const IoPolicy& policy);

}  // namespace prescient::controller
