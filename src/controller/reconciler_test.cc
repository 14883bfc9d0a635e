// The CommandRun reconciler against kube::FakeClient and bare stores (no informers): each test
// builds the cluster, reconciles, copies what the fake API holds back into the stores (what the
// informers would do) and checks status, side effects and Events.
#include "controller/commandrun_reconciler.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "api/codec.h"
#include "api/constants.h"
#include "controller/resources.h"
#include "controller/shadow.h"
#include "kube/fake_client.h"

namespace prescient::controller {
namespace {

using nlohmann::json;

json Vm(const std::string& name, int sockets, const std::string& guest, const std::string& ns = "default") {
  return {{"apiVersion", "kubevirt.io/v1"},
          {"kind", "VirtualMachine"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"template",
             {{"spec", {{"domain", {{"cpu", {{"sockets", sockets}, {"cores", 1}, {"threads", 1}}}, {"memory", {{"guest", guest}}}}}}}}}}}};
}

json Vmi(const std::string& name, int sockets, const std::string& guest, const std::string& ns = "default") {
  return {{"apiVersion", "kubevirt.io/v1"},
          {"kind", "VirtualMachineInstance"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"domain",
             {{"cpu", {{"sockets", sockets}, {"cores", 1}, {"threads", 1}, {"maxSockets", 8}}},
              {"memory", {{"guest", guest}, {"maxGuest", "16Gi"}}}}}}},
          {"status",
           {{"phase", "Running"},
            {"nodeName", "n1"},
            {"currentCPUTopology", {{"sockets", sockets}, {"cores", 1}, {"threads", 1}}},
            {"memory", {{"guestAtBoot", "2Gi"}, {"guestCurrent", guest}, {"guestRequested", guest}}}}}};
}

json NodeObj(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", name}, {"labels", {{"kubevirt.io/schedulable", "true"}}}}},
          {"status", {{"allocatable", {{"cpu", "16"}, {"memory", "64Gi"}}}, {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
}

json Quota(const std::string& mem_hard, const std::string& mem_used) {
  return {{"apiVersion", "v1"},
          {"kind", "ResourceQuota"},
          {"metadata", {{"name", "prescient"}, {"namespace", "default"}}},
          {"spec", {{"hard", {{"requests.memory", mem_hard}}}}},
          {"status", {{"hard", {{"requests.memory", mem_hard}}}, {"used", {{"requests.memory", mem_used}}}}}};
}

json RunObj(const std::string& name, const std::string& vm, const std::string& mem_min = "") {
  json j = {{"apiVersion", "prescient.dev/v1alpha1"},
            {"kind", "CommandRun"},
            {"metadata", {{"name", name}, {"namespace", "default"}}},
            {"spec", {{"command", "echo hi"}, {"target", {{"vmName", vm}}}}}};
  if (!mem_min.empty()) j["spec"]["resources"] = {{"min", {{"memory", mem_min}}}};
  return j;
}

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (kube::Store* s : {&runs_, &vmis_, &vms_, &quotas_, &pools_, &reservations_}) {
      s->AddIndexer(kube::kNamespaceIndex, kube::NamespaceIndex());
    }
    runs_.AddIndexer(kRunPhaseIndex, RunPhaseIndex());
    runs_.AddIndexer(kReservationRunIndex, ReservationRunIndex());
    pods_.AddIndexer(kPodNodeIndex, PodNodeIndex());
    pods_.AddIndexer(kLauncherIndex, LauncherIndex());
    dir_ = std::filesystem::temp_directory_path() / ("prescient-rec-" + std::to_string(::getpid()) + "-" +
                                                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto h = history::HistoryStore::Open(dir_.string());
    ASSERT_TRUE(h.ok());
    history_ = std::move(*h);
    CommandRunReconcilerDeps d;
    d.client = &client_;
    d.events = &events_;
    d.clock = &clock_;
    d.predictor = &predictor_;
    d.history = history_.get();
    d.policy.placement.guest_reserved = {0, 0};
    d.caches = {&runs_, &reservations_, &vmis_, &vms_, &pods_, &nodes_, &quotas_, &pools_, nullptr, nullptr};
    d.caches.ledger = &ledger_;  // as in production: holdings come from the ledger Sync() feeds
    d.caches.leases = &leases_;
    d.metrics = &metrics_;
    rec_ = std::make_unique<CommandRunReconciler>(d);
    ASSERT_TRUE(client_.Create(kube::resources::kNode, NodeObj("n1")).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Put(const kube::ResourceType& t, const json& obj) {
    auto r = client_.Create(t, obj);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (obj.contains("status")) {
      json o = *r;
      o["status"] = obj["status"];
      ASSERT_TRUE(client_.UpdateStatus(t, o).ok());
    }
  }
  // What the informers would do: mirror the fake API into the stores.
  void Sync() {
    std::pair<const kube::ResourceType*, kube::Store*> all[] = {
        {&api::kCommandRuns, &runs_}, {&resources::kVirtualMachineInstance, &vmis_}, {&resources::kVirtualMachine, &vms_},
        {&kube::resources::kPod, &pods_}, {&kube::resources::kNode, &nodes_}, {&resources::kResourceQuota, &quotas_},
        {&api::kResourceReservations, &reservations_}, {&kube::resources::kLease, &leases_}};
    for (auto [t, s] : all) {
      auto l = client_.List(*t, "", {});
      ASSERT_TRUE(l.ok());
      std::set<std::string> seen;
      for (auto& o : l->items) {
        std::string k = kube::ObjectKey(o);
        seen.insert(k);
        auto obj = std::make_shared<const json>(o);
        auto old = s->Upsert(k, obj);
        if (s == &runs_) ledger_.Observe(old, obj);
      }
      for (const auto& k : s->ListKeys()) {
        if (seen.count(k)) continue;
        auto old = s->Remove(k);
        if (s == &runs_) ledger_.Observe(old, nullptr);
      }
    }
  }
  // Reconciles until nothing changes (bounded), syncing between passes.
  void Settle(const std::string& key, int max = 8) {
    for (int i = 0; i < max; ++i) {
      Sync();
      int64_t before = client_.CurrentResourceVersion();
      auto r = rec_->Reconcile(key);
      Sync();
      if (r.ok() && client_.CurrentResourceVersion() == before) return;
    }
  }
  api::CommandRun Get(const std::string& name) {
    auto o = client_.Get(api::kCommandRuns, "default", name);
    EXPECT_TRUE(o.ok());
    api::FieldErrors e;
    return api::CommandRunFromJson(*o, &e);
  }

  FakeClock clock_;
  kube::FakeClient client_{&clock_};
  kube::Store runs_, reservations_, vmis_, vms_, pods_, nodes_, quotas_, pools_, leases_;
  HoldingLedger ledger_;
  kube::FakeEventRecorder events_;
  HistoryPredictor predictor_{ControllerPolicy{}};
  std::filesystem::path dir_;
  std::unique_ptr<history::HistoryStore> history_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  Metrics metrics_{registry_};
  std::unique_ptr<CommandRunReconciler> rec_;
};

TEST_F(ReconcilerTest, SmallRunIsPredictedAllocatedAndLabelled) {
  Put(resources::kVirtualMachine, Vm("vm1", 2, "2Gi"));
  Put(resources::kVirtualMachineInstance, Vmi("vm1", 2, "2Gi"));
  Put(api::kCommandRuns, RunObj("small", "vm1"));
  Settle("default/small");
  api::CommandRun r = Get("small");
  EXPECT_EQ(r.status.phase, api::RunPhase::kAllocated);
  ASSERT_TRUE(r.status.allocation.has_value());
  EXPECT_EQ(r.status.allocation->instance_id, "vm1");
  EXPECT_EQ(r.status.allocation->memory_bytes, 256LL << 20);  // the policy default: no history yet
  ASSERT_TRUE(r.status.prediction.has_value());
  EXPECT_EQ(r.status.prediction->source, "Default");
  EXPECT_EQ(r.metadata.labels[api::kInstanceLabel], "vm1");
  EXPECT_TRUE(r.metadata.HasFinalizer(api::kAllocationFinalizer));
  EXPECT_TRUE(api::IsConditionTrue(r.status.conditions, api::kConditionValid));
  EXPECT_TRUE(api::IsConditionTrue(r.status.conditions, api::kConditionAllocated));
  EXPECT_TRUE(events_.Has("default/small", "Allocated"));
  // Level-based and idempotent: another pass writes nothing.
  int64_t rv = client_.CurrentResourceVersion();
  ASSERT_TRUE(rec_->Reconcile("default/small").ok());
  EXPECT_EQ(client_.CurrentResourceVersion(), rv);
}

TEST_F(ReconcilerTest, InvalidRunsFailOnceWithAConditionAndAnEvent) {
  Put(resources::kVirtualMachine, Vm("db", 2, "2Gi", "other"));
  struct Case {
    std::string name;
    json run;
    std::string want_in_message;
  };
  std::vector<Case> cases = {
      {"elsewhere", RunObj("elsewhere", "db"), "namespace \"other\""},
      {"missing", RunObj("missing", "nope"), "VirtualMachine \"nope\" not found"},
  };
  json res = RunObj("needsres", "vm-ok");
  Put(resources::kVirtualMachine, Vm("vm-ok", 2, "2Gi"));
  res["spec"]["reservationName"] = "nightly";
  cases.push_back({"needsres", res, "ResourceReservation \"nightly\" not found"});
  for (auto& c : cases) {
    Put(api::kCommandRuns, c.run);
    Settle("default/" + c.name);
    api::CommandRun r = Get(c.name);
    EXPECT_EQ(r.status.phase, api::RunPhase::kFailed) << c.name;
    ASSERT_TRUE(r.status.result.has_value()) << c.name;
    EXPECT_EQ(r.status.result->reason, "Invalid");
    const api::Condition* v = api::FindCondition(r.status.conditions, api::kConditionValid);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->status, api::ConditionStatus::kFalse);
    EXPECT_NE(v->message.find(c.want_in_message), std::string::npos) << v->message;
    EXPECT_TRUE(events_.Has("default/" + c.name, api::kReasonInvalidSpec));
    // No retry storm: reconciling again returns success and writes nothing.
    int64_t rv = client_.CurrentResourceVersion();
    auto again = rec_->Reconcile("default/" + c.name);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->requeue_after.count(), 0);
    EXPECT_EQ(client_.CurrentResourceVersion(), rv) << c.name;
  }
}

TEST_F(ReconcilerTest, MemoryHeavyRunRaisesQuotaThenHotplugsThenBinds) {
  Put(resources::kVirtualMachine, Vm("vm1", 2, "2Gi"));
  Put(resources::kVirtualMachineInstance, Vmi("vm1", 2, "2Gi"));
  Put(resources::kResourceQuota, Quota("4Gi", "2400Mi"));
  json launcher = {{"apiVersion", "v1"},
                   {"kind", "Pod"},
                   {"metadata", {{"name", "virt-launcher-vm1"}, {"namespace", "default"},
                                 {"labels", {{"kubevirt.io", "virt-launcher"}, {"vm.kubevirt.io/name", "vm1"}}}}},
                   {"spec", {{"nodeName", "n1"}, {"containers", json::array({{{"name", "compute"}, {"resources", {{"requests", {{"cpu", "200m"}, {"memory", "2400Mi"}}}}}}})}}},
                   {"status", {{"phase", "Running"}}}};
  Put(kube::resources::kPod, launcher);
  Put(api::kCommandRuns, RunObj("heavy", "vm1", "3Gi"));
  Settle("default/heavy");
  api::CommandRun r = Get("heavy");
  ASSERT_EQ(r.status.phase, api::RunPhase::kAllocating);
  EXPECT_EQ(r.status.allocation->memory_bytes, 3LL << 30);
  // Quota raised for both launcher pods (old 2400Mi + new 2400Mi + 1Gi + 2Mi more page tables:
  // KubeVirt's overhead formula, src/placement/resources.h), baseline remembered.
  auto q = client_.Get(resources::kResourceQuota, "default", "prescient");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)["spec"]["hard"]["requests.memory"], "5826Mi");
  EXPECT_EQ((*q)["metadata"]["annotations"][kQuotaBaselineAnnotation], "memory=4Gi");
  auto vm = client_.Get(resources::kVirtualMachine, "default", "vm1");
  EXPECT_EQ((*vm)["spec"]["template"]["spec"]["domain"]["memory"]["guest"], "3Gi");
  EXPECT_TRUE(r.metadata.labels.find(api::kInstanceLabel) == r.metadata.labels.end());  // not bound yet
  // While KubeVirt works, the run waits without writing.
  int64_t rv = client_.CurrentResourceVersion();
  ASSERT_TRUE(rec_->Reconcile("default/heavy").ok());
  EXPECT_EQ(client_.CurrentResourceVersion(), rv);
  // KubeVirt finishes: the VMI reports the new size, the migration's pod is gone.
  auto vmi = client_.Get(resources::kVirtualMachineInstance, "default", "vm1");
  json o = *vmi;
  o["status"]["memory"] = {{"guestAtBoot", "2Gi"}, {"guestCurrent", "3Gi"}, {"guestRequested", "3Gi"}};
  ASSERT_TRUE(client_.UpdateStatus(resources::kVirtualMachineInstance, o).ok());
  auto qo = client_.Get(resources::kResourceQuota, "default", "prescient");
  json qq = *qo;
  qq["status"]["used"]["requests.memory"] = "3424Mi";
  ASSERT_TRUE(client_.UpdateStatus(resources::kResourceQuota, qq).ok());
  Settle("default/heavy");
  r = Get("heavy");
  EXPECT_EQ(r.status.phase, api::RunPhase::kAllocated);
  EXPECT_EQ(r.metadata.labels[api::kInstanceLabel], "vm1");
  EXPECT_TRUE(events_.Has("default/heavy", "Hotplug"));
  // The headroom for the second pod is given back: max(baseline 4Gi, used 3424Mi).
  q = client_.Get(resources::kResourceQuota, "default", "prescient");
  EXPECT_EQ((*q)["spec"]["hard"]["requests.memory"], "4Gi");
}

TEST_F(ReconcilerTest, FinishedRunIsRecordedOnceAndReleased) {
  Put(resources::kVirtualMachine, Vm("vm1", 2, "2Gi"));
  Put(resources::kVirtualMachineInstance, Vmi("vm1", 2, "2Gi"));
  Put(api::kCommandRuns, RunObj("done", "vm1"));
  Settle("default/done");
  // The agent claims, runs, reports and finishes.
  auto o = client_.Get(api::kCommandRuns, "default", "done");
  json j = *o;
  j["status"]["phase"] = "Succeeded";
  j["status"]["usage"] = {{"peaks", {{"cpuCores", 0.4}, {"memoryBytes", 100 * (1 << 20)}}}, {"totals", {{"cpuSeconds", 1.0}, {"wallSeconds", 2.5}}}};
  j["status"]["result"] = {{"exitCode", 0}, {"reason", "Completed"}, {"startedAt", "2026-01-01T00:00:00Z"},
                           {"finishedAt", "2026-01-01T00:00:02Z"}};
  auto w = client_.UpdateStatus(api::kCommandRuns, j);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  Settle("default/done");
  api::CommandRun r = Get("done");
  EXPECT_FALSE(r.metadata.HasFinalizer(api::kAllocationFinalizer));
  EXPECT_EQ(history_->size(), 1u);
  EXPECT_TRUE(history_->Contains(r.metadata.uid));
  // The next run of the same command is predicted from history.
  Put(api::kCommandRuns, RunObj("again", "vm1"));
  Settle("default/again");
  api::CommandRun again = Get("again");
  ASSERT_TRUE(again.status.prediction.has_value());
  EXPECT_EQ(again.status.prediction->source, "History");
  EXPECT_EQ(again.status.prediction->memory_bytes, static_cast<int64_t>(100.0 * (1 << 20) * 1.2));
}

TEST_F(ReconcilerTest, ApiFaultsAreRetriedWithoutLosingOrDoublingTheAllocation) {
  Put(resources::kVirtualMachine, Vm("vm1", 1, "1Gi"));
  Put(resources::kVirtualMachineInstance, Vmi("vm1", 1, "1Gi"));
  Put(api::kCommandRuns, RunObj("a", "vm1"));
  Put(api::kCommandRuns, RunObj("b", "vm1"));
  client_.FailNext("updatestatus", Status(Code::kServerError, "injected"), 1);
  Sync();
  auto r = rec_->Reconcile("default/a");
  EXPECT_FALSE(r.ok());  // an error: the work queue retries with backoff
  Settle("default/a");
  Settle("default/b");
  api::CommandRun a = Get("a"), b = Get("b");
  EXPECT_EQ(a.status.phase, api::RunPhase::kAllocated);
  EXPECT_EQ(b.status.phase, api::RunPhase::kAllocated);
  // 1 vCPU VM, 500m default each: exactly full, never over.
  EXPECT_EQ(a.status.allocation->cpu_milli + b.status.allocation->cpu_milli, 1000);
}

// prescient_allocation_latency_seconds' count.
uint64_t AllocationLatencyCount(prometheus::Registry& r) {
  for (const auto& f : r.Collect()) {
    if (f.name == "prescient_allocation_latency_seconds" && !f.metric.empty()) return f.metric[0].histogram.sample_count;
  }
  return 0;
}

TEST_F(ReconcilerTest, AllocationLatencyIsObservedOnceEvenWhenTheLabelWriteFails) {
  Put(resources::kVirtualMachine, Vm("vm1", 2, "2Gi"));
  Put(resources::kVirtualMachineInstance, Vmi("vm1", 2, "2Gi"));
  Put(api::kCommandRuns, RunObj("small", "vm1"));
  // The label write that follows the Allocated status write fails once.
  int failed = 0;
  client_.SetHook([&](const std::string& verb, const kube::ResourceType& type, const std::string&, const std::string& name) {
    if (verb != "update" || type.resource != "commandruns" || name != "small" || failed > 0) return Status::Ok();
    auto o = client_.Get(api::kCommandRuns, "default", "small");
    if (!o.ok() || !o->contains("status") || (*o)["status"].value("phase", "") != "Allocated") return Status::Ok();
    ++failed;
    return Status(Code::kServerError, "injected");
  });
  Settle("default/small");
  ASSERT_EQ(failed, 1);
  api::CommandRun r = Get("small");
  EXPECT_EQ(r.status.phase, api::RunPhase::kAllocated);
  EXPECT_EQ(r.metadata.labels[api::kInstanceLabel], "vm1");
  EXPECT_EQ(AllocationLatencyCount(*registry_), 1u) << "observed exactly once, not lost with the failed pass";
  client_.SetHook(nullptr);  // it refers to this function's locals
  Settle("default/small");
  EXPECT_EQ(AllocationLatencyCount(*registry_), 1u);
}

// The agent's heartbeat Lease, renewed `age` ago.
json AgentLease(const std::string& instance, Clock::TimePoint renewed) {
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", {{"name", "prescient-agent-" + instance}, {"namespace", "default"}}},
          {"spec", {{"holderIdentity", instance}, {"leaseDurationSeconds", 30}, {"renewTime", FormatRfc3339Micro(renewed)}}}};
}

TEST_F(ReconcilerTest, LostAgentRequeuesUnstartedRunsAndFailsStartedOnes) {
  Put(resources::kVirtualMachine, Vm("vm1", 2, "2Gi"));
  Put(resources::kVirtualMachineInstance, Vmi("vm1", 2, "2Gi"));
  Put(kube::resources::kLease, AgentLease("vm1", clock_.Now()));
  Put(api::kCommandRuns, RunObj("waiting", "vm1"));
  Put(api::kCommandRuns, RunObj("started", "vm1"));
  Settle("default/waiting");
  Settle("default/started");
  ASSERT_EQ(Get("waiting").status.phase, api::RunPhase::kAllocated);
  // A live agent: the run is looked at again once the Lease could have gone stale, not before.
  Sync();
  auto r = rec_->Reconcile("default/waiting");
  ASSERT_TRUE(r.ok());
  EXPECT_GE(r->requeue_after.count(), 60000);
  EXPECT_LE(r->requeue_after.count(), 61000);
  // The agent claims "started", then stops renewing its Lease.
  json claimed = *client_.Get(api::kCommandRuns, "default", "started");
  claimed["status"]["phase"] = "Running";
  claimed["status"]["agent"] = {{"instance", "vm1"}, {"claimedAt", FormatRfc3339(clock_.Now())}};
  ASSERT_TRUE(client_.UpdateStatus(api::kCommandRuns, claimed).ok());
  clock_.Advance(std::chrono::seconds(61));
  Settle("default/waiting");
  Settle("default/started");

  api::CommandRun w = Get("waiting");
  EXPECT_EQ(w.status.phase, api::RunPhase::kQueued);
  EXPECT_FALSE(w.status.allocation.has_value());
  EXPECT_FALSE(w.metadata.labels.count(api::kInstanceLabel)) << "the agent must not see it any more";
  ASSERT_TRUE(w.status.queue.has_value());
  EXPECT_EQ(w.status.queue->reason, kReasonAgentLost) << w.status.queue->message;
  EXPECT_TRUE(api::IsConditionTrue(w.status.conditions, kConditionAgentLost));
  EXPECT_TRUE(events_.Has("default/waiting", kReasonAgentLost));

  api::CommandRun s = Get("started");
  EXPECT_EQ(s.status.phase, api::RunPhase::kFailed);
  ASSERT_TRUE(s.status.result.has_value());
  EXPECT_EQ(s.status.result->reason, "Lost");
  EXPECT_TRUE(api::IsConditionTrue(s.status.conditions, kConditionAgentLost));
  EXPECT_TRUE(events_.Has("default/started", kReasonAgentLost));
  EXPECT_FALSE(s.metadata.HasFinalizer(api::kAllocationFinalizer)) << "completed: allocation released";

  // No retry storm: with the agent still gone, another pass writes nothing.
  int64_t rv = client_.CurrentResourceVersion();
  ASSERT_TRUE(rec_->Reconcile("default/waiting").ok());
  EXPECT_EQ(client_.CurrentResourceVersion(), rv);

  // The agent comes back: the queued run is placed again.
  json lease = *client_.Get(kube::resources::kLease, "default", "prescient-agent-vm1");
  lease["spec"]["renewTime"] = FormatRfc3339Micro(clock_.Now());
  ASSERT_TRUE(client_.Update(kube::resources::kLease, lease).ok());
  Settle("default/waiting");
  w = Get("waiting");
  EXPECT_EQ(w.status.phase, api::RunPhase::kAllocated);
  EXPECT_EQ(w.metadata.labels[api::kInstanceLabel], "vm1");
}

TEST_F(ReconcilerTest, HotplugThatNeverFinishesIsRolledBackAndTheRunQueuedWithoutAStorm) {
  Put(resources::kVirtualMachine, Vm("vm1", 2, "2Gi"));
  Put(resources::kVirtualMachineInstance, Vmi("vm1", 2, "2Gi"));
  Put(resources::kResourceQuota, Quota("4Gi", "2400Mi"));
  Put(api::kCommandRuns, RunObj("heavy", "vm1", "3Gi"));
  Settle("default/heavy");
  ASSERT_EQ(Get("heavy").status.phase, api::RunPhase::kAllocating);
  auto q = client_.Get(resources::kResourceQuota, "default", "prescient");
  ASSERT_NE((*q)["spec"]["hard"]["requests.memory"], "4Gi") << "raised for the migration pod";
  // KubeVirt never reports it done: the wait is rechecked when the timeout (300 s) would pass.
  Sync();
  auto w = rec_->Reconcile("default/heavy");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->requeue_after, std::chrono::milliseconds(301000));
  clock_.Advance(std::chrono::seconds(301));
  Settle("default/heavy");

  api::CommandRun r = Get("heavy");
  EXPECT_EQ(r.status.phase, api::RunPhase::kQueued);
  EXPECT_FALSE(r.status.allocation.has_value());
  ASSERT_TRUE(r.status.queue.has_value());
  EXPECT_EQ(r.status.queue->reason, kReasonHotplugBackoff) << "queued; placement does not grow it again yet";
  EXPECT_TRUE(api::IsConditionTrue(r.status.conditions, kConditionHotplugFailed));
  EXPECT_TRUE(events_.Has("default/heavy", kReasonHotplugTimedOut));
  auto vm = client_.Get(resources::kVirtualMachine, "default", "vm1");
  EXPECT_EQ((*vm)["spec"]["template"]["spec"]["domain"]["memory"]["guest"], "2Gi") << "the VM's size is put back";
  q = client_.Get(resources::kResourceQuota, "default", "prescient");
  EXPECT_EQ((*q)["spec"]["hard"]["requests.memory"], "4Gi") << "the quota raise is rolled back";

  // Not a retry storm: until the back-off ends, passes write nothing and ask to come back then.
  int64_t rv = client_.CurrentResourceVersion();
  auto again = rec_->Reconcile("default/heavy");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(client_.CurrentResourceVersion(), rv);
  EXPECT_GT(again->requeue_after.count(), 290000);
  EXPECT_LE(again->requeue_after.count(), 300001);
  // After it, the run may grow an instance again.
  clock_.Advance(std::chrono::seconds(301));
  Settle("default/heavy");
  EXPECT_EQ(Get("heavy").status.phase, api::RunPhase::kAllocating);
}

TEST_F(ReconcilerTest, GrowthNotObservedYetIsInProgressUntilTheStartDeadline) {
  Put(resources::kVirtualMachine, Vm("vm1", 2, "2Gi"));
  Put(resources::kVirtualMachineInstance, Vmi("vm1", 2, "2Gi"));
  Put(api::kCommandRuns, RunObj("heavy", "vm1", "3Gi"));
  // Place it, up to the pass that writes Allocating and patches the VM...
  for (int i = 0; i < 4 && Get("heavy").status.phase != api::RunPhase::kAllocating; ++i) {
    Sync();
    ASSERT_TRUE(rec_->Reconcile("default/heavy").ok());
  }
  ASSERT_EQ(Get("heavy").status.phase, api::RunPhase::kAllocating);
  // ...then the run's own event arrives before the VM's: the VM cache still shows the old size.
  json run = *client_.Get(api::kCommandRuns, "default", "heavy");
  auto obj = std::make_shared<const json>(run);
  ledger_.Observe(runs_.Upsert("default/heavy", obj), obj);
  auto r = rec_->Reconcile("default/heavy");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->requeue_after, std::chrono::milliseconds(30001)) << "looked at again at the start deadline";
  api::CommandRun h = Get("heavy");
  EXPECT_EQ(h.status.phase, api::RunPhase::kAllocating) << "not observed yet is not a failure";
  EXPECT_TRUE(h.status.allocation.has_value());
  EXPECT_FALSE(events_.Has("default/heavy", "HotplugNotApplied"));
  // The patch is undone by someone and never shows on the VMI: past the deadline it never started.
  json vm = *client_.Get(resources::kVirtualMachine, "default", "vm1");
  vm["spec"]["template"]["spec"]["domain"]["memory"]["guest"] = "2Gi";
  ASSERT_TRUE(client_.Update(resources::kVirtualMachine, vm).ok());
  clock_.Advance(std::chrono::seconds(31));
  Sync();
  ASSERT_TRUE(rec_->Reconcile("default/heavy").ok());
  h = Get("heavy");
  EXPECT_EQ(h.status.phase, api::RunPhase::kQueued);
  EXPECT_EQ(h.status.queue->reason, "HotplugNotApplied");
  EXPECT_TRUE(events_.Has("default/heavy", "HotplugNotApplied"));
}

TEST_F(ReconcilerTest, RestartRequiredGivesTheGrowthUpAtOnce) {
  Put(resources::kVirtualMachine, Vm("vm1", 2, "2Gi"));
  Put(resources::kVirtualMachineInstance, Vmi("vm1", 2, "2Gi"));
  Put(api::kCommandRuns, RunObj("heavy", "vm1", "3Gi"));
  Settle("default/heavy");
  ASSERT_EQ(Get("heavy").status.phase, api::RunPhase::kAllocating);
  // A VM whose rollout strategy cannot hotplug: KubeVirt says the change needs a restart.
  json vm = *client_.Get(resources::kVirtualMachine, "default", "vm1");
  vm["status"]["conditions"] = json::array({{{"type", "RestartRequired"}, {"status", "True"}, {"reason", "RestartRequired"}}});
  ASSERT_TRUE(client_.UpdateStatus(resources::kVirtualMachine, vm).ok());
  Settle("default/heavy");
  api::CommandRun r = Get("heavy");
  EXPECT_EQ(r.status.phase, api::RunPhase::kQueued);
  EXPECT_TRUE(events_.Has("default/heavy", kReasonRestartRequired));
  auto c = std::find_if(r.status.conditions.begin(), r.status.conditions.end(),
                        [](const api::Condition& x) { return x.type == kConditionHotplugFailed; });
  ASSERT_NE(c, r.status.conditions.end());
  EXPECT_EQ(c->reason, kReasonRestartRequired);
  auto v = client_.Get(resources::kVirtualMachine, "default", "vm1");
  EXPECT_EQ((*v)["spec"]["template"]["spec"]["domain"]["memory"]["guest"], "2Gi");
}

TEST_F(ReconcilerTest, QuotaKeyLowersARaiseOnceUsedSettledAndNotDuringAGrowth) {
  Put(resources::kVirtualMachine, Vm("vm1", 2, "2Gi"));
  Put(resources::kVirtualMachineInstance, Vmi("vm1", 2, "2Gi"));
  json q = Quota("6Gi", "5Gi");  // raised for a migration; its second pod still counted in `used`
  q["metadata"]["annotations"][kQuotaBaselineAnnotation] = "memory=4Gi";
  Put(resources::kResourceQuota, q);
  Sync();
  const std::string key = std::string(kQuotaKeyPrefix) + "default";
  ASSERT_TRUE(rec_->Reconcile(key).ok());
  auto got = client_.Get(resources::kResourceQuota, "default", "prescient");
  EXPECT_EQ((*got)["spec"]["hard"]["requests.memory"], "5Gi") << "not below what is used";
  // `used` settles after the migration: the next quota event's key lowers it to the baseline.
  json settled = *got;
  settled["status"]["used"]["requests.memory"] = "2400Mi";
  ASSERT_TRUE(client_.UpdateStatus(resources::kResourceQuota, settled).ok());
  Sync();
  ASSERT_TRUE(rec_->Reconcile(key).ok());
  EXPECT_EQ((*client_.Get(resources::kResourceQuota, "default", "prescient"))["spec"]["hard"]["requests.memory"], "4Gi");
  // While an instance grows, the headroom stays.
  json raised = *client_.Get(resources::kResourceQuota, "default", "prescient");
  raised["spec"]["hard"]["requests.memory"] = "6Gi";
  ASSERT_TRUE(client_.Update(resources::kResourceQuota, raised).ok());
  json vm = *client_.Get(resources::kVirtualMachine, "default", "vm1");
  vm["spec"]["template"]["spec"]["domain"]["memory"]["guest"] = "3Gi";
  ASSERT_TRUE(client_.Update(resources::kVirtualMachine, vm).ok());
  Sync();
  ASSERT_TRUE(rec_->Reconcile(key).ok());
  EXPECT_EQ((*client_.Get(resources::kResourceQuota, "default", "prescient"))["spec"]["hard"]["requests.memory"], "6Gi");
}

// Shadow runs (shadow.h): the run is labelled for the VM's agent and waits in Shadowing; the agent's
// result refines the prediction, the label comes off, and the run is placed with the refined size.
TEST_F(ReconcilerTest, ShadowResultRefinesThePredictionThenTheRunIsPlaced) {
  Put(resources::kVirtualMachine, Vm("vm1", 2, "2Gi"));
  Put(resources::kVirtualMachineInstance, Vmi("vm1", 2, "2Gi"));
  json run = RunObj("sh", "vm1");
  run["spec"]["shadow"] = {{"enabled", true}, {"durationSeconds", 5}};
  Put(api::kCommandRuns, run);
  Settle("default/sh");
  api::CommandRun r = Get("sh");
  ASSERT_EQ(r.status.phase, api::RunPhase::kShadowing);
  EXPECT_EQ(r.metadata.labels[api::kInstanceLabel], "vm1");
  ASSERT_TRUE(r.status.shadow.has_value());
  EXPECT_TRUE(r.status.shadow->requested);
  EXPECT_FALSE(r.status.allocation.has_value());  // a shadow holds no capacity
  const api::Condition* c = api::FindCondition(r.status.conditions, kConditionShadowed);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->reason, "ShadowRunning");
  // Waiting writes nothing and asks to be woken at the deadline (5 s + 30 s grace).
  int64_t rv = client_.CurrentResourceVersion();
  auto wait = rec_->Reconcile("default/sh");
  ASSERT_TRUE(wait.ok());
  EXPECT_EQ(client_.CurrentResourceVersion(), rv);
  EXPECT_GT(wait->requeue_after.count(), 30000);
  EXPECT_LE(wait->requeue_after.count(), 35001);

  // The agent reports: 400 MiB peak, more than the 256Mi default prediction.
  auto o = client_.Get(api::kCommandRuns, "default", "sh");
  json j = *o;
  j["status"]["shadow"]["requested"] = false;
  j["status"]["shadow"]["result"] = {{"durationSeconds", 5},
                                     {"usage", {{"peaks", {{"cpuCores", 0.3}, {"memoryBytes", 400 << 20}}}}},
                                     {"exited", false}};
  ASSERT_TRUE(client_.UpdateStatus(api::kCommandRuns, j).ok());
  Settle("default/sh");
  r = Get("sh");
  EXPECT_EQ(r.status.phase, api::RunPhase::kAllocated);
  ASSERT_TRUE(r.status.prediction.has_value());
  EXPECT_EQ(r.status.prediction->source, kSourceShadow);
  EXPECT_EQ(r.status.prediction->memory_bytes, 480LL << 20);  // 400 MiB x 1.2
  ASSERT_TRUE(r.status.allocation.has_value());
  EXPECT_EQ(r.status.allocation->memory_bytes, 480LL << 20);
  EXPECT_TRUE(api::IsConditionTrue(r.status.conditions, kConditionShadowed));
  EXPECT_EQ(r.metadata.labels[api::kInstanceLabel], "vm1");  // labelled again, now for the run itself
  EXPECT_TRUE(events_.Has("default/sh", "ShadowRefined"));
}

TEST_F(ReconcilerTest, ShadowWithoutAResultTimesOutAndPlacesUnrefined) {
  Put(resources::kVirtualMachine, Vm("vm1", 2, "2Gi"));
  Put(resources::kVirtualMachineInstance, Vmi("vm1", 2, "2Gi"));
  json run = RunObj("quiet", "vm1");
  run["spec"]["shadow"] = {{"enabled", true}, {"durationSeconds", 5}};
  Put(api::kCommandRuns, run);
  Settle("default/quiet");
  ASSERT_EQ(Get("quiet").status.phase, api::RunPhase::kShadowing);
  clock_.Advance(std::chrono::seconds(36));  // past 5 s + 30 s grace: no agent answered
  Settle("default/quiet");
  api::CommandRun r = Get("quiet");
  EXPECT_EQ(r.status.phase, api::RunPhase::kAllocated);
  EXPECT_EQ(r.status.prediction->source, "Default");
  EXPECT_EQ(r.status.allocation->memory_bytes, 256LL << 20);
  const api::Condition* c = api::FindCondition(r.status.conditions, kConditionShadowed);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, api::ConditionStatus::kFalse);
  EXPECT_EQ(c->reason, "ShadowTimedOut");
  EXPECT_NE(c->message.find("unrefined"), std::string::npos) << c->message;
  EXPECT_FALSE(r.status.shadow->requested);
  // Never shadowed twice.
  int64_t rv = client_.CurrentResourceVersion();
  ASSERT_TRUE(rec_->Reconcile("default/quiet").ok());
  EXPECT_EQ(client_.CurrentResourceVersion(), rv);
}

// ---- preemption under conflicting writes ----------------------------------------------------------

// A run of `cpu` on VM `vm` at `priority` (min = max, so the prediction is exactly that).
json PriorityRun(const std::string& name, const std::string& vm, const std::string& cpu, int priority) {
  json j = RunObj(name, vm);
  j["spec"]["priority"] = priority;
  j["spec"]["resources"] = {{"min", {{"cpu", cpu}, {"memory", "256Mi"}}}, {"max", {{"cpu", cpu}, {"memory", "256Mi"}}}};
  return j;
}

class PreemptionConflictTest : public ReconcilerTest {
 protected:
  // `fixed` (1 vCPU, cannot grow) holds one of the two runs; `low` is bound to it.
  void SetUp() override {
    ReconcilerTest::SetUp();
    json vmi = Vmi("fixed", 1, "1Gi");
    vmi["spec"]["domain"]["cpu"]["maxSockets"] = 1;
    vmi["spec"]["domain"]["memory"]["maxGuest"] = "1Gi";
    Put(resources::kVirtualMachine, Vm("fixed", 1, "1Gi"));
    Put(resources::kVirtualMachineInstance, vmi);
    Put(api::kCommandRuns, PriorityRun("low", "fixed", "600m", 10));
    Settle("default/low");
    ASSERT_EQ(Get("low").status.phase, api::RunPhase::kAllocated);
    Put(api::kCommandRuns, PriorityRun("high", "fixed", "600m", 1000));
    Sync();
  }
  // Another writer of `low` (its agent's heartbeat annotation, its own reconcile) lands between
  // the operator's read and its write, `races` times: each makes the write 409.
  void RaceWritesToLow(int races) {
    races_ = races;
    client_.SetHook([this](const std::string& verb, const kube::ResourceType& type, const std::string&,
                           const std::string& name) {
      if (verb != "updatestatus" || type.resource != "commandruns" || name != "low") return Status::Ok();
      ++low_status_writes_;
      if (races_ == 0) return Status::Ok();
      --races_;
      json o = *client_.Get(api::kCommandRuns, "default", "low");
      o["metadata"]["annotations"]["example.com/touched"] = std::to_string(low_status_writes_);
      EXPECT_TRUE(client_.Update(api::kCommandRuns, o).ok());
      return Status::Ok();
    });
  }
  int races_ = 0;
  int low_status_writes_ = 0;
};

TEST_F(PreemptionConflictTest, StaleVictimIsReadAgainAndTheDecisionReappliedUntilItConverges) {
  // Two racing writes: the first two status writes are 409, the third (on a fresh read) lands.
  RaceWritesToLow(2);
  auto r = rec_->Reconcile("default/high");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(low_status_writes_, 3);
  api::CommandRun low = Get("low");
  EXPECT_EQ(low.status.phase, api::RunPhase::kQueued);
  EXPECT_FALSE(low.status.allocation.has_value());
  ASSERT_TRUE(low.status.queue.has_value());
  EXPECT_EQ(low.status.queue->reason, "Preempted");
  EXPECT_EQ(low.status.queue->preempted_by, "high");
  EXPECT_FALSE(low.metadata.labels.count(api::kInstanceLabel)) << "the agent must not see it any more";
  EXPECT_EQ(low.metadata.annotations["example.com/touched"], "2") << "the other writer's change is kept";
  EXPECT_TRUE(events_.Has("default/low", "Preempted"));
  client_.SetHook(nullptr);
  Settle("default/high");
  Settle("default/low");
  EXPECT_EQ(Get("high").status.phase, api::RunPhase::kAllocated);
  EXPECT_EQ(Get("high").metadata.labels[api::kInstanceLabel], "fixed");
  EXPECT_EQ(Get("low").status.phase, api::RunPhase::kQueued);
  EXPECT_FALSE(Get("low").metadata.labels.count(api::kInstanceLabel));
}

TEST_F(PreemptionConflictTest, EndlessConflictsAreRetriedABoundedNumberOfTimesThenLeftToTheWorkQueue) {
  RaceWritesToLow(1000);
  auto r = rec_->Reconcile("default/high");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kConflict) << r.status().ToString();
  EXPECT_EQ(low_status_writes_, 3);
  api::CommandRun low = Get("low");
  EXPECT_EQ(low.status.phase, api::RunPhase::kAllocated) << "nothing half-done: it keeps its room";
  EXPECT_EQ(low.metadata.labels[api::kInstanceLabel], "fixed");
  // The other writer stops: the work queue's retry converges.
  races_ = 0;
  Sync();
  ASSERT_TRUE(rec_->Reconcile("default/high").ok());
  EXPECT_EQ(Get("low").status.phase, api::RunPhase::kQueued);
}

TEST_F(PreemptionConflictTest, AClaimSeenOnTheFreshReadStopsThePreemption) {
  // The agent claims `low` while the operator's copy is stale: the fresh read shows the claim.
  client_.SetHook([this](const std::string& verb, const kube::ResourceType& type, const std::string&,
                         const std::string& name) {
    if (verb != "updatestatus" || type.resource != "commandruns" || name != "low" || races_++ > 0) return Status::Ok();
    json o = *client_.Get(api::kCommandRuns, "default", "low");
    o["status"]["phase"] = "Running";
    o["status"]["agent"] = {{"instance", "fixed"}, {"claimedAt", FormatRfc3339(clock_.Now())}};
    EXPECT_TRUE(client_.UpdateStatus(api::kCommandRuns, o).ok());
    return Status::Ok();
  });
  auto r = rec_->Reconcile("default/high");
  EXPECT_FALSE(r.ok());
  api::CommandRun low = Get("low");
  EXPECT_EQ(low.status.phase, api::RunPhase::kRunning) << "a started run is never taken back";
  ASSERT_TRUE(low.status.allocation.has_value());
  EXPECT_EQ(low.metadata.labels[api::kInstanceLabel], "fixed");
}

}  // namespace
}  // namespace prescient::controller
