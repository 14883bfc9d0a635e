#include "kube/flags.h"

#include <boost/program_options.hpp>

#include "kube/rest_client.h"

namespace prescient::kube {

void AddKubeFlags(boost::program_options::options_description* desc, KubeFlags* flags) {
  namespace po = boost::program_options;
  desc->add_options()
      ("kubeconfig", po::value<std::string>(&flags->kubeconfig),
       "path to a kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)")
      ("context", po::value<std::string>(&flags->context), "kubeconfig context to use instead of current-context");
}

Result<Config> LoadConfigFromFlags(const KubeFlags& flags) {
  LoadOptions o;
  o.kubeconfig = flags.kubeconfig;
  o.context = flags.context;
  return LoadConfig(o);
}

std::optional<Connection> ConnectFromFlags(const KubeFlags& flags, const log::Logger& log) {
  auto config = LoadConfigFromFlags(flags);
  if (!config.ok()) {
    log.Error("cannot load the Kubernetes configuration", {{"error", config.status().ToString()}});
    return std::nullopt;
  }
  auto client = NewRestClient(*config);
  if (!client.ok()) {
    log.Error("cannot create the Kubernetes client", {{"error", client.status().ToString()}});
    return std::nullopt;
  }
  return Connection{std::move(*config), std::move(*client)};
}

}  // namespace prescient::kube
