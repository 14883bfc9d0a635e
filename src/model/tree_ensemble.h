// A read-only copy of a trained XGBoost booster's trees in flat arrays, for fast single-row
// prediction: the XGBoost C API costs ~20 us of fixed overhead per call (config parsing, proxy
// matrix, thread-local buffers), more than evaluating all the trees. Built from the booster's own
// JSON model, it follows XGBoost's rules exactly (go left when value < split condition, missing
// values follow default_left, leaf value in split_conditions, outputs summed per tree_info target
// plus base_score); a unit test checks it against XGBoosterPredictFromDense on real rows.
// Immutable after construction: thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace prescient::model {

class TreeEnsemble {
 public:
  // `json_model` is XGBoosterSaveModelToBuffer(.., {"format":"json"}).
  static Result<TreeEnsemble> FromJson(const std::string& json_model);
  // Writes num_targets() margins.
  void Predict(const float* row, float* out) const;
  int num_targets() const { return num_targets_; }
  int num_features() const { return num_features_; }
  size_t num_trees() const { return roots_.size(); }

 private:
  struct Node {
    int32_t left = -1;       // -1: leaf
    int32_t right = -1;
    uint32_t feature = 0;
    float value = 0;         // split condition, or the leaf value
    bool default_left = false;
  };
  std::vector<Node> nodes_;
  std::vector<uint32_t> roots_;     // index of each tree's root in nodes_
  std::vector<uint32_t> targets_;   // output of each tree
  int num_targets_ = 1;
  int num_features_ = 0;
  float base_score_ = 0;
};

}  // namespace prescient::model
