// Dependency warm-up before a run starts: resolve each dependency's host (getaddrinfo) and open a
// TCP connection to it, each step timed and bounded, so a run whose database is unreachable fails
// fast with the dependency named instead of minutes into its work. Blocking; thread-safe (no
// shared state; getaddrinfo runs on a helper thread so its time is bounded too).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace prescient::exec {

struct Dependency {
  std::string host;  // name or literal address ("db.default.svc", "10.0.0.5", "::1")
  int port = 0;
};

struct DependencyResult {
  Dependency dependency;
  bool ok = false;
  std::string address;        // the address connected to ("10.0.0.5:5432", "[::1]:443")
  double resolve_seconds = 0;
  double connect_seconds = 0;
  Status status;              // the failure: which step and why
};

struct WarmupOptions {
  std::chrono::milliseconds resolve_timeout{2000};
  std::chrono::milliseconds connect_timeout{2000};
};

// Parses "host:port" or "[v6]:port". InvalidArgument names the text when malformed.
Result<Dependency> ParseDependency(const std::string& text);

DependencyResult WarmUpOne(const Dependency& dep, const WarmupOptions& options = {});
// In order; each dependency is tried even when an earlier one failed.
std::vector<DependencyResult> WarmUp(const std::vector<Dependency>& deps, const WarmupOptions& options = {});

}  // namespace prescient::exec
