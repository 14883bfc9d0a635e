// The real Client: REST over HTTPS with cpprestsdk, TLS verified against the configured CA (never a
// silent fallback to an insecure connection), bearer-token (re-read when the token file rotates) and
// client-certificate authentication, per-request timeouts, and retries of 429/5xx/connection errors with
// the common Backoff, honouring Retry-After. Watches stream the chunked response line by line (see
// README.md in this folder for why cpprestsdk is good enough for that). cpprestsdk and Boost stay in
// rest_client.cc. Thread-safe.
#pragma once

#include <chrono>
#include <memory>

#include "common/clock.h"
#include "kube/api_error.h"
#include "kube/client.h"
#include "kube/config.h"

namespace prescient::kube {

struct RestOptions {
  std::chrono::milliseconds request_timeout{30'000};  // every non-watch request
  // Inactivity allowance added to a watch's timeoutSeconds before the client gives up on a silent stream.
  std::chrono::seconds watch_idle_slack{30};
  RetryPolicy retry;
  Clock* clock = nullptr;  // retry sleeps; nullptr = SystemClock()
  std::string user_agent = "prescient/0.1";
};

// Validates the TLS material up front (a CA or key that is not PEM is an error naming its source).
Result<std::unique_ptr<Client>> NewRestClient(const Config& config, const RestOptions& options = {});

}  // namespace prescient::kube
