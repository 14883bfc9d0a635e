// Thin RAII layer over the XGBoost 1.7.4 C API: a DMatrix from a dense float matrix (multi-column
// labels through the array interface), a Booster with custom-gradient boosting, dense single-row
// prediction (the `cache_id: 0` config 1.7.4 needs), per-feature contributions, and UBJSON
// save/load. Every failure returns a Status carrying XGBGetLastError().
// Thread-safety: a Booster is not safe for concurrent use; callers serialise (Predictor does).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace prescient::model {

class DMatrix {
 public:
  // rows x cols, row-major; NaN is missing.
  static Result<DMatrix> FromDense(const float* data, size_t rows, size_t cols);
  DMatrix(DMatrix&& o) noexcept : h_(o.h_) { o.h_ = nullptr; }
  DMatrix& operator=(DMatrix&& o) noexcept;
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  ~DMatrix();
  // rows x k labels, row-major (k > 1 trains one tree per target per round).
  Status SetLabels(const float* labels, size_t rows, size_t k);
  void* handle() const { return h_; }

 private:
  explicit DMatrix(void* h) : h_(h) {}
  void* h_ = nullptr;
};

class Booster {
 public:
  static Result<Booster> Create(const DMatrix& train);
  static Result<Booster> LoadFromBuffer(const std::string& bytes);
  Booster(Booster&& o) noexcept : h_(o.h_) { o.h_ = nullptr; }
  Booster& operator=(Booster&& o) noexcept;
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;
  ~Booster();

  Status SetParam(const std::string& name, const std::string& value);
  // Margin predictions for every row of `m` (rows x k), for the custom objective.
  Status PredictMargin(const DMatrix& m, std::vector<float>* out) const;
  Status BoostOneIter(const DMatrix& train, std::vector<float>* grad, std::vector<float>* hess);
  // One dense row of `cols` features -> k margins.
  Status PredictRow(const float* row, size_t cols, std::vector<float>* out) const;
  // Contributions of one row: k x (cols + 1) (last column is the bias), row-major.
  Status Contributions(const float* row, size_t cols, std::vector<float>* out, size_t* k) const;
  Result<std::string> SaveToBuffer() const;      // UBJSON
  Result<std::string> SaveJsonToBuffer() const;  // JSON (for TreeEnsemble)
  Result<int> NumFeatures() const;
  Result<int> BoostedRounds() const;

 private:
  explicit Booster(void* h) : h_(h) {}
  void* h_ = nullptr;
};

}  // namespace prescient::model
