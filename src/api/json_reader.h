// Internal to src/api: a reader over one JSON object that records every problem as a FieldError
// with its full path instead of throwing. Used only by the codec files.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta.h"

namespace prescient::api::internal {

using nlohmann::json;

class ObjectReader {
 public:
  // `known` lists the accepted keys; with `strict`, any other key is reported as unknown.
  // A value that is not an object is reported (unless null/absent, which reads as empty).
  ObjectReader(const json* j, std::string path, FieldErrors* errors, std::initializer_list<const char*> known,
               bool strict);

  bool ok() const { return obj_ != nullptr; }
  bool Has(const char* key) const;  // present and not null
  std::string PathOf(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  const json* Child(const char* key) const;  // nullptr when absent or null

  std::optional<std::string> String(const char* key);
  std::optional<int64_t> Int(const char* key);
  std::optional<int32_t> Int32(const char* key);
  std::optional<double> Number(const char* key);
  std::optional<bool> Bool(const char* key);
  // Kubernetes quantities (integer or string matching the quantity pattern).
  std::optional<int64_t> CpuMilli(const char* key);
  std::optional<int64_t> Bytes(const char* key);
  std::optional<Time> Timestamp(const char* key);
  std::optional<std::vector<std::string>> StringList(const char* key);
  std::optional<std::map<std::string, std::string>> StringMap(const char* key);
  // An array: calls `each(element, path)` for every element.
  template <typename F>
  void Array(const char* key, F each) {
    const json* a = Child(key);
    if (a == nullptr) return;
    if (!a->is_array()) {
      Error(PathOf(key), "must be a list");
      return;
    }
    for (size_t i = 0; i < a->size(); ++i) each((*a)[i], PathOf(key) + "[" + std::to_string(i) + "]");
  }
  void Error(std::string path, std::string message) { errors_->push_back({std::move(path), std::move(message)}); }
  FieldErrors* errors() const { return errors_; }

 private:
  std::optional<int64_t> Quantity(const char* key, bool milli);
  const json* obj_ = nullptr;
  std::string path_;
  FieldErrors* errors_;
};

// The quantity pattern of the CRDs (no leading minus).
bool MatchesQuantityPattern(const std::string& text);

// Decoders and encoders of pieces both resources share (meta_json.cc).
}  // namespace prescient::api::internal
namespace prescient::api {
struct Target;
struct ResourceAmounts;
struct Dependency;
}  // namespace prescient::api
namespace prescient::api::internal {
void DecodeTarget(const json* j, const std::string& path, FieldErrors* errors, api::Target* out);
json EncodeTarget(const api::Target& t);
// `with_network`: whether the `network` key is accepted (bounds) or not (reservation sizes).
void DecodeAmounts(const json* j, const std::string& path, FieldErrors* errors, bool with_network,
                   api::ResourceAmounts* out);
json EncodeAmounts(const api::ResourceAmounts& a);
std::vector<api::Dependency> DecodeDependencies(ObjectReader& r, const char* key);
json EncodeDependencies(const std::vector<api::Dependency>& deps);

}  // namespace prescient::api::internal
