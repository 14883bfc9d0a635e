#include "kube/api_error.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace prescient::kube {
namespace {

std::string StatusBody(int code, const std::string& reason, const std::string& message, int retry = 0) {
  nlohmann::json j = {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
                      {"message", message}, {"reason", reason}, {"code", code}};
  if (retry) j["details"]["retryAfterSeconds"] = retry;
  return j.dump();
}

TEST(StatusDecodingTest, Table) {
  struct Case {
    int http;
    std::string body;
    std::string retry_header;
    Code want;
    std::string want_reason;
    int want_retry;
  } cases[] = {
      {404, StatusBody(404, "NotFound", "commandruns.prescient.dev \"x\" not found"), "", Code::kNotFound, "NotFound", 0},
      {409, StatusBody(409, "AlreadyExists", "exists"), "", Code::kAlreadyExists, "AlreadyExists", 0},
      {409, StatusBody(409, "Conflict", "the object has been modified"), "", Code::kConflict, "Conflict", 0},
      {422, StatusBody(422, "Invalid", "spec.x: Required value"), "", Code::kInvalid, "Invalid", 0},
      {403, StatusBody(403, "Forbidden", "exceeded quota"), "", Code::kForbidden, "Forbidden", 0},
      {401, StatusBody(401, "Unauthorized", "Unauthorized"), "", Code::kUnauthorized, "Unauthorized", 0},
      {410, StatusBody(410, "Expired", "too old resource version"), "", Code::kExpired, "Expired", 0},
      {410, StatusBody(410, "Gone", "gone"), "", Code::kExpired, "Gone", 0},
      {429, StatusBody(429, "TooManyRequests", "slow down", 3), "", Code::kTooManyRequests, "TooManyRequests", 3},
      {429, StatusBody(429, "TooManyRequests", "slow down", 3), "7", Code::kTooManyRequests, "TooManyRequests", 7},
      {500, StatusBody(500, "InternalError", "boom"), "", Code::kServerError, "InternalError", 0},
      {503, StatusBody(503, "ServiceUnavailable", "later"), "2", Code::kServerError, "ServiceUnavailable", 2},
      {415, StatusBody(415, "UnsupportedMediaType", "no smp"), "", Code::kUnsupported, "UnsupportedMediaType", 0},
      {502, "<html>bad gateway</html>", "", Code::kServerError, "", 0},
      {404, "", "", Code::kNotFound, "", 0},
      {504, "gateway timeout", "", Code::kTimeout, "", 0},
      // The HTTP code is the truth when the body disagrees.
      {500, StatusBody(0, "", "odd"), "", Code::kServerError, "", 0},
  };
  for (const auto& tc : cases) {
    Status st = StatusFromResponse(tc.http, tc.body, tc.retry_header, "GET https://x/y");
    EXPECT_EQ(st.code(), tc.want) << tc.http << " " << tc.body << " -> " << st.ToString();
    EXPECT_EQ(st.http_code(), tc.http) << tc.body;
    EXPECT_EQ(st.reason(), tc.want_reason) << tc.body;
    EXPECT_EQ(st.retry_after_seconds(), tc.want_retry) << tc.body;
    EXPECT_NE(st.message().find("GET https://x/y"), std::string::npos) << st.message();
  }
  Status nf = StatusFromResponse(404, StatusBody(404, "NotFound", "leases \"l\" not found"), "", "GET u");
  EXPECT_NE(nf.message().find("leases \"l\" not found"), std::string::npos);
}

TEST(StatusDecodingTest, WatchErrorObject) {
  auto obj = nlohmann::json::parse(StatusBody(410, "Expired", "too old resource version: 5 (10)"));
  Status st = StatusFromObject(obj, "watch");
  EXPECT_EQ(st.code(), Code::kExpired);
  EXPECT_EQ(st.http_code(), 410);
}

TEST(RetryTest, RetryableCodes) {
  struct Case {
    Status st;
    bool want;
  } cases[] = {
      {Status(Code::kTooManyRequests, "").WithHttp(429, ""), true},
      {Status(Code::kServerError, "").WithHttp(500, ""), true},
      {Status(Code::kServerError, "").WithHttp(503, ""), true},
      {Status(Code::kServerError, "").WithHttp(501, ""), false},
      {Status(Code::kUnavailable, "connection refused"), true},
      {Status(Code::kTimeout, ""), true},
      {Status(Code::kConflict, "").WithHttp(409, "Conflict"), false},
      {Status(Code::kNotFound, ""), false},
      {Status(Code::kUnauthorized, ""), false},
      {Status(Code::kInvalid, ""), false},
  };
  for (const auto& tc : cases) EXPECT_EQ(IsRetryable(tc.st), tc.want) << tc.st.ToString() << tc.st.http_code();
}

TEST(RetryTest, DelaysGrowAndHonourRetryAfter) {
  RetryPolicy p;
  p.max_attempts = 4;
  p.backoff = {std::chrono::milliseconds(100), std::chrono::milliseconds(10'000), 2.0, 0.0};
  Backoff b(p.backoff, 1);
  Status busy = Status(Code::kServerError, "").WithHttp(500, "");
  EXPECT_EQ(RetryDelay(busy, 1, p, &b).count(), 100);
  EXPECT_EQ(RetryDelay(busy, 2, p, &b).count(), 200);
  EXPECT_EQ(RetryDelay(busy, 3, p, &b).count(), 400);
  EXPECT_LT(RetryDelay(busy, 4, p, &b).count(), 0);  // attempts exhausted
  Backoff b2(p.backoff, 1);
  Status slow = Status(Code::kTooManyRequests, "").WithHttp(429, "").WithRetryAfter(3);
  EXPECT_EQ(RetryDelay(slow, 1, p, &b2).count(), 3000);
  Status too_slow = Status(Code::kTooManyRequests, "").WithHttp(429, "").WithRetryAfter(3600);
  EXPECT_LT(RetryDelay(too_slow, 1, p, &b2).count(), 0);
  Backoff b3(p.backoff, 1);
  EXPECT_LT(RetryDelay(Status(Code::kConflict, ""), 1, p, &b3).count(), 0);
}

}  // namespace
}  // namespace prescient::kube
