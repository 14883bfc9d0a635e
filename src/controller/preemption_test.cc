// Preemption of running runs as the operator applies it: what happens to each victim, the statuses
// around a stop request and the re-queue, and that the adapter hands src/placement the facts it
// decides on (spec.allowPreemptionWhileRunning, PriorityClass preemptionPolicy: Never).
#include "controller/preemption.h"

#include <gtest/gtest.h>

#include "api/codec.h"
#include "api/constants.h"
#include "api/validation.h"
#include "controller/caches.h"
#include "controller/plan.h"
#include "controller/policy.h"

namespace prescient::controller {
namespace {

using nlohmann::json;
constexpr int64_t Mi = 1LL << 20;
constexpr int64_t Gi = 1LL << 30;

// MakeRun("low").Phase(kRunning).Claimed().AllowWhileRunning().Obj()
struct MakeRun {
  api::CommandRun r;
  explicit MakeRun(std::string name) {
    r.metadata.ns = "default";
    r.metadata.name = std::move(name);
    r.metadata.uid = "uid-" + r.metadata.name;
    r.metadata.generation = 1;
    r.spec.command = "sleep 60";
    r.spec.target.vm_name = "vm1";
  }
  MakeRun& Phase(api::RunPhase p) {
    r.status.phase = p;
    if (api::HoldsAllocation(p) || p == api::RunPhase::kAllocating || p == api::RunPhase::kPreempted) {
      r.status.allocation.emplace();
      r.status.allocation->instance_id = "vm1";
      r.status.allocation->cpu_milli = 1500;
      r.status.allocation->memory_bytes = 1536 * Mi;
    }
    return *this;
  }
  MakeRun& Claimed() { r.status.agent = api::AgentClaim{"vm1", api::Time{}, "g", "b", 7, "cg", std::nullopt}; return *this; }
  MakeRun& AllowWhileRunning() { r.spec.allow_preemption_while_running = true; return *this; }
  MakeRun& StopRequested(std::string by) { r.status.stop_request = api::StopRequest{"Preempted", std::move(by), api::Time{}, 30}; return *this; }
  api::CommandRun Obj() const { return r; }
};

TEST(DecideVictimTest, Table) {
  struct Case {
    const char* name;
    api::CommandRun victim;
    VictimAction want;
  };
  const Case cases[] = {
      {"allocated, not started: taken back", MakeRun("v").Phase(api::RunPhase::kAllocated).Obj(), VictimAction::kTakeBack},
      {"allocating (hotplug in flight): taken back", MakeRun("v").Phase(api::RunPhase::kAllocating).Obj(), VictimAction::kTakeBack},
      {"running, allows it: stop requested",
       MakeRun("v").Phase(api::RunPhase::kRunning).Claimed().AllowWhileRunning().Obj(), VictimAction::kRequestStop},
      {"claimed while still Allocated, allows it: stop requested",
       MakeRun("v").Phase(api::RunPhase::kAllocated).Claimed().AllowWhileRunning().Obj(), VictimAction::kRequestStop},
      {"running, does not allow it: the preemptor must place again",
       MakeRun("v").Phase(api::RunPhase::kRunning).Claimed().Obj(), VictimAction::kConflict},
      {"stop already requested: wait for the agent",
       MakeRun("v").Phase(api::RunPhase::kRunning).Claimed().AllowWhileRunning().StopRequested("p").Obj(),
       VictimAction::kAwaitingStop},
      {"stopped (Preempted): holds nothing", MakeRun("v").Phase(api::RunPhase::kPreempted).Claimed().AllowWhileRunning().Obj(),
       VictimAction::kNone},
      {"queued: holds nothing", MakeRun("v").Phase(api::RunPhase::kQueued).Obj(), VictimAction::kNone},
      {"finished: holds nothing", MakeRun("v").Phase(api::RunPhase::kSucceeded).Obj(), VictimAction::kNone},
  };
  for (const Case& c : cases) {
    VictimDecision d = DecideVictim(c.victim);
    EXPECT_STREQ(VictimActionName(d.action), VictimActionName(c.want)) << c.name << ": " << d.message;
  }
}

TEST(PreemptionStatusTest, StopRequestKeepsTheRoomUntilTheAgentReports) {
  api::CommandRun v = MakeRun("low").Phase(api::RunPhase::kRunning).Claimed().AllowWhileRunning().Obj();
  api::Time now = api::Time{} + std::chrono::hours(1);
  api::CommandRunStatus st = StatusWithStopRequest(v, "urgent", now, 45);
  ASSERT_TRUE(st.stop_request);
  EXPECT_EQ(st.stop_request->reason, api::kReasonPreempted);
  EXPECT_EQ(st.stop_request->requested_by, "urgent");
  EXPECT_EQ(st.stop_request->requested_at, now);
  EXPECT_EQ(st.stop_request->grace_period_seconds, 45);
  EXPECT_EQ(st.phase, api::RunPhase::kRunning);
  EXPECT_EQ(st.allocation, v.status.allocation) << "the room is held until the command stopped";
  EXPECT_EQ(StatusWithStopRequest(v, "urgent", now, 99999).stop_request->grace_period_seconds,
            api::kMaxStopGracePeriodSeconds);
  EXPECT_TRUE(api::ValidateCommandRunStatus(st).empty());
}

TEST(PreemptionStatusTest, PreemptedRunIsRequeuedAsAFreshAttempt) {
  api::CommandRun v = MakeRun("low").Phase(api::RunPhase::kPreempted).Claimed().AllowWhileRunning().StopRequested("urgent").Obj();
  v.status.prediction = api::Prediction{};
  v.status.prediction->cpu_milli = 1500;
  v.status.usage = api::Usage{};
  v.status.result = api::RunResult{};
  v.status.result->reason = "Preempted";
  v.status.result->signal = 15;
  api::Time t0{};
  api::SetCondition(&v.status.conditions, {api::kConditionAllocated, api::ConditionStatus::kTrue, 1, {}, "Allocated", "on vm1"}, t0);
  api::SetCondition(&v.status.conditions, {"LimitsEnforced", api::ConditionStatus::kTrue, 1, {}, "Enforced", "cg"}, t0);
  api::SetCondition(&v.status.conditions, {api::kConditionDependenciesReady, api::ConditionStatus::kTrue, 1, {}, "NoDependencies", "-"}, t0);
  api::Time now = t0 + std::chrono::minutes(5);
  api::CommandRunStatus st = StatusAfterPreemptedStop(v, now);
  EXPECT_EQ(st.phase, api::RunPhase::kQueued);
  EXPECT_EQ(st.preemptions, 1);
  EXPECT_FALSE(st.allocation || st.agent || st.usage || st.result || st.stop_request);
  ASSERT_TRUE(st.prediction) << "the prediction is kept";
  EXPECT_EQ(st.prediction->cpu_milli, 1500);
  ASSERT_TRUE(st.queue);
  EXPECT_EQ(st.queue->reason, api::kReasonPreempted);
  EXPECT_EQ(st.queue->preempted_by, "urgent");
  EXPECT_EQ(st.queue->position, 1);
  EXPECT_EQ(st.queue->since, now);
  EXPECT_NE(st.queue->message.find("signal 15"), std::string::npos) << st.queue->message;
  EXPECT_NE(st.queue->message.find("attempt 2"), std::string::npos) << st.queue->message;
  const api::Condition* alloc = api::FindCondition(st.conditions, api::kConditionAllocated);
  ASSERT_NE(alloc, nullptr);
  EXPECT_EQ(alloc->status, api::ConditionStatus::kFalse);
  EXPECT_EQ(alloc->reason, api::kReasonPreempted);
  EXPECT_EQ(api::FindCondition(st.conditions, "LimitsEnforced"), nullptr);
  EXPECT_EQ(api::FindCondition(st.conditions, api::kConditionDependenciesReady), nullptr);
  // A second preemption of the next attempt counts on.
  v.status = st;
  v.status.phase = api::RunPhase::kPreempted;
  EXPECT_EQ(StatusAfterPreemptedStop(v, now).preemptions, 2);
}

TEST(PreemptionStatusTest, TakeBackOfARunThatHadNotStarted) {
  api::CommandRun v = MakeRun("low").Phase(api::RunPhase::kAllocated).Obj();
  api::CommandRunStatus st = StatusAfterTakeBack(v, "urgent", api::Time{});
  EXPECT_EQ(st.phase, api::RunPhase::kQueued);
  EXPECT_FALSE(st.allocation);
  EXPECT_EQ(st.queue->preempted_by, "urgent");
  EXPECT_EQ(st.preemptions, 0) << "nothing ran: not a new attempt";
}

// ---- the adapter: src/placement sees what it decides on ---------------------------------------

// vm1: 2 CPUs and 2 GiB without hotplug; the guest keeps the default policy's 250m and 256Mi.
ClusterSnapshot OneVm() {
  ClusterSnapshot s;
  InstanceView v;
  v.ns = "default";
  v.name = "vm1";
  v.node = "n1";
  v.running = true;
  v.sockets = 1;
  v.cores = 2;
  v.max_sockets = 1;
  v.memory_bytes = 2 * Gi;
  v.desired_sockets = 1;
  v.desired_guest = 2 * Gi;
  s.instances["default/vm1"] = v;
  return s;
}

Holding RunningLow(bool preemptible) {
  Holding h;
  h.run_key = "default/low";
  h.run_uid = "uid-low";
  h.instance = "default/vm1";
  h.cpu_milli = 1500;
  h.memory_bytes = 1536 * Mi;
  h.priority = 1;
  h.phase = api::RunPhase::kRunning;
  h.started = true;
  h.preemptible_while_running = preemptible;
  return h;
}

PlacementRequest Urgent(bool may_preempt = true) {
  PlacementRequest r;
  r.run_key = "default/urgent";
  r.run_uid = "uid-urgent";
  r.ns = "default";
  r.target.vm_name = "vm1";
  r.cpu_milli = 1000;
  r.memory_bytes = Gi;
  r.priority = 1000;
  r.may_preempt = may_preempt;
  return r;
}

TEST(PreemptionAdapterTest, ARunningRunThatAllowsItIsAVictim) {
  ClusterSnapshot s = OneVm();
  s.holdings.push_back(RunningLow(true));
  AdmissionResult r = AdmitInOrder(Urgent(), {}, s, ControllerPolicy{});
  EXPECT_EQ(r.plan.victims, std::vector<std::string>{"default/low"}) << r.plan.reason << ": " << r.plan.message;
  EXPECT_EQ(r.plan.reason, "Preempting");
}

TEST(PreemptionAdapterTest, ARunningRunThatDoesNotAllowItIsSafe) {
  ClusterSnapshot s = OneVm();
  s.holdings.push_back(RunningLow(false));
  AdmissionResult r = AdmitInOrder(Urgent(), {}, s, ControllerPolicy{});
  EXPECT_TRUE(r.plan.victims.empty()) << r.plan.reason;
  EXPECT_NE(r.plan.kind, PlanKind::kFit);
}

TEST(PreemptionAdapterTest, PreemptionPolicyNeverWaitsInstead) {
  ClusterSnapshot s = OneVm();
  s.holdings.push_back(RunningLow(true));
  AdmissionResult r = AdmitInOrder(Urgent(/*may_preempt=*/false), {}, s, ControllerPolicy{});
  EXPECT_TRUE(r.plan.victims.empty()) << r.plan.reason;
  EXPECT_EQ(r.plan.kind, PlanKind::kQueue);
  EXPECT_GE(r.position, 1);
}

TEST(PreemptionAdapterTest, RequestForResolvesPreemptionPolicyFromThePriorityClass) {
  ClusterSnapshot s = OneVm();
  s.priority_classes = {{"batch-never", 1000}, {"batch", 1000}};
  s.never_preempting_classes = {"batch-never"};
  struct Case {
    const char* name;
    std::optional<std::string> cls;
    std::optional<int32_t> priority;
    bool want;
  };
  const Case cases[] = {
      {"class with preemptionPolicy Never", "batch-never", std::nullopt, false},
      {"class that may preempt", "batch", std::nullopt, true},
      {"unknown class", "missing", std::nullopt, true},
      {"explicit priority, no class", std::nullopt, 1000, true},
      {"neither", std::nullopt, std::nullopt, true},
  };
  for (const Case& c : cases) {
    api::CommandRun run = MakeRun("urgent").Phase(api::RunPhase::kPending).Obj();
    run.spec.priority_class_name = c.cls;
    run.spec.priority = c.priority;
    EXPECT_EQ(RequestFor(run, s, api::Time{}).may_preempt, c.want) << c.name;
  }
}

TEST(PreemptionAdapterTest, HoldingsCarryAllowPreemptionWhileRunning) {
  api::CommandRun run = MakeRun("low").Phase(api::RunPhase::kRunning).Claimed().AllowWhileRunning().Obj();
  auto h = HoldingFromRun(run, 1);
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->preemptible_while_running);
  EXPECT_TRUE(h->started);
  run.spec.allow_preemption_while_running.reset();
  EXPECT_FALSE(HoldingFromRun(run, 1)->preemptible_while_running);
  // A stopped run (Preempted) holds nothing: its room is free as soon as the agent reports it.
  run.status.phase = api::RunPhase::kPreempted;
  EXPECT_FALSE(HoldingFromRun(run, 1));
  // And the informer-fed ledger keeps the flag.
  HoldingLedger ledger;
  json obj = api::CommandRunToJson(MakeRun("low").Phase(api::RunPhase::kRunning).Claimed().AllowWhileRunning().Obj());
  obj["metadata"]["resourceVersion"] = "3";
  ledger.Observe(nullptr, std::make_shared<const json>(obj));
  auto held = ledger.Holdings("default", {});
  ASSERT_EQ(held.size(), 1u);
  EXPECT_TRUE(held[0].preemptible_while_running);
}

TEST(PreemptionPolicyTest, KeysAndDefaults) {
  auto d = ParsePolicyYaml("", "p.yaml");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->preemption_grace_period, std::chrono::seconds(30));
  auto p = ParsePolicyYaml("preemptionGracePeriodSeconds: 5\n", "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->preemption_grace_period, std::chrono::seconds(5));
  EXPECT_FALSE(ParsePolicyYaml("preemptionGracePeriodSeconds: 0\n", "p.yaml").ok());
}

}  // namespace
}  // namespace prescient::controller
