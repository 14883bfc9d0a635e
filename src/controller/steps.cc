#include "controller/steps.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "api/constants.h"
#include "api/validation.h"
#include "common/clock.h"
#include "common/quantity.h"
#include "placement/quota.h"

namespace prescient::controller {

api::FieldErrors ValidateReferences(const api::CommandRun& run, const ClusterSnapshot& s, bool vm_exists,
                                    const std::vector<std::string>& vm_namespaces_with_name, bool pool_exists,
                                    bool reservation_exists) {
  (void)s;
  api::FieldErrors errs;
  const auto& t = run.spec.target;
  if (t.vm_name && !vm_exists) {
    std::string msg = "VirtualMachine \"" + *t.vm_name + "\" not found in namespace \"" + run.metadata.ns + "\"";
    if (!vm_namespaces_with_name.empty()) {
      msg += " (one exists in namespace \"" + vm_namespaces_with_name.front() +
             "\"; a CommandRun may only target VMs in its own namespace)";
    }
    errs.push_back({"spec.target.vmName", msg});
  }
  if (t.vm_pool_name && !pool_exists) {
    errs.push_back({"spec.target.vmPoolName", "VirtualMachinePool \"" + *t.vm_pool_name + "\" not found in namespace \"" +
                                                  run.metadata.ns + "\""});
  }
  if (run.spec.reservation_name && !reservation_exists) {
    errs.push_back({"spec.reservationName", "ResourceReservation \"" + *run.spec.reservation_name +
                                                "\" not found in namespace \"" + run.metadata.ns + "\""});
  }
  return errs;
}

api::CommandRunStatus StatusAfterPlan(const api::CommandRun& run, const api::CommandRunStatus& base,
                                      const AdmissionResult& admission, const api::Allocation& allocation,
                                      api::Time now) {
  api::CommandRunStatus st = base;
  const PlacementPlan& plan = admission.plan;
  int64_t gen = run.metadata.generation;
  auto waiting = [&](api::RunPhase phase) {
    st.phase = phase;
    st.allocation.reset();
    api::QueueStatus q;
    q.position = admission.position;
    q.reason = plan.reason;
    q.message = plan.message;
    // `since` keeps the first time the run started waiting (wait-time metric, table in quickstart).
    q.since = base.queue && base.queue->since ? base.queue->since : std::optional<api::Time>(now);
    st.queue = q;
    api::SetCondition(&st.conditions,
                      {api::kConditionAllocated, api::ConditionStatus::kFalse, gen, {}, plan.reason, plan.message}, now);
  };
  switch (plan.kind) {
    case PlanKind::kFit: {
      st.phase = api::RunPhase::kAllocated;
      st.allocation = allocation;
      st.allocation->allocated_at = now;
      if (st.queue) st.queue->position = 0;
      api::SetCondition(&st.conditions,
                        {api::kConditionAllocated, api::ConditionStatus::kTrue, gen, {}, "Allocated",
                         "allocated " + FormatCpuMilli(allocation.cpu_milli) + " CPU and " +
                             std::to_string(allocation.memory_bytes >> 20) + "Mi on " + allocation.instance_id},
                        now);
      break;
    }
    case PlanKind::kGrow: {
      // The allocation is recorded now so the ledger counts it while the hotplug is in flight.
      st.phase = api::RunPhase::kAllocating;
      st.allocation = allocation;
      // While Allocating, allocatedAt is when the growth was asked for (the hotplug timeout counts
      // from it); it becomes the allocation time once the hotplug is done.
      st.allocation->allocated_at = now;
      api::QueueStatus q;
      q.reason = plan.reason;
      q.message = plan.message;
      q.since = base.queue && base.queue->since ? base.queue->since : std::optional<api::Time>(now);
      st.queue = q;
      api::SetCondition(&st.conditions,
                        {api::kConditionAllocated, api::ConditionStatus::kFalse, gen, {}, "Hotplugging", plan.message}, now);
      break;
    }
    case PlanKind::kScalePool:
    case PlanKind::kProvisionNodes:
      waiting(api::RunPhase::kScaling);
      break;
    case PlanKind::kQueue:
      waiting(api::RunPhase::kQueued);
      break;
    case PlanKind::kReject: {
      st.phase = api::RunPhase::kFailed;
      st.allocation.reset();
      api::RunResult r;
      r.reason = "Unschedulable";
      r.message = plan.message;
      r.finished_at = now;
      st.result = r;
      api::SetCondition(&st.conditions,
                        {api::kConditionAllocated, api::ConditionStatus::kFalse, gen, {}, "Unschedulable", plan.message},
                        now);
      break;
    }
  }
  return st;
}

std::optional<history::Observation> ObservationOf(const api::CommandRun& run, const InstanceView* instance) {
  const auto& st = run.status;
  if (!st.usage || !st.result) return std::nullopt;
  const std::string& reason = st.result->reason;
  if (reason == "Refused" || reason == "Invalid" || reason == "Unschedulable" || reason == "Lost") return std::nullopt;
  history::Observation o;
  o.run_uid = run.metadata.uid;
  o.ns = run.metadata.ns;
  o.name = run.metadata.name;
  auto& r = o.record;
  api::Time t = st.result->started_at.value_or(run.metadata.creation_timestamp.value_or(api::Time{}));
  r.time = t;
  r.time_text = FormatRfc3339(t);
  r.command = run.spec.CommandLine();
  r.user = run.spec.user.value_or("");
  if (instance) {
    r.context.vm_cpus = static_cast<double>(instance->CpuMilli()) / 1000.0;
    r.context.vm_memory_bytes = static_cast<double>(instance->memory_bytes);
  }
  if (st.allocation) {
    r.context.requested_cpus = static_cast<double>(st.allocation->cpu_milli) / 1000.0;
    r.context.requested_memory_bytes = static_cast<double>(st.allocation->memory_bytes);
  }
  analysis::RunUsage u;
  const auto& us = *st.usage;
  u.cpu_cores_peak = us.peaks.cpu_cores;
  u.cpu_seconds = us.totals.cpu_seconds;
  u.memory_peak_bytes = static_cast<double>(us.peaks.memory_bytes);
  u.disk_read_bytes = static_cast<double>(us.totals.disk_read_bytes);
  u.disk_write_bytes = static_cast<double>(us.totals.disk_write_bytes);
  u.network_bytes = static_cast<double>(us.totals.network_receive_bytes + us.totals.network_transmit_bytes);
  double wall = us.totals.wall_seconds;
  if (wall <= 0 && st.result->started_at && st.result->finished_at) {
    wall = std::chrono::duration<double>(*st.result->finished_at - *st.result->started_at).count();
  }
  u.duration_seconds = wall;
  if (st.result->exit_code) u.exit_code = *st.result->exit_code;
  u.oom_killed = st.result->oom_killed;
  r.usage = u;
  r.endpoints = us.endpoints;
  if (st.prediction) {
    o.prediction = history::PredictedProfile{static_cast<double>(st.prediction->cpu_milli) / 1000.0,
                                             st.prediction->memory_bytes, st.prediction->duration_seconds,
                                             st.prediction->model_version, st.prediction->source};
  }
  return o;
}

std::vector<DependencyRef> ClusterDependencies(const api::CommandRun& run) {
  std::vector<DependencyRef> out;
  std::vector<api::Dependency> deps = run.spec.dependencies.value_or(std::vector<api::Dependency>{});
  size_t declared = deps.size();
  if (run.status.prediction) {
    for (const auto& d : run.status.prediction->dependencies) deps.push_back(d);
  }
  for (size_t i = 0; i < deps.size(); ++i) {
    const api::Dependency& d = deps[i];
    DependencyRef r;
    r.declared = i < declared;
    r.ns = run.metadata.ns;
    r.deployment = d.kind == api::DependencyKind::kDeployment;
    std::string host = d.host;
    if (d.kind == api::DependencyKind::kEndpoint) continue;  // not a cluster object: the agent checks it
    if (r.deployment && d.name) host = *d.name;
    // "name", "name.ns", "name.ns.svc", "name.ns.svc.cluster.local"
    std::vector<std::string> parts;
    size_t pos = 0;
    while (pos <= host.size()) {
      size_t dot = host.find('.', pos);
      parts.push_back(host.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos));
      if (dot == std::string::npos) break;
      pos = dot + 1;
    }
    if (parts.empty() || parts[0].empty() || !api::IsDnsLabel(parts[0])) continue;
    bool digits = host.find_first_not_of("0123456789.") == std::string::npos;
    if (digits) continue;  // an IP address
    if (parts.size() >= 3 && parts[2] != "svc") continue;  // an external name
    r.name = parts[0];
    if (parts.size() >= 2) r.ns = parts[1];
    if (std::none_of(out.begin(), out.end(), [&](const DependencyRef& o) {
          return o.ns == r.ns && o.name == r.name && o.deployment == r.deployment;
        })) {
      out.push_back(r);
    }
  }
  return out;
}

DependencyGate EvaluateDependencies(const api::CommandRun& run, const DependencyLookup& lookup) {
  DependencyGate g;
  for (const auto& d : ClusterDependencies(run)) {
    auto dep = lookup.deployment ? lookup.deployment(d.ns, d.name) : std::nullopt;
    if (dep && dep->replicas == 0 && dep->wake_replicas > 0) g.wake.push_back({d, dep->wake_replicas});
    bool ready = true;
    std::string what;
    if (d.deployment) {
      ready = dep && dep->ready > 0;
      what = "Deployment " + d.ns + "/" + d.name + (dep ? " has no ready replica" : " not found");
    } else {
      auto svc = lookup.service_ready ? lookup.service_ready(d.ns, d.name) : std::nullopt;
      if (!svc && !d.declared) continue;  // a predicted host that is not a Service of this cluster
      ready = svc.value_or(false);
      what = "Service " + d.ns + "/" + d.name + (svc ? " has no ready endpoint" : " not found");
    }
    if (!ready && g.ready) {
      g.ready = false;
      g.message = what;
    }
  }
  return g;
}

std::optional<QuotaHard> DesiredQuotaHard(const QuotaView& q, bool growth_in_flight) {
  if (!q.owned || growth_in_flight) return std::nullopt;
  // placement::LoweredHard is the arithmetic (max(used, min(hard, floor)) per resource), with the
  // baseline as the floor; a resource without a hard limit or a baseline is left alone, and only a
  // lowering is applied here (a raise is RaiseQuota's, before a growth).
  constexpr int64_t kUnset = std::numeric_limits<int64_t>::max() / 8;
  placement::OwnedQuota owned{{q.hard_cpu_milli.value_or(kUnset), q.hard_memory_bytes.value_or(kUnset)},
                              {q.used_cpu_milli, q.used_memory_bytes},
                              std::nullopt};
  placement::Resources floor{q.baseline_cpu_milli.value_or(kUnset), q.baseline_memory_bytes.value_or(kUnset)};
  placement::Resources lowered = placement::LoweredHard(owned, floor);
  QuotaHard want;
  if (q.hard_cpu_milli && q.baseline_cpu_milli && lowered.cpu_milli < *q.hard_cpu_milli) want.cpu_milli = lowered.cpu_milli;
  if (q.hard_memory_bytes && q.baseline_memory_bytes && lowered.memory_bytes < *q.hard_memory_bytes) {
    want.memory_bytes = lowered.memory_bytes;
  }
  if (!want.cpu_milli && !want.memory_bytes) return std::nullopt;
  return want;
}

AgentHeartbeat HeartbeatFromLease(const Json* lease) {
  AgentHeartbeat hb;
  if (!lease || !lease->contains("spec") || !(*lease)["spec"].is_object()) return hb;
  const Json& spec = (*lease)["spec"];
  for (const char* k : {"renewTime", "acquireTime"}) {
    auto it = spec.find(k);
    if (it != spec.end() && it->is_string() && ParseRfc3339(it->get<std::string>(), &hb.renewed)) {
      hb.found = true;
      return hb;
    }
  }
  return hb;
}

AgentLostDecision DecideAgentLost(const api::CommandRun& run, const AgentHeartbeat& hb, api::Time now,
                                  std::chrono::seconds grace) {
  AgentLostDecision d;
  const auto& st = run.status;
  bool bound = st.allocation && !st.allocation->instance_id.empty();
  if (!bound || !hb.found || run.metadata.deletion_timestamp) return d;
  bool started = st.agent.has_value() || st.phase == api::RunPhase::kRunning;
  if (st.phase != api::RunPhase::kAllocated && st.phase != api::RunPhase::kRunning) return d;
  auto age = now - hb.renewed;
  d.age_seconds = std::chrono::duration<double>(age).count();
  if (age <= grace) {
    // One second past the deadline, so the recheck finds the Lease stale rather than just on time.
    d.recheck_after = std::chrono::duration_cast<std::chrono::milliseconds>(grace - age) + std::chrono::seconds(1);
    return d;
  }
  char age_text[32];
  std::snprintf(age_text, sizeof age_text, "%.0f", d.age_seconds);
  std::string base = "the agent of instance " + st.allocation->instance_id + " last renewed its Lease " + age_text +
                     " s ago (grace " + std::to_string(grace.count()) + " s)";
  if (started) {
    d.action = AgentLostAction::kFail;
    d.message = base + "; the run it had started is lost and its allocation released";
  } else {
    d.action = AgentLostAction::kRequeue;
    d.message = base + "; the run had not started and is queued for placement elsewhere";
  }
  return d;
}

api::CommandRunStatus StatusAfterAgentLost(const api::CommandRun& run, const AgentLostDecision& d, api::Time now) {
  api::CommandRunStatus st = run.status;
  if (d.action == AgentLostAction::kNone) return st;
  int64_t gen = run.metadata.generation;
  api::SetCondition(&st.conditions, {kConditionAgentLost, api::ConditionStatus::kTrue, gen, {}, kReasonAgentLost, d.message},
                    now);
  if (d.action == AgentLostAction::kRequeue) {
    st.phase = api::RunPhase::kQueued;
    st.allocation.reset();
    api::QueueStatus q = st.queue.value_or(api::QueueStatus{});
    q.reason = kReasonAgentLost;
    q.message = d.message;
    q.position = 0;
    q.since = now;
    st.queue = q;
    api::SetCondition(&st.conditions,
                      {api::kConditionAllocated, api::ConditionStatus::kFalse, gen, {}, kReasonAgentLost, d.message}, now);
  } else {
    st.phase = api::RunPhase::kFailed;
    api::RunResult r = st.result.value_or(api::RunResult{});
    r.reason = "Lost";
    r.message = d.message;
    if (!r.finished_at) r.finished_at = now;
    st.result = r;
    api::SetCondition(&st.conditions,
                      {api::kConditionCompleted, api::ConditionStatus::kFalse, gen, {}, kReasonAgentLost, d.message}, now);
  }
  return st;
}

HotplugVerdict DecideHotplug(const InstanceView* inst, bool fits, std::optional<api::Time> requested_at, api::Time now,
                             std::chrono::seconds timeout, std::chrono::seconds start_timeout) {
  HotplugVerdict v;
  if (inst && inst->restart_required) {
    v.outcome = HotplugOutcome::kRestartRequired;
    v.reason = kReasonRestartRequired;
    v.message = "VirtualMachine " + inst->name +
                " reports RestartRequired: the size change cannot be hotplugged; size put back and the run queued again";
    return v;
  }
  if (inst && inst->hotplug_in_flight) {
    if (!requested_at) return v;  // an old status without the time: wait (VMI events bring it back)
    auto elapsed = now - *requested_at;
    if (elapsed > timeout) {
      v.outcome = HotplugOutcome::kTimedOut;
      v.reason = kReasonHotplugTimedOut;
      v.message = "VirtualMachineInstance " + inst->name + " did not report the hotplug done within " +
                  std::to_string(timeout.count()) + " s; size put back and the run queued again";
      return v;
    }
    v.recheck_after = std::chrono::duration_cast<std::chrono::milliseconds>(timeout - elapsed) + std::chrono::seconds(1);
    return v;
  }
  if (fits) {
    v.outcome = HotplugOutcome::kDone;
    return v;
  }
  if (inst && requested_at && now - *requested_at < start_timeout) {
    // Not observed yet (the VM patch's event may still be on its way): in progress until the deadline.
    v.recheck_after = std::chrono::duration_cast<std::chrono::milliseconds>(start_timeout - (now - *requested_at)) +
                      std::chrono::milliseconds(1);
    return v;
  }
  v.outcome = HotplugOutcome::kNotApplied;
  return v;
}

api::CommandRunStatus StatusAfterHotplugFailure(const api::CommandRun& run, const HotplugVerdict& v, api::Time now) {
  api::CommandRunStatus st = run.status;
  int64_t gen = run.metadata.generation;
  st.phase = api::RunPhase::kQueued;
  st.allocation.reset();
  api::QueueStatus q = st.queue.value_or(api::QueueStatus{});
  q.reason = v.reason;
  q.message = v.message;
  q.position = 0;
  if (!q.since) q.since = now;
  st.queue = q;
  api::SetCondition(&st.conditions, {api::kConditionAllocated, api::ConditionStatus::kFalse, gen, {}, v.reason, v.message},
                    now);
  // Removed first so the transition time is this failure's: the back-off counts from it.
  api::RemoveCondition(&st.conditions, kConditionHotplugFailed);
  api::SetCondition(&st.conditions, {kConditionHotplugFailed, api::ConditionStatus::kTrue, gen, {}, v.reason, v.message}, now);
  return st;
}

std::chrono::milliseconds HotplugBackoffLeft(const api::CommandRun& run, api::Time now, std::chrono::seconds timeout) {
  for (const auto& c : run.status.conditions) {
    if (c.type != kConditionHotplugFailed || c.status != api::ConditionStatus::kTrue) continue;
    auto left = c.last_transition_time + timeout - now;
    if (left <= std::chrono::milliseconds(0)) return std::chrono::milliseconds(0);
    return std::chrono::duration_cast<std::chrono::milliseconds>(left) + std::chrono::milliseconds(1);
  }
  return std::chrono::milliseconds(0);
}

}  // namespace prescient::controller
