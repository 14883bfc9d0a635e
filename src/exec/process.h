// Starting a command: fork/exec of `/bin/sh -c COMMAND` or an argv, with its environment, working
// directory and optionally an unprivileged uid/gid, in its own session and process group. On cgroup
// v2 (Linux >= 5.7) the child is born in its cgroup (clone3 with CLONE_INTO_CGROUP), so it never
// runs an instruction outside its limits; on cgroup v1, or where the kernel lacks clone3 or the
// flag, it joins between fork and exec (it writes its own pid to cgroup.procs before exec, so no
// byte of the command's resource use escapes accounting). Standard output and error go to a
// size-rotated log file and an in-memory tail. An optional Sandbox puts the child in a private
// mount namespace with an overlay over / (and over the working directory when it is another
// filesystem) so its writes vanish, and without network unless allowed (shadow execution).
//
// ProcessLauncher/Process are the Env-style seam for the agent's tests. Thread-safety: a Process
// may be signalled and its Tail() read from any thread; Wait() from one thread at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace prescient::exec {

// Shadow-execution sandbox: everything the command writes is discarded when it ends. Private
// mount, IPC and UTS namespaces (and network unless allowed); an overlay over / whose upper layer
// is a tmpfs; a private /dev with harmless devices only; /sys and /proc/sys read-only. The PID
// namespace is shared: set ProcessSpec::uid to an unprivileged user to keep the command from
// signalling other processes.
struct Sandbox {
  bool allow_network = false;          // false: a new, empty network namespace (no interfaces up)
  int64_t scratch_bytes = 256 << 20;   // size of the tmpfs that receives the overlay's writes
  std::string scratch_dir;             // an empty directory used as a private mount point; must exist
};

struct ProcessSpec {
  // Exactly one of these: a shell command (run as /bin/sh -c COMMAND) or an argv (PATH-searched).
  std::string shell_command;
  std::vector<std::string> argv;
  // "NAME=value" entries. With inherit_env the parent's environment is the base and these override.
  std::vector<std::string> env;
  bool inherit_env = false;
  std::string working_dir;                // empty: the parent's
  std::optional<uid_t> uid;               // run as this user (setgroups/setgid/setuid before exec)
  std::optional<gid_t> gid;               // defaults to uid's primary group when only uid is set
  std::vector<std::string> cgroup_procs_files;  // Cgroup::ProcsFiles(); the child joins before exec
  std::string log_path;                   // empty: output only kept in the tail
  int64_t log_max_bytes = 16 << 20;       // rotate at this size: log → log.1 → … → log.<log_keep>
  int log_keep = 2;
  size_t tail_bytes = 16 << 10;           // last N bytes of stdout+stderr kept in memory
  std::optional<Sandbox> sandbox;
};

struct ExitInfo {
  bool exited = false;      // true: exit_code is valid; false: killed by `signal`
  int exit_code = -1;
  int signal = 0;
  bool core_dumped = false;
  // From wait4() (the child and every descendant it waited for).
  int64_t max_rss_bytes = 0;  // ru_maxrss: largest peak RSS of one process (= GNU time's %M)
  // The launcher's own RSS when it forked. The kernel's ru_maxrss also counts the forked copy of
  // the launcher before exec, so a max_rss_bytes at or below this says nothing about the command.
  int64_t fork_rss_bytes = 0;
  bool MaxRssIsTheCommands() const { return max_rss_bytes > fork_rss_bytes + (128 << 10); }
  double user_seconds = 0;
  double system_seconds = 0;
  uint64_t block_read_bytes = 0;   // ru_inblock × 512: storage reads the processes caused
  uint64_t block_write_bytes = 0;  // ru_oublock × 512: storage writes (counted when dirtied)
  // Shell convention: exit code, or 128 + signal.
  int ShellStatus() const { return exited ? exit_code : 128 + signal; }
};

// How a child entered its cgroup.
enum class CgroupEntry {
  kNone,             // the spec named no cgroup
  kBornInGroup,      // clone3(CLONE_INTO_CGROUP): created inside the group (cgroup v2, Linux >= 5.7)
  kJoinedAfterFork,  // forked, then wrote its pid to each cgroup.procs before exec (v1, older kernels)
};
const char* CgroupEntryName(CgroupEntry e);

// What decides how a child enters its cgroup; all of it is known before forking.
struct CgroupEntryFacts {
  size_t procs_files = 0;      // the spec's cgroup.procs files (v1: one per hierarchy)
  bool on_cgroup2 = false;     // the single group directory is on a cgroup2 filesystem
  int kernel_major = 0;        // from uname's release; 0 when unknown (then clone3 is tried)
  int kernel_minor = 0;
  bool clone3_unsupported = false;  // an earlier clone3(CLONE_INTO_CGROUP) here failed with a fallback errno
};
// Born in the group when there is exactly one group, on cgroup v2, on a kernel that may have
// CLONE_INTO_CGROUP (>= 5.7 or unknown) not already found lacking it; else fork and join.
CgroupEntry ChooseCgroupEntry(const CgroupEntryFacts& facts);
// True for the errors of clone3(CLONE_INTO_CGROUP) that mean "not available on this kernel"
// (ENOSYS: no clone3; EINVAL: unknown flag; E2BIG: larger clone_args than the kernel knows): the
// launcher then forks and joins instead. Any other error is the launch's failure.
bool Clone3FallsBack(int err);
// "6.18.44-fc-v857" -> 6, 18. False when the release does not start with "MAJOR.MINOR".
bool ParseKernelRelease(const std::string& release, int* major, int* minor);

class Process {
 public:
  virtual ~Process() = default;
  virtual pid_t pid() const = 0;
  // Waits up to `timeout` for the child to end; true and *info filled once it has (reaped).
  // After it returned true it keeps returning true with the same info.
  virtual bool Wait(std::chrono::milliseconds timeout, ExitInfo* info) = 0;
  // Sends `sig` to the child's process group (the child is its session and group leader).
  virtual Status SignalGroup(int sig) = 0;
  // The last tail_bytes of output.
  virtual std::string Tail() const = 0;
  // Total bytes of output seen.
  virtual uint64_t OutputBytes() const = 0;
  // How the child entered its cgroup (for logs and tests).
  virtual CgroupEntry cgroup_entry() const { return CgroupEntry::kNone; }
  // Stops capturing output (after the child and its group ended; pipes held open by escaped
  // descendants would otherwise keep the reader alive) and flushes the log file.
  virtual void FinishOutput() = 0;
};

// A child forked ahead of time that has already joined its cgroups and waits to be told what to
// run. Joining is the slow part of a start on cgroup v1: each migration into a group waits for an
// RCU grace period (10-40 ms measured here), so a supervisor that knows the group in advance pays
// it before the command is due (see the agent's warm shims). Destroying an unused one kills and
// reaps the child.
class PrestartedChild {
 public:
  virtual ~PrestartedChild() = default;
  virtual pid_t pid() const = 0;
};

class ProcessLauncher {
 public:
  virtual ~ProcessLauncher() = default;
  // Starts the process. Errors name the step that failed in the child (cgroup join, sandbox
  // mount, chdir, setuid, exec) and its errno. The child is born in its cgroup where
  // ChooseCgroupEntry says so (falling back to fork and join when clone3 turns out unsupported).
  virtual Result<std::unique_ptr<Process>> Start(const ProcessSpec& spec) = 0;
  // Forks a child that joins `cgroup_procs_files` now and waits. The calling process must be
  // single-threaded (the child decodes its instructions with the allocator); Unsupported
  // otherwise. Always fork and join: the child runs the launcher's code, not the command, until it
  // is told what to run, and by then it is in its groups.
  virtual Result<std::unique_ptr<PrestartedChild>> Prestart(const std::vector<std::string>& cgroup_procs_files) {
    (void)cgroup_procs_files;
    return Status(Code::kUnsupported, "this launcher cannot prestart children");
  }
  // Starts `spec` in a prestarted child (spec.cgroup_procs_files is ignored: the child is already
  // in its groups; sandboxes are not supported). The child is consumed either way.
  virtual Result<std::unique_ptr<Process>> StartPrestarted(const ProcessSpec& spec,
                                                           std::unique_ptr<PrestartedChild> child) {
    (void)spec;
    (void)child;
    return Status(Code::kUnsupported, "this launcher cannot prestart children");
  }
};

// fork/exec on this machine.
std::unique_ptr<ProcessLauncher> NewRealProcessLauncher();

// Looks `name` up in the PATH found in env (or /usr/local/bin:/usr/bin:/bin); name itself when it
// contains a slash. NotFound when no executable matches.
Result<std::string> ResolveExecutable(const std::string& name, const std::vector<std::string>& env);

// In-memory ring buffer of the last N bytes (the output tail). Not thread-safe by itself.
class TailBuffer {
 public:
  explicit TailBuffer(size_t capacity) : cap_(capacity) {}
  void Append(const char* data, size_t n);
  std::string Contents() const;

 private:
  size_t cap_;
  std::string buf_;
};

// A log file rotated by size: when the next write would exceed max_bytes, path → path.1 →
// path.2 … (keeping `keep` old files) and a fresh file is started. Not thread-safe by itself.
class RotatingLog {
 public:
  RotatingLog(std::string path, int64_t max_bytes, int keep);
  ~RotatingLog();
  RotatingLog(const RotatingLog&) = delete;
  RotatingLog& operator=(const RotatingLog&) = delete;
  Status Open();
  Status Write(const char* data, size_t n);

 private:
  Status Rotate();
  std::string path_;
  int64_t max_bytes_;
  int keep_;
  int fd_ = -1;
  int64_t size_ = 0;
};

}  // namespace prescient::exec
