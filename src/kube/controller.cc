#include "kube/controller.h"

#include "common/log.h"

namespace prescient::kube {

Controller::Controller(std::string name, WorkQueue* queue, Reconciler* reconciler, int workers)
    : name_(std::move(name)), queue_(queue), reconciler_(reconciler), workers_(workers < 1 ? 1 : workers) {}

Controller::~Controller() { Stop(); }

void Controller::Start() {
  if (!threads_.empty()) return;
  for (int i = 0; i < workers_; ++i) threads_.emplace_back([this] { Worker(); });
}

void Controller::Stop() {
  queue_->ShutDown();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void Controller::Worker() {
  std::string key;
  while (queue_->Get(&key)) {
    ProcessOne(key);
    queue_->Done(key);
  }
}

void Controller::ProcessOne(const std::string& key) {
  Result<ReconcileResult> r = [&]() -> Result<ReconcileResult> {
    try {
      return reconciler_->Reconcile(key);
    } catch (const std::exception& e) {
      // A throwing reconciler is a bug; keep the process alive and retry with backoff.
      return InternalError(std::string("reconcile threw: ") + e.what());
    }
  }();
  if (!r.ok()) {
    log::Logger("kube.controller", {{"controller", name_}})
        .Error("reconcile failed; requeueing with backoff",
               {{"key", key}, {"error", r.status().ToString()}, {"requeues", queue_->NumRequeues(key)}});
    queue_->AddRateLimited(key);
    return;
  }
  queue_->Forget(key);
  if (r->requeue_after.count() > 0) queue_->AddAfter(key, r->requeue_after);
}

}  // namespace prescient::kube
