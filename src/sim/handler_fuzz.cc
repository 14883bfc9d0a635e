// libFuzzer target: arbitrary requests (method, path + query, content type, body) through the
// in-process ApiHandler and store, plus the selector, JSONPath, YAML/JSON and protobuf decoders on their own.
// The server must answer every input with a Status, never crash. Built with -DPRESCIENT_FUZZ=ON
// (clang), hack/fuzz.sh runs it for long; the unit test sim_handler_fuzz_replay runs it over
// fuzz_corpus/ and fixed-seed mutations in every build.
//
// Input layout: byte 0 picks the method, byte 1 the content type, then the request target up to
// the first '\n', then the body.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "sim/handler.h"
#include "sim/protobuf.h"
#include "sim/selectors.h"
#include "sim/table.h"
#include "sim/yaml_json.h"

namespace {

using prescient::sim::ApiHandler;
using prescient::sim::HttpRequest;
using prescient::sim::Json;
using prescient::sim::Store;

const char* kCrd = R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
  "metadata":{"name":"widgets.example.com"},
  "spec":{"group":"example.com","scope":"Namespaced","names":{"plural":"widgets","kind":"Widget"},
    "versions":[{"name":"v1","served":true,"storage":true,"subresources":{"status":{}},
      "additionalPrinterColumns":[{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type=='Ready')].status"}],
      "schema":{"openAPIV3Schema":{"type":"object","properties":{
        "spec":{"type":"object","required":["size"],"properties":{
          "size":{"type":"integer","minimum":1,"maximum":10},
          "name":{"type":"string","pattern":"^[a-z]+$","maxLength":8},
          "tags":{"type":"array","maxItems":3,"items":{"type":"string","enum":["a","b"]}},
          "extra":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}},
        "status":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}]}})";

// The harness (not the handler) keeps one store and handler for a while, and starts over every
// so often so memory stays bounded.
struct World {
  std::unique_ptr<Store> store;
  std::unique_ptr<ApiHandler> handler;
  int uses = 0;
};

World& GetWorld() {
  static World w;
  if (!w.store || ++w.uses > 2000) {
    w.handler.reset();
    w.store.reset();
    auto s = Store::Open({});
    if (!s.ok()) __builtin_trap();
    w.store = std::move(*s);
    w.store->Create(prescient::sim::gvr::kCrds, "", Json::parse(kCrd));
    prescient::sim::HandlerOptions o;
    o.token = "t";
    w.handler = std::make_unique<ApiHandler>(w.store.get(), o);
    w.uses = 0;
  }
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const char* kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "GET"};
  static const char* kTypes[] = {"application/json", "application/yaml", "application/merge-patch+json",
                                 "application/json-patch+json", "application/strategic-merge-patch+json",
                                 "application/apply-patch+yaml", "application/vnd.kubernetes.protobuf", ""};
  std::string input(reinterpret_cast<const char*>(data) + 2, size - 2);
  size_t nl = input.find('\n');
  HttpRequest req;
  req.method = kMethods[data[0] % 8];
  req.target = input.substr(0, nl);
  req.body = nl == std::string::npos ? "" : input.substr(nl + 1);
  // Fault injection would make the fuzzer sleep; it has its own tests.
  if (req.target.rfind("/admin", 0) == 0) req.target.replace(0, 6, "/api");
  req.headers = {{"Authorization", "Bearer t"},
                 {"Content-Type", kTypes[data[1] % 8]},
                 {"Accept", (data[1] & 0x80) ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json"}};
  auto& w = GetWorld();
  auto res = w.handler->Handle(req);
  if (res.status < 100 || res.status > 599) __builtin_trap();
  // SIM_FUZZ_VERBOSE=1 prints each request's outcome: to check that seeds reach what they should.
  static const bool verbose = std::getenv("SIM_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "%d %s %s -> %.200s\n", res.status, req.method.c_str(), req.target.c_str(),
                 res.body.c_str());
  }
  if (res.watch) {
    std::string out;
    res.watch->Poll(&out);
  }
  // The parsers on their own, with the same text.
  (void)prescient::sim::ParseLabelSelector(req.target);
  (void)prescient::sim::ParseFieldSelector(req.target);
  // Whatever the protobuf decoder accepts must be JSON the rest can print (dump() throws on bad UTF-8).
  auto proto = prescient::sim::DecodeProtobufObject(req.body);
  if (proto.ok()) {
    (void)proto->object.dump();
    for (const auto& u : proto->unknown_fields) (void)u.ToString();
  } else if (proto.status().http_code() != 400 && proto.status().http_code() != 415) {
    __builtin_trap();
  }
  auto doc = prescient::sim::ParseJsonOrYaml(req.body);
  if (doc.ok()) {
    (void)prescient::sim::EvalJsonPath(*doc, req.target);
  }
  return 0;
}
