// The ResourceReservation reconciler: binds a reservation to the instance that holds its capacity
// (the first candidate of its target, kept once chosen), reports what the runs drawing on it use,
// and moves it to Expired once its window ends. The capacity itself is enforced by placement
// (plan.h), which reads the bound instance from status; this reconciler never writes CommandRuns.
// Level-based and idempotent; writes status only when it changed. Thread-safe.
#pragma once

#include "common/clock.h"
#include "common/log.h"
#include "controller/caches.h"
#include "kube/client.h"
#include "kube/controller.h"
#include "kube/events.h"

namespace prescient::controller {

class ReservationReconciler : public kube::Reconciler {
 public:
  ReservationReconciler(kube::Client* client, kube::EventRecorder* events, Clock* clock, Caches caches)
      : client_(client), events_(events), clock_(clock), caches_(caches) {}
  Result<kube::ReconcileResult> Reconcile(const std::string& key) override;

 private:
  kube::Client* client_;
  kube::EventRecorder* events_;
  Clock* clock_;
  Caches caches_;
  TypedRunCache typed_;
  log::Logger log_{"reservation"};
};

}  // namespace prescient::controller
