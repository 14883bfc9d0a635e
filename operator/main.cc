// prescient-operator: predicts, places and allocates CommandRuns ahead of execution and learns from
// what they used. See docs/agent-protocol.md for the contract with prescient-agent and
// operator/METRICS.md for the metrics.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <prometheus/exposer.h>
#include <random>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "common/startup.h"
#include "controller/manager.h"
#include "controller/metrics.h"
#include "controller/policy.h"
#include "controller/model_predictor.h"
#include "controller/predictor.h"
#include "history/retrainer.h"
#include "health_server.h"
#include "history/store.h"
#include "kube/config.h"
#include "kube/events.h"
#include "kube/flags.h"
#include "kube/leader_election.h"

namespace po = boost::program_options;
using namespace prescient;

namespace {

std::string Identity() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  std::random_device rd;
  return std::string(host) + "_" + std::to_string(getpid()) + "_" + std::to_string(rd() % 100000);
}

}  // namespace

int main(int argc, char** argv) {
  kube::KubeFlags kf;
  std::string metrics_addr, probe_addr, lease_ns, lease_name, level, config_file, config_map, history_dir, model_dir,
      watch_ns;
  bool leader_elect = false;
  int workers = 2;
  double lease_seconds = 15;
  po::options_description desc(
      "prescient-operator: sizes KubeVirt VMs before a command runs in them (CommandRun, ResourceReservation).\n"
      "Usage: prescient-operator [flags]\nFlags");
  desc.add_options()("help,h", "show this help")(
      "metrics-bind-address", po::value(&metrics_addr)->default_value(":8080"),
      "address of the Prometheus /metrics endpoint; \"0\" disables it")(
      "health-probe-bind-address", po::value(&probe_addr)->default_value(":8081"), "address of /healthz and /readyz")(
      "leader-elect", po::bool_switch(&leader_elect),
      "run leader election so only one of several replicas reconciles (a standby takes over within the lease duration)")(
      "leader-election-namespace", po::value(&lease_ns)->default_value(""),
      "namespace of the leader election Lease (default: the kubeconfig's namespace)")(
      "leader-election-id", po::value(&lease_name)->default_value("prescient-operator"), "name of the Lease")(
      "leader-election-lease-duration", po::value(&lease_seconds)->default_value(15), "lease duration in seconds")(
      "zap-log-level", po::value(&level)->default_value("info"), "log verbosity: debug, info, warn, error (or zap numbers)")(
      "config", po::value(&config_file)->default_value(""), "policy file (see operator/config/policy.yaml)")(
      "config-map", po::value(&config_map)->default_value(""),
      "NAMESPACE/NAME of a ConfigMap whose policy.yaml key holds the policy (instead of --config)")(
      "history-dir", po::value(&history_dir)->default_value(""),
      "directory of the durable run history (history.jsonl); \"\" keeps no history")(
      "model-dir", po::value(&model_dir)->default_value(""),
      "directory of the prediction model (e.g. models/default); without one the operator predicts from history "
      "and defaults. Promoted retrained models are saved under it")(
      "watch-namespace", po::value(&watch_ns)->default_value(""), "only this namespace (default: all)")(
      "workers", po::value(&workers)->default_value(2), "concurrent CommandRun reconciles");
  kube::AddKubeFlags(&desc, &kf);
  po::variables_map vm;
  if (auto exit_code = ParseCommandLine(argc, argv, desc, {.program = "prescient-operator"}, &vm)) return *exit_code;
  if (!SetLogLevelFromFlag("prescient-operator", "--zap-log-level", level)) return 2;
  log::Logger log("operator");
  if (workers < 1 || workers > 64) {
    log.Error("--workers must be between 1 and 64");
    return 2;
  }
  if (!config_file.empty() && !config_map.empty()) {
    log.Error("pass either --config or --config-map, not both");
    return 2;
  }

  const sigset_t sigs = BlockTerminationSignals();

  auto connection = kube::ConnectFromFlags(kf, log);
  if (!connection) return 1;
  const kube::Config* config = &connection->config;
  kube::Client* client = connection->client.get();

  controller::ControllerPolicy policy;
  if (!config_file.empty()) {
    auto p = controller::LoadPolicyFile(config_file);
    if (!p.ok()) {
      log.Error("invalid policy", {{"error", p.status().ToString()}});
      return 2;
    }
    policy = *p;
  } else if (!config_map.empty()) {
    std::string ns, name;
    kube::SplitKey(config_map, &ns, &name);
    auto cm = client->Get(kube::resources::kConfigMap, ns, name);
    if (!cm.ok()) {
      log.Error("cannot read the policy ConfigMap", {{"configMap", config_map}, {"error", cm.status().ToString()}});
      return 1;
    }
    std::string text = (*cm).contains("data") ? (*cm)["data"].value("policy.yaml", "") : "";
    auto p = controller::ParsePolicyYaml(text, "configmap " + config_map + " policy.yaml");
    if (!p.ok()) {
      log.Error("invalid policy", {{"error", p.status().ToString()}});
      return 2;
    }
    policy = *p;
  }

  auto registry = std::make_shared<prometheus::Registry>();
  controller::Metrics metrics(registry);
  auto served = ServeMetrics(metrics_addr, registry);
  if (!served.ok()) {
    log.Error("cannot serve metrics", {{"address", metrics_addr}, {"error", served.status().ToString()}});
    return 1;
  }
  std::unique_ptr<prometheus::Exposer> exposer = std::move(*served);

  std::unique_ptr<history::HistoryStore> history;
  if (!history_dir.empty()) {
    auto h = history::HistoryStore::Open(history_dir);
    if (!h.ok()) {
      log.Error("cannot open the run history", {{"dir", history_dir}, {"error", h.status().ToString()}});
      return 1;
    }
    history = std::move(*h);
    if (history->truncated_bytes() > 0) {
      log.Warn("dropped a torn last line of the run history (a crash during a write)",
               {{"path", history->path()}, {"bytes", history->truncated_bytes()}});
    }
  }
  // The Command Analysis Module's predictor: the model from --model-dir when it loads, else history
  // and documented defaults only. Either way it learns from every finished run (Observe).
  std::shared_ptr<model::Predictor> base;
  std::string source = "history only";
  if (!model_dir.empty()) {
    auto m = model::Predictor::Load(model_dir);
    if (m.ok()) {
      base = std::move(*m);
      source = "model " + model_dir;
    } else {
      log.Warn("cannot load the model; predicting from history and defaults",
               {{"modelDir", model_dir}, {"error", m.status().ToString()}});
    }
  }
  if (!base) base = model::Predictor::WithoutModel();
  if (history) {
    auto file = analysis::ReadHistoryFile(history->path(), {.require_usage = true, .strict = false});
    if (file.ok()) {
      for (const auto& r : file->records) base->Observe(r);
      log.Info("history loaded", {{"runs", file->records.size()}, {"skipped", file->skipped}});
    }
  }
  controller::ModelPredictor predictor(base, source);
  metrics.SetModelInfo(predictor.ModelVersion(), base->has_model() ? "Model" : "History");
  std::unique_ptr<history::Retrainer> retrainer;
  if (history) {
    history::RetrainOptions ro;
    ro.history_path = history->path();
    ro.model_dir = model_dir.empty() ? (std::filesystem::path(history_dir) / "models").string() : model_dir;
    ro.interval = policy.retrain_interval;
    ro.min_new_records = policy.retrain_min_new_records;
    ro.holdout_fraction = policy.holdout_fraction;
    retrainer = std::make_unique<history::Retrainer>(
        history.get(), ro, [&predictor] { return predictor.Current(); },
        [&](const history::RetrainOutcome& o) {
          metrics.RetrainResult(o.result);
          log.Info("retraining", {{"result", o.result}, {"version", o.version}, {"detail", o.message}});
          if (o.promoted) {
            predictor.Replace(o.promoted, "retrained " + o.version);
            metrics.SetModelInfo(o.version, "Model");
          }
        });
  }
  kube::ApiEventRecorder events(client, "prescient-operator");
  controller::ManagerOptions mo;
  mo.client = client;
  mo.events = &events;
  mo.predictor = &predictor;
  mo.history = history.get();
  mo.metrics = &metrics;
  mo.policy = policy;
  // Balloon pods live in the operator's own namespace unless the policy names one.
  if (mo.policy.balloon_namespace.empty()) mo.policy.balloon_namespace = lease_ns.empty() ? config->default_namespace : lease_ns;
  mo.workers = workers;
  mo.watch_namespace = watch_ns;
  controller::Manager manager(mo);

  std::atomic<bool> lost_lease{false};
  op::HealthServer health([&] { return !lost_lease.load(); }, [&] { return manager.Synced(); });
  if (probe_addr != "0") {
    if (Status s = health.Start(probe_addr); !s.ok()) {
      log.Error("cannot serve health probes", {{"error", s.ToString()}});
      return 1;
    }
  }
  manager.StartInformers();
  log.Info("started", {{"server", config->server}, {"workers", workers}, {"leaderElect", leader_elect},
                       {"scalingMode", controller::ScalingModeName(policy.placement.scaling_mode)},
                       {"historyDir", history_dir}, {"metrics", metrics_addr}, {"probes", probe_addr}});

  std::unique_ptr<kube::LeaderElector> elector;
  auto start = [&] {
    if (!manager.WaitForSync(std::chrono::seconds(60))) log.Warn("caches not synced after 60s; starting anyway");
    manager.StartControllers();
    if (retrainer) retrainer->Start();
    log.Info("controllers running", {{"model", predictor.SourceName()}, {"modelVersion", predictor.ModelVersion()}});
  };
  if (leader_elect) {
    kube::LeaderElectionConfig lc;
    lc.lease_namespace = lease_ns.empty() ? config->default_namespace : lease_ns;
    lc.lease_name = lease_name;
    lc.identity = Identity();
    lc.lease_duration = std::chrono::milliseconds(static_cast<int64_t>(lease_seconds * 1000));
    lc.renew_deadline = lc.lease_duration * 2 / 3;
    lc.retry_period = lc.lease_duration / 7;
    lc.on_started_leading = [&] {
      metrics.SetLeader(true);
      log.Info("became leader", {{"identity", lc.identity}});
      std::thread(start).detach();
    };
    lc.on_stopped_leading = [&] {
      metrics.SetLeader(false);
      // Like controller-runtime: a replica that lost the lease exits, so it never reconciles
      // alongside the new leader; the restart makes it a fresh standby.
      log.Error("lost the leader election lease; exiting");
      lost_lease = true;
      _exit(1);
    };
    elector = std::make_unique<kube::LeaderElector>(client, lc);
    elector->Start();
  } else {
    metrics.SetLeader(true);
    start();
  }

  int sig = WaitForTerminationSignal(sigs);
  log.Info("shutting down", {{"signal", sig}});
  if (retrainer) retrainer->Stop();
  manager.Stop();
  if (elector) {
    elector->Stop();  // releases the lease so a standby takes over at once
  }
  health.Stop();
  exposer.reset();
  log.Info("stopped");
  // Everything durable is on disk (history lines are fdatasync'd as they are written). Leave without
  // running static destructors: cpprestsdk's process-wide thread pool is torn down at exit while its
  // I/O threads may still touch it, which crashed the process at exit.
  std::fflush(nullptr);
  _exit(0);
}
