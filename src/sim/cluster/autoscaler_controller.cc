// The cluster-autoscaler, simulated: ProvisioningRequests (check-capacity books existing capacity
// for bookingTime; best-effort-atomic-scale-up adds nodes to one group all-or-nothing), scale-up
// for unschedulable pods at or above the expendable-priority cutoff (nodes appear after the
// group's scaleUpDelay), and removal of empty node-group nodes after scaleDownUnneededTime.
// Conditions and reasons are the upstream ones (provisioningrequest/conditions).
#include <algorithm>
#include <optional>
#include <set>

#include "sim/cluster/autoscaler.h"
#include "sim/cluster/controllers.h"

namespace prescient::sim::cluster {

namespace {

bool IsDeleting(const Json& obj) { return Find(obj, {"metadata", "deletionTimestamp"}) != nullptr; }
std::string Ns(const Json& o) { return Str(o, {"metadata", "namespace"}); }
std::string Name(const Json& o) { return Str(o, {"metadata", "name"}); }

const NodeGroupSpec* FindGroup(const Scenario& s, const std::string& name) {
  for (const auto& g : s.node_groups) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

std::string NextNodeName(const std::string& group, const std::set<std::string>& taken) {
  for (int i = 0;; ++i) {
    std::string n = group + "-" + std::to_string(i);
    if (!taken.count(n)) return n;
  }
}

constexpr const char* kAcceptedMsg = "ProvisioningRequest is accepted by ClusterAutoscaler";
constexpr const char* kCapacityFoundMsg = "Capacity is found in the cluster";
constexpr const char* kCapacityNotFoundMsg = "Capacity is not found, CA will try to find it later.";
constexpr const char* kBookingExpiredMsg = "Capacity reservation time is expired";
constexpr const char* kExpiredMsg = "ProvisioningRequest is expired";
// Upstream fails requests not provisioned within 7 days of creation (processors/provreq).
constexpr Millis kDefaultExpiration{7LL * 24 * 3600 * 1000};

// best-effort-atomic-scale-up's spec.parameters.ValidUntilSeconds: how long (since creation) CA
// keeps trying. nullopt when absent or not a non-negative integer.
std::optional<Millis> ValidUntil(const Json& pr) {
  std::string v = Str(pr, {"spec", "parameters", "ValidUntilSeconds"});
  if (v.empty() || v.size() > 12 || v.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return Millis(std::stoll(v) * 1000);
}

}  // namespace

Status ReconcileAutoscaler(Context& ctx) {
  const Scenario& sc = ctx.scenario;
  Status first_error;
  auto note = [&](const Status& s) {
    if (!s.ok() && s.code() != Code::kConflict && s.code() != Code::kNotFound && s.code() != Code::kAlreadyExists &&
        first_error.ok()) {
      first_error = s;
    }
  };

  // 1. Nodes whose provisioning delay has passed join the cluster.
  for (auto it = ctx.upcoming.begin(); it != ctx.upcoming.end();) {
    if (ctx.Now() < it->ready_at) {
      ctx.WakeAt(it->ready_at);
      ++it;
      continue;
    }
    const NodeGroupSpec* g = FindGroup(sc, it->group);
    if (g != nullptr) {
      auto r = ctx.store.Create(gvr::kNodes, "", NodeObject(g->node_template, it->name, g->name));
      note(r.status());
      if (r.ok()) {
        ctx.events.Record(*r, "Normal", "RegisteredNode", "Node " + it->name + " event: Registered Node " + it->name +
                                                                 " in Controller (node group " + g->name + ", " + it->reason + ")",
                          "cluster-autoscaler");
        ctx.logger.Info("node added", {{"name", it->name}, {"nodeGroup", g->name}, {"reason", it->reason}});
      }
    }
    it = ctx.upcoming.erase(it);
  }

  auto nodes_list = ctx.store.List(gvr::kNodes, "");
  if (!nodes_list.ok()) return nodes_list.status();
  auto pods_list = ctx.store.List(gvr::kPods, "");
  if (!pods_list.ok()) return pods_list.status();

  std::vector<NodeInfo> nodes;
  std::set<std::string> taken_names;
  std::map<std::string, int> group_size;
  std::map<std::string, const Json*> node_objs;
  for (const auto& n : nodes_list->items) {
    std::string name = Name(n);
    taken_names.insert(name);
    std::string group = Str(n, {"metadata", "labels", kNodeGroupLabel});
    if (!group.empty()) group_size[group]++;
    if (IsDeleting(n)) continue;
    auto info = NodeInfoFromJson(n);
    if (!info.ok()) continue;
    nodes.push_back(*info);
    node_objs[name] = &n;
  }
  for (const auto& u : ctx.upcoming) {
    taken_names.insert(u.name);
    group_size[u.group]++;
  }
  auto capacities = [&]() {
    std::vector<GroupCapacity> caps;
    for (const auto& g : sc.node_groups) caps.push_back({&g, group_size[g.name]});
    return caps;
  };
  auto add_nodes = [&](const std::string& group, int count, const std::string& reason) {
    const NodeGroupSpec* g = FindGroup(sc, group);
    for (int i = 0; i < count && g != nullptr; ++i) {
      UpcomingNode u;
      u.group = group;
      u.name = NextNodeName(group, taken_names);
      u.ready_at = ctx.Now() + std::chrono::duration_cast<SteadyTime::duration>(ctx.Real(g->scale_up_delay));
      u.reason = reason;
      taken_names.insert(u.name);
      group_size[group]++;
      ctx.WakeAt(u.ready_at);
      ctx.upcoming.push_back(u);
    }
  };

  std::vector<PodInfo> bound;
  std::vector<std::pair<PodInfo, const Json*>> unschedulable;
  std::map<std::string, int> consumed;  // ns/provreq name → pods consuming it
  for (const auto& p : pods_list->items) {
    if (PodIsTerminal(p)) continue;
    auto info = PodInfoFromJson(p);
    if (!info.ok()) continue;
    std::string consumes = Str(p, {"metadata", "annotations", "autoscaling.x-k8s.io/consume-provisioning-request"});
    if (!consumes.empty()) consumed[info->ns + "/" + consumes]++;
    if (!info->node_name.empty()) {
      bound.push_back(*info);
      continue;
    }
    if (IsDeleting(p)) continue;
    const Json* ps = FindCondition(p, "PodScheduled");
    if (ps != nullptr && ps->value("status", "") == "False" && ps->value("reason", "") == "Unschedulable") {
      unschedulable.emplace_back(*info, &p);
    }
  }
  NodeUsage usage = UsageOf(bound);
  NodeUsage booked_only;  // what bookings hold, per node (keeps nodes from scale-down)

  // 2. ProvisioningRequests, oldest first.
  auto prs = ctx.store.List(ToGvr(kProvisioningRequests), "");
  if (prs.ok() && !prs->items.empty()) {
    std::vector<const Json*> ordered;
    for (const auto& pr : prs->items) ordered.push_back(&pr);
    std::sort(ordered.begin(), ordered.end(), [](const Json* a, const Json* b) {
      return Str(*a, {"metadata", "creationTimestamp"}) < Str(*b, {"metadata", "creationTimestamp"});
    });
    for (const Json* prp : ordered) {
      const Json& pr = *prp;
      if (IsDeleting(pr)) continue;
      std::string cls = Str(pr, {"spec", "provisioningClassName"});
      if (cls != kCheckCapacityClass && cls != kAtomicScaleUpClass) continue;  // not ours to handle
      std::string ns = Ns(pr), name = Name(pr), uid = Str(pr, {"metadata", "uid"});
      auto [seen, seen_new] = ctx.provreq_seen_at.emplace(uid, ctx.Now());
      (void)seen_new;
      if (ConditionTrue(pr, "Failed") || ConditionTrue(pr, "BookingExpired") || ConditionTrue(pr, "CapacityRevoked")) {
        ctx.booked_at.erase(uid);
        ctx.booked_nodes.erase(uid);
        continue;
      }
      int64_t gen = 1;
      if (const Json* g = Find(pr, {"metadata", "generation"}); g && g->is_number_integer()) gen = g->get<int64_t>();
      std::string now = ctx.Timestamp();
      Json updated = pr;
      SetCondition(updated, "Accepted", "True", "Accepted", kAcceptedMsg, now, gen);

      std::vector<PodInfo> pods;
      std::string template_error;
      int total = 0;
      if (const Json* sets = Find(pr, {"spec", "podSets"}); sets != nullptr && sets->is_array()) {
        for (const auto& set : *sets) {
          std::string tname = Str(set, {"podTemplateRef", "name"});
          int count = set.value("count", 0);
          auto tmpl = ctx.store.Get(gvr::Core("podtemplates"), ns, tname);
          if (!tmpl.ok()) {
            template_error = "podtemplates \"" + tname + "\" not found";
            break;
          }
          Json pod = {{"metadata", {{"namespace", ns}}}, {"spec", (*tmpl)["template"].value("spec", Json::object())}};
          for (int i = 0; i < count; ++i) {
            pod["metadata"]["name"] = name + "-" + tname + "-" + std::to_string(i);
            auto info = PodInfoFromJson(pod);
            if (!info.ok()) {
              template_error = info.status().message();
              break;
            }
            pods.push_back(*info);
          }
          total += count;
        }
      }
      if (!template_error.empty()) {
        SetCondition(updated, "Failed", "True", "FailedToCreatePods",
                     "Provisioning Request's pods cannot be created: " + template_error, now, gen);
      } else if (ConditionTrue(pr, "Provisioned")) {
        auto [at, _] = ctx.booked_at.emplace(uid, ctx.Now());
        if (ctx.Elapsed(at->second, sc.autoscaler.booking_time)) {
          SetCondition(updated, "BookingExpired", "True", "CapacityReservationTimeExpired", kBookingExpiredMsg, now, gen);
          ctx.booked_at.erase(uid);
          ctx.booked_nodes.erase(uid);
        } else {
          // Hold the capacity not yet taken by pods consuming the request.
          int left = std::max(0, total - consumed[ns + "/" + name]);
          std::vector<PodInfo> virt(pods.begin(), pods.begin() + std::min<size_t>(left, pods.size()));
          NodeUsage before = usage;
          std::vector<PodInfo> unplaced;
          PackPods(virt, nodes, usage, &unplaced);
          // Nodes the booking could use that have gone (deleted, being deleted or cordoned): when
          // what is left no longer holds the booking, the capacity is revoked.
          std::set<std::string> here;
          for (const auto& n : nodes) {
            if (!n.unschedulable) here.insert(n.name);
          }
          for (const auto& u : ctx.upcoming) here.insert(u.name);
          std::set<std::string>& booked = ctx.booked_nodes[uid];
          std::vector<std::string> lost;
          for (const auto& n : booked) {
            if (!here.count(n)) lost.push_back(n);
          }
          if (!unplaced.empty() && !lost.empty()) {
            usage = before;
            std::string list;
            for (const auto& n : lost) list += (list.empty() ? "" : ", ") + n;
            SetCondition(updated, "CapacityRevoked", "True", "CapacityIsRevoked",
                         "Capacity booked for this ProvisioningRequest is no longer in the cluster: node(s) " + list +
                             " removed",
                         now, gen);
            ctx.events.Record(pr, "Warning", "CapacityRevoked", "booked capacity lost with node(s) " + list,
                              "cluster-autoscaler");
            ctx.booked_at.erase(uid);
            ctx.booked_nodes.erase(uid);
          } else {
            booked = here;
            for (const auto& [node, res] : usage) {
              auto b = before.find(node);
              int64_t added = res.count("pods") ? res.at("pods") : 0;
              if (b != before.end() && b->second.count("pods")) added -= b->second.at("pods");
              if (added > 0) booked_only[node]["pods"] += added;
            }
          }
        }
      } else if (ctx.Elapsed(seen->second, cls == kAtomicScaleUpClass ? ValidUntil(pr).value_or(kDefaultExpiration)
                                                                       : kDefaultExpiration)) {
        // Not provisioned in time: ValidUntilSeconds (best-effort-atomic-scale-up) or upstream's 7 days.
        SetCondition(updated, "Failed", "True", "Expired", kExpiredMsg, now, gen);
      } else if (cls == kCheckCapacityClass) {
        NodeUsage trial = usage;
        if (CapacityAvailable(pods, nodes, trial)) {
          usage = trial;
          SetCondition(updated, "Provisioned", "True", "CapacityIsFound", kCapacityFoundMsg, now, gen);
          ctx.booked_at[uid] = ctx.Now();
        } else {
          SetCondition(updated, "Provisioned", "False", "CapacityIsNotFound", kCapacityNotFoundMsg, now, gen);
          ctx.WakeAt(ctx.Now() + std::chrono::duration_cast<SteadyTime::duration>(ctx.Real(sc.autoscaler.scan_interval)));
        }
      } else {
        AtomicScaleUp plan = PlanAtomicScaleUp(pods, nodes, usage, capacities());
        if (plan.feasible) {
          if (plan.new_nodes > 0) {
            add_nodes(plan.group, plan.new_nodes, "provisioningrequest " + ns + "/" + name);
            SetCondition(updated, "Provisioned", "True", "CapacityIsProvisioned", kCapacityFoundMsg, now, gen);
            ctx.events.Record(pr, "Normal", "TriggeredScaleUp",
                              "scale-up for ProvisioningRequest: [{" + plan.group + " +" + std::to_string(plan.new_nodes) + "}]",
                              "cluster-autoscaler");
          } else {
            PackPods(pods, nodes, usage, nullptr);
            SetCondition(updated, "Provisioned", "True", "CapacityIsFound", kCapacityFoundMsg, now, gen);
          }
          ctx.booked_at[uid] = ctx.Now();
        } else {
          SetCondition(updated, "Provisioned", "False", "CapacityIsNotFound", kCapacityNotFoundMsg, now, gen);
          ctx.WakeAt(ctx.Now() + std::chrono::duration_cast<SteadyTime::duration>(ctx.Real(sc.autoscaler.scan_interval)));
        }
      }
      if (updated != pr) note(ctx.store.UpdateStatus(ToGvr(kProvisioningRequests), ns, updated).status());
    }
  }

  // 3. Scale-up for unschedulable pods that are not expendable.
  std::vector<PodInfo> wanting;
  for (const auto& [p, obj] : unschedulable) {
    if (p.priority >= sc.autoscaler.expendable_pods_priority_cutoff) wanting.push_back(p);
  }
  if (!wanting.empty() && !sc.node_groups.empty()) {
    // Pods that fit now (capacity freed since) or on nodes already coming are not a reason to grow.
    std::vector<PodInfo> rest, rest2;
    NodeUsage now_usage = usage;
    PackPods(wanting, nodes, now_usage, &rest);
    std::vector<NodeInfo> coming;
    for (const auto& u : ctx.upcoming) {
      const NodeGroupSpec* g = FindGroup(sc, u.group);
      if (g == nullptr) continue;
      NodeInfo n = TemplateNode(*g);
      n.name = u.name;
      coming.push_back(n);
    }
    NodeUsage coming_usage;
    PackPods(rest, coming, coming_usage, &rest2);
    if (!rest2.empty()) {
      ScaleUpOption opt = PlanScaleUp(rest2, capacities());
      if (!opt.group.empty() && opt.new_nodes > 0) {
        const NodeGroupSpec* g = FindGroup(sc, opt.group);
        int from = group_size[opt.group];
        add_nodes(opt.group, opt.new_nodes, "pending pods");
        std::string msg = "pod triggered scale-up: [{" + opt.group + " " + std::to_string(from) + "->" +
                          std::to_string(from + opt.new_nodes) + " (max: " + std::to_string(g->max_size) + ")}]";
        ctx.logger.Info("scale-up", {{"nodeGroup", opt.group}, {"from", from}, {"to", from + opt.new_nodes},
                                     {"pods", opt.helped_pods}});
        for (const auto& [p, obj] : unschedulable) {
          if (std::find(opt.helped_pods.begin(), opt.helped_pods.end(), p.Key()) != opt.helped_pods.end()) {
            ctx.events.Record(*obj, "Normal", "TriggeredScaleUp", msg, "cluster-autoscaler");
          }
        }
      }
      for (const auto& p : rest2) {
        if (std::find(opt.helped_pods.begin(), opt.helped_pods.end(), p.Key()) != opt.helped_pods.end()) continue;
        for (const auto& [u, obj] : unschedulable) {
          if (u.Key() == p.Key()) {
            ctx.events.Record(*obj, "Normal", "NotTriggerScaleUp",
                              "pod didn't trigger scale-up: no node group can fit it or all are at their max size",
                              "cluster-autoscaler");
          }
        }
      }
      ctx.WakeAt(ctx.Now() + std::chrono::duration_cast<SteadyTime::duration>(ctx.Real(sc.autoscaler.scan_interval)));
    }
  }

  // 4. Scale-down of empty node-group nodes.
  std::map<std::string, int> busy;  // node → non-expendable pods
  for (const auto& p : bound) {
    if (p.priority >= sc.autoscaler.expendable_pods_priority_cutoff) busy[p.node_name]++;
  }
  std::set<std::string> live;
  for (const auto& [name, obj] : node_objs) {
    std::string group = Str(*obj, {"metadata", "labels", kNodeGroupLabel});
    const NodeGroupSpec* g = group.empty() ? nullptr : FindGroup(sc, group);
    if (g == nullptr) continue;
    live.insert(name);
    bool empty = busy[name] == 0 && (!booked_only.count(name) || booked_only[name]["pods"] == 0);
    if (!empty) {
      ctx.unneeded_since.erase(name);
      continue;
    }
    auto [since, _] = ctx.unneeded_since.emplace(name, ctx.Now());
    if (group_size[group] <= g->min_size) continue;
    if (!ctx.Elapsed(since->second, g->scale_down_unneeded_time)) continue;
    auto r = ctx.store.Delete(gvr::kNodes, "", name);
    note(r.status());
    if (r.ok()) {
      group_size[group]--;
      ctx.unneeded_since.erase(name);
      ctx.events.Record(*obj, "Normal", "ScaleDown", "node removed by cluster autoscaler (empty for " +
                                                          std::to_string(g->scale_down_unneeded_time.count() / 1000) + "s)",
                        "cluster-autoscaler");
      ctx.logger.Info("scale-down", {{"name", name}, {"nodeGroup", group}});
    }
  }
  for (auto it = ctx.unneeded_since.begin(); it != ctx.unneeded_since.end();) {
    it = live.count(it->first) ? std::next(it) : ctx.unneeded_since.erase(it);
  }
  return first_error;
}

}  // namespace prescient::sim::cluster
