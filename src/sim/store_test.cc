#include "sim/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>

namespace prescient::sim {
namespace {

Json Cm(const std::string& name, Json data = Json::object()) {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", data}};
}

Json WidgetCrd() {
  return Json::parse(R"({
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
      "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
      "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
        "schema": {"openAPIV3Schema": {"type": "object", "properties": {
          "spec": {"type": "object", "required": ["size"], "properties": {
            "size": {"type": "integer", "minimum": 1, "maximum": 10},
            "color": {"type": "string", "enum": ["red", "blue"], "default": "red"}}},
          "status": {"type": "object", "properties": {"phase": {"type": "string"}}}}}}}]}})");
}

const GroupVersionResource kWidgets{"example.com", "v1", "widgets"};

std::unique_ptr<Store> OpenStore(StoreOptions o = {}) {
  auto s = Store::Open(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(*s);
}

TEST(StoreTest, CreateGetAndResourceVersions) {
  auto store = OpenStore();
  auto a = store->Create(gvr::kConfigMaps, "default", Cm("a"));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ((*a)["metadata"]["generation"], 1);
  EXPECT_FALSE((*a)["metadata"]["uid"].get<std::string>().empty());
  auto b = store->Create(gvr::kConfigMaps, "default", Cm("b"));
  ASSERT_TRUE(b.ok());
  EXPECT_LT(std::stoll((*a)["metadata"]["resourceVersion"].get<std::string>()),
            std::stoll((*b)["metadata"]["resourceVersion"].get<std::string>()));
  auto dup = store->Create(gvr::kConfigMaps, "default", Cm("a"));
  EXPECT_EQ(dup.status().http_code(), 409);
  EXPECT_EQ(dup.status().reason(), "AlreadyExists");
  EXPECT_EQ(dup.status().message(), "configmaps \"a\" already exists");
  auto missing = store->Get(gvr::kConfigMaps, "default", "zz");
  EXPECT_EQ(missing.status().http_code(), 404);
  EXPECT_EQ(missing.status().message(), "configmaps \"zz\" not found");
  auto nons = store->Create(gvr::kConfigMaps, "nope", Cm("c"));
  EXPECT_EQ(nons.status().http_code(), 404);
}

TEST(StoreTest, StaleUpdateConflictsAndGenerationFollowsSpec) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Create(gvr::kCrds, "", WidgetCrd()).ok());
  Json w = {{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", {{"name", "w"}}}, {"spec", {{"size", 2}}}};
  auto c = store->Create(kWidgets, "default", w);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)["spec"]["color"], "red");  // schema default
  Json stale = *c;
  Json next = *c;
  next["spec"]["size"] = 3;
  auto u = store->Update(kWidgets, "default", next);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ((*u)["metadata"]["generation"], 2);
  stale["spec"]["size"] = 4;
  auto conflict = store->Update(kWidgets, "default", stale);
  EXPECT_EQ(conflict.status().http_code(), 409);
  EXPECT_NE(conflict.status().message().find("the object has been modified"), std::string::npos);
  // Status through the subresource does not bump generation; status on the main endpoint is ignored.
  Json st = *u;
  st["status"] = {{"phase", "Ready"}};
  auto s = store->UpdateStatus(kWidgets, "default", st);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)["metadata"]["generation"], 2);
  EXPECT_EQ((*s)["status"]["phase"], "Ready");
  Json main = *s;
  main["status"]["phase"] = "Other";
  auto m = store->Update(kWidgets, "default", main);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)["status"]["phase"], "Ready");
}

TEST(StoreTest, CustomResourceValidation) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Create(gvr::kCrds, "", WidgetCrd()).ok());
  Json w = {{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", {{"name", "w"}}},
            {"spec", {{"size", 20}, {"color", "green"}}}};
  auto bad = store->Create(kWidgets, "default", w);
  ASSERT_EQ(bad.status().http_code(), 422);
  EXPECT_EQ(bad.status().message(),
            "Widget.example.com \"w\" is invalid: [spec.color: Unsupported value: \"green\": supported values: "
            "\"red\", \"blue\", spec.size: Invalid value: 20: spec.size in body should be less than or equal to 10]");
  Json missing = {{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", {{"name", "w"}}}, {"spec", Json::object()}};
  EXPECT_EQ(store->Create(kWidgets, "default", missing).status().message(),
            "Widget.example.com \"w\" is invalid: spec.size: Required value");
  Json unknown = {{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", {{"name", "w"}}},
                  {"spec", {{"size", 1}, {"shape", "round"}}}};
  auto strict = store->Create(kWidgets, "default", unknown);
  EXPECT_EQ(strict.status().http_code(), 400);
  EXPECT_EQ(strict.status().message(), "strict decoding error: unknown field \"spec.shape\"");
  std::vector<std::string> warnings;
  WriteOptions warn;
  warn.field_validation = FieldValidation::kWarn;
  warn.warnings = &warnings;
  auto ok = store->Create(kWidgets, "default", unknown, warn);
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE((*ok)["spec"].contains("shape"));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "unknown field \"spec.shape\"");
}

TEST(StoreTest, FinalizersHoldDeletion) {
  auto store = OpenStore();
  Json cm = Cm("f");
  cm["metadata"]["finalizers"] = {"example.com/hold"};
  ASSERT_TRUE(store->Create(gvr::kConfigMaps, "default", cm).ok());
  auto d = store->Delete(gvr::kConfigMaps, "default", "f");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE((*d)["metadata"].contains("deletionTimestamp"));
  auto got = store->Get(gvr::kConfigMaps, "default", "f");
  ASSERT_TRUE(got.ok());
  Json add = *got;
  add["metadata"]["finalizers"].push_back("example.com/more");
  EXPECT_EQ(store->Update(gvr::kConfigMaps, "default", add).status().http_code(), 422);
  Json clear = *got;
  clear["metadata"]["finalizers"] = Json::array();
  ASSERT_TRUE(store->Update(gvr::kConfigMaps, "default", clear).ok());
  EXPECT_EQ(store->Get(gvr::kConfigMaps, "default", "f").status().http_code(), 404);
}

TEST(StoreTest, OwnerReferencesAreGarbageCollected) {
  auto store = OpenStore();
  auto owner = store->Create(gvr::kConfigMaps, "default", Cm("owner"));
  ASSERT_TRUE(owner.ok());
  Json dep = Cm("dep");
  dep["metadata"]["ownerReferences"] = {{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "owner"},
                                          {"uid", (*owner)["metadata"]["uid"]}}};
  ASSERT_TRUE(store->Create(gvr::kConfigMaps, "default", dep).ok());
  ASSERT_TRUE(store->Create(gvr::kConfigMaps, "default", Cm("other")).ok());
  ASSERT_TRUE(store->Delete(gvr::kConfigMaps, "default", "owner").ok());
  EXPECT_EQ(store->Get(gvr::kConfigMaps, "default", "dep").status().http_code(), 404);
  EXPECT_TRUE(store->Get(gvr::kConfigMaps, "default", "other").ok());
}

TEST(StoreTest, ListPagingAndSelectors) {
  auto store = OpenStore();
  for (int i = 0; i < 5; ++i) {
    Json cm = Cm("cm" + std::to_string(i));
    cm["metadata"]["labels"] = {{"parity", i % 2 ? "odd" : "even"}};
    ASSERT_TRUE(store->Create(gvr::kConfigMaps, "default", cm).ok());
  }
  ListOptions o;
  o.limit = 2;
  auto p1 = store->List(gvr::kConfigMaps, "default", o);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->items.size(), 2u);
  EXPECT_EQ(p1->remaining_item_count, 3);
  o.continue_token = p1->continue_token;
  auto p2 = store->List(gvr::kConfigMaps, "default", o);
  ASSERT_EQ(p2->items.size(), 2u);
  EXPECT_EQ(p2->items[0]["metadata"]["name"], "cm2");
  o.continue_token = p2->continue_token;
  auto p3 = store->List(gvr::kConfigMaps, "default", o);
  ASSERT_EQ(p3->items.size(), 1u);
  EXPECT_TRUE(p3->continue_token.empty());
  ListOptions sel;
  sel.label_selector = "parity in (odd)";
  sel.field_selector = "metadata.name!=cm1";
  auto odd = store->List(gvr::kConfigMaps, "", sel);
  ASSERT_TRUE(odd.ok());
  ASSERT_EQ(odd->items.size(), 1u);
  EXPECT_EQ(odd->items[0]["metadata"]["name"], "cm3");
  ListOptions badf;
  badf.field_selector = "spec.nodeName=x";
  EXPECT_EQ(store->List(gvr::kConfigMaps, "", badf).status().message(), "field label not supported: spec.nodeName");
}

TEST(StoreTest, WatchHistoryAndExpiry) {
  StoreOptions opts;
  opts.watch_history = 3;
  auto store = OpenStore(opts);
  int64_t start = store->CurrentResourceVersion();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->Create(gvr::kConfigMaps, "default", Cm("w" + std::to_string(i))).ok());
  WatchOptions wo;
  wo.resource_version = std::to_string(start);
  auto expired = store->StartWatch(gvr::kConfigMaps, "", wo);
  EXPECT_EQ(expired.status().http_code(), 410);
  EXPECT_EQ(expired.status().reason(), "Expired");
  wo.resource_version = std::to_string(store->CurrentResourceVersion() - 2);
  auto w = store->StartWatch(gvr::kConfigMaps, "", wo);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  std::vector<Watch::Item> items;
  (*w)->Drain(&items);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].type, "ADDED");
  ASSERT_TRUE(store->Delete(gvr::kConfigMaps, "default", "w4").ok());
  items.clear();
  (*w)->Drain(&items);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].type, "DELETED");
  store->CloseAllWatches();
  EXPECT_FALSE((*w)->Drain(&items));
}

TEST(StoreTest, LabelSelectedWatchSeesTransitions) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Create(gvr::kConfigMaps, "default", Cm("t")).ok());
  WatchOptions wo;
  wo.label_selector = "app=x";
  wo.resource_version = std::to_string(store->CurrentResourceVersion());
  auto w = store->StartWatch(gvr::kConfigMaps, "default", wo);
  ASSERT_TRUE(w.ok());
  auto p = store->Patch(gvr::kConfigMaps, "default", "t", PatchType::kMerge, R"({"metadata":{"labels":{"app":"x"}}})", "");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto q = store->Patch(gvr::kConfigMaps, "default", "t", PatchType::kMerge, R"({"metadata":{"labels":{"app":"y"}}})", "");
  ASSERT_TRUE(q.ok());
  std::vector<Watch::Item> items;
  (*w)->Drain(&items);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].type, "ADDED");
  EXPECT_EQ(items[1].type, "DELETED");
}

TEST(StoreTest, SubscribersSeeCommitsInOrderAndAdmissionCanRefuse) {
  auto store = OpenStore();
  std::mutex mu;
  std::vector<std::string> seen;
  store->Subscribe([&](const ChangeEvent& e) {
    std::lock_guard<std::mutex> l(mu);
    seen.push_back(std::string(EventTypeName(e.type)) + " " + e.resource.resource + " " +
                   (*e.object)["metadata"]["name"].get<std::string>());
  }, /*replay_existing=*/false);
  store->AddAdmissionHook([](AdmissionRequest& r) {
    if (r.resource->plural == "configmaps" && r.op == Operation::kCreate && r.name == "forbidden") {
      return Status(Code::kForbidden, "configmaps \"forbidden\" is forbidden: no").WithHttp(403, "Forbidden");
    }
    return Status::Ok();
  });
  ASSERT_TRUE(store->Create(gvr::kConfigMaps, "default", Cm("one")).ok());
  EXPECT_EQ(store->Create(gvr::kConfigMaps, "default", Cm("forbidden")).status().http_code(), 403);
  ASSERT_TRUE(store->Delete(gvr::kConfigMaps, "default", "one").ok());
  store->WaitForDispatch();
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED configmaps one", "DELETED configmaps one"}));
}

TEST(StoreTest, ServerSideApplyCreatesAndDetectsConflicts) {
  auto store = OpenStore();
  WriteOptions a;
  a.field_manager = "alice";
  bool created = false;
  a.created = &created;
  auto c = store->Patch(gvr::kConfigMaps, "default", "ssa", PatchType::kApply,
                        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ssa"},"data":{"k":"1"}})", "", a);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(created);
  WriteOptions b;
  b.field_manager = "bob";
  auto conflict = store->Patch(gvr::kConfigMaps, "default", "ssa", PatchType::kApply,
                               R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ssa"},"data":{"k":"2"}})", "", b);
  EXPECT_EQ(conflict.status().http_code(), 409);
  EXPECT_EQ(conflict.status().message(), "Apply failed with 1 conflict: conflict with \"alice\" using v1: .data.k");
  b.force = true;
  auto forced = store->Patch(gvr::kConfigMaps, "default", "ssa", PatchType::kApply,
                             R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ssa"},"data":{"k":"2"}})", "", b);
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ((*forced)["data"]["k"], "2");
  // Alice stops applying data.x: her field goes, bob's stays.
  auto a2 = store->Patch(gvr::kConfigMaps, "default", "ssa", PatchType::kApply,
                         R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ssa"},"data":{"x":"1"}})", "", a);
  ASSERT_TRUE(a2.ok());
  auto a3 = store->Patch(gvr::kConfigMaps, "default", "ssa", PatchType::kApply,
                         R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ssa"}})", "", a);
  ASSERT_TRUE(a3.ok());
  EXPECT_EQ((*a3)["data"], Json({{"k", "2"}}));
}

// Continued pages show the state at the first page's resourceVersion, whatever was written since,
// as long as the history still covers it; after that the token is refused (410), as upstream does
// once etcd has compacted that revision.
TEST(StoreTest, ListContinuationServesTheFirstPagesSnapshot) {
  auto store = OpenStore();
  for (const char* n : {"a", "b", "c", "d", "e"}) {
    ASSERT_TRUE(store->Create(gvr::kConfigMaps, "default", Cm(n, {{"v", "1"}})).ok());
  }
  ListOptions o;
  o.limit = 2;
  auto p1 = store->List(gvr::kConfigMaps, "default", o);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->items.size(), 2u);
  const int64_t snapshot = p1->resource_version;
  // After the first page: a new object inside the range still to come, one changed, one deleted
  // (and created again), one deleted for good, one new at the end.
  ASSERT_TRUE(store->Create(gvr::kConfigMaps, "default", Cm("c0")).ok());
  ASSERT_TRUE(store->Patch(gvr::kConfigMaps, "default", "c", PatchType::kMerge, R"({"data":{"v":"2"}})", "").ok());
  ASSERT_TRUE(store->Delete(gvr::kConfigMaps, "default", "d").ok());
  ASSERT_TRUE(store->Create(gvr::kConfigMaps, "default", Cm("d", {{"v", "3"}})).ok());
  ASSERT_TRUE(store->Delete(gvr::kConfigMaps, "default", "e").ok());
  ASSERT_TRUE(store->Create(gvr::kConfigMaps, "default", Cm("z")).ok());
  std::vector<std::string> names;
  std::vector<std::string> values;
  o.continue_token = p1->continue_token;
  while (!o.continue_token.empty()) {
    auto page = store->List(gvr::kConfigMaps, "default", o);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(page->resource_version, snapshot);
    for (const auto& i : page->items) {
      names.push_back(i["metadata"]["name"]);
      values.push_back(i["data"].value("v", ""));
    }
    if (!page->continue_token.empty()) {
      EXPECT_EQ(page->remaining_item_count, 1);
    }
    o.continue_token = page->continue_token;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"c", "d", "e"}));
  EXPECT_EQ(values, (std::vector<std::string>{"1", "1", "1"}));
  // A fresh list sees the present.
  auto now = store->List(gvr::kConfigMaps, "default", {});
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->items.size(), 6u);  // a b c c0 d z
  EXPECT_GT(now->resource_version, snapshot);

  // The history no longer reaches back to the snapshot: 410 Expired.
  ListOptions first;
  first.limit = 2;
  auto p1_again = store->List(gvr::kConfigMaps, "default", first);
  ASSERT_TRUE(p1_again.ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->Create(gvr::kConfigMaps, "default", Cm("n" + std::to_string(i))).ok());
  store->SetWatchHistory(2);
  ListOptions stale;
  stale.limit = 2;
  stale.continue_token = p1_again->continue_token;
  auto expired = store->List(gvr::kConfigMaps, "default", stale);
  EXPECT_EQ(expired.status().http_code(), 410);
  EXPECT_EQ(expired.status().reason(), "Expired");
  EXPECT_NE(expired.status().message().find("too old to display a consistent list result"), std::string::npos);
  ListOptions bad;
  bad.continue_token = "not base64!";
  EXPECT_EQ(store->List(gvr::kConfigMaps, "default", bad).status().http_code(), 400);
}

// As upstream: the 410 for a continue token whose snapshot is gone names a token that goes on from
// the current state after the same object, and that continuation pages consistently from then on.
TEST(StoreTest, ExpiredContinueOffersAnInconsistentContinuation) {
  auto store = OpenStore();
  for (const char* n : {"a", "b", "c", "d", "e"}) {
    ASSERT_TRUE(store->Create(gvr::kConfigMaps, "default", Cm(n, {{"v", "1"}})).ok());
  }
  ListOptions o;
  o.limit = 2;
  auto p1 = store->List(gvr::kConfigMaps, "default", o);
  ASSERT_TRUE(p1.ok());
  ASSERT_TRUE(store->Patch(gvr::kConfigMaps, "default", "c", PatchType::kMerge, R"({"data":{"v":"2"}})", "").ok());
  ASSERT_TRUE(store->Delete(gvr::kConfigMaps, "default", "d").ok());
  ASSERT_TRUE(store->Create(gvr::kConfigMaps, "default", Cm("f")).ok());
  store->SetWatchHistory(1);
  o.continue_token = p1->continue_token;
  auto expired = store->List(gvr::kConfigMaps, "default", o);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.status().http_code(), 410);
  EXPECT_EQ(expired.status().reason(), "Expired");
  EXPECT_EQ(expired.status().message(), kInconsistentContinueMessage);

  std::string token = InconsistentContinueToken(p1->continue_token);
  ASSERT_FALSE(token.empty());
  std::vector<std::string> names, values;
  int64_t rv = 0;
  o.continue_token = token;
  while (!o.continue_token.empty()) {
    auto page = store->List(gvr::kConfigMaps, "default", o);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    if (rv == 0) rv = page->resource_version;
    EXPECT_EQ(page->resource_version, rv);  // the continuation's own snapshot, kept on later pages
    for (const auto& i : page->items) {
      names.push_back(i["metadata"]["name"]);
      values.push_back(i["data"].value("v", ""));
    }
    o.continue_token = page->continue_token;
  }
  // The current state after "b": c changed, d gone, f new.
  EXPECT_EQ(names, (std::vector<std::string>{"c", "e", "f"}));
  EXPECT_EQ(values, (std::vector<std::string>{"2", "1", ""}));
  EXPECT_GT(rv, p1->resource_version);
  EXPECT_EQ(InconsistentContinueToken("not base64!"), "");
}

TEST(StoreTest, StrategicMergeRefusedOnCustomResources) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Create(gvr::kCrds, "", WidgetCrd()).ok());
  Json w = {{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", {{"name", "w"}}}, {"spec", {{"size", 2}}}};
  ASSERT_TRUE(store->Create(kWidgets, "default", w).ok());
  auto r = store->Patch(kWidgets, "default", "w", PatchType::kStrategicMerge, R"({"spec":{"size":3}})", "");
  EXPECT_EQ(r.status().http_code(), 415);
  auto j = store->Patch(kWidgets, "default", "w", PatchType::kJson,
                        R"([{"op":"test","path":"/spec/size","value":9},{"op":"replace","path":"/spec/size","value":3}])", "");
  EXPECT_EQ(j.status().http_code(), 422);
  auto ok = store->Patch(kWidgets, "default", "w", PatchType::kJson,
                         R"([{"op":"test","path":"/spec/size","value":2},{"op":"replace","path":"/spec/size","value":3}])", "");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)["spec"]["size"], 3);
}

TEST(StoreTest, CrdDeletionRemovesResourceAndObjects) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Create(gvr::kCrds, "", WidgetCrd()).ok());
  auto info = store->FindKind("example.com/v1", "Widget");
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->status_subresource);
  ASSERT_TRUE(store->Delete(gvr::kCrds, "", "widgets.example.com").ok());
  EXPECT_FALSE(store->FindResource(kWidgets).has_value());
}

TEST(StoreTest, PersistsAcrossReopen) {
  std::string dir = std::filesystem::temp_directory_path() / ("sim-store-test-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  int64_t rv = 0;
  {
    StoreOptions o;
    o.data_dir = dir;
    auto store = OpenStore(o);
    ASSERT_TRUE(store->Create(gvr::kCrds, "", WidgetCrd()).ok());
    Json w = {{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", {{"name", "w"}}}, {"spec", {{"size", 2}}}};
    ASSERT_TRUE(store->Create(kWidgets, "default", w).ok());
    ASSERT_TRUE(store->Create(gvr::kConfigMaps, "default", Cm("gone")).ok());
    ASSERT_TRUE(store->Delete(gvr::kConfigMaps, "default", "gone").ok());
    rv = store->CurrentResourceVersion();
  }
  StoreOptions o;
  o.data_dir = dir;
  auto store = OpenStore(o);
  EXPECT_EQ(store->CurrentResourceVersion(), rv);
  auto w = store->Get(kWidgets, "default", "w");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ((*w)["spec"]["size"], 2);
  EXPECT_EQ(store->Get(gvr::kConfigMaps, "default", "gone").status().http_code(), 404);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace prescient::sim

