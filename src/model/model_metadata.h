// metadata.json of a saved model directory: what the booster expects (feature-schema version,
// hash and width, targets), what it promises (quantile per target, conformal offsets), how it was
// made (training-data hash, row counts, seed, parameters, time range) and how well it did on its
// calibration slice. Loading checks compatibility and names any mismatch. Plain value; JSON only in
// the (de)serialisers.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "common/status.h"
#include "model/resource_profile.h"

namespace prescient::model {

inline constexpr const char* kModelFormat = "prescient-model/v1";
// Version of the prescient code that wrote the model (the project version).
const char* PrescientVersion();

struct TargetCalibration {
  double global_prior_log = 0;   // log1p median of the target over training rows (prior when no history)
  int64_t train_rows = 0;        // rows where the target was measured
  double train_max = 0;          // largest measured value: bounds are capped at 2x this
  int64_t calibration_rows = 0;
  // Conformal offsets in log1p space, per history group (0: signature never seen, 1: seen).
  std::array<double, 2> offset{0, 0};
  std::array<int64_t, 2> offset_rows{0, 0};  // calibration rows in each group
  // Metrics on the calibration slice after the offset (in-sample for the offset, so optimistic).
  double coverage = 0;
  double pinball_log = 0;
};

struct ModelMetadata {
  std::string format = kModelFormat;
  std::string prescient_version;
  std::string model_version;            // short id: data hash + seed
  std::string feature_schema_version;
  std::string feature_schema_hash;      // hex
  int64_t num_features = 0;
  std::array<std::string, kNumTargets> targets;
  ResourceQuantiles quantiles;
  std::array<TargetCalibration, kNumTargets> calibration;
  std::string training_data_hash;       // hex FNV-1a over the training records
  int64_t rows = 0, train_rows = 0, calibration_rows = 0;
  std::string first_time, last_time;    // RFC 3339 range of the training history
  uint64_t seed = 0;
  int rounds = 0, max_depth = 0;
  double eta = 0, calibration_fraction = 0;
  double training_seconds = 0;
  std::string created;                  // RFC 3339
};

nlohmann::json MetadataToJson(const ModelMetadata& m);
Result<ModelMetadata> MetadataFromJson(const nlohmann::json& j);
// OK when this binary can use the model; otherwise names the mismatch, e.g. "model at DIR uses
// feature schema prescient-features/v0 (96 columns) but this build uses prescient-features/v1 ...".
Status CheckCompatible(const ModelMetadata& m, const std::string& where);
// This build's analysis::FeatureSchemaHash() as 16 hex digits.
std::string FeatureSchemaHashHex();

}  // namespace prescient::model
