#include "common/clock.h"

#include <cstdio>
#include <ctime>

namespace prescient {

bool RealClock::SleepFor(Duration d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [&] { return interrupted_; });
  return !interrupted_;
}

void RealClock::Interrupt() {
  std::lock_guard<std::mutex> lock(mu_);
  interrupted_ = true;
  cv_.notify_all();
}

Clock& SystemClock() {
  static RealClock* clock = new RealClock();
  return *clock;
}

FakeClock::FakeClock(TimePoint start) : start_(start) {}

Clock::TimePoint FakeClock::Now() const {
  std::lock_guard<std::mutex> lock(mu_);
  return start_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(offset_);
}

std::chrono::steady_clock::time_point FakeClock::Monotonic() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::chrono::steady_clock::time_point(std::chrono::duration_cast<std::chrono::steady_clock::duration>(offset_ + std::chrono::hours(1)));
}

bool FakeClock::SleepFor(Duration d) {
  std::unique_lock<std::mutex> lock(mu_);
  Duration deadline = offset_ + d;
  ++sleepers_;
  cv_.notify_all();
  cv_.wait(lock, [&] { return interrupted_ || offset_ >= deadline; });
  --sleepers_;
  return !interrupted_;
}

void FakeClock::Interrupt() {
  std::lock_guard<std::mutex> lock(mu_);
  interrupted_ = true;
  cv_.notify_all();
}

void FakeClock::Advance(Duration d) {
  std::lock_guard<std::mutex> lock(mu_);
  offset_ += d;
  cv_.notify_all();
}

int FakeClock::Sleepers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sleepers_;
}

static std::string Format(Clock::TimePoint t, bool micro) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  if (micro) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() % 1000000;
    if (us < 0) us += 1000000;
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(us));
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  return buf;
}

std::string FormatRfc3339(Clock::TimePoint t) { return Format(t, false); }
std::string FormatRfc3339Micro(Clock::TimePoint t) { return Format(t, true); }

bool ParseRfc3339(const std::string& text, Clock::TimePoint* out) {
  int y, mo, d, h, mi, s;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) != 6) return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return false;
  const char* p = text.c_str() + consumed;
  long long frac_ns = 0;
  if (*p == '.') {
    ++p;
    long long scale = 100000000;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
      if (digits < 9) frac_ns += (*p - '0') * scale;
      scale /= 10;
      ++digits;
      ++p;
    }
    if (digits == 0) return false;
  }
  long offset = 0;
  if (*p == 'Z' || *p == 'z') {
    ++p;
  } else if (*p == '+' || *p == '-') {
    int oh, om;
    if (std::sscanf(p + 1, "%2d:%2d", &oh, &om) != 2) return false;
    offset = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
    p += 6;
  } else {
    return false;
  }
  if (*p != '\0') return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  time_t secs = timegm(&tm) - offset;
  // A time point counts nanoseconds in 64 bits (about 1678 to 2261): refuse what it cannot hold.
  constexpr long long kMaxSeconds =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::TimePoint::duration::max()).count() - 1;
  if (secs == static_cast<time_t>(-1) && !(y == 1969 && mo == 12 && d == 31)) return false;
  if (secs > kMaxSeconds || secs < -kMaxSeconds) return false;
  *out = Clock::TimePoint(std::chrono::seconds(secs)) +
         std::chrono::duration_cast<Clock::TimePoint::duration>(std::chrono::nanoseconds(frac_ns));
  return true;
}

}  // namespace prescient
