#include "controller/policy.h"

#include <gtest/gtest.h>

namespace prescient::controller {
namespace {

TEST(Policy, EmptyKeepsDefaults) {
  auto p = ParsePolicyYaml("", "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_DOUBLE_EQ(p->growth_memory_threshold, 0.9);
  EXPECT_EQ(p->scaling_mode, ScalingMode::kProvisioningRequest);
}

TEST(Policy, ParsesKeys) {
  auto p = ParsePolicyYaml("quantile: 0.9\nscalingMode: None\nmemoryStep: 512Mi\ndefaultCPU: 250m\n"
                           "ownedQuotaName: q\nretrainMinNewRecords: 7\n",
                           "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_DOUBLE_EQ(p->quantile, 0.9);
  EXPECT_EQ(p->scaling_mode, ScalingMode::kNone);
  EXPECT_EQ(p->memory_step_bytes, 512LL << 20);
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
