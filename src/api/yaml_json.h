// YAML to JSON for manifests (crds/, examples/, kubectl-style files): quoted scalars stay strings;
// plain scalars become booleans, integers, floats or null as YAML 1.2's core schema reads them.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "common/status.h"

namespace prescient::api {

nlohmann::json YamlToJson(const YAML::Node& node);
// Every document of a multi-document YAML file; errors name the file and line.
Result<std::vector<nlohmann::json>> LoadYamlDocuments(const std::string& path);

}  // namespace prescient::api
