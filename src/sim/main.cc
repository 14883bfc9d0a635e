// prescient-sim: a one-process stand-in Kubernetes API server with KubeVirt and cluster-autoscaler
// behaviour, for trying Prescient and for tests (production runs on a real cluster). See docs/sim.md.
#include <signal.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include "common/log.h"
#include "common/startup.h"
#include "sim/handler.h"
#include "sim/server.h"
#include "sim/store.h"
#include "sim/tls.h"
#include "sim/yaml_json.h"
#ifdef PRESCIENT_SIM_HAS_CLUSTER
#include "sim/cluster/cluster.h"
#endif

namespace po = boost::program_options;
using prescient::Status;
namespace sim = prescient::sim;

namespace {

std::string Base64(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t)in[i] << 16 | (uint8_t)in[i + 1] << 8 | (uint8_t)in[i + 2];
    out += k[n >> 18];
    out += k[(n >> 12) & 63];
    out += k[(n >> 6) & 63];
    out += k[n & 63];
  }
  if (i < in.size()) {
    uint32_t n = (uint8_t)in[i] << 16 | (i + 1 < in.size() ? (uint8_t)in[i + 1] << 8 : 0);
    out += k[n >> 18];
    out += k[(n >> 12) & 63];
    out += i + 1 < in.size() ? k[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string RandomToken() {
  std::random_device rd;
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string t;
  for (int i = 0; i < 40; ++i) t += kChars[rd() % 36];
  return t;
}

Status WriteKubeconfig(const std::string& path, const std::string& server, const std::string& ca_pem,
                       const std::string& token) {
  std::string text = "apiVersion: v1\nkind: Config\nclusters:\n- name: prescient-sim\n  cluster:\n    server: " + server + "\n";
  if (!ca_pem.empty()) text += "    certificate-authority-data: " + Base64(ca_pem) + "\n";
  text += "users:\n- name: prescient-sim\n  user:\n    token: " + token + "\n";
  text += "contexts:\n- name: prescient-sim\n  context:\n    cluster: prescient-sim\n    user: prescient-sim\n"
          "    namespace: default\ncurrent-context: prescient-sim\npreferences: {}\n";
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.good()) return prescient::InternalError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return prescient::InternalError("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  std::string bind, kubeconfig_out, token, data_dir, scenario, faults, log_level;
  double time_scale = 1.0;
  size_t watch_history = 10000;
  double bookmark_interval = 60;
  bool insecure = false;
  po::options_description desc(
      "prescient-sim: a stand-in Kubernetes API server with KubeVirt and cluster-autoscaler behaviour,\n"
      "for trying Prescient and for tests (production runs on a real cluster).\n\nOptions");
  desc.add_options()("help,h", "show this help")
      ("port", po::value(&port)->default_value(0), "port to listen on (0 picks a free one)")
      ("bind", po::value(&bind)->default_value("127.0.0.1"), "address to listen on")
      ("kubeconfig-out", po::value(&kubeconfig_out), "write a kubeconfig for this server here (atomically, once serving)")
      ("token", po::value(&token), "bearer token clients must send (default: random)")
      ("insecure-http", po::bool_switch(&insecure), "serve plain HTTP instead of HTTPS (debugging)")
      ("data-dir", po::value(&data_dir), "persist state here (snapshot + write-ahead log); default in memory")
      ("scenario", po::value(&scenario), "cluster shape: nodes, node groups, namespaces, quotas, VMs (YAML)")
      ("time-scale", po::value(&time_scale)->default_value(1.0), "simulated seconds per real second for cluster delays")
      ("watch-history", po::value(&watch_history)->default_value(10000), "committed events kept for watches (older: 410 Expired)")
      ("bookmark-interval", po::value(&bookmark_interval)->default_value(60), "seconds between watch bookmarks")
      ("faults", po::value(&faults), "fault injection JSON, as POST /admin/faults takes")
      ("log-level,v", po::value(&log_level)->default_value("info"), "debug, info, warn or error");
  po::variables_map vm;
  if (auto exit_code =
          prescient::ParseCommandLine(argc, argv, desc, {.program = "prescient-sim", .brief_errors = true}, &vm)) {
    return *exit_code;
  }
  if (!prescient::SetLogLevelFromFlag("prescient-sim", "--log-level", log_level)) return 2;
  prescient::log::Logger log("sim");
  if (time_scale <= 0) {
    std::cerr << "prescient-sim: --time-scale must be positive\n";
    return 2;
  }
  if (bookmark_interval <= 0) {
    std::cerr << "prescient-sim: --bookmark-interval must be positive\n";
    return 2;
  }
  if (token.empty()) token = RandomToken();

  // Signals are taken synchronously by the main thread; every other thread inherits the mask.
  const sigset_t sigs = prescient::BlockTerminationSignals();

  auto started = std::chrono::steady_clock::now();
  sim::StoreOptions so;
  so.watch_history = watch_history;
  so.data_dir = data_dir;
  auto store = sim::Store::Open(so);
  if (!store.ok()) {
    log.Error("cannot open the store", {{"error", store.status().ToString()}});
    return 1;
  }
#ifdef PRESCIENT_SIM_HAS_CLUSTER
  sim::cluster::ClusterOptions co;
  co.scenario_path = scenario;
  co.time_scale = time_scale;
  auto cluster = sim::cluster::Install(**store, co);
  if (!cluster.ok()) {
    log.Error("cannot install the cluster behaviour", {{"error", cluster.status().ToString()}});
    return 1;
  }
#else
  if (!scenario.empty()) {
    log.Error("--scenario needs the cluster behaviour, which this build lacks");
    return 1;
  }
#endif
  sim::HandlerOptions ho;
  ho.token = token;
  ho.bookmark_interval = std::chrono::milliseconds(static_cast<int64_t>(bookmark_interval * 1000));
  sim::ApiHandler handler(store->get(), ho);
  if (!faults.empty()) {
    auto j = sim::ParseJsonOrYaml(faults);
    bool drop = false;
    std::optional<size_t> hist;
    auto f = j.ok() ? sim::ParseFaults(*j, handler.faults(), &drop, &hist) : prescient::Result<sim::FaultConfig>(j.status());
    if (!f.ok()) {
      std::cerr << "prescient-sim: --faults: " << f.status().message() << "\n";
      return 2;
    }
    handler.SetFaults(*f);
    if (hist) (*store)->SetWatchHistory(*hist);
  }
  sim::ServerOptions opts;
  opts.bind_address = bind;
  opts.port = port;
  opts.tls = !insecure;
  sim::TlsMaterial tls;
  if (!insecure) {
    auto m = sim::LoadOrCreateTlsMaterial(data_dir.empty() ? "" : data_dir + "/pki", {bind});
    if (!m.ok()) {
      log.Error("cannot make TLS certificates", {{"error", m.status().ToString()}});
      return 1;
    }
    tls = *m;
    opts.cert_pem = tls.server_cert_pem;
    opts.key_pem = tls.server_key_pem;
  }
  auto server = sim::ApiServer::Start(&handler, opts);
  if (!server.ok()) {
    log.Error("cannot start the API server", {{"error", server.status().ToString()}});
    return 1;
  }
  int bound = (*server)->port();
  std::string host = bind == "0.0.0.0" || bind == "::" ? "127.0.0.1" : bind;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  std::string url = std::string(insecure ? "http" : "https") + "://" + host + ":" + std::to_string(bound);
  handler.set_server_address(host + ":" + std::to_string(bound));
  if (!kubeconfig_out.empty()) {
    Status s = WriteKubeconfig(kubeconfig_out, url, tls.ca_cert_pem, token);
    if (!s.ok()) {
      log.Error("cannot write the kubeconfig", {{"error", s.ToString()}});
      return 1;
    }
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  log.Info("serving", {{"url", url}, {"kubeconfig", kubeconfig_out}, {"dataDir", data_dir}, {"scenario", scenario},
                       {"startupMs", ms}, {"resourceVersion", (*store)->CurrentResourceVersion()}});

  int sig = prescient::WaitForTerminationSignal(sigs);
  log.Info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*server)->Stop();
#ifdef PRESCIENT_SIM_HAS_CLUSTER
  (*cluster)->Stop();
#endif
  Status fl = (*store)->Flush();
  if (!fl.ok()) {
    log.Error("cannot flush the store", {{"error", fl.ToString()}});
    return 1;
  }
  log.Info("stopped");
  return 0;
}
