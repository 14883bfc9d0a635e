// KubeVirt's controllers, simulated: VirtualMachinePool → VirtualMachines; VirtualMachine →
// VirtualMachineInstance (runStrategy) and live propagation of CPU sockets / guest memory
// (LiveUpdate) or RestartRequired; VirtualMachineInstance → virt-launcher pod, phase and status
// (currentCPUTopology, memory, conditions), and a workload-update migration when a hotplug is
// pending; VirtualMachineInstanceMigration → a target launcher pod that must pass quota admission
// and the scheduler, then the switch-over that completes the hotplug.
#include <algorithm>

#include "sim/cluster/controllers.h"
#include "sim/cluster/kubevirt.h"
#include "sim/cluster/quota.h"

namespace prescient::sim::cluster {

namespace {

const char* kTargetSocketsAnnotation = "prescient.dev/target-sockets";
const char* kTargetGuestAnnotation = "prescient.dev/target-guest";

bool IsDeleting(const Json& obj) { return Find(obj, {"metadata", "deletionTimestamp"}) != nullptr; }
std::string Ns(const Json& o) { return Str(o, {"metadata", "namespace"}); }
std::string Name(const Json& o) { return Str(o, {"metadata", "name"}); }
std::string Uid(const Json& o) { return Str(o, {"metadata", "uid"}); }
int64_t Generation(const Json& o) {
  const Json* g = Find(o, {"metadata", "generation"});
  return g != nullptr && g->is_number_integer() ? g->get<int64_t>() : 1;
}

Json OwnerRef(const Json& owner, const std::string& api_version, const std::string& kind) {
  return {{"apiVersion", api_version}, {"kind", kind}, {"name", Name(owner)}, {"uid", Uid(owner)},
          {"controller", true}, {"blockOwnerDeletion", true}};
}

bool OwnedBy(const Json& obj, const std::string& uid) {
  const Json* refs = Find(obj, {"metadata", "ownerReferences"});
  if (refs == nullptr || !refs->is_array()) return false;
  for (const auto& r : *refs) {
    if (r.value("uid", "") == uid) return true;
  }
  return false;
}

std::string RunStrategy(const Json& vm) {
  std::string rs = Str(vm, {"spec", "runStrategy"});
  if (!rs.empty()) return rs;
  const Json* running = Find(vm, {"spec", "running"});
  if (running != nullptr && running->is_boolean()) return running->get<bool>() ? "Always" : "Halted";
  return "Halted";
}

LauncherLimits LimitsFor(Context& ctx, const std::string& ns) {
  LauncherLimits l;
  auto quotas = ctx.store.List(gvr::kResourceQuotas, ns);
  if (!quotas.ok()) return l;
  for (const auto& q : quotas->items) {
    const Json* hard = Find(q, {"spec", "hard"});
    if (hard == nullptr || !hard->is_object()) continue;
    l.cpu = l.cpu || hard->contains("limits.cpu");
    l.memory = l.memory || hard->contains("limits.memory");
  }
  return l;
}

bool IsForbiddenByQuota(const Status& s) {
  return s.code() == Code::kForbidden && s.message().find("exceeded quota") != std::string::npos;
}

// Lists an object kind into "ns/name" → object.
std::map<std::string, Json> ListByKey(Context& ctx, const GroupVersionResource& r, Status* err) {
  std::map<std::string, Json> out;
  auto list = ctx.store.List(r, "");
  if (!list.ok()) {
    *err = list.status();
    return out;
  }
  for (auto& o : list->items) {
    std::string key = Ns(o) + "/" + Name(o);  // before the move: Json's operator= takes its argument by value
    out[key] = std::move(o);
  }
  return out;
}

bool MigrationActive(const Json& vmim) {
  std::string phase = Str(vmim, {"status", "phase"});
  return phase != "Succeeded" && phase != "Failed";
}

Json LabelSelectorString(const Json& selector) {
  std::string out;
  const Json* ml = Find(selector, {"matchLabels"});
  if (ml != nullptr && ml->is_object()) {
    for (const auto& [k, v] : ml->items()) {
      if (!out.empty()) out += ",";
      out += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    }
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
Status ReconcilePools(Context& ctx) {
  auto pools = ctx.store.List(ToGvr(kPools), "");
  if (!pools.ok()) return pools.status();
  if (pools->items.empty()) return Status::Ok();
  Status err;
  auto vms = ListByKey(ctx, ToGvr(kVirtualMachines), &err);
  if (!err.ok()) return err;
  Status first_error;
  for (const auto& pool : pools->items) {
    if (IsDeleting(pool)) continue;
    std::string ns = Ns(pool), name = Name(pool), uid = Uid(pool);
    int replicas = 1;
    if (const Json* r = Find(pool, {"spec", "replicas"}); r != nullptr && r->is_number_integer()) replicas = r->get<int>();
    bool paused = false;
    if (const Json* p = Find(pool, {"spec", "paused"}); p != nullptr && p->is_boolean()) paused = p->get<bool>();
    std::map<int, const Json*> owned;  // index → VM
    for (const auto& [key, vm] : vms) {
      if (Ns(vm) != ns || !OwnedBy(vm, uid)) continue;
      std::string vm_name = Name(vm);
      std::string prefix = name + "-";
      int idx = -1;
      if (vm_name.rfind(prefix, 0) == 0) {
        try {
          idx = std::stoi(vm_name.substr(prefix.size()));
        } catch (...) {
          idx = -1;
        }
      }
      owned[idx] = &vm;
    }
    if (!paused) {
      int have = 0;
      for (const auto& [idx, vm] : owned) {
        if (!IsDeleting(*vm)) ++have;
      }
      // Scale out: the lowest free indexes.
      for (int idx = 0; have < replicas; ++idx) {
        if (owned.count(idx)) continue;
        const Json* tmpl = Find(pool, {"spec", "virtualMachineTemplate"});
        if (tmpl == nullptr) break;
        std::string vm_name = name + "-" + std::to_string(idx);
        Json meta = tmpl->value("metadata", Json::object());
        if (!meta.is_object()) meta = Json::object();
        meta["name"] = vm_name;
        meta["namespace"] = ns;
        meta["ownerReferences"] = Json::array({OwnerRef(pool, "pool.kubevirt.io/v1beta1", "VirtualMachinePool")});
        Json vm = {{"apiVersion", "kubevirt.io/v1"}, {"kind", "VirtualMachine"}, {"metadata", meta},
                   {"spec", tmpl->value("spec", Json::object())}};
        auto r = ctx.store.Create(ToGvr(kVirtualMachines), ns, vm);
        if (r.ok()) {
          ctx.events.Record(pool, "Normal", "SuccessfulCreate", "Created VirtualMachine " + vm_name,
                            "virtualmachinepool-controller");
        } else if (r.status().code() != Code::kAlreadyExists) {
          if (first_error.ok()) first_error = r.status();
          ctx.events.Record(pool, "Warning", "FailedCreate", "Error creating VirtualMachine " + vm_name + ": " + r.status().message(),
                            "virtualmachinepool-controller");
          break;
        }
        ++have;
      }
      // Scale in: the highest indexes first.
      for (auto it = owned.rbegin(); it != owned.rend() && have > replicas; ++it) {
        if (IsDeleting(*it->second)) continue;
        auto r = ctx.store.Delete(ToGvr(kVirtualMachines), ns, Name(*it->second));
        if (r.ok()) {
          ctx.events.Record(pool, "Normal", "SuccessfulDelete", "Deleted VirtualMachine " + Name(*it->second),
                            "virtualmachinepool-controller");
          --have;
        }
      }
    }
    int current = 0, ready = 0;
    for (const auto& [idx, vm] : owned) {
      if (IsDeleting(*vm)) continue;
      ++current;
      const Json* r = Find(*vm, {"status", "ready"});
      if (r != nullptr && r->is_boolean() && r->get<bool>()) ++ready;
    }
    Json status = pool.value("status", Json::object());
    Json wanted = status;
    wanted["replicas"] = current;
    wanted["readyReplicas"] = ready;
    wanted["labelSelector"] = LabelSelectorString(pool["spec"].value("selector", Json::object()));
    if (wanted != status) {
      Json updated = pool;
      updated["status"] = wanted;
      auto r = ctx.store.UpdateStatus(ToGvr(kPools), ns, updated);
      if (!r.ok() && r.status().code() != Code::kConflict && first_error.ok()) first_error = r.status();
    }
  }
  return first_error;
}

// ---------------------------------------------------------------------------------------------
namespace {

Json VmiFromVm(const Json& vm, const KubeVirtSettings& kv) {
  Json tmpl = vm["spec"].value("template", Json::object());
  Json meta = tmpl.value("metadata", Json::object());
  if (!meta.is_object()) meta = Json::object();
  Json out_meta = Json::object();
  out_meta["name"] = Name(vm);
  out_meta["namespace"] = Ns(vm);
  if (meta.contains("labels")) out_meta["labels"] = meta["labels"];
  if (meta.contains("annotations")) out_meta["annotations"] = meta["annotations"];
  out_meta["labels"]["kubevirt.io/vm"] = Name(vm);
  out_meta["ownerReferences"] = Json::array({OwnerRef(vm, "kubevirt.io/v1", "VirtualMachine")});
  Json spec = tmpl.value("spec", Json::object());
  // KubeVirt's mutating webhook fills the CPU topology and, under LiveUpdate, the hotplug maxima.
  Json& domain = spec["domain"];
  if (!domain.is_object()) domain = Json::object();
  auto shape = ShapeFromDomain(domain, "virtualmachines/" + Name(vm));
  if (shape.ok()) {
    VmiShape s = WithHotplugDefaults(*shape, kv);
    domain["cpu"]["sockets"] = s.cpu.sockets;
    domain["cpu"]["cores"] = s.cpu.cores;
    domain["cpu"]["threads"] = s.cpu.threads;
    if (s.max_sockets > 0) domain["cpu"]["maxSockets"] = s.max_sockets;
    domain["memory"]["guest"] = FormatAmount("memory", s.guest);
    if (s.max_guest > 0) domain["memory"]["maxGuest"] = FormatAmount("memory", s.max_guest);
  }
  return {{"apiVersion", "kubevirt.io/v1"}, {"kind", "VirtualMachineInstance"}, {"metadata", out_meta}, {"spec", spec}};
}

std::string PrintableStatus(const Json* vmi, bool migrating, const std::string& run_strategy) {
  if (vmi == nullptr) return run_strategy == "Halted" ? "Stopped" : "Starting";
  if (IsDeleting(*vmi)) return "Stopping";
  std::string phase = Str(*vmi, {"status", "phase"});
  if (phase == "Running") return migrating ? "Migrating" : "Running";
  if (phase == "Succeeded") return "Stopped";
  if (phase == "Failed") return "CrashLoopBackOff";
  const Json* sched = FindCondition(*vmi, "PodScheduled");
  if (sched != nullptr && sched->value("status", "") == "False" && sched->value("reason", "") == "Unschedulable") {
    return "ErrorUnschedulable";
  }
  return "Starting";  // also while pod creation is refused (the VMI's Synchronized condition says why)
}

}  // namespace

Status ReconcileVirtualMachines(Context& ctx) {
  auto vms = ctx.store.List(ToGvr(kVirtualMachines), "");
  if (!vms.ok()) return vms.status();
  if (vms->items.empty()) return Status::Ok();
  Status err;
  auto vmis = ListByKey(ctx, ToGvr(kVirtualMachineInstances), &err);
  if (!err.ok()) return err;
  auto migrations = ListByKey(ctx, ToGvr(kMigrations), &err);
  if (!err.ok()) return err;
  std::set<std::string> migrating;  // ns/vmi with an active migration
  for (const auto& [key, m] : migrations) {
    if (MigrationActive(m)) migrating.insert(Ns(m) + "/" + Str(m, {"spec", "vmiName"}));
  }
  const KubeVirtSettings& kv = ctx.scenario.kubevirt;
  Status first_error;
  auto note = [&](const Status& s) {
    if (!s.ok() && s.code() != Code::kConflict && s.code() != Code::kNotFound && first_error.ok()) first_error = s;
  };
  for (const auto& vm : vms->items) {
    if (IsDeleting(vm)) continue;
    std::string ns = Ns(vm), name = Name(vm), key = ns + "/" + name, uid = Uid(vm);
    std::string rs = RunStrategy(vm);
    auto it = vmis.find(key);
    const Json* vmi = it == vmis.end() ? nullptr : &it->second;
    if (vmi != nullptr && !OwnedBy(*vmi, uid)) vmi = nullptr;  // someone else's VMI of that name: leave it
    std::string phase = vmi ? Str(*vmi, {"status", "phase"}) : "";
    bool should_run = rs == "Always" || rs == "RerunOnFailure" || (rs == "Once" && vmi == nullptr && !vm.contains("status"));
    if (vmi != nullptr && !IsDeleting(*vmi)) {
      bool finished = phase == "Succeeded" || phase == "Failed";
      if (rs == "Halted" || (finished && (rs == "Always" || (rs == "RerunOnFailure" && phase == "Failed")))) {
        auto r = ctx.store.Delete(ToGvr(kVirtualMachineInstances), ns, name);
        note(r.status());
        if (r.ok()) {
          ctx.events.Record(vm, "Normal", "SuccessfulDelete", "Stopped the virtual machine by deleting the virtual machine instance " + Uid(*vmi),
                            "virtualmachine-controller");
        }
        vmi = nullptr;
      }
    } else if (vmi == nullptr && should_run && it == vmis.end()) {
      auto r = ctx.store.Create(ToGvr(kVirtualMachineInstances), ns, VmiFromVm(vm, kv));
      note(r.status());
      if (r.ok()) {
        ctx.restart_required.erase(uid);
        ctx.events.Record(vm, "Normal", "SuccessfulCreate", "Started the virtual machine by creating the new virtual machine instance " + name,
                          "virtualmachine-controller");
        vmis[key] = *r;
        vmi = &vmis[key];
      }
    }

    // Live updates of a running VMI.
    std::string restart_message;
    if (vmi != nullptr && !IsDeleting(*vmi) && Str(*vmi, {"status", "phase"}) == "Running") {
      const Json* tdomain = Find(vm, {"spec", "template", "spec", "domain"});
      auto desired = tdomain ? ShapeFromDomain(*tdomain, "virtualmachines/" + name) : Result<VmiShape>(InvalidArgument("no domain"));
      auto current = ShapeFromDomain((*vmi)["spec"].value("domain", Json::object()), "virtualmachineinstances/" + name);
      if (desired.ok() && current.ok()) {
        VmiHotplugState st;
        st.spec = *current;
        if (const Json* g = Find(*vmi, {"status", "memory", "guestAtBoot"})) {
          auto v = ParseAmount("memory", *g);
          if (v.ok()) st.guest_at_boot = *v;
        }
        st.cpu_in_flight = ConditionTrue(*vmi, "HotVCPUChange");
        st.memory_in_flight = ConditionTrue(*vmi, "HotMemoryChange");
        st.migrating = migrating.count(key) > 0;
        HotplugPlan plan = PlanHotplug(*desired, st, kv.live_update);
        if (plan.new_sockets || plan.new_guest) {
          Json patch = {{"spec", {{"domain", Json::object()}}}};
          if (plan.new_sockets) patch["spec"]["domain"]["cpu"]["sockets"] = *plan.new_sockets;
          if (plan.new_guest) patch["spec"]["domain"]["memory"]["guest"] = FormatAmount("memory", *plan.new_guest);
          auto r = ctx.store.Patch(ToGvr(kVirtualMachineInstances), ns, name, PatchType::kMerge, patch.dump(), "");
          note(r.status());
          if (r.ok()) {
            ctx.logger.Info("hotplug propagated to the VMI", {{"namespace", ns}, {"name", name}, {"patch", patch}});
          }
        }
        if (!plan.restart_required.empty()) {
          ctx.restart_required[uid] = Uid(*vmi);
          restart_message = plan.restart_required;
        }
      }
    }
    bool restart_required = false;
    if (auto rr = ctx.restart_required.find(uid); rr != ctx.restart_required.end()) {
      if (vmi != nullptr && rr->second == Uid(*vmi)) {
        restart_required = true;
      } else {
        ctx.restart_required.erase(rr);
      }
    }

    // Status.
    Json updated = vm;
    Json& st = updated["status"];
    if (!st.is_object()) st = Json::object();
    std::string now = ctx.Timestamp();
    bool vmi_ready = vmi != nullptr && ConditionTrue(*vmi, "Ready");
    st["printableStatus"] = PrintableStatus(vmi, migrating.count(key) > 0, rs);
    st["ready"] = vmi_ready;
    st["created"] = vmi != nullptr;
    st["runStrategy"] = rs;
    st["desiredGeneration"] = Generation(vm);
    st["observedGeneration"] = Generation(vm);
    if (vmi != nullptr) {
      const Json* rc = FindCondition(*vmi, "Ready");
      SetCondition(updated, "Ready", vmi_ready ? "True" : "False", rc ? rc->value("reason", "") : "",
                   rc ? rc->value("message", "") : "", now);
      const Json* lm = FindCondition(*vmi, "LiveMigratable");
      if (lm != nullptr) SetCondition(updated, "LiveMigratable", lm->value("status", ""), lm->value("reason", ""), lm->value("message", ""), now);
    } else {
      SetCondition(updated, "Ready", "False", "VMINotExists", "VMI does not exist", now);
      RemoveCondition(updated, "LiveMigratable");
    }
    if (restart_required) {
      const Json* existing = FindCondition(updated, "RestartRequired");
      std::string msg = existing != nullptr && !restart_message.empty() && existing->value("status", "") == "True"
                            ? existing->value("message", restart_message)
                            : (restart_message.empty() && existing ? existing->value("message", "") : restart_message);
      SetCondition(updated, "RestartRequired", "True", "RestartRequired", msg, now);
    } else {
      RemoveCondition(updated, "RestartRequired");
    }
    if (updated["status"] != vm.value("status", Json())) {
      note(ctx.store.UpdateStatus(ToGvr(kVirtualMachines), ns, updated).status());
    }
  }
  return first_error;
}

// ---------------------------------------------------------------------------------------------
Status ReconcileVirtualMachineInstances(Context& ctx) {
  auto vmis = ctx.store.List(ToGvr(kVirtualMachineInstances), "");
  if (!vmis.ok()) return vmis.status();
  if (vmis->items.empty()) return Status::Ok();
  ListOptions launchers;
  launchers.label_selector = "kubevirt.io=virt-launcher";
  auto pods = ctx.store.List(gvr::kPods, "", launchers);
  if (!pods.ok()) return pods.status();
  std::map<std::string, std::vector<const Json*>> pods_by_vmi;  // VMI uid → launcher pods
  for (const auto& p : pods->items) {
    pods_by_vmi[Str(p, {"metadata", "labels", "kubevirt.io/created-by"})].push_back(&p);
  }
  Status err;
  auto migrations = ListByKey(ctx, ToGvr(kMigrations), &err);
  if (!err.ok()) return err;
  const KubeVirtSettings& kv = ctx.scenario.kubevirt;
  Status first_error;
  auto note = [&](const Status& s) {
    if (!s.ok() && s.code() != Code::kConflict && s.code() != Code::kNotFound && first_error.ok()) first_error = s;
  };
  for (const auto& vmi : vmis->items) {
    if (IsDeleting(vmi)) continue;
    std::string ns = Ns(vmi), name = Name(vmi), uid = Uid(vmi);
    auto shape_r = ShapeFromDomain(vmi["spec"].value("domain", Json::object()), "virtualmachineinstances/" + name);
    Json updated = vmi;
    Json& st = updated["status"];
    if (!st.is_object()) st = Json::object();
    std::string now = ctx.Timestamp();
    std::string phase = st.value("phase", "");
    auto set_phase = [&](const std::string& p) {
      if (st.value("phase", "") == p) return;
      st["phase"] = p;
      if (!st.contains("phaseTransitionTimestamps") || !st["phaseTransitionTimestamps"].is_array()) {
        st["phaseTransitionTimestamps"] = Json::array();
      }
      st["phaseTransitionTimestamps"].push_back({{"phase", p}, {"phaseTransitionTimestamp", now}});
    };
    if (!shape_r.ok()) {
      set_phase("Failed");
      st["reason"] = "InvalidSpec";
      SetCondition(updated, "Synchronized", "False", "InvalidSpec", shape_r.status().message(), now);
      if (updated != vmi) note(ctx.store.UpdateStatus(ToGvr(kVirtualMachineInstances), ns, updated).status());
      continue;
    }
    const VmiShape& shape = *shape_r;
    // What the agent inside the guest reads: always present from the first sync on.
    if (!st.contains("currentCPUTopology")) {
      st["currentCPUTopology"] = {{"sockets", shape.cpu.sockets}, {"cores", shape.cpu.cores}, {"threads", shape.cpu.threads}};
    }
    if (!st.contains("memory")) {
      std::string g = FormatAmount("memory", shape.guest);
      st["memory"] = {{"guestAtBoot", g}, {"guestCurrent", g}, {"guestRequested", g},
                      {"memoryOverhead", FormatAmount("memory", MemoryOverhead(shape))}};
    }
    const std::vector<const Json*>& mine = pods_by_vmi[uid];
    if (phase.empty() || phase == "Pending" || phase == "Scheduling" || phase == "Scheduled") {
      const Json* launcher = nullptr;
      for (const Json* p : mine) {
        if (Str(*p, {"metadata", "labels", "kubevirt.io/migrationJobUID"}).empty() && !PodIsTerminal(*p) && !IsDeleting(*p)) {
          launcher = p;
        }
      }
      if (launcher == nullptr) {
        set_phase("Pending");
        auto retry = ctx.create_retry_at.find(uid);
        if (retry == ctx.create_retry_at.end() || ctx.Now() >= retry->second) {
          LauncherResources res = LauncherResourcesFor(shape, kv, LimitsFor(ctx, ns));
          Json pod = LauncherPodObject(vmi, res, "virt-launcher-" + name + "-" + ctx.RandomSuffix(), "");
          auto r = ctx.store.Create(gvr::kPods, ns, pod);
          if (r.ok()) {
            ctx.create_retry_at.erase(uid);
            RemoveCondition(updated, "Synchronized");
            ctx.events.Record(vmi, "Normal", "SuccessfulCreate", "Created virtual machine pod " + Name(*r), "virtualmachine-controller");
          } else {
            SteadyTime next = ctx.Now() + std::max<std::chrono::nanoseconds>(ctx.Real(Millis(2000)), std::chrono::milliseconds(50));
            ctx.create_retry_at[uid] = next;
            ctx.WakeAt(next);
            SetCondition(updated, "Synchronized", "False", "FailedCreate", "Error creating pod: " + r.status().message(), now);
            ctx.events.Record(vmi, "Warning", "FailedCreate", "Error creating pod: " + r.status().message(), "virtualmachine-controller");
            if (!IsForbiddenByQuota(r.status())) note(r.status());
          }
        } else {
          ctx.WakeAt(retry->second);
        }
      } else if (Str(*launcher, {"spec", "nodeName"}).empty()) {
        set_phase("Scheduling");
        const Json* ps = FindCondition(*launcher, "PodScheduled");
        if (ps != nullptr && ps->value("status", "") == "False") {
          SetCondition(updated, "PodScheduled", "False", ps->value("reason", ""), ps->value("message", ""), now);
        }
        SetCondition(updated, "Ready", "False", "GuestNotRunning", "Guest VM is not reported as running", now);
      } else {
        std::string node = Str(*launcher, {"spec", "nodeName"});
        RemoveCondition(updated, "PodScheduled");
        st["nodeName"] = node;
        auto [bt, inserted] = ctx.launcher_bound_at.emplace(uid, ctx.Now());
        if (ctx.Elapsed(bt->second, kv.vmi_start_delay)) {
          set_phase("Running");
          ctx.launcher_bound_at.erase(uid);
          st["activePods"] = {{Uid(*launcher), node}};
          std::string ip = Str(*launcher, {"status", "podIP"});
          st["interfaces"] = Json::array({{{"name", "default"}, {"ipAddress", ip}, {"ipAddresses", Json::array({ip})},
                                           {"infoSource", "domain, guest-agent"}, {"interfaceName", "eth0"}}});
          st["launcherContainerImageVersion"] = "quay.io/kubevirt/virt-launcher:v1.6.0";
          st["qosClass"] = "Burstable";
          st["migrationMethod"] = "BlockMigration";
          st["currentCPUTopology"] = {{"sockets", shape.cpu.sockets}, {"cores", shape.cpu.cores}, {"threads", shape.cpu.threads}};
          std::string g = FormatAmount("memory", shape.guest);
          st["memory"] = {{"guestAtBoot", g}, {"guestCurrent", g}, {"guestRequested", g},
                          {"memoryOverhead", FormatAmount("memory", MemoryOverhead(shape))}};
          SetCondition(updated, "Ready", "True", "", "", now);
          SetCondition(updated, "LiveMigratable", "True", "", "", now);
          ctx.events.Record(vmi, "Normal", "Started", "VirtualMachineInstance started.", "virt-handler");
        } else {
          set_phase("Scheduled");
          SetCondition(updated, "Ready", "False", "GuestNotRunning", "Guest VM is not reported as running", now);
        }
      }
    } else if (phase == "Running") {
      // The active launcher pod must still be there.
      bool alive = false;
      if (const Json* ap = Find(vmi, {"status", "activePods"}); ap != nullptr && ap->is_object()) {
        for (const Json* p : mine) {
          if (ap->contains(Uid(*p)) && !PodIsTerminal(*p) && !IsDeleting(*p)) alive = true;
        }
      }
      if (!alive) {
        set_phase("Failed");
        st["reason"] = "PodTerminating";
        SetCondition(updated, "Ready", "False", "PodTerminating", "virt-launcher pod has terminated", now);
        ctx.events.Record(vmi, "Warning", "Stopped", "The VirtualMachineInstance crashed: its virt-launcher pod is gone.", "virt-handler");
      } else {
        int current_sockets = st["currentCPUTopology"].value("sockets", shape.cpu.sockets);
        if (shape.cpu.sockets != current_sockets) {
          SetCondition(updated, "HotVCPUChange", "True", "", "", now);
        } else {
          RemoveCondition(updated, "HotVCPUChange");
        }
        std::string requested = FormatAmount("memory", shape.guest);
        if (st["memory"].value("guestRequested", "") != requested) st["memory"]["guestRequested"] = requested;
        if (st["memory"].value("guestCurrent", "") != requested) {
          SetCondition(updated, "HotMemoryChange", "True", "", "", now);
        } else {
          RemoveCondition(updated, "HotMemoryChange");
        }
        bool pending_change = ConditionTrue(updated, "HotVCPUChange") || ConditionTrue(updated, "HotMemoryChange");
        bool in_flight = false;
        for (const auto& [k, m] : migrations) {
          if (Ns(m) == ns && Str(m, {"spec", "vmiName"}) == name && MigrationActive(m)) in_flight = true;
        }
        if (pending_change && !in_flight) {
          auto failed = ctx.migration_failed_at.find(uid);
          if (failed == ctx.migration_failed_at.end() || ctx.Elapsed(failed->second, kv.migration_retry_delay)) {
            std::string mname = "kubevirt-workload-update-" + ctx.RandomSuffix();
            Json vmim = {{"apiVersion", "kubevirt.io/v1"},
                         {"kind", "VirtualMachineInstanceMigration"},
                         {"metadata",
                          {{"name", mname},
                           {"namespace", ns},
                           {"labels", {{"kubevirt.io/vmi-name", name}}},
                           {"annotations", {{"kubevirt.io/workloadUpdateMigration", ""}}}}},
                         {"spec", {{"vmiName", name}}}};
            auto r = ctx.store.Create(ToGvr(kMigrations), ns, vmim);
            note(r.status());
            if (r.ok()) {
              ctx.migration_failed_at.erase(uid);
              ctx.logger.Info("workload-update migration created", {{"namespace", ns}, {"name", name}, {"migration", mname}});
            }
          }
        }
      }
    }
    if (updated != vmi) note(ctx.store.UpdateStatus(ToGvr(kVirtualMachineInstances), ns, updated).status());
  }
  return first_error;
}

// ---------------------------------------------------------------------------------------------
Status ReconcileMigrations(Context& ctx) {
  auto migrations = ctx.store.List(ToGvr(kMigrations), "");
  if (!migrations.ok()) return migrations.status();
  if (migrations->items.empty()) return Status::Ok();
  const KubeVirtSettings& kv = ctx.scenario.kubevirt;
  Status first_error;
  auto note = [&](const Status& s) {
    if (!s.ok() && s.code() != Code::kConflict && s.code() != Code::kNotFound && first_error.ok()) first_error = s;
  };
  for (const auto& m : migrations->items) {
    if (IsDeleting(m) || !MigrationActive(m)) continue;
    std::string ns = Ns(m), name = Name(m), uid = Uid(m), vmi_name = Str(m, {"spec", "vmiName"});
    Json updated = m;
    Json& st = updated["status"];
    if (!st.is_object()) st = Json::object();
    std::string now = ctx.Timestamp();
    auto set_phase = [&](const std::string& p) {
      if (st.value("phase", "") == p) return;
      st["phase"] = p;
      if (!st.contains("phaseTransitionTimestamps") || !st["phaseTransitionTimestamps"].is_array()) {
        st["phaseTransitionTimestamps"] = Json::array();
      }
      st["phaseTransitionTimestamps"].push_back({{"phase", p}, {"phaseTransitionTimestamp", now}});
    };
    auto fail = [&](const std::string& why) {
      set_phase("Failed");
      st["migrationState"]["failed"] = true;
      st["migrationState"]["failureReason"] = why;
      st["migrationState"]["endTimestamp"] = now;
      ctx.migration_bound_at.erase(uid);
      ctx.migration_created_at.erase(uid);
      ctx.events.Record(m, "Warning", "FailedMigration", why, "virt-controller");
    };
    auto vmi_r = ctx.store.Get(ToGvr(kVirtualMachineInstances), ns, vmi_name);
    if (!vmi_r.ok() || Str(*vmi_r, {"status", "phase"}) != "Running" || IsDeleting(*vmi_r)) {
      fail("VMI " + vmi_name + " is not running");
      note(ctx.store.UpdateStatus(ToGvr(kMigrations), ns, updated).status());
      continue;
    }
    const Json& vmi = *vmi_r;
    std::string vmi_uid = Uid(vmi);
    ListOptions sel;
    sel.label_selector = "kubevirt.io/created-by=" + vmi_uid;
    auto pods = ctx.store.List(gvr::kPods, ns, sel);
    if (!pods.ok()) return pods.status();
    const Json* target = nullptr;
    const Json* source = nullptr;
    const Json* active = Find(vmi, {"status", "activePods"});
    for (const auto& p : pods->items) {
      if (Str(p, {"metadata", "labels", "kubevirt.io/migrationJobUID"}) == uid) target = &p;
      if (active != nullptr && active->is_object() && active->contains(Uid(p))) source = &p;
    }
    if (st.value("phase", "").empty()) set_phase("Pending");
    std::string phase = st.value("phase", "");
    if (target == nullptr) {
      if (phase != "Pending") {
        fail("target virt-launcher pod disappeared");
      } else {
        auto retry = ctx.create_retry_at.find(uid);
        if (retry == ctx.create_retry_at.end() || ctx.Now() >= retry->second) {
          auto shape = ShapeFromDomain(vmi["spec"].value("domain", Json::object()), "virtualmachineinstances/" + vmi_name);
          if (!shape.ok()) {
            fail(shape.status().message());
          } else {
            LauncherResources res = LauncherResourcesFor(*shape, kv, LimitsFor(ctx, ns));
            Json pod = LauncherPodObject(vmi, res, "virt-launcher-" + vmi_name + "-" + ctx.RandomSuffix(), uid);
            pod["metadata"]["annotations"][kTargetSocketsAnnotation] = std::to_string(shape->cpu.sockets);
            pod["metadata"]["annotations"][kTargetGuestAnnotation] = FormatAmount("memory", shape->guest);
            auto r = ctx.store.Create(gvr::kPods, ns, pod);
            if (r.ok()) {
              ctx.create_retry_at.erase(uid);
              ctx.migration_created_at[uid] = ctx.Now();
              set_phase("Scheduling");
              st["migrationState"] = {{"migrationUid", uid},
                                      {"sourceNode", Str(vmi, {"status", "nodeName"})},
                                      {"sourcePod", source ? Name(*source) : ""},
                                      {"targetPod", Name(*r)},
                                      {"mode", "PreCopy"}};
              ctx.events.Record(vmi, "Normal", "SuccessfulCreate", "Created migration target pod " + Name(*r), "virt-controller");
            } else {
              SteadyTime next = ctx.Now() + std::max<std::chrono::nanoseconds>(ctx.Real(Millis(2000)), std::chrono::milliseconds(50));
              ctx.create_retry_at[uid] = next;
              ctx.WakeAt(next);
              if (IsForbiddenByQuota(r.status())) {
                // KubeVirt keeps the migration Pending with this condition and retries.
                SetCondition(updated, "migrationRejectedByResourceQuota", "True", "migrationRejectedByResourceQuota",
                             r.status().message(), now);
              } else {
                note(r.status());
              }
              ctx.events.Record(vmi, "Warning", "FailedCreate", "Error creating pod: " + r.status().message(), "virt-controller");
            }
          }
        } else {
          ctx.WakeAt(retry->second);
        }
      }
    } else if (PodIsTerminal(*target) || IsDeleting(*target)) {
      fail("target virt-launcher pod " + Name(*target) + " terminated");
    } else if (Str(*target, {"spec", "nodeName"}).empty()) {
      set_phase("Scheduling");
      auto [created, _] = ctx.migration_created_at.emplace(uid, ctx.Now());
      if (ctx.Elapsed(created->second, kv.migration_pending_timeout)) {
        note(ctx.store.Delete(gvr::kPods, ns, Name(*target)).status());
        fail("target pod " + Name(*target) + " stayed unschedulable: " +
             (FindCondition(*target, "PodScheduled") ? FindCondition(*target, "PodScheduled")->value("message", "") : ""));
        ctx.migration_failed_at[vmi_uid] = ctx.Now();
      }
    } else {
      std::string target_node = Str(*target, {"spec", "nodeName"});
      auto [bound, inserted] = ctx.migration_bound_at.emplace(uid, ctx.Now());
      if (phase == "Pending" || phase == "Scheduling") {
        set_phase("Scheduled");
        st["migrationState"]["targetNode"] = target_node;
      }
      Millis half(kv.migration_delay.count() / 2);
      if (ctx.Elapsed(bound->second, half) && st.value("phase", "") == "Scheduled") {
        set_phase("PreparingTarget");
        set_phase("TargetReady");
        set_phase("Running");
        st["migrationState"]["startTimestamp"] = now;
      }
      if (ctx.Elapsed(bound->second, kv.migration_delay)) {
        // The switch-over: the guest now runs in the target pod with the new topology.
        Json vmi_updated = vmi;
        Json& vs = vmi_updated["status"];
        auto ann = [&](const char* key) { return Str(*target, {"metadata", "annotations", key}); };
        int sockets = std::atoi(ann(kTargetSocketsAnnotation).c_str());
        if (sockets > 0) vs["currentCPUTopology"]["sockets"] = sockets;
        if (!ann(kTargetGuestAnnotation).empty()) vs["memory"]["guestCurrent"] = ann(kTargetGuestAnnotation);
        int spec_sockets = 1;
        if (const Json* s = Find(vmi, {"spec", "domain", "cpu", "sockets"}); s && s->is_number_integer()) spec_sockets = s->get<int>();
        if (vs["currentCPUTopology"].value("sockets", 0) == spec_sockets) RemoveCondition(vmi_updated, "HotVCPUChange");
        if (vs["memory"].value("guestCurrent", "") == vs["memory"].value("guestRequested", "")) {
          RemoveCondition(vmi_updated, "HotMemoryChange");
        }
        vs["nodeName"] = target_node;
        vs["activePods"] = {{Uid(*target), target_node}};
        std::string ip = Str(*target, {"status", "podIP"});
        if (!ip.empty()) {
          vs["interfaces"] = Json::array({{{"name", "default"}, {"ipAddress", ip}, {"ipAddresses", Json::array({ip})},
                                           {"infoSource", "domain, guest-agent"}, {"interfaceName", "eth0"}}});
        }
        Json ms = st["migrationState"];
        ms["targetNode"] = target_node;
        ms["completed"] = true;
        ms["endTimestamp"] = now;
        if (!ms.contains("startTimestamp")) ms["startTimestamp"] = now;
        vs["migrationState"] = ms;
        auto r = ctx.store.UpdateStatus(ToGvr(kVirtualMachineInstances), ns, vmi_updated);
        if (!r.ok()) {
          note(r.status());
          continue;  // retry the switch-over next pass
        }
        if (source != nullptr) note(ctx.store.Delete(gvr::kPods, ns, Name(*source)).status());
        st["migrationState"] = ms;
        set_phase("Succeeded");
        ctx.migration_bound_at.erase(uid);
        ctx.migration_created_at.erase(uid);
        ctx.events.Record(vmi, "Normal", "Migrated", "The VirtualMachineInstance migrated to node " + target_node + ".", "virt-handler");
        ctx.logger.Info("migration succeeded", {{"namespace", ns}, {"name", vmi_name}, {"migration", name}, {"node", target_node}});
      }
    }
    if (updated != m) note(ctx.store.UpdateStatus(ToGvr(kMigrations), ns, updated).status());
  }
  return first_error;
}

}  // namespace prescient::sim::cluster
