// Status and Result<T>: the project's one way to return errors without exceptions across module
// boundaries (LevelDB style). A Status carries a code, a one-line message saying what is wrong and
// where, and for Kubernetes API errors the HTTP code and Status reason. Thread-compatible values.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace prescient {

enum class Code {
  kOk = 0,
  kInvalidArgument,   // bad input from a user or a file
  kNotFound,
  kAlreadyExists,
  kConflict,          // optimistic-concurrency failure (stale resourceVersion, failed JSON-patch test)
  kInvalid,           // 422 from the API: the object failed validation
  kForbidden,
  kUnauthorized,
  kExpired,           // 410: watch/list resourceVersion too old
  kTooManyRequests,
  kServerError,       // 5xx
  kTimeout,
  kUnavailable,       // connection refused / reset / DNS / TLS handshake
  kUnsupported,       // 415 and similar
  kCancelled,
  kInternal,
};

const char* CodeName(Code c);

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // For API errors: the HTTP status and the Status object's `reason`.
  int http_code() const { return http_code_; }
  const std::string& reason() const { return reason_; }
  Status& WithHttp(int http_code, std::string reason) {
    http_code_ = http_code;
    reason_ = std::move(reason);
    return *this;
  }
  // Seconds from a Retry-After header or Status details.retryAfterSeconds; 0 when absent.
  int retry_after_seconds() const { return retry_after_seconds_; }
  Status& WithRetryAfter(int s) {
    retry_after_seconds_ = s;
    return *this;
  }

  // "NotFound: commandruns.prescient.dev \"x\" not found"
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  int http_code_ = 0;
  std::string reason_;
  int retry_after_seconds_ = 0;
};

inline Status InvalidArgument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
inline Status NotFoundError(std::string m) { return Status(Code::kNotFound, std::move(m)); }
inline Status InternalError(std::string m) { return Status(Code::kInternal, std::move(m)); }

// A value or an error. Access to value() on an error aborts loudly (an impossible state).
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}           // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}    // NOLINT
  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }
  T& operator*() & { return std::get<T>(v_); }
  const T& operator*() const& { return std::get<T>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace prescient
