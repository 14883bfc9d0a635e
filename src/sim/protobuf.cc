#include "sim/protobuf.h"

#include <chrono>
#include <utility>

#include "common/clock.h"

namespace prescient::sim {
namespace {

Status BadProto(std::string msg) {
  return Status(Code::kInvalidArgument, "protobuf body: " + std::move(msg)).WithHttp(400, "BadRequest");
}

// ---- field tables ----------------------------------------------------------------------------

enum class Type : uint8_t {
  kString,
  kBytes,        // []byte: base64 in JSON
  kBool,
  kInt32,
  kInt64,
  kMessage,
  kInline,       // an embedded Go struct: its fields land in the enclosing JSON object
  kTime,         // metav1.Time {1 seconds, 2 nanos}: RFC 3339 in seconds
  kMicroTime,    // metav1.MicroTime: RFC 3339 with microseconds
  kQuantity,     // resource.Quantity {1 string}
  kIntOrString,  // intstr.IntOrString {1 type, 2 intVal, 3 strVal}
  kFieldsV1,     // metav1.FieldsV1 {1 raw JSON}
  kStringMap,    // map<string, string>
  kBytesMap,     // map<string, bytes>
  kQuantityMap,  // map<string, Quantity> (ResourceList)
};

enum Flags : uint8_t {
  kRepeated = 1,
  // Kept in the JSON even at its zero value: a Go pointer field (only sent when set) or one
  // without omitempty. Others are left out at zero, as Go's encoding/json does.
  kPresent = 2,
};

struct MessageSpec;
using MessageRef = const MessageSpec& (*)();

struct FieldSpec {
  uint32_t number;
  std::string_view json;
  Type type;
  uint8_t flags = 0;
  MessageRef message = nullptr;
};

struct MessageSpec {
  std::string_view name;
  std::vector<FieldSpec> fields;
  const FieldSpec* Find(uint32_t number) const {
    for (const auto& f : fields) {
      if (f.number == number) return &f;
    }
    return nullptr;
  }
};

// Short constructors keep the tables one field per call.
FieldSpec Str(uint32_t n, std::string_view j, uint8_t f = 0) { return {n, j, Type::kString, f}; }
FieldSpec Strs(uint32_t n, std::string_view j) { return {n, j, Type::kString, kRepeated}; }
FieldSpec Bool(uint32_t n, std::string_view j, uint8_t f = 0) { return {n, j, Type::kBool, f}; }
FieldSpec I32(uint32_t n, std::string_view j, uint8_t f = 0) { return {n, j, Type::kInt32, f}; }
FieldSpec I64(uint32_t n, std::string_view j, uint8_t f = 0) { return {n, j, Type::kInt64, f}; }
FieldSpec I64s(uint32_t n, std::string_view j) { return {n, j, Type::kInt64, kRepeated}; }
FieldSpec Msg(uint32_t n, std::string_view j, MessageRef m) { return {n, j, Type::kMessage, 0, m}; }
FieldSpec Msgs(uint32_t n, std::string_view j, MessageRef m) { return {n, j, Type::kMessage, kRepeated, m}; }
FieldSpec Inline(uint32_t n, MessageRef m) { return {n, "", Type::kInline, 0, m}; }
FieldSpec Time(uint32_t n, std::string_view j) { return {n, j, Type::kTime}; }
FieldSpec MicroTime(uint32_t n, std::string_view j) { return {n, j, Type::kMicroTime}; }
FieldSpec Qty(uint32_t n, std::string_view j) { return {n, j, Type::kQuantity}; }
FieldSpec IntStr(uint32_t n, std::string_view j) { return {n, j, Type::kIntOrString}; }
FieldSpec StrMap(uint32_t n, std::string_view j) { return {n, j, Type::kStringMap}; }
FieldSpec BytesMap(uint32_t n, std::string_view j) { return {n, j, Type::kBytesMap}; }
FieldSpec QtyMap(uint32_t n, std::string_view j) { return {n, j, Type::kQuantityMap}; }

// Field numbers are those of k8s.io/apimachinery pkg/apis/meta/v1/generated.proto and
// k8s.io/api {core,apps,autoscaling,coordination,events,scheduling}/v1/generated.proto; the kPresent
// flags follow the Go types' pointer fields and json tags without omitempty. A table lists the
// fields clients set; anything else is an unknown field (skipped, or refused under Strict).
// The tables reference each other without cycles, so the decoder's recursion is bounded by them.
#define PRESCIENT_NAMED_MESSAGE(FUNCTION, NAME, ...)   \
  const MessageSpec& FUNCTION() {                      \
    static const MessageSpec spec{NAME, {__VA_ARGS__}}; \
    return spec;                                       \
  }
#define PRESCIENT_MESSAGE(NAME, ...) PRESCIENT_NAMED_MESSAGE(NAME, #NAME, __VA_ARGS__)

// meta/v1
PRESCIENT_MESSAGE(OwnerReference, Str(5, "apiVersion", kPresent), Str(1, "kind", kPresent), Str(3, "name", kPresent),
                  Str(4, "uid", kPresent), Bool(6, "controller", kPresent), Bool(7, "blockOwnerDeletion", kPresent))
PRESCIENT_MESSAGE(ManagedFieldsEntry, Str(1, "manager"), Str(2, "operation"), Str(3, "apiVersion"), Time(4, "time"),
                  Str(6, "fieldsType"), FieldSpec{7, "fieldsV1", Type::kFieldsV1}, Str(8, "subresource"))
PRESCIENT_MESSAGE(ObjectMeta, Str(1, "name"), Str(2, "generateName"), Str(3, "namespace"), Str(4, "selfLink"),
                  Str(5, "uid"), Str(6, "resourceVersion"), I64(7, "generation"), Time(8, "creationTimestamp"),
                  Time(9, "deletionTimestamp"), I64(10, "deletionGracePeriodSeconds", kPresent), StrMap(11, "labels"),
                  StrMap(12, "annotations"), Msgs(13, "ownerReferences", OwnerReference), Strs(14, "finalizers"),
                  Msgs(17, "managedFields", ManagedFieldsEntry))
PRESCIENT_MESSAGE(LabelSelectorRequirement, Str(1, "key", kPresent), Str(2, "operator", kPresent), Strs(3, "values"))
PRESCIENT_MESSAGE(LabelSelector, StrMap(1, "matchLabels"), Msgs(2, "matchExpressions", LabelSelectorRequirement))
PRESCIENT_MESSAGE(Condition, Str(1, "type", kPresent), Str(2, "status", kPresent), I64(3, "observedGeneration"),
                  Time(4, "lastTransitionTime"), Str(5, "reason", kPresent), Str(6, "message", kPresent))
PRESCIENT_MESSAGE(Preconditions, Str(1, "uid", kPresent), Str(2, "resourceVersion", kPresent))
PRESCIENT_MESSAGE(DeleteOptions, I64(1, "gracePeriodSeconds", kPresent), Msg(2, "preconditions", Preconditions),
                  Bool(3, "orphanDependents", kPresent), Str(4, "propagationPolicy", kPresent), Strs(5, "dryRun"),
                  Bool(6, "ignoreStoreReadErrorWithClusterBreakingPotential", kPresent))

// core/v1: references and small shared messages
PRESCIENT_MESSAGE(ObjectReference, Str(1, "kind"), Str(2, "namespace"), Str(3, "name"), Str(4, "uid"),
                  Str(5, "apiVersion"), Str(6, "resourceVersion"), Str(7, "fieldPath"))
PRESCIENT_MESSAGE(LocalObjectReference, Str(1, "name"))
PRESCIENT_MESSAGE(KeyToPath, Str(1, "key", kPresent), Str(2, "path", kPresent), I32(3, "mode", kPresent))
PRESCIENT_MESSAGE(ObjectFieldSelector, Str(1, "apiVersion"), Str(2, "fieldPath", kPresent))
PRESCIENT_MESSAGE(ResourceFieldSelector, Str(1, "containerName"), Str(2, "resource", kPresent), Qty(3, "divisor"))
PRESCIENT_MESSAGE(ResourceClaim, Str(1, "name", kPresent), Str(2, "request"))
PRESCIENT_MESSAGE(ResourceRequirements, QtyMap(1, "limits"), QtyMap(2, "requests"), Msgs(3, "claims", ResourceClaim))

// core/v1: containers
PRESCIENT_MESSAGE(ContainerPort, Str(1, "name"), I32(2, "hostPort"), I32(3, "containerPort", kPresent),
                  Str(4, "protocol"), Str(5, "hostIP"))
PRESCIENT_MESSAGE(ConfigMapKeySelector, Inline(1, LocalObjectReference), Str(2, "key", kPresent),
                  Bool(3, "optional", kPresent))
PRESCIENT_MESSAGE(SecretKeySelector, Inline(1, LocalObjectReference), Str(2, "key", kPresent),
                  Bool(3, "optional", kPresent))
PRESCIENT_MESSAGE(EnvVarSource, Msg(1, "fieldRef", ObjectFieldSelector), Msg(2, "resourceFieldRef", ResourceFieldSelector),
                  Msg(3, "configMapKeyRef", ConfigMapKeySelector), Msg(4, "secretKeyRef", SecretKeySelector))
PRESCIENT_MESSAGE(EnvVar, Str(1, "name", kPresent), Str(2, "value"), Msg(3, "valueFrom", EnvVarSource))
PRESCIENT_MESSAGE(ConfigMapEnvSource, Inline(1, LocalObjectReference), Bool(2, "optional", kPresent))
PRESCIENT_MESSAGE(SecretEnvSource, Inline(1, LocalObjectReference), Bool(2, "optional", kPresent))
PRESCIENT_MESSAGE(EnvFromSource, Str(1, "prefix"), Msg(2, "configMapRef", ConfigMapEnvSource),
                  Msg(3, "secretRef", SecretEnvSource))
PRESCIENT_MESSAGE(ContainerResizePolicy, Str(1, "resourceName", kPresent), Str(2, "restartPolicy", kPresent))
PRESCIENT_MESSAGE(VolumeMount, Str(1, "name", kPresent), Bool(2, "readOnly"), Str(7, "recursiveReadOnly", kPresent),
                  Str(3, "mountPath", kPresent), Str(4, "subPath"), Str(5, "mountPropagation", kPresent),
                  Str(6, "subPathExpr"))
PRESCIENT_MESSAGE(ExecAction, Strs(1, "command"))
PRESCIENT_MESSAGE(HTTPHeader, Str(1, "name", kPresent), Str(2, "value", kPresent))
PRESCIENT_MESSAGE(HTTPGetAction, Str(1, "path"), IntStr(2, "port"), Str(3, "host"), Str(4, "scheme"),
                  Msgs(5, "httpHeaders", HTTPHeader))
PRESCIENT_MESSAGE(TCPSocketAction, IntStr(1, "port"), Str(2, "host"))
PRESCIENT_MESSAGE(GRPCAction, I32(1, "port", kPresent), Str(2, "service", kPresent))
PRESCIENT_MESSAGE(SleepAction, I64(1, "seconds", kPresent))
PRESCIENT_MESSAGE(ProbeHandler, Msg(1, "exec", ExecAction), Msg(2, "httpGet", HTTPGetAction),
                  Msg(3, "tcpSocket", TCPSocketAction), Msg(4, "grpc", GRPCAction))
PRESCIENT_MESSAGE(Probe, Inline(1, ProbeHandler), I32(2, "initialDelaySeconds"), I32(3, "timeoutSeconds"),
                  I32(4, "periodSeconds"), I32(5, "successThreshold"), I32(6, "failureThreshold"),
                  I64(7, "terminationGracePeriodSeconds", kPresent))
PRESCIENT_MESSAGE(LifecycleHandler, Msg(1, "exec", ExecAction), Msg(2, "httpGet", HTTPGetAction),
                  Msg(3, "tcpSocket", TCPSocketAction), Msg(4, "sleep", SleepAction))
PRESCIENT_MESSAGE(Lifecycle, Msg(1, "postStart", LifecycleHandler), Msg(2, "preStop", LifecycleHandler),
                  Str(3, "stopSignal", kPresent))
PRESCIENT_MESSAGE(Capabilities, Strs(1, "add"), Strs(2, "drop"))
PRESCIENT_MESSAGE(SELinuxOptions, Str(1, "user"), Str(2, "role"), Str(3, "type"), Str(4, "level"))
PRESCIENT_MESSAGE(SeccompProfile, Str(1, "type", kPresent), Str(2, "localhostProfile", kPresent))
PRESCIENT_MESSAGE(SecurityContext, Msg(1, "capabilities", Capabilities), Bool(2, "privileged", kPresent),
                  Msg(3, "seLinuxOptions", SELinuxOptions), I64(4, "runAsUser", kPresent), I64(8, "runAsGroup", kPresent),
                  Bool(5, "runAsNonRoot", kPresent), Bool(6, "readOnlyRootFilesystem", kPresent),
                  Bool(7, "allowPrivilegeEscalation", kPresent), Str(9, "procMount", kPresent),
                  Msg(11, "seccompProfile", SeccompProfile))
PRESCIENT_MESSAGE(Container, Str(1, "name", kPresent), Str(2, "image"), Strs(3, "command"), Strs(4, "args"),
                  Str(5, "workingDir"), Msgs(6, "ports", ContainerPort), Msgs(19, "envFrom", EnvFromSource),
                  Msgs(7, "env", EnvVar), Msg(8, "resources", ResourceRequirements),
                  Msgs(23, "resizePolicy", ContainerResizePolicy), Str(24, "restartPolicy", kPresent),
                  Msgs(9, "volumeMounts", VolumeMount), Msg(10, "livenessProbe", Probe), Msg(11, "readinessProbe", Probe),
                  Msg(22, "startupProbe", Probe), Msg(12, "lifecycle", Lifecycle), Str(13, "terminationMessagePath"),
                  Str(20, "terminationMessagePolicy"), Str(14, "imagePullPolicy"),
                  Msg(15, "securityContext", SecurityContext), Bool(16, "stdin"), Bool(17, "stdinOnce"), Bool(18, "tty"))

// core/v1: volumes
PRESCIENT_MESSAGE(HostPathVolumeSource, Str(1, "path", kPresent), Str(2, "type", kPresent))
PRESCIENT_MESSAGE(EmptyDirVolumeSource, Str(1, "medium"), Qty(2, "sizeLimit"))
PRESCIENT_MESSAGE(SecretVolumeSource, Str(1, "secretName"), Msgs(2, "items", KeyToPath), I32(3, "defaultMode", kPresent),
                  Bool(4, "optional", kPresent))
PRESCIENT_MESSAGE(ConfigMapVolumeSource, Inline(1, LocalObjectReference), Msgs(2, "items", KeyToPath),
                  I32(3, "defaultMode", kPresent), Bool(4, "optional", kPresent))
PRESCIENT_MESSAGE(PersistentVolumeClaimVolumeSource, Str(1, "claimName", kPresent), Bool(2, "readOnly"))
PRESCIENT_MESSAGE(DownwardAPIVolumeFile, Str(1, "path", kPresent), Msg(2, "fieldRef", ObjectFieldSelector),
                  Msg(3, "resourceFieldRef", ResourceFieldSelector), I32(4, "mode", kPresent))
PRESCIENT_MESSAGE(DownwardAPIVolumeSource, Msgs(1, "items", DownwardAPIVolumeFile), I32(2, "defaultMode", kPresent))
PRESCIENT_MESSAGE(SecretProjection, Inline(1, LocalObjectReference), Msgs(2, "items", KeyToPath),
                  Bool(4, "optional", kPresent))
PRESCIENT_MESSAGE(ConfigMapProjection, Inline(1, LocalObjectReference), Msgs(2, "items", KeyToPath),
                  Bool(4, "optional", kPresent))
PRESCIENT_MESSAGE(DownwardAPIProjection, Msgs(1, "items", DownwardAPIVolumeFile))
PRESCIENT_MESSAGE(ServiceAccountTokenProjection, Str(1, "audience"), I64(2, "expirationSeconds", kPresent),
                  Str(3, "path", kPresent))
PRESCIENT_MESSAGE(VolumeProjection, Msg(1, "secret", SecretProjection), Msg(2, "downwardAPI", DownwardAPIProjection),
                  Msg(3, "configMap", ConfigMapProjection), Msg(4, "serviceAccountToken", ServiceAccountTokenProjection))
PRESCIENT_MESSAGE(ProjectedVolumeSource, Msgs(1, "sources", VolumeProjection), I32(2, "defaultMode", kPresent))
PRESCIENT_MESSAGE(VolumeSource, Msg(1, "hostPath", HostPathVolumeSource), Msg(2, "emptyDir", EmptyDirVolumeSource),
                  Msg(6, "secret", SecretVolumeSource), Msg(10, "persistentVolumeClaim", PersistentVolumeClaimVolumeSource),
                  Msg(16, "downwardAPI", DownwardAPIVolumeSource), Msg(19, "configMap", ConfigMapVolumeSource),
                  Msg(26, "projected", ProjectedVolumeSource))
PRESCIENT_MESSAGE(Volume, Str(1, "name", kPresent), Inline(2, VolumeSource))

// core/v1: scheduling constraints
PRESCIENT_MESSAGE(NodeSelectorRequirement, Str(1, "key", kPresent), Str(2, "operator", kPresent), Strs(3, "values"))
PRESCIENT_MESSAGE(NodeSelectorTerm, Msgs(1, "matchExpressions", NodeSelectorRequirement),
                  Msgs(2, "matchFields", NodeSelectorRequirement))
PRESCIENT_MESSAGE(NodeSelector, Msgs(1, "nodeSelectorTerms", NodeSelectorTerm))
PRESCIENT_MESSAGE(PreferredSchedulingTerm, I32(1, "weight", kPresent), Msg(2, "preference", NodeSelectorTerm))
PRESCIENT_MESSAGE(NodeAffinity, Msg(1, "requiredDuringSchedulingIgnoredDuringExecution", NodeSelector),
                  Msgs(2, "preferredDuringSchedulingIgnoredDuringExecution", PreferredSchedulingTerm))
PRESCIENT_MESSAGE(PodAffinityTerm, Msg(1, "labelSelector", LabelSelector), Strs(2, "namespaces"),
                  Str(3, "topologyKey", kPresent), Msg(4, "namespaceSelector", LabelSelector),
                  Strs(5, "matchLabelKeys"), Strs(6, "mismatchLabelKeys"))
PRESCIENT_MESSAGE(WeightedPodAffinityTerm, I32(1, "weight", kPresent), Msg(2, "podAffinityTerm", PodAffinityTerm))
PRESCIENT_MESSAGE(PodAffinity, Msgs(1, "requiredDuringSchedulingIgnoredDuringExecution", PodAffinityTerm),
                  Msgs(2, "preferredDuringSchedulingIgnoredDuringExecution", WeightedPodAffinityTerm))
PRESCIENT_MESSAGE(PodAntiAffinity, Msgs(1, "requiredDuringSchedulingIgnoredDuringExecution", PodAffinityTerm),
                  Msgs(2, "preferredDuringSchedulingIgnoredDuringExecution", WeightedPodAffinityTerm))
PRESCIENT_MESSAGE(Affinity, Msg(1, "nodeAffinity", NodeAffinity), Msg(2, "podAffinity", PodAffinity),
                  Msg(3, "podAntiAffinity", PodAntiAffinity))
PRESCIENT_MESSAGE(Toleration, Str(1, "key"), Str(2, "operator"), Str(3, "value"), Str(4, "effect"),
                  I64(5, "tolerationSeconds", kPresent))
PRESCIENT_MESSAGE(TopologySpreadConstraint, I32(1, "maxSkew", kPresent), Str(2, "topologyKey", kPresent),
                  Str(3, "whenUnsatisfiable", kPresent), Msg(4, "labelSelector", LabelSelector),
                  I32(5, "minDomains", kPresent), Str(6, "nodeAffinityPolicy", kPresent),
                  Str(7, "nodeTaintsPolicy", kPresent), Strs(8, "matchLabelKeys"))

// core/v1: pods
PRESCIENT_MESSAGE(Sysctl, Str(1, "name", kPresent), Str(2, "value", kPresent))
PRESCIENT_MESSAGE(PodSecurityContext, Msg(1, "seLinuxOptions", SELinuxOptions), I64(2, "runAsUser", kPresent),
                  I64(6, "runAsGroup", kPresent), Bool(3, "runAsNonRoot", kPresent), I64s(4, "supplementalGroups"),
                  Str(12, "supplementalGroupsPolicy", kPresent), I64(5, "fsGroup", kPresent), Msgs(7, "sysctls", Sysctl),
                  Str(9, "fsGroupChangePolicy", kPresent), Msg(10, "seccompProfile", SeccompProfile),
                  Str(13, "seLinuxChangePolicy", kPresent))
PRESCIENT_MESSAGE(HostAlias, Str(1, "ip", kPresent), Strs(2, "hostnames"))
PRESCIENT_MESSAGE(PodDNSConfigOption, Str(1, "name"), Str(2, "value", kPresent))
PRESCIENT_MESSAGE(PodDNSConfig, Strs(1, "nameservers"), Strs(2, "searches"), Msgs(3, "options", PodDNSConfigOption))
PRESCIENT_MESSAGE(PodReadinessGate, Str(1, "conditionType", kPresent))
PRESCIENT_MESSAGE(PodOS, Str(1, "name", kPresent))
PRESCIENT_MESSAGE(PodSchedulingGate, Str(1, "name", kPresent))
PRESCIENT_MESSAGE(PodSpec, Msgs(1, "volumes", Volume), Msgs(20, "initContainers", Container),
                  Msgs(2, "containers", Container), Str(3, "restartPolicy"),
                  I64(4, "terminationGracePeriodSeconds", kPresent), I64(5, "activeDeadlineSeconds", kPresent),
                  Str(6, "dnsPolicy"), StrMap(7, "nodeSelector"), Str(8, "serviceAccountName"), Str(9, "serviceAccount"),
                  Bool(21, "automountServiceAccountToken", kPresent), Str(10, "nodeName"), Bool(11, "hostNetwork"),
                  Bool(12, "hostPID"), Bool(13, "hostIPC"), Bool(27, "shareProcessNamespace", kPresent),
                  Msg(14, "securityContext", PodSecurityContext), Msgs(15, "imagePullSecrets", LocalObjectReference),
                  Str(16, "hostname"), Str(17, "subdomain"), Msg(18, "affinity", Affinity), Str(19, "schedulerName"),
                  Msgs(22, "tolerations", Toleration), Msgs(23, "hostAliases", HostAlias),
                  Str(24, "priorityClassName"), I32(25, "priority", kPresent), Msg(26, "dnsConfig", PodDNSConfig),
                  Msgs(28, "readinessGates", PodReadinessGate), Str(29, "runtimeClassName", kPresent),
                  Bool(30, "enableServiceLinks", kPresent), Str(31, "preemptionPolicy", kPresent),
                  QtyMap(32, "overhead"), Msgs(33, "topologySpreadConstraints", TopologySpreadConstraint),
                  Bool(35, "setHostnameAsFQDN", kPresent), Msg(36, "os", PodOS), Bool(37, "hostUsers", kPresent),
                  Msgs(38, "schedulingGates", PodSchedulingGate), Msg(40, "resources", ResourceRequirements),
                  Str(41, "hostnameOverride", kPresent))
PRESCIENT_MESSAGE(PodCondition, Str(1, "type", kPresent), I64(7, "observedGeneration"), Str(2, "status", kPresent),
                  Time(3, "lastProbeTime"), Time(4, "lastTransitionTime"), Str(5, "reason"), Str(6, "message"))
PRESCIENT_MESSAGE(HostIP, Str(1, "ip", kPresent))
PRESCIENT_MESSAGE(PodIP, Str(1, "ip", kPresent))
PRESCIENT_MESSAGE(ContainerStateWaiting, Str(1, "reason"), Str(2, "message"))
PRESCIENT_MESSAGE(ContainerStateRunning, Time(1, "startedAt"))
PRESCIENT_MESSAGE(ContainerStateTerminated, I32(1, "exitCode", kPresent), I32(2, "signal"), Str(3, "reason"),
                  Str(4, "message"), Time(5, "startedAt"), Time(6, "finishedAt"), Str(7, "containerID"))
PRESCIENT_MESSAGE(ContainerState, Msg(1, "waiting", ContainerStateWaiting), Msg(2, "running", ContainerStateRunning),
                  Msg(3, "terminated", ContainerStateTerminated))
PRESCIENT_MESSAGE(ContainerStatus, Str(1, "name", kPresent), Msg(2, "state", ContainerState),
                  Msg(3, "lastState", ContainerState), Bool(4, "ready", kPresent), I32(5, "restartCount", kPresent),
                  Str(6, "image", kPresent), Str(7, "imageID", kPresent), Str(8, "containerID"),
                  Bool(9, "started", kPresent), QtyMap(10, "allocatedResources"),
                  Msg(11, "resources", ResourceRequirements))
PRESCIENT_MESSAGE(PodStatus, I64(17, "observedGeneration"), Str(1, "phase"), Msgs(2, "conditions", PodCondition),
                  Str(3, "message"), Str(4, "reason"), Str(11, "nominatedNodeName"), Str(5, "hostIP"),
                  Msgs(16, "hostIPs", HostIP), Str(6, "podIP"), Msgs(12, "podIPs", PodIP), Time(7, "startTime"),
                  Msgs(10, "initContainerStatuses", ContainerStatus), Msgs(8, "containerStatuses", ContainerStatus),
                  Str(9, "qosClass"), Str(14, "resize"))
PRESCIENT_MESSAGE(Pod, Msg(1, "metadata", ObjectMeta), Msg(2, "spec", PodSpec), Msg(3, "status", PodStatus))
PRESCIENT_MESSAGE(PodTemplateSpec, Msg(1, "metadata", ObjectMeta), Msg(2, "spec", PodSpec))
PRESCIENT_MESSAGE(PodTemplate, Msg(1, "metadata", ObjectMeta), Msg(2, "template", PodTemplateSpec))
PRESCIENT_MESSAGE(Binding, Msg(1, "metadata", ObjectMeta), Msg(2, "target", ObjectReference))

// core/v1: nodes
PRESCIENT_MESSAGE(Taint, Str(1, "key", kPresent), Str(2, "value"), Str(3, "effect", kPresent), Time(4, "timeAdded"))
PRESCIENT_MESSAGE(NodeSpec, Str(1, "podCIDR"), Strs(7, "podCIDRs"), Str(3, "providerID"), Bool(4, "unschedulable"),
                  Msgs(5, "taints", Taint), Str(2, "externalID"))
PRESCIENT_MESSAGE(NodeCondition, Str(1, "type", kPresent), Str(2, "status", kPresent), Time(3, "lastHeartbeatTime"),
                  Time(4, "lastTransitionTime"), Str(5, "reason"), Str(6, "message"))
PRESCIENT_MESSAGE(NodeAddress, Str(1, "type", kPresent), Str(2, "address", kPresent))
PRESCIENT_MESSAGE(DaemonEndpoint, I32(1, "Port", kPresent))
PRESCIENT_MESSAGE(NodeDaemonEndpoints, Msg(1, "kubeletEndpoint", DaemonEndpoint))
PRESCIENT_MESSAGE(NodeSystemInfo, Str(1, "machineID", kPresent), Str(2, "systemUUID", kPresent),
                  Str(3, "bootID", kPresent), Str(4, "kernelVersion", kPresent), Str(5, "osImage", kPresent),
                  Str(6, "containerRuntimeVersion", kPresent), Str(7, "kubeletVersion", kPresent),
                  Str(8, "kubeProxyVersion", kPresent), Str(9, "operatingSystem", kPresent),
                  Str(10, "architecture", kPresent))
PRESCIENT_MESSAGE(ContainerImage, Strs(1, "names"), I64(2, "sizeBytes"))
PRESCIENT_MESSAGE(NodeStatus, QtyMap(1, "capacity"), QtyMap(2, "allocatable"), Str(3, "phase"),
                  Msgs(4, "conditions", NodeCondition), Msgs(5, "addresses", NodeAddress),
                  Msg(6, "daemonEndpoints", NodeDaemonEndpoints), Msg(7, "nodeInfo", NodeSystemInfo),
                  Msgs(8, "images", ContainerImage), Strs(9, "volumesInUse"))
PRESCIENT_MESSAGE(Node, Msg(1, "metadata", ObjectMeta), Msg(2, "spec", NodeSpec), Msg(3, "status", NodeStatus))

// core/v1: the rest of the served kinds
PRESCIENT_MESSAGE(NamespaceSpec, Strs(1, "finalizers"))
PRESCIENT_MESSAGE(NamespaceCondition, Str(1, "type", kPresent), Str(2, "status", kPresent),
                  Time(4, "lastTransitionTime"), Str(5, "reason"), Str(6, "message"))
PRESCIENT_MESSAGE(NamespaceStatus, Str(1, "phase"), Msgs(2, "conditions", NamespaceCondition))
PRESCIENT_MESSAGE(Namespace, Msg(1, "metadata", ObjectMeta), Msg(2, "spec", NamespaceSpec),
                  Msg(3, "status", NamespaceStatus))
PRESCIENT_MESSAGE(ScopedResourceSelectorRequirement, Str(1, "scopeName", kPresent), Str(2, "operator", kPresent),
                  Strs(3, "values"))
PRESCIENT_MESSAGE(ScopeSelector, Msgs(1, "matchExpressions", ScopedResourceSelectorRequirement))
PRESCIENT_MESSAGE(ResourceQuotaSpec, QtyMap(1, "hard"), Strs(2, "scopes"), Msg(3, "scopeSelector", ScopeSelector))
PRESCIENT_MESSAGE(ResourceQuotaStatus, QtyMap(1, "hard"), QtyMap(2, "used"))
PRESCIENT_MESSAGE(ResourceQuota, Msg(1, "metadata", ObjectMeta), Msg(2, "spec", ResourceQuotaSpec),
                  Msg(3, "status", ResourceQuotaStatus))
PRESCIENT_MESSAGE(ConfigMap, Msg(1, "metadata", ObjectMeta), Bool(4, "immutable", kPresent), StrMap(2, "data"),
                  BytesMap(3, "binaryData"))
PRESCIENT_MESSAGE(Secret, Msg(1, "metadata", ObjectMeta), Bool(5, "immutable", kPresent), BytesMap(2, "data"),
                  StrMap(4, "stringData"), Str(3, "type"))
PRESCIENT_MESSAGE(ServiceAccount, Msg(1, "metadata", ObjectMeta), Msgs(2, "secrets", ObjectReference),
                  Msgs(3, "imagePullSecrets", LocalObjectReference), Bool(4, "automountServiceAccountToken", kPresent))
PRESCIENT_MESSAGE(ServicePort, Str(1, "name"), Str(2, "protocol"), Str(6, "appProtocol", kPresent),
                  I32(3, "port", kPresent), IntStr(4, "targetPort"), I32(5, "nodePort"))
PRESCIENT_MESSAGE(ClientIPConfig, I32(1, "timeoutSeconds", kPresent))
PRESCIENT_MESSAGE(SessionAffinityConfig, Msg(1, "clientIP", ClientIPConfig))
PRESCIENT_MESSAGE(ServiceSpec, Msgs(1, "ports", ServicePort), StrMap(2, "selector"), Str(3, "clusterIP"),
                  Strs(18, "clusterIPs"), Str(4, "type"), Strs(5, "externalIPs"), Str(7, "sessionAffinity"),
                  Str(8, "loadBalancerIP"), Strs(9, "loadBalancerSourceRanges"), Str(10, "externalName"),
                  Str(11, "externalTrafficPolicy"), I32(12, "healthCheckNodePort"),
                  Bool(13, "publishNotReadyAddresses"), Msg(14, "sessionAffinityConfig", SessionAffinityConfig),
                  Strs(19, "ipFamilies"), Str(17, "ipFamilyPolicy", kPresent),
                  Bool(20, "allocateLoadBalancerNodePorts", kPresent), Str(21, "loadBalancerClass", kPresent),
                  Str(22, "internalTrafficPolicy", kPresent), Str(23, "trafficDistribution", kPresent))
PRESCIENT_MESSAGE(PortStatus, I32(1, "port", kPresent), Str(2, "protocol", kPresent), Str(3, "error", kPresent))
PRESCIENT_MESSAGE(LoadBalancerIngress, Str(1, "ip"), Str(2, "hostname"), Str(3, "ipMode", kPresent),
                  Msgs(4, "ports", PortStatus))
PRESCIENT_MESSAGE(LoadBalancerStatus, Msgs(1, "ingress", LoadBalancerIngress))
PRESCIENT_MESSAGE(ServiceStatus, Msg(1, "loadBalancer", LoadBalancerStatus), Msgs(2, "conditions", Condition))
PRESCIENT_MESSAGE(Service, Msg(1, "metadata", ObjectMeta), Msg(2, "spec", ServiceSpec), Msg(3, "status", ServiceStatus))
PRESCIENT_MESSAGE(EndpointAddress, Str(1, "ip", kPresent), Str(3, "hostname"), Str(4, "nodeName", kPresent),
                  Msg(2, "targetRef", ObjectReference))
PRESCIENT_MESSAGE(EndpointPort, Str(1, "name"), I32(2, "port", kPresent), Str(3, "protocol"),
                  Str(4, "appProtocol", kPresent))
PRESCIENT_MESSAGE(EndpointSubset, Msgs(1, "addresses", EndpointAddress), Msgs(2, "notReadyAddresses", EndpointAddress),
                  Msgs(3, "ports", EndpointPort))
PRESCIENT_MESSAGE(Endpoints, Msg(1, "metadata", ObjectMeta), Msgs(2, "subsets", EndpointSubset))
PRESCIENT_MESSAGE(EventSource, Str(1, "component"), Str(2, "host"))
PRESCIENT_MESSAGE(EventSeries, I32(1, "count"), MicroTime(2, "lastObservedTime"))
PRESCIENT_MESSAGE(Event, Msg(1, "metadata", ObjectMeta), Msg(2, "involvedObject", ObjectReference), Str(3, "reason"),
                  Str(4, "message"), Msg(5, "source", EventSource), Time(6, "firstTimestamp"),
                  Time(7, "lastTimestamp"), I32(8, "count"), Str(9, "type"), MicroTime(10, "eventTime"),
                  Msg(11, "series", EventSeries), Str(12, "action"), Msg(13, "related", ObjectReference),
                  Str(14, "reportingComponent", kPresent), Str(15, "reportingInstance", kPresent))

// events.k8s.io/v1
PRESCIENT_NAMED_MESSAGE(EventsV1EventSeries, "EventSeries", I32(1, "count", kPresent), MicroTime(2, "lastObservedTime"))
PRESCIENT_NAMED_MESSAGE(EventsV1Event, "Event", Msg(1, "metadata", ObjectMeta), MicroTime(2, "eventTime"),
                  Msg(3, "series", EventsV1EventSeries), Str(4, "reportingController"), Str(5, "reportingInstance"),
                  Str(6, "action"), Str(7, "reason"), Msg(8, "regarding", ObjectReference),
                  Msg(9, "related", ObjectReference), Str(10, "note"), Str(11, "type"),
                  Msg(12, "deprecatedSource", EventSource), Time(13, "deprecatedFirstTimestamp"),
                  Time(14, "deprecatedLastTimestamp"), I32(15, "deprecatedCount"))

// apps/v1, autoscaling/v1
PRESCIENT_MESSAGE(RollingUpdateDeployment, IntStr(1, "maxUnavailable"), IntStr(2, "maxSurge"))
PRESCIENT_MESSAGE(DeploymentStrategy, Str(1, "type"), Msg(2, "rollingUpdate", RollingUpdateDeployment))
PRESCIENT_MESSAGE(DeploymentSpec, I32(1, "replicas", kPresent), Msg(2, "selector", LabelSelector),
                  Msg(3, "template", PodTemplateSpec), Msg(4, "strategy", DeploymentStrategy), I32(5, "minReadySeconds"),
                  I32(6, "revisionHistoryLimit", kPresent), Bool(7, "paused"),
                  I32(9, "progressDeadlineSeconds", kPresent))
PRESCIENT_MESSAGE(DeploymentCondition, Str(1, "type", kPresent), Str(2, "status", kPresent), Time(6, "lastUpdateTime"),
                  Time(7, "lastTransitionTime"), Str(4, "reason"), Str(5, "message"))
PRESCIENT_MESSAGE(DeploymentStatus, I64(1, "observedGeneration"), I32(2, "replicas"), I32(3, "updatedReplicas"),
                  I32(7, "readyReplicas"), I32(4, "availableReplicas"), I32(5, "unavailableReplicas"),
                  I32(9, "terminatingReplicas", kPresent), Msgs(6, "conditions", DeploymentCondition),
                  I32(8, "collisionCount", kPresent))
PRESCIENT_MESSAGE(Deployment, Msg(1, "metadata", ObjectMeta), Msg(2, "spec", DeploymentSpec),
                  Msg(3, "status", DeploymentStatus))
// ScaleSpec.replicas is omitempty in Go, but there 0 means "scale to zero", which the JSON must say.
PRESCIENT_MESSAGE(ScaleSpec, I32(1, "replicas", kPresent))
PRESCIENT_MESSAGE(ScaleStatus, I32(1, "replicas", kPresent), Str(2, "selector"))
PRESCIENT_MESSAGE(Scale, Msg(1, "metadata", ObjectMeta), Msg(2, "spec", ScaleSpec), Msg(3, "status", ScaleStatus))

// scheduling.k8s.io/v1, coordination.k8s.io/v1
PRESCIENT_MESSAGE(PriorityClass, Msg(1, "metadata", ObjectMeta), I32(2, "value", kPresent), Bool(3, "globalDefault"),
                  Str(4, "description"), Str(5, "preemptionPolicy", kPresent))
PRESCIENT_MESSAGE(LeaseSpec, Str(1, "holderIdentity", kPresent), I32(2, "leaseDurationSeconds", kPresent),
                  MicroTime(3, "acquireTime"), MicroTime(4, "renewTime"), I32(5, "leaseTransitions", kPresent),
                  Str(6, "strategy", kPresent), Str(7, "preferredHolder", kPresent))
PRESCIENT_MESSAGE(Lease, Msg(1, "metadata", ObjectMeta), Msg(2, "spec", LeaseSpec))

#undef PRESCIENT_MESSAGE
#undef PRESCIENT_NAMED_MESSAGE

struct KindEntry {
  std::string_view api_version;  // "" matches any (DeleteOptions is sent with the resource's group version)
  std::string_view kind;
  MessageRef message;
};

constexpr KindEntry kKinds[] = {
    {"v1", "Namespace", Namespace},
    {"v1", "Node", Node},
    {"v1", "Pod", Pod},
    {"v1", "Binding", Binding},
    {"v1", "ResourceQuota", ResourceQuota},
    {"v1", "Event", Event},
    {"v1", "Service", Service},
    {"v1", "Endpoints", Endpoints},
    {"v1", "ConfigMap", ConfigMap},
    {"v1", "Secret", Secret},
    {"v1", "PodTemplate", PodTemplate},
    {"v1", "ServiceAccount", ServiceAccount},
    {"events.k8s.io/v1", "Event", EventsV1Event},
    {"scheduling.k8s.io/v1", "PriorityClass", PriorityClass},
    {"coordination.k8s.io/v1", "Lease", Lease},
    {"apps/v1", "Deployment", Deployment},
    {"autoscaling/v1", "Scale", Scale},
    {"", "DeleteOptions", DeleteOptions},
};

const KindEntry* FindKind(std::string_view api_version, std::string_view kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind && (k.api_version.empty() || k.api_version == api_version)) return &k;
  }
  return nullptr;
}

// ---- wire decoding ---------------------------------------------------------------------------

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kStartGroup = 3, kEndGroup = 4, kFixed32 = 5 };

// Reads one message's bytes; offsets in errors are relative to the start of the request body.
class Cursor {
 public:
  Cursor(std::string_view data, size_t base) : data_(data), base_(base) {}
  bool Done() const { return pos_ >= data_.size(); }
  size_t Offset() const { return base_ + pos_; }

  bool Varint(uint64_t* out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return false;
      auto b = static_cast<uint8_t>(data_[pos_++]);
      if (shift == 63 && b > 1) return false;  // more than 64 bits
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        *out = v;
        return true;
      }
    }
    return false;
  }

  // A length-delimited value; *offset is where its bytes start.
  bool Bytes(std::string_view* out, size_t* offset) {
    uint64_t len = 0;
    if (!Varint(&len) || len > data_.size() - pos_) return false;
    *offset = Offset();
    *out = data_.substr(pos_, static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return true;
  }

  bool Skip(uint32_t wire) {
    uint64_t ignored = 0;
    std::string_view bytes;
    size_t offset = 0;
    switch (wire) {
      case kVarint: return Varint(&ignored);
      case kFixed64: return Advance(8);
      case kLengthDelimited: return Bytes(&bytes, &offset);
      case kFixed32: return Advance(4);
      default: return false;  // groups were never used by Kubernetes; 6 and 7 do not exist
    }
  }

 private:
  bool Advance(size_t n) {
    if (data_.size() - pos_ < n) return false;
    pos_ += n;
    return true;
  }
  std::string_view data_;
  size_t base_;
  size_t pos_ = 0;
};

// Well-formed UTF-8 (Unicode table 3-7): what Go's JSON output and nlohmann's dump() need.
bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra = 0;
    uint8_t lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      extra = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      extra = 2;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;  // no surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      extra = 3;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (s.size() - i <= static_cast<size_t>(extra)) return false;
    for (int k = 1; k <= extra; ++k) {
      auto b = static_cast<uint8_t>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) return false;
    }
    i += extra + 1;
  }
  return true;
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) | static_cast<uint8_t>(in[i + 2]);
    for (int s : {18, 12, 6, 0}) out += kAlphabet[(v >> s) & 63];
  }
  if (i < in.size()) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string Join(const std::string& path, std::string_view field) {
  return path.empty() ? std::string(field) : path + "." + std::string(field);
}

class Decoder {
 public:
  Decoder(std::string_view kind, ProtobufObject* result) : kind_(kind), result_(result) {}

  // Decodes `bytes` (starting at body offset `base`) as `spec` into the JSON object *out, merging
  // into what is there (protobuf semantics for a message field that occurs twice).
  Status Message(std::string_view bytes, size_t base, const MessageSpec& spec, const std::string& path, Json* out) {
    if (!out->is_object()) *out = Json::object();
    Cursor c(bytes, base);
    while (!c.Done()) {
      size_t at = c.Offset();
      uint64_t tag = 0;
      if (!c.Varint(&tag)) return Error("truncated field tag", path, at);
      uint64_t number = tag >> 3;
      auto wire = static_cast<uint32_t>(tag & 7);
      if (number == 0 || number > 536870911) return Error("invalid field number " + std::to_string(number), path, at);
      const FieldSpec* f = spec.Find(static_cast<uint32_t>(number));
      if (!f) {
        if (!c.Skip(wire)) {
          return Error("field number " + std::to_string(number) + ": " +
                           (wire == kStartGroup || wire == kEndGroup || wire > kFixed32 ? "unsupported wire type " + std::to_string(wire)
                                                                                        : std::string("truncated value")),
                       path, at);
        }
        Unknown(path, spec.name, static_cast<uint32_t>(number));
        continue;
      }
      Status s = Field(*f, wire, c, path, at, out);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

 private:
  Status Error(const std::string& what, const std::string& path, size_t at) const {
    return BadProto(what + " at byte " + std::to_string(at) + " (in " + (path.empty() ? kind_ : kind_ + "." + path) + ")");
  }

  static bool IsVarintType(Type t) { return t == Type::kBool || t == Type::kInt32 || t == Type::kInt64; }

  static Json VarintValue(Type t, uint64_t v) {
    if (t == Type::kBool) return v != 0;
    // Go truncates an int32 varint to its low 32 bits (negative int32s arrive sign-extended to 64).
    if (t == Type::kInt32) return static_cast<int32_t>(static_cast<uint32_t>(v));
    return static_cast<int64_t>(v);
  }

  static bool IsZero(const Json& v) {
    if (v.is_boolean()) return !v.get<bool>();
    if (v.is_number()) return v.get<int64_t>() == 0;
    if (v.is_string()) return v.get_ref<const std::string&>().empty();
    return false;
  }

  // A scalar (or a value that stands for one, like a Time string) for field f.
  static void Put(const FieldSpec& f, Json v, Json* out) {
    const std::string key(f.json);
    if (f.flags & kRepeated) {
      Json& a = (*out)[key];
      if (!a.is_array()) a = Json::array();
      a.push_back(std::move(v));
    } else if (v.is_null() || (IsZero(v) && !(f.flags & kPresent))) {
      out->erase(key);  // a later zero value overrides an earlier one, and Go leaves zero out
    } else {
      (*out)[key] = std::move(v);
    }
  }

  Status Field(const FieldSpec& f, uint32_t wire, Cursor& c, const std::string& path, size_t at, Json* out) {
    std::string here = f.type == Type::kInline ? path : Join(path, f.json);
    if (IsVarintType(f.type)) {
      if (wire == kVarint) {
        uint64_t v = 0;
        if (!c.Varint(&v)) return Error("truncated varint", here, at);
        Put(f, VarintValue(f.type, v), out);
        return Status::Ok();
      }
      if (wire == kLengthDelimited && (f.flags & kRepeated)) {  // packed
        std::string_view packed;
        size_t base = 0;
        if (!c.Bytes(&packed, &base)) return Error("truncated length-delimited value", here, at);
        Cursor p(packed, base);
        while (!p.Done()) {
          uint64_t v = 0;
          if (!p.Varint(&v)) return Error("truncated packed varint", here, p.Offset());
          Put(f, VarintValue(f.type, v), out);
        }
        return Status::Ok();
      }
      return Error("wire type " + std::to_string(wire) + " for a varint field", here, at);
    }
    if (wire != kLengthDelimited) {
      return Error("wire type " + std::to_string(wire) + " for a length-delimited field", here, at);
    }
    std::string_view bytes;
    size_t base = 0;
    if (!c.Bytes(&bytes, &base)) return Error("truncated length-delimited value", here, at);
    const std::string key(f.json);
    switch (f.type) {
      case Type::kString:
        if (!ValidUtf8(bytes)) return Error("invalid UTF-8 in a string", here, base);
        Put(f, std::string(bytes), out);
        return Status::Ok();
      case Type::kBytes:
        Put(f, Base64(bytes), out);
        return Status::Ok();
      case Type::kMessage: {
        if (f.flags & kRepeated) {
          Json& a = (*out)[key];
          if (!a.is_array()) a = Json::array();
          Json item = Json::object();
          Status s = Message(bytes, base, f.message(), here + "[" + std::to_string(a.size()) + "]", &item);
          if (!s.ok()) return s;
          a.push_back(std::move(item));
          return Status::Ok();
        }
        return Message(bytes, base, f.message(), here, &(*out)[key]);
      }
      case Type::kInline:
        return Message(bytes, base, f.message(), path, out);
      case Type::kTime:
      case Type::kMicroTime: {
        Json v;
        Status s = Timestamp(bytes, base, f.type == Type::kMicroTime, here, &v);
        if (!s.ok()) return s;
        Put(f, std::move(v), out);
        return Status::Ok();
      }
      case Type::kQuantity: {
        std::string q;
        Status s = QuantityString(bytes, base, here, &q);
        if (!s.ok()) return s;
        (*out)[key] = std::move(q);
        return Status::Ok();
      }
      case Type::kIntOrString: {
        Json v;
        Status s = IntOrString(bytes, base, here, &v);
        if (!s.ok()) return s;
        (*out)[key] = std::move(v);
        return Status::Ok();
      }
      case Type::kFieldsV1: {
        std::string_view raw;
        Status s = FirstBytesField(bytes, base, here, &raw);
        if (!s.ok()) return s;
        if (raw.empty()) return Status::Ok();
        Json v = Json::parse(raw.begin(), raw.end(), nullptr, false);
        if (v.is_discarded()) return Error("the raw bytes are not JSON", here, base);
        (*out)[key] = std::move(v);
        return Status::Ok();
      }
      case Type::kStringMap:
      case Type::kBytesMap:
      case Type::kQuantityMap:
        return MapEntry(f, bytes, base, here, out);
      case Type::kBool:
      case Type::kInt32:
      case Type::kInt64:
        break;  // handled above
    }
    return Error("internal: unhandled field type", here, at);
  }

  // Walks a small fixed message (Timestamp, Quantity, IntOrString, map entry), handing each known
  // field to `on`; other fields are skipped as unknown.
  template <typename On>
  Status Small(std::string_view bytes, size_t base, const std::string& path, std::string_view type, On on) {
    Cursor c(bytes, base);
    while (!c.Done()) {
      size_t at = c.Offset();
      uint64_t tag = 0;
      if (!c.Varint(&tag)) return Error("truncated field tag", path, at);
      auto number = static_cast<uint32_t>(tag >> 3);
      auto wire = static_cast<uint32_t>(tag & 7);
      bool handled = false;
      Status s = on(number, wire, c, at, &handled);
      if (!s.ok()) return s;
      if (!handled) {
        if (!c.Skip(wire)) return Error("field number " + std::to_string(number) + ": bad or truncated value", path, at);
        Unknown(path, type, number);
      }
    }
    return Status::Ok();
  }

  Status ReadVarint(Cursor& c, uint32_t wire, const std::string& path, size_t at, uint64_t* v) {
    if (wire != kVarint) return Error("wire type " + std::to_string(wire) + " for a varint field", path, at);
    if (!c.Varint(v)) return Error("truncated varint", path, at);
    return Status::Ok();
  }

  Status ReadString(Cursor& c, uint32_t wire, const std::string& path, size_t at, bool utf8, std::string_view* v) {
    if (wire != kLengthDelimited) return Error("wire type " + std::to_string(wire) + " for a length-delimited field", path, at);
    size_t base = 0;
    if (!c.Bytes(v, &base)) return Error("truncated length-delimited value", path, at);
    if (utf8 && !ValidUtf8(*v)) return Error("invalid UTF-8 in a string", path, base);
    return Status::Ok();
  }

  // metav1.Time / MicroTime: {1 seconds, 2 nanos}. Go sends its zero time as an empty message:
  // null here, which the caller leaves out. Time keeps seconds only (Go drops the nanos), MicroTime
  // microseconds.
  Status Timestamp(std::string_view bytes, size_t base, bool micro, const std::string& path, Json* out) {
    if (bytes.empty()) {
      *out = nullptr;
      return Status::Ok();
    }
    int64_t seconds = 0;
    int32_t nanos = 0;
    Status s = Small(bytes, base, path, micro ? "MicroTime" : "Time",
                     [&](uint32_t n, uint32_t wire, Cursor& c, size_t at, bool* handled) -> Status {
                       if (n != 1 && n != 2) return Status::Ok();
                       *handled = true;
                       uint64_t v = 0;
                       Status r = ReadVarint(c, wire, path, at, &v);
                       if (n == 1) seconds = static_cast<int64_t>(v);
                       else nanos = static_cast<int32_t>(static_cast<uint32_t>(v));
                       return r;
                     });
    if (!s.ok()) return s;
    // The sim's clock type counts nanoseconds in 64 bits: years 1678 to 2261.
    constexpr int64_t kMin = -9'200'000'000, kMax = 9'200'000'000;
    if (seconds < kMin || seconds > kMax) {
      return Error("seconds " + std::to_string(seconds) + " outside the representable time range (years 1678-2261)", path, base);
    }
    Clock::TimePoint t{std::chrono::seconds(seconds)};
    if (!micro) {
      *out = FormatRfc3339(t);
      return Status::Ok();
    }
    if (nanos < 0 || nanos > 999'999'999) return Error("nanos " + std::to_string(nanos) + " out of range", path, base);
    t += std::chrono::duration_cast<Clock::TimePoint::duration>(std::chrono::microseconds(nanos / 1000));
    *out = FormatRfc3339Micro(t);
    return Status::Ok();
  }

  // resource.Quantity {1 string}. Go decodes a missing string as the zero quantity, "0".
  Status QuantityString(std::string_view bytes, size_t base, const std::string& path, std::string* out) {
    std::string_view q = "0";
    Status s = Small(bytes, base, path, "Quantity", [&](uint32_t n, uint32_t wire, Cursor& c, size_t at, bool* handled) {
      if (n != 1) return Status::Ok();
      *handled = true;
      std::string_view v;
      Status r = ReadString(c, wire, path, at, true, &v);
      if (r.ok() && !v.empty()) q = v;
      return r;
    });
    if (!s.ok()) return s;
    *out = std::string(q);
    return Status::Ok();
  }

  // intstr.IntOrString {1 type (0 int, 1 string), 2 intVal, 3 strVal}.
  Status IntOrString(std::string_view bytes, size_t base, const std::string& path, Json* out) {
    uint64_t type = 0;
    int32_t int_val = 0;
    std::string_view str_val;
    Status s = Small(bytes, base, path, "IntOrString", [&](uint32_t n, uint32_t wire, Cursor& c, size_t at, bool* handled) {
      if (n < 1 || n > 3) return Status::Ok();
      *handled = true;
      uint64_t v = 0;
      if (n == 3) return ReadString(c, wire, path, at, true, &str_val);
      Status r = ReadVarint(c, wire, path, at, &v);
      if (n == 1) type = v;
      else int_val = static_cast<int32_t>(static_cast<uint32_t>(v));
      return r;
    });
    if (!s.ok()) return s;
    if (type == 0) *out = int_val;
    else if (type == 1) *out = std::string(str_val);
    else return Error("IntOrString type " + std::to_string(type) + " is neither 0 (int) nor 1 (string)", path, base);
    return Status::Ok();
  }

  // The bytes of field 1 (FieldsV1.Raw).
  Status FirstBytesField(std::string_view bytes, size_t base, const std::string& path, std::string_view* out) {
    return Small(bytes, base, path, "FieldsV1", [&](uint32_t n, uint32_t wire, Cursor& c, size_t at, bool* handled) {
      if (n != 1) return Status::Ok();
      *handled = true;
      return ReadString(c, wire, path, at, false, out);
    });
  }

  // One map entry {1 key, 2 value}; a missing key or value is the zero value, as in Go.
  Status MapEntry(const FieldSpec& f, std::string_view bytes, size_t base, const std::string& path, Json* out) {
    std::string_view key;
    Json value = f.type == Type::kQuantityMap ? Json("0") : Json("");
    Status s = Small(bytes, base, path, "map entry", [&](uint32_t n, uint32_t wire, Cursor& c, size_t at, bool* handled) -> Status {
      if (n == 1) {
        *handled = true;
        return ReadString(c, wire, path, at, true, &key);
      }
      if (n != 2) return Status::Ok();
      *handled = true;
      if (f.type == Type::kQuantityMap) {
        if (wire != kLengthDelimited) return Error("wire type " + std::to_string(wire) + " for a Quantity", path, at);
        std::string_view q;
        size_t qbase = 0;
        if (!c.Bytes(&q, &qbase)) return Error("truncated length-delimited value", path, at);
        std::string text;
        Status r = QuantityString(q, qbase, path, &text);
        value = std::move(text);
        return r;
      }
      std::string_view v;
      Status r = ReadString(c, wire, path, at, f.type == Type::kStringMap, &v);
      value = f.type == Type::kBytesMap ? Base64(v) : std::string(v);
      return r;
    });
    if (!s.ok()) return s;
    Json& m = (*out)[std::string(f.json)];
    if (!m.is_object()) m = Json::object();
    m[std::string(key)] = std::move(value);
    return Status::Ok();
  }

  void Unknown(const std::string& path, std::string_view type, uint32_t number) {
    auto& list = result_->unknown_fields;
    for (const auto& u : list) {
      if (u.number == number && u.path == path) return;
    }
    if (list.size() >= ProtobufObject::kMaxUnknownFields) {
      ++result_->more_unknown_fields;
      return;
    }
    list.push_back({path, std::string(type), number});
  }

  std::string kind_;
  ProtobufObject* result_;
};

}  // namespace

std::string UnknownProtobufField::ToString() const {
  std::string s = "field number " + std::to_string(number) + " of ";
  return path.empty() ? s + message_type : s + path + " (" + message_type + ")";
}

bool CanDecodeProtobuf(std::string_view api_version, std::string_view kind) { return FindKind(api_version, kind) != nullptr; }

Result<ProtobufObject> DecodeProtobufObject(std::string_view body) {
  if (body.size() < kProtobufMagic.size() || body.substr(0, kProtobufMagic.size()) != kProtobufMagic) {
    return BadProto("does not start with the Kubernetes protobuf prefix \"k8s\\x00\"");
  }
  // The runtime.Unknown envelope: {1 typeMeta {1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding, 4 contentType}.
  std::string api_version, kind, content_encoding;
  std::string_view raw;
  size_t raw_base = 0;
  Cursor c(body.substr(kProtobufMagic.size()), kProtobufMagic.size());
  auto envelope_error = [](const std::string& what, size_t at) {
    return BadProto(what + " at byte " + std::to_string(at) + " (in the runtime.Unknown envelope)");
  };
  while (!c.Done()) {
    size_t at = c.Offset();
    uint64_t tag = 0;
    if (!c.Varint(&tag)) return envelope_error("truncated field tag", at);
    auto number = tag >> 3;
    auto wire = static_cast<uint32_t>(tag & 7);
    if (number < 1 || number > 4) {
      if (!c.Skip(wire)) return envelope_error("field number " + std::to_string(number) + ": bad or truncated value", at);
      continue;
    }
    if (wire != kLengthDelimited) return envelope_error("wire type " + std::to_string(wire) + " for field " + std::to_string(number), at);
    std::string_view bytes;
    size_t base = 0;
    if (!c.Bytes(&bytes, &base)) return envelope_error("truncated length-delimited value", at);
    if (number == 2) {
      raw = bytes;
      raw_base = base;
      continue;
    }
    if (number == 3 || number == 4) {
      if (!ValidUtf8(bytes)) return envelope_error("invalid UTF-8 in a string", base);
      if (number == 3) content_encoding = std::string(bytes);
      continue;
    }
    Cursor t(bytes, base);  // TypeMeta
    while (!t.Done()) {
      size_t tat = t.Offset();
      uint64_t ttag = 0;
      if (!t.Varint(&ttag)) return envelope_error("truncated field tag", tat);
      auto tnum = ttag >> 3;
      auto twire = static_cast<uint32_t>(ttag & 7);
      if ((tnum == 1 || tnum == 2) && twire == kLengthDelimited) {
        std::string_view s;
        size_t sbase = 0;
        if (!t.Bytes(&s, &sbase)) return envelope_error("truncated length-delimited value", tat);
        if (!ValidUtf8(s)) return envelope_error("invalid UTF-8 in a string", sbase);
        (tnum == 1 ? api_version : kind) = std::string(s);
      } else if (!t.Skip(twire)) {
        return envelope_error("field number " + std::to_string(tnum) + ": bad or truncated value", tat);
      }
    }
  }
  if (kind.empty()) return BadProto("the runtime.Unknown envelope names no kind (typeMeta.kind is empty)");
  if (!content_encoding.empty()) {
    return BadProto("contentEncoding \"" + content_encoding + "\" is not supported (only unencoded objects)");
  }
  const KindEntry* entry = FindKind(api_version, kind);
  if (!entry) {
    return Status(Code::kUnsupported, "the sim cannot decode protobuf bodies of kind " + kind + " (apiVersion \"" +
                                          api_version + "\"): send it as application/json or application/yaml")
        .WithHttp(415, "UnsupportedMediaType");
  }
  ProtobufObject result;
  result.object = Json::object();
  Decoder d(kind, &result);
  Status s = d.Message(raw, raw_base, entry->message(), "", &result.object);
  if (!s.ok()) return s;
  result.object["apiVersion"] = api_version;
  result.object["kind"] = kind;
  return result;
}

}  // namespace prescient::sim
