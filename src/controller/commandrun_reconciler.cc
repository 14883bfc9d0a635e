#include "controller/commandrun_reconciler.h"

#include <algorithm>
#include <set>

#include "api/codec.h"
#include "api/constants.h"
#include "api/validation.h"
#include "common/quantity.h"
#include "controller/preemption.h"
#include "controller/resources.h"
#include "controller/shadow.h"
#include "controller/steps.h"

namespace prescient::controller {

namespace {

int64_t RvOf(const nlohmann::json& obj) {
  try {
    return std::stoll(obj.at("metadata").value("resourceVersion", "0"));
  } catch (...) {
    return 0;
  }
}

bool HasFinalizer(const nlohmann::json& obj, const char* f) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->contains("finalizers")) return false;
  for (const auto& x : (*m)["finalizers"]) {
    if (x.is_string() && x.get<std::string>() == f) return true;
  }
  return false;
}

double Seconds(Clock::TimePoint a, Clock::TimePoint b) { return std::chrono::duration<double>(b - a).count(); }

std::string PriorityLabel(int32_t p) { return std::to_string(p); }

}  // namespace

CommandRunReconciler::CommandRunReconciler(CommandRunReconcilerDeps deps) : d_(std::move(deps)) {
  if (!d_.clock) d_.clock = &SystemClock();
}

// ---- the reconcile loop ------------------------------------------------------------------------

Result<kube::ReconcileResult> CommandRunReconciler::Reconcile(const std::string& key) {
  if (key.rfind(kQuotaKeyPrefix, 0) == 0) {
    if (Status ls = LowerQuotas(key.substr(std::char_traits<char>::length(kQuotaKeyPrefix))); !ls.ok()) return ls;
    return kube::ReconcileResult{};
  }
  kube::ObjectPtr cached = d_.caches.runs->Get(key);
  if (!cached) {
    // Gone: nothing holds capacity any more (the finalizer already ran). Not an error.
    typed_.Forget(key);
    ForgetThrottling(key);
    std::lock_guard<std::mutex> lock(assumed_mu_);
    assumed_.erase(key);
    return kube::ReconcileResult{};
  }
  Json obj = *cached;
  api::FieldErrors decode_errors;
  api::CommandRun run = api::CommandRunFromJson(obj, &decode_errors);

  if (run.metadata.deletion_timestamp) return Finalize(obj, run);
  if (api::IsTerminal(run.status.phase)) return Complete(obj, run);

  switch (run.status.phase) {
    case api::RunPhase::kAllocated: {
      // The agent that should start it may be gone: take the allocation back (checked first, so a
      // lost agent's run is not labelled for it again).
      AgentLostDecision lost = CheckAgent(run);
      if (lost.action != AgentLostAction::kNone) return TakeBackFromLostAgent(obj, run, lost);
      // Status was written; the label may not have been (crash between the two writes).
      auto r = EnsureInstanceLabel(obj, run.status.allocation ? run.status.allocation->instance_id : "");
      if (!r.ok()) return r.status();
      return kube::ReconcileResult{lost.recheck_after};
    }
    case api::RunPhase::kRunning:
      return Feedback(std::move(obj), std::move(run));
    case api::RunPhase::kAllocating:
      return CheckGrowth(std::move(obj), std::move(run));
    case api::RunPhase::kShadowing:
      return Shadow(std::move(obj), std::move(run));
    case api::RunPhase::kPreempted:
      return RequeuePreempted(std::move(obj), run);
    default:
      break;
  }

  // Validate: the schema and CEL mirrors, then what only the cluster can tell.
  api::FieldErrors errs = decode_errors;
  for (auto& e : api::ValidateCommandRun(run)) errs.push_back(std::move(e));
  if (errs.empty()) {
    const std::string& ns = run.metadata.ns;
    const auto& t = run.spec.target;
    bool vm_exists = true, pool_exists = true;
    std::vector<std::string> elsewhere;
    if (t.vm_name) {
      vm_exists = d_.caches.vms->Get(ns + "/" + *t.vm_name) || d_.caches.vmis->Get(ns + "/" + *t.vm_name);
      if (!vm_exists) {
        for (const auto& vm : d_.caches.vms->List()) {
          if ((*vm)["metadata"].value("name", "") == *t.vm_name) elsewhere.push_back((*vm)["metadata"].value("namespace", ""));
        }
      }
    }
    if (t.vm_pool_name && d_.caches.pools) pool_exists = d_.caches.pools->Get(ns + "/" + *t.vm_pool_name) != nullptr;
    bool reservation_exists = !run.spec.reservation_name || (d_.caches.reservations &&
                                                             d_.caches.reservations->Get(ns + "/" + *run.spec.reservation_name));
    ClusterSnapshot empty;
    for (auto& e : ValidateReferences(run, empty, vm_exists, elsewhere, pool_exists, reservation_exists)) {
      errs.push_back(std::move(e));
    }
  }
  if (!errs.empty()) return FailInvalid(obj, run, errs);

  // The finalizer goes on before any capacity is held, so a deletion always releases it.
  auto with_finalizer = EnsureFinalizer(obj, true);
  if (!with_finalizer.ok()) return with_finalizer.status();
  return PlaceAndAllocate(std::move(*with_finalizer), std::move(run));
}

Result<kube::ReconcileResult> CommandRunReconciler::FailInvalid(const Json& obj, const api::CommandRun& run,
                                                                const api::FieldErrors& errs) {
  api::Time now = d_.clock->Now();
  api::CommandRunStatus st = run.status;
  std::string msg = api::Summarize(errs);
  st.phase = api::RunPhase::kFailed;
  st.allocation.reset();
  api::RunResult r = st.result.value_or(api::RunResult{});
  r.reason = "Invalid";
  r.message = msg;
  if (!r.finished_at) r.finished_at = now;
  st.result = r;
  api::SetCondition(&st.conditions,
                    {api::kConditionValid, api::ConditionStatus::kFalse, run.metadata.generation, {},
                     api::kReasonInvalidSpec, msg},
                    now);
  // No error returned: an invalid spec does not get better by retrying. A spec change (generation)
  // is refused by the CRD's immutability rule, so the run stays Failed.
  if (st == run.status) return kube::ReconcileResult{};
  auto w = WriteStatus(obj, run, st);
  if (!w.ok()) return w.status();
  d_.events->Record(obj, kube::kEventWarning, api::kReasonInvalidSpec, msg);
  log_.Info("invalid CommandRun", {{"namespace", run.metadata.ns}, {"name", run.metadata.name}, {"errors", msg}});
  if (d_.metrics) d_.metrics->RunFinished("Failed");
  return kube::ReconcileResult{};
}

Result<kube::ReconcileResult> CommandRunReconciler::PlaceAndAllocate(Json obj, api::CommandRun run) {
  api::Time now = d_.clock->Now();
  const std::string& ns = run.metadata.ns;
  api::CommandRunStatus st = run.status;
  int64_t gen = run.metadata.generation;
  api::SetCondition(&st.conditions,
                    {api::kConditionValid, api::ConditionStatus::kTrue, gen, {}, api::kReasonValidated, "spec is valid"},
                    now);
  if (!st.prediction) {
    api::Prediction p = ClampPrediction(d_.predictor->Predict(run), run.spec.resources);
    st.prediction = p;
    api::SetCondition(&st.conditions,
                      {api::kConditionPredicted, api::ConditionStatus::kTrue, gen, {}, "Predicted" + p.source,
                       "predicted " + FormatCpuMilli(p.cpu_milli) + " CPU, " + FormatBytes(p.memory_bytes) +
                           " memory (" + p.source + ", model " + p.model_version + ")"},
                      now);
    if (d_.metrics) d_.metrics->Prediction(p.source);
  }
  run.status.prediction = st.prediction;

  // Shadow (spec.shadow.enabled): measure the command's early usage on a candidate before placing;
  // the condition records that it was done (or why not), so it happens once.
  if (run.spec.ShadowEnabled() && !api::FindCondition(st.conditions, kConditionShadowed)) {
    return StartShadow(std::move(obj), std::move(run), std::move(st));
  }

  // Dependencies: wake what is scaled to zero now, so it is up by the time the run is placed.
  DependencyGate gate = EvaluateDependencies(run, Lookup());
  for (const auto& [dep, replicas] : gate.wake) {
    if (Status ws = WakeDeployment(dep.ns, dep.name, replicas); !ws.ok()) return ws;
    d_.events->Record(obj, kube::kEventNormal, "WakingDependency",
                      "scaling Deployment " + dep.ns + "/" + dep.name + " to " + std::to_string(replicas) + " ahead of the run");
  }
  if (!gate.ready) {
    api::SetCondition(&st.conditions, {api::kConditionDependenciesReady, api::ConditionStatus::kFalse, gen, {},
                                       "DependenciesNotReady", gate.message},
                      now);
  } else {
    api::RemoveCondition(&st.conditions, api::kConditionDependenciesReady);  // the agent's warm-up sets it
  }

  AdmissionResult adm;
  api::Allocation alloc;
  Json written;
  std::chrono::milliseconds backoff{0};  // a growth given up: when the run may grow again
  {
    std::lock_guard<std::mutex> lock(place_mu_);
    ClusterSnapshot s = Snapshot(ns);
    PlacementRequest req = RequestFor(run, s);
    adm = AdmitInOrder(req, PendingRequests(ns, s), s, d_.policy);
    alloc = AllocationFor(req, adm.plan, s, d_.policy.io);
    if (adm.plan.kind == PlanKind::kFit && !gate.ready) {
      // Not bound before its dependencies are ready: Endpoints/Deployment events bring it back.
      adm.plan.kind = PlanKind::kQueue;
      adm.plan.reason = "DependenciesNotReady";
      adm.plan.message = gate.message;
      adm.position = 1;
    }
    if (adm.plan.kind == PlanKind::kQueue && adm.plan.victims.empty()) {
      // Say why when every instance the run may use has lost its agent.
      std::string lost;
      bool other_running = false;
      for (const auto& [key, inst] : s.instances) {
        const auto& t = run.spec.target;
        bool match = inst.ns == ns && ((t.vm_name && inst.name == *t.vm_name) || (t.vm_pool_name && inst.pool == *t.vm_pool_name) ||
                                       (t.vm_selector && t.vm_selector->Matches(inst.labels)));
        if (!match) continue;
        if (inst.agent_lost) lost = inst.name;
        else if (inst.running) other_running = true;
      }
      if (!lost.empty() && !other_running) {
        adm.plan.reason = kReasonAgentLost;
        adm.plan.message = "the agent of instance " + lost + " stopped renewing its Lease; waiting for it to come back";
      }
    }
    if ((adm.plan.kind == PlanKind::kGrow || adm.plan.kind == PlanKind::kProvisionNodes) &&
        (backoff = HotplugBackoffLeft(run, now, d_.policy.hotplug_timeout)).count() > 0) {
      // Its last growth was given up (timed out / needed a restart): no new one before the
      // back-off ends; it may still fit somewhere meanwhile (capacity events bring it back).
      adm.plan = PlacementPlan{};
      adm.plan.kind = PlanKind::kQueue;
      adm.plan.reason = kReasonHotplugBackoff;
      // An absolute time, so the message (and status) stays the same pass after pass.
      adm.plan.message = "an earlier hotplug for this run was given up; no new growth before " +
                         FormatRfc3339(std::chrono::time_point_cast<std::chrono::seconds>(now + backoff));
      adm.position = std::max(adm.position, 1);
    }
    const PlacementPlan& plan = adm.plan;

    if (!plan.victims.empty()) {
      // The preemptor's own status (prediction, Queued/Preempting) is written first: the victims'
      // writes follow it on the watch, so a victim placed again already sees this run waiting
      // ahead of it and does not take the room back (without it the two took turns).
      api::CommandRunStatus waiting = StatusAfterPlan(run, st, adm, alloc, now);
      waiting.observed_generation = gen;
      if (!(waiting == run.status)) {
        auto w = WriteStatus(obj, run, waiting);
        if (!w.ok()) return w.status();
        Assume(*w);
      }
      bool stopping = false;
      for (const auto& v : plan.victims) {
        // A victim that started (and allows it) is asked to stop; the others give their room back now.
        Result<bool> stop = RequestStopIfRunning(v, run, obj);
        if (!stop.ok()) return stop.status();
        stopping = stopping || *stop;
        if (*stop) continue;
        if (Status ps = Preempt(v, run); !ps.ok()) return ps;
      }
      // A running victim frees its room when its agent reports it Preempted: that write wakes the
      // waiting runs (the manager); the recheck only covers an agent that never answers.
      if (stopping) return kube::ReconcileResult{d_.policy.preemption_grace_period + std::chrono::seconds(30)};
      // Place again once the victims' released room is visible (the assume cache has it now).
      return kube::ReconcileResult{std::chrono::milliseconds(1)};
    }

    // Side effects the status depends on, each idempotent.
    if (plan.kind == PlanKind::kGrow) {
      if (plan.grow.quota_cpu_milli || plan.grow.quota_memory_bytes) {
        // Quota first: the migration's second pod is refused by admission without the headroom.
        if (Status qs = RaiseQuota(ns, plan.grow); !qs.ok()) {
          if (d_.metrics) d_.metrics->HotplugFailure("QuotaRaiseFailed");
          return qs;
        }
      }
    } else if (plan.kind == PlanKind::kProvisionNodes) {
      if (Status ps = AskForNodes(run, plan.instance, plan.grow); !ps.ok()) return ps;
    } else if (plan.kind == PlanKind::kScalePool) {
      if (Status ps = ScalePool(ns, plan.pool, plan.pool_replicas); !ps.ok()) return ps;
      if (plan.provision_nodes) {
        if (Status ps = AskForNodes(run, plan.instance, plan.grow); !ps.ok()) return ps;
      }
    }

    api::CommandRunStatus next = StatusAfterPlan(run, st, adm, alloc, now);
    next.observed_generation = gen;
    if (next == run.status) return kube::ReconcileResult{backoff};
    auto w = WriteStatus(obj, run, next);
    if (!w.ok()) return w.status();
    written = std::move(*w);
    Assume(written);
    if (plan.kind == PlanKind::kFit || plan.kind == PlanKind::kGrow) {
      // Placed: a balloon that asked for a node for it has done its job (its room is the run's now).
      if (Status bs = RemoveBalloon(run); !bs.ok()) return bs;
    }

    if (plan.kind == PlanKind::kGrow) {
      // The allocation is recorded (the ledger holds the room); now ask KubeVirt for it. A failure
      // here is retried: CheckGrowth notices a growth that never started and places the run again.
      std::string vm = s.instances.count(plan.instance) ? s.instances.at(plan.instance).name : alloc.instance_id;
      Status ps = PatchVmSize(ns, vm, plan.grow);
      if (!ps.ok()) {
        if (d_.metrics) d_.metrics->HotplugFailure(ps.code() == Code::kConflict ? "Conflict" : "PatchFailed");
        d_.events->Record(written, kube::kEventWarning, "HotplugFailed", "patching VirtualMachine " + vm + ": " + ps.message());
        return ps;
      }
      if (d_.metrics) {
        if (plan.grow.to_sockets != plan.grow.from_sockets) d_.metrics->Hotplug("cpu");
        if (plan.grow.to_guest != plan.grow.from_guest) d_.metrics->Hotplug("memory");
      }
      d_.events->Record(written, kube::kEventNormal, "Hotplug", plan.message);
    }
  }

  const PlacementPlan& plan = adm.plan;
  switch (plan.kind) {
    case PlanKind::kFit: {
      // Observed once the Allocated status is written (that is the allocation), before the label:
      // a failed label write is retried by a pass that takes the Allocated branch and would never
      // observe it.
      ObserveAllocated(run, now, true);
      auto l = EnsureInstanceLabel(written, alloc.instance_id);
      if (!l.ok()) return l.status();
      d_.events->Record(written, kube::kEventNormal, "Allocated",
                        "allocated " + FormatCpuMilli(alloc.cpu_milli) + " CPU and " + FormatBytes(alloc.memory_bytes) +
                            " on " + alloc.instance_id);
      break;
    }
    case PlanKind::kReject:
      d_.events->Record(written, kube::kEventWarning, "Unschedulable", plan.message);
      if (d_.metrics) d_.metrics->RunFinished("Failed");
      break;
    case PlanKind::kQueue:
    case PlanKind::kScalePool:
    case PlanKind::kProvisionNodes:
      if (!run.status.queue || run.status.queue->reason != plan.reason) {
        d_.events->Record(written, kube::kEventNormal, plan.kind == PlanKind::kQueue ? "Queued" : "ScalingUp", plan.message);
      }
      break;
    case PlanKind::kGrow:
      break;
  }
  log_.Info("placed", {{"namespace", ns}, {"name", run.metadata.name}, {"plan", PlanKindName(plan.kind)},
                       {"instance", plan.instance}, {"reason", plan.reason}, {"position", adm.position}});
  return kube::ReconcileResult{backoff};
}

void CommandRunReconciler::ObserveAllocated(const api::CommandRun& run, api::Time now, bool queue_wait) {
  if (!d_.metrics || !run.metadata.creation_timestamp) return;
  d_.metrics->AllocationLatency(Seconds(*run.metadata.creation_timestamp, now));
  if (queue_wait && run.status.queue && run.status.queue->since) {
    d_.metrics->QueueWait(PriorityLabel(run.spec.priority.value_or(0)), Seconds(*run.status.queue->since, now));
  }
}

// ---- shadow runs (docs/agent-protocol.md, "Shadow") ---------------------------------------------

Result<kube::ReconcileResult> CommandRunReconciler::StartShadow(Json obj, api::CommandRun run, api::CommandRunStatus st) {
  api::Time now = d_.clock->Now();
  const std::string& ns = run.metadata.ns;
  const int64_t gen = run.metadata.generation;
  const ShadowPolicy sp;
  std::string labelled;
  if (obj["metadata"].contains("labels")) labelled = obj["metadata"]["labels"].value(api::kInstanceLabel, "");
  std::string instance = ShadowInstance(run, Snapshot(ns), labelled);
  if (instance.empty()) {
    // Nothing to run it on now (the target is starting, or a pool must scale first): placing the
    // run is what brings an instance, so it goes ahead with the model's prediction.
    std::string msg = "no running instance of " + run.spec.target.Describe() +
                      " to run the shadow on; placing with the unrefined prediction";
    api::SetCondition(&st.conditions, {kConditionShadowed, api::ConditionStatus::kFalse, gen, {}, "NoInstanceForShadow", msg}, now);
    auto w = WriteStatus(obj, run, st);  // its event brings the run back to be placed
    if (!w.ok()) return w.status();
    Assume(*w);
    d_.events->Record(*w, kube::kEventWarning, "NoInstanceForShadow", msg);
    return kube::ReconcileResult{};
  }
  // The label first: the agent of `instance` watches it, and acts once the phase says Shadowing.
  auto labelled_obj = EnsureInstanceLabel(obj, instance);
  if (!labelled_obj.ok()) return labelled_obj.status();
  api::ShadowStatus shadow;
  shadow.requested = true;
  shadow.requested_at = now;
  st.shadow = shadow;
  st.phase = api::RunPhase::kShadowing;
  int32_t seconds = run.spec.shadow->duration_seconds;
  std::string msg = "shadow run of " + std::to_string(seconds) + "s requested on " + instance;
  api::SetCondition(&st.conditions, {kConditionShadowed, api::ConditionStatus::kFalse, gen, {}, "ShadowRunning", msg}, now);
  auto w = WriteStatus(*labelled_obj, run, st);
  if (!w.ok()) return w.status();
  Assume(*w);
  d_.events->Record(*w, kube::kEventNormal, "ShadowRequested", msg);
  log_.Info("shadow requested", {{"namespace", ns}, {"name", run.metadata.name}, {"instance", instance}, {"seconds", seconds}});
  // The agent's result write wakes the run; this is only the timeout.
  run.status.shadow = shadow;
  return kube::ReconcileResult{std::chrono::duration_cast<std::chrono::milliseconds>(ShadowDeadline(run, sp) - now)};
}

Result<kube::ReconcileResult> CommandRunReconciler::Shadow(Json obj, api::CommandRun run) {
  api::Time now = d_.clock->Now();
  const std::string& ns = run.metadata.ns;
  const int64_t gen = run.metadata.generation;
  const ShadowPolicy sp;
  api::CommandRunStatus st = run.status;
  std::string instance;
  if (obj["metadata"].contains("labels")) instance = obj["metadata"]["labels"].value(api::kInstanceLabel, "");
  const bool reported = st.shadow && !st.shadow->requested && st.shadow->result;
  std::string reason, msg;
  if (reported) {
    api::Prediction predicted = st.prediction ? *st.prediction : ClampPrediction(d_.predictor->Predict(run), run.spec.resources);
    ShadowRefinement r = RefineWithShadow(predicted, *st.shadow->result, run.spec.resources, sp);
    reason = r.reason;
    msg = r.message;
    st.prediction = r.prediction;
    bool ok = r.reason != "ShadowFailed";
    api::SetCondition(&st.conditions, {kConditionShadowed, ok ? api::ConditionStatus::kTrue : api::ConditionStatus::kFalse,
                                       gen, {}, reason, msg}, now);
    if (r.changed) {
      const api::Prediction& p = r.prediction;
      api::SetCondition(&st.conditions,
                        {api::kConditionPredicted, api::ConditionStatus::kTrue, gen, {}, std::string("Predicted") + kSourceShadow,
                         "predicted " + FormatCpuMilli(p.cpu_milli) + " CPU, " + FormatBytes(p.memory_bytes) +
                             " memory (model " + p.model_version + ", refined by a shadow run)"},
                        now);
      if (d_.metrics) d_.metrics->Prediction(kSourceShadow);
    }
  } else {
    api::Time deadline = ShadowDeadline(run, sp);
    if (now < deadline) {
      // Waiting for the agent: its status write brings the run back; this wakes it for the timeout.
      return kube::ReconcileResult{std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                                   std::chrono::milliseconds(1)};
    }
    reason = "ShadowTimedOut";
    msg = "no shadow result from the agent of " + (instance.empty() ? std::string("the instance") : instance) +
          " within " + std::to_string((run.spec.shadow ? run.spec.shadow->duration_seconds : 0) + sp.grace.count()) +
          "s; placing with the unrefined prediction";
    if (st.shadow) st.shadow->requested = false;
    api::SetCondition(&st.conditions, {kConditionShadowed, api::ConditionStatus::kFalse, gen, {}, reason, msg}, now);
  }
  // Leaving Shadowing, the label goes first: a run still labelled for the shadow's instance must
  // never be seen there as Allocated while it is bound elsewhere.
  if (!instance.empty()) {
    Json o = obj;
    o["metadata"]["labels"].erase(api::kInstanceLabel);
    auto u = d_.client->Update(api::kCommandRuns, o);
    if (!u.ok()) return u.status();
    obj = std::move(*u);
    Assume(obj);
  }
  st.phase = api::RunPhase::kPending;
  auto w = WriteStatus(obj, run, st);  // its event brings the run back to be placed
  if (!w.ok()) return w.status();
  Assume(*w);
  d_.events->Record(*w, reported ? kube::kEventNormal : kube::kEventWarning, reason, msg);
  log_.Info("shadow done", {{"namespace", ns}, {"name", run.metadata.name}, {"reason", reason}, {"message", msg}});
  return kube::ReconcileResult{};
}

Result<kube::ReconcileResult> CommandRunReconciler::CheckGrowth(Json obj, api::CommandRun run) {
  api::Time now = d_.clock->Now();
  const std::string& ns = run.metadata.ns;
  Json written;
  bool done = false;
  {
    std::lock_guard<std::mutex> lock(place_mu_);
    ClusterSnapshot s = Snapshot(ns);
    const InstanceView* inst = InstanceOf(s, run);
    std::string key = inst ? ns + "/" + inst->name : "";
    bool fits = inst && inst->running &&
                s.HeldCpuMilli(key) <= inst->CpuMilli() - d_.policy.placement.guest_reserved.cpu_milli &&
                s.HeldMemoryBytes(key) <= inst->memory_bytes - d_.policy.placement.guest_reserved.memory_bytes;
    HotplugVerdict v = DecideHotplug(inst, fits, run.status.allocation ? run.status.allocation->allocated_at : std::nullopt,
                                     now, d_.policy.hotplug_timeout, d_.policy.hotplug_start_timeout);
    if (v.outcome == HotplugOutcome::kWait) {
      // Wait for KubeVirt (VMI events wake this run up again; the recheck catches a hotplug that
      // never finishes), keeping the quota headroom the migration's second pod needs: other pods
      // may have taken it since the growth was planned.
      // (Not observed growing yet: the raise made before the VM patch stands; nothing to refresh.)
      if (inst->hotplug_in_flight) {
        GrowPlan g = QuotaForMigration(*inst, s);
        if (g.quota_cpu_milli || g.quota_memory_bytes) {
          if (Status qs = RaiseQuota(ns, g); !qs.ok()) return qs;
        }
      }
      return kube::ReconcileResult{v.recheck_after};
    }
    if (v.outcome == HotplugOutcome::kTimedOut || v.outcome == HotplugOutcome::kRestartRequired) {
      // Give the growth up: the VM back to the size the VMI has (its template change would
      // otherwise stay pending), then the run back to the queue; the quota raise goes last.
      if (Status rs = RevertVmSize(*inst); !rs.ok()) return rs;
      auto w = WriteStatus(obj, run, StatusAfterHotplugFailure(run, v, now));
      if (!w.ok()) return w.status();
      Assume(*w);
      if (d_.metrics) d_.metrics->HotplugFailure(v.reason);
      d_.events->Record(*w, kube::kEventWarning, v.reason, v.message);
      log_.Warn("hotplug given up", {{"namespace", ns}, {"name", run.metadata.name}, {"instance", inst->name},
                                     {"reason", v.reason}});
      if (Status ls = LowerQuotas(ns, key); !ls.ok()) return ls;
      return kube::ReconcileResult{};
    }
    api::CommandRunStatus st = run.status;
    if (fits) {
      st.phase = api::RunPhase::kAllocated;
      st.allocation->allocated_at = now;
      st.allocation->node = inst->node;
      if (st.queue) st.queue->position = 0;
      api::SetCondition(&st.conditions,
                        {api::kConditionAllocated, api::ConditionStatus::kTrue, run.metadata.generation, {}, "Allocated",
                         "hotplug done; allocated " + FormatCpuMilli(st.allocation->cpu_milli) + " CPU and " +
                             FormatBytes(st.allocation->memory_bytes) + " on " + inst->name},
                        now);
      done = true;
    } else {
      // The growth never started (a crash before the VM patch) or KubeVirt refused it: give the
      // room back and place again.
      if (d_.metrics) d_.metrics->HotplugFailure("NotApplied");
      st.phase = api::RunPhase::kQueued;
      st.allocation.reset();
      api::QueueStatus q = st.queue.value_or(api::QueueStatus{});
      q.reason = "HotplugNotApplied";
      q.message = "the instance did not grow as asked; placing the run again";
      st.queue = q;
    }
    auto w = WriteStatus(obj, run, st);
    if (!w.ok()) return w.status();
    written = std::move(*w);
    Assume(written);
  }
  if (done) {
    ObserveAllocated(run, now, false);  // before the label write, as in PlaceAndAllocate
    auto l = EnsureInstanceLabel(written, run.status.allocation->instance_id);
    if (!l.ok()) return l.status();
    d_.events->Record(written, kube::kEventNormal, "Allocated", "hotplug done; allocated on " + run.status.allocation->instance_id);
    if (Status ls = LowerQuotas(ns); !ls.ok()) return ls;
  } else {
    d_.events->Record(written, kube::kEventWarning, "HotplugNotApplied", "the instance did not grow; placing the run again");
  }
  return kube::ReconcileResult{};
}

Result<kube::ReconcileResult> CommandRunReconciler::Feedback(Json obj, api::CommandRun run) {
  if (!run.status.allocation) return kube::ReconcileResult{};
  auto l = EnsureInstanceLabel(obj, run.status.allocation->instance_id);
  if (!l.ok()) return l.status();
  obj = std::move(*l);
  const std::string& ns = run.metadata.ns;
  // The agent's heartbeat (its Lease): a run whose agent is gone is lost.
  AgentLostDecision lost = CheckAgent(run);
  if (lost.action != AgentLostAction::kNone) return TakeBackFromLostAgent(obj, run, lost);
  kube::ReconcileResult again{lost.recheck_after};
  const int64_t throttled_for = ThrottledFor(run);
  if (!WantsRunningGrowth(run, throttled_for, d_.policy)) return again;
  std::lock_guard<std::mutex> lock(place_mu_);
  ClusterSnapshot s = Snapshot(ns);
  // Grow where it runs: it cannot move (src/placement/growth.h decides by how much and how).
  RunningGrowthPlan growth = PlanRunningGrowth(run, throttled_for, s, d_.policy);
  const PlacementPlan& plan = growth.plan;
  if (plan.kind == PlanKind::kFit) {
    api::CommandRunStatus st = run.status;
    st.allocation->cpu_milli = growth.cpu_milli;
    st.allocation->memory_bytes = growth.memory_bytes;
    auto w = WriteStatus(obj, run, st);
    if (!w.ok()) return w.status();
    Assume(*w);
    d_.events->Record(*w, kube::kEventNormal, "AllocationGrown",
                      plan.message + ": allocation raised to " + FormatCpuMilli(growth.cpu_milli) + " CPU and " +
                          FormatBytes(growth.memory_bytes));
    return again;
  }
  if (plan.kind == PlanKind::kGrow) {
    if (plan.grow.quota_cpu_milli || plan.grow.quota_memory_bytes) {
      if (Status qs = RaiseQuota(ns, plan.grow); !qs.ok()) return qs;
    }
    if (Status ps = PatchVmSize(ns, run.status.allocation->instance_id, plan.grow); !ps.ok()) {
      if (d_.metrics) d_.metrics->HotplugFailure(ps.code() == Code::kConflict ? "Conflict" : "PatchFailed");
      return ps;
    }
    if (d_.metrics) {
      if (plan.grow.to_sockets != plan.grow.from_sockets) d_.metrics->Hotplug("cpu");
      if (plan.grow.to_guest != plan.grow.from_guest) d_.metrics->Hotplug("memory");
    }
    d_.events->Record(obj, kube::kEventNormal, "Hotplug", plan.message + " while running");
  }
  // Otherwise the instance cannot grow now (hotplug in flight, maxima, quota): VMI and quota events
  // bring the run back here; no requeue loop (only the heartbeat recheck).
  return again;
}

int64_t CommandRunReconciler::ThrottledFor(const api::CommandRun& run) {
  const auto& u = run.status.usage;
  double fraction = u && u->cpu_throttled_fraction ? *u->cpu_throttled_fraction : 0;
  std::lock_guard<std::mutex> lock(throttle_mu_);
  if (fraction < d_.policy.placement.cpu_throttle_threshold) {
    throttled_since_.erase(run.Key());
    return 0;
  }
  api::Time now = d_.clock->Now();
  auto it = throttled_since_.emplace(run.Key(), now).first;
  return std::chrono::duration_cast<std::chrono::seconds>(now - it->second).count();
}

void CommandRunReconciler::ForgetThrottling(const std::string& key) {
  std::lock_guard<std::mutex> lock(throttle_mu_);
  throttled_since_.erase(key);
}

AgentHeartbeat CommandRunReconciler::HeartbeatOf(const std::string& ns, const std::string& instance) const {
  if (!d_.caches.leases || instance.empty()) return {};
  kube::ObjectPtr lease = d_.caches.leases->Get(ns + "/" + kAgentLeasePrefix + instance);
  return HeartbeatFromLease(lease.get());
}

AgentLostDecision CommandRunReconciler::CheckAgent(const api::CommandRun& run) {
  if (!run.status.allocation) return {};
  const std::string& instance = run.status.allocation->instance_id;
  AgentHeartbeat hb = HeartbeatOf(run.metadata.ns, instance);
  AgentLostDecision d = DecideAgentLost(run, hb, d_.clock->Now(), d_.policy.agent_heartbeat_timeout);
  if (hb.found && d_.metrics) d_.metrics->SetAgentHeartbeatAge(instance, d.age_seconds);
  return d;
}

Result<kube::ReconcileResult> CommandRunReconciler::TakeBackFromLostAgent(Json obj, const api::CommandRun& run,
                                                                          const AgentLostDecision& d) {
  if (d.action == AgentLostAction::kRequeue) {
    // Label off first, as for a preemption: the agent acts on the label, and a claim that lands
    // meanwhile makes the resourceVersion-guarded writes below fail (409) instead of double-running.
    if (obj["metadata"].contains("labels") && obj["metadata"]["labels"].contains(api::kInstanceLabel)) {
      obj["metadata"]["labels"].erase(api::kInstanceLabel);
      auto u = d_.client->Update(api::kCommandRuns, obj);
      if (!u.ok()) return u.status();
      obj = *u;
    }
  }
  api::CommandRunStatus st = StatusAfterAgentLost(run, d, d_.clock->Now());
  auto w = WriteStatus(obj, run, st);
  if (!w.ok()) return w.status();
  Assume(*w);
  d_.events->Record(*w, kube::kEventWarning, kReasonAgentLost, d.message);
  log_.Warn("agent lost", {{"namespace", run.metadata.ns}, {"name", run.metadata.name},
                           {"instance", run.status.allocation->instance_id}, {"heartbeatAgeSeconds", d.age_seconds},
                           {"action", d.action == AgentLostAction::kRequeue ? "requeue" : "fail"}});
  // The freed room: a requeued run is placed again by the status event; a failed one completes
  // (finalizer, quota) the same way. Nothing to requeue here.
  return kube::ReconcileResult{};
}

Result<kube::ReconcileResult> CommandRunReconciler::Complete(const Json& obj, const api::CommandRun& run) {
  if (!HasFinalizer(obj, api::kAllocationFinalizer)) return kube::ReconcileResult{};
  const std::string& ns = run.metadata.ns;
  // Record before the finalizer goes: Append is idempotent per run UID, so a crash in between only
  // repeats a no-op.
  ClusterSnapshot s = Snapshot(ns);
  const InstanceView* inst = InstanceOf(s, run);
  auto obs = ObservationOf(run, inst);
  bool first_time = true;
  if (obs && d_.history) {
    bool appended = false;
    Status hs = d_.history->Append(*obs, &appended);
    if (d_.metrics) d_.metrics->HistoryRecord(hs.ok());
    if (!hs.ok()) {
      log_.Error("recording run history failed", {{"namespace", ns}, {"name", run.metadata.name}, {"error", hs.ToString()}});
      return hs;
    }
    first_time = appended;
  }
  if (obs && first_time) {
    d_.predictor->Observe(*obs);
    if (d_.metrics && run.status.prediction && run.status.usage) {
      const auto& p = *run.status.prediction;
      const auto& u = *run.status.usage;
      if (p.cpu_milli > 0) d_.metrics->ObserveActualOverPredicted("cpu", u.peaks.cpu_cores * 1000.0 / p.cpu_milli);
      if (p.memory_bytes > 0) {
        d_.metrics->ObserveActualOverPredicted("memory", static_cast<double>(u.peaks.memory_bytes) / p.memory_bytes);
      }
      if (p.duration_seconds > 0 && obs->record.usage->duration_seconds) {
        d_.metrics->ObserveActualOverPredicted("duration", *obs->record.usage->duration_seconds / p.duration_seconds);
      }
      if (run.status.allocation) {
        if (u.peaks.memory_bytes > run.status.allocation->memory_bytes || (run.status.result && run.status.result->oom_killed)) {
          d_.metrics->UnderAllocation("memory");
        }
        if (u.peaks.cpu_cores * 1000.0 > static_cast<double>(run.status.allocation->cpu_milli) * 1.05) {
          d_.metrics->UnderAllocation("cpu");
        }
      }
    }
  }
  if (first_time && d_.metrics) d_.metrics->RunFinished(api::RunPhaseName(run.status.phase));
  ForgetThrottling(run.Key());
  if (Status bs = RemoveBalloon(run); !bs.ok()) return bs;
  auto f = EnsureFinalizer(obj, false);
  if (!f.ok()) return f.status();
  {
    std::lock_guard<std::mutex> lock(assumed_mu_);
    assumed_[run.Key()] = Assumed{RvOf(*f), std::nullopt, false};
  }
  if (Status ls = LowerQuotas(ns); !ls.ok()) return ls;
  log_.Info("completed", {{"namespace", ns}, {"name", run.metadata.name}, {"phase", api::RunPhaseName(run.status.phase)},
                          {"recorded", obs.has_value()}});
  return kube::ReconcileResult{};
}

Result<kube::ReconcileResult> CommandRunReconciler::Finalize(const Json& obj, const api::CommandRun& run) {
  if (!HasFinalizer(obj, api::kAllocationFinalizer)) return kube::ReconcileResult{};
  if (api::IsTerminal(run.status.phase)) return Complete(obj, run);
  // Deleted before it finished: release whatever it held (the ledger is status, so dropping the
  // finalizer is the release) and give quota back.
  if (Status bs = RemoveBalloon(run); !bs.ok()) return bs;
  auto f = EnsureFinalizer(obj, false);
  if (!f.ok()) return f.status();
  {
    std::lock_guard<std::mutex> lock(assumed_mu_);
    assumed_[run.Key()] = Assumed{RvOf(*f), std::nullopt, false};
  }
  if (Status ls = LowerQuotas(run.metadata.ns); !ls.ok()) return ls;
  return kube::ReconcileResult{};
}

// ---- snapshot and the assume cache -------------------------------------------------------------

void CommandRunReconciler::Assume(const Json& written) {
  api::FieldErrors errs;
  api::CommandRun run = api::CommandRunFromJson(written, &errs);
  Assumed a;
  a.rv = RvOf(written);
  std::map<std::string, int32_t> classes;
  if (run.spec.priority_class_name && d_.caches.priority_classes) {
    if (auto pc = d_.caches.priority_classes->Get(*run.spec.priority_class_name)) {
      classes[*run.spec.priority_class_name] = pc->value("value", 0);
    }
  }
  a.holding = HoldingFromRun(run, RunPriority(run, classes));
  a.pending = !a.holding && !api::IsTerminal(run.status.phase);
  std::lock_guard<std::mutex> lock(assumed_mu_);
  assumed_[run.Key()] = a;
}

ClusterSnapshot CommandRunReconciler::Snapshot(const std::string& ns) {
  api::Time now = d_.clock->Now();
  ClusterSnapshot s = BuildSnapshot(d_.caches, ns, &typed_, d_.policy.owned_quota_name, now);
  // An instance whose agent stopped renewing its Lease cannot start anything: placement treats it
  // as not running (the Lease's renewal brings waiting runs back, see the manager).
  for (auto& [key, inst] : s.instances) {
    AgentHeartbeat hb = HeartbeatOf(inst.ns, inst.name);
    if (hb.found && now - hb.renewed > d_.policy.agent_heartbeat_timeout) {
      inst.agent_lost = true;
      inst.running = false;
    }
  }
  std::lock_guard<std::mutex> lock(assumed_mu_);
  std::set<std::string> replaced;
  std::vector<Holding> assumed_holdings;
  for (auto it = assumed_.begin(); it != assumed_.end();) {
    // Caught up: the source the holdings were read from (the ledger when there is one, else the
    // informer's store) shows this write or a newer one, or the run is gone.
    int64_t seen_rv = d_.caches.ledger ? d_.caches.ledger->ObservedRv(it->first) : 0;
    bool gone = false;
    if (seen_rv == 0) {
      kube::ObjectPtr cached = d_.caches.runs->Get(it->first);
      gone = !cached;
      if (cached && !d_.caches.ledger) seen_rv = RvOf(*cached);
    }
    if (gone || (seen_rv != 0 && seen_rv >= it->second.rv)) {
      it = assumed_.erase(it);
      continue;
    }
    std::string run_ns, name;
    kube::SplitKey(it->first, &run_ns, &name);
    if (run_ns == ns) {
      replaced.insert(it->first);
      if (it->second.holding) assumed_holdings.push_back(*it->second.holding);
    }
    ++it;
  }
  if (!replaced.empty()) {
    s.holdings.erase(std::remove_if(s.holdings.begin(), s.holdings.end(),
                                    [&](const Holding& h) { return replaced.count(h.run_key) > 0; }),
                     s.holdings.end());
    for (auto& h : assumed_holdings) s.holdings.push_back(std::move(h));
  }
  return s;
}

std::vector<PlacementRequest> CommandRunReconciler::PendingRequests(const std::string& ns, const ClusterSnapshot& s) {
  std::vector<PlacementRequest> out;
  std::set<std::string> held;
  for (const auto& h : s.holdings) held.insert(h.run_key);
  for (const auto& run : PendingRuns(d_.caches, ns, &typed_)) {
    if (!run->status.prediction || held.count(run->Key())) continue;
    out.push_back(RequestFor(*run, s));
  }
  return out;
}

PlacementRequest CommandRunReconciler::RequestFor(const api::CommandRun& run, const ClusterSnapshot& s) const {
  return controller::RequestFor(run, s, d_.clock->Now());
}

const InstanceView* CommandRunReconciler::InstanceOf(const ClusterSnapshot& s, const api::CommandRun& run) const {
  if (!run.status.allocation) return nullptr;
  auto it = s.instances.find(run.metadata.ns + "/" + run.status.allocation->instance_id);
  return it == s.instances.end() ? nullptr : &it->second;
}

// ---- side effects ------------------------------------------------------------------------------

Result<nlohmann::json> CommandRunReconciler::WriteStatus(const Json& obj, const api::CommandRun& run,
                                                         api::CommandRunStatus status) {
  status.observed_generation = run.metadata.generation;
  Json o = obj;
  o["status"] = api::CommandRunStatusToJson(status);
  return d_.client->UpdateStatus(api::kCommandRuns, o);
}

Result<nlohmann::json> CommandRunReconciler::EnsureFinalizer(const Json& obj, bool present) {
  if (HasFinalizer(obj, api::kAllocationFinalizer) == present) return obj;
  Json o = obj;
  Json& fins = o["metadata"]["finalizers"];
  if (!fins.is_array()) fins = Json::array();
  if (present) {
    fins.push_back(api::kAllocationFinalizer);
  } else {
    Json kept = Json::array();
    for (const auto& f : fins) {
      if (!(f.is_string() && f.get<std::string>() == api::kAllocationFinalizer)) kept.push_back(f);
    }
    fins = kept;
  }
  auto r = d_.client->Update(api::kCommandRuns, o);
  if (!r.ok() && !present && r.status().code() == Code::kNotFound) return obj;  // already gone
  return r;
}

Result<nlohmann::json> CommandRunReconciler::EnsureInstanceLabel(const Json& obj, const std::string& instance) {
  if (instance.empty()) return obj;
  const Json* labels = nullptr;
  if (obj.contains("metadata") && obj["metadata"].contains("labels")) labels = &obj["metadata"]["labels"];
  if (labels && labels->value(api::kInstanceLabel, "") == instance) return obj;
  Json o = obj;
  o["metadata"]["labels"][api::kInstanceLabel] = instance;
  auto r = d_.client->Update(api::kCommandRuns, o);
  if (r.ok()) Assume(*r);
  return r;
}

Status CommandRunReconciler::RaiseQuota(const std::string& ns, const GrowPlan& g) {
  auto q = d_.client->Get(resources::kResourceQuota, ns, g.quota_name);
  if (!q.ok()) return q.status();
  Json o = *q;
  Json& hard = o["spec"]["hard"];
  auto& ann = o["metadata"]["annotations"];
  if (!ann.is_object()) ann = Json::object();
  if (!ann.contains(kQuotaBaselineAnnotation)) {
    std::string baseline;
    for (const char* k : {"requests.cpu", "cpu"}) {
      if (hard.contains(k)) {
        baseline += std::string("cpu=") + hard[k].get<std::string>();
        break;
      }
    }
    for (const char* k : {"requests.memory", "memory"}) {
      if (hard.contains(k)) {
        baseline += std::string(baseline.empty() ? "" : ",") + "memory=" + hard[k].get<std::string>();
        break;
      }
    }
    ann[kQuotaBaselineAnnotation] = baseline;
  }
  auto raise = [&](const char* a, const char* b, int64_t want, bool cpu) {
    for (const char* k : {a, b}) {
      if (!hard.contains(k)) continue;
      auto cur = cpu ? ParseCpuMilli(hard[k].get<std::string>()) : ParseBytes(hard[k].get<std::string>());
      if (cur.ok() && *cur >= want) return;
      hard[k] = cpu ? FormatCpuMilli(want) : FormatBytes(want);
      return;
    }
  };
  if (g.quota_cpu_milli) raise("requests.cpu", "cpu", *g.quota_cpu_milli, true);
  if (g.quota_memory_bytes) raise("requests.memory", "memory", *g.quota_memory_bytes, false);
  if (o == *q) return Status::Ok();
  auto u = d_.client->Update(resources::kResourceQuota, o);
  if (!u.ok()) return u.status();
  if (d_.metrics) d_.metrics->QuotaChange("raise");
  log_.Info("raised quota", {{"namespace", ns}, {"name", g.quota_name}, {"hard", o["spec"]["hard"]}});
  return Status::Ok();
}

Status CommandRunReconciler::LowerQuotas(const std::string& ns, const std::string& reverted_instance) {
  ClusterSnapshot s = Snapshot(ns);
  bool in_flight = false;
  for (const auto& h : s.holdings) in_flight = in_flight || (h.phase == api::RunPhase::kAllocating && h.instance != reverted_instance);
  for (const auto& [k, i] : s.instances) in_flight = in_flight || (i.hotplug_in_flight && k != reverted_instance);
  auto it = s.quotas.find(ns);
  if (it == s.quotas.end()) return Status::Ok();
  for (const auto& qv : it->second) {
    auto want = DesiredQuotaHard(qv, in_flight);
    if (!want) continue;
    auto q = d_.client->Get(resources::kResourceQuota, ns, qv.name);
    if (!q.ok()) return q.status();
    Json o = *q;
    Json& hard = o["spec"]["hard"];
    for (const char* k : {"requests.cpu", "cpu"}) {
      if (want->cpu_milli && hard.contains(k)) hard[k] = FormatCpuMilli(*want->cpu_milli);
    }
    for (const char* k : {"requests.memory", "memory"}) {
      if (want->memory_bytes && hard.contains(k)) hard[k] = FormatBytes(*want->memory_bytes);
    }
    if (o == *q) continue;
    auto u = d_.client->Update(resources::kResourceQuota, o);
    if (!u.ok()) return u.status();
    if (d_.metrics) d_.metrics->QuotaChange("lower");
    log_.Info("lowered quota", {{"namespace", ns}, {"name", qv.name}, {"hard", hard}});
  }
  return Status::Ok();
}

Status CommandRunReconciler::PatchVmSize(const std::string& ns, const std::string& vm_name, const GrowPlan& g) {
  auto vm = d_.client->Get(resources::kVirtualMachine, ns, vm_name);
  if (!vm.ok()) return vm.status();
  const Json& domain = (*vm)["spec"]["template"]["spec"]["domain"];
  Json ops = Json::array();
  // `test` on the values read: if someone else resized the VM meanwhile the patch fails (409) and
  // the run is placed again from fresh state instead of clobbering their change.
  if (g.to_sockets > g.from_sockets) {
    int cur = domain.contains("cpu") ? domain["cpu"].value("sockets", 1) : 1;
    if (cur < g.to_sockets) {
      ops.push_back({{"op", "test"}, {"path", "/spec/template/spec/domain/cpu/sockets"}, {"value", cur}});
      ops.push_back({{"op", "replace"}, {"path", "/spec/template/spec/domain/cpu/sockets"}, {"value", g.to_sockets}});
    }
  }
  if (g.to_guest > g.from_guest) {
    const Json* guest = domain.contains("memory") && domain["memory"].contains("guest") ? &domain["memory"]["guest"] : nullptr;
    int64_t cur = 0;
    if (guest && guest->is_string()) {
      auto r = ParseBytes(guest->get<std::string>());
      cur = r.ok() ? *r : 0;
    }
    if (cur < g.to_guest) {
      if (guest) {
        ops.push_back({{"op", "test"}, {"path", "/spec/template/spec/domain/memory/guest"}, {"value", *guest}});
        ops.push_back({{"op", "replace"}, {"path", "/spec/template/spec/domain/memory/guest"}, {"value", FormatBytes(g.to_guest)}});
      } else {
        return Status(Code::kInvalidArgument, "VirtualMachine " + ns + "/" + vm_name +
                                                  " has no spec.template.spec.domain.memory.guest; memory hotplug needs it");
      }
    }
  }
  if (ops.empty()) return Status::Ok();
  auto r = d_.client->Patch(resources::kVirtualMachine, ns, vm_name, kube::PatchType::kJson, ops);
  if (!r.ok()) return r.status();
  log_.Info("hotplug requested", {{"namespace", ns}, {"name", vm_name}, {"sockets", g.to_sockets}, {"guest", FormatBytes(g.to_guest)}});
  return Status::Ok();
}

Status CommandRunReconciler::RevertVmSize(const InstanceView& inst) {
  auto vm = d_.client->Get(resources::kVirtualMachine, inst.ns, inst.name);
  if (!vm.ok()) return vm.status().code() == Code::kNotFound ? Status::Ok() : vm.status();
  const Json& domain = (*vm)["spec"]["template"]["spec"]["domain"];
  Json ops = Json::array();
  // `test` on the values read, as for the grow patch: a resize by someone else since is left alone.
  if (domain.contains("cpu") && domain["cpu"].contains("sockets") && domain["cpu"]["sockets"].is_number_integer() &&
      domain["cpu"]["sockets"].get<int>() != inst.sockets) {
    ops.push_back({{"op", "test"}, {"path", "/spec/template/spec/domain/cpu/sockets"}, {"value", domain["cpu"]["sockets"]}});
    ops.push_back({{"op", "replace"}, {"path", "/spec/template/spec/domain/cpu/sockets"}, {"value", inst.sockets}});
  }
  if (domain.contains("memory") && domain["memory"].contains("guest") && domain["memory"]["guest"].is_string()) {
    const Json& guest = domain["memory"]["guest"];
    auto cur = ParseBytes(guest.get<std::string>());
    if (cur.ok() && *cur != inst.memory_bytes && inst.memory_bytes > 0) {
      ops.push_back({{"op", "test"}, {"path", "/spec/template/spec/domain/memory/guest"}, {"value", guest}});
      ops.push_back({{"op", "replace"}, {"path", "/spec/template/spec/domain/memory/guest"}, {"value", FormatBytes(inst.memory_bytes)}});
    }
  }
  if (ops.empty()) return Status::Ok();
  auto r = d_.client->Patch(resources::kVirtualMachine, inst.ns, inst.name, kube::PatchType::kJson, ops);
  // A failed test: someone else changed the size meanwhile; theirs stands.
  if (!r.ok() && r.status().code() != Code::kConflict && r.status().code() != Code::kInvalid) return r.status();
  log_.Info("hotplug reverted", {{"namespace", inst.ns}, {"name", inst.name}, {"sockets", inst.sockets},
                                 {"guest", FormatBytes(inst.memory_bytes)}});
  return Status::Ok();
}

nlohmann::json CommandRunReconciler::LauncherPodSpec(const std::string& instance_key, const GrowPlan& g) const {
  Json pod_spec = Json::object();
  for (const auto& pod : d_.caches.pods->ByIndex(kLauncherIndex, instance_key)) {
    if (!PodIsTerminal(*pod)) {
      pod_spec = (*pod)["spec"];
      break;
    }
  }
  pod_spec.erase("nodeName");
  if (!pod_spec.contains("containers") || !pod_spec["containers"].is_array() || pod_spec["containers"].empty()) {
    pod_spec["containers"] = Json::array({{{"name", "compute"}, {"image", "quay.io/kubevirt/virt-launcher:v1.6.0"}}});
  }
  Json& c0 = pod_spec["containers"][0];
  c0["resources"]["requests"]["cpu"] = FormatCpuMilli(g.new_pod_cpu_milli);
  c0["resources"]["requests"]["memory"] = FormatBytes(g.new_pod_memory_bytes);
  if (c0["resources"].contains("limits")) {
    c0["resources"]["limits"]["cpu"] = FormatCpuMilli(g.new_pod_cpu_milli);
    c0["resources"]["limits"]["memory"] = FormatBytes(g.new_pod_memory_bytes);
  }
  for (size_t i = 1; i < pod_spec["containers"].size(); ++i) pod_spec["containers"][i].erase("resources");
  return pod_spec;
}

Status CommandRunReconciler::AskForNodes(const api::CommandRun& run, const std::string& instance_key, const GrowPlan& g) {
  if (d_.policy.placement.scaling_mode == ScalingMode::kBalloon) return EnsureBalloon(run, instance_key, g);
  return EnsureProvisioningRequest(run, instance_key, g);
}

Status CommandRunReconciler::EnsureBalloon(const api::CommandRun& run, const std::string& instance_key, const GrowPlan& g) {
  const std::string& bns = d_.policy.balloon_namespace.empty() ? run.metadata.ns : d_.policy.balloon_namespace;
  if (!balloon_class_ready_.load()) {
    // Negative, so every real pod preempts the balloon; not below the autoscaler's expendable
    // cutoff (-10), so the autoscaler still adds a node for it.
    Json pc = {{"apiVersion", "scheduling.k8s.io/v1"},
               {"kind", "PriorityClass"},
               {"metadata", {{"name", d_.policy.balloon_priority_class},
                             {"labels", {{api::kManagedByLabel, api::kManagedByValue}}}}},
               {"value", d_.policy.balloon_priority},
               {"globalDefault", false},
               {"preemptionPolicy", "Never"},
               {"description", "prescient-operator balloon pods: placeholders that make the cluster autoscaler add "
                               "nodes ahead of a run; preempted by any real pod"}};
    auto c = d_.client->Create(resources::kPriorityClass, pc);
    if (!c.ok() && c.status().code() != Code::kAlreadyExists) return c.status();
    balloon_class_ready_ = true;
  }
  Json spec = LauncherPodSpec(instance_key, g);
  // Only what scheduling looks at: the size and where it may go; the container just sleeps.
  Json balloon_spec = {{"priorityClassName", d_.policy.balloon_priority_class},
                       {"terminationGracePeriodSeconds", 0},
                       {"automountServiceAccountToken", false},
                       {"containers", Json::array({{{"name", "balloon"},
                                                    {"image", d_.policy.balloon_image},
                                                    {"resources", {{"requests", spec["containers"][0]["resources"]["requests"]}}}}})}};
  for (const char* k : {"nodeSelector", "affinity", "tolerations"}) {
    if (spec.contains(k)) balloon_spec[k] = spec[k];
  }
  Json labels = {{api::kManagedByLabel, api::kManagedByValue}, {kBalloonLabel, "true"}, {api::kRunLabel, run.metadata.name}};
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", BalloonName(run)}, {"namespace", bns}, {"labels", labels},
                            {"annotations", {{"prescient.dev/commandrun", run.Key()}}}}},
              {"spec", balloon_spec}};
  auto p = d_.client->Create(kube::resources::kPod, pod);
  if (p.ok()) {
    if (d_.metrics) d_.metrics->ProvisioningRequest("Balloon");
    log_.Info("balloon pod created", {{"namespace", run.metadata.ns}, {"name", run.metadata.name},
                                      {"pod", bns + "/" + BalloonName(run)}});
    return Status::Ok();
  }
  if (p.status().code() == Code::kAlreadyExists) return Status::Ok();
  return p.status();
}

Status CommandRunReconciler::RemoveBalloon(const api::CommandRun& run) {
  if (d_.policy.placement.scaling_mode != ScalingMode::kBalloon || run.metadata.uid.empty()) return Status::Ok();
  const std::string& bns = d_.policy.balloon_namespace.empty() ? run.metadata.ns : d_.policy.balloon_namespace;
  // The pods cache tells whether one exists (no API call per placement); a run that was waiting
  // for nodes is checked against the API in case the cache does not cover the balloon namespace.
  bool cached = d_.caches.pods && d_.caches.pods->Get(bns + "/" + BalloonName(run)) != nullptr;
  if (!cached && run.status.phase != api::RunPhase::kScaling) return Status::Ok();
  Status s = d_.client->Delete(kube::resources::kPod, bns, BalloonName(run));
  if (!s.ok() && s.code() != Code::kNotFound) return s;
  if (s.ok()) log_.Info("balloon pod removed", {{"namespace", run.metadata.ns}, {"name", run.metadata.name}});
  return Status::Ok();
}

Status CommandRunReconciler::EnsureProvisioningRequest(const api::CommandRun& run, const std::string& instance_key,
                                                       const GrowPlan& g) {
  const std::string& ns = run.metadata.ns;
  std::string name = "prescient-" + run.metadata.name;
  if (name.size() > 253) name = name.substr(0, 253);
  Json owner = {{"apiVersion", api::kApiVersion}, {"kind", api::kCommandRunKind}, {"name", run.metadata.name},
                {"uid", run.metadata.uid}};
  Json labels = {{api::kManagedByLabel, api::kManagedByValue}, {api::kRunLabel, run.metadata.name}};
  // The PodTemplate mirrors the instance's virt-launcher pod at the size it will need, so the
  // autoscaler's simulation picks a node group whose nodes can hold it (selectors, devices, tolerations).
  Json pod_spec = LauncherPodSpec(instance_key, g);
  Json tmpl = {{"apiVersion", "v1"},
               {"kind", "PodTemplate"},
               {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}, {"ownerReferences", Json::array({owner})}}},
               {"template", {{"metadata", {{"labels", labels}}}, {"spec", pod_spec}}}};
  auto t = d_.client->Create(resources::kPodTemplate, tmpl);
  if (!t.ok() && t.status().code() != Code::kAlreadyExists) return t.status();
  Json pr = {{"apiVersion", "autoscaling.x-k8s.io/v1"},
             {"kind", "ProvisioningRequest"},
             {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}, {"ownerReferences", Json::array({owner})}}},
             {"spec",
              {{"provisioningClassName", d_.policy.placement.provisioning_class},
               {"podSets", Json::array({{{"podTemplateRef", {{"name", name}}}, {"count", 1}}})}}}};
  auto p = d_.client->Create(resources::kProvisioningRequest, pr);
  if (p.ok()) {
    if (d_.metrics) d_.metrics->ProvisioningRequest("ProvisioningRequest");
    log_.Info("asked for a node", {{"namespace", ns}, {"name", run.metadata.name}, {"provisioningRequest", name}});
    return Status::Ok();
  }
  if (p.status().code() == Code::kAlreadyExists) return Status::Ok();
  return p.status();
}

Result<bool> CommandRunReconciler::RequestStopIfRunning(const std::string& victim_key, const api::CommandRun& by,
                                                        const Json& by_obj) {
  kube::ObjectPtr cached = d_.caches.runs->Get(victim_key);
  if (!cached) return false;
  Json obj = *cached;
  std::string vns, vname;
  kube::SplitKey(victim_key, &vns, &vname);
  const int32_t grace = static_cast<int32_t>(d_.policy.preemption_grace_period.count());
  // A 409 means the copy was stale (the agent reports usage while it runs): decide again on the
  // victim read fresh from the API, a bounded number of times.
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    api::FieldErrors errs;
    api::CommandRun victim = api::CommandRunFromJson(obj, &errs);
    VictimDecision d = DecideVictim(victim);
    switch (d.action) {
      case VictimAction::kNone:
      case VictimAction::kTakeBack:
        return false;
      case VictimAction::kAwaitingStop:
        return true;
      case VictimAction::kConflict:
        return Status(Code::kConflict, d.message);
      case VictimAction::kRequestStop:
        break;
    }
    auto w = WriteStatus(obj, victim, StatusWithStopRequest(victim, by.metadata.name, d_.clock->Now(), grace));
    if (w.ok()) {
      Assume(*w);
      if (d_.metrics) d_.metrics->Preemption();
      std::string instance = victim.status.allocation ? victim.status.allocation->instance_id : "";
      d_.events->Record(*w, kube::kEventNormal, "StopRequested",
                        "asked the agent of " + instance + " to stop the command (SIGTERM, SIGKILL after " +
                            std::to_string(grace) + "s) for higher-priority run " + by.metadata.name);
      d_.events->Record(by_obj, kube::kEventNormal, "PreemptingRunning",
                        "asked the agent of " + instance + " to stop running run " + victim.metadata.name +
                            " (it allows preemption while running); waiting for its room");
      log_.Info("stop requested", {{"namespace", vns}, {"name", vname}, {"by", by.metadata.name}, {"instance", instance},
                                   {"graceSeconds", grace}});
      return true;
    }
    if (w.status().code() != Code::kConflict || attempt == kAttempts) return w.status();
    auto fresh = d_.client->Get(api::kCommandRuns, vns, vname);
    if (!fresh.ok()) {
      if (fresh.status().code() == Code::kNotFound) return false;
      return fresh.status();
    }
    obj = std::move(*fresh);
  }
}

Result<kube::ReconcileResult> CommandRunReconciler::RequeuePreempted(Json obj, const api::CommandRun& run) {
  // The label first, as when taking a run back from a lost agent: the next attempt may be bound
  // elsewhere, and the agent that stopped this one must not see it labelled for it meanwhile.
  if (obj["metadata"].contains("labels") && obj["metadata"]["labels"].contains(api::kInstanceLabel)) {
    obj["metadata"]["labels"].erase(api::kInstanceLabel);
    auto u = d_.client->Update(api::kCommandRuns, obj);
    if (!u.ok()) return u.status();
    obj = std::move(*u);
  }
  api::CommandRunStatus st = StatusAfterPreemptedStop(run, d_.clock->Now());
  auto w = WriteStatus(obj, run, st);  // its event brings the run back to be placed
  if (!w.ok()) return w.status();
  Assume(*w);
  d_.events->Record(*w, kube::kEventNormal, api::kReasonPreempted, st.queue->message);
  log_.Info("re-queued after preemption", {{"namespace", run.metadata.ns}, {"name", run.metadata.name},
                                          {"preemptions", st.preemptions},
                                          {"by", st.queue ? st.queue->preempted_by : ""}});
  return kube::ReconcileResult{};
}

Status CommandRunReconciler::Preempt(const std::string& victim_key, const api::CommandRun& by) {
  kube::ObjectPtr cached = d_.caches.runs->Get(victim_key);
  if (!cached) return Status::Ok();
  Json obj = *cached;
  std::string vns, vname;
  kube::SplitKey(victim_key, &vns, &vname);
  // Status first, then the label. The other order left the victim Allocated without its label for a
  // moment, which its own reconcile reads as a crash between its two bind writes and repairs by
  // labelling it again: that write and this status write raced (409) round after round. Status
  // first is as safe against the agent: the write is guarded by the resourceVersion that shows no
  // claim, and a Queued run is nothing the agent acts on even while it is still labelled.
  //
  // A 409 means the copy was stale (the informer lags, or the agent or the victim's own reconcile
  // wrote it meanwhile): the victim is read fresh from the API and the decision taken again on
  // what it shows, a bounded number of times (the cache, not a retry with the same
  // resourceVersion, is what made this fail).
  constexpr int kAttempts = 3;
  api::CommandRun victim;
  Json written;
  for (int attempt = 1;; ++attempt) {
    api::FieldErrors errs;
    victim = api::CommandRunFromJson(obj, &errs);
    if (victim.status.agent) return Status(Code::kConflict, "preemption victim " + victim_key + " started meanwhile");
    // Already released (another run preempted it first, or it was placed again): nothing to take back.
    if (!api::HoldsAllocation(victim.status.phase) && victim.status.phase != api::RunPhase::kAllocating) return Status::Ok();
    auto w = WriteStatus(obj, victim, StatusAfterTakeBack(victim, by.metadata.name, d_.clock->Now()));
    if (w.ok()) {
      written = std::move(*w);
      break;
    }
    if (w.status().code() != Code::kConflict || attempt == kAttempts) return w.status();
    auto fresh = d_.client->Get(api::kCommandRuns, vns, vname);
    if (!fresh.ok()) return fresh.status().code() == Code::kNotFound ? Status::Ok() : fresh.status();
    obj = std::move(*fresh);
  }
  Assume(written);
  if (Status ls = RemoveInstanceLabel(written, victim_key); !ls.ok()) return ls;
  if (d_.metrics) d_.metrics->Preemption();
  const std::string& msg = written["status"]["queue"].value("message", "");
  d_.events->Record(written, kube::kEventNormal, "Preempted", msg);
  log_.Info("preempted", {{"namespace", victim.metadata.ns}, {"name", victim.metadata.name}, {"by", by.metadata.name}});
  return Status::Ok();
}

Status CommandRunReconciler::RemoveInstanceLabel(Json obj, const std::string& key) {
  std::string ns, name;
  kube::SplitKey(key, &ns, &name);
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    if (!obj["metadata"].contains("labels") || !obj["metadata"]["labels"].contains(api::kInstanceLabel)) return Status::Ok();
    api::FieldErrors errs;
    api::CommandRun run = api::CommandRunFromJson(obj, &errs);
    // Bound again meanwhile (it was placed anew): the label is its own again.
    if (api::HoldsAllocation(run.status.phase) || run.status.phase == api::RunPhase::kShadowing) return Status::Ok();
    obj["metadata"]["labels"].erase(api::kInstanceLabel);
    auto u = d_.client->Update(api::kCommandRuns, obj);
    if (u.ok()) {
      Assume(*u);
      return Status::Ok();
    }
    if (u.status().code() == Code::kNotFound) return Status::Ok();
    if (u.status().code() != Code::kConflict || attempt == kAttempts) return u.status();
    auto fresh = d_.client->Get(api::kCommandRuns, ns, name);
    if (!fresh.ok()) return fresh.status().code() == Code::kNotFound ? Status::Ok() : fresh.status();
    obj = std::move(*fresh);
  }
}

DependencyLookup CommandRunReconciler::Lookup() const {
  DependencyLookup l;
  const kube::Store* eps = d_.caches.endpoints;
  const kube::Store* deps = d_.caches.deployments;
  l.service_ready = [eps](const std::string& ns, const std::string& name) -> std::optional<bool> {
    if (!eps) return std::nullopt;
    kube::ObjectPtr e = eps->Get(ns + "/" + name);
    if (!e) return std::nullopt;
    if (e->contains("subsets") && (*e)["subsets"].is_array()) {
      for (const auto& sub : (*e)["subsets"]) {
        if (sub.contains("addresses") && sub["addresses"].is_array() && !sub["addresses"].empty()) return true;
      }
    }
    return false;
  };
  l.deployment = [deps](const std::string& ns, const std::string& name) -> std::optional<DependencyLookup::DeploymentState> {
    if (!deps) return std::nullopt;
    kube::ObjectPtr d = deps->Get(ns + "/" + name);
    if (!d) return std::nullopt;
    DependencyLookup::DeploymentState st;
    st.replicas = (*d)["spec"].value("replicas", 1);
    st.ready = d->contains("status") ? (*d)["status"].value("readyReplicas", 0) : 0;
    const auto& meta = (*d)["metadata"];
    if (meta.contains("annotations") && meta["annotations"].contains(api::kScaleFromZeroAnnotation)) {
      std::string v = meta["annotations"].value(api::kScaleFromZeroAnnotation, "");
      try {
        st.wake_replicas = v == "true" ? 1 : std::max(0, std::stoi(v));
      } catch (...) {
        st.wake_replicas = 0;  // malformed: leave the Deployment alone
      }
    }
    return st;
  };
  return l;
}

Status CommandRunReconciler::WakeDeployment(const std::string& ns, const std::string& name, int replicas) {
  Json ops = Json::array({{{"op", "test"}, {"path", "/spec/replicas"}, {"value", 0}},
                          {{"op", "replace"}, {"path", "/spec/replicas"}, {"value", replicas}}});
  auto r = d_.client->Patch(resources::kDeployment, ns, name, kube::PatchType::kJson, ops);
  // A failed test means someone scaled it meanwhile: nothing left to wake.
  if (!r.ok() && r.status().code() != Code::kConflict && r.status().code() != Code::kInvalid) return r.status();
  log_.Info("woke dependency", {{"namespace", ns}, {"name", name}, {"replicas", replicas}});
  return Status::Ok();
}

Status CommandRunReconciler::ScalePool(const std::string& ns, const std::string& pool, int replicas) {
  auto p = d_.client->Get(resources::kVirtualMachinePool, ns, pool);
  if (!p.ok()) return p.status();
  int cur = (*p)["spec"].value("replicas", 0);
  if (cur >= replicas) return Status::Ok();
  Json ops = Json::array({{{"op", "test"}, {"path", "/spec/replicas"}, {"value", cur}},
                          {{"op", "replace"}, {"path", "/spec/replicas"}, {"value", replicas}}});
  auto r = d_.client->Patch(resources::kVirtualMachinePool, ns, pool, kube::PatchType::kJson, ops);
  if (!r.ok()) return r.status();
  if (d_.metrics) d_.metrics->ProvisioningRequest("PoolScale");
  log_.Info("scaled pool", {{"namespace", ns}, {"name", pool}, {"replicas", replicas}});
  return Status::Ok();
}

}  // namespace prescient::controller
