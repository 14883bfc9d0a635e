// Prediction and training benchmark for the Command Analysis Module (not a test: prints numbers
// and writes docs/bench/predict.json). Single-threaded prediction latency including parsing and
// feature extraction, p50/p99 over many commands; training time on N rows (default 10,000) taken
// from a history file, cycled when it holds fewer rows.
//
// usage: predict_bench --history FILE [--rows 10000] [--iterations 20000] [--out docs/bench/predict.json]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <unistd.h>
#include <vector>

#include "analysis/history.h"
#include "model/predictor.h"

using namespace prescient;

namespace {
double CpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
double LoadAverage() {
  double l = 0;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &l) != 1) l = 0;
    std::fclose(f);
  }
  return l;
}
}  // namespace

int main(int argc, char** argv) {
  std::string history = "models/corpus/history.jsonl", out = "docs/bench/predict.json";
  size_t rows = 10000, iterations = 20000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--history")) history = argv[i + 1];
    else if (!std::strcmp(argv[i], "--rows")) rows = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--iterations")) iterations = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--out")) out = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown flag %s\nusage: predict_bench --history FILE [--rows N] [--iterations N] [--out FILE]\n", argv[i]);
      return 2;
    }
  }
  auto h = analysis::ReadHistoryFile(history);
  if (!h.ok() || h->records.empty()) {
    std::fprintf(stderr, "predict_bench: %s\n", h.ok() ? "history is empty" : h.status().ToString().c_str());
    return 1;
  }
  const std::vector<analysis::HistoryRecord>& src = h->records;
  // Training rows: the history cycled to `rows`, with times shifted per cycle so order is kept.
  std::vector<analysis::HistoryRecord> train;
  train.reserve(rows);
  for (size_t i = 0; i < rows; ++i) {
    analysis::HistoryRecord r = src[i % src.size()];
    r.time += std::chrono::hours(24 * static_cast<int>(i / src.size()));
    train.push_back(std::move(r));
  }
  model::TrainOptions opts;
  opts.threads = 1;
  const double load = LoadAverage();
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  auto p = model::Predictor::Train(train, opts);
  const double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double train_cpu_s = CpuSeconds() - cpu0;
  if (!p.ok()) {
    std::fprintf(stderr, "predict_bench: train: %s\n", p.status().ToString().c_str());
    return 1;
  }
  std::printf("training: %zu rows, %d rounds, %zu features: %.2f s wall, %.2f s CPU (1 thread; load average %.1f on %ld CPUs)\n",
              rows, opts.rounds, static_cast<size_t>((*p)->metadata().num_features), train_s, train_cpu_s, load,
              sysconf(_SC_NPROCESSORS_ONLN));

  std::vector<model::PredictionRequest> reqs;
  for (const auto& r : src) {
    model::PredictionRequest q;
    q.command = r.command;
    q.context = r.context;
    q.user = r.user;
    reqs.push_back(std::move(q));
  }
  std::vector<double> us;
  us.reserve(iterations);
  double sink = 0;
  for (size_t i = 0; i < std::min<size_t>(1000, iterations); ++i) sink += (*p)->Predict(reqs[i % reqs.size()]).memory_bytes;
  for (size_t i = 0; i < iterations; ++i) {
    const auto a = std::chrono::steady_clock::now();
    sink += (*p)->Predict(reqs[i % reqs.size()]).memory_bytes;
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(us.begin(), us.end());
  const double p50 = us[us.size() / 2], p99 = us[us.size() * 99 / 100];
  // The same requests without a model (parsing, features, history lookup, fallback): the share of
  // the latency that is not tree evaluation.
  auto fallback = model::Predictor::WithoutModel((*p)->HistorySnapshot());
  std::vector<double> fus;
  fus.reserve(iterations);
  for (size_t i = 0; i < iterations; ++i) {
    const auto a = std::chrono::steady_clock::now();
    sink += fallback->Predict(reqs[i % reqs.size()]).memory_bytes;
    fus.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(fus.begin(), fus.end());
  const double f50 = fus[fus.size() / 2], f99 = fus[fus.size() * 99 / 100];
  std::printf("without model (parse + features + history fallback): p50 %.1f us, p99 %.1f us\n", f50, f99);
  std::printf("prediction (single thread, incl. parsing + features + tree evaluation): p50 %.1f us, p99 %.1f us over %zu calls\n",
              p50, p99, us.size());
  std::printf("targets: p50 <= 50 us: %s; training 10k rows <= 20 s: %s\n", p50 <= 50 ? "met" : "NOT met",
              rows != 10000 ? "n/a" : (train_s <= 20 ? "met" : (train_cpu_s <= 20 ? "NOT met in wall time (CPU time within)" : "NOT met")));
  nlohmann::json j = {{"history", history},
                      {"training_rows", rows},
                      {"training_rounds", opts.rounds},
                      {"training_threads", opts.threads},
                      {"training_seconds", train_s},
                      {"training_cpu_seconds", train_cpu_s},
                      {"load_average_1m", load},
                      {"features", (*p)->metadata().num_features},
                      {"predict_iterations", iterations},
                      {"predict_p50_us", p50},
                      {"predict_p99_us", p99},
                      {"featurize_fallback_p50_us", f50},
                      {"featurize_fallback_p99_us", f99},
                      {"checksum", sink > 0}};
  std::ofstream(out) << j.dump(2) << "\n";
  std::printf("wrote %s\n", out.c_str());
  return 0;
}
