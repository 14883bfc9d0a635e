#include "agent/shim.h"

#include <fcntl.h>
#include <signal.h>
#include <cerrno>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "agent/journal.h"
#include "common/clock.h"
#include "common/log.h"
#include "exec/cgroup.h"
#include "exec/process.h"

namespace prescient::agent {

using nlohmann::json;

json ShimSpecToJson(const ShimSpec& s) {
  json j = {{"uid", s.uid},
            {"argv", s.argv},
            {"env", s.env},
            {"workingDir", s.working_dir},
            {"cgroupMountRoot", s.cgroup_mount_root},
            {"cgroupName", s.cgroup_name},
            {"cgroupProcsFiles", s.cgroup_procs_files},
            {"logPath", s.log_path},
            {"logMaxBytes", s.log_max_bytes},
            {"logKeep", s.log_keep},
            {"tailBytes", s.tail_bytes},
            {"exitPath", s.exit_path}};
  if (!s.shim_token.empty()) j["shimToken"] = s.shim_token;
  if (s.run_as_uid) j["runAsUid"] = *s.run_as_uid;
  if (s.run_as_gid) j["runAsGid"] = *s.run_as_gid;
  return j;
}

Result<ShimSpec> ShimSpecFromJson(const json& j) {
  try {
    ShimSpec s;
    s.uid = j.at("uid").get<std::string>();
    s.argv = j.at("argv").get<std::vector<std::string>>();
    s.env = j.at("env").get<std::vector<std::string>>();
    s.working_dir = j.value("workingDir", "");
    s.cgroup_mount_root = j.value("cgroupMountRoot", "");
    s.cgroup_name = j.value("cgroupName", "");
    s.cgroup_procs_files = j.value("cgroupProcsFiles", std::vector<std::string>{});
    s.log_path = j.value("logPath", "");
    s.log_max_bytes = j.value("logMaxBytes", int64_t{16 << 20});
    s.log_keep = j.value("logKeep", 2);
    s.tail_bytes = j.value("tailBytes", size_t{16 << 10});
    s.exit_path = j.at("exitPath").get<std::string>();
    s.shim_token = j.value("shimToken", "");
    if (j.contains("runAsUid")) s.run_as_uid = j["runAsUid"].get<uint32_t>();
    if (j.contains("runAsGid")) s.run_as_gid = j["runAsGid"].get<uint32_t>();
    if (s.argv.empty()) return InvalidArgument("shim spec: empty argv");
    if (!ValidUid(s.uid)) return InvalidArgument("shim spec: bad uid");
    return s;
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("shim spec: ") + e.what());
  }
}

json ExitRecordToJson(const ExitRecord& e) {
  return {{"exited", e.exited},           {"exitCode", e.exit_code},       {"signal", e.signal},
          {"finishedAt", e.finished_at},  {"error", e.error},              {"maxRssBytes", e.max_rss_bytes},
          {"outputTail", e.output_tail}};
}

Result<ExitRecord> ExitRecordFromJson(const json& j) {
  try {
    ExitRecord e;
    e.exited = j.at("exited").get<bool>();
    e.exit_code = j.value("exitCode", 0);
    e.signal = j.value("signal", 0);
    e.finished_at = j.value("finishedAt", "");
    e.error = j.value("error", "");
    e.max_rss_bytes = j.value("maxRssBytes", int64_t{0});
    e.output_tail = j.value("outputTail", "");
    return e;
  } catch (const std::exception& ex) {
    return InvalidArgument(std::string("exit record: ") + ex.what());
  }
}

namespace {

// Reads one line (the spec path) from the agent's control pipe; empty on EOF or error.
std::string ReadControlLine(int fd) {
  std::string line;
  char c;
  for (;;) {
    ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return "";
    if (c == '\n') return line;
    line.push_back(c);
    if (line.size() > 4096) return "";
  }
}

int RunSpec(const std::string& spec_path, exec::ProcessLauncher* launcher,
            std::unique_ptr<exec::PrestartedChild> prestarted) {
  log::Logger log("agent.shim", {{"spec", spec_path}});
  std::stringstream buf;
  {
    // Closed before the command starts: a plain ifstream's descriptor would be inherited by it.
    std::ifstream in(spec_path);
    if (!in) {
      log.Error("cannot read the shim spec");
      return 2;
    }
    buf << in.rdbuf();
  }
  json parsed = json::parse(buf.str(), nullptr, false);
  auto spec = parsed.is_discarded() ? Result<ShimSpec>(InvalidArgument("shim spec is not JSON")) : ShimSpecFromJson(parsed);
  if (!spec.ok()) {
    log.Error("invalid shim spec", {{"error", spec.status().ToString()}});
    return 2;
  }

  exec::ProcessSpec ps;
  ps.argv = spec->argv;
  ps.env = spec->env;
  ps.inherit_env = false;
  ps.working_dir = spec->working_dir;
  if (spec->run_as_uid) ps.uid = *spec->run_as_uid;
  if (spec->run_as_gid) ps.gid = *spec->run_as_gid;
  ps.cgroup_procs_files = spec->cgroup_procs_files;
  ps.log_path = spec->log_path;
  ps.log_max_bytes = spec->log_max_bytes;
  ps.log_keep = spec->log_keep;
  ps.tail_bytes = spec->tail_bytes;

  ExitRecord rec;
  auto proc = prestarted ? launcher->StartPrestarted(ps, std::move(prestarted)) : launcher->Start(ps);
  if (!proc.ok()) {
    rec.exited = true;
    rec.exit_code = 127;
    rec.error = proc.status().message();
  } else {
    exec::ExitInfo info;
    while (!(*proc)->Wait(std::chrono::hours(1), &info)) {
    }
    // Descendants that escaped the main process would keep the group (and the output pipe) alive.
    if (!spec->cgroup_name.empty()) {
      exec::CgroupOptions co;
      if (!spec->cgroup_mount_root.empty()) co.mount_root = spec->cgroup_mount_root;
      if (auto mgr = exec::DetectCgroups(co); mgr.ok()) {
        if (auto cg = (*mgr)->Open(spec->cgroup_name); cg.ok()) (*cg)->KillAll(SIGKILL);
      }
    }
    (*proc)->FinishOutput();
    rec.exited = info.exited;
    rec.exit_code = info.exit_code;
    rec.signal = info.signal;
    rec.max_rss_bytes = info.max_rss_bytes;
    rec.output_tail = (*proc)->Tail();
  }
  rec.finished_at = FormatRfc3339(SystemClock().Now());
  Status st = WriteFileDurably(spec->exit_path, ExitRecordToJson(rec).dump());
  if (!st.ok()) {
    log.Error("cannot write the exit record", {{"error", st.ToString()}});
    return 3;
  }
  return 0;
}

}  // namespace

int ShimMain(const std::string& spec_path) {
  // The shim outlives the agent and its terminal; it must not die of a hang-up or a closed pipe.
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  auto launcher = exec::NewRealProcessLauncher();
  return RunSpec(spec_path, launcher.get(), nullptr);
}

int WarmShimMain(const std::string& cgroup_mount_root, const std::string& spare_cgroup, int control_fd) {
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  // The control socket is the shim's alone: the command must not inherit it (it would also make
  // every usage sample read the guest's TCP tables for a socket the command never opened).
  fcntl(control_fd, F_SETFD, FD_CLOEXEC);
  log::Logger log("agent.shim", {{"spare", spare_cgroup}});
  auto launcher = exec::NewRealProcessLauncher();
  exec::CgroupOptions co;
  co.mount_root = cgroup_mount_root;
  auto mgr = exec::DetectCgroups(co);
  std::unique_ptr<exec::PrestartedChild> prestarted;
  if (mgr.ok() && (*mgr)->version() == exec::CgroupVersion::kV1) {
    // Pay the cgroup migration now, while nothing waits for it (see exec::PrestartedChild).
    if (auto cg = (*mgr)->Open(spare_cgroup); cg.ok()) {
      auto pre = launcher->Prestart((*cg)->ProcsFiles());
      if (pre.ok())
        prestarted = std::move(*pre);
      else
        log.Warn("cannot prestart the command's process; it will join its cgroup at launch",
                 {{"error", pre.status().ToString()}});
    }
  }
  // Ready: the agent hands this shim a run only after this byte, so a launch never races the
  // prestarted process's move into the spare group (which the agent renames).
  char ready = prestarted ? 'P' : 'R';
  if (write(control_fd, &ready, 1) != 1) return 0;  // the agent is gone already
  std::string spec_path = ReadControlLine(control_fd);
  close(control_fd);
  if (spec_path.empty()) {
    // The agent stopped or gave this spare up: leave nothing behind.
    prestarted.reset();
    if (mgr.ok())
      if (auto cg = (*mgr)->Open(spare_cgroup); cg.ok()) (*cg)->Destroy();
    return 0;
  }
  return RunSpec(spec_path, launcher.get(), std::move(prestarted));
}

}  // namespace prescient::agent
