// prescient-agent: runs CommandRuns bound to this VM instance under their allocation's cgroup
// limits and reports measured usage (docs/agent-protocol.md). `prescient-agent shim SPEC` is the
// per-run supervisor the agent starts (shim.h); it is not meant to be run by hand.
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "agent/agent.h"
#include "agent/host_exec.h"
#include "agent/journal.h"
#include "agent/kube_env.h"
#include "agent/metrics.h"
#include "agent/shim.h"
#include "common/log.h"
#include "common/startup.h"
#include "kube/flags.h"

namespace po = boost::program_options;
using namespace prescient;

namespace {

std::string Trim(std::string s) {
  while (!s.empty() && isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

// "1s", "500ms", "2m", or plain seconds ("1.5").
bool ParseDuration(const std::string& text, std::chrono::milliseconds* out) {
  try {
    size_t pos = 0;
    double v = std::stod(text, &pos);
    std::string unit = text.substr(pos);
    double ms = unit == "ms" ? v : unit == "s" || unit.empty() ? v * 1000 : unit == "m" ? v * 60000 : -1;
    if (ms <= 0) return false;
    *out = std::chrono::milliseconds(static_cast<int64_t>(ms));
    return true;
  } catch (...) {
    return false;
  }
}

// The instance and namespace from the guest: a file "NAMESPACE/NAME" (or "NAME"), else cloud-init's
// instance data, where KubeVirt's NoCloud metadata sets instance-id to "<vmi>.<namespace>".
void InstanceFromGuest(const std::string& file, std::string* instance, std::string* ns) {
  if (auto text = ReadFile(file)) {
    std::string t = Trim(*text);
    size_t slash = t.find('/');
    if (slash != std::string::npos) {
      if (ns->empty()) *ns = t.substr(0, slash);
      if (instance->empty()) *instance = t.substr(slash + 1);
    } else if (instance->empty()) {
      *instance = t;
    }
    return;
  }
  if (auto text = ReadFile("/run/cloud-init/instance-data.json")) {
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_object() && j.contains("v1") && j["v1"].is_object()) {
      std::string id = j["v1"].value("instance_id", "");
      size_t dot = id.find('.');
      if (dot != std::string::npos) {
        if (instance->empty()) *instance = id.substr(0, dot);
        if (ns->empty()) *ns = id.substr(dot + 1);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "shim") {
    if (argc == 6 && std::string(argv[2]) == "--warm") return agent::WarmShimMain(argv[3], argv[4], 3);
    if (argc != 3) {
      std::cerr << "usage: prescient-agent shim SPEC_FILE\n";
      return 2;
    }
    return agent::ShimMain(argv[2]);
  }

  std::string instance, ns, instance_file, state_dir, cgroup_parent, cgroup_root, run_as_user, log_dir, metrics_addr,
      allowed, level, sample_interval, report_interval, stop_grace;
  bool no_guest_size = false;
  int warm_shims = 2;
  kube::KubeFlags kf;
  po::options_description desc(
      "prescient-agent: runs the CommandRuns bound to this VM instance under their allocated cgroup limits and "
      "reports measured usage.\nUsage: prescient-agent [flags]\nFlags");
  desc.add_options()("help,h", "show this help")(
      "instance", po::value(&instance), "this VM instance's name (the VMI); default: from --instance-file or cloud-init")(
      "namespace", po::value(&ns), "the instance's namespace; default: from --instance-file or cloud-init")(
      "instance-file", po::value(&instance_file)->default_value("/etc/prescient/instance"),
      "file holding NAMESPACE/NAME (or NAME) when --instance is not given")(
      "state-dir", po::value(&state_dir)->default_value("/var/lib/prescient-agent"),
      "local journal and run records (must survive restarts)")(
      "log-dir", po::value(&log_dir)->default_value("/var/log/prescient-agent"), "full command output, rotated")(
      "cgroup-parent", po::value(&cgroup_parent)->default_value("prescient"),
      "parent cgroup of all runs (the guest's size is enforced on it)")(
      "cgroup-root", po::value(&cgroup_root)->default_value("/sys/fs/cgroup"), "where cgroup hierarchies are mounted")(
      "run-as-user", po::value(&run_as_user)->default_value("nobody"),
      "unprivileged user that commands run as (\"\" = the agent's own user; not recommended)")(
      "sample-interval", po::value(&sample_interval)->default_value("1s"), "usage sampling interval")(
      "report-interval", po::value(&report_interval)->default_value("5s"), "least time between usage reports")(
      "stop-grace-period", po::value(&stop_grace)->default_value("30s"),
      "SIGTERM -> SIGKILL delay when the operator asks to stop a run (preemption) without a gracePeriodSeconds")(
      "metrics-bind-address", po::value(&metrics_addr)->default_value(":9464"), "Prometheus metrics; \"0\" disables")(
      "allowed-namespaces", po::value(&allowed)->default_value(""),
      "comma-separated namespaces this agent may run commands from (default: its own namespace only)")(
      "no-guest-size", po::bool_switch(&no_guest_size), "do not enforce the VMI's size on the parent cgroup")(
      "warm-shims", po::value(&warm_shims)->default_value(2),
      "shims kept started ahead of runs (on cgroup v1 with the command's process already in a spare cgroup), "
      "so a launch starts no process image and migrates nothing; 0 starts each shim on demand")(
      "zap-log-level", po::value(&level)->default_value("info"), "debug, info, warn, error");
  kube::AddKubeFlags(&desc, &kf);
  po::variables_map vm;
  if (auto exit_code = ParseCommandLine(argc, argv, desc, {.program = "prescient-agent"}, &vm)) return *exit_code;
  if (!SetLogLevelFromFlag("prescient-agent", "--zap-log-level", level)) return 2;
  log::Logger log("agent");

  InstanceFromGuest(instance_file, &instance, &ns);
  if (instance.empty() || ns.empty()) {
    log.Error("the instance is unknown: pass --instance and --namespace, or write NAMESPACE/NAME to " + instance_file);
    return 2;
  }
  agent::AgentOptions ao;
  ao.identity.instance = instance;
  ao.identity.ns = ns;
  std::stringstream ss(allowed);
  for (std::string item; std::getline(ss, item, ',');)
    if (!Trim(item).empty()) ao.identity.allowed_namespaces.push_back(Trim(item));
  if (!ao.identity.allowed_namespaces.empty() &&
      std::find(ao.identity.allowed_namespaces.begin(), ao.identity.allowed_namespaces.end(), ns) ==
          ao.identity.allowed_namespaces.end()) {
    log.Error("namespace " + ns + " is not in --allowed-namespaces " + allowed + ": this agent would run nothing");
    return 2;
  }
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  ao.identity.hostname = host;
  ao.identity.boot_id = Trim(ReadFile("/proc/sys/kernel/random/boot_id").value_or(""));
  ao.identity.pid = getpid();
  if (!ParseDuration(sample_interval, &ao.controller.sample_interval) ||
      !ParseDuration(report_interval, &ao.controller.report_interval) ||
      !ParseDuration(stop_grace, &ao.controller.stop_grace)) {
    log.Error("--sample-interval, --report-interval and --stop-grace-period take durations such as 1s or 500ms");
    return 2;
  }
  ao.enforce_guest_size = !no_guest_size;

  agent::HostExecOptions ho;
  ho.state_dir = state_dir;
  ho.log_dir = log_dir;
  ho.cgroup_parent = cgroup_parent;
  ho.cgroup_mount_root = cgroup_root;
  if (warm_shims < 0 || warm_shims > 16) {
    log.Error("--warm-shims takes 0 to 16");
    return 2;
  }
  ho.warm_shims = warm_shims;
  if (!run_as_user.empty()) {
    struct passwd* pw = getpwnam(run_as_user.c_str());
    if (!pw) {
      log.Error("--run-as-user " + run_as_user + " does not exist on this guest");
      return 2;
    }
    ho.run_as_uid = pw->pw_uid;
    ho.run_as_gid = pw->pw_gid;
    ho.run_as_home = pw->pw_dir;
  } else {
    log.Warn("--run-as-user is empty: commands run with the agent's own privileges");
  }

  // Signals go to one watcher thread; block them before any thread starts.
  const sigset_t sigs = BlockTerminationSignals();

  auto journal = agent::FileJournal::Open(state_dir);
  if (!journal.ok()) {
    log.Error("cannot open the journal", {{"error", journal.status().ToString()}});
    return 1;
  }
  for (auto& c : (*journal)->corrupt())
    log.Error("unreadable journal entry left in place; its run is never started again", {{"entry", c}});
  auto exec = agent::HostExecEnv::Create(ho);
  if (!exec.ok()) {
    log.Error("cannot use this host's cgroups; refusing to run commands without limits",
              {{"error", exec.status().ToString()}});
    return 1;
  }
  log.Info("host ready", {{"cgroups", (*exec)->Describe()}, {"stateDir", state_dir}});
  auto connection = kube::ConnectFromFlags(kf, log);
  if (!connection) return 1;
  kube::Client* client = connection->client.get();
  agent::KubeRunApi api(client);
  agent::PrometheusAgentMetrics metrics;
  if (Status st = metrics.Serve(metrics_addr); !st.ok()) {
    log.Error("metrics", {{"error", st.ToString()}});
    return 1;
  }
  agent::Agent agent(ao, client, &api, exec->get(), journal->get(), &SystemClock(), &metrics);
  std::thread watcher([&] {
    int sig = WaitForTerminationSignal(sigs);
    log.Info("signal received", {{"signal", sig}});
    agent.RequestStop();
  });
  Status st = agent.Run();
  // Wake the watcher if it is still waiting (normal exit path).
  pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  if (!st.ok()) {
    log.Error("agent failed", {{"error", st.ToString()}});
    return 1;
  }
  return 0;
}
