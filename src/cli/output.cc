#include "cli/output.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

#include "analysis/history.h"
#include "common/quantity.h"

namespace prescient::cli {
namespace {

using nlohmann::json;
constexpr const char* kMethods[] = {"prescient", "static", "max-seen", "vpa", "tovar"};

std::string Fmt(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string Rate(double bps) { return HumanBytes(bps) + "/s"; }

}  // namespace

json ProfileToJson(const model::ResourceProfile& p) {
  json deps = json::array();
  for (const auto& d : p.dependencies) {
    deps.push_back({{"kind", d.kind}, {"host", d.host}, {"port", d.port}, {"endpoint", d.Endpoint()}, {"source", d.source}});
  }
  json sources = json::object(), quantiles = json::object();
  for (int t = 0; t < analysis::kNumTargets; ++t) {
    sources[analysis::TargetName(t)] = model::SourceName(p.target_source[static_cast<size_t>(t)]);
    quantiles[analysis::TargetName(t)] = p.quantile[t];
  }
  json j = {
      {"cpu_cores", p.cpu_cores},
      {"memory_bytes", std::llround(p.memory_bytes)},
      {"disk_read_bps", p.disk_read_bps},
      {"disk_write_bps", p.disk_write_bps},
      {"network_bps", p.network_bps},
      {"duration_seconds", p.duration_seconds},
      {"disk_read_bytes", p.disk_read_bytes},
      {"disk_write_bytes", p.disk_write_bytes},
      {"network_bytes", p.network_bytes},
      {"dependencies", deps},
      {"quantile", quantiles},
      {"source", model::SourceName(p.source)},
      {"source_detail", p.source_detail},
      {"target_source", sources},
      {"model_version", p.model_version},
      {"signature", p.signature},
      {"history_runs", p.history_runs},
  };
  if (!p.contributions.empty()) {
    json c = json::array();
    for (const auto& f : p.contributions) {
      c.push_back({{"target", analysis::TargetName(f.target)},
                   {"feature", f.feature},
                   {"value", std::isnan(f.value) ? json(nullptr) : json(f.value)},
                   {"contribution_log", f.contribution}});
    }
    j["contributions"] = c;
  }
  return j;
}

std::string ProfileTable(const model::ResourceProfile& p) {
  std::string out;
  auto row = [&](int t, const std::string& label, const std::string& value) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%-18s %-16s q%.2f  %s\n", label.c_str(), value.c_str(), p.quantile[t],
                  model::SourceName(p.target_source[static_cast<size_t>(t)]));
    out += buf;
  };
  out += "command signature: " + p.signature + "\n";
  out += "source: " + std::string(model::SourceName(p.source)) + (p.source_detail.empty() ? "" : " (" + p.source_detail + ")") +
         ", past runs of this signature: " + std::to_string(p.history_runs) + "\n\n";
  out += "resource           upper bound      quantile source\n";
  row(analysis::kCpuCores, "cpu", Fmt("%.2f cores", p.cpu_cores));
  row(analysis::kMemoryBytes, "memory", HumanBytes(p.memory_bytes));
  row(analysis::kDiskReadBps, "disk read", Rate(p.disk_read_bps));
  row(analysis::kDiskWriteBps, "disk write", Rate(p.disk_write_bps));
  row(analysis::kNetworkBps, "network", Rate(p.network_bps));
  row(analysis::kDurationSeconds, "duration", Fmt("%.2f s", p.duration_seconds));
  out += "\ndependencies:";
  if (p.dependencies.empty()) out += " none";
  out += "\n";
  for (const auto& d : p.dependencies) out += "  " + d.kind + " " + d.Endpoint() + " (" + d.source + ")\n";
  if (!p.contributions.empty()) {
    out += "\ntop features (contribution to log1p of the bound; + raises it):\n";
    int last = -1;
    for (const auto& f : p.contributions) {
      if (f.target != last) {
        out += std::string("  ") + analysis::TargetName(f.target) + ":\n";
        last = f.target;
      }
      char buf[256];
      std::snprintf(buf, sizeof buf, "    %-40s value %-12s %+.3f\n", f.feature.c_str(),
                    std::isnan(f.value) ? "missing" : Fmt("%.4g", f.value).c_str(), f.contribution);
      out += buf;
    }
  }
  return out;
}

json ReportToJson(const model::EvaluationReport& r) {
  json results = json::array();
  for (const auto& m : r.results) {
    if (m.metrics.n == 0) continue;
    const auto& x = m.metrics;
    results.push_back({{"method", m.method},
                       {"group", m.group},
                       {"target", analysis::TargetName(m.target)},
                       {"runs", x.n},
                       {"under_allocation_rate", x.under_rate},
                       {"coverage", x.coverage},
                       {"median_slack", x.median_slack},
                       {"mean_slack", x.mean_slack},
                       {"waste_unit_seconds", x.waste_unit_seconds},
                       {"pinball_log", x.pinball_log},
                       {"off_by_2x", x.off_by_2x}});
  }
  json q = json::object();
  for (int t = 0; t < analysis::kNumTargets; ++t) q[analysis::TargetName(t)] = r.quantiles[t];
  return {{"model_version", r.model_version}, {"split_time", r.split_time}, {"history_rows", r.history_rows},
          {"train_rows", r.train_rows},       {"test_rows", r.test_rows},   {"seen_rows", r.seen_rows},
          {"unseen_rows", r.unseen_rows},     {"quantiles", q},             {"results", results}};
}

Status WritePlot(const model::EvaluationReport& r, const std::string& png_path) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    return Status(Code::kUnavailable, "gnuplot is not installed (hack/install-deps.sh installs gnuplot-nox); cannot write " + png_path);
  }
  char tmpl[] = "/tmp/prescient-plot-XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd < 0) return InternalError("cannot create a temporary file for the plot script");
  close(fd);
  const std::string script_path = tmpl;
  std::ofstream s(script_path);
  s << "set terminal png size 1200,520 font ',10'\nset output '" << png_path << "'\n"
    << "set multiplot layout 1,2 title 'Memory allocation on held-out runs (" << r.test_rows << " runs after "
    << r.split_time << ")'\n"
    << "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
    << "set boxwidth 0.9\nset grid ytics\nset key top left\nset xtics nomirror\nset yrange [0:*]\n";
  auto block = [&](const char* title, const char* ylabel, bool slack) {
    s << "set title '" << title << "'\nset ylabel '" << ylabel << "'\n"
      << "plot '-' using 2:xtic(1) title 'seen', '' using 2 title 'unseen'\n";
    for (int pass = 0; pass < 2; ++pass) {
      for (const char* m : kMethods) {
        const auto* res = r.Find(m, pass == 0 ? "seen" : "unseen", analysis::kMemoryBytes);
        if (!res) continue;
        const double v = res->metrics.n == 0 ? 0 : 100 * (slack ? res->metrics.median_slack : res->metrics.under_rate);
        s << m << " " << v << "\n";
      }
      s << "e\n";
    }
  };
  block("Under-allocation (actual > allocated), lower is better", "% of runs", false);
  block("Median slack ((allocated - actual) / allocated), lower is better", "%", true);
  s << "unset multiplot\n";
  s.close();
  const int rc = std::system(("gnuplot '" + script_path + "' 2>/tmp/prescient-gnuplot.err").c_str());
  std::remove(script_path.c_str());
  if (rc != 0) return InternalError("gnuplot failed writing " + png_path + " (see /tmp/prescient-gnuplot.err)");
  return Status::Ok();
}

}  // namespace prescient::cli
