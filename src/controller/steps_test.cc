#include "controller/steps.h"

#include <gtest/gtest.h>

#include "api/constants.h"

namespace prescient::controller {
namespace {

constexpr int64_t Mi = 1LL << 20;

api::CommandRun Running(int64_t alloc_mem, int64_t peak_mem, std::optional<double> throttled = std::nullopt) {
  api::CommandRun r;
  r.metadata.name = "r";
  r.metadata.ns = "default";
  r.metadata.uid = "u";
  r.spec.command = "sort big";
  r.status.phase = api::RunPhase::kRunning;
  api::Allocation a;
  a.instance_id = "vm1";
  a.cpu_milli = 1000;
  a.memory_bytes = alloc_mem;
  r.status.allocation = a;
  api::Usage u;
  u.peaks.memory_bytes = peak_mem;
  u.cpu_throttled_fraction = throttled;
  r.status.usage = u;
  return r;
}

TEST(FeedbackGrowth, Table) {
  ControllerPolicy policy;  // 0.9 threshold, factor 1.5, step 256Mi, throttle 0.2, cpu step 1000m
  struct Case {
    std::string name;
    api::CommandRun run;
    bool want;
    int64_t want_mem, want_cpu;
  };
  api::CommandRun capped = Running(1000 * Mi, 950 * Mi);
  capped.spec.resources = api::ResourceBounds{};
  capped.spec.resources->max = api::ResourceAmounts{};
  capped.spec.resources->max->memory_bytes = 1200 * Mi;
  api::CommandRun at_cap = Running(1000 * Mi, 950 * Mi);
  at_cap.spec.resources = api::ResourceBounds{};
  at_cap.spec.resources->max = api::ResourceAmounts{};
  at_cap.spec.resources->max->memory_bytes = 1000 * Mi;
  api::CommandRun allocated = Running(1000 * Mi, 950 * Mi);
  allocated.status.phase = api::RunPhase::kAllocated;
  std::vector<Case> cases = {
      {"below threshold", Running(1000 * Mi, 800 * Mi), false, 0, 0},
      {"at 95%: grow by factor", Running(1000 * Mi, 950 * Mi), true, static_cast<int64_t>(950 * Mi * 1.5), 1000},
      {"bounded by spec max", capped, true, 1200 * Mi, 1000},
      {"already at spec max", at_cap, false, 0, 0},
      {"throttled: more cpu", Running(1000 * Mi, 100 * Mi, 0.5), true, 1000 * Mi, 2000},
      {"not running yet", allocated, false, 0, 0},
  };
  for (const auto& c : cases) {
    auto g = FeedbackGrowth(c.run, policy);
    EXPECT_EQ(g.has_value(), c.want) << c.name;
    if (g && c.want) {
      EXPECT_EQ(g->memory_bytes, c.want_mem) << c.name;
      EXPECT_EQ(g->cpu_milli, c.want_cpu) << c.name;
    }
  }
}

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
  api::CommandRun r = Running(1000 * Mi, 700 * Mi);
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

}  // namespace
}  // namespace prescient::controller
