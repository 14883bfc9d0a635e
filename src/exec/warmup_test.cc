#include "exec/warmup.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace prescient::exec {
namespace {

TEST(ParseDependency, Table) {
  struct Case {
    std::string text;
    bool ok;
    std::string host;
    int port;
  } cases[] = {
      {"db.default.svc:5432", true, "db.default.svc", 5432},
      {"10.0.0.5:6379", true, "10.0.0.5", 6379},
      {"[::1]:443", true, "::1", 443},
      {"db:0", false, "", 0},
      {"db:65536", false, "", 0},
      {"db", false, "", 0},
      {":80", false, "", 0},
      {"::1:443", false, "", 0},
      {"[::1]443", false, "", 0},
      {"db:80x", false, "", 0},
  };
  for (const auto& c : cases) {
    auto d = ParseDependency(c.text);
    EXPECT_EQ(d.ok(), c.ok) << c.text;
    if (d.ok() && c.ok) {
      EXPECT_EQ(d->host, c.host);
      EXPECT_EQ(d->port, c.port);
    } else if (!d.ok()) {
      EXPECT_NE(d.status().message().find(c.text), std::string::npos) << d.status().ToString();
    }
  }
}

// A listener on 127.0.0.1, port chosen by the kernel.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Listener() { Close(); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(WarmUp, ConnectsToAListenerAndNamesAFailure) {
  Listener up;
  Listener down;
  int down_port = down.port();
  down.Close();  // nothing listens there any more: connection refused
  auto results = WarmUp({{"127.0.0.1", up.port()}, {"127.0.0.1", down_port}, {"localhost", up.port()}});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].ok) << results[0].status.ToString();
  EXPECT_EQ(results[0].address, "127.0.0.1:" + std::to_string(up.port()));
  EXPECT_GE(results[0].connect_seconds, 0);
  EXPECT_FALSE(results[1].ok);
  EXPECT_EQ(results[1].status.code(), Code::kUnavailable);
  EXPECT_NE(results[1].status.message().find("127.0.0.1:" + std::to_string(down_port)), std::string::npos)
      << results[1].status.ToString();
  EXPECT_TRUE(results[2].ok) << results[2].status.ToString();  // tried even after a failure
}

TEST(WarmUp, UnresolvableHostIsReported) {
  auto r = WarmUpOne({"no-such-host.invalid", 80});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.status.message().find("resolving no-such-host.invalid:80"), std::string::npos) << r.status.ToString();
}

}  // namespace
}  // namespace prescient::exec
