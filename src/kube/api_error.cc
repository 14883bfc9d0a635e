#include "kube/api_error.h"

#include <nlohmann/json.hpp>

namespace prescient::kube {

Code CodeForApiError(int http_code, const std::string& reason) {
  if (reason == "NotFound") return Code::kNotFound;
  if (reason == "AlreadyExists") return Code::kAlreadyExists;
  if (reason == "Conflict") return Code::kConflict;
  if (reason == "Invalid") return Code::kInvalid;
  if (reason == "Forbidden") return Code::kForbidden;
  if (reason == "Unauthorized") return Code::kUnauthorized;
  if (reason == "Expired" || reason == "Gone") return Code::kExpired;
  if (reason == "TooManyRequests") return Code::kTooManyRequests;
  if (reason == "Timeout" || reason == "ServerTimeout") return Code::kTimeout;
  if (reason == "UnsupportedMediaType") return Code::kUnsupported;
  if (reason == "BadRequest") return Code::kInvalidArgument;
  if (reason == "MethodNotAllowed") return Code::kUnsupported;
  if (reason == "InternalError" || reason == "ServiceUnavailable") return Code::kServerError;
  switch (http_code) {
    case 400: return Code::kInvalidArgument;
    case 401: return Code::kUnauthorized;
    case 403: return Code::kForbidden;
    case 404: return Code::kNotFound;
    case 405: return Code::kUnsupported;
    case 409: return Code::kConflict;
    case 410: return Code::kExpired;
    case 415: return Code::kUnsupported;
    case 422: return Code::kInvalid;
    case 429: return Code::kTooManyRequests;
    case 504: return Code::kTimeout;
    default: break;
  }
  if (http_code >= 500) return Code::kServerError;
  return Code::kInternal;
}

Status StatusFromObject(const nlohmann::json& s, const std::string& what) {
  int code = 0;
  std::string reason, message;
  int retry_after = 0;
  if (s.is_object()) {
    if (auto it = s.find("code"); it != s.end() && it->is_number_integer()) code = it->get<int>();
    if (auto it = s.find("reason"); it != s.end() && it->is_string()) reason = it->get<std::string>();
    if (auto it = s.find("message"); it != s.end() && it->is_string()) message = it->get<std::string>();
    if (auto d = s.find("details"); d != s.end() && d->is_object()) {
      if (auto it = d->find("retryAfterSeconds"); it != d->end() && it->is_number_integer()) {
        retry_after = it->get<int>();
      }
    }
  }
  if (message.empty()) message = reason.empty() ? "unknown error" : reason;
  Status st(CodeForApiError(code, reason), message + " (" + what + ")");
  st.WithHttp(code, reason);
  if (retry_after > 0) st.WithRetryAfter(retry_after);
  return st;
}

Status StatusFromResponse(int http_code, const std::string& body, const std::string& retry_after_header,
                          const std::string& what) {
  std::string w = what + ": HTTP " + std::to_string(http_code);
  Status st;
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.value("kind", "") == "Status") {
    st = StatusFromObject(j, w);
    // The HTTP code is the truth when the body's code is missing or disagrees.
    if (st.http_code() != http_code) {
      st = Status(CodeForApiError(http_code, st.reason()), st.message()).WithHttp(http_code, st.reason());
    }
  } else {
    std::string snippet = body.substr(0, 200);
    for (char& c : snippet) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    if (snippet.empty()) snippet = "empty response body";
    st = Status(CodeForApiError(http_code, ""), snippet + " (" + w + ")");
    st.WithHttp(http_code, "");
  }
  if (!retry_after_header.empty()) {
    char* end = nullptr;
    long v = std::strtol(retry_after_header.c_str(), &end, 10);
    if (end != retry_after_header.c_str() && *end == '\0' && v > 0) st.WithRetryAfter(static_cast<int>(v));
  }
  if (st.code() == Code::kUnauthorized) {
    st = Status(Code::kUnauthorized,
                "401 Unauthorized, the token or client certificate is wrong or has expired: " + st.message())
             .WithHttp(http_code, st.reason());
  }
  return st;
}

bool IsRetryable(const Status& st) {
  switch (st.code()) {
    case Code::kTooManyRequests:
    case Code::kTimeout:
    case Code::kUnavailable:
      return true;
    case Code::kServerError:
      // 501 Not Implemented and friends will not get better by asking again.
      return st.http_code() == 0 || st.http_code() == 500 || st.http_code() == 502 || st.http_code() == 503 ||
             st.http_code() == 504;
    default:
      return false;
  }
}

std::chrono::milliseconds RetryDelay(const Status& st, int attempt, const RetryPolicy& policy, Backoff* backoff) {
  using std::chrono::milliseconds;
  if (!IsRetryable(st) || attempt >= policy.max_attempts) return milliseconds(-1);
  milliseconds delay = backoff->Next();
  if (st.retry_after_seconds() > 0) {
    auto asked = std::chrono::seconds(st.retry_after_seconds());
    if (asked > policy.max_retry_after) return milliseconds(-1);
    delay = std::max<milliseconds>(delay, asked);
  }
  return delay;
}

}  // namespace prescient::kube
