#include "agent/decision.h"

#include <gtest/gtest.h>

#include <csignal>

#include "agent/test_builders.h"

namespace prescient::agent {
namespace {

using testing::MakeRun;

AgentIdentity Self() { return AgentIdentity{"vm-a", "default", {}, "guest", "boot-1", 500}; }

RunView View(const nlohmann::json& obj) {
  auto r = ParseRun(obj);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : RunView{};
}

TEST(DecideRun, Table) {
  LocalRunState none;
  LocalRunState journaled;
  journaled.journaled = true;
  LocalRunState running;
  running.active = true;
  running.applied = Allocation{};
  running.applied->cpu_milli = 1000;
  running.applied->memory_bytes = 256 << 20;
  LocalRunState stopping = running;
  stopping.stopping = true;
  LocalRunState reported_attempt0;
  reported_attempt0.journaled = true;
  reported_attempt0.journal_reported = true;
  LocalRunState reported_attempt1 = reported_attempt0;
  reported_attempt1.journal_attempt = 1;
  struct Case {
    const char* what;
    nlohmann::json obj;
    LocalRunState local;
    AgentIdentity self;
    RunAction want;
  };
  AgentIdentity restricted = Self();
  restricted.allowed_namespaces = {"prod"};
  const Case cases[] = {
      {"allocated, unclaimed", MakeRun("r").Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").Obj(), none, Self(), RunAction::kClaim},
      {"other instance", MakeRun("r").Instance("vm-b").Phase("Allocated").Allocation("1", "256Mi").Obj(), none, Self(), RunAction::kIgnore},
      {"no instance label", MakeRun("r").Phase("Allocated").Allocation("1", "256Mi").Obj(), none, Self(), RunAction::kIgnore},
      {"other namespace", MakeRun("r", "other").Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").Obj(), none, Self(), RunAction::kIgnore},
      {"namespace not allowed", MakeRun("r").Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").Obj(), none, restricted, RunAction::kIgnore},
      {"allocated without allocation", MakeRun("r").Instance("vm-a").Phase("Allocated").Obj(), none, Self(), RunAction::kRefuse},
      {"running without claim", MakeRun("r").Instance("vm-a").Phase("Running").Allocation("1", "256Mi").Obj(), none, Self(), RunAction::kRefuse},
      {"already claimed", MakeRun("r").Instance("vm-a").Phase("Running").Allocation("1", "256Mi").ClaimedBy("vm-a", 9, "b").Obj(), none, Self(), RunAction::kIgnore},
      {"claimed in Allocated (odd) is never restarted", MakeRun("r").Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").ClaimedBy("vm-a", 9, "b").Obj(), none, Self(), RunAction::kIgnore},
      {"journaled already", MakeRun("r").Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").Obj(), journaled, Self(), RunAction::kIgnore},
      {"pending: operator's", MakeRun("r").Instance("vm-a").Phase("Pending").Obj(), none, Self(), RunAction::kIgnore},
      {"succeeded", MakeRun("r").Instance("vm-a").Phase("Succeeded").Allocation("1", "256Mi").Obj(), none, Self(), RunAction::kIgnore},
      {"growth while running", MakeRun("r").Instance("vm-a").Phase("Running").Allocation("2", "512Mi").ClaimedBy("vm-a", 500, "boot-1").Obj(), running, Self(), RunAction::kApplyGrowth},
      {"same allocation while running", MakeRun("r").Instance("vm-a").Phase("Running").Allocation("1", "256Mi").ClaimedBy("vm-a", 500, "boot-1").Obj(), running, Self(), RunAction::kIgnore},
      {"deleted while running", MakeRun("r").Instance("vm-a").Phase("Running").Allocation("1", "256Mi").Deleting().Obj(), running, Self(), RunAction::kCancel},
      {"shadow requested", MakeRun("r").Instance("vm-a").Phase("Shadowing").ShadowRequested(5).Obj(), none, Self(), RunAction::kShadow},
      {"shadowing, not requested", MakeRun("r").Instance("vm-a").Phase("Shadowing").Obj(), none, Self(), RunAction::kIgnore},
      {"stop requested while running", MakeRun("r").Instance("vm-a").Phase("Running").Allocation("1", "256Mi").ClaimedBy("vm-a", 500, "boot-1").StopRequested("urgent").Obj(), running, Self(), RunAction::kStop},
      {"stop requested, already stopping", MakeRun("r").Instance("vm-a").Phase("Running").Allocation("1", "256Mi").ClaimedBy("vm-a", 500, "boot-1").StopRequested("urgent").Obj(), stopping, Self(), RunAction::kIgnore},
      {"deleted beats a stop request", MakeRun("r").Instance("vm-a").Phase("Running").Allocation("1", "256Mi").StopRequested("urgent").Deleting().Obj(), stopping, Self(), RunAction::kCancel},
      {"stop requested, not running here", MakeRun("r").Instance("vm-a").Phase("Running").Allocation("1", "256Mi").ClaimedBy("vm-a", 9, "b").StopRequested("urgent").Obj(), none, Self(), RunAction::kIgnore},
      {"allocated with a stop request is not started", MakeRun("r").Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").StopRequested("urgent").Obj(), none, Self(), RunAction::kIgnore},
      {"preempted: the operator's", MakeRun("r").Instance("vm-a").Phase("Preempted").Allocation("1", "256Mi").ClaimedBy("vm-a", 500, "boot-1").StopRequested("urgent").Obj(), reported_attempt0, Self(), RunAction::kIgnore},
      {"re-queued attempt after our reported one", MakeRun("r").Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").Preemptions(1).Obj(), reported_attempt0, Self(), RunAction::kClaim},
      {"same attempt as our tombstone", MakeRun("r").Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").Preemptions(1).Obj(), reported_attempt1, Self(), RunAction::kIgnore},
      {"newer attempt but ours not reported yet", MakeRun("r").Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").Preemptions(1).Obj(), journaled, Self(), RunAction::kIgnore},
  };
  for (const Case& c : cases) {
    RunDecision d = DecideRun(View(c.obj), c.local, c.self);
    EXPECT_EQ(RunActionName(d.action), std::string(RunActionName(c.want))) << c.what << " (" << d.reason << ")";
  }
}

TEST(DecideInvalidRun, RefusesOnlyWhatWasHandedToUs) {
  RunView md;
  md.ns = "default";
  md.name = "r";
  md.uid = "abc";
  md.labels[kInstanceLabel] = "vm-a";
  EXPECT_EQ(DecideInvalidRun(md, "bad", {}, Self(), "Allocated").action, RunAction::kRefuse);
  EXPECT_EQ(DecideInvalidRun(md, "bad", {}, Self(), "Pending").action, RunAction::kIgnore);
  EXPECT_EQ(DecideInvalidRun(md, "bad", {}, Self(), "Failed").action, RunAction::kIgnore);
  LocalRunState active;
  active.active = true;
  EXPECT_EQ(DecideInvalidRun(md, "bad", active, Self(), "Running").action, RunAction::kIgnore);
  md.labels[kInstanceLabel] = "vm-b";
  EXPECT_EQ(DecideInvalidRun(md, "bad", {}, Self(), "Allocated").action, RunAction::kIgnore);
}

TEST(DecideRecovery, Table) {
  auto entry = [](JournalState s) {
    JournalEntry e;
    e.uid = "u1";
    e.ns = "default";
    e.name = "r";
    e.state = s;
    e.agent_pid = 400;  // our previous process
    e.boot_id = "boot-1";
    return e;
  };
  RunView allocated = View(MakeRun("r").Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").Obj());
  RunView ours = View(MakeRun("r").Instance("vm-a").Phase("Running").Allocation("1", "256Mi").ClaimedBy("vm-a", 400, "boot-1").Obj());
  RunView theirs = View(MakeRun("r").Instance("vm-a").Phase("Running").Allocation("1", "256Mi").ClaimedBy("vm-a", 401, "boot-1").Obj());
  RunView ours_before_reboot = View(MakeRun("r").Instance("vm-a").Phase("Running").Allocation("1", "256Mi").ClaimedBy("vm-a", 400, "boot-0").Obj());
  RunView done = View(MakeRun("r").Instance("vm-a").Phase("Succeeded").Allocation("1", "256Mi").ClaimedBy("vm-a", 400, "boot-1").Obj());
  RunView requeued = View(MakeRun("r").Phase("Queued").Preemptions(1).Obj());
  struct Case {
    const char* what;
    JournalState state;
    std::optional<RunView> api;
    bool cgroup, alive, exit;
    RecoveryAction want;
    bool launch_recorded = false;
    const char* boot = "boot-1";  // the journal entry's boot ID (ours is boot-1)
  };
  const Case cases[] = {
      {"claiming, claim never landed", JournalState::kClaiming, allocated, false, false, false, RecoveryAction::kResumeClaim},
      {"claiming, our claim landed", JournalState::kClaiming, ours, false, false, false, RecoveryAction::kLaunch},
      {"claiming, another agent won", JournalState::kClaiming, theirs, false, false, false, RecoveryAction::kForget},
      {"claimed, never launched", JournalState::kClaimed, ours, false, false, false, RecoveryAction::kLaunch},
      {"claimed, run deleted", JournalState::kClaimed, std::nullopt, false, false, false, RecoveryAction::kForget},
      {"claimed, already finished", JournalState::kClaimed, done, false, false, false, RecoveryAction::kForget},
      {"launching, process alive", JournalState::kLaunching, ours, true, true, false, RecoveryAction::kReattach},
      {"launching, nothing there", JournalState::kLaunching, ours, false, false, false, RecoveryAction::kReportLost},
      {"running, still alive", JournalState::kRunning, ours, true, true, false, RecoveryAction::kReattach},
      {"running, exited while away", JournalState::kRunning, ours, true, false, true, RecoveryAction::kFinalize},
      {"running, gone without record", JournalState::kRunning, ours, true, false, false, RecoveryAction::kReportLost},
      {"running, run deleted, alive", JournalState::kRunning, std::nullopt, true, true, false, RecoveryAction::kReattach},
      {"finished, final pending", JournalState::kFinished, ours, false, false, true, RecoveryAction::kResendFinal},
      {"finished, run deleted", JournalState::kFinished, std::nullopt, false, false, true, RecoveryAction::kForget},
      {"reported tombstone", JournalState::kReported, done, false, false, false, RecoveryAction::kKeepTombstone},
      {"reported, deleted", JournalState::kReported, std::nullopt, false, false, false, RecoveryAction::kForget},
      {"claiming + launch record, alive", JournalState::kClaiming, ours, true, true, false, RecoveryAction::kReattach, true},
      {"claiming + launch record, exited", JournalState::kClaiming, ours, true, false, true, RecoveryAction::kFinalize, true},
      {"claiming + launch record, nothing", JournalState::kClaiming, ours, false, false, false, RecoveryAction::kReportLost, true},
      {"claiming, cgroup made (warm spare renamed), nothing alive", JournalState::kClaiming, ours, true, false, false, RecoveryAction::kReportLost},
      {"claiming, cgroup made, process alive", JournalState::kClaiming, ours, true, true, false, RecoveryAction::kReattach},
      {"claiming, cgroup made, run deleted", JournalState::kClaiming, std::nullopt, true, false, false, RecoveryAction::kForget},
      {"claiming, our claim landed, guest rebooted since", JournalState::kClaiming, ours_before_reboot, false, false, false, RecoveryAction::kReportLost, false, "boot-0"},
      {"claiming, claim never landed, guest rebooted since", JournalState::kClaiming, allocated, false, false, false, RecoveryAction::kResumeClaim, false, "boot-0"},
      {"claiming, exited (durable exit record) across a reboot", JournalState::kClaiming, ours_before_reboot, false, false, true, RecoveryAction::kFinalize, true, "boot-0"},
      // The operator re-queued the run (status.preemptions 1) after our attempt 0 was reported
      // Preempted: nothing of attempt 0 is written over attempt 1.
      {"finished, re-queued meanwhile", JournalState::kFinished, requeued, false, false, true, RecoveryAction::kForget},
      {"running, exited, re-queued meanwhile", JournalState::kRunning, requeued, true, false, true, RecoveryAction::kForget},
      {"reported, re-queued: tombstone of attempt 0 kept", JournalState::kReported, requeued, false, false, false, RecoveryAction::kKeepTombstone},
  };
  for (const Case& c : cases) {
    JournalEntry e = entry(c.state);
    e.boot_id = c.boot;
    RecoveryInput in{e, c.api, c.cgroup, c.alive, c.exit, c.launch_recorded};
    RecoveryDecision d = DecideRecovery(in, Self());
    EXPECT_EQ(RecoveryActionName(d.action), std::string(RecoveryActionName(c.want))) << c.what << " (" << d.reason << ")";
  }
}

TEST(PreemptedResult, KeepsTheExitAndSaysWhoAsked) {
  StopRequest req{"Preempted", "urgent", 5};
  RunResult r = PreemptedResult(ResultFromExit(ExitRecord{false, 0, SIGTERM, "t", "", 0, ""}, 0, false), StopMessage(req));
  EXPECT_EQ(r.reason, "Preempted");
  EXPECT_EQ(r.Phase(), "Preempted");
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
  EXPECT_NE(r.message.find("urgent"), std::string::npos) << r.message;
  // A command that handles SIGTERM and exits 0 is still preempted: it did not finish its work.
  RunResult clean = PreemptedResult(ResultFromExit(ExitRecord{true, 0, 0, "t", "", 0, ""}, 0, false), "m");
  EXPECT_EQ(clean.Phase(), "Preempted");
  EXPECT_EQ(clean.exit_code, 0);
}

TEST(ParseRun, StopRequestAndPreemptions) {
  RunView v = View(MakeRun("r").Instance("vm-a").Phase("Running").Allocation("1", "256Mi").StopRequested("urgent", 7).Preemptions(2).Obj());
  ASSERT_TRUE(v.stop_request);
  EXPECT_EQ(v.stop_request->requested_by, "urgent");
  EXPECT_EQ(v.stop_request->grace_seconds, 7);
  EXPECT_EQ(v.preemptions, 2);
  auto bad = ParseRun(MakeRun("r").StopRequested("urgent", 99999).Obj());
  EXPECT_FALSE(bad.ok());
  auto no_reason = ParseRun(MakeRun("r").Set(nlohmann::json::json_pointer("/status/stopRequest"), {{"requestedBy", "x"}}).Obj());
  EXPECT_FALSE(no_reason.ok());
}

TEST(ReportDue, RateLimit) {
  using namespace std::chrono;
  steady_clock::time_point t0{seconds(100)};
  auto interval = milliseconds(5000);
  EXPECT_TRUE(ReportDue(std::nullopt, t0, interval, false)) << "first report immediately";
  EXPECT_FALSE(ReportDue(t0, t0 + seconds(1), interval, false));
  EXPECT_FALSE(ReportDue(t0, t0 + milliseconds(4999), interval, false));
  EXPECT_TRUE(ReportDue(t0, t0 + seconds(5), interval, false));
  EXPECT_FALSE(ReportDue(t0, t0 + milliseconds(500), interval, true)) << "forced still has a floor";
  EXPECT_TRUE(ReportDue(t0, t0 + seconds(1), interval, true));
}

TEST(ResultFromExit, Table) {
  struct Case {
    const char* what;
    ExitRecord exit;
    int64_t ooms;
    bool timed_out;
    std::string reason;
    std::optional<int> code;
    bool oom;
  };
  const Case cases[] = {
      {"success", {true, 0, 0, "", "", 0, ""}, 0, false, "Completed", 0, false},
      {"failure", {true, 3, 0, "", "", 0, ""}, 0, false, "Error", 3, false},
      {"OOM kill", {false, 0, SIGKILL, "", "", 0, ""}, 1, false, "OOMKilled", 137, true},
      {"OOM kill through a shell", {true, 137, 0, "", "", 0, ""}, 1, false, "OOMKilled", 137, true},
      {"SIGKILL without OOM", {false, 0, SIGKILL, "", "", 0, ""}, 0, false, "Error", 137, false},
      {"child OOM, command survived", {true, 1, 0, "", "", 0, ""}, 2, false, "Error", 1, true},
      {"timeout", {false, 0, SIGTERM, "", "", 0, ""}, 0, true, "Timeout", 143, false},
      {"exec failed", {true, 127, 0, "", "exec: no such file", 0, ""}, 0, false, "Error", 127, false},
  };
  for (const Case& c : cases) {
    RunResult r = ResultFromExit(c.exit, c.ooms, c.timed_out);
    EXPECT_EQ(r.reason, c.reason) << c.what;
    EXPECT_EQ(r.exit_code, c.code) << c.what;
    EXPECT_EQ(r.oom_killed, c.oom) << c.what;
  }
}

}  // namespace
}  // namespace prescient::agent

namespace prescient::agent {
namespace {

TEST(UsageChanged, Table) {
  Usage base;
  base.cpu_seconds = 1.0;
  base.memory_current_bytes = 100 << 20;
  base.memory_peak_bytes = 120 << 20;
  Usage same = base;
  same.cpu_seconds = 1.005;
  same.memory_current_bytes = (100 << 20) + 4096;
  EXPECT_FALSE(UsageChanged(base, same));
  Usage cpu = base;
  cpu.cpu_seconds = 1.5;
  EXPECT_TRUE(UsageChanged(base, cpu));
  Usage peak = base;
  peak.memory_peak_bytes += 1;
  EXPECT_TRUE(UsageChanged(base, peak));
  Usage mem = base;
  mem.memory_current_bytes = 110 << 20;
  EXPECT_TRUE(UsageChanged(base, mem));
  Usage ep = base;
  ep.endpoints = {"10.0.0.1:5432"};
  EXPECT_TRUE(UsageChanged(base, ep));
}

}  // namespace
}  // namespace prescient::agent
