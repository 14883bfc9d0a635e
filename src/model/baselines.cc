#include "model/baselines.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <limits>

namespace prescient::model {
namespace {

using analysis::kNumTargets;
constexpr double kMiB = 1024.0 * 1024;

double StaticValue(const DefaultResources& d, int target, const analysis::RunContext& c) {
  if (target == analysis::kCpuCores && c.requested_cpus) return *c.requested_cpus;
  if (target == analysis::kMemoryBytes && c.requested_memory_bytes) return *c.requested_memory_bytes;
  return d.Get(target);
}

double Seconds(const analysis::HistoryRecord& r) {
  return std::chrono::duration<double>(r.time.time_since_epoch()).count();
}

class StaticDefault : public Recommender {
 public:
  explicit StaticDefault(DefaultResources d) : d_(d) {}
  const char* name() const override { return "static"; }
  double Recommend(const std::string&, int target, const analysis::RunContext& c) override {
    return StaticValue(d_, target, c);
  }
  void Observe(const std::string&, const analysis::HistoryRecord&, const analysis::TargetValues&) override {}

 private:
  DefaultResources d_;
};

class MaxSeen : public Recommender {
 public:
  explicit MaxSeen(DefaultResources d) : d_(d) {}
  const char* name() const override { return "max-seen"; }
  double Recommend(const std::string& key, int target, const analysis::RunContext& c) override {
    const auto it = max_.find(key);
    if (it == max_.end() || !std::isfinite(it->second[static_cast<size_t>(target)])) return StaticValue(d_, target, c);
    return it->second[static_cast<size_t>(target)];
  }
  void Observe(const std::string& key, const analysis::HistoryRecord&, const analysis::TargetValues& v) override {
    auto [it, inserted] = max_.try_emplace(key);
    if (inserted) it->second.fill(std::numeric_limits<double>::quiet_NaN());
    for (int t = 0; t < kNumTargets; ++t) {
      const double x = v[static_cast<size_t>(t)];
      if (!std::isfinite(x)) continue;
      double& m = it->second[static_cast<size_t>(t)];
      m = std::isfinite(m) ? std::max(m, x) : x;
    }
  }

 private:
  DefaultResources d_;
  std::unordered_map<std::string, std::array<double, kNumTargets>> max_;
};

class Vpa : public Recommender {
 public:
  explicit Vpa(DefaultResources d) : d_(d) {}
  const char* name() const override { return "vpa"; }
  double Recommend(const std::string& key, int target, const analysis::RunContext& c) override {
    const auto it = hist_.find(key);
    if (it == hist_.end() || it->second[static_cast<size_t>(target)].empty()) return StaticValue(d_, target, c);
    double v = it->second[static_cast<size_t>(target)].Percentile(0.9) * 1.15;
    if (target == analysis::kCpuCores) v = std::max(v, 0.025);
    if (target == analysis::kMemoryBytes) v = std::max(v, 250 * kMiB);
    return v;
  }
  void Observe(const std::string& key, const analysis::HistoryRecord& r, const analysis::TargetValues& v) override {
    auto it = hist_.find(key);
    if (it == hist_.end()) {
      std::array<DecayingHistogram, kNumTargets> h = {
          DecayingHistogram(0.01, 1.05, 86400),       // cores
          DecayingHistogram(1e7, 1.05, 86400),        // bytes
          DecayingHistogram(1e4, 1.05, 86400),        // bytes/s
          DecayingHistogram(1e4, 1.05, 86400),
          DecayingHistogram(1e4, 1.05, 86400),
          DecayingHistogram(0.01, 1.05, 86400),       // seconds
      };
      it = hist_.emplace(key, std::move(h)).first;
    }
    const double now = Seconds(r);
    for (int t = 0; t < kNumTargets; ++t) {
      double x = v[static_cast<size_t>(t)];
      if (!std::isfinite(x)) continue;
      if (t == analysis::kMemoryBytes && r.usage && r.usage->oom_killed.value_or(false)) {
        x = std::max(x + 100 * kMiB, 1.2 * x);  // OOM bump
      }
      it->second[static_cast<size_t>(t)].Add(x, 1.0, now);
    }
  }

 private:
  DefaultResources d_;
  std::unordered_map<std::string, std::array<DecayingHistogram, kNumTargets>> hist_;
};

class Tovar : public Recommender {
 public:
  explicit Tovar(DefaultResources d) : d_(d) {}
  const char* name() const override { return "tovar"; }
  double Recommend(const std::string& key, int target, const analysis::RunContext& c) override {
    const auto it = samples_.find(key);
    if (it == samples_.end() || it->second[static_cast<size_t>(target)].empty()) return StaticValue(d_, target, c);
    const auto& dq = it->second[static_cast<size_t>(target)];
    return TovarFirstAllocation(std::vector<std::pair<double, double>>(dq.begin(), dq.end()));
  }
  void Observe(const std::string& key, const analysis::HistoryRecord& r, const analysis::TargetValues& v) override {
    auto& s = samples_[key];
    const double dur = r.usage && r.usage->duration_seconds ? std::max(0.01, *r.usage->duration_seconds) : 1.0;
    for (int t = 0; t < kNumTargets; ++t) {
      const double x = v[static_cast<size_t>(t)];
      if (!std::isfinite(x)) continue;
      auto& dq = s[static_cast<size_t>(t)];
      dq.emplace_back(x, dur);
      if (dq.size() > 500) dq.pop_front();
    }
  }

 private:
  DefaultResources d_;
  std::unordered_map<std::string, std::array<std::deque<std::pair<double, double>>, kNumTargets>> samples_;
};

}  // namespace

DecayingHistogram::DecayingHistogram(double first_bucket, double ratio, double half_life_seconds)
    : first_(first_bucket), ratio_(ratio), half_life_(half_life_seconds) {}

size_t DecayingHistogram::Bucket(double v) const {
  if (v < first_) return 0;
  const double b = std::floor(std::log(v * (ratio_ - 1) / first_ + 1) / std::log(ratio_));
  return static_cast<size_t>(std::clamp(b, 0.0, 2000.0));
}

double DecayingHistogram::BucketEnd(size_t b) const {
  return first_ * (std::pow(ratio_, static_cast<double>(b + 1)) - 1) / (ratio_ - 1);
}

void DecayingHistogram::Add(double value, double weight, double time_seconds) {
  if (reference_time_ < 0) reference_time_ = time_seconds;
  // VPA's trick: weight new samples up by 2^((t - ref)/half_life) instead of decaying old ones.
  // Renormalise when the factor grows large to stay in range.
  double factor = std::exp2((time_seconds - reference_time_) / half_life_);
  if (factor > 1e6) {
    for (double& w : weights_) w /= factor;
    total_ /= factor;
    reference_time_ = time_seconds;
    factor = 1;
  }
  const size_t b = Bucket(std::max(0.0, value));
  if (weights_.size() <= b) weights_.resize(b + 1, 0.0);
  weights_[b] += weight * factor;
  total_ += weight * factor;
}

double DecayingHistogram::Percentile(double p) const {
  if (total_ <= 0) return 0;
  const double threshold = p * total_;
  double acc = 0;
  for (size_t b = 0; b < weights_.size(); ++b) {
    acc += weights_[b];
    if (acc >= threshold) return BucketEnd(b);
  }
  return BucketEnd(weights_.empty() ? 0 : weights_.size() - 1);
}

double TovarFirstAllocation(const std::vector<std::pair<double, double>>& samples) {
  if (samples.empty()) return 0;
  std::vector<std::pair<double, double>> s = samples;
  std::sort(s.begin(), s.end());
  const double max = s.back().first;
  double total_t = 0, total_tv = 0;
  for (const auto& [v, t] : s) {
    total_t += t;
    total_tv += t * v;
  }
  // Candidate a = s[k].first: waste = sum_{v<=a} t(a - v) + sum_{v>a} t(a + max - v).
  double best = max, best_waste = std::numeric_limits<double>::infinity();
  double below_t = 0, below_tv = 0;
  for (size_t k = 0; k < s.size(); ++k) {
    below_t += s[k].second;
    below_tv += s[k].second * s[k].first;
    // Include every sample equal to this value in "below".
    if (k + 1 < s.size() && s[k + 1].first == s[k].first) continue;
    const double a = s[k].first;
    const double above_t = total_t - below_t, above_tv = total_tv - below_tv;
    const double waste = (a * below_t - below_tv) + ((a + max) * above_t - above_tv);
    if (waste < best_waste) {
      best_waste = waste;
      best = a;
    }
  }
  return best;
}

std::unique_ptr<Recommender> MakeStaticDefault(DefaultResources d) { return std::make_unique<StaticDefault>(d); }
std::unique_ptr<Recommender> MakeMaxSeen(DefaultResources d) { return std::make_unique<MaxSeen>(d); }
std::unique_ptr<Recommender> MakeVpaRecommender(DefaultResources d) { return std::make_unique<Vpa>(d); }
std::unique_ptr<Recommender> MakeTovarFirstAllocation(DefaultResources d) { return std::make_unique<Tovar>(d); }

}  // namespace prescient::model
