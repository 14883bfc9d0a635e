// Cluster behaviour for prescient-sim: everything a real cluster does on its own once objects are
// in the API server — a scheduler (fit, taints, priority preemption) and a simulated kubelet,
// ResourceQuota admission and status, KubeVirt (VirtualMachine → VirtualMachineInstance →
// virt-launcher pod, CPU/memory hotplug by simulated live migration, VirtualMachinePools), and the
// cluster-autoscaler (node groups, ProvisioningRequests). The cluster's initial shape comes from a
// scenario file (see scenario.h and README.md in this folder).
//
// Install() registers the CRDs and admission hooks, creates the scenario's objects, subscribes to
// the store and starts one controller thread; the controllers are level-based: each pass re-reads
// the store and writes only what changed. All delays are simulated-time durations divided by
// `time_scale`; all time comes from the injected Clock.
//
// Thread-safety: Install() and Stop() from one thread; the Cluster runs its own thread.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"

namespace prescient::sim {
class Store;
}

namespace prescient::sim::cluster {

struct ClusterOptions {
  // Scenario YAML (nodes, node groups, namespaces, quotas, priority classes, VMs, pools).
  // "" = an empty cluster: CRDs, admission and controllers only.
  std::string scenario_path;
  // Simulated seconds per real second: 60 makes a 10-minute booking last 10 real seconds.
  double time_scale = 1.0;
  // nullptr = SystemClock().
  Clock* clock = nullptr;
  // false: no controller thread; tests call Cluster::RunOnce() themselves.
  bool start_thread = true;
};

class Cluster {
 public:
  virtual ~Cluster() = default;  // implementations Stop() in their destructor
  // Stops the controller thread and unsubscribes from the store (idempotent). Does not remove
  // anything from the store.
  virtual void Stop() = 0;
  // One synchronous pass of every controller (tests with start_thread = false). Returns the first
  // error a controller met (the pass still ran the others).
  virtual Status RunOnce() = 0;
};

// Installs the cluster behaviour into `store` and returns the running cluster. Errors: a bad
// scenario (file, field and problem named) or a store write that failed.
Result<std::unique_ptr<Cluster>> Install(Store& store, const ClusterOptions& options);

}  // namespace prescient::sim::cluster
