// The sim's HTTP semantics without sockets: ApiHandler turns one request (method, target, headers,
// body) into a response, exactly as kube-apiserver would answer it — routing of /api and /apis
// paths, discovery, OpenAPI, bearer-token auth, Status errors, Tables, watches (as a WatchStream the
// transport pumps), fault injection (/admin/faults). server.cc puts it behind Boost.Beast; unit
// tests and the fuzz target call Handle() directly.
//
// Thread-safety: Handle() may be called from many threads at once. No global state: every handler
// instance is independent (the fuzz target makes one per process).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "sim/store.h"

namespace prescient::sim {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, percent-encoded: "/api/v1/pods?limit=500"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Case-insensitive header lookup; "" when absent.
  std::string Header(std::string_view name) const;
};

class WatchStream;

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Warning, Retry-After, ...)
  std::string body;
  // For watch requests: the body is streamed (chunked) from here instead.
  std::shared_ptr<WatchStream> watch;
};

// One watch response's event stream: newline-delimited JSON watch events.
class WatchStream {
 public:
  using Encoder = std::function<Json(const Json& object, bool first)>;
  WatchStream(std::shared_ptr<Watch> watch, Encoder encode, std::string bookmark_kind, std::string bookmark_api_version,
              bool bookmarks, Clock* clock, std::chrono::milliseconds bookmark_interval,
              std::chrono::milliseconds timeout);
  // A stream that sends one ERROR event (a Status) and ends.
  static std::shared_ptr<WatchStream> Error(Json status);
  ~WatchStream();

  // Appends every event available now (and a bookmark when one is due) to *out. Returns false once
  // the stream has ended (timeout, closed watch, error); what was appended must still be sent.
  bool Poll(std::string* out);
  // Called (from any thread) when Poll has something new. Post work from it; don't Poll inside.
  void SetNotify(std::function<void()> notify);
  // When the transport should Poll again even without a notification (bookmark or timeout due).
  std::chrono::steady_clock::time_point NextDeadline() const;
  // The client went away.
  void Cancel();

 private:
  WatchStream() = default;
  std::shared_ptr<Watch> watch_;
  Encoder encode_;
  std::string bookmark_kind_;
  std::string bookmark_api_version_;
  bool bookmarks_ = false;
  Clock* clock_ = nullptr;
  std::chrono::milliseconds bookmark_interval_{60000};
  std::chrono::steady_clock::time_point next_bookmark_;
  std::chrono::steady_clock::time_point deadline_;
  int64_t last_rv_ = 0;
  bool first_ = true;
  bool done_ = false;
  std::string pending_error_;
};

// Fault injection for /api and /apis requests (the admin endpoint and --faults set it).
struct FaultConfig {
  double error_share = 0;            // share of requests answered with an error
  std::vector<int> error_codes = {500};
  double delay_share = 0;            // share of requests delayed by delay_ms
  int delay_ms = 0;
  int retry_after_seconds = 1;       // on 429 (and 503)
  Json ToJson() const;
};

// Parses the admin/--faults JSON. dropWatches and historySize are actions, reported through the
// out-parameters (nullopt/false when absent). Errors name the bad field.
Result<FaultConfig> ParseFaults(const Json& j, const FaultConfig& base, bool* drop_watches,
                                std::optional<size_t>* history_size);

struct HandlerOptions {
  std::string token;  // "" disables authentication
  Clock* clock = nullptr;
  std::chrono::milliseconds bookmark_interval{60000};
  size_t max_body_bytes = 3 * 1024 * 1024;
  std::string server_address = "127.0.0.1:6443";  // for /api serverAddressByClientCIDRs
  uint64_t fault_seed = 0;  // 0: random
};

class ApiHandler {
 public:
  ApiHandler(Store* store, HandlerOptions options);
  HttpResponse Handle(const HttpRequest& request);
  void SetFaults(const FaultConfig& faults);
  FaultConfig faults() const;
  void set_server_address(std::string a);

 private:
  struct Route;
  HttpResponse Dispatch(const HttpRequest& request);
  HttpResponse HandleResource(const HttpRequest& request, Route& route);
  HttpResponse HandleAdmin(const HttpRequest& request, const std::string& path);
  bool InjectFault(const HttpRequest& request, HttpResponse* out);

  Store* store_;
  HandlerOptions options_;
  Clock* clock_;
  mutable std::mutex mu_;  // faults_, rng_, server address
  FaultConfig faults_;
  std::mt19937_64 rng_;
};

// A Status object for an error (the exact shape kube-apiserver sends).
Json StatusJson(const Status& s);
HttpResponse StatusResponse(const Status& s);
// "%2F" -> "/", "+" stays "+" in paths; query values also map '+' to ' '.
std::string PercentDecode(std::string_view s, bool query);

}  // namespace prescient::sim
