#include "controller/io_controls.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace prescient::controller {

namespace {

int64_t BandwidthLimit(int64_t predicted, double headroom) {
  if (predicted <= 0) return 0;
  double want = static_cast<double>(predicted) * std::max(1.0, headroom);
  constexpr double kMiB = 1 << 20;
  // Huge predictions stay representable (no limit beyond ~8 EiB/s is meaningful anyway).
  double mib = std::min(std::ceil(want / kMiB), 8.0e12);
  return std::max(kMinDiskBandwidthBytesPerSecond, static_cast<int64_t>(mib) << 20);
}

}  // namespace

int32_t IoWeightForPriority(int32_t priority) {
  double magnitude = std::cbrt(1.0 + std::abs(static_cast<double>(priority)));
  double w = priority >= 0 ? 100.0 * magnitude : 100.0 / magnitude;
  return static_cast<int32_t>(std::clamp(std::lround(w), 10L, 1000L));
}

IoControls IoControlsFor(int32_t priority, int64_t read_bps, int64_t write_bps, const IoPolicy& policy) {
  IoControls c;
  if (policy.weight_from_priority) c.io_weight = IoWeightForPriority(priority);
  if (policy.disk_bandwidth_limits) {
    c.disk_read_bytes_per_second = BandwidthLimit(read_bps, policy.disk_bandwidth_headroom);
    c.disk_write_bytes_per_second = BandwidthLimit(write_bps, policy.disk_bandwidth_headroom);
  }
  return c;
}

}  // namespace prescient::controller
