// prescient-sim benchmark: writes per second (in-process store and over HTTP), watch fan-out
// (events/s delivered to 10 watchers at 10,000 objects) and start-up time (empty, and with 10,000
// persisted objects). Prints a table and writes docs/bench/sim.json (or the path in argv[1]).
// Targets (issue 3): >= 2,000 writes/s, start-up < 1 s. A program, not a test: it asserts nothing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "sim/store.h"
#include "testing/sim_process.h"

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using prescient::testing::SimOptions;
using prescient::testing::SimProcess;

namespace {

constexpr int kObjects = 10000;
constexpr int kWatchers = 10;
constexpr int kWriters = 4;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// A minimal HTTP/1.1 keep-alive client over a plain socket (the sim runs with --insecure-http here).
class Conn {
 public:
  explicit Conn(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      perror("connect");
      std::exit(1);
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Conn() { close(fd_); }
  void Send(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = write(fd_, s.data() + off, s.size() - off);
      if (n <= 0) {
        perror("write");
        std::exit(1);
      }
      off += static_cast<size_t>(n);
    }
  }
  // Reads one response with Content-Length; returns the status code.
  int ReadResponse() {
    for (;;) {
      auto hdr_end = buf_.find("\r\n\r\n");
      if (hdr_end != std::string::npos) {
        int status = std::atoi(buf_.c_str() + 9);
        auto cl = buf_.find("Content-Length: ");
        if (cl == std::string::npos || cl > hdr_end) cl = buf_.find("content-length: ");
        size_t len = cl != std::string::npos && cl < hdr_end ? std::strtoul(buf_.c_str() + cl + 16, nullptr, 10) : 0;
        if (buf_.size() >= hdr_end + 4 + len) {
          buf_.erase(0, hdr_end + 4 + len);
          return status;
        }
      }
      if (!Fill()) return -1;
    }
  }
  bool Fill() {
    char tmp[65536];
    ssize_t n = read(fd_, tmp, sizeof tmp);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  std::string& buffer() { return buf_; }

 private:
  int fd_;
  std::string buf_;
};

std::string Request(const std::string& method, const std::string& path, const std::string& token,
                    const std::string& body) {
  return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string ConfigMap(const std::string& name, int value) {
  return Json({{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}, {"namespace", "bench"}}},
               {"data", {{"value", std::to_string(value)}, {"payload", std::string(200, 'x')}}}})
      .dump();
}

// Runs kWriters connections, each sending its share of `count` requests made by make(i).
double HttpWrites(int port, int count,
                  const std::function<std::string(int)>& make, int* failures) {
  std::atomic<int> failed{0};
  auto start = Clock::now();
  std::vector<std::thread> ts;
  for (int w = 0; w < kWriters; ++w) {
    ts.emplace_back([&, w] {
      Conn c(port);
      // Pipeline a few requests at a time, as a busy client's connection pool would.
      constexpr int kDepth = 8;
      std::vector<int> mine;
      for (int i = w; i < count; i += kWriters) mine.push_back(i);
      size_t sent = 0, done = 0;
      while (done < mine.size()) {
        while (sent < mine.size() && sent - done < kDepth) c.Send(make(mine[sent++]));
        int st = c.ReadResponse();
        if (st < 200 || st >= 300) failed++;
        ++done;
      }
    });
  }
  for (auto& t : ts) t.join();
  *failures = failed;
  return count / Seconds(start, Clock::now());
}

struct Row {
  std::string name;
  double value;
  std::string unit;
  std::string target;
};

}  // namespace

// The 1-minute load average (/proc/loadavg), recorded with the numbers: the machine is shared.
double LoadAverage1m() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  in >> load;
  return load;
}

int main(int argc, char** argv) {
  const double load_start = LoadAverage1m();
  std::string out_path = argc > 1 ? argv[1] : std::string(PRESCIENT_SOURCE_DIR) + "/docs/bench/sim.json";
  std::vector<Row> rows;

  // 1. The store alone.
  {
    auto store = prescient::sim::Store::Open({});
    (*store)->Create(prescient::sim::gvr::kNamespaces, "", Json{{"metadata", {{"name", "bench"}}}});
    auto start = Clock::now();
    for (int i = 0; i < kObjects; ++i) {
      (*store)->Create(prescient::sim::gvr::kConfigMaps, "bench", Json::parse(ConfigMap("cm-" + std::to_string(i), i)));
    }
    rows.push_back({"store creates/s (in-process)", kObjects / Seconds(start, Clock::now()), "writes/s", ""});
  }

  // 2. Over HTTP, with a data dir (snapshot + WAL): creates, then updates.
  SimOptions o;
  o.persistent = true;
  o.extra_args = {"--insecure-http", "--watch-history", "200000"};
  auto t0 = Clock::now();
  auto sim = SimProcess::Start(o);
  if (!sim.ok()) {
    std::cerr << sim.status().ToString() << "\n";
    return 1;
  }
  double startup_empty = Seconds(t0, Clock::now());
  auto& s = **sim;
  int port = s.port();
  {
    Conn c(port);
    c.Send(Request("POST", "/api/v1/namespaces", s.token(), R"({"metadata":{"name":"bench"}})"));
    c.ReadResponse();
  }
  int failures = 0;
  double creates = HttpWrites(port, kObjects, [&](int i) {
    return Request("POST", "/api/v1/namespaces/bench/configmaps", s.token(), ConfigMap("cm-" + std::to_string(i), i));
  }, &failures);
  rows.push_back({"HTTP creates/s (persistent, 4 connections)", creates, "writes/s", ">= 2000"});
  if (failures) std::cerr << failures << " create requests failed\n";

  // 3. Watch fan-out: 10 watchers, then 10,000 updates (merge patches) of the 10,000 objects.
  std::string rv;
  {
    Conn c(port);
    c.Send(Request("GET", "/api/v1/namespaces/bench/configmaps?limit=1", s.token(), ""));
    c.ReadResponse();
  }
  {
    // resourceVersion of "now" from a list.
    Conn c(port);
    c.Send(Request("GET", "/api/v1/namespaces/bench/configmaps?limit=1", s.token(), ""));
    while (c.buffer().find("resourceVersion") == std::string::npos && c.Fill()) {
    }
    auto body = c.buffer().substr(c.buffer().find("\r\n\r\n") + 4);
    auto j = Json::parse(body, nullptr, false);
    rv = j.is_discarded() ? "" : j["metadata"].value("resourceVersion", "");
  }
  std::atomic<int> ready{0};
  std::vector<std::atomic<int>> counts(kWatchers);
  std::vector<std::thread> watchers;
  std::vector<Clock::time_point> finished(kWatchers);
  for (int w = 0; w < kWatchers; ++w) {
    watchers.emplace_back([&, w] {
      Conn c(port);
      c.Send(Request("GET", "/api/v1/namespaces/bench/configmaps?watch=true&resourceVersion=" + rv, s.token(), ""));
      while (c.buffer().find("\r\n\r\n") == std::string::npos && c.Fill()) {
      }
      ready++;
      int n = 0;
      size_t scanned = 0;
      while (n < kObjects) {
        auto& b = c.buffer();
        size_t pos;
        while ((pos = b.find("\"type\":\"MODIFIED\"", scanned)) != std::string::npos) {
          ++n;
          scanned = pos + 10;
        }
        if (b.size() > (1 << 20)) {
          b.erase(0, scanned);
          scanned = 0;
        }
        if (n >= kObjects) break;
        if (!c.Fill()) break;
      }
      counts[w] = n;
      finished[w] = Clock::now();
    });
  }
  while (ready < kWatchers) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto fan_start = Clock::now();
  double updates = HttpWrites(port, kObjects, [&](int i) {
    std::string body = R"({"data":{"value":"u)" + std::to_string(i) + R"("}})";
    return "PATCH /api/v1/namespaces/bench/configmaps/cm-" + std::to_string(i) +
           " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + s.token() +
           "\r\nContent-Type: application/merge-patch+json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
  }, &failures);
  for (auto& t : watchers) t.join();
  auto last = fan_start;
  long delivered = 0;
  for (int w = 0; w < kWatchers; ++w) {
    last = std::max(last, finished[w]);
    delivered += counts[w];
  }
  rows.push_back({"HTTP updates/s (merge patch) with 10 watchers", updates, "writes/s", ">= 2000"});
  rows.push_back({"watch fan-out to 10 watchers", delivered / Seconds(fan_start, last), "events/s", ""});
  if (delivered != static_cast<long>(kWatchers) * kObjects) {
    std::cerr << "watchers saw " << delivered << " of " << kWatchers * kObjects << " events\n";
  }

  // 4. Start-up with 10,000 persisted objects (clean stop writes a snapshot; restart loads it).
  s.Stop();
  auto r0 = Clock::now();
  auto st = s.Restart();
  double startup_full = Seconds(r0, Clock::now());
  if (!st.ok()) std::cerr << st.ToString() << "\n";
  rows.push_back({"start-up, empty (exec to kubeconfig written)", startup_empty * 1000, "ms", "< 1000"});
  rows.push_back({"start-up, 10,000 persisted objects", startup_full * 1000, "ms", "< 1000"});

  const double load_end = LoadAverage1m();
  std::printf("\nprescient-sim benchmark (%d objects, %d watchers, %u cores, 1-minute load average %.2f at the "
              "start, %.2f at the end)\n",
              kObjects, kWatchers, std::thread::hardware_concurrency(), load_start, load_end);
  std::printf("%-50s %14s  %-9s %s\n", "measure", "value", "unit", "target");
  Json results = Json::array();
  for (const auto& r : rows) {
    std::printf("%-50s %14.1f  %-9s %s\n", r.name.c_str(), r.value, r.unit.c_str(), r.target.c_str());
    results.push_back({{"measure", r.name}, {"value", r.value}, {"unit", r.unit}, {"target", r.target}});
  }
  std::filesystem::create_directories(std::filesystem::path(out_path).parent_path());
  std::ofstream(out_path) << Json({{"benchmark", "prescient-sim"},
                                   {"objects", kObjects},
                                   {"watchers", kWatchers},
                                   {"cores", std::thread::hardware_concurrency()},
                                   {"load_average_1m", {{"start", load_start}, {"end", load_end}}},
                                   {"results", results}})
                                 .dump(2)
                          << "\n";
  std::printf("wrote %s\n", out_path.c_str());
  return 0;
}
