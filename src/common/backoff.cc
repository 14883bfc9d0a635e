#include "common/backoff.h"

#include <algorithm>
#include <cmath>

namespace prescient {

std::chrono::milliseconds Backoff::Base(int attempt) const {
  double ms = static_cast<double>(p_.initial.count()) * std::pow(p_.factor, std::min(attempt, 62));
  ms = std::min(ms, static_cast<double>(p_.max.count()));
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

std::chrono::milliseconds Backoff::Next() {
  auto base = Base(attempt_++);
  if (p_.jitter <= 0) return base;
  std::uniform_real_distribution<double> d(0.0, p_.jitter);
  auto ms = static_cast<int64_t>(static_cast<double>(base.count()) * (1.0 + d(rng_)));
  return std::chrono::milliseconds(std::min<int64_t>(ms, p_.max.count()));
}

}  // namespace prescient
