// Test helper: runs a real `prescient-sim` process (HTTPS, bearer token) on a free port with its
// own temporary directory and kubeconfig, for integration and acceptance tests; and runs the real
// kubectl against it. The binary is found through the PRESCIENT_SIM environment variable or the
// build's bin directory (compile definition).
//
//   auto sim = prescient::testing::SimProcess::Start({});
//   ASSERT_TRUE(sim.ok()) << sim.status().ToString();
//   auto r = prescient::testing::RunKubectl((*sim)->kubeconfig(), {"get", "nodes"});
//
// Thread-compatible: one test thread drives one SimProcess.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "testing/child_process.h"  // SimBinaryPath, RunCommand's primitives

namespace prescient::testing {

struct SimOptions {
  std::string scenario;         // --scenario FILE; "" for none
  std::string data_dir;         // --data-dir; "" = in memory ("persistent" below makes one)
  bool persistent = false;      // give the sim a data dir inside the temp dir (survives Restart)
  double time_scale = 0;        // --time-scale; 0 = binary default
  std::vector<std::string> extra_args;
  std::chrono::milliseconds start_timeout{20000};
};

class SimProcess {
 public:
  // Starts the binary on port 0 and waits (bounded) until it has written its kubeconfig.
  static Result<std::unique_ptr<SimProcess>> Start(const SimOptions& options);
  ~SimProcess();  // Stop()
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  const std::string& kubeconfig() const { return kubeconfig_; }  // path of the kubeconfig file
  const std::string& server() const { return server_; }          // "https://127.0.0.1:PORT"
  const std::string& token() const { return token_; }
  int port() const { return port_; }
  const std::string& temp_dir() const { return temp_dir_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& log_path() const { return log_path_; }  // the sim's stderr (JSON logs)
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  // SIGKILL and reap (no WAL flush: tests crash recovery).
  Status Kill();
  // SIGTERM and wait (bounded; SIGKILL after 10 s).
  Status Stop();
  // Stops (if running) and starts again with the same data dir and token, trying the same port
  // first; rewrites the kubeconfig (the CA is kept when the data dir persists it).
  Status Restart();
  // The last lines of the sim's log (for assertion messages).
  std::string LogTail(size_t max_bytes = 4000) const;

 private:
  SimProcess() = default;
  Status Launch(int port);
  Status WaitForKubeconfig();

  SimOptions options_;
  std::string binary_;
  std::string temp_dir_;
  std::string data_dir_;
  std::string kubeconfig_;
  std::string log_path_;
  std::string server_;
  std::string token_;
  int port_ = 0;
  pid_t pid_ = -1;
};

struct CommandResult {
  int exit_code = -1;  // -1: could not run or timed out (then err says so)
  std::string out;
  std::string err;
  std::string ToString() const;  // for assertion messages
};

// Runs `kubectl --kubeconfig K --cache-dir <fresh temp dir> args...` with stdin_data on its stdin,
// killing it after `timeout`.
CommandResult RunKubectl(const std::string& kubeconfig, const std::vector<std::string>& args,
                         const std::string& stdin_data = "",
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Runs any program (argv[0] is looked up in PATH) with the same capture and timeout.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& stdin_data = "",
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace prescient::testing
