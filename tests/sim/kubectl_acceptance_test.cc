// Acceptance: the real kubectl 1.32 against a real prescient-sim process (HTTPS, bearer token), a
// fresh --cache-dir per kubectl call. Each test starts its own sim.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <tuple>
#include <thread>

#include "testing/sim_process.h"

namespace prescient::testing {
namespace {

using Json = nlohmann::json;

const std::string kSrc = PRESCIENT_SOURCE_DIR;
const std::string kData = kSrc + "/tests/sim/testdata";

class KubectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SimOptions o;
    o.extra_args = {"--log-level", "debug"};
    auto s = SimProcess::Start(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    sim_ = std::move(*s);
  }

  CommandResult K(std::vector<std::string> args, const std::string& stdin_data = "",
                  std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return RunKubectl(sim_->kubeconfig(), args, stdin_data, timeout);
  }

  // Runs kubectl and expects success; returns stdout.
  std::string Ok(std::vector<std::string> args, const std::string& stdin_data = "") {
    auto r = K(args, stdin_data);
    EXPECT_EQ(r.exit_code, 0) << "kubectl " << Join(args) << "\n" << r.ToString() << "\nsim log:\n" << sim_->LogTail(1500);
    return r.out;
  }

  static std::string Join(const std::vector<std::string>& a) {
    std::string s;
    for (const auto& x : a) s += x + " ";
    return s;
  }

  void InstallWidgets() {
    Ok({"apply", "-f", kData + "/crds/widget-crd.yaml"});
    Ok({"wait", "--for=condition=Established", "crd/widgets.test.prescient.dev", "--timeout=10s"});
  }

  // Waits (bounded) until the sim has logged `count` watch requests whose target contains `fragment`.
  bool AwaitWatches(const std::string& fragment, int count = 1) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      std::string log = sim_->LogTail(1 << 20);
      int seen = 0;
      size_t pos = 0;
      while ((pos = log.find("watch=true", pos)) != std::string::npos) {
        size_t line_start = log.rfind('\n', pos);
        size_t line_end = log.find('\n', pos);
        std::string line = log.substr(line_start == std::string::npos ? 0 : line_start, line_end - line_start);
        if (line.find(fragment) != std::string::npos) ++seen;
        pos += 10;
      }
      if (seen >= count) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  std::unique_ptr<SimProcess> sim_;
};

TEST_F(KubectlTest, ApplyClientSideCreatesThenUpdates) {
  InstallWidgets();
  EXPECT_NE(Ok({"apply", "-f", kData + "/widget.yaml"}).find("widget.test.prescient.dev/w1 created"), std::string::npos);
  EXPECT_NE(Ok({"apply", "-f", kData + "/widget.yaml"}).find("w1 unchanged"), std::string::npos);
  std::string changed = Ok({"get", "widget", "w1", "-o", "yaml"});
  ASSERT_NE(changed.find("size: 3"), std::string::npos);
  // A changed manifest goes out as a merge patch and bumps generation.
  auto r = K({"apply", "-f", "-"}, "apiVersion: test.prescient.dev/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 4\n");
  ASSERT_EQ(r.exit_code, 0) << r.ToString();
  EXPECT_NE(r.out.find("w1 configured"), std::string::npos);
  Json w = Json::parse(Ok({"get", "widget", "w1", "-o", "json"}));
  EXPECT_EQ(w["spec"]["size"], 4);
  EXPECT_EQ(w["spec"]["color"], "red");  // schema default
  EXPECT_EQ(w["metadata"]["generation"], 2);
  EXPECT_FALSE(w["metadata"]["labels"].contains("app"));  // removed from the manifest: removed
}

TEST_F(KubectlTest, ApplyServerSideAndConflicts) {
  Ok({"apply", "--server-side", "-f", kData + "/crds/widget-crd.yaml"});
  Ok({"wait", "--for=condition=Established", "crd/widgets.test.prescient.dev", "--timeout=10s"});
  EXPECT_NE(Ok({"apply", "--server-side", "-f", kData + "/widget.yaml"}).find("serverside-applied"), std::string::npos);
  auto conflict = K({"apply", "--server-side", "--field-manager=other", "-f", "-"},
                    "apiVersion: test.prescient.dev/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 9\n");
  EXPECT_NE(conflict.exit_code, 0);
  EXPECT_NE(conflict.err.find("conflict"), std::string::npos) << conflict.ToString();
  auto forced = K({"apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", "-"},
                  "apiVersion: test.prescient.dev/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 9\n");
  ASSERT_EQ(forced.exit_code, 0) << forced.ToString();
  EXPECT_EQ(Ok({"get", "widget", "w1", "-o", "jsonpath={.spec.size}"}), "9");
}

// Two field managers applying the same list: items merge by their keys, each manager owns its own
// items, and changing another manager's item field is a conflict naming it by key.
TEST_F(KubectlTest, ApplyServerSideMergesListsByKeyAcrossManagers) {
  const std::string team_a =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 0\n"
      "  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n"
      "    spec:\n      containers:\n      - name: app\n        image: app:1\n        env:\n"
      "        - {name: A, value: \"1\"}\n";
  const std::string team_b =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n"
      "      containers:\n      - name: sidecar\n        image: log:1\n      - name: app\n        env:\n"
      "        - {name: B, value: \"2\"}\n";
  Ok({"apply", "--server-side", "--field-manager=team-a", "-f", "-"}, team_a);
  Ok({"apply", "--server-side", "--field-manager=team-b", "-f", "-"}, team_b);
  auto containers = [&] {
    Json d = Json::parse(Ok({"get", "deployment", "web", "-o", "json", "--show-managed-fields"}));
    std::map<std::string, Json> by_name;
    for (const auto& c : d["spec"]["template"]["spec"]["containers"]) by_name[c["name"]] = c;
    return std::make_pair(by_name, d["metadata"]["managedFields"]);
  };
  auto [by_name, managed] = containers();
  ASSERT_EQ(by_name.size(), 2u);
  EXPECT_EQ(by_name["app"]["image"], "app:1");
  EXPECT_EQ(by_name["sidecar"]["image"], "log:1");
  ASSERT_EQ(by_name["app"]["env"].size(), 2u) << by_name["app"].dump();
  for (const auto& e : managed) {
    const Json& cs = e["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"];
    if (e["manager"] == "team-a") {
      EXPECT_TRUE(cs.contains("k:{\"name\":\"app\"}")) << e.dump();
      EXPECT_FALSE(cs.contains("k:{\"name\":\"sidecar\"}")) << e.dump();
    }
    if (e["manager"] == "team-b") {
      EXPECT_TRUE(cs.contains("k:{\"name\":\"sidecar\"}")) << e.dump();
    }
  }

  // team-b changing team-a's image: a conflict naming the container by its key.
  auto conflict = K({"apply", "--server-side", "--field-manager=team-b", "-f", "-"},
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n"
                    "    spec:\n      containers:\n      - name: app\n        image: app:2\n");
  EXPECT_NE(conflict.exit_code, 0);
  EXPECT_NE(conflict.err.find("conflict with \"team-a\""), std::string::npos) << conflict.ToString();
  EXPECT_NE(conflict.err.find(".spec.template.spec.containers[name=\"app\"].image"), std::string::npos)
      << conflict.ToString();

  // team-a stops applying env A: it goes; team-b's entry and sidecar stay.
  std::string without_a = team_a.substr(0, team_a.find("        env:"));
  Ok({"apply", "--server-side", "--field-manager=team-a", "-f", "-"}, without_a);
  std::tie(by_name, managed) = containers();
  ASSERT_EQ(by_name.size(), 2u);
  ASSERT_EQ(by_name["app"]["env"].size(), 1u) << by_name["app"].dump();
  EXPECT_EQ(by_name["app"]["env"][0]["name"], "B");

  // A custom resource's x-kubernetes-list-type: map list merges the same way.
  InstallWidgets();
  Ok({"apply", "--server-side", "--field-manager=team-a", "-f", "-"},
     "apiVersion: test.prescient.dev/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n"
     "  ports:\n  - {name: http, port: 80}\n");
  Ok({"apply", "--server-side", "--field-manager=team-b", "-f", "-"},
     "apiVersion: test.prescient.dev/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n"
     "  ports:\n  - {name: metrics, port: 9090}\n");
  EXPECT_EQ(Ok({"get", "widget", "w1", "-o", "jsonpath={.spec.ports[*].name}"}), "http metrics");
}

TEST_F(KubectlTest, GetPrintsPrinterColumnsAndYaml) {
  InstallWidgets();
  Ok({"apply", "-f", kData + "/widget.yaml"});
  Ok({"patch", "widget", "w1", "--subresource=status", "--type=merge", "-p",
      R"({"status":{"conditions":[{"type":"Ready","status":"True"}]}})"});
  std::string table = Ok({"get", "widgets"});
  EXPECT_EQ(table.substr(0, table.find('\n')).find("NAME   SIZE   READY   AGE"), 0u) << table;
  EXPECT_NE(table.find("w1     3      True"), std::string::npos) << table;
  std::string by_short = Ok({"get", "wdg", "-o", "yaml"});
  EXPECT_NE(by_short.find("kind: Widget"), std::string::npos);
  EXPECT_NE(by_short.find("size: 3"), std::string::npos);
  std::string nodes = Ok({"get", "namespaces"});
  EXPECT_NE(nodes.find("default"), std::string::npos);
  EXPECT_NE(nodes.find("Active"), std::string::npos);
}

TEST_F(KubectlTest, GetWatchStreamsTableRows) {
  InstallWidgets();
  Ok({"apply", "-f", kData + "/widget.yaml"});
  CommandResult watch;
  std::thread t([&] { watch = K({"get", "widgets", "-w", "--request-timeout=3s"}, "", std::chrono::seconds(15)); });
  bool started = AwaitWatches("widgets");
  if (started) Ok({"patch", "widget", "w1", "--type=merge", "-p", R"({"spec":{"size":7}})"});
  t.join();
  ASSERT_TRUE(started) << sim_->LogTail();
  EXPECT_NE(watch.out.find("NAME   SIZE   READY   AGE"), std::string::npos) << watch.ToString();
  EXPECT_NE(watch.out.find("w1     7"), std::string::npos) << watch.ToString();
}

TEST_F(KubectlTest, DescribeShowsEvents) {
  InstallWidgets();
  Ok({"apply", "-f", kData + "/widget.yaml"});
  // Events name their object by uid too; kubectl describe selects on it.
  std::string uid = Ok({"get", "widget", "w1", "-o", "jsonpath={.metadata.uid}"});
  std::ifstream in(kData + "/widget-event.yaml");
  std::string event((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  event.replace(event.find("  name: w1\n"), 11, "  name: w1\n  uid: " + uid + "\n");
  Ok({"create", "-f", "-"}, event);
  std::string d = Ok({"describe", "widget", "w1"});
  EXPECT_NE(d.find("Name:         w1"), std::string::npos) << d;
  EXPECT_NE(d.find("Events:"), std::string::npos) << d;
  EXPECT_NE(d.find("Resized"), std::string::npos) << d;
  EXPECT_NE(d.find("widget grew to size 3"), std::string::npos) << d;
}

TEST_F(KubectlTest, WaitForConditionAndJsonpath) {
  InstallWidgets();
  Ok({"apply", "-f", kData + "/widget.yaml"});
  CommandResult wait;
  std::thread t([&] { wait = K({"wait", "--for=condition=Ready", "widget/w1", "--timeout=20s"}, "", std::chrono::seconds(25)); });
  bool started = AwaitWatches("fieldSelector=metadata.name");
  Ok({"patch", "widget", "w1", "--subresource=status", "--type=merge", "-p",
      R"({"status":{"conditions":[{"type":"Ready","status":"True"}]}})"});
  t.join();
  ASSERT_TRUE(started) << sim_->LogTail();
  EXPECT_EQ(wait.exit_code, 0) << wait.ToString();
  EXPECT_NE(wait.out.find("condition met"), std::string::npos);
  auto jp = K({"wait", "--for=jsonpath={.spec.size}=3", "widget/w1", "--timeout=5s"});
  EXPECT_EQ(jp.exit_code, 0) << jp.ToString();
  auto never = K({"wait", "--for=jsonpath={.spec.size}=99", "widget/w1", "--timeout=1s"});
  EXPECT_NE(never.exit_code, 0);
}

TEST_F(KubectlTest, PatchMergeJsonAndStatus) {
  InstallWidgets();
  Ok({"apply", "-f", kData + "/widget.yaml"});
  Ok({"patch", "widget", "w1", "--type=merge", "-p", R"({"spec":{"color":"blue"}})"});
  Ok({"patch", "widget", "w1", "--type=json", "-p", R"([{"op":"test","path":"/spec/size","value":3},{"op":"replace","path":"/spec/size","value":5}])"});
  auto failed_test = K({"patch", "widget", "w1", "--type=json", "-p", R"([{"op":"test","path":"/spec/size","value":42}])"});
  EXPECT_NE(failed_test.exit_code, 0);
  Ok({"patch", "widget", "w1", "--subresource=status", "--type=merge", "-p", R"({"status":{"phase":"Running"}})"});
  // The main endpoint ignores status; the status endpoint ignores the rest.
  Ok({"patch", "widget", "w1", "--type=merge", "-p", R"({"status":{"phase":"Ignored"}})"});
  Json w = Json::parse(Ok({"get", "widget", "w1", "-o", "json"}));
  EXPECT_EQ(w["spec"]["color"], "blue");
  EXPECT_EQ(w["spec"]["size"], 5);
  EXPECT_EQ(w["status"]["phase"], "Running");
  EXPECT_EQ(w["metadata"]["generation"], 3);
  auto smp = K({"patch", "widget", "w1", "--type=strategic", "-p", R"({"spec":{"size":6}})"});
  EXPECT_NE(smp.exit_code, 0);
  // kubectl refuses it itself, from the OpenAPI document (no strategic merge for custom resources).
  EXPECT_NE(smp.err.find("is not supported"), std::string::npos) << smp.ToString();
}

TEST_F(KubectlTest, InvalidObjectsNameTheField) {
  InstallWidgets();
  auto r = K({"apply", "-f", "-"}, "apiVersion: test.prescient.dev/v1\nkind: Widget\nmetadata:\n  name: big\nspec:\n  size: 1000\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("spec.size: Invalid value: 1000: spec.size in body should be less than or equal to 100"),
            std::string::npos) << r.ToString();
  auto unknown = K({"apply", "-f", "-"}, "apiVersion: test.prescient.dev/v1\nkind: Widget\nmetadata:\n  name: odd\nspec:\n  size: 1\n  shape: round\n");
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("unknown field \"spec.shape\""), std::string::npos) << unknown.ToString();
}

TEST_F(KubectlTest, LabelSelectAndDelete) {
  InstallWidgets();
  Ok({"apply", "-f", kData + "/widget.yaml"});
  Ok({"apply", "-f", "-"}, "apiVersion: test.prescient.dev/v1\nkind: Widget\nmetadata:\n  name: w2\nspec:\n  size: 2\n");
  Ok({"label", "widget", "w2", "tier=gold"});
  std::string gold = Ok({"get", "widgets", "-l", "tier=gold", "-o", "name"});
  EXPECT_EQ(gold, "widget.test.prescient.dev/w2\n");
  std::string by_field = Ok({"get", "widgets", "--field-selector", "metadata.name!=w2", "-o", "name"});
  EXPECT_EQ(by_field, "widget.test.prescient.dev/w1\n");
  Ok({"delete", "-f", kData + "/widget.yaml"});
  auto gone = K({"get", "widget", "w1"});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_NE(gone.err.find("\"w1\" not found"), std::string::npos) << gone.ToString();
  Ok({"delete", "widget", "w2"});
  EXPECT_EQ(Ok({"get", "widgets", "-o", "name"}), "");
}

TEST_F(KubectlTest, ApplyTestCrdDirectory) {
  std::string out = Ok({"apply", "-f", kData + "/crds/"});
  EXPECT_NE(out.find("gadgets.test.prescient.dev created"), std::string::npos) << out;
  EXPECT_NE(out.find("widgets.test.prescient.dev created"), std::string::npos) << out;
  Ok({"wait", "--for=condition=Established", "crd/gadgets.test.prescient.dev", "--timeout=10s"});
  Ok({"apply", "-f", "-"}, "apiVersion: test.prescient.dev/v1alpha1\nkind: Gadget\nmetadata:\n  name: g\nspec:\n  anything: [1, 2]\n");
  EXPECT_NE(Ok({"get", "gadgets"}).find("g "), std::string::npos);
}

TEST_F(KubectlTest, ApplyProjectCrds) {
  std::string out = Ok({"apply", "-f", kSrc + "/crds/"});
  EXPECT_NE(out.find("commandruns.prescient.dev"), std::string::npos) << out;
  EXPECT_NE(out.find("resourcereservations.prescient.dev"), std::string::npos) << out;
  Ok({"wait", "--for=condition=Established", "crd/commandruns.prescient.dev", "--timeout=10s"});
  std::string resources = Ok({"api-resources", "--api-group=prescient.dev", "-o", "name"});
  EXPECT_NE(resources.find("commandruns.prescient.dev"), std::string::npos) << resources;
  // Re-applying the same directory changes nothing.
  std::string again = Ok({"apply", "-f", kSrc + "/crds/"});
  EXPECT_NE(again.find("unchanged"), std::string::npos) << again;
}

TEST_F(KubectlTest, ApplyKubeVirtVirtualMachine) {
  auto ready = K({"wait", "--for=condition=Established", "crd/virtualmachines.kubevirt.io", "--timeout=10s"});
  ASSERT_EQ(ready.exit_code, 0) << "the sim should preinstall the KubeVirt CRDs\n" << ready.ToString();
  std::string out = Ok({"apply", "-f", kData + "/vm.yaml"});
  EXPECT_NE(out.find("virtualmachine.kubevirt.io/vm-acceptance created"), std::string::npos) << out;
  std::string got = Ok({"get", "vm", "vm-acceptance", "-o", "jsonpath={.spec.template.spec.domain.cpu.maxSockets}"});
  EXPECT_EQ(got, "4");
  Ok({"get", "vms"});
  Ok({"delete", "vm", "vm-acceptance", "--wait=true", "--timeout=20s"});
}

// kubectl's generators (`kubectl create <kind> ...`) send Kubernetes protobuf bodies; the sim
// decodes them for the built-in kinds it serves, and what `get -o json` shows is what was sent.
TEST_F(KubectlTest, CreateGeneratorsSendProtobuf) {
  const std::string bin = ::testing::TempDir() + "/prescient-proto-" + std::to_string(::getpid()) + ".bin";
  {
    std::ofstream f(bin, std::ios::binary);
    f.write("\x00\x01\xff", 3);
  }
  auto get = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "get");
    args.insert(args.end(), {"-o", "json"});
    return Json::parse(Ok(args));
  };
  Ok({"create", "configmap", "cm", "--from-literal=a=b", "--from-file=blob=" + bin});
  Json cm = get({"configmap", "cm"});
  EXPECT_EQ(cm["data"], Json({{"a", "b"}})) << cm.dump();
  EXPECT_EQ(cm["binaryData"], Json({{"blob", "AAH/"}})) << cm.dump();
  std::remove(bin.c_str());

  Ok({"create", "secret", "generic", "s", "--from-literal=user=pw"});  // no --type: the server defaults it to Opaque
  Json s = get({"secret", "s"});
  EXPECT_EQ(s["data"], Json({{"user", "cHc="}})) << s.dump();
  EXPECT_EQ(s["type"], "Opaque");
  Ok({"create", "secret", "docker-registry", "reg", "--docker-server=r.example", "--docker-username=u",
      "--docker-password=p"});
  Json reg = get({"secret", "reg"});
  EXPECT_EQ(reg["type"], "kubernetes.io/dockerconfigjson");
  EXPECT_TRUE(reg["data"].contains(".dockerconfigjson")) << reg.dump();

  Ok({"create", "namespace", "team"});
  EXPECT_EQ(get({"namespace", "team"})["metadata"]["name"], "team");
  Ok({"create", "quota", "q", "-n", "team", "--hard=cpu=2,pods=3", "--scopes=NotBestEffort"});
  Json q = get({"quota", "q", "-n", "team"});
  EXPECT_EQ(q["spec"]["hard"], Json({{"cpu", "2"}, {"pods", "3"}})) << q.dump();
  EXPECT_EQ(q["spec"]["scopes"], Json({"NotBestEffort"}));
  Ok({"create", "serviceaccount", "builder", "-n", "team"});
  EXPECT_EQ(get({"serviceaccount", "builder", "-n", "team"})["metadata"]["namespace"], "team");

  Ok({"create", "priorityclass", "high", "--value=1000", "--description=batch", "--preemption-policy=Never"});
  Json pc = get({"priorityclass", "high"});
  EXPECT_EQ(pc["value"], 1000);
  EXPECT_EQ(pc["description"], "batch");
  EXPECT_EQ(pc["preemptionPolicy"], "Never");
  Ok({"create", "priorityclass", "zero", "--value=0"});
  EXPECT_EQ(get({"priorityclass", "zero"})["value"], 0);

  Ok({"create", "service", "clusterip", "web", "--tcp=80:8080"});
  Json svc = get({"service", "web"});
  EXPECT_EQ(svc["spec"]["type"], "ClusterIP");
  ASSERT_EQ(svc["spec"]["ports"].size(), 1u) << svc.dump();
  EXPECT_EQ(svc["spec"]["ports"][0]["port"], 80);
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"], 8080);
  EXPECT_EQ(svc["spec"]["selector"], Json({{"app", "web"}}));
  Ok({"create", "service", "externalname", "ext", "--external-name=db.example.com"});
  EXPECT_EQ(get({"service", "ext"})["spec"]["externalName"], "db.example.com");

  Ok({"create", "deployment", "api", "--image=nginx:1.27", "--replicas=2", "--port=80", "--", "nginx", "-g", "daemon off;"});
  Json d = get({"deployment", "api"});
  EXPECT_EQ(d["spec"]["replicas"], 2);
  EXPECT_EQ(d["spec"]["selector"]["matchLabels"], Json({{"app", "api"}}));
  const Json& c = d["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["image"], "nginx:1.27") << d.dump();
  EXPECT_EQ(c["command"], Json({"nginx", "-g", "daemon off;"}));
  EXPECT_EQ(c["ports"], Json::parse(R"([{"containerPort":80,"protocol":"TCP"}])"));  // protocol: server default
  EXPECT_EQ(d["spec"]["strategy"]["type"], "RollingUpdate");

  // Server-side dry run goes the same way and stores nothing.
  Ok({"create", "configmap", "dry", "--from-literal=x=y", "--dry-run=server"});
  EXPECT_NE(K({"get", "configmap", "dry"}).exit_code, 0);
}

TEST_F(KubectlTest, BuiltinConfigMapApplyAndTables) {
  Ok({"apply", "-f", "-"}, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: \"1\"\n  b: \"2\"\n");
  Ok({"apply", "-f", "-"}, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: \"3\"\n");
  Json cm = Json::parse(Ok({"get", "configmap", "cm", "-o", "json"}));
  EXPECT_EQ(cm["data"], Json({{"a", "3"}}));
  std::string table = Ok({"get", "configmaps"});
  EXPECT_NE(table.find("NAME   DATA   AGE"), std::string::npos) << table;
  Ok({"get", "pods", "-A"});
  Ok({"get", "nodes"});
  Ok({"get", "events", "-A"});
}

// Strategic merge patch on a built-in (kubectl patch's default type): containers merge by name,
// `$patch: delete` removes one, label/annotate leave the lists alone.
const char* kTwoContainerTemplate =
    "apiVersion: v1\nkind: PodTemplate\nmetadata:\n  name: t\ntemplate:\n  metadata:\n    labels: {app: t}\n"
    "  spec:\n    containers:\n    - name: a\n      image: a:1\n    - name: b\n      image: b:1\n";

// The containers of a PodTemplate without the fields the server defaults (as a real one does).
Json Containers(const Json& pod_template) {
  Json out = pod_template["template"]["spec"]["containers"];
  for (auto& c : out) {
    EXPECT_EQ(c.value("terminationMessagePolicy", ""), "File") << "server defaults missing: " << c.dump();
    for (const char* k : {"imagePullPolicy", "terminationMessagePath", "terminationMessagePolicy"}) c.erase(k);
  }
  return out;
}

TEST_F(KubectlTest, StrategicMergePatchMergesContainersByName) {
  Ok({"apply", "-f", "-"}, kTwoContainerTemplate);
  Ok({"patch", "podtemplate", "t", "-p", R"({"template":{"spec":{"containers":[{"name":"b","image":"b:2"}]}}})"});
  Json t = Json::parse(Ok({"get", "podtemplate", "t", "-o", "json"}));
  EXPECT_EQ(Containers(t), Json::parse(R"([{"name":"a","image":"a:1"},{"name":"b","image":"b:2"}])")) << t.dump();
  Ok({"label", "podtemplate", "t", "tier=gold"});
  Ok({"annotate", "podtemplate", "t", "note=kept"});
  Ok({"patch", "podtemplate", "t", "--type=strategic", "-p",
      R"({"template":{"spec":{"containers":[{"name":"a","$patch":"delete"}]}}})"});
  t = Json::parse(Ok({"get", "podtemplate", "t", "-o", "json"}));
  EXPECT_EQ(Containers(t), Json::parse(R"([{"name":"b","image":"b:2"}])")) << t.dump();
  EXPECT_EQ(t["metadata"]["labels"]["tier"], "gold");
  EXPECT_EQ(t["metadata"]["annotations"]["note"], "kept");
  // A list item without its merge key: the server's error, as upstream words it.
  auto bad = K({"patch", "podtemplate", "t", "-p", R"({"template":{"spec":{"containers":[{"image":"x"}]}}})"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("does not contain declared merge key: name"), std::string::npos) << bad.ToString();
}

// Client-side apply of a built-in sends kubectl's three-way strategic merge patch: an env var
// removed from the manifest goes, the others and the other container stay, and an env var someone
// else added (not in the last-applied configuration) survives.
TEST_F(KubectlTest, ApplyClientSideThreeWayStrategicPatch) {
  const std::string v1 =
      "apiVersion: v1\nkind: PodTemplate\nmetadata:\n  name: t\ntemplate:\n  spec:\n    containers:\n"
      "    - name: a\n      image: a:1\n      env:\n      - {name: X, value: \"1\"}\n      - {name: \"Y\", value: \"2\"}\n"
      "      - {name: Z, value: \"3\"}\n    - name: b\n      image: b:1\n";
  Ok({"apply", "-f", "-"}, v1);
  Ok({"patch", "podtemplate", "t", "-p", R"({"template":{"spec":{"containers":[{"name":"a","env":[{"name":"W","value":"0"}]}]}}})"});
  const std::string v2 =
      "apiVersion: v1\nkind: PodTemplate\nmetadata:\n  name: t\ntemplate:\n  spec:\n    containers:\n"
      "    - name: a\n      image: a:2\n      env:\n      - {name: X, value: \"1\"}\n      - {name: Z, value: \"4\"}\n"
      "    - name: b\n      image: b:1\n";
  auto r = K({"apply", "-f", "-"}, v2);
  ASSERT_EQ(r.exit_code, 0) << r.ToString();
  EXPECT_NE(r.out.find("podtemplate/t configured"), std::string::npos) << r.ToString();
  Json t = Json::parse(Ok({"get", "podtemplate", "t", "-o", "json"}));
  Json c = Containers(t);
  ASSERT_EQ(c.size(), 2u) << t.dump();
  EXPECT_EQ(c[0]["image"], "a:2");
  // W went first when the patch added it (upstream puts a patch's new items before the live ones
  // they have no order with) and keeps its place.
  EXPECT_EQ(c[0]["env"], Json::parse(R"([{"name":"W","value":"0"},{"name":"X","value":"1"},{"name":"Z","value":"4"}])"))
      << c.dump();
  EXPECT_EQ(c[1], Json::parse(R"({"name":"b","image":"b:1"})"));
  // Applying again sends only the order ($setElementOrder: the live list has W, the manifest does
  // not, so kubectl reports "configured" as against a real server) and changes nothing.
  Ok({"apply", "-f", "-"}, v2);
  EXPECT_EQ(Containers(Json::parse(Ok({"get", "podtemplate", "t", "-o", "json"}))), c);
}

}  // namespace
}  // namespace prescient::testing
