// Quota arithmetic for hotplug. A KubeVirt hotplug is a live migration: for a while the old and
// the new (larger) virt-launcher pod both exist and both count against the namespace's quotas.
// So before patching a VM the operator raises its own ResourceQuota to hold both pods, and after
// the migration (and after runs release capacity) lowers it again, never below what is used.
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "placement/capacity.h"

namespace prescient::placement {

struct QuotaChange {
  bool raise = false;  // whether spec.hard must be raised before the hotplug
  Resources raise_to;  // spec.hard while both pods exist
  Resources settle_to; // spec.hard once the old pod is gone
  bool operator==(const QuotaChange&) const = default;
};

struct QuotaCheck {
  bool allowed = true;
  std::string message;  // why not, naming the quota and the amounts
  QuotaChange change;
};

// Whether a migration from a `before` pod to an `after` pod fits the namespace's quotas, and how
// the operator-owned quota must change for it.
QuotaCheck PlanMigrationQuota(const NamespaceQuota& quota, const Resources& before_pod, const Resources& after_pod);

// spec.hard for the owned quota after capacity was released: lowered towards `floor` (what the
// operator still expects to need) but never raised above the current hard and never below used:
// max(used, min(hard, floor)).
Resources LoweredHard(const OwnedQuota& quota, const Resources& floor);

}  // namespace prescient::placement
