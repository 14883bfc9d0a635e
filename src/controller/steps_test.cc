#include "controller/steps.h"

#include <gtest/gtest.h>

#include "api/constants.h"
#include "controller/predictor.h"
#include "controller/test_runs.h"

namespace prescient::controller {
namespace {

constexpr int64_t Mi = 1LL << 20;

using testing::RunningRun;

TEST(StatusAfterPlan, Table) {
  api::CommandRun run;
  run.metadata.generation = 3;
  api::Time now = api::Time{} + std::chrono::hours(1000);
  api::Allocation alloc;
  alloc.instance_id = "vm1";
  alloc.cpu_milli = 500;
  alloc.memory_bytes = 256 * Mi;
  struct Case {
    PlanKind kind;
    api::RunPhase phase;
    bool has_allocation;
    api::ConditionStatus allocated;
  } cases[] = {
      {PlanKind::kFit, api::RunPhase::kAllocated, true, api::ConditionStatus::kTrue},
      {PlanKind::kGrow, api::RunPhase::kAllocating, true, api::ConditionStatus::kFalse},
      {PlanKind::kQueue, api::RunPhase::kQueued, false, api::ConditionStatus::kFalse},
      {PlanKind::kProvisionNodes, api::RunPhase::kScaling, false, api::ConditionStatus::kFalse},
      {PlanKind::kScalePool, api::RunPhase::kScaling, false, api::ConditionStatus::kFalse},
      {PlanKind::kReject, api::RunPhase::kFailed, false, api::ConditionStatus::kFalse},
  };
  for (const auto& c : cases) {
    AdmissionResult adm;
    adm.plan.kind = c.kind;
    adm.plan.reason = "R";
    adm.position = c.kind == PlanKind::kQueue ? 2 : 0;
    api::CommandRunStatus st = StatusAfterPlan(run, run.status, adm, alloc, now);
    EXPECT_EQ(st.phase, c.phase) << PlanKindName(c.kind);
    EXPECT_EQ(st.allocation.has_value(), c.has_allocation) << PlanKindName(c.kind);
    const api::Condition* cond = api::FindCondition(st.conditions, api::kConditionAllocated);
    ASSERT_NE(cond, nullptr);
    EXPECT_EQ(cond->status, c.allocated) << PlanKindName(c.kind);
    EXPECT_EQ(cond->observed_generation, 3);
    if (c.kind == PlanKind::kQueue) {
      ASSERT_TRUE(st.queue.has_value());
      EXPECT_EQ(st.queue->position, 2);
      EXPECT_EQ(st.queue->since, now);
    }
  }
}

TEST(StatusAfterPlan, QueueKeepsTheTimeItStartedWaiting) {
  api::CommandRun run;
  api::Time first = api::Time{} + std::chrono::hours(1);
  AdmissionResult adm;
  adm.plan.kind = PlanKind::kQueue;
  api::CommandRunStatus st = StatusAfterPlan(run, run.status, adm, {}, first);
  api::CommandRunStatus again = StatusAfterPlan(run, st, adm, {}, first + std::chrono::seconds(30));
  EXPECT_EQ(again.queue->since, first);
  EXPECT_EQ(again, st);  // nothing changed: no status write
}

TEST(ValidateReferences, Table) {
  api::CommandRun r;
  r.metadata.ns = "team-a";
  r.spec.target.vm_name = "db";
  ClusterSnapshot s;
  EXPECT_TRUE(ValidateReferences(r, s, true, {}, true, true).empty());
  auto errs = ValidateReferences(r, s, false, {"team-b"}, true, true);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].path, "spec.target.vmName");
  EXPECT_NE(errs[0].message.find("team-b"), std::string::npos);
  r.spec.reservation_name = "nightly";
  errs = ValidateReferences(r, s, true, {}, true, false);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].path, "spec.reservationName");
}

TEST(ObservationOf, RecordsCommandContextPredictionAndUsage) {
  api::CommandRun r = RunningRun(1000 * Mi, 700 * Mi);
  r.status.phase = api::RunPhase::kSucceeded;
  api::RunResult res;
  res.reason = "Completed";
  res.exit_code = 0;
  res.started_at = api::Time{} + std::chrono::hours(500000);
  res.finished_at = *res.started_at + std::chrono::seconds(4);
  r.status.result = res;
  api::Prediction p;
  p.cpu_milli = 1500;
  p.memory_bytes = 800 * Mi;
  p.source = "History";
  r.status.prediction = p;
  InstanceView inst;
  inst.sockets = 2;
  inst.memory_bytes = 4096 * Mi;
  auto o = ObservationOf(r, &inst);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->run_uid, "u");
  EXPECT_EQ(o->record.command, "sort big");
  EXPECT_DOUBLE_EQ(o->record.usage->memory_peak_bytes, 700.0 * Mi);
  EXPECT_DOUBLE_EQ(*o->record.usage->duration_seconds, 4.0);
  EXPECT_DOUBLE_EQ(*o->record.context.vm_cpus, 2.0);
  EXPECT_DOUBLE_EQ(*o->record.context.requested_memory_bytes, 1000.0 * Mi);
  EXPECT_EQ(o->prediction->source, "History");
  r.status.result->reason = "Refused";
  EXPECT_FALSE(ObservationOf(r, &inst).has_value());
}

TEST(DesiredQuotaHard, LowersToBaselineOrUsed) {
  QuotaView q;
  q.owned = true;
  q.hard_memory_bytes = 10 * 1024 * Mi;
  q.baseline_memory_bytes = 6 * 1024 * Mi;
  q.used_memory_bytes = 7 * 1024 * Mi;
  auto w = DesiredQuotaHard(q, false);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(*w->memory_bytes, 7 * 1024 * Mi);
  EXPECT_FALSE(DesiredQuotaHard(q, true).has_value());  // a migration still needs the headroom
  q.owned = false;
  EXPECT_FALSE(DesiredQuotaHard(q, false).has_value());
  q.owned = true;
  q.hard_memory_bytes = 7 * 1024 * Mi;
  EXPECT_FALSE(DesiredQuotaHard(q, false).has_value());
}

TEST(EvaluateDependencies, Table) {
  auto run_with = [](std::vector<api::Dependency> declared, std::vector<api::Dependency> predicted) {
    api::CommandRun r;
    r.metadata.ns = "team";
    r.spec.dependencies = declared;
    api::Prediction p;
    p.dependencies = predicted;
    r.status.prediction = p;
    return r;
  };
  api::Dependency db{std::nullopt, api::DependencyKind::kService, "db", 5432};
  api::Dependency cache{std::nullopt, api::DependencyKind::kService, "cache.shared.svc.cluster.local", 6379};
  api::Dependency external{std::nullopt, api::DependencyKind::kService, "db.example.com", 5432};
  api::Dependency ip{std::nullopt, api::DependencyKind::kService, "10.0.0.5", 80};
  api::Dependency worker{std::string("worker"), api::DependencyKind::kDeployment, "worker", 8080};
  std::map<std::string, bool> services = {{"team/db", true}, {"shared/cache", false}};
  std::map<std::string, DependencyLookup::DeploymentState> deployments = {{"team/worker", {0, 0, 2}}, {"shared/cache", {0, 0, 1}}};
  DependencyLookup l;
  l.service_ready = [&](const std::string& ns, const std::string& n) -> std::optional<bool> {
    auto it = services.find(ns + "/" + n);
    if (it == services.end()) return std::nullopt;
    return it->second;
  };
  l.deployment = [&](const std::string& ns, const std::string& n) -> std::optional<DependencyLookup::DeploymentState> {
    auto it = deployments.find(ns + "/" + n);
    if (it == deployments.end()) return std::nullopt;
    return it->second;
  };
  struct Case {
    std::string name;
    api::CommandRun run;
    bool ready;
    size_t wake;
    std::string message;
  };
  std::vector<Case> cases = {
      {"ready service", run_with({db}, {}), true, 0, ""},
      {"service in another namespace, no endpoints: woken", run_with({cache}, {}), false, 1, "shared/cache has no ready endpoint"},
      {"external hosts and IPs are the agent's business", run_with({external, ip}, {}), true, 0, ""},
      {"predicted host that is no Service is ignored", run_with({}, {external, api::Dependency{std::nullopt, api::DependencyKind::kService, "nosuch", 1}}), true, 0, ""},
      {"declared missing Service waits", run_with({api::Dependency{std::nullopt, api::DependencyKind::kService, "nosuch", 1}}, {}), false, 0, "team/nosuch not found"},
      {"deployment at zero is woken and waited for", run_with({worker}, {}), false, 1, "Deployment team/worker has no ready replica"},
  };
  for (const auto& c : cases) {
    DependencyGate g = EvaluateDependencies(c.run, l);
    EXPECT_EQ(g.ready, c.ready) << c.name << ": " << g.message;
    EXPECT_EQ(g.wake.size(), c.wake) << c.name;
    if (!c.message.empty()) {
      EXPECT_NE(g.message.find(c.message), std::string::npos) << c.name << ": " << g.message;
    }
  }
}

TEST(DecideAgentLost, Table) {
  using std::chrono::seconds;
  api::Time now = api::Time{} + std::chrono::hours(1000);
  auto bound = [](api::RunPhase phase, bool claimed) {
    api::CommandRun r = RunningRun(1024 * Mi, 0);
    r.status.phase = phase;
    r.status.usage.reset();
    if (claimed) r.status.agent = api::AgentClaim{};
    return r;
  };
  api::CommandRun queued = bound(api::RunPhase::kQueued, false);
  queued.status.allocation.reset();
  struct Case {
    std::string name;
    api::CommandRun run;
    AgentHeartbeat hb;
    AgentLostAction want;
    int64_t want_recheck_ms;  // 0: none
  };
  AgentHeartbeat fresh{true, now - seconds(10)}, stale{true, now - seconds(61)}, edge{true, now - seconds(60)};
  std::vector<Case> cases = {
      {"allocated, fresh lease: recheck when it would go stale", bound(api::RunPhase::kAllocated, false), fresh,
       AgentLostAction::kNone, 51000},
      {"allocated, exactly at the grace: not yet", bound(api::RunPhase::kAllocated, false), edge, AgentLostAction::kNone, 1000},
      {"allocated, stale: back to the queue", bound(api::RunPhase::kAllocated, false), stale, AgentLostAction::kRequeue, 0},
      {"allocated but already claimed, stale: lost", bound(api::RunPhase::kAllocated, true), stale, AgentLostAction::kFail, 0},
      {"running, stale: lost", bound(api::RunPhase::kRunning, true), stale, AgentLostAction::kFail, 0},
      {"running, no lease at all: unknown, left alone", bound(api::RunPhase::kRunning, true), AgentHeartbeat{},
       AgentLostAction::kNone, 0},
      {"queued (no allocation): nothing to take back", queued, stale, AgentLostAction::kNone, 0},
      {"allocating (hotplug): the agent has no part yet", bound(api::RunPhase::kAllocating, false), stale,
       AgentLostAction::kNone, 0},
      {"finished: nothing to do", bound(api::RunPhase::kSucceeded, true), stale, AgentLostAction::kNone, 0},
  };
  for (const auto& c : cases) {
    AgentLostDecision d = DecideAgentLost(c.run, c.hb, now, seconds(60));
    EXPECT_EQ(d.action, c.want) << c.name;
    EXPECT_EQ(d.recheck_after.count(), c.want_recheck_ms) << c.name;
    if (c.want != AgentLostAction::kNone) {
      EXPECT_NE(d.message.find("vm1"), std::string::npos) << c.name << ": " << d.message;
    }
  }
}

TEST(StatusAfterAgentLost, RequeueReleasesTheAllocationAndFailMarksTheRunLost) {
  api::Time now = api::Time{} + std::chrono::hours(1000);
  api::CommandRun r = RunningRun(1024 * Mi, 0);
  r.status.phase = api::RunPhase::kAllocated;
  AgentLostDecision requeue{AgentLostAction::kRequeue, {}, 90, "agent gone"};
  api::CommandRunStatus st = StatusAfterAgentLost(r, requeue, now);
  EXPECT_EQ(st.phase, api::RunPhase::kQueued);
  EXPECT_FALSE(st.allocation.has_value());
  ASSERT_TRUE(st.queue.has_value());
  EXPECT_EQ(st.queue->reason, kReasonAgentLost);
  EXPECT_TRUE(api::IsConditionTrue(st.conditions, kConditionAgentLost));
  EXPECT_FALSE(HoldingFromRun(api::CommandRun{r.metadata, r.spec, st}, 0).has_value()) << "the room is released";

  r.status.phase = api::RunPhase::kRunning;
  AgentLostDecision fail{AgentLostAction::kFail, {}, 90, "agent gone"};
  st = StatusAfterAgentLost(r, fail, now);
  EXPECT_EQ(st.phase, api::RunPhase::kFailed);
  ASSERT_TRUE(st.result.has_value());
  EXPECT_EQ(st.result->reason, "Lost");
  EXPECT_TRUE(st.result->finished_at.has_value());
  EXPECT_TRUE(api::IsConditionTrue(st.conditions, kConditionAgentLost));
  EXPECT_FALSE(HoldingFromRun(api::CommandRun{r.metadata, r.spec, st}, 0).has_value()) << "the room is released";
  EXPECT_FALSE(ObservationOf(api::CommandRun{r.metadata, r.spec, st}, nullptr).has_value()) << "a lost run teaches nothing";
}

TEST(HeartbeatFromLease, RenewTimeElseAcquireTime) {
  nlohmann::json lease = {{"spec", {{"holderIdentity", "vm1"}, {"renewTime", "2026-01-01T00:00:10.000000Z"},
                                    {"acquireTime", "2026-01-01T00:00:00.000000Z"}}}};
  AgentHeartbeat hb = HeartbeatFromLease(&lease);
  ASSERT_TRUE(hb.found);
  EXPECT_EQ(FormatRfc3339(hb.renewed), "2026-01-01T00:00:10Z");
  lease["spec"].erase("renewTime");
  EXPECT_EQ(FormatRfc3339(HeartbeatFromLease(&lease).renewed), "2026-01-01T00:00:00Z");
  EXPECT_FALSE(HeartbeatFromLease(nullptr).found);
  nlohmann::json empty = {{"spec", nlohmann::json::object()}};
  EXPECT_FALSE(HeartbeatFromLease(&empty).found);
}

TEST(DecideHotplug, Table) {
  using std::chrono::seconds;
  api::Time now = api::Time{} + std::chrono::hours(1000);
  InstanceView growing;
  growing.name = "vm1";
  growing.running = true;
  growing.hotplug_in_flight = true;
  InstanceView restart = growing;
  restart.restart_required = true;
  InstanceView grown = growing;
  grown.hotplug_in_flight = false;
  struct Case {
    std::string name;
    const InstanceView* inst;
    bool fits;
    std::optional<api::Time> asked;
    HotplugOutcome want;
    int64_t want_recheck_ms;
  };
  std::vector<Case> cases = {
      {"in flight, 10 s in: wait, recheck at the timeout", &growing, false, now - seconds(10), HotplugOutcome::kWait, 291000},
      {"in flight past the timeout: give up", &growing, false, now - seconds(301), HotplugOutcome::kTimedOut, 0},
      {"in flight, time unknown (old status): wait for events", &growing, false, std::nullopt, HotplugOutcome::kWait, 0},
      {"restart required: give up at once", &restart, false, now - seconds(1), HotplugOutcome::kRestartRequired, 0},
      {"done and fits", &grown, true, now - seconds(400), HotplugOutcome::kDone, 0},
      // Right after the VM patch the caches may not show it yet: not observed is not a failure...
      {"not observed yet, 5 s in: wait for the start deadline", &grown, false, now - seconds(5), HotplugOutcome::kWait, 25001},
      {"not observed, time unknown (old status): never applied", &grown, false, std::nullopt, HotplugOutcome::kNotApplied, 0},
      // ...until the deadline passes.
      {"not observed 30 s after (never applied)", &grown, false, now - seconds(30), HotplugOutcome::kNotApplied, 0},
      {"instance gone", nullptr, false, now - seconds(5), HotplugOutcome::kNotApplied, 0},
  };
  for (const auto& c : cases) {
    HotplugVerdict v = DecideHotplug(c.inst, c.fits, c.asked, now, seconds(300), seconds(30));
    EXPECT_EQ(v.outcome, c.want) << c.name;
    EXPECT_EQ(v.recheck_after.count(), c.want_recheck_ms) << c.name;
    if (c.want == HotplugOutcome::kTimedOut || c.want == HotplugOutcome::kRestartRequired) {
      EXPECT_FALSE(v.reason.empty()) << c.name;
      EXPECT_NE(v.message.find("vm1"), std::string::npos) << c.name;
    }
  }
}

TEST(HotplugFailure, RequeuesReleasesAndBacksOffFromTheLatestFailure) {
  using std::chrono::seconds;
  api::Time t0 = api::Time{} + std::chrono::hours(1000);
  api::CommandRun r = RunningRun(1024 * Mi, 0);
  r.status.phase = api::RunPhase::kAllocating;
  r.status.usage.reset();
  EXPECT_EQ(HotplugBackoffLeft(r, t0, seconds(300)).count(), 0);
  HotplugVerdict v{HotplugOutcome::kTimedOut, {}, kReasonHotplugTimedOut, "too slow"};
  r.status = StatusAfterHotplugFailure(r, v, t0);
  EXPECT_EQ(r.status.phase, api::RunPhase::kQueued);
  EXPECT_FALSE(r.status.allocation.has_value());
  EXPECT_EQ(r.status.queue->reason, kReasonHotplugTimedOut);
  EXPECT_EQ(HotplugBackoffLeft(r, t0 + seconds(100), seconds(300)).count(), 200001);
  EXPECT_EQ(HotplugBackoffLeft(r, t0 + seconds(300), seconds(300)).count(), 0);
  // A second failure later restarts the back-off from its own time.
  r.status = StatusAfterHotplugFailure(r, v, t0 + seconds(1000));
  EXPECT_EQ(HotplugBackoffLeft(r, t0 + seconds(1100), seconds(300)).count(), 200001);
}

TEST(ClampPrediction, TheUsersBoundsWinOverTheFloor) {
  auto bounds = [](std::optional<int64_t> min_mem, std::optional<int64_t> max_mem) {
    api::ResourceBounds b;
    if (min_mem) b.min = api::ResourceAmounts{std::nullopt, min_mem, std::nullopt, std::nullopt};
    if (max_mem) b.max = api::ResourceAmounts{std::nullopt, max_mem, std::nullopt, std::nullopt};
    return std::optional<api::ResourceBounds>(b);
  };
  struct Case {
    std::string name;
    int64_t predicted;
    std::optional<api::ResourceBounds> b;
    int64_t want;
  };
  std::vector<Case> cases = {
      {"no bounds: the prediction", 300 * Mi, std::nullopt, 300 * Mi},
      {"no bounds, tiny prediction: the floor", 1 * Mi, std::nullopt, 16 * Mi},
      {"max below the floor: max wins", 1 * Mi, bounds(std::nullopt, 8 * Mi), 8 * Mi},
      {"max below the floor, larger prediction: max", 300 * Mi, bounds(std::nullopt, 8 * Mi), 8 * Mi},
      {"min = max below the floor: exactly that", 64 * Mi, bounds(4 * Mi, 4 * Mi), 4 * Mi},
      {"max above the floor, tiny prediction: the floor", 1 * Mi, bounds(std::nullopt, 64 * Mi), 16 * Mi},
      {"min above the prediction: min", 100 * Mi, bounds(200 * Mi, std::nullopt), 200 * Mi},
      {"prediction above max: max", 900 * Mi, bounds(std::nullopt, 512 * Mi), 512 * Mi},
  };
  for (const auto& c : cases) {
    api::Prediction p;
    p.cpu_milli = 100;
    p.memory_bytes = c.predicted;
    EXPECT_EQ(ClampPrediction(p, c.b).memory_bytes, c.want) << c.name;
  }
  api::Prediction zero;
  EXPECT_EQ(ClampPrediction(zero, std::nullopt).cpu_milli, kMinCpuMilli);
}

}  // namespace
}  // namespace prescient::controller
