// Integration: SimProcess lifecycle against the real prescient-sim binary — persistence across a
// clean restart and across SIGKILL (write-ahead log), the fault-injection endpoint, token auth.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/sim_process.h"

namespace prescient::testing {
namespace {

using Json = nlohmann::json;

const std::string kConfigMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\ndata:\n  k: v\n";

TEST(SimProcessTest, StateSurvivesRestartAndKill) {
  SimOptions o;
  o.persistent = true;
  auto sim = SimProcess::Start(o);
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  auto& s = **sim;
  ASSERT_EQ(RunKubectl(s.kubeconfig(), {"apply", "-f", "-"}, kConfigMap).exit_code, 0);
  ASSERT_TRUE(s.Restart().ok()) << s.LogTail();
  auto got = RunKubectl(s.kubeconfig(), {"get", "configmap", "keep", "-o", "jsonpath={.data.k}"});
  ASSERT_EQ(got.exit_code, 0) << got.ToString();
  EXPECT_EQ(got.out, "v");
  // A crash loses nothing that was acknowledged.
  ASSERT_EQ(RunKubectl(s.kubeconfig(), {"patch", "configmap", "keep", "--type=merge", "-p", R"({"data":{"k":"w"}})"}).exit_code, 0);
  ASSERT_TRUE(s.Kill().ok());
  ASSERT_TRUE(s.Restart().ok()) << s.LogTail();
  got = RunKubectl(s.kubeconfig(), {"get", "configmap", "keep", "-o", "jsonpath={.data.k}"});
  ASSERT_EQ(got.exit_code, 0) << got.ToString();
  EXPECT_EQ(got.out, "w");
}

TEST(SimProcessTest, InMemoryByDefault) {
  auto sim = SimProcess::Start({});
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  auto& s = **sim;
  ASSERT_EQ(RunKubectl(s.kubeconfig(), {"apply", "-f", "-"}, kConfigMap).exit_code, 0);
  ASSERT_TRUE(s.Restart().ok());
  EXPECT_NE(RunKubectl(s.kubeconfig(), {"get", "configmap", "keep"}).exit_code, 0);
}

TEST(SimProcessTest, FaultEndpointInjectsErrors) {
  auto sim = SimProcess::Start({});
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  auto& s = **sim;
  auto set = RunKubectl(s.kubeconfig(), {"create", "--raw", "/admin/faults", "-f", "-"},
                        R"({"errorShare":1,"errorCodes":[500]})");
  ASSERT_EQ(set.exit_code, 0) << set.ToString();
  auto status = RunKubectl(s.kubeconfig(), {"get", "--raw", "/admin/faults"});
  ASSERT_EQ(status.exit_code, 0);
  EXPECT_EQ(Json::parse(status.out)["errorShare"], 1);
  auto failing = RunKubectl(s.kubeconfig(), {"get", "--raw", "/api/v1/namespaces"});
  EXPECT_NE(failing.exit_code, 0);
  EXPECT_NE(failing.err.find("injected fault"), std::string::npos) << failing.ToString();
  ASSERT_EQ(RunKubectl(s.kubeconfig(), {"delete", "--raw", "/admin/faults"}).exit_code, 0);
  EXPECT_EQ(RunKubectl(s.kubeconfig(), {"get", "--raw", "/api/v1/namespaces"}).exit_code, 0);
}

TEST(SimProcessTest, WrongTokenIsUnauthorized) {
  auto sim = SimProcess::Start({});
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  auto r = RunKubectl((*sim)->kubeconfig(), {"get", "namespaces", "--token", "wrong"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("You must be logged in to the server"), std::string::npos) << r.ToString();
}

}  // namespace
}  // namespace prescient::testing
