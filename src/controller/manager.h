// Wires the operator together: one informer per kind the reconcilers read (with the indexes
// caches.h needs), the CommandRun and ResourceReservation work queues and controllers, and the
// event handlers that decide which keys to enqueue. Waiting runs are re-evaluated when capacity
// changes — a VMI, VM, quota, node, reservation or another run's allocation — never by polling.
// Informers start at once (a standby replica keeps warm caches); controllers start when
// StartControllers() is called (on winning the leader election).
// Thread-safe: Start/StartControllers/Stop from one thread; the rest runs on informer and worker threads.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "controller/commandrun_reconciler.h"
#include "controller/reservation_reconciler.h"
#include "kube/informer.h"
#include "kube/workqueue.h"

namespace prescient::controller {

struct ManagerOptions {
  kube::Client* client = nullptr;
  kube::EventRecorder* events = nullptr;
  Clock* clock = nullptr;
  Predictor* predictor = nullptr;
  history::HistoryStore* history = nullptr;
  Metrics* metrics = nullptr;
  ControllerPolicy policy;
  int workers = 2;
  std::string watch_namespace;  // "" = all namespaces
};

class Manager {
 public:
  explicit Manager(ManagerOptions options);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  void StartInformers();
  bool WaitForSync(std::chrono::milliseconds timeout);
  bool Synced() const;
  void StartControllers();
  void Stop();

  size_t CachedRuns() const { return runs_->store().size(); }

 private:
  class Instrumented;
  class QueueLatency;
  // Every event-driven Add goes through these, so the work-queue latency metric sees it.
  void EnqueueRun(const std::string& key);
  void EnqueueReservation(const std::string& key);
  void EnqueueWaiting(const std::string& ns);
  void EnqueueRunsOnInstance(const std::string& ns, const std::string& vmi);
  void OnRunChange(const kube::ObjectPtr& old_obj, const kube::ObjectPtr& new_obj);
  void MetricsLoop();

  ManagerOptions o_;
  std::vector<std::unique_ptr<kube::Informer>> informers_;
  kube::Informer* runs_ = nullptr;
  kube::Informer* reservations_ = nullptr;
  HoldingLedger ledger_;  // fed by the CommandRun informer's events, read by placements
  Caches caches_;
  std::unique_ptr<CommandRunReconciler> run_reconciler_;
  std::unique_ptr<ReservationReconciler> reservation_reconciler_;
  std::unique_ptr<QueueLatency> run_latency_, reservation_latency_;
  std::unique_ptr<Instrumented> run_instrumented_, reservation_instrumented_;
  std::unique_ptr<kube::WorkQueue> run_queue_, reservation_queue_;
  std::unique_ptr<kube::Controller> run_controller_, reservation_controller_;
  std::atomic<bool> controllers_started_{false};
  std::atomic<bool> stopping_{false};
  std::thread metrics_thread_;
};

}  // namespace prescient::controller
