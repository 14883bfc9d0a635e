// Background retraining: on a schedule, when enough new runs were recorded, train a candidate model
// on the history before a split time, compare it with the model in use on the runs after it (the
// held-out slice, model::CompareOnHoldout), and promote it — save it under the model directory and
// hand it to the operator — only if it is better. Results go to a callback (metrics, logs).
// RetrainOnce is the synchronous step (tested); Retrainer runs it on its own thread.
// Thread-safe: Start/Stop from one thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "history/store.h"
#include "model/predictor.h"

namespace prescient::history {

struct RetrainOptions {
  std::string history_path;           // the HistoryStore's file
  std::string model_dir;              // promoted models are saved to <model_dir>/<version>/ ("" = not saved)
  std::chrono::seconds interval{3600};
  size_t min_new_records = 50;        // fewer new runs since the last attempt: skip
  double holdout_fraction = 0.2;      // newest share of runs held out for the comparison
  size_t min_records = 40;            // below this the history is too small to judge a model
  model::TrainOptions train;
};

struct RetrainOutcome {
  std::string result;  // promoted | rejected | skipped | failed
  std::string message;
  std::string version;  // the candidate's model version
  std::shared_ptr<model::Predictor> promoted;  // set when result == "promoted"
};

// One attempt against `incumbent`.
RetrainOutcome RetrainOnce(const model::Predictor& incumbent, const RetrainOptions& options);

class Retrainer {
 public:
  using Current = std::function<std::shared_ptr<model::Predictor>()>;
  using OnOutcome = std::function<void(const RetrainOutcome&)>;
  Retrainer(const HistoryStore* store, RetrainOptions options, Current current, OnOutcome on_outcome)
      : store_(store), opts_(std::move(options)), current_(std::move(current)), on_outcome_(std::move(on_outcome)) {}
  ~Retrainer() { Stop(); }
  void Start();
  void Stop();

 private:
  void Run();
  const HistoryStore* store_;
  RetrainOptions opts_;
  Current current_;
  OnOutcome on_outcome_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace prescient::history
