#include "testing/sim_process.h"

#include "testing/child_process.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

namespace prescient::testing {
namespace fs = std::filesystem;
namespace {

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

std::string RandomToken() {
  std::random_device rd;
  std::mt19937_64 g(rd());
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string t;
  for (int i = 0; i < 32; ++i) t += kChars[g() % 36];
  return t;
}

}  // namespace

Result<std::unique_ptr<SimProcess>> SimProcess::Start(const SimOptions& options) {
  std::unique_ptr<SimProcess> p(new SimProcess());
  p->options_ = options;
  p->binary_ = SimBinaryPath();
  if (access(p->binary_.c_str(), X_OK) != 0) {
    return InvalidArgument("prescient-sim binary not found or not executable at " + p->binary_ +
                           " (build target prescient-sim or set PRESCIENT_SIM)");
  }
  p->temp_dir_ = MakeTempDir("prescient-sim-test-");
  if (p->temp_dir_.empty()) return InternalError(std::string("mkdtemp failed: ") + std::strerror(errno));
  p->kubeconfig_ = p->temp_dir_ + "/kubeconfig";
  p->log_path_ = p->temp_dir_ + "/sim.log";
  p->token_ = RandomToken();
  if (!options.data_dir.empty()) {
    p->data_dir_ = options.data_dir;
  } else if (options.persistent) {
    p->data_dir_ = p->temp_dir_ + "/data";
  }
  Status s = p->Launch(0);
  if (!s.ok()) return s;
  return p;
}

Status SimProcess::Launch(int port) {
  std::error_code ec;
  fs::remove(kubeconfig_, ec);
  std::vector<std::string> argv = {binary_,          "--port",  std::to_string(port),
                                   "--kubeconfig-out", kubeconfig_, "--token", token_};
  if (!data_dir_.empty()) {
    argv.push_back("--data-dir");
    argv.push_back(data_dir_);
  }
  if (!options_.scenario.empty()) {
    argv.push_back("--scenario");
    argv.push_back(options_.scenario);
  }
  if (options_.time_scale > 0) {
    argv.push_back("--time-scale");
    argv.push_back(std::to_string(options_.time_scale));
  }
  for (const auto& a : options_.extra_args) argv.push_back(a);
  pid_ = SpawnProcess(argv, "", temp_dir_ + "/sim.stdout", /*out_append=*/false, log_path_, /*search_path=*/false);
  if (pid_ < 0) return InternalError("could not start " + binary_ + ": " + std::strerror(errno));
  return WaitForKubeconfig();
}

Status SimProcess::WaitForKubeconfig() {
  auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return InternalError("prescient-sim exited during start-up (status " + std::to_string(st) +
                           "); log tail:\n" + LogTail());
    }
    if (access(kubeconfig_.c_str(), R_OK) == 0) {
      // Written atomically (rename), so a present file is complete.
      std::string text = ReadFileText(kubeconfig_);
      auto pos = text.find("server: ");
      if (pos != std::string::npos) {
        auto end = text.find('\n', pos);
        server_ = text.substr(pos + 8, end - pos - 8);
        while (!server_.empty() && (server_.back() == '"' || server_.back() == ' ')) server_.pop_back();
        while (!server_.empty() && server_.front() == '"') server_.erase(0, 1);
        auto colon = server_.rfind(':');
        if (colon != std::string::npos) port_ = std::atoi(server_.c_str() + colon + 1);
        return Status::Ok();
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Kill();
  return Status(Code::kTimeout, "prescient-sim did not write " + kubeconfig_ + " within " +
                                    std::to_string(options_.start_timeout.count()) + " ms; log tail:\n" +
                                    LogTail());
}

Status SimProcess::Kill() {
  if (pid_ <= 0) return Status::Ok();
  kill(pid_, SIGKILL);
  int st = 0;
  WaitForExit(pid_, std::chrono::seconds(10), &st);
  pid_ = -1;
  return Status::Ok();
}

Status SimProcess::Stop() {
  if (pid_ <= 0) return Status::Ok();
  kill(pid_, SIGTERM);
  int st = 0;
  if (!WaitForExit(pid_, std::chrono::seconds(10), &st)) {
    kill(pid_, SIGKILL);
    WaitForExit(pid_, std::chrono::seconds(5), &st);
    pid_ = -1;
    return Status(Code::kTimeout, "prescient-sim did not exit within 10 s of SIGTERM; killed");
  }
  pid_ = -1;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return Status::Ok();
  return InternalError("prescient-sim exited with status " + std::to_string(st) + "; log tail:\n" + LogTail());
}

Status SimProcess::Restart() {
  if (pid_ > 0) {
    Status s = Stop();
    if (!s.ok()) return s;
  }
  int old_port = port_;
  Status s = Launch(old_port);
  if (!s.ok() && old_port != 0) s = Launch(0);  // the old port was taken meanwhile
  return s;
}

std::string SimProcess::LogTail(size_t max_bytes) const {
  std::string text = ReadFileText(log_path_);
  if (text.size() > max_bytes) text = text.substr(text.size() - max_bytes);
  return text;
}

SimProcess::~SimProcess() {
  Stop();
  std::error_code ec;
  if (!temp_dir_.empty() && std::getenv("PRESCIENT_KEEP_TEST_DIRS") == nullptr) fs::remove_all(temp_dir_, ec);
}

std::string CommandResult::ToString() const {
  return "exit " + std::to_string(exit_code) + "\n--- stdout\n" + out + "--- stderr\n" + err;
}

CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& stdin_data,
                         std::chrono::milliseconds timeout) {
  CommandResult r;
  std::string dir = MakeTempDir("prescient-cmd-");
  if (dir.empty()) {
    r.err = "mkdtemp failed";
    return r;
  }
  std::string in_path;
  if (!stdin_data.empty()) {
    in_path = dir + "/stdin";
    std::ofstream(in_path, std::ios::binary) << stdin_data;
  }
  pid_t pid = SpawnProcess(argv, in_path, dir + "/stdout", /*out_append=*/false, dir + "/stderr", /*search_path=*/true);
  if (pid < 0) {
    r.err = "could not start " + argv[0];
  } else {
    int st = 0;
    if (!WaitForExit(pid, timeout, &st)) {
      kill(pid, SIGKILL);
      WaitForExit(pid, std::chrono::seconds(5), &st);
      r.exit_code = -1;
      r.out = ReadFileText(dir + "/stdout");
      r.err = ReadFileText(dir + "/stderr") + "\n[timed out after " + std::to_string(timeout.count()) + " ms]";
    } else {
      r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      r.out = ReadFileText(dir + "/stdout");
      r.err = ReadFileText(dir + "/stderr");
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return r;
}

CommandResult RunKubectl(const std::string& kubeconfig, const std::vector<std::string>& args,
                         const std::string& stdin_data, std::chrono::milliseconds timeout) {
  std::string cache = MakeTempDir("prescient-kubectl-cache-");
  std::vector<std::string> argv = {"kubectl", "--kubeconfig", kubeconfig, "--cache-dir", cache};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = RunCommand(argv, stdin_data, timeout);
  std::error_code ec;
  if (!cache.empty()) fs::remove_all(cache, ec);
  return r;
}

}  // namespace prescient::testing
