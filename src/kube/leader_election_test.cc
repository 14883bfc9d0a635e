#include "kube/leader_election.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "kube/fake_client.h"

namespace prescient::kube {
namespace {

using namespace std::chrono_literals;

template <typename Pred>
bool Eventually(Pred pred) {
  // Generous: a bounded poll returns as soon as pred holds; CI machines under sanitizers are slow.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

// Advances the fake clock in small steps (giving the elector's thread real time to react) until
// `pred` holds or `limit` of fake time has passed. Returns pred().
template <typename Pred>
bool AdvanceUntil(FakeClock& clock, std::chrono::milliseconds limit, Pred pred) {
  for (auto t = 0ms; t < limit; t += 100ms) {
    if (pred()) return true;
    clock.Advance(100ms);
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

LeaderElectionConfig Config(const std::string& id, Clock* clock) {
  LeaderElectionConfig c;
  c.lease_namespace = "prescient-system";
  c.lease_name = "prescient-operator";
  c.identity = id;
  c.clock = clock;
  return c;
}

std::string Holder(FakeClient& client) {
  auto l = client.Get(resources::kLease, "prescient-system", "prescient-operator");
  return l.ok() ? (*l)["spec"].value("holderIdentity", "") : "";
}

TEST(LeaderElectionTest, FirstCandidateCreatesTheLease) {
  FakeClock clock;
  FakeClient client(&clock);
  LeaderElector a(&client, Config("a", &clock));
  ASSERT_TRUE(a.TryAcquireOrRenew());
  auto lease = *client.Get(resources::kLease, "prescient-system", "prescient-operator");
  EXPECT_EQ(lease["spec"]["holderIdentity"], "a");
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 15);
  // MicroTime: microsecond RFC 3339.
  std::string renew = lease["spec"]["renewTime"];
  EXPECT_EQ(renew.size(), std::string("2023-11-14T22:13:20.000000Z").size()) << renew;
}

TEST(LeaderElectionTest, SecondCandidateWaitsForExpiryByLocalObservation) {
  FakeClock clock;
  FakeClient client(&clock);
  LeaderElector a(&client, Config("a", &clock));
  std::vector<std::string> leaders_seen_by_b;
  auto bcfg = Config("b", &clock);
  LeaderElector* bp = nullptr;
  bcfg.on_new_leader = [&](const std::string& id) {
    leaders_seen_by_b.push_back(id);
    EXPECT_FALSE(bp->IsLeader());  // callbacks run without the elector's lock held
  };
  LeaderElector b(&client, bcfg);
  bp = &b;
  ASSERT_TRUE(a.TryAcquireOrRenew());
  EXPECT_FALSE(b.TryAcquireOrRenew());  // b first observes the record now
  EXPECT_EQ(b.ObservedLeader(), "a");
  EXPECT_EQ(leaders_seen_by_b, std::vector<std::string>{"a"});
  clock.Advance(10s);
  ASSERT_TRUE(a.TryAcquireOrRenew());   // renewal changes the record...
  clock.Advance(10s);
  EXPECT_FALSE(b.TryAcquireOrRenew());  // ...so b restarts its 15 s from when it saw the change
  clock.Advance(14s);
  EXPECT_FALSE(b.TryAcquireOrRenew());
  clock.Advance(1s);
  EXPECT_TRUE(b.TryAcquireOrRenew());  // a stopped renewing 15 s ago (by b's observation)
  EXPECT_EQ(Holder(client), "b");
  auto lease = *client.Get(resources::kLease, "prescient-system", "prescient-operator");
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 1);
  EXPECT_FALSE(a.TryAcquireOrRenew());  // a has lost it
}

TEST(LeaderElectionTest, RacingTakeoverLosesOnConflict) {
  FakeClock clock;
  FakeClient client(&clock);
  LeaderElector old(&client, Config("old", &clock));
  LeaderElector a(&client, Config("a", &clock));
  LeaderElector b(&client, Config("b", &clock));
  ASSERT_TRUE(old.TryAcquireOrRenew());
  EXPECT_FALSE(a.TryAcquireOrRenew());
  EXPECT_FALSE(b.TryAcquireOrRenew());
  clock.Advance(16s);
  // When b is about to PUT, a slips in first: b's PUT carries a stale resourceVersion.
  std::atomic<bool> once{true};
  client.SetHook([&](const std::string& verb, const ResourceType&, const std::string&, const std::string&) {
    if (verb == "update" && once.exchange(false)) {
      EXPECT_TRUE(a.TryAcquireOrRenew());
    }
    return Status::Ok();
  });
  EXPECT_FALSE(b.TryAcquireOrRenew());
  client.SetHook(nullptr);
  EXPECT_EQ(Holder(client), "a");
}

TEST(LeaderElectionTest, RunLeadsRenewsAndReleasesOnStop) {
  FakeClock clock;
  FakeClient client(&clock);
  std::atomic<int> started{0}, stopped{0};
  auto cfg = Config("a", &clock);
  cfg.on_started_leading = [&] { ++started; };
  cfg.on_stopped_leading = [&] { ++stopped; };
  LeaderElector a(&client, cfg);
  a.Start();
  // The elector marks itself leader before it calls on_started_leading: wait for both.
  ASSERT_TRUE(Eventually([&] { return a.IsLeader() && started.load() == 1; }));
  int calls = client.Calls("update");
  ASSERT_TRUE(AdvanceUntil(clock, 5s, [&] { return client.Calls("update") > calls; }));  // renewed
  a.Stop();
  EXPECT_FALSE(a.IsLeader());
  EXPECT_EQ(stopped.load(), 1);
  EXPECT_EQ(Holder(client), "");  // released
  // A successor takes a released lease at once.
  LeaderElector b(&client, Config("b", &clock));
  EXPECT_TRUE(b.TryAcquireOrRenew());
}

TEST(LeaderElectionTest, StopsLeadingWhenRenewalsFailPastTheDeadline) {
  FakeClock clock;
  FakeClient client(&clock);
  std::atomic<int> stopped{0};
  auto cfg = Config("a", &clock);
  cfg.on_stopped_leading = [&] { ++stopped; };
  LeaderElector a(&client, cfg);
  a.Start();
  ASSERT_TRUE(Eventually([&] { return a.IsLeader(); }));
  client.SetHook([](const std::string& verb, const ResourceType&, const std::string&, const std::string&) {
    return verb == "get" ? Status(Code::kUnavailable, "apiserver down") : Status::Ok();
  });
  // The last renewal was at most one retry period (2 s) ago, so for 7.9 s more it still leads...
  EXPECT_FALSE(AdvanceUntil(clock, 7900ms, [&] { return !a.IsLeader(); }));
  // ...and it gives up once 10 s pass without a renewal.
  ASSERT_TRUE(AdvanceUntil(clock, 10s, [&] { return !a.IsLeader(); }) || Eventually([&] { return !a.IsLeader(); }));
  // The elector clears its flag before it calls on_stopped_leading: wait for the callback too.
  EXPECT_TRUE(Eventually([&] { return stopped.load() == 1; }));
  client.SetHook(nullptr);
  a.Stop();
}

TEST(LeaderElectionTest, TwoElectorsNeverBothLead) {
  FakeClock clock;
  FakeClient client(&clock);
  LeaderElector a(&client, Config("a", &clock));
  LeaderElector b(&client, Config("b", &clock));
  a.Start();
  b.Start();
  ASSERT_TRUE(Eventually([&] { return a.IsLeader() || b.IsLeader(); }));
  for (int step = 0; step < 40; ++step) {
    EXPECT_FALSE(a.IsLeader() && b.IsLeader()) << "step " << step;
    clock.Advance(1s);
    std::this_thread::sleep_for(2ms);
  }
  LeaderElector* leader = a.IsLeader() ? &a : &b;
  LeaderElector* other = leader == &a ? &b : &a;
  leader->Stop();  // releases
  ASSERT_TRUE(AdvanceUntil(clock, 4s, [&] { return other->IsLeader(); }));  // no 15 s wait: it was released
  other->Stop();
}

}  // namespace
}  // namespace prescient::kube
