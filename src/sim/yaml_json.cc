#include "sim/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <regex>

namespace prescient::sim {
namespace {

Status BadRequest(std::string m) { return Status(Code::kInvalidArgument, std::move(m)).WithHttp(400, "BadRequest"); }

nlohmann::json Scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return s;  // quoted
  static const std::regex kInt("^[-+]?(0|[1-9][0-9]*)$");
  static const std::regex kFloat("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$");
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (std::regex_match(s, kInt)) {
    try {
      return std::stoll(s);
    } catch (...) {
      return s;
    }
  }
  if (std::regex_match(s, kFloat)) {
    try {
      return std::stod(s);
    } catch (...) {
      return s;
    }
  }
  return s;
}

nlohmann::json Convert(const YAML::Node& n, int depth) {
  if (depth > 200) throw YAML::Exception(YAML::Mark::null_mark(), "nesting too deep");
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return Scalar(n);
    case YAML::NodeType::Sequence: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& e : n) a.push_back(Convert(e, depth + 1));
      return a;
    }
    case YAML::NodeType::Map: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& kv : n) {
        if (kv.first.Type() != YAML::NodeType::Scalar) {
          throw YAML::Exception(kv.first.Mark(), "map keys must be strings");
        }
        o[kv.first.Scalar()] = Convert(kv.second, depth + 1);
      }
      return o;
    }
  }
  return nullptr;
}

}  // namespace

Result<nlohmann::json> ParseJsonOrYaml(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  if (i < text.size() && (text[i] == '{' || text[i] == '[')) {
    // Bound the nesting (later recursive walks must not exhaust the stack on hostile input).
    int depth = 0;
    bool in_str = false;
    for (size_t k = i; k < text.size(); ++k) {
      char c = text[k];
      if (in_str) {
        if (c == '\\') ++k;
        else if (c == '"') in_str = false;
      } else if (c == '"') {
        in_str = true;
      } else if (c == '{' || c == '[') {
        if (++depth > 256) return BadRequest("error decoding JSON: nesting deeper than 256 levels");
      } else if (c == '}' || c == ']') {
        --depth;
      }
    }
    auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      // Locate the error for the message.
      try {
        auto again = nlohmann::json::parse(text);
        (void)again;
      } catch (const nlohmann::json::parse_error& e) {
        return BadRequest(std::string("error decoding JSON: ") + e.what());
      }
      return BadRequest("error decoding JSON");
    }
    return j;
  }
  try {
    YAML::Node n = YAML::Load(std::string(text));
    return Convert(n, 0);
  } catch (const YAML::Exception& e) {
    return BadRequest(std::string("error converting YAML to JSON: ") + e.what());
  }
}

}  // namespace prescient::sim
