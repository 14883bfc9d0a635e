#include "sim/cluster/quota.h"

#include <gtest/gtest.h>

#include "sim/cluster/test_builders.h"

namespace prescient::sim::cluster {
namespace {

using testing::kGi;
using testing::MakePod;

QuotaSpec Quota(ResourceList hard) {
  QuotaSpec q;
  q.ns = "demo";
  q.name = "demo-quota";
  q.hard = std::move(hard);
  return q;
}

TEST(Quota, PodUsageCoversEveryQuotaName) {
  auto r = PodResourcesFromJson(MakePod("p").Cpu("500m").Mem("1Gi").Limit("memory", "2Gi").Request("devices.kubevirt.io/kvm", "1").Obj());
  ASSERT_TRUE(r.ok());
  ResourceList u = PodQuotaUsage(*r);
  EXPECT_EQ(u["pods"], 1);
  EXPECT_EQ(u["count/pods"], 1);
  EXPECT_EQ(u["cpu"], 500);
  EXPECT_EQ(u["requests.cpu"], 500);
  EXPECT_EQ(u["requests.memory"], kGi);
  EXPECT_EQ(u["limits.memory"], 2 * kGi);
  EXPECT_EQ(u["requests.devices.kubevirt.io/kvm"], 1);
  EXPECT_EQ(u.count("limits.cpu"), 0u);
}

TEST(Quota, CheckTable) {
  struct Case {
    std::string name;
    ResourceList hard, used, requested;
    std::string want;  // "" = admitted
  } cases[] = {
      {"room left", {{"requests.cpu", 4000}}, {{"requests.cpu", 1000}}, {{"requests.cpu", 3000}}, ""},
      {"exactly full", {{"requests.cpu", 4000}}, {{"requests.cpu", 3000}}, {{"requests.cpu", 1000}}, ""},
      {"over cpu",
       {{"requests.cpu", 4000}, {"requests.memory", 8 * kGi}},
       {{"requests.cpu", 3500}, {"requests.memory", kGi}},
       {{"requests.cpu", 1000}, {"requests.memory", kGi}},
       "pods \"p\" is forbidden: exceeded quota: demo-quota, requested: requests.cpu=1, used: requests.cpu=3500m, "
       "limited: requests.cpu=4"},
      {"over two, sorted",
       {{"requests.memory", 2 * kGi}, {"pods", 2}},
       {{"requests.memory", 2 * kGi}, {"pods", 2}},
       {{"requests.memory", kGi}, {"pods", 1}},
       "pods \"p\" is forbidden: exceeded quota: demo-quota, requested: pods=1,requests.memory=1Gi, used: "
       "pods=2,requests.memory=2Gi, limited: pods=2,requests.memory=2Gi"},
      {"unconstrained resource ignored", {{"pods", 10}}, {{"requests.cpu", 100000}}, {{"requests.cpu", 1000}, {"pods", 1}}, ""},
      {"lowered below used blocks new usage only", {{"pods", 1}}, {{"pods", 3}}, {{"pods", 1}},
       "pods \"p\" is forbidden: exceeded quota: demo-quota, requested: pods=1, used: pods=3, limited: pods=1"},
  };
  for (const auto& c : cases) {
    Status s = CheckQuota(Quota(c.hard), c.used, c.requested, "pods", "p");
    if (c.want.empty()) {
      EXPECT_TRUE(s.ok()) << c.name << ": " << s.ToString();
    } else {
      EXPECT_EQ(s.code(), Code::kForbidden) << c.name;
      EXPECT_EQ(s.http_code(), 403) << c.name;
      EXPECT_EQ(s.reason(), "Forbidden") << c.name;
      EXPECT_EQ(s.message(), c.want) << c.name;
    }
  }
}

TEST(Quota, MigrationTargetPodNeedsRoomForBothPods) {
  // A VM's launcher pod uses 2Gi of a 3Gi quota; hotplug to 3Gi guest makes a ~3.3Gi target pod
  // that must fit beside the source pod: rejected.
  QuotaSpec q = Quota({{"requests.memory", 3 * kGi}});
  ResourceList used = {{"requests.memory", 2 * kGi}};
  ResourceList target = {{"requests.memory", 3 * kGi + 300 * testing::kMi}};
  Status s = CheckQuota(q, used, target, "pods", "virt-launcher-db-tools-abcde");
  EXPECT_EQ(s.code(), Code::kForbidden);
  EXPECT_NE(s.message().find("exceeded quota: demo-quota"), std::string::npos);
}

TEST(Quota, MustSpecifyLimitsWhenQuotaConstrainsThem) {
  auto r = PodResourcesFromJson(MakePod("p").Cpu("1").Obj());
  ASSERT_TRUE(r.ok());
  Status s = CheckMustSpecify(Quota({{"limits.cpu", 4000}, {"limits.memory", 4 * kGi}, {"requests.cpu", 4000}}), *r, "p");
  EXPECT_EQ(s.message(), "pods \"p\" is forbidden: failed quota: demo-quota: must specify limits.cpu,limits.memory");
  EXPECT_TRUE(CheckMustSpecify(Quota({{"requests.cpu", 4000}}), *r, "p").ok());
}

TEST(Quota, ScopesAndPriorityClassSelector) {
  Json quota = {{"metadata", {{"name", "q"}, {"namespace", "demo"}}},
                {"spec",
                 {{"hard", {{"pods", "2"}}},
                  {"scopeSelector",
                   {{"matchExpressions", Json::array({{{"scopeName", "PriorityClass"}, {"operator", "In"}, {"values", {"high"}}}})}}}}}};
  auto q = QuotaSpecFromJson(quota);
  ASSERT_TRUE(q.ok());
  Json high = MakePod("a").Cpu("1").PriorityClass("high").Obj();
  Json low = MakePod("b").Cpu("1").PriorityClass("low").Obj();
  Json none = MakePod("c").Obj();
  EXPECT_TRUE(QuotaMatchesPod(*q, high, *PodResourcesFromJson(high)));
  EXPECT_FALSE(QuotaMatchesPod(*q, low, *PodResourcesFromJson(low)));
  EXPECT_FALSE(QuotaMatchesPod(*q, none, *PodResourcesFromJson(none)));
  QuotaSpec be;
  be.scopes = {"BestEffort"};
  EXPECT_TRUE(QuotaMatchesPod(be, none, *PodResourcesFromJson(none)));
  EXPECT_FALSE(QuotaMatchesPod(be, high, *PodResourcesFromJson(high)));
}

TEST(Quota, ObjectCounts) {
  EXPECT_EQ(ObjectCountUsage("configmaps"), (ResourceList{{"configmaps", 1}, {"count/configmaps", 1}}));
  EXPECT_EQ(ObjectCountUsage("virtualmachines.kubevirt.io"), (ResourceList{{"count/virtualmachines.kubevirt.io", 1}}));
  Status s = CheckQuota(Quota({{"count/virtualmachines.kubevirt.io", 2}}), {{"count/virtualmachines.kubevirt.io", 2}},
                        ObjectCountUsage("virtualmachines.kubevirt.io"), "virtualmachines.kubevirt.io", "vm3");
  EXPECT_EQ(s.message(),
            "virtualmachines.kubevirt.io \"vm3\" is forbidden: exceeded quota: demo-quota, requested: "
            "count/virtualmachines.kubevirt.io=1, used: count/virtualmachines.kubevirt.io=2, limited: "
            "count/virtualmachines.kubevirt.io=2");
}

}  // namespace
}  // namespace prescient::sim::cluster
