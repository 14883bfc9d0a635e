// The examples in examples/ against a capacity view shaped like hack/quickstart-scenario.yaml,
// with the default policy: each example must reach the decision its comment promises (fit,
// hotplug, a new node, a priority pair, a reservation, a pool). Predictions are fixed here; the
// examples' spec.resources bounds decide the amounts.
#include <map>

#include <gtest/gtest.h>

#include "api/codec.h"
#include "api/yaml_json.h"
#include "placement/queue.h"
#include "placement/testing.h"

namespace prescient::placement {
namespace {

using namespace testing;  // NOLINT

std::map<std::string, api::CommandRun> LoadExampleRuns() {
  std::map<std::string, api::CommandRun> runs;
  for (const char* file : {"10-small.yaml", "11-memory-heavy.yaml", "12-needs-new-node.yaml", "13-priority-pair.yaml",
                           "14-reservation-run.yaml", "15-pool-run.yaml"}) {
    auto docs = api::LoadYamlDocuments(std::string(PRESCIENT_SOURCE_DIR) + "/examples/" + file);
    EXPECT_TRUE(docs.ok()) << docs.status().ToString();
    if (!docs.ok()) continue;
    for (const auto& doc : *docs) {
      api::FieldErrors errs;
      api::CommandRun run = api::CommandRunFromJson(doc, &errs);
      EXPECT_TRUE(errs.empty()) << file << ": " << api::Summarize(errs);
      runs[run.metadata.name] = run;
    }
  }
  return runs;
}

// hack/quickstart-scenario.yaml: nodes 2 x 4 CPU / 8Gi (small-vm and db-tools on node-1, the
// worker on node-2), node group `burst` (8 CPU / 16Gi, 0..3), quota demo-quota (6 CPU / 16Gi),
// reservation nightly-backup (500m / 512Mi) bound on db-tools.
CapacityView QuickstartView() {
  // small-vm sets no maxima: KubeVirt's LiveUpdate defaults (x4) apply.
  const Instance small =
      MakeInstance("small-vm").Vcpus(1).MaxSockets(4).Memory(kGiB).GuestAtBoot(kGiB).MaxGuest(4 * kGiB).Obj();
  const Instance db = MakeInstance("db-tools").Vcpus(1).MaxSockets(4).Memory(2 * kGiB).MaxGuest(8 * kGiB).Obj();
  const Instance worker = MakeInstance("workers-abcde").Vcpus(2).MaxSockets(4).Memory(2 * kGiB).MaxGuest(4 * kGiB)
                              .Pool("workers").Node("node-2").Obj();
  const Resources l_small = LauncherRequests(1, kGiB), l_db = LauncherRequests(1, 2 * kGiB),
                  l_worker = LauncherRequests(2, 2 * kGiB);
  Pool pool;
  pool.name = "workers";
  pool.ns = "demo";
  pool.replicas = 1;
  pool.max_replicas = 3;
  pool.shape = worker;
  NamespaceQuota quota;
  quota.other_headroom = Resources{6000, 16 * kGiB} - l_small - l_db - l_worker;
  return MakeView()
      .Add(small).Add(db).Add(worker).Add(pool)
      .Add(MakeNode("node-1").Allocatable(4000, 8 * kGiB).Requested(l_small.cpu_milli + l_db.cpu_milli,
                                                                  l_small.memory_bytes + l_db.memory_bytes).Obj())
      .Add(MakeNode("node-2").Allocatable(4000, 8 * kGiB).Requested(l_worker.cpu_milli, l_worker.memory_bytes).Obj())
      .Group("burst", 8000, 16 * kGiB, 0, 3)
      .Reserve("nightly-backup", "db-tools", 500, 512 * kMiB)
      .Quota(quota)
      .Obj();
}

PlacementRequest RequestOf(const api::CommandRun& run, Resources predicted, int32_t priority = 0,
                           std::string reservation = "") {
  return RequestFor(run, ClampToBounds(predicted, run.spec.resources), priority, reservation, true);
}

TEST(ExamplesTest, EachExampleReachesItsDecision) {
  auto runs = LoadExampleRuns();
  ASSERT_EQ(runs.size(), 7u);
  const CapacityView view = QuickstartView();
  const Policy policy;  // defaults

  PlacementDecision small = Place(RequestOf(runs["checksum"], {1000, 300 * kMiB}), view, policy);
  EXPECT_TRUE(std::holds_alternative<Fit>(small)) << Describe(small);

  PlacementDecision heavy = Place(RequestOf(runs["memory-heavy"], {800, 1300 * kMiB}), view, policy);
  ASSERT_TRUE(std::holds_alternative<Grow>(heavy)) << Describe(heavy);
  EXPECT_EQ(std::get<Grow>(heavy).plan.instance, "demo/db-tools");
  EXPECT_TRUE(std::get<Grow>(heavy).plan.MemoryChange());
  EXPECT_EQ(std::get<Grow>(heavy).amount, (Resources{800, 2 * kGiB}));

  PlacementDecision big = Place(RequestOf(runs["big-sort"], {900, 400 * kMiB}), view, policy);
  ASSERT_TRUE(std::holds_alternative<ProvisionNodes>(big)) << Describe(big);
  EXPECT_EQ(std::get<ProvisionNodes>(big).hint.node_group, "burst");
  EXPECT_EQ(std::get<ProvisionNodes>(big).then_instance, "demo/db-tools");

  PlacementDecision reserved =
      Place(RequestOf(runs["backup-docs"], {300, 100 * kMiB}, 0, "demo/nightly-backup"), view, policy);
  ASSERT_TRUE(std::holds_alternative<Fit>(reserved)) << Describe(reserved);
  EXPECT_EQ(std::get<Fit>(reserved).reservation, "demo/nightly-backup");

  PlacementDecision pooled = Place(RequestOf(runs["pool-sort"], {1000, 200 * kMiB}), view, policy);
  ASSERT_TRUE(std::holds_alternative<Fit>(pooled)) << Describe(pooled);
  EXPECT_EQ(std::get<Fit>(pooled).instance, "demo/workers-abcde");

  // The pair, created low first: high goes first (small-vm grows for it), low waits; once high
  // holds the grown VM, low still cannot fit, even by growing small-vm to its maximum.
  api::CommandRun low = runs["low-priority-scan"], high = runs["high-priority-compress"];
  low.metadata.creation_timestamp = At(0);
  high.metadata.creation_timestamp = At(1);
  PlacementRequest low_req = RequestOf(low, {100, 100 * kMiB}, 100), high_req = RequestOf(high, {100, 100 * kMiB}, 1000);
  auto admissions = PlanAdmissions({low_req, high_req}, view, policy);
  ASSERT_EQ(admissions.size(), 2u);
  EXPECT_EQ(admissions[0].run, "demo/high-priority-compress");
  ASSERT_TRUE(std::holds_alternative<Grow>(admissions[0].decision)) << Describe(admissions[0].decision);
  EXPECT_EQ(admissions[1].run, "demo/low-priority-scan");
  EXPECT_TRUE(std::holds_alternative<Queue>(admissions[1].decision)) << Describe(admissions[1].decision);
  EXPECT_EQ(admissions[1].position, 2);

  CapacityView grown = view;
  const GrowPlan& plan = std::get<Grow>(admissions[0].decision).plan;
  Instance* vm = grown.FindInstance("demo/small-vm");
  vm->sockets = plan.sockets_after;
  vm->memory_bytes = plan.memory_after;
  grown.ledger.AddHold({high_req.run, "demo/small-vm", high_req.need, 1000, At(1), false, false, ""});
  PlacementDecision low_after = Place(low_req, grown, policy);
  ASSERT_TRUE(std::holds_alternative<Queue>(low_after)) << Describe(low_after);
  EXPECT_NE(std::get<Queue>(low_after).message.find("maxGuest"), std::string::npos) << Describe(low_after);
}

}  // namespace
}  // namespace prescient::placement
