#include "kube/fake_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "kube/events.h"

namespace prescient::kube {
namespace {

const ResourceType kThings{"test.prescient.dev", "v1", "things", "Thing", true};

ListOptions Labels(const std::string& s) {
  ListOptions o;
  o.label_selector = s;
  return o;
}
ListOptions Fields(const std::string& s) {
  ListOptions o;
  o.field_selector = s;
  return o;
}
ListOptions FromRv(const std::string& rv) {
  ListOptions o;
  o.resource_version = rv;
  return o;
}
DeleteOptions IfUid(const std::string& uid) {
  DeleteOptions o;
  o.precondition_uid = uid;
  return o;
}
DeleteOptions IfRv(const std::string& rv) {
  DeleteOptions o;
  o.precondition_resource_version = rv;
  return o;
}
PatchOptions Sub(const std::string& sub) {
  PatchOptions o;
  o.subresource = sub;
  return o;
}
PatchOptions Manager(const std::string& m) {
  PatchOptions o;
  o.field_manager = m;
  return o;
}

Json Thing(const std::string& name) {
  return {{"metadata", {{"namespace", "ns"}, {"name", name}, {"labels", {{"app", "x"}, {"tier", "db"}}}}},
          {"spec", {{"v", 1}}}};
}

TEST(FakeClientTest, OptimisticConcurrencyAndGeneration) {
  FakeClient c;
  auto created = c.Create(kThings, Thing("a"));
  ASSERT_TRUE(created.ok());
  EXPECT_EQ((*created)["metadata"]["generation"], 1);
  EXPECT_EQ(c.Create(kThings, Thing("a")).status().code(), Code::kAlreadyExists);
  Json upd = *created;
  upd["spec"]["v"] = 2;
  auto u1 = c.Update(kThings, upd);
  ASSERT_TRUE(u1.ok());
  EXPECT_EQ((*u1)["metadata"]["generation"], 2);
  auto stale = c.Update(kThings, upd);  // same (now stale) resourceVersion
  EXPECT_EQ(stale.status().code(), Code::kConflict);
  EXPECT_EQ(stale.status().http_code(), 409);
}

TEST(FakeClientTest, StatusSubresourceIsSeparate) {
  FakeClient c;
  Json obj = *c.Create(kThings, Thing("a"));
  obj["status"] = {{"phase", "Running"}};
  obj["spec"]["v"] = 5;
  auto s = c.UpdateStatus(kThings, obj);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)["status"]["phase"], "Running");
  EXPECT_EQ((*s)["spec"]["v"], 1);  // /status ignores spec
  EXPECT_EQ((*s)["metadata"]["generation"], 1);
  Json main = *s;
  main["status"]["phase"] = "Failed";
  auto m = c.Update(kThings, main);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)["status"]["phase"], "Running");  // main endpoint ignores status
  auto p = c.Patch(kThings, "ns", "a", PatchType::kMerge, {{"status", {{"phase", "Done"}}}}, Sub("status"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)["status"]["phase"], "Done");
}

TEST(FakeClientTest, FinalizersDelayDeletion) {
  FakeClient c;
  Json t = Thing("a");
  t["metadata"]["finalizers"] = {"prescient.dev/cleanup"};
  ASSERT_TRUE(c.Create(kThings, t).ok());
  ASSERT_TRUE(c.Delete(kThings, "ns", "a").ok());
  auto got = c.Get(kThings, "ns", "a");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE((*got)["metadata"].contains("deletionTimestamp"));
  Json add = *got;
  add["metadata"]["finalizers"].push_back("other");
  EXPECT_EQ(c.Update(kThings, add).status().code(), Code::kForbidden);
  auto p = c.Patch(kThings, "ns", "a", PatchType::kJson, Json::array({{{"op", "remove"}, {"path", "/metadata/finalizers"}}}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(c.Get(kThings, "ns", "a").status().code(), Code::kNotFound);
}

TEST(FakeClientTest, DeletePreconditions) {
  FakeClient c;
  Json a = *c.Create(kThings, Thing("a"));
  EXPECT_EQ(c.Delete(kThings, "ns", "a", IfUid("other")).code(), Code::kConflict);
  EXPECT_EQ(c.Delete(kThings, "ns", "a", IfRv("1")).code(), Code::kConflict);
  EXPECT_TRUE(c.Delete(kThings, "ns", "a", IfUid(a["metadata"]["uid"])).ok());
  EXPECT_EQ(c.Delete(kThings, "ns", "a").code(), Code::kNotFound);
}

TEST(FakeClientTest, Patches) {
  FakeClient c;
  ASSERT_TRUE(c.Create(kThings, Thing("a")).ok());
  auto t = c.Patch(kThings, "ns", "a", PatchType::kJson,
                   Json::array({{{"op", "test"}, {"path", "/spec/v"}, {"value", 1}},
                                {{"op", "replace"}, {"path", "/spec/v"}, {"value", 3}}}));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)["spec"]["v"], 3);
  auto failed = c.Patch(kThings, "ns", "a", PatchType::kJson,
                        Json::array({{{"op", "test"}, {"path", "/spec/v"}, {"value", 1}}}));
  EXPECT_EQ(failed.status().code(), Code::kConflict);
  EXPECT_EQ(c.Patch(kThings, "ns", "b", PatchType::kApply, Thing("b")).status().code(), Code::kInvalidArgument);
  auto applied = c.Patch(kThings, "ns", "b", PatchType::kApply, Thing("b"), Manager("test"));
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(c.Patch(kThings, "ns", "zz", PatchType::kMerge, Json::object()).status().code(), Code::kNotFound);
}

TEST(FakeClientTest, ListSelectorsAndPaging) {
  FakeClient c;
  for (const char* n : {"a", "b", "c", "d", "e"}) {
    Json t = Thing(n);
    if (std::string(n) == "c") t["metadata"]["labels"]["tier"] = "web";
    ASSERT_TRUE(c.Create(kThings, t).ok());
  }
  auto all = ListAll(c, kThings, "ns", [] { ListOptions o; o.limit = 2; return o; }());
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->items.size(), 5u);
  EXPECT_EQ(c.Calls("list"), 3);
  EXPECT_EQ(c.List(kThings, "ns", Labels("tier=web"))->items.size(), 1u);
  EXPECT_EQ(c.List(kThings, "ns", Labels("tier in (web,db),app"))->items.size(), 5u);
  EXPECT_EQ(c.List(kThings, "ns", Fields("metadata.name=d"))->items.size(), 1u);
  EXPECT_EQ(c.List(kThings, "other", {})->items.size(), 0u);
  EXPECT_EQ(c.List(kThings, "ns", Labels("a in b")).status().code(), Code::kInvalidArgument);
}

TEST(LabelSelectorTest, Table) {
  Json labels = {{"app", "web"}, {"env", "prod"}};
  struct Case {
    const char* sel;
    bool want;
  } cases[] = {
      {"app=web", true},       {"app==web", true},           {"app!=web", false},
      {"app=db", false},       {"app", true},                {"!app", false},
      {"missing", false},      {"!missing", true},           {"env in (prod,dev)", true},
      {"env notin (prod)", false}, {"app=web,env=prod", true}, {"app=web,env=dev", false},
      {"missing!=x", true},
  };
  for (const auto& tc : cases) {
    auto r = MatchLabels(tc.sel, labels);
    ASSERT_TRUE(r.ok()) << tc.sel << ": " << r.status().ToString();
    EXPECT_EQ(*r, tc.want) << tc.sel;
  }
  EXPECT_FALSE(MatchLabels("a in x", labels).ok());
  EXPECT_FALSE(MatchLabels("a,,b", labels).ok());
}

TEST(FakeClientTest, WatchReplaysHistoryAndExpires) {
  FakeClient c(nullptr, /*history_size=*/3);
  Json a = *c.Create(kThings, Thing("a"));
  std::string rv0 = a["metadata"]["resourceVersion"];
  for (const char* n : {"b", "c"}) ASSERT_TRUE(c.Create(kThings, Thing(n)).ok());
  std::vector<std::string> seen;
  Status st = c.Watch(kThings, "ns", FromRv(rv0), [&](WatchEvent&& ev) {
    seen.push_back(std::string(EventTypeName(ev.type)) + " " + ObjectKey(ev.object));
    return seen.size() < 2;
  });
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED ns/b", "ADDED ns/c"}));
  for (const char* n : {"d", "e", "f"}) ASSERT_TRUE(c.Create(kThings, Thing(n)).ok());
  bool got_error = false;
  st = c.Watch(kThings, "ns", FromRv(rv0), [&](WatchEvent&& ev) {
    got_error = ev.type == EventType::kError;
    return true;
  });
  EXPECT_TRUE(got_error);
  EXPECT_EQ(st.code(), Code::kExpired);
}

// A write that lands while a watch is delivering the previous event (the lock released) is delivered
// without waiting for yet another write: the lost last event that timed out TypedCacheTest under ASan.
TEST(FakeClientTest, WatchDeliversAWriteMadeDuringDelivery) {
  FakeClient c;
  ListOptions o;
  o.resource_version = std::to_string(c.CurrentResourceVersion());
  o.timeout_seconds = 10;  // bounds the failure; the fixed watch ends at the second event
  ASSERT_TRUE(c.Create(kThings, Thing("first")).ok());
  std::vector<std::string> seen;
  Status st = c.Watch(kThings, "ns", o, [&](WatchEvent&& ev) {
    seen.push_back(ObjectKey(ev.object));
    if (seen.size() == 1) {
      EXPECT_TRUE(c.Create(kThings, Thing("second")).ok());
    }
    return seen.size() < 2;
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(seen, (std::vector<std::string>{"ns/first", "ns/second"}));
}

// A watch that falls behind the history it could replay ends with 410 Expired, as a real server's does.
TEST(FakeClientTest, WatchBehindCompactedHistoryExpires) {
  FakeClient c;
  ListOptions o;
  o.resource_version = std::to_string(c.CurrentResourceVersion());
  ASSERT_TRUE(c.Create(kThings, Thing("first")).ok());
  bool got_error = false;
  Status st = c.Watch(kThings, "ns", o, [&](WatchEvent&& ev) {
    if (ev.type == EventType::kError) {
      got_error = true;
      return true;
    }
    EXPECT_TRUE(c.Create(kThings, Thing("second")).ok());
    c.CompactHistory();  // "second" is gone from the history before this watch read it
    return true;
  });
  EXPECT_TRUE(got_error);
  EXPECT_EQ(st.code(), Code::kExpired) << st.ToString();
}

// The race behind an informer test that timed out: a watch that had passed the fault hook when a test
// then blocked watches and called CloseWatches() used to stay open for good.
TEST(FakeClientTest, CloseWatchesEndsAWatchStillBeingOpened) {
  using namespace std::chrono_literals;
  FakeClient c;
  std::atomic<bool> in_hook{false}, release{false}, returned{false};
  c.SetHook([&](const std::string& verb, const ResourceType&, const std::string&, const std::string&) {
    if (verb != "watch") return Status::Ok();
    in_hook = true;
    for (auto deadline = std::chrono::steady_clock::now() + 30s; !release && std::chrono::steady_clock::now() < deadline;)
      std::this_thread::sleep_for(1ms);
    return Status::Ok();
  });
  Status st;
  std::thread watcher([&] {
    st = c.Watch(kThings, "ns", ListOptions{}, [](WatchEvent&&) { return true; });
    returned = true;
  });
  auto wait_for = [](const std::atomic<bool>& flag) {
    for (auto deadline = std::chrono::steady_clock::now() + 30s; !flag && std::chrono::steady_clock::now() < deadline;)
      std::this_thread::sleep_for(1ms);
    return flag.load();
  };
  ASSERT_TRUE(wait_for(in_hook));
  c.CloseWatches();  // while the watch is between the hook and registering itself
  release = true;
  EXPECT_TRUE(wait_for(returned));
  if (!returned) c.CloseWatches();  // do not hang the test binary on failure
  watcher.join();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(c.OpenWatches(), 0u);
}

TEST(EventRecorderTest, DeduplicatesByCount) {
  FakeClient c;
  ApiEventRecorder rec(&c, "prescient-operator");
  Json obj = *c.Create(kThings, Thing("a"));
  rec.Record(obj, kEventNormal, "Allocated", "allocated 2 CPUs on vm-1");
  rec.Record(obj, kEventNormal, "Allocated", "allocated 2 CPUs on vm-1");
  rec.Record(obj, kEventNormal, "Allocated", "allocated 2 CPUs on vm-1");
  rec.Record(obj, kEventWarning, "ScaleUpFailed", "no node group can fit 64Gi");
  auto events = c.List(resources::kEvent, "ns", {});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->items.size(), 2u);
  int allocated_count = 0;
  for (const auto& e : events->items) {
    EXPECT_EQ(e["involvedObject"]["name"], "a");
    EXPECT_EQ(e["involvedObject"]["kind"], "Thing");
    if (e["reason"] == "Allocated") allocated_count = e["count"];
  }
  EXPECT_EQ(allocated_count, 3);
  // If the Event has gone (TTL), the next repeat writes a new one.
  c.Delete(resources::kEvent, "ns", events->items[0]["metadata"]["name"]);
  c.Delete(resources::kEvent, "ns", events->items[1]["metadata"]["name"]);
  rec.Record(obj, kEventNormal, "Allocated", "allocated 2 CPUs on vm-1");
  EXPECT_EQ(c.List(resources::kEvent, "ns", {})->items.size(), 1u);

  FakeEventRecorder fake;
  fake.Record(obj, kEventNormal, "Allocated", "m");
  fake.Record(obj, kEventNormal, "Allocated", "m");
  ASSERT_EQ(fake.Events().size(), 1u);
  EXPECT_EQ(fake.Events()[0].count, 2);
  EXPECT_TRUE(fake.Has("ns/a", "Allocated"));
}

}  // namespace
}  // namespace prescient::kube
