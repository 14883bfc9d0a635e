// Test helper: one prescient-operator process against a prescient-sim kubeconfig, with its log in a
// file, SIGTERM/SIGKILL and restart. The binary comes from $PRESCIENT_OPERATOR or the build's bin dir.
// Thread-compatible.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace prescient::testing {

inline std::string OperatorBinaryPath() {
  if (const char* e = std::getenv("PRESCIENT_OPERATOR")) return e;
#ifdef PRESCIENT_OPERATOR_BINARY
  return PRESCIENT_OPERATOR_BINARY;
#else
  return "prescient-operator";
#endif
}

class OperatorProcess {
 public:
  OperatorProcess(std::vector<std::string> args, std::string log) : args_(std::move(args)), log_(std::move(log)) {}
  ~OperatorProcess() { Stop(); }
  OperatorProcess(const OperatorProcess&) = delete;
  OperatorProcess& operator=(const OperatorProcess&) = delete;

  bool Start() {
    std::string bin = OperatorBinaryPath();
    if (access(bin.c_str(), X_OK) != 0) return false;
    pid_ = fork();
    if (pid_ == 0) {
      FILE* f = freopen(log_.c_str(), "a", stderr);
      (void)f;
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(bin.c_str()));
      for (auto& a : args_) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    return pid_ > 0;
  }
  void Kill() { Signal(SIGKILL); }
  void Stop() { Signal(SIGTERM); }
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  std::string LogTail(size_t max = 3000) const {
    std::ifstream in(log_);
    std::stringstream b;
    b << in.rdbuf();
    std::string s = b.str();
    return s.size() > max ? s.substr(s.size() - max) : s;
  }
  const std::string& log_path() const { return log_; }

 private:
  void Signal(int sig) {
    if (pid_ <= 0) return;
    kill(pid_, sig);
    for (int i = 0; i < 200; ++i) {
      int st;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid_, SIGKILL);
    int st;
    waitpid(pid_, &st, 0);
    pid_ = -1;
  }
  std::vector<std::string> args_;
  std::string log_;
  pid_t pid_ = -1;
};

}  // namespace prescient::testing
