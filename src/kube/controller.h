// The Reconcile contract (controller-runtime's): Reconcile(key) returns Result{requeue_after} or an
// error, and is level-based — it re-reads current state for the key, never trusts the event that woke it.
// A Controller runs N workers over a WorkQueue: an error requeues the key rate-limited; requeue_after > 0
// forgets the key's failures and adds it back after the delay; success forgets it.
// Thread-safe: Reconcile is called concurrently for different keys, never twice at once for one key.
#pragma once

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "kube/workqueue.h"

namespace prescient::kube {

struct ReconcileResult {
  std::chrono::milliseconds requeue_after{0};
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  virtual Result<ReconcileResult> Reconcile(const std::string& key) = 0;
};

class Controller {
 public:
  // `queue` and `reconciler` must outlive the controller.
  Controller(std::string name, WorkQueue* queue, Reconciler* reconciler, int workers = 1);
  ~Controller();  // Stop()s
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  void Start();
  // Shuts the queue down, lets workers finish what they hold and what is queued, joins them.
  void Stop();

 private:
  void Worker();
  void ProcessOne(const std::string& key);

  std::string name_;
  WorkQueue* queue_;
  Reconciler* reconciler_;
  int workers_;
  std::vector<std::thread> threads_;
};

}  // namespace prescient::kube
