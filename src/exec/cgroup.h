// The cgroup layer of the execution core: create a control group per run, set and change its
// limits, read its statistics, find groups left by an earlier process (crash recovery), destroy it.
// Two implementations are chosen at start-up by what is mounted (DetectCgroups): cgroup v2 (the
// unified hierarchy with the memory and cpu controllers enabled) or cgroup v1 with one hierarchy
// per controller (memory, cpu, cpuacct, blkio, and pids when present). Everything else in src/exec
// talks to the abstract CgroupManager/Cgroup so the agent's logic can be tested with fakes.
//
// Thread-safety: a Cgroup handle may be used from several threads (each call is a few file
// reads/writes; the kernel serialises them). CgroupManager is thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace prescient::exec {

enum class CgroupVersion { kV1, kV2 };
const char* CgroupVersionName(CgroupVersion v);

// A per-device IO limit ("major:minor" as in /proc/partitions; 0 = unlimited for that field).
struct IoDeviceLimit {
  std::string device;  // "8:0"
  uint64_t read_bps = 0;
  uint64_t write_bps = 0;
  uint64_t read_iops = 0;
  uint64_t write_iops = 0;
};

// Limits to apply; a field left empty is not touched (so a live change can update one resource).
struct CgroupLimits {
  std::optional<double> cpu_cores{};         // <= 0 means "no limit" (v1 quota -1, v2 "max")
  std::optional<int64_t> memory_bytes{};     // <= 0 means "no limit"; swap is forbidden when set
  std::optional<uint32_t> io_weight{};       // 1..10000 (v2 scale, default 100); v1: CFQ blkio.weight ×5, BFQ blkio.bfq.weight as is
  std::vector<IoDeviceLimit> io_devices{};   // applied when non-empty
  std::optional<int64_t> pids_max{};         // <= 0 means "max"
  // Relative CPU weight under contention, v2 scale 1..10000 (default 100); v1 cpu.shares =
  // weight × 1024 / 100.
  std::optional<uint32_t> cpu_weight{};
  // Priority (skb->priority, 0..15; e.g. 1 bulk, 0 best effort, 6 interactive) of the traffic of
  // the group's sockets on every interface: v1 net_prio.ifpriomap. cgroup v2 has no equivalent.
  std::optional<uint32_t> net_priority{};
};

// One reading of a group's counters. A value the kernel does not offer stays empty.
struct CgroupStats {
  uint64_t cpu_usage_ns = 0;        // total CPU time of all tasks (v1 cpuacct.usage, v2 usage_usec)
  uint64_t cpu_nr_periods = 0;
  uint64_t cpu_nr_throttled = 0;
  uint64_t cpu_throttled_ns = 0;
  int64_t memory_current = 0;       // v1 usage_in_bytes, v2 memory.current (incl. page cache)
  std::optional<int64_t> memory_peak;  // kernel-tracked peak incl. page cache (v1 max_usage, v2 memory.peak)
  int64_t memory_anon = 0;          // anonymous + swap cache (v1 total_rss, v2 anon)
  int64_t memory_file = 0;          // page cache (v1 total_cache, v2 file)
  int64_t memory_shmem = 0;         // tmpfs/shared memory: counted as cache, but not reclaimable w/o swap
  int64_t memory_inactive_file = 0;
  uint64_t oom_kills = 0;           // processes killed by the OOM killer in this group
  uint64_t io_read_bytes = 0;       // block-layer bytes (v1 blkio.throttle, v2 io.stat)
  uint64_t io_write_bytes = 0;      // on v1, buffered writeback is charged to the flusher, not here
};

// A handle to one control group (one directory per hierarchy on v1, one on v2).
class Cgroup {
 public:
  virtual ~Cgroup() = default;
  // Name relative to the manager's root, e.g. "prescient/run-42".
  virtual const std::string& name() const = 0;
  virtual CgroupVersion version() const = 0;
  virtual Status SetLimits(const CgroupLimits& limits) = 0;
  // The limits in `limits` this group cannot enforce (a controller or file missing on this
  // kernel), one sentence each; SetLimits skips them silently, so callers report these.
  virtual std::vector<std::string> Unenforceable(const CgroupLimits& limits) const = 0;
  // The CPU and memory limits in force (cpu_cores/memory_bytes set to 0 when unlimited), e.g. to
  // recover a run's allocation after an agent restart.
  virtual Result<CgroupLimits> ReadLimits() = 0;
  virtual Result<CgroupStats> ReadStats() = 0;
  virtual Status AddProcess(pid_t pid) = 0;
  // Pids in the group (every hierarchy agrees after AddProcess; the memory or unified one is read).
  virtual Result<std::vector<pid_t>> Pids() = 0;
  // Sends `sig` to every process in the group (best effort: processes may exit meanwhile).
  virtual Status KillAll(int sig) = 0;
  // The cgroup.procs files a freshly forked child writes its pid to before exec, so that none of
  // its resource use escapes accounting. Absolute paths, one per hierarchy.
  virtual std::vector<std::string> ProcsFiles() const = 0;
  // Removes the group's directories. Fails with a clear message while processes remain.
  virtual Status Destroy() = 0;
  // Ends the group for good: SIGKILL to every process in it, in every hierarchy (cgroup.kill on
  // v2), a wait until no hierarchy lists one (a killed process leaves its groups only once it has
  // finished exiting), then rmdir in every hierarchy, retrying while the kernel still calls one
  // busy. All bounded by `deadline`; the error names the hierarchy and the pids still there.
  virtual Status KillAndRemove(std::chrono::milliseconds deadline);
};

struct CgroupOptions {
  std::string mount_root = "/sys/fs/cgroup";  // where the hierarchies are mounted
  // Force a version instead of detecting (tests); empty = detect.
  std::optional<CgroupVersion> force_version;
};

class CgroupManager {
 public:
  virtual ~CgroupManager() = default;
  virtual CgroupVersion version() const = 0;
  // Creates the group (and missing parents, enabling the needed controllers on v2). Creating a
  // group that exists is an AlreadyExists error: a run id is never reused.
  virtual Result<std::unique_ptr<Cgroup>> Create(const std::string& name) = 0;
  // Opens an existing group (crash recovery). NotFound when it does not exist.
  virtual Result<std::unique_ptr<Cgroup>> Open(const std::string& name) = 0;
  // Renames a group within its parent (cgroup v1 only: the kernel refuses renames on v2, where this
  // returns Unsupported). Used to turn a prepared spare group, whose processes already joined it,
  // into a run's group without migrating anything. On a partial failure the renamed hierarchies
  // are moved back.
  virtual Status Rename(const std::string& from, const std::string& to) {
    (void)from;
    (void)to;
    return Status(Code::kUnsupported, "renaming cgroups is not supported here");
  }
  // Names (relative to the root, "parent/child") of the direct child groups of `parent`.
  virtual Result<std::vector<std::string>> List(const std::string& parent) = 0;
  // A one-line description for logs: version and the hierarchies in use.
  virtual std::string Describe() const = 0;
};

// Chooses v2 when the unified hierarchy at mount_root has the memory and cpu controllers,
// else v1 when the memory, cpu and cpuacct hierarchies are mounted under mount_root/<controller>;
// Unavailable otherwise (with what was found).
Result<std::unique_ptr<CgroupManager>> DetectCgroups(const CgroupOptions& options = {});

// ---- Pure parsers of cgroup files (unit-tested with fixture strings) ----

// "key value\n" files (memory.stat, cpu.stat, memory.events, memory.oom_control). Later keys win.
std::vector<std::pair<std::string, int64_t>> ParseFlatKeyed(const std::string& text);
// Looks a key up in ParseFlatKeyed output.
std::optional<int64_t> FlatValue(const std::vector<std::pair<std::string, int64_t>>& kv,
                                 const std::string& key);
// v1 blkio.throttle.io_service_bytes: "8:0 Read 123\n8:0 Write 4\n...Total 127". Sums all devices.
void ParseBlkioServiceBytes(const std::string& text, uint64_t* read, uint64_t* write);
// v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 ...". Sums all devices.
void ParseIoStat(const std::string& text, uint64_t* read, uint64_t* write);
// v2 cpu.max "max 100000" / "50000 100000" → cores (nullopt for "max"). False on malformed text.
bool ParseCpuMax(const std::string& text, std::optional<double>* cores);
// cgroup.procs: one pid per line.
std::vector<pid_t> ParsePidList(const std::string& text);
// /proc/<pid>/cgroup lines "N:ctrl,ctrl:/path" (v1) and "0::/path" (v2) → controller → path
// ("" key for the v2 line).
std::vector<std::pair<std::string, std::string>> ParseProcCgroup(const std::string& text);

}  // namespace prescient::exec
