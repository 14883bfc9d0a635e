#include "sim/cluster/crds.h"

namespace prescient::sim::cluster {

namespace {

Json Obj(Json props = Json::object()) { return {{"type", "object"}, {"properties", std::move(props)}}; }
Json Open(Json props = Json::object()) {
  Json o = Obj(std::move(props));
  o["x-kubernetes-preserve-unknown-fields"] = true;
  return o;
}
Json S() { return {{"type", "string"}}; }
Json Enum(std::vector<std::string> values) { return {{"type", "string"}, {"enum", values}}; }
Json I(int64_t minimum = -1) {
  Json j = {{"type", "integer"}, {"format", "int64"}};
  if (minimum >= 0) j["minimum"] = minimum;
  return j;
}
Json B() { return {{"type", "boolean"}}; }
Json Quantity() {
  return {{"x-kubernetes-int-or-string", true},
          {"anyOf", Json::array({{{"type", "integer"}}, {{"type", "string"}}})},
          {"pattern", R"(^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$)"}};
}
Json ResourceMap() { return {{"type", "object"}, {"additionalProperties", Quantity()}}; }
Json StringMap() { return {{"type", "object"}, {"additionalProperties", S()}}; }
Json Array(Json items) { return {{"type", "array"}, {"items", std::move(items)}}; }
Json Time() { return {{"type", "string"}, {"format", "date-time"}}; }

// KubeVirt's condition shape (v1.VirtualMachineCondition and friends: probe/transition may be null).
Json KubeVirtConditions() {
  Json nullable_time = {{"type", "string"}, {"nullable", true}};
  Json cond = Obj({{"type", S()}, {"status", S()}, {"reason", S()}, {"message", S()},
                   {"lastProbeTime", nullable_time}, {"lastTransitionTime", nullable_time}});
  cond["required"] = Json::array({"type", "status"});
  return Array(cond);
}

// metav1.Condition, as the upstream ProvisioningRequest CRD declares it.
Json MetaConditions() {
  // The metav1.Condition validation every CRD generated from it carries.
  Json type = {{"type", "string"}, {"maxLength", 316},
               {"pattern", R"(^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$)"}};
  Json reason = {{"type", "string"}, {"minLength", 1}, {"maxLength", 1024},
                 {"pattern", R"(^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$)"}};
  Json cond = Obj({{"type", type},
                   {"status", Enum({"True", "False", "Unknown"})},
                   {"reason", reason},
                   {"message", {{"type", "string"}, {"maxLength", 32768}}},
                   {"observedGeneration", I(0)},
                   {"lastTransitionTime", Time()}});
  cond["required"] = Json::array({"lastTransitionTime", "message", "reason", "status", "type"});
  Json a = Array(cond);
  a["x-kubernetes-list-type"] = "map";
  a["x-kubernetes-list-map-keys"] = Json::array({"type"});
  return a;
}

Json Domain() {
  Json cpu = Obj({{"sockets", I(1)}, {"cores", I(1)}, {"threads", I(1)}, {"maxSockets", I(1)}, {"model", S()},
                  {"dedicatedCpuPlacement", B()}});
  cpu["x-kubernetes-preserve-unknown-fields"] = true;
  Json memory = Open({{"guest", Quantity()}, {"maxGuest", Quantity()}});
  Json resources = Open({{"requests", ResourceMap()}, {"limits", ResourceMap()}, {"overcommitGuestOverhead", B()}});
  return Open({{"cpu", cpu}, {"memory", memory}, {"resources", resources}, {"devices", Open()}, {"firmware", Open()},
               {"machine", Open()}, {"features", Open()}});
}

Json VmiSpec() {
  Json spec = Open({{"domain", Domain()},
                    {"nodeSelector", StringMap()},
                    {"priorityClassName", S()},
                    {"evictionStrategy", S()},
                    {"terminationGracePeriodSeconds", I(0)},
                    {"tolerations", Array(Open())},
                    {"affinity", Open()},
                    {"networks", Array(Open())},
                    {"volumes", Array(Open())},
                    {"hostname", S()},
                    {"subdomain", S()}});
  spec["required"] = Json::array({"domain"});
  return spec;
}

Json Column(const std::string& name, const std::string& type, const std::string& path, int priority = 0,
            const std::string& description = "") {
  Json c = {{"name", name}, {"type", type}, {"jsonPath", path}};
  if (priority) c["priority"] = priority;
  if (!description.empty()) c["description"] = description;
  return c;
}

Json Crd(const std::string& group, const std::string& version, const std::string& plural, const std::string& singular,
         const std::string& kind, std::vector<std::string> short_names, Json spec_schema, Json status_schema,
         Json columns, bool scale = false, std::vector<std::string> categories = {"all"}) {
  Json schema = Obj({{"apiVersion", S()}, {"kind", S()}, {"metadata", {{"type", "object"}}}, {"spec", std::move(spec_schema)},
                     {"status", std::move(status_schema)}});
  Json subresources = {{"status", Json::object()}};
  if (scale) {
    subresources["scale"] = {{"specReplicasPath", ".spec.replicas"},
                             {"statusReplicasPath", ".status.replicas"},
                             {"labelSelectorPath", ".status.labelSelector"}};
  }
  columns.push_back(Column("Age", "date", ".metadata.creationTimestamp"));
  Json names = {{"plural", plural}, {"singular", singular}, {"kind", kind}, {"listKind", kind + "List"},
                {"shortNames", short_names}};
  if (!categories.empty()) names["categories"] = categories;
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", plural + "." + group}, {"labels", {{"app.kubernetes.io/managed-by", "prescient-sim"}}}}},
          {"spec",
           {{"group", group},
            {"names", names},
            {"scope", "Namespaced"},
            {"versions", Json::array({{{"name", version},
                                       {"served", true},
                                       {"storage", true},
                                       {"schema", {{"openAPIV3Schema", schema}}},
                                       {"subresources", subresources},
                                       {"additionalPrinterColumns", columns}}})}}}};
}

}  // namespace

std::vector<Json> ClusterCrds() {
  std::vector<Json> out;
  Json ready = Column("Ready", "string", ".status.conditions[?(@.type=='Ready')].status");

  Json vm_template = Obj({{"metadata", Open()}, {"spec", VmiSpec()}});
  Json vm_spec = Open({{"runStrategy", Enum({"Always", "RerunOnFailure", "Halted", "Manual", "Once", "WaitAsReceiver"})},
                       {"running", B()},
                       {"template", vm_template},
                       {"instancetype", Open()},
                       {"preference", Open()},
                       {"dataVolumeTemplates", Array(Open())}});
  vm_spec["required"] = Json::array({"template"});
  Json vm_status = Open({{"printableStatus", S()}, {"ready", B()}, {"created", B()}, {"runStrategy", S()},
                         {"conditions", KubeVirtConditions()}, {"observedGeneration", I()}, {"desiredGeneration", I()}});
  out.push_back(Crd("kubevirt.io", "v1", "virtualmachines", "virtualmachine", "VirtualMachine", {"vm", "vms"}, vm_spec,
                    vm_status,
                    Json::array({Column("Status", "string", ".status.printableStatus", 0, "Human readable status"),
                                 ready})));

  Json topology = Obj({{"sockets", I()}, {"cores", I()}, {"threads", I()}});
  Json memory_status = Obj({{"guestAtBoot", Quantity()}, {"guestCurrent", Quantity()}, {"guestRequested", Quantity()},
                            {"memoryOverhead", Quantity()}});
  Json migration_state = Open({{"sourceNode", S()}, {"targetNode", S()}, {"sourcePod", S()}, {"targetPod", S()},
                               {"migrationUid", S()}, {"completed", B()}, {"failed", B()}, {"mode", S()},
                               {"startTimestamp", Time()}, {"endTimestamp", Time()}});
  Json vmi_status = Open({{"phase", S()},
                          {"nodeName", S()},
                          {"reason", S()},
                          {"conditions", KubeVirtConditions()},
                          {"currentCPUTopology", topology},
                          {"memory", memory_status},
                          {"activePods", StringMap()},
                          {"migrationState", migration_state},
                          {"interfaces", Array(Open())},
                          {"qosClass", S()},
                          {"guestOSInfo", Open()},
                          {"launcherContainerImageVersion", S()},
                          {"phaseTransitionTimestamps", Array(Open())}});
  out.push_back(Crd(
      "kubevirt.io", "v1", "virtualmachineinstances", "virtualmachineinstance", "VirtualMachineInstance",
      {"vmi", "vmis"}, VmiSpec(), vmi_status,
      Json::array({Column("Phase", "string", ".status.phase"), Column("IP", "string", ".status.interfaces[0].ipAddress"),
                   Column("NodeName", "string", ".status.nodeName"), ready,
                   Column("Live-Migratable", "string", ".status.conditions[?(@.type=='LiveMigratable')].status", 1),
                   Column("Sockets", "integer", ".status.currentCPUTopology.sockets", 1, "Current CPU sockets"),
                   Column("Memory", "string", ".status.memory.guestCurrent", 1, "Current guest memory")})));

  Json vmim_spec = Open({{"vmiName", S()}});
  Json vmim_status = Open({{"phase", S()}, {"conditions", KubeVirtConditions()}, {"migrationState", migration_state},
                           {"phaseTransitionTimestamps", Array(Open())}});
  out.push_back(Crd("kubevirt.io", "v1", "virtualmachineinstancemigrations", "virtualmachineinstancemigration",
                    "VirtualMachineInstanceMigration", {"vmim", "vmims"}, vmim_spec, vmim_status,
                    Json::array({Column("Phase", "string", ".status.phase"), Column("VMI", "string", ".spec.vmiName")})));

  Json selector = Open({{"matchLabels", StringMap()}, {"matchExpressions", Array(Open())}});
  Json pool_spec = Open({{"replicas", I(0)}, {"selector", selector}, {"paused", B()},
                         {"virtualMachineTemplate", Obj({{"metadata", Open()}, {"spec", vm_spec}})}});
  pool_spec["required"] = Json::array({"selector", "virtualMachineTemplate"});
  Json pool_status = Open({{"replicas", I()}, {"readyReplicas", I()}, {"labelSelector", S()},
                           {"conditions", KubeVirtConditions()}});
  out.push_back(Crd("pool.kubevirt.io", "v1beta1", "virtualmachinepools", "virtualmachinepool", "VirtualMachinePool",
                    {"vmpool", "vmpools"}, pool_spec, pool_status,
                    Json::array({Column("Desired", "integer", ".spec.replicas"), Column("Current", "integer", ".status.replicas"),
                                 Column("Ready", "integer", ".status.readyReplicas")}),
                    /*scale=*/true));

  Json dns_name = {{"type", "string"}, {"maxLength", 253},
                   {"pattern", R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)"}};
  Json template_ref = Obj({{"name", dns_name}});
  template_ref["required"] = Json::array({"name"});
  Json podset = Obj({{"count", {{"type", "integer"}, {"format", "int32"}, {"minimum", 1}}}, {"podTemplateRef", template_ref}});
  podset["required"] = Json::array({"count", "podTemplateRef"});
  Json podsets = Array(podset);
  podsets["minItems"] = 1;
  podsets["maxItems"] = 32;
  Json params = {{"type", "object"}, {"maxProperties", 100}, {"additionalProperties", {{"type", "string"}, {"maxLength", 255}}}};
  Json pr_spec = Obj({{"podSets", podsets}, {"provisioningClassName", dns_name}, {"parameters", params}});
  pr_spec["required"] = Json::array({"podSets", "provisioningClassName"});
  Json pr_status = Obj({{"conditions", MetaConditions()},
                        {"provisioningClassDetails",
                         {{"type", "object"}, {"maxProperties", 64}, {"additionalProperties", {{"type", "string"}, {"maxLength", 32768}}}}}});
  Json pr = Crd("autoscaling.x-k8s.io", "v1", "provisioningrequests", "provisioningrequest", "ProvisioningRequest",
                {"provreq", "provreqs"}, pr_spec, pr_status,
                Json::array({Column("Class", "string", ".spec.provisioningClassName", 1),
                             Column("Accepted", "string", ".status.conditions[?(@.type=='Accepted')].status"),
                             Column("Provisioned", "string", ".status.conditions[?(@.type=='Provisioned')].status")}),
                false, {});
  pr["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["required"] = Json::array({"spec"});
  out.push_back(pr);
  return out;
}

}  // namespace prescient::sim::cluster
