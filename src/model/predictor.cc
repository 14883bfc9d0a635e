#include "model/predictor.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analysis/feature_vector.h"
#include "common/clock.h"
#include "model/calibration.h"

namespace prescient::model {
namespace {

using analysis::FeaturizedHistory;
using analysis::FeaturizedRun;
using analysis::HistoryIndex;
using analysis::HistoryRecord;
using analysis::KeyLevel;

constexpr const char* kLevelNames[] = {"signature", "shape", "program"};

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFoundError(path + ": cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Status WriteFileAtomic(const std::string& path, const std::string& data, bool gzip) {
  const std::string tmp = path + ".tmp";
  if (gzip) {
    gzFile g = gzopen(tmp.c_str(), "wb9");
    if (g == nullptr) return InternalError(tmp + ": cannot create");
    const int n = gzwrite(g, data.data(), static_cast<unsigned>(data.size()));
    if (gzclose(g) != Z_OK || n != static_cast<int>(data.size())) return InternalError(tmp + ": write failed");
  } else {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return InternalError(tmp + ": cannot create");
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
    f.close();
    if (!f) return InternalError(tmp + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return InternalError(path + ": rename failed");
  return Status::Ok();
}

Status MakeDirs(const std::string& dir) {
  std::string cur;
  std::stringstream ss(dir);
  std::string part;
  if (!dir.empty() && dir[0] == '/') cur = "/";
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    cur += part + "/";
    if (mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) return InternalError(cur + ": cannot create directory");
  }
  return Status::Ok();
}

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

double Median(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  return v[mid];
}

}  // namespace

double PriorLog(const float* row, int target, double global_prior_log) {
  for (int l = 0; l < analysis::kNumKeyLevels; ++l) {
    const float v = row[analysis::HistoryP50Column(static_cast<KeyLevel>(l), target)];
    if (!std::isnan(v)) return v;
  }
  return global_prior_log;
}

double BaseLog(const float* row, int target, double model_log) {
  // Memory: a signature that has already needed X will need X again, so never go below the
  // largest value its recent runs used (before the conformal offset, which is calibrated on top).
  if (target == analysis::kMemoryBytes) {
    const float max_seen = row[analysis::HistoryP50Column(KeyLevel::kSignature, target) + 2];
    if (!std::isnan(max_seen)) return std::max(model_log, static_cast<double>(max_seen));
  }
  return model_log;
}

bool HistoryUpperBound(const HistoryIndex::Lookup& history, int target, double quantile, double* value,
                       std::string* detail) {
  for (int l = 0; l < analysis::kNumKeyLevels; ++l) {
    const analysis::KeyAggregate* a = history.level[l];
    if (a == nullptr || a->targets[static_cast<size_t>(target)].n == 0) continue;
    const analysis::TargetStats& s = a->targets[static_cast<size_t>(target)];
    double v;
    if (s.n < 10) {
      v = s.max * 1.2;
    } else {
      v = s.p90 * 1.2;
      if (quantile > 0.9) v = std::max(v, s.max);
    }
    *value = v;
    *detail = std::string("history:") + kLevelNames[l] + " (" + std::to_string(s.n) + " runs)";
    return true;
  }
  return false;
}

Result<TreeEnsemble> Predictor::FastPath(const Booster& b) {
  auto json = b.SaveJsonToBuffer();
  if (!json.ok()) return json.status();
  auto trees = TreeEnsemble::FromJson(*json);
  if (!trees.ok()) return trees.status();
  if (trees->num_targets() != kNumTargets) {
    return InternalError("model has " + std::to_string(trees->num_targets()) + " outputs, expected " +
                         std::to_string(kNumTargets));
  }
  return trees;
}

std::unique_ptr<Predictor> Predictor::WithoutModel(HistoryIndex history, DefaultResources defaults,
                                                   ResourceQuantiles quantiles) {
  std::unique_ptr<Predictor> p(new Predictor());
  p->history_ = std::move(history);
  p->defaults_ = defaults;
  p->quantiles_ = quantiles;
  return p;
}

Result<std::unique_ptr<Predictor>> Predictor::Load(const std::string& dir) {
  auto meta_text = ReadFile(dir + "/metadata.json");
  if (!meta_text.ok()) return NotFoundError("no model at " + dir + ": " + meta_text.status().message());
  nlohmann::json mj = nlohmann::json::parse(*meta_text, nullptr, false);
  if (mj.is_discarded()) return InvalidArgument(dir + "/metadata.json: not valid JSON");
  auto meta = MetadataFromJson(mj);
  if (!meta.ok()) return InvalidArgument(dir + "/" + meta.status().message());
  if (Status s = CheckCompatible(*meta, dir); !s.ok()) return s;
  auto bytes = ReadFile(dir + "/model.ubj");
  if (!bytes.ok()) return NotFoundError("model at " + dir + " has metadata.json but no model.ubj");
  auto booster = Booster::LoadFromBuffer(*bytes);
  if (!booster.ok()) return Status(booster.status().code(), dir + "/model.ubj: " + booster.status().message());
  auto nf = booster->NumFeatures();
  if (!nf.ok()) return nf.status();
  if (*nf != meta->num_features) {
    return InvalidArgument("model at " + dir + ": model.ubj expects " + std::to_string(*nf) +
                           " features but metadata.json says " + std::to_string(meta->num_features));
  }
  if (Status s = booster->SetParam("nthread", "1"); !s.ok()) return s;
  auto trees = FastPath(*booster);
  if (!trees.ok()) return Status(trees.status().code(), dir + "/model.ubj: " + trees.status().message());
  std::unique_ptr<Predictor> p(new Predictor());
  p->booster_.emplace(std::move(booster).value());
  p->trees_.emplace(std::move(trees).value());
  p->meta_ = std::move(meta).value();
  p->quantiles_ = p->meta_.quantiles;
  const std::string index_path = dir + "/history_index.json.gz";
  if (auto lines = analysis::ReadTextLines(index_path); lines.ok()) {
    std::string text;
    for (const std::string& l : *lines) text += l;
    nlohmann::json ij = nlohmann::json::parse(text, nullptr, false);
    if (ij.is_discarded()) return InvalidArgument(index_path + ": not valid JSON");
    auto idx = HistoryIndex::FromJson(ij);
    if (!idx.ok()) return InvalidArgument(index_path + ": " + idx.status().message());
    p->history_ = std::move(idx).value();
  }
  return p;
}

Result<std::unique_ptr<Predictor>> Predictor::Train(std::vector<HistoryRecord> records, const TrainOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  auto progress = [&o](const std::string& s) {
    if (o.progress) o.progress(s);
  };
  records.erase(std::remove_if(records.begin(), records.end(), [](const HistoryRecord& r) { return !r.usage; }),
                records.end());
  if (records.size() < o.min_rows) {
    return InvalidArgument("training needs at least " + std::to_string(o.min_rows) + " runs with usage, got " +
                           std::to_string(records.size()));
  }
  if (!(o.calibration_fraction > 0 && o.calibration_fraction < 0.9)) {
    return InvalidArgument("calibration fraction must be in (0, 0.9)");
  }
  for (int t = 0; t < kNumTargets; ++t) {
    if (!(o.quantiles[t] > 0 && o.quantiles[t] < 1)) {
      return InvalidArgument(std::string("quantile for ") + analysis::TargetName(t) + " must be in (0, 1)");
    }
  }
  analysis::SortByTime(&records);
  uint64_t data_hash = analysis::Fnv1a64("prescient-training-data");
  for (const HistoryRecord& r : records) data_hash = analysis::Fnv1a64(analysis::HistoryRecordToJson(r).dump(), data_hash);

  progress("featurising " + std::to_string(records.size()) + " runs in time order");
  HistoryIndex index;
  const FeaturizedHistory fh = analysis::FeaturizeHistory(records, &index);
  const size_t n = fh.rows();
  const size_t cols = fh.cols;
  const size_t n_cal = std::max<size_t>(1, static_cast<size_t>(std::floor(static_cast<double>(n) * o.calibration_fraction)));
  const size_t n_train = n - n_cal;

  ModelMetadata meta;
  meta.prescient_version = PrescientVersion();
  meta.feature_schema_version = analysis::kFeatureSchemaVersion;
  meta.feature_schema_hash = FeatureSchemaHashHex();
  meta.num_features = static_cast<int64_t>(cols);
  for (int t = 0; t < kNumTargets; ++t) meta.targets[static_cast<size_t>(t)] = analysis::TargetName(t);
  meta.quantiles = o.quantiles;

  // Global priors: the training median per target (log1p).
  const DefaultResources defaults;
  for (int t = 0; t < kNumTargets; ++t) {
    std::vector<double> v;
    for (size_t i = 0; i < n_train; ++i) {
      if (std::isfinite(fh.y[i][static_cast<size_t>(t)])) v.push_back(std::log1p(fh.y[i][static_cast<size_t>(t)]));
    }
    TargetCalibration& c = meta.calibration[static_cast<size_t>(t)];
    c.train_rows = static_cast<int64_t>(v.size());
    for (double x : v) c.train_max = std::max(c.train_max, std::expm1(x));
    c.global_prior_log = v.empty() ? std::log1p(defaults.Get(t)) : Median(v);
  }

  // Labels relative to the prior, with a mask for unmeasured targets.
  std::vector<float> labels(n * kNumTargets, 0.f);
  std::vector<unsigned char> mask(n * kNumTargets, 0);
  std::vector<double> prior(n * kNumTargets, 0.0);
  for (size_t i = 0; i < n; ++i) {
    for (int t = 0; t < kNumTargets; ++t) {
      const size_t j = i * kNumTargets + static_cast<size_t>(t);
      prior[j] = PriorLog(fh.row(i), t, meta.calibration[static_cast<size_t>(t)].global_prior_log);
      const double y = fh.y[i][static_cast<size_t>(t)];
      if (std::isfinite(y)) {
        labels[j] = static_cast<float>(std::log1p(y) - prior[j]);
        mask[j] = 1;
      }
    }
  }

  auto dtrain = DMatrix::FromDense(fh.x.data(), n_train, cols);
  if (!dtrain.ok()) return dtrain.status();
  if (Status s = dtrain->SetLabels(labels.data(), n_train, kNumTargets); !s.ok()) return s;
  auto booster = Booster::Create(*dtrain);
  if (!booster.ok()) return booster.status();
  const std::pair<const char*, std::string> params[] = {
      {"tree_method", "hist"},
      {"max_depth", std::to_string(o.max_depth)},
      {"eta", std::to_string(o.eta)},
      {"min_child_weight", std::to_string(o.min_child_weight)},
      {"subsample", std::to_string(o.subsample)},
      {"colsample_bytree", std::to_string(o.colsample_bytree)},
      {"lambda", std::to_string(o.lambda)},
      {"max_bin", std::to_string(o.max_bin)},
      {"base_score", "0"},
      {"seed", std::to_string(o.seed)},
      {"nthread", std::to_string(std::max(1, o.threads))},
      {"verbosity", "0"},
  };
  for (const auto& [k, v] : params) {
    if (Status s = booster->SetParam(k, v); !s.ok()) return s;
  }
  double taus[kNumTargets];
  for (int t = 0; t < kNumTargets; ++t) taus[t] = o.quantiles[t];
  std::vector<float> margin, grad(n_train * kNumTargets), hess(n_train * kNumTargets);
  progress("boosting " + std::to_string(o.rounds) + " rounds on " + std::to_string(n_train) + " runs x " +
           std::to_string(cols) + " features, " + std::to_string(kNumTargets) + " targets (pinball objective)");
  for (int round = 0; round < o.rounds; ++round) {
    if (Status s = booster->PredictMargin(*dtrain, &margin); !s.ok()) return s;
    if (margin.size() != n_train * kNumTargets) {
      return InternalError("xgboost returned " + std::to_string(margin.size()) + " margins for " +
                           std::to_string(n_train) + " rows x " + std::to_string(kNumTargets) + " targets");
    }
    PinballGradient(margin.data(), labels.data(), mask.data(), n_train, kNumTargets, taus, grad.data(), hess.data());
    if (Status s = booster->BoostOneIter(*dtrain, &grad, &hess); !s.ok()) return s;
    if ((round + 1) % 20 == 0 || round + 1 == o.rounds) {
      progress("round " + std::to_string(round + 1) + "/" + std::to_string(o.rounds));
    }
  }
  if (Status s = booster->SetParam("nthread", "1"); !s.ok()) return s;

  // Split-conformal calibration on the newest runs, per history group.
  progress("calibrating on the newest " + std::to_string(n_cal) + " runs (split conformal)");
  std::vector<float> raw;
  std::vector<double> resid[kNumTargets][2];
  std::vector<double> resid_all[kNumTargets];
  std::vector<int> group(n, 0);
  std::vector<std::array<double, kNumTargets>> base(n);
  for (size_t i = n_train; i < n; ++i) {
    if (Status s = booster->PredictRow(fh.row(i), cols, &raw); !s.ok()) return s;
    group[i] = fh.prior_count[i] > 0 ? 1 : 0;
    for (int t = 0; t < kNumTargets; ++t) {
      const size_t j = i * kNumTargets + static_cast<size_t>(t);
      base[i][static_cast<size_t>(t)] = BaseLog(fh.row(i), t, prior[j] + raw[static_cast<size_t>(t)]);
      if (!mask[j]) continue;
      const double r = std::log1p(fh.y[i][static_cast<size_t>(t)]) - base[i][static_cast<size_t>(t)];
      resid[t][group[i]].push_back(r);
      resid_all[t].push_back(r);
    }
  }
  for (int t = 0; t < kNumTargets; ++t) {
    TargetCalibration& c = meta.calibration[static_cast<size_t>(t)];
    const ConformalOffset pooled = ConformalUpperOffset(resid_all[t], o.quantiles[t]);
    c.calibration_rows = static_cast<int64_t>(pooled.n);
    for (int g = 0; g < 2; ++g) {
      // Mondrian (per-group) conformal. A group too small for its own rank to exist is not
      // trusted to be as easy as the pool: it gets the larger of the pooled offset and its own
      // largest residual (never-seen signatures are usually the harder group).
      const ConformalOffset off = ConformalUpperOffset(resid[t][g], o.quantiles[t]);
      double offset = pooled.offset;
      if (off.n >= o.min_group_rows && !off.saturated) {
        offset = off.offset;
      } else if (off.n > 0) {
        offset = std::max(pooled.offset, off.offset);
      }
      // Memory: peaks of identical runs differ by a few percent (allocator, page cache), more
      // than a small calibration slice may show; never add less than 5 %.
      if (t == analysis::kMemoryBytes) offset = std::max(offset, std::log(1.05));
      c.offset[static_cast<size_t>(g)] = offset;
      c.offset_rows[static_cast<size_t>(g)] = static_cast<int64_t>(off.n);
    }
    size_t covered = 0, count = 0;
    double loss = 0;
    for (size_t i = n_train; i < n; ++i) {
      const size_t j = i * kNumTargets + static_cast<size_t>(t);
      if (!mask[j]) continue;
      const double q = base[i][static_cast<size_t>(t)] + c.offset[static_cast<size_t>(group[i])];
      const double y = std::log1p(fh.y[i][static_cast<size_t>(t)]);
      covered += y <= q ? 1 : 0;
      loss += PinballLoss(y, q, o.quantiles[t]);
      ++count;
    }
    c.coverage = count ? static_cast<double>(covered) / static_cast<double>(count) : 0;
    c.pinball_log = count ? loss / static_cast<double>(count) : 0;
  }

  meta.training_data_hash = Hex(data_hash);
  meta.model_version = "m-" + Hex(analysis::Fnv1a64(Hex(data_hash) + "/" + std::to_string(o.seed) + "/" +
                                                    std::to_string(o.rounds) + "/" + std::to_string(o.max_depth)))
                                  .substr(0, 12);
  meta.rows = static_cast<int64_t>(n);
  meta.train_rows = static_cast<int64_t>(n_train);
  meta.calibration_rows = static_cast<int64_t>(n_cal);
  meta.first_time = FormatRfc3339Micro(records.front().time);
  meta.last_time = FormatRfc3339Micro(records.back().time);
  meta.seed = o.seed;
  meta.rounds = o.rounds;
  meta.max_depth = o.max_depth;
  meta.eta = o.eta;
  meta.calibration_fraction = o.calibration_fraction;
  meta.created = FormatRfc3339(SystemClock().Now());
  meta.training_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  auto trees = FastPath(*booster);
  if (!trees.ok()) return trees.status();
  std::unique_ptr<Predictor> p(new Predictor());
  p->booster_.emplace(std::move(booster).value());
  p->trees_.emplace(std::move(trees).value());
  p->meta_ = std::move(meta);
  p->quantiles_ = o.quantiles;
  p->history_ = std::move(index);
  return p;
}

Status Predictor::Save(const std::string& dir) const {
  if (!booster_) return InvalidArgument("nothing to save: this predictor has no model");
  if (Status s = MakeDirs(dir); !s.ok()) return s;
  Result<std::string> bytes = [&] {
    std::lock_guard<std::mutex> lock(booster_mu_);
    return booster_->SaveToBuffer();
  }();
  if (!bytes.ok()) return bytes.status();
  if (Status s = WriteFileAtomic(dir + "/model.ubj", *bytes, false); !s.ok()) return s;
  std::string index_text;
  {
    std::shared_lock<std::shared_mutex> lock(history_mu_);
    index_text = history_.ToJson().dump();
  }
  if (Status s = WriteFileAtomic(dir + "/history_index.json.gz", index_text, true); !s.ok()) return s;
  // metadata.json last: its presence marks a complete model directory.
  return WriteFileAtomic(dir + "/metadata.json", MetadataToJson(meta_).dump(2) + "\n", false);
}

ResourceProfile Predictor::Predict(const PredictionRequest& request) const {
  std::shared_lock<std::shared_mutex> lock(history_mu_);
  return PredictWithIndex(request, history_);
}

ResourceProfile Predictor::PredictWithIndex(const PredictionRequest& request, const HistoryIndex& history) const {
  thread_local FeaturizedRun run;
  analysis::FeaturizeRun(request.command, request.context, request.user, history, &run);
  return PredictRun(run, request);
}

ResourceProfile Predictor::PredictRun(const FeaturizedRun& run, const PredictionRequest& request) const {
  ResourceProfile p;
  p.signature = run.command.signature;
  p.history_runs = run.history.signature() ? run.history.signature()->count : 0;
  p.dependencies = run.dependencies;
  p.quantile = quantiles_;
  p.model_version = meta_.model_version;

  DefaultResources d = defaults_;
  if (request.context.requested_cpus) d.cpu_cores = *request.context.requested_cpus;
  if (request.context.requested_memory_bytes) d.memory_bytes = *request.context.requested_memory_bytes;

  std::array<float, kNumTargets> raw{};
  bool model_ok = false;
  std::vector<float> contrib;
  size_t contrib_k = 0;
  if (trees_) {
    trees_->Predict(run.row.data(), raw.data());
    model_ok = true;
    if (request.explain && booster_) {
      std::lock_guard<std::mutex> lock(booster_mu_);
      if (!booster_->Contributions(run.row.data(), run.row.size(), &contrib, &contrib_k).ok()) contrib.clear();
    }
  }
  const int group = p.history_runs > 0 ? 1 : 0;
  std::string details;
  for (int t = 0; t < kNumTargets; ++t) {
    const TargetCalibration& c = meta_.calibration[static_cast<size_t>(t)];
    double value = 0;
    std::string detail;
    PredictionSource src;
    if (model_ok && c.train_rows > 0) {
      const double log_ub =
          BaseLog(run.row.data(), t, PriorLog(run.row.data(), t, c.global_prior_log) + raw[static_cast<size_t>(t)]) +
          c.offset[static_cast<size_t>(group)];
      value = std::expm1(std::clamp(log_ub, 0.0, 60.0));
      // Bimodal targets (network: mostly nothing, sometimes a transfer) can give a huge log-space
      // offset; no bound exceeds twice the largest value ever measured for the target.
      if (c.train_max > 0) value = std::min(value, 2 * c.train_max);
      src = PredictionSource::kModel;
      detail = "model " + meta_.model_version;
    } else if (HistoryUpperBound(run.history, t, quantiles_[t], &value, &detail)) {
      src = PredictionSource::kHistory;
    } else {
      value = d.Get(t);
      src = PredictionSource::kDefault;
      detail = "default";
    }
    p.Set(t, std::max(0.0, value));
    p.target_source[static_cast<size_t>(t)] = src;
    if (t == analysis::kMemoryBytes) {
      p.source = src;
      p.source_detail = detail;
    }
  }
  if (p.cpu_cores < 0.01) p.cpu_cores = 0.01;
  p.disk_read_bytes = p.disk_read_bps * p.duration_seconds;
  p.disk_write_bytes = p.disk_write_bps * p.duration_seconds;
  p.network_bytes = p.network_bps * p.duration_seconds;

  if (request.explain && contrib_k == kNumTargets) {
    const size_t cols = run.row.size();
    const auto& names = analysis::FeatureNames();
    for (int t = 0; t < kNumTargets; ++t) {
      if (p.target_source[static_cast<size_t>(t)] != PredictionSource::kModel) continue;
      std::vector<FeatureContribution> all;
      const float* c = contrib.data() + static_cast<size_t>(t) * (cols + 1);
      for (size_t f = 0; f < cols; ++f) {
        if (c[f] != 0) all.push_back({t, names[f], run.row[f], c[f]});
      }
      const double prior = PriorLog(run.row.data(), t, meta_.calibration[static_cast<size_t>(t)].global_prior_log);
      all.push_back({t, "prior", static_cast<float>(prior), prior});
      std::sort(all.begin(), all.end(), [](const FeatureContribution& a, const FeatureContribution& b) {
        return std::fabs(a.contribution) > std::fabs(b.contribution);
      });
      if (all.size() > static_cast<size_t>(std::max(1, request.top_features))) {
        all.resize(static_cast<size_t>(std::max(1, request.top_features)));
      }
      p.contributions.insert(p.contributions.end(), all.begin(), all.end());
    }
  }
  return p;
}

void Predictor::Observe(const HistoryRecord& record) {
  if (!record.usage) return;
  const analysis::CommandFeatures f = analysis::AnalyzeCommand(record.command);
  std::unique_lock<std::shared_mutex> lock(history_mu_);
  history_.Add(f, record);
}

void Predictor::ReplaceHistory(HistoryIndex history) {
  std::unique_lock<std::shared_mutex> lock(history_mu_);
  history_ = std::move(history);
}

HistoryIndex Predictor::HistorySnapshot() const {
  std::shared_lock<std::shared_mutex> lock(history_mu_);
  return history_;
}

}  // namespace prescient::model
