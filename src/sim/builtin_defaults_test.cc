#include "sim/builtin_defaults.h"

#include <gtest/gtest.h>

#include "sim/store.h"

namespace prescient::sim {
namespace {

using Json = nlohmann::json;

TEST(BuiltinDefaults, Table) {
  struct Case {
    const char* name;
    const char* group;
    const char* resource;
    const char* in;
    const char* want;
  };
  const Case cases[] = {
      {"secret without a type is Opaque", "", "secrets", R"({"data":{}})", R"({"data":{},"type":"Opaque"})"},
      {"secret with an empty type is Opaque", "", "secrets", R"({"type":""})", R"({"type":"Opaque"})"},
      {"secret keeps its type", "", "secrets", R"({"type":"kubernetes.io/tls"})", R"({"type":"kubernetes.io/tls"})"},
      {"service: ClusterIP, TCP, targetPort = port", "", "services", R"({"spec":{"ports":[{"port":80}]}})",
       R"({"spec":{"type":"ClusterIP","sessionAffinity":"None","internalTrafficPolicy":"Cluster",
                   "ports":[{"port":80,"protocol":"TCP","targetPort":80}]}})"},
      {"NodePort service gets an external traffic policy", "", "services",
       R"({"spec":{"type":"NodePort","ports":[{"port":80,"targetPort":"http","protocol":"UDP"}]}})",
       R"({"spec":{"type":"NodePort","sessionAffinity":"None","internalTrafficPolicy":"Cluster",
                   "externalTrafficPolicy":"Cluster","ports":[{"port":80,"protocol":"UDP","targetPort":"http"}]}})"},
      {"ExternalName service has no traffic policy", "", "services", R"({"spec":{"type":"ExternalName"}})",
       R"({"spec":{"type":"ExternalName","sessionAffinity":"None"}})"},
      {"pod spec and its containers", "", "pods",
       R"({"spec":{"containers":[{"name":"a","image":"busybox"},{"name":"b","image":"reg:5000/x:1.2",
                   "ports":[{"containerPort":8080}]},{"name":"c","image":"x:latest","imagePullPolicy":"Never"}]}})",
       R"({"spec":{"restartPolicy":"Always","dnsPolicy":"ClusterFirst","schedulerName":"default-scheduler",
                   "terminationGracePeriodSeconds":30,"securityContext":{},"enableServiceLinks":true,
                   "containers":[
                     {"name":"a","image":"busybox","imagePullPolicy":"Always",
                      "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"},
                     {"name":"b","image":"reg:5000/x:1.2","imagePullPolicy":"IfNotPresent",
                      "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",
                      "ports":[{"containerPort":8080,"protocol":"TCP"}]},
                     {"name":"c","image":"x:latest","imagePullPolicy":"Never",
                      "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}]}})"},
      {"pod keeps what it set", "", "pods",
       R"({"spec":{"restartPolicy":"Never","terminationGracePeriodSeconds":0,"containers":[]}})",
       R"({"spec":{"restartPolicy":"Never","dnsPolicy":"ClusterFirst","schedulerName":"default-scheduler",
                   "terminationGracePeriodSeconds":0,"securityContext":{},"enableServiceLinks":true,"containers":[]}})"},
      {"pod template's pod spec", "", "podtemplates", R"({"template":{"spec":{"containers":[]}}})",
       R"({"template":{"spec":{"restartPolicy":"Always","dnsPolicy":"ClusterFirst","schedulerName":"default-scheduler",
                   "terminationGracePeriodSeconds":30,"securityContext":{},"enableServiceLinks":true,"containers":[]}}})"},
      {"priority class preempts by default", "scheduling.k8s.io", "priorityclasses", R"({"value":5})",
       R"({"value":5,"preemptionPolicy":"PreemptLowerPriority"})"},
      {"priority class keeps Never", "scheduling.k8s.io", "priorityclasses", R"({"value":5,"preemptionPolicy":"Never"})",
       R"({"value":5,"preemptionPolicy":"Never"})"},
      {"deployment", "apps", "deployments", R"({"spec":{"template":{"spec":{"containers":[]}}}})",
       R"({"spec":{"replicas":1,"revisionHistoryLimit":10,"progressDeadlineSeconds":600,
                   "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}},
                   "template":{"spec":{"restartPolicy":"Always","dnsPolicy":"ClusterFirst",
                   "schedulerName":"default-scheduler","terminationGracePeriodSeconds":30,"securityContext":{},
                   "enableServiceLinks":true,"containers":[]}}}})"},
      {"deployment with Recreate has no rollingUpdate", "apps", "deployments",
       R"({"spec":{"replicas":0,"strategy":{"type":"Recreate"}}})",
       R"({"spec":{"replicas":0,"revisionHistoryLimit":10,"progressDeadlineSeconds":600,"strategy":{"type":"Recreate"}}})"},
      {"config maps have no defaults", "", "configmaps", R"({"data":{"a":"b"}})", R"({"data":{"a":"b"}})"},
      {"custom resources are left alone", "prescient.dev", "commandruns", R"({"spec":{}})", R"({"spec":{}})"},
      {"wrong types are left for validation", "", "pods", R"({"spec":{"containers":"nope"}})",
       R"({"spec":{"restartPolicy":"Always","dnsPolicy":"ClusterFirst","schedulerName":"default-scheduler",
                   "terminationGracePeriodSeconds":30,"securityContext":{},"enableServiceLinks":true,"containers":"nope"}})"},
      {"a service spec that is not an object", "", "services", R"({"spec":3})", R"({"spec":3})"},
  };
  for (const auto& c : cases) {
    Json obj = Json::parse(c.in);
    ApplyBuiltinDefaults(c.group, c.resource, &obj);
    EXPECT_EQ(obj, Json::parse(c.want)) << c.name << "\n got: " << obj.dump();
  }
}

TEST(BuiltinDefaults, TheStoreDefaultsCreatesAndUpdates) {
  auto s = Store::Open({});
  ASSERT_TRUE(s.ok());
  auto& store = **s;
  const GroupVersionResource secrets{"", "v1", "secrets"};
  auto created = store.Create(secrets, "default", Json::parse(R"({"apiVersion":"v1","kind":"Secret",
      "metadata":{"name":"s"},"stringData":{"a":"b"}})"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->value("type", ""), "Opaque");
  Json next = *created;
  next.erase("type");
  auto updated = store.Update(secrets, "default", next);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->value("type", ""), "Opaque");
}

}  // namespace
}  // namespace prescient::sim
