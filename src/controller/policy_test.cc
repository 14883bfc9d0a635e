#include "controller/policy.h"

#include <gtest/gtest.h>

namespace prescient::controller {
namespace {

TEST(Policy, EmptyKeepsDefaults) {
  auto p = ParsePolicyYaml("", "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_DOUBLE_EQ(p->placement.memory_growth_threshold, 0.9);
  EXPECT_EQ(p->placement.scaling_mode, ScalingMode::kProvisioningRequest);
}

TEST(Policy, TheFilesKeysMapIntoThePlacementPolicy) {
  auto p = ParsePolicyYaml("guestReservedCPU: 100m\nguestReservedMemory: 128Mi\nmemoryStep: 512Mi\n"
                           "scalingMode: Balloon\nprovisioningClassName: check-capacity.autoscaling.x-k8s.io\n"
                           "growthMemoryThreshold: 0.8\ngrowthFactor: 2\nthrottleThreshold: 0.3\n"
                           "throttleSustainSeconds: 20\ncpuStep: 500m\n",
                           "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const placement::Policy& pp = p->placement;
  EXPECT_EQ(pp.guest_reserved, (placement::Resources{100, 128LL << 20}));
  EXPECT_EQ(pp.memory_step_bytes, 512LL << 20);
  EXPECT_EQ(pp.memory_growth_min_step_bytes, 512LL << 20) << "memoryStep is the growth step too";
  EXPECT_EQ(pp.scaling_mode, ScalingMode::kBalloon);
  EXPECT_EQ(pp.provisioning_class, "check-capacity.autoscaling.x-k8s.io");
  EXPECT_DOUBLE_EQ(pp.memory_growth_threshold, 0.8);
  EXPECT_DOUBLE_EQ(pp.memory_growth_usage_factor, 2);
  EXPECT_DOUBLE_EQ(pp.cpu_throttle_threshold, 0.3);
  EXPECT_EQ(pp.cpu_throttle_sustain_seconds, 20);
  EXPECT_EQ(pp.cpu_growth_min_step_milli, 500);
  // The operator's growth steps are memoryStep/cpuStep alone, with no extra headroom.
  EXPECT_DOUBLE_EQ(pp.memory_growth_step, 0);
  EXPECT_DOUBLE_EQ(pp.cpu_growth_step, 0);
  EXPECT_DOUBLE_EQ(pp.headroom, 0);
}

TEST(Policy, ParsesKeys) {
  auto p = ParsePolicyYaml("quantile: 0.9\nscalingMode: None\nmemoryStep: 512Mi\ndefaultCPU: 250m\n"
                           "ownedQuotaName: q\nretrainMinNewRecords: 7\n",
                           "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_DOUBLE_EQ(p->quantile, 0.9);
  EXPECT_EQ(p->placement.scaling_mode, ScalingMode::kNone);
  EXPECT_EQ(p->placement.memory_step_bytes, 512LL << 20);
  EXPECT_EQ(p->default_cpu_milli, 250);
  EXPECT_EQ(p->owned_quota_name, "q");
  EXPECT_EQ(p->retrain_min_new_records, 7u);
}

TEST(Policy, ErrorsNameFileLineAndKey) {
  struct Case {
    std::string yaml, want;
  } cases[] = {
      {"quantile: 0.9\ngrowthTreshold: 0.8\n", "p.yaml:2: growthTreshold: unknown policy key"},
      {"scalingMode: Sometimes\n", "must be ProvisioningRequest, Balloon or None"},
      {"memoryStep: lots\n", "expected a positive quantity"},
      {"growthMemoryThreshold: 2\n", "must be in"},
      {"- a\n", "must be a mapping"},
  };
  for (const auto& c : cases) {
    auto p = ParsePolicyYaml(c.yaml, "p.yaml");
    ASSERT_FALSE(p.ok()) << c.yaml;
    EXPECT_NE(p.status().message().find(c.want), std::string::npos) << p.status().message();
  }
}

}  // namespace
}  // namespace prescient::controller
