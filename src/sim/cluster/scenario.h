// The scenario file: the shape of the simulated cluster at start (nodes, node groups the
// autoscaler can grow, namespaces with ResourceQuotas, PriorityClasses, KubeVirt VirtualMachines
// and VirtualMachinePools, and the KubeVirt / autoscaler settings). The format is documented in
// README.md beside this file; hack/quickstart-scenario.yaml is a complete example.
//
// Parsing is strict: unknown keys, wrong types, bad quantities and durations, duplicate names and
// impossible sizes are errors naming the file, line, field path and problem
// ("s.yaml:12: nodeGroups[0].maxSize: must be >= minSize (2)"). Pure; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "sim/cluster/resources.h"

namespace prescient::sim::cluster {

using Millis = std::chrono::milliseconds;

struct NodeSpec {
  std::string name;
  ResourceList capacity;  // cpu, memory, pods, ephemeral-storage, devices.kubevirt.io/kvm, ...
  Labels labels;
  std::vector<Taint> taints;
  // KubeVirt's virt-handler runs here: the node gets kubevirt.io/schedulable=true and the
  // devices.kubevirt.io/{kvm,tun,vhost-net} capacity (1k each) unless set explicitly.
  bool kubevirt = true;
};

struct NodeGroupSpec {
  std::string name;
  NodeSpec node_template;  // name unused: nodes are named <group>-<n>
  int min_size = 0;
  int max_size = 1;
  int initial_size = 0;                  // nodes created at start (>= min_size)
  Millis scale_up_delay{30'000};         // from the scale-up decision to a Ready node
  Millis scale_down_unneeded_time{600'000};
};

struct NamespaceSpec {
  std::string name;
  Labels labels;
  std::vector<Json> resource_quotas;  // full v1 ResourceQuota objects (namespace set)
};

struct PriorityClassSpec {
  std::string name;
  int32_t value = 0;
  bool global_default = false;
  std::string preemption_policy = "PreemptLowerPriority";
  std::string description;
};

// The parts of a VirtualMachine the scenario can set; everything else takes KubeVirt defaults.
struct VmTemplate {
  Labels labels;
  std::string run_strategy = "Always";  // Always, RerunOnFailure, Halted, Manual, Once
  int sockets = 1, cores = 1, threads = 1;
  int max_sockets = 0;          // 0 = KubeVirt default (sockets × maxHotplugRatio)
  int64_t guest_memory = 1LL << 30;
  int64_t max_guest = 0;        // 0 = KubeVirt default (guest × maxHotplugRatio)
  std::string priority_class_name;
  Labels node_selector;
  ResourceList requests, limits;  // spec.template.spec.domain.resources (optional)
  std::vector<Toleration> tolerations;
};

struct VmSpec {
  std::string name, ns;
  VmTemplate tmpl;
};

struct PoolSpec {
  std::string name, ns;
  int replicas = 1;
  VmTemplate tmpl;
};

struct KubeVirtSettings {
  double cpu_allocation_ratio = 10;  // virt-launcher cpu request = vCPUs / ratio
  int max_hotplug_ratio = 4;
  bool live_update = true;  // vmRolloutStrategy: LiveUpdate (else Stage: changes need a restart)
  Millis vmi_start_delay{5'000};        // launcher pod bound → VMI Running
  Millis migration_delay{10'000};       // target pod bound → migration Succeeded
  Millis migration_pending_timeout{300'000};  // target pod unschedulable this long → Failed
  Millis migration_retry_delay{10'000};       // wait after a failed workload-update migration
};

struct AutoscalerSettings {
  int32_t expendable_pods_priority_cutoff = -10;
  Millis booking_time{600'000};  // ProvisioningRequest capacity booking
  Millis scan_interval{10'000};  // how often unschedulable pods / requests are re-examined
};

struct Scenario {
  std::string source;  // file name (for messages)
  std::vector<NodeSpec> nodes;
  std::vector<NodeGroupSpec> node_groups;
  std::vector<NamespaceSpec> namespaces;
  std::vector<PriorityClassSpec> priority_classes;
  std::vector<VmSpec> virtual_machines;
  std::vector<PoolSpec> virtual_machine_pools;
  KubeVirtSettings kubevirt;
  AutoscalerSettings autoscaler;
};

Result<Scenario> LoadScenario(const std::string& path);
Result<Scenario> ParseScenario(const std::string& yaml_text, const std::string& source_name);
// Go-style durations: "500ms", "30s", "10m", "1h30m".
Result<Millis> ParseDuration(const std::string& text);

// API objects for the scenario's entries.
Json NodeObject(const NodeSpec& node, const std::string& name, const std::string& node_group);
Json NamespaceObject(const NamespaceSpec& ns);
Json PriorityClassObject(const PriorityClassSpec& pc);
// spec.template of a VirtualMachine: {metadata: {labels}, spec: {domain, ...}}.
Json VmTemplateSpec(const VmTemplate& t);
Json VirtualMachineObject(const VmSpec& vm);
Json VirtualMachinePoolObject(const PoolSpec& pool);

// The label every node-group node carries (value: the group's name).
inline constexpr const char* kNodeGroupLabel = "prescient.dev/node-group";

}  // namespace prescient::sim::cluster
