#include "exec/procfs.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "exec/fileio.h"

namespace prescient::exec {

namespace {

class RealProcFs : public ProcFs {
 public:
  explicit RealProcFs(std::string root) : root_(std::move(root)) {}
  Result<std::string> Read(const std::string& rel) override { return ReadTextFile(root_ + "/" + rel); }
  Result<std::vector<std::string>> FdTargets(pid_t pid) override {
    std::string dir = root_ + "/" + std::to_string(pid) + "/fd";
    DIR* d = ::opendir(dir.c_str());
    if (!d) return Status(errno == ENOENT ? Code::kNotFound : Code::kInternal, ErrnoText("opendir " + dir, errno));
    std::vector<std::string> out;
    char buf[512];
    while (struct dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::string p = dir + "/" + e->d_name;
      ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
      if (n <= 0) continue;  // the descriptor closed meanwhile
      out.emplace_back(buf, static_cast<size_t>(n));
    }
    ::closedir(d);
    return out;
  }

 private:
  std::string root_;
};

int HexNibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "0100007F:1F90" (v4) or 32 hex digits + ":port" (v6) → "127.0.0.1:8080" / "[::1]:8080".
bool DecodeAddress(const std::string& text, bool v6, std::string* out) {
  auto colon = text.find(':');
  if (colon == std::string::npos) return false;
  std::string addr = text.substr(0, colon);
  std::string port_hex = text.substr(colon + 1);
  char* end = nullptr;
  unsigned long port = std::strtoul(port_hex.c_str(), &end, 16);
  if (end == port_hex.c_str() || *end != '\0' || port > 65535) return false;
  size_t want = v6 ? 32 : 8;
  if (addr.size() != want) return false;
  unsigned char bytes[16];
  // The kernel prints each 32-bit word in host order (little-endian here): reverse bytes per word.
  for (size_t w = 0; w < want / 8; ++w) {
    for (int b = 0; b < 4; ++b) {
      int hi = HexNibble(addr[w * 8 + b * 2]), lo = HexNibble(addr[w * 8 + b * 2 + 1]);
      if (hi < 0 || lo < 0) return false;
      unsigned char byte = static_cast<unsigned char>(hi * 16 + lo);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      bytes[w * 4 + (3 - b)] = byte;
#else
      bytes[w * 4 + b] = byte;
#endif
    }
  }
  char host[INET6_ADDRSTRLEN];
  if (!v6) {
    if (!inet_ntop(AF_INET, bytes, host, sizeof host)) return false;
    *out = std::string(host) + ":" + std::to_string(port);
    return true;
  }
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes, kMapped, 12) == 0) {  // IPv4-mapped: show as plain IPv4
    if (!inet_ntop(AF_INET, bytes + 12, host, sizeof host)) return false;
    *out = std::string(host) + ":" + std::to_string(port);
    return true;
  }
  if (!inet_ntop(AF_INET6, bytes, host, sizeof host)) return false;
  *out = "[" + std::string(host) + "]:" + std::to_string(port);
  return true;
}

}  // namespace

std::unique_ptr<ProcFs> NewRealProcFs(std::string root) { return std::make_unique<RealProcFs>(std::move(root)); }

std::vector<TcpSocket> ParseProcNetTcp(const std::string& text, bool v6) {
  std::vector<TcpSocket> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string sl, local, remote, st, queues, timer, retr, uid, timeout, inode;
    if (!(ls >> sl >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >> inode)) continue;
    if (sl.empty() || sl.back() != ':') continue;  // header line
    TcpSocket s;
    if (!DecodeAddress(local, v6, &s.local) || !DecodeAddress(remote, v6, &s.remote)) continue;
    char* end = nullptr;
    s.state = static_cast<int>(std::strtol(st.c_str(), &end, 16));
    if (end == st.c_str()) continue;
    s.inode = std::strtoull(inode.c_str(), &end, 10);
    if (end == inode.c_str()) continue;
    out.push_back(std::move(s));
  }
  return out;
}

bool IsConnected(const TcpSocket& s) {
  if (s.state == 10) return false;  // LISTEN
  auto colon = s.remote.rfind(':');
  return colon != std::string::npos && s.remote.substr(colon + 1) != "0";
}

std::optional<uint64_t> SocketInode(const std::string& t) {
  static const char kPrefix[] = "socket:[";
  if (t.rfind(kPrefix, 0) != 0 || t.back() != ']') return std::nullopt;
  std::string digits = t.substr(sizeof kPrefix - 1, t.size() - sizeof kPrefix);
  if (digits.empty()) return std::nullopt;
  char* end = nullptr;
  uint64_t v = std::strtoull(digits.c_str(), &end, 10);
  if (*end != '\0') return std::nullopt;
  return v;
}

NetDevCounters ParseNetDev(const std::string& text) {
  NetDevCounters c;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    std::istringstream ls(line.substr(colon + 1));
    uint64_t f[16] = {};
    int n = 0;
    while (n < 16 && (ls >> f[n])) ++n;
    if (n < 9) continue;  // header lines have no numbers
    if (name == "lo") {
      c.loopback_bytes += f[0];
    } else {
      c.rx_bytes += f[0];
      c.tx_bytes += f[8];
    }
  }
  return c;
}

bool ParseProcStatusMemory(const std::string& text, ProcStatusMemory* out) {
  std::istringstream in(text);
  std::string line;
  bool rss = false;
  while (std::getline(in, line)) {
    long long kb = 0;
    if (std::sscanf(line.c_str(), "VmRSS: %lld kB", &kb) == 1) {
      out->rss_bytes = kb * 1024;
      rss = true;
    } else if (std::sscanf(line.c_str(), "VmHWM: %lld kB", &kb) == 1) {
      out->hwm_bytes = kb * 1024;
    }
  }
  return rss;
}

}  // namespace prescient::exec
