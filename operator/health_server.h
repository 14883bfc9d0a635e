// A minimal HTTP/1.1 server for the health probes (/healthz, /readyz): plain blocking sockets on
// one thread, one request per connection, so the probes keep answering even when the API client's
// thread pool is busy. Thread-safe: Start/Stop from one thread; the checks are called on the
// server thread.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "common/status.h"

namespace prescient::op {

class HealthServer {
 public:
  using Check = std::function<bool()>;
  HealthServer(Check healthy, Check ready) : healthy_(std::move(healthy)), ready_(std::move(ready)) {}
  ~HealthServer() { Stop(); }
  // `address` is ":8081" or "host:port"; port 0 picks a free port (see port()).
  Status Start(const std::string& address);
  void Stop();
  int port() const { return port_; }

 private:
  void Serve();
  Check healthy_, ready_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace prescient::op
