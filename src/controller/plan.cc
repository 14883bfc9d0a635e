#include "controller/plan.h"

#include <algorithm>
#include <limits>

#include "common/quantity.h"
#include "controller/caches.h"
#include "placement/growth.h"
#include "placement/queue.h"
#include "placement/reservation.h"

namespace prescient::controller {

namespace {

using placement::Resources;

// A quota that does not constrain a resource leaves this much room (summing a few never overflows).
constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max() / 8;

placement::Instance InstanceOf(const InstanceView& v) {
  placement::Instance i;
  i.name = v.name;
  i.ns = v.ns;
  i.vm_name = v.name;
  i.pool = v.pool;
  i.labels = v.labels;
  i.node = v.node;
  i.ready = v.running;
  i.sockets = v.sockets;
  i.cores = v.cores;
  i.threads = v.threads;
  i.max_sockets = v.max_sockets;
  i.memory_bytes = v.memory_bytes;
  i.max_guest = v.max_guest;
  // Every hotplug is a live migration, and KubeVirt starts no other change during one.
  i.migration_in_flight = v.hotplug_in_flight;
  if (v.launcher_cpu_milli > 0 || v.launcher_memory_bytes > 0) {
    i.launcher = Resources{v.launcher_cpu_milli, v.launcher_memory_bytes};
  }
  return i;
}

placement::NamespaceQuota QuotaOf(const std::vector<QuotaView>& quotas, std::string* owned_name) {
  placement::NamespaceQuota nq;
  for (const QuotaView& q : quotas) {
    Resources hard{q.hard_cpu_milli.value_or(kUnbounded), q.hard_memory_bytes.value_or(kUnbounded)};
    Resources used{q.used_cpu_milli, q.used_memory_bytes};
    if (q.owned && !nq.owned) {
      nq.owned = placement::OwnedQuota{hard, used, std::nullopt};
      *owned_name = q.name;
      continue;
    }
    Resources headroom = hard - used;
    nq.other_headroom = nq.other_headroom ? placement::Min(*nq.other_headroom, headroom) : headroom;
  }
  return nq;
}

// The reservations of the snapshot as placement::ChooseReservation reads them.
std::vector<api::ResourceReservation> ReservationsOf(const ClusterSnapshot& s, const std::string& ns) {
  std::vector<api::ResourceReservation> out;
  for (const auto& [key, v] : s.reservations) {
    if (v.ns != ns) continue;
    api::ResourceReservation r;
    r.metadata.ns = v.ns;
    r.metadata.name = v.name;
    r.spec = v.spec;
    r.status.phase = v.phase;
    // Being deleted (or undecodable): no run may draw on it any more.
    if (!v.active && v.phase == api::ReservationPhase::kBound) r.status.phase = api::ReservationPhase::kExpired;
    out.push_back(std::move(r));
  }
  return out;
}

placement::PlacementRequest ToPlacement(const PlacementRequest& r) {
  placement::PlacementRequest p;
  p.run = r.run_key;
  p.ns = r.ns;
  p.target = r.target;
  p.need = {r.cpu_milli, r.memory_bytes};
  p.priority = r.priority;
  p.created = r.created;
  p.reservation = r.reservation;
  p.may_preempt = r.may_preempt;
  return p;
}

std::string NameOf(const std::string& key) {
  size_t slash = key.find('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}

GrowPlan GrowOf(const placement::GrowPlan& g, const std::string& owned_quota) {
  GrowPlan out;
  out.from_sockets = g.sockets_before;
  out.to_sockets = g.sockets_after;
  out.from_guest = g.memory_before;
  out.to_guest = g.memory_after;
  out.new_pod_cpu_milli = g.launcher_after.cpu_milli;
  out.new_pod_memory_bytes = g.launcher_after.memory_bytes;
  if (g.quota.raise) {
    out.quota_name = owned_quota;
    // Only what the owned quota constrains and must grow (kUnbounded marks the rest).
    if (g.quota.raise_to.cpu_milli < kUnbounded) out.quota_cpu_milli = g.quota.raise_to.cpu_milli;
    if (g.quota.raise_to.memory_bytes < kUnbounded) out.quota_memory_bytes = g.quota.raise_to.memory_bytes;
  }
  return out;
}

PlacementPlan PlanOf(const placement::PlacementDecision& d, const std::string& owned_quota,
                     const placement::CapacityView& view, const PlacementRequest& req) {
  PlacementPlan plan;
  if (const auto* f = std::get_if<placement::Fit>(&d)) {
    plan.kind = PlanKind::kFit;
    plan.instance = f->instance;
    plan.reservation = NameOf(f->reservation);
    plan.reason = "Fits";
    plan.message = "fits on " + f->instance_name + (f->reservation.empty() ? "" : " (reservation " + plan.reservation + ")");
  } else if (const auto* g = std::get_if<placement::Grow>(&d)) {
    plan.kind = PlanKind::kGrow;
    plan.instance = g->plan.instance;
    plan.grow = GrowOf(g->plan, owned_quota);
    plan.reason = "Growing";
    plan.message = "growing " + g->plan.vm_name + " to " + std::to_string(g->plan.sockets_after) + " sockets and " +
                   FormatBytes(g->plan.memory_after);
  } else if (const auto* p = std::get_if<placement::Preempt>(&d)) {
    plan.kind = PlanKind::kQueue;
    plan.instance = p->instance;
    plan.victims = p->victims;
    plan.reason = "Preempting";
    plan.message = "taking room on " + NameOf(p->instance) + " from lower-priority runs (not started, or allowing preemption while running)";
  } else if (const auto* sp = std::get_if<placement::ScalePool>(&d)) {
    plan.kind = PlanKind::kScalePool;
    plan.pool = sp->pool;
    plan.pool_replicas = sp->replicas;
    plan.reason = "ScalingPool";
    plan.message = "scaling pool " + sp->pool + " to " + std::to_string(sp->replicas) + " replicas";
    if (sp->nodes) {
      plan.provision_nodes = true;
      plan.grow.new_pod_cpu_milli = sp->nodes->pod_requests.cpu_milli;
      plan.grow.new_pod_memory_bytes = sp->nodes->pod_requests.memory_bytes;
      // A member's launcher pod is the template the node request mirrors.
      for (const placement::Instance* i : view.Candidates(req.ns, req.target)) {
        plan.instance = i->Key();
        break;
      }
      plan.message += ", and asked the cluster autoscaler for a node for it";
    }
  } else if (const auto* pn = std::get_if<placement::ProvisionNodes>(&d)) {
    plan.kind = PlanKind::kProvisionNodes;
    plan.instance = pn->then_instance;
    plan.grow.new_pod_cpu_milli = pn->hint.pod_requests.cpu_milli;
    plan.grow.new_pod_memory_bytes = pn->hint.pod_requests.memory_bytes;
    plan.reason = "WaitingForNodes";
    plan.message = "no node has room for the grown virt-launcher pod of " + NameOf(pn->then_instance) + " (" +
                   pn->hint.pod_requests.ToString() + "); asked the cluster autoscaler for one";
  } else if (const auto* q = std::get_if<placement::Queue>(&d)) {
    plan.kind = PlanKind::kQueue;
    plan.reason = q->reason;
    plan.message = q->message;
  } else if (const auto* r = std::get_if<placement::Reject>(&d)) {
    plan.kind = PlanKind::kReject;
    plan.reason = r->reason;
    plan.message = r->message;
  }
  return plan;
}

std::string OwnedQuotaName(const ClusterSnapshot& s, const std::string& ns) {
  auto it = s.quotas.find(ns);
  if (it == s.quotas.end()) return "";
  for (const QuotaView& q : it->second)
    if (q.owned) return q.name;
  return "";
}

}  // namespace

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

placement::Policy PlacementPolicyOf(const ControllerPolicy& policy) { return policy.placement; }

placement::CapacityView CapacityViewOf(const ClusterSnapshot& s, const std::string& ns) {
  placement::CapacityView v;
  for (const auto& [key, inst] : s.instances) {
    if (inst.ns == ns) v.instances.push_back(InstanceOf(inst));
  }
  for (const auto& [name, n] : s.nodes) {
    placement::Node node;
    node.name = n.name;
    node.allocatable = {n.allocatable_cpu_milli, n.allocatable_memory_bytes};
    node.requested = {n.requested_cpu_milli, n.requested_memory_bytes};
    node.schedulable = n.ready && n.schedulable;
    v.nodes.push_back(std::move(node));
  }
  for (const auto& [key, pv] : s.pools) {
    if (pv.ns != ns) continue;
    placement::Pool p;
    p.name = pv.name;
    p.ns = pv.ns;
    p.replicas = pv.replicas;
    p.max_replicas = pv.max_replicas;
    if (pv.memory_bytes > 0) {
      p.shape.name = pv.name;
      p.shape.ns = pv.ns;
      p.shape.sockets = pv.sockets;
      p.shape.cores = pv.cores;
      p.shape.threads = pv.threads;
      p.shape.max_sockets = pv.max_sockets;
      p.shape.memory_bytes = pv.memory_bytes;
      p.shape.guest_at_boot = pv.memory_bytes;
      p.shape.max_guest = pv.max_guest;
    } else {
      // No size in the template: a new VM boots like the members do.
      for (const auto& [ikey, inst] : s.instances) {
        if (inst.ns == ns && inst.pool == pv.name) {
          p.shape = InstanceOf(inst);
          p.shape.launcher.reset();
          break;
        }
      }
    }
    v.pools.push_back(std::move(p));
  }
  if (auto q = s.quotas.find(ns); q != s.quotas.end()) {
    std::string owned;
    v.quotas[ns] = QuotaOf(q->second, &owned);
  }
  for (const auto& [key, r] : s.reservations) {
    if (r.ns != ns || !r.active || r.instance.empty()) continue;
    v.ledger.AddReservation(
        {key, r.instance, {r.spec.resources.cpu_milli.value_or(0), r.spec.resources.memory_bytes.value_or(0)}});
  }
  for (const Holding& h : s.holdings) {
    placement::Hold hold;
    hold.run = h.run_key;
    hold.instance = h.instance;
    hold.amount = {h.cpu_milli, h.memory_bytes};
    hold.priority = h.priority;
    hold.created = h.created;
    hold.started = h.started;
    // A started run is stopped through status.stopRequest (controller/preemption.h) only when its
    // spec allows it.
    hold.preemptible_while_running = h.preemptible_while_running;
    hold.reservation = h.reservation;
    v.ledger.AddHold(std::move(hold));
  }
  return v;
}

PlacementRequest RequestFor(const api::CommandRun& run, const ClusterSnapshot& s, api::Time now) {
  PlacementRequest r;
  r.run_key = run.Key();
  r.run_uid = run.metadata.uid;
  r.ns = run.metadata.ns;
  r.target = run.spec.target;
  if (run.status.prediction) {
    r.cpu_milli = run.status.prediction->cpu_milli;
    r.memory_bytes = run.status.prediction->memory_bytes;
    r.disk_read_bytes_per_second = run.status.prediction->disk_read_bytes_per_second;
    r.disk_write_bytes_per_second = run.status.prediction->disk_write_bytes_per_second;
  }
  r.priority = RunPriority(run, s.priority_classes);
  // PriorityClass preemptionPolicy: Never: only a priority that comes from such a class (an
  // explicit spec.priority has no policy and may preempt).
  r.may_preempt = run.spec.priority || !run.spec.priority_class_name ||
                  s.never_preempting_classes.count(*run.spec.priority_class_name) == 0;
  r.created = run.metadata.creation_timestamp.value_or(api::Time{});
  placement::ReservationChoice c = placement::ChooseReservation(run, ReservationsOf(s, run.metadata.ns), now);
  r.reservation = c.reservation;
  r.reservation_error_reason = c.error_reason;
  r.reservation_error_message = c.error_message;
  return r;
}

AdmissionResult AdmitInOrder(const PlacementRequest& req, std::vector<PlacementRequest> pending,
                             const ClusterSnapshot& s, const ControllerPolicy& policy) {
  // A run naming a reservation it may not use is not placed: it waits for the reservation's window,
  // or fails when it may never use it (another user, another command).
  if (!req.reservation_error_reason.empty()) {
    AdmissionResult r;
    r.plan.reason = req.reservation_error_reason;
    r.plan.message = req.reservation_error_message;
    if (req.reservation_error_reason == "ReservationNotActive") {
      r.plan.kind = PlanKind::kQueue;
      r.position = 1;
    } else {
      r.plan.kind = PlanKind::kReject;
    }
    return r;
  }
  if (std::none_of(pending.begin(), pending.end(), [&](const auto& p) { return p.run_key == req.run_key; })) {
    pending.push_back(req);
  }
  placement::CapacityView view = CapacityViewOf(s, req.ns);
  view.ledger.RemoveHold(req.run_key);  // placing it again: what it held is not in its way
  std::vector<placement::PlacementRequest> waiting;
  for (const PlacementRequest& p : pending) {
    if (!p.reservation_error_reason.empty() && p.run_key != req.run_key) continue;  // not placed, holds nothing
    waiting.push_back(ToPlacement(p));
  }
  std::vector<placement::Admission> admissions = placement::PlanAdmissions(std::move(waiting), view,
                                                                            PlacementPolicyOf(policy));
  for (const placement::Admission& a : admissions) {
    if (a.run != req.run_key) continue;
    AdmissionResult r;
    r.plan = PlanOf(a.decision, OwnedQuotaName(s, req.ns), view, req);
    if (r.plan.kind == PlanKind::kQueue || r.plan.kind == PlanKind::kScalePool ||
        r.plan.kind == PlanKind::kProvisionNodes) {
      r.position = r.plan.victims.empty() ? std::max(a.position, 1) : 0;
    }
    return r;
  }
  return {};  // unreachable: req is among the waiting runs
}

bool WantsRunningGrowth(const api::CommandRun& run, int64_t throttled_for_seconds, const ControllerPolicy& policy) {
  if (run.status.phase != api::RunPhase::kRunning || !run.status.allocation || !run.status.usage) return false;
  // With no capacity view the decision stops before placement: kNone means usage is within bounds.
  return placement::DecideRunningGrowth(placement::SampleFor(run, throttled_for_seconds), placement::CapacityView{},
                                        policy.placement)
             .kind != placement::GrowthDecision::Kind::kNone;
}

RunningGrowthPlan PlanRunningGrowth(const api::CommandRun& run, int64_t throttled_for_seconds, const ClusterSnapshot& s,
                                    const ControllerPolicy& policy) {
  RunningGrowthPlan out;
  PlacementPlan& plan = out.plan;
  plan.kind = PlanKind::kQueue;
  if (run.status.phase != api::RunPhase::kRunning || !run.status.allocation || !run.status.usage) return out;
  const std::string& ns = run.metadata.ns;
  placement::RunningSample sample = placement::SampleFor(run, throttled_for_seconds);
  plan.instance = sample.instance;
  out.cpu_milli = sample.allocated.cpu_milli;
  out.memory_bytes = sample.allocated.memory_bytes;
  placement::CapacityView view = CapacityViewOf(s, ns);
  if (view.ledger.FindHold(run.Key()) == nullptr) {
    // Only an increase is placed (what the run holds is counted already): without its hold there
    // is nothing to count the increase against.
    plan.reason = "InstanceNotFound";
    plan.message = "run " + run.Key() + " holds nothing on " + sample.instance;
    return out;
  }
  placement::GrowthDecision d = placement::DecideRunningGrowth(sample, view, policy.placement);
  out.cpu_milli = d.new_allocation.cpu_milli;
  out.memory_bytes = d.new_allocation.memory_bytes;
  plan.reason = d.reason;
  plan.message = d.message;
  switch (d.kind) {
    case placement::GrowthDecision::Kind::kNone:
    case placement::GrowthDecision::Kind::kBlocked:
      break;
    case placement::GrowthDecision::Kind::kResize:
      plan.kind = PlanKind::kFit;
      break;
    case placement::GrowthDecision::Kind::kGrowInstance:
      plan.kind = PlanKind::kGrow;
      plan.grow = GrowOf(*d.plan, OwnedQuotaName(s, ns));
      break;
  }
  return out;
}

GrowPlan QuotaForMigration(const InstanceView& inst, const ClusterSnapshot& s) {
  GrowPlan g;
  g.from_sockets = inst.sockets;
  g.to_sockets = inst.desired_sockets;
  g.from_guest = inst.memory_bytes;
  g.to_guest = inst.desired_guest;
  placement::Instance i = InstanceOf(inst);
  Resources after = i.MigrationTargetLauncher(inst.desired_sockets * i.VcpusPerSocket(), inst.desired_guest);
  g.new_pod_cpu_milli = after.cpu_milli;
  g.new_pod_memory_bytes = after.memory_bytes;
  auto q = s.quotas.find(inst.ns);
  if (q == s.quotas.end()) return g;
  std::string owned;
  placement::QuotaCheck check = placement::PlanMigrationQuota(QuotaOf(q->second, &owned), i.CurrentLauncher(), after);
  if (check.allowed && check.change.raise) {
    g.quota_name = owned;
    if (check.change.raise_to.cpu_milli < kUnbounded) g.quota_cpu_milli = check.change.raise_to.cpu_milli;
    if (check.change.raise_to.memory_bytes < kUnbounded) g.quota_memory_bytes = check.change.raise_to.memory_bytes;
  }
  return g;
}

api::Allocation AllocationFor(const PlacementRequest& req, const PlacementPlan& plan, const ClusterSnapshot& s,
                              const IoPolicy& io) {
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
  IoControls c = IoControlsFor(req.priority, req.disk_read_bytes_per_second, req.disk_write_bytes_per_second, io);
  a.io_weight = c.io_weight;
  a.disk_read_bytes_per_second = c.disk_read_bytes_per_second;
  a.disk_write_bytes_per_second = c.disk_write_bytes_per_second;
  return a;
}

}  // namespace prescient::controller
