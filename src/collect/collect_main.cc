#include "collect/collect_main.h"

#include <arpa/inet.h>
#include <glob.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "collect/history_line.h"
#include "collect/inputs.h"
#include "collect/suite.h"
#include "common/clock.h"
#include "exec/cgroup.h"
#include "exec/executor.h"
#include "exec/fileio.h"
#include "exec/warmup.h"

namespace prescient::collect {

namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

constexpr const char* kUsage = R"(usage: prescient collect [flags]

Runs a seeded suite of real commands on this machine, each in its own cgroup, measured by the
agent's monitor, and appends one history line (JSON) per run to --out. Resumable: runs already in
--out with the same seed are skipped. Needs root and cgroups (v1 or v2).

  --runs N            suite size (default 3000)
  --seed S            suite and data seed (default 1)
  --out FILE          history output, appended (default models/corpus/history.jsonl)
  --workdir DIR       inputs and scratch space (default /var/tmp/prescient-collect-<seed>)
  --max-minutes M     stop starting new runs after M minutes (default 0 = no limit)
  --parallel P        concurrent runs (default 1: measurements do not disturb each other)
  --interval-ms MS    sampling interval (default 100)
  --cgroup-parent P   parent cgroup of the runs' groups (default prescient-collect)
  --no-http           skip transfers (no local HTTP server)
  --no-postgres       skip PostgreSQL cases even when a server binary is installed
  --cpu-weight W      CPU weight of the parent group under contention (1..10000, 100 = one
                      ordinary process; default: leave as is). On a busy shared machine all
                      runs together otherwise compete like a single process.
  --only P1,P2        run only the cases of these programs (debugging; the rest stay to do)
  --list              print the suite (id, program, command) as JSON lines and exit
)";

struct Flags {
  int runs = 3000;
  uint64_t seed = 1;
  std::string out = "models/corpus/history.jsonl";
  std::string workdir;
  double max_minutes = 0;
  int parallel = 1;
  int interval_ms = 100;
  std::string cgroup_parent = "prescient-collect";
  bool http = true;
  bool postgres = true;
  bool list = false;
  std::set<std::string> only;
  uint32_t cpu_weight = 0;
};

bool ParseFlags(int argc, char** argv, Flags* f, std::string* err) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) {
        *err = a + " needs a value";
        return false;
      }
      *out = argv[++i];
      return true;
    };
    std::string v;
    try {
      if (a == "--runs") { if (!value(&v)) return false; f->runs = std::stoi(v); }
      else if (a == "--seed") { if (!value(&v)) return false; f->seed = std::stoull(v); }
      else if (a == "--out") { if (!value(&f->out)) return false; }
      else if (a == "--workdir") { if (!value(&f->workdir)) return false; }
      else if (a == "--max-minutes") { if (!value(&v)) return false; f->max_minutes = std::stod(v); }
      else if (a == "--parallel") { if (!value(&v)) return false; f->parallel = std::stoi(v); }
      else if (a == "--interval-ms") { if (!value(&v)) return false; f->interval_ms = std::stoi(v); }
      else if (a == "--cgroup-parent") { if (!value(&f->cgroup_parent)) return false; }
      else if (a == "--cpu-weight") { if (!value(&v)) return false; f->cpu_weight = static_cast<uint32_t>(std::stoul(v)); }
      else if (a == "--no-http") f->http = false;
      else if (a == "--no-postgres") f->postgres = false;
      else if (a == "--list") f->list = true;
      else if (a == "--only") {
        if (!value(&v)) return false;
        std::stringstream ss(v);
        std::string p;
        while (std::getline(ss, p, ',')) f->only.insert(p);
      }
      else if (a == "-h" || a == "--help") { *err = ""; return false; }
      else { *err = "unknown flag " + a; return false; }
    } catch (const std::exception&) {
      *err = "bad value \"" + v + "\" for " + a;
      return false;
    }
  }
  if (f->runs < 1) { *err = "--runs must be at least 1"; return false; }
  if (f->parallel < 1 || f->parallel > 16) { *err = "--parallel must be 1..16"; return false; }
  if (f->interval_ms < 10) { *err = "--interval-ms must be at least 10"; return false; }
  if (f->workdir.empty()) f->workdir = "/var/tmp/prescient-collect-" + std::to_string(f->seed);
  return true;
}

bool PortFree(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

int FindPort(int start) {
  for (int p = start; p < start + 200; ++p)
    if (PortFree(p)) return p;
  return 0;
}

bool WaitForPort(int port, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline && !g_stop) {
    if (exec::WarmUpOne({"127.0.0.1", port}, {std::chrono::milliseconds(500), std::chrono::milliseconds(500)}).ok)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::string PostgresBinDir() {
  glob_t g{};
  std::string best;
  if (::glob("/usr/lib/postgresql/*/bin/postgres", 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) best = std::max(best, fs::path(g.gl_pathv[i]).parent_path().string());
  ::globfree(&g);
  return best;
}

int64_t MemTotal() {
  std::ifstream in("/proc/meminfo");
  std::string k;
  int64_t kb;
  std::string unit;
  while (in >> k >> kb >> unit)
    if (k == "MemTotal:") return kb * 1024;
  return 0;
}

std::optional<double> LoadAvg1() {
  std::ifstream in("/proc/loadavg");
  double v;
  if (in >> v) return v;
  return std::nullopt;
}

std::string Human(double seconds) {
  int s = static_cast<int>(seconds);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", s / 3600, s / 60 % 60);
  else std::snprintf(buf, sizeof buf, "%dm%02ds", s / 60, s % 60);
  return buf;
}

// Reads the existing output: ids of runs done with this seed. Cuts a torn last line.
Result<std::set<std::string>> ReadDone(const std::string& path, uint64_t seed) {
  std::set<std::string> done;
  std::error_code ec;
  if (!fs::exists(path, ec)) return done;
  std::string text;
  {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  if (!text.empty() && text.back() != '\n') {
    auto last = text.rfind('\n');
    size_t keep = last == std::string::npos ? 0 : last + 1;
    fs::resize_file(path, keep, ec);
    if (ec) return InternalError("cannot cut the torn last line of " + path + ": " + ec.message());
    std::cerr << "collect: removed a torn last line from " << path << "\n";
    text.resize(keep);
  }
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return InvalidArgument(path + ":" + std::to_string(n) + " is not a JSON object");
    if (!j.contains("suite_case")) continue;  // a line from elsewhere (e.g. the agent's history)
    if (j.value("seed", uint64_t{0}) != seed)
      return InvalidArgument(path + ":" + std::to_string(n) + " was collected with seed " +
                             std::to_string(j.value("seed", uint64_t{0})) + ", not " + std::to_string(seed) +
                             "; use the same --seed to resume or another --out");
    done.insert(j["suite_case"].get<std::string>());
  }
  return done;
}

class Servers {
 public:
  Servers(exec::ProcessLauncher* launcher, std::string workdir) : launcher_(launcher), workdir_(std::move(workdir)) {}
  ~Servers() { Stop(); }

  int StartHttp(const std::vector<std::string>& env) {
    int port = FindPort(18431);
    if (!port) return 0;
    exec::ProcessSpec spec;
    spec.argv = {"python3", "-m", "http.server", "--bind", "127.0.0.1", std::to_string(port), "--directory",
                 workdir_ + "/data"};
    spec.env = env;
    spec.tail_bytes = 4096;
    auto p = launcher_->Start(spec);
    if (!p.ok()) {
      std::cerr << "collect: cannot start the HTTP server: " << p.status().ToString() << "\n";
      return 0;
    }
    http_ = std::move(p).value();
    if (!WaitForPort(port, std::chrono::seconds(20))) {
      std::cerr << "collect: the HTTP server did not listen on 127.0.0.1:" << port << ": " << http_->Tail() << "\n";
      return 0;
    }
    return port;
  }

  // A throw-away PostgreSQL cluster under <workdir>/pg, run as the postgres user, trust auth on
  // 127.0.0.1 only, with a pgbench database "bench".
  int StartPostgres(const std::string& bindir, const std::vector<std::string>& env) {
    struct stat st;
    std::string user = "postgres";
    uid_t uid = 0;
    gid_t gid = 0;
    {
      std::string pw = "/etc/passwd";
      std::ifstream in(pw);
      std::string line;
      bool found = false;
      while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::stringstream ss(line);
        std::string x;
        while (std::getline(ss, x, ':')) f.push_back(x);
        if (f.size() > 3 && f[0] == user) {
          uid = static_cast<uid_t>(std::stoul(f[2]));
          gid = static_cast<gid_t>(std::stoul(f[3]));
          found = true;
        }
      }
      if (!found) {
        std::cerr << "collect: no postgres user; skipping PostgreSQL cases\n";
        return 0;
      }
    }
    std::string data = workdir_ + "/pg/data", sock = workdir_ + "/pg/sock";
    std::error_code ec;
    fs::create_directories(sock, ec);
    ::chown((workdir_ + "/pg").c_str(), uid, gid);
    ::chown(sock.c_str(), uid, gid);
    ::chmod(workdir_.c_str(), 0755);
    if (::stat((data + "/PG_VERSION").c_str(), &st) != 0) {
      fs::remove_all(data, ec);
      exec::ProcessSpec init;
      init.argv = {bindir + "/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"};
      init.env = env;
      init.uid = uid;
      init.gid = gid;
      init.working_dir = workdir_ + "/pg";
      auto p = launcher_->Start(init);
      exec::ExitInfo e;
      if (!p.ok() || !(*p)->Wait(std::chrono::milliseconds(120000), &e) || e.ShellStatus() != 0) {
        std::cerr << "collect: initdb failed: " << (p.ok() ? (*p)->Tail() : p.status().ToString()) << "\n";
        return 0;
      }
    }
    int port = FindPort(18532);
    exec::ProcessSpec spec;
    spec.argv = {bindir + "/postgres", "-D", data, "-p", std::to_string(port), "-k", sock, "-c",
                 "listen_addresses=127.0.0.1"};
    spec.env = env;
    spec.uid = uid;
    spec.gid = gid;
    spec.working_dir = workdir_ + "/pg";
    spec.tail_bytes = 8192;
    auto p = launcher_->Start(spec);
    if (!p.ok()) {
      std::cerr << "collect: cannot start postgres: " << p.status().ToString() << "\n";
      return 0;
    }
    pg_ = std::move(p).value();
    if (!WaitForPort(port, std::chrono::seconds(60))) {
      std::cerr << "collect: postgres did not listen: " << pg_->Tail() << "\n";
      return 0;
    }
    std::string conn = " -h 127.0.0.1 -p " + std::to_string(port) + " -U postgres";
    std::string marker = workdir_ + "/pg/bench-ready";
    if (::stat(marker.c_str(), &st) != 0) {
      std::string path_env;
      for (const auto& e : env)
        if (e.rfind("PATH=", 0) == 0) path_env = e;
      // Readiness: the port may open before the server accepts queries.
      bool up = false;
      for (int i = 0; i < 100 && !up && !g_stop; ++i) {
        up = RunSetupShell(path_env + " psql" + conn + " -d postgres -Atc 'select 1'", workdir_).ok();
        if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      Status s = RunSetupShell(path_env + " psql" + conn + " -d postgres -qc 'DROP DATABASE IF EXISTS bench' && " +
                                   path_env + " psql" + conn + " -d postgres -qc 'CREATE DATABASE bench' && " + path_env +
                                   " pgbench" + conn + " -q -i -s 10 bench",
                               workdir_);
      if (!s.ok()) {
        std::cerr << "collect: preparing the bench database failed: " << s.ToString() << "\n";
        return 0;
      }
      std::ofstream(marker) << "ok\n";
    }
    return port;
  }

  void Stop() {
    for (auto* p : {&http_, &pg_}) {
      if (!*p) continue;
      (*p)->SignalGroup(SIGTERM);
      exec::ExitInfo e;
      if (!(*p)->Wait(std::chrono::milliseconds(10000), &e)) (*p)->SignalGroup(SIGKILL);
      p->reset();
    }
  }

 private:
  exec::ProcessLauncher* launcher_;
  std::string workdir_;
  std::unique_ptr<exec::Process> http_, pg_;
};

}  // namespace

int CollectMain(int argc, char** argv) {
  Flags flags;
  std::string err;
  if (!ParseFlags(argc, argv, &flags, &err)) {
    if (!err.empty()) std::cerr << "collect: " << err << "\n\n";
    std::cerr << kUsage;
    return err.empty() ? 0 : 2;
  }
  std::string pg_bin = flags.postgres ? PostgresBinDir() : "";
  if (flags.list) {
    SuiteEnv env;
    env.http_port = flags.http ? 18431 : 0;
    env.pg_port = pg_bin.empty() ? 0 : 18532;
    for (const auto& c : BuildSuite(flags.seed, flags.runs, env))
      std::cout << nlohmann::json{{"suite_case", c.id}, {"program", c.program}, {"family", c.family}, {"command", c.command}}.dump()
                << "\n";
    return 0;
  }

  auto cgroups = exec::DetectCgroups();
  if (!cgroups.ok()) {
    std::cerr << "collect: " << cgroups.status().ToString() << "\n";
    return 1;
  }
  auto done = ReadDone(flags.out, flags.seed);
  if (!done.ok()) {
    std::cerr << "collect: " << done.status().ToString() << "\n";
    return 1;
  }
  std::error_code ec;
  if (fs::path(flags.out).has_parent_path()) fs::create_directories(fs::path(flags.out).parent_path(), ec);
  fs::create_directories(flags.workdir + "/data", ec);
  fs::create_directories(flags.workdir + "/home", ec);
  if (ec) {
    std::cerr << "collect: cannot create " << flags.workdir << ": " << ec.message() << "\n";
    return 1;
  }
  flags.workdir = fs::canonical(flags.workdir).string();

  // Groups left by a collection that died: ours by construction (under our parent); clear them.
  if (auto stale = (*cgroups)->List(flags.cgroup_parent); stale.ok())
    for (const auto& name : *stale)
      if (auto g = (*cgroups)->Open(name); g.ok()) {
        (*g)->KillAll(SIGKILL);
        (*g)->Destroy();
      }

  if (flags.cpu_weight > 0) {
    auto parent = (*cgroups)->Open(flags.cgroup_parent);
    if (!parent.ok()) parent = (*cgroups)->Create(flags.cgroup_parent);
    exec::CgroupLimits w;
    w.cpu_weight = flags.cpu_weight;
    Status s = parent.ok() ? (*parent)->SetLimits(w) : parent.status();
    if (!s.ok()) {
      std::cerr << "collect: setting the CPU weight of " << flags.cgroup_parent << ": " << s.ToString() << "\n";
      return 1;
    }
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);

  std::string path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  if (!pg_bin.empty()) path += ":" + pg_bin;
  std::vector<std::string> base_env = {path, "HOME=" + flags.workdir + "/home", "LC_ALL=C", "LANG=C", "USER=root"};

  auto launcher = exec::NewRealProcessLauncher();
  auto procfs = exec::NewRealProcFs();
  Servers servers(launcher.get(), flags.workdir);
  SuiteEnv env;
  if (flags.http) env.http_port = servers.StartHttp(base_env);
  if (!pg_bin.empty()) env.pg_port = servers.StartPostgres(pg_bin, base_env);
  std::cerr << "collect: " << (*cgroups)->Describe() << "; http "
            << (env.http_port ? "127.0.0.1:" + std::to_string(env.http_port) : std::string("off")) << "; postgres "
            << (env.pg_port ? "127.0.0.1:" + std::to_string(env.pg_port) : std::string("off")) << "\n";

  std::vector<CollectCase> todo;
  for (auto& c : BuildSuite(flags.seed, flags.runs, env))
    if (!done->count(c.id) && (flags.only.empty() || flags.only.count(c.program))) todo.push_back(std::move(c));
  std::cerr << "collect: " << done->size() << " runs already in " << flags.out << ", " << todo.size() << " to go\n";

  FILE* out = std::fopen(flags.out.c_str(), "a");
  if (!out) {
    std::cerr << "collect: cannot open " << flags.out << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  InputCatalog catalog(flags.workdir, flags.seed);
  const int64_t vm_cpus = static_cast<int64_t>(::sysconf(_SC_NPROCESSORS_ONLN));
  const int64_t vm_mem = MemTotal();
  const std::string cg_version = exec::CgroupVersionName((*cgroups)->version());

  std::mutex mu;  // guards catalog, out, counters
  std::atomic<size_t> next{0};
  int written = 0, failed = 0, consecutive_failures = 0;
  auto t0 = std::chrono::steady_clock::now();
  auto elapsed_min = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 60; };

  auto worker = [&](int w) {
    std::string wdir = flags.workdir + "/w" + std::to_string(w);
    std::error_code e;
    fs::create_directories(wdir, e);
    if (!fs::exists(wdir + "/data", e)) fs::create_directory_symlink("../data", wdir + "/data", e);
    RealClock clock;
    exec::Executor executor(cgroups->get(), launcher.get(), procfs.get(), &clock);
    for (;;) {
      if (g_stop) return;
      if (flags.max_minutes > 0 && elapsed_min() >= flags.max_minutes) return;
      size_t i = next++;
      if (i >= todo.size()) return;
      const CollectCase& c = todo[i];
      int64_t input_bytes = 0;
      {
        std::lock_guard<std::mutex> l(mu);
        Status prep;
        for (const auto& in : c.inputs) {
          prep = catalog.Ensure(in);
          if (!prep.ok()) break;
          input_bytes += catalog.SizeOf(in);
        }
        if (!prep.ok()) {
          std::cerr << "collect: " << c.id << ": preparing inputs: " << prep.ToString() << "\n";
          ++failed;
          continue;
        }
      }
      fs::remove_all(wdir + "/out", e);
      fs::remove_all(wdir + "/tmp", e);
      fs::create_directories(wdir + "/out", e);
      fs::create_directories(wdir + "/tmp", e);
      if (!c.setup.empty())
        if (Status s = RunSetupShell(c.setup, wdir); !s.ok()) {
          std::cerr << "collect: " << c.id << ": " << s.ToString() << "\n";
          std::lock_guard<std::mutex> l(mu);
          ++failed;
          continue;
        }
      exec::ExecutionRequest req;
      req.process.shell_command = c.command;
      req.process.env = base_env;
      req.process.env.push_back("TMPDIR=" + wdir + "/tmp");
      req.process.working_dir = wdir;
      req.process.tail_bytes = 2048;
      req.cgroup_name = flags.cgroup_parent + "/" + c.id + "-" + std::to_string(::getpid());
      if (c.cpu_limit) req.limits.cpu_cores = *c.cpu_limit;
      if (c.memory_limit) req.limits.memory_bytes = *c.memory_limit;
      req.timeout = std::chrono::seconds(c.timeout_seconds);
      req.kill_grace = std::chrono::seconds(2);
      req.sample_interval = std::chrono::milliseconds(flags.interval_ms);
      req.monitor.keep_samples = false;
      exec::ExecutionHooks hooks;
      hooks.cancel = &g_stop;
      RunContext ctx;
      ctx.time = FormatRfc3339Micro(std::chrono::system_clock::now());
      ctx.command = c.command;
      ctx.user = "collect";
      ctx.vm_cpus = vm_cpus;
      if (vm_mem > 0) ctx.vm_memory_bytes = vm_mem;
      if (!c.inputs.empty()) ctx.input_bytes = input_bytes;
      ctx.requested_cpus = c.cpu_limit;
      ctx.requested_memory_bytes = c.memory_limit;
      ctx.load_avg_1m = LoadAvg1();
      auto report = executor.Run(req, hooks);
      std::lock_guard<std::mutex> l(mu);
      if (!report.ok()) {
        std::cerr << "collect: " << c.id << " (" << c.command << "): " << report.status().ToString() << "\n";
        ++failed;
        if (++consecutive_failures >= 10) {
          std::cerr << "collect: 10 runs in a row could not be measured; stopping\n";
          g_stop = true;
        }
        continue;
      }
      consecutive_failures = 0;
      if (report->cancelled) continue;  // interrupted: not a measurement
      nlohmann::json j = HistoryLine(ctx, *report);
      j["program"] = c.program;
      j["family"] = c.family;
      j["suite_case"] = c.id;
      j["seed"] = flags.seed;
      j["cgroup_version"] = cg_version;
      j["sample_interval_seconds"] = flags.interval_ms / 1000.0;
      if (flags.parallel > 1) j["concurrent_runs"] = flags.parallel;  // runs of this suite at once
      if (flags.cpu_weight > 0) j["collector_cpu_weight"] = flags.cpu_weight;
      if (report->exit && report->exit->ShellStatus() != 0) j["output_tail"] = report->output_tail.substr(
          report->output_tail.size() > 300 ? report->output_tail.size() - 300 : 0);
      std::string line = j.dump() + "\n";
      std::fwrite(line.data(), 1, line.size(), out);
      std::fflush(out);
      ++written;
      double el = elapsed_min() * 60;
      size_t finished = written + failed;
      double eta = finished ? el / finished * (todo.size() - finished) : 0;
      if (flags.max_minutes > 0) eta = std::min(eta, flags.max_minutes * 60 - el);
      char buf[256];
      std::snprintf(buf, sizeof buf, "[%5zu/%zu] %s %-16.16s %7.2fs %8.1f MiB %5.2f cores  elapsed %s  ETA %s\n",
                    done->size() + finished, static_cast<size_t>(flags.runs), c.id.c_str(), c.program.c_str(),
                    report->duration_seconds, report->memory_peak_bytes / 1048576.0, report->cpu_cores_peak,
                    Human(el).c_str(), Human(std::max(0.0, eta)).c_str());
      std::cerr << buf;
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < flags.parallel; ++w) threads.emplace_back(worker, w);
  for (auto& t : threads) t.join();
  std::fclose(out);
  servers.Stop();
  std::cerr << "collect: wrote " << written << " runs (" << failed << " could not be measured) in "
            << Human(elapsed_min() * 60) << "; " << (done->size() + written) << " in " << flags.out << "\n";
  return g_stop && (done->size() + written) < static_cast<size_t>(flags.runs) ? 130 : 0;
}

}  // namespace prescient::collect
