#include "placement/policy.h"

namespace prescient::placement {

const char* ScalingModeName(ScalingMode m) {
  switch (m) {
    case ScalingMode::kProvisioningRequest: return "ProvisioningRequest";
    case ScalingMode::kBalloon: return "Balloon";
    case ScalingMode::kNone: return "None";
  }
  return "None";
}

}  // namespace prescient::placement
