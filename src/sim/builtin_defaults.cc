#include "sim/builtin_defaults.h"

#include <string>

namespace prescient::sim {
namespace {

using Json = nlohmann::json;

// Sets obj[key] = value when obj is an object without that key (or with a null there).
void Default(Json& obj, const char* key, Json value) {
  if (!obj.is_object()) return;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) obj[key] = std::move(value);
}

// Like Default, for string fields where upstream also treats "" as unset.
void DefaultString(Json& obj, const char* key, const char* value) {
  if (!obj.is_object()) return;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty())) obj[key] = value;
}

Json* Child(Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// Image without a tag or with ":latest" (and no digest): Always; otherwise IfNotPresent.
std::string PullPolicyFor(const std::string& image) {
  if (image.find('@') != std::string::npos) return "IfNotPresent";
  auto slash = image.rfind('/');
  auto colon = image.rfind(':');
  bool tagged = colon != std::string::npos && (slash == std::string::npos || colon > slash);
  if (!tagged) return "Always";
  return image.substr(colon + 1) == "latest" ? "Always" : "IfNotPresent";
}

void DefaultPorts(Json& owner) {
  Json* ports = Child(owner, "ports");
  if (!ports || !ports->is_array()) return;
  for (auto& p : *ports) DefaultString(p, "protocol", "TCP");
}

void DefaultContainers(Json& spec, const char* key) {
  Json* cs = Child(spec, key);
  if (!cs || !cs->is_array()) return;
  for (auto& c : *cs) {
    if (!c.is_object()) continue;
    DefaultString(c, "terminationMessagePath", "/dev/termination-log");
    DefaultString(c, "terminationMessagePolicy", "File");
    if (c.contains("image") && c["image"].is_string()) {
      DefaultString(c, "imagePullPolicy", PullPolicyFor(c["image"].get<std::string>()).c_str());
    }
    DefaultPorts(c);
  }
}

void DefaultPodSpec(Json* spec) {
  if (!spec || !spec->is_object()) return;
  DefaultString(*spec, "restartPolicy", "Always");
  DefaultString(*spec, "dnsPolicy", "ClusterFirst");
  DefaultString(*spec, "schedulerName", "default-scheduler");
  Default(*spec, "terminationGracePeriodSeconds", 30);
  Default(*spec, "securityContext", Json::object());
  Default(*spec, "enableServiceLinks", true);
  DefaultContainers(*spec, "initContainers");
  DefaultContainers(*spec, "containers");
}

void DefaultPodTemplateSpec(Json* tmpl) {
  if (tmpl && tmpl->is_object()) DefaultPodSpec(Child(*tmpl, "spec"));
}

void DefaultService(Json& svc) {
  Json* spec = Child(svc, "spec");
  if (!spec || !spec->is_object()) return;
  DefaultString(*spec, "type", "ClusterIP");
  const std::string type = (*spec)["type"].is_string() ? (*spec)["type"].get<std::string>() : "";
  DefaultString(*spec, "sessionAffinity", "None");
  if (type != "ExternalName") DefaultString(*spec, "internalTrafficPolicy", "Cluster");
  if (type == "NodePort" || type == "LoadBalancer") DefaultString(*spec, "externalTrafficPolicy", "Cluster");
  Json* ports = Child(*spec, "ports");
  if (ports && ports->is_array()) {
    for (auto& p : *ports) {
      if (!p.is_object()) continue;
      DefaultString(p, "protocol", "TCP");
      if (p.contains("port")) Default(p, "targetPort", p["port"]);
    }
  }
}

void DefaultDeployment(Json& d) {
  Json* spec = Child(d, "spec");
  if (!spec || !spec->is_object()) return;
  Default(*spec, "replicas", 1);
  Default(*spec, "revisionHistoryLimit", 10);
  Default(*spec, "progressDeadlineSeconds", 600);
  Default(*spec, "strategy", Json::object());
  Json& strategy = (*spec)["strategy"];
  if (strategy.is_object()) {
    DefaultString(strategy, "type", "RollingUpdate");
    if (strategy["type"] == "RollingUpdate") {
      Default(strategy, "rollingUpdate", Json::object());
      Default(strategy["rollingUpdate"], "maxUnavailable", "25%");
      Default(strategy["rollingUpdate"], "maxSurge", "25%");
    }
  }
  DefaultPodTemplateSpec(Child(*spec, "template"));
}

}  // namespace

void ApplyBuiltinDefaults(std::string_view group, std::string_view resource, nlohmann::json* obj) {
  if (!obj || !obj->is_object()) return;
  Json& o = *obj;
  if (group.empty()) {
    if (resource == "secrets") {
      DefaultString(o, "type", "Opaque");
    } else if (resource == "services") {
      DefaultService(o);
    } else if (resource == "pods") {
      DefaultPodSpec(Child(o, "spec"));
    } else if (resource == "podtemplates") {
      DefaultPodTemplateSpec(Child(o, "template"));
    }
  } else if (group == "scheduling.k8s.io" && resource == "priorityclasses") {
    DefaultString(o, "preemptionPolicy", "PreemptLowerPriority");
  } else if (group == "apps" && resource == "deployments") {
    DefaultDeployment(o);
  }
}

}  // namespace prescient::sim
