#include "health_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace prescient::op {

Status HealthServer::Start(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return InvalidArgument("health probe address \"" + address + "\": expected host:port or :port");
  std::string host = address.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(address.substr(colon + 1));
  } catch (...) {
    return InvalidArgument("health probe address \"" + address + "\": bad port");
  }
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return InternalError(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = host.empty() || host == "0.0.0.0" ? INADDR_ANY : ::inet_addr(host.c_str());
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return InternalError("bind health probe address " + address + ": " + std::strerror(errno));
  }
  if (::listen(fd_, 16) != 0) return InternalError(std::string("listen: ") + std::strerror(errno));
  socklen_t len = sizeof(addr);
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
  return Status::Ok();
}

void HealthServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void HealthServer::Serve() {
  while (!stopping_.load()) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    char buf[2048];
    pollfd pc{c, POLLIN, 0};
    ssize_t n = ::poll(&pc, 1, 1000) > 0 ? ::read(c, buf, sizeof(buf) - 1) : 0;
    std::string req(buf, n > 0 ? static_cast<size_t>(n) : 0);
    std::string path;
    size_t sp = req.find(' ');
    if (sp != std::string::npos) path = req.substr(sp + 1, req.find(' ', sp + 1) - sp - 1);
    int code = 404;
    std::string body = "not found\n";
    if (path == "/healthz" || path.rfind("/healthz?", 0) == 0) {
      bool ok = healthy_ ? healthy_() : true;
      code = ok ? 200 : 500;
      body = ok ? "ok\n" : "unhealthy\n";
    } else if (path == "/readyz" || path.rfind("/readyz?", 0) == 0) {
      bool ok = ready_ ? ready_() : true;
      code = ok ? 200 : 503;
      body = ok ? "ok\n" : "caches not synced\n";
    }
    std::string resp = "HTTP/1.1 " + std::to_string(code) + (code == 200 ? " OK" : " Error") +
                       "\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body;
    ssize_t w = ::write(c, resp.data(), resp.size());
    (void)w;
    ::close(c);
  }
}

}  // namespace prescient::op
