#include "controller/reservation_reconciler.h"

#include "api/codec.h"
#include "api/constants.h"
#include "api/validation.h"

namespace prescient::controller {

Result<kube::ReconcileResult> ReservationReconciler::Reconcile(const std::string& key) {
  kube::ObjectPtr cached = caches_.reservations->Get(key);
  if (!cached) return kube::ReconcileResult{};
  api::FieldErrors errs;
  api::ResourceReservation r = api::ResourceReservationFromJson(*cached, &errs);
  if (r.metadata.deletion_timestamp) return kube::ReconcileResult{};
  for (auto& e : api::ValidateResourceReservation(r)) errs.push_back(std::move(e));
  api::Time now = clock_->Now();
  api::ResourceReservationStatus st = r.status;
  st.observed_generation = r.metadata.generation;
  kube::ReconcileResult result;
  if (!errs.empty()) {
    st.phase = api::ReservationPhase::kFailed;
    api::SetCondition(&st.conditions, {api::kConditionBound, api::ConditionStatus::kFalse, r.metadata.generation, {},
                                       api::kReasonInvalidSpec, api::Summarize(errs)},
                      now);
  } else if (r.spec.window && r.spec.window->end && now >= *r.spec.window->end) {
    st.phase = api::ReservationPhase::kExpired;
    st.bound_instances.clear();
    api::SetCondition(&st.conditions, {api::kConditionBound, api::ConditionStatus::kFalse, r.metadata.generation, {},
                                       "Expired", "the reservation window ended"},
                      now);
  } else {
    ClusterSnapshot s = BuildSnapshot(caches_, r.metadata.ns, &typed_, "", now);
    std::string instance;
    if (!st.bound_instances.empty() && s.instances.count(r.metadata.ns + "/" + st.bound_instances.front().instance_id)) {
      instance = r.metadata.ns + "/" + st.bound_instances.front().instance_id;
    } else {
      instance = s.reservations[key].instance;  // BuildSnapshot's choice: the first candidate
    }
    int64_t used_cpu = 0, used_mem = 0;
    for (const auto& h : s.holdings) {
      if (h.reservation == key) {
        used_cpu += h.cpu_milli;
        used_mem += h.memory_bytes;
      }
    }
    st.used_cpu_milli = used_cpu;
    st.used_memory_bytes = used_mem;
    if (instance.empty()) {
      st.phase = api::ReservationPhase::kPending;
      api::SetCondition(&st.conditions, {api::kConditionBound, api::ConditionStatus::kFalse, r.metadata.generation, {},
                                         "NoInstance", "no instance matches " + r.spec.target.Describe()},
                        now);
    } else {
      const InstanceView& inst = s.instances.at(instance);
      api::BoundInstance b;
      b.instance_id = inst.name;
      b.node = inst.node;
      b.cpu_milli = r.spec.resources.cpu_milli.value_or(0);
      b.memory_bytes = r.spec.resources.memory_bytes.value_or(0);
      st.bound_instances = {b};
      bool started = !r.spec.window || !r.spec.window->start || now >= *r.spec.window->start;
      st.phase = started ? api::ReservationPhase::kBound : api::ReservationPhase::kPending;
      api::SetCondition(&st.conditions, {api::kConditionBound, started ? api::ConditionStatus::kTrue : api::ConditionStatus::kFalse,
                                         r.metadata.generation, {}, started ? "Bound" : "WindowNotStarted",
                                         "capacity held on " + inst.name},
                        now);
      if (!started) result.requeue_after = std::chrono::duration_cast<std::chrono::milliseconds>(*r.spec.window->start - now);
    }
    if (r.spec.window && r.spec.window->end && st.phase != api::ReservationPhase::kExpired) {
      auto until_end = std::chrono::duration_cast<std::chrono::milliseconds>(*r.spec.window->end - now);
      if (result.requeue_after.count() == 0 || until_end < result.requeue_after) result.requeue_after = until_end;
    }
  }
  if (st == r.status) return result;
  nlohmann::json o = *cached;
  o["status"] = api::ResourceReservationStatusToJson(st);
  auto w = client_->UpdateStatus(api::kResourceReservations, o);
  if (!w.ok()) return w.status();
  if (st.phase != r.status.phase) {
    events_->Record(*w, st.phase == api::ReservationPhase::kFailed ? kube::kEventWarning : kube::kEventNormal,
                    api::ReservationPhaseName(st.phase), api::FindCondition(st.conditions, api::kConditionBound)->message);
  }
  return result;
}

}  // namespace prescient::controller
