// The run shim: a tiny supervisor between the agent and a command, so that a command survives the
// agent's death (kill -9, upgrade, SIGTERM drain) and its exit status is never lost.
//
// The agent starts `prescient-agent shim <state-dir>/runs/<uid>.spec.json` detached (double fork,
// own session; adopted by init). The shim starts the command through prescient_exec's launcher
// (the child joins the run's cgroup before exec, drops to the unprivileged user, output goes to a
// rotated log file), waits for it, kills leftovers in the cgroup, and writes
// <state-dir>/runs/<uid>.exit.json durably (exit code or signal, ru_maxrss, output tail, time).
// A restarted agent reads that record instead of waiting for a child it never had, which is how
// the exit code of a reattached run is known. Only if the shim itself dies (kill -9 of the shim,
// a reboot) is the exit code unknown: the agent reports the run Lost.
//
// The spec file (mode 0600, written by the agent) carries everything, so nothing from the
// CommandRun appears on a command line visible in /proc.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/decision.h"
#include "common/status.h"

namespace prescient::agent {

struct ShimSpec {
  std::string uid;
  std::vector<std::string> argv;  // {"/bin/sh","-c",command} or the run's args
  std::vector<std::string> env;   // "NAME=value", complete (nothing inherited)
  std::string working_dir;
  std::optional<uint32_t> run_as_uid, run_as_gid;
  std::string cgroup_mount_root;  // for reopening the group to kill leftovers
  std::string cgroup_name;
  std::vector<std::string> cgroup_procs_files;
  std::string log_path;
  int64_t log_max_bytes = 16 << 20;
  int log_keep = 2;
  size_t tail_bytes = 16 << 10;
  std::string exit_path;
  // Set when a warm shim runs the spec: the token on its command line (Alive's pid-reuse check,
  // since a warm shim's command line cannot name the run).
  std::string shim_token;
};

nlohmann::json ShimSpecToJson(const ShimSpec& s);
Result<ShimSpec> ShimSpecFromJson(const nlohmann::json& j);
nlohmann::json ExitRecordToJson(const ExitRecord& e);
Result<ExitRecord> ExitRecordFromJson(const nlohmann::json& j);

// The shim's main: returns the process exit status (0 once the exit record is written).
int ShimMain(const std::string& spec_path);

// A warm shim (`prescient-agent shim --warm MOUNT_ROOT SPARE_CGROUP TOKEN`, control pipe on fd 3):
// started by the agent before any run needs it, so that neither the shim's own start-up nor (on
// cgroup v1) the command's migration into its cgroup is on the Allocated → exec path. It
// prestarts the command's process inside the spare cgroup SPARE_CGROUP, then waits for one line
// on `control_fd`: the path of a spec whose cgroup is the spare, renamed by the agent to the run's
// name. It then behaves as ShimMain. On EOF (the agent stopped or dropped the spare) it removes the
// spare and exits. TOKEN only marks the process (the agent's pid-reuse check).
int WarmShimMain(const std::string& cgroup_mount_root, const std::string& spare_cgroup, int control_fd);

}  // namespace prescient::agent
