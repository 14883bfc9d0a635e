#include "analysis/history_aggregates.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace prescient::analysis {
namespace {

constexpr double kAlpha = 0.3;

void Push(std::vector<float>* ring, size_t* next, float v, size_t cap) {
  if (ring->size() < cap) {
    ring->push_back(v);
  } else {
    (*ring)[*next] = v;
  }
  *next = (*next + 1) % cap;
}

// Nearest-rank quantile (the smallest value with at least q of the values at or below it).
double Quantile(std::vector<float> v, double q) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  k = std::clamp<size_t>(k, 1, v.size()) - 1;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

const std::string& HistoryIndex::KeyOf(const CommandFeatures& f, KeyLevel level) {
  switch (level) {
    case KeyLevel::kSignature: return f.signature;
    case KeyLevel::kShape: return f.shape;
    case KeyLevel::kProgram: return f.program;
  }
  return f.signature;
}

void HistoryIndex::Observe(Entry* e, const TargetValues& values, const HistoryRecord& r) {
  KeyAggregate& a = e->agg;
  ++a.count;
  for (int t = 0; t < kNumTargets; ++t) {
    const double v = values[t];
    if (!std::isfinite(v)) continue;
    TargetStats& s = a.targets[t];
    s.decayed_mean = s.n == 0 ? v : kAlpha * v + (1 - kAlpha) * s.decayed_mean;
    s.last = v;
    ++s.n;
    Push(&e->recent[t], &e->next[t], static_cast<float>(v), kReservoir);
  }
  if (r.context.input_bytes) {
    ++a.input_n;
    Push(&e->recent_input, &e->next_input, static_cast<float>(*r.context.input_bytes), kReservoir);
    const double in = *r.context.input_bytes;
    if (in > 0 && std::isfinite(values[kMemoryBytes]) && std::isfinite(values[kDurationSeconds])) {
      ++a.ratio_n;
      const size_t next = e->next_ratio;
      Push(&e->recent_mem_ratio, &e->next_ratio, static_cast<float>(values[kMemoryBytes] / in), kReservoir);
      size_t next2 = next;
      Push(&e->recent_dur_ratio, &next2, static_cast<float>(values[kDurationSeconds] / in), kReservoir);
    }
  }
  if (r.usage && r.usage->oom_killed.value_or(false)) ++a.oom_kills;
  for (const std::string& ep : r.endpoints) {
    if (a.endpoints.size() >= 16) break;
    if (std::find(a.endpoints.begin(), a.endpoints.end(), ep) == a.endpoints.end()) a.endpoints.push_back(ep);
  }
}

void HistoryIndex::Recompute(Entry* e) {
  for (int t = 0; t < kNumTargets; ++t) {
    TargetStats& s = e->agg.targets[t];
    const std::vector<float>& v = e->recent[t];
    if (v.empty()) continue;
    s.p50 = Quantile(v, 0.5);
    s.p90 = Quantile(v, 0.9);
    // max over the retained window: old outliers age out like everything else
    s.max = *std::max_element(v.begin(), v.end());
  }
  if (!e->recent_input.empty()) e->agg.input_p50 = Quantile(e->recent_input, 0.5);
  if (!e->recent_mem_ratio.empty()) {
    e->agg.memory_per_input_p50 = Quantile(e->recent_mem_ratio, 0.5);
    e->agg.duration_per_input_p50 = Quantile(e->recent_dur_ratio, 0.5);
  }
}

void HistoryIndex::Add(const CommandFeatures& f, const HistoryRecord& r) {
  if (!r.usage) return;
  const TargetValues values = TargetsOf(*r.usage);
  ++total_runs_;
  for (int l = 0; l < kNumKeyLevels; ++l) {
    const std::string& key = KeyOf(f, static_cast<KeyLevel>(l));
    if (key.empty()) continue;
    Entry& e = maps_[l][key];
    Observe(&e, values, r);
    Recompute(&e);
  }
}

HistoryIndex::Lookup HistoryIndex::Find(const CommandFeatures& f) const {
  Lookup out;
  for (int l = 0; l < kNumKeyLevels; ++l) out.level[l] = Find(static_cast<KeyLevel>(l), KeyOf(f, static_cast<KeyLevel>(l)));
  return out;
}

const KeyAggregate* HistoryIndex::Find(KeyLevel level, const std::string& key) const {
  if (key.empty()) return nullptr;
  const auto& m = maps_[static_cast<int>(level)];
  const auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second.agg;
}

nlohmann::json HistoryIndex::ToJson() const {
  nlohmann::json j;
  j["version"] = 1;
  j["total_runs"] = total_runs_;
  nlohmann::json levels = nlohmann::json::array();
  for (int l = 0; l < kNumKeyLevels; ++l) {
    nlohmann::json level = nlohmann::json::object();
    for (const auto& [key, e] : maps_[l]) {
      nlohmann::json entry;
      entry["count"] = e.agg.count;
      entry["oom_kills"] = e.agg.oom_kills;
      entry["endpoints"] = e.agg.endpoints;
      nlohmann::json targets = nlohmann::json::array();
      for (int t = 0; t < kNumTargets; ++t) {
        const TargetStats& s = e.agg.targets[t];
        // Oldest first, so replaying the values restores the ring order.
        std::vector<float> ordered;
        const auto& ring = e.recent[t];
        for (size_t k = 0; k < ring.size(); ++k) ordered.push_back(ring[(e.next[t] + k) % ring.size()]);
        targets.push_back({{"n", s.n}, {"last", s.last}, {"decayed_mean", s.decayed_mean}, {"recent", ordered}});
      }
      entry["targets"] = targets;
      std::vector<float> inputs;
      for (size_t k = 0; k < e.recent_input.size(); ++k)
        inputs.push_back(e.recent_input[(e.next_input + k) % e.recent_input.size()]);
      entry["input_n"] = e.agg.input_n;
      entry["recent_input"] = inputs;
      std::vector<float> mem_ratio, dur_ratio;
      for (size_t k = 0; k < e.recent_mem_ratio.size(); ++k) {
        mem_ratio.push_back(e.recent_mem_ratio[(e.next_ratio + k) % e.recent_mem_ratio.size()]);
        dur_ratio.push_back(e.recent_dur_ratio[(e.next_ratio + k) % e.recent_dur_ratio.size()]);
      }
      entry["ratio_n"] = e.agg.ratio_n;
      entry["recent_memory_per_input"] = mem_ratio;
      entry["recent_duration_per_input"] = dur_ratio;
      level[key] = entry;
    }
    levels.push_back(level);
  }
  j["levels"] = levels;
  return j;
}

Result<HistoryIndex> HistoryIndex::FromJson(const nlohmann::json& j) {
  HistoryIndex idx;
  try {
    if (j.value("version", 0) != 1) return InvalidArgument("history index: unsupported version");
    idx.total_runs_ = j.at("total_runs").get<int64_t>();
    const auto& levels = j.at("levels");
    if (!levels.is_array() || levels.size() != kNumKeyLevels) {
      return InvalidArgument("history index: expected " + std::to_string(kNumKeyLevels) + " levels");
    }
    for (int l = 0; l < kNumKeyLevels; ++l) {
      for (const auto& [key, entry] : levels[static_cast<size_t>(l)].items()) {
        Entry e;
        e.agg.count = entry.at("count").get<int64_t>();
        e.agg.oom_kills = entry.value("oom_kills", int64_t{0});
        e.agg.endpoints = entry.value("endpoints", std::vector<std::string>{});
        const auto& targets = entry.at("targets");
        if (targets.size() != kNumTargets) return InvalidArgument("history index: wrong target count for " + key);
        for (int t = 0; t < kNumTargets; ++t) {
          const auto& tj = targets[static_cast<size_t>(t)];
          TargetStats& s = e.agg.targets[t];
          s.n = tj.at("n").get<int>();
          s.last = tj.at("last").get<double>();
          s.decayed_mean = tj.at("decayed_mean").get<double>();
          e.recent[t] = tj.at("recent").get<std::vector<float>>();
          if (e.recent[t].size() > kReservoir) return InvalidArgument("history index: ring too long for " + key);
          e.next[t] = e.recent[t].size() % kReservoir;
        }
        e.agg.input_n = entry.value("input_n", 0);
        e.recent_input = entry.value("recent_input", std::vector<float>{});
        if (e.recent_input.size() > kReservoir) return InvalidArgument("history index: ring too long for " + key);
        e.next_input = e.recent_input.size() % kReservoir;
        e.agg.ratio_n = entry.value("ratio_n", 0);
        e.recent_mem_ratio = entry.value("recent_memory_per_input", std::vector<float>{});
        e.recent_dur_ratio = entry.value("recent_duration_per_input", std::vector<float>{});
        if (e.recent_mem_ratio.size() > kReservoir || e.recent_dur_ratio.size() != e.recent_mem_ratio.size()) {
          return InvalidArgument("history index: bad ratio rings for " + key);
        }
        e.next_ratio = e.recent_mem_ratio.size() % kReservoir;
        Recompute(&e);
        idx.maps_[l].emplace(key, std::move(e));
      }
    }
  } catch (const nlohmann::json::exception& ex) {
    return InvalidArgument(std::string("history index: ") + ex.what());
  }
  return idx;
}

}  // namespace prescient::analysis
