#include "controller/plan.h"

#include <algorithm>
#include <fnmatch.h>
#include <regex>

namespace prescient::controller {

const char* PlanKindName(PlanKind k) {
  switch (k) {
    case PlanKind::kFit: return "Fit";
    case PlanKind::kGrow: return "Grow";
    case PlanKind::kScalePool: return "ScalePool";
    case PlanKind::kProvisionNodes: return "ProvisionNodes";
    case PlanKind::kQueue: return "Queue";
    case PlanKind::kReject: return "Reject";
  }
  return "Queue";
}

std::vector<std::string> Candidates(const api::Target& target, const std::string& ns, const ClusterSnapshot& s) {
  std::vector<std::string> out;
  for (const auto& [key, inst] : s.instances) {
    if (inst.ns != ns) continue;
    bool match = false;
    if (target.vm_name) match = inst.name == *target.vm_name;
    else if (target.vm_pool_name) match = inst.pool == *target.vm_pool_name;
    else if (target.vm_selector) match = target.vm_selector->Matches(inst.labels);
    if (match) out.push_back(key);
  }
  return out;  // std::map iteration: already sorted
}

bool ReservationMatches(const ReservationView& r, const PlacementRequest& req) {
  if (!r.active || r.ns != req.ns) return false;
  if (!r.spec.users.empty() &&
      std::find(r.spec.users.begin(), r.spec.users.end(), req.user) == r.spec.users.end()) {
    return false;
  }
  if (r.spec.command_pattern) {
    const std::string& pat = *r.spec.command_pattern;
    if (r.spec.command_pattern_syntax == api::PatternSyntax::kGlob) {
      if (::fnmatch(pat.c_str(), req.command.c_str(), 0) != 0) return false;
    } else {
      try {
        if (!std::regex_search(req.command, std::regex(pat))) return false;
      } catch (const std::regex_error&) {
        return false;  // validation refuses bad patterns; an old object must not crash us
      }
    }
  }
  return true;
}

namespace {

struct Remaining {
  int64_t cpu = 0, mem = 0;
};

// What reservation `r` still holds back: its size minus what runs drawing on it hold.
Remaining ReservationRemaining(const ReservationView& r, const ClusterSnapshot& s) {
  Remaining rem{r.spec.resources.cpu_milli.value_or(0), r.spec.resources.memory_bytes.value_or(0)};
  std::string key = r.ns + "/" + r.name;
  for (const auto& h : s.holdings) {
    if (h.reservation == key) {
      rem.cpu -= h.cpu_milli;
      rem.mem -= h.memory_bytes;
    }
  }
  rem.cpu = std::max<int64_t>(rem.cpu, 0);
  rem.mem = std::max<int64_t>(rem.mem, 0);
  return rem;
}

// Capacity on `instance` held back by reservations other than `mine`.
Remaining ReservedForOthers(const std::string& instance, const std::string& mine, const ClusterSnapshot& s) {
  Remaining out;
  for (const auto& [key, r] : s.reservations) {
    if (!r.active || key == mine || r.instance != instance) continue;
    Remaining rem = ReservationRemaining(r, s);
    out.cpu += rem.cpu;
    out.mem += rem.mem;
  }
  return out;
}

// What runs may use of an instance: its size minus what the guest OS keeps.
int64_t UsableCpu(const InstanceView& i, const ControllerPolicy& p) { return i.CpuMilli() - p.guest_reserved_cpu_milli; }
int64_t UsableMem(const InstanceView& i, const ControllerPolicy& p) { return i.memory_bytes - p.guest_reserved_memory_bytes; }

int64_t RoundUp(int64_t v, int64_t step) { return step <= 0 ? v : (v + step - 1) / step * step; }

struct GrowEval {
  bool possible_ever = false;  // the request could fit this instance at its maxima
  bool growable = false;       // sizes within maxima and no hotplug in flight
  bool node_room = false;
  bool quota_ok = false;       // fits, or the owned quota can be raised
  std::string quota_blocker;
  GrowPlan plan;
};

GrowEval EvaluateGrow(const InstanceView& inst, int64_t need_cpu, int64_t need_mem, const std::string& ns,
                      const ClusterSnapshot& s, const ControllerPolicy& policy) {
  GrowEval e;
  int64_t vps = std::max<int64_t>(inst.VcpusPerSocket(), 1);
  int max_sockets = inst.max_sockets > 0 ? inst.max_sockets : inst.sockets;
  int64_t max_guest = inst.max_guest > 0 ? inst.max_guest : inst.memory_bytes;
  int64_t want_cpu = inst.CpuMilli() + std::max<int64_t>(need_cpu, 0);
  int64_t want_mem = inst.memory_bytes + std::max<int64_t>(need_mem, 0);
  e.possible_ever = want_cpu <= int64_t{max_sockets} * vps * 1000 && want_mem <= max_guest;
  (void)policy;
  if (!e.possible_ever || !inst.running || inst.hotplug_in_flight) return e;
  GrowPlan& g = e.plan;
  g.from_sockets = g.to_sockets = inst.sockets;
  g.from_guest = g.to_guest = inst.memory_bytes;
  if (need_cpu > 0) g.to_sockets = inst.sockets + static_cast<int>((need_cpu + vps * 1000 - 1) / (vps * 1000));
  if (need_mem > 0) {
    // 2 MiB alignment is KubeVirt's rule; the policy step keeps the number of hotplugs down.
    g.to_guest = RoundUp(want_mem, policy.memory_step_bytes);
    if (g.to_guest > max_guest) g.to_guest = RoundUp(want_mem, 2 << 20);
  }
  if (g.to_sockets > max_sockets || g.to_guest > max_guest) return e;
  e.growable = true;
  MigrationPodEstimate(inst, g.to_sockets, g.to_guest, policy, &g.new_pod_cpu_milli, &g.new_pod_memory_bytes);
  for (const auto& [name, node] : s.nodes) {
    if (node.ready && node.schedulable && node.FreeCpuMilli() >= g.new_pod_cpu_milli &&
        node.FreeMemoryBytes() >= g.new_pod_memory_bytes) {
      e.node_room = true;
      break;
    }
  }
  QuotaForMigrationPod(ns, s, &g, &e.quota_blocker);
  e.quota_ok = e.quota_blocker.empty();
  return e;
}

}  // namespace

void MigrationPodEstimate(const InstanceView& inst, int to_sockets, int64_t to_guest, const ControllerPolicy& policy,
                          int64_t* cpu_milli, int64_t* memory_bytes) {
  int64_t vps = std::max<int64_t>(inst.VcpusPerSocket(), 1);
  int64_t delta_vcpus = std::max<int64_t>(int64_t{to_sockets - inst.sockets} * vps, 0);
  int64_t delta_guest = std::max<int64_t>(to_guest - inst.memory_bytes, 0);
  int64_t base_cpu = inst.launcher_cpu_milli > 0 ? inst.launcher_cpu_milli
                                                 : int64_t{inst.sockets} * vps * policy.launcher_cpu_per_vcpu_milli;
  int64_t base_mem = inst.launcher_memory_bytes > 0 ? inst.launcher_memory_bytes : inst.memory_bytes;
  *cpu_milli = base_cpu + delta_vcpus * policy.launcher_cpu_per_vcpu_milli;
  // KubeVirt rounds the overhead up to whole MiB; one more MiB covers that rounding.
  *memory_bytes = base_mem + delta_guest + (delta_guest + 511) / 512 +
                  delta_vcpus * policy.launcher_memory_per_vcpu_bytes + (1 << 20);
}

void QuotaForMigrationPod(const std::string& ns, const ClusterSnapshot& s, GrowPlan* g, std::string* blocked) {
  // During the migration both launcher pods count, so the new pod must fit on top of `used`.
  auto q_it = s.quotas.find(ns);
  if (q_it == s.quotas.end()) return;
  for (const auto& q : q_it->second) {
    bool cpu_over = q.hard_cpu_milli && q.used_cpu_milli + g->new_pod_cpu_milli > *q.hard_cpu_milli;
    bool mem_over = q.hard_memory_bytes && q.used_memory_bytes + g->new_pod_memory_bytes > *q.hard_memory_bytes;
    if (!cpu_over && !mem_over) continue;
    if (!q.owned) {
      *blocked = q.name;
      return;
    }
    g->quota_name = q.name;
    if (cpu_over) g->quota_cpu_milli = q.used_cpu_milli + g->new_pod_cpu_milli;
    if (mem_over) g->quota_memory_bytes = q.used_memory_bytes + g->new_pod_memory_bytes;
  }
}

PlacementPlan Place(const PlacementRequest& req, const ClusterSnapshot& s, const ControllerPolicy& policy) {
  PlacementPlan plan;
  std::vector<std::string> cands = Candidates(req.target, req.ns, s);

  // The reservation this run draws on: the named one, else the first matching one on a candidate.
  std::string res_key;
  if (!req.reservation_name.empty()) {
    res_key = req.ns + "/" + req.reservation_name;
    auto it = s.reservations.find(res_key);
    if (it == s.reservations.end() || !ReservationMatches(it->second, req)) res_key.clear();
  } else {
    for (const auto& [key, r] : s.reservations) {
      if (ReservationMatches(r, req) && std::find(cands.begin(), cands.end(), r.instance) != cands.end()) {
        res_key = key;
        break;
      }
    }
  }

  // Fit: best fit by leftover memory, then CPU, then name.
  const InstanceView* best = nullptr;
  int64_t best_left_mem = 0, best_left_cpu = 0;
  bool any_running = false;
  for (const auto& key : cands) {
    const InstanceView& inst = s.instances.at(key);
    if (!inst.running) continue;
    any_running = true;
    Remaining others = ReservedForOthers(key, res_key, s);
    int64_t free_cpu = UsableCpu(inst, policy) - s.HeldCpuMilli(key, req.run_uid) - others.cpu;
    int64_t free_mem = UsableMem(inst, policy) - s.HeldMemoryBytes(key, req.run_uid) - others.mem;
    if (req.cpu_milli > free_cpu || req.memory_bytes > free_mem) continue;
    int64_t left_mem = free_mem - req.memory_bytes, left_cpu = free_cpu - req.cpu_milli;
    if (!best || left_mem < best_left_mem || (left_mem == best_left_mem && left_cpu < best_left_cpu)) {
      best = &inst;
      best_left_mem = left_mem;
      best_left_cpu = left_cpu;
    }
  }
  if (best) {
    plan.kind = PlanKind::kFit;
    plan.instance = best->ns + "/" + best->name;
    if (!res_key.empty() && s.reservations.at(res_key).instance == plan.instance) plan.reservation = res_key.substr(req.ns.size() + 1);
    plan.reason = "Fits";
    plan.message = "fits on " + best->name;
    return plan;
  }

  // Grow: the smallest growth among the candidates that can take it.
  bool possible_ever = false, hotplug_busy = false, quota_blocked = false;
  std::string quota_blocker;
  std::optional<std::pair<std::string, GrowPlan>> grow, node_blocked;
  for (const auto& key : cands) {
    const InstanceView& inst = s.instances.at(key);
    Remaining others = ReservedForOthers(key, res_key, s);
    int64_t need_cpu = req.cpu_milli + s.HeldCpuMilli(key, req.run_uid) + others.cpu - UsableCpu(inst, policy);
    int64_t need_mem = req.memory_bytes + s.HeldMemoryBytes(key, req.run_uid) + others.mem - UsableMem(inst, policy);
    // What the request alone needs at most: judged against the maxima with nothing else on it.
    GrowEval ever = EvaluateGrow(inst, req.cpu_milli - UsableCpu(inst, policy), req.memory_bytes - UsableMem(inst, policy),
                                 req.ns, s, policy);
    if (ever.possible_ever) possible_ever = true;
    GrowEval e = EvaluateGrow(inst, need_cpu, need_mem, req.ns, s, policy);
    if (inst.running && inst.hotplug_in_flight) hotplug_busy = true;
    if (!e.growable) continue;
    if (!e.quota_ok) {
      quota_blocked = true;
      quota_blocker = e.quota_blocker;
      continue;
    }
    auto smaller = [](const GrowPlan& a, const GrowPlan& b) {
      int64_t da = a.to_guest - a.from_guest, db = b.to_guest - b.from_guest;
      if (da != db) return da < db;
      return a.to_sockets - a.from_sockets < b.to_sockets - b.from_sockets;
    };
    if (e.node_room) {
      if (!grow || smaller(e.plan, grow->second)) grow = {key, e.plan};
    } else if (!node_blocked || smaller(e.plan, node_blocked->second)) {
      node_blocked = {key, e.plan};
    }
  }
  if (grow) {
    plan.kind = PlanKind::kGrow;
    plan.instance = grow->first;
    plan.grow = grow->second;
    if (!res_key.empty() && s.reservations.at(res_key).instance == plan.instance) plan.reservation = res_key.substr(req.ns.size() + 1);
    plan.reason = "Growing";
    plan.message = "growing " + s.instances.at(grow->first).name + " to " + std::to_string(plan.grow.to_sockets) +
                   " sockets and " + std::to_string(plan.grow.to_guest >> 20) + "Mi";
    return plan;
  }
  if (node_blocked && policy.scaling_mode != ScalingMode::kNone) {
    plan.kind = PlanKind::kProvisionNodes;
    plan.instance = node_blocked->first;
    plan.grow = node_blocked->second;
    plan.reason = "WaitingForNodes";
    plan.message = "no node has room for the grown virt-launcher pod of " + s.instances.at(plan.instance).name +
                   "; asked the cluster autoscaler for one";
    return plan;
  }
  // A pool that may grow gets one more replica (whose VM then takes the run, or grows).
  if (req.target.vm_pool_name) {
    auto p = s.pools.find(req.ns + "/" + *req.target.vm_pool_name);
    bool all_running = true;
    for (const auto& key : cands) all_running = all_running && s.instances.at(key).running;
    if (p != s.pools.end() && all_running && static_cast<int>(cands.size()) >= p->second.replicas &&
        p->second.replicas < p->second.max_replicas) {
      plan.kind = PlanKind::kScalePool;
      plan.pool = p->second.name;
      plan.pool_replicas = p->second.replicas + 1;
      plan.reason = "ScalingPool";
      plan.message = "scaling pool " + p->second.name + " to " + std::to_string(plan.pool_replicas) + " replicas";
      return plan;
    }
    if (p != s.pools.end() && p->second.max_replicas > 0) possible_ever = true;  // a new replica may differ
  }
  if (!possible_ever && !cands.empty()) {
    plan.kind = PlanKind::kReject;
    plan.reason = "Unschedulable";
    plan.message = "the request (" + std::to_string(req.cpu_milli) + "m CPU, " + std::to_string(req.memory_bytes >> 20) +
                   "Mi memory) is larger than any candidate instance can ever be, even at its hotplug maxima";
    return plan;
  }
  plan.kind = PlanKind::kQueue;
  if (cands.empty() || !any_running) {
    plan.reason = "InstanceNotReady";
    plan.message = "no running instance for " + req.target.Describe();
  } else if (quota_blocked) {
    plan.reason = "QuotaExceeded";
    plan.message = "growing would exceed ResourceQuota " + quota_blocker + ", which the operator does not own";
  } else if (hotplug_busy) {
    plan.reason = "HotplugInProgress";
    plan.message = "waiting for a hotplug in flight to finish";
  } else if (node_blocked) {
    plan.reason = "NoNodeCapacity";
    plan.message = "no node has room to grow an instance and scaling is disabled by policy";
  } else {
    plan.reason = "CapacityInUse";
    plan.message = "capacity is held by other runs; waiting for them to finish";
  }
  return plan;
}

bool QueueBefore(const PlacementRequest& a, const PlacementRequest& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  if (a.created != b.created) return a.created < b.created;
  return a.run_key < b.run_key;
}

api::Allocation AllocationFor(const PlacementRequest& req, const PlacementPlan& plan, const ClusterSnapshot& s) {
  api::Allocation a;
  auto it = s.instances.find(plan.instance);
  if (it != s.instances.end()) {
    a.instance_id = it->second.name;
    a.vm_name = it->second.name;
    a.node = it->second.node;
  }
  a.cpu_milli = req.cpu_milli;
  a.memory_bytes = req.memory_bytes;
  a.reservation_name = plan.reservation;
  return a;
}

std::optional<Preemption> SelectVictims(const PlacementRequest& req, const ClusterSnapshot& s,
                                        const ControllerPolicy& policy) {
  for (const auto& key : Candidates(req.target, req.ns, s)) {
    std::vector<const Holding*> eligible;
    for (const auto& h : s.holdings) {
      if (h.instance == key && h.priority < req.priority && !h.started && h.reservation.empty() && h.run_uid != req.run_uid) {
        eligible.push_back(&h);
      }
    }
    if (eligible.empty()) continue;
    std::stable_sort(eligible.begin(), eligible.end(), [](const Holding* a, const Holding* b) { return a->priority < b->priority; });
    ClusterSnapshot without = s;
    Preemption p;
    p.instance = key;
    for (const Holding* v : eligible) {
      const std::string victim = v->run_key;
      without.holdings.erase(std::remove_if(without.holdings.begin(), without.holdings.end(),
                                            [&](const Holding& h) { return h.run_key == victim; }),
                             without.holdings.end());
      p.victims.push_back(victim);
      bool took_growth = v->phase == api::RunPhase::kAllocating;
      PlacementRequest pinned = req;
      pinned.target = api::Target{};
      pinned.target.vm_name = s.instances.at(key).name;
      PlacementPlan plan = Place(pinned, without, policy);
      // A victim whose hotplug is still in flight leaves the growing room to the request, which then
      // waits for the hotplug like the victim would have.
      if (plan.kind == PlanKind::kFit || plan.kind == PlanKind::kGrow ||
          (took_growth && plan.reason == "HotplugInProgress")) {
        p.plan = plan;
        return p;
      }
    }
  }
  return std::nullopt;
}

AdmissionResult AdmitInOrder(const PlacementRequest& req, std::vector<PlacementRequest> pending, ClusterSnapshot s,
                             const ControllerPolicy& policy) {
  if (std::none_of(pending.begin(), pending.end(), [&](const auto& p) { return p.run_uid == req.run_uid; })) {
    pending.push_back(req);
  }
  std::sort(pending.begin(), pending.end(), QueueBefore);
  int waiting = 0;
  for (const auto& p : pending) {
    PlacementPlan plan = Place(p, s, policy);
    if (p.run_uid == req.run_uid) {
      AdmissionResult r{plan, 0};
      if (plan.kind != PlanKind::kFit && plan.kind != PlanKind::kGrow && plan.kind != PlanKind::kReject) {
        r.position = waiting + 1;
      }
      return r;
    }
    if (plan.kind == PlanKind::kFit || plan.kind == PlanKind::kGrow) {
      // The run ahead takes this capacity; a growth also claims the instance's one hotplug slot.
      Holding h;
      h.run_key = p.run_key;
      h.run_uid = p.run_uid;
      h.instance = plan.instance;
      h.cpu_milli = p.cpu_milli;
      h.memory_bytes = p.memory_bytes;
      h.priority = p.priority;
      if (!plan.reservation.empty()) h.reservation = p.ns + "/" + plan.reservation;
      s.holdings.push_back(h);
      if (plan.kind == PlanKind::kGrow) s.instances[plan.instance].hotplug_in_flight = true;
    } else if (plan.kind != PlanKind::kReject) {
      ++waiting;
    }
  }
  return {Place(req, s, policy), 0};  // unreachable: req is in `pending`
}

}  // namespace prescient::controller
