// Defaulting of built-in objects, as the real API server applies it when it decodes a request
// (k8s.io/api's SetDefaults_* functions): a Secret without a type is Opaque, a Service is ClusterIP
// with TCP ports, a pod spec gets its restart/DNS/scheduler/termination defaults, a PriorityClass
// preempts lower priorities, and so on. Only the defaults clients commonly read back are modelled;
// each is listed in builtin_defaults.cc.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace prescient::sim {

// Fills the defaults of a built-in object of `group`/`resource` in place; other resources and
// fields the request already set are left alone. Never fails: wrong types are left for validation.
void ApplyBuiltinDefaults(std::string_view group, std::string_view resource, nlohmann::json* obj);

}  // namespace prescient::sim
