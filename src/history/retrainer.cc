#include "history/retrainer.h"

#include <filesystem>

#include "analysis/history.h"
#include "model/evaluation.h"

namespace prescient::history {

RetrainOutcome RetrainOnce(const model::Predictor& incumbent, const RetrainOptions& o) {
  RetrainOutcome out;
  auto file = analysis::ReadHistoryFile(o.history_path, {.require_usage = true, .strict = false});
  if (!file.ok()) return {"failed", "reading " + o.history_path + ": " + file.status().ToString(), "", nullptr};
  std::vector<analysis::HistoryRecord> records = std::move(file->records);
  if (records.size() < o.min_records) {
    return {"skipped", std::to_string(records.size()) + " runs recorded; at least " + std::to_string(o.min_records) +
                           " are needed to judge a model", "", nullptr};
  }
  analysis::SortByTime(&records);
  size_t split = static_cast<size_t>(static_cast<double>(records.size()) * (1.0 - o.holdout_fraction));
  split = std::min(std::max<size_t>(split, 1), records.size() - 1);
  std::string split_time = records[split].time_text;
  // The candidate never sees the held-out slice, so the comparison is fair to the incumbent.
  std::vector<analysis::HistoryRecord> train(records.begin(), records.begin() + static_cast<long>(split));
  auto candidate = model::Predictor::Train(train, o.train);
  if (!candidate.ok()) return {"failed", "training: " + candidate.status().ToString(), "", nullptr};
  std::shared_ptr<model::Predictor> cand(std::move(*candidate));
  out.version = cand->metadata().model_version;
  auto cmp = model::CompareOnHoldout(incumbent, *cand, records, split_time);
  if (!cmp.ok()) return {"failed", "comparing on the held-out slice: " + cmp.status().ToString(), out.version, nullptr};
  std::string numbers = "pinball " + std::to_string(cmp->candidate_pinball) + " vs " +
                        std::to_string(cmp->incumbent_pinball) + ", memory coverage " +
                        std::to_string(cmp->candidate_memory_coverage) + " vs " +
                        std::to_string(cmp->incumbent_memory_coverage) + " on " + std::to_string(cmp->rows) + " runs";
  if (!cmp->candidate_better) return {"rejected", numbers, out.version, nullptr};
  if (!o.model_dir.empty()) {
    std::string dir = (std::filesystem::path(o.model_dir) / out.version).string();
    if (Status s = cand->Save(dir); !s.ok()) return {"failed", "saving to " + dir + ": " + s.ToString(), out.version, nullptr};
  }
  // The promoted model predicts with the whole history, not only the training part.
  for (size_t i = split; i < records.size(); ++i) cand->Observe(records[i]);
  return {"promoted", numbers, out.version, cand};
}

void Retrainer::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Retrainer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Retrainer::Run() {
  size_t last_count = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, opts_.interval, [this] { return stopping_; })) return;
    }
    size_t now = store_->appended_since_open();
    if (now - last_count < opts_.min_new_records) {
      on_outcome_({"skipped", std::to_string(now - last_count) + " new runs since the last attempt", "", nullptr});
      continue;
    }
    last_count = now;
    on_outcome_(RetrainOnce(*current_(), opts_));
  }
}

}  // namespace prescient::history
