#include "model/resource_profile.h"

namespace prescient::model {

const char* SourceName(PredictionSource s) {
  switch (s) {
    case PredictionSource::kModel: return "model";
    case PredictionSource::kHistory: return "history";
    case PredictionSource::kDefault: return "default";
  }
  return "unknown";
}

double ResourceProfile::Get(int t) const {
  switch (t) {
    case analysis::kCpuCores: return cpu_cores;
    case analysis::kMemoryBytes: return memory_bytes;
    case analysis::kDiskReadBps: return disk_read_bps;
    case analysis::kDiskWriteBps: return disk_write_bps;
    case analysis::kNetworkBps: return network_bps;
    case analysis::kDurationSeconds: return duration_seconds;
  }
  return 0;
}

void ResourceProfile::Set(int t, double v) {
  switch (t) {
    case analysis::kCpuCores: cpu_cores = v; break;
    case analysis::kMemoryBytes: memory_bytes = v; break;
    case analysis::kDiskReadBps: disk_read_bps = v; break;
    case analysis::kDiskWriteBps: disk_write_bps = v; break;
    case analysis::kNetworkBps: network_bps = v; break;
    case analysis::kDurationSeconds: duration_seconds = v; break;
  }
}

double DefaultResources::Get(int t) const {
  switch (t) {
    case analysis::kCpuCores: return cpu_cores;
    case analysis::kMemoryBytes: return memory_bytes;
    case analysis::kDiskReadBps: return disk_read_bps;
    case analysis::kDiskWriteBps: return disk_write_bps;
    case analysis::kNetworkBps: return network_bps;
    case analysis::kDurationSeconds: return duration_seconds;
  }
  return 0;
}

}  // namespace prescient::model
