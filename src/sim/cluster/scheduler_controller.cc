// The scheduler and the simulated kubelets: binds Pending pods (highest priority first), preempts
// lower-priority pods when that makes room, marks the rest Unschedulable with the scheduler's
// message, runs bound pods (phase Running, Ready) and removes pods whose node is gone (pod GC).
#include <algorithm>

#include "sim/cluster/controllers.h"
#include "sim/cluster/scheduler.h"

namespace prescient::sim::cluster {

namespace {

bool IsDeleting(const Json& obj) { return Find(obj, {"metadata", "deletionTimestamp"}) != nullptr; }

Status MarkUnschedulable(Context& ctx, const Json& pod, const std::string& message) {
  Json updated = pod;
  bool changed = SetCondition(updated, "PodScheduled", "False", "Unschedulable", message, ctx.Timestamp());
  if (updated["status"].value("phase", "") != "Pending") {
    updated["status"]["phase"] = "Pending";
    changed = true;
  }
  if (!changed) return Status::Ok();
  auto r = ctx.store.UpdateStatus(gvr::kPods, Str(pod, {"metadata", "namespace"}), updated);
  if (r.ok()) ctx.events.Record(pod, "Warning", "FailedScheduling", message, "default-scheduler");
  return r.status();
}

// The kubelet's part: a bound pod starts (no images to pull here).
Status RunPod(Context& ctx, const Json& pod, const std::string& node_name) {
  if (Str(pod, {"status", "phase"}) == "Running") return Status::Ok();
  Json updated = pod;
  std::string now = ctx.Timestamp();
  Json& st = updated["status"];
  if (!st.is_object()) st = Json::object();
  st["phase"] = "Running";
  st["hostIP"] = "192.168.0." + std::to_string(std::hash<std::string>{}(node_name) % 200 + 10);
  if (!st.contains("podIP")) {
    std::string ip = ctx.NextPodIp();
    st["podIP"] = ip;
    st["podIPs"] = Json::array({{{"ip", ip}}});
  }
  st["startTime"] = now;
  st["qosClass"] = "Burstable";
  for (const char* c : {"PodScheduled", "Initialized", "ContainersReady", "Ready"}) {
    SetCondition(updated, c, "True", "", "", now);
  }
  // metav1-less pod conditions carry no reason when True; drop the empty fields we set.
  for (auto& c : updated["status"]["conditions"]) {
    if (c.value("reason", "").empty()) c.erase("reason");
    if (c.value("message", "").empty()) c.erase("message");
  }
  Json statuses = Json::array();
  if (const Json* containers = Find(pod, {"spec", "containers"}); containers != nullptr && containers->is_array()) {
    for (const auto& c : *containers) {
      statuses.push_back({{"name", c.value("name", "")},
                          {"image", c.value("image", "")},
                          {"ready", true},
                          {"started", true},
                          {"restartCount", 0},
                          {"state", {{"running", {{"startedAt", now}}}}}});
    }
  }
  st["containerStatuses"] = statuses;
  return ctx.store.UpdateStatus(gvr::kPods, Str(pod, {"metadata", "namespace"}), updated).status();
}

}  // namespace

Status ReconcileScheduler(Context& ctx) {
  auto nodes_list = ctx.store.List(gvr::kNodes, "");
  if (!nodes_list.ok()) return nodes_list.status();
  auto pods_list = ctx.store.List(gvr::kPods, "");
  if (!pods_list.ok()) return pods_list.status();

  std::vector<NodeInfo> nodes;
  std::set<std::string> node_names;
  for (const auto& n : nodes_list->items) {
    node_names.insert(Str(n, {"metadata", "name"}));
    if (IsDeleting(n)) continue;
    auto info = NodeInfoFromJson(n);
    if (info.ok()) nodes.push_back(*info);
  }

  Status first_error;
  auto note = [&](const Status& s) {
    if (!s.ok() && first_error.ok()) first_error = s;
  };
  std::vector<PodInfo> bound;
  std::vector<std::pair<PodInfo, const Json*>> pending;
  std::map<std::string, const Json*> by_key;
  for (const auto& p : pods_list->items) {
    if (PodIsTerminal(p)) continue;
    auto info = PodInfoFromJson(p);
    if (!info.ok()) continue;  // unparsable resources: a real scheduler would also never place it
    by_key[info->Key()] = &p;
    if (!info->node_name.empty()) {
      if (!node_names.count(info->node_name)) {
        // Pod GC: the node is gone.
        auto r = ctx.store.Delete(gvr::kPods, info->ns, info->name);
        if (!r.ok() && r.status().code() != Code::kNotFound) note(r.status());
        continue;
      }
      bound.push_back(*info);
      if (!IsDeleting(p)) note(RunPod(ctx, p, info->node_name));
      continue;
    }
    if (IsDeleting(p)) continue;
    std::string scheduler = Str(p, {"spec", "schedulerName"}, "default-scheduler");
    if (scheduler != "default-scheduler") continue;
    pending.emplace_back(*info, &p);
  }
  std::sort(pending.begin(), pending.end(), [](const auto& a, const auto& b) {
    if (a.first.priority != b.first.priority) return a.first.priority > b.first.priority;
    if (a.first.creation != b.first.creation) return a.first.creation < b.first.creation;
    return a.first.Key() < b.first.Key();
  });

  NodeUsage usage = UsageOf(bound);
  for (auto& [pod, obj] : pending) {
    ScheduleResult pick = PickNode(pod, nodes, usage);
    std::string node = pick.node;
    if (node.empty()) {
      Preemption pre = FindPreemption(pod, nodes, bound);
      if (!pre.node.empty()) {
        for (const auto& victim_key : pre.victims) {
          auto it = by_key.find(victim_key);
          if (it == by_key.end()) continue;
          const Json& victim = *it->second;
          ctx.events.Record(victim, "Normal", "Preempted",
                            "Preempted by pod " + Str(*obj, {"metadata", "uid"}) + " on node " + pre.node,
                            "default-scheduler");
          auto r = ctx.store.Delete(gvr::kPods, Str(victim, {"metadata", "namespace"}), Str(victim, {"metadata", "name"}));
          if (!r.ok() && r.status().code() != Code::kNotFound) note(r.status());
        }
        std::vector<PodInfo> kept;
        for (const auto& b : bound) {
          if (std::find(pre.victims.begin(), pre.victims.end(), b.Key()) == pre.victims.end()) kept.push_back(b);
        }
        bound = std::move(kept);
        usage = UsageOf(bound);
        node = pre.node;
        ctx.logger.Info("preempted pods", {{"namespace", pod.ns}, {"name", pod.name}, {"node", node},
                                           {"victims", pre.victims}});
      } else {
        std::string msg = pick.message;
        if (!nodes.empty()) {
          msg += " preemption: 0/" + std::to_string(nodes.size()) + " nodes are available: " +
                 std::to_string(nodes.size()) + " " +
                 (pod.preemption_never ? "Preemption is not allowed" : "Preemption is not helpful for scheduling") + ".";
        }
        note(MarkUnschedulable(ctx, *obj, msg));
        continue;
      }
    }
    auto r = ctx.store.BindPod(pod.ns, pod.name, node);
    if (!r.ok()) {
      if (r.status().code() != Code::kNotFound && r.status().code() != Code::kConflict) note(r.status());
      continue;
    }
    ctx.events.Record(*obj, "Normal", "Scheduled", "Successfully assigned " + pod.Key() + " to " + node,
                      "default-scheduler");
    pod.node_name = node;
    bound.push_back(pod);
    AddPodTo(usage, node, pod);
    note(RunPod(ctx, *r, node));
  }
  return first_error;
}

}  // namespace prescient::sim::cluster
