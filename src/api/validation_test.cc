#include "api/validation.h"

#include <gtest/gtest.h>

#include "api/codec.h"

namespace prescient::api {
namespace {

using nlohmann::json;

// Decodes a spec and validates it, as the operator does.
FieldErrors Check(const json& spec) {
  json obj = {{"apiVersion", kApiVersion}, {"kind", kCommandRunKind},
              {"metadata", {{"name", "run-1"}, {"namespace", "demo"}}}, {"spec", spec}};
  FieldErrors errs;
  CommandRun run = CommandRunFromJson(obj, &errs);
  for (auto& e : ValidateCommandRun(run)) errs.push_back(e);
  return errs;
}

bool Has(const FieldErrors& errs, const std::string& path, const std::string& part) {
  for (const auto& e : errs)
    if (e.path == path && e.message.find(part) != std::string::npos) return true;
  return false;
}

json Base() { return {{"command", "sha256sum /etc/hostname"}, {"target", {{"vmName", "small-vm"}}}}; }

TEST(ValidateCommandRunTest, Table) {
  struct Case {
    const char* name;
    json patch;  // merged into Base() (RFC 7386: null deletes)
    const char* path;  // nullptr: expect valid
    const char* part;
  };
  const std::string mib(1 << 20, 'x');
  const Case cases[] = {
      {"minimal", json::object(), nullptr, nullptr},
      {"args instead of command", {{"command", nullptr}, {"args", {"gzip", "-k", "f"}}}, nullptr, nullptr},
      {"both command and args", {{"args", {"ls"}}}, "spec", "exactly one of command and args must be set"},
      {"neither command nor args", {{"command", nullptr}}, "spec", "exactly one of command and args must be set"},
      {"1 MiB command", {{"command", mib}}, "spec.command", "Too long: may not be more than 65536 bytes"},
      {"empty command", {{"command", ""}}, "spec.command", "at least 1"},
      {"empty args", {{"command", nullptr}, {"args", json::array()}}, "spec.args", "at least 1 items"},
      {"args too long in total", {{"command", nullptr}, {"args", {std::string(40000, 'a'), std::string(30000, 'b')}}},
       "spec.args", "args must total at most 65536 bytes"},
      {"no target kind", {{"target", {{"vmName", nullptr}}}}, "spec.target",
       "exactly one of vmName, vmSelector, vmPoolName must be set"},
      {"two target kinds", {{"target", {{"vmName", "a"}, {"vmPoolName", "b"}}}}, "spec.target",
       "exactly one of vmName, vmSelector, vmPoolName must be set"},
      {"pool target", {{"target", {{"vmName", nullptr}, {"vmPoolName", "workers"}}}}, nullptr, nullptr},
      {"vm name not DNS", {{"target", {{"vmName", "Small_VM"}}}}, "spec.target.vmName", "should match"},
      {"vm name too long", {{"target", {{"vmName", std::string(64, 'a')}}}}, "spec.target.vmName", "Too long"},
      {"empty selector", {{"target", {{"vmName", nullptr}, {"vmSelector", json::object()}}}}, "spec.target.vmSelector",
       "vmSelector must not be empty"},
      {"In without values",
       {{"target", {{"vmName", nullptr}, {"vmSelector", {{"matchExpressions", {{{"key", "a"}, {"operator", "In"}}}}}}}}},
       "spec.target.vmSelector.matchExpressions[0]", "values must be non-empty for In and NotIn"},
      {"Exists with values",
       {{"target", {{"vmName", nullptr},
                    {"vmSelector", {{"matchExpressions", {{{"key", "a"}, {"operator", "Exists"}, {"values", {"x"}}}}}}}}}},
       "spec.target.vmSelector.matchExpressions[0]", "empty for Exists"},
      {"priority and class", {{"priority", 5}, {"priorityClassName", "high"}}, "spec",
       "at most one of priorityClassName and priority may be set"},
      {"priority too high", {{"priority", 1000000001}}, "spec.priority", "less than or equal to 1000000000"},
      {"priority lowest", {{"priority", -1000000000}}, nullptr, nullptr},
      {"class not DNS", {{"priorityClassName", "High Priority"}}, "spec.priorityClassName", "should match"},
      {"empty user", {{"user", ""}}, "spec.user", "at least 1"},
      {"reservation not DNS", {{"reservationName", "Night_ly"}}, "spec.reservationName", "should match"},
      {"min above max cpu", {{"resources", {{"min", {{"cpu", "2"}}}, {"max", {{"cpu", "1"}}}}}}, "spec.resources",
       "min.cpu must not exceed max.cpu"},
      {"min above max memory", {{"resources", {{"min", {{"memory", "2Gi"}}}, {"max", {{"memory", "1Gi"}}}}}},
       "spec.resources", "min.memory must not exceed max.memory"},
      {"min above max disk", {{"resources", {{"min", {{"disk", "2Gi"}}}, {"max", {{"disk", "1Gi"}}}}}},
       "spec.resources", "min.disk must not exceed max.disk"},
      {"min above max network", {{"resources", {{"min", {{"network", "2M"}}}, {"max", {{"network", "1M"}}}}}},
       "spec.resources", "min.network must not exceed max.network"},
      {"min equal max", {{"resources", {{"min", {{"cpu", "1000m"}}}, {"max", {{"cpu", 1}}}}}}, nullptr, nullptr},
      {"negative integer cpu", {{"resources", {{"max", {{"cpu", -1}}}}}}, "spec.resources.max", "cpu must not be negative"},
      {"negative integer memory", {{"resources", {{"min", {{"memory", -5}}}}}}, "spec.resources.min",
       "memory must not be negative"},
      {"shadow too long", {{"shadow", {{"enabled", true}, {"durationSeconds", 601}}}}, "spec.shadow.durationSeconds",
       "less than or equal to 600"},
      {"shadow zero", {{"shadow", {{"durationSeconds", 0}}}}, "spec.shadow.durationSeconds", "greater than or equal to 1"},
      {"dependency port zero", {{"dependencies", {{{"kind", "Service"}, {"host", "db"}, {"port", 0}}}}},
       "spec.dependencies[0].port", "greater than or equal to 1"},
      {"dependency port high", {{"dependencies", {{{"kind", "Endpoint"}, {"host", "db"}, {"port", 70000}}}}},
       "spec.dependencies[0].port", "less than or equal to 65535"},
      {"dependency empty host", {{"dependencies", {{{"kind", "Endpoint"}, {"host", ""}, {"port", 1}}}}},
       "spec.dependencies[0].host", "at least 1"},
      {"too many dependencies",
       {{"dependencies", json::array()}}, nullptr, nullptr},  // filled below
      {"timeout zero", {{"timeoutSeconds", 0}}, "spec.timeoutSeconds", "greater than or equal to 1"},
      {"timeout a week", {{"timeoutSeconds", 604800}}, nullptr, nullptr},
      {"timeout over a week", {{"timeoutSeconds", 604801}}, "spec.timeoutSeconds", "less than or equal to 604800"},
      {"env bad name", {{"env", {{{"name", "1X"}, {"value", "v"}}}}}, "spec.env[0].name", "should match"},
      {"env duplicate", {{"env", {{{"name", "X"}, {"value", "1"}}, {{"name", "X"}, {"value", "2"}}}}}, "spec.env[1]",
       "Duplicate value"},
      {"env value too long", {{"env", {{{"name", "X"}, {"value", std::string(32769, 'v')}}}}}, "spec.env[0].value",
       "Too long"},
      {"relative workingDir", {{"workingDir", "tmp"}}, "spec.workingDir", "should match '^/'"},
      {"absolute workingDir", {{"workingDir", "/tmp"}}, nullptr, nullptr},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    json spec = Base();
    spec.merge_patch(c.patch);
    if (std::string(c.name) == "too many dependencies") {
      for (int i = 0; i < 33; ++i) spec["dependencies"].push_back({{"kind", "Service"}, {"host", "h"}, {"port", 80}});
      FieldErrors errs = Check(spec);
      EXPECT_TRUE(Has(errs, "spec.dependencies", "must have at most 32 items")) << Summarize(errs);
      continue;
    }
    FieldErrors errs = Check(spec);
    if (c.path == nullptr) {
      EXPECT_TRUE(errs.empty()) << Summarize(errs);
    } else {
      EXPECT_TRUE(Has(errs, c.path, c.part)) << "got: " << Summarize(errs, 10);
    }
  }
}

TEST(ValidateCommandRunTest, OneMebibyteCommandGetsOneClearError) {
  json spec = Base();
  spec["command"] = std::string(1 << 20, 'y');
  FieldErrors errs = Check(spec);
  ASSERT_EQ(errs.size(), 1u) << Summarize(errs);
  EXPECT_EQ(errs[0].ToString(), "spec.command: Too long: may not be more than 65536 bytes (got 1048576)");
}

TEST(ValidateCommandRunTest, MetadataNameAndNamespace) {
  CommandRun run;
  run.spec.command = "true";
  run.spec.target.vm_name = "small-vm";
  FieldErrors errs = ValidateCommandRun(run);
  EXPECT_TRUE(Has(errs, "metadata.name", "Required value"));
  EXPECT_TRUE(Has(errs, "metadata.namespace", "Required value"));
  run.metadata.name = "Bad_Name";
  run.metadata.ns = "demo";
  errs = ValidateCommandRun(run);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].path, "metadata.name");
}

CommandRunSpec SpecOf(const json& j) {
  FieldErrors errs;
  CommandRunSpec s = CommandRunSpecFromJson(j, &errs);
  EXPECT_TRUE(errs.empty()) << Summarize(errs);
  return s;
}

TEST(ValidateCommandRunUpdateTest, OnlyPriorityMayChange) {
  json full = Base();
  full.merge_patch({{"user", "alice"}, {"reservationName", "r"}, {"resources", {{"max", {{"cpu", "1"}}}}},
                    {"shadow", {{"enabled", true}}}, {"dependencies", {{{"kind", "Service"}, {"host", "db"}, {"port", 1}}}},
                    {"timeoutSeconds", 60}, {"env", {{{"name", "A"}, {"value", "b"}}}}, {"workingDir", "/tmp"},
                    {"allowPreemptionWhileRunning", false}, {"priority", 1}});
  struct Case {
    const char* name;
    json patch;
    const char* message;  // nullptr: allowed
  };
  const Case cases[] = {
      {"no change", json::object(), nullptr},
      {"priority changes", {{"priority", 50}}, nullptr},
      {"priority to class", {{"priority", nullptr}, {"priorityClassName", "high"}}, nullptr},
      {"command", {{"command", "ls"}}, "spec.command is immutable"},
      {"command to args", {{"command", nullptr}, {"args", {"ls"}}}, "spec.command is immutable"},
      {"target", {{"target", {{"vmName", "other"}}}}, "spec.target is immutable"},
      {"user", {{"user", "bob"}}, "spec.user is immutable"},
      {"user removed", {{"user", nullptr}}, "spec.user is immutable"},
      {"reservation", {{"reservationName", "s"}}, "spec.reservationName is immutable"},
      {"resources", {{"resources", {{"max", {{"cpu", "2"}}}}}}, "spec.resources is immutable"},
      {"shadow", {{"shadow", {{"enabled", false}}}}, "spec.shadow is immutable"},
      {"dependencies", {{"dependencies", nullptr}}, "spec.dependencies is immutable"},
      {"timeout", {{"timeoutSeconds", 61}}, "spec.timeoutSeconds is immutable"},
      {"env", {{"env", {{{"name", "A"}, {"value", "c"}}}}}, "spec.env is immutable"},
      {"workingDir", {{"workingDir", "/"}}, "spec.workingDir is immutable"},
      {"preemption", {{"allowPreemptionWhileRunning", true}}, "spec.allowPreemptionWhileRunning is immutable"},
  };
  CommandRunSpec old_spec = SpecOf(full);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    json updated = full;
    updated.merge_patch(c.patch);
    FieldErrors errs = ValidateCommandRunSpecUpdate(old_spec, SpecOf(updated));
    if (c.message == nullptr) EXPECT_TRUE(errs.empty()) << Summarize(errs);
    else EXPECT_TRUE(Has(errs, "spec", c.message)) << Summarize(errs);
  }
}

TEST(ValidateCommandRunStatusTest, Table) {
  CommandRunStatus ok;
  ok.phase = RunPhase::kAllocated;
  ok.allocation.emplace();
  ok.allocation->instance_id = "vm";
  ok.allocation->cpu_milli = 500;
  ok.allocation->memory_bytes = 1 << 30;
  ok.conditions.push_back({"Allocated", ConditionStatus::kTrue, 1, Time{}, "Bound", "ok"});
  EXPECT_TRUE(ValidateCommandRunStatus(ok).empty());

  struct Case {
    const char* name;
    void (*mutate)(CommandRunStatus*);
    const char* path;
  };
  const Case cases[] = {
      {"reason not CamelCase", [](CommandRunStatus* s) { s->conditions[0].reason = "not ok"; }, "status.conditions[0].reason"},
      {"empty reason", [](CommandRunStatus* s) { s->conditions[0].reason = ""; }, "status.conditions[0].reason"},
      {"duplicate type", [](CommandRunStatus* s) { s->conditions.push_back(s->conditions[0]); }, "status.conditions[1]"},
      {"long message", [](CommandRunStatus* s) { s->conditions[0].message.assign(32769, 'm'); },
       "status.conditions[0].message"},
      {"negative allocation", [](CommandRunStatus* s) { s->allocation->memory_bytes = -1; }, "status.allocation.memory"},
      {"quantile above 1", [](CommandRunStatus* s) { s->prediction.emplace(); s->prediction->quantile = 1.5; },
       "status.prediction.quantile"},
      {"negative queue position", [](CommandRunStatus* s) { s->queue.emplace(); s->queue->position = -1; },
       "status.queue.position"},
      {"io weight 0", [](CommandRunStatus* s) { s->allocation->io_weight = 0; }, "status.allocation.ioWeight"},
      {"io weight above 10000", [](CommandRunStatus* s) { s->allocation->io_weight = 10001; },
       "status.allocation.ioWeight"},
      {"negative read limit", [](CommandRunStatus* s) { s->allocation->disk_read_bytes_per_second = -1; },
       "status.allocation.diskReadBytesPerSecond"},
      {"negative write limit", [](CommandRunStatus* s) { s->allocation->disk_write_bytes_per_second = -1; },
       "status.allocation.diskWriteBytesPerSecond"},
      {"stop request without reason", [](CommandRunStatus* s) { s->stop_request = StopRequest{}; },
       "status.stopRequest.reason"},
      {"stop grace too long",
       [](CommandRunStatus* s) { s->stop_request = StopRequest{"Preempted", "x", std::nullopt, 3601}; },
       "status.stopRequest.gracePeriodSeconds"},
      {"negative preemptions", [](CommandRunStatus* s) { s->preemptions = -1; }, "status.preemptions"},
      {"output tail too long", [](CommandRunStatus* s) { s->result = RunResult{}; s->result->output_tail.assign(65537, 'o'); },
       "status.result.outputTail"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    CommandRunStatus s = ok;
    c.mutate(&s);
    FieldErrors errs = ValidateCommandRunStatus(s);
    EXPECT_TRUE(Has(errs, c.path, "")) << Summarize(errs);
  }
}

json RrBase() {
  return {{"resources", {{"cpu", "2"}, {"memory", "4Gi"}}}, {"target", {{"vmName", "db-tools"}}}};
}

FieldErrors CheckRr(const json& spec) {
  json obj = {{"apiVersion", kApiVersion}, {"kind", kResourceReservationKind},
              {"metadata", {{"name", "nightly"}, {"namespace", "demo"}}}, {"spec", spec}};
  FieldErrors errs;
  ResourceReservation r = ResourceReservationFromJson(obj, &errs);
  for (auto& e : ValidateResourceReservation(r)) errs.push_back(e);
  return errs;
}

TEST(ValidateResourceReservationTest, Table) {
  struct Case {
    const char* name;
    json patch;
    const char* path;
    const char* part;
  };
  const Case cases[] = {
      {"minimal", json::object(), nullptr, nullptr},
      {"memory only", {{"resources", {{"cpu", nullptr}}}}, nullptr, nullptr},
      {"no cpu or memory", {{"resources", {{"cpu", nullptr}, {"memory", nullptr}, {"disk", "1Gi"}}}}, "spec.resources",
       "at least one of cpu and memory must be set"},
      {"network not accepted", {{"resources", {{"network", "1M"}}}}, "spec.resources.network", "unknown field"},
      {"negative cpu", {{"resources", {{"cpu", -2}}}}, "spec.resources", "cpu must not be negative"},
      {"missing resources", {{"resources", nullptr}}, "spec.resources", "Required value"},
      {"two targets", {{"target", {{"vmPoolName", "workers"}}}}, "spec.target",
       "exactly one of vmName, vmSelector, vmPoolName must be set"},
      {"users", {{"users", {"alice", "bob"}}}, nullptr, nullptr},
      {"duplicate users", {{"users", {"alice", "alice"}}}, "spec.users[1]", "Duplicate value"},
      {"empty user", {{"users", {""}}}, "spec.users[0]", "at least 1"},
      {"glob", {{"commandPattern", "pg_dump *"}}, nullptr, nullptr},
      {"regex", {{"commandPattern", "^pg_(dump|restore) .*"}, {"commandPatternSyntax", "Regex"}}, nullptr, nullptr},
      {"bad regex", {{"commandPattern", "(unclosed"}, {"commandPatternSyntax", "Regex"}}, "spec.commandPattern",
       "not a valid regular expression"},
      {"bad syntax", {{"commandPatternSyntax", "Perl"}}, "spec.commandPatternSyntax", "Unsupported value"},
      {"pattern too long", {{"commandPattern", std::string(1025, 'p')}}, "spec.commandPattern", "Too long"},
      {"window", {{"window", {{"start", "2026-11-28T00:00:00Z"}, {"end", "2026-11-28T01:00:00Z"}}}}, nullptr, nullptr},
      {"window end first", {{"window", {{"start", "2026-11-28T01:00:00Z"}, {"end", "2026-11-28T00:00:00Z"}}}},
       "spec.window", "window.end must be after window.start"},
      {"window empty", {{"window", json::object()}}, "spec.window", "window needs start or end"},
      {"window bad time", {{"window", {{"start", "tomorrow"}}}}, "spec.window.start", "RFC 3339"},
      {"priority bound", {{"priority", -1000000001}}, "spec.priority", "greater than or equal to -1000000000"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    json spec = RrBase();
    spec.merge_patch(c.patch);
    FieldErrors errs = CheckRr(spec);
    if (c.path == nullptr) EXPECT_TRUE(errs.empty()) << Summarize(errs);
    else EXPECT_TRUE(Has(errs, c.path, c.part)) << "got: " << Summarize(errs, 10);
  }
}

TEST(ValidateResourceReservationTest, TargetImmutable) {
  FieldErrors errs;
  ResourceReservationSpec a = ResourceReservationSpecFromJson(RrBase(), &errs);
  json other = RrBase();
  other["target"] = {{"vmName", "small-vm"}};
  other["resources"]["cpu"] = "3";
  ResourceReservationSpec b = ResourceReservationSpecFromJson(other, &errs);
  ASSERT_TRUE(errs.empty());
  EXPECT_TRUE(Has(ValidateResourceReservationSpecUpdate(a, b), "spec.target", "spec.target is immutable"));
  json resized = RrBase();
  resized["resources"]["cpu"] = "3";
  EXPECT_TRUE(ValidateResourceReservationSpecUpdate(a, ResourceReservationSpecFromJson(resized, &errs)).empty());
}

}  // namespace
}  // namespace prescient::api
