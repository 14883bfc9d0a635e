// Checks every field of the sim's CRD schemas and of the objects the sim writes against KubeVirt's
// published OpenAPI document and the upstream ProvisioningRequest CRD (../shared/upstream, data
// only; skipped when absent), and that the CRDs are structurally servable.
#include "sim/cluster/crds.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "sim/cluster/kubevirt.h"
#include "sim/cluster/scenario.h"
#include "sim/resources.h"
#include "sim/yaml_json.h"

namespace prescient::sim::cluster {
namespace {

// The upstream data directory: $PRESCIENT_UPSTREAM_DIR, else the one CMake found (see CMakeLists.txt).
std::string UpstreamDir() {
  if (const char* e = std::getenv("PRESCIENT_UPSTREAM_DIR"); e && *e) return e;
  return PRESCIENT_UPSTREAM_DIR;
}
const std::string kSwagger = UpstreamDir() + "/kubevirt-swagger.json";
const std::string kProvReqCrd = UpstreamDir() + "/autoscaling.x-k8s.io_provisioningrequests.yaml";

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const Json* CrdNamed(const std::vector<Json>& crds, const std::string& plural) {
  for (const auto& c : crds) {
    if (c["spec"]["names"]["plural"] == plural) return &c;
  }
  return nullptr;
}

const Json& SchemaOf(const Json& crd) { return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]; }

// Swagger 2 definitions walker.
class Swagger {
 public:
  explicit Swagger(Json doc) : doc_(std::move(doc)) {}
  const Json* Resolve(const Json& s) const {
    const Json* cur = &s;
    for (int i = 0; i < 10 && cur->contains("$ref"); ++i) {
      std::string ref = (*cur)["$ref"].get<std::string>();
      std::string name = ref.substr(ref.rfind('/') + 1);
      auto it = doc_["definitions"].find(name);
      if (it == doc_["definitions"].end()) return nullptr;
      cur = &*it;
    }
    return cur;
  }
  const Json* Def(const std::string& name) const {
    auto it = doc_["definitions"].find(name);
    return it == doc_["definitions"].end() ? nullptr : &*it;
  }
  static bool IsQuantity(const Json& s) {
    return s.contains("$ref") && s["$ref"].get<std::string>().find("resource.Quantity") != std::string::npos;
  }
  static std::string TypeOf(const Json& s) {
    if (!s.contains("type")) return "";
    if (s["type"].is_string()) return s["type"];
    for (const auto& t : s["type"]) {
      if (t != "null") return t;
    }
    return "";
  }

  // Every property of our schema must exist upstream with a compatible type.
  void CheckSchema(const Json& ours, const Json& theirs_in, const std::string& path, std::vector<std::string>* errors) const {
    if (IsQuantity(theirs_in)) {
      if (!ours.value("x-kubernetes-int-or-string", false)) errors->push_back(path + ": upstream is a Quantity, ours is not int-or-string");
      return;
    }
    const Json* theirs = Resolve(theirs_in);
    if (theirs == nullptr) {
      errors->push_back(path + ": unresolvable upstream $ref");
      return;
    }
    std::string ot = ours.value("type", ""), tt = TypeOf(*theirs);
    if (!ot.empty() && !tt.empty() && ot != tt) errors->push_back(path + ": type " + ot + " upstream " + tt);
    if (ours.contains("properties")) {
      for (const auto& [k, v] : ours["properties"].items()) {
        if (path.empty() && k == "metadata") continue;
        if (!theirs->contains("properties") || !(*theirs)["properties"].contains(k)) {
          errors->push_back(path + "." + k + ": not in upstream");
          continue;
        }
        CheckSchema(v, (*theirs)["properties"][k], path + "." + k, errors);
      }
    }
    if (ours.contains("items") && theirs->contains("items")) CheckSchema(ours["items"], (*theirs)["items"], path + "[]", errors);
    if (ours.contains("additionalProperties") && ours["additionalProperties"].is_object() &&
        theirs->contains("additionalProperties")) {
      CheckSchema(ours["additionalProperties"], (*theirs)["additionalProperties"], path + "{}", errors);
    }
  }

  // Every field of an object the sim writes must exist upstream.
  void CheckObject(const Json& obj, const Json& theirs_in, const std::string& path, std::vector<std::string>* errors) const {
    if (IsQuantity(theirs_in)) {
      if (!obj.is_string() && !obj.is_number()) errors->push_back(path + ": a Quantity must be a string or number");
      return;
    }
    const Json* theirs = Resolve(theirs_in);
    if (theirs == nullptr) return;
    if (obj.is_object()) {
      if (theirs->contains("additionalProperties")) {
        for (const auto& [k, v] : obj.items()) CheckObject(v, (*theirs)["additionalProperties"], path + "{" + k + "}", errors);
        return;
      }
      if (!theirs->contains("properties")) return;  // free-form upstream
      for (const auto& [k, v] : obj.items()) {
        if (k == "metadata" || k == "apiVersion" || k == "kind") continue;
        if (!(*theirs)["properties"].contains(k)) {
          errors->push_back(path + "." + k + ": not in upstream");
          continue;
        }
        CheckObject(v, (*theirs)["properties"][k], path + "." + k, errors);
      }
    } else if (obj.is_array() && theirs->contains("items")) {
      for (const auto& v : obj) CheckObject(v, (*theirs)["items"], path + "[]", errors);
    } else if (!obj.is_null()) {
      std::string t = TypeOf(*theirs);
      bool ok = t.empty() || (t == "string" && obj.is_string()) || (t == "integer" && obj.is_number_integer()) ||
                (t == "boolean" && obj.is_boolean()) || (t == "number" && obj.is_number());
      if (!ok) errors->push_back(path + ": " + obj.dump() + " is not upstream type " + t);
    }
  }

 private:
  Json doc_;
};

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& e : v) s += e + "\n";
  return s;
}

TEST(Crds, ServableByTheStore) {
  for (const auto& crd : ClusterCrds()) {
    Status s = ValidateCrd(crd);
    EXPECT_TRUE(s.ok()) << crd["metadata"]["name"] << ": " << s.ToString();
    EXPECT_FALSE(crd["spec"]["versions"][0]["additionalPrinterColumns"].empty());
    EXPECT_TRUE(crd["spec"]["versions"][0]["subresources"].contains("status"));
  }
}

TEST(Crds, KubeVirtSchemasMatchKubeVirtOpenApi) {
  auto text = ReadFile(kSwagger);
  if (!text) GTEST_SKIP() << kSwagger << " not found: set PRESCIENT_UPSTREAM_DIR to the upstream data directory";
  Swagger sw(Json::parse(*text));
  auto crds = ClusterCrds();
  struct Case {
    std::string plural, def;
  } cases[] = {{"virtualmachines", "v1.VirtualMachine"},
               {"virtualmachineinstances", "v1.VirtualMachineInstance"},
               {"virtualmachineinstancemigrations", "v1.VirtualMachineInstanceMigration"},
               {"virtualmachinepools", "v1beta1.VirtualMachinePool"}};
  for (const auto& c : cases) {
    const Json* crd = CrdNamed(crds, c.plural);
    ASSERT_NE(crd, nullptr) << c.plural;
    const Json* def = sw.Def(c.def);
    ASSERT_NE(def, nullptr) << c.def;
    std::vector<std::string> errors;
    sw.CheckSchema(SchemaOf(*crd), *def, "", &errors);
    EXPECT_TRUE(errors.empty()) << c.plural << ":\n" << Join(errors);
  }
}

TEST(Crds, ObjectsTheSimWritesMatchKubeVirtOpenApi) {
  auto text = ReadFile(kSwagger);
  if (!text) GTEST_SKIP() << kSwagger << " not found: set PRESCIENT_UPSTREAM_DIR to the upstream data directory";
  Swagger sw(Json::parse(*text));
  VmSpec vm{"db-tools", "demo", {}};
  vm.tmpl.max_sockets = 4;
  vm.tmpl.max_guest = 8LL << 30;
  vm.tmpl.requests = {{"cpu", 500}};
  vm.tmpl.priority_class_name = "high";
  vm.tmpl.node_selector = {{"zone", "a"}};
  vm.tmpl.tolerations = {{"k", "Exists", "", "NoSchedule"}};
  Json vm_obj = VirtualMachineObject(vm);
  // The status shapes the controllers write (kubevirt_controller.cc).
  vm_obj["status"] = {{"printableStatus", "Running"}, {"ready", true}, {"created", true}, {"runStrategy", "Always"},
                      {"desiredGeneration", 1}, {"observedGeneration", 1},
                      {"conditions", Json::array({{{"type", "Ready"}, {"status", "True"}, {"reason", ""}, {"message", ""},
                                                   {"lastTransitionTime", "2026-01-01T00:00:00Z"}}})}};
  std::vector<std::string> errors;
  sw.CheckObject(vm_obj, *sw.Def("v1.VirtualMachine"), "vm", &errors);

  Json vmi = {{"spec", vm_obj["spec"]["template"]["spec"]},
              {"status",
               {{"phase", "Running"}, {"nodeName", "n"}, {"reason", "PodTerminating"},
                {"currentCPUTopology", {{"sockets", 1}, {"cores", 1}, {"threads", 1}}},
                {"memory", {{"guestAtBoot", "1Gi"}, {"guestCurrent", "1Gi"}, {"guestRequested", "2Gi"}, {"memoryOverhead", "270Mi"}}},
                {"activePods", {{"uid", "n"}}},
                {"interfaces", Json::array({{{"name", "default"}, {"ipAddress", "10.0.0.1"}, {"ipAddresses", {"10.0.0.1"}},
                                             {"infoSource", "domain"}, {"interfaceName", "eth0"}}})},
                {"launcherContainerImageVersion", "x"}, {"qosClass", "Burstable"}, {"migrationMethod", "BlockMigration"},
                {"phaseTransitionTimestamps", Json::array({{{"phase", "Running"}, {"phaseTransitionTimestamp", "2026-01-01T00:00:00Z"}}})},
                {"migrationState", {{"migrationUid", "u"}, {"sourceNode", "a"}, {"targetNode", "b"}, {"sourcePod", "p"},
                                    {"targetPod", "q"}, {"mode", "PreCopy"}, {"completed", true}, {"failed", false},
                                    {"failureReason", "x"}, {"startTimestamp", "t"}, {"endTimestamp", "t"}}},
                {"conditions", Json::array({{{"type", "HotVCPUChange"}, {"status", "True"}, {"lastTransitionTime", "t"}}})}}}};
  sw.CheckObject(vmi, *sw.Def("v1.VirtualMachineInstance"), "vmi", &errors);

  Json vmim = {{"spec", {{"vmiName", "db-tools"}}},
               {"status", {{"phase", "Pending"}, {"migrationState", vmi["status"]["migrationState"]},
                           {"phaseTransitionTimestamps", vmi["status"]["phaseTransitionTimestamps"]},
                           {"conditions", Json::array({{{"type", "migrationRejectedByResourceQuota"}, {"status", "True"},
                                                        {"reason", "migrationRejectedByResourceQuota"}, {"message", "m"},
                                                        {"lastTransitionTime", "t"}}})}}}};
  sw.CheckObject(vmim, *sw.Def("v1.VirtualMachineInstanceMigration"), "vmim", &errors);

  PoolSpec pool{"workers", "demo", 2, {}};
  Json pool_obj = VirtualMachinePoolObject(pool);
  pool_obj["status"] = {{"replicas", 2}, {"readyReplicas", 1}, {"labelSelector", "kubevirt.io/vmpool=workers"}};
  sw.CheckObject(pool_obj, *sw.Def("v1beta1.VirtualMachinePool"), "pool", &errors);
  EXPECT_TRUE(errors.empty()) << Join(errors);
}

TEST(Crds, ProvisioningRequestMatchesUpstreamCrd) {
  auto text = ReadFile(kProvReqCrd);
  if (!text) GTEST_SKIP() << kProvReqCrd << " not found: set PRESCIENT_UPSTREAM_DIR to the upstream data directory";
  auto upstream = ParseJsonOrYaml(*text);
  ASSERT_TRUE(upstream.ok()) << upstream.status().ToString();
  auto crds = ClusterCrds();
  const Json* ours = CrdNamed(crds, "provisioningrequests");
  ASSERT_NE(ours, nullptr);
  EXPECT_EQ((*ours)["metadata"]["name"], (*upstream)["metadata"]["name"]);
  EXPECT_EQ((*ours)["spec"]["group"], (*upstream)["spec"]["group"]);
  EXPECT_EQ((*ours)["spec"]["names"]["kind"], (*upstream)["spec"]["names"]["kind"]);
  EXPECT_EQ((*ours)["spec"]["names"]["shortNames"], (*upstream)["spec"]["names"]["shortNames"]);
  EXPECT_EQ((*ours)["spec"]["scope"], (*upstream)["spec"]["scope"]);
  const Json* theirs_v1 = nullptr;
  for (const auto& v : (*upstream)["spec"]["versions"]) {
    if (v["name"] == "v1") theirs_v1 = &v;
  }
  ASSERT_NE(theirs_v1, nullptr);
  EXPECT_EQ((*ours)["spec"]["versions"][0]["subresources"], (*theirs_v1)["subresources"]);
  // Walk our schema: every property exists upstream with the same type, required lists and bounds.
  std::vector<std::string> errors;
  std::function<void(const Json&, const Json&, const std::string&)> walk = [&](const Json& o, const Json& t, const std::string& path) {
    if (!t.is_object()) {
      errors.push_back(path + ": not upstream");
      return;
    }
    if (o.value("type", "") != t.value("type", "")) errors.push_back(path + ": type " + o.value("type", "") + " vs " + t.value("type", ""));
    for (const char* k : {"required", "minimum", "maxItems", "minItems", "maxLength", "minLength", "enum", "pattern", "format",
                          "maxProperties", "x-kubernetes-list-type", "x-kubernetes-list-map-keys"}) {
      if (o.contains(k) != t.contains(k) || (o.contains(k) && o[k] != t[k])) errors.push_back(path + ": " + k + " differs");
    }
    if (o.contains("properties")) {
      for (const auto& [k, v] : o["properties"].items()) {
        if (!t.contains("properties") || !t["properties"].contains(k)) {
          errors.push_back(path + "." + k + ": not upstream");
          continue;
        }
        if (path.empty() && k == "metadata") continue;
        walk(v, t["properties"][k], path + "." + k);
      }
    }
    if (o.contains("items")) walk(o["items"], t.value("items", Json()), path + "[]");
    if (o.contains("additionalProperties")) walk(o["additionalProperties"], t.value("additionalProperties", Json()), path + "{}");
  };
  walk(SchemaOf(*ours), (*theirs_v1)["schema"]["openAPIV3Schema"], "");
  EXPECT_TRUE(errors.empty()) << Join(errors);
}

}  // namespace
}  // namespace prescient::sim::cluster
