#include "sim/handler.h"

#include <gtest/gtest.h>

#include "sim/selectors.h"
#include "sim/table.h"

namespace prescient::sim {
namespace {

class HandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Open({});
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    HandlerOptions o;
    o.token = "secret";
    o.bookmark_interval = std::chrono::milliseconds(0);
    handler_ = std::make_unique<ApiHandler>(store_.get(), o);
  }
  HttpResponse Do(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::string& content_type = "application/json", const std::string& accept = "application/json") {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.body = body;
    r.headers = {{"Authorization", "Bearer secret"}, {"Content-Type", content_type}, {"Accept", accept}};
    return handler_->Handle(r);
  }
  Json Body(const HttpResponse& r) { return Json::parse(r.body); }
  void CreateCrd() {
    auto r = Do("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", R"({
      "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
      "metadata": {"name": "widgets.example.com"},
      "spec": {"group": "example.com", "scope": "Namespaced",
        "names": {"plural": "widgets", "kind": "Widget"},
        "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
          "additionalPrinterColumns": [
            {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
            {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type=='Ready')].status"}],
          "schema": {"openAPIV3Schema": {"type": "object", "properties": {
            "spec": {"type": "object", "properties": {"size": {"type": "integer"},
                                                      "name": {"type": "string", "maxLength": 3}}},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]}})");
    ASSERT_EQ(r.status, 201) << r.body;
  }
  std::unique_ptr<Store> store_;
  std::unique_ptr<ApiHandler> handler_;
};

TEST_F(HandlerTest, AuthIsRequiredExceptForHealthAndVersion) {
  HttpRequest r;
  r.method = "GET";
  r.target = "/api/v1/namespaces";
  auto res = handler_->Handle(r);
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(Body(res)["reason"], "Unauthorized");
  r.target = "/healthz";
  EXPECT_EQ(handler_->Handle(r).status, 200);
  r.target = "/version";
  EXPECT_EQ(Json::parse(handler_->Handle(r).body)["minor"], "32");
}

TEST_F(HandlerTest, StatusErrorsHaveTheUpstreamShape) {
  auto r = Do("GET", "/api/v1/namespaces/default/configmaps/missing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Body(r), Json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
    "message":"configmaps \"missing\" not found","reason":"NotFound",
    "details":{"name":"missing","kind":"configmaps"},"code":404})"));
  EXPECT_EQ(Do("GET", "/api/v1/nothings").status, 404);
  EXPECT_EQ(Do("GET", "/apis/nope.io/v1/things").status, 404);
  auto bad = Do("POST", "/api/v1/namespaces/default/configmaps", "{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["reason"], "BadRequest");
  auto yaml = Do("POST", "/api/v1/namespaces/default/configmaps", "a: [unclosed", "application/yaml");
  EXPECT_EQ(yaml.status, 400);
  auto kind = Do("POST", "/api/v1/namespaces/default/configmaps", R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}})");
  EXPECT_EQ(kind.status, 400);
  EXPECT_EQ(Body(kind)["message"], "the kind in the data (Secret) does not match the expected kind (ConfigMap)");
  std::string big(3 * 1024 * 1024 + 10, ' ');
  auto large = Do("POST", "/api/v1/namespaces/default/configmaps", big);
  EXPECT_EQ(large.status, 413);
  auto sel = Do("GET", "/api/v1/pods?labelSelector=a%20in%20(");
  EXPECT_EQ(sel.status, 400);
}

TEST_F(HandlerTest, CreateListAndTable) {
  CreateCrd();
  auto c = Do("POST", "/apis/example.com/v1/namespaces/default/widgets",
              R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"size":3}})");
  ASSERT_EQ(c.status, 201) << c.body;
  auto st = Do("PATCH", "/apis/example.com/v1/namespaces/default/widgets/w1/status",
               R"({"status":{"conditions":[{"type":"Ready","status":"True"}]}})", "application/merge-patch+json");
  ASSERT_EQ(st.status, 200) << st.body;
  auto t = Do("GET", "/apis/example.com/v1/namespaces/default/widgets?limit=500", "", "",
              "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json");
  ASSERT_EQ(t.status, 200);
  Json table = Body(t);
  EXPECT_EQ(table["kind"], "Table");
  ASSERT_EQ(table["columnDefinitions"].size(), 3u);
  EXPECT_EQ(table["columnDefinitions"][1]["name"], "Size");
  EXPECT_EQ(table["rows"][0]["cells"], Json::parse(R"(["w1", 3, "True"])"));
  EXPECT_EQ(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
  auto invalid = Do("POST", "/apis/example.com/v1/namespaces/default/widgets",
                    R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w9"},"spec":{"size":"big"}})");
  ASSERT_EQ(invalid.status, 422);
  EXPECT_EQ(Body(invalid)["details"]["causes"], Json::parse(R"([{"reason":"FieldValueInvalid","message":
    "Invalid value: \"string\": spec.size in body must be of type integer: \"string\"","field":"spec.size"}])"));
  // Several errors: the message lists them in brackets, and each becomes one cause.
  auto two = Do("POST", "/apis/example.com/v1/namespaces/default/widgets",
                R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w9"},"spec":{"size":"big","name":"long"}})");
  ASSERT_EQ(two.status, 422);
  const Json two_body = Body(two);
  ASSERT_NE(two_body["message"].get<std::string>().find(" is invalid: ["), std::string::npos) << two.body;
  ASSERT_EQ(two_body["details"]["causes"].size(), 2u) << two.body;
  for (const auto& c : two_body["details"]["causes"]) {
    EXPECT_EQ(c["field"].get<std::string>().rfind("spec.", 0), 0u) << two.body;
  }
  auto smp = Do("PATCH", "/apis/example.com/v1/namespaces/default/widgets/w1", R"({"spec":{"size":4}})",
                "application/strategic-merge-patch+json");
  EXPECT_EQ(smp.status, 415);
  auto unknown = Do("POST", "/apis/example.com/v1/namespaces/default/widgets?fieldValidation=Strict",
                    R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w2"},"spec":{"size":3,"x":1}})");
  EXPECT_EQ(unknown.status, 400);
  auto warn = Do("POST", "/apis/example.com/v1/namespaces/default/widgets",
                 R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w2"},"spec":{"size":3,"x":1}})");
  ASSERT_EQ(warn.status, 201);
  ASSERT_EQ(warn.headers.size(), 1u);
  EXPECT_EQ(warn.headers[0].second, "299 - \"unknown field \\\"spec.x\\\"\"");
}

TEST_F(HandlerTest, DiscoveryAndOpenApi) {
  CreateCrd();
  auto agg = Do("GET", "/apis", "", "", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json");
  EXPECT_EQ(agg.content_type, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  bool found = false;
  Json groups = Body(agg);
  for (const auto& g : groups["items"]) found = found || g["metadata"]["name"] == "example.com";
  EXPECT_TRUE(found);
  auto legacy = Do("GET", "/apis/example.com/v1");
  EXPECT_EQ(Body(legacy)["resources"][0]["name"], "widgets");
  auto root = Body(Do("GET", "/openapi/v3"));
  std::string url = root["paths"]["apis/example.com/v1"]["serverRelativeURL"];
  auto doc = Body(Do("GET", url));
  const Json& patch = doc["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"];
  EXPECT_EQ(patch["x-kubernetes-group-version-kind"]["kind"], "Widget");
  EXPECT_FALSE(patch["requestBody"]["content"].contains("application/strategic-merge-patch+json"));
  bool fv = false;
  for (const auto& p : patch["parameters"]) fv = fv || p["name"] == "fieldValidation";
  EXPECT_TRUE(fv);
}

TEST_F(HandlerTest, WatchStreamsEventsBookmarksAndExpiry) {
  auto list = Body(Do("GET", "/api/v1/namespaces/default/configmaps"));
  std::string rv = list["metadata"]["resourceVersion"];
  auto w = Do("GET", "/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=" + rv);
  ASSERT_TRUE(w.watch);
  ASSERT_EQ(Do("POST", "/api/v1/namespaces/default/configmaps", R"({"metadata":{"name":"c"}})").status, 201);
  std::string out;
  EXPECT_TRUE(w.watch->Poll(&out));
  auto nl = out.find('\n');
  Json ev = Json::parse(out.substr(0, nl));
  EXPECT_EQ(ev["type"], "ADDED");
  EXPECT_EQ(ev["object"]["metadata"]["name"], "c");
  Json bm = Json::parse(out.substr(nl + 1, out.find('\n', nl + 1) - nl - 1));
  EXPECT_EQ(bm["type"], "BOOKMARK");
  EXPECT_EQ(bm["object"]["metadata"]["resourceVersion"], ev["object"]["metadata"]["resourceVersion"]);
  // Shrink the history: an old RV is now expired, reported as an ERROR event.
  ASSERT_EQ(Do("POST", "/admin/faults", R"({"historySize":0,"dropWatches":true})").status, 200);
  out.clear();
  EXPECT_FALSE(w.watch->Poll(&out));
  auto expired = Do("GET", "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=" + rv);
  ASSERT_TRUE(expired.watch);
  out.clear();
  EXPECT_FALSE(expired.watch->Poll(&out));
  Json err = Json::parse(out);
  EXPECT_EQ(err["type"], "ERROR");
  EXPECT_EQ(err["object"]["code"], 410);
  EXPECT_EQ(err["object"]["reason"], "Expired");
}

TEST_F(HandlerTest, ExpiredContinueOffersAnInconsistentContinuation) {
  for (const char* n : {"a", "b", "c"}) {
    ASSERT_EQ(Do("POST", "/api/v1/namespaces/default/configmaps",
                 std::string(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")") + n + R"("}})")
                  .status,
              201);
  }
  auto p1 = Do("GET", "/api/v1/namespaces/default/configmaps?limit=1");
  ASSERT_EQ(p1.status, 200) << p1.body;
  std::string token = Body(p1)["metadata"]["continue"];
  ASSERT_FALSE(token.empty());
  // Writes after the first page, then a history too short to hold its resourceVersion.
  ASSERT_EQ(Do("POST", "/api/v1/namespaces/default/configmaps",
               R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d"}})").status, 201);
  ASSERT_EQ(Do("POST", "/admin/faults", R"({"historySize":0})").status, 200);
  auto expired = Do("GET", "/api/v1/namespaces/default/configmaps?limit=1&continue=" + token);
  ASSERT_EQ(expired.status, 410) << expired.body;
  Json st = Body(expired);
  EXPECT_EQ(st["reason"], "Expired");
  std::string next = st["metadata"].value("continue", "");
  ASSERT_FALSE(next.empty()) << st.dump();
  // The offered token goes on after "a" from the current state, "d" included.
  std::vector<std::string> names;
  while (!next.empty()) {
    auto page = Do("GET", "/api/v1/namespaces/default/configmaps?limit=1&continue=" + next);
    ASSERT_EQ(page.status, 200) << page.body;
    Json b = Body(page);
    for (const auto& it : b["items"]) names.push_back(it["metadata"]["name"]);
    next = b["metadata"].value("continue", "");
  }
  EXPECT_EQ(names, (std::vector<std::string>{"b", "c", "d"}));
}

TEST_F(HandlerTest, AHugeWatchTimeoutIsAcceptedWithoutOverflow) {
  // Found by the fuzz replay under UBSan: seconds(LONG_MAX) overflowed converting to milliseconds.
  auto w = Do("GET", "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=9223372036854775807");
  EXPECT_EQ(w.status, 200) << w.body;
  EXPECT_TRUE(w.watch);
  EXPECT_EQ(Do("GET", "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=99999999999999999999").status, 400);
}

TEST_F(HandlerTest, FaultsAnswerAShareOfRequests) {
  ASSERT_EQ(Do("POST", "/admin/faults", R"({"errorShare":1,"errorCodes":[429],"retryAfterSeconds":3})").status, 200);
  auto r = Do("GET", "/api/v1/namespaces");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Body(r)["details"]["retryAfterSeconds"], 3);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Retry-After", "3"}));
  EXPECT_EQ(Do("GET", "/healthz").status, 200);  // only /api and /apis are affected
  EXPECT_EQ(Do("POST", "/admin/faults", R"({"errorShare":2})").status, 400);
  ASSERT_EQ(Do("DELETE", "/admin/faults").status, 200);
  EXPECT_EQ(Do("GET", "/api/v1/namespaces").status, 200);
}

TEST(SelectorsTest, LabelSelectorsParseAndMatch) {
  struct Case {
    std::string selector;
    Json labels;
    bool match;
  } cases[] = {
      {"", Json::object(), true},
      {"a=b", {{"a", "b"}}, true},
      {"a==b", {{"a", "c"}}, false},
      {"a!=b", Json::object(), true},
      {"a in (x, y)", {{"a", "y"}}, true},
      {"a notin (x)", {{"a", "x"}}, false},
      {"a", {{"a", ""}}, true},
      {"!a", {{"a", "1"}}, false},
      {"a,b=c", {{"a", "1"}, {"b", "c"}}, true},
      {"example.com/role=db", {{"example.com/role", "db"}}, true},
  };
  for (const auto& c : cases) {
    auto s = ParseLabelSelector(c.selector);
    ASSERT_TRUE(s.ok()) << c.selector << ": " << s.status().ToString();
    EXPECT_EQ(s->Matches(c.labels), c.match) << c.selector << " on " << c.labels.dump();
  }
  for (const char* bad : {"a in (", "a=b c", "=x", "a in x", "a=b=c!"}) {
    EXPECT_FALSE(ParseLabelSelector(bad).ok()) << bad;
  }
}

TEST(SelectorsTest, FieldSelectors) {
  Json pod = {{"metadata", {{"name", "p"}}}, {"spec", {{"nodeName", "n1"}}}, {"status", {{"phase", "Running"}}}};
  auto s = ParseFieldSelector("spec.nodeName=n1,status.phase!=Pending");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->Matches(pod));
  auto unbound = ParseFieldSelector("spec.nodeName=");
  EXPECT_FALSE(unbound->Matches(pod));
  EXPECT_FALSE(ParseFieldSelector("nonsense").ok());
}

TEST(TableTest, JsonPathSubset) {
  Json obj = Json::parse(R"({"status":{"conditions":[{"type":"A","status":"False"},{"type":"Ready","status":"True"}]},
                             "spec":{"items":[{"n":1},{"n":2}]}})");
  auto v = EvalJsonPath(obj, ".status.conditions[?(@.type=='Ready')].status");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(*v[0], "True");
  EXPECT_EQ(EvalJsonPath(obj, ".spec.items[*].n").size(), 2u);
  EXPECT_EQ(*EvalJsonPath(obj, ".spec.items[1].n")[0], 2);
  EXPECT_TRUE(EvalJsonPath(obj, ".spec.missing").empty());
  EXPECT_TRUE(EvalJsonPath(obj, ".status.conditions[?(@.type=='Ready'").empty());
  EXPECT_EQ(HumanDuration(std::chrono::seconds(65)), "65s");
  EXPECT_EQ(HumanDuration(std::chrono::seconds(300)), "5m");
  EXPECT_EQ(HumanDuration(std::chrono::hours(30)), "30h");
}

}  // namespace
}  // namespace prescient::sim
