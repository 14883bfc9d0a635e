#include "model/xgb.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <cstdio>

namespace prescient::model {
namespace {

Status XgbError(const char* what) { return InternalError(std::string("xgboost ") + what + ": " + XGBGetLastError()); }

std::string ArrayInterface(const float* data, size_t rows, size_t cols) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "{\"data\":[%llu,true],\"shape\":[%zu,%zu],\"typestr\":\"<f4\",\"version\":3}",
                static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(data)), rows, cols);
  return buf;
}

// 1.7.4 requires cache_id 0 for inplace prediction; nthread comes from the booster.
constexpr const char* kDenseConfig =
    "{\"type\":0,\"training\":false,\"iteration_begin\":0,\"iteration_end\":0,\"strict_shape\":false,"
    "\"cache_id\":0,\"missing\":NaN}";

}  // namespace

Result<DMatrix> DMatrix::FromDense(const float* data, size_t rows, size_t cols) {
  DMatrixHandle h = nullptr;
  if (XGDMatrixCreateFromMat(data, rows, cols, NAN, &h) != 0) return XgbError("DMatrix create");
  return DMatrix(h);
}

DMatrix& DMatrix::operator=(DMatrix&& o) noexcept {
  if (this != &o) {
    if (h_) XGDMatrixFree(h_);
    h_ = o.h_;
    o.h_ = nullptr;
  }
  return *this;
}

DMatrix::~DMatrix() {
  if (h_) XGDMatrixFree(h_);
}

Status DMatrix::SetLabels(const float* labels, size_t rows, size_t k) {
  const std::string iface = ArrayInterface(labels, rows, k);
  if (XGDMatrixSetInfoFromInterface(h_, "label", iface.c_str()) != 0) return XgbError("set labels");
  return Status::Ok();
}

Result<Booster> Booster::Create(const DMatrix& train) {
  BoosterHandle h = nullptr;
  DMatrixHandle d = train.handle();
  if (XGBoosterCreate(&d, 1, &h) != 0) return XgbError("booster create");
  return Booster(h);
}

Result<Booster> Booster::LoadFromBuffer(const std::string& bytes) {
  BoosterHandle h = nullptr;
  if (XGBoosterCreate(nullptr, 0, &h) != 0) return XgbError("booster create");
  Booster b(h);
  if (XGBoosterLoadModelFromBuffer(h, bytes.data(), bytes.size()) != 0) return XgbError("load model");
  return b;
}

Booster& Booster::operator=(Booster&& o) noexcept {
  if (this != &o) {
    if (h_) XGBoosterFree(h_);
    h_ = o.h_;
    o.h_ = nullptr;
  }
  return *this;
}

Booster::~Booster() {
  if (h_) XGBoosterFree(h_);
}

Status Booster::SetParam(const std::string& name, const std::string& value) {
  if (XGBoosterSetParam(h_, name.c_str(), value.c_str()) != 0) return XgbError(("set " + name).c_str());
  return Status::Ok();
}

Status Booster::PredictMargin(const DMatrix& m, std::vector<float>* out) const {
  bst_ulong len = 0;
  const float* p = nullptr;
  // option_mask 1 = output margin; training = 1 keeps the prediction cache of the training matrix.
  if (XGBoosterPredict(h_, m.handle(), 1, 0, 1, &len, &p) != 0) return XgbError("predict");
  out->assign(p, p + len);
  return Status::Ok();
}

Status Booster::BoostOneIter(const DMatrix& train, std::vector<float>* grad, std::vector<float>* hess) {
  if (XGBoosterBoostOneIter(h_, train.handle(), grad->data(), hess->data(), grad->size()) != 0) {
    return XgbError("boost one iteration");
  }
  return Status::Ok();
}

Status Booster::PredictRow(const float* row, size_t cols, std::vector<float>* out) const {
  const std::string iface = ArrayInterface(row, 1, cols);
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  if (XGBoosterPredictFromDense(h_, iface.c_str(), kDenseConfig, nullptr, &shape, &dim, &result) != 0) {
    return XgbError("predict row");
  }
  size_t n = 1;
  for (bst_ulong i = 0; i < dim; ++i) n *= shape[i];
  out->assign(result, result + n);
  return Status::Ok();
}

Status Booster::Contributions(const float* row, size_t cols, std::vector<float>* out, size_t* k) const {
  auto m = DMatrix::FromDense(row, 1, cols);
  if (!m.ok()) return m.status();
  const char* config =
      "{\"type\":2,\"training\":false,\"iteration_begin\":0,\"iteration_end\":0,\"strict_shape\":true}";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  if (XGBoosterPredictFromDMatrix(h_, m->handle(), config, &shape, &dim, &result) != 0) {
    return XgbError("predict contributions");
  }
  if (dim != 3 || shape[2] != cols + 1) return InternalError("xgboost contributions: unexpected shape");
  *k = shape[1];
  out->assign(result, result + shape[0] * shape[1] * shape[2]);
  return Status::Ok();
}

Result<std::string> Booster::SaveToBuffer() const {
  bst_ulong len = 0;
  const char* data = nullptr;
  if (XGBoosterSaveModelToBuffer(h_, "{\"format\":\"ubj\"}", &len, &data) != 0) return XgbError("save model");
  return std::string(data, len);
}

Result<std::string> Booster::SaveJsonToBuffer() const {
  bst_ulong len = 0;
  const char* data = nullptr;
  if (XGBoosterSaveModelToBuffer(h_, "{\"format\":\"json\"}", &len, &data) != 0) return XgbError("save model");
  return std::string(data, len);
}

Result<int> Booster::NumFeatures() const {
  bst_ulong n = 0;
  if (XGBoosterGetNumFeature(h_, &n) != 0) return XgbError("num features");
  return static_cast<int>(n);
}

Result<int> Booster::BoostedRounds() const {
  int n = 0;
  if (XGBoosterBoostedRounds(h_, &n) != 0) return XgbError("boosted rounds");
  return n;
}

}  // namespace prescient::model
