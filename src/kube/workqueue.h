// The controller work queue (client-go's workqueue semantics): keys are deduplicated while waiting; a
// key is never handed to two workers at once (added again while in flight, it runs again after Done);
// rate-limited requeues wait max(per-item exponential 5 ms doubling to 1000 s, an overall token bucket
// of 10/s with burst 100); AddAfter delays a key; ShutDown lets workers drain what is queued.
// Time comes from the injectable prescient::Clock, so tests drive delays with a FakeClock.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <deque>

#include "common/clock.h"

namespace prescient::kube {

struct RateLimiterOptions {
  std::chrono::milliseconds per_item_base{5};
  std::chrono::milliseconds per_item_max{1'000'000};
  double qps = 10.0;
  int burst = 100;
};

// max(per-item exponential, token bucket). Thread-safe.
class RateLimiter {
 public:
  explicit RateLimiter(Clock* clock, RateLimiterOptions options = {});
  // The delay before `key` may be processed again; counts one more failure for it and takes a token.
  std::chrono::nanoseconds When(const std::string& key);
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key) const;

 private:
  Clock* clock_;
  RateLimiterOptions opts_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, int> failures_;
  double tokens_;
  std::chrono::steady_clock::time_point last_;  // when tokens_ was last brought up to date
};

class WorkQueue {
 public:
  explicit WorkQueue(Clock* clock = nullptr, RateLimiterOptions limiter = {});
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // No-op when the key is already waiting or after ShutDown.
  void Add(const std::string& key);
  void AddAfter(const std::string& key, std::chrono::nanoseconds delay);
  void AddRateLimited(const std::string& key);
  // Stops rate-limit tracking of a key (call after it was processed successfully).
  void Forget(const std::string& key) { limiter_.Forget(key); }
  int NumRequeues(const std::string& key) const { return limiter_.NumRequeues(key); }

  // Blocks until a key is ready; false once the queue is shut down and drained.
  bool Get(std::string* key);
  // Marks a key from Get as processed; if it was re-added meanwhile it becomes ready again.
  void Done(const std::string& key);

  // Refuses new keys (delayed ones are dropped); Get keeps returning queued keys, then false.
  void ShutDown();
  // ShutDown, then waits until every key handed out has been Done.
  void ShutDownWithDrain();
  bool ShuttingDown() const;

  size_t Len() const;  // keys ready to be handed out
  size_t Waiting() const;  // delayed keys not yet ready

 private:
  void PromoteDueLocked();
  void AddLocked(const std::string& key);

  Clock* clock_;
  RateLimiter limiter_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;       // queued or to be re-queued after Done
  std::unordered_set<std::string> processing_;  // handed out, not Done
  std::multimap<std::chrono::steady_clock::time_point, std::string> delayed_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> delayed_at_;
  bool shutting_down_ = false;
};

}  // namespace prescient::kube
