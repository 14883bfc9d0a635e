#include "model/model_metadata.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "analysis/feature_vector.h"

namespace prescient::model {
namespace {

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

const char* PrescientVersion() { return "prescient 0.1.0"; }

nlohmann::json MetadataToJson(const ModelMetadata& m) {
  using nlohmann::json;
  json targets = json::object();
  for (int t = 0; t < kNumTargets; ++t) {
    const TargetCalibration& c = m.calibration[static_cast<size_t>(t)];
    targets[m.targets[static_cast<size_t>(t)]] = {
        {"quantile", m.quantiles[t]},
        {"global_prior_log", c.global_prior_log},
        {"train_rows", c.train_rows},
        {"train_max", c.train_max},
        {"calibration_rows", c.calibration_rows},
        {"conformal_offset_log", {{"unseen", c.offset[0]}, {"seen", c.offset[1]}}},
        {"conformal_rows", {{"unseen", c.offset_rows[0]}, {"seen", c.offset_rows[1]}}},
        {"calibration_coverage", c.coverage},
        {"calibration_pinball_log", c.pinball_log},
    };
  }
  json target_order = json::array();
  for (const std::string& t : m.targets) target_order.push_back(t);
  return json{
      {"format", m.format},
      {"prescient_version", m.prescient_version},
      {"model_version", m.model_version},
      {"feature_schema", {{"version", m.feature_schema_version}, {"hash", m.feature_schema_hash},
                          {"num_features", m.num_features}, {"names", analysis::FeatureNames()}}},
      {"target_order", target_order},
      {"targets", targets},
      {"training", {{"data_hash", m.training_data_hash}, {"rows", m.rows}, {"train_rows", m.train_rows},
                    {"calibration_rows", m.calibration_rows}, {"first_time", m.first_time},
                    {"last_time", m.last_time}, {"seed", m.seed}, {"rounds", m.rounds},
                    {"max_depth", m.max_depth}, {"eta", m.eta},
                    {"calibration_fraction", m.calibration_fraction},
                    {"objective", "pinball (custom gradient, XGBoosterBoostOneIter) on log1p targets minus the history prior"},
                    {"calibration", "split conformal, time-ordered, per history group (signature seen / unseen)"},
                    {"seconds", m.training_seconds}}},
      {"created", m.created},
  };
}

Result<ModelMetadata> MetadataFromJson(const nlohmann::json& j) {
  ModelMetadata m;
  try {
    m.format = j.at("format").get<std::string>();
    if (m.format != kModelFormat) {
      return InvalidArgument("metadata.json: format \"" + m.format + "\" is not " + kModelFormat);
    }
    m.prescient_version = j.value("prescient_version", "");
    m.model_version = j.value("model_version", "");
    const auto& fs = j.at("feature_schema");
    m.feature_schema_version = fs.at("version").get<std::string>();
    m.feature_schema_hash = fs.at("hash").get<std::string>();
    m.num_features = fs.at("num_features").get<int64_t>();
    const auto& order = j.at("target_order");
    if (!order.is_array() || order.size() != kNumTargets) {
      return InvalidArgument("metadata.json: target_order must list " + std::to_string(kNumTargets) + " targets");
    }
    for (int t = 0; t < kNumTargets; ++t) {
      const size_t ti = static_cast<size_t>(t);
      m.targets[ti] = order[ti].get<std::string>();
      const auto& tj = j.at("targets").at(m.targets[ti]);
      TargetCalibration& c = m.calibration[ti];
      m.quantiles[t] = tj.at("quantile").get<double>();
      c.global_prior_log = tj.at("global_prior_log").get<double>();
      c.train_rows = tj.at("train_rows").get<int64_t>();
      c.train_max = tj.value("train_max", 0.0);
      c.calibration_rows = tj.at("calibration_rows").get<int64_t>();
      c.offset[0] = tj.at("conformal_offset_log").at("unseen").get<double>();
      c.offset[1] = tj.at("conformal_offset_log").at("seen").get<double>();
      c.offset_rows[0] = tj.at("conformal_rows").at("unseen").get<int64_t>();
      c.offset_rows[1] = tj.at("conformal_rows").at("seen").get<int64_t>();
      c.coverage = tj.value("calibration_coverage", 0.0);
      c.pinball_log = tj.value("calibration_pinball_log", 0.0);
    }
    const auto& tr = j.at("training");
    m.training_data_hash = tr.at("data_hash").get<std::string>();
    m.rows = tr.at("rows").get<int64_t>();
    m.train_rows = tr.at("train_rows").get<int64_t>();
    m.calibration_rows = tr.at("calibration_rows").get<int64_t>();
    m.first_time = tr.value("first_time", "");
    m.last_time = tr.value("last_time", "");
    m.seed = tr.value("seed", uint64_t{0});
    m.rounds = tr.value("rounds", 0);
    m.max_depth = tr.value("max_depth", 0);
    m.eta = tr.value("eta", 0.0);
    m.calibration_fraction = tr.value("calibration_fraction", 0.0);
    m.training_seconds = tr.value("seconds", 0.0);
    m.created = j.value("created", "");
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("metadata.json: ") + e.what());
  }
  return m;
}

Status CheckCompatible(const ModelMetadata& m, const std::string& where) {
  const std::string ours = analysis::kFeatureSchemaVersion;
  const int64_t cols = static_cast<int64_t>(analysis::FeatureCount());
  if (m.feature_schema_version != ours || m.num_features != cols) {
    return InvalidArgument("model at " + where + " uses feature schema " + m.feature_schema_version + " (" +
                           std::to_string(m.num_features) + " columns) but this build of prescient uses " + ours +
                           " (" + std::to_string(cols) + " columns); retrain it with `prescient train`");
  }
  if (m.feature_schema_hash != Hex(analysis::FeatureSchemaHash())) {
    return InvalidArgument("model at " + where + " has feature schema hash " + m.feature_schema_hash +
                           " but this build has " + Hex(analysis::FeatureSchemaHash()) + " for " + ours +
                           " (column names differ); retrain it with `prescient train`");
  }
  for (int t = 0; t < kNumTargets; ++t) {
    if (m.targets[static_cast<size_t>(t)] != analysis::TargetName(t)) {
      return InvalidArgument("model at " + where + " predicts target \"" + m.targets[static_cast<size_t>(t)] +
                             "\" in column " + std::to_string(t) + " where this build expects \"" +
                             analysis::TargetName(t) + "\"");
    }
    if (!(m.quantiles[t] > 0 && m.quantiles[t] < 1)) {
      return InvalidArgument("model at " + where + ": quantile for " + analysis::TargetName(t) + " is not in (0, 1)");
    }
  }
  return Status::Ok();
}

std::string FeatureSchemaHashHex() { return Hex(analysis::FeatureSchemaHash()); }

}  // namespace prescient::model
