// The --kubeconfig and --context flags every Prescient binary takes, and the one way binaries turn
// them into a Config (flag > $KUBECONFIG > ~/.kube/config > in-cluster). Only forward-declares
// Boost.ProgramOptions so this header stays cheap to include.
#pragma once

#include <string>

#include "common/status.h"
#include "kube/config.h"

namespace boost::program_options {
class options_description;
}

namespace prescient::kube {

struct KubeFlags {
  std::string kubeconfig;
  std::string context;
};

// Adds --kubeconfig and --context to `desc`, storing into `flags` (which must outlive parsing).
void AddKubeFlags(boost::program_options::options_description* desc, KubeFlags* flags);

// Loads the configuration the flags select; errors say what is wrong and where.
Result<Config> LoadConfigFromFlags(const KubeFlags& flags);

}  // namespace prescient::kube
