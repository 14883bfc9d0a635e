#include "common/clock.h"

#include <gtest/gtest.h>

#include <thread>

namespace prescient {
namespace {

TEST(Rfc3339, TimesATimePointCannotHoldAreRefused) {
  // Found by analysis_fuzz under UBSan: year 0226 overflowed the nanosecond count.
  Clock::TimePoint t;
  EXPECT_FALSE(ParseRfc3339("0226-11-28T06:52:48.784Z", &t));
  EXPECT_FALSE(ParseRfc3339("1600-01-01T00:00:00Z", &t));
  EXPECT_FALSE(ParseRfc3339("2300-01-01T00:00:00Z", &t));
  EXPECT_FALSE(ParseRfc3339("-001-01-01T00:00:00Z", &t));
  EXPECT_TRUE(ParseRfc3339("1700-01-01T00:00:00Z", &t));
  EXPECT_EQ(FormatRfc3339(t), "1700-01-01T00:00:00Z");
  EXPECT_TRUE(ParseRfc3339("2200-12-31T23:59:59Z", &t));
  EXPECT_TRUE(ParseRfc3339("1969-12-31T23:59:59Z", &t));
  EXPECT_EQ(FormatRfc3339(t), "1969-12-31T23:59:59Z");
}

TEST(Rfc3339, RoundTrips) {
  Clock::TimePoint t;
  ASSERT_TRUE(ParseRfc3339("2026-11-28T06:24:42Z", &t));
  EXPECT_EQ(FormatRfc3339(t), "2026-11-28T06:24:42Z");
  ASSERT_TRUE(ParseRfc3339("2026-11-28T06:24:42.123456Z", &t));
  EXPECT_EQ(FormatRfc3339Micro(t), "2026-11-28T06:24:42.123456Z");
  ASSERT_TRUE(ParseRfc3339("2026-11-28T08:24:42+02:00", &t));
  EXPECT_EQ(FormatRfc3339(t), "2026-11-28T06:24:42Z");
  EXPECT_FALSE(ParseRfc3339("yesterday", &t));
  EXPECT_FALSE(ParseRfc3339("2026-11-28T06:24:42", &t));
}

TEST(FakeClock, SleepWakesOnlyWhenAdvancedPastDeadline) {
  FakeClock clock;
  bool woke = false;
  std::thread sleeper([&] {
    clock.SleepFor(std::chrono::seconds(10));
    woke = true;
  });
  while (clock.Sleepers() == 0) std::this_thread::yield();
  clock.Advance(std::chrono::seconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_FALSE(woke);
  clock.Advance(std::chrono::seconds(5));
  sleeper.join();
  EXPECT_TRUE(woke);
}

}  // namespace
}  // namespace prescient
