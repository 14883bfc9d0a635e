#include "kube/workqueue.h"

#include <algorithm>
#include <cmath>

#include "kube/timed_wait.h"

namespace prescient::kube {

RateLimiter::RateLimiter(Clock* clock, RateLimiterOptions options)
    : clock_(clock), opts_(options), tokens_(options.burst), last_(clock->Monotonic()) {}

std::chrono::nanoseconds RateLimiter::When(const std::string& key) {
  using namespace std::chrono;
  std::lock_guard<std::mutex> lock(mu_);
  int n = failures_[key]++;
  double per_item_ns = static_cast<double>(duration_cast<nanoseconds>(opts_.per_item_base).count()) *
                       std::pow(2.0, std::min(n, 62));
  per_item_ns = std::min(per_item_ns, static_cast<double>(duration_cast<nanoseconds>(opts_.per_item_max).count()));
  // Token bucket (golang.org/x/time/rate reservation semantics: tokens may go negative, and the
  // deficit is the wait).
  auto now = clock_->Monotonic();
  double elapsed = duration<double>(now - last_).count();
  last_ = now;
  tokens_ = std::min<double>(opts_.burst, tokens_ + elapsed * opts_.qps);
  tokens_ -= 1.0;
  double bucket_ns = tokens_ >= 0 ? 0.0 : (-tokens_ / opts_.qps) * 1e9;
  return nanoseconds(static_cast<int64_t>(std::max(per_item_ns, bucket_ns)));
}

void RateLimiter::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

int RateLimiter::NumRequeues(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

WorkQueue::WorkQueue(Clock* clock, RateLimiterOptions limiter)
    : clock_(clock ? clock : &SystemClock()), limiter_(clock_, limiter) {}

WorkQueue::~WorkQueue() { ShutDown(); }

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_) return;
  if (dirty_.count(key)) return;
  dirty_.insert(key);
  if (processing_.count(key)) return;  // Done() re-queues it
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  AddLocked(key);
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::nanoseconds delay) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) return;
  if (delay <= std::chrono::nanoseconds::zero()) {
    AddLocked(key);
    return;
  }
  auto at = clock_->Monotonic() + delay;
  auto it = delayed_at_.find(key);
  if (it != delayed_at_.end()) {
    if (it->second <= at) return;  // already due sooner
    for (auto d = delayed_.lower_bound(it->second); d != delayed_.end() && d->first == it->second; ++d) {
      if (d->second == key) {
        delayed_.erase(d);
        break;
      }
    }
  }
  delayed_at_[key] = at;
  delayed_.emplace(at, key);
  cv_.notify_all();  // a waiting Get may need an earlier wake-up
}

void WorkQueue::AddRateLimited(const std::string& key) { AddAfter(key, limiter_.When(key)); }

void WorkQueue::PromoteDueLocked() {
  auto now = clock_->Monotonic();
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    std::string key = delayed_.begin()->second;
    delayed_.erase(delayed_.begin());
    delayed_at_.erase(key);
    AddLocked(key);
  }
}

bool WorkQueue::Get(std::string* key) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    PromoteDueLocked();
    if (!queue_.empty()) break;
    if (shutting_down_) return false;
    if (delayed_.empty()) {
      cv_.wait(lock);
    } else {
      auto next = delayed_.begin()->first;
      size_t n = delayed_.size();
      WaitUntil(clock_, lock, cv_, next, [&] {
        return !queue_.empty() || shutting_down_ || delayed_.size() != n || delayed_.begin()->first != next;
      });
    }
  }
  *key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(*key);
  dirty_.erase(*key);
  return true;
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key)) {
    queue_.push_back(key);
    cv_.notify_one();
  }
  cv_.notify_all();  // ShutDownWithDrain waits for processing_ to empty
}

void WorkQueue::ShutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutting_down_ = true;
  delayed_.clear();
  delayed_at_.clear();
  cv_.notify_all();
}

void WorkQueue::ShutDownWithDrain() {
  std::unique_lock<std::mutex> lock(mu_);
  shutting_down_ = true;
  delayed_.clear();
  delayed_at_.clear();
  cv_.notify_all();
  cv_.wait(lock, [&] { return processing_.empty() && queue_.empty(); });
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutting_down_;
}

size_t WorkQueue::Len() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

size_t WorkQueue::Waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return delayed_.size();
}

}  // namespace prescient::kube
