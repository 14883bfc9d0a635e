#include "placement/quota.h"

namespace prescient::placement {

QuotaCheck PlanMigrationQuota(const NamespaceQuota& quota, const Resources& before_pod, const Resources& after_pod) {
  QuotaCheck check;
  // The second pod is added on top of everything already running.
  if (quota.other_headroom && !quota.other_headroom->Holds(after_pod)) {
    check.allowed = false;
    check.message = "the namespace's ResourceQuota has " + quota.other_headroom->ToString() +
                    " left, and the migration's second virt-launcher pod needs " + after_pod.ToString();
    return check;
  }
  if (!quota.owned) return check;
  const OwnedQuota& q = *quota.owned;
  Resources during = q.used + after_pod;
  check.change.raise_to = Max(q.hard, during);
  check.change.raise = !(check.change.raise_to == q.hard);
  check.change.settle_to = Max(q.hard, q.used - before_pod + after_pod);
  if (q.max && !q.max->Holds(check.change.raise_to)) {
    check.allowed = false;
    check.message = "the operator's ResourceQuota would need " + check.change.raise_to.ToString() +
                    " while both virt-launcher pods exist, above its cap of " + q.max->ToString();
  }
  return check;
}

Resources LoweredHard(const OwnedQuota& quota, const Resources& floor) {
  return Max(quota.used, Min(quota.hard, floor));
}

}  // namespace prescient::placement
