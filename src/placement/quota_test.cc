#include "placement/quota.h"

#include <gtest/gtest.h>

namespace prescient::placement {
namespace {

TEST(MigrationQuotaTest, Table) {
  const Resources before = LauncherRequests(2, 2 * kGiB);
  const Resources after = LauncherRequests(2, 4 * kGiB);
  struct Case {
    const char* name;
    NamespaceQuota quota;
    bool allowed;
    QuotaChange change;
    const char* message_part;
  };
  auto owned = [](Resources hard, Resources used, std::optional<Resources> max = std::nullopt) {
    NamespaceQuota q;
    q.owned = OwnedQuota{hard, used, max};
    return q;
  };
  auto other = [](Resources headroom) {
    NamespaceQuota q;
    q.other_headroom = headroom;
    return q;
  };
  const Case cases[] = {
      {"no quotas", NamespaceQuota{}, true, {}, ""},
      {"other quota with room for the second pod", other(after), true, {}, ""},
      {"other quota one byte short", other(after - Resources{0, 1}), false, {}, "second virt-launcher pod needs"},
      {"other quota short of CPU", other(after - Resources{1, 0}), false, {}, "left"},
      {"owned quota already large enough", owned({4000, 16 * kGiB}, before), true,
       {false, {4000, 16 * kGiB}, {4000, 16 * kGiB}}, ""},
      // Both pods at once: used (the old pod) + the new pod; afterwards only the new pod.
      {"owned quota raised for both pods", owned(before, before), true, {true, before + after, Max(before, after)}, ""},
      {"owned quota raised within its cap", owned(before, before, before + after), true,
       {true, before + after, Max(before, after)}, ""},
      {"owned quota cap too low", owned(before, before, before + after - Resources{0, kMiB}), false, {}, "above its cap"},
      {"other blocks even when owned could grow",
       [&] { NamespaceQuota q = owned(before, before); q.other_headroom = Resources{}; return q; }(), false, {}, "left"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    QuotaCheck check = PlanMigrationQuota(c.quota, before, after);
    EXPECT_EQ(check.allowed, c.allowed) << check.message;
    if (c.allowed) {
      EXPECT_EQ(check.change, c.change);
    }
    EXPECT_NE(check.message.find(c.message_part), std::string::npos) << check.message;
  }
}

TEST(LoweredHardTest, NeverBelowUsedNeverRaised) {
  struct Case {
    const char* name;
    OwnedQuota q;
    Resources floor;
    Resources want;
  };
  const Case cases[] = {
      {"lowered to the floor", {{4000, 8 * kGiB}, {1000, 2 * kGiB}, {}}, {2000, 3 * kGiB}, {2000, 3 * kGiB}},
      {"lowered to used when the floor is below", {{4000, 8 * kGiB}, {1000, 2 * kGiB}, {}}, {0, 0}, {1000, 2 * kGiB}},
      {"not raised to a higher floor", {{4000, 8 * kGiB}, {1000, 2 * kGiB}, {}}, {5000, 9 * kGiB}, {4000, 8 * kGiB}},
      {"per resource", {{4000, 8 * kGiB}, {1000, 6 * kGiB}, {}}, {2000, kGiB}, {2000, 6 * kGiB}},
      {"used above hard stays at used", {{1000, kGiB}, {2000, 2 * kGiB}, {}}, {0, 0}, {2000, 2 * kGiB}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(LoweredHard(c.q, c.floor), c.want);
  }
}

}  // namespace
}  // namespace prescient::placement
