#include "exec/executor.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>

#include "exec/fileio.h"

namespace prescient::exec {

namespace {
// How long a finished run's group may take to empty after SIGKILL (processes tearing down large
// address spaces or a sandbox's mounts on a loaded machine) before its removal is an error.
constexpr std::chrono::milliseconds kGroupRemovalDeadline{10000};
}  // namespace

Executor::Executor(CgroupManager* cgroups, ProcessLauncher* launcher, ProcFs* proc, Clock* clock)
    : cgroups_(cgroups), launcher_(launcher), proc_(proc), clock_(clock) {}

Result<UsageReport> Executor::Run(const ExecutionRequest& req, const ExecutionHooks& hooks) {
  auto created = cgroups_->Create(req.cgroup_name);
  if (!created.ok()) return created.status();
  std::unique_ptr<Cgroup> cg = std::move(created).value();
  auto cleanup_group = [&](Status cause) -> Status {
    if (req.keep_cgroup) cg->KillAll(SIGKILL);
    else cg->KillAndRemove(kGroupRemovalDeadline);
    return cause;
  };
  if (Status s = cg->SetLimits(req.limits); !s.ok())
    return cleanup_group(Status(s.code(), "setting limits on cgroup " + req.cgroup_name + ": " + s.message()));

  ProcessSpec spec = req.process;
  spec.cgroup_procs_files = cg->ProcsFiles();
  Monitor monitor(cg.get(), proc_, req.monitor);
  auto start = clock_->Monotonic();
  monitor.Start(start);
  auto started = launcher_->Start(spec);
  if (!started.ok()) return cleanup_group(started.status());
  std::unique_ptr<Process> proc = std::move(started).value();
  if (hooks.on_started) hooks.on_started(cg.get(), proc->pid());

  const auto interval = std::max(req.sample_interval, std::chrono::milliseconds(10));
  // Sample densely at first (10 ms, doubling up to the interval): short commands then still get a
  // usage curve, and short-lived connections a chance to be seen.
  auto step = std::min(interval, std::chrono::milliseconds(10));
  auto next_sample = start + step;
  std::optional<std::chrono::steady_clock::time_point> term_sent;
  bool timed_out = false, cancelled = false;
  ExitInfo exit;
  for (;;) {
    auto now = clock_->Monotonic();
    auto wait_until = next_sample;
    if (term_sent) wait_until = std::min(wait_until, *term_sent + req.kill_grace);
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wait_until - now);
    if (proc->Wait(std::max(wait, std::chrono::milliseconds(0)), &exit)) break;
    now = clock_->Monotonic();
    if (now >= next_sample) {
      monitor.Sample(now);
      if (hooks.on_sample) hooks.on_sample(monitor.report());
      step = std::min(interval, step * 2);
      next_sample += step;
      if (next_sample <= now) next_sample = now + step;  // we fell behind: do not burst
    }
    if (!term_sent) {
      bool over = req.timeout.count() > 0 && now - start >= req.timeout;
      bool cancel = hooks.cancel && hooks.cancel->load();
      if (over || cancel) {
        timed_out = over;
        cancelled = !over && cancel;
        proc->SignalGroup(SIGTERM);
        cg->KillAll(SIGTERM);
        term_sent = now;
      }
    } else if (now >= *term_sent + req.kill_grace) {
      proc->SignalGroup(SIGKILL);
      cg->KillAll(SIGKILL);
    }
  }
  auto end = clock_->Monotonic();
  // The main process ended: processes it left behind (same group or escaped into a new session)
  // are part of the run and end with it.
  proc->SignalGroup(SIGKILL);
  cg->KillAll(SIGKILL);
  UsageReport report = monitor.Finish(end, &exit);
  proc->FinishOutput();
  report.timed_out = timed_out;
  report.cancelled = cancelled;
  report.output_bytes = proc->OutputBytes();
  report.output_tail = proc->Tail();
  proc.reset();
  // The run ended (its main process exited early, or was stopped): whatever of it is still exiting
  // leaves its groups now, and only then can they be removed, in every hierarchy.
  if (!req.keep_cgroup)
    if (Status s = cg->KillAndRemove(kGroupRemovalDeadline); !s.ok())
      return Status(s.code(), "run finished but its cgroup could not be removed: " + s.message());
  return report;
}

Result<UsageReport> Executor::Shadow(const ExecutionRequest& request, std::chrono::milliseconds budget,
                                     const Sandbox& sandbox, const std::string& scratch_parent,
                                     const ExecutionHooks& hooks) {
  std::string tmpl = scratch_parent + "/prescient-shadow-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) return InternalError(ErrnoText("mkdtemp " + tmpl, errno));
  std::string scratch = buf.data();
  ExecutionRequest req = request;
  req.timeout = req.timeout.count() > 0 ? std::min(req.timeout, budget) : budget;
  req.kill_grace = std::min(req.kill_grace, std::chrono::milliseconds(200));
  req.process.sandbox = sandbox;
  req.process.sandbox->scratch_dir = scratch;
  req.process.log_path.clear();  // nothing of a shadow run is kept on disk
  auto r = Run(req, hooks);
  // The tmpfs lived in the child's mount namespace and vanished with it; the directory is empty.
  ::rmdir(scratch.c_str());
  return r;
}

}  // namespace prescient::exec
