#include "placement/policy.h"

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

namespace prescient::placement {
namespace {

TEST(PolicyTest, DefaultsWhenEmpty) {
  auto p = ParsePolicy("", "policy.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_DOUBLE_EQ(p->memory_quantile, 0.95);
  EXPECT_DOUBLE_EQ(p->cpu_quantile, 0.9);
  EXPECT_DOUBLE_EQ(p->memory_growth_threshold, 0.9);
  EXPECT_EQ(p->scaling_mode, ScalingMode::kProvisioningRequest);
}

TEST(PolicyTest, ParsesEveryKey) {
  auto p = ParsePolicy(R"(
quantiles: {memory: 0.99, cpu: 0.8}
growth:
  memoryThreshold: 0.85
  memoryStep: 0.5
  memoryMinStep: 512Mi
  cpuThrottleThreshold: 0.3
  cpuThrottleSustainSeconds: 60
  cpuStep: 1
  cpuMinStep: 250m
scaling: {mode: balloon, provisioningClassName: check-capacity.autoscaling.x-k8s.io}
headroom: 0.2
guestReserved: {cpu: 100m, memory: 128Mi}
hotplug: false
preemption: false
largestNode: {cpu: "16", memory: 64Gi}
)", "policy.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_DOUBLE_EQ(p->memory_quantile, 0.99);
  EXPECT_DOUBLE_EQ(p->cpu_quantile, 0.8);
  EXPECT_DOUBLE_EQ(p->memory_growth_threshold, 0.85);
  EXPECT_DOUBLE_EQ(p->memory_growth_step, 0.5);
  EXPECT_EQ(p->memory_growth_min_step_bytes, 512 * kMiB);
  EXPECT_DOUBLE_EQ(p->cpu_throttle_threshold, 0.3);
  EXPECT_EQ(p->cpu_throttle_sustain_seconds, 60);
  EXPECT_DOUBLE_EQ(p->cpu_growth_step, 1);
  EXPECT_EQ(p->cpu_growth_min_step_milli, 250);
  EXPECT_EQ(p->scaling_mode, ScalingMode::kBalloon);
  EXPECT_EQ(p->provisioning_class, "check-capacity.autoscaling.x-k8s.io");
  EXPECT_DOUBLE_EQ(p->headroom, 0.2);
  EXPECT_EQ(p->guest_reserved, (Resources{100, 128 * kMiB}));
  EXPECT_FALSE(p->hotplug_enabled);
  EXPECT_FALSE(p->preemption_enabled);
  ASSERT_TRUE(p->largest_node.has_value());
  EXPECT_EQ(*p->largest_node, (Resources{16000, 64 * kGiB}));
}

TEST(PolicyTest, JsonWorksToo) {
  auto p = ParsePolicy(R"({"scaling": {"mode": "None"}, "quantiles": {"memory": 0.9}})", "policy.json");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->scaling_mode, ScalingMode::kNone);
  EXPECT_DOUBLE_EQ(p->memory_quantile, 0.9);
}

TEST(PolicyTest, ErrorsNameFileLineAndKey) {
  struct Case {
    const char* text;
    const char* want;  // substring of the error
  };
  const Case cases[] = {
      {"quantiles: {memory: 1.5}", "policy.yaml:1:21: quantiles.memory: must be in (0, 1], got 1.5"},
      {"quantiles: {memory: 0}", "quantiles.memory: must be in (0, 1]"},
      {"quantiles: {memory: high}", "quantiles.memory: must be a number"},
      {"quantiles:\n  mem: 0.9", "policy.yaml:2:3: quantiles.mem: unknown key (known: memory, cpu)"},
      {"growht: {}", "growht: unknown key"},
      {"growth: {memoryMinStep: lots}", "growth.memoryMinStep:"},
      {"growth: {cpuMinStep: -1}", "growth.cpuMinStep: must not be negative"},
      {"growth: {cpuThrottleSustainSeconds: 1.5}", "growth.cpuThrottleSustainSeconds: must be an integer"},
      {"scaling: {mode: karpenter}", "scaling.mode: \"karpenter\" is not one of ProvisioningRequest, Balloon, None"},
      {"headroom: -0.1", "headroom: must be in [0, 10]"},
      {"hotplug: maybe", "hotplug: must be true or false"},
      {"growth: 3", "growth: must be a mapping"},
      {"quantiles: {memory: [0.9", "policy.yaml:1:"},
      {"- 1\n- 2", "the policy: must be a mapping"},
      {"largestNode: {cpu: 8}", "largestNode: needs both cpu and memory"},
      {"largestNode: {cpu: 8, memory: 1Gi, gpu: 1}", "largestNode.gpu: unknown key"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    auto p = ParsePolicy(c.text, "policy.yaml");
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), Code::kInvalidArgument);
    EXPECT_NE(p.status().message().find(c.want), std::string::npos) << p.status().message();
  }
}

TEST(PolicyTest, LoadsFileAndNamesMissingOne) {
  std::string path = ::testing::TempDir() + "/prescient-policy-test.yaml";
  {
    std::ofstream f(path);
    f << "headroom: 0.3\n";
  }
  auto p = LoadPolicyFile(path);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_DOUBLE_EQ(p->headroom, 0.3);
  std::remove(path.c_str());
  auto missing = LoadPolicyFile(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(path), std::string::npos);
}

}  // namespace
}  // namespace prescient::placement
