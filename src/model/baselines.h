// The recommenders Prescient is measured against (docs/evaluation.md), each an online policy keyed
// by command signature: Recommend() before a run from what it has observed so far, Observe()
// after it. A key never seen gets the static default, as a real deployment would.
//   static   the request's CPU/memory if given, else DefaultResources
//   max-seen the largest value observed for the key
//   vpa      Kubernetes VPA recommender style: decaying histogram (buckets growing 5 %, half-life
//            24 h), P90 + 15 % margin, minimum 25 millicores / 250 MiB, and after an OOM kill a
//            memory sample of max(used + 100 MiB, 1.2 x used)
//   tovar    Tovar et al. (TPDS 2018) first allocation: the observed value a minimising expected
//            waste sum t(a - v) for v <= a, t(a + max - v) for v > a (retry at the max seen)
// Not thread-safe (evaluation drives them from one thread).
#pragma once

#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "analysis/history.h"
#include "model/resource_profile.h"

namespace prescient::model {

class Recommender {
 public:
  virtual ~Recommender() = default;
  virtual const char* name() const = 0;
  // Upper bound for `target` of the next run of `key`.
  virtual double Recommend(const std::string& key, int target, const analysis::RunContext& context) = 0;
  virtual void Observe(const std::string& key, const analysis::HistoryRecord& run,
                       const analysis::TargetValues& values) = 0;
};

std::unique_ptr<Recommender> MakeStaticDefault(DefaultResources defaults = {});
std::unique_ptr<Recommender> MakeMaxSeen(DefaultResources defaults = {});
std::unique_ptr<Recommender> MakeVpaRecommender(DefaultResources defaults = {});
std::unique_ptr<Recommender> MakeTovarFirstAllocation(DefaultResources defaults = {});

// VPA's decaying histogram, exposed for tests. Exponential buckets: bucket i starts at
// first * (ratio^i - 1) / (ratio - 1).
class DecayingHistogram {
 public:
  DecayingHistogram(double first_bucket, double ratio, double half_life_seconds);
  void Add(double value, double weight, double time_seconds);
  // Smallest bucket end such that at least `p` of the (decayed) weight is at or below it.
  double Percentile(double p) const;
  bool empty() const { return total_ == 0; }

 private:
  size_t Bucket(double v) const;
  double BucketEnd(size_t b) const;
  double first_, ratio_, half_life_;
  double reference_time_ = -1;
  std::vector<double> weights_;
  double total_ = 0;
};

// Tovar's first allocation over (value, duration) samples; exposed for tests.
double TovarFirstAllocation(const std::vector<std::pair<double, double>>& value_and_time);

}  // namespace prescient::model
