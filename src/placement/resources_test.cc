#include "placement/resources.h"

#include <gtest/gtest.h>

namespace prescient::placement {
namespace {

TEST(LauncherTest, RequestsTable) {
  struct Case {
    int vcpus;
    int64_t guest;
    Resources want;
  };
  const Case cases[] = {
      // 260 MiB fixed + 8 MiB per vCPU + guest/512 (whole KiB), rounded up to 1 MiB.
      {1, 1 * kGiB, {100, 1 * kGiB + 260 * kMiB + 8 * kMiB + 2 * kMiB}},
      {2, 2 * kGiB, {200, 2 * kGiB + 260 * kMiB + 16 * kMiB + 4 * kMiB}},
      {4, 8 * kGiB, {400, 8 * kGiB + 260 * kMiB + 32 * kMiB + 16 * kMiB}},
      {2, 3 * kGiB + 2 * kMiB, {200, 3 * kGiB + 2 * kMiB + 260 * kMiB + 16 * kMiB + 7 * kMiB}},  // 6 MiB + 4 KiB -> 7 MiB
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.vcpus) + " vCPUs, " + std::to_string(c.guest) + " bytes");
    EXPECT_EQ(LauncherRequests(c.vcpus, c.guest), c.want);
  }
}

TEST(LauncherTest, PodHintMirrorsAVirtLauncherPod) {
  ProvisioningHint h = LauncherPodHint(2, 4 * kGiB, 3);
  EXPECT_EQ(h.count, 3);
  EXPECT_EQ(h.pod_requests, LauncherRequests(2, 4 * kGiB));
  EXPECT_EQ(h.node_selector.at("kubevirt.io/schedulable"), "true");
  for (const char* dev : {"devices.kubevirt.io/kvm", "devices.kubevirt.io/tun", "devices.kubevirt.io/vhost-net"})
    EXPECT_EQ(h.extended_resources.at(dev), 1) << dev;
}

TEST(ResourcesTest, ArithmeticAndAlignment) {
  Resources a{1000, kGiB}, b{500, 2 * kGiB};
  EXPECT_EQ(a + b, (Resources{1500, 3 * kGiB}));
  EXPECT_EQ(a - b, (Resources{500, -kGiB}));
  EXPECT_EQ(Max(a, b), (Resources{1000, 2 * kGiB}));
  EXPECT_EQ(Min(a, b), (Resources{500, kGiB}));
  EXPECT_TRUE(a.Holds({1000, kGiB}));
  EXPECT_FALSE(a.Holds({1001, kGiB}));
  EXPECT_FALSE(a.Holds({1000, kGiB + 1}));
  EXPECT_EQ(AlignUp(1, kMemoryAlignment), kMemoryAlignment);
  EXPECT_EQ(AlignUp(kMemoryAlignment, kMemoryAlignment), kMemoryAlignment);
  EXPECT_EQ(AlignUp(0, kMemoryAlignment), 0);
  EXPECT_EQ((Resources{1500, 2 * kGiB}).ToString(), "1500m CPU, 2Gi memory");
}

}  // namespace
}  // namespace prescient::placement
