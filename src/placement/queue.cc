#include "placement/queue.h"

#include <algorithm>
#include <set>
#include <tuple>

namespace prescient::placement {

bool QueueLess(const PlacementRequest& a, const PlacementRequest& b) {
  return std::make_tuple(-int64_t{a.priority}, a.created, a.run) < std::make_tuple(-int64_t{b.priority}, b.created, b.run);
}

void SortQueue(std::vector<PlacementRequest>* requests) { std::stable_sort(requests->begin(), requests->end(), QueueLess); }

std::vector<Admission> PlanAdmissions(std::vector<PlacementRequest> waiting, CapacityView view, const Policy& policy) {
  SortQueue(&waiting);
  std::vector<Admission> out;
  PlaceOptions options;  // excluded_instances grows as higher-priority runs wait
  int position = 0;
  for (const PlacementRequest& req : waiting) {
    PlacementDecision d = Place(req, view, policy, options);
    Admission a{req.run, d, 0};
    auto hold = [&](const std::string& instance, const std::string& reservation) {
      Hold h;
      h.run = req.run;
      h.instance = instance;
      h.amount = req.need;
      h.priority = req.priority;
      h.created = req.created;
      h.reservation = reservation;
      view.ledger.AddHold(std::move(h));
    };
    auto hold_back_candidates = [&] {
      for (const Instance* i : view.Candidates(req.ns, req.target)) options.excluded_instances.insert(i->Key());
    };
    if (const Fit* f = std::get_if<Fit>(&d)) {
      hold(f->instance, f->reservation);
    } else if (const Preempt* p = std::get_if<Preempt>(&d)) {
      // The victims keep their holds: the operator applies this decision run by run, and their
      // room is not there for anyone else until the preemption is visible. The preemptor's hold
      // over-commits the instance meanwhile, which later preemptions must pay back first.
      hold(p->instance, "");
    } else if (const Grow* g = std::get_if<Grow>(&d)) {
      // Nobody else plans a hotplug of it, and the room it grows into is this run's.
      if (Instance* inst = view.FindInstance(g->plan.instance)) {
        inst->cpu_hotplug_in_flight |= g->plan.CpuChange();
        inst->memory_hotplug_in_flight |= g->plan.MemoryChange();
      }
      options.excluded_instances.insert(g->plan.instance);
      a.position = ++position;
    } else if (const ScalePool* s = std::get_if<ScalePool>(&d)) {
      // Later runs for the same pool wait for this scale-up instead of scaling again.
      if (Pool* pool = view.FindPool(req.ns, s->pool)) pool->replicas = s->replicas;
      hold_back_candidates();
      a.position = ++position;
    } else if (std::holds_alternative<Reject>(d)) {
      // Not waiting: no position.
    } else {
      hold_back_candidates();
      a.position = ++position;
    }
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace prescient::placement
