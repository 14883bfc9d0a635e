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
#include <unordered_map>
#include <vector>

#include "api/codec.h"
#include "kube/informer.h"
#include "kube/store.h"

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

struct MemoryResult {
  size_t json_bytes = 0;
  size_t cache_bytes = 0;
};

// Builds a Store of `objects` as the informer does (decode each object's JSON, optional transform,
// Upsert) and measures the heap it holds afterwards.
MemoryResult MeasureCache(const std::vector<std::string>& object_json, bool strip_managed_fields) {
  MemoryResult r;
  for (const auto& s : object_json) r.json_bytes += s.size();
  malloc_trim(0);
  size_t before = HeapInUse();
  auto store = std::make_unique<Store>();
  store->AddIndexer(kNamespaceIndex, NamespaceIndex());
  for (const auto& s : object_json) {
    Json j = Json::parse(s);
    if (strip_managed_fields) j["metadata"].erase("managedFields");
    std::string key = ObjectKey(j);
    store->Upsert(key, std::make_shared<const Json>(std::move(j)));
  }
  malloc_trim(0);
  size_t after = HeapInUse();
  r.cache_bytes = after > before ? after - before : 0;
  return r;
}

// The same objects decoded into the typed api::CommandRun (what the controller works with): the size a
// typed cache would need.
MemoryResult MeasureTyped(const std::vector<std::string>& object_json) {
  MemoryResult r;
  for (const auto& s : object_json) r.json_bytes += s.size();
  malloc_trim(0);
  size_t before = HeapInUse();
  std::unordered_map<std::string, std::shared_ptr<const prescient::api::CommandRun>> cache;
  for (const auto& s : object_json) {
    prescient::api::FieldErrors errors;
    auto run = std::make_shared<const prescient::api::CommandRun>(
        prescient::api::CommandRunFromJson(Json::parse(s), &errors));
    cache.emplace(run->Key(), std::move(run));
  }
  malloc_trim(0);
  size_t after = HeapInUse();
  r.cache_bytes = after > before ? after - before : 0;
  return r;
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

}  // namespace

int main(int argc, char** argv) {
  int objects = 10'000;
  int updates = 90'000;
  std::string out = "docs/bench/kube_informer.json";
  std::string sample;  // --sample FILE: write one generated CommandRun watch line and exit
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--objects")) objects = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--updates")) updates = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--out")) out = argv[i + 1];
    else if (!std::strcmp(argv[i], "--sample")) sample = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: %s [--objects N] [--updates M] [--out FILE]\n", argv[0]);
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

  // Throughput: every event decoded from its line and applied to the cache, with one handler that
  // does what a controller's does (compute a key).
  ReplayClient client(&lines);
  InformerOptions opts;
  Informer informer(&client, kCommandRuns, opts);
  informer.AddIndexer(kNamespaceIndex, NamespaceIndex());
  std::atomic<size_t> seen{0};
  std::mutex mu;
  std::condition_variable cv;
  const size_t total = lines.size();
  double cpu_first = 0, cpu_last = 0;  // the informer thread's CPU time, read on that thread
  auto count = [&](const ObjectPtr& o) {
    volatile size_t k = ObjectKey(*o).size();
    (void)k;
    size_t n = ++seen;
    if (n == 1) cpu_first = ThreadCpuSeconds();
    if (n == total) {
      cpu_last = ThreadCpuSeconds();
      std::lock_guard<std::mutex> l(mu);
      cv.notify_all();
    }
  };
  informer.AddEventHandlers(
      {count, [&](const ObjectPtr&, const ObjectPtr& o) { count(o); }, [&](const ObjectPtr& o) { count(o); }});
  auto t0 = std::chrono::steady_clock::now();
  informer.Start();
  {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return seen.load() == total; });
  }
  auto t1 = std::chrono::steady_clock::now();
  informer.Stop();
  double secs = std::chrono::duration<double>(t1 - t0).count();
  double eps = static_cast<double>(total) / secs;
  // Events per second of the informer thread's own CPU time: what one core does, less sensitive to
  // other processes sharing the machine than the wall-clock rate.
  double cpu_secs = cpu_last - cpu_first;
  double eps_cpu = cpu_secs > 0 ? static_cast<double>(total - 1) / cpu_secs : 0;

  MemoryResult full = MeasureCache(object_json, false);
  MemoryResult stripped = MeasureCache(object_json, true);
  double ratio_full = static_cast<double>(full.cache_bytes) / static_cast<double>(full.json_bytes);
  double ratio_stripped = static_cast<double>(stripped.cache_bytes) / static_cast<double>(full.json_bytes);
  MemoryResult typed = MeasureTyped(object_json);
  double ratio_typed = static_cast<double>(typed.cache_bytes) / static_cast<double>(full.json_bytes);

  std::printf("kube informer benchmark (%d CommandRuns, %zu watch events, %.1f MiB of event JSON)\n", objects, total,
              static_cast<double>(line_bytes) / (1 << 20));
  std::printf("%-52s %14s %10s\n", "metric", "value", "target");
  std::printf("%-52s %14.0f %10s\n", "watch events decoded+applied per second (wall)", eps, ">=20000");
  std::printf("%-52s %14.0f %10s\n", "  per second of informer-thread CPU time", eps_cpu, ">=20000");
  std::printf("%-52s %14.0f %10s\n", "mean CommandRun JSON size (bytes)",
              static_cast<double>(full.json_bytes) / objects, "");
  std::printf("%-52s %14.0f %10s\n", "cache bytes per CommandRun", static_cast<double>(full.cache_bytes) / objects, "");
  std::printf("%-52s %14.2f %10s\n", "cache memory / JSON size", ratio_full, "<=3");
  std::printf("%-52s %14.0f %10s\n", "cache bytes per CommandRun, managedFields dropped",
              static_cast<double>(stripped.cache_bytes) / objects, "");
  std::printf("%-52s %14.2f %10s\n", "cache memory (managedFields dropped) / JSON size", ratio_stripped, "<=3");
  std::printf("%-52s %14.0f %10s\n", "typed api::CommandRun bytes per object", static_cast<double>(typed.cache_bytes) / objects,
              "");
  std::printf("%-52s %14.2f %10s\n", "typed api::CommandRun memory / JSON size", ratio_typed, "<=3");

  Json result = {{"benchmark", "kube_informer"},
                 {"objects", objects},
                 {"events", total},
                 {"seconds", secs},
                 {"events_per_second", eps},
                 {"events_per_cpu_second", eps_cpu},
                 {"load_average_1m", LoadAverage()},
                 {"json_bytes_per_object", static_cast<double>(full.json_bytes) / objects},
                 {"cache_bytes_per_object", static_cast<double>(full.cache_bytes) / objects},
                 {"cache_to_json_ratio", ratio_full},
                 {"cache_bytes_per_object_without_managed_fields", static_cast<double>(stripped.cache_bytes) / objects},
                 {"cache_to_json_ratio_without_managed_fields", ratio_stripped},
                 {"typed_commandrun_bytes_per_object", static_cast<double>(typed.cache_bytes) / objects},
                 {"typed_commandrun_to_json_ratio", ratio_typed},
                 {"targets", {{"events_per_second", 20000}, {"cache_to_json_ratio", 3}}}};
  std::filesystem::path p(out);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  std::ofstream(out) << result.dump(2) << "\n";
  std::printf("results written to %s\n", out.c_str());
  return 0;
}
