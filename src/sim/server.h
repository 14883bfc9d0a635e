// The sim's transport: an HTTP/1.1 server (TLS by default) on Boost.Beast that hands each request
// to ApiHandler and streams watch responses as chunked bodies. This is the only translation unit
// that includes Beast. Thread-safe: Start() runs the server on its own threads; Stop() joins them.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "sim/handler.h"

namespace prescient::sim {

struct ServerOptions {
  std::string bind_address = "127.0.0.1";
  int port = 0;                 // 0: any free port
  bool tls = true;              // false: plain HTTP (debugging)
  std::string cert_pem;         // serving certificate and key (tls)
  std::string key_pem;
  int threads = 4;
  size_t max_body_bytes = 3 * 1024 * 1024;
};

class ApiServer {
 public:
  virtual ~ApiServer() = default;
  virtual int port() const = 0;
  // Closes the listener and every connection (watches end), then joins the threads. Idempotent.
  virtual void Stop() = 0;
  static Result<std::unique_ptr<ApiServer>> Start(ApiHandler* handler, const ServerOptions& options);
};

}  // namespace prescient::sim
