#include "model/tree_ensemble.h"

#include <gtest/gtest.h>

#include <cmath>

#include "analysis/featurize.h"
#include "model/xgb.h"

namespace prescient::model {
namespace {

// The fast path must agree with XGBoost itself on real feature rows (with their NaNs).
TEST(TreeEnsemble, MatchesXgboostOnRealRows) {
  auto h = analysis::ReadHistoryFile("src/model/testdata/real_runs.jsonl");
  ASSERT_TRUE(h.ok());
  analysis::SortByTime(&h->records);
  analysis::HistoryIndex index;
  const analysis::FeaturizedHistory fh = analysis::FeaturizeHistory(h->records, &index);
  const size_t n = fh.rows(), k = analysis::kNumTargets;
  std::vector<float> labels(n * k, 0.f);
  for (size_t i = 0; i < n; ++i) {
    for (size_t t = 0; t < k; ++t) {
      const double y = fh.y[i][t];
      labels[i * k + t] = std::isfinite(y) ? static_cast<float>(std::log1p(y)) : 0.f;
    }
  }
  auto d = DMatrix::FromDense(fh.x.data(), n, fh.cols);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->SetLabels(labels.data(), n, k).ok());
  auto b = Booster::Create(*d);
  ASSERT_TRUE(b.ok());
  for (auto [p, v] : {std::pair{"max_depth", "6"}, {"tree_method", "hist"}, {"nthread", "1"}, {"base_score", "0.25"}}) {
    ASSERT_TRUE(b->SetParam(p, v).ok());
  }
  for (int i = 0; i < 15; ++i) {
    std::vector<float> margin, g(n * k), hs(n * k, 1.f);
    ASSERT_TRUE(b->PredictMargin(*d, &margin).ok());
    for (size_t j = 0; j < n * k; ++j) g[j] = margin[j] - labels[j];
    ASSERT_TRUE(b->BoostOneIter(*d, &g, &hs).ok());
  }
  auto json = b->SaveJsonToBuffer();
  ASSERT_TRUE(json.ok());
  auto e = TreeEnsemble::FromJson(*json);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->num_targets(), static_cast<int>(k));
  EXPECT_EQ(e->num_trees(), 15 * k);
  std::vector<float> ours(k), theirs;
  double max_diff = 0;
  for (size_t i = 0; i < n; ++i) {
    e->Predict(fh.row(i), ours.data());
    ASSERT_TRUE(b->PredictRow(fh.row(i), fh.cols, &theirs).ok());
    ASSERT_EQ(theirs.size(), k);
    for (size_t t = 0; t < k; ++t) max_diff = std::max(max_diff, static_cast<double>(std::fabs(ours[t] - theirs[t])));
  }
  EXPECT_LT(max_diff, 1e-4);
}

TEST(TreeEnsemble, RejectsMalformedModels) {
  EXPECT_FALSE(TreeEnsemble::FromJson("{}").ok());
  EXPECT_FALSE(TreeEnsemble::FromJson("not json").ok());
  // A child pointing back to its parent would loop forever: refused.
  const char* cyclic = R"({"learner":{"learner_model_param":{"base_score":"0","num_feature":"1","num_target":"1"},
    "gradient_booster":{"name":"gbtree","model":{"tree_info":[0],"trees":[{"left_children":[0,-1],
    "right_children":[1,-1],"split_indices":[0,0],"split_conditions":[0.5,1.0],"default_left":[0,0]}]}}}})";
  EXPECT_FALSE(TreeEnsemble::FromJson(cyclic).ok());
}

}  // namespace
}  // namespace prescient::model
