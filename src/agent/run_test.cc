#include "agent/run.h"

#include <gtest/gtest.h>

#include "agent/test_builders.h"

namespace prescient::agent {
namespace {

using nlohmann::json;
using testing::MakeRun;

TEST(ParseRun, ReadsWhatTheAgentNeeds) {
  json obj = MakeRun("r1")
                 .Instance("vm-a")
                 .Phase("Allocated")
                 .Allocation("1500m", "256Mi")
                 .Timeout(30)
                 .Dependency("db.example", 5432)
                 .Set(json::json_pointer("/spec/env"), json::array({{{"name", "A"}, {"value", "1"}}}))
                 .Set(json::json_pointer("/spec/workingDir"), "/tmp")
                 .Set(json::json_pointer("/status/prediction"), {{"dependencies", json::array({"10.0.0.1:80", "db.example:5432"})}})
                 .Obj();
  auto r = ParseRun(obj);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->ns, "default");
  EXPECT_EQ(r->labels.at(kInstanceLabel), "vm-a");
  EXPECT_EQ(r->phase, "Allocated");
  ASSERT_TRUE(r->allocation);
  EXPECT_EQ(r->allocation->cpu_milli, 1500);
  EXPECT_EQ(r->allocation->memory_bytes, 256 << 20);
  EXPECT_EQ(r->timeout_seconds, 30);
  ASSERT_EQ(r->dependencies.size(), 2u) << "predicted duplicate of a declared dependency is dropped";
  EXPECT_EQ(r->dependencies[0].source, "declared");
  EXPECT_EQ(r->dependencies[1].host, "10.0.0.1");
  EXPECT_EQ(r->dependencies[1].source, "predicted");
  EXPECT_EQ(r->env.size(), 1u);
  EXPECT_EQ(r->working_dir, "/tmp");
  EXPECT_EQ(r->Argv(), (std::vector<std::string>{"/bin/sh", "-c", "echo hello"}));
  EXPECT_FALSE(r->claim);
}

TEST(ParseRun, ArgsAreExecutedWithoutAShell) {
  auto r = ParseRun(MakeRun("r1").Args({"printf", "%s", "$(id)"}).Obj());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Argv(), (std::vector<std::string>{"printf", "%s", "$(id)"}));
}

TEST(ParseRun, RefusesWhatItCannotTrust) {
  struct Case {
    const char* what;
    json::json_pointer path;
    json value;
    const char* expect;  // substring of the error
  };
  const Case cases[] = {
      {"bad namespace", json::json_pointer("/metadata/namespace"), "../etc", "metadata.namespace"},
      {"uid with slash", json::json_pointer("/metadata/uid"), "../../x", "metadata.uid"},
      {"command not a string", json::json_pointer("/spec/command"), 5, "spec.command"},
      {"empty command", json::json_pointer("/spec/command"), "", "spec.command"},
      {"NUL in command", json::json_pointer("/spec/command"), std::string("a\0b", 3), "NUL"},
      {"both command and args", json::json_pointer("/spec/args"), json::array({"ls"}), "both"},
      {"env name with =", json::json_pointer("/spec/env"), json::array({{{"name", "A=B"}, {"value", "x"}}}), "spec.env"},
      {"relative workingDir", json::json_pointer("/spec/workingDir"), "tmp", "spec.workingDir"},
      {"negative timeout", json::json_pointer("/spec/timeoutSeconds"), -1, "spec.timeoutSeconds"},
      {"dependency without port", json::json_pointer("/spec/dependencies"), json::array({"db.example"}), "spec.dependencies[0]"},
      {"dependency port range", json::json_pointer("/spec/dependencies"), json::array({{{"host", "a"}, {"port", 70000}}}), "out of range"},
      {"dependency host injection", json::json_pointer("/spec/dependencies"), json::array({{{"host", "a;rm -rf /"}, {"port", 1}}}), "not a hostname"},
      {"bad cpu quantity", json::json_pointer("/status/allocation"), {{"cpuCores", "lots"}, {"memory", "1Gi"}}, "status.allocation.cpuCores"},
      {"zero cpu", json::json_pointer("/status/allocation"), {{"cpuCores", "0"}, {"memory", "1Gi"}}, "positive"},
      {"tiny memory", json::json_pointer("/status/allocation"), {{"cpuCores", "1"}, {"memory", "1Ki"}}, "status.allocation.memory"},
      {"unknown network priority", json::json_pointer("/status/allocation"), {{"cpuCores", "1"}, {"memory", "1Gi"}, {"networkPriority", "Urgent"}}, "networkPriority"},
      {"io weight out of range", json::json_pointer("/status/allocation"), {{"cpuCores", "1"}, {"memory", "1Gi"}, {"ioWeight", 0}}, "status.allocation.ioWeight"},
      {"io weight not a number", json::json_pointer("/status/allocation"), {{"cpuCores", "1"}, {"memory", "1Gi"}, {"ioWeight", "high"}}, "status.allocation.ioWeight"},
      {"bad disk rate", json::json_pointer("/status/allocation"), {{"cpuCores", "1"}, {"memory", "1Gi"}, {"diskReadBytesPerSecond", "fast"}}, "status.allocation.diskReadBytesPerSecond"},
  };
  for (const Case& c : cases) {
    json obj = MakeRun("r1").Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").Obj();
    obj[c.path] = c.value;
    auto r = ParseRun(obj);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << c.what << ": " << r.status().message();
  }
}

TEST(ParseRun, ReadsTheAllocationsIoAndNetworkControls) {
  json obj = MakeRun("r1").Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").Obj();
  auto plain = ParseRun(obj);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->allocation->network_priority, "Normal");
  EXPECT_FALSE(plain->allocation->io_weight.has_value());
  obj["status"]["allocation"]["networkPriority"] = "High";
  obj["status"]["allocation"]["ioWeight"] = 300;
  obj["status"]["allocation"]["diskReadBytesPerSecond"] = "10Mi";
  obj["status"]["allocation"]["diskWriteBytesPerSecond"] = 1048576;
  auto r = ParseRun(obj);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->allocation->network_priority, "High");
  EXPECT_EQ(r->allocation->io_weight, 300u);
  EXPECT_EQ(r->allocation->disk_read_bps, 10 << 20);
  EXPECT_EQ(r->allocation->disk_write_bps, 1 << 20);
  ApplyAppliedAllocation(&obj, *r->allocation);
  json back = obj["status"]["agent"]["appliedAllocation"];
  EXPECT_EQ(back["networkPriority"], "High");
  EXPECT_EQ(back["ioWeight"], 300);
  EXPECT_EQ(back["diskReadBytesPerSecond"], std::to_string(10 << 20));
}

TEST(ParseRun, CommandOfOneMebibyteIsRefused) {
  auto r = ParseRun(MakeRun("r1").Command(std::string(1 << 20, 'x')).Obj());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("longer than"), std::string::npos);
}

TEST(StatusMutations, ClaimUsageResultAndConditions) {
  json obj = MakeRun("r1").Phase("Allocated").Allocation("1", "256Mi").Obj();
  Claim c{"vm-a", "2026-11-28T07:00:00Z", "guest", "boot-1", 42, "", Allocation{1000, 256 << 20}};
  ApplyClaim(&obj, c);
  EXPECT_EQ(obj["status"]["phase"], "Running");
  EXPECT_EQ(obj["status"]["agent"]["pid"], 42);
  EXPECT_EQ(obj["status"]["agent"]["appliedAllocation"]["memory"], "256Mi");
  auto parsed = ParseRun(obj);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_TRUE(parsed->claim);
  EXPECT_EQ(parsed->claim->boot_id, "boot-1");

  Usage u;
  u.cpu_seconds = 1.5;
  u.memory_peak_bytes = 1000;
  u.endpoints = {"10.0.0.1:5432"};
  ApplyUsage(&obj, u, Clock::TimePoint(std::chrono::seconds(1'800'000'000)));
  EXPECT_EQ(obj["status"]["usage"]["totals"]["cpuSeconds"], 1.5);
  EXPECT_EQ(obj["status"]["usage"]["networkScope"], "guest");
  auto back = UsageFromJson(obj["status"]["usage"]);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->endpoints, u.endpoints);

  Clock::TimePoint t1(std::chrono::seconds(1'800'000'000));
  ApplyCondition(&obj, {"DependenciesReady", "True", "Resolved", "ok"}, t1);
  ApplyCondition(&obj, {"DependenciesReady", "True", "Resolved", "still ok"}, t1 + std::chrono::seconds(5));
  ASSERT_EQ(obj["status"]["conditions"].size(), 1u);
  EXPECT_EQ(obj["status"]["conditions"][0]["lastTransitionTime"], FormatRfc3339(t1))
      << "lastTransitionTime changes only when the status flips";

  RunResult r;
  r.reason = "OOMKilled";
  r.exit_code = 137;
  r.oom_killed = true;
  ApplyResult(&obj, r);
  EXPECT_EQ(obj["status"]["phase"], "Failed");
  EXPECT_EQ(obj["status"]["result"]["oomKilled"], true);
}

}  // namespace
}  // namespace prescient::agent

namespace prescient::agent {
namespace {

TEST(ParseRun, AppliesTheProjectsCommandRunValidation) {
  // Something only src/api's mirror of the CRD's CEL rules catches: two targets at once.
  nlohmann::json obj = testing::MakeRun("r1").Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").Obj();
  obj["spec"]["target"]["vmPoolName"] = "pool";
  auto r = ParseRun(obj);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("spec.target"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace prescient::agent

namespace prescient::agent {
namespace {

TEST(ParseRun, ServiceDependenciesUseClusterDns) {
  nlohmann::json obj = testing::MakeRun("r1", "team-a").Instance("vm-a").Phase("Allocated").Allocation("1", "256Mi").Obj();
  obj["spec"]["dependencies"] = nlohmann::json::array({{{"kind", "Service"}, {"host", "db"}, {"port", 5432}},
                                                       {{"kind", "Service"}, {"host", "cache.infra"}, {"port", 6379}},
                                                       {{"kind", "Endpoint"}, {"host", "example.org"}, {"port", 443}}});
  auto r = ParseRun(obj);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->dependencies.size(), 3u);
  EXPECT_EQ(r->dependencies[0].host, "db.team-a.svc");
  EXPECT_EQ(r->dependencies[0].source, "declared");
  EXPECT_EQ(r->dependencies[1].host, "cache.infra.svc");
  EXPECT_EQ(r->dependencies[2].host, "example.org");
}

}  // namespace
}  // namespace prescient::agent
