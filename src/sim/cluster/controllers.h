// Internal to the cluster library: the shared context the controllers run with (store, clock,
// time scale, scenario, event recorder, in-memory timers) and one Reconcile function per
// controller. Every controller is level-based: it lists what it needs from the store, computes
// the desired state with the pure functions (scheduler.h, quota.h, kubevirt.h, autoscaler.h) and
// writes only differences. All run on the cluster's single controller thread, so the in-memory
// timers below need no locking.
#pragma once

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "sim/cluster/crds.h"
#include "sim/cluster/scenario.h"
#include "sim/store.h"

namespace prescient::sim::cluster {

using SteadyTime = std::chrono::steady_clock::time_point;

inline GroupVersionResource ToGvr(const Gvr& g) { return {g.group, g.version, g.plural}; }

// Deduplicated core/v1 Events (repeats increase `count`, as the real recorder does).
class EventRecorder {
 public:
  EventRecorder(Store& store, Clock& clock) : store_(store), clock_(clock) {}
  // `involved` is the object (apiVersion, kind, metadata). type: "Normal" | "Warning".
  void Record(const Json& involved, const std::string& type, const std::string& reason, const std::string& message,
              const std::string& component = "prescient-sim");

 private:
  Store& store_;
  Clock& clock_;
  struct Seen {
    std::string name;
    int count = 0;
  };
  std::map<std::string, Seen> seen_;
  uint64_t counter_ = 0;
};

// A node the autoscaler has decided to add, not yet Ready.
struct UpcomingNode {
  std::string group;
  std::string name;
  SteadyTime ready_at;
  std::string reason;  // "pending pods" or "provisioningrequest ns/name"
};

struct Context {
  Store& store;
  Clock& clock;
  double time_scale = 1;
  Scenario scenario;
  EventRecorder events;
  log::Logger logger{"sim.cluster"};
  std::mt19937_64 rng{std::random_device{}()};
  uint64_t ip_counter = 0;

  // Timers (keyed by object uid unless said otherwise).
  std::map<std::string, SteadyTime> launcher_bound_at;      // VMI uid → its launcher pod was bound
  std::map<std::string, SteadyTime> migration_bound_at;     // VMIM uid → target pod bound
  std::map<std::string, SteadyTime> migration_created_at;   // VMIM uid → target pod created
  std::map<std::string, SteadyTime> migration_failed_at;    // VMI uid → last failed workload migration
  std::map<std::string, SteadyTime> create_retry_at;        // object uid → next create attempt after 403
  std::map<std::string, SteadyTime> unneeded_since;         // node name → empty since
  std::map<std::string, SteadyTime> booked_at;              // ProvisioningRequest uid → Provisioned=True
  std::map<std::string, SteadyTime> provreq_seen_at;        // ProvisioningRequest uid → first seen (≈ created)
  std::map<std::string, std::set<std::string>> booked_nodes;  // ProvisioningRequest uid → nodes its booking may use
  std::vector<UpcomingNode> upcoming;
  std::set<std::string> scale_up_reported;                  // pod uid: TriggeredScaleUp already sent
  std::map<std::string, std::string> restart_required;      // VM uid → VMI uid it was required for

  SteadyTime next_wake = SteadyTime::max();

  Context(Store& s, Clock& c, double scale, Scenario sc)
      : store(s), clock(c), time_scale(scale), scenario(std::move(sc)), events(s, c) {}

  SteadyTime Now() const { return clock.Monotonic(); }
  // A simulated duration in real (clock) time.
  std::chrono::nanoseconds Real(Millis sim) const {
    return std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(sim.count()) * 1e6 / time_scale));
  }
  bool Elapsed(SteadyTime since, Millis sim) {
    SteadyTime due = since + std::chrono::duration_cast<SteadyTime::duration>(Real(sim));
    if (Now() >= due) return true;
    WakeAt(due);
    return false;
  }
  void WakeAt(SteadyTime t) {
    if (t < next_wake) next_wake = t;
  }
  std::string Timestamp() const { return FormatRfc3339(clock.Now()); }
  std::string RandomSuffix(int n = 5);
  std::string NextPodIp();
};

// Condition helpers (KubeVirt-style and metav1-style share the fields used here).
const Json* FindCondition(const Json& obj, const std::string& type);
bool ConditionTrue(const Json& obj, const std::string& type);
// Sets or replaces a condition in obj["status"]["conditions"]; lastTransitionTime changes only
// when the status flips. Returns true if anything changed.
bool SetCondition(Json& obj, const std::string& type, const std::string& status, const std::string& reason,
                  const std::string& message, const std::string& now, int64_t observed_generation = -1);
bool RemoveCondition(Json& obj, const std::string& type);

// Controllers (one pass each). Errors are logged by the caller and retried on the next pass.
Status ReconcileDeployments(Context& ctx);
Status ReconcilePools(Context& ctx);
Status ReconcileVirtualMachines(Context& ctx);
Status ReconcileVirtualMachineInstances(Context& ctx);
Status ReconcileMigrations(Context& ctx);
Status ReconcileScheduler(Context& ctx);
Status ReconcileAutoscaler(Context& ctx);
Status ReconcileQuotaStatus(Context& ctx);

// Admission: pod priority resolution, ResourceQuota enforcement, ProvisioningRequest spec
// immutability. Installed once.
void InstallAdmission(Store& store, const Scenario& scenario);

}  // namespace prescient::sim::cluster
