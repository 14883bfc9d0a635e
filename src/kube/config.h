// Where and how to reach a Kubernetes API server: kubeconfig files (KUBECONFIG with several files
// merged the way kubectl merges them — the first file to set a value wins), the --context override,
// and the in-cluster service-account configuration. The result is a plain Config value with all
// file references already read (CA, client certificate and key), except the bearer token file, which
// TokenSource re-reads whenever it changes (bound service-account tokens rotate).
// Loading functions are pure apart from reading files; Config is a value type. TokenSource is
// thread-safe.
#pragma once

#include <ctime>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace prescient::kube {

struct Config {
  std::string server;  // "https://host:port" (no trailing slash)
  // PEM bytes of the CA bundle that must sign the server certificate. Empty with https means the
  // system trust store.
  std::string ca_pem;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;       // static bearer token
  std::string token_file;  // bearer token file, re-read when it changes (wins over `token` when set)
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;     // name to verify the server certificate against, instead of the host
  std::string default_namespace = "default";
  // Where this came from, for error messages: `kubeconfig /root/.kube/config (context "sim")` or
  // `in-cluster service account`.
  std::string source;
  std::string context_name, cluster_name, user_name;
};

// A function that looks up an environment variable (std::getenv by default; tests inject maps).
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

// Loads and merges kubeconfig files. Missing files are skipped (as kubectl does for KUBECONFIG) unless
// `must_exist` is set (an explicit --kubeconfig). `context` overrides current-context when non-empty.
// Relative file paths inside a kubeconfig are resolved against that file's directory.
// A malformed file gives one error naming the file and the problem.
Result<Config> LoadKubeconfig(const std::vector<std::string>& files, const std::string& context,
                              bool must_exist = false);

// Parses one kubeconfig document from text (for tests and for tools that embed one); `origin` names it
// in errors and `base_dir` resolves relative paths.
Result<Config> ParseKubeconfig(const std::string& yaml_text, const std::string& origin, const std::string& base_dir,
                               const std::string& context);

struct InClusterOptions {
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  EnvLookup env;  // nullptr = process environment
};
// KUBERNETES_SERVICE_HOST/PORT plus the service-account token, ca.crt and namespace files.
Result<Config> LoadInCluster(const InClusterOptions& options = {});

// The precedence every binary uses: an explicit kubeconfig path > $KUBECONFIG (list separated by ':')
// > ~/.kube/config > in-cluster.
struct LoadOptions {
  std::string kubeconfig;  // --kubeconfig
  std::string context;     // --context
  EnvLookup env;           // nullptr = process environment (KUBECONFIG, HOME, KUBERNETES_SERVICE_*)
  InClusterOptions in_cluster;
};
Result<Config> LoadConfig(const LoadOptions& options);

// The bearer token to send: the static token, or the token file's current contents. The file is
// re-read whenever its modification time or size changes, so a rotated token is picked up on the
// next request.
class TokenSource {
 public:
  TokenSource(std::string static_token, std::string token_file)
      : token_(std::move(static_token)), file_(std::move(token_file)) {}
  // An error names the file when it cannot be read or is empty.
  Result<std::string> Token();
  bool empty() const { return token_.empty() && file_.empty(); }

 private:
  std::mutex mu_;
  std::string token_;
  std::string file_;
  std::string cached_;
  struct timespec mtime_ {};
  long long size_ = -1;
};

}  // namespace prescient::kube
