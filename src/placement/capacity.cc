#include "placement/capacity.h"

#include <algorithm>

namespace prescient::placement {

// Holds are looked up by run through hold_index_: the operator builds a ledger of every allocated run
// for each placement, so adding must not scan the holds already there (10,000 runs made that
// quadratic scan most of the operator's CPU).
void CapacityLedger::AddHold(Hold h) {
  RemoveHold(h.run);
  hold_index_.emplace(h.run, holds_.size());
  holds_.push_back(std::move(h));
}

bool CapacityLedger::RemoveHold(const std::string& run) {
  auto it = hold_index_.find(run);
  if (it == hold_index_.end()) return false;
  size_t pos = it->second;
  hold_index_.erase(it);
  holds_.erase(holds_.begin() + static_cast<std::ptrdiff_t>(pos));
  for (size_t i = pos; i < holds_.size(); ++i) hold_index_[holds_[i].run] = i;
  return true;
}

void CapacityLedger::AddReservation(ReservationHold r) { reservations_.push_back(std::move(r)); }

const Hold* CapacityLedger::FindHold(const std::string& run) const {
  auto it = hold_index_.find(run);
  return it == hold_index_.end() ? nullptr : &holds_[it->second];
}

std::vector<const Hold*> CapacityLedger::HoldsOn(const std::string& instance) const {
  std::vector<const Hold*> out;
  for (const Hold& h : holds_)
    if (h.instance == instance) out.push_back(&h);
  return out;
}

Resources CapacityLedger::HeldOn(const std::string& instance) const {
  // Every reservation's full share counts; a run inside a reservation uses that share and only
  // what exceeds it (possible after the reservation shrank) counts again. A run naming a
  // reservation that holds nothing here is a plain hold.
  std::map<std::string, Resources> share, used;
  Resources total;
  for (const ReservationHold& r : reservations_) {
    if (r.instance != instance) continue;
    share[r.reservation] += r.amount;
    total += r.amount;
  }
  for (const Hold& h : holds_) {
    if (h.instance != instance) continue;
    if (h.reservation.empty() || !share.count(h.reservation)) total += h.amount;
    else used[h.reservation] += h.amount;
  }
  for (const auto& [res, u] : used) total += Max(u - share[res], Resources{});
  return total;
}

Resources CapacityLedger::ReservationRemaining(const std::string& reservation, const std::string& instance) const {
  Resources share;
  for (const ReservationHold& r : reservations_)
    if (r.reservation == reservation && r.instance == instance) share += r.amount;
  for (const Hold& h : holds_)
    if (h.reservation == reservation && h.instance == instance) share -= h.amount;
  return Max(share, Resources{});
}

int32_t ResolvePriority(const api::CommandRunSpec& spec, const std::map<std::string, int32_t>& priorities,
                        bool* known) {
  if (known) *known = true;
  if (spec.priority) return *spec.priority;
  if (spec.priority_class_name) {
    auto it = priorities.find(*spec.priority_class_name);
    if (it != priorities.end()) return it->second;
    if (known) *known = false;
  }
  return 0;
}

CapacityLedger CapacityLedger::Rebuild(const std::vector<api::CommandRun>& runs,
                                       const std::vector<api::ResourceReservation>& reservations,
                                       const std::map<std::string, int32_t>& priorities) {
  CapacityLedger ledger;
  for (const auto& r : reservations) {
    if (r.status.phase != api::ReservationPhase::kBound) continue;
    for (const auto& b : r.status.bound_instances)
      ledger.AddReservation({r.Key(), r.metadata.ns + "/" + b.instance_id, {b.cpu_milli, b.memory_bytes}});
  }
  for (const auto& run : runs) {
    if (!api::HoldsAllocation(run.status.phase) || !run.status.allocation) continue;
    const api::Allocation& a = *run.status.allocation;
    Hold h;
    h.run = run.Key();
    h.instance = run.metadata.ns + "/" + a.instance_id;
    h.amount = {a.cpu_milli, a.memory_bytes};
    h.priority = ResolvePriority(run.spec, priorities);
    h.created = run.metadata.creation_timestamp.value_or(Time{});
    h.started = run.status.phase == api::RunPhase::kRunning;
    h.preemptible_while_running = run.spec.AllowPreemptionWhileRunning();
    if (!a.reservation_name.empty()) h.reservation = run.metadata.ns + "/" + a.reservation_name;
    ledger.AddHold(std::move(h));
  }
  return ledger;
}

const Instance* CapacityView::FindInstance(const std::string& key) const {
  for (const Instance& i : instances)
    if (i.Key() == key) return &i;
  return nullptr;
}

Instance* CapacityView::FindInstance(const std::string& key) {
  for (Instance& i : instances)
    if (i.Key() == key) return &i;
  return nullptr;
}

const Pool* CapacityView::FindPool(const std::string& ns, const std::string& name) const {
  for (const Pool& p : pools)
    if (p.ns == ns && p.name == name) return &p;
  return nullptr;
}

Pool* CapacityView::FindPool(const std::string& ns, const std::string& name) {
  for (Pool& p : pools)
    if (p.ns == ns && p.name == name) return &p;
  return nullptr;
}

Resources CapacityView::Usable(const Instance& i, const Policy& p) const {
  return Max(i.Size() - p.guest_reserved, Resources{});
}

Resources CapacityView::Free(const Instance& i, const Policy& p) const {
  return Max(Usable(i, p) - ledger.HeldOn(i.Key()), Resources{});
}

std::vector<const Instance*> CapacityView::Candidates(const std::string& ns, const api::Target& target) const {
  std::vector<const Instance*> out;
  for (const Instance& i : instances) {
    if (i.ns != ns) continue;
    bool match = false;
    if (target.vm_name) match = i.vm_name == *target.vm_name;
    else if (target.vm_pool_name) match = i.pool == *target.vm_pool_name;
    else if (target.vm_selector) match = target.vm_selector->Matches(i.labels);
    if (match) out.push_back(&i);
  }
  std::sort(out.begin(), out.end(), [](const Instance* a, const Instance* b) { return a->name < b->name; });
  return out;
}

}  // namespace prescient::placement
