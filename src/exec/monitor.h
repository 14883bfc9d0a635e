// The usage monitor: samples one run's cgroup and processes at an interval and folds the samples
// into a UsageReport (peaks, totals, the usage curve, the remote endpoints it connected to). The
// same code measures the agent's runs and the training corpus (`prescient collect`).
//
// Which number is which:
//  - memory_peak_bytes is the measure that decides an OOM kill, named by memory_peak_kind
//    ("anon_or_process_hwm"): the larger of (a) the sampled peak of the group's anonymous plus
//    shared memory (v1 total_rss + total_shmem, v2 anon + shmem) — what cannot be reclaimed
//    without swap — and (b) the largest single-process resident high-water mark (VmHWM sampled
//    from /proc, and ru_maxrss from wait4, the number GNU time reports — used only when it is
//    above the launcher's own RSS at fork, which the kernel counts in it too). Page cache is
//    excluded: the kernel reclaims it before it OOM-kills. A run shorter than short_run_seconds
//    may peak between samples, so it also considers the kernel's group peak minus the page cache
//    still charged at its end. memory_peak_source says which measure decided.
//  - memory_peak_cgroup_bytes is the kernel's own peak of the group including page cache
//    (v1 memory.max_usage_in_bytes, v2 memory.peak); it overstates need for IO-heavy commands.
//  - network bytes are whole-guest /proc/net/dev deltas (network_scope "guest"): cgroups do not
//    count network bytes, so concurrent traffic on the machine is included.
//  - endpoints are sampled: a connection opened and closed between two samples is missed.
//
// Thread-safety: a Monitor is used from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "exec/cgroup.h"
#include "exec/process.h"
#include "exec/procfs.h"

namespace prescient::exec {

struct UsageSample {
  double t_seconds = 0;          // since the start
  double cpu_cores = 0;          // average cores over the interval that ended here
  int64_t memory_current = 0;    // cgroup, incl. page cache
  int64_t memory_anon = 0;       // anon + shmem
  int64_t memory_rss = 0;        // sum of the processes' VmRSS
  uint64_t io_read_bytes = 0;    // cumulative
  uint64_t io_write_bytes = 0;
  int processes = 0;
};

struct UsageReport {
  double duration_seconds = 0;
  double sample_interval_seconds = 0;
  int sample_count = 0;
  // CPU.
  double cpu_seconds = 0;
  double cpu_cores_peak = 0;     // max over sampling windows
  double cpu_cores_mean = 0;     // cpu_seconds / duration
  uint64_t cpu_nr_throttled = 0;
  double cpu_throttled_seconds = 0;
  // Memory (see the file comment).
  int64_t memory_peak_bytes = 0;
  std::string memory_peak_kind = "anon_or_process_hwm";
  // Which measure gave memory_peak_bytes: "anon", "process_hwm" (sampled VmHWM), "wait4_maxrss",
  // "cgroup_peak_minus_cache" (short runs), "cgroup_peak" (only cache seen) or "none".
  std::string memory_peak_source = "none";
  std::optional<int64_t> memory_peak_cgroup_bytes;
  int64_t memory_peak_anon_bytes = 0;       // sampled anon + shmem
  int64_t memory_peak_process_hwm_bytes = 0;  // largest single-process peak RSS (sampled or wait4)
  int64_t memory_peak_sampled_hwm_bytes = 0;  // largest VmHWM seen in the samples
  int64_t memory_peak_rss_sum_bytes = 0;    // sampled sum of RSS over the group's processes
  // Disk: the larger of the cgroup's block-IO counters and the processes' own storage IO (wait4
  // ru_inblock/ru_oublock; on v1 the cgroup misses buffered writeback).
  uint64_t disk_read_bytes = 0;
  uint64_t disk_write_bytes = 0;
  uint64_t cgroup_io_read_bytes = 0;
  uint64_t cgroup_io_write_bytes = 0;
  // Network: whole guest.
  uint64_t network_bytes = 0;          // external rx + tx + loopback bytes
  uint64_t network_external_bytes = 0;
  uint64_t network_loopback_bytes = 0;
  std::string network_scope = "guest";
  // Outcome.
  std::optional<ExitInfo> exit;        // empty when unknown (a reattached run)
  uint64_t oom_kills = 0;
  bool oom_killed = false;
  bool timed_out = false;
  bool cancelled = false;
  std::vector<std::string> endpoints;  // sorted, unique "host:port"
  std::vector<UsageSample> samples;
  uint64_t output_bytes = 0;
  std::string output_tail;
};

struct MonitorOptions {
  bool keep_samples = true;
  size_t max_samples = 3600;   // beyond this the curve is thinned (every other sample dropped)
  bool track_endpoints = true;
  bool track_network = true;
  // CPU windows shorter than this (the tail end of a run) are merged with the previous window
  // before they count towards cpu_cores_peak: usage counters lag by up to a scheduler tick.
  double min_window_seconds = 0.05;
  // Runs shorter than this may peak between samples: their peak also considers the kernel's
  // group peak less the page cache still charged at the end.
  double short_run_seconds = 0.1;
};

class Monitor {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  Monitor(Cgroup* cgroup, ProcFs* proc, MonitorOptions options = {});
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Baseline reading at the start of the run.
  void Start(TimePoint now);
  // One sample. Errors reading a vanished process are ignored; a failing cgroup read is returned.
  Status Sample(TimePoint now);
  // The report so far (valid after Start).
  const UsageReport& report() const { return report_; }
  // Takes the last sample and completes the report with the exit information (nullptr: unknown).
  UsageReport Finish(TimePoint now, const ExitInfo* exit);

 private:
  void SampleProcesses(const std::vector<pid_t>& pids, UsageSample* s);
  void SampleEndpoints(const std::vector<pid_t>& pids);

  Cgroup* cgroup_;
  ProcFs* proc_;
  MonitorOptions options_;
  TimePoint start_{};
  TimePoint last_{};
  uint64_t last_cpu_ns_ = 0;
  TimePoint prev_window_start_{};
  uint64_t prev_window_cpu_ns_ = 0;
  int64_t last_file_bytes_ = 0;
  int64_t last_shmem_bytes_ = 0;
  NetDevCounters net_start_{};
  bool have_net_ = false;
  std::set<std::string> endpoints_;
  UsageReport report_;
};

}  // namespace prescient::exec
