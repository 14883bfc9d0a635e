// Waiting on a condition variable until a deadline measured by an injectable prescient::Clock.
// With the real clock this is an ordinary timed wait; with a FakeClock (whose Advance() cannot notify
// our condition variables) the wait re-checks the clock every millisecond of real time, so tests that
// advance the fake clock see timers fire promptly without sleeping. Internal to src/kube.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "common/clock.h"

namespace prescient::kube {

// Waits until pred() is true or clock->Monotonic() >= deadline. Returns pred().
template <typename Pred>
bool WaitUntil(Clock* clock, std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
               std::chrono::steady_clock::time_point deadline, Pred pred) {
  const bool real = dynamic_cast<RealClock*>(clock) != nullptr;
  while (!pred()) {
    auto now = clock->Monotonic();
    if (now >= deadline) return pred();
    if (real) {
      cv.wait_until(lock, deadline);
    } else {
      cv.wait_for(lock, std::chrono::milliseconds(1));
    }
  }
  return true;
}

// Waits for pred() with no deadline.
template <typename Pred>
void WaitFor(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Pred pred) {
  cv.wait(lock, pred);
}

}  // namespace prescient::kube
