#include "placement/place.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "common/quantity.h"
#include "placement/preemption.h"

namespace prescient::placement {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; }

// How much larger than `need` `room` is, relative to the instance's size: smaller is a tighter fit.
double Leftover(const Resources& room, const Resources& need, const Instance& i) {
  double cpu = i.vcpus() > 0 ? double(room.cpu_milli - need.cpu_milli) / (i.vcpus() * 1000.0) : 0;
  double mem = i.memory_bytes > 0 ? double(room.memory_bytes - need.memory_bytes) / double(i.memory_bytes) : 0;
  return cpu + mem;
}

// The largest usable size an instance can reach.
Resources MaxUsable(const Instance& i, const Policy& p) {
  // RestartRequired is not counted: it clears when the VM restarts.
  Resources max = p.hotplug_enabled ? Resources{int64_t{i.MaxVcpus()} * 1000, i.MaxMemory()} : i.Size();
  if (p.hotplug_enabled && i.max_guest == 0) max.memory_bytes = i.memory_bytes;
  return Max(max - p.guest_reserved, Resources{});
}

// The node with the least room that still holds `pod` (best fit); "" if none.
std::string NodeFor(const Resources& pod, const CapacityView& view) {
  const Node* best = nullptr;
  for (const Node& n : view.nodes) {
    if (!n.schedulable || !n.Free().Holds(pod)) continue;
    if (best == nullptr || std::make_tuple(n.Free().memory_bytes, n.Free().cpu_milli, n.name) <
                               std::make_tuple(best->Free().memory_bytes, best->Free().cpu_milli, best->name))
      best = &n;
  }
  return best ? best->name : "";
}

// Whether the autoscaler may add a node holding `pod`, and from which group ("" when the view does
// not know the node groups: the operator asks and lets the autoscaler decide).
bool NodeCanBeAdded(const Resources& pod, const CapacityView& view, std::string* group) {
  if (view.node_groups.empty()) {
    group->clear();
    return true;
  }
  const NodeGroup* best = nullptr;
  for (const NodeGroup& g : view.node_groups) {
    if (!g.CanGrow() || !g.node_allocatable.Holds(pod)) continue;
    if (best == nullptr || g.node_allocatable.memory_bytes < best->node_allocatable.memory_bytes) best = &g;
  }
  if (best != nullptr) *group = best->name;
  return best != nullptr;
}

bool AnyNodeCouldEverHold(const Resources& pod, const CapacityView& view, const Policy& policy) {
  if (policy.largest_node && policy.largest_node->Holds(pod)) return true;
  for (const Node& n : view.nodes)
    if (n.schedulable && n.allocatable.Holds(pod)) return true;
  for (const NodeGroup& g : view.node_groups)
    if (g.node_allocatable.Holds(pod)) return true;
  return false;
}

}  // namespace

Resources ClampToBounds(const Resources& predicted, const std::optional<api::ResourceBounds>& bounds) {
  Resources r = predicted;
  if (!bounds) return r;
  if (bounds->max) {
    if (bounds->max->cpu_milli) r.cpu_milli = std::min(r.cpu_milli, *bounds->max->cpu_milli);
    if (bounds->max->memory_bytes) r.memory_bytes = std::min(r.memory_bytes, *bounds->max->memory_bytes);
  }
  if (bounds->min) {
    if (bounds->min->cpu_milli) r.cpu_milli = std::max(r.cpu_milli, *bounds->min->cpu_milli);
    if (bounds->min->memory_bytes) r.memory_bytes = std::max(r.memory_bytes, *bounds->min->memory_bytes);
  }
  return r;
}

PlacementRequest RequestFor(const api::CommandRun& run, const Resources& need, int32_t priority,
                            const std::string& reservation, bool may_preempt) {
  PlacementRequest r;
  r.run = run.Key();
  r.ns = run.metadata.ns;
  r.target = run.spec.target;
  r.need = need;
  r.priority = priority;
  r.created = run.metadata.creation_timestamp.value_or(Time{});
  r.reservation = reservation;
  r.may_preempt = may_preempt;
  return r;
}

std::string Describe(const PlacementDecision& d) {
  struct V {
    std::string operator()(const Fit& f) const {
      return "Fit on " + f.instance + (f.reservation.empty() ? "" : " (reservation " + f.reservation + ")");
    }
    std::string operator()(const Grow& g) const {
      return "Grow " + g.plan.instance + " to " + std::to_string(g.plan.sockets_after) + " sockets, " +
             FormatBytes(g.plan.memory_after);
    }
    std::string operator()(const Preempt& p) const {
      std::string v;
      for (const auto& s : p.victims) v += (v.empty() ? "" : ", ") + s;
      return "Preempt " + v + " on " + p.instance;
    }
    std::string operator()(const ScalePool& s) const {
      return "Scale pool " + s.pool + " to " + std::to_string(s.replicas) + (s.nodes ? " and provision a node" : "");
    }
    std::string operator()(const ProvisionNodes& p) const {
      return "Provision " + std::to_string(p.hint.count) + " node(s) for a pod of " + p.hint.pod_requests.ToString() +
             " so " + p.then_instance + " can grow";
    }
    std::string operator()(const Queue& q) const { return "Queue (" + q.reason + "): " + q.message; }
    std::string operator()(const Reject& r) const { return "Reject (" + r.reason + "): " + r.message; }
  };
  return std::visit(V{}, d);
}

GrowAttempt PlanGrowth(const Instance& i, const Resources& request, const CapacityView& view, const Policy& policy) {
  GrowAttempt a;
  a.instance = i.Key();
  auto block = [&](GrowBlock b, std::string m) {
    a.blocked = b;
    a.message = i.Key() + ": " + std::move(m);
    return a;
  };
  if (!policy.hotplug_enabled) return block(GrowBlock::kHotplugDisabled, "hotplug is disabled by policy");
  if (i.restart_required) return block(GrowBlock::kRestartRequired, "the VM needs a restart before it can change size");
  const Resources held = view.ledger.HeldOn(i.Key());
  const Resources free = view.Free(i, policy);
  const Resources deficit = Max(request - free, Resources{});
  const bool need_cpu = deficit.cpu_milli > 0, need_mem = deficit.memory_bytes > 0;
  if (!need_cpu && !need_mem) return block(GrowBlock::kNone, "already has room");
  if (need_cpu && i.max_sockets <= i.sockets) return block(GrowBlock::kNoHotplug, "no CPU hotplug room (maxSockets)");
  if (need_mem && i.max_guest <= i.memory_bytes) return block(GrowBlock::kNoHotplug, "no memory hotplug room (maxGuest)");
  if (!i.migratable) return block(GrowBlock::kNotMigratable, "not live-migratable, so it cannot be hotplugged");
  if (i.migration_in_flight || (need_cpu && i.cpu_hotplug_in_flight) || (need_mem && i.memory_hotplug_in_flight))
    return block(GrowBlock::kInFlight, "a hotplug or migration is already in progress");

  GrowPlan plan;
  plan.instance = i.Key();
  plan.vm_name = i.vm_name;
  plan.sockets_before = plan.sockets_after = i.sockets;
  plan.memory_before = plan.memory_after = i.memory_bytes;
  const Resources headroom{static_cast<int64_t>(std::ceil(request.cpu_milli * policy.headroom)),
                           static_cast<int64_t>(std::ceil(double(request.memory_bytes) * policy.headroom))};
  if (need_cpu) {
    auto sockets_for = [&](int64_t usable_cpu) {
      int64_t vcpus = CeilDiv(usable_cpu + policy.guest_reserved.cpu_milli, 1000);
      return static_cast<int>(CeilDiv(vcpus, i.VcpusPerSocket()));
    };
    int exact = sockets_for(held.cpu_milli + request.cpu_milli);
    if (exact > i.max_sockets)
      return block(GrowBlock::kAtMaximum, "would need " + std::to_string(exact) + " sockets, above maxSockets " +
                                              std::to_string(i.max_sockets));
    plan.sockets_after = std::clamp(sockets_for(held.cpu_milli + request.cpu_milli + headroom.cpu_milli), exact, i.max_sockets);
  }
  if (need_mem) {
    auto memory_for = [&](int64_t usable_mem) {
      return std::max({AlignUp(usable_mem + policy.guest_reserved.memory_bytes, kMemoryAlignment), i.guest_at_boot,
                       i.memory_bytes});
    };
    int64_t exact = memory_for(held.memory_bytes + request.memory_bytes);
    if (exact > i.max_guest)
      return block(GrowBlock::kAtMaximum, "would need " + FormatBytes(exact) + " of memory, above maxGuest " +
                                              FormatBytes(i.max_guest));
    const int64_t wanted = AlignUp(AlignUp(memory_for(held.memory_bytes + request.memory_bytes + headroom.memory_bytes),
                                           std::max<int64_t>(policy.memory_step_bytes, 1)),
                                   kMemoryAlignment);
    plan.memory_after = std::clamp(wanted, exact, i.max_guest / kMemoryAlignment * kMemoryAlignment);
    plan.memory_after = std::max(plan.memory_after, exact);
  }
  const int vcpus_after = plan.sockets_after * i.VcpusPerSocket();
  plan.launcher_before = i.CurrentLauncher();
  plan.launcher_after = i.MigrationTargetLauncher(vcpus_after, plan.memory_after);
  plan.target_node = NodeFor(plan.launcher_after, view);
  if (plan.target_node.empty()) {
    a.vcpus_after = vcpus_after;
    a.memory_after = plan.memory_after;
    a.launcher_after = plan.launcher_after;
    return block(GrowBlock::kNoNodeRoom, "no node has room for the migration's second virt-launcher pod (" +
                                             plan.launcher_after.ToString() + ")");
  }
  auto q = view.quotas.find(i.ns);
  if (q != view.quotas.end()) {
    QuotaCheck check = PlanMigrationQuota(q->second, plan.launcher_before, plan.launcher_after);
    if (!check.allowed) return block(GrowBlock::kQuota, check.message);
    plan.quota = check.change;
  }
  a.plan = std::move(plan);
  return a;
}

PlacementDecision Place(const PlacementRequest& req, const CapacityView& view, const Policy& policy,
                        const PlaceOptions& options) {
  const std::vector<const Instance*> all = view.Candidates(req.ns, req.target);
  auto excluded = [&](const Instance* i) { return options.excluded_instances.count(i->Key()) > 0; };

  // 1. The run's reservation, wherever it holds capacity among the candidates.
  if (!req.reservation.empty()) {
    const Instance* best = nullptr;
    double best_left = 0;
    for (const Instance* i : all) {
      if (!i->ready) continue;
      Resources room = view.ledger.ReservationRemaining(req.reservation, i->Key());
      if (!room.Holds(req.need)) continue;
      double left = Leftover(room, req.need, *i);
      if (best == nullptr || left < best_left) best = i, best_left = left;
    }
    if (best != nullptr) return Fit{best->Key(), best->name, best->vm_name, best->node, req.need, req.reservation};
  }

  std::vector<const Instance*> usable;  // ready, not held back
  for (const Instance* i : all)
    if (i->ready && !excluded(i)) usable.push_back(i);

  // 2. Best fit among instances with room now.
  {
    const Instance* best = nullptr;
    double best_left = 0;
    for (const Instance* i : usable) {
      Resources free = view.Free(*i, policy);
      if (!free.Holds(req.need)) continue;
      double left = Leftover(free, req.need, *i);
      if (best == nullptr || left < best_left) best = i, best_left = left;
    }
    if (best != nullptr) return Fit{best->Key(), best->name, best->vm_name, best->node, req.need, ""};
  }

  // 3. Requests no candidate could ever hold.
  const Pool* pool = req.target.vm_pool_name ? view.FindPool(req.ns, *req.target.vm_pool_name) : nullptr;
  {
    // Judged only against sizes that exist or can be created; with none, the run waits.
    bool any_shape = !all.empty(), could = false;
    for (const Instance* i : all) could |= MaxUsable(*i, policy).Holds(req.need);
    if (pool != nullptr && pool->max_replicas > 0) {
      any_shape = true;
      could |= MaxUsable(pool->shape, policy).Holds(req.need);
    }
    if (any_shape && !could)
      return Reject{kReasonExceedsVmMaximum, "the request (" + req.need.ToString() + ") is larger than any candidate of " +
                                                 req.target.Describe() + " can ever be, even grown to its hotplug maximum"};
  }
  // Without node groups nor a configured largest node, new nodes could be of any size.
  if (!view.node_groups.empty() || policy.largest_node) {
    int vcpus = static_cast<int>(CeilDiv(req.need.cpu_milli + policy.guest_reserved.cpu_milli, 1000));
    int64_t mem = AlignUp(req.need.memory_bytes + policy.guest_reserved.memory_bytes, kMemoryAlignment);
    Resources pod = LauncherRequests(std::max(vcpus, 1), mem);
    if (!AnyNodeCouldEverHold(pod, view, policy))
      return Reject{kReasonExceedsLargestNode, "a VM holding " + req.need.ToString() + " needs a virt-launcher pod of " +
                                                   pod.ToString() + ", larger than any node or node group could hold"};
  }

  // 4. Grow an instance (the smallest growth wins).
  std::vector<GrowAttempt> blocked;
  {
    std::optional<GrowPlan> best;
    auto cost = [](const GrowPlan& p) {
      return std::make_tuple(p.launcher_after.memory_bytes - p.launcher_before.memory_bytes,
                             p.launcher_after.cpu_milli - p.launcher_before.cpu_milli, p.instance);
    };
    for (const Instance* i : usable) {
      GrowAttempt a = PlanGrowth(*i, req.need, view, policy);
      if (!a.plan) {
        blocked.push_back(std::move(a));
        continue;
      }
      if (!best || cost(*a.plan) < cost(*best)) best = std::move(a.plan);
    }
    if (best) return Grow{std::move(*best), req.need};
  }

  // 5. Preempt lower-priority runs that have not started (or allow it).
  if (policy.preemption_enabled && req.may_preempt) {
    if (auto plan = SelectVictims(req, usable, view, policy))
      return Preempt{plan->instance, plan->victims, req.need};
  }

  // 6. Scale the target's pool.
  if (pool != nullptr) {
    int ready = 0;
    for (const Instance* i : all) ready += i->ready ? 1 : 0;
    if (pool->replicas > ready)
      return Queue{kReasonWaitingForPool, "pool " + pool->name + " has " + std::to_string(pool->replicas - ready) +
                                              " VM(s) starting"};
    if (pool->replicas < pool->max_replicas && MaxUsable(pool->shape, policy).Holds(req.need)) {
      ScalePool s{pool->name, pool->replicas + 1, std::nullopt};
      Resources pod = LauncherRequests(pool->shape.vcpus(), pool->shape.memory_bytes);
      if (NodeFor(pod, view).empty()) {
        std::string group;
        const bool addable = NodeCanBeAdded(pod, view, &group);
        if (policy.scaling_mode == ScalingMode::kNone || !addable)
          return Queue{kReasonNoNodeCapacity, "pool " + pool->name + " could grow, but no node has room for a new VM (" +
                                                  pod.ToString() + ") and " +
                                                  (!addable ? "no node group can add one" : "node scaling is off")};
        ProvisioningHint hint = LauncherPodHint(pool->shape.vcpus(), pool->shape.memory_bytes, 1);
        hint.node_group = group;
        hint.reason = "a new VM of pool " + pool->name + " for " + req.run;
        s.nodes = std::move(hint);
      }
      return s;
    }
  }

  // 7. Ask for a node so an instance can grow.
  {
    const GrowAttempt* best = nullptr;
    for (const GrowAttempt& a : blocked)
      if (a.blocked == GrowBlock::kNoNodeRoom && (best == nullptr || a.memory_after < best->memory_after)) best = &a;
    if (best != nullptr && policy.scaling_mode != ScalingMode::kNone) {
      ProvisioningHint hint = LauncherPodHint(best->vcpus_after, best->memory_after, 1);
      hint.pod_requests = best->launcher_after;  // the pod that must fit, observed overheads included
      std::string group;
      if (NodeCanBeAdded(hint.pod_requests, view, &group)) {
        hint.node_group = group;
        hint.reason = "room to migrate " + best->instance + " to a larger size for " + req.run;
        return ProvisionNodes{std::move(hint), best->instance};
      }
    }
  }

  // 8. Wait.
  if (all.empty()) {
    if (pool != nullptr)
      return Queue{kReasonNoNodeCapacity, "pool " + pool->name + " has no VMs and cannot scale (max-replicas " +
                                              std::to_string(pool->max_replicas) + ")"};
    return Queue{kReasonNoCandidate, "no VM instance in namespace " + req.ns + " matches " + req.target.Describe()};
  }
  if (usable.empty()) {
    bool any_ready = false;
    for (const Instance* i : all) any_ready |= i->ready;
    if (any_ready) return Queue{kReasonHigherPriorityWaiting, "higher-priority runs are waiting for " + req.target.Describe()};
    return Queue{kReasonNoCandidate, "no instance of " + req.target.Describe() + " is ready"};
  }
  std::string why;
  const char* reason = kReasonInsufficientCapacity;
  for (const GrowAttempt& a : blocked) {
    why += (why.empty() ? "" : "; ") + a.message;
    if (a.blocked == GrowBlock::kInFlight) reason = kReasonHotplugInProgress;
    else if (a.blocked == GrowBlock::kQuota && reason != kReasonHotplugInProgress) reason = kReasonQuotaExceeded;
    else if (a.blocked == GrowBlock::kNoNodeRoom && reason == kReasonInsufficientCapacity) reason = kReasonNoNodeCapacity;
  }
  return Queue{reason, "no room for " + req.need.ToString() + " on " + req.target.Describe() + (why.empty() ? "" : ": " + why)};
}

}  // namespace prescient::placement
