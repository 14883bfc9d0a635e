// Server-side apply through the store: lists merge by their type (built-in table and CRD
// x-kubernetes-list-type), and ownership is tracked per list item. Strategic merge patch: a table
// of upstream's semantics (merge keys, directives, ordering, errors).
#include "sim/patch.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "sim/resources.h"
#include "sim/store.h"

namespace prescient::sim {
namespace {

const GroupVersionResource kGadgets{"example.com", "v1", "gadgets"};

Json GadgetCrd() {
  return Json::parse(R"({
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
      "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
      "versions": [{"name": "v1", "served": true, "storage": true,
        "schema": {"openAPIV3Schema": {"type": "object", "properties": {
          "spec": {"type": "object", "properties": {
            "ports": {"type": "array", "x-kubernetes-list-type": "map",
                      "x-kubernetes-list-map-keys": ["name", "protocol"],
                      "items": {"type": "object", "required": ["name"], "properties": {
                        "name": {"type": "string"}, "protocol": {"type": "string", "default": "TCP"},
                        "port": {"type": "integer"}}}},
            "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            "args": {"type": "array", "items": {"type": "string"}},
            "selector": {"type": "object", "x-kubernetes-map-type": "atomic",
                         "additionalProperties": {"type": "string"}}}}}}}}]}})");
}

class ApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Open({});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->Create(gvr::kCrds, "", GadgetCrd()).ok());
  }
  Result<Json> Apply(const GroupVersionResource& r, const std::string& name, const std::string& manager,
                     const Json& config, bool force = false) {
    WriteOptions o;
    o.field_manager = manager;
    o.force = force;
    return store_->Patch(r, "default", name, PatchType::kApply, config.dump(), "", o);
  }
  Result<Json> ApplyPod(const std::string& manager, const Json& spec, bool force = false) {
    return Apply(gvr::kPods, "p", manager,
                 {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}}}, {"spec", spec}}, force);
  }
  Result<Json> ApplyGadget(const std::string& manager, const Json& spec, bool force = false) {
    return Apply(kGadgets, "g", manager,
                 {{"apiVersion", "example.com/v1"}, {"kind", "Gadget"}, {"metadata", {{"name", "g"}}}, {"spec", spec}},
                 force);
  }
  static Json FieldsOf(const Json& obj, const std::string& manager, const std::string& op = "Apply") {
    for (const auto& e : obj["metadata"]["managedFields"]) {
      if (e["manager"] == manager && e["operation"] == op) return e["fieldsV1"];
    }
    return nullptr;
  }
  static std::vector<std::string> Names(const Json& list, const char* key = "name") {
    std::vector<std::string> out;
    for (const auto& i : list) out.push_back(i.value(key, ""));
    return out;
  }
  std::unique_ptr<Store> store_;
};

TEST_F(ApplyTest, ContainersMergeByNameAndEachManagerOwnsItsOwn) {
  auto a = ApplyPod("alice", {{"containers", {{{"name", "app"}, {"image", "app:1"},
                                               {"env", {{{"name", "A"}, {"value", "1"}}}}}}}});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  // Upstream's FieldsV1 shape for a map-list item.
  EXPECT_EQ(FieldsOf(*a, "alice"), Json::parse(R"({"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{
      ".":{},"f:name":{},"f:image":{},"f:env":{"k:{\"name\":\"A\"}":{".":{},"f:name":{},"f:value":{}}}}}}})"));
  // Bob adds a sidecar and an env entry to alice's container, without touching her fields.
  auto b = ApplyPod("bob", {{"containers", {{{"name", "side"}, {"image", "side:1"}},
                                            {{"name", "app"}, {"env", {{{"name", "B"}, {"value", "2"}}}}}}}});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(Names((*b)["spec"]["containers"]), (std::vector<std::string>{"side", "app"}));
  const Json& app = (*b)["spec"]["containers"][1];
  EXPECT_EQ(app["image"], "app:1");
  EXPECT_EQ(Names(app["env"]), (std::vector<std::string>{"A", "B"}));
  EXPECT_TRUE(FieldsOf(*b, "bob")["f:spec"]["f:containers"].contains("k:{\"name\":\"side\"}"));
  EXPECT_EQ(FieldsOf(*b, "alice"), FieldsOf(*a, "alice"));

  // Changing alice's image is a conflict naming the item by its key, as upstream prints it.
  auto c = ApplyPod("bob", {{"containers", {{{"name", "app"}, {"image", "app:2"}}}}});
  ASSERT_EQ(c.status().http_code(), 409);
  EXPECT_EQ(c.status().message(),
            "Apply failed with 1 conflict: conflict with \"alice\" using v1: .spec.containers[name=\"app\"].image");
  // Forced, bob takes the image over; alice keeps the rest.
  auto f = ApplyPod("bob", {{"containers", {{{"name", "app"}, {"image", "app:2"}}}}}, true);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)["spec"]["containers"][0]["image"], "app:2");
  const Json alice_app = FieldsOf(*f, "alice")["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"];
  EXPECT_FALSE(alice_app.contains("f:image"));
  EXPECT_TRUE(alice_app.contains("f:env"));
  // Bob no longer applies the sidecar (nor B): they go; alice's items stay.
  EXPECT_EQ(Names((*f)["spec"]["containers"]), (std::vector<std::string>{"app"}));
  EXPECT_EQ(Names((*f)["spec"]["containers"][0]["env"]), (std::vector<std::string>{"A"}));
}

TEST_F(ApplyTest, ItemsAManagerStopsApplyingGoUnlessSomeoneElseOwnsThem) {
  ASSERT_TRUE(ApplyPod("alice", {{"containers", {{{"name", "a"}, {"image", "i"}}, {{"name", "b"}, {"image", "i"}}}}}).ok());
  // Bob co-owns b (same value: no conflict).
  ASSERT_TRUE(ApplyPod("bob", {{"containers", {{{"name", "b"}, {"image", "i"}}}}}).ok());
  auto r = ApplyPod("alice", {{"containers", Json::array()}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Names((*r)["spec"]["containers"]), (std::vector<std::string>{"b"}));
}

TEST_F(ApplyTest, PortsKeyOnContainerPortAndDefaultedProtocol) {
  ASSERT_TRUE(ApplyPod("alice", {{"containers", {{{"name", "c"}, {"ports", {{{"containerPort", 53}}}}}}}}).ok());
  auto b = ApplyPod("bob", {{"containers", {{{"name", "c"}, {"ports", {{{"containerPort", 53}, {"protocol", "UDP"}}}}}}}});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ((*b)["spec"]["containers"][0]["ports"].size(), 2u);
  // protocol TCP is the key's default: the same port again is alice's item, not a new one.
  auto same = ApplyPod("bob", {{"containers", {{{"name", "c"}, {"ports", {{{"containerPort", 53}, {"protocol", "TCP"}, {"name", "dns"}}}}}}}});
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  const Json& ports = (*same)["spec"]["containers"][0]["ports"];
  ASSERT_EQ(ports.size(), 1u) << ports.dump();  // bob's UDP port went: he no longer applies it
  EXPECT_EQ(ports[0]["name"], "dns");
  EXPECT_TRUE(FieldsOf(*same, "bob")["f:spec"]["f:containers"]["k:{\"name\":\"c\"}"]["f:ports"].contains(
      "k:{\"containerPort\":53,\"protocol\":\"TCP\"}"));
}

TEST_F(ApplyTest, StatusConditionsMergeByType) {
  ASSERT_TRUE(ApplyPod("alice", {{"containers", {{{"name", "c"}}}}}).ok());
  auto status = [&](const std::string& manager, const Json& conditions) {
    WriteOptions o;
    o.field_manager = manager;
    Json cfg = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}}}, {"status", {{"conditions", conditions}}}};
    return store_->Patch(gvr::kPods, "default", "p", PatchType::kApply, cfg.dump(), "status", o);
  };
  ASSERT_TRUE(status("kubelet", {{{"type", "Ready"}, {"status", "True"}}}).ok());
  auto r = status("scheduler", {{{"type", "PodScheduled"}, {"status", "True"}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Names((*r)["status"]["conditions"], "type"), (std::vector<std::string>{"Ready", "PodScheduled"}));
}

TEST_F(ApplyTest, CustomResourceListTypesFromTheSchema) {
  auto a = ApplyGadget("alice", {{"ports", {{{"name", "http"}, {"port", 80}}}}, {"tags", {"x", "y"}}, {"args", {"--a"}},
                                 {"selector", {{"app", "a"}}}});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(FieldsOf(*a, "alice")["f:spec"]["f:tags"], Json::parse(R"({"v:\"x\"":{},"v:\"y\"":{}})"));
  EXPECT_TRUE(FieldsOf(*a, "alice")["f:spec"]["f:ports"].contains("k:{\"name\":\"http\",\"protocol\":\"TCP\"}"));
  EXPECT_EQ(FieldsOf(*a, "alice")["f:spec"]["f:selector"], Json::object());  // atomic map: a leaf
  // Map list and set merge; the same tag from both is owned by both.
  auto b = ApplyGadget("bob", {{"ports", {{{"name", "http"}, {"protocol", "UDP"}, {"port", 80}}}}, {"tags", {"y", "z"}}});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ((*b)["spec"]["ports"].size(), 2u);
  EXPECT_EQ((*b)["spec"]["tags"], Json({"x", "y", "z"}));
  // An atomic list (no x-kubernetes-list-type) and an atomic map conflict as a whole.
  auto c = ApplyGadget("bob", {{"args", {"--a", "--b"}}, {"selector", {{"tier", "b"}}}});
  ASSERT_EQ(c.status().http_code(), 409);
  EXPECT_EQ(c.status().message(), "Apply failed with 2 conflicts: conflict with \"alice\" using example.com/v1: "
                                  ".spec.args\nconflict with \"alice\" using example.com/v1: .spec.selector");
  // Alice drops tag y: bob still owns it, so it stays; x goes.
  auto d = ApplyGadget("alice", {{"ports", {{{"name", "http"}, {"port", 80}}}}, {"tags", {"q"}}, {"args", {"--a"}},
                                 {"selector", {{"app", "a"}}}});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ((*d)["spec"]["tags"], Json({"y", "z", "q"}));
}

TEST_F(ApplyTest, ListsThatDoNotFitTheirTypeAreRefusedLikeUpstream) {
  auto missing = ApplyPod("alice", {{"containers", {{{"image", "x"}}}}});
  EXPECT_EQ(missing.status().http_code(), 500);
  EXPECT_EQ(missing.status().message(),
            "failed to create typed patch object (/v1, Kind=Pod): .spec.containers: element 0: associative list "
            "with keys has an element that omits key field \"name\" (and doesn't have default value)");
  auto dup = ApplyPod("alice", {{"containers", {{{"name", "c"}}, {{"name", "c"}}}}});
  EXPECT_EQ(dup.status().http_code(), 500);
  EXPECT_NE(dup.status().message().find(".spec.containers: duplicate entries for key [name=\"c\"]"), std::string::npos)
      << dup.status().message();
  auto set = ApplyGadget("alice", {{"tags", {{{"a", 1}}}}});
  EXPECT_EQ(set.status().http_code(), 500);
  EXPECT_FALSE(store_->Get(gvr::kPods, "default", "p").ok());
}

TEST_F(ApplyTest, UpdatesTakeOwnershipOfListItemFields) {
  ASSERT_TRUE(ApplyPod("alice", {{"containers", {{{"name", "c"}, {"image", "v1"}}}}}).ok());
  WriteOptions o;
  o.field_manager = "editor";
  auto u = store_->Patch(gvr::kPods, "default", "p", PatchType::kJson,
                         R"([{"op":"replace","path":"/spec/containers/0/image","value":"v2"}])", "", o);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(FieldsOf(*u, "editor", "Update"),
            Json::parse(R"({"f:spec":{"f:containers":{"k:{\"name\":\"c\"}":{"f:image":{}}}}})"));
  EXPECT_FALSE(FieldsOf(*u, "alice")["f:spec"]["f:containers"]["k:{\"name\":\"c\"}"].contains("f:image"));
  auto again = ApplyPod("alice", {{"containers", {{{"name", "c"}, {"image", "v1"}}}}});
  ASSERT_EQ(again.status().http_code(), 409);
  EXPECT_EQ(again.status().message(),
            "Apply failed with 1 conflict: conflict with \"editor\" using v1: .spec.containers[name=\"c\"].image");
}

TEST_F(ApplyTest, FinalizersAreASet) {
  auto cm = [](const Json& finalizers) {
    return Json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "cm"}, {"finalizers", finalizers}}}};
  };
  ASSERT_TRUE(Apply(gvr::kConfigMaps, "cm", "alice", cm({"a/x"})).ok());
  auto b = Apply(gvr::kConfigMaps, "cm", "bob", cm({"b/y"}));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ((*b)["metadata"]["finalizers"], Json({"a/x", "b/y"}));
}

// ---- strategic merge patch ----

MergeTypes BuiltinTypes(const std::string& group, const std::string& plural) {
  for (const auto& r : BuiltinResources()) {
    if (r.group == group && r.plural == plural) return MergeTypes::For(r);
  }
  ADD_FAILURE() << "no built-in " << group << "/" << plural;
  return MergeTypes();
}

struct SmpCase {
  const char* name;
  const char* group;
  const char* plural;
  const char* live;
  const char* patch;
  const char* want;       // the patched object; null when an error is expected
  int want_http = 0;      // the error's HTTP code
  const char* want_message = "";  // a substring of the error's message
};

TEST(StrategicMergePatchTest, Table) {
  const char* two_containers =
      R"({"spec":{"containers":[{"name":"a","image":"a:1","env":[{"name":"X","value":"1"},{"name":"Y","value":"2"}]},
                                {"name":"b","image":"b:1"}]}})";
  const SmpCase cases[] = {
      {"a container patched by name keeps the other", "", "pods", two_containers,
       R"({"spec":{"containers":[{"name":"b","image":"b:2"}]}})",
       R"({"spec":{"containers":[{"name":"a","image":"a:1","env":[{"name":"X","value":"1"},{"name":"Y","value":"2"}]},
                                 {"name":"b","image":"b:2"}]}})"},
      {"env merged by name inside the container", "", "pods", two_containers,
       R"({"spec":{"containers":[{"name":"a","env":[{"name":"Y","value":"3"},{"name":"Z","value":"4"}]}]}})",
       R"({"spec":{"containers":[{"name":"a","image":"a:1","env":[{"name":"X","value":"1"},{"name":"Y","value":"3"},{"name":"Z","value":"4"}]},
                                 {"name":"b","image":"b:1"}]}})"},
      {"$patch: delete removes the item with that key", "", "pods", two_containers,
       R"({"spec":{"containers":[{"name":"a","env":[{"name":"X","$patch":"delete"}]}]}})",
       R"({"spec":{"containers":[{"name":"a","image":"a:1","env":[{"name":"Y","value":"2"}]},{"name":"b","image":"b:1"}]}})"},
      {"kubectl apply's three-way patch (env X removed, Y changed)", "", "pods", two_containers,
       R"({"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],
                   "containers":[{"$setElementOrder/env":[{"name":"Y"}],"env":[{"name":"Y","value":"3"},{"$patch":"delete","name":"X"}],"name":"a"}]}})",
       R"({"spec":{"containers":[{"name":"a","image":"a:1","env":[{"name":"Y","value":"3"}]},{"name":"b","image":"b:1"}]}})"},
      {"$patch: replace as a list item replaces the list", "", "pods", two_containers,
       R"({"spec":{"containers":[{"$patch":"replace"},{"name":"c","image":"c:1"}]}})",
       R"({"spec":{"containers":[{"name":"c","image":"c:1"}]}})"},
      {"$patch: replace in a map replaces the map", "", "pods", R"({"metadata":{"labels":{"a":"1","b":"2"}}})",
       R"({"metadata":{"labels":{"$patch":"replace","c":"3"}}})", R"({"metadata":{"labels":{"c":"3"}}})"},
      {"$patch: delete in a map empties it", "", "pods", R"({"spec":{"nodeSelector":{"a":"1"},"x":1}})",
       R"({"spec":{"nodeSelector":{"$patch":"delete"}}})", R"({"spec":{"nodeSelector":{},"x":1}})"},
      {"$patch: merge in a map is refused as upstream", "", "pods", R"({"metadata":{"labels":{"a":"1"}}})",
       R"({"metadata":{"labels":{"$patch":"merge","b":"2"}}})", nullptr, 500,
       "unknown patch type: merge in map: map[$patch:merge b:2]"},
      {"$patch: merge in a list is refused as upstream", "", "pods", two_containers,
       R"({"spec":{"containers":[{"$patch":"merge"}]}})", nullptr, 500,
       "merging lists cannot yet be specified in the patch"},
      {"null deletes a field", "", "pods", R"({"metadata":{"labels":{"a":"1","b":"2"}}})",
       R"({"metadata":{"labels":{"a":null}}})", R"({"metadata":{"labels":{"b":"2"}}})"},
      {"finalizers merge as a set, new ones first as upstream orders them", "", "configmaps",
       R"({"metadata":{"finalizers":["a","b"]}})", R"({"metadata":{"finalizers":["c","a"]}})",
       R"({"metadata":{"finalizers":["c","a","b"]}})"},
      {"$deleteFromPrimitiveList removes scalars", "", "configmaps", R"({"metadata":{"finalizers":["a","b","c"]}})",
       R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["b"]}})", R"({"metadata":{"finalizers":["a","c"]}})"},
      {"$setElementOrder places new scalars among the live ones", "", "configmaps",
       R"({"metadata":{"finalizers":["1","4","2"]}})",
       R"({"metadata":{"$setElementOrder/finalizers":["3","1","2"],"finalizers":["3"]}})",
       R"({"metadata":{"finalizers":["3","1","4","2"]}})"},
      {"$setElementOrder alone reorders a list", "", "pods", two_containers,
       R"({"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}]}})",
       R"({"spec":{"containers":[{"name":"b","image":"b:1"},{"name":"a","image":"a:1","env":[{"name":"X","value":"1"},{"name":"Y","value":"2"}]}]}})"},
      {"$setElementOrder that contradicts the patch's order", "", "pods", two_containers,
       R"({"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],"containers":[{"name":"b"},{"name":"a"}]}})",
       nullptr, 500, "doesn't match $setElementOrder list"},
      {"ownerReferences merge by uid", "", "configmaps",
       R"({"metadata":{"ownerReferences":[{"uid":"u1","name":"one","kind":"Pod"},{"uid":"u2","name":"two","kind":"Pod"}]}})",
       R"({"metadata":{"ownerReferences":[{"uid":"u2","controller":true}]}})",
       R"({"metadata":{"ownerReferences":[{"uid":"u1","name":"one","kind":"Pod"},{"uid":"u2","name":"two","kind":"Pod","controller":true}]}})"},
      {"container ports merge by containerPort", "", "pods",
       R"({"spec":{"containers":[{"name":"a","ports":[{"containerPort":80},{"containerPort":443}]}]}})",
       R"({"spec":{"containers":[{"name":"a","ports":[{"containerPort":443,"name":"https"}]}]}})",
       R"({"spec":{"containers":[{"name":"a","ports":[{"containerPort":80},{"containerPort":443,"name":"https"}]}]}})"},
      {"service ports merge by port", "", "services",
       R"({"spec":{"ports":[{"port":80,"targetPort":8080},{"port":443}]}})",
       R"({"spec":{"ports":[{"port":80,"targetPort":9090}]}})",
       R"({"spec":{"ports":[{"port":80,"targetPort":9090},{"port":443}]}})"},
      {"pod template containers merge by name", "", "podtemplates",
       R"({"template":{"spec":{"containers":[{"name":"a","image":"a:1"},{"name":"b","image":"b:1"}]}}})",
       R"({"template":{"spec":{"containers":[{"name":"a","image":"a:2"}]}}})",
       R"({"template":{"spec":{"containers":[{"name":"a","image":"a:2"},{"name":"b","image":"b:1"}]}}})"},
      {"node conditions merge by type", "", "nodes",
       R"({"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"MemoryPressure","status":"False"}]}})",
       R"({"status":{"conditions":[{"type":"Ready","status":"False"}]}})",
       R"({"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"MemoryPressure","status":"False"}]}})"},
      {"tolerations have no strategy: replaced whole", "", "pods",
       R"({"spec":{"tolerations":[{"key":"a","operator":"Exists"},{"key":"b","operator":"Exists"}]}})",
       R"({"spec":{"tolerations":[{"key":"c","operator":"Exists"}]}})",
       R"({"spec":{"tolerations":[{"key":"c","operator":"Exists"}]}})"},
      {"node taints have no strategy: replaced whole", "", "nodes",
       R"({"spec":{"taints":[{"key":"a","effect":"NoSchedule"}]}})", R"({"spec":{"taints":[]}})",
       R"({"spec":{"taints":[]}})"},
      {"$retainKeys clears the fields it does not list", "apps", "deployments",
       R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}})",
       R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})",
       R"({"spec":{"strategy":{"type":"Recreate"}}})"},
      {"$retainKeys must list every field the patch sets", "apps", "deployments",
       R"({"spec":{"strategy":{"type":"RollingUpdate"}}})",
       R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":{}}}})", nullptr, 400,
       "invalid patch format of retainKeys"},
      {"a merge-list item without its merge key", "", "pods", two_containers,
       R"({"spec":{"containers":[{"image":"x"}]}})", nullptr, 500,
       "map: map[image:x] does not contain declared merge key: name"},
      {"$patch: delete without the merge key", "", "pods", two_containers,
       R"({"spec":{"containers":[{"$patch":"delete"}]}})", nullptr, 500, "does not contain declared merge key: name"},
      {"$deleteFromPrimitiveList without a field", "", "configmaps", R"({"metadata":{"finalizers":["a"]}})",
       R"({"metadata":{"$deleteFromPrimitiveList":["a"]}})", nullptr, 400, "invalid patch format of primitive list"},
      {"lists of lists", "", "configmaps", R"({"metadata":{"finalizers":[]}})",
       R"({"metadata":{"finalizers":[["b"]]}})", nullptr, 422, "lists of lists are not supported"},
      {"items of different types", "", "configmaps", R"({"metadata":{"finalizers":["a"]}})",
       R"({"metadata":{"finalizers":[["b"]]}})", nullptr, 500, "list element types are not identical"},
      {"a new field is taken whole, without directives or nulls", "", "pods", R"({"spec":{}})",
       R"({"spec":{"containers":[{"name":"a","env":[{"name":"X","$patch":"delete"},{"name":"Y","value":null}]}]}})",
       R"({"spec":{"containers":[{"name":"a","env":[{"name":"Y"}]}]}})"},
      {"a new container with no order given goes first, as upstream orders it", "", "pods", two_containers,
       R"({"spec":{"containers":[{"name":"c","image":"c:1"}]}})",
       R"({"spec":{"containers":[{"name":"c","image":"c:1"},
                                 {"name":"a","image":"a:1","env":[{"name":"X","value":"1"},{"name":"Y","value":"2"}]},
                                 {"name":"b","image":"b:1"}]}})"},
      {"a new container placed by $setElementOrder", "", "pods", two_containers,
       R"({"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"},{"name":"c"}],
                   "containers":[{"name":"c","image":"c:1"}]}})",
       R"({"spec":{"containers":[{"name":"a","image":"a:1","env":[{"name":"X","value":"1"},{"name":"Y","value":"2"}]},
                                 {"name":"b","image":"b:1"},{"name":"c","image":"c:1"}]}})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    MergeTypes types = BuiltinTypes(c.group, c.plural);
    auto got = ApplyStrategicMergePatch(Json::parse(c.live), Json::parse(c.patch), types);
    if (c.want == nullptr) {
      ASSERT_FALSE(got.ok()) << got->dump();
      EXPECT_EQ(got.status().http_code(), c.want_http) << got.status().ToString();
      EXPECT_NE(got.status().message().find(c.want_message), std::string::npos) << got.status().message();
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, Json::parse(c.want)) << got->dump();
  }
}

// Arbitrary patches built from the directive and field vocabulary never crash the merge: they
// yield an object or one of the API server's answers (400, 422, 500).
TEST(StrategicMergePatchTest, RandomPatchesYieldAnObjectOrAnApiError) {
  std::mt19937 rng(7);
  const std::vector<std::string> keys = {"spec", "containers", "env", "ports", "name", "image", "containerPort",
                                         "metadata", "finalizers", "labels", "$patch", "$retainKeys",
                                         "$setElementOrder/containers", "$setElementOrder/env",
                                         "$deleteFromPrimitiveList/finalizers", "$setElementOrder", "tolerations"};
  const std::vector<Json> scalars = {"a", "b", "replace", "delete", "merge", 1, 80, 2.5, true, nullptr};
  std::function<Json(int)> value = [&](int depth) -> Json {
    int pick = static_cast<int>(rng() % (depth > 3 ? 1 : 3));
    if (pick == 0) return scalars[rng() % scalars.size()];
    if (pick == 1) {
      Json a = Json::array();
      for (int i = static_cast<int>(rng() % 4); i > 0; --i) a.push_back(value(depth + 1));
      return a;
    }
    Json o = Json::object();
    for (int i = static_cast<int>(rng() % 4); i > 0; --i) o[keys[rng() % keys.size()]] = value(depth + 1);
    return o;
  };
  Json live = Json::parse(R"({"metadata":{"name":"p","finalizers":["a","b"],"labels":{"a":"1"}},
      "spec":{"containers":[{"name":"a","image":"a:1","env":[{"name":"X","value":"1"}],"ports":[{"containerPort":80}]},
                            {"name":"b","image":"b:1"}],"tolerations":[{"key":"k"}]}})");
  MergeTypes types = BuiltinTypes("", "pods");
  int ok = 0;
  for (int i = 0; i < 1500; ++i) {
    Json patch = Json::object();
    for (int k = static_cast<int>(rng() % 3) + 1; k > 0; --k) patch[keys[rng() % keys.size()]] = value(0);
    auto got = ApplyStrategicMergePatch(live, patch, types);
    if (got.ok()) {
      ++ok;
      EXPECT_TRUE(got->is_object()) << patch.dump();
    } else {
      int code = got.status().http_code();
      EXPECT_TRUE(code == 400 || code == 422 || code == 500) << code << " " << patch.dump();
    }
  }
  EXPECT_GT(ok, 0);
}

TEST(StrategicMergePatchTest, MergeKeysFollowUpstreamTags) {
  MergeTypes pods = BuiltinTypes("", "pods");
  EXPECT_EQ(pods.StrategyAt({"spec", "containers"}).merge_key, "name");
  EXPECT_EQ(pods.StrategyAt({"spec", "containers", "[]", "ports"}).merge_key, "containerPort");
  EXPECT_EQ(pods.StrategyAt({"spec", "containers", "[]", "volumeMounts"}).merge_key, "mountPath");
  EXPECT_EQ(pods.StrategyAt({"spec", "volumes"}).merge_key, "name");
  EXPECT_FALSE(pods.StrategyAt({"spec", "tolerations"}).merge);
  EXPECT_FALSE(pods.StrategyAt({"status", "containerStatuses"}).merge);
  EXPECT_TRUE(pods.StrategyAt({"metadata", "finalizers"}).merge);
  EXPECT_EQ(pods.StrategyAt({"metadata", "finalizers"}).merge_key, "");
  EXPECT_EQ(pods.StrategyAt({"metadata", "ownerReferences"}).merge_key, "uid");
  // SMP and server-side apply disagree where upstream's markers do: service ports are keyed by port
  // for SMP but by port+protocol for apply.
  MergeTypes services = BuiltinTypes("", "services");
  EXPECT_EQ(services.StrategyAt({"spec", "ports"}).merge_key, "port");
  EXPECT_EQ(services.ListAt({"spec", "ports"}).keys, (std::vector<std::string>{"port", "protocol"}));
  EXPECT_FALSE(BuiltinTypes("", "endpoints").StrategyAt({"subsets"}).merge);
}

TEST(StrategicMergePatchTest, StoreKeepsOtherContainersAndRefusesCustomResources) {
  auto s = Store::Open({});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto store = std::move(*s);
  Json pod = Json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default"},
      "spec":{"containers":[{"name":"a","image":"a:1"},{"name":"b","image":"b:1"}]}})");
  ASSERT_TRUE(store->Create(gvr::kPods, "default", pod).ok());
  auto p = store->Patch(gvr::kPods, "default", "p", PatchType::kStrategicMerge,
                        R"({"spec":{"containers":[{"name":"a","image":"a:2"}]}})", "");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  Json names_images = Json::array();  // the server's defaults (imagePullPolicy, ...) aside
  for (const auto& c : (*p)["spec"]["containers"]) names_images.push_back({{"name", c["name"]}, {"image", c["image"]}});
  EXPECT_EQ(names_images, Json::parse(R"([{"name":"a","image":"a:2"},{"name":"b","image":"b:1"}])"));
  auto bad = store->Patch(gvr::kPods, "default", "p", PatchType::kStrategicMerge,
                          R"({"spec":{"containers":[{"image":"x"}]}})", "");
  EXPECT_EQ(bad.status().http_code(), 500);
  ASSERT_TRUE(store->Create(gvr::kCrds, "", GadgetCrd()).ok());
  Json gadget = {{"apiVersion", "example.com/v1"}, {"kind", "Gadget"}, {"metadata", {{"name", "g"}}}};
  ASSERT_TRUE(store->Create(kGadgets, "default", gadget).ok());
  auto cr = store->Patch(kGadgets, "default", "g", PatchType::kStrategicMerge, R"({"spec":{}})", "");
  EXPECT_EQ(cr.status().http_code(), 415);
}

}  // namespace
}  // namespace prescient::sim
