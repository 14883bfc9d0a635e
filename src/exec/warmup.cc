#include "exec/warmup.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <thread>
#include <memory>

#include "exec/fileio.h"

namespace prescient::exec {

namespace {

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string FormatAddr(const sockaddr* sa) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
  }
  auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
  inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
  return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
}

struct AddrInfoDeleter {
  void operator()(addrinfo* a) const { freeaddrinfo(a); }
};

// Non-blocking connect bounded by `timeout`. Returns 0 or an errno.
int ConnectWithTimeout(const addrinfo* ai, std::chrono::milliseconds timeout) {
  int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int err = 0;
  if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      err = errno;
    } else {
      struct pollfd p{fd, POLLOUT, 0};
      int r;
      do {
        r = ::poll(&p, 1, static_cast<int>(timeout.count()));
      } while (r < 0 && errno == EINTR);
      if (r == 0) {
        err = ETIMEDOUT;
      } else if (r < 0) {
        err = errno;
      } else {
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
    }
  }
  ::close(fd);
  return err;
}

}  // namespace

Result<Dependency> ParseDependency(const std::string& text) {
  Dependency d;
  std::string port;
  if (!text.empty() && text[0] == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return InvalidArgument("dependency \"" + text + "\" is not [address]:port");
    d.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) return InvalidArgument("dependency \"" + text + "\" is not host:port");
    d.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (d.host.find(':') != std::string::npos)
      return InvalidArgument("dependency \"" + text + "\": write IPv6 addresses as [address]:port");
  }
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 1 || p > 65535)
    return InvalidArgument("dependency \"" + text + "\" has no valid port (1-65535)");
  d.port = static_cast<int>(p);
  return d;
}

DependencyResult WarmUpOne(const Dependency& dep, const WarmupOptions& o) {
  DependencyResult r;
  r.dependency = dep;
  std::string what = dep.host + ":" + std::to_string(dep.port);
  auto t0 = std::chrono::steady_clock::now();
  // getaddrinfo has no timeout of its own: run it on a detached helper and stop waiting in time.
  struct Lookup {
    int rc = 0;
    addrinfo* res = nullptr;
  };
  auto lookup = std::make_shared<std::promise<Lookup>>();
  auto fut = lookup->get_future();
  std::string host = dep.host, port = std::to_string(dep.port);
  std::thread([lookup, host, port] {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    Lookup l;
    l.rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &l.res);
    lookup->set_value(l);
  }).detach();
  if (fut.wait_for(o.resolve_timeout) != std::future_status::ready) {
    r.resolve_seconds = Since(t0);
    r.status = Status(Code::kTimeout, "resolving " + what + ": no answer within " +
                                          std::to_string(o.resolve_timeout.count()) + " ms");
    // The helper frees its result when it finishes: nobody will read it.
    std::thread([f = std::move(fut)]() mutable {
      Lookup l = f.get();
      if (l.res) freeaddrinfo(l.res);
    }).detach();
    return r;
  }
  Lookup l = fut.get();
  r.resolve_seconds = Since(t0);
  std::unique_ptr<addrinfo, AddrInfoDeleter> res(l.res);
  if (l.rc != 0) {
    r.status = Status(Code::kUnavailable, "resolving " + what + ": " + gai_strerror(l.rc));
    return r;
  }
  auto t1 = std::chrono::steady_clock::now();
  int last_err = 0;
  std::string last_addr;
  for (addrinfo* ai = res.get(); ai; ai = ai->ai_next) {
    last_addr = FormatAddr(ai->ai_addr);
    auto remaining = o.connect_timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now() - t1);
    if (remaining.count() <= 0) {
      last_err = ETIMEDOUT;
      break;
    }
    last_err = ConnectWithTimeout(ai, remaining);
    if (last_err == 0) {
      r.ok = true;
      r.address = last_addr;
      break;
    }
  }
  r.connect_seconds = Since(t1);
  if (!r.ok)
    r.status = Status(last_err == ETIMEDOUT ? Code::kTimeout : Code::kUnavailable,
                      ErrnoText("connecting to " + what + " (" + last_addr + ")", last_err));
  return r;
}

std::vector<DependencyResult> WarmUp(const std::vector<Dependency>& deps, const WarmupOptions& o) {
  std::vector<DependencyResult> out;
  for (const auto& d : deps) out.push_back(WarmUpOne(d, o));
  return out;
}

}  // namespace prescient::exec
