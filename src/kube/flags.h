// The --kubeconfig and --context flags every Prescient binary takes, and the one way binaries turn
// them into a Config (flag > $KUBECONFIG > ~/.kube/config > in-cluster). Only forward-declares
// Boost.ProgramOptions so this header stays cheap to include.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/log.h"
#include "common/status.h"
#include "kube/client.h"
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

// A binary's connection to the API server: the configuration the flags select and a REST client.
struct Connection {
  Config config;
  std::unique_ptr<Client> client;
};

// Loads the configuration and creates the client. On failure logs which step failed with the error
// ("cannot load the Kubernetes configuration" / "cannot create the Kubernetes client") and returns
// nullopt: the binary exits 1.
std::optional<Connection> ConnectFromFlags(const KubeFlags& flags, const log::Logger& log);

}  // namespace prescient::kube
