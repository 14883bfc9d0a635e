// The queue: waiting runs ordered by priority (higher first), then age (older first), then name,
// and admission of the whole queue in that order against one capacity view. Each admitted run's
// capacity is taken from the view before the next run is placed, so one pass yields a consistent
// set of decisions. A run that must wait holds its candidate instances back from lower-priority
// runs (no starvation by smaller runs), except that a run drawing on its reservation is admitted
// even while others wait. Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "placement/place.h"

namespace prescient::placement {

// Sorts requests into queue order.
void SortQueue(std::vector<PlacementRequest>* requests);
bool QueueLess(const PlacementRequest& a, const PlacementRequest& b);

struct Admission {
  std::string run;
  PlacementDecision decision;
  // 1-based position among the runs still waiting after this pass (status.queue.position); 0 for
  // runs bound now (Fit, Preempt) or rejected.
  int position = 0;
};

// Decides for every waiting run, in queue order. `view` is taken by value: the decisions are
// applied to this copy only.
std::vector<Admission> PlanAdmissions(std::vector<PlacementRequest> waiting, CapacityView view, const Policy& policy);

}  // namespace prescient::placement
