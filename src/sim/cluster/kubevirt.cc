#include "sim/cluster/kubevirt.h"

#include <cmath>

namespace prescient::sim::cluster {

namespace {
constexpr int64_t kMi = 1LL << 20;

int IntAt(const Json& obj, const char* key, int fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer()) return fallback;
  return it->get<int>();
}
}  // namespace

Result<VmiShape> ShapeFromDomain(const Json& domain, const std::string& where) {
  VmiShape s;
  if (!domain.is_object()) return InvalidArgument(where + ": spec.domain is required");
  if (auto cpu = domain.find("cpu"); cpu != domain.end() && cpu->is_object()) {
    s.cpu.sockets = IntAt(*cpu, "sockets", 1);
    s.cpu.cores = IntAt(*cpu, "cores", 1);
    s.cpu.threads = IntAt(*cpu, "threads", 1);
    s.max_sockets = IntAt(*cpu, "maxSockets", 0);
    if (s.cpu.sockets < 1 || s.cpu.cores < 1 || s.cpu.threads < 1) {
      return InvalidArgument(where + ": domain.cpu sockets, cores and threads must be >= 1");
    }
  }
  if (auto res = domain.find("resources"); res != domain.end() && res->is_object()) {
    auto r = ParseResourceList(res->value("requests", Json()), where + ": domain.resources.requests");
    if (!r.ok()) return r.status();
    auto l = ParseResourceList(res->value("limits", Json()), where + ": domain.resources.limits");
    if (!l.ok()) return l.status();
    s.requests = *r;
    s.limits = *l;
  }
  if (auto mem = domain.find("memory"); mem != domain.end() && mem->is_object()) {
    if (mem->contains("guest")) {
      auto g = ParseAmount("memory", (*mem)["guest"]);
      if (!g.ok()) return InvalidArgument(where + ": domain.memory.guest: " + g.status().message());
      s.guest = *g;
    }
    if (mem->contains("maxGuest")) {
      auto g = ParseAmount("memory", (*mem)["maxGuest"]);
      if (!g.ok()) return InvalidArgument(where + ": domain.memory.maxGuest: " + g.status().message());
      s.max_guest = *g;
    }
  }
  if (s.guest == 0) {
    auto it = s.requests.find("memory");
    if (it == s.requests.end()) return InvalidArgument(where + ": domain.memory.guest or domain.resources.requests.memory is required");
    s.guest = it->second;
  }
  return s;
}

VmiShape WithHotplugDefaults(VmiShape s, const KubeVirtSettings& kv) {
  if (!kv.live_update) return s;
  if (s.max_sockets == 0) s.max_sockets = s.cpu.sockets * kv.max_hotplug_ratio;
  if (s.max_guest == 0) s.max_guest = s.guest * kv.max_hotplug_ratio;
  return s;
}

int64_t MemoryOverhead(const VmiShape& shape) {
  int64_t overhead = 220 * kMi;
  // One bit per 512 bytes of guest RAM for page tables (computed in KiB as KubeVirt does).
  overhead += (shape.guest / 1024 / 512) * 1024;
  overhead += 8 * kMi * shape.cpu.Vcpus();
  overhead += 8 * kMi;   // IOThread
  overhead += 32 * kMi;  // video RAM (autoattachGraphicsDevice defaults to true)
  return (overhead + kMi - 1) / kMi * kMi;
}

LauncherResources LauncherResourcesFor(const VmiShape& shape, const KubeVirtSettings& kv, LauncherLimits limits) {
  LauncherResources r;
  int64_t overhead = MemoryOverhead(shape);
  if (auto it = shape.requests.find("cpu"); it != shape.requests.end()) {
    r.requests["cpu"] = it->second;
  } else {
    r.requests["cpu"] = static_cast<int64_t>(std::ceil(shape.cpu.Vcpus() * 1000.0 / kv.cpu_allocation_ratio));
  }
  int64_t mem = shape.guest;
  if (auto it = shape.requests.find("memory"); it != shape.requests.end()) mem = it->second;
  r.requests["memory"] = mem + overhead;
  if (auto it = shape.limits.find("cpu"); it != shape.limits.end()) {
    r.limits["cpu"] = it->second;
  } else if (limits.cpu) {
    r.limits["cpu"] = shape.cpu.Vcpus() * 1000;  // AutoResourceLimits: one core per vCPU
  }
  if (auto it = shape.limits.find("memory"); it != shape.limits.end()) {
    r.limits["memory"] = it->second + overhead;
  } else if (limits.memory) {
    r.limits["memory"] = r.requests["memory"] * 2;  // AutoResourceLimits: limit = 2 × request
  }
  for (const char* d : {"devices.kubevirt.io/kvm", "devices.kubevirt.io/tun", "devices.kubevirt.io/vhost-net"}) {
    r.requests[d] = 1;
    r.limits[d] = 1;
  }
  if (r.limits.count("cpu") && r.limits["cpu"] < r.requests["cpu"]) r.requests["cpu"] = r.limits["cpu"];
  return r;
}

Json LauncherPodObject(const Json& vmi, const LauncherResources& res, const std::string& pod_name,
                       const std::string& migration_uid) {
  std::string vmi_name = Str(vmi, {"metadata", "name"});
  std::string uid = Str(vmi, {"metadata", "uid"});
  Labels labels = LabelsAt(vmi, {"metadata", "labels"});
  labels["kubevirt.io"] = "virt-launcher";
  labels["kubevirt.io/created-by"] = uid;
  labels["vm.kubevirt.io/name"] = vmi_name;
  if (!migration_uid.empty()) labels["kubevirt.io/migrationJobUID"] = migration_uid;
  Labels selector = LabelsAt(vmi, {"spec", "nodeSelector"});
  selector["kubevirt.io/schedulable"] = "true";
  Json spec = {{"nodeSelector", selector},
               {"restartPolicy", "Never"},
               {"schedulerName", "default-scheduler"},
               {"terminationGracePeriodSeconds", 30},
               {"automountServiceAccountToken", false},
               {"containers", Json::array({{{"name", "compute"},
                                            {"image", "quay.io/kubevirt/virt-launcher:v1.6.0"},
                                            {"command", Json::array({"/usr/bin/virt-launcher-monitor"})},
                                            {"resources",
                                             {{"requests", ResourceListToJson(res.requests)},
                                              {"limits", ResourceListToJson(res.limits)}}}}})}};
  std::string pc = Str(vmi, {"spec", "priorityClassName"});
  if (!pc.empty()) spec["priorityClassName"] = pc;
  if (const Json* tol = Find(vmi, {"spec", "tolerations"}); tol != nullptr && tol->is_array()) spec["tolerations"] = *tol;
  if (const Json* aff = Find(vmi, {"spec", "affinity"}); aff != nullptr) spec["affinity"] = *aff;
  Json owner = {{"apiVersion", "kubevirt.io/v1"}, {"kind", "VirtualMachineInstance"}, {"name", vmi_name},
                {"uid", uid}, {"controller", true}, {"blockOwnerDeletion", true}};
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", pod_name},
            {"namespace", Str(vmi, {"metadata", "namespace"})},
            {"labels", labels},
            {"annotations", {{"kubevirt.io/domain", vmi_name}, {"kubectl.kubernetes.io/default-container", "compute"}}},
            {"ownerReferences", Json::array({owner})}}},
          {"spec", spec}};
}

HotplugPlan PlanHotplug(const VmiShape& desired_in, const VmiHotplugState& vmi, bool live_update) {
  HotplugPlan p;
  const VmiShape& cur = vmi.spec;
  // A template without maxima keeps the ones KubeVirt defaulted into the VMI at start.
  VmiShape desired = desired_in;
  if (desired.max_sockets == 0) desired.max_sockets = cur.max_sockets;
  if (desired.max_guest == 0) desired.max_guest = cur.max_guest;
  auto restart = [&](const std::string& why) {
    if (p.restart_required.empty()) p.restart_required = why;
  };
  bool cpu_changed = desired.cpu.sockets != cur.cpu.sockets;
  bool mem_changed = desired.guest != cur.guest;
  if (desired.cpu.cores != cur.cpu.cores || desired.cpu.threads != cur.cpu.threads) {
    restart("a non-live-updatable field was changed in the template spec: domain.cpu cores/threads");
  }
  if (desired.max_sockets != cur.max_sockets) restart("a non-live-updatable field was changed in the template spec: domain.cpu.maxSockets");
  if (desired.max_guest != cur.max_guest) restart("a non-live-updatable field was changed in the template spec: domain.memory.maxGuest");
  if (desired.requests != cur.requests || desired.limits != cur.limits) {
    restart("a non-live-updatable field was changed in the template spec: domain.resources");
  }
  if (cpu_changed) {
    if (!live_update) {
      restart("vmRolloutStrategy is not LiveUpdate: CPU changes need a restart");
    } else if (desired.cpu.sockets < cur.cpu.sockets) {
      restart("CPU sockets cannot be unplugged live (" + std::to_string(cur.cpu.sockets) + " → " +
              std::to_string(desired.cpu.sockets) + ")");
    } else if (cur.max_sockets == 0 || desired.cpu.sockets > cur.max_sockets) {
      restart("CPU sockets " + std::to_string(desired.cpu.sockets) + " exceed maxSockets " + std::to_string(cur.max_sockets));
    } else if (vmi.cpu_in_flight || vmi.migrating) {
      p.cpu_waiting = true;
    } else {
      p.new_sockets = desired.cpu.sockets;
    }
  }
  if (mem_changed) {
    if (!live_update) {
      restart("vmRolloutStrategy is not LiveUpdate: memory changes need a restart");
    } else if (cur.max_guest == 0 || desired.guest > cur.max_guest) {
      restart("guest memory " + FormatAmount("memory", desired.guest) + " exceeds maxGuest " + FormatAmount("memory", cur.max_guest));
    } else if (desired.guest < vmi.guest_at_boot) {
      restart("guest memory " + FormatAmount("memory", desired.guest) + " is below the memory at boot " +
              FormatAmount("memory", vmi.guest_at_boot));
    } else if (desired.guest % (2LL << 20) != 0) {
      restart("guest memory must be 2Mi aligned for hotplug");
    } else if (vmi.memory_in_flight || vmi.migrating) {
      p.memory_waiting = true;
    } else {
      p.new_guest = desired.guest;
    }
  }
  return p;
}

}  // namespace prescient::sim::cluster
