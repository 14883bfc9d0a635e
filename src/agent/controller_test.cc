#include "agent/controller.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <csignal>
#include <mutex>
#include <thread>

#include "agent/fake_env.h"
#include "agent/test_builders.h"

namespace prescient::agent {
namespace {

using nlohmann::json;
using testing::FakeExecEnv;
using testing::FakeRunApi;
using testing::MakeRun;
using namespace std::chrono_literals;

class RecordingMetrics : public AgentMetrics {
 public:
  void RunStarted() override { ++started; }
  void RunFinished(const std::string& reason) override { finished.push_back(reason); }
  void RunRefused() override { ++refused; }
  void ClaimConflict() override { ++conflicts; }
  int started = 0, refused = 0, conflicts = 0;
  std::vector<std::string> finished;
};

class ControllerTest : public ::testing::Test {
 protected:
  ControllerTest() { Make(); }
  void Make(int64_t pid = 500, int max_warmups = 4) {
    AgentIdentity self{"vm-a", "default", {}, "guest", "boot-1", pid};
    ControllerOptions opt;
    opt.sample_interval = 1s;
    opt.report_interval = 5s;
    opt.kill_grace = 10s;
    opt.max_concurrent_warmups = max_warmups;
    ctl_ = std::make_unique<RunController>(self, opt, &api_, &exec_, &journal_, &clock_, &metrics_);
    ctl_->SetWakeup([this] {
      {
        std::lock_guard<std::mutex> l(wake_mu_);
        woken_ = true;
      }
      wake_cv_.notify_all();
    });
  }
  // What the agent's loop does when a warm-up thread wakes it, until no run is warming up
  // (bounded: a lost wake-up fails the test's expectations instead of hanging).
  void AwaitWarmUps() {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (ctl_->WarmingCount() > 0 && std::chrono::steady_clock::now() < deadline) {
      {
        std::unique_lock<std::mutex> l(wake_mu_);
        wake_cv_.wait_until(l, deadline, [&] { return woken_; });
        woken_ = false;
      }
      ctl_->CollectWarmUps();
    }
  }
  json WithDependency(const std::string& name) {
    return api_.PutRun(
        MakeRun(name).Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").Dependency("db.example", 5432).Obj());
  }
  json Stored(const std::string& name) { return *api_.Run("default", name); }
  std::string Uid(const std::string& name) { return testing::RunBuilder::UidFor(name); }
  json Allocated(const std::string& name) {
    return api_.PutRun(MakeRun(name).Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").Obj());
  }
  void Advance(std::chrono::milliseconds d) {
    clock_.Advance(d);
    ctl_->Tick();
  }

  FakeClock clock_;
  FakeRunApi api_;
  FakeExecEnv exec_;
  MemoryJournal journal_;
  RecordingMetrics metrics_;
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool woken_ = false;
  std::unique_ptr<RunController> ctl_;
};

TEST_F(ControllerTest, ClaimsStartsReportsAndFinishes) {
  json obj = Allocated("r1");
  ctl_->OnRun(obj);
  json s = Stored("r1");
  EXPECT_EQ(s["status"]["phase"], "Running");
  EXPECT_EQ(s["status"]["agent"]["instance"], "vm-a");
  EXPECT_EQ(s["status"]["agent"]["pid"], 500);
  ASSERT_EQ(exec_.launches(), 1);
  auto proc = exec_.Get(Uid("r1"));
  EXPECT_EQ(proc->spec.argv, (std::vector<std::string>{"/bin/sh", "-c", "echo hello"}));
  EXPECT_EQ(proc->spec.limits.cpu_milli, 1000);
  EXPECT_EQ(journal_.Get(Uid("r1"))->state, JournalState::kRunning);

  exec_.SetSample(Uid("r1"), Sample{0.5, 10 << 20, 12 << 20, 8 << 20, 0, 0, 0, 0, 0, 0, "guest", 0, true});
  ctl_->Tick();  // first report goes out at once
  s = Stored("r1");
  EXPECT_EQ(s["status"]["usage"]["peaks"]["memoryBytes"], 12 << 20);
  EXPECT_EQ(s["status"]["conditions"][0]["type"], "DependenciesReady");
  EXPECT_EQ(s["status"]["conditions"][0]["status"], "True");
  EXPECT_EQ(s["status"]["agent"]["appliedAllocation"]["cpuCores"], "1");

  exec_.Exit(Uid("r1"), 0);
  Advance(1s);
  s = Stored("r1");
  EXPECT_EQ(s["status"]["phase"], "Succeeded");
  EXPECT_EQ(s["status"]["result"]["reason"], "Completed");
  EXPECT_EQ(s["status"]["result"]["exitCode"], 0);
  EXPECT_EQ(journal_.Get(Uid("r1"))->state, JournalState::kReported);
  EXPECT_EQ(ctl_->ActiveCount(), 0u);
  EXPECT_EQ(exec_.cleanups(), 1);
  EXPECT_EQ(metrics_.started, 1);
  EXPECT_EQ(metrics_.finished, std::vector<std::string>{"Completed"});

  // A replayed event for the finished run never starts it again.
  ctl_->OnRun(obj);
  ctl_->OnRun(Stored("r1"));
  EXPECT_EQ(exec_.launches(), 1);
}

TEST_F(ControllerTest, JournalIsWrittenBeforeTheClaim) {
  json obj = Allocated("r1");
  journal_.FailWrites(true);
  ctl_->OnRun(obj);
  EXPECT_EQ(api_.status_writes(), 0) << "no claim without a durable journal entry";
  EXPECT_EQ(exec_.launches(), 0);
  journal_.FailWrites(false);
  ctl_->OnRun(obj);
  EXPECT_EQ(exec_.launches(), 1);
}

TEST_F(ControllerTest, ClaimConflictWithAnotherAgentRunsOnce) {
  json obj = Allocated("r1");
  // A second agent claims between our read and our write.
  api_.BeforeNextWrite([](json* o) {
    (*o)["status"]["phase"] = "Running";
    (*o)["status"]["agent"] = {{"instance", "vm-a"}, {"pid", 999}, {"bootID", "boot-1"}};
  });
  ctl_->OnRun(obj);
  EXPECT_EQ(exec_.launches(), 0);
  EXPECT_EQ(metrics_.conflicts, 1);
  EXPECT_EQ(Stored("r1")["status"]["agent"]["pid"], 999);
  EXPECT_EQ(journal_.Get(Uid("r1"))->state, JournalState::kReported) << "tombstone: never claimed again";
  ctl_->OnRun(obj);
  EXPECT_EQ(exec_.launches(), 0);
}

TEST_F(ControllerTest, PreemptedBeforeTheClaimIsClaimedWhenAllocatedHereAgain) {
  json obj = Allocated("r1");
  // The operator takes the allocation back (a higher-priority run) between our read and our write.
  api_.BeforeNextWrite([](json* o) {
    (*o)["status"]["phase"] = "Queued";
    (*o)["status"].erase("allocation");
  });
  ctl_->OnRun(obj);
  EXPECT_EQ(exec_.launches(), 0);
  EXPECT_EQ(metrics_.conflicts, 1);
  EXPECT_FALSE(journal_.Get(Uid("r1")).has_value()) << "nothing ran: no tombstone for a run nobody holds";
  // Later the same run is allocated on this instance again: it is claimed and started once.
  ctl_->OnRun(Allocated("r1"));
  EXPECT_EQ(exec_.launches(), 1);
  EXPECT_EQ(Stored("r1")["status"]["phase"], "Running");
}

TEST_F(ControllerTest, TwoAgentsSameInstanceExactlyOnce) {
  FakeExecEnv exec2;
  MemoryJournal journal2;
  RunController other(AgentIdentity{"vm-a", "default", {}, "guest", "boot-1", 501}, ControllerOptions{}, &api_, &exec2,
                      &journal2, &clock_);
  json obj = Allocated("r1");
  // Both see the same Allocated object.
  ctl_->OnRun(obj);
  other.OnRun(obj);
  EXPECT_EQ(exec_.launches() + exec2.launches(), 1);
}

TEST_F(ControllerTest, ConflictFromAnUnrelatedWriteStillClaims) {
  json obj = Allocated("r1");
  // The operator touched a condition meanwhile: the run is still Allocated and unclaimed.
  api_.BeforeNextWrite([](json* o) { (*o)["status"]["conditions"] = json::array({{{"type", "Placed"}, {"status", "True"}}}); });
  ctl_->OnRun(obj);
  EXPECT_EQ(exec_.launches(), 1);
  EXPECT_EQ(Stored("r1")["status"]["conditions"][0]["type"], "Placed") << "the operator's write is kept";
}

TEST_F(ControllerTest, RefusesRunWithoutAllocation) {
  json obj = api_.PutRun(MakeRun("r1").Instance("vm-a").Phase("Allocated").Obj());
  ctl_->OnRun(obj);
  json s = Stored("r1");
  EXPECT_EQ(s["status"]["phase"], "Failed");
  EXPECT_EQ(s["status"]["result"]["reason"], "Refused");
  EXPECT_NE(s["status"]["result"]["message"].get<std::string>().find("allocation"), std::string::npos);
  EXPECT_EQ(exec_.launches(), 0);
  EXPECT_EQ(metrics_.refused, 1);
}

TEST_F(ControllerTest, RefusesInvalidRunHandedToIt) {
  json run = MakeRun("r1").Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").Obj();
  run["spec"]["workingDir"] = "relative/dir";
  json obj = api_.PutRun(run);
  ctl_->OnRun(obj);
  json s = Stored("r1");
  EXPECT_EQ(s["status"]["result"]["reason"], "Refused");
  EXPECT_NE(s["status"]["result"]["message"].get<std::string>().find("spec.workingDir"), std::string::npos);
  EXPECT_EQ(exec_.launches(), 0);
}

TEST_F(ControllerTest, IgnoresRunsForOtherInstances) {
  json obj = api_.PutRun(MakeRun("r1").Instance("vm-b").Phase("Allocated").Allocation("1", "256Mi").Obj());
  ctl_->OnRun(obj);
  EXPECT_EQ(api_.status_writes(), 0);
  EXPECT_EQ(exec_.launches(), 0);
}

TEST_F(ControllerTest, GrowthIsAppliedToTheLiveCgroup) {
  ctl_->OnRun(Allocated("r1"));
  ctl_->Tick();
  json grown = Stored("r1");
  grown["status"]["allocation"]["memory"] = "1Gi";
  grown["status"]["allocation"]["cpuCores"] = "2";
  grown = api_.PutRun(grown);
  ctl_->OnRun(grown);
  auto proc = exec_.Get(Uid("r1"));
  EXPECT_EQ(proc->limits.memory_bytes, 1LL << 30);
  EXPECT_EQ(proc->limits.cpu_milli, 2000);
  EXPECT_EQ(exec_.launches(), 1) << "no restart";
  Advance(1s);  // forced report, above the floor
  EXPECT_EQ(Stored("r1")["status"]["agent"]["appliedAllocation"]["memory"], "1Gi");
  EXPECT_EQ(journal_.Get(Uid("r1"))->applied->memory_bytes, 1LL << 30);
}

TEST_F(ControllerTest, GrowthFailureIsRetriedOnTheNextEvent) {
  ctl_->OnRun(Allocated("r1"));
  json grown = Stored("r1");
  grown["status"]["allocation"]["memory"] = "1Gi";
  grown = api_.PutRun(grown);
  exec_.FailSetLimits(true);
  ctl_->OnRun(grown);
  EXPECT_EQ(exec_.Get(Uid("r1"))->limits.memory_bytes, 256 << 20);
  exec_.FailSetLimits(false);
  ctl_->OnRun(grown);
  EXPECT_EQ(exec_.Get(Uid("r1"))->limits.memory_bytes, 1LL << 30);
}

TEST_F(ControllerTest, UsageReportsAreRateLimited) {
  ctl_->OnRun(Allocated("r1"));
  double cpu = 0;
  auto busy = [&] {  // usage that changes every second
    cpu += 0.5;
    exec_.SetSample(Uid("r1"), Sample{cpu, 10 << 20, 10 << 20, 0, 0, 0, 0, 0, 0, 0, "guest", 0, true});
  };
  busy();
  ctl_->Tick();  // first report
  int writes = api_.status_writes();
  for (int i = 0; i < 4; ++i) {
    busy();
    Advance(1s);
  }
  EXPECT_EQ(api_.status_writes(), writes) << "no report within the 5 s interval";
  busy();
  Advance(1s);
  EXPECT_EQ(api_.status_writes(), writes + 1);
  for (int i = 0; i < 20; ++i) {
    busy();
    Advance(1s);
  }
  EXPECT_EQ(api_.status_writes(), writes + 5) << "one every 5 s";
}

TEST_F(ControllerTest, UnchangedUsageIsReportedOnlyAsKeepAlive) {
  ctl_->OnRun(Allocated("r1"));
  exec_.SetSample(Uid("r1"), Sample{1.0, 10 << 20, 10 << 20, 0, 0, 0, 0, 0, 0, 0, "guest", 0, true});
  ctl_->Tick();  // first report at t=0
  int writes = api_.status_writes();
  for (int i = 0; i < 28; ++i) Advance(1s);
  EXPECT_EQ(api_.status_writes(), writes) << "an idle run costs no writes for 6 intervals";
  for (int i = 0; i < 3; ++i) Advance(1s);
  EXPECT_EQ(api_.status_writes(), writes + 1) << "keep-alive at 30 s";
}

TEST_F(ControllerTest, PeakCoresFromSampleDeltas) {
  ctl_->OnRun(Allocated("r1"));
  exec_.SetSample(Uid("r1"), Sample{1.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "guest", 0, true});
  ctl_->Tick();
  exec_.SetSample(Uid("r1"), Sample{2.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, "guest", 0, true});
  Advance(1s);
  exec_.SetSample(Uid("r1"), Sample{3.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "guest", 0, true});
  Advance(1s);
  exec_.Exit(Uid("r1"), 0);
  Advance(1s);
  json s = Stored("r1");
  EXPECT_DOUBLE_EQ(s["status"]["usage"]["peaks"]["cpuCores"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(s["status"]["usage"]["totals"]["cpuSeconds"].get<double>(), 3.0);
}

TEST_F(ControllerTest, FinalReportIsRetriedUntilAcknowledged) {
  ctl_->OnRun(Allocated("r1"));
  ctl_->Tick();
  api_.FailStatusWrites(3, Status(Code::kServerError, "injected 503"));
  exec_.Kill(Uid("r1"), SIGKILL);
  exec_.SetSample(Uid("r1"), Sample{0, 0, 256 << 20, 0, 0, 0, 0, 0, 0, 0, "guest", 1, false});
  Advance(1s);
  EXPECT_EQ(Stored("r1")["status"]["phase"], "Running");
  auto e = journal_.Get(Uid("r1"));
  EXPECT_EQ(e->state, JournalState::kFinished) << "the final report waits in the journal";
  EXPECT_EQ(e->result->reason, "OOMKilled");
  EXPECT_FALSE(ctl_->FinalsFlushed());
  for (int i = 0; i < 20 && !ctl_->FinalsFlushed(); ++i) Advance(ctl_->NextTickIn() + 1ms);
  json s = Stored("r1");
  EXPECT_EQ(s["status"]["phase"], "Failed");
  EXPECT_EQ(s["status"]["result"]["reason"], "OOMKilled");
  EXPECT_EQ(s["status"]["result"]["oomKilled"], true);
  EXPECT_EQ(s["status"]["result"]["exitCode"], 137);
  EXPECT_EQ(journal_.Get(Uid("r1"))->state, JournalState::kReported);
}

TEST_F(ControllerTest, TimeoutSendsTermThenKill) {
  json run = MakeRun("r1").Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").Timeout(3).Obj();
  ctl_->OnRun(api_.PutRun(run));
  for (int i = 0; i < 3; ++i) Advance(1s);
  EXPECT_EQ(exec_.Get(Uid("r1"))->signals, std::vector<int>{SIGTERM});
  for (int i = 0; i < 10; ++i) Advance(1s);
  EXPECT_EQ(exec_.Get(Uid("r1"))->signals, (std::vector<int>{SIGTERM, SIGKILL}));
  exec_.Kill(Uid("r1"), SIGKILL);
  Advance(1s);
  EXPECT_EQ(Stored("r1")["status"]["result"]["reason"], "Timeout");
}

TEST_F(ControllerTest, DependencyFailureFailsTheRunWithoutStarting) {
  json run = MakeRun("r1").Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").Dependency("db.invalid", 5432).Obj();
  exec_.SetWarmUp({DependencyCheck{Dependency{"db.invalid", 5432, "declared"}, false, 3.0, 0, "NXDOMAIN"}});
  ctl_->OnRun(api_.PutRun(run));
  AwaitWarmUps();
  EXPECT_EQ(exec_.launches(), 0);
  json s = Stored("r1");
  EXPECT_EQ(s["status"]["phase"], "Failed");
  EXPECT_EQ(s["status"]["result"]["reason"], "DependencyFailed");
  EXPECT_EQ(s["status"]["conditions"][0]["type"], "DependenciesReady");
  EXPECT_EQ(s["status"]["conditions"][0]["status"], "False");
  EXPECT_NE(s["status"]["conditions"][0]["message"].get<std::string>().find("db.invalid:5432 failed: NXDOMAIN"),
            std::string::npos);
}

TEST_F(ControllerTest, LaunchFailureIsReported) {
  exec_.FailLaunch(InternalError("cannot create cgroup memory/prescient/x: Permission denied"));
  ctl_->OnRun(Allocated("r1"));
  json s = Stored("r1");
  EXPECT_EQ(s["status"]["phase"], "Failed");
  EXPECT_NE(s["status"]["result"]["message"].get<std::string>().find("Permission denied"), std::string::npos);
}

TEST_F(ControllerTest, DrainingStopsClaiming) {
  ctl_->BeginDrain();
  ctl_->OnRun(Allocated("r1"));
  EXPECT_EQ(api_.status_writes(), 0);
}

TEST_F(ControllerTest, DeletionCancelsTheCommand) {
  ctl_->OnRun(Allocated("r1"));
  json del = Stored("r1");
  del["metadata"]["deletionTimestamp"] = "2026-11-28T07:00:00Z";
  ctl_->OnRun(del);
  EXPECT_EQ(exec_.Get(Uid("r1"))->signals, std::vector<int>{SIGTERM});
}

TEST_F(ControllerTest, ShadowRunsOffTheLoopAndReports) {
  json obj = api_.PutRun(MakeRun("r1").Instance("vm-a").Phase("Shadowing").ShadowRequested(5).Obj());
  ctl_->OnRun(obj);
  ctl_->OnRun(obj);  // a second event while it runs does not start a second one
  // The shadow runs on its own thread: poll (bounded) until its result has been written.
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (Stored("r1")["status"]["shadow"]["requested"] == true && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
    ctl_->Tick();
  }
  json s = Stored("r1");
  EXPECT_EQ(s["status"]["shadow"]["requested"], false);
  EXPECT_EQ(s["status"]["shadow"]["result"]["usage"]["peaks"]["memoryBytes"], 42 << 20);
  EXPECT_EQ(exec_.shadows(), 1);
  EXPECT_EQ(exec_.launches(), 0);
}

// ---- restart recovery ------------------------------------------------------------------------

class RecoveryTest : public ControllerTest {
 protected:
  // Runs r1 under a first agent process (pid 400), then "kill -9": a new controller with pid 500
  // over the same journal, API and host.
  void StartUnderPreviousAgent() {
    Make(400);
    ctl_->OnRun(Allocated("r1"));
    ctl_->Tick();
    ASSERT_EQ(exec_.launches(), 1);
    Make(500);
  }
};

TEST_F(RecoveryTest, ReattachesToALiveRun) {
  StartUnderPreviousAgent();
  ctl_->Recover();
  EXPECT_EQ(ctl_->RunningCount(), 1u);
  EXPECT_EQ(exec_.launches(), 1) << "never launched twice";
  exec_.Exit(Uid("r1"), 7);
  Advance(1s);
  json s = Stored("r1");
  EXPECT_EQ(s["status"]["result"]["exitCode"], 7);
  EXPECT_EQ(s["status"]["result"]["reason"], "Error");
  // Events after recovery do not start it either.
  ctl_->OnRun(s);
  EXPECT_EQ(exec_.launches(), 1);
}

TEST_F(RecoveryTest, FinalizesARunThatExitedWhileAway) {
  StartUnderPreviousAgent();
  exec_.Exit(Uid("r1"), 0);
  ctl_->Recover();
  EXPECT_EQ(Stored("r1")["status"]["phase"], "Succeeded");
  EXPECT_EQ(exec_.launches(), 1);
}

TEST_F(RecoveryTest, ReportsLostWhenProcessAndRecordAreGone) {
  StartUnderPreviousAgent();
  exec_.Adopt(Uid("r1"), false, std::nullopt);
  ctl_->Recover();
  json s = Stored("r1");
  EXPECT_EQ(s["status"]["phase"], "Failed");
  EXPECT_EQ(s["status"]["result"]["reason"], "Lost");
  EXPECT_FALSE(s["status"]["result"].contains("exitCode")) << "an unknown exit code is not invented";
}

TEST_F(RecoveryTest, ResendsAPendingFinal) {
  Make(400);
  ctl_->OnRun(Allocated("r1"));
  api_.FailStatusWrites(100, Status(Code::kUnavailable, "injected: API down"));
  exec_.Exit(Uid("r1"), 0);
  ctl_->Tick();
  ASSERT_EQ(journal_.Get(Uid("r1"))->state, JournalState::kFinished);
  Make(500);  // kill -9 while the API is down
  api_.ClearFaults();  // the API is back
  ctl_->Recover();
  EXPECT_EQ(Stored("r1")["status"]["phase"], "Succeeded");
  EXPECT_EQ(journal_.Get(Uid("r1"))->state, JournalState::kReported);
  EXPECT_EQ(exec_.launches(), 1);
}

TEST_F(RecoveryTest, LaunchesAClaimThatNeverStarted) {
  // Previous agent claimed and died before launching.
  Make(400);
  json obj = Allocated("r1");
  exec_.FailLaunch(Status(Code::kCancelled, "simulated crash before launch"));
  JournalEntry e;
  e.uid = Uid("r1");
  e.ns = "default";
  e.name = "r1";
  e.state = JournalState::kClaimed;
  e.agent_pid = 400;
  e.boot_id = "boot-1";
  ASSERT_TRUE(journal_.Put(e).ok());
  json claimed = obj;
  claimed["status"]["phase"] = "Running";
  claimed["status"]["agent"] = {{"instance", "vm-a"}, {"pid", 400}, {"bootID", "boot-1"}};
  api_.PutRun(claimed);
  exec_.FailLaunch(Status());
  Make(500);
  ctl_->Recover();
  EXPECT_EQ(exec_.launches(), 1);
  EXPECT_EQ(journal_.Get(Uid("r1"))->state, JournalState::kRunning);
}

TEST_F(RecoveryTest, ApiUnreachableAtStartIsRetried) {
  StartUnderPreviousAgent();
  api_.FailGets(true);
  ctl_->Recover();
  EXPECT_EQ(ctl_->UnresolvedCount(), 1u);
  EXPECT_EQ(ctl_->RunningCount(), 0u);
  ctl_->OnRun(Stored("r1"));  // an event meanwhile does not start anything
  EXPECT_EQ(exec_.launches(), 1);
  api_.FailGets(false);
  Advance(3s);
  EXPECT_EQ(ctl_->UnresolvedCount(), 0u);
  EXPECT_EQ(ctl_->RunningCount(), 1u);
}

}  // namespace
}  // namespace prescient::agent

namespace prescient::agent {
namespace {

TEST_F(ControllerTest, OneDurableWriteBeforeExec) {
  // Claiming (before the claim) is the only journal write before the launch; Running follows it.
  exec_.OnLaunch([this] { EXPECT_EQ(journal_.writes(), 1) << "only Claiming before the launch"; });
  ctl_->OnRun(Allocated("r1"));
  EXPECT_EQ(exec_.launches(), 1);
  EXPECT_EQ(journal_.writes(), 2) << "Claiming + Running";
}

TEST_F(ControllerTest, DependencyWarmUpRunsOffTheLoopThread) {
  exec_.HoldWarmUps();  // a DNS server that does not answer
  ctl_->OnRun(WithDependency("r1"));
  // OnRun returned while the warm-up is still blocked: the loop thread is free.
  ASSERT_TRUE(exec_.AwaitWarmUpsBlocked(1));
  EXPECT_EQ(Stored("r1")["status"]["phase"], "Running") << "claimed before warming up";
  EXPECT_EQ(exec_.launches(), 0);
  EXPECT_EQ(ctl_->WarmingCount(), 1u);
  ctl_->OnRun(Allocated("r2"));  // other runs start meanwhile
  EXPECT_EQ(exec_.launches(), 1);
  Advance(2s);  // sampling skips the warming run: not Lost, not sampled
  EXPECT_FALSE(Stored("r1")["status"].contains("result"));
  exec_.ReleaseWarmUps();
  AwaitWarmUps();
  EXPECT_EQ(exec_.launches(), 2);
  ASSERT_TRUE(exec_.Get(Uid("r1")).has_value());
  Advance(1s);
  json s = Stored("r1");
  EXPECT_EQ(s["status"]["conditions"][0]["type"], "DependenciesReady");
  EXPECT_EQ(s["status"]["conditions"][0]["status"], "True");
  EXPECT_NE(s["status"]["conditions"][0]["message"].get<std::string>().find("db.example:5432"), std::string::npos);
}

TEST_F(ControllerTest, DependencyWarmUpsAreBounded) {
  Make(500, 2);
  exec_.HoldWarmUps();
  for (const char* n : {"r1", "r2", "r3", "r4", "r5"}) ctl_->OnRun(WithDependency(n));
  ASSERT_TRUE(exec_.AwaitWarmUpsBlocked(2));
  EXPECT_EQ(ctl_->WarmingCount(), 5u);
  exec_.ReleaseWarmUps();
  AwaitWarmUps();
  EXPECT_EQ(exec_.launches(), 5);
  EXPECT_EQ(exec_.max_warmups_in_flight(), 2);
}

TEST_F(ControllerTest, DeletedWhileWarmingUpNeverStarts) {
  exec_.HoldWarmUps();
  ctl_->OnRun(WithDependency("r1"));
  ASSERT_TRUE(exec_.AwaitWarmUpsBlocked(1));
  json del = Stored("r1");
  del["metadata"]["deletionTimestamp"] = "2026-11-28T07:00:00Z";
  ctl_->OnRun(del);
  exec_.ReleaseWarmUps();
  AwaitWarmUps();
  EXPECT_EQ(exec_.launches(), 0);
  EXPECT_NE(Stored("r1")["status"]["result"]["message"].get<std::string>().find("cancelled"), std::string::npos);
}

TEST_F(ControllerTest, TickYieldsToWaitingEventsAndResumes) {
  for (const char* n : {"r1", "r2", "r3"}) ctl_->OnRun(Allocated(n));
  ctl_->Tick();  // first reports
  for (const char* n : {"r1", "r2", "r3"}) exec_.Exit(Uid(n), 0);
  int asked = 0;
  ctl_->SetYield([&] { return ++asked == 1; });  // an event arrives during the first final
  Advance(1s);
  EXPECT_TRUE(ctl_->TickUnfinished());
  int finished = 0;
  for (const char* n : {"r1", "r2", "r3"}) finished += Stored(n)["status"]["phase"] == "Succeeded";
  EXPECT_EQ(finished, 1) << "one final, then the loop's events";
  ctl_->Tick();  // resumes with the two runs not visited yet
  EXPECT_FALSE(ctl_->TickUnfinished());
  for (const char* n : {"r1", "r2", "r3"}) EXPECT_EQ(Stored(n)["status"]["phase"], "Succeeded") << n;
}

TEST_F(ControllerTest, UnenforceableLimitsAreReportedInACondition) {
  exec_.SetUnenforced({"network priority: cgroup v2 has no net_prio controller"});
  ctl_->OnRun(Allocated("r1"));
  ctl_->Tick();
  json s = Stored("r1");
  bool found = false;
  for (auto& c : s["status"]["conditions"])
    if (c["type"] == "LimitsEnforced") {
      found = true;
      EXPECT_EQ(c["status"], "False");
      EXPECT_EQ(c["reason"], "PartiallyEnforced");
      EXPECT_NE(c["message"].get<std::string>().find("net_prio"), std::string::npos);
    }
  EXPECT_TRUE(found) << s.dump();
}

// ---- preemption while running (status.stopRequest) -------------------------------------------

class StopTest : public ControllerTest {
 protected:
  // The operator's resourceVersion-guarded write of status.stopRequest on the stored run.
  json RequestStop(const std::string& name, std::optional<int> grace_seconds) {
    json o = Stored(name);
    o["status"]["stopRequest"] = {{"reason", "Preempted"}, {"requestedBy", "urgent"}};
    if (grace_seconds) o["status"]["stopRequest"]["gracePeriodSeconds"] = *grace_seconds;
    return api_.PutRun(o);
  }
  // The operator's re-queue and new allocation: a fresh attempt, unclaimed.
  json Requeue(const std::string& name, int preemptions) {
    json o = Stored(name);
    o["status"] = {{"phase", "Allocated"}, {"preemptions", preemptions},
                   {"allocation", {{"instanceID", "vm-a"}, {"cpuCores", "1"}, {"memory", "256Mi"}}}};
    return api_.PutRun(o);
  }
};

TEST_F(StopTest, StopRequestSendsTermThenKillsAfterTheGraceAndReportsPreempted) {
  ctl_->OnRun(Allocated("r1"));
  exec_.SetSample(Uid("r1"), Sample{0.5, 10 << 20, 12 << 20, 8 << 20, 0, 0, 0, 0, 0, 0, "guest", 0, true});
  ctl_->Tick();
  ctl_->OnRun(RequestStop("r1", 5));
  EXPECT_EQ(exec_.Get(Uid("r1"))->signals, std::vector<int>{SIGTERM});
  ctl_->OnRun(Stored("r1"));  // a replayed event does not signal again
  for (int i = 0; i < 4; ++i) Advance(1s);
  EXPECT_EQ(exec_.Get(Uid("r1"))->signals, std::vector<int>{SIGTERM}) << "no SIGKILL inside the grace period";
  Advance(1s);
  EXPECT_EQ(exec_.Get(Uid("r1"))->signals, (std::vector<int>{SIGTERM, SIGKILL}));
  exec_.Kill(Uid("r1"), SIGKILL);
  Advance(1s);
  json s = Stored("r1");
  EXPECT_EQ(s["status"]["phase"], "Preempted");
  EXPECT_EQ(s["status"]["result"]["reason"], "Preempted");
  EXPECT_EQ(s["status"]["result"]["signal"], SIGKILL);
  EXPECT_NE(s["status"]["result"]["message"].get<std::string>().find("urgent"), std::string::npos);
  EXPECT_EQ(s["status"]["usage"]["peaks"]["memoryBytes"], 12 << 20) << "the final usage is reported";
  EXPECT_EQ(journal_.Get(Uid("r1"))->state, JournalState::kReported);
  EXPECT_EQ(metrics_.finished, std::vector<std::string>{"Preempted"});
  EXPECT_EQ(exec_.cleanups(), 1);

  // Never started again until the operator re-queues it ...
  ctl_->OnRun(s);
  EXPECT_EQ(exec_.launches(), 1);
  // ... and then once per attempt.
  json again = Requeue("r1", 1);
  ctl_->OnRun(again);
  EXPECT_EQ(exec_.launches(), 2);
  EXPECT_EQ(Stored("r1")["status"]["phase"], "Running");
  EXPECT_EQ(journal_.Get(Uid("r1"))->attempt, 1);
  ctl_->OnRun(again);
  EXPECT_EQ(exec_.launches(), 2);
  exec_.Exit(Uid("r1"), 0);
  Advance(1s);
  EXPECT_EQ(Stored("r1")["status"]["phase"], "Succeeded");
}

TEST_F(StopTest, DefaultGraceAndACommandThatExitsOnTerm) {
  ctl_->OnRun(Allocated("r1"));
  ctl_->OnRun(RequestStop("r1", std::nullopt));
  for (int i = 0; i < 29; ++i) Advance(1s);
  EXPECT_EQ(exec_.Get(Uid("r1"))->signals, std::vector<int>{SIGTERM}) << "the default grace is 30 s";
  exec_.Exit(Uid("r1"), 0);  // it handled SIGTERM and exited cleanly: still preempted, not Succeeded
  Advance(1s);
  json s = Stored("r1");
  EXPECT_EQ(s["status"]["phase"], "Preempted");
  EXPECT_EQ(s["status"]["result"]["exitCode"], 0);
}

TEST_F(StopTest, StopWhileWarmingUpNeverStarts) {
  exec_.HoldWarmUps();
  ctl_->OnRun(WithDependency("r1"));
  ASSERT_TRUE(exec_.AwaitWarmUpsBlocked(1));
  ctl_->OnRun(RequestStop("r1", 5));
  exec_.ReleaseWarmUps();
  AwaitWarmUps();
  EXPECT_EQ(exec_.launches(), 0);
  EXPECT_EQ(Stored("r1")["status"]["phase"], "Preempted");
}

TEST_F(StopTest, ALateFinalNeverOverwritesTheNextAttempt) {
  ctl_->OnRun(Allocated("r1"));
  ctl_->OnRun(RequestStop("r1", 0));
  // The Preempted report is stored, but its acknowledgement is lost (the write "fails"), and the
  // operator re-queues the run before the agent retries.
  api_.BeforeNextWrite([](json* stored) { (*stored)["status"]["preemptions"] = 1; (*stored)["status"]["phase"] = "Queued"; });
  exec_.Kill(Uid("r1"), SIGKILL);
  Advance(1s);
  json s = Stored("r1");
  EXPECT_EQ(s["status"]["phase"], "Queued") << s.dump();
  EXPECT_EQ(s["status"]["preemptions"], 1);
  EXPECT_EQ(journal_.Get(Uid("r1"))->state, JournalState::kReported);
}

TEST_F(RecoveryTest, StoppedWhileAwayIsReportedPreempted) {
  StartUnderPreviousAgent();
  json o = Stored("r1");
  o["status"]["stopRequest"] = {{"reason", "Preempted"}, {"requestedBy", "urgent"}};
  api_.PutRun(o);
  exec_.Kill(Uid("r1"), SIGTERM);  // our previous process signalled it, then died
  ctl_->Recover();
  json s = Stored("r1");
  EXPECT_EQ(s["status"]["phase"], "Preempted");
  EXPECT_EQ(s["status"]["result"]["reason"], "Preempted");
  EXPECT_EQ(exec_.launches(), 1);
}

}  // namespace
}  // namespace prescient::agent
