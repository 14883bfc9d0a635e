// Informer benchmark (a program, not a test): how many watch events per second the informer decodes
// and applies to its cache on one core, and how much memory the cache spends per cached CommandRun
// at 10,000 objects compared with the objects' JSON size. The events come from an in-process Client
// that serves pre-rendered watch lines (realistic CommandRun objects with managedFields, spec and a
// Running/Succeeded status), so decoding + cache apply is what is measured, not the network.
//
//   kube_informer_bench [--objects N] [--updates M] [--out docs/bench/kube_informer.json]
//
// Targets (issue 2): >= 20,000 events/s on one core; cache memory <= 3x the JSON size.
#include <malloc.h>
#include <sched.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "api/codec.h"
#include "kube/informer.h"
#include "kube/store.h"
#include "kube/typed_cache.h"

namespace {

using prescient::Code;
using prescient::Result;
using prescient::Status;
using namespace prescient::kube;

const ResourceType kCommandRuns{"prescient.dev", "v1alpha1", "commandruns", "CommandRun", true};

Json MakeCommandRun(int i, int generation, std::mt19937& rng) {
  std::uniform_int_distribution<int> cpu(100, 8000), mem(64, 16384), node(1, 40);
  const std::string name = "build-" + std::to_string(i);
  const std::string ts = "2026-11-28T06:" + std::to_string(10 + i % 50) + ":12Z";
  Json o = {
      {"apiVersion", "prescient.dev/v1alpha1"},
      {"kind", "CommandRun"},
      {"metadata",
       {{"name", name},
        {"namespace", "team-" + std::to_string(i % 20)},
        {"uid", "6f1c2d3e-4b5a-4c6d-8e7f-" + std::to_string(100000000000 + i)},
        {"resourceVersion", std::to_string(1000 + i)},
        {"generation", generation},
        {"creationTimestamp", ts},
        {"labels",
         {{"prescient.dev/instance", "vm-" + std::to_string(node(rng))},
          {"prescient.dev/user", "user" + std::to_string(i % 97)},
          {"app.kubernetes.io/part-of", "ci"}}},
        {"annotations", {{"prescient.dev/submitted-by", "prescient-cli/0.1"}}},
        {"finalizers", {"prescient.dev/allocation"}},
        {"managedFields",
         {{{"manager", "prescient"},
           {"operation", "Update"},
           {"apiVersion", "prescient.dev/v1alpha1"},
           {"time", ts},
           {"fieldsType", "FieldsV1"},
           {"fieldsV1", {{"f:spec", {{"f:command", Json::object()}, {"f:target", {{"f:vmName", Json::object()}}}}}}}},
          {{"manager", "prescient-operator"},
           {"operation", "Update"},
           {"apiVersion", "prescient.dev/v1alpha1"},
           {"time", ts},
           {"fieldsType", "FieldsV1"},
           {"subresource", "status"},
           {"fieldsV1", {{"f:status", {{"f:phase", Json::object()}, {"f:prediction", Json::object()}}}}}}}}}},
      {"spec",
       {{"command", "make -j8 -C /src/project-" + std::to_string(i % 300) + " all test"},
        {"target", {{"vmPoolName", "builders"}}},
        {"priorityClassName", "batch-normal"},
        {"user", "user" + std::to_string(i % 97)},
        {"resources", {{"min", {{"cpu", "500m"}, {"memory", "1Gi"}}}, {"max", {{"cpu", "16"}, {"memory", "64Gi"}}}}},
        {"shadow", {{"enabled", false}, {"durationSeconds", 30}}},
        {"timeoutSeconds", 3600},
        {"workingDir", "/src"},
        {"env", {{{"name", "CC"}, {"value", "gcc-12"}}, {{"name", "MAKEFLAGS"}, {"value", "-s"}}}}}},
      {"status",
       {{"phase", generation % 2 ? "Running" : "Succeeded"},
        {"observedGeneration", generation},
        {"prediction",
         {{"cpu", std::to_string(cpu(rng)) + "m"},
          {"memory", std::to_string(mem(rng)) + "Mi"},
          {"diskReadBytesPerSecond", "12Mi"},
          {"diskWriteBytesPerSecond", "40Mi"},
          {"networkBytesPerSecond", "2Mi"},
          {"durationSeconds", 412},
          {"quantile", 0.95},
          {"modelVersion", "xgb-2026-11-27-3"},
          {"source", "model"}}},
        {"allocation",
         {{"instanceID", "vm-" + std::to_string(node(rng))},
          {"node", "node-" + std::to_string(node(rng))},
          {"cpuCores", "4"},
          {"memory", "8Gi"},
          {"diskSpace", "20Gi"},
          {"networkPriority", "normal"},
          {"allocatedAt", ts}}},
        {"usage",
         {{"peaks", {{"cpu", "3712m"}, {"memory", "6123Mi"}}},
          {"totals", {{"cpuSeconds", 1412.5}, {"diskReadBytes", 181234567}, {"diskWriteBytes", 912345678}}},
          {"lastReportTime", ts}}},
        {"conditions",
         {{{"type", "Predicted"},
           {"status", "True"},
           {"observedGeneration", generation},
           {"lastTransitionTime", ts},
           {"reason", "ModelPrediction"},
           {"message", "predicted from 212 similar runs"}},
          {{"type", "Allocated"},
           {"status", "True"},
           {"observedGeneration", generation},
           {"lastTransitionTime", ts},
           {"reason", "Allocated"},
           {"message", "4 CPUs and 8Gi on vm-12"}}}}}}};
  return o;
}

// Serves an empty list, then one watch made of pre-rendered lines, decoded exactly as the REST client
// decodes a stream.
class ReplayClient : public Client {
 public:
  explicit ReplayClient(const std::vector<std::string>* lines) : lines_(lines) {}
  Result<Json> Get(const ResourceType&, const std::string&, const std::string&) override {
    return Status(Code::kUnsupported, "bench");
  }
  Result<ObjectList> List(const ResourceType&, const std::string&, const ListOptions&) override {
    ObjectList l;
    l.resource_version = "1";
    return l;
  }
  Result<Json> Create(const ResourceType&, const Json&, const WriteOptions&) override {
    return Status(Code::kUnsupported, "bench");
  }
  Result<Json> Update(const ResourceType&, const Json&, const WriteOptions&) override {
    return Status(Code::kUnsupported, "bench");
  }
  Result<Json> UpdateStatus(const ResourceType&, const Json&, const WriteOptions&) override {
    return Status(Code::kUnsupported, "bench");
  }
  Status Delete(const ResourceType&, const std::string&, const std::string&, const DeleteOptions&) override {
    return Status(Code::kUnsupported, "bench");
  }
  Result<Json> Patch(const ResourceType&, const std::string&, const std::string&, PatchType, const Json&,
                     const PatchOptions&) override {
    return Status(Code::kUnsupported, "bench");
  }
  Result<RawResponse> Raw(const std::string&, const std::string&, const std::string&, const std::string&) override {
    return Status(Code::kUnsupported, "bench");
  }
  Status Watch(const ResourceType&, const std::string&, const ListOptions&, const WatchHandler& on_event,
               Cancellation* cancel) override {
    if (!served_.exchange(true)) {
      for (const auto& line : *lines_) {
        auto ev = DecodeWatchEvent(line);
        if (!ev.ok()) return ev.status();
        if (!on_event(std::move(*ev))) return Status::Ok();
      }
    }
    // Then idle like a quiet server until shutdown.
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    int id = cancel->Register([&] {
      std::lock_guard<std::mutex> l(mu);
      done = true;
      cv.notify_all();
    });
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return done; });
    l.unlock();
    cancel->Unregister(id);
    return Status(Code::kCancelled, "stopped");
  }

 private:
  const std::vector<std::string>* lines_;
  std::atomic<bool> served_{false};
};

size_t HeapInUse() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

double LoadAverage() {
  double l[1] = {0};
  return getloadavg(l, 1) == 1 ? l[0] : -1;
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

enum class Mode {
  kJson,                 // the informer's JSON cache as is
  kJsonNoManagedFields,  // InformerOptions::transform drops metadata.managedFields
  kTyped,                // store_metadata_only + TypedCache<api::CommandRun>
};
const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kJson: return "json";
    case Mode::kJsonNoManagedFields: return "json_without_managed_fields";
    case Mode::kTyped: return "typed_commandrun";
  }
  return "";
}

struct RunResult {
  double wall_eps = 0;
  double cpu_eps = 0;        // per second of the informer thread's CPU time
  size_t heap_bytes = 0;     // heap held while every object is cached
};

// Feeds `lines` through a real Informer (and TypedCache in typed mode) and measures it.
RunResult RunInformer(const std::vector<std::string>& lines, Mode mode) {
  RunResult r;
  malloc_trim(0);
  const size_t heap_before = HeapInUse();
  {
    ReplayClient client(&lines);
    InformerOptions opts;
    if (mode == Mode::kJsonNoManagedFields) opts.transform = [](Json* o) { (*o)["metadata"].erase("managedFields"); };
    if (mode == Mode::kTyped) opts.store_metadata_only = true;
    Informer informer(&client, kCommandRuns, opts);
    informer.AddIndexer(kNamespaceIndex, NamespaceIndex());
    std::atomic<size_t> seen{0};
    std::mutex mu;
    std::condition_variable cv;
    const size_t total = lines.size();
    double cpu_first = 0, cpu_last = 0;  // read on the informer thread
    auto count = [&](const std::string& key) {
      volatile size_t k = key.size();  // what a controller's handler does: compute a key, enqueue it
      (void)k;
      size_t n = ++seen;
      if (n == 1) cpu_first = ThreadCpuSeconds();
      if (n == total) {
        cpu_last = ThreadCpuSeconds();
        std::lock_guard<std::mutex> l(mu);
        cv.notify_all();
      }
    };
    std::unique_ptr<TypedCache<prescient::api::CommandRun>> typed;
    if (mode == Mode::kTyped) {
      typed = std::make_unique<TypedCache<prescient::api::CommandRun>>(
          &informer, [](const Json& j) -> std::optional<prescient::api::CommandRun> {
            prescient::api::FieldErrors errors;
            return prescient::api::CommandRunFromJson(j, &errors);
          });
      using Ptr = TypedCache<prescient::api::CommandRun>::Ptr;
      typed->AddHandlers({[&](const Ptr& o) { count(o->Key()); }, [&](const Ptr&, const Ptr& o) { count(o->Key()); },
                          [&](const Ptr& o) { count(o->Key()); }});
    } else {
      informer.AddEventHandlers({[&](const ObjectPtr& o) { count(ObjectKey(*o)); },
                                 [&](const ObjectPtr&, const ObjectPtr& o) { count(ObjectKey(*o)); },
                                 [&](const ObjectPtr& o) { count(ObjectKey(*o)); }});
    }
    auto t0 = std::chrono::steady_clock::now();
    informer.Start();
    {
      std::unique_lock<std::mutex> l(mu);
      cv.wait(l, [&] { return seen.load() == total; });
    }
    auto t1 = std::chrono::steady_clock::now();
    r.wall_eps = static_cast<double>(total) / std::chrono::duration<double>(t1 - t0).count();
    double cpu = cpu_last - cpu_first;
    r.cpu_eps = cpu > 0 ? static_cast<double>(total - 1) / cpu : 0;
    malloc_trim(0);
    size_t heap_now = HeapInUse();
    r.heap_bytes = heap_now > heap_before ? heap_now - heap_before : 0;
    informer.Stop();
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int objects = 10'000;
  int updates = 90'000;
  std::string out = "docs/bench/kube_informer.json";
  std::string sample;  // --sample FILE: write one generated CommandRun watch line and exit
  std::string only;    // --only json|typed: just that cache's throughput run (for profiling)
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--objects")) objects = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--updates")) updates = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--out")) out = argv[i + 1];
    else if (!std::strcmp(argv[i], "--sample")) sample = argv[i + 1];
    else if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: %s [--objects N] [--updates M] [--out FILE] [--only json|typed] [--sample FILE]\n",
                   argv[0]);
      return 2;
    }
  }
  // One core: the informer's decode + apply runs on a single thread; pin the process so the number
  // does not borrow a second core.
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  sched_setaffinity(0, sizeof set, &set);

  std::mt19937 rng(42);
  std::vector<std::string> object_json;
  object_json.reserve(objects);
  std::vector<std::string> lines;
  lines.reserve(objects + updates);
  for (int i = 0; i < objects; ++i) {
    Json o = MakeCommandRun(i, 1, rng);
    object_json.push_back(o.dump());
    lines.push_back(Json{{"type", "ADDED"}, {"object", o}}.dump());
  }
  for (int u = 0; u < updates; ++u) {
    int i = u % objects;
    Json o = MakeCommandRun(i, 2 + u / objects, rng);
    o["metadata"]["resourceVersion"] = std::to_string(1000 + objects + u);
    lines.push_back(Json{{"type", "MODIFIED"}, {"object", o}}.dump());
  }
  if (!sample.empty()) {
    std::ofstream(sample) << lines.back() << "\n";
    return 0;
  }
  size_t line_bytes = 0;
  for (const auto& l : lines) line_bytes += l.size();
  size_t json_bytes = 0;
  for (const auto& j : object_json) json_bytes += j.size();
  const double json_per_object = static_cast<double>(json_bytes) / objects;
  std::vector<std::string> added(lines.begin(), lines.begin() + objects);
  if (!only.empty()) {
    if (only != "json" && only != "typed") {
      std::fprintf(stderr, "--only: expected json or typed, got \"%s\"\n", only.c_str());
      return 2;
    }
    RunResult r = RunInformer(lines, only == "json" ? Mode::kJson : Mode::kTyped);
    std::printf("%s: %.0f events/s (wall), %.0f events/s (CPU), load average %.1f\n", only.c_str(), r.wall_eps,
                r.cpu_eps, LoadAverage());
    return 0;
  }

  const double load_at_start = LoadAverage();
  // Throughput: every event decoded from its line and applied (then handed to a handler).
  RunResult json_speed = RunInformer(lines, Mode::kJson);
  RunResult stripped_speed = RunInformer(lines, Mode::kJsonNoManagedFields);
  RunResult typed_speed = RunInformer(lines, Mode::kTyped);
  // Memory: the cache holding `objects` CommandRuns.
  RunResult json_mem = RunInformer(added, Mode::kJson);
  RunResult stripped_mem = RunInformer(added, Mode::kJsonNoManagedFields);
  RunResult typed_mem = RunInformer(added, Mode::kTyped);
  auto ratio = [&](const RunResult& r) { return static_cast<double>(r.heap_bytes) / static_cast<double>(json_bytes); };
  auto per_object = [&](const RunResult& r) { return static_cast<double>(r.heap_bytes) / objects; };

  std::printf("kube informer benchmark: %d CommandRuns (%.0f bytes of JSON each), %zu watch events (%.1f MiB), "
              "load average %.1f (%.1f at the start)\n",
              objects, json_per_object, lines.size(), static_cast<double>(line_bytes) / (1 << 20), LoadAverage(),
              load_at_start);
  std::printf("%-30s %16s %16s %14s %10s\n", "cache", "events/s (wall)", "events/s (CPU)", "bytes/object",
              "mem/JSON");
  std::printf("%-30s %16.0f %16.0f %14.0f %10.2f\n", "json", json_speed.wall_eps, json_speed.cpu_eps,
              per_object(json_mem), ratio(json_mem));
  std::printf("%-30s %16.0f %16.0f %14.0f %10.2f\n", "json, managedFields dropped", stripped_speed.wall_eps,
              stripped_speed.cpu_eps, per_object(stripped_mem), ratio(stripped_mem));
  std::printf("%-30s %16.0f %16.0f %14.0f %10.2f\n", "typed api::CommandRun", typed_speed.wall_eps,
              typed_speed.cpu_eps, per_object(typed_mem), ratio(typed_mem));
  std::printf("targets: >= 20000 events/s on one core; cache memory <= 3x the JSON size\n");

  constexpr double kTargetEventsPerSecond = 20'000, kTargetRatio = 3;
  auto meets = [&](const RunResult& speed, const RunResult& mem) {
    return speed.cpu_eps >= kTargetEventsPerSecond && ratio(mem) <= kTargetRatio;
  };
  for (auto [name, speed, mem] : {std::tuple{"json", &json_speed, &json_mem},
                                  std::tuple{"json, managedFields dropped", &stripped_speed, &stripped_mem},
                                  std::tuple{"typed api::CommandRun", &typed_speed, &typed_mem}}) {
    std::printf("  %-28s %s\n", name, meets(*speed, *mem) ? "meets both targets" : "misses a target");
  }
  auto entry = [&](const RunResult& speed, const RunResult& mem) {
    return Json{{"cache_bytes_per_object", per_object(mem)},
                {"cache_to_json_ratio", ratio(mem)},
                {"events_per_second_wall", speed.wall_eps},
                {"events_per_cpu_second", speed.cpu_eps},
                {"meets_targets", meets(speed, mem)}};
  };
  Json result = {{"benchmark", "kube_informer"},
                 {"objects", objects},
                 {"events", lines.size()},
                 {"json_bytes_per_object", json_per_object},
                 {"load_average_1m_at_start", load_at_start},
                 {"load_average_1m", LoadAverage()},
                 {"caches",
                  {{ModeName(Mode::kJson), entry(json_speed, json_mem)},
                   {ModeName(Mode::kJsonNoManagedFields), entry(stripped_speed, stripped_mem)},
                   {ModeName(Mode::kTyped), entry(typed_speed, typed_mem)}}},
                 {"targets", {{"events_per_cpu_second", kTargetEventsPerSecond}, {"cache_to_json_ratio", kTargetRatio}}}};
  std::filesystem::path p(out);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  std::ofstream(out) << result.dump(2) << "\n";
  std::printf("results written to %s\n", out.c_str());
  return 0;
}
