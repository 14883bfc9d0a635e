#!/usr/bin/env python3
"""Writes crds/commandrun.yaml and crds/resourcereservation.yaml.

The CRDs are kept as data built here so the repeated pieces (quantities, targets, conditions) are
written once. Run `python3 crds/generate.py` after editing and commit both outputs. Every bound and
CEL rule below is mirrored in src/api/validation.cc; src/api/crd_schema_test.cc fails when the two
disagree, so change both together.
"""
import os
import yaml

GROUP = "prescient.dev"
VERSION = "v1alpha1"

# Kubernetes' own quantity pattern, without a leading minus: negative amounts are refused here.
QUANTITY_PATTERN = (r"^(\+)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
                    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$")
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"

MAX_COMMAND_BYTES = 65536
MAX_ARGS = 256
MAX_ENV = 128
MAX_DEPENDENCIES = 32
MAX_PRIORITY = 1000000000  # user-defined PriorityClass values stop here; above is system-reserved


def quantity(desc):
    # maxLength bounds the cost the API server estimates for the CEL rules that parse quantities.
    return {"description": desc, "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": QUANTITY_PATTERN, "maxLength": 64, "x-kubernetes-int-or-string": True}


def string(desc, **kw):
    s = {"type": "string", "description": desc}
    s.update(kw)
    return s


def integer(desc, fmt="int64", **kw):
    s = {"type": "integer", "format": fmt, "description": desc}
    s.update(kw)
    return s


def number(desc, **kw):
    s = {"type": "number", "description": desc}
    s.update(kw)
    return s


def obj(desc, props, required=None, rules=None, **kw):
    s = {"type": "object", "description": desc, "properties": props}
    if required:
        s["required"] = required
    if rules:
        s["x-kubernetes-validations"] = [{"rule": r, "message": m} for r, m in rules]
    s.update(kw)
    return s


def timestamp(desc):
    return {"type": "string", "format": "date-time", "description": desc}


def nonneg_rules(fields):
    return [(f"!has(self.{f}) || quantity(string(self.{f})).sign() >= 0", f"{f} must not be negative")
            for f in fields]


def resource_amounts(desc, with_rules=True):
    fields = ["cpu", "memory", "disk", "network"]
    return obj(desc, {
        "cpu": quantity("CPU in cores (\"500m\", \"2\")."),
        "memory": quantity("Memory in bytes (\"512Mi\", \"4Gi\")."),
        "disk": quantity("Disk space in bytes."),
        "network": quantity("Network bandwidth in bytes per second."),
    }, rules=nonneg_rules(fields) if with_rules else None)


def label_selector():
    expr = obj("A label selector requirement.", {
        "key": string("The label key.", minLength=1, maxLength=317),
        "operator": string("How the key relates to the values.",
                           enum=["In", "NotIn", "Exists", "DoesNotExist"]),
        "values": {"type": "array", "maxItems": 64, "description": "Values for In and NotIn.",
                   "items": string("A label value.", maxLength=63)},
    }, required=["key", "operator"], rules=[
        ("(self.operator in ['In', 'NotIn']) == (has(self.values) && size(self.values) > 0)",
         "values must be non-empty for In and NotIn and empty for Exists and DoesNotExist"),
    ])
    return obj("Selects VirtualMachines in the run's namespace by their labels.", {
        "matchLabels": {"type": "object", "description": "Labels that must all be present.",
                        "maxProperties": 64,
                        "additionalProperties": string("A label value.", maxLength=63)},
        "matchExpressions": {"type": "array", "maxItems": 16, "items": expr,
                             "description": "Requirements that must all hold."},
    }, rules=[
        ("(has(self.matchLabels) && size(self.matchLabels) > 0) || "
         "(has(self.matchExpressions) && size(self.matchExpressions) > 0)",
         "vmSelector must not be empty"),
    ])


def target(what):
    return obj(f"Where {what}: exactly one of vmName, vmSelector, vmPoolName, all in the same namespace.", {
        "vmName": string("A KubeVirt VirtualMachine by name.", minLength=1, maxLength=63,
                         pattern=DNS_LABEL),
        "vmSelector": label_selector(),
        "vmPoolName": string("A KubeVirt VirtualMachinePool by name; the pool may be scaled up.",
                             minLength=1, maxLength=63, pattern=DNS_LABEL),
    }, rules=[
        ("[has(self.vmName), has(self.vmSelector), has(self.vmPoolName)].filter(x, x).size() == 1",
         "exactly one of vmName, vmSelector, vmPoolName must be set"),
    ])


def condition_list():
    cond = obj("A metav1.Condition.", {
        "type": string("CamelCase condition type.", minLength=1, maxLength=316,
                       pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                               r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"),
        "status": string("True, False or Unknown.", enum=["True", "False", "Unknown"]),
        "observedGeneration": integer("The generation the condition was set for.", minimum=0),
        "lastTransitionTime": timestamp("When status last changed."),
        "reason": string("CamelCase reason.", minLength=1, maxLength=1024,
                         pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"),
        "message": string("Human-readable details.", maxLength=32768),
    }, required=["type", "status", "lastTransitionTime", "reason", "message"])
    return {"type": "array", "maxItems": 32, "items": cond, "description": "Conditions (metav1.Condition).",
            "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]}


def priority_field(desc):
    return integer(desc, fmt="int32", minimum=-MAX_PRIORITY, maximum=MAX_PRIORITY)


def peaks(desc):
    # The shape prescient-agent writes (src/agent/run.cc UsageToJson).
    return obj(desc, {
        "cpuCores": number("Peak CPU in cores (highest average over one sampling interval).", minimum=0),
        "memoryBytes": integer("Peak memory of the cgroup (page cache included on cgroup v1).", minimum=0),
        "anonMemoryBytes": integer("Peak anonymous memory (what decides an OOM kill).", minimum=0),
        "diskReadBytesPerSecond": integer("Peak disk read rate.", minimum=0),
        "diskWriteBytesPerSecond": integer("Peak disk write rate.", minimum=0),
        "networkBytesPerSecond": integer("Peak network rate (both directions).", minimum=0),
    })


def usage(desc):
    return obj(desc, {
        "peaks": peaks("Peaks observed so far."),
        "totals": obj("Totals so far.", {
            "cpuSeconds": number("CPU time.", minimum=0),
            "throttledSeconds": number("Time spent throttled by the CPU limit.", minimum=0),
            "throttledPeriods": integer("CFS periods throttled.", minimum=0),
            "diskReadBytes": integer("Bytes read.", minimum=0),
            "diskWriteBytes": integer("Bytes written.", minimum=0),
            "networkReceiveBytes": integer("Bytes received.", minimum=0),
            "networkTransmitBytes": integer("Bytes sent.", minimum=0),
            "oomKills": integer("OOM kills in the run's cgroup.", minimum=0),
            "wallSeconds": number("Elapsed time.", minimum=0),
        }),
        "memoryCurrentBytes": integer("Memory in use at the last report.", minimum=0),
        "cpuThrottledFraction": number("Share of recent CPU periods throttled.", minimum=0, maximum=1),
        "endpoints": {"type": "array", "maxItems": 256, "description": "Remote host:port endpoints seen.",
                      "items": string("host:port", maxLength=300)},
        "networkScope": string("What the network figures cover: cgroup or guest.", maxLength=64),
        "lastReportTime": timestamp("When the agent last reported."),
    })


def curve(desc, value_key, value_schema):
    return {"type": "array", "maxItems": 4096, "description": desc,
            "items": obj("One sample.", {"t": number("Seconds since start.", minimum=0),
                                         value_key: value_schema})}


def dependency(desc):
    return obj(desc, {
        "name": string("An optional name for the dependency.", maxLength=253),
        "kind": string("Service: a Service (\"svc\" or \"svc.ns\") that must have ready endpoints; "
                       "Deployment: a Deployment scaled up ahead of time when annotated "
                       "prescient.dev/scale-from-zero; Endpoint: an external host:port reached over TCP.",
                       enum=["Service", "Deployment", "Endpoint"]),
        "host": string("Service or Deployment name, or a host name / address for Endpoint.",
                       minLength=1, maxLength=253),
        "port": integer("TCP port (the Service port for Service and Deployment).", fmt="int32",
                        minimum=1, maximum=65535),
    }, required=["kind", "host", "port"])


IMMUTABLE_SPEC_FIELDS = ["command", "args", "target", "user", "reservationName", "resources", "shadow",
                         "dependencies", "timeoutSeconds", "env", "workingDir",
                         "allowPreemptionWhileRunning"]


def commandrun_spec():
    bounds = resource_amounts("Bounds on what may be allocated; predictions are clamped into them.")
    resources = obj("Lower and upper bounds for the allocation.", {
        "min": bounds, "max": bounds,
    }, rules=[
        (f"!has(self.min) || !has(self.max) || !has(self.min.{r}) || !has(self.max.{r}) || "
         f"quantity(string(self.min.{r})).compareTo(quantity(string(self.max.{r}))) <= 0",
         f"min.{r} must not exceed max.{r}") for r in ["cpu", "memory", "disk", "network"]
    ])
    env = obj("An environment variable.", {
        "name": string("Variable name.", minLength=1, maxLength=256, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"),
        "value": string("Variable value.", maxLength=32768),
    }, required=["name"])
    rules = [
        ("has(self.command) != has(self.args)", "exactly one of command and args must be set"),
        ("!(has(self.priorityClassName) && has(self.priority))",
         "at most one of priorityClassName and priority may be set"),
    ]
    for f in IMMUTABLE_SPEC_FIELDS:
        rules.append((f"has(self.{f}) == has(oldSelf.{f}) && (!has(self.{f}) || self.{f} == oldSelf.{f})",
                      f"spec.{f} is immutable"))
    return obj("What to run, where, and within which bounds. Immutable after creation except "
               "priority and priorityClassName.", {
        "command": string("A shell command, run with /bin/sh -c.", minLength=1,
                          maxLength=MAX_COMMAND_BYTES),
        "args": {"type": "array", "minItems": 1, "maxItems": MAX_ARGS,
                 "description": "An argv vector, run without a shell; args[0] is looked up in PATH.",
                 "items": string("One argument.", maxLength=MAX_COMMAND_BYTES),
                 "x-kubernetes-validations": [{
                     "rule": f"self.map(a, size(a)).sum() <= {MAX_COMMAND_BYTES}",
                     "message": f"args must total at most {MAX_COMMAND_BYTES} bytes"}]},
        "target": target("the command runs"),
        "priorityClassName": string("A scheduling.k8s.io PriorityClass whose value orders the queue.",
                                    minLength=1, maxLength=253, pattern=DNS_SUBDOMAIN),
        "priority": priority_field("An explicit priority, used when no priorityClassName is given."),
        "user": string("Who the run is for (matched by ResourceReservation users).", minLength=1,
                       maxLength=256),
        "reservationName": string("A ResourceReservation in the same namespace to draw on.", minLength=1,
                                  maxLength=253, pattern=DNS_SUBDOMAIN),
        "resources": resources,
        "shadow": obj("A short, limited trial run to refine the prediction before allocating.", {
            "enabled": {"type": "boolean", "default": False, "description": "Run a shadow execution first."},
            "durationSeconds": integer("How long the shadow run may take.", fmt="int32", minimum=1,
                                       maximum=600, default=10),
            "allowNetwork": {"type": "boolean", "default": False,
                             "description": "Whether the shadow run may use the network."},
        }),
        "dependencies": {"type": "array", "maxItems": MAX_DEPENDENCIES, "items": dependency(
            "A declared dependency."), "description": "Endpoints the command needs."},
        "timeoutSeconds": integer("Wall-clock limit for the command.", minimum=1, maximum=604800,
                                  default=3600),
        "env": {"type": "array", "maxItems": MAX_ENV, "items": env, "description": "Extra environment.",
                "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
        "workingDir": string("Absolute working directory in the guest.", minLength=1, maxLength=4096,
                             pattern=r"^/"),
        "allowPreemptionWhileRunning": {"type": "boolean", "default": False,
                                        "description": "Whether a higher-priority run may preempt "
                                                       "this one after it started."},
    }, required=["target"], rules=rules)



def allocation_fields():
    """The allocation's fields: status.allocation, and as applied by the agent."""
    return {
        "instanceID": string("The VMI the run is bound to.", maxLength=253),
        "vmName": string("The VirtualMachine owning the instance.", maxLength=253),
        "node": string("The node the instance ran on when bound.", maxLength=253),
        "cpuCores": quantity("CPU limit."),
        "memory": quantity("Memory limit."),
        "diskSpace": quantity("Disk space set aside."),
        "networkPriority": string("Network priority class.", enum=["Low", "Normal", "High"]),
        "reservationName": string("The reservation the allocation draws on.", maxLength=253),
        "allocatedAt": timestamp("When the allocation was made (or last grown)."),
        "ioWeight": integer("Proportional IO weight of the run's cgroup (cgroup v2 io.weight; on v1 "
                            "blkio.weight / blkio.bfq.weight, scaled). Absent: the kernel's default "
                            "(100). Only a scheduler that honours weights (BFQ) gives it an effect.",
                            fmt="int32", minimum=1, maximum=10000),
        "diskReadBytesPerSecond": quantity("Read bandwidth limit in bytes per second on the disk "
                                           "holding the run's working directory (absent or 0: "
                                           "unlimited)."),
        "diskWriteBytesPerSecond": quantity("Write bandwidth limit in bytes per second on the disk "
                                            "holding the run's working directory (absent or 0: "
                                            "unlimited)."),
    }

def commandrun_status():
    return obj("Observed state, written by the operator and the agent (see docs/agent-protocol.md).", {
        "phase": string("Where the run is in the pipeline.",
                        enum=["Pending", "Predicting", "Shadowing", "Queued", "Scaling", "Allocating",
                              "Allocated", "Running", "Preempted", "Succeeded", "Failed"]),
        "observedGeneration": integer("The spec generation the status reflects.", minimum=0),
        "prediction": obj("The predicted upper bound, clamped into spec.resources.", {
            "cpu": quantity("Peak CPU."),
            "memory": quantity("Peak memory."),
            "diskReadBytesPerSecond": integer("Peak disk read rate.", minimum=0),
            "diskWriteBytesPerSecond": integer("Peak disk write rate.", minimum=0),
            "networkBytesPerSecond": integer("Peak network rate.", minimum=0),
            "durationSeconds": number("Expected duration.", minimum=0),
            "dependencies": {"type": "array", "maxItems": MAX_DEPENDENCIES,
                             "items": dependency("A predicted dependency."),
                             "description": "Dependencies predicted from the command."},
            "quantile": number("The quantile the upper bound targets.", minimum=0, maximum=1),
            "modelVersion": string("The model that predicted.", maxLength=256),
            "source": string("Model, Shadow, History, Heuristic or Default.", maxLength=64),
        }),
        "allocation": obj("What was allocated ahead of execution; the agent's cgroup limits.",
                          allocation_fields()),
        "queue": obj("Why and where the run waits.", {
            "position": integer("1-based position among waiting runs.", fmt="int32", minimum=0),
            "reason": string("CamelCase reason.", maxLength=128),
            "message": string("Details.", maxLength=4096),
            "since": timestamp("When the run started waiting."),
            "preemptedBy": string("The run that preempted this one.", maxLength=253),
        }),
        "usage": usage("Measured usage reported by the agent."),
        "result": obj("The final summary written by the agent (or the operator when it gives up).", {
            "exitCode": integer("Exit status.", fmt="int32"),
            "signal": integer("Terminating signal.", fmt="int32", minimum=0),
            "oomKilled": {"type": "boolean", "description": "Killed by the memory limit."},
            "reason": string("Completed, Error, OOMKilled, Timeout, Lost, DependencyFailed, Refused, "
                             "Invalid, Unschedulable, Preempted.", maxLength=64),
            "message": string("Details.", maxLength=4096),
            "startedAt": timestamp("Start."),
            "finishedAt": timestamp("End."),
            "outputTail": string("The last bytes of combined output.", maxLength=65536),
        }),
        "agent": obj("The agent's exactly-once claim of the run.", {
            "instance": string("The claiming instance.", maxLength=253),
            "claimedAt": timestamp("When it claimed."),
            "hostname": string("Guest host name.", maxLength=253),
            "bootID": string("Guest boot ID.", maxLength=64),
            "pid": integer("Process ID of the command.", minimum=0),
            "cgroup": string("The cgroup the command runs in.", maxLength=4096),
            "appliedAllocation": obj("The allocation the agent applied to the run's cgroup last (its "
                                     "fields as in status.allocation).", {
                **allocation_fields(),
                "appliedAt": timestamp("When."),
            }),
        }),
        "shadow": obj("The shadow run.", {
            "requested": {"type": "boolean", "description": "Set by the operator; cleared by the agent."},
            "requestedAt": timestamp("When it was requested."),
            "result": obj("What the shadow run measured (written by the agent).", {
                "durationSeconds": number("How long it ran.", minimum=0),
                "usage": usage("Usage during the shadow run."),
                "memoryCurve": curve("Memory over time.", "bytes", integer("Bytes.", minimum=0)),
                "cpuCurve": curve("CPU over time.", "cores", number("Cores.", minimum=0)),
                "exited": {"type": "boolean", "description": "Whether the command finished within "
                                                           "the shadow window."},
                "exitCode": integer("Exit status when it exited.", fmt="int32"),
                "message": string("Details.", maxLength=4096),
            }),
        }),
        "stopRequest": obj("Written by the operator to have the agent stop a running run (preemption "
                           "of a run whose spec.allowPreemptionWhileRunning is true): SIGTERM, then "
                           "SIGKILL of the run's cgroup after gracePeriodSeconds; the agent then reports "
                           "phase Preempted and the operator re-queues the run as a fresh attempt.", {
            "reason": string("Why: Preempted.", minLength=1, maxLength=128),
            "requestedBy": string("The run that needs the room (same namespace).", maxLength=253),
            "requestedAt": timestamp("When the stop was requested."),
            "gracePeriodSeconds": integer("Seconds between SIGTERM and SIGKILL (absent: the agent's "
                                          "default, 30).", fmt="int32", minimum=0, maximum=3600),
        }, required=["reason"]),
        "preemptions": integer("Times the run was stopped while running to make room and re-queued; "
                               "each re-queue starts a fresh attempt.", fmt="int32", minimum=0),
        "conditions": condition_list(),
    })


def column(name, typ, path, desc, priority=0):
    c = {"name": name, "type": typ, "jsonPath": path, "description": desc}
    if priority:
        c["priority"] = priority
    return c


def crd(kind, plural, singular, short, schema, columns):
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "names": {"kind": kind, "listKind": kind + "List", "plural": plural, "singular": singular,
                      "shortNames": short, "categories": ["prescient"]},
            "scope": "Namespaced",
            "versions": [{
                "name": VERSION, "served": True, "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": columns,
                "schema": {"openAPIV3Schema": schema},
            }],
        },
    }


def commandrun():
    schema = obj("A command to run in a KubeVirt VM, sized before it starts.", {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
        "spec": commandrun_spec(), "status": commandrun_status(),
    }, required=["spec"])
    cols = [
        column("Phase", "string", ".status.phase", "Pipeline phase."),
        column("Target", "string", ".spec.target.vmName", "Target VM.", priority=1),
        column("Instance", "string", ".status.allocation.instanceID", "Bound VMI."),
        column("Pred-CPU", "string", ".status.prediction.cpu", "Predicted peak CPU."),
        column("Pred-Mem", "string", ".status.prediction.memory", "Predicted peak memory."),
        column("CPU", "string", ".status.allocation.cpuCores", "Allocated CPU."),
        column("Memory", "string", ".status.allocation.memory", "Allocated memory."),
        column("Queue", "integer", ".status.queue.position", "Position in the queue.", priority=1),
        column("Allocated", "string", ".status.conditions[?(@.type=='Allocated')].status",
               "Whether capacity is held.", priority=1),
        column("Age", "date", ".metadata.creationTimestamp", "Age."),
    ]
    return crd("CommandRun", "commandruns", "commandrun", ["cr", "cmdrun"], schema, cols)


def resourcereservation():
    amounts = obj("The capacity held.", {
        "cpu": quantity("CPU in cores."),
        "memory": quantity("Memory in bytes."),
        "disk": quantity("Disk space in bytes."),
    }, rules=nonneg_rules(["cpu", "memory", "disk"]) + [
        ("has(self.cpu) || has(self.memory)", "at least one of cpu and memory must be set")])
    tgt = target("capacity is held")
    tgt["x-kubernetes-validations"].append({"rule": "self == oldSelf", "message": "spec.target is immutable"})
    spec = obj("Capacity held for the users or commands named.", {
        "resources": amounts,
        "target": tgt,
        "users": {"type": "array", "maxItems": 64, "x-kubernetes-list-type": "set",
                  "items": string("A user (CommandRun spec.user).", minLength=1, maxLength=256),
                  "description": "Users whose runs may draw on the reservation (any when empty)."},
        "commandPattern": string("Commands that may draw on the reservation (any when empty).",
                                 minLength=1, maxLength=1024),
        "commandPatternSyntax": string("How commandPattern is read: a shell glob or an ECMAScript "
                                       "regular expression matching the whole command.",
                                       enum=["Glob", "Regex"], default="Glob"),
        "priority": priority_field("Priority of the reservation against queued runs."),
        "window": obj("When the reservation holds capacity.", {
            "start": timestamp("From."), "end": timestamp("Until."),
        }, rules=[
            ("has(self.start) || has(self.end)", "window needs start or end"),
            ("!has(self.start) || !has(self.end) || self.end > self.start",
             "window.end must be after window.start"),
        ]),
    }, required=["resources", "target"])
    status = obj("Observed state.", {
        "phase": string("Pending (waiting for capacity), Bound, Expired or Failed.",
                        enum=["Pending", "Bound", "Expired", "Failed"]),
        "observedGeneration": integer("The spec generation the status reflects.", minimum=0),
        "boundInstances": {"type": "array", "maxItems": 256, "description": "Where capacity is held.",
                           "items": obj("Capacity held on one instance.", {
                               "instanceID": string("The VMI.", maxLength=253),
                               "node": string("Its node.", maxLength=253),
                               "cpu": quantity("CPU held there."),
                               "memory": quantity("Memory held there."),
                           }, required=["instanceID"])},
        "used": obj("What runs drawing on it hold now.", {
            "cpu": quantity("CPU."), "memory": quantity("Memory."),
        }),
        "conditions": condition_list(),
    })
    schema = obj("Capacity held for named users or commands.", {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
        "spec": spec, "status": status,
    }, required=["spec"])
    cols = [
        column("Phase", "string", ".status.phase", "Phase."),
        column("CPU", "string", ".spec.resources.cpu", "CPU held."),
        column("Memory", "string", ".spec.resources.memory", "Memory held."),
        column("Used-CPU", "string", ".status.used.cpu", "CPU in use."),
        column("Used-Mem", "string", ".status.used.memory", "Memory in use."),
        column("Age", "date", ".metadata.creationTimestamp", "Age."),
    ]
    return crd("ResourceReservation", "resourcereservations", "resourcereservation", ["rr"], schema, cols)


class Dumper(yaml.SafeDumper):
    pass


Dumper.add_representer(str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s))
Dumper.ignore_aliases = lambda self, data: True

HEADER = "# Generated by crds/generate.py; edit that file and re-run it.\n"

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    for name, doc in [("commandrun.yaml", commandrun()), ("resourcereservation.yaml", resourcereservation())]:
        with open(os.path.join(here, name), "w") as f:
            f.write(HEADER)
            yaml.dump(doc, f, Dumper=Dumper, sort_keys=False, width=110)
