#include "sim/cluster/scenario.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "common/quantity.h"

namespace prescient::sim::cluster {

namespace {

// Thrown inside the parser only (never across the module boundary): carries the full message.
struct ScenarioError {
  std::string message;
};

class Field {
 public:
  Field(const YAML::Node& node, std::string path, const std::string* source, int parent_line = -1)
      : node_(node), path_(std::move(path)), source_(source),
        line_(node.IsDefined() && node.Mark().line >= 0 ? node.Mark().line : parent_line) {}

  // The line of the field, or of its nearest present parent when the field is missing.
  [[noreturn]] void Fail(const std::string& problem) const {
    std::string where = *source_;
    if (line_ >= 0) where += ":" + std::to_string(line_ + 1);
    throw ScenarioError{where + ": " + (path_.empty() ? std::string("(top level)") : path_) + ": " + problem};
  }
  bool defined() const { return node_.IsDefined() && !node_.IsNull(); }
  const std::string& path() const { return path_; }
  const YAML::Node& node() const { return node_; }

  Field Child(const std::string& key) const {
    return Field(node_.IsMap() ? node_[key] : YAML::Node(YAML::NodeType::Undefined),
                 path_.empty() ? key : path_ + "." + key, source_, line_);
  }
  void RequireMap(const std::set<std::string>& allowed) const {
    if (!node_.IsMap()) Fail("must be a mapping");
    for (const auto& kv : node_) {
      std::string k = kv.first.as<std::string>();
      if (!allowed.count(k)) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        Field(kv.first, path_.empty() ? k : path_ + "." + k, source_, line_).Fail("unknown field (known: " + list + ")");
      }
    }
  }
  std::vector<Field> Items() const {
    std::vector<Field> out;
    if (!defined()) return out;
    if (!node_.IsSequence()) Fail("must be a list");
    for (size_t i = 0; i < node_.size(); ++i) out.emplace_back(node_[i], path_ + "[" + std::to_string(i) + "]", source_, line_);
    return out;
  }
  std::string String(bool required = false, const std::string& fallback = "") const {
    if (!defined()) {
      if (required) Fail("required");
      return fallback;
    }
    if (!node_.IsScalar()) Fail("must be a string");
    return node_.as<std::string>();
  }
  int64_t Int(int64_t fallback, int64_t min, int64_t max) const {
    if (!defined()) return fallback;
    if (!node_.IsScalar()) Fail("must be an integer");
    int64_t v;
    try {
      v = node_.as<int64_t>();
    } catch (const YAML::Exception&) {
      Fail("must be an integer, got \"" + node_.as<std::string>() + "\"");
    }
    if (v < min || v > max) Fail("must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + std::to_string(v));
    return v;
  }
  double Double(double fallback, double min) const {
    if (!defined()) return fallback;
    double v;
    try {
      v = node_.as<double>();
    } catch (const YAML::Exception&) {
      Fail("must be a number");
    }
    if (!(v >= min)) Fail("must be >= " + std::to_string(min));
    return v;
  }
  bool Bool(bool fallback) const {
    if (!defined()) return fallback;
    try {
      return node_.as<bool>();
    } catch (const YAML::Exception&) {
      Fail("must be true or false");
    }
  }
  Millis Duration(Millis fallback) const {
    if (!defined()) return fallback;
    auto d = ParseDuration(String());
    if (!d.ok()) Fail(d.status().message());
    return *d;
  }
  int64_t Quantity(const std::string& resource, bool required) const {
    if (!defined()) {
      if (required) Fail("required");
      return 0;
    }
    if (!node_.IsScalar()) Fail("must be a quantity such as \"2\", \"500m\" or \"4Gi\"");
    auto v = ParseAmount(resource, Json(node_.as<std::string>()));
    if (!v.ok()) Fail("invalid quantity \"" + node_.as<std::string>() + "\"");
    return *v;
  }
  ResourceList Resources() const {
    ResourceList out;
    if (!defined()) return out;
    if (!node_.IsMap()) Fail("must be a mapping of resource name to quantity");
    for (const auto& kv : node_) {
      std::string k = kv.first.as<std::string>();
      out[k] = Child(k).Quantity(k, true);
    }
    return out;
  }
  Labels StringMap() const {
    Labels out;
    if (!defined()) return out;
    if (!node_.IsMap()) Fail("must be a mapping of string to string");
    for (const auto& kv : node_) {
      std::string k = kv.first.as<std::string>();
      if (!kv.second.IsScalar()) Child(k).Fail("must be a string");
      out[k] = kv.second.as<std::string>();
    }
    return out;
  }

 private:
  YAML::Node node_;
  std::string path_;
  const std::string* source_;
  int line_ = -1;
};

bool IsDnsLabel(const std::string& s, size_t max = 63) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
  }
  return std::isalnum(static_cast<unsigned char>(s.front())) && std::isalnum(static_cast<unsigned char>(s.back()));
}

std::string Name(const Field& f, size_t max = 63) {
  std::string n = f.String(true);
  if (!IsDnsLabel(n, max)) f.Fail("\"" + n + "\" is not a valid name (lower-case letters, digits, '-' and '.', starting and ending alphanumeric)");
  return n;
}

std::vector<Taint> Taints(const Field& f) {
  std::vector<Taint> out;
  for (const auto& t : f.Items()) {
    t.RequireMap({"key", "value", "effect"});
    Taint taint{t.Child("key").String(true), t.Child("value").String(), t.Child("effect").String(true)};
    if (taint.effect != "NoSchedule" && taint.effect != "PreferNoSchedule" && taint.effect != "NoExecute") {
      t.Child("effect").Fail("must be NoSchedule, PreferNoSchedule or NoExecute");
    }
    out.push_back(taint);
  }
  return out;
}

std::vector<Toleration> Tolerations(const Field& f) {
  std::vector<Toleration> out;
  for (const auto& t : f.Items()) {
    t.RequireMap({"key", "operator", "value", "effect"});
    Toleration tol{t.Child("key").String(), t.Child("operator").String(false, "Equal"), t.Child("value").String(),
                   t.Child("effect").String()};
    if (tol.op != "Equal" && tol.op != "Exists") t.Child("operator").Fail("must be Equal or Exists");
    out.push_back(tol);
  }
  return out;
}

NodeSpec ParseNode(const Field& f, bool is_template) {
  f.RequireMap(is_template ? std::set<std::string>{"capacity", "labels", "taints", "kubevirt"}
                           : std::set<std::string>{"name", "capacity", "labels", "taints", "kubevirt"});
  NodeSpec n;
  if (!is_template) n.name = Name(f.Child("name"), 253);
  Field cap = f.Child("capacity");
  if (!cap.defined()) cap.Fail("required (at least cpu and memory)");
  n.capacity = cap.Resources();
  if (!n.capacity.count("cpu")) cap.Child("cpu").Fail("required");
  if (!n.capacity.count("memory")) cap.Child("memory").Fail("required");
  if (n.capacity["cpu"] <= 0) cap.Child("cpu").Fail("must be positive");
  if (n.capacity["memory"] <= 0) cap.Child("memory").Fail("must be positive");
  if (!n.capacity.count("pods")) n.capacity["pods"] = 110;
  n.labels = f.Child("labels").StringMap();
  n.taints = Taints(f.Child("taints"));
  n.kubevirt = f.Child("kubevirt").Bool(true);
  return n;
}

VmTemplate ParseVmTemplate(const Field& f, const std::set<std::string>& extra_keys) {
  std::set<std::string> keys = {"labels", "runStrategy", "cpu", "memory", "priorityClassName", "nodeSelector",
                                "resources", "tolerations"};
  keys.insert(extra_keys.begin(), extra_keys.end());
  f.RequireMap(keys);
  VmTemplate t;
  t.labels = f.Child("labels").StringMap();
  t.run_strategy = f.Child("runStrategy").String(false, "Always");
  static const std::set<std::string> kStrategies = {"Always", "RerunOnFailure", "Halted", "Manual", "Once"};
  if (!kStrategies.count(t.run_strategy)) f.Child("runStrategy").Fail("must be one of Always, RerunOnFailure, Halted, Manual, Once");
  Field cpu = f.Child("cpu");
  if (cpu.defined()) {
    cpu.RequireMap({"sockets", "cores", "threads", "maxSockets"});
    t.sockets = static_cast<int>(cpu.Child("sockets").Int(1, 1, 512));
    t.cores = static_cast<int>(cpu.Child("cores").Int(1, 1, 512));
    t.threads = static_cast<int>(cpu.Child("threads").Int(1, 1, 8));
    t.max_sockets = static_cast<int>(cpu.Child("maxSockets").Int(0, 0, 512));
    if (t.max_sockets != 0 && t.max_sockets < t.sockets) cpu.Child("maxSockets").Fail("must be >= sockets (" + std::to_string(t.sockets) + ")");
  }
  Field mem = f.Child("memory");
  if (mem.defined()) {
    mem.RequireMap({"guest", "maxGuest"});
    t.guest_memory = mem.Child("guest").Quantity("memory", true);
    t.max_guest = mem.Child("maxGuest").Quantity("memory", false);
    if (t.guest_memory % (2 << 20) != 0) mem.Child("guest").Fail("must be a multiple of 2Mi (KubeVirt aligns guest memory)");
    if (t.max_guest != 0 && t.max_guest < t.guest_memory) mem.Child("maxGuest").Fail("must be >= guest");
    if (t.max_guest % (2 << 20) != 0) mem.Child("maxGuest").Fail("must be a multiple of 2Mi");
  }
  t.priority_class_name = f.Child("priorityClassName").String();
  t.node_selector = f.Child("nodeSelector").StringMap();
  Field res = f.Child("resources");
  if (res.defined()) {
    res.RequireMap({"requests", "limits"});
    t.requests = res.Child("requests").Resources();
    t.limits = res.Child("limits").Resources();
  }
  t.tolerations = Tolerations(f.Child("tolerations"));
  return t;
}

Json QuotaObject(const Field& f, const std::string& ns) {
  f.RequireMap({"name", "hard", "scopes", "scopeSelector"});
  std::string name = Name(f.Child("name"));
  Field hard = f.Child("hard");
  if (!hard.defined()) hard.Fail("required");
  ResourceList h = hard.Resources();
  Json spec = {{"hard", ResourceListToJson(h)}};
  if (f.Child("scopes").defined()) {
    Json scopes = Json::array();
    for (const auto& s : f.Child("scopes").Items()) scopes.push_back(s.String(true));
    spec["scopes"] = scopes;
  }
  if (f.Child("scopeSelector").defined()) {
    // Passed through as YAML → JSON (strings only): {matchExpressions: [{scopeName, operator, values}]}.
    Field sel = f.Child("scopeSelector");
    sel.RequireMap({"matchExpressions"});
    Json exprs = Json::array();
    for (const auto& e : sel.Child("matchExpressions").Items()) {
      e.RequireMap({"scopeName", "operator", "values"});
      Json je = {{"scopeName", e.Child("scopeName").String(true)}, {"operator", e.Child("operator").String(true)}};
      if (e.Child("values").defined()) {
        Json vals = Json::array();
        for (const auto& v : e.Child("values").Items()) vals.push_back(v.String(true));
        je["values"] = vals;
      }
      exprs.push_back(je);
    }
    spec["scopeSelector"] = {{"matchExpressions", exprs}};
  }
  return {{"apiVersion", "v1"},
          {"kind", "ResourceQuota"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", spec}};
}

Scenario Parse(const YAML::Node& root, const std::string& source) {
  Scenario s;
  s.source = source;
  Field top(root, "", &s.source);
  if (!root.IsDefined() || root.IsNull()) return s;  // an empty file is an empty cluster
  top.RequireMap({"nodes", "nodeGroups", "namespaces", "priorityClasses", "virtualMachines",
                  "virtualMachinePools", "kubevirt", "autoscaler"});
  std::set<std::string> node_names;
  for (const auto& f : top.Child("nodes").Items()) {
    NodeSpec n = ParseNode(f, false);
    if (!node_names.insert(n.name).second) f.Child("name").Fail("duplicate node name \"" + n.name + "\"");
    s.nodes.push_back(n);
  }
  std::set<std::string> group_names;
  for (const auto& f : top.Child("nodeGroups").Items()) {
    f.RequireMap({"name", "template", "minSize", "maxSize", "initialSize", "scaleUpDelay", "scaleDownUnneededTime"});
    NodeGroupSpec g;
    g.name = Name(f.Child("name"));
    if (!group_names.insert(g.name).second) f.Child("name").Fail("duplicate node group name \"" + g.name + "\"");
    if (!f.Child("template").defined()) f.Child("template").Fail("required");
    g.node_template = ParseNode(f.Child("template"), true);
    g.min_size = static_cast<int>(f.Child("minSize").Int(0, 0, 1000));
    g.max_size = static_cast<int>(f.Child("maxSize").Int(-1, 0, 1000));
    if (g.max_size < 0) f.Child("maxSize").Fail("required");
    if (g.max_size < g.min_size) f.Child("maxSize").Fail("must be >= minSize (" + std::to_string(g.min_size) + ")");
    g.initial_size = static_cast<int>(f.Child("initialSize").Int(g.min_size, 0, 1000));
    if (g.initial_size < g.min_size || g.initial_size > g.max_size) f.Child("initialSize").Fail("must be between minSize and maxSize");
    g.scale_up_delay = f.Child("scaleUpDelay").Duration(g.scale_up_delay);
    g.scale_down_unneeded_time = f.Child("scaleDownUnneededTime").Duration(g.scale_down_unneeded_time);
    s.node_groups.push_back(g);
  }
  std::set<std::string> ns_names;
  for (const auto& f : top.Child("namespaces").Items()) {
    f.RequireMap({"name", "labels", "resourceQuotas"});
    NamespaceSpec ns;
    ns.name = Name(f.Child("name"));
    if (!ns_names.insert(ns.name).second) f.Child("name").Fail("duplicate namespace \"" + ns.name + "\"");
    ns.labels = f.Child("labels").StringMap();
    std::set<std::string> quota_names;
    for (const auto& q : f.Child("resourceQuotas").Items()) {
      Json obj = QuotaObject(q, ns.name);
      if (!quota_names.insert(obj["metadata"]["name"].get<std::string>()).second) q.Child("name").Fail("duplicate quota name");
      ns.resource_quotas.push_back(obj);
    }
    s.namespaces.push_back(ns);
  }
  std::set<std::string> pc_names;
  bool have_default = false;
  for (const auto& f : top.Child("priorityClasses").Items()) {
    f.RequireMap({"name", "value", "globalDefault", "preemptionPolicy", "description"});
    PriorityClassSpec pc;
    pc.name = Name(f.Child("name"));
    if (!pc_names.insert(pc.name).second) f.Child("name").Fail("duplicate priority class \"" + pc.name + "\"");
    if (!f.Child("value").defined()) f.Child("value").Fail("required");
    pc.value = static_cast<int32_t>(f.Child("value").Int(0, -2147483648LL, 1000000000));
    pc.global_default = f.Child("globalDefault").Bool(false);
    if (pc.global_default && have_default) f.Child("globalDefault").Fail("only one PriorityClass may be the global default");
    have_default = have_default || pc.global_default;
    pc.preemption_policy = f.Child("preemptionPolicy").String(false, "PreemptLowerPriority");
    if (pc.preemption_policy != "PreemptLowerPriority" && pc.preemption_policy != "Never") {
      f.Child("preemptionPolicy").Fail("must be PreemptLowerPriority or Never");
    }
    pc.description = f.Child("description").String();
    s.priority_classes.push_back(pc);
  }
  auto checkNamespace = [&](const Field& f, const std::string& ns) {
    if (!ns_names.count(ns) && ns != "default") f.Fail("namespace \"" + ns + "\" is not declared under namespaces");
  };
  auto checkPriorityClass = [&](const Field& f, const VmTemplate& t) {
    if (!t.priority_class_name.empty() && !pc_names.count(t.priority_class_name) &&
        t.priority_class_name != "system-cluster-critical" && t.priority_class_name != "system-node-critical") {
      f.Child("priorityClassName").Fail("PriorityClass \"" + t.priority_class_name + "\" is not declared under priorityClasses");
    }
  };
  std::set<std::string> vm_names;
  for (const auto& f : top.Child("virtualMachines").Items()) {
    VmSpec vm;
    vm.tmpl = ParseVmTemplate(f, {"name", "namespace"});
    vm.name = Name(f.Child("name"));
    vm.ns = f.Child("namespace").String(false, "default");
    checkNamespace(f.Child("namespace"), vm.ns);
    checkPriorityClass(f, vm.tmpl);
    if (!vm_names.insert(vm.ns + "/" + vm.name).second) f.Child("name").Fail("duplicate VirtualMachine " + vm.ns + "/" + vm.name);
    s.virtual_machines.push_back(vm);
  }
  std::set<std::string> pool_names;
  for (const auto& f : top.Child("virtualMachinePools").Items()) {
    f.RequireMap({"name", "namespace", "replicas", "template"});
    PoolSpec p;
    p.name = Name(f.Child("name"));
    p.ns = f.Child("namespace").String(false, "default");
    checkNamespace(f.Child("namespace"), p.ns);
    p.replicas = static_cast<int>(f.Child("replicas").Int(1, 0, 1000));
    if (!f.Child("template").defined()) f.Child("template").Fail("required");
    p.tmpl = ParseVmTemplate(f.Child("template"), {});
    checkPriorityClass(f.Child("template"), p.tmpl);
    if (!pool_names.insert(p.ns + "/" + p.name).second) f.Child("name").Fail("duplicate VirtualMachinePool " + p.ns + "/" + p.name);
    s.virtual_machine_pools.push_back(p);
  }
  Field kv = top.Child("kubevirt");
  if (kv.defined()) {
    kv.RequireMap({"cpuAllocationRatio", "maxHotplugRatio", "vmRolloutStrategy", "vmiStartDelay", "migrationDelay",
                   "migrationPendingTimeout", "migrationRetryDelay"});
    s.kubevirt.cpu_allocation_ratio = kv.Child("cpuAllocationRatio").Double(10, 1);
    s.kubevirt.max_hotplug_ratio = static_cast<int>(kv.Child("maxHotplugRatio").Int(4, 1, 64));
    std::string rs = kv.Child("vmRolloutStrategy").String(false, "LiveUpdate");
    if (rs != "LiveUpdate" && rs != "Stage") kv.Child("vmRolloutStrategy").Fail("must be LiveUpdate or Stage");
    s.kubevirt.live_update = rs == "LiveUpdate";
    s.kubevirt.vmi_start_delay = kv.Child("vmiStartDelay").Duration(s.kubevirt.vmi_start_delay);
    s.kubevirt.migration_delay = kv.Child("migrationDelay").Duration(s.kubevirt.migration_delay);
    s.kubevirt.migration_pending_timeout = kv.Child("migrationPendingTimeout").Duration(s.kubevirt.migration_pending_timeout);
    s.kubevirt.migration_retry_delay = kv.Child("migrationRetryDelay").Duration(s.kubevirt.migration_retry_delay);
  }
  Field as = top.Child("autoscaler");
  if (as.defined()) {
    as.RequireMap({"expendablePodsPriorityCutoff", "bookingTime", "scanInterval"});
    s.autoscaler.expendable_pods_priority_cutoff =
        static_cast<int32_t>(as.Child("expendablePodsPriorityCutoff").Int(-10, -2147483648LL, 2147483647LL));
    s.autoscaler.booking_time = as.Child("bookingTime").Duration(s.autoscaler.booking_time);
    s.autoscaler.scan_interval = as.Child("scanInterval").Duration(s.autoscaler.scan_interval);
  }
  return s;
}

}  // namespace

Result<Millis> ParseDuration(const std::string& text) {
  if (text.empty()) return InvalidArgument("empty duration");
  if (text == "0") return Millis(0);
  double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (start == i) return InvalidArgument("invalid duration \"" + text + "\" (use e.g. 500ms, 30s, 10m, 1h30m)");
    double value = std::stod(text.substr(start, i - start));
    size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(ustart, i - ustart);
    double ms;
    if (unit == "ms") ms = 1;
    else if (unit == "s") ms = 1000;
    else if (unit == "m") ms = 60'000;
    else if (unit == "h") ms = 3'600'000;
    else return InvalidArgument("invalid duration \"" + text + "\": unknown unit \"" + unit + "\" (ms, s, m, h)");
    total_ms += value * ms;
  }
  return Millis(static_cast<int64_t>(total_ms + 0.5));
}

Result<Scenario> ParseScenario(const std::string& yaml_text, const std::string& source_name) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(source_name + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  try {
    return Parse(root, source_name);
  } catch (const ScenarioError& e) {
    return InvalidArgument(e.message);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(source_name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

Result<Scenario> LoadScenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) return InvalidArgument("scenario file " + path + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseScenario(ss.str(), path);
}

Json NodeObject(const NodeSpec& node, const std::string& name, const std::string& node_group) {
  Labels labels = node.labels;
  labels["kubernetes.io/hostname"] = name;
  labels["kubernetes.io/os"] = "linux";
  labels.emplace("kubernetes.io/arch", "amd64");
  ResourceList cap = node.capacity;
  if (node.kubevirt) {
    labels.emplace("kubevirt.io/schedulable", "true");
    for (const char* d : {"devices.kubevirt.io/kvm", "devices.kubevirt.io/tun", "devices.kubevirt.io/vhost-net"}) {
      cap.emplace(d, 1000);
    }
  }
  if (!node_group.empty()) labels[kNodeGroupLabel] = node_group;
  Json taints = Json::array();
  for (const auto& t : node.taints) {
    Json jt = {{"key", t.key}, {"effect", t.effect}};
    if (!t.value.empty()) jt["value"] = t.value;
    taints.push_back(jt);
  }
  Json spec = Json::object();
  if (!taints.empty()) spec["taints"] = taints;
  if (!node_group.empty()) spec["providerID"] = "prescient-sim://" + node_group + "/" + name;
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", name}, {"labels", labels}}},
          {"spec", spec},
          {"status",
           {{"capacity", ResourceListToJson(cap)},
            {"allocatable", ResourceListToJson(cap)},
            {"conditions", Json::array({{{"type", "Ready"},
                                         {"status", "True"},
                                         {"reason", "KubeletReady"},
                                         {"message", "kubelet is posting ready status"}}})},
            {"nodeInfo", {{"kubeletVersion", "v1.32.0"}, {"operatingSystem", "linux"}, {"architecture", "amd64"}}}}}};
}

Json NamespaceObject(const NamespaceSpec& ns) {
  Labels labels = ns.labels;
  labels["kubernetes.io/metadata.name"] = ns.name;
  return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns.name}, {"labels", labels}}}};
}

Json PriorityClassObject(const PriorityClassSpec& pc) {
  Json o = {{"apiVersion", "scheduling.k8s.io/v1"},
            {"kind", "PriorityClass"},
            {"metadata", {{"name", pc.name}}},
            {"value", pc.value},
            {"globalDefault", pc.global_default},
            {"preemptionPolicy", pc.preemption_policy}};
  if (!pc.description.empty()) o["description"] = pc.description;
  return o;
}

Json VmTemplateSpec(const VmTemplate& t) {
  Json cpu = {{"sockets", t.sockets}, {"cores", t.cores}, {"threads", t.threads}};
  if (t.max_sockets > 0) cpu["maxSockets"] = t.max_sockets;
  Json memory = {{"guest", FormatBytes(t.guest_memory)}};
  if (t.max_guest > 0) memory["maxGuest"] = FormatBytes(t.max_guest);
  Json domain = {{"cpu", cpu},
                 {"memory", memory},
                 {"devices", {{"disks", Json::array({{{"name", "containerdisk"}, {"disk", {{"bus", "virtio"}}}}})},
                              {"interfaces", Json::array({{{"name", "default"}, {"masquerade", Json::object()}}})}}}};
  if (!t.requests.empty() || !t.limits.empty()) {
    Json res = Json::object();
    if (!t.requests.empty()) res["requests"] = ResourceListToJson(t.requests);
    if (!t.limits.empty()) res["limits"] = ResourceListToJson(t.limits);
    domain["resources"] = res;
  }
  Json spec = {{"domain", domain},
               {"networks", Json::array({{{"name", "default"}, {"pod", Json::object()}}})},
               {"volumes", Json::array({{{"name", "containerdisk"},
                                         {"containerDisk", {{"image", "quay.io/containerdisks/fedora:latest"}}}}})}};
  if (!t.priority_class_name.empty()) spec["priorityClassName"] = t.priority_class_name;
  if (!t.node_selector.empty()) spec["nodeSelector"] = t.node_selector;
  if (!t.tolerations.empty()) {
    Json tols = Json::array();
    for (const auto& tol : t.tolerations) {
      Json jt = {{"operator", tol.op}};
      if (!tol.key.empty()) jt["key"] = tol.key;
      if (!tol.value.empty()) jt["value"] = tol.value;
      if (!tol.effect.empty()) jt["effect"] = tol.effect;
      tols.push_back(jt);
    }
    spec["tolerations"] = tols;
  }
  Json meta = Json::object();
  if (!t.labels.empty()) meta["labels"] = t.labels;
  return {{"metadata", meta}, {"spec", spec}};
}

Json VirtualMachineObject(const VmSpec& vm) {
  Json meta = {{"name", vm.name}, {"namespace", vm.ns}};
  if (!vm.tmpl.labels.empty()) meta["labels"] = vm.tmpl.labels;
  Json tmpl = VmTemplateSpec(vm.tmpl);
  tmpl["metadata"]["labels"]["kubevirt.io/vm"] = vm.name;
  return {{"apiVersion", "kubevirt.io/v1"},
          {"kind", "VirtualMachine"},
          {"metadata", meta},
          {"spec", {{"runStrategy", vm.tmpl.run_strategy}, {"template", tmpl}}}};
}

Json VirtualMachinePoolObject(const PoolSpec& pool) {
  Json tmpl = VmTemplateSpec(pool.tmpl);
  tmpl["metadata"]["labels"]["kubevirt.io/vmpool"] = pool.name;
  Json vm_meta = {{"labels", {{"kubevirt.io/vmpool", pool.name}}}};
  return {{"apiVersion", "pool.kubevirt.io/v1beta1"},
          {"kind", "VirtualMachinePool"},
          {"metadata", {{"name", pool.name}, {"namespace", pool.ns}}},
          {"spec",
           {{"replicas", pool.replicas},
            {"selector", {{"matchLabels", {{"kubevirt.io/vmpool", pool.name}}}}},
            {"virtualMachineTemplate",
             {{"metadata", vm_meta}, {"spec", {{"runStrategy", pool.tmpl.run_strategy}, {"template", tmpl}}}}}}}};
}

}  // namespace prescient::sim::cluster
