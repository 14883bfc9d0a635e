// Test helper: one child process of a Prescient binary (prescient-operator, prescient-agent, ...)
// started by a test or a benchmark, with its stdout and stderr appended to a log file (a restart
// with the same log keeps the earlier lines), stopped with SIGTERM (SIGKILL if it does not exit in
// time) when the object goes away. OperatorProcess and AgentProcess only name the binary: it comes
// from $PRESCIENT_OPERATOR / $PRESCIENT_AGENT, else the build's bin directory (prescient-sim runs
// through SimProcess, sim_process.h).
//
//   testing::AgentProcess agent({"--kubeconfig", kc, "--instance", "vm-a"}, dir + "/agent.log");
//   ASSERT_TRUE(agent.Start().ok());
//
// Also the spawn and bounded-wait primitives SimProcess and RunCommand use.
// Thread-compatible: one test thread drives one ChildProcess.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace prescient::testing {

// Paths of the binaries (environment variable, else the build's bin dir).
std::string SimBinaryPath();       // $PRESCIENT_SIM
std::string OperatorBinaryPath();  // $PRESCIENT_OPERATOR
std::string AgentBinaryPath();     // $PRESCIENT_AGENT

// Starts argv (argv[0] looked up in PATH when search_path) with stdin from in_path ("" = /dev/null),
// stdout to out_path (appended when out_append, else truncated) and stderr to err_path (appended;
// "" = the same file as stdout). Returns the pid, or -1 with errno set.
pid_t SpawnProcess(const std::vector<std::string>& argv, const std::string& in_path, const std::string& out_path,
                   bool out_append, const std::string& err_path, bool search_path);

// Waits up to `timeout` for pid to exit and reaps it. False on timeout; true also when the pid was
// already reaped (then *status is untouched).
bool WaitForExit(pid_t pid, std::chrono::milliseconds timeout, int* status);

// The whole content of a file; "" when it cannot be read.
std::string ReadFileText(const std::string& path);

class ChildProcess {
 public:
  // argv[0] is the binary's path (not looked up in PATH).
  ChildProcess(std::vector<std::string> argv, std::string log_path,
               std::chrono::milliseconds stop_timeout = std::chrono::seconds(20));
  virtual ~ChildProcess();  // Stop()
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Errors name the binary when it is missing or cannot be started. Starting a running one fails.
  Status Start();
  // SIGTERM (a Prescient binary drains and exits), waiting up to the stop timeout; then SIGKILL.
  void Stop();
  // SIGKILL and reap: a crash, nothing drained.
  void Kill();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& binary() const { return argv_[0]; }
  const std::string& log_path() const { return log_path_; }
  std::string Log() const;                       // the whole log
  std::string LogTail(size_t max = 3000) const;  // its last max bytes (for assertion messages)

 private:
  void Reap(std::chrono::milliseconds timeout);

  std::vector<std::string> argv_;
  std::string log_path_;
  std::chrono::milliseconds stop_timeout_;
  pid_t pid_ = -1;
};

// prescient-operator with these flags.
class OperatorProcess : public ChildProcess {
 public:
  OperatorProcess(const std::vector<std::string>& args, std::string log_path);
};

// prescient-agent with these flags.
class AgentProcess : public ChildProcess {
 public:
  AgentProcess(const std::vector<std::string>& args, std::string log_path);
};

}  // namespace prescient::testing
