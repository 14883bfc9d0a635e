#include "testing/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace prescient::testing {
// The build's binaries (compile definitions of prescient_testing), else looked up in PATH.
#ifndef PRESCIENT_SIM_BINARY
#define PRESCIENT_SIM_BINARY "prescient-sim"
#endif
#ifndef PRESCIENT_OPERATOR_BINARY
#define PRESCIENT_OPERATOR_BINARY "prescient-operator"
#endif
#ifndef PRESCIENT_AGENT_BINARY
#define PRESCIENT_AGENT_BINARY "prescient-agent"
#endif

namespace {

std::string BinaryPath(const char* env_var, const char* built) {
  if (const char* env = std::getenv(env_var); env != nullptr && *env != '\0') return env;
  return built;
}

}  // namespace

std::string SimBinaryPath() { return BinaryPath("PRESCIENT_SIM", PRESCIENT_SIM_BINARY); }
std::string OperatorBinaryPath() { return BinaryPath("PRESCIENT_OPERATOR", PRESCIENT_OPERATOR_BINARY); }
std::string AgentBinaryPath() { return BinaryPath("PRESCIENT_AGENT", PRESCIENT_AGENT_BINARY); }

pid_t SpawnProcess(const std::vector<std::string>& argv, const std::string& in_path, const std::string& out_path,
                   bool out_append, const std::string& err_path, bool search_path) {
  if (argv.empty()) {
    errno = EINVAL;
    return -1;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in_path.empty() ? "/dev/null" : in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | (out_append ? O_APPEND : O_TRUNC),
                                   0644);
  if (err_path.empty()) {
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
  } else {
    posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = search_path ? posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ)
                       : posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    errno = rc;
    return -1;
  }
  return pid;
}

bool WaitForExit(pid_t pid, std::chrono::milliseconds timeout, int* status) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto step = std::chrono::milliseconds(1);
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // already reaped
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
    if (step < std::chrono::milliseconds(20)) step *= 2;
  }
}

std::string ReadFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ChildProcess::ChildProcess(std::vector<std::string> argv, std::string log_path,
                           std::chrono::milliseconds stop_timeout)
    : argv_(std::move(argv)), log_path_(std::move(log_path)), stop_timeout_(stop_timeout) {
  if (argv_.empty()) argv_.push_back("");
}

ChildProcess::~ChildProcess() { Stop(); }

Status ChildProcess::Start() {
  if (pid_ > 0) return InvalidArgument(binary() + " is already running (pid " + std::to_string(pid_) + ")");
  if (access(binary().c_str(), X_OK) != 0) {
    return InvalidArgument(binary() + " is missing or not executable (build it, or set the environment variable)");
  }
  pid_ = SpawnProcess(argv_, "", log_path_, /*out_append=*/true, /*err_path=*/"", /*search_path=*/false);
  if (pid_ < 0) return InternalError("could not start " + binary() + ": " + std::strerror(errno));
  return Status::Ok();
}

void ChildProcess::Reap(std::chrono::milliseconds timeout) {
  int st = 0;
  if (!WaitForExit(pid_, timeout, &st)) {
    kill(pid_, SIGKILL);
    WaitForExit(pid_, std::chrono::seconds(10), &st);
  }
  pid_ = -1;
}

void ChildProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  Reap(stop_timeout_);
}

void ChildProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  Reap(std::chrono::seconds(10));
}

std::string ChildProcess::Log() const { return ReadFileText(log_path_); }

std::string ChildProcess::LogTail(size_t max) const {
  std::string s = Log();
  return s.size() > max ? s.substr(s.size() - max) : s;
}

namespace {

std::vector<std::string> WithBinary(std::string binary, const std::vector<std::string>& args) {
  std::vector<std::string> argv{std::move(binary)};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace

OperatorProcess::OperatorProcess(const std::vector<std::string>& args, std::string log_path)
    : ChildProcess(WithBinary(OperatorBinaryPath(), args), std::move(log_path)) {}

AgentProcess::AgentProcess(const std::vector<std::string>& args, std::string log_path)
    : ChildProcess(WithBinary(AgentBinaryPath(), args), std::move(log_path)) {}

}  // namespace prescient::testing
