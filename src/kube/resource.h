// A resource descriptor: which API endpoint serves a kind (group, version, plural resource), and
// whether it is namespaced. Plain values; the well-known built-in types the runtime itself needs
// (Lease, Event, Namespace) are defined here, custom resources next to their typed structs in src/api.
#pragma once

#include <string>

namespace prescient::kube {

struct ResourceType {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // plural, lower case: "commandruns"
  std::string kind;      // "CommandRun"
  bool namespaced = true;

  // "v1" or "prescient.dev/v1alpha1"
  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  // "commandruns.prescient.dev" (or "pods"), as the API names it in errors.
  std::string GroupResource() const { return group.empty() ? resource : resource + "." + group; }
  // The URL path: /api/v1/namespaces/<ns>/pods/<name>/<subresource>. An empty `ns` on a namespaced
  // type lists across all namespaces; empty `name` addresses the collection.
  std::string Path(const std::string& ns, const std::string& name = "", const std::string& subresource = "") const {
    std::string p = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
    if (namespaced && !ns.empty()) p += "/namespaces/" + ns;
    p += "/" + resource;
    if (!name.empty()) p += "/" + name;
    if (!name.empty() && !subresource.empty()) p += "/" + subresource;
    return p;
  }
};

namespace resources {
inline const ResourceType kLease{"coordination.k8s.io", "v1", "leases", "Lease", true};
inline const ResourceType kEvent{"", "v1", "events", "Event", true};
inline const ResourceType kNamespace{"", "v1", "namespaces", "Namespace", false};
inline const ResourceType kConfigMap{"", "v1", "configmaps", "ConfigMap", true};
inline const ResourceType kPod{"", "v1", "pods", "Pod", true};
inline const ResourceType kNode{"", "v1", "nodes", "Node", false};
}  // namespace resources

}  // namespace prescient::kube
