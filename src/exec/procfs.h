// Reading /proc for the monitor: per-process memory high-water marks, socket inodes behind file
// descriptors, TCP connection tables and whole-guest network counters. ProcFs is the Env-style
// seam (tests pass a fake with fixture text); the parsers are pure functions.
// Thread-safety: RealProcFs is stateless and thread-safe; parsers are pure.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace prescient::exec {

class ProcFs {
 public:
  virtual ~ProcFs() = default;
  // Reads a file relative to the proc root: "net/dev", "1234/status", "1234/net/tcp6".
  virtual Result<std::string> Read(const std::string& relative) = 0;
  // readlink() of every entry of /proc/<pid>/fd ("socket:[123]", "/var/log/x", "pipe:[9]").
  virtual Result<std::vector<std::string>> FdTargets(pid_t pid) = 0;
};

// The real /proc (or another mount of procfs for tests).
std::unique_ptr<ProcFs> NewRealProcFs(std::string root = "/proc");

struct TcpSocket {
  uint64_t inode = 0;
  std::string local;   // "127.0.0.1:8080", "[::1]:443"
  std::string remote;
  int state = 0;       // kernel TCP state: 1 ESTABLISHED, 2 SYN_SENT, 10 LISTEN, ...
};
// Parses /proc/<pid>/net/tcp (v6 = false) or tcp6 (v6 = true). Malformed lines are skipped.
std::vector<TcpSocket> ParseProcNetTcp(const std::string& text, bool v6);
// True for sockets that represent an outgoing or accepted connection (not LISTEN, remote set).
bool IsConnected(const TcpSocket& s);

// "socket:[12345]" → 12345; nullopt for anything else.
std::optional<uint64_t> SocketInode(const std::string& fd_target);

struct NetDevCounters {
  uint64_t rx_bytes = 0;        // all interfaces except lo
  uint64_t tx_bytes = 0;
  uint64_t loopback_bytes = 0;  // lo receive bytes (each loopback byte is sent and received once)
};
// Parses /proc/net/dev.
NetDevCounters ParseNetDev(const std::string& text);

struct ProcStatusMemory {
  int64_t rss_bytes = 0;   // VmRSS
  int64_t hwm_bytes = 0;   // VmHWM: the kernel's peak RSS of this process (what GNU time reports)
};
// Parses /proc/<pid>/status (kB fields). False when VmRSS is absent (kernel threads, zombies).
bool ParseProcStatusMemory(const std::string& text, ProcStatusMemory* out);

}  // namespace prescient::exec
