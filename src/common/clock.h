// An injectable clock (the LevelDB Env idea for time): everything time-based — backoff, leases,
// rate limits, requeue delays — asks a Clock, so tests use FakeClock and never sleep.
// RealClock is stateless; FakeClock is thread-safe and wakes sleepers when advanced.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

namespace prescient {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  // Wall-clock time (for timestamps written to the API).
  virtual TimePoint Now() const = 0;
  // Monotonic time (for durations, expiry and rate limits).
  virtual std::chrono::steady_clock::time_point Monotonic() const = 0;
  // Sleeps up to `d`; returns early when Interrupt() is called (shutdown). Returns false if interrupted.
  virtual bool SleepFor(Duration d) = 0;
  virtual void Interrupt() = 0;
};

class RealClock : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point Monotonic() const override { return std::chrono::steady_clock::now(); }
  bool SleepFor(Duration d) override;
  void Interrupt() override;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool interrupted_ = false;
};

// The process-wide real clock.
Clock& SystemClock();

// A manual clock for tests: time moves only through Advance(); SleepFor blocks until the clock has
// been advanced past the deadline (or Interrupt()).
class FakeClock : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::seconds(1'700'000'000)));
  TimePoint Now() const override;
  std::chrono::steady_clock::time_point Monotonic() const override;
  bool SleepFor(Duration d) override;
  void Interrupt() override;
  void Advance(Duration d);
  // Number of threads currently blocked in SleepFor (lets tests wait until a loop is parked).
  int Sleepers() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Duration offset_{0};
  TimePoint start_;
  int sleepers_ = 0;
  bool interrupted_ = false;
};

// RFC 3339 with seconds ("2026-11-28T06:24:42Z") and with microseconds (Lease MicroTime).
std::string FormatRfc3339(Clock::TimePoint t);
std::string FormatRfc3339Micro(Clock::TimePoint t);
// Parses RFC 3339 (Z or ±hh:mm offset, optional fraction). Returns false on malformed text.
bool ParseRfc3339(const std::string& text, Clock::TimePoint* out);

}  // namespace prescient
