#include "sim/cluster/scenario.h"

#include <gtest/gtest.h>

#include <fstream>

#include "sim/cluster/test_builders.h"

namespace prescient::sim::cluster {
namespace {

using testing::kGi;

TEST(Scenario, ParsesEveryKind) {
  const char* text = R"(
nodes:
  - name: node-a
    capacity: {cpu: "4", memory: 8Gi}
    labels: {zone: a}
    taints: [{key: dedicated, value: db, effect: NoSchedule}]
nodeGroups:
  - name: burst
    template: {capacity: {cpu: "8", memory: 16Gi, pods: "50"}}
    maxSize: 3
    scaleUpDelay: 20s
    scaleDownUnneededTime: 2m
namespaces:
  - name: demo
    resourceQuotas:
      - name: demo-quota
        hard: {requests.cpu: "4", requests.memory: 8Gi}
priorityClasses:
  - {name: balloon, value: -10, description: overprovisioning}
virtualMachines:
  - name: db-tools
    namespace: demo
    cpu: {sockets: 1, maxSockets: 4}
    memory: {guest: 2Gi, maxGuest: 8Gi}
    runStrategy: Always
virtualMachinePools:
  - name: workers
    namespace: demo
    replicas: 2
    template:
      cpu: {sockets: 2}
      memory: {guest: 1Gi}
kubevirt: {cpuAllocationRatio: 5, vmiStartDelay: 1s}
autoscaler: {expendablePodsPriorityCutoff: -5, bookingTime: 1m}
)";
  auto s = ParseScenario(text, "s.yaml");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->nodes.size(), 1u);
  EXPECT_EQ(s->nodes[0].capacity.at("cpu"), 4000);
  EXPECT_EQ(s->nodes[0].capacity.at("pods"), 110);
  EXPECT_EQ(s->nodes[0].taints[0].effect, "NoSchedule");
  EXPECT_EQ(s->node_groups[0].scale_up_delay, Millis(20000));
  EXPECT_EQ(s->node_groups[0].scale_down_unneeded_time, Millis(120000));
  EXPECT_EQ(s->node_groups[0].node_template.capacity.at("pods"), 50);
  EXPECT_EQ(s->namespaces[0].resource_quotas[0]["spec"]["hard"]["requests.memory"], "8Gi");
  EXPECT_EQ(s->priority_classes[0].value, -10);
  EXPECT_EQ(s->virtual_machines[0].tmpl.max_guest, 8 * kGi);
  EXPECT_EQ(s->virtual_machine_pools[0].replicas, 2);
  EXPECT_EQ(s->kubevirt.cpu_allocation_ratio, 5);
  EXPECT_EQ(s->kubevirt.vmi_start_delay, Millis(1000));
  EXPECT_EQ(s->autoscaler.expendable_pods_priority_cutoff, -5);

  Json vm = VirtualMachineObject(s->virtual_machines[0]);
  EXPECT_EQ(vm["spec"]["template"]["spec"]["domain"]["cpu"]["maxSockets"], 4);
  EXPECT_EQ(vm["spec"]["template"]["spec"]["domain"]["memory"]["guest"], "2Gi");
  Json node = NodeObject(s->nodes[0], "node-a", "");
  EXPECT_EQ(node["metadata"]["labels"]["kubevirt.io/schedulable"], "true");
  EXPECT_EQ(node["status"]["allocatable"]["devices.kubevirt.io/kvm"], "1000");
}

TEST(Scenario, ErrorsNameFileLineFieldAndProblem) {
  struct Case {
    std::string yaml;
    std::string want;
  } cases[] = {
      {"nodes:\n  - name: a\n    capacity: {cpu: lots, memory: 1Gi}\n", "s.yaml:3: nodes[0].capacity.cpu: invalid quantity \"lots\""},
      {"nodes:\n  - name: a\n    capacity: {memory: 1Gi}\n", "nodes[0].capacity.cpu: required"},
      {"nodes:\n  - name: a\n    capacity: {cpu: 1, memory: 1Gi}\n    colour: red\n", "nodes[0].colour: unknown field"},
      {"nodeGroups:\n  - name: g\n    template: {capacity: {cpu: 1, memory: 1Gi}}\n    minSize: 2\n    maxSize: 1\n",
       "nodeGroups[0].maxSize: must be >= minSize (2)"},
      {"nodeGroups:\n  - name: g\n    template: {capacity: {cpu: 1, memory: 1Gi}}\n    maxSize: 1\n    scaleUpDelay: soon\n",
       "nodeGroups[0].scaleUpDelay: invalid duration \"soon\""},
      {"virtualMachines:\n  - name: vm\n    namespace: nowhere\n", "virtualMachines[0].namespace: namespace \"nowhere\" is not declared"},
      {"virtualMachines:\n  - name: vm\n    cpu: {sockets: 4, maxSockets: 2}\n", "virtualMachines[0].cpu.maxSockets: must be >= sockets (4)"},
      {"virtualMachines:\n  - name: vm\n    memory: {guest: 1001Mi, maxGuest: 2Gi}\n", "virtualMachines[0].memory.guest: must be a multiple of 2Mi"},
      {"virtualMachines:\n  - name: vm\n    priorityClassName: gold\n", "PriorityClass \"gold\" is not declared"},
      {"virtualMachines:\n  - name: Bad_Name\n", "virtualMachines[0].name: \"Bad_Name\" is not a valid name"},
      {"nodes: [\n", "s.yaml:"},
      {"colour: red\n", "s.yaml:1: colour: unknown field"},
      {"namespaces:\n  - name: a\n  - name: a\n", "namespaces[1].name: duplicate namespace \"a\""},
  };
  for (const auto& c : cases) {
    auto s = ParseScenario(c.yaml, "s.yaml");
    ASSERT_FALSE(s.ok()) << c.yaml;
    EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
    EXPECT_NE(s.status().message().find(c.want), std::string::npos) << "got: " << s.status().message();
  }
  EXPECT_NE(LoadScenario("/nonexistent/s.yaml").status().message().find("/nonexistent/s.yaml"), std::string::npos);
}

TEST(Scenario, Durations) {
  EXPECT_EQ(*ParseDuration("500ms"), Millis(500));
  EXPECT_EQ(*ParseDuration("1h30m"), Millis(5'400'000));
  EXPECT_EQ(*ParseDuration("1.5s"), Millis(1500));
  EXPECT_FALSE(ParseDuration("10").ok());
  EXPECT_FALSE(ParseDuration("5d").ok());
}

TEST(Scenario, QuickstartScenarioLoads) {
  auto s = LoadScenario("hack/quickstart-scenario.yaml");  // tests run from the source root
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->nodes.size(), 2u);
  ASSERT_EQ(s->node_groups.size(), 1u);
  EXPECT_EQ(s->node_groups[0].max_size, 3);
  bool db_tools_hotpluggable = false;
  for (const auto& vm : s->virtual_machines) {
    if (vm.name == "db-tools") db_tools_hotpluggable = vm.tmpl.max_sockets > vm.tmpl.sockets && vm.tmpl.max_guest > vm.tmpl.guest_memory;
  }
  EXPECT_TRUE(db_tools_hotpluggable);
  ASSERT_EQ(s->virtual_machine_pools.size(), 1u);
  EXPECT_EQ(s->virtual_machine_pools[0].name, "workers");
}

}  // namespace
}  // namespace prescient::sim::cluster
