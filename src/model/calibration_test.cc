#include "model/calibration.h"

#include <gtest/gtest.h>

#include <random>

namespace prescient::model {
namespace {

TEST(Calibration, PinballLossTable) {
  struct Case {
    double y, q, tau, loss;
  };
  const Case cases[] = {{10, 8, 0.9, 1.8}, {8, 10, 0.9, 0.2}, {5, 5, 0.5, 0}, {0, 1, 0.95, 0.05}};
  for (const Case& c : cases) EXPECT_NEAR(PinballLoss(c.y, c.q, c.tau), c.loss, 1e-12);
}

TEST(Calibration, PinballGradientMasksMissingTargets) {
  const float pred[] = {1, 1, 3, 3};
  const float label[] = {2, 0, 2, 9};
  const unsigned char mask[] = {1, 1, 1, 0};
  const double taus[] = {0.9, 0.95};
  float g[4], h[4];
  PinballGradient(pred, label, mask, 2, 2, taus, g, h);
  EXPECT_FLOAT_EQ(g[0], -0.9f);          // under-predicting: push up
  EXPECT_FLOAT_EQ(g[1], 1 - 0.95f);      // over-predicting: push down gently
  EXPECT_FLOAT_EQ(g[2], 1 - 0.9f);
  EXPECT_FLOAT_EQ(g[3], 0.f);
  EXPECT_FLOAT_EQ(h[3], 0.f);
  EXPECT_FLOAT_EQ(h[0], 1.f);
}

TEST(Calibration, ConformalOffsetRank) {
  std::vector<double> r;
  for (int i = 1; i <= 19; ++i) r.push_back(i);  // n = 19: rank ceil(20 * 0.9) = 18
  ConformalOffset o = ConformalUpperOffset(r, 0.9);
  EXPECT_DOUBLE_EQ(o.offset, 18);
  EXPECT_FALSE(o.saturated);
  o = ConformalUpperOffset({1, 2, 3}, 0.95);  // rank 4 > n: saturates at the max
  EXPECT_TRUE(o.saturated);
  EXPECT_DOUBLE_EQ(o.offset, 3);
  EXPECT_EQ(ConformalUpperOffset({}, 0.9).n, 0u);
}

// The guarantee itself: calibrating on one sample and testing on fresh draws covers >= tau.
TEST(Calibration, ConformalCoverageHoldsOnFreshData) {
  std::mt19937 rng(7);
  std::lognormal_distribution<double> d(0, 1);
  std::vector<double> cal;
  for (int i = 0; i < 2000; ++i) cal.push_back(d(rng));
  const ConformalOffset o = ConformalUpperOffset(cal, 0.95);
  int covered = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) covered += d(rng) <= o.offset ? 1 : 0;
  EXPECT_NEAR(static_cast<double>(covered) / n, 0.95, 0.01);
}

}  // namespace
}  // namespace prescient::model
