#include "placement/preemption.h"

#include <algorithm>
#include <tuple>

namespace prescient::placement {

std::optional<PreemptionPlan> SelectVictims(const PlacementRequest& request,
                                            const std::vector<const Instance*>& candidates,
                                            const CapacityView& view, const Policy& policy) {
  std::optional<PreemptionPlan> best;
  auto score = [&](const PreemptionPlan& p) {
    int started = 0;
    int32_t max_priority = INT32_MIN;
    for (const auto& v : p.victims) {
      const Hold* h = view.ledger.FindHold(v);
      started += h->started ? 1 : 0;
      max_priority = std::max(max_priority, h->priority);
    }
    return std::make_tuple(started, max_priority, p.victims.size(), p.instance);
  };
  for (const Instance* inst : candidates) {
    if (!inst->ready || inst->restart_required) continue;
    std::vector<const Hold*> pool;
    for (const Hold* h : view.ledger.HoldsOn(inst->Key())) {
      if (h->priority >= request.priority || !h->reservation.empty()) continue;
      if (h->started && !h->preemptible_while_running) continue;
      pool.push_back(h);
    }
    // Least important first: not started, lowest priority, newest.
    std::sort(pool.begin(), pool.end(), [](const Hold* a, const Hold* b) {
      return std::make_tuple(a->started, a->priority, b->created, a->run) <
             std::make_tuple(b->started, b->priority, a->created, b->run);
    });
    // Not clamped at zero: while a victim's hotplug is in flight, or a preemption decided earlier
    // in the same pass has not happened yet, the instance is over-committed, and the victims'
    // amounts must first pay that back before they make room.
    Resources free = view.Usable(*inst, policy) - view.ledger.HeldOn(inst->Key());
    std::vector<const Hold*> chosen;
    for (const Hold* h : pool) {
      if (free.Holds(request.need)) break;
      chosen.push_back(h);
      free += h->amount;
    }
    if (!free.Holds(request.need)) continue;
    // Drop victims that turned out not to be needed (most important first).
    for (size_t i = chosen.size(); i-- > 0;) {
      Resources without = free - chosen[i]->amount;
      if (without.Holds(request.need)) {
        free = without;
        chosen.erase(chosen.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
    if (chosen.empty()) continue;  // it fits without preemption: not this function's case
    PreemptionPlan plan;
    plan.instance = inst->Key();
    for (const Hold* h : chosen) {
      plan.victims.push_back(h->run);
      plan.freed += h->amount;
    }
    if (!best || score(plan) < score(*best)) best = std::move(plan);
  }
  return best;
}

}  // namespace prescient::placement
