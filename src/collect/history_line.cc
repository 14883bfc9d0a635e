#include "collect/history_line.h"

#include <cmath>

namespace prescient::collect {

namespace {
// Rounds to a sensible number of digits so the corpus stays small and readable.
double Round(double v, double unit) {
  double scale = std::round(1 / unit);
  return std::round(v * scale) / scale;
}
}  // namespace

nlohmann::json HistoryLine(const RunContext& ctx, const exec::UsageReport& u) {
  nlohmann::json j;
  j["time"] = ctx.time;
  j["command"] = ctx.command;
  if (!ctx.user.empty()) j["user"] = ctx.user;
  nlohmann::json c = nlohmann::json::object();
  if (ctx.vm_cpus) c["vm_cpus"] = *ctx.vm_cpus;
  if (ctx.vm_memory_bytes) c["vm_memory_bytes"] = *ctx.vm_memory_bytes;
  if (ctx.input_bytes) c["input_bytes"] = *ctx.input_bytes;
  if (ctx.requested_cpus) c["requested_cpus"] = *ctx.requested_cpus;
  if (ctx.requested_memory_bytes) c["requested_memory_bytes"] = *ctx.requested_memory_bytes;
  if (ctx.load_avg_1m) c["load_avg_1m"] = *ctx.load_avg_1m;
  j["context"] = c;

  nlohmann::json s;
  s["cpu_cores_peak"] = Round(u.cpu_cores_peak, 0.001);
  s["cpu_cores_mean"] = Round(u.cpu_cores_mean, 0.001);
  s["cpu_seconds"] = Round(u.cpu_seconds, 0.0001);
  if (ctx.requested_cpus) {
    s["cpu_throttled_seconds"] = Round(u.cpu_throttled_seconds, 0.0001);
    s["cpu_nr_throttled"] = u.cpu_nr_throttled;
  }
  s["memory_peak_bytes"] = u.memory_peak_bytes;
  s["memory_peak_kind"] = u.memory_peak_kind;
  s["memory_peak_source"] = u.memory_peak_source;
  s["memory_peak_anon_bytes"] = u.memory_peak_anon_bytes;
  s["memory_peak_process_hwm_bytes"] = u.memory_peak_process_hwm_bytes;
  s["memory_peak_rss_sum_bytes"] = u.memory_peak_rss_sum_bytes;
  if (u.memory_peak_cgroup_bytes) s["memory_peak_cgroup_bytes"] = *u.memory_peak_cgroup_bytes;
  s["disk_read_bytes"] = u.disk_read_bytes;
  s["disk_write_bytes"] = u.disk_write_bytes;
  s["network_bytes"] = u.network_bytes;
  s["network_loopback_bytes"] = u.network_loopback_bytes;
  s["network_scope"] = u.network_scope;
  s["duration_seconds"] = Round(u.duration_seconds, 0.0001);
  if (u.exit) {
    if (u.exit->exited) s["exit_code"] = u.exit->exit_code;
    else s["signal"] = u.exit->signal;
  }
  s["oom_killed"] = u.oom_killed;
  if (u.timed_out) s["timed_out"] = true;
  s["sample_count"] = u.sample_count;
  j["usage"] = s;
  j["endpoints"] = u.endpoints;
  return j;
}

}  // namespace prescient::collect
