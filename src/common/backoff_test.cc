#include "common/backoff.h"

#include <gtest/gtest.h>

namespace prescient {
namespace {

TEST(Backoff, GrowsExponentiallyAndCaps) {
  Backoff b({std::chrono::milliseconds(800), std::chrono::milliseconds(30000), 2.0, 0.0});
  EXPECT_EQ(b.Next().count(), 800);
  EXPECT_EQ(b.Next().count(), 1600);
  EXPECT_EQ(b.Next().count(), 3200);
  for (int i = 0; i < 20; ++i) b.Next();
  EXPECT_EQ(b.Next().count(), 30000);
  b.Reset();
  EXPECT_EQ(b.Next().count(), 800);
}

TEST(Backoff, JitterStaysWithinBounds) {
  Backoff b({std::chrono::milliseconds(100), std::chrono::milliseconds(100000), 2.0, 1.0}, 42);
  for (int i = 0; i < 8; ++i) {
    auto base = b.Base(i).count();
    auto d = b.Next().count();
    EXPECT_GE(d, base);
    EXPECT_LE(d, 2 * base);
  }
}

}  // namespace
}  // namespace prescient
