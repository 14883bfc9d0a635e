// Server-side apply through the store: lists merge by their type (built-in table and CRD
// x-kubernetes-list-type), and ownership is tracked per list item.
#include "sim/patch.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace prescient::sim
