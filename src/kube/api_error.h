// Turning API responses into typed errors, and deciding whether a failed request is worth retrying.
// Pure functions (table-tested in api_error_test.cc); the transport calls them for every response.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "common/backoff.h"
#include "common/status.h"

namespace prescient::kube {

// Maps an HTTP status and a Status `reason` onto a prescient::Code. The reason wins when it is
// known (409 may be AlreadyExists or Conflict; 410 is Expired), otherwise the HTTP code decides.
Code CodeForApiError(int http_code, const std::string& reason);

// Decodes an error response: the body is a Status object when the server is an API server, but may be
// anything (a proxy's HTML). `what` says which request failed ("GET https://…/leases/x") and ends up
// in the message. Retry-After comes from the header, else from details.retryAfterSeconds.
Status StatusFromResponse(int http_code, const std::string& body, const std::string& retry_after_header,
                          const std::string& what);

// Decodes a Status object (as carried by a watch ERROR event).
Status StatusFromObject(const nlohmann::json& status, const std::string& what);

struct RetryPolicy {
  int max_attempts = 5;  // including the first
  BackoffPolicy backoff{std::chrono::milliseconds(100), std::chrono::milliseconds(10'000), 2.0, 1.0};
  // A server asking for more than this is not waited for: the error is returned instead.
  std::chrono::seconds max_retry_after{60};
};

// Whether a failure is transient: 429, 5xx (500, 502, 503, 504), timeouts and connection errors.
bool IsRetryable(const Status& st);

// The delay before retrying after `attempt` (1 = the first try failed), or a negative duration when
// the request must not be retried. Honours Retry-After (never waits less than it asks).
std::chrono::milliseconds RetryDelay(const Status& st, int attempt, const RetryPolicy& policy, Backoff* backoff);

}  // namespace prescient::kube
