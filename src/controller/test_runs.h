// Test-only builders of CommandRuns shared by the controller's unit tests.
#pragma once

#include <cstdint>
#include <optional>

#include "api/types.h"

namespace prescient::controller::testing {

// A run "r" (uid "u", command "sort big") Running on vm1 with 1000m and `alloc_mem`, whose agent
// reported a memory peak of `peak_mem` and, optionally, a throttled CPU fraction.
inline api::CommandRun RunningRun(int64_t alloc_mem, int64_t peak_mem, std::optional<double> throttled = std::nullopt) {
  api::CommandRun r;
  r.metadata.name = "r";
  r.metadata.ns = "default";
  r.metadata.uid = "u";
  r.spec.command = "sort big";
  r.status.phase = api::RunPhase::kRunning;
  api::Allocation a;
  a.instance_id = "vm1";
  a.cpu_milli = 1000;
  a.memory_bytes = alloc_mem;
  r.status.allocation = a;
  api::Usage u;
  u.peaks.memory_bytes = peak_mem;
  u.cpu_throttled_fraction = throttled;
  r.status.usage = u;
  return r;
}

}  // namespace prescient::controller::testing
