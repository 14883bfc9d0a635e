#include "sim/cluster/resources.h"

#include <gtest/gtest.h>

#include "sim/cluster/test_builders.h"

namespace prescient::sim::cluster {
namespace {

using testing::kGi;
using testing::kMi;
using testing::MakePod;

TEST(Resources, PodRequestsSumContainersMaxInitAddOverheadAndDefaultFromLimits) {
  Json pod = MakePod("p").Cpu("250m").Mem("1Gi").Obj();
  pod["spec"]["containers"].push_back({{"name", "side"}, {"resources", {{"limits", {{"cpu", "1"}, {"memory", "512Mi"}}}}}});
  pod["spec"]["initContainers"] = Json::array({{{"name", "init"}, {"resources", {{"requests", {{"cpu", "2"}}}}}}});
  pod["spec"]["overhead"] = {{"memory", "100Mi"}};
  auto r = PodResourcesFromJson(pod);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->requests.at("cpu"), 2000);                // max(250m + 1, init 2)
  EXPECT_EQ(r->requests.at("memory"), kGi + 612 * kMi);  // 1Gi + 512Mi (limit→request) + overhead
  EXPECT_EQ(r->limits.at("cpu"), 1000);
  EXPECT_FALSE(r->best_effort);
  EXPECT_EQ(r->missing.at("limits.cpu"), std::vector<std::string>{"c"});
}

TEST(Resources, BadQuantityNamesTheField) {
  auto r = PodResourcesFromJson(MakePod("p").Cpu("lots").Obj());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("spec.containers[0].resources.requests.cpu"), std::string::npos) << r.status().message();
}

TEST(Resources, FormatAmountPerResource) {
  struct Case {
    std::string name;
    int64_t v;
    std::string want;
  } cases[] = {{"cpu", 500, "500m"},          {"requests.cpu", 2000, "2"},  {"memory", 2 * kGi, "2Gi"},
               {"limits.memory", 1536 * kMi, "1536Mi"}, {"pods", 10, "10"},   {"count/pods", 3, "3"}};
  for (const auto& c : cases) EXPECT_EQ(FormatAmount(c.name, c.v), c.want) << c.name;
}

TEST(Resources, Tolerations) {
  struct Case {
    std::vector<Toleration> tols;
    Taint taint;
    bool want;
  } cases[] = {
      {{}, {"k", "v", "NoSchedule"}, false},
      {{{"k", "Exists", "", ""}}, {"k", "v", "NoSchedule"}, true},
      {{{"k", "Equal", "v", ""}}, {"k", "v", "NoSchedule"}, true},
      {{{"k", "Equal", "w", ""}}, {"k", "v", "NoSchedule"}, false},
      {{{"k", "Exists", "", "NoExecute"}}, {"k", "v", "NoSchedule"}, false},
      {{{"", "Exists", "", ""}}, {"anything", "", "NoExecute"}, true},
  };
  for (size_t i = 0; i < std::size(cases); ++i) EXPECT_EQ(Tolerates(cases[i].tols, cases[i].taint), cases[i].want) << i;
}

}  // namespace
}  // namespace prescient::sim::cluster
