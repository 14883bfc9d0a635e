// Integration tests of the Kubernetes client runtime against a real prescient-sim process (HTTPS with
// its own CA, bearer token) started on port 0 per test: REST verbs and error decoding, long watch
// streams over cpprestsdk, the informer converging under injected faults (dropped watches, 410, 409,
// 429, 500, slow responses), leader election between two electors, and the bad-input paths (wrong CA,
// wrong token, unreachable server), each ending in one clear error.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "kube/config.h"
#include "kube/informer.h"
#include "kube/leader_election.h"
#include "kube/rest_client.h"
#include "testing/sim_process.h"

namespace prescient::kube {
namespace {

using namespace std::chrono_literals;
using testing::SimOptions;
using testing::SimProcess;

const char kNs[] = "kube-it";

template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = 20s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

class KubeIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sim = SimProcess::Start(SimOptions{});
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    sim_ = std::move(*sim);
    auto cfg = LoadKubeconfig({sim_->kubeconfig()}, "", true);
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    config_ = *cfg;
    client_ = NewClient(config_);
    ASSERT_NE(client_, nullptr);
    Json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", kNs}}}};
    auto r = client_->Create(resources::kNamespace, ns);
    ASSERT_TRUE(r.ok() || r.status().code() == Code::kAlreadyExists) << r.status().ToString();
  }

  void TearDown() override {
    if (HasFailure() && sim_) std::fprintf(stderr, "sim log tail:\n%s\n", sim_->LogTail().c_str());
  }

  static std::unique_ptr<Client> NewClient(const Config& c, RestOptions o = {}) {
    auto client = NewRestClient(c, o);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(*client) : nullptr;
  }

  Status SetFaults(const Json& faults) {
    auto r = client_->Raw("POST", "/admin/faults", faults.dump());
    return r.ok() ? Status::Ok() : r.status();
  }
  Status ClearFaults() {
    auto r = client_->Raw("DELETE", "/admin/faults");
    return r.ok() ? Status::Ok() : r.status();
  }

  static Json ConfigMap(const std::string& name, int value) {
    return {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"namespace", kNs}, {"labels", {{"suite", "kube-it"}}}}},
            {"data", {{"value", std::to_string(value)}}}};
  }

  std::unique_ptr<SimProcess> sim_;
  Config config_;
  std::unique_ptr<Client> client_;
};

TEST_F(KubeIntegrationTest, VerbsAndTypedErrors) {
  Client& c = *client_;
  auto created = c.Create(resources::kConfigMap, ConfigMap("a", 1));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(c.Create(resources::kConfigMap, ConfigMap("a", 1)).status().code(), Code::kAlreadyExists);
  auto missing = c.Get(resources::kConfigMap, kNs, "nope");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().http_code(), 404);
  EXPECT_EQ(missing.status().reason(), "NotFound");

  // Update with resourceVersion; the stale one is a Conflict.
  Json v1 = *created;
  v1["data"]["value"] = "2";
  auto updated = c.Update(resources::kConfigMap, v1);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(c.Update(resources::kConfigMap, v1).status().code(), Code::kConflict);

  // Patches: merge, JSON (a failing test is refused), server-side apply with a field manager.
  auto merged = c.Patch(resources::kConfigMap, kNs, "a", PatchType::kMerge, {{"data", {{"extra", "x"}}}});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ((*merged)["data"]["extra"], "x");
  auto tested = c.Patch(resources::kConfigMap, kNs, "a", PatchType::kJson,
                        Json::array({{{"op", "test"}, {"path", "/data/value"}, {"value", "2"}},
                                     {{"op", "replace"}, {"path", "/data/value"}, {"value", "3"}}}));
  ASSERT_TRUE(tested.ok()) << tested.status().ToString();
  auto failed_test = c.Patch(resources::kConfigMap, kNs, "a", PatchType::kJson,
                             Json::array({{{"op", "test"}, {"path", "/data/value"}, {"value", "2"}}}));
  EXPECT_FALSE(failed_test.ok());
  PatchOptions apply;
  apply.field_manager = "kube-it";
  auto applied = c.Patch(resources::kConfigMap, kNs, "applied", PatchType::kApply, ConfigMap("applied", 5), apply);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ((*applied)["data"]["value"], "5");

  // Paging.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.Create(resources::kConfigMap, ConfigMap("p" + std::to_string(i), i)).ok());
  ListOptions page;
  page.limit = 2;
  auto first = c.List(resources::kConfigMap, kNs, page);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->items.size(), 2u);
  EXPECT_FALSE(first->continue_token.empty());
  auto all = ListAll(c, resources::kConfigMap, kNs, page);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->items.size(), 7u);
  EXPECT_FALSE(all->resource_version.empty());

  // Delete with preconditions.
  DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "00000000-0000-0000-0000-000000000000";
  EXPECT_EQ(c.Delete(resources::kConfigMap, kNs, "a", wrong_uid).code(), Code::kConflict);
  DeleteOptions right;
  right.precondition_uid = (*created)["metadata"]["uid"];
  right.propagation = PropagationPolicy::kBackground;
  EXPECT_TRUE(c.Delete(resources::kConfigMap, kNs, "a", right).ok());
  EXPECT_EQ(c.Get(resources::kConfigMap, kNs, "a").status().code(), Code::kNotFound);
}

// The decision recorded in src/kube/README.md: cpprestsdk delivers each watch event as soon as the
// server flushes it, keeps a quiet stream open past its request timeout, ends cleanly at
// timeoutSeconds, and a cancellation ends it at once.
TEST_F(KubeIntegrationTest, WatchStreamsEventsAsTheyHappen) {
  RestOptions o;
  o.request_timeout = 1s;  // shorter than the quiet gaps below: a watch must not be bound by it
  auto c = NewClient(config_, o);
  auto list = c->List(resources::kConfigMap, kNs, {});
  ASSERT_TRUE(list.ok());
  ListOptions w;
  w.resource_version = list->resource_version;
  w.timeout_seconds = 4;
  w.allow_watch_bookmarks = true;
  std::mutex mu;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> seen;
  auto start = std::chrono::steady_clock::now();
  std::thread watcher([&] {
    Status st = c->Watch(resources::kConfigMap, kNs, w, [&](WatchEvent&& ev) {
      if (ev.type == EventType::kBookmark) return true;
      std::lock_guard<std::mutex> l(mu);
      seen.emplace_back(ObjectKey(ev.object), std::chrono::steady_clock::now());
      return true;
    });
    EXPECT_TRUE(st.ok()) << st.ToString();  // ended by the server at timeoutSeconds
  });
  std::vector<std::chrono::steady_clock::time_point> written;
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(1200ms);  // quiet for longer than the request timeout
    written.push_back(std::chrono::steady_clock::now());
    ASSERT_TRUE(client_->Create(resources::kConfigMap, ConfigMap("w" + std::to_string(i), i)).ok());
    // Each event arrives before the next write (streamed, not buffered until the end).
    ASSERT_TRUE(Eventually([&] {
      std::lock_guard<std::mutex> l(mu);
      return seen.size() == static_cast<size_t>(i + 1);
    }, 3s)) << "event " << i << " was not delivered while the stream stayed open";
  }
  watcher.join();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 3s);  // it ran until the server's timeoutSeconds
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].first, std::string(kNs) + "/w0");

  // Cancellation ends an open, quiet watch.
  Cancellation cancel;
  ListOptions forever;
  forever.resource_version = list->resource_version;
  forever.timeout_seconds = 300;
  std::atomic<bool> done{false};
  Status cancelled_status;
  std::thread t([&] {
    cancelled_status = c->Watch(resources::kConfigMap, kNs, forever, [](WatchEvent&&) { return true; }, &cancel);
    done = true;
  });
  std::this_thread::sleep_for(300ms);
  cancel.Cancel();
  EXPECT_TRUE(Eventually([&] { return done.load(); }, 5s));
  t.join();
  EXPECT_EQ(cancelled_status.code(), Code::kCancelled) << cancelled_status.ToString();
}

TEST_F(KubeIntegrationTest, WatchFromExpiredVersionIsExpired) {
  ASSERT_TRUE(client_->Create(resources::kConfigMap, ConfigMap("old", 0)).ok());
  auto list = client_->List(resources::kConfigMap, kNs, {});
  ASSERT_TRUE(list.ok());
  ASSERT_TRUE(SetFaults({{"historySize", 1}}).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client_->Create(resources::kConfigMap, ConfigMap("h" + std::to_string(i), i)).ok());
  ListOptions w;
  w.resource_version = list->resource_version;
  w.timeout_seconds = 5;
  bool got_error_event = false;
  Status st = client_->Watch(resources::kConfigMap, kNs, w, [&](WatchEvent&& ev) {
    if (ev.type == EventType::kError) got_error_event = true;
    return true;
  });
  EXPECT_EQ(st.code(), Code::kExpired) << st.ToString();
}

// Writes through faults, then checks that the informer's cache and what its handlers saw both equal
// the server's final state.
TEST_F(KubeIntegrationTest, InformerConvergesUnderFaults) {
  RestOptions fast;
  fast.retry.backoff = {10ms, 200ms, 2.0, 1.0};
  fast.retry.max_attempts = 8;
  auto informer_client = NewClient(config_, fast);
  InformerOptions io;
  io.ns = kNs;
  io.backoff = {20ms, 200ms, 2.0, 1.0};
  io.page_size = 7;
  Informer informer(informer_client.get(), resources::kConfigMap, io);
  std::mutex mu;
  std::map<std::string, std::string> seen;  // key -> data.value, as handlers reported
  informer.AddEventHandlers(EventHandlers{
      [&](const ObjectPtr& o) {
        std::lock_guard<std::mutex> l(mu);
        seen[ObjectKey(*o)] = (*o)["data"].value("value", "");
      },
      [&](const ObjectPtr&, const ObjectPtr& o) {
        std::lock_guard<std::mutex> l(mu);
        seen[ObjectKey(*o)] = (*o)["data"].value("value", "");
      },
      [&](const ObjectPtr& o) {
        std::lock_guard<std::mutex> l(mu);
        seen.erase(ObjectKey(*o));
      }});
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(client_->Create(resources::kConfigMap, ConfigMap("pre" + std::to_string(i), i)).ok());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(20s));

  // Faults on every request but /admin: dropped watches, a short history (410 on re-watch), injected
  // 409/429/500, slow responses with Retry-After.
  ASSERT_TRUE(SetFaults({{"dropWatches", true},
                         {"historySize", 5},
                         {"errorShare", 0.2},
                         {"errorCodes", {409, 429, 500}},
                         {"retryAfterSeconds", 0},
                         {"delayMs", 30},
                         {"delayShare", 0.2}})
                  .ok());
  auto writer = NewClient(config_, fast);
  std::mt19937 rng(7);
  int failures = 0;
  for (int op = 0; op < 120; ++op) {
    // dropWatches is an action: it closes the watches open now (the other faults stay set).
    if (op % 10 == 5) {
      ASSERT_TRUE(SetFaults({{"dropWatches", true}}).ok());
    }
    if (op == 60) {
      // Make a 410 very likely: drop the watch while every request fails (the informer backs off),
      // then write more than the history holds before it comes back.
      ASSERT_TRUE(SetFaults({{"errorShare", 1.0}, {"errorCodes", {500}}, {"dropWatches", true}}).ok());
      std::this_thread::sleep_for(300ms);
      ASSERT_TRUE(SetFaults({{"errorShare", 0.0}}).ok());
      for (int i = 0; i < 8; ++i) {
        auto r = writer->Create(resources::kConfigMap, ConfigMap("burst" + std::to_string(i), i));
        ASSERT_TRUE(r.ok()) << r.status().ToString();
      }
      ASSERT_TRUE(SetFaults({{"errorShare", 0.2}, {"errorCodes", {409, 429, 500}}}).ok());
    }
    std::string name = "obj" + std::to_string(rng() % 25);
    int kind = static_cast<int>(rng() % 3);
    Status st;
    for (int attempt = 0; attempt < 20; ++attempt) {  // the writer's own level-based retry
      auto cur = writer->Get(resources::kConfigMap, kNs, name);
      if (!cur.ok() && cur.status().code() != Code::kNotFound) {
        st = cur.status();
        continue;
      }
      if (!cur.ok()) {
        auto r = writer->Create(resources::kConfigMap, ConfigMap(name, op));
        st = r.ok() || r.status().code() == Code::kAlreadyExists ? Status::Ok() : r.status();
      } else if (kind == 0) {
        st = writer->Delete(resources::kConfigMap, kNs, name);
        if (st.code() == Code::kNotFound) st = Status::Ok();
      } else {
        Json next = *cur;
        next["data"]["value"] = std::to_string(op);
        auto r = writer->Update(resources::kConfigMap, next);
        st = r.ok() ? Status::Ok() : r.status();
      }
      if (st.ok()) break;
      ++failures;
    }
    ASSERT_TRUE(st.ok()) << "write kept failing through faults: " << st.ToString();
  }
  ASSERT_TRUE(ClearFaults().ok());
  auto truth = [&] {
    std::map<std::string, std::string> m;
    auto all = ListAll(*client_, resources::kConfigMap, kNs);
    EXPECT_TRUE(all.ok()) << all.status().ToString();
    if (!all.ok()) return m;
    for (const auto& o : all->items) m[ObjectKey(o)] = o["data"].value("value", "");
    return m;
  };
  auto cache = [&] {
    std::map<std::string, std::string> m;
    for (const auto& o : informer.store().List()) m[ObjectKey(*o)] = (*o)["data"].value("value", "");
    return m;
  };
  auto want = truth();
  ASSERT_TRUE(Eventually([&] { return cache() == want; }, 30s)) << "cache did not converge";
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_EQ(seen, want) << "handlers missed events";
  }
  auto stats = informer.stats();
  EXPECT_GT(stats.watches, 1u) << "dropped watches should have forced reconnects";
  std::fprintf(stderr, "informer under faults: lists=%llu watches=%llu expired=%llu watch_errors=%llu events=%llu writer_retries=%d\n",
               static_cast<unsigned long long>(stats.lists), static_cast<unsigned long long>(stats.watches),
               static_cast<unsigned long long>(stats.expired), static_cast<unsigned long long>(stats.watch_errors),
               static_cast<unsigned long long>(stats.events), failures);
  informer.Stop();
}

TEST_F(KubeIntegrationTest, TwoElectorsNeverBothLead) {
  auto ca = NewClient(config_);
  auto cb = NewClient(config_);
  auto make = [&](const std::string& id) {
    LeaderElectionConfig c;
    c.lease_namespace = kNs;
    c.lease_name = "kube-it-leader";
    c.identity = id;
    c.lease_duration = 3s;  // 1.5 s of margin over the renew deadline, for a loaded CI machine
    c.renew_deadline = 1500ms;
    c.retry_period = 200ms;
    return c;
  };
  LeaderElector a(ca.get(), make("a"));
  LeaderElector b(cb.get(), make("b"));
  a.Start();
  b.Start();
  ASSERT_TRUE(Eventually([&] { return a.IsLeader() || b.IsLeader(); }, 10s));
  ASSERT_TRUE(SetFaults({{"errorShare", 0.2}, {"errorCodes", {409, 500}}}).ok());
  auto until = std::chrono::steady_clock::now() + 3s;
  int both = 0;
  while (std::chrono::steady_clock::now() < until) {
    if (a.IsLeader() && b.IsLeader()) ++both;
    std::this_thread::sleep_for(2ms);
  }
  ASSERT_TRUE(ClearFaults().ok());
  EXPECT_EQ(both, 0);
  ASSERT_TRUE(Eventually([&] { return a.IsLeader() || b.IsLeader(); }, 10s));
  LeaderElector* leader = a.IsLeader() ? &a : &b;
  LeaderElector* other = leader == &a ? &b : &a;
  leader->Stop();  // releases the lease
  EXPECT_TRUE(Eventually([&] { return other->IsLeader(); }, 5s));
  other->Stop();
}

TEST_F(KubeIntegrationTest, RetriesHonourRetryAfter) {
  FakeClock clock;
  RestOptions o;
  o.clock = &clock;
  auto c = NewClient(config_, o);
  ASSERT_TRUE(SetFaults({{"errorShare", 1.0}, {"errorCodes", {429}}, {"retryAfterSeconds", 2}}).ok());
  std::atomic<bool> done{false};
  Result<Json> result = Status(Code::kInternal, "not run");
  std::thread t([&] {
    result = c->Get(resources::kNamespace, "", kNs);
    done = true;
  });
  ASSERT_TRUE(Eventually([&] { return clock.Sleepers() == 1; }, 10s));  // waiting to retry
  ASSERT_TRUE(ClearFaults().ok());
  clock.Advance(1999ms);
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(done.load()) << "retried before Retry-After";
  clock.Advance(1ms);
  ASSERT_TRUE(Eventually([&] { return done.load(); }, 10s));
  t.join();
  EXPECT_TRUE(result.ok()) << result.status().ToString();
}

// The error line as a binary would print it (also echoed so a reader of the test log sees it).
std::string OneLine(const Status& st) {
  std::fprintf(stderr, "error line: %s\n", st.ToString().c_str());
  return st.ToString();
}

TEST_F(KubeIntegrationTest, WrongCertificateAuthorityFailsClearly) {
  // The system trust store does not know the sim's CA.
  Config system_roots = config_;
  system_roots.ca_pem.clear();
  auto c = NewClient(system_roots);
  auto r = c->Get(resources::kNamespace, "", kNs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(OneLine(r.status()).find("does not verify"), std::string::npos) << OneLine(r.status());
  EXPECT_NE(OneLine(r.status()).find(config_.server), std::string::npos) << OneLine(r.status());
  EXPECT_EQ(OneLine(r.status()).find('\n'), std::string::npos);

  // Another CA altogether (any CA certificate that is not the sim's).
  std::string other_ca;
  for (const auto& e : std::filesystem::directory_iterator("/etc/ssl/certs")) {
    if (e.path().extension() == ".pem") {
      std::ifstream in(e.path());
      other_ca.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      if (!other_ca.empty()) break;
    }
  }
  if (!other_ca.empty()) {
    Config wrong = config_;
    wrong.ca_pem = other_ca;
    auto c2 = NewClient(wrong);
    auto r2 = c2->Get(resources::kNamespace, "", kNs);
    ASSERT_FALSE(r2.ok());
    EXPECT_NE(OneLine(r2.status()).find("does not verify against the certificate authority from"), std::string::npos)
        << OneLine(r2.status());
  }

  // A certificate valid for another name (tls-server-name) fails too, rather than connecting anyway.
  Config wrong_name = config_;
  wrong_name.tls_server_name = "not-the-sim.example";
  auto c3 = NewClient(wrong_name);
  auto r3 = c3->Get(resources::kNamespace, "", kNs);
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(OneLine(r3.status()).find("not-the-sim.example"), std::string::npos) << OneLine(r3.status());
}

TEST_F(KubeIntegrationTest, WrongTokenIsAClearUnauthorized) {
  Config bad = config_;
  bad.token = "expired-token";
  bad.token_file.clear();
  auto c = NewClient(bad);
  auto r = c->Get(resources::kNamespace, "", kNs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnauthorized);
  EXPECT_EQ(r.status().http_code(), 401);
  const std::string msg = OneLine(r.status());
  EXPECT_NE(msg.find(config_.server), std::string::npos) << msg;
  EXPECT_NE(msg.find(sim_->kubeconfig()), std::string::npos) << msg;
  EXPECT_NE(msg.find("401"), std::string::npos) << msg;
}

TEST_F(KubeIntegrationTest, UnreachableServerIsAClearError) {
  Config gone = config_;
  sim_->Kill();
  RestOptions o;
  o.retry.max_attempts = 2;
  o.retry.backoff = {10ms, 10ms, 1.0, 0.0};
  auto c = NewClient(gone, o);
  auto r = c->Get(resources::kNamespace, "", kNs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(OneLine(r.status()).find("cannot reach the API server " + config_.server), std::string::npos)
      << OneLine(r.status());
}

}  // namespace
}  // namespace prescient::kube
