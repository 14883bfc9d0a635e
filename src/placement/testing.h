// Test-only fluent builders for placement inputs (Kueue style):
//   MakeInstance("small-vm").Vcpus(2).Memory(2 * kGiB).MaxSockets(4).MaxGuest(8 * kGiB).Obj()
// Everything lives in namespace "demo" unless told otherwise.
#pragma once

#include <string>

#include "placement/capacity.h"
#include "placement/place.h"

namespace prescient::placement::testing {

inline Time At(int64_t seconds) { return Time(std::chrono::seconds(1'700'000'000 + seconds)); }

class MakeInstance {
 public:
  explicit MakeInstance(std::string name, std::string ns = "demo") {
    i_.name = name;
    i_.vm_name = name;
    i_.ns = std::move(ns);
    i_.node = "node-1";
    i_.sockets = 2;
    i_.max_sockets = 2;
    i_.memory_bytes = 2 * kGiB;
    i_.guest_at_boot = 2 * kGiB;
  }
  MakeInstance& Vcpus(int sockets, int cores = 1, int threads = 1) { i_.sockets = sockets; i_.cores = cores; i_.threads = threads; if (i_.max_sockets < sockets) i_.max_sockets = sockets; return *this; }
  MakeInstance& MaxSockets(int n) { i_.max_sockets = n; return *this; }
  MakeInstance& Memory(int64_t b) { i_.memory_bytes = b; i_.guest_at_boot = std::min(i_.guest_at_boot, b); return *this; }
  MakeInstance& GuestAtBoot(int64_t b) { i_.guest_at_boot = b; return *this; }
  MakeInstance& MaxGuest(int64_t b) { i_.max_guest = b; return *this; }
  MakeInstance& Node(std::string n) { i_.node = std::move(n); return *this; }
  MakeInstance& Pool(std::string p) { i_.pool = std::move(p); return *this; }
  MakeInstance& Label(std::string k, std::string v) { i_.labels[std::move(k)] = std::move(v); return *this; }
  MakeInstance& NotReady() { i_.ready = false; return *this; }
  MakeInstance& NotMigratable() { i_.migratable = false; return *this; }
  MakeInstance& CpuHotplugInFlight() { i_.cpu_hotplug_in_flight = true; return *this; }
  MakeInstance& MemoryHotplugInFlight() { i_.memory_hotplug_in_flight = true; return *this; }
  MakeInstance& Migrating() { i_.migration_in_flight = true; return *this; }
  MakeInstance& RestartRequired() { i_.restart_required = true; return *this; }
  Instance Obj() const { return i_; }

 private:
  Instance i_;
};

class MakeNode {
 public:
  explicit MakeNode(std::string name) { n_.name = std::move(name); n_.allocatable = {8000, 16 * kGiB}; }
  MakeNode& Allocatable(int64_t cpu, int64_t mem) { n_.allocatable = {cpu, mem}; return *this; }
  MakeNode& Requested(int64_t cpu, int64_t mem) { n_.requested = {cpu, mem}; return *this; }
  MakeNode& Unschedulable() { n_.schedulable = false; return *this; }
  Node Obj() const { return n_; }

 private:
  Node n_;
};

class MakeRequest {
 public:
  explicit MakeRequest(std::string name, std::string ns = "demo") {
    r_.run = ns + "/" + name;
    r_.ns = std::move(ns);
    r_.target.vm_name = "small-vm";
    r_.need = {500, 512 * kMiB};
  }
  MakeRequest& VmName(std::string n) { r_.target = {}; r_.target.vm_name = std::move(n); return *this; }
  MakeRequest& Pool(std::string n) { r_.target = {}; r_.target.vm_pool_name = std::move(n); return *this; }
  MakeRequest& Selector(std::string k, std::string v) { r_.target = {}; r_.target.vm_selector = api::LabelSelector{{{std::move(k), std::move(v)}}, {}}; return *this; }
  MakeRequest& Need(int64_t cpu, int64_t mem) { r_.need = {cpu, mem}; return *this; }
  MakeRequest& Priority(int32_t p) { r_.priority = p; return *this; }
  MakeRequest& Created(int64_t s) { r_.created = At(s); return *this; }
  MakeRequest& Reservation(std::string r) { r_.reservation = std::move(r); return *this; }
  MakeRequest& NoPreempt() { r_.may_preempt = false; return *this; }
  PlacementRequest Obj() const { return r_; }

 private:
  PlacementRequest r_;
};

class MakeHold {
 public:
  MakeHold(std::string run, std::string instance) {
    h_.run = "demo/" + run;
    h_.instance = "demo/" + instance;
    h_.amount = {500, 512 * kMiB};
  }
  MakeHold& Amount(int64_t cpu, int64_t mem) { h_.amount = {cpu, mem}; return *this; }
  MakeHold& Priority(int32_t p) { h_.priority = p; return *this; }
  MakeHold& Created(int64_t s) { h_.created = At(s); return *this; }
  MakeHold& Started() { h_.started = true; return *this; }
  MakeHold& PreemptibleWhileRunning() { h_.preemptible_while_running = true; return *this; }
  MakeHold& Reservation(std::string r) { h_.reservation = "demo/" + r; return *this; }
  Hold Obj() const { return h_; }

 private:
  Hold h_;
};

class MakeView {
 public:
  MakeView& Add(Instance i) { v_.instances.push_back(std::move(i)); return *this; }
  MakeView& Add(Node n) { v_.nodes.push_back(std::move(n)); return *this; }
  MakeView& Add(Hold h) { v_.ledger.AddHold(std::move(h)); return *this; }
  MakeView& Add(Pool p) { v_.pools.push_back(std::move(p)); return *this; }
  MakeView& Group(std::string name, int64_t cpu, int64_t mem, int size, int max) {
    v_.node_groups.push_back({std::move(name), {cpu, mem}, size, max});
    return *this;
  }
  MakeView& Reserve(std::string reservation, std::string instance, int64_t cpu, int64_t mem) {
    v_.ledger.AddReservation({"demo/" + reservation, "demo/" + instance, {cpu, mem}});
    return *this;
  }
  MakeView& Quota(NamespaceQuota q, std::string ns = "demo") { v_.quotas[std::move(ns)] = std::move(q); return *this; }
  CapacityView Obj() const { return v_; }

 private:
  CapacityView v_;
};

// No guest reserve, no headroom: test arithmetic stays readable. Cases that test those set them.
inline Policy PlainPolicy() {
  Policy p;
  p.guest_reserved = {0, 0};
  p.headroom = 0;
  return p;
}

}  // namespace prescient::placement::testing
