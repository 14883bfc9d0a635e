// Preemption: which runs a higher-priority run may displace on one of its candidate instances.
// Victims have a strictly lower priority, hold capacity outside any reservation, and have not
// started, unless their spec allows preemption while running. The fewest, least important victims
// on the best instance are chosen: runs not started before running ones, lower priority first,
// newest first, and no victim whose capacity is not needed. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "placement/place.h"

namespace prescient::placement {

struct PreemptionPlan {
  std::string instance;
  std::vector<std::string> victims;  // run keys
  Resources freed;
};

std::optional<PreemptionPlan> SelectVictims(const PlacementRequest& request,
                                            const std::vector<const Instance*>& candidates,
                                            const CapacityView& view, const Policy& policy);

}  // namespace prescient::placement
