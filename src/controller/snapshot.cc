#include "controller/snapshot.h"

#include "api/constants.h"
#include "common/quantity.h"

namespace prescient::controller {

namespace {

const Json* At(const Json& j, std::initializer_list<const char*> path) {
  const Json* cur = &j;
  for (const char* p : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(p);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string StrAt(const Json& j, std::initializer_list<const char*> path) {
  const Json* v = At(j, path);
  return v && v->is_string() ? v->get<std::string>() : "";
}

int IntAt(const Json& j, std::initializer_list<const char*> path, int def) {
  const Json* v = At(j, path);
  return v && v->is_number_integer() ? v->get<int>() : def;
}

// A quantity that may be a string ("4Gi") or a number.
std::optional<int64_t> BytesAt(const Json& j, std::initializer_list<const char*> path) {
  const Json* v = At(j, path);
  if (!v) return std::nullopt;
  if (v->is_number()) return v->get<int64_t>();
  if (!v->is_string()) return std::nullopt;
  auto r = ParseBytes(v->get<std::string>());
  if (!r.ok()) return std::nullopt;
  return *r;
}

std::optional<int64_t> MilliOf(const Json& v) {
  if (v.is_number()) return static_cast<int64_t>(v.get<double>() * 1000);
  if (!v.is_string()) return std::nullopt;
  auto r = ParseCpuMilli(v.get<std::string>());
  if (!r.ok()) return std::nullopt;
  return *r;
}
std::optional<int64_t> BytesOf(const Json& v) {
  if (v.is_number()) return v.get<int64_t>();
  if (!v.is_string()) return std::nullopt;
  auto r = ParseBytes(v.get<std::string>());
  if (!r.ok()) return std::nullopt;
  return *r;
}

bool HasTrueCondition(const Json& obj, const char* type) {
  const Json* conds = At(obj, {"status", "conditions"});
  if (!conds || !conds->is_array()) return false;
  for (const auto& c : *conds) {
    if (c.value("type", "") == type && c.value("status", "") == "True") return true;
  }
  return false;
}

std::map<std::string, std::string> LabelsOf(const Json& obj) {
  std::map<std::string, std::string> out;
  const Json* l = At(obj, {"metadata", "labels"});
  if (l && l->is_object()) {
    for (auto it = l->begin(); it != l->end(); ++it) {
      if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
    }
  }
  return out;
}

}  // namespace

int64_t ClusterSnapshot::HeldCpuMilli(const std::string& instance_key, const std::string& except_uid) const {
  int64_t sum = 0;
  for (const auto& h : holdings) {
    if (h.instance == instance_key && h.run_uid != except_uid) sum += h.cpu_milli;
  }
  return sum;
}
int64_t ClusterSnapshot::HeldMemoryBytes(const std::string& instance_key, const std::string& except_uid) const {
  int64_t sum = 0;
  for (const auto& h : holdings) {
    if (h.instance == instance_key && h.run_uid != except_uid) sum += h.memory_bytes;
  }
  return sum;
}

InstanceView InstanceFromJson(const Json& vmi, const Json* vm, const Json* launcher) {
  InstanceView v;
  v.ns = StrAt(vmi, {"metadata", "namespace"});
  v.name = StrAt(vmi, {"metadata", "name"});
  v.node = StrAt(vmi, {"status", "nodeName"});
  v.labels = LabelsOf(vmi);
  v.running = StrAt(vmi, {"status", "phase"}) == "Running" && !At(vmi, {"metadata", "deletionTimestamp"});
  v.sockets = IntAt(vmi, {"status", "currentCPUTopology", "sockets"}, IntAt(vmi, {"spec", "domain", "cpu", "sockets"}, 1));
  v.cores = IntAt(vmi, {"status", "currentCPUTopology", "cores"}, IntAt(vmi, {"spec", "domain", "cpu", "cores"}, 1));
  v.threads = IntAt(vmi, {"status", "currentCPUTopology", "threads"}, IntAt(vmi, {"spec", "domain", "cpu", "threads"}, 1));
  v.max_sockets = IntAt(vmi, {"spec", "domain", "cpu", "maxSockets"}, 0);
  v.memory_bytes = BytesAt(vmi, {"status", "memory", "guestCurrent"})
                       .value_or(BytesAt(vmi, {"spec", "domain", "memory", "guest"}).value_or(0));
  v.max_guest = BytesAt(vmi, {"spec", "domain", "memory", "maxGuest"}).value_or(0);
  auto requested = BytesAt(vmi, {"status", "memory", "guestRequested"});
  v.hotplug_in_flight = HasTrueCondition(vmi, "HotVCPUChange") || HasTrueCondition(vmi, "HotMemoryChange") ||
                        (requested && *requested != v.memory_bytes);
  v.desired_sockets = v.sockets;
  v.desired_guest = v.memory_bytes;
  if (vm) {
    v.desired_sockets = IntAt(*vm, {"spec", "template", "spec", "domain", "cpu", "sockets"}, v.sockets);
    v.desired_guest = BytesAt(*vm, {"spec", "template", "spec", "domain", "memory", "guest"}).value_or(v.memory_bytes);
    if (v.desired_sockets != v.sockets || v.desired_guest != v.memory_bytes) v.hotplug_in_flight = true;
    v.restart_required = HasTrueCondition(*vm, "RestartRequired");
    const Json* owners = At(*vm, {"metadata", "ownerReferences"});
    if (owners && owners->is_array()) {
      for (const auto& o : *owners) {
        if (o.value("kind", "") == "VirtualMachinePool") v.pool = o.value("name", "");
      }
    }
  }
  if (launcher) PodRequests(*launcher, &v.launcher_cpu_milli, &v.launcher_memory_bytes);
  return v;
}

void PodRequests(const Json& pod, int64_t* cpu_milli, int64_t* memory_bytes) {
  int64_t cpu = 0, mem = 0;
  auto add = [&](const Json& containers, bool max_only) {
    if (!containers.is_array()) return;
    for (const auto& c : containers) {
      const Json* req = At(c, {"resources", "requests"});
      if (!req || !req->is_object()) continue;
      int64_t ccpu = req->contains("cpu") ? MilliOf((*req)["cpu"]).value_or(0) : 0;
      int64_t cmem = req->contains("memory") ? BytesOf((*req)["memory"]).value_or(0) : 0;
      if (max_only) {
        cpu = std::max(cpu, ccpu);
        mem = std::max(mem, cmem);
      } else {
        cpu += ccpu;
        mem += cmem;
      }
    }
  };
  if (const Json* c = At(pod, {"spec", "containers"})) add(*c, false);
  int64_t main_cpu = cpu, main_mem = mem;
  cpu = mem = 0;
  if (const Json* c = At(pod, {"spec", "initContainers"})) add(*c, true);
  *cpu_milli = std::max(main_cpu, cpu);
  *memory_bytes = std::max(main_mem, mem);
}

bool PodIsTerminal(const Json& pod) {
  std::string phase = StrAt(pod, {"status", "phase"});
  return phase == "Succeeded" || phase == "Failed";
}

NodeView NodeFromJson(const Json& node, const std::vector<const Json*>& pods) {
  NodeView n;
  n.name = StrAt(node, {"metadata", "name"});
  n.labels = LabelsOf(node);
  n.ready = HasTrueCondition(node, "Ready") || !At(node, {"status", "conditions"});
  const Json* unsched = At(node, {"spec", "unschedulable"});
  n.schedulable = !(unsched && unsched->is_boolean() && unsched->get<bool>());
  auto it = n.labels.find("kubevirt.io/schedulable");
  if (it == n.labels.end() || it->second != "true") n.schedulable = false;
  if (const Json* a = At(node, {"status", "allocatable"}); a && a->is_object()) {
    if (a->contains("cpu")) n.allocatable_cpu_milli = MilliOf((*a)["cpu"]).value_or(0);
    if (a->contains("memory")) n.allocatable_memory_bytes = BytesOf((*a)["memory"]).value_or(0);
  }
  for (const Json* p : pods) {
    if (!p || PodIsTerminal(*p) || !StrAt(*p, {"metadata", "labels", kBalloonLabel}).empty()) continue;
    int64_t c = 0, m = 0;
    PodRequests(*p, &c, &m);
    n.requested_cpu_milli += c;
    n.requested_memory_bytes += m;
  }
  return n;
}

namespace {
void ParseBaseline(const std::string& text, QuotaView* q) {
  // "cpu=4,memory=8Gi"
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? text.size() : comma + 1;
    size_t eq = item.find('=');
    if (eq == std::string::npos) continue;
    std::string key = item.substr(0, eq), val = item.substr(eq + 1);
    if (key == "cpu") {
      if (auto r = ParseCpuMilli(val); r.ok()) q->baseline_cpu_milli = *r;
    } else if (key == "memory") {
      if (auto r = ParseBytes(val); r.ok()) q->baseline_memory_bytes = *r;
    }
  }
}
}  // namespace

QuotaView QuotaFromJson(const Json& quota, const std::string& owned_quota_name) {
  QuotaView q;
  q.ns = StrAt(quota, {"metadata", "namespace"});
  q.name = StrAt(quota, {"metadata", "name"});
  q.resource_version = StrAt(quota, {"metadata", "resourceVersion"});
  auto labels = LabelsOf(quota);
  auto mb = labels.find(api::kManagedByLabel);
  q.owned = q.name == owned_quota_name || (mb != labels.end() && mb->second == api::kManagedByValue);
  auto pick = [](const Json* h, const char* a, const char* b, bool cpu) -> std::optional<int64_t> {
    if (!h || !h->is_object()) return std::nullopt;
    for (const char* k : {a, b}) {
      if (h->contains(k)) return cpu ? MilliOf((*h)[k]) : BytesOf((*h)[k]);
    }
    return std::nullopt;
  };
  const Json* hard = At(quota, {"spec", "hard"});
  const Json* used = At(quota, {"status", "used"});
  q.hard_cpu_milli = pick(hard, "requests.cpu", "cpu", true);
  q.hard_memory_bytes = pick(hard, "requests.memory", "memory", false);
  q.used_cpu_milli = pick(used, "requests.cpu", "cpu", true).value_or(0);
  q.used_memory_bytes = pick(used, "requests.memory", "memory", false).value_or(0);
  std::string baseline = StrAt(quota, {"metadata", "annotations", kQuotaBaselineAnnotation});
  if (!baseline.empty()) ParseBaseline(baseline, &q);
  return q;
}

PoolView PoolFromJson(const Json& pool) {
  PoolView p;
  p.ns = StrAt(pool, {"metadata", "namespace"});
  p.name = StrAt(pool, {"metadata", "name"});
  p.replicas = IntAt(pool, {"spec", "replicas"}, 0);
  if (const Json* domain = At(pool, {"spec", "virtualMachineTemplate", "spec", "template", "spec", "domain"})) {
    p.sockets = IntAt(*domain, {"cpu", "sockets"}, 1);
    p.cores = IntAt(*domain, {"cpu", "cores"}, 1);
    p.threads = IntAt(*domain, {"cpu", "threads"}, 1);
    p.max_sockets = IntAt(*domain, {"cpu", "maxSockets"}, 0);
    p.memory_bytes = BytesAt(*domain, {"memory", "guest"}).value_or(0);
    p.max_guest = BytesAt(*domain, {"memory", "maxGuest"}).value_or(0);
  }
  std::string max = StrAt(pool, {"metadata", "annotations", api::kPoolMaxReplicasAnnotation});
  if (!max.empty()) {
    try {
      p.max_replicas = std::stoi(max);
    } catch (...) {
      p.max_replicas = 0;  // malformed: no scaling rather than a guess
    }
  }
  return p;
}

std::optional<Holding> HoldingFromRun(const api::CommandRun& run, int32_t priority) {
  const auto& st = run.status;
  if (!st.allocation || st.allocation->instance_id.empty()) return std::nullopt;
  bool holds = api::HoldsAllocation(st.phase) || st.phase == api::RunPhase::kAllocating ||
               st.phase == api::RunPhase::kShadowing;
  if (!holds) return std::nullopt;
  Holding h;
  h.run_key = run.Key();
  h.run_uid = run.metadata.uid;
  h.instance = run.metadata.ns + "/" + st.allocation->instance_id;
  h.cpu_milli = st.allocation->cpu_milli;
  h.memory_bytes = st.allocation->memory_bytes;
  h.priority = priority;
  h.phase = st.phase;
  if (!st.allocation->reservation_name.empty()) h.reservation = run.metadata.ns + "/" + st.allocation->reservation_name;
  h.started = st.agent.has_value() || st.phase == api::RunPhase::kRunning;
  h.created = run.metadata.creation_timestamp.value_or(api::Time{});
  h.preemptible_while_running = run.spec.AllowPreemptionWhileRunning();
  return h;
}

}  // namespace prescient::controller
