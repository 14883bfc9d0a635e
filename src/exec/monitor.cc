#include "exec/monitor.h"

#include <algorithm>
#include <unordered_map>

namespace prescient::exec {

namespace {
double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }
}  // namespace

Monitor::Monitor(Cgroup* cgroup, ProcFs* proc, MonitorOptions options)
    : cgroup_(cgroup), proc_(proc), options_(options) {}

void Monitor::Start(TimePoint now) {
  start_ = now;
  last_ = now;
  prev_window_start_ = now;
  if (auto st = cgroup_->ReadStats(); st.ok()) last_cpu_ns_ = st->cpu_usage_ns;
  prev_window_cpu_ns_ = last_cpu_ns_;
  if (options_.track_network)
    if (auto t = proc_->Read("net/dev"); t.ok()) {
      net_start_ = ParseNetDev(*t);
      have_net_ = true;
    }
}

void Monitor::SampleProcesses(const std::vector<pid_t>& pids, UsageSample* s) {
  for (pid_t pid : pids) {
    auto t = proc_->Read(std::to_string(pid) + "/status");
    if (!t.ok()) continue;  // exited meanwhile
    ProcStatusMemory m;
    if (!ParseProcStatusMemory(*t, &m)) continue;
    s->memory_rss += m.rss_bytes;
    report_.memory_peak_sampled_hwm_bytes = std::max(report_.memory_peak_sampled_hwm_bytes, m.hwm_bytes);
    report_.memory_peak_process_hwm_bytes = std::max(report_.memory_peak_process_hwm_bytes, m.hwm_bytes);
  }
}

void Monitor::SampleEndpoints(const std::vector<pid_t>& pids) {
  std::vector<uint64_t> inodes;
  pid_t with_sockets = 0;
  for (pid_t pid : pids) {
    auto fds = proc_->FdTargets(pid);
    if (!fds.ok()) continue;
    for (const auto& target : *fds)
      if (auto ino = SocketInode(target)) {
        inodes.push_back(*ino);
        if (!with_sockets) with_sockets = pid;
      }
  }
  if (inodes.empty()) return;
  // All processes of a run share a network namespace in practice; read its tables once.
  std::unordered_map<uint64_t, std::string> remote_of;
  for (bool v6 : {false, true}) {
    auto t = proc_->Read(std::to_string(with_sockets) + (v6 ? "/net/tcp6" : "/net/tcp"));
    if (!t.ok()) continue;
    for (const auto& sock : ParseProcNetTcp(*t, v6))
      if (IsConnected(sock)) remote_of[sock.inode] = sock.remote;
  }
  for (uint64_t ino : inodes)
    if (auto it = remote_of.find(ino); it != remote_of.end()) endpoints_.insert(it->second);
}

Status Monitor::Sample(TimePoint now) {
  auto st = cgroup_->ReadStats();
  if (!st.ok()) return st.status();
  UsageSample s;
  s.t_seconds = Seconds(now - start_);
  double dt = Seconds(now - last_);
  uint64_t dcpu = st->cpu_usage_ns >= last_cpu_ns_ ? st->cpu_usage_ns - last_cpu_ns_ : 0;
  if (dt > 0) s.cpu_cores = static_cast<double>(dcpu) / 1e9 / dt;
  double peak_candidate = s.cpu_cores;
  if (dt < options_.min_window_seconds) {
    // Merge a short window with the one before it.
    double span = Seconds(now - prev_window_start_);
    uint64_t used = st->cpu_usage_ns >= prev_window_cpu_ns_ ? st->cpu_usage_ns - prev_window_cpu_ns_ : 0;
    peak_candidate = span >= options_.min_window_seconds ? static_cast<double>(used) / 1e9 / span : 0;
  }
  prev_window_start_ = last_;
  prev_window_cpu_ns_ = last_cpu_ns_;
  last_ = now;
  last_cpu_ns_ = st->cpu_usage_ns;
  s.memory_current = st->memory_current;
  last_file_bytes_ = st->memory_file;
  last_shmem_bytes_ = st->memory_shmem;
  s.memory_anon = st->memory_anon + st->memory_shmem;
  s.io_read_bytes = st->io_read_bytes;
  s.io_write_bytes = st->io_write_bytes;

  auto pids = cgroup_->Pids();
  if (pids.ok()) {
    s.processes = static_cast<int>(pids->size());
    SampleProcesses(*pids, &s);
    if (options_.track_endpoints) SampleEndpoints(*pids);
  }

  UsageReport& r = report_;
  r.duration_seconds = s.t_seconds;
  r.cpu_seconds = static_cast<double>(st->cpu_usage_ns) / 1e9;
  r.cpu_cores_peak = std::max(r.cpu_cores_peak, peak_candidate);
  r.cpu_nr_throttled = st->cpu_nr_throttled;
  r.cpu_throttled_seconds = static_cast<double>(st->cpu_throttled_ns) / 1e9;
  if (st->memory_peak) r.memory_peak_cgroup_bytes = std::max(r.memory_peak_cgroup_bytes.value_or(0), *st->memory_peak);
  r.memory_peak_anon_bytes = std::max(r.memory_peak_anon_bytes, s.memory_anon);
  r.memory_peak_rss_sum_bytes = std::max(r.memory_peak_rss_sum_bytes, s.memory_rss);
  r.cgroup_io_read_bytes = st->io_read_bytes;
  r.cgroup_io_write_bytes = st->io_write_bytes;
  r.oom_kills = st->oom_kills;
  if (have_net_)
    if (auto t = proc_->Read("net/dev"); t.ok()) {
      NetDevCounters c = ParseNetDev(*t);
      auto delta = [](uint64_t a, uint64_t b) { return a >= b ? a - b : 0; };
      r.network_external_bytes = delta(c.rx_bytes, net_start_.rx_bytes) + delta(c.tx_bytes, net_start_.tx_bytes);
      r.network_loopback_bytes = delta(c.loopback_bytes, net_start_.loopback_bytes);
      r.network_bytes = r.network_external_bytes + r.network_loopback_bytes;
    }
  // Derived values, kept current so that a report taken mid-run (status updates) is complete.
  r.memory_peak_bytes = std::max(r.memory_peak_anon_bytes, r.memory_peak_process_hwm_bytes);
  r.cpu_cores_mean = r.duration_seconds > 0 ? r.cpu_seconds / r.duration_seconds : 0;
  r.oom_killed = r.oom_kills > 0;
  r.disk_read_bytes = std::max(r.disk_read_bytes, r.cgroup_io_read_bytes);
  r.disk_write_bytes = std::max(r.disk_write_bytes, r.cgroup_io_write_bytes);
  if (r.endpoints.size() != endpoints_.size()) r.endpoints.assign(endpoints_.begin(), endpoints_.end());
  ++r.sample_count;
  if (options_.keep_samples) {
    r.samples.push_back(s);
    if (r.samples.size() > options_.max_samples) {
      // Thin the curve: keep every other sample (the peaks above are exact regardless).
      std::vector<UsageSample> thin;
      for (size_t i = 0; i < r.samples.size(); i += 2) thin.push_back(r.samples[i]);
      r.samples.swap(thin);
    }
  }
  return Status::Ok();
}

UsageReport Monitor::Finish(TimePoint now, const ExitInfo* exit) {
  Sample(now);  // a failure here leaves the report as of the previous sample
  UsageReport& r = report_;
  r.duration_seconds = Seconds(now - start_);
  if (r.sample_count > 0 && r.duration_seconds > 0) r.sample_interval_seconds = r.duration_seconds / r.sample_count;
  r.cpu_cores_mean = r.duration_seconds > 0 ? r.cpu_seconds / r.duration_seconds : 0;
  // A run shorter than one window: its only window is the whole run.
  if (r.cpu_cores_peak == 0 && r.duration_seconds > 0) r.cpu_cores_peak = r.cpu_cores_mean;
  r.disk_read_bytes = r.cgroup_io_read_bytes;
  r.disk_write_bytes = r.cgroup_io_write_bytes;
  int64_t wait4_rss = 0;
  if (exit) {
    r.exit = *exit;
    if (exit->MaxRssIsTheCommands()) wait4_rss = exit->max_rss_bytes;
    r.memory_peak_process_hwm_bytes = std::max(r.memory_peak_process_hwm_bytes, wait4_rss);
    r.disk_read_bytes = std::max(r.disk_read_bytes, exit->block_read_bytes);
    r.disk_write_bytes = std::max(r.disk_write_bytes, exit->block_write_bytes);
  }
  r.memory_peak_bytes = 0;
  r.memory_peak_source = "none";
  const std::pair<int64_t, const char*> sources[] = {{r.memory_peak_anon_bytes, "anon"},
                                                     {r.memory_peak_sampled_hwm_bytes, "process_hwm"},
                                                     {wait4_rss, "wait4_maxrss"}};
  for (const auto& [v, name] : sources)
    if (v > r.memory_peak_bytes) {
      r.memory_peak_bytes = v;
      r.memory_peak_source = name;
    }
  // A run shorter than a few samples may peak unseen. The kernel's group peak is exact but counts
  // page cache; the cache still charged at the end bounds the cache at the peak (a short run
  // reclaims nothing), so the group peak minus the final reclaimable cache is its non-cache peak.
  // (Few samples counts as short too: on a starved machine the sampler itself runs late.)
  if ((r.duration_seconds < options_.short_run_seconds || r.sample_count <= 3) && r.memory_peak_cgroup_bytes) {
    int64_t reclaimable = std::max<int64_t>(0, last_file_bytes_ - last_shmem_bytes_);
    int64_t non_cache = *r.memory_peak_cgroup_bytes - reclaimable;
    if (non_cache > r.memory_peak_bytes) {
      r.memory_peak_bytes = non_cache;
      r.memory_peak_source = "cgroup_peak_minus_cache";
    }
  }
  // Still nothing (all of it was cache): the group peak is the only upper bound there is.
  if (r.memory_peak_bytes == 0 && r.memory_peak_cgroup_bytes && *r.memory_peak_cgroup_bytes > 0) {
    r.memory_peak_bytes = *r.memory_peak_cgroup_bytes;
    r.memory_peak_source = "cgroup_peak";
  }
  r.oom_killed = r.oom_kills > 0;
  r.endpoints.assign(endpoints_.begin(), endpoints_.end());
  return r;
}

}  // namespace prescient::exec
