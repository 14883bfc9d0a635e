#include "model/tree_ensemble.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace prescient::model {

Result<TreeEnsemble> TreeEnsemble::FromJson(const std::string& json_model) {
  TreeEnsemble e;
  try {
    const nlohmann::json j = nlohmann::json::parse(json_model);
    const auto& learner = j.at("learner");
    const auto& lmp = learner.at("learner_model_param");
    e.base_score_ = std::strtof(lmp.at("base_score").get<std::string>().c_str(), nullptr);
    e.num_features_ = std::atoi(lmp.at("num_feature").get<std::string>().c_str());
    const int num_target = std::atoi(lmp.value("num_target", std::string("1")).c_str());
    const int num_class = std::atoi(lmp.value("num_class", std::string("0")).c_str());
    e.num_targets_ = std::max({1, num_target, num_class});
    const auto& gb = learner.at("gradient_booster");
    if (gb.at("name").get<std::string>() != "gbtree") return InvalidArgument("tree ensemble: only gbtree models are supported");
    const auto& model = gb.at("model");
    const auto& trees = model.at("trees");
    const auto& info = model.at("tree_info");
    if (info.size() != trees.size()) return InvalidArgument("tree ensemble: tree_info and trees differ in length");
    for (size_t t = 0; t < trees.size(); ++t) {
      const auto& tree = trees[t];
      const auto& left = tree.at("left_children");
      const auto& right = tree.at("right_children");
      const auto& idx = tree.at("split_indices");
      const auto& cond = tree.at("split_conditions");
      const auto& dl = tree.at("default_left");
      const size_t n = left.size();
      if (right.size() != n || idx.size() != n || cond.size() != n || dl.size() != n) {
        return InvalidArgument("tree ensemble: tree " + std::to_string(t) + " has arrays of different lengths");
      }
      if (tree.contains("split_type")) {
        for (const auto& st : tree.at("split_type")) {
          if (st.get<int>() != 0) return InvalidArgument("tree ensemble: categorical splits are not supported");
        }
      }
      const uint32_t base = static_cast<uint32_t>(e.nodes_.size());
      for (size_t i = 0; i < n; ++i) {
        Node node;
        const int l = left[i].get<int>(), r = right[i].get<int>();
        node.left = l < 0 ? -1 : static_cast<int32_t>(base) + l;
        node.right = r < 0 ? -1 : static_cast<int32_t>(base) + r;
        node.feature = idx[i].get<uint32_t>();
        node.value = cond[i].get<float>();
        node.default_left = dl[i].get<int>() != 0;
        // Children come after their parent in XGBoost's layout; requiring it also rules out cycles.
        if (node.left >= 0 && (node.feature >= static_cast<uint32_t>(e.num_features_) || l <= static_cast<int>(i) ||
                               l >= static_cast<int>(n) || r <= static_cast<int>(i) || r >= static_cast<int>(n))) {
          return InvalidArgument("tree ensemble: tree " + std::to_string(t) + " has an invalid node " + std::to_string(i));
        }
        e.nodes_.push_back(node);
      }
      e.roots_.push_back(base);
      const int target = info[t].get<int>();
      if (target < 0 || target >= e.num_targets_) return InvalidArgument("tree ensemble: tree_info out of range");
      e.targets_.push_back(static_cast<uint32_t>(target));
    }
  } catch (const nlohmann::json::exception& ex) {
    return InvalidArgument(std::string("tree ensemble: ") + ex.what());
  }
  return e;
}

void TreeEnsemble::Predict(const float* row, float* out) const {
  for (int k = 0; k < num_targets_; ++k) out[k] = 0;
  const Node* nodes = nodes_.data();
  for (size_t t = 0; t < roots_.size(); ++t) {
    const Node* n = nodes + roots_[t];
    while (n->left >= 0) {
      const float v = row[n->feature];
      const bool go_left = std::isnan(v) ? n->default_left : v < n->value;
      n = nodes + (go_left ? n->left : n->right);
    }
    out[targets_[t]] += n->value;
  }
  for (int k = 0; k < num_targets_; ++k) out[k] += base_score_;
}

}  // namespace prescient::model
