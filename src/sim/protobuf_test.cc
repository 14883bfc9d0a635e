#include "sim/protobuf.h"

#include <gtest/gtest.h>

#include "sim/handler.h"

namespace prescient::sim {
namespace {

// Hand-made protobuf: a few encoders for readability (the kubectl capture below is raw bytes).
std::string Varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  s += static_cast<char>(v);
  return s;
}
std::string Tag(uint32_t number, uint32_t wire) { return Varint((uint64_t{number} << 3) | wire); }
std::string VarintField(uint32_t number, uint64_t v) { return Tag(number, 0) + Varint(v); }
std::string LenField(uint32_t number, const std::string& bytes) { return Tag(number, 2) + Varint(bytes.size()) + bytes; }
std::string Entry(const std::string& k, const std::string& v) { return LenField(1, k) + LenField(2, v); }
std::string Quantity(const std::string& q) { return LenField(1, q); }
std::string Meta(const std::string& name) { return LenField(1, LenField(1, name)); }
std::string Envelope(const std::string& api_version, const std::string& kind, const std::string& raw) {
  return std::string(kProtobufMagic) + LenField(1, LenField(1, api_version) + LenField(2, kind)) + LenField(2, raw) +
         LenField(3, "") + LenField(4, "");
}

// What `kubectl create configmap x --from-literal=a=b` (kubectl 1.32) sends, byte for byte.
const std::string kKubectlConfigMap(
    "k8s\x00"                                     // magic
    "\x0a\x0f\x0a\x02v1\x12\x09" "ConfigMap"      // typeMeta {apiVersion v1, kind ConfigMap}
    "\x12\x1b"                                    // raw: 27 bytes of ConfigMap
    "\x0a\x11"                                    //   metadata (17 bytes)
    "\x0a\x01x\x12\x00\x1a\x00\x22\x00\x2a\x00"   //     name x, generateName "", namespace "", selfLink "", uid ""
    "\x32\x00\x38\x00\x42\x00"                    //     resourceVersion "", generation 0, creationTimestamp {}
    "\x12\x06\x0a\x01" "a" "\x12\x01" "b"         //   data {a: b}
    "\x1a\x00\x22\x00",                           // contentEncoding "", contentType ""
    54);

struct DecodeCase {
  std::string name;
  std::string body;
  std::string want;                       // JSON
  std::vector<std::string> want_unknown;  // UnknownProtobufField::ToString()
};

TEST(ProtobufDecodeTest, Objects) {
  const std::string pod_spec =
      LenField(2, LenField(1, "c") + LenField(2, "busybox") + LenField(3, "sleep") + LenField(3, "10") +
                      LenField(6, LenField(1, "http") + VarintField(3, 8080) + LenField(4, "TCP")) +
                      LenField(6, VarintField(3, 0)) +  // containerPort 0 is kept (no omitempty)
                      LenField(7, LenField(1, "A") + LenField(3, LenField(4, LenField(1, LenField(1, "sec")) +
                                                                            LenField(2, "k")))) +
                      LenField(8, LenField(1, Entry("cpu", Quantity("500m"))) +
                                      LenField(2, LenField(1, "memory") + LenField(2, Quantity("64Mi")))) +
                      VarintField(16, 0)) +                            // stdin false: left out
      LenField(1, LenField(1, "cfg") + LenField(2, LenField(19, LenField(1, LenField(1, "cm"))))) +
      VarintField(25, static_cast<uint64_t>(int64_t{-5})) +               // priority -5, sign-extended
      LenField(22, LenField(1, "k") + LenField(2, "Exists") + VarintField(5, 300)) +
      LenField(14, LenField(4, Varint(1000) + Varint(2000))) +            // packed supplementalGroups
      LenField(7, Entry("disk", "ssd")) + VarintField(21, 0);              // automountServiceAccountToken false: kept
  std::vector<DecodeCase> cases = {
      {"kubectl create configmap", kKubectlConfigMap,
       R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"a":"b"}})", {}},
      {"configmap binaryData and immutable false",
       Envelope("v1", "ConfigMap", Meta("b") + LenField(3, Entry("bin", std::string("\x00\x01\xff", 3))) + VarintField(4, 0)),
       R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"},"binaryData":{"bin":"AAH/"},"immutable":false})", {}},
      {"secret data is base64",
       Envelope("v1", "Secret", Meta("s") + LenField(2, Entry("u", "pw")) + LenField(3, "Opaque") + LenField(4, Entry("t", "x"))),
       R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"u":"cHc="},"type":"Opaque","stringData":{"t":"x"}})", {}},
      {"priorityclass value 0 kept, globalDefault false left out",
       Envelope("scheduling.k8s.io/v1", "PriorityClass",
                Meta("p") + VarintField(2, 0) + VarintField(3, 0) + LenField(4, "d") + LenField(5, "Never")),
       R"({"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"p"},"value":0,
           "description":"d","preemptionPolicy":"Never"})", {}},
      {"namespace with empty spec and status",
       Envelope("v1", "Namespace", Meta("n") + LenField(2, "") + LenField(3, "")),
       R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"n"},"spec":{},"status":{}})", {}},
      {"resourcequota hard and scopes",
       Envelope("v1", "ResourceQuota",
                Meta("q") + LenField(2, LenField(1, Entry("cpu", Quantity("1"))) + LenField(1, Entry("pods", Quantity("2"))) +
                                            LenField(2, "BestEffort"))),
       R"({"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"q"},
           "spec":{"hard":{"cpu":"1","pods":"2"},"scopes":["BestEffort"]}})", {}},
      {"service ports with int and string targetPort",
       Envelope("v1", "Service",
                Meta("sv") + LenField(2, LenField(1, LenField(1, "80-8080") + LenField(2, "TCP") + VarintField(3, 80) +
                                                         LenField(4, VarintField(1, 0) + VarintField(2, 8080))) +
                                             LenField(1, VarintField(3, 443) + LenField(4, VarintField(1, 1) + LenField(3, "https"))) +
                                             LenField(2, Entry("app", "sv")) + LenField(4, "ClusterIP"))),
       R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"sv"},"spec":{"ports":[
           {"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080},{"port":443,"targetPort":"https"}],
           "selector":{"app":"sv"},"type":"ClusterIP"}})", {}},
      {"pod spec: containers, inline references, negative int32, packed int64s",
       Envelope("v1", "Pod", Meta("po") + LenField(2, pod_spec)),
       R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"po"},"spec":{
           "containers":[{"name":"c","image":"busybox","command":["sleep","10"],
             "ports":[{"name":"http","containerPort":8080,"protocol":"TCP"},{"containerPort":0}],
             "env":[{"name":"A","valueFrom":{"secretKeyRef":{"name":"sec","key":"k"}}}],
             "resources":{"limits":{"cpu":"500m"},"requests":{"memory":"64Mi"}}}],
           "volumes":[{"name":"cfg","configMap":{"name":"cm"}}],
           "priority":-5,"tolerations":[{"key":"k","operator":"Exists","tolerationSeconds":300}],
           "securityContext":{"supplementalGroups":[1000,2000]},"nodeSelector":{"disk":"ssd"},
           "automountServiceAccountToken":false}})", {}},
      {"deployment: replicas, selector, template, strategy",
       Envelope("apps/v1", "Deployment",
                Meta("d") + LenField(2, VarintField(1, 0) + LenField(2, LenField(1, Entry("app", "d"))) +
                                            LenField(3, LenField(1, LenField(11, Entry("app", "d")) + LenField(8, "")) +
                                                            LenField(2, LenField(2, LenField(1, "nginx") + LenField(2, "nginx")))) +
                                            LenField(4, LenField(2, LenField(1, VarintField(1, 1) + LenField(3, "25%")))))),
       R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":0,
           "selector":{"matchLabels":{"app":"d"}},
           "template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"nginx","image":"nginx"}]}},
           "strategy":{"rollingUpdate":{"maxUnavailable":"25%"}}}})", {}},
      {"times: Time in seconds, MicroTime in microseconds, metadata occurring twice merges",
       Envelope("coordination.k8s.io/v1", "Lease",
                Meta("l") + LenField(1, LenField(8, VarintField(1, 1700000000) + VarintField(2, 999))) +
                    LenField(2, LenField(1, "me") + VarintField(2, 15) +
                                    LenField(4, VarintField(1, 1700000000) + VarintField(2, 123456789)))),
       R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"l",
           "creationTimestamp":"2023-11-14T22:13:20Z"},
           "spec":{"holderIdentity":"me","leaseDurationSeconds":15,"renewTime":"2023-11-14T22:13:20.123456Z"}})", {}},
      {"managedFields carry FieldsV1 JSON; owner references keep false bools",
       Envelope("v1", "ConfigMap",
                LenField(1, LenField(1, "m") +
                                LenField(13, LenField(5, "v1") + LenField(1, "Pod") + LenField(3, "p") + LenField(4, "u1") +
                                                 VarintField(6, 0)) +
                                LenField(17, LenField(1, "kubectl") + LenField(2, "Apply") +
                                                 LenField(7, LenField(1, R"({"f:data":{}})"))))),
       R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"m",
           "ownerReferences":[{"apiVersion":"v1","kind":"Pod","name":"p","uid":"u1","controller":false}],
           "managedFields":[{"manager":"kubectl","operation":"Apply","fieldsV1":{"f:data":{}}}]}})", {}},
      {"unknown fields of every wire type are skipped and reported",
       Envelope("v1", "ConfigMap",
                LenField(1, LenField(1, "u") + VarintField(99, 7)) + Tag(50, 1) + std::string(8, 'x') + Tag(51, 5) +
                    std::string(4, 'y') + LenField(2, LenField(7, "z") + Entry("a", "b"))),
       R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"u"},"data":{"a":"b"}})",
       {"field number 99 of metadata (ObjectMeta)", "field number 50 of ConfigMap", "field number 51 of ConfigMap",
        "field number 7 of data (map entry)"}},
      {"DeleteOptions under any group version",
       Envelope("apps/v1", "DeleteOptions", LenField(4, "Orphan") + LenField(2, LenField(1, "uid-1"))),
       R"({"apiVersion":"apps/v1","kind":"DeleteOptions","propagationPolicy":"Orphan","preconditions":{"uid":"uid-1"}})", {}},
      {"events.k8s.io Event",
       Envelope("events.k8s.io/v1", "Event",
                Meta("e") + LenField(7, "Started") + LenField(8, LenField(1, "Pod") + LenField(3, "p")) + LenField(10, "hi") +
                    LenField(11, "Normal") + LenField(4, "sim")),
       R"({"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"e"},"reason":"Started",
           "regarding":{"kind":"Pod","name":"p"},"note":"hi","type":"Normal","reportingController":"sim"})", {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = DecodeProtobufObject(c.body);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->object, Json::parse(c.want)) << got->object.dump();
    std::vector<std::string> unknown;
    for (const auto& u : got->unknown_fields) unknown.push_back(u.ToString());
    EXPECT_EQ(unknown, c.want_unknown);
  }
}

struct ErrorCase {
  std::string name;
  std::string body;
  int http;
  std::string message;  // substring
};

TEST(ProtobufDecodeTest, MalformedBodiesAreBadRequestsNamingWhere) {
  const std::string cm = "v1";
  std::vector<ErrorCase> cases = {
      {"no magic", "{\"kind\":\"ConfigMap\"}", 400, "does not start with the Kubernetes protobuf prefix"},
      {"magic only: no kind", std::string(kProtobufMagic), 400, "names no kind"},
      {"truncated tag in the envelope", std::string(kProtobufMagic) + "\x80", 400, "truncated field tag at byte 4"},
      {"length past the end", std::string(kProtobufMagic) + "\x12\x05" "ab", 400, "truncated length-delimited value at byte 4"},
      {"kind without a decoder", Envelope("apiextensions.k8s.io/v1", "CustomResourceDefinition", Meta("c")), 415,
       "cannot decode protobuf bodies of kind CustomResourceDefinition (apiVersion \"apiextensions.k8s.io/v1\")"},
      {"known kind, unknown version", Envelope("v2", "ConfigMap", Meta("c")), 415, "kind ConfigMap (apiVersion \"v2\")"},
      {"content encoding", std::string(kProtobufMagic) + LenField(1, LenField(1, "v1") + LenField(2, "ConfigMap")) +
                                LenField(3, "gzip"),
       400, "contentEncoding \"gzip\" is not supported"},
      {"string sent as varint", Envelope(cm, "ConfigMap", LenField(1, VarintField(1, 5))), 400,
       "wire type 0 for a length-delimited field at byte 25 (in ConfigMap.metadata.name)"},
      {"message sent as fixed32", Envelope(cm, "ConfigMap", Tag(1, 5) + "abcd"), 400, "wire type 5 for a length-delimited field"},
      {"truncated varint in a known kind", Envelope("scheduling.k8s.io/v1", "PriorityClass", Tag(2, 0) + "\xff"), 400,
       "truncated varint at byte 45 (in PriorityClass.value)"},
      {"varint longer than 64 bits", Envelope("scheduling.k8s.io/v1", "PriorityClass", Tag(2, 0) + std::string(10, '\xff') + "\x01"),
       400, "truncated varint"},
      {"field number 0", Envelope(cm, "ConfigMap", Tag(0, 0) + "\x01"), 400, "invalid field number 0"},
      {"group wire type", Envelope(cm, "ConfigMap", Tag(9, 3)), 400, "field number 9: unsupported wire type 3"},
      {"invalid UTF-8", Envelope(cm, "ConfigMap", Meta("\xc3\x28")), 400, "invalid UTF-8 in a string"},
      {"surrogate in UTF-8", Envelope(cm, "ConfigMap", Meta("\xed\xa0\x80")), 400, "invalid UTF-8"},
      {"map entry truncated", Envelope(cm, "ConfigMap", LenField(2, LenField(1, "k") + "\x12\x09" "v")), 400,
       "(in ConfigMap.data)"},
      {"IntOrString of type 2", Envelope(cm, "Service", LenField(2, LenField(1, LenField(4, VarintField(1, 2))))), 400,
       "IntOrString type 2 is neither 0 (int) nor 1 (string)"},
      {"FieldsV1 not JSON", Envelope(cm, "ConfigMap", LenField(1, LenField(17, LenField(7, LenField(1, "{nope"))))), 400,
       "the raw bytes are not JSON"},
      {"time out of range", Envelope(cm, "ConfigMap", LenField(1, LenField(8, VarintField(1, uint64_t{1} << 40)))), 400,
       "outside the representable time range"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = DecodeProtobufObject(c.body);
    ASSERT_FALSE(got.ok()) << got->object.dump();
    EXPECT_EQ(got.status().http_code(), c.http);
    EXPECT_EQ(got.status().reason(), c.http == 400 ? "BadRequest" : "UnsupportedMediaType");
    EXPECT_NE(got.status().message().find(c.message), std::string::npos) << got.status().message();
  }
}

TEST(ProtobufDecodeTest, UnknownFieldsAreListedOnceAndCapped) {
  std::string items;
  for (int i = 0; i < 30; ++i) items += LenField(1, VarintField(9, 1) + VarintField(9, 2));  // ports[i] field 9, twice
  auto got = DecodeProtobufObject(Envelope("v1", "Service", Meta("s") + LenField(2, items)));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->unknown_fields.size(), ProtobufObject::kMaxUnknownFields);
  EXPECT_EQ(got->unknown_fields[0].ToString(), "field number 9 of spec.ports[0] (ServicePort)");
  EXPECT_EQ(got->unknown_fields[1].ToString(), "field number 9 of spec.ports[1] (ServicePort)");
  EXPECT_EQ(got->more_unknown_fields, 10u + 10u);  // ports[20..29], each seen twice
  EXPECT_EQ(got->object["spec"]["ports"].size(), 30u);
}

// Every prefix of a valid body is either decoded or refused with 400, never more.
TEST(ProtobufDecodeTest, EveryTruncationIsRefusedCleanly) {
  for (size_t n = 0; n < kKubectlConfigMap.size(); ++n) {
    auto got = DecodeProtobufObject(std::string_view(kKubectlConfigMap).substr(0, n));
    if (!got.ok()) {
      EXPECT_EQ(got.status().http_code(), 400) << n << ": " << got.status().message();
    }
  }
  EXPECT_TRUE(CanDecodeProtobuf("v1", "Pod"));
  EXPECT_TRUE(CanDecodeProtobuf("policy/v1", "DeleteOptions"));
  EXPECT_FALSE(CanDecodeProtobuf("apiextensions.k8s.io/v1", "CustomResourceDefinition"));
}

// ---- through the handler -----------------------------------------------------------------------

class ProtobufHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Open({});
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    HandlerOptions o;
    o.token = "t";
    handler_ = std::make_unique<ApiHandler>(store_.get(), o);
  }
  HttpResponse Do(const std::string& method, const std::string& target, const std::string& body,
                  const std::string& content_type = "application/vnd.kubernetes.protobuf") {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.body = body;
    // As kubectl asks: protobuf preferred, JSON accepted (the sim answers JSON).
    r.headers = {{"Authorization", "Bearer t"},
                 {"Content-Type", content_type},
                 {"Accept", "application/vnd.kubernetes.protobuf,application/json"}};
    return handler_->Handle(r);
  }
  std::unique_ptr<Store> store_;
  std::unique_ptr<ApiHandler> handler_;
};

TEST_F(ProtobufHandlerTest, KubectlConfigMapIsCreatedAndAnsweredInJson) {
  auto r = Do("POST", "/api/v1/namespaces/default/configmaps?fieldManager=kubectl-create&fieldValidation=Strict",
              kKubectlConfigMap);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  auto got = Do("GET", "/api/v1/namespaces/default/configmaps/x", "");
  ASSERT_EQ(got.status, 200) << got.body;
  Json cm = Json::parse(got.body);
  EXPECT_EQ(cm["data"], Json({{"a", "b"}}));
  EXPECT_EQ(cm["metadata"]["namespace"], "default");
  EXPECT_FALSE(cm["metadata"].value("uid", "").empty());
}

TEST_F(ProtobufHandlerTest, UnknownFieldsFollowFieldValidation) {
  std::string body = Envelope("v1", "ConfigMap", LenField(1, LenField(1, "u") + VarintField(99, 1)));
  auto strict = Do("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", body);
  EXPECT_EQ(strict.status, 400);
  EXPECT_EQ(Json::parse(strict.body)["message"],
            "strict decoding error: unknown field number 99 of metadata (ObjectMeta)");
  auto warn = Do("POST", "/api/v1/namespaces/default/configmaps", body);
  ASSERT_EQ(warn.status, 201) << warn.body;
  ASSERT_EQ(warn.headers.size(), 1u);
  EXPECT_EQ(warn.headers[0].second, "299 - \"unknown field number 99 of metadata (ObjectMeta)\"");
  auto ignore = Do("PUT", "/api/v1/namespaces/default/configmaps/u?fieldValidation=Ignore", body);
  EXPECT_EQ(ignore.status, 200) << ignore.body;
  EXPECT_TRUE(ignore.headers.empty());
}

TEST_F(ProtobufHandlerTest, ErrorsAreStatusesNotCrashes) {
  auto bad = Do("POST", "/api/v1/namespaces/default/configmaps", std::string(kProtobufMagic) + "\x0a\x7f");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Json::parse(bad.body)["reason"], "BadRequest");
  auto empty = Do("POST", "/api/v1/namespaces/default/configmaps", "");
  EXPECT_EQ(empty.status, 400);
  // The envelope names another kind than the URL: the JSON path's own check answers.
  auto other = Do("POST", "/api/v1/namespaces/default/configmaps", Envelope("v1", "Secret", Meta("s")));
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(Json::parse(other.body)["message"], "the kind in the data (Secret) does not match the expected kind (ConfigMap)");
  // A built-in kind without a field table: 415 naming it.
  auto crd = Do("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                Envelope("apiextensions.k8s.io/v1", "CustomResourceDefinition", Meta("widgets.example.com")));
  EXPECT_EQ(crd.status, 415);
  EXPECT_NE(Json::parse(crd.body)["message"].get<std::string>().find("CustomResourceDefinition"), std::string::npos);
  // CBOR stays unsupported.
  EXPECT_EQ(Do("POST", "/api/v1/namespaces/default/configmaps", "\xa0", "application/cbor").status, 415);
}

TEST_F(ProtobufHandlerTest, PriorityClassNamespaceQuotaAndDeleteOptions) {
  ASSERT_EQ(Do("POST", "/apis/scheduling.k8s.io/v1/priorityclasses",
               Envelope("scheduling.k8s.io/v1", "PriorityClass", Meta("high") + VarintField(2, 1000) + LenField(4, "d")))
                .status,
            201);
  ASSERT_EQ(Do("POST", "/api/v1/namespaces", Envelope("v1", "Namespace", Meta("team") + LenField(2, "") + LenField(3, "")))
                .status,
            201);
  auto q = Do("POST", "/api/v1/namespaces/team/resourcequotas",
              Envelope("v1", "ResourceQuota", Meta("q") + LenField(2, LenField(1, Entry("pods", Quantity("2"))))));
  ASSERT_EQ(q.status, 201) << q.body;
  EXPECT_EQ(Json::parse(q.body)["spec"]["hard"]["pods"], "2");
  // DELETE with protobuf DeleteOptions: a stale uid precondition is a conflict.
  auto del = Do("DELETE", "/apis/scheduling.k8s.io/v1/priorityclasses/high",
                Envelope("scheduling.k8s.io/v1", "DeleteOptions", LenField(2, LenField(1, "not-the-uid"))));
  EXPECT_EQ(del.status, 409) << del.body;
  auto not_opts = Do("DELETE", "/apis/scheduling.k8s.io/v1/priorityclasses/high",
                     Envelope("scheduling.k8s.io/v1", "PriorityClass", Meta("high")));
  EXPECT_EQ(not_opts.status, 400);
  EXPECT_EQ(Do("DELETE", "/apis/scheduling.k8s.io/v1/priorityclasses/high",
               Envelope("scheduling.k8s.io/v1", "DeleteOptions", LenField(4, "Background")))
                .status,
            200);
}

TEST_F(ProtobufHandlerTest, NodePodBindingScaleAndLease) {
  auto node = Do("POST", "/api/v1/nodes",
                 Envelope("v1", "Node", Meta("n1") + LenField(3, LenField(2, Entry("cpu", Quantity("4"))) +
                                                                  LenField(2, Entry("memory", Quantity("8Gi"))) +
                                                                  LenField(2, Entry("pods", Quantity("110"))))));
  ASSERT_EQ(node.status, 201) << node.body;
  EXPECT_EQ(Json::parse(node.body)["status"]["allocatable"]["memory"], "8Gi");
  auto pod = Do("POST", "/api/v1/namespaces/default/pods",
                Envelope("v1", "Pod", Meta("p") + LenField(2, LenField(2, LenField(1, "c") + LenField(2, "busybox")))));
  ASSERT_EQ(pod.status, 201) << pod.body;
  auto bind = Do("POST", "/api/v1/namespaces/default/pods/p/binding",
                 Envelope("v1", "Binding", Meta("p") + LenField(2, LenField(1, "Node") + LenField(3, "n1"))));
  ASSERT_EQ(bind.status, 201) << bind.body;
  EXPECT_EQ(Json::parse(Do("GET", "/api/v1/namespaces/default/pods/p", "").body)["spec"]["nodeName"], "n1");

  auto dep = Do("POST", "/apis/apps/v1/namespaces/default/deployments",
                Envelope("apps/v1", "Deployment",
                         Meta("d") + LenField(2, VarintField(1, 3) + LenField(2, LenField(1, Entry("app", "d"))) +
                                                     LenField(3, LenField(1, LenField(11, Entry("app", "d"))) +
                                                                     LenField(2, LenField(2, LenField(1, "c") + LenField(2, "i")))))));
  ASSERT_EQ(dep.status, 201) << dep.body;
  // Scale to zero: ScaleSpec.replicas 0 must reach the handler as 0, not as a missing field.
  auto scale = Do("PUT", "/apis/apps/v1/namespaces/default/deployments/d/scale",
                  Envelope("autoscaling/v1", "Scale", Meta("d") + LenField(2, VarintField(1, 0))));
  ASSERT_EQ(scale.status, 200) << scale.body;
  EXPECT_EQ(Json::parse(Do("GET", "/apis/apps/v1/namespaces/default/deployments/d", "").body)["spec"]["replicas"], 0);

  auto lease = Do("POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases",
                  Envelope("coordination.k8s.io/v1", "Lease",
                           Meta("l") + LenField(2, LenField(1, "op-1") + VarintField(2, 15) +
                                                       LenField(4, VarintField(1, 1800000000) + VarintField(2, 5000)))));
  ASSERT_EQ(lease.status, 201) << lease.body;
  EXPECT_EQ(Json::parse(lease.body)["spec"]["renewTime"], "2027-01-15T08:00:00.000005Z");
}

}  // namespace
}  // namespace prescient::sim
