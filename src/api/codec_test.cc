#include "api/codec.h"

#include <gtest/gtest.h>

#include <random>
#include <regex>

#include "api/json_reader.h"

namespace prescient::api {
namespace {

using nlohmann::json;

json FullRun() {
  return json::parse(R"({
    "apiVersion": "prescient.dev/v1alpha1", "kind": "CommandRun",
    "metadata": {"name": "dump", "namespace": "demo", "uid": "u-1", "resourceVersion": "42", "generation": 3,
                 "creationTimestamp": "2026-11-28T06:00:00Z", "labels": {"prescient.dev/instance": "db-tools"},
                 "annotations": {"a": "b"}, "finalizers": ["prescient.dev/allocation"]},
    "spec": {
      "command": "pg_dump -Fc orders > /backup/orders.dump",
      "target": {"vmSelector": {"matchLabels": {"app": "db"},
                                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["tools"]}]}},
      "priority": 100, "user": "alice", "reservationName": "nightly",
      "resources": {"min": {"cpu": "250m", "memory": "256Mi"}, "max": {"cpu": 4, "memory": "8Gi", "disk": "10Gi", "network": "100Mi"}},
      "shadow": {"enabled": true, "durationSeconds": 20, "allowNetwork": false},
      "dependencies": [{"name": "db", "kind": "Service", "host": "postgres", "port": 5432}],
      "timeoutSeconds": 600, "env": [{"name": "PGHOST", "value": "postgres"}], "workingDir": "/backup",
      "allowPreemptionWhileRunning": true
    },
    "status": {
      "phase": "Running", "observedGeneration": 3,
      "prediction": {"cpu": "1500m", "memory": "768Mi", "diskReadBytesPerSecond": 10, "diskWriteBytesPerSecond": 20,
                     "networkBytesPerSecond": 30, "durationSeconds": 12.5, "quantile": 0.95, "modelVersion": "m7",
                     "source": "Model", "dependencies": [{"kind": "Endpoint", "host": "10.0.0.1", "port": 443}]},
      "allocation": {"instanceID": "db-tools", "vmName": "db-tools", "node": "node-1", "cpuCores": "1500m",
                     "memory": "1Gi", "diskSpace": "2Gi", "networkPriority": "High", "reservationName": "nightly",
                     "allocatedAt": "2026-11-28T06:00:05Z", "ioWeight": 200, "diskReadBytesPerSecond": "50Mi",
                     "diskWriteBytesPerSecond": 20971520},
      "queue": {"position": 0, "reason": "Admitted", "since": "2026-11-28T06:00:01Z"},
      "usage": {"peaks": {"cpuCores": 1.25, "memoryBytes": 700000000, "anonMemoryBytes": 600000000},
                "totals": {"cpuSeconds": 3.5, "throttledSeconds": 0.1, "throttledPeriods": 4, "diskReadBytes": 1,
                           "diskWriteBytes": 2, "networkReceiveBytes": 3, "networkTransmitBytes": 4, "oomKills": 0},
                "memoryCurrentBytes": 500000000, "cpuThrottledFraction": 0.05, "endpoints": ["10.0.0.1:443"],
                "networkScope": "guest", "lastReportTime": "2026-11-28T06:00:09Z"},
      "result": {"startedAt": "2026-11-28T06:00:06Z", "oomKilled": false},
      "agent": {"instance": "db-tools", "claimedAt": "2026-11-28T06:00:06Z", "hostname": "g", "bootID": "b",
                "pid": 77, "cgroup": "/prescient/dump", "appliedAllocation": {"cpuCores": "1500m", "memory": "1Gi"}},
      "shadow": {"requested": false, "result": {"durationSeconds": 20, "exited": false,
                 "memoryCurve": [{"t": 1, "bytes": 100}], "cpuCurve": [{"t": 1, "cores": 0.5}]}},
      "stopRequest": {"reason": "Preempted", "requestedBy": "urgent", "requestedAt": "2026-11-28T06:00:10Z",
                      "gracePeriodSeconds": 30},
      "preemptions": 2,
      "conditions": [{"type": "Allocated", "status": "True", "observedGeneration": 3,
                      "lastTransitionTime": "2026-11-28T06:00:05Z", "reason": "Bound", "message": "on db-tools"}]
    }
  })");
}

TEST(CodecTest, DecodesEveryField) {
  FieldErrors errs;
  CommandRun run = CommandRunFromJson(FullRun(), &errs);
  ASSERT_TRUE(errs.empty()) << Summarize(errs);
  EXPECT_EQ(run.Key(), "demo/dump");
  EXPECT_EQ(run.metadata.generation, 3);
  EXPECT_TRUE(run.metadata.HasFinalizer(kAllocationFinalizer));
  ASSERT_TRUE(run.spec.target.vm_selector);
  EXPECT_EQ(run.spec.target.vm_selector->match_expressions.at(0).values.at(0), "tools");
  EXPECT_EQ(run.spec.resources->min->cpu_milli, 250);
  EXPECT_EQ(run.spec.resources->max->cpu_milli, 4000);
  EXPECT_EQ(run.spec.resources->max->memory_bytes, 8LL << 30);
  EXPECT_EQ(run.spec.resources->max->network_bytes_per_second, 100LL << 20);
  EXPECT_EQ(run.spec.TimeoutSeconds(), 600);
  EXPECT_TRUE(run.spec.AllowPreemptionWhileRunning());
  EXPECT_EQ(run.spec.dependencies->at(0).port, 5432);
  EXPECT_EQ(run.status.phase, RunPhase::kRunning);
  EXPECT_EQ(run.status.prediction->cpu_milli, 1500);
  EXPECT_EQ(run.status.prediction->dependencies.at(0).kind, DependencyKind::kEndpoint);
  EXPECT_EQ(run.status.allocation->memory_bytes, 1LL << 30);
  EXPECT_EQ(run.status.allocation->network_priority, NetworkPriority::kHigh);
  EXPECT_EQ(run.status.allocation->io_weight, 200);
  EXPECT_EQ(run.status.allocation->disk_read_bytes_per_second, 50LL << 20);
  EXPECT_EQ(run.status.allocation->disk_write_bytes_per_second, 20LL << 20);
  ASSERT_TRUE(run.status.stop_request);
  EXPECT_EQ(run.status.stop_request->reason, "Preempted");
  EXPECT_EQ(run.status.stop_request->requested_by, "urgent");
  EXPECT_EQ(run.status.stop_request->grace_period_seconds, 30);
  EXPECT_TRUE(run.status.stop_request->requested_at.has_value());
  EXPECT_EQ(run.status.preemptions, 2);
  EXPECT_DOUBLE_EQ(run.status.usage->peaks.cpu_cores, 1.25);
  EXPECT_EQ(run.status.agent->applied_allocation->cpu_milli, 1500);
  EXPECT_EQ(run.status.shadow->result->cpu_curve.at(0).second, 0.5);
  EXPECT_TRUE(IsConditionTrue(run.status.conditions, kConditionAllocated));
}

TEST(CodecTest, RoundTripIsStable) {
  FieldErrors errs;
  CommandRun run = CommandRunFromJson(FullRun(), &errs);
  ASSERT_TRUE(errs.empty());
  json once = CommandRunToJson(run);
  CommandRun again = CommandRunFromJson(once, &errs);
  ASSERT_TRUE(errs.empty()) << Summarize(errs);
  EXPECT_EQ(again, run);
  EXPECT_EQ(CommandRunToJson(again), once);
  // Canonical quantity forms on the wire.
  EXPECT_EQ(once["spec"]["resources"]["max"]["cpu"], "4");
  EXPECT_EQ(once["status"]["allocation"]["cpuCores"], "1500m");
  EXPECT_EQ(once["status"]["allocation"]["memory"], "1Gi");
  EXPECT_EQ(once["status"]["allocation"]["diskWriteBytesPerSecond"], "20Mi");
  EXPECT_EQ(once["status"]["allocation"]["ioWeight"], 200);
}

TEST(CodecTest, OptionalIoAndStopFieldsStayAbsent) {
  CommandRun run;
  run.metadata.name = "r";
  run.spec.command = "true";
  run.spec.target.vm_name = "vm";
  run.status.phase = RunPhase::kAllocated;
  run.status.allocation.emplace();
  run.status.allocation->instance_id = "vm";
  json j = CommandRunToJson(run);
  for (const char* k : {"ioWeight", "diskReadBytesPerSecond", "diskWriteBytesPerSecond"})
    EXPECT_FALSE(j["status"]["allocation"].contains(k)) << k;
  EXPECT_FALSE(j["status"].contains("stopRequest"));
  EXPECT_FALSE(j["status"].contains("preemptions"));
  run.status.phase = RunPhase::kPreempted;
  FieldErrors errs;
  EXPECT_EQ(CommandRunFromJson(CommandRunToJson(run), &errs).status.phase, RunPhase::kPreempted);
  EXPECT_TRUE(errs.empty()) << Summarize(errs);
}

TEST(CodecTest, ReservationRoundTrip) {
  json j = json::parse(R"({
    "apiVersion": "prescient.dev/v1alpha1", "kind": "ResourceReservation",
    "metadata": {"name": "nightly", "namespace": "demo"},
    "spec": {"resources": {"cpu": "2", "memory": "4Gi"}, "target": {"vmName": "db-tools"}, "users": ["alice"],
             "commandPattern": "pg_dump *", "commandPatternSyntax": "Glob", "priority": 500,
             "window": {"start": "2026-11-28T00:00:00Z", "end": "2026-11-28T06:00:00Z"}},
    "status": {"phase": "Bound", "boundInstances": [{"instanceID": "db-tools", "node": "n1", "cpu": "2", "memory": "4Gi"}],
               "used": {"cpu": "500m"}}
  })");
  FieldErrors errs;
  ResourceReservation r = ResourceReservationFromJson(j, &errs);
  ASSERT_TRUE(errs.empty()) << Summarize(errs);
  EXPECT_EQ(r.spec.resources.cpu_milli, 2000);
  EXPECT_EQ(r.status.phase, ReservationPhase::kBound);
  EXPECT_EQ(r.status.used_cpu_milli, 500);
  EXPECT_FALSE(r.status.used_memory_bytes.has_value());
  ResourceReservation again = ResourceReservationFromJson(ResourceReservationToJson(r), &errs);
  ASSERT_TRUE(errs.empty()) << Summarize(errs);
  EXPECT_EQ(again, r);
}

TEST(CodecTest, ReportsEveryDecodeProblemWithItsPath) {
  struct Case {
    const char* name;
    const char* spec;
    const char* path;
    const char* message_part;
  };
  const Case cases[] = {
      {"command not a string", R"({"command": 5, "target": {"vmName": "a"}})", "spec.command", "must be a string"},
      {"unknown spec field", R"({"command": "x", "target": {"vmName": "a"}, "cmd": "y"})", "spec.cmd", "unknown field"},
      {"unknown target field", R"({"command": "x", "target": {"vm": "a"}})", "spec.target.vm", "unknown field"},
      {"missing target", R"({"command": "x"})", "spec.target", "Required value"},
      {"bad quantity", R"({"command": "x", "target": {"vmName": "a"}, "resources": {"max": {"memory": "lots"}}})",
       "spec.resources.max.memory", "not a non-negative quantity"},
      {"negative quantity string", R"({"command": "x", "target": {"vmName": "a"}, "resources": {"max": {"cpu": "-1"}}})",
       "spec.resources.max.cpu", "not a non-negative quantity"},
      {"quantity with spaces", R"({"command": "x", "target": {"vmName": "a"}, "resources": {"max": {"cpu": " 1"}}})",
       "spec.resources.max.cpu", "not a non-negative quantity"},
      {"network not allowed in reservation-only keys", R"({"command": "x", "target": {"vmName": "a"}, "resources": {"mid": {}}})",
       "spec.resources.mid", "unknown field"},
      {"bad operator", R"({"command": "x", "target": {"vmSelector": {"matchExpressions": [{"key": "a", "operator": "Has"}]}}})",
       "spec.target.vmSelector.matchExpressions[0].operator", "Unsupported value"},
      {"bad dependency kind", R"({"command": "x", "target": {"vmName": "a"}, "dependencies": [{"kind": "Pod", "host": "h", "port": 1}]})",
       "spec.dependencies[0].kind", "Unsupported value"},
      {"dependency port missing", R"({"command": "x", "target": {"vmName": "a"}, "dependencies": [{"kind": "Service", "host": "h"}]})",
       "spec.dependencies[0].port", "Required value"},
      {"env not a list", R"({"command": "x", "target": {"vmName": "a"}, "env": {"A": "b"}})", "spec.env", "must be a list"},
      {"env name missing", R"({"command": "x", "target": {"vmName": "a"}, "env": [{"value": "b"}]})", "spec.env[0].name",
       "Required value"},
      {"args element not string", R"({"args": ["a", 1], "target": {"vmName": "a"}})", "spec.args[1]", "must be a string"},
      {"priority too wide", R"({"command": "x", "target": {"vmName": "a"}, "priority": 4294967296})", "spec.priority",
       "32 bits"},
      {"spec not an object", R"("run this")", "spec", "must be an object"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    json obj = {{"apiVersion", kApiVersion}, {"kind", kCommandRunKind},
                {"metadata", {{"name", "x"}, {"namespace", "demo"}}}, {"spec", json::parse(c.spec)}};
    FieldErrors errs;
    CommandRunFromJson(obj, &errs);
    bool found = false;
    for (const auto& e : errs) found |= e.path == c.path && e.ToString().find(c.message_part) != std::string::npos;
    EXPECT_TRUE(found) << "got: " << Summarize(errs, 10);
  }
}

TEST(CodecTest, StatusProblemsAreReportedButUnknownStatusFieldsAreNot) {
  json obj = FullRun();
  obj["status"]["phase"] = "Exploded";
  obj["status"]["allocation"]["allocatedAt"] = "yesterday";
  obj["status"]["somethingNew"] = 1;
  FieldErrors errs;
  CommandRunFromJson(obj, &errs);
  ASSERT_EQ(errs.size(), 2u) << Summarize(errs);
  EXPECT_EQ(errs[0].path, "status.phase");
  EXPECT_EQ(errs[1].path, "status.allocation.allocatedAt");
}

TEST(CodecTest, WrongKindAndMissingSpec) {
  FieldErrors errs;
  CommandRunFromJson(json{{"apiVersion", "v1"}, {"kind", "Pod"}}, &errs);
  ASSERT_EQ(errs.size(), 3u);
  EXPECT_EQ(errs[0].path, "apiVersion");
  EXPECT_EQ(errs[1].path, "kind");
  EXPECT_EQ(errs[2].path, "spec");
  errs.clear();
  CommandRunFromJson(json::array(), &errs);
  ASSERT_EQ(errs.size(), 1u);
}

TEST(CodecTest, ConditionsEncodeEveryRequiredField) {
  Condition c;
  c.type = "Valid";
  c.status = ConditionStatus::kFalse;
  c.reason = "InvalidSpec";
  c.message = "spec.command: too long";
  c.last_transition_time = Time(std::chrono::seconds(1'700'000'000));
  json a = ConditionsToJson({c});
  EXPECT_EQ(a[0]["status"], "False");
  EXPECT_EQ(a[0]["lastTransitionTime"], "2023-11-14T22:13:20Z");
  FieldErrors errs;
  auto back = ConditionsFromJson(a, "status.conditions", &errs);
  ASSERT_TRUE(errs.empty());
  EXPECT_EQ(back.at(0), c);
}

// The hand-written matcher accepts exactly what the CRDs' quantity pattern accepts.
TEST(QuantityPatternTest, MatchesTheCrdRegex) {
  const std::regex crd(
      R"(^(\+)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$)");
  std::vector<std::string> cases = {"", "0", "1", "+1", "-1", "1.", ".5", ".", "+.", "1.5", "500m", "4Gi", "4G", "4gi",
                                    "1Ki", "1ki", "1e3", "1E3", "1E", "1e", "1e+", "1e-3", "1e+3.5", "1e.5", "1Ei",
                                    "1Eii", "1mi", "1m ", " 1", "1..2", "12n", "3u", "1k", "1K", "0.000001", "1e3m",
                                    std::string("1\0", 2), std::string("1\0i", 3)};
  std::mt19937 rng(3);
  const std::string alphabet = "0123456789.+-eEKMGTPEinumk ";
  for (int i = 0; i < 5000; ++i) {
    std::string s;
    for (int n = static_cast<int>(rng() % 7); n > 0; --n) s.push_back(alphabet[rng() % alphabet.size()]);
    cases.push_back(s);
  }
  for (const auto& c : cases) {
    EXPECT_EQ(internal::MatchesQuantityPattern(c), std::regex_match(c, crd)) << "\"" << c << "\"";
  }
}

}  // namespace
}  // namespace prescient::api
