#include "testing/cluster.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include "api/constants.h"
#include "kube/config.h"
#include "kube/rest_client.h"

namespace prescient::testing {
namespace fs = std::filesystem;
namespace {

const kube::ResourceType kVmi{"kubevirt.io", "v1", "virtualmachineinstances", "VirtualMachineInstance", true};

}  // namespace

bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout, std::chrono::milliseconds every) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(every);
  }
  return pred();
}

std::string SourceDir() {
#ifdef PRESCIENT_SOURCE_DIR
  return PRESCIENT_SOURCE_DIR;
#else
  return ".";
#endif
}

Result<std::unique_ptr<TestCluster>> TestCluster::Start(const ClusterOptions& options) {
  std::unique_ptr<TestCluster> c(new TestCluster());
  std::string tmpl = (fs::temp_directory_path() / ("prescient-" + options.name + "-XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) return InternalError(std::string("mkdtemp failed: ") + std::strerror(errno));
  c->dir_ = tmpl;
  chmod(c->dir_.c_str(), 0755);  // mkdtemp makes 0700; commands run as nobody read below it

  SimOptions so;
  so.scenario = options.scenario_file;
  if (!options.scenario.empty()) {
    so.scenario = (c->dir_ / "scenario.yaml").string();
    std::ofstream(so.scenario) << options.scenario;
  }
  so.time_scale = options.time_scale;
  so.extra_args = options.sim_args;
  auto sim = SimProcess::Start(so);
  if (!sim.ok()) return sim.status();
  c->sim_ = std::move(*sim);

  auto crds = RunKubectl(c->kubeconfig(), {"apply", "-f", SourceDir() + "/crds/"});
  if (crds.exit_code != 0) return InternalError("applying " + SourceDir() + "/crds/: " + crds.ToString());
  auto cfg = kube::LoadKubeconfig({c->kubeconfig()}, "", true);
  if (!cfg.ok()) return cfg.status();
  auto client = kube::NewRestClient(*cfg);
  if (!client.ok()) return client.status();
  c->client_ = std::move(*client);
  return c;
}

TestCluster::~TestCluster() {
  client_.reset();
  sim_.reset();
  std::error_code ec;
  if (!keep_dir_ && !dir_.empty() && std::getenv("PRESCIENT_KEEP_TEST_DIRS") == nullptr) fs::remove_all(dir_, ec);
}

Status TestCluster::WaitForVmis(const std::string& ns, const std::vector<std::string>& vmis,
                                std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  };
  if (!WaitFor([&] { return client_->List(api::kCommandRuns, ns, {}).ok(); }, left())) {
    return Status(Code::kTimeout, "CommandRuns in namespace " + ns +
                                      " cannot be listed (CRDs not served?); sim log:\n" + sim_->LogTail());
  }
  for (const auto& name : vmis) {
    std::string seen = "not found";
    bool ready = WaitFor([&] {
      auto vmi = client_->Get(kVmi, ns, name);
      if (!vmi.ok()) return false;
      seen = vmi->value(nlohmann::json::json_pointer("/status/phase"), std::string("no phase"));
      return seen == "Running" && vmi->contains(nlohmann::json::json_pointer("/status/currentCPUTopology"));
    }, left());
    if (!ready) {
      return Status(Code::kTimeout, "VMI " + ns + "/" + name + " is not Running with its size reported (phase: " +
                                        seen + "); sim log:\n" + sim_->LogTail());
    }
  }
  return Status::Ok();
}

std::unique_ptr<OperatorProcess> TestCluster::Operator(const std::vector<std::string>& args, const std::string& name) {
  std::vector<std::string> all = {"--kubeconfig", kubeconfig(), "--metrics-bind-address", "0",
                                  "--health-probe-bind-address", "127.0.0.1:0"};
  all.insert(all.end(), args.begin(), args.end());
  return std::make_unique<OperatorProcess>(all, (dir_ / (name + ".log")).string());
}

std::unique_ptr<AgentProcess> TestCluster::Agent(const AgentFlags& f) {
  std::vector<std::string> all = {"--kubeconfig",      kubeconfig(),
                                  "--instance",        f.instance,
                                  "--namespace",       f.ns,
                                  "--state-dir",       (dir_ / (f.name + "-state")).string(),
                                  "--log-dir",         (dir_ / (f.name + "-logs")).string(),
                                  "--cgroup-parent",   f.cgroup_parent,
                                  "--metrics-bind-address", f.metrics_bind_address,
                                  "--sample-interval", f.sample_interval,
                                  "--report-interval", f.report_interval};
  all.insert(all.end(), f.args.begin(), f.args.end());
  return std::make_unique<AgentProcess>(all, (dir_ / (f.name + ".log")).string());
}

std::string AgentPrerequisitesMissing() {
  if (geteuid() != 0) return "needs root: the agent runs commands in cgroups it creates";
  for (const std::string& bin : {AgentBinaryPath(), SimBinaryPath()}) {
    if (access(bin.c_str(), X_OK) != 0) return "needs " + bin + " built";
  }
  if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) != 0 &&
      access("/sys/fs/cgroup/cgroup.controllers", F_OK) != 0) {
    return "no usable cgroup hierarchy at /sys/fs/cgroup";
  }
  return "";
}

std::string CgroupParentName(const std::string& what) { return "prescient-" + what + "-" + std::to_string(getpid()); }

std::vector<std::string> RemoveCgroupParent(const std::string& parent) {
  std::vector<std::string> left;
  if (parent.empty() || parent.find("..") != std::string::npos) return left;
  for (const char* h : {"memory", "cpu,cpuacct", "cpu", "cpuacct", "blkio", "pids", ""}) {
    std::string p = std::string("/sys/fs/cgroup/") + h + "/" + parent;
    std::error_code ec;
    for (auto& child : fs::directory_iterator(p, ec)) {
      if (!child.is_directory()) continue;
      left.push_back(child.path().string());
      rmdir(child.path().c_str());
    }
    rmdir(p.c_str());
  }
  return left;
}

}  // namespace prescient::testing
