// The allocation ledger (HoldingLedger) against the walk over cached runs it replaces: the same
// holdings, priorities resolved at read time, resourceVersions for the assume cache, deletes.
#include "controller/caches.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "kube/client.h"

namespace prescient::controller {
namespace {

using nlohmann::json;

kube::ObjectPtr RunAt(const std::string& ns, const std::string& name, int rv, const std::string& phase,
                    const std::string& instance = "", const std::string& priority_class = "") {
  json j = {{"apiVersion", "prescient.dev/v1alpha1"},
            {"kind", "CommandRun"},
            {"metadata", {{"name", name}, {"namespace", ns}, {"uid", "uid-" + name}, {"resourceVersion", std::to_string(rv)}}},
            {"spec", {{"command", "echo hi"}, {"target", {{"vmName", "vm"}}}}}};
  if (!priority_class.empty()) j["spec"]["priorityClassName"] = priority_class;
  if (!phase.empty()) j["status"]["phase"] = phase;
  if (!instance.empty()) {
    j["status"]["allocation"] = {{"instanceID", instance}, {"cpuCores", "500m"}, {"memory", "1Gi"}};
  }
  return std::make_shared<const json>(j);
}

TEST(HoldingLedgerTest, TracksHoldingsByNamespaceAndResolvesPriorities) {
  HoldingLedger ledger;
  ledger.Observe(nullptr, RunAt("a", "r1", 5, ""));
  EXPECT_EQ(ledger.Holdings("a", {}).size(), 0u);
  EXPECT_EQ(ledger.ObservedRv("a/r1"), 5);

  auto held = RunAt("a", "r1", 7, "Allocated", "vm", "high");
  ledger.Observe(nullptr, held);
  ledger.Observe(nullptr, RunAt("b", "r2", 8, "Running", "vm"));
  auto a = ledger.Holdings("a", {{"high", 1000}});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].run_key, "a/r1");
  EXPECT_EQ(a[0].instance, "a/vm");
  EXPECT_EQ(a[0].cpu_milli, 500);
  EXPECT_EQ(a[0].memory_bytes, 1LL << 30);
  EXPECT_EQ(a[0].priority, 1000);
  EXPECT_EQ(ledger.Holdings("a", {})[0].priority, 0) << "an unknown PriorityClass counts as 0";
  EXPECT_EQ(ledger.ObservedRv("a/r1"), 7);
  EXPECT_EQ(ledger.Holdings("b", {}).size(), 1u);

  // Finished: no longer holds, still known (its resourceVersion answers the assume cache).
  ledger.Observe(held, RunAt("a", "r1", 9, "Succeeded", "vm", "high"));
  EXPECT_TRUE(ledger.Holdings("a", {}).empty());
  EXPECT_EQ(ledger.ObservedRv("a/r1"), 9);

  ledger.Observe(RunAt("a", "r1", 9, "Succeeded", "vm"), nullptr);
  EXPECT_EQ(ledger.ObservedRv("a/r1"), 0);
  EXPECT_EQ(ledger.size(), 1u);
}

TEST(HoldingLedgerTest, SnapshotHoldingsMatchTheWalkOverCachedRuns) {
  kube::Store runs, empty;
  runs.AddIndexer(kRunPhaseIndex, RunPhaseIndex());
  runs.AddIndexer(kube::kNamespaceIndex, kube::NamespaceIndex());
  for (kube::Store* s : {&empty}) s->AddIndexer(kube::kNamespaceIndex, kube::NamespaceIndex());
  empty.AddIndexer(kPodNodeIndex, PodNodeIndex());
  empty.AddIndexer(kLauncherIndex, LauncherIndex());
  HoldingLedger ledger;
  int rv = 1;
  for (const auto& [name, phase, inst] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"q", "Queued", ""}, {"g", "Allocating", "vm"}, {"a", "Allocated", "vm"}, {"r", "Running", "vm2"},
           {"s", "Succeeded", "vm"}, {"n", "", ""}}) {
    auto o = RunAt("ns", name, rv++, phase, inst);
    runs.Upsert(kube::ObjectKey(*o), o);
    ledger.Observe(nullptr, o);
  }
  auto other = RunAt("other", "x", rv++, "Allocated", "vm");
  runs.Upsert(kube::ObjectKey(*other), other);
  ledger.Observe(nullptr, other);

  Caches walk{&runs, &empty, &empty, &empty, &empty, &empty, &empty, &empty};
  Caches with_ledger = walk;
  with_ledger.ledger = &ledger;
  TypedRunCache typed;
  auto keys = [](const ClusterSnapshot& s) {
    std::vector<std::string> k;
    for (const auto& h : s.holdings) k.push_back(h.run_key + "@" + h.instance + ":" + api::RunPhaseName(h.phase));
    std::sort(k.begin(), k.end());
    return k;
  };
  auto a = BuildSnapshot(walk, "ns", &typed, "", api::Time{});
  auto b = BuildSnapshot(with_ledger, "ns", &typed, "", api::Time{});
  EXPECT_EQ(keys(a), keys(b));
  EXPECT_EQ(keys(b), (std::vector<std::string>{"ns/a@ns/vm:Allocated", "ns/g@ns/vm:Allocating", "ns/r@ns/vm2:Running"}));
}

TEST(PendingRunsTest, OnlyPredictedWaitingRunsOfTheNamespace) {
  kube::Store runs;
  runs.AddIndexer(kRunPhaseIndex, RunPhaseIndex());
  json queued = *RunAt("ns", "q", 1, "Queued");
  queued["status"]["prediction"] = {{"cpu", "100m"}, {"memory", "64Mi"}, {"source", "Default"}};
  json elsewhere = queued;
  elsewhere["metadata"]["namespace"] = "other";
  for (const json& o : {queued, elsewhere, *RunAt("ns", "new", 3, ""), *RunAt("ns", "a", 4, "Allocated", "vm")}) {
    runs.Upsert(kube::ObjectKey(o), std::make_shared<const json>(o));
  }
  Caches c;
  c.runs = &runs;
  TypedRunCache typed;
  auto p = PendingRuns(c, "ns", &typed);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0]->metadata.name, "q");
}

}  // namespace
}  // namespace prescient::controller
