// The one retry/backoff policy: exponential with full jitter, capped, reset on success.
// Used by the REST client (429/5xx/connection errors), informers (watch reconnects), the work queue
// (per-item requeues, without jitter) and the agent. Not thread-safe: one instance per retry loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace prescient {

struct BackoffPolicy {
  std::chrono::milliseconds initial{800};
  std::chrono::milliseconds max{30'000};
  double factor = 2.0;
  double jitter = 1.0;  // 0 = none, 1 = up to +100 % of the base delay
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy p = {}, uint64_t seed = std::random_device{}()) : p_(p), rng_(seed) {}
  // The delay before the next attempt; each call grows the base delay.
  std::chrono::milliseconds Next();
  // The base delay for attempt n (0-based) without jitter: initial * factor^n, capped.
  std::chrono::milliseconds Base(int attempt) const;
  void Reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  BackoffPolicy p_;
  std::mt19937_64 rng_;
  int attempt_ = 0;
};

}  // namespace prescient
