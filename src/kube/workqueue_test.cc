#include "kube/workqueue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "kube/controller.h"

namespace prescient::kube {
namespace {

using namespace std::chrono_literals;

// Polls `pred` for up to 30 s of real time.
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

TEST(WorkQueueTest, DeduplicatesWaitingKeys) {
  FakeClock clock;
  WorkQueue q(&clock);
  q.Add("a");
  q.Add("b");
  q.Add("a");
  EXPECT_EQ(q.Len(), 2u);
  std::string k;
  ASSERT_TRUE(q.Get(&k));
  EXPECT_EQ(k, "a");
  ASSERT_TRUE(q.Get(&k));
  EXPECT_EQ(k, "b");
}

TEST(WorkQueueTest, KeyInFlightIsNotHandedOutAgainUntilDone) {
  FakeClock clock;
  WorkQueue q(&clock);
  q.Add("a");
  std::string k;
  ASSERT_TRUE(q.Get(&k));
  q.Add("a");  // re-added while processing
  q.Add("a");
  EXPECT_EQ(q.Len(), 0u);  // not ready: a worker holds it
  q.Done("a");
  EXPECT_EQ(q.Len(), 1u);  // runs once more after Done
  ASSERT_TRUE(q.Get(&k));
  q.Done("a");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, NoKeyProcessedByTwoWorkersAtOnce) {
  WorkQueue q;
  std::atomic<int> in_flight_a{0}, max_in_flight_a{0}, processed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      std::string k;
      while (q.Get(&k)) {
        if (k == "a") {
          int n = ++in_flight_a;
          int m = max_in_flight_a.load();
          while (n > m && !max_in_flight_a.compare_exchange_weak(m, n)) {
          }
          std::this_thread::yield();
          --in_flight_a;
        }
        ++processed;
        q.Done(k);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) q.Add(i % 3 == 0 ? "a" : "k" + std::to_string(i % 50));
  q.ShutDownWithDrain();
  for (auto& t : workers) t.join();
  EXPECT_EQ(max_in_flight_a.load(), 1);
  EXPECT_GT(processed.load(), 0);
}

TEST(WorkQueueTest, AddAfterWaitsForTheClock) {
  FakeClock clock;
  WorkQueue q(&clock);
  q.AddAfter("later", 10s);
  q.AddAfter("later", 20s);  // a later duplicate does not postpone it
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.Waiting(), 1u);
  std::atomic<bool> got{false};
  std::thread t([&] {
    std::string k;
    if (q.Get(&k) && k == "later") got = true;
  });
  clock.Advance(9s);
  std::this_thread::sleep_for(5ms);
  EXPECT_FALSE(got.load());
  clock.Advance(1s);
  EXPECT_TRUE(Eventually([&] { return got.load(); }));
  t.join();
}

TEST(WorkQueueTest, EarlierAddAfterWins) {
  FakeClock clock;
  WorkQueue q(&clock);
  q.AddAfter("k", 30s);
  q.AddAfter("k", 1s);
  clock.Advance(1s);
  std::string k;
  ASSERT_TRUE(q.Get(&k));
  EXPECT_EQ(k, "k");
}

TEST(WorkQueueTest, ShutDownDrainsThenStops) {
  FakeClock clock;
  WorkQueue q(&clock);
  q.Add("a");
  q.Add("b");
  q.AddAfter("c", 1s);
  q.ShutDown();
  q.Add("d");  // refused
  std::string k;
  ASSERT_TRUE(q.Get(&k));
  ASSERT_TRUE(q.Get(&k));
  EXPECT_FALSE(q.Get(&k));
  EXPECT_TRUE(q.ShuttingDown());
}

TEST(WorkQueueTest, ShutDownWakesBlockedGet) {
  WorkQueue q;
  std::atomic<bool> returned{false};
  std::thread t([&] {
    std::string k;
    EXPECT_FALSE(q.Get(&k));
    returned = true;
  });
  q.ShutDown();
  t.join();
  EXPECT_TRUE(returned.load());
}

TEST(RateLimiterTest, PerItemExponential) {
  FakeClock clock;
  RateLimiter rl(&clock);
  EXPECT_EQ(rl.When("a"), 5ms);
  EXPECT_EQ(rl.When("a"), 10ms);
  EXPECT_EQ(rl.When("a"), 20ms);
  EXPECT_EQ(rl.When("b"), 5ms);  // independent per key
  EXPECT_EQ(rl.NumRequeues("a"), 3);
  rl.Forget("a");
  EXPECT_EQ(rl.NumRequeues("a"), 0);
  EXPECT_EQ(rl.When("a"), 5ms);
  for (int i = 0; i < 40; ++i) rl.When("c");
  EXPECT_EQ(rl.When("c"), std::chrono::nanoseconds(1000s));  // capped
}

TEST(RateLimiterTest, TokenBucketLimitsOverallRate) {
  FakeClock clock;
  RateLimiter rl(&clock);
  // Burst of 100 fresh keys passes at the per-item base delay.
  for (int i = 0; i < 100; ++i) EXPECT_EQ(rl.When("k" + std::to_string(i)), 5ms);
  // Then the bucket (10/s) dominates: the 101st waits 100 ms, the 102nd 200 ms.
  EXPECT_EQ(rl.When("x1"), 100ms);
  EXPECT_EQ(rl.When("x2"), 200ms);
  clock.Advance(10s);  // refills fully
  EXPECT_EQ(rl.When("x3"), 5ms);
}

class CountingReconciler : public Reconciler {
 public:
  Result<ReconcileResult> Reconcile(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu);
    ++calls[key];
    if (key == "fail" && calls[key] < 3) return Status(Code::kServerError, "transient");
    if (key == "requeue" && calls[key] == 1) return ReconcileResult{std::chrono::milliseconds(30'000)};
    return ReconcileResult{};
  }
  int Calls(const std::string& k) {
    std::lock_guard<std::mutex> lock(mu);
    return calls[k];
  }
  std::mutex mu;
  std::map<std::string, int> calls;
};

TEST(ControllerTest, ReconcileContract) {
  FakeClock clock;
  WorkQueue q(&clock);
  CountingReconciler r;
  Controller c("test", &q, &r, 2);
  c.Start();
  q.Add("ok");
  q.Add("fail");
  q.Add("requeue");
  // Both "fail" (after 5 ms) and "requeue" (after 30 s) wait on the clock.
  ASSERT_TRUE(Eventually([&] { return r.Calls("ok") == 1 && q.Waiting() == 2; }));
  // Error -> rate-limited requeue (5 ms, then 10 ms), then success forgets the failures.
  clock.Advance(5ms);
  ASSERT_TRUE(Eventually([&] { return r.Calls("fail") == 2 && q.Waiting() == 2; }));
  clock.Advance(10ms);
  ASSERT_TRUE(Eventually([&] { return r.Calls("fail") == 3; }));
  EXPECT_TRUE(Eventually([&] { return q.NumRequeues("fail") == 0; }));
  // requeue_after -> added after the delay, with no failure counted.
  EXPECT_EQ(q.NumRequeues("requeue"), 0);
  clock.Advance(29s);
  std::this_thread::sleep_for(5ms);
  EXPECT_EQ(r.Calls("requeue"), 1);
  clock.Advance(1s);
  ASSERT_TRUE(Eventually([&] { return r.Calls("requeue") == 2; }));
  c.Stop();
  EXPECT_EQ(r.Calls("ok"), 1);
}

}  // namespace
}  // namespace prescient::kube
