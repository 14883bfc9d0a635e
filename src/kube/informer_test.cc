#include "kube/informer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "kube/fake_client.h"
#include "kube/typed_cache.h"

namespace prescient::kube {
namespace {

using namespace std::chrono_literals;

const ResourceType kThings{"test.prescient.dev", "v1", "things", "Thing", true};

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

Json Thing(const std::string& ns, const std::string& name, int value, const std::string& team = "a") {
  return {{"metadata", {{"namespace", ns}, {"name", name}, {"labels", {{"team", team}}}}}, {"spec", {{"value", value}}}};
}

InformerOptions FastOptions() {
  InformerOptions o;
  o.page_size = 2;
  o.backoff = {1ms, 5ms, 2.0, 0.0};
  return o;
}

// Records what handlers saw, to compare with the server.
struct Recorder {
  std::mutex mu;
  std::map<std::string, int> value;  // key -> last value seen through handlers
  int adds = 0, updates = 0, deletes = 0;
  EventHandlers Handlers() {
    return EventHandlers{
        [this](const ObjectPtr& o) {
          std::lock_guard<std::mutex> l(mu);
          ++adds;
          value[ObjectKey(*o)] = (*o)["spec"]["value"].get<int>();
        },
        [this](const ObjectPtr&, const ObjectPtr& o) {
          std::lock_guard<std::mutex> l(mu);
          ++updates;
          value[ObjectKey(*o)] = (*o)["spec"]["value"].get<int>();
        },
        [this](const ObjectPtr& o) {
          std::lock_guard<std::mutex> l(mu);
          ++deletes;
          value.erase(ObjectKey(*o));
        }};
  }
  std::map<std::string, int> Snapshot() {
    std::lock_guard<std::mutex> l(mu);
    return value;
  }
};

std::map<std::string, int> ServerState(FakeClient& c) {
  std::map<std::string, int> out;
  auto list = ListAll(c, kThings, "");
  for (const auto& o : list->items) out[ObjectKey(o)] = o["spec"]["value"].get<int>();
  return out;
}

std::map<std::string, int> CacheState(const Informer& inf) {
  std::map<std::string, int> out;
  for (const auto& o : inf.store().List()) out[ObjectKey(*o)] = (*o)["spec"]["value"].get<int>();
  return out;
}

TEST(InformerTest, ListsInPagesThenFollowsWatch) {
  FakeClient client;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.Create(kThings, Thing("ns1", "t" + std::to_string(i), i)).ok());
  Recorder rec;  // outlives the informer, whose thread calls its handlers
  Informer inf(&client, kThings, FastOptions());
  inf.AddEventHandlers(rec.Handlers());
  inf.Start();
  ASSERT_TRUE(inf.WaitForSync(30s));
  EXPECT_EQ(inf.store().size(), 5u);
  EXPECT_GE(client.Calls("list"), 3);  // pages of 2
  ASSERT_TRUE(client.Create(kThings, Thing("ns2", "new", 7)).ok());
  auto cur = *client.Get(kThings, "ns1", "t1");
  cur["spec"]["value"] = 11;
  ASSERT_TRUE(client.Update(kThings, cur).ok());
  ASSERT_TRUE(client.Delete(kThings, "ns1", "t0").ok());
  ASSERT_TRUE(Eventually([&] { return CacheState(inf) == ServerState(client); }));
  ASSERT_TRUE(Eventually([&] { return rec.Snapshot() == ServerState(client); }));
  EXPECT_EQ(inf.LastResourceVersion(), std::to_string(client.CurrentResourceVersion()));
  inf.Stop();
}

TEST(InformerTest, ReconnectsAfterDroppedWatchesWithoutLosingEvents) {
  FakeClient client;
  Recorder rec;  // outlives the informer, whose thread calls its handlers
  Informer inf(&client, kThings, FastOptions());
  inf.AddEventHandlers(rec.Handlers());
  inf.Start();
  ASSERT_TRUE(inf.WaitForSync(30s));
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(client.Create(kThings, Thing("ns", "x" + std::to_string(i), i)).ok());
    if (i % 7 == 0) client.CloseWatches();
    if (i % 11 == 0) client.FailNext("watch", Status(Code::kUnavailable, "connection reset"));
  }
  ASSERT_TRUE(Eventually([&] { return rec.Snapshot() == ServerState(client); }));
  EXPECT_EQ(CacheState(inf), ServerState(client));
  EXPECT_EQ(inf.stats().lists, 1u);  // reconnects resume from the resourceVersion, no relist
  EXPECT_GT(inf.stats().watches, 1u);
}

TEST(InformerTest, RelistsOnExpiredAndReportsMissedDeletes) {
  FakeClient client;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(client.Create(kThings, Thing("ns", "o" + std::to_string(i), i)).ok());
  Recorder rec;  // outlives the informer, whose thread calls its handlers
  Informer inf(&client, kThings, FastOptions());
  inf.AddEventHandlers(rec.Handlers());
  inf.Start();
  ASSERT_TRUE(inf.WaitForSync(30s));
  // Hold watches off while the server changes and forgets its history.
  std::atomic<bool> block{true};
  std::atomic<int> refused{0};
  client.SetHook([&](const std::string& verb, const ResourceType&, const std::string&, const std::string&) {
    if (verb != "watch" || !block) return Status::Ok();
    ++refused;
    return Status(Code::kUnavailable, "blocked");
  });
  client.CloseWatches();
  // Wait for a refused watch, not only for no open watch: a watch that passed the hook just before it
  // was set may register after CloseWatches() and deliver the changes below before it notices the
  // close, and then no 410 is due (the CI flake). The informer watches one at a time, so a refused
  // attempt means the earlier watch has returned.
  ASSERT_TRUE(Eventually([&] { return refused.load() >= 1 && client.OpenWatches() == 0; }));
  ASSERT_TRUE(client.Delete(kThings, "ns", "o1").ok());
  auto o2 = *client.Get(kThings, "ns", "o2");
  o2["spec"]["value"] = 22;
  ASSERT_TRUE(client.Update(kThings, o2).ok());
  ASSERT_TRUE(client.Create(kThings, Thing("ns", "o9", 9)).ok());
  client.CompactHistory();
  block = false;
  ASSERT_TRUE(Eventually([&] { return inf.stats().expired >= 1 && rec.Snapshot() == ServerState(client); }));
  EXPECT_EQ(CacheState(inf), ServerState(client));
  EXPECT_GE(inf.stats().lists, 2u);
  std::lock_guard<std::mutex> l(rec.mu);
  EXPECT_GE(rec.deletes, 1);
}

// A server that reads each page at its current version (instead of the first page's snapshot) must
// not leave the cache stale: the watch continues from the first page's version and replays the rest.
TEST(InformerTest, ConvergesWhenPagesAreReadAtDifferentVersions) {
  FakeClient client;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(client.Create(kThings, Thing("ns", "o" + std::to_string(i), i)).ok());
  std::atomic<int> lists{0};
  client.SetHook([&](const std::string& verb, const ResourceType&, const std::string&, const std::string&) {
    if (verb == "list" && ++lists == 2) {
      // Between the first page (o0, o1) and the second: change and delete objects already listed.
      auto o0 = *client.Get(kThings, "ns", "o0");
      o0["spec"]["value"] = 100;
      EXPECT_TRUE(client.Update(kThings, o0).ok());
      EXPECT_TRUE(client.Delete(kThings, "ns", "o1").ok());
    }
    return Status::Ok();
  });
  Informer inf(&client, kThings, FastOptions());
  inf.Start();
  ASSERT_TRUE(inf.WaitForSync(30s));
  ASSERT_TRUE(Eventually([&] { return CacheState(inf) == ServerState(client); }));
  EXPECT_EQ(CacheState(inf).count("ns/o1"), 0u);
}

TEST(InformerTest, RetriesFailedListsWithBackoff) {
  FakeClient client;
  ASSERT_TRUE(client.Create(kThings, Thing("ns", "a", 1)).ok());
  client.FailNext("list", Status(Code::kServerError, "boom").WithHttp(500, "InternalError"), 3);
  Informer inf(&client, kThings, FastOptions());
  inf.Start();
  ASSERT_TRUE(inf.WaitForSync(30s));
  EXPECT_EQ(inf.store().size(), 1u);
  EXPECT_EQ(client.Calls("list"), 4);
}

TEST(InformerTest, IndexersAndLateHandlers) {
  FakeClient client;
  ASSERT_TRUE(client.Create(kThings, Thing("ns1", "a", 1, "red")).ok());
  ASSERT_TRUE(client.Create(kThings, Thing("ns1", "b", 2, "blue")).ok());
  ASSERT_TRUE(client.Create(kThings, Thing("ns2", "c", 3, "red")).ok());
  Informer inf(&client, kThings, FastOptions());
  inf.AddIndexer(kNamespaceIndex, NamespaceIndex());
  inf.AddIndexer("team", LabelIndex("team"));
  inf.AddIndexer("value-parity", [](const Json& o) -> std::vector<std::string> {
    return {o["spec"]["value"].get<int>() % 2 ? "odd" : "even"};
  });
  inf.Start();
  ASSERT_TRUE(inf.WaitForSync(30s));
  EXPECT_EQ(inf.store().ByIndex(kNamespaceIndex, "ns1").size(), 2u);
  EXPECT_EQ(inf.store().ByIndex("team", "red").size(), 2u);
  EXPECT_EQ(inf.store().ByIndex("value-parity", "odd").size(), 2u);
  EXPECT_TRUE(inf.store().ByIndex("nope", "x").empty());
  // A label change moves the object between index values.
  auto a = *client.Get(kThings, "ns1", "a");
  a["metadata"]["labels"]["team"] = "blue";
  ASSERT_TRUE(client.Update(kThings, a).ok());
  ASSERT_TRUE(Eventually([&] { return inf.store().ByIndex("team", "blue").size() == 2; }));
  EXPECT_EQ(inf.store().ByIndex("team", "red").size(), 1u);
  ASSERT_NE(inf.store().Get("ns2/c"), nullptr);
  // A handler added after sync first sees every cached object as an add.
  static Recorder late;  // outlives the informer's thread
  inf.AddEventHandlers(late.Handlers());
  EXPECT_EQ(late.Snapshot().size(), 3u);
  inf.Stop();
}

TEST(InformerTest, StopIsPromptWhileWatching) {
  FakeClient client;
  InformerOptions o = FastOptions();
  Informer inf(&client, kThings, o);
  inf.Start();
  ASSERT_TRUE(inf.WaitForSync(30s));
  ASSERT_TRUE(Eventually([&] { return client.OpenWatches() == 1; }));
  inf.Stop();
  EXPECT_EQ(client.OpenWatches(), 0u);
}

TEST(InformerTest, TransformIsAppliedBeforeCaching) {
  FakeClient client;
  Json t = Thing("ns", "a", 1);
  t["metadata"]["managedFields"] = Json::array({{{"manager", "kubectl"}}});
  ASSERT_TRUE(client.Create(kThings, t).ok());
  InformerOptions o = FastOptions();
  o.transform = [](Json* obj) { (*obj)["metadata"].erase("managedFields"); };
  Informer inf(&client, kThings, o);
  inf.Start();
  ASSERT_TRUE(inf.WaitForSync(30s));
  EXPECT_FALSE((*inf.store().Get("ns/a"))["metadata"].contains("managedFields"));
}

struct TypedThing {
  std::string key;
  std::string team;
  int value = 0;
};

TEST(TypedCacheTest, DecodesOnceAndKeepsOnlyMetadataAsJson) {
  FakeClient client;
  ASSERT_TRUE(client.Create(kThings, Thing("ns", "a", 1, "red")).ok());
  ASSERT_TRUE(client.Create(kThings, Thing("ns", "b", 2, "blue")).ok());
  InformerOptions o = FastOptions();
  o.store_metadata_only = true;
  Informer inf(&client, kThings, o);
  TypedCache<TypedThing> cache(&inf, [](const Json& j) -> std::optional<TypedThing> {
    if (!j.contains("spec")) return std::nullopt;
    return TypedThing{ObjectKey(j), j["metadata"]["labels"].value("team", ""), j["spec"]["value"].get<int>()};
  });
  cache.AddIndexer("team", [](const TypedThing& t) { return std::vector<std::string>{t.team}; });
  std::atomic<int> updates{0}, deletes{0};
  struct StopFirst {  // the informer's thread calls into `cache` and the counters: stop it before they go
    Informer* inf;
    ~StopFirst() { inf->Stop(); }
  } stop_first{&inf};
  cache.AddHandlers({nullptr,
                     [&](const TypedCache<TypedThing>::Ptr& old, const TypedCache<TypedThing>::Ptr& now) {
                       EXPECT_NE(old->value, now->value);
                       ++updates;
                     },
                     [&](const TypedCache<TypedThing>::Ptr&) { ++deletes; }});
  inf.Start();
  ASSERT_TRUE(inf.WaitForSync(30s));
  ASSERT_TRUE(Eventually([&] { return cache.size() == 2; }));
  EXPECT_EQ(cache.Get("ns/a")->value, 1);
  EXPECT_EQ(cache.ByIndex("team", "red").size(), 1u);
  // The informer's own store holds metadata only.
  auto stored = inf.store().Get("ns/a");
  ASSERT_NE(stored, nullptr);
  EXPECT_FALSE(stored->contains("spec"));
  EXPECT_FALSE((*stored)["metadata"].contains("labels"));
  EXPECT_FALSE((*stored)["metadata"].value("resourceVersion", "").empty());
  auto a = *client.Get(kThings, "ns", "a");
  a["spec"]["value"] = 5;
  a["metadata"]["labels"]["team"] = "blue";
  ASSERT_TRUE(client.Update(kThings, a).ok());
  ASSERT_TRUE(client.Delete(kThings, "ns", "b").ok());
  ASSERT_TRUE(Eventually([&] { return updates == 1 && deletes == 1; }))
      << "updates " << updates << ", deletes " << deletes << ", informer events " << inf.stats().events
      << ", watches " << inf.stats().watches << ", lists " << inf.stats().lists << ", cache " << cache.size();
  EXPECT_EQ(cache.Get("ns/a")->value, 5);
  EXPECT_EQ(cache.Get("ns/b"), nullptr);
  EXPECT_EQ(cache.ByIndex("team", "blue").size(), 1u);
  EXPECT_TRUE(cache.ByIndex("team", "red").empty());
}

}  // namespace
}  // namespace prescient::kube
